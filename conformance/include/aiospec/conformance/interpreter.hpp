// Runs one scenario's program against a loop adapter and records the trace: the C++ twin of the
// oracle's interpreter (oracle/aiospec_oracle/interpreter.py). Same operations, same events, same
// budgets counted in the same order, same scenario errors with the same messages.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "aiospec/conformance/adapter.hpp"
#include "aiospec/conformance/scenario.hpp"
#include "aiospec/conformance/trace.hpp"

namespace aiospec::conformance {

// The scenario cannot be run as written, found while running it: a name used while unbound
// ("cancel: no handle named 'h'"), a loop/future/socket name defined twice, a closed or still
// watched socket misused (spec/README.md, D3/D4), a malformed operation. The oracle refuses the
// same programs with the same messages (ScenarioError). Tools answer it as bad input (exit 2).
class InvalidScenario : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The interpreter or the adapter failed, not the loop under test: an exception that is not a
// LoopError out of an operation (inside a callback or not), or an exception other than a `raise`
// reaching a loop's exception handler. Never swallowed; tools answer it as "failed to run" (exit 3).
class InterpreterFault : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The scenario cannot run on this loop, for a reason that is not the loop's fault nor the
// scenario's: the runner reports it UNSUPPORTED with what() as the reason.
class ScenarioUnsupported : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The adapter reached a Loop method of a feature it does not implement (adapter.hpp, Unsupported):
// the scenario is UNSUPPORTED for this loop, whatever the features it declared.
class AdapterUnsupported : public ScenarioUnsupported {
 public:
  AdapterUnsupported(std::string feature_name, const std::string& method)
      : ScenarioUnsupported("needs " + feature_name + " (the adapter does not implement " + method + ")"),
        feature(std::move(feature_name)) {}
  std::string feature;
};

// The adapter could not make a loop on this machine (adapter.hpp, Unavailable): the scenario is
// UNSUPPORTED, with the reason.
class LoopUnavailable : public ScenarioUnsupported {
 public:
  using ScenarioUnsupported::ScenarioUnsupported;
};

// The features `scenario` needs that `adapter` does not declare; empty when it can run.
std::vector<std::string> missing_features(const Adapter& adapter, const Scenario& scenario);
// The features `scenario` needs that are not in `have` (what a loop host declared).
std::vector<std::string> missing_features(const std::set<std::string>& have, const Scenario& scenario);

// What the scenario language means where Python itself changed: the interpreter stands for
// Python code running on the loop, so it follows the language of the CPython version a run is
// judged against. One member per difference, with the versions.
struct Language {
  // generator.throw() (a task throwing an exception into its coroutine) chains the exception
  // with the one the coroutine is handling, as a raise would: 3.9+ (bpo-29587). On 3.8 an
  // exception thrown in keeps no __context__.
  bool throw_chains = true;

  // The language of CPython `version` ("3.8" ...); versions the table does not know are the newest.
  static Language of(const std::string& version);
};

class Interpreter {
 public:
  Interpreter(Adapter& adapter, const Scenario& scenario, Language language = {});
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  // Runs the program once. A budget stop ends the trace with a budget_exceeded event; throws
  // InvalidScenario or InterpreterFault (above) instead of returning a trace that would lie.
  Trace run();

 private:
  class Impl;  // one member function per operation, in interpreter.cpp
  std::unique_ptr<Impl> impl_;
};

}  // namespace aiospec::conformance
