// Real time for a C or C++ loop that keeps its own clock: the declared exception to determinism
// (spec/PROTOCOL.md, "Time modes"), the twin of the Python host's RealClock and _RealRun
// (oracle/aiospec_oracle/host.py). The loop runs unchanged, on its own clock, in real time:
//
//   - every time of the scenario is multiplied by `scale` on the way in (call_later's delay,
//     call_at's deadline) and divided back on the way out (time(), Handle.when()); the scenario's
//     clock is real seconds since its first loop was made, divided by `scale`; burn sleeps;
//   - a timer thread runs the external events at their real time, enforces the time budget, and
//     takes a loop still running kHorizon real seconds after the last external event, with none
//     pending, for one that would block forever (`blocked`). It touches a loop only through
//     call_soon_threadsafe, with a callback that throws the suite's Abort or Blocked.
//
// Only the methods whose arguments or results are times are translated, so real time judges the
// features made of those alone: the core, threads, futures, fd-io, several loops, running-loop,
// float-specials and timer-heap-ties (never exact-clock or select-trace). The harness runs each
// scenario several times and compares clock readings within a tolerance.
#pragma once

#include <memory>
#include <string>

#include "aiospec/conformance/adapter.hpp"
#include "aiospec/conformance/own_clock.hpp"
#include "aiospec/conformance/virtual_time.hpp"

namespace aiospec::conformance {

class RealTimeAdapter : public OwnClockAdapter {
 public:
  static constexpr double kDefaultScale = 0.05;  // one scenario second is 50 real milliseconds
  static constexpr double kHorizon = 10.0;       // real seconds (host.py, REAL_HORIZON)

  // Throws std::invalid_argument when `inner` lacks the threads feature (the timer thread's only
  // way into a loop) or the scale is not positive.
  RealTimeAdapter(std::unique_ptr<Adapter> inner, double scale = kDefaultScale);
  ~RealTimeAdapter() override;

  std::set<std::string> features() const override;
  std::unique_ptr<Loop> new_loop(VirtualTime& time) override;
  Loop* running_loop() override;

  // Around every run: the first new_loop() after begin_scenario() starts the scenario's clock
  // and the timer thread; end_scenario() stops the thread.
  void begin_scenario() override;
  void end_scenario() override;

  struct State;  // in real_time.cpp

 private:
  std::unique_ptr<State> state_;
};

}  // namespace aiospec::conformance
