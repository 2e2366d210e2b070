#include "aiospec/conformance/described_loop.hpp"

#include <algorithm>
#include <cstdlib>

#include "aiospec/conformance/interpreter.hpp"

namespace aiospec::conformance {

namespace {

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

std::string joined(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& item : list) out += (out.empty() ? "" : ", ") + item;
  return out;
}

}  // namespace

DescribedLoop::DescribedLoop(LoopDescription description, std::string backend, std::string time, double scale)
    : description_(std::move(description)), backend_(std::move(backend)), time_(std::move(time)), scale_(scale) {
  const auto& d = description_;
  if (d.name.empty() || !d.make_adapter || d.backends.empty() || d.time_modes.empty()) {
    throw DescriptionError("describe_loop() must give a name, make_adapter, and at least one backend and time mode");
  }
  for (const auto& mode : d.time_modes) {
    if (mode != "virtual" && mode != "interposed" && mode != "real") {
      throw DescriptionError("describe_loop(): time mode '" + mode + "' is not virtual, interposed or real");
    }
  }
  if (backend_.empty()) backend_ = d.backends.front();
  if (!contains(d.backends, backend_)) {
    throw DescriptionError(d.name + " has no backend '" + backend_ + "' (it has: " + joined(d.backends) + ")");
  }
  if (time_.empty()) {
    const char* env = std::getenv("AIOSPEC_TIME");
    time_ = env && contains(d.time_modes, env) ? env : d.time_modes.front();
  }
  if (!contains(d.time_modes, time_)) {
    throw DescriptionError(d.name + " does not run in " + time_ + " time (it runs in: " + joined(d.time_modes) + ")");
  }
  if (scale_ == 0) {
    const char* env = std::getenv("AIOSPEC_SCALE");
    scale_ = env ? std::atof(env) : RealTimeAdapter::kDefaultScale;
  }
  if (!(scale_ > 0)) throw DescriptionError("the real-time scale must be a positive factor");
}

std::string DescribedLoop::name() const {
  return description_.backends.size() > 1 ? description_.name + "/" + backend_ : description_.name;
}

Adapter& DescribedLoop::adapter_for(const std::string& version) {
  const std::string wanted = description_.versioned ? version : std::string(kDefaultProfile);
  if (adapter_ && (!description_.versioned || adapter_version_ == wanted)) return *adapter_;
  // Interposed time installs the library's hooks once per process: an InterposedAdapter
  // replaces the previous one only after that one is gone.
  own_clock_ = nullptr;
  adapter_.reset();
  auto made = description_.make_adapter(AdapterRequest{backend_, wanted, time_});
  if (!made) throw DescriptionError(description_.name + ": make_adapter returned no adapter");
  std::unique_ptr<OwnClockAdapter> wrapped;
  try {
    if (time_ == "interposed") wrapped = std::make_unique<InterposedAdapter>(std::move(made));
    if (time_ == "real") wrapped = std::make_unique<RealTimeAdapter>(std::move(made), scale_);
  } catch (const std::invalid_argument& e) {
    throw DescriptionError(e.what());
  }
  own_clock_ = wrapped.get();
  adapter_ = wrapped ? std::move(wrapped) : std::move(made);
  adapter_version_ = wanted;
  return *adapter_;
}

std::set<std::string> DescribedLoop::features() { return adapter_for(kDefaultProfile).features(); }

void DescribedLoop::probe() {
  adapter_for(kDefaultProfile);
  if (own_clock_) own_clock_->probe();
}

Outcome DescribedLoop::run(const Scenario& scenario, const std::string& version) {
  Adapter& adapter = adapter_for(version);
  if (!own_clock_) return run_scenario(adapter, scenario, version);
  own_clock_->begin_scenario();
  Outcome out = run_scenario(adapter, scenario, version);
  own_clock_->end_scenario();
  return out;
}

}  // namespace aiospec::conformance
