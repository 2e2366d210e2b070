// What the Asio loop is, for the package's host main (loop_description.hpp).
#include "aiospec/conformance/loop_description.hpp"
#include "asio_adapter.hpp"

aiospec::conformance::LoopDescription aiospec::conformance::describe_loop() {
  LoopDescription d;
  d.name = "asio";
  d.version = asio_adapter::asio_version();
  d.backends = {"select"};  // the reactor this build compiles in (ASIO_DISABLE_EPOLL, CMakeLists.txt)
  d.time_modes = {"virtual", "interposed", "real"};
  d.versioned = false;  // one Asio, whatever CPython judges it
  d.make_adapter = [](const AdapterRequest& request) {
    // Interposed and real time: the same steady_timer loop; only what answers its clock differs.
    const auto mode = request.time == "virtual" ? asio_adapter::TimeMode::virtual_time : asio_adapter::TimeMode::interposed;
    return std::make_unique<asio_adapter::AsioAdapter>(mode);
  };
  return d;
}
