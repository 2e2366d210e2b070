// The oracle's VirtualSelector, in C++: a selector that never blocks but lets virtual time pass
// instead, by the same rule as the Python oracle, so both loops see the same clock.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "aiospec/ref/clock.hpp"
#include "aiospec/ref/selectors.hpp"

namespace aiospec::ref {

class EventLoop;

// Nothing is ready, no timer is pending and no external event will come: a real loop would
// block forever. Not an Error, so it escapes run_forever (and callbacks) like SystemExit.
struct WouldBlockForever : std::exception {
  const char* what() const noexcept override { return "the event loop would block forever"; }
};

// The world around a virtual-time loop.
class TimeKeeper {
 public:
  virtual ~TimeKeeper() = default;
  // Called once per select(), with the timeout the loop computed: trace, iteration budget, run
  // the external events that are due.
  virtual void before_poll(std::optional<double> timeout) = 0;
  // Nothing is ready. Let time pass up to `deadline` (nullopt: no deadline). Returns true when
  // the deadline was reached, false when an external event came first (and has run). Throws
  // WouldBlockForever when there is neither a deadline nor an external event.
  virtual bool let_time_pass(std::optional<double> deadline) = 0;
};

class VirtualSelector final : public Selector {
 public:
  VirtualSelector(std::unique_ptr<Selector> inner, Clock& clock, TimeKeeper& keeper);
  // Where it reads the head timer's deadline. Call once the loop owning this selector exists.
  void attach(const EventLoop& loop) { loop_ = &loop; }

  const char* name() const override { return "virtual"; }
  Selector& inner() { return *inner_; }
  void register_fd(int fd, unsigned events) override { inner_->register_fd(fd, events); }
  void modify(int fd, unsigned events) override { inner_->modify(fd, events); }
  void unregister(int fd) override { inner_->unregister(fd); }
  void close() override { inner_->close(); }

  // keeper.before_poll(timeout); ready = inner.select(0)
  // if ready is empty and timeout != 0, fix the deadline of this wait, once:
  //   nullopt without a timeout; exactly the head timer's `when` if timeout < 86400 (now +
  //   (when - now) need not round back to `when`); else clock.time() + 86400
  //   then: reached = keeper.let_time_pass(deadline); ready = inner.select(0), until reached or
  //   something is ready (an external event that readies nothing does not end the wait)
  // return ready
  std::vector<ReadyEvent> select(std::optional<double> timeout) override;

 private:
  std::optional<double> deadline_of(std::optional<double> timeout) const;

  std::unique_ptr<Selector> inner_;
  Clock& clock_;
  TimeKeeper& keeper_;
  const EventLoop* loop_ = nullptr;
};

// A TimeKeeper for tests and tools that run a virtual-time loop on their own: time jumps
// straight to the deadline; scripted external events happen at their time, each on a new thread
// (as in the harness) that is joined before the loop goes on.
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

}  // namespace aiospec::ref
