// Virtual time for a scenario: one clock shared by every loop, the external events that happen
// while a loop waits, and the budget that stops a runaway scenario.
//
// A loop under test reads now() as its time() and, in place of a blocking wait, makes two calls
// per selector poll (this is the oracle's VirtualSelector rule, spec/README.md "The world"):
//
//   time.before_poll(timeout);                 // every poll, even a zero-timeout one
//   ready = poll_without_blocking();
//   if (ready.empty() && timeout != 0) {
//     // Fixed once per wait: an external event that makes nothing ready does not move it.
//     deadline = !timeout ? nullopt : *timeout < 86400 ? head_timer_when : now() + 86400;
//     for (;;) {
//       bool reached = time.let_time_pass(deadline);
//       ready = poll_without_blocking();
//       if (reached || !ready.empty()) break;
//     }
//   }
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace aiospec::conformance {

// Ends the scenario early. Deliberately not a std::exception: loops let it escape run_forever the
// way asyncio lets SystemExit escape, instead of handing it to their exception handler.
struct Abort {
  std::string limit;  // "iterations", "callbacks", "time", "operations" or "events"
};

// Thrown by let_time_pass when nothing could ever wake the loop: no deadline, no external event.
struct Blocked {};

// spec/README.md "budget". Every limit is checked as the thing it counts happens; the first one
// exceeded ends the trace with a budget_exceeded event naming it.
struct Budget {
  std::int64_t iterations = 10000;  // selector polls, all loops together
  std::int64_t callbacks = 100000;  // scenario callbacks started
  double time = 31536000.0;         // one year of virtual seconds
  // Operations started (repeat, every op of every copy, in callbacks and threads alike), plus, as
  // each repeat makes a copy of its body, the number of operations in that copy (nested blocks
  // included): this bounds the memory callbacks capturing copies can hold.
  std::int64_t operations = 100000;
  std::int64_t events = 10000;  // events recorded (budget_exceeded itself is never counted)
};

class VirtualTime {
 public:
  using SelectObserver = std::function<void(std::optional<double> timeout)>;

  explicit VirtualTime(Budget budget = {}) : budget_(budget) {}
  const Budget& budget() const { return budget_; }

  double now() const { return clock_ ? clock_() : now_; }
  void burn(double seconds);

  // `action` runs (on the caller's thread of choice: the interpreter uses a fresh thread) when a
  // loop polls at or after virtual time `at`, or when time reaches `at` while a loop waits.
  void add_external(double at, std::function<void()> action);

  void observe_selects(SelectObserver observer) { select_observer_ = std::move(observer); }
  void count_callback();  // called as each scenario callback starts; throws Abort past the budget
  void count_operations(std::int64_t n);  // as an operation starts (1) or a repeat copies its body
  void count_event();                     // as an event is recorded

  void before_poll(std::optional<double> timeout);
  // Nothing is ready. Lets time pass to `deadline` (nullopt: none) or to the next external event
  // if that comes first, running it. True when the deadline itself was reached.
  bool let_time_pass(std::optional<double> deadline);

  // For a clock kept elsewhere (interposed time, interposed_time.hpp), where the waiting happens
  // outside this class: the time of the earliest pending external event; the due ones run; the
  // clock moves to `t` (Abort "time" past the budget); and `follower`, called with the new time
  // whenever now() moves (burn included), keeps the other clock equal to this one.
  std::optional<double> next_external() const;
  void run_due_externals();
  void advance_to(double t);
  void follow_clock(std::function<void(double)> follower) { follower_ = std::move(follower); }
  // Real time (real_time.hpp): now() is `clock` (real seconds since the run began, scaled), and
  // burn sleeps with `sleep_until`; nothing else moves the clock. External events are then run
  // by a timer thread, so adding, finding and running them is safe from any thread.
  void use_real_clock(std::function<double()> clock, std::function<void(double)> sleep_until) {
    clock_ = std::move(clock);
    sleep_until_ = std::move(sleep_until);
  }

 private:
  struct External {
    double at;
    std::uint64_t order;  // equal times run in the order they were added
    std::function<void()> action;
  };
  Budget budget_;
  double now_ = 0.0;  // virtual and interposed time
  std::int64_t iterations_ = 0;
  std::int64_t callbacks_ = 0;
  std::int64_t operations_ = 0;
  std::int64_t events_ = 0;
  std::uint64_t next_order_ = 0;
  std::vector<External> externals_;
  SelectObserver select_observer_;
  std::function<void(double)> follower_;
  std::function<double()> clock_;
  std::function<void(double)> sleep_until_;
  mutable std::mutex externals_mutex_;  // never held while an action runs
};

}  // namespace aiospec::conformance
