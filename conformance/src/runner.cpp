#include "aiospec/conformance/runner.hpp"

#include "aiospec/conformance/interpreter.hpp"

namespace aiospec::conformance {

const char* to_string(Status status) {
  switch (status) {
    case Status::pass: return "PASS";
    case Status::fail: return "FAIL";
    case Status::unsupported: return "UNSUPPORTED";
    case Status::skip: return "SKIP";
    case Status::error: return "ERROR";
  }
  return "?";
}

std::string expected_trace_path(const std::string& expected_root, const std::string& version, const std::string& id) {
  return expected_root + "/cpython-" + version + "/" + id + ".json";
}

Outcome compare(const Trace& expected, Trace actual, const DiffLabels& labels, bool color) {
  Outcome out;
  auto divergence = first_divergence(expected.events, actual.events);
  bool ran_away = !actual.events.empty() && actual.events.back().value("ev", "") == "budget_exceeded";
  if (!divergence) {
    out.status = Status::pass;
  } else {
    out.status = ran_away ? Status::error : Status::fail;
    out.reason = divergence->summary;
    if (ran_away) {
      out.reason = "stopped at the " + actual.events.back().value("limit", "?") +
                   " budget (a runaway loop or scenario); " + out.reason;
    }
    out.diff = unified_diff(render_events(expected.events), render_events(actual.events), labels, color);
  }
  out.actual = std::move(actual);
  return out;
}

Outcome judge(Adapter& adapter, const Scenario& scenario, const std::string& expected_root,
              const std::string& version, bool color) {
  Outcome out;
  if (auto missing = missing_features(adapter, scenario); !missing.empty()) {
    out.status = Status::unsupported;
    out.reason = "needs";
    for (const auto& f : missing) out.reason += " " + f;
    return out;
  }
  if (!scenario.applies_to(version)) {
    out.status = Status::skip;
    out.reason = "no trace for CPython " + version + " (scenario's python range excludes it)";
    return out;
  }
  std::string path = expected_trace_path(expected_root, version, scenario.id);
  Trace expected;
  try {
    expected = read_trace_file(path);
  } catch (const std::exception& e) {
    out.status = Status::error;
    out.reason = std::string(e.what()) + " (run `make bless`)";
    return out;
  }
  Trace actual;
  try {
    actual = Interpreter(adapter, scenario).run();
  } catch (const std::exception& e) {
    out.status = Status::error;
    out.reason = std::string("the interpreter failed: ") + e.what();
    return out;
  }
  return compare(expected, std::move(actual),
                 DiffLabels{"expected (cpython-" + version + ")", "actual (" + adapter.name() + ")"}, color);
}

}  // namespace aiospec::conformance
