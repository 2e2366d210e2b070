#include "asio_adapter.hpp"

#include <asio/version.hpp>
#include <cmath>
#include <limits>

#include "asio_loop.hpp"
#include "virtual_clock.hpp"

namespace aiospec::asio_adapter {

namespace {
std::atomic<const conformance::VirtualTime*> bound_time{nullptr};
}  // namespace

VirtualClock::time_point VirtualClock::now() noexcept {
  const conformance::VirtualTime* time = bound_time.load();
  return time_point(duration(to_ticks(time != nullptr ? time->now() : 0.0)));
}

std::int64_t to_ticks(double seconds) noexcept {
  constexpr auto most = std::numeric_limits<std::int64_t>::max() / 2;  // room for Asio's arithmetic
  if (std::isnan(seconds)) return -most;
  const double ticks = std::round(seconds * 1e9);
  if (ticks >= static_cast<double>(most)) return most;
  if (ticks <= static_cast<double>(-most)) return -most;
  return static_cast<std::int64_t>(ticks);
}

void VirtualClock::bind(const conformance::VirtualTime* time) noexcept { bound_time = time; }

std::string asio_version() {
  return std::to_string(ASIO_VERSION / 100000) + "." + std::to_string(ASIO_VERSION / 100 % 1000) + "." +
         std::to_string(ASIO_VERSION % 100);
}

// The reactor is a build choice of Asio's; this build's is select (see CMakeLists.txt).
std::string AsioAdapter::name() const { return "asio-" + asio_version() + "/select"; }

// What this loop has: threads (post is thread-safe), fd-io (async_wait), futures (the adapter's
// own), several loops (one io_context each), get_running_loop. Not: tasks and everything on
// them (Asio has no asyncio Task; its coroutines are C++20's), exception-handler / log-trace /
// debug (Asio has no exception handler: a handler's exception leaves run()), select-trace (an
// unmodified reactor does not report its waits). timer-heap-ties and float-specials are APIs
// the loop has (equal and non-finite deadlines): declared, so Asio's own order is judged.
std::set<std::string> AsioAdapter::features() const {
  return {"threads",      "fd-io",       "futures",         "multiple-loops",
          "running-loop", "exact-clock", "timer-heap-ties", "float-specials"};
}

std::unique_ptr<conformance::Loop> AsioAdapter::new_loop(conformance::VirtualTime& time) {
  if (mode_ == TimeMode::virtual_time) VirtualClock::bind(&time);
  return std::make_unique<AsioLoop>(time, mode_);
}

conformance::Loop* AsioAdapter::running_loop() { return AsioLoop::running_in_this_thread(); }

void AsioAdapter::raise_in_callback(const std::string& type, const std::optional<std::string>& message) {
  conformance::LoopError error = message ? conformance::LoopError(type, *message)
                                         : conformance::LoopError::with_args(type, nlohmann::json::array());
  // BaseException that is not an Exception: out of run_forever mid-batch.
  if (type == "KeyboardInterrupt" || type == "SystemExit") throw Escape{error};
  throw error;
}

}  // namespace aiospec::asio_adapter
