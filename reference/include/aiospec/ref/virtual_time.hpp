// The oracle's VirtualSelector, in C++: a selector that never blocks but lets virtual time pass
// instead, by the same rule as the Python oracle, so both loops see the same clock.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "aiospec/ref/clock.hpp"
#include "aiospec/ref/selectors.hpp"

namespace aiospec::ref {

class EventLoop;

// Nothing is ready, no timer is pending and no external event will come: a real loop would
// block forever. Deliberately not a std::exception, so it escapes callbacks and run_forever the
// way SystemExit does, without the loop knowing about it.
struct WouldBlockForever {
  const char* what() const noexcept { return "the event loop would block forever"; }
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

}  // namespace aiospec::ref
