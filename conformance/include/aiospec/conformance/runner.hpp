// One scenario on one adapter, judged against CPython's committed trace.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "aiospec/conformance/adapter.hpp"
#include "aiospec/conformance/scenario.hpp"
#include "aiospec/conformance/trace.hpp"

namespace aiospec::conformance {

// PASS: the traces are equal. FAIL: they differ. ERROR: no comparison could be made, or the
// run hit its budget (see Cause). STALE: the committed trace is missing or was blessed from
// another version of the scenario, so it can give no verdict. UNSUPPORTED: the loop lacks a
// feature the scenario needs. SKIP: the scenario has no trace for this CPython version.
// Only reports over several runs and expectation files give the last three: FLAKY, runs of one
// scenario disagreed (real time); XFAIL, the result an expectation file lists; XPASS, a listed
// result that now passes.
enum class Status { pass, fail, error, stale, unsupported, skip, flaky, xfail, xpass };
const char* to_string(Status status);

// Why an ERROR is one. Decides the exit code (exit_code below).
enum class Cause {
  none,
  budget,         // the run ended at its budget: a runaway loop or scenario
  bad_input,      // the scenario or a committed trace cannot be used
  failed_to_run,  // the loop, its adapter, the interpreter or the oracle failed
};

struct Outcome {
  Status status = Status::error;
  Cause cause = Cause::none;
  std::string reason;  // first divergence, missing features, why skipped, what went wrong
  std::string diff;    // unified diff of expected vs actual, for fail and error
  Trace actual;
};

// The exit status a command reports for one outcome: 0 identical (or nothing to compare),
// 1 different (a budget stop and a stale trace included), 2 bad input, 3 a loop or the oracle
// failed to run it. A command over many outcomes reports the worst by exit_precedence.
int exit_code(const Outcome& outcome);
// 2 outranks 3, which outranks 1, which outranks 0.
int worse_exit(int a, int b);

// Where the committed traces of one CPython version live: <root>/cpython-<version>/<id>.json.
std::string expected_trace_path(const std::string& expected_root, const std::string& version, const std::string& id);
// The CPython minor versions that have a trace directory under expected_root, oldest first.
std::vector<std::string> versions_with_traces(const std::string& expected_root);

// The CPython version a single-version command judges against when none is given: the newest
// minor whose traces in these areas do not depend on the patch release (3.13.0 still has
// gh-130145, fixed in 3.13.3). `make conformance` judges every version; tools take --python.
inline constexpr const char* kDefaultProfile = "3.12";
inline constexpr const char* kDefaultProfileWhy =
    "the newest CPython whose traces do not depend on its patch release (3.13.0 has gh-130145)";

// An ERROR outcome with its cause and reason: how every part of the harness reports one.
Outcome error_outcome(Cause cause, std::string reason);

// Whether a trace ends in budget_exceeded: a run stopped there is never a result.
bool ends_at_budget(const Trace& trace);

// Runs `scenario` once on `adapter` in the language of CPython `version`: PASS with the trace in
// `actual`, or an ERROR whose cause says whether the scenario was refused (bad input) or the
// loop/interpreter failed.
Outcome run_scenario(Adapter& adapter, const Scenario& scenario, const std::string& version = kDefaultProfile);

// UNSUPPORTED: "needs F G".
Outcome unsupported(const std::vector<std::string>& missing);

// The verdict that stands without running anything for `version`: SKIP (outside the scenario's
// python range), STALE (no committed trace, or one blessed from another version of the scenario)
// or ERROR (an unusable trace file). nullopt when the committed trace is usable; it is then in
// `expected`. judge() below is this, then a run, then judge_run().
std::optional<Outcome> verdict_without_running(const Scenario& scenario, const std::string& expected_root,
                                               const std::string& version, Trace& expected);

// Judges what a run gave (run_scenario(), or a loop host's answer) against `expected`: anything
// but a PASS with its trace stands as it is; a trace is compared (compare() below).
Outcome judge_run(const Trace& expected, Outcome ran, const DiffLabels& labels, bool color,
                  std::optional<double> tolerance = std::nullopt);

// judge() for any way of running a scenario (an adapter in-process, a loop host): UNSUPPORTED
// when `features` lack one the scenario needs, else the verdict without running, else `run()`
// judged. `run` is called at most once; a host judged against several versions caches its run.
Outcome judge_with(const std::set<std::string>& features, const std::function<Outcome()>& run,
                   const Scenario& scenario, const std::string& expected_root, const std::string& version,
                   const DiffLabels& labels, bool color, std::optional<double> tolerance = std::nullopt);

// Runs `scenario` on `adapter` and compares with the CPython `version` trace under expected_root.
// The adapter should be made for that version's profile.
Outcome judge(Adapter& adapter, const Scenario& scenario, const std::string& expected_root,
              const std::string& version, bool color = false);

// Compares two traces of the same scenario: pass; fail with the divergence and the diff; or an
// ERROR (Cause::budget) when either trace ends at its budget, equal or not.
// With a `tolerance` (real time), "t" and the value of `time` events need only agree within
// that many seconds (trace.hpp, within_tolerance); everything else exactly.
Outcome compare(const Trace& expected, Trace actual, const DiffLabels& labels, bool color,
                std::optional<double> tolerance = std::nullopt);

}  // namespace aiospec::conformance
