#include "aiospec/ref/clock.hpp"

#include <time.h>

#include <cstdint>

namespace aiospec::ref {

double MonotonicClock::time() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  // _PyTime_AsSecondsDouble: whole seconds convert exactly; otherwise nanoseconds / 1e9.
  const std::int64_t ns = std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
  if (ns % 1'000'000'000 == 0) return static_cast<double>(ns / 1'000'000'000);
  return static_cast<double>(ns) / 1e9;
}

double MonotonicClock::resolution() const {
  timespec res{};
  if (clock_getres(CLOCK_MONOTONIC, &res) != 0) return 1e-9;
  return static_cast<double>(res.tv_sec) + static_cast<double>(res.tv_nsec) * 1e-9;
}

}  // namespace aiospec::ref
