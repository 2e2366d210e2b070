// A loop served by a host process (spec/PROTOCOL.md): each scenario is one Outcome, whatever the
// host does. A host that misbehaves costs the scenario it was running (ERROR with the reason);
// it is killed and a new one started for the next scenario. One that cannot be restarted makes
// every remaining scenario an ERROR with that reason.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "aiospec/conformance/host_process.hpp"
#include "aiospec/conformance/protocol.hpp"
#include "aiospec/conformance/runner.hpp"
#include "aiospec/conformance/scenario.hpp"

namespace aiospec::conformance {

class RemoteLoop {
 public:
  // Starts the first host; throws HostFailure when it cannot start (the command then exits 2).
  explicit RemoteLoop(HostCommand command);

  // What the first handshake said.
  const protocol::Implementation& implementation() const { return implementation_; }

  // Runs `scenario` (judged against CPython `cpython`): PASS with the trace in `actual`,
  // UNSUPPORTED (a feature the handshake did not list, or the host skipped it), or ERROR.
  // Never throws for anything the host does.
  Outcome run(const Scenario& scenario, const std::string& cpython);

  // How many hosts were started, the first included (each failure costs one restart).
  int starts() const { return starts_; }

 private:
  HostCommand command_;
  protocol::Implementation implementation_;
  std::unique_ptr<HostProcess> host_;
  std::optional<std::string> cannot_restart_;
  std::int64_t seq_ = 0;
  int starts_ = 0;
};

}  // namespace aiospec::conformance
