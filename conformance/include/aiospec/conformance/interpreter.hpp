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

// The features `scenario` needs that `adapter` does not declare; empty when it can run.
std::vector<std::string> missing_features(const Adapter& adapter, const Scenario& scenario);
// The features `scenario` needs that are not in `have` (what a loop host declared).
std::vector<std::string> missing_features(const std::set<std::string>& have, const Scenario& scenario);

class Interpreter {
 public:
  Interpreter(Adapter& adapter, const Scenario& scenario);
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
