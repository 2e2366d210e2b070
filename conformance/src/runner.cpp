#include "aiospec/conformance/runner.hpp"

#include <algorithm>
#include <filesystem>

#include "aiospec/conformance/interpreter.hpp"

namespace aiospec::conformance {

const char* to_string(Status status) {
  switch (status) {
    case Status::pass: return "PASS";
    case Status::fail: return "FAIL";
    case Status::error: return "ERROR";
    case Status::stale: return "STALE";
    case Status::unsupported: return "UNSUPPORTED";
    case Status::skip: return "SKIP";
    case Status::flaky: return "FLAKY";
    case Status::xfail: return "XFAIL";
    case Status::xpass: return "XPASS";
  }
  return "?";
}

int exit_code(const Outcome& outcome) {
  switch (outcome.status) {
    case Status::pass:
    case Status::unsupported:
    case Status::skip:
    case Status::xfail: return 0;
    case Status::fail:
    case Status::stale:
    case Status::flaky:
    case Status::xpass: return 1;
    case Status::error: break;
  }
  switch (outcome.cause) {
    case Cause::budget: return 1;
    case Cause::bad_input: return 2;
    case Cause::none:
    case Cause::failed_to_run: return 3;
  }
  return 3;
}

int worse_exit(int a, int b) {
  auto rank = [](int code) { return code == 2 ? 3 : code == 3 ? 2 : code; };
  return rank(a) >= rank(b) ? a : b;
}

std::string expected_trace_path(const std::string& expected_root, const std::string& version, const std::string& id) {
  return expected_root + "/cpython-" + version + "/" + id + ".json";
}

std::vector<std::string> versions_with_traces(const std::string& expected_root) {
  std::vector<std::string> versions;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(expected_root, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && name.rfind("cpython-", 0) == 0) versions.push_back(name.substr(8));
  }
  std::sort(versions.begin(), versions.end(),
            [](const std::string& a, const std::string& b) { return compare_versions(a, b) < 0; });
  return versions;
}

namespace {

std::string budget_of(const Trace& trace) { return trace.events.back().value("limit", "?"); }

}  // namespace

Outcome error_outcome(Cause cause, std::string reason) {
  Outcome out;
  out.status = Status::error;
  out.cause = cause;
  out.reason = std::move(reason);
  return out;
}

bool ends_at_budget(const Trace& trace) {
  return !trace.events.empty() && trace.events.back().value("ev", "") == "budget_exceeded";
}

Outcome run_scenario(Adapter& adapter, const Scenario& scenario, const std::string& version) {
  try {
    Outcome out;
    out.actual = Interpreter(adapter, scenario, Language::of(version)).run();
    out.status = Status::pass;
    return out;
  } catch (const InvalidScenario& e) {
    return error_outcome(Cause::bad_input, std::string("invalid scenario: ") + e.what());
  } catch (const ScenarioUnsupported& e) {
    Outcome out;
    out.status = Status::unsupported;
    out.reason = e.what();
    return out;
  } catch (const std::exception& e) {
    return error_outcome(Cause::failed_to_run, std::string("the interpreter failed: ") + e.what());
  }
}

Outcome compare(const Trace& expected, Trace actual, const DiffLabels& labels, bool color,
                std::optional<double> tolerance) {
  Outcome out;
  const std::vector<Event> compared =
      tolerance ? within_tolerance(expected.events, actual.events, *tolerance) : actual.events;
  auto divergence = first_divergence(expected.events, compared);
  if (ends_at_budget(expected) || ends_at_budget(actual)) {
    // Equal or not, a run that was stopped says nothing about the behaviour the scenario is for.
    out.status = Status::error;
    out.cause = Cause::budget;
    const Trace& stopped = ends_at_budget(actual) ? actual : expected;
    out.reason = (&stopped == &actual ? labels.actual : labels.expected) + " stopped at the " + budget_of(stopped) +
                 " budget (a runaway loop or scenario; spec/README.md, \"budget\")";
    if (divergence) out.reason += "; " + divergence->summary;
  } else if (!divergence) {
    out.status = Status::pass;
  } else {
    out.status = Status::fail;
    out.reason = divergence->summary;
  }
  if (divergence) out.diff = unified_diff(render_events(expected.events), render_events(compared), labels, color);
  out.actual = std::move(actual);
  return out;
}

Outcome unsupported(const std::vector<std::string>& missing) {
  Outcome out;
  out.status = Status::unsupported;
  out.reason = "needs";
  for (const auto& f : missing) out.reason += " " + f;
  return out;
}

std::optional<Outcome> verdict_without_running(const Scenario& scenario, const std::string& expected_root,
                                               const std::string& version, Trace& expected) {
  Outcome out;
  if (!scenario.applies_to(version)) {
    out.status = Status::skip;
    out.reason = "no trace for CPython " + version + " (scenario's python range excludes it)";
    return out;
  }
  if (const auto why = scenario.no_oracle.find(version); why != scenario.no_oracle.end()) {
    out.status = Status::skip;
    out.reason = "no oracle for cpython-" + version + ": " + why->second;
    return out;
  }
  const std::string path = expected_trace_path(expected_root, version, scenario.id);
  const std::string rebless = "re-bless with a CPython " + version +
                              " on the machine (`make bless`; `aiospec bless --list` shows the interpreters it finds)";
  if (!std::filesystem::exists(path)) {
    out.status = Status::stale;
    out.reason = "no expected trace " + path + " yet: " + rebless;
    return out;
  }
  try {
    expected = read_trace_file(path);
  } catch (const std::exception& e) {
    return error_outcome(Cause::bad_input, e.what());
  }
  if (expected.scenario != scenario.id) {
    return error_outcome(Cause::bad_input, path + " is the trace of '" + expected.scenario + "', not of " + scenario.id);
  }
  if (!scenario.sha256.empty() && expected.scenario_sha256 != scenario.sha256) {
    out.status = Status::stale;
    out.reason = path + " was blessed from another version of " + scenario.path + " (scenario_sha256 " +
                 expected.scenario_sha256.substr(0, 12) + "…, the bundle has " + scenario.sha256.substr(0, 12) +
                 "…): " + rebless;
    return out;
  }
  return std::nullopt;
}

Outcome judge_run(const Trace& expected, Outcome ran, const DiffLabels& labels, bool color,
                  std::optional<double> tolerance) {
  if (ran.status != Status::pass) return ran;
  return compare(expected, std::move(ran.actual), labels, color, tolerance);
}

Outcome judge_with(const std::set<std::string>& features, const std::function<Outcome()>& run,
                   const Scenario& scenario, const std::string& expected_root, const std::string& version,
                   const DiffLabels& labels, bool color, std::optional<double> tolerance) {
  if (auto missing = missing_features(features, scenario); !missing.empty()) return unsupported(missing);
  Trace expected;
  if (auto verdict = verdict_without_running(scenario, expected_root, version, expected)) return *verdict;
  return judge_run(expected, run(), labels, color, tolerance);
}

Outcome judge(Adapter& adapter, const Scenario& scenario, const std::string& expected_root,
              const std::string& version, bool color) {
  return judge_with(
      adapter.features(), [&] { return run_scenario(adapter, scenario, version); }, scenario, expected_root, version,
      DiffLabels{"expected (cpython-" + version + ")", "actual (" + adapter.name() + ")"}, color);
}

}  // namespace aiospec::conformance
