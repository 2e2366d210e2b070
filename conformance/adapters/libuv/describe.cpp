// describe_loop(): what the package's host main serves (package-decisions.md, "The seam").
#include <uv.h>

#include "aiospec/conformance/loop_description.hpp"
#include "libuv_adapter.hpp"

namespace aiospec::conformance {

LoopDescription describe_loop() {
  LoopDescription description;
  description.name = "libuv";                  // the report column and conformance/expectations/libuv.yaml
  description.version = uv_version_string();  // the libuv linked in, not the headers': "1.44.2"
  description.backends = {"epoll"};             // what libuv waits with on Linux; there is no other
  // libuv keeps its own clock (CLOCK_MONOTONIC, read by uv_update_time): it runs on the suite's
  // time through the preloaded interposition library, or in real time.
  description.time_modes = {"interposed", "real"};
  // Only the adapter's Future (libuv has none) follows the version judged; see LibuvAdapter.
  description.versioned = true;
  description.make_adapter = [](const AdapterRequest& request) -> std::unique_ptr<Adapter> {
    return std::make_unique<libuv::LibuvAdapter>(request.cpython);
  };
  return description;
}

}  // namespace aiospec::conformance
