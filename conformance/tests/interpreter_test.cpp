// The interpreter on small inline programs: the guarantees the suite itself makes (budgets, blocked
// loops, errors as events), independent of the committed scenarios.
#include <gtest/gtest.h>

#include "aiospec/conformance/interpreter.hpp"
#include "aiospec/conformance/reference_adapter.hpp"

namespace aiospec::conformance {
namespace {

Scenario scenario(const char* program_json, nlohmann::json features = nlohmann::json::array(),
                  nlohmann::json budget = nullptr) {
  nlohmann::json canonical = {{"id", "tst-0001"},  {"title", "inline"},       {"level", "must"},
                              {"features", features}, {"clauses", {"ORD-01"}}, {"program", nlohmann::json::parse(program_json)}};
  if (!budget.is_null()) canonical["budget"] = budget;
  return Scenario::from_canonical(canonical, "inline.yaml", "inline", "");
}

std::vector<std::string> run(const Scenario& s, const std::string& backend = "poll") {
  ReferenceAdapter adapter(backend);
  return render_events(Interpreter(adapter, s).run().events);
}

TEST(Interpreter, RecordsInOrderWithVirtualTime) {
  auto lines = run(scenario(R"([
    {"call_later": {"delay": 0.5, "do": [{"record": {"label": "late"}}, {"stop": {}}]}},
    {"call_soon": {"do": [{"record": {"label": "soon"}}]}},
    {"run_forever": {}},
    {"time": {}}])"));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], R"({"t": 0.0, "ev": "record", "label": "soon"})");
  EXPECT_EQ(lines[1], R"({"t": 0.5, "ev": "record", "label": "late"})");
  EXPECT_EQ(lines[2], R"({"t": 0.5, "ev": "time", "value": 0.5})");
}

TEST(Interpreter, RunawayScenariosStopAtTheirBudgetNeverHang) {
  // Too many callbacks.
  auto many = run(scenario(R"([
    {"repeat": {"times": 200, "do": [{"call_soon": {"do": [{"record": {"label": "spin"}}]}}]}},
    {"run_forever": {}}])", nlohmann::json::array(), {{"callbacks", 100}}));
  ASSERT_EQ(many.size(), 101u);
  EXPECT_EQ(many.back(), R"({"t": 0.0, "ev": "budget_exceeded", "limit": "callbacks"})");
  // A loop that is never stopped, waking once a day for a far timer: too many iterations.
  auto days = run(scenario(R"([
    {"call_later": {"delay": 1e9, "do": []}},
    {"run_forever": {}}])", nlohmann::json::array(), {{"iterations", 5}}));
  ASSERT_FALSE(days.empty());
  EXPECT_EQ(days.back(), R"({"t": 432000.0, "ev": "budget_exceeded", "limit": "iterations"})");
  // The same loop under a virtual-time budget: the clock never passes it.
  auto late = run(scenario(R"([
    {"call_later": {"delay": 1e9, "do": []}},
    {"run_forever": {}}])", nlohmann::json::array(), {{"time", 1000.0}}));
  ASSERT_EQ(late.size(), 1u);
  EXPECT_EQ(late.back(), R"({"t": 0.0, "ev": "budget_exceeded", "limit": "time"})");
}

TEST(Interpreter, ALoopWithNothingToDoIsBlockedNotHung) {
  auto lines = run(scenario(R"([{"run_forever": {}}, {"is_running": {}}])"));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], R"({"t": 0.0, "ev": "blocked", "op": "run_forever"})");
  EXPECT_EQ(lines[1], R"({"t": 0.0, "ev": "is_running", "value": false})");
}

TEST(Interpreter, ErrorsBecomeEventsAndTheProgramGoesOn) {
  auto lines = run(scenario(R"([
    {"close": {}},
    {"call_soon": {"do": []}},
    {"run_forever": {}},
    {"record": {"label": "after"}}])"));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], R"({"t": 0.0, "ev": "error", "message": "Event loop is closed", "op": "call_soon", "type": "RuntimeError"})");
  EXPECT_EQ(lines[2], R"({"t": 0.0, "ev": "record", "label": "after"})");
}

TEST(Interpreter, RepeatSubstitutesTheIndexAtExpansion) {
  auto lines = run(scenario(R"([
    {"repeat": {"times": 3, "var": "k", "do": [{"call_soon": {"do": [{"record": {"label": "n{k}"}}]}}]}},
    {"call_soon": {"do": [{"stop": {}}]}},
    {"run_forever": {}}])"));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2], R"({"t": 0.0, "ev": "record", "label": "n2"})");
}

TEST(Interpreter, AnExternalEventWakesAWaitingLoopAtItsTime) {
  auto lines = run(scenario(R"([
    {"call_later": {"delay": 100, "do": [{"stop": {}}]}},
    {"external": {"at": 2.5, "do": [{"call_soon_threadsafe": {"do": [{"record": {"label": "woke"}}, {"stop": {}}]}}]}},
    {"run_forever": {}}])", {"threads"}));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], R"({"t": 2.5, "ev": "record", "label": "woke"})");
}

TEST(Interpreter, SelectTraceShowsTheDailyWakeUps) {
  for (const char* backend : {"select", "poll"}) {
    auto lines = run(scenario(R"([
      {"call_later": {"delay": 259200, "do": [{"record": {"label": "three-days"}}, {"stop": {}}]}},
      {"run_forever": {}}])", {"select-trace"}), backend);
    // Three capped waits of exactly one day; the last one lands on the deadline itself.
    ASSERT_EQ(lines.size(), 4u) << backend;
    EXPECT_EQ(lines[0], R"({"t": 0.0, "ev": "select", "timeout": 86400.0})");
    EXPECT_EQ(lines[1], R"({"t": 86400.0, "ev": "select", "timeout": 86400.0})");
    EXPECT_EQ(lines[2], R"({"t": 172800.0, "ev": "select", "timeout": 86400.0})");
    EXPECT_EQ(lines[3], R"({"t": 259200.0, "ev": "record", "label": "three-days"})");
  }
}

TEST(Interpreter, FeaturesTheAdapterLacksAreNamed) {
  ReferenceAdapter adapter("poll");
  auto missing = missing_features(adapter, scenario("[]", {"contextvars", "threads"}));
  EXPECT_EQ(missing, std::vector<std::string>{"contextvars"});
}

}  // namespace
}  // namespace aiospec::conformance
