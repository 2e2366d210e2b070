// The scenario's VirtualTime as a chrono clock, so that Asio's own timer queue keeps the virtual
// timers: asio::basic_waitable_timer<VirtualClock> is an ordinary Asio timer whose expiry the
// reactor checks against VirtualClock::now() at every run.
#pragma once

#include <chrono>

#include "aiospec/conformance/virtual_time.hpp"

namespace aiospec::asio_adapter {

struct VirtualClock {
  // double seconds, as asyncio's loop.time(): a deadline is compared with the clock exactly, to
  // the bit, as CPython compares its float deadlines (no rounding to a tick).
  using rep = double;
  using period = std::ratio<1>;
  using duration = std::chrono::duration<rep, period>;
  using time_point = std::chrono::time_point<VirtualClock, duration>;
  static constexpr bool is_steady = true;

  static time_point now() noexcept;
  // The scenario's clock (all loops of one scenario share it; the host runs one scenario at a
  // time); nullptr: none, now() is 0.
  static void bind(const conformance::VirtualTime* time) noexcept;
};

}  // namespace aiospec::asio_adapter
