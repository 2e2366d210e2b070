// aiospec's adapter seam (conformance/include/aiospec/conformance/adapter.hpp) on standalone
// Asio: every loop is one asio::io_context. See README.md for what maps to what.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>

#include "aiospec/conformance/adapter.hpp"

namespace aiospec::asio_adapter {

// What a loop's clock and waits are (AdapterRequest::time).
enum class TimeMode {
  virtual_time,  // timers on VirtualClock; run_forever drives io_context::poll() and VirtualTime
  interposed,    // steady_timer and io_context::run(); libaiospec_interpose.so answers the clock
};

// "1.22.1", from ASIO_VERSION.
std::string asio_version();

class AsioAdapter final : public conformance::Adapter {
 public:
  explicit AsioAdapter(TimeMode mode) : mode_(mode) {}

  std::string name() const override;  // "asio-1.22.1/select"
  std::set<std::string> features() const override;
  std::unique_ptr<conformance::Loop> new_loop(conformance::VirtualTime& time) override;
  conformance::Loop* running_loop() override;
  [[noreturn]] void raise_in_callback(const std::string& type, const std::optional<std::string>& message) override;

 private:
  TimeMode mode_;
};

}  // namespace aiospec::asio_adapter
