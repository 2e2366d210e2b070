// The conformance suite as GoogleTest tests: one test per scenario x backend of the reference loop.
//
//   conformance_tests                                   every scenario on every backend
//   conformance_tests --scenario spec/io/x.yaml --backend poll [--python 3.12]
//
// CTest registers one process per scenario x backend (labels: conformance, area, backend), so
// that `ctest -L timers` or `ctest -L poll` select exactly those.
#include <gtest/gtest.h>

#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "aiospec/conformance/reference_adapter.hpp"
#include "aiospec/conformance/runner.hpp"
#include "aiospec/conformance/scenario.hpp"
#include "aiospec/ref/profile.hpp"
#include "aiospec/ref/selectors.hpp"
#include "suite_paths.hpp"

namespace aiospec::conformance {
namespace {

class ScenarioTest : public ::testing::Test {
 public:
  ScenarioTest(Scenario scenario, std::string backend, std::string version)
      : scenario_(std::move(scenario)), backend_(std::move(backend)), version_(std::move(version)) {}

  void TestBody() override {
    // The reference loop imitates the version it is judged against (D7).
    ReferenceAdapter adapter(backend_, ref::Profile::for_version(version_));
    Outcome outcome = judge(adapter, scenario_, suite::expected_root(), version_);
    switch (outcome.status) {
      case Status::pass:
        return;
      case Status::unsupported:
      case Status::skip:
        GTEST_SKIP() << to_string(outcome.status) << ": " << outcome.reason;
      case Status::fail:
      case Status::error:
        ADD_FAILURE() << scenario_.path << " (" << scenario_.id << ") on " << adapter.name() << ": "
                      << to_string(outcome.status) << "\n"
                      << outcome.reason << "\n"
                      << outcome.diff;
    }
  }

 private:
  Scenario scenario_;
  std::string backend_;
  std::string version_;
};

std::string test_name(const Scenario& s, const std::string& backend) {
  std::string stem = s.path.substr(s.path.find_last_of('/') + 1);
  stem = stem.substr(0, stem.rfind('.'));
  return stem + "/" + backend;
}

}  // namespace
}  // namespace aiospec::conformance

int main(int argc, char** argv) {
  using namespace aiospec::conformance;
  ::testing::InitGoogleTest(&argc, argv);
  std::set<std::string> only_paths, backends;
  std::string version;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--scenario") {
      only_paths.insert(argv[i + 1]);
    } else if (flag == "--backend") {
      backends.insert(argv[i + 1]);
    } else if (flag == "--python") {
      version = argv[i + 1];
    } else {
      std::cerr << "conformance_tests: unknown argument " << flag << "\n";
      return 2;
    }
  }
  if (backends.empty()) {
    for (const auto& b : aiospec::ref::available_backends()) backends.insert(b);
  }
  if (version.empty()) version = kDefaultProfile;
  std::vector<Scenario> scenarios;
  try {
    scenarios = read_bundle(suite::bundle_path());
  } catch (const std::exception& e) {
    std::cerr << "conformance_tests: " << e.what() << "\n";
    return 2;
  }
  std::size_t registered = 0;
  for (const Scenario& s : scenarios) {
    if (!only_paths.empty() && !only_paths.count(s.path)) continue;
    for (const auto& backend : backends) {
      ::testing::RegisterTest(s.area.c_str(), test_name(s, backend).c_str(), nullptr, nullptr, __FILE__, __LINE__,
                              [=]() -> ::testing::Test* { return new ScenarioTest(s, backend, version); });
      ++registered;
    }
  }
  if (registered == 0) {
    std::cerr << "conformance_tests: no scenario matches --scenario";
    for (const auto& p : only_paths) std::cerr << " " << p;
    std::cerr << " in " << suite::bundle_path() << "\n";
    return 2;
  }
  return RUN_ALL_TESTS();
}
