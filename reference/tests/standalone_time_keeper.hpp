// A TimeKeeper for the reference loop's own tests: time jumps straight to the deadline; scripted
// external events happen at their time, each on a new thread (as in the conformance harness) that
// is joined before the loop goes on.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <vector>

#include "aiospec/ref/clock.hpp"
#include "aiospec/ref/virtual_time.hpp"

namespace aiospec::ref::testing {

class StandaloneTimeKeeper final : public TimeKeeper {
 public:
  // More than `max_polls` select() calls throw std::length_error: a loop that never goes idle
  // (a NaN deadline mishandled, a callback rescheduling itself) fails instead of hanging.
  explicit StandaloneTimeKeeper(VirtualClock& clock, std::size_t max_polls = 1'000'000)
      : clock_(clock), max_polls_(max_polls) {}

  // `fn` runs when the loop first polls at or after virtual time `at` (the loop waits for it
  // when idle, and it comes before a deadline at the same time). Events with equal times run in
  // the order they were added.
  void add_external(double at, std::function<void()> fn);

  void before_poll(std::optional<double> timeout) override;
  // Throws WouldBlockForever with neither a deadline nor an external event.
  bool let_time_pass(std::optional<double> deadline) override;

  std::size_t polls() const { return polls_; }
  const std::vector<std::optional<double>>& timeouts() const { return timeouts_; }

 private:
  struct External {
    double at;
    std::function<void()> fn;
  };
  void run_external(External e);
  void run_due_externals();

  VirtualClock& clock_;
  std::size_t max_polls_;
  std::vector<External> externals_;  // sorted by `at`, stable
  std::size_t polls_ = 0;
  std::vector<std::optional<double>> timeouts_;  // every timeout select() was given
};

}  // namespace aiospec::ref::testing
