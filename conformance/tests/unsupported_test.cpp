// A Loop method of a feature the adapter does not implement keeps the seam's default, and a
// scenario that reaches it is UNSUPPORTED with the method named, not a fault: a loop implements
// only what it has (adapter.hpp, Unsupported).
#include <gtest/gtest.h>

#include <algorithm>

#include "aiospec/conformance/reference_adapter.hpp"
#include "aiospec/conformance/runner.hpp"
#include "suite_paths.hpp"

namespace aiospec::conformance {
namespace {

// The reference loop's core, and nothing else: every feature method is the seam's default.
class CoreOnly final : public Loop {
 public:
  explicit CoreOnly(std::unique_ptr<Loop> inner) : inner_(std::move(inner)) {}
  std::shared_ptr<Handle> call_soon(Callback cb) override { return inner_->call_soon(std::move(cb)); }
  std::shared_ptr<Handle> call_later(double d, Callback cb) override { return inner_->call_later(d, std::move(cb)); }
  std::shared_ptr<Handle> call_at(double w, Callback cb) override { return inner_->call_at(w, std::move(cb)); }
  double time() override { return inner_->time(); }
  void run_forever() override { inner_->run_forever(); }
  void stop() override { inner_->stop(); }
  void close() override { inner_->close(); }
  bool is_running() const override { return inner_->is_running(); }
  bool is_closed() const override { return inner_->is_closed(); }

 private:
  std::unique_ptr<Loop> inner_;
};

// Claims futures without implementing them.
class Overclaiming final : public Adapter {
 public:
  std::string name() const override { return "core-only"; }
  std::set<std::string> features() const override { return {"futures"}; }
  std::unique_ptr<Loop> new_loop(VirtualTime& time) override {
    return std::make_unique<CoreOnly>(reference_.new_loop(time));
  }
  Loop* running_loop() override { return nullptr; }
  [[noreturn]] void raise_in_callback(const std::string& type, const std::optional<std::string>& message) override {
    reference_.raise_in_callback(type, message);
  }

 private:
  ReferenceAdapter reference_{"poll"};
};

TEST(Unsupported, AFeatureMethodLeftAtItsDefaultMakesTheScenarioUnsupported) {
  const auto scenarios = read_bundle(suite::bundle_path());
  const auto it = std::find_if(scenarios.begin(), scenarios.end(), [](const Scenario& s) {
    return s.path == "spec/futures/cancel-future-message.yaml";
  });
  ASSERT_NE(it, scenarios.end());
  Overclaiming adapter;
  const Outcome out = run_scenario(adapter, *it);
  EXPECT_EQ(out.status, Status::unsupported) << out.reason;
  EXPECT_EQ(out.reason, "needs futures (the adapter does not implement Loop::create_future)");
}

}  // namespace
}  // namespace aiospec::conformance
