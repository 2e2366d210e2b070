// Interposed time for a C or C++ loop judged in this process: the loop is not changed at all.
// libaiospec_interpose.so, preloaded (LD_PRELOAD), answers the loop's monotonic clock and its
// epoll_wait/poll/select (conformance/interpose/README.md); this side answers the library's hooks
// from the scenario's VirtualTime, the C++ twin of the Python host's Interposition
// (oracle/aiospec_oracle/host.py):
//
//   begin_wait      one iteration counted, the due external events run
//   next_external   VirtualTime::next_external()
//   run_externals   the due external events run
//   advance         refused past the time budget; VirtualTime moves with the library's clock
//   blocked         the loop waiting on this thread is given a callback that throws Blocked
//
// A hook runs inside the loop's wait, where nothing may be thrown through the loop. When the run
// must end (a budget, a wait that would block forever) the hook hands the loop waiting on this
// thread, through its call_soon_threadsafe (its wake-up), a callback that throws the suite's
// Abort or Blocked, and returns; the library polls once more, the loop wakes and runs it first.
// So interposed time needs the loop's call_soon_threadsafe, and nothing else of the adapter.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "aiospec/conformance/adapter.hpp"
#include "aiospec/conformance/own_clock.hpp"
#include "aiospec/conformance/virtual_time.hpp"

namespace aiospec::conformance {

// The library is missing, speaks another API version, or the loop does not follow it.
class InterposedTimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The smallest whole ns whose value in seconds (ns / 1e9) is >= `seconds`: with the library's
// clock there, an external event due at `seconds` is due (host.py, seconds_to_ns).
std::int64_t seconds_to_ns(double seconds);

// Wraps the adapter of a loop that keeps its own clock: every scenario's loops read the
// library's clock, which follows the scenario's VirtualTime from the first new_loop() on.
// Create one per process (it installs the library's hooks); throws InterposedTimeError with one
// line when libaiospec_interpose.so is not preloaded or speaks another control API.
class InterposedAdapter : public OwnClockAdapter {
 public:
  explicit InterposedAdapter(std::unique_ptr<Adapter> inner);
  ~InterposedAdapter() override;

  // The start-up check, as the Python host makes it: the clock can be set and read, a loop of
  // the adapter reads it (within 1 ms: loops with millisecond clocks), and that loop, told
  // call_later(7.25, stop), stops 7.25 s later through at least one interposed wait, in under
  // 2 real seconds (a watchdog exits the process with status 2 after 3 s). Throws
  // InterposedTimeError with the one line to print.
  void probe() override;

  std::set<std::string> features() const override;  // the inner's, without select-trace
  std::unique_ptr<Loop> new_loop(VirtualTime& time) override;
  Loop* running_loop() override { return inner().running_loop(); }

  // A new scenario: the clock back to 0, the hooks' state cleared; the next new_loop() binds
  // the library to that loop's VirtualTime. Call before every run.
  void begin_scenario() override;
  // After a run: the library inert again (pass-through) until the next scenario.
  void end_scenario() override;

  struct State;  // the hooks' side, in interposed_time.cpp

 private:
  std::unique_ptr<State> state_;
};

}  // namespace aiospec::conformance
