#include "aiospec/conformance/remote_loop.hpp"

#include <type_traits>

#include "aiospec/conformance/interpreter.hpp"

namespace aiospec::conformance {

RemoteLoop::RemoteLoop(HostCommand command) : command_(std::move(command)) {
  host_ = std::make_unique<HostProcess>(command_);
  ++starts_;
  implementation_ = host_->implementation();
}

Outcome RemoteLoop::run(const Scenario& scenario, const std::string& cpython) {
  if (auto missing = missing_features(implementation_.features, scenario); !missing.empty()) {
    return unsupported(missing);
  }
  if (cannot_restart_) return error_outcome(Cause::failed_to_run, *cannot_restart_);
  if (!host_) {
    try {
      host_ = std::make_unique<HostProcess>(command_);
      ++starts_;
    } catch (const HostFailure& e) {
      cannot_restart_ = std::string("the host could not be restarted: ") + e.what();
      return error_outcome(Cause::failed_to_run, *cannot_restart_);
    }
  }
  protocol::Answer answer;
  try {
    answer = host_->run(++seq_, scenario.canonical, cpython);
  } catch (const HostFailure& e) {
    host_.reset();  // already killed and reaped; the next scenario gets a new host
    return error_outcome(Cause::failed_to_run, e.what());
  }
  return std::visit(
      [&](auto&& a) -> Outcome {
        using A = std::decay_t<decltype(a)>;
        if constexpr (std::is_same_v<A, Trace>) {
          Outcome out;
          out.status = Status::pass;
          out.actual = std::move(a);
          out.actual.scenario = scenario.id;
          if (out.actual.producer.empty()) out.actual.producer = implementation_.producer;
          return out;
        } else if constexpr (std::is_same_v<A, protocol::Skipped>) {
          Outcome out;
          out.status = Status::unsupported;
          out.reason = "skipped by the host: " + a.reason;
          return out;
        } else {
          if (a.kind == "invalid_scenario") return error_outcome(Cause::bad_input, "invalid scenario: " + a.message);
          return error_outcome(Cause::failed_to_run, "the host failed: " + a.message);
        }
      },
      std::move(answer));
}

}  // namespace aiospec::conformance
