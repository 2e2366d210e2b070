#include "aiospec/conformance/reference_host.hpp"

#include "aiospec/conformance/interpreter.hpp"
#include "aiospec/conformance/reference_adapter.hpp"
#include "aiospec/conformance/runner.hpp"
#include "aiospec/ref/profile.hpp"

namespace aiospec::conformance {

protocol::Implementation reference_implementation(const std::string& backend, const std::string& version) {
  ReferenceAdapter adapter(backend);
  protocol::Implementation i;
  i.name = adapter.name();
  i.version = version;
  i.language = "c++";
  i.language_version = std::to_string(__cplusplus);
  i.runtime = "native";
  i.time = "virtual";
  i.features = adapter.features();
  i.versioned = true;  // one ref::Profile per CPython version
  i.producer = adapter.name();
  return i;
}

nlohmann::json run_on_reference(const std::string& backend, std::int64_t seq, const nlohmann::json& canonical,
                                const std::string& cpython, const ReferenceAdapter::LoopFactory& factory,
                                const std::string& name) {
  Scenario scenario;
  try {
    scenario = Scenario::from_canonical(canonical, "", "", "");
  } catch (const std::exception& e) {
    return protocol::errored_answer(seq, "invalid_scenario", std::string("not a canonical scenario: ") + e.what());
  }
  std::unique_ptr<ReferenceAdapter> adapter;
  try {
    adapter = std::make_unique<ReferenceAdapter>(
        backend, ref::Profile::for_version(cpython.empty() ? ref::kDefaultVersion : cpython), name, factory);
  } catch (const std::exception& e) {
    return protocol::errored_answer(seq, "failed", "no reference profile for CPython " + cpython + ": " + e.what());
  }
  // The harness sends only scenarios whose features the handshake listed; a host is still
  // answerable for one it was sent anyway.
  if (auto missing = missing_features(*adapter, scenario); !missing.empty()) {
    return protocol::skipped_answer(seq, unsupported(missing).reason);
  }
  Outcome ran = run_scenario(*adapter, scenario, cpython.empty() ? std::string(kDefaultProfile) : cpython);
  if (ran.status == Status::pass) return protocol::trace_answer(seq, ran.actual);
  if (ran.status == Status::unsupported) return protocol::skipped_answer(seq, ran.reason);
  return protocol::errored_answer(seq, ran.cause == Cause::bad_input ? "invalid_scenario" : "failed", ran.reason);
}

}  // namespace aiospec::conformance
