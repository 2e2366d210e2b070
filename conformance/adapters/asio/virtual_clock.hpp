// The scenario's VirtualTime as a chrono clock, so that Asio's own timer queue keeps the virtual
// timers: asio::basic_waitable_timer<VirtualClock> is an ordinary Asio timer whose expiry the
// reactor checks against VirtualClock::now() at every run.
#pragma once

#include <chrono>
#include <cstdint>

#include "aiospec/conformance/virtual_time.hpp"

namespace aiospec::asio_adapter {

struct VirtualClock {
  // Nanoseconds, as steady_clock's: virtual time and interposed time (the real steady_timer)
  // then round deadlines alike, to the nanosecond (to_ticks below).
  using rep = std::int64_t;
  using period = std::nano;
  using duration = std::chrono::duration<rep, period>;
  using time_point = std::chrono::time_point<VirtualClock, duration>;
  static constexpr bool is_steady = true;

  static time_point now() noexcept;
  // The scenario's clock (all loops of one scenario share it; the host runs one scenario at a
  // time); nullptr: none, now() is 0.
  static void bind(const conformance::VirtualTime* time) noexcept;
};

// Seconds (asyncio's float time) as nanosecond ticks: rounded to the nearest; a NaN, which has no
// time point, as the earliest one (already due); beyond the range, clamped to its ends.
std::int64_t to_ticks(double seconds) noexcept;

}  // namespace aiospec::asio_adapter
