#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "aiospec/conformance/trace.hpp"

namespace aiospec::conformance {
namespace {

TEST(RenderDouble, MatchesPythonRepr) {
  EXPECT_EQ(render_double(0.0), "0.0");
  EXPECT_EQ(render_double(-0.0), "-0.0");
  EXPECT_EQ(render_double(1.0), "1.0");
  EXPECT_EQ(render_double(0.5), "0.5");
  EXPECT_EQ(render_double(0.1), "0.1");
  EXPECT_EQ(render_double(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(render_double(1e-9), "1e-09");
  EXPECT_EQ(render_double(1.000000001), "1.000000001");
  EXPECT_EQ(render_double(1.0 + 1e-9), "1.000000001");
  EXPECT_EQ(render_double(0.0001), "0.0001");
  EXPECT_EQ(render_double(0.00001), "1e-05");
  EXPECT_EQ(render_double(1.5e-7), "1.5e-07");
  EXPECT_EQ(render_double(86400.0), "86400.0");
  EXPECT_EQ(render_double(259200.0), "259200.0");
  EXPECT_EQ(render_double(1e15), "1000000000000000.0");
  EXPECT_EQ(render_double(1e16), "1e+16");
  EXPECT_EQ(render_double(1.2345e20), "1.2345e+20");
  EXPECT_EQ(render_double(123.456), "123.456");
  EXPECT_EQ(render_double(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(render_double(std::nan("")), "nan");
  EXPECT_EQ(render_json_value(std::nan("")), "\"nan\"");
  EXPECT_EQ(render_json_value(-std::numeric_limits<double>::infinity()), "\"-inf\"");
}

TEST(RenderEvent, PutsTimeAndKindFirstThenSortedKeys) {
  Event e = {{"value", 42}, {"future", "f"}, {"ev", "result"}, {"t", 1.5}};
  EXPECT_EQ(render_event(e), R"({"t": 1.5, "ev": "result", "future": "f", "value": 42})");
  Event s = {{"t", 0.0}, {"ev", "record"}, {"label", "caf\xc3\xa9 \"x\""}};
  EXPECT_EQ(render_event(s), R"({"t": 0.0, "ev": "record", "label": "caf\u00e9 \"x\""})");
  Event n = {{"t", 2.0}, {"ev", "select"}, {"timeout", nullptr}};
  EXPECT_EQ(render_event(n), R"({"t": 2.0, "ev": "select", "timeout": null})");
}

TEST(FirstDivergence, NamesTheEventAndTheField) {
  std::vector<Event> a = {{{"t", 0.0}, {"ev", "record"}, {"label", "a"}}, {{"t", 1.0}, {"ev", "record"}, {"label", "b"}}};
  std::vector<Event> b = {{{"t", 0.0}, {"ev", "record"}, {"label", "a"}}, {{"t", 1.0}, {"ev", "record"}, {"label", "c"}}};
  auto d = first_divergence(a, b);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->index, 1u);
  EXPECT_EQ(d->summary, R"(first divergence at event 1, field "label": expected "b", actual "c")");
  EXPECT_FALSE(first_divergence(a, a));
  auto shorter = first_divergence(a, {a[0]});
  ASSERT_TRUE(shorter);
  EXPECT_EQ(shorter->index, 1u);
  EXPECT_EQ(shorter->summary, R"(first divergence at event 1: missing event {"t": 1.0, "ev": "record", "label": "b"})");
  EXPECT_EQ(first_divergence({a[0]}, a)->summary,
            R"(first divergence at event 1: extra event {"t": 1.0, "ev": "record", "label": "b"})");
  // The same wording as the oracle's compare.py: a field one side lacks is "absent".
  std::vector<Event> more = {{{"t", 0.0}, {"ev", "record"}, {"label", "a"}, {"zz", 1}}};
  EXPECT_EQ(first_divergence({a[0]}, more)->summary, R"(first divergence at event 0, field "zz": expected absent, actual 1)");
  b[1]["t"] = 2.0;
  b[1]["label"] = "b";
  EXPECT_EQ(first_divergence(a, b)->summary, R"(first divergence at event 1, field "t": expected 1.0, actual 2.0)");
}

TEST(UnifiedDiff, ShowsChangedLinesWithContext) {
  std::vector<std::string> a = {"1", "2", "3", "4", "5", "6", "7", "8", "9"};
  std::vector<std::string> b = {"1", "2", "3", "4", "X", "6", "7", "8", "9"};
  std::string d = unified_diff(a, b, {"exp", "act"}, false);
  EXPECT_EQ(d, "--- exp\n+++ act\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+X\n 6\n 7\n 8\n");
  EXPECT_EQ(unified_diff(a, a, {"exp", "act"}, false), "--- exp\n+++ act\n");
  std::string grown = unified_diff({"a"}, {"a", "b"}, {"exp", "act"}, false);
  EXPECT_EQ(grown, "--- exp\n+++ act\n@@ -1 +1,2 @@\n a\n+b\n");
  std::string colored = unified_diff({"a"}, {"b"}, {"exp", "act"}, true);
  EXPECT_NE(colored.find("\033[31m-a"), std::string::npos);
}

TEST(TraceFile, RoundTripsThroughTheOracleLayout) {
  Trace t{"ord-0001", "cpython-3.11.7", {{{"t", 0.0}, {"ev", "record"}, {"label", "a"}}}};
  std::string text = render_trace_file(t, "abc");
  EXPECT_EQ(text,
            "{\n  \"format\": \"aiospec-trace/1\",\n  \"scenario\": \"ord-0001\",\n  \"scenario_sha256\": \"abc\",\n"
            "  \"producer\": \"cpython-3.11.7\",\n  \"regenerate\": \"make bless\",\n  \"events\": [\n"
            "    {\"t\": 0.0, \"ev\": \"record\", \"label\": \"a\"}\n  ]\n}\n");
  Trace back = parse_trace_file(text);
  EXPECT_EQ(back.scenario, "ord-0001");
  EXPECT_EQ(render_events(back.events), render_events(t.events));
  EXPECT_THROW(parse_trace_file("{\"format\": \"other\"}"), std::runtime_error);
  EXPECT_THROW(parse_trace_file(R"({"format": "aiospec-trace/1", "events": [{"label": "a"}]})"), std::runtime_error);
  EXPECT_THROW(parse_trace_file("{\"format\": \"aiospec-trace/1\", \"events\": ["), std::exception);
}

}  // namespace
}  // namespace aiospec::conformance
