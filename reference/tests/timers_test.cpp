// The timer heap through the loop: tie order, compaction, the cancelled-timer count (TMR-*).
// Expected orders were measured on CPython 3.8 and 3.13 with the same operations.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "test_loop.hpp"

namespace aiospec::ref::testing {
namespace {

// `far` timers at 1000+i, then `n` ties at 1.0, then a stop timer at 2.0; cancel the first
// `cancel` far timers; jump to t=5 and run one iteration. Returns the order the ties ran in.
std::vector<std::string> ties(VirtualWorld& w, int n, int far = 0, int cancel = 0) {
  std::vector<TimerHandlePtr> fars;
  for (int i = 0; i < far; ++i) fars.push_back(w.loop->call_at(1000.0 + i, [] {}));
  for (int i = 0; i < n; ++i) w.loop->call_at(1.0, w.record(std::to_string(i)));
  w.loop->call_at(2.0, [&] { w.loop->stop(); });
  for (int i = 0; i < cancel; ++i) fars[i]->cancel();
  w.clock.set(5.0);
  w.loop->call_soon([&] { w.loop->stop(); });
  w.loop->run_forever();
  return w.log;
}

using Order = std::vector<std::string>;

TEST(Timers, EqualDeadlinesRunInHeapOrder) {
  const std::vector<std::pair<int, Order>> cases = {
      {3, {"0", "2", "1"}},
      {5, {"0", "2", "1", "3", "4"}},
      {8, {"0", "2", "6", "5", "7", "1", "3", "4"}},
      {10, {"0", "2", "6", "5", "9", "8", "7", "1", "3", "4"}},
  };
  for (const auto& [n, expected] : cases) {
    VirtualWorld w;
    EXPECT_EQ(ties(w, n), expected) << n << " ties";
  }
}

TEST(Timers, CompactionChangesTieOrder) {
  VirtualWorld untouched;
  EXPECT_EQ(ties(untouched, 10, 210), (Order{"0", "1", "2", "3", "5", "9", "6", "7", "8", "4"}));

  // 100 of 221 cancelled: below half, no compaction, same order, count kept.
  VirtualWorld below;
  EXPECT_EQ(ties(below, 10, 210, 100), (Order{"0", "1", "2", "3", "5", "9", "6", "7", "8", "4"}));
  EXPECT_EQ(below.loop->timer_cancelled_count(), 100);
  EXPECT_EQ(below.loop->scheduled_count(), 210u);

  // 150 of 221 cancelled: filter + heapify reshapes the heap, the count is reset.
  VirtualWorld compacted;
  EXPECT_EQ(ties(compacted, 10, 210, 150),
            (Order{"6", "2", "0", "5", "4", "1", "7", "3", "8", "9"}));
  EXPECT_EQ(compacted.loop->timer_cancelled_count(), 0);
  EXPECT_EQ(compacted.loop->scheduled_count(), 60u);
}

TEST(Timers, CompactionUnschedulesTheDroppedTimers) {
  VirtualWorld w;
  std::vector<TimerHandlePtr> timers;
  for (int i = 0; i < 102; ++i) timers.push_back(w.loop->call_at(100.0 + i, [] {}));
  for (int i = 0; i < 52; ++i) timers[i]->cancel();
  EXPECT_EQ(w.loop->timer_cancelled_count(), 52);
  w.loop->stop();
  w.loop->run_forever();
  EXPECT_EQ(w.loop->timer_cancelled_count(), 0);
  EXPECT_EQ(w.loop->scheduled_count(), 50u);
  for (int i = 0; i < 102; ++i) EXPECT_EQ(timers[i]->scheduled, i >= 52) << i;
}

TEST(Timers, CancelledHeadsArePoppedAndUncounted) {
  VirtualWorld w;
  auto head = w.loop->call_at(1.0, [] {});
  auto second = w.loop->call_at(2.0, [] {});
  w.loop->call_at(3.0, [] {});
  head->cancel();
  second->cancel();
  second->cancel();  // idempotent: counted once
  EXPECT_EQ(w.loop->timer_cancelled_count(), 2);
  w.loop->stop();
  w.loop->run_forever();
  EXPECT_EQ(w.loop->timer_cancelled_count(), 0);
  EXPECT_EQ(w.loop->scheduled_count(), 1u);
  EXPECT_FALSE(head->scheduled);
  EXPECT_FALSE(second->scheduled);
  EXPECT_EQ(w.keeper.timeouts().back(), 0.0);  // stop() was pre-set: select(0)
}

TEST(Timers, CancelledCountDriftsWhenTheExpiryStepPopsCancelledTimers) {
  VirtualWorld w;
  w.loop->call_at(1.0, w.record("live"));
  std::vector<TimerHandlePtr> cancelled;
  for (int i = 0; i < 4; ++i) cancelled.push_back(w.loop->call_at(1.0, w.record("cancelled")));
  for (auto& timer : cancelled) timer->cancel();
  w.clock.set(5.0);
  w.loop->call_soon([&] { w.loop->stop(); });
  w.loop->run_forever();
  EXPECT_EQ(w.log, (Order{"live"}));
  EXPECT_EQ(w.loop->scheduled_count(), 0u);
  EXPECT_EQ(w.loop->timer_cancelled_count(), 4);  // CPython: "count 4 with an empty heap"
  for (auto& timer : cancelled) EXPECT_FALSE(timer->scheduled);
}

TEST(Timers, CancellingAfterTheTimerLeftTheHeapIsNotCounted) {
  VirtualWorld w;
  auto timer = w.loop->call_at(0.0, [] {});
  w.loop->call_soon([&] { w.loop->stop(); });
  w.loop->run_forever();
  EXPECT_FALSE(timer->scheduled);
  timer->cancel();
  EXPECT_EQ(w.loop->timer_cancelled_count(), 0);
}

TEST(Timers, CallLaterIsCallAtTimePlusDelay) {
  VirtualWorld w;
  w.clock.set(0.3);
  auto timer = w.loop->call_later(0.1, [] {});
  EXPECT_EQ(timer->when(), 0.3 + 0.1);
  EXPECT_TRUE(timer->scheduled);
}

TEST(Timers, ExpiredMeansBeforeNowPlusResolution) {
  VirtualWorld w;
  EXPECT_EQ(w.loop->clock_resolution(), 1e-9);
  w.loop->call_at(0.5e-9, w.record("within-resolution"));
  w.loop->call_at(2e-9, w.record("beyond-resolution"));
  w.loop->call_later(0.0, w.record("later-0"));
  w.loop->stop();
  w.loop->run_forever();  // one iteration, clock frozen at 0
  EXPECT_EQ(w.log, (Order{"later-0", "within-resolution"}));
  EXPECT_EQ(w.loop->scheduled_count(), 1u);
}

TEST(Timers, NanDeadlineExpiresAtOnceWithZeroTimeout) {
  VirtualWorld w;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  w.loop->call_at(nan, w.record("nan"));
  w.loop->call_at(7.0, [&] { w.loop->stop(); });
  w.loop->run_forever();
  ASSERT_GE(w.keeper.timeouts().size(), 1u);
  EXPECT_EQ(w.keeper.timeouts()[0], 0.0);  // max(0, nan) is 0 (CPython 3.8-3.12)
  EXPECT_EQ(w.log, (Order{"nan"}));
  EXPECT_EQ(w.clock.time(), 7.0);
}

TEST(Timers, DistinctDeadlinesRunInDeadlineOrder) {
  VirtualWorld w;
  w.loop->call_at(3.0, w.record("c"));
  w.loop->call_at(1.0, w.record("a"));
  w.loop->call_at(2.0, w.record("b"));
  w.loop->call_at(3.5, [&] { w.loop->stop(); });
  w.loop->run_forever();
  EXPECT_EQ(w.log, (Order{"a", "b", "c"}));
  EXPECT_EQ(w.keeper.timeouts(), (std::vector<std::optional<double>>{1.0, 1.0, 1.0, 0.5}));
}

}  // namespace
}  // namespace aiospec::ref::testing
