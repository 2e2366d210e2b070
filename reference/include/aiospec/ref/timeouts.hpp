// asyncio/timeouts.py (3.11+): the `async with asyncio.timeout(delay):` scope. wait_for is built
// on it from 3.12 (Profile::WaitFor::timeout_scope). __aenter__ and __aexit__ never suspend, so
// here they are plain calls around the body:
//
//   Timeout scope(loop.time() + delay);
//   scope.enter();
//   std::exception_ptr raised;
//   try { co_await body(); } catch (...) { raised = std::current_exception(); }
//   scope.exit(raised);                  // may raise TimeoutError from `raised`
//   if (raised) std::rethrow_exception(raised);
#pragma once

#include <exception>
#include <memory>
#include <optional>

#include "aiospec/ref/events.hpp"

namespace aiospec::ref {

class TaskBase;

class Timeout {
 public:
  enum class State { created, entered, expiring, expired, exited };

  // Timeout(when): an absolute loop time; nullopt never expires.
  explicit Timeout(std::optional<double> when) : when_(when) {}
  ~Timeout();
  Timeout(const Timeout&) = delete;
  Timeout& operator=(const Timeout&) = delete;

  std::optional<double> when() const { return when_; }
  // Moves the deadline: at or before now, the timeout fires at the next iteration (call_soon).
  // RuntimeError unless entered and not yet expired.
  void reschedule(std::optional<double> when);
  bool expired() const { return state_ == State::expiring || state_ == State::expired; }
  State state() const { return state_; }

  // __aenter__: binds the current task (RuntimeError outside one) and remembers its
  // cancelling() count.
  void enter();
  // __aexit__ with what the body raised (nullptr: nothing). After expiry, if the task's
  // uncancel() brings the count back to the one at entry, a CancelledError becomes TimeoutError
  // (raised from it); per Profile::timeout_exit_handles_every_exception.
  void exit(const std::exception_ptr& raised);

 private:
  void on_timeout();

  State state_ = State::created;
  std::optional<double> when_;
  HandlePtr timeout_handler_;
  std::shared_ptr<TaskBase> task_;
  int cancelling_ = 0;
};

// asyncio.timeout(delay) / asyncio.timeout_at(when), with the running loop's clock.
Timeout timeout_at(std::optional<double> when);

}  // namespace aiospec::ref
