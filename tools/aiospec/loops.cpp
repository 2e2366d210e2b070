#include "loops.hpp"

#include "aiospec/conformance/reference_adapter.hpp"
#include "aiospec/conformance/reference_host.hpp"
#include "aiospec/ref/profile.hpp"
#include "mutants/mutants.hpp"

namespace aiospec::cli {

using namespace aiospec::conformance;

namespace {

// In-process, as `aiospec report` always judged it: a fresh adapter per run, with the profile of
// the version judged (the reference loop is versioned).
class ReferenceLoop final : public LoopUnderTest {
 public:
  ReferenceLoop(std::string backend, std::string mutant) : backend_(std::move(backend)), mutant_(std::move(mutant)) {
    implementation_ = reference_implementation(backend_, AIOSPEC_VERSION);
    if (const auto* m = mutants::find(mutant_)) implementation_.name = implementation_.producer = mutants::loop_name(*m, backend_);
  }
  const protocol::Implementation& implementation() const override { return implementation_; }
  std::string backend() const override { return backend_; }
  Outcome run(const Scenario& scenario, const std::string& version) override {
    const ref::Profile profile = ref::Profile::for_version(version);
    if (const auto* m = mutants::find(mutant_)) {
      ReferenceAdapter adapter = mutants::adapter(*m, backend_, profile);
      return run_scenario(adapter, scenario, version);
    }
    ReferenceAdapter adapter(backend_, profile);
    return run_scenario(adapter, scenario, version);
  }

 private:
  std::string backend_, mutant_;
  protocol::Implementation implementation_;
};

class HostLoop final : public LoopUnderTest {
 public:
  explicit HostLoop(HostCommand command) : remote_(std::move(command)) {}
  const protocol::Implementation& implementation() const override { return remote_.implementation(); }
  std::string backend() const override { return ""; }
  Outcome run(const Scenario& scenario, const std::string& version) override { return remote_.run(scenario, version); }

 private:
  RemoteLoop remote_;
};

}  // namespace

std::vector<std::unique_ptr<LoopUnderTest>> make_loops(const LoopOptions& options, const std::vector<std::string>& backends,
                                                       const std::string& mutant) {
  validate(options);
  std::vector<std::unique_ptr<LoopUnderTest>> loops;
  if (!mutant.empty() && !mutants::find(mutant)) throw LoopSpecError("unknown mutant '" + mutant + "'; known:" + mutants::names());
  if (is_reference(options)) {
    for (const auto& b : backends) loops.push_back(std::make_unique<ReferenceLoop>(b, mutant));
    return loops;
  }
  if (!mutant.empty()) throw LoopSpecError("--mutant is for the in-process reference loop");
  loops.push_back(std::make_unique<HostLoop>(host_command(options)));
  return loops;
}

}  // namespace aiospec::cli
