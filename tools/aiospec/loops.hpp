// The loops a report or a diff judges, whatever runs them: the reference loop in-process (one per
// backend, optionally a mutant), or a loop host (remote_loop.hpp). The report only sees this.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "aiospec/conformance/protocol.hpp"
#include "aiospec/conformance/remote_loop.hpp"
#include "aiospec/conformance/runner.hpp"
#include "aiospec/conformance/scenario.hpp"
#include "loop_spec.hpp"

namespace aiospec::cli {

class LoopUnderTest {
 public:
  virtual ~LoopUnderTest() = default;
  // The handshake (or what the reference would say in one): name, version, time, features...
  virtual const conformance::protocol::Implementation& implementation() const = 0;
  // "poll"/"select" for the reference loop, "" for a host.
  virtual std::string backend() const = 0;
  // One run of `scenario`, for a versioned loop imitating CPython `version`.
  virtual conformance::Outcome run(const conformance::Scenario& scenario, const std::string& version) = 0;
};

// The loops of `options`: one per backend for the reference (a mutant when `mutant` is set), one
// host otherwise. Throws LoopSpecError (bad options) or conformance::HostFailure (the host did not
// start): both one line, exit 2.
std::vector<std::unique_ptr<LoopUnderTest>> make_loops(const LoopOptions& options, const std::vector<std::string>& backends,
                                                       const std::string& mutant);

}  // namespace aiospec::cli
