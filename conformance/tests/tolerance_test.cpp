// Real-time comparison: "t" and the values of `time` and `when` within the tolerance, everything else exact.
#include <gtest/gtest.h>

#include "aiospec/conformance/runner.hpp"

namespace aiospec::conformance {
namespace {

using json = nlohmann::json;

Trace trace(std::vector<Event> events) { return Trace{"tmr-0001", "test", std::move(events)}; }

Outcome compared(const std::vector<Event>& expected, const std::vector<Event>& actual, double tolerance = 0.02) {
  return compare(trace(expected), trace(actual), {}, false, tolerance);
}

TEST(Tolerance, TimesWithinTolerancePass) {
  const Outcome o = compared({{{"t", 1.0}, {"ev", "record"}, {"label", "a"}}, {{"t", 1.0}, {"ev", "time"}, {"value", 1.0}}},
                             {{{"t", 1.013}, {"ev", "record"}, {"label", "a"}}, {{"t", 0.99}, {"ev", "time"}, {"value", 1.019}}});
  EXPECT_EQ(o.status, Status::pass) << o.reason;
  EXPECT_EQ(o.actual.events[0]["t"], 1.013);  // the outcome keeps what the loop did
}

TEST(Tolerance, ATimeBeyondToleranceFailsOnThatField) {
  const Outcome o = compared({{{"t", 1.0}, {"ev", "record"}, {"label", "a"}}}, {{{"t", 1.05}, {"ev", "record"}, {"label", "a"}}});
  EXPECT_EQ(o.status, Status::fail);
  EXPECT_EQ(o.reason, "first divergence at event 0, field \"t\": expected 1.0, actual 1.05");
}

TEST(Tolerance, WhenValuesAreClockReadings) {
  // when() of call_later is time() + delay, read off the real clock: within the tolerance too.
  EXPECT_EQ(compared({{{"t", 0.0}, {"ev", "when"}, {"handle", "h"}, {"value", 1.0}}},
                     {{{"t", 0.0}, {"ev", "when"}, {"handle", "h"}, {"value", 1.001}}}).status,
            Status::pass);
  EXPECT_EQ(compared({{{"t", 0.0}, {"ev", "when"}, {"handle", "h"}, {"value", 1.0}}},
                     {{{"t", 0.0}, {"ev", "when"}, {"handle", "h"}, {"value", 1.5}}}).status,
            Status::fail);
}

TEST(Tolerance, OtherValuesStayExact) {
  const Outcome label = compared({{{"t", 0.0}, {"ev", "record"}, {"label", "a"}}}, {{{"t", 0.0}, {"ev", "record"}, {"label", "b"}}});
  EXPECT_EQ(label.status, Status::fail);
  const Outcome value = compared({{{"t", 0.0}, {"ev", "result"}, {"future", "f"}, {"value", 1.0}}},
                                 {{{"t", 0.0}, {"ev", "result"}, {"future", "f"}, {"value", 1.001}}});
  EXPECT_EQ(value.status, Status::fail);
}

TEST(Tolerance, NonFiniteTimesMustBeEqual) {
  EXPECT_EQ(compared({{{"t", 0.0}, {"ev", "time"}, {"value", "inf"}}}, {{{"t", 0.0}, {"ev", "time"}, {"value", "inf"}}}).status,
            Status::pass);
  EXPECT_EQ(compared({{{"t", 0.0}, {"ev", "time"}, {"value", "inf"}}}, {{{"t", 0.0}, {"ev", "time"}, {"value", 1e300}}}).status,
            Status::fail);
}

TEST(Tolerance, MissingAndExtraEventsStillFail) {
  EXPECT_EQ(compared({{{"t", 0.0}, {"ev", "record"}, {"label", "a"}}}, {}).status, Status::fail);
}

TEST(Tolerance, WithoutToleranceEverythingIsExact) {
  EXPECT_EQ(compare(trace({{{"t", 1.0}, {"ev", "record"}, {"label", "a"}}}),
                    trace({{{"t", 1.001}, {"ev", "record"}, {"label", "a"}}}), {}, false)
                .status,
            Status::fail);
}

}  // namespace
}  // namespace aiospec::conformance
