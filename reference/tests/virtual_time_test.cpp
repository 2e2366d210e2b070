// VirtualSelector's advance rule, which must match the Python oracle's: time moves only while
// nothing is ready, to exactly the head timer's deadline, by exactly 86400 s when the loop
// capped its timeout, or to an external event that comes first.
#include "aiospec/ref/virtual_time.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "aiospec/ref/exceptions.hpp"
#include "test_loop.hpp"

namespace aiospec::ref::testing {
namespace {

using Order = std::vector<std::string>;
using Timeouts = std::vector<std::optional<double>>;

TEST(VirtualTime, JumpsToExactlyTheHeadDeadline) {
  VirtualWorld w;
  w.clock.set(0.3);
  auto timer = w.loop->call_later(0.1, [&] {
    w.log.push_back("timer");
    w.loop->stop();
  });
  w.loop->run_forever();
  // when = 0.3 + 0.1 = 0.4000000000000001; now + (when - now) would not give it back.
  EXPECT_EQ(w.clock.time(), timer->when());
  EXPECT_EQ(w.keeper.polls(), 1u);
  EXPECT_EQ(w.log, (Order{"timer"}));
}

TEST(VirtualTime, CapsEachWaitAtOneDay) {
  VirtualWorld w;
  w.loop->call_later(3 * 86400.0, [&] { w.loop->stop(); });
  w.loop->run_forever();
  // Two empty wake-ups, then the timer: the last timeout is exactly 86400 too, so the clock
  // moves by now + 86400, which here is the deadline itself.
  EXPECT_EQ(w.keeper.timeouts(), (Timeouts{86400.0, 86400.0, 86400.0}));
  EXPECT_EQ(w.clock.time(), 3 * 86400.0);
}

TEST(VirtualTime, UncappedWaitJustBelowADay) {
  VirtualWorld w;
  w.clock.set(0.5);
  w.loop->call_at(86400.25, [&] { w.loop->stop(); });
  w.loop->run_forever();
  EXPECT_EQ(w.keeper.timeouts(), (Timeouts{86399.75}));
  EXPECT_EQ(w.clock.time(), 86400.25);
}

TEST(VirtualTime, NothingMovesWhileCallbacksAreReady) {
  VirtualWorld w;
  w.loop->call_later(5.0, w.record("timer"));
  w.loop->call_soon([&] { w.loop->call_soon([&] { w.loop->stop(); }); });
  w.loop->run_forever();
  EXPECT_EQ(w.keeper.timeouts(), (Timeouts{0.0, 0.0}));
  EXPECT_EQ(w.clock.time(), 0.0);
  EXPECT_TRUE(w.log.empty());
}

TEST(VirtualTime, ExternalEventComesFirstAndWakesTheLoop) {
  VirtualWorld w;
  w.loop->call_at(10.0, w.record("timer"));
  w.keeper.add_external(2.0, [&] {
    w.loop->call_soon_threadsafe([&] {
      w.log.push_back("woke@" + std::to_string(w.loop->time()));
      w.loop->stop();
    });
  });
  w.loop->run_forever();
  EXPECT_EQ(w.log, (Order{"woke@2.000000"}));
  EXPECT_EQ(w.clock.time(), 2.0);
  EXPECT_EQ(w.keeper.polls(), 1u);
}

TEST(VirtualTime, ExternalEventThatWakesNothingLetsTheWaitGoOn) {
  VirtualWorld w;
  std::vector<double> external_at;
  w.loop->call_at(10.0, [&] {
    w.log.push_back("timer");
    w.loop->stop();
  });
  w.keeper.add_external(2.0, [&] { external_at.push_back(w.clock.time()); });
  w.keeper.add_external(4.0, [&] { external_at.push_back(w.clock.time()); });
  w.loop->run_forever();
  EXPECT_EQ(external_at, (std::vector<double>{2.0, 4.0}));
  EXPECT_EQ(w.log, (Order{"timer"}));
  EXPECT_EQ(w.clock.time(), 10.0);
  EXPECT_EQ(w.keeper.polls(), 1u);  // one select() call waited through both events
}

TEST(VirtualTime, ExternalEventDuringACappedWaitKeepsItsDeadline) {
  // The deadline is fixed once per wait, as in the oracle: an event that readies nothing does
  // not restart the day.
  VirtualWorld w;
  w.loop->call_at(2 * 86400.0, [&] { w.loop->stop(); });
  w.keeper.add_external(1000.0, [] {});
  w.loop->run_forever();
  EXPECT_EQ(w.keeper.timeouts(), (Timeouts{86400.0, 86400.0}));
  EXPECT_EQ(w.clock.time(), 2 * 86400.0);
}

TEST(VirtualTime, ExternalEventAtTheDeadlineComesFirst) {
  VirtualWorld w;
  w.loop->call_at(3.0, w.record("timer"));
  w.keeper.add_external(3.0, [&] { w.loop->call_soon_threadsafe(w.record("external")); });
  w.loop->call_at(4.0, [&] { w.loop->stop(); });
  w.loop->run_forever();
  // Woken by the event at t=3: the threadsafe callback is queued before the poll returns, the
  // timer is collected after it, in the same iteration.
  EXPECT_EQ(w.log, (Order{"external", "timer"}));
  EXPECT_EQ(w.keeper.timeouts()[0], 3.0);
  EXPECT_EQ(w.keeper.polls(), 2u);
}

TEST(VirtualTime, NanTimeoutFailsAsTheOraclesEpollDoes) {
  for (const std::string& backend : available_backends()) {
    VirtualClock clock;
    StandaloneTimeKeeper keeper(clock);
    std::unique_ptr<Selector> inner;
    try {
      inner = make_selector(backend);
    } catch (const BackendUnavailable&) {
      continue;  // the kernel refuses io_uring here
    }
    VirtualSelector selector(std::move(inner), clock, keeper);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    try {
      selector.select(nan);
      ADD_FAILURE() << backend;
    } catch (const ValueError& e) {
      EXPECT_STREQ(e.what(), "cannot convert float NaN to integer") << backend;
    }
    EXPECT_EQ(keeper.polls(), 1u);
  }
}

TEST(VirtualTime, DueExternalEventsRunBeforeThePoll) {
  VirtualWorld w;
  w.keeper.add_external(0.0, [&] { w.loop->call_soon_threadsafe(w.record("external")); });
  w.loop->call_soon(w.record("soon"));
  w.loop->call_soon([&] { w.loop->call_soon([&] { w.loop->stop(); }); });
  w.loop->run_forever();
  // Queued by the external event during the first select(), behind what was already ready.
  EXPECT_EQ(w.log, (Order{"soon", "external"}));
}

TEST(VirtualTime, NoTimerAndNoExternalEventWouldBlockForever) {
  VirtualWorld w;
  EXPECT_THROW(w.loop->run_forever(), WouldBlockForever);
  EXPECT_EQ(w.keeper.timeouts(), (Timeouts{std::nullopt}));
}

TEST(VirtualTime, ExternalEventEndsAnOtherwiseEndlessWait) {
  VirtualWorld w;
  w.keeper.add_external(7.0, [&] { w.loop->call_soon_threadsafe([&] { w.loop->stop(); }); });
  w.loop->run_forever();
  EXPECT_EQ(w.clock.time(), 7.0);
}

TEST(VirtualTime, ExternalEventExceptionsReachTheLoopThread) {
  VirtualWorld w;
  w.keeper.add_external(1.0, [] { throw std::runtime_error("external failed"); });
  w.loop->call_later(2.0, [] {});
  EXPECT_THROW(w.loop->run_forever(), std::runtime_error);
  EXPECT_FALSE(w.loop->is_running());
}

}  // namespace
}  // namespace aiospec::ref::testing
