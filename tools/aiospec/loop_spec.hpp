// `--loop SPEC` and the options that go with it (spec/PROTOCOL.md; the spelling is the README's):
//   reference               the reference loop in-process (the default; --backend, --mutant)
//   python:MODULE:FACTORY   the Python loop host on --interpreter, e.g. python:uvloop:new_event_loop
//   cmd:COMMAND             any loop host: /bin/sh -c COMMAND
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

#include "aiospec/conformance/host_process.hpp"

namespace aiospec::cli {

// One line, exit 2: a SPEC that is not one of the three, an interpreter or a library missing.
struct LoopSpecError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct LoopOptions {
  std::string spec = "reference";
  std::string interpreter;        // empty: the build's Python
  std::string time = "auto";      // auto | virtual | interposed | real
  bool pure_python = false;
  double timeout = 20.0;          // seconds per scenario
  std::optional<int> runs;        // default: 3 in real time, else 1
  std::optional<double> scale;    // passed to the Python host only when given
  double tolerance = 0.1;         // real time: scenario seconds (5 ms of real time at the default scale 0.05)
};

// Checks the options that do not depend on the SPEC kind (--time, --runs, ...); throws LoopSpecError.
void validate(const LoopOptions& options);

bool is_reference(const LoopOptions& options);

// How to start the host for a python: or cmd: SPEC; throws LoopSpecError.
conformance::HostCommand host_command(const LoopOptions& options);

// What `run_info.interpreter` reports: the Python of a python: SPEC, else "".
std::string interpreter_of(const LoopOptions& options);

}  // namespace aiospec::cli
