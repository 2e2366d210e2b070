// The conformance suite as GoogleTest tests: one test per scenario x backend x CPython version
// that has traces, each judged with the reference loop's profile for that version.
//
//   conformance_tests                                         everything
//   conformance_tests --id tmr-0004 --backend poll --python 3.12    one test (what CTest runs)
//   conformance_tests --write-ctest FILE                      the CTest registrations (the build)
//   conformance_tests --check-fresh                           is the build as new as spec/?
//
// The build writes the CTest file from the bundle (conformance/CMakeLists.txt), so CTest's list
// is the bundle's: test names conformance/<area>/<id>/<backend>/cpython-X.Y, labels conformance,
// the area, the backend and cpython-X.Y, so that `ctest -L timers -L cpython-3.13` selects exactly
// those. Every conformance test needs the fixture `conformance/fresh`, which refuses with one
// line when spec/ changed after the bundle was compiled (run the build, not just ctest).
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "aiospec/conformance/freshness.hpp"
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
      case Status::stale:
      case Status::flaky:
      case Status::xfail:
      case Status::xpass:
        ADD_FAILURE() << scenario_.path << " (" << scenario_.id << ") on " << adapter.name() << " against cpython-"
                      << version_ << ": " << to_string(outcome.status) << "\n"
                      << outcome.reason << "\n"
                      << outcome.diff;
    }
  }

 private:
  Scenario scenario_;
  std::string backend_;
  std::string version_;
};

// The CTest name of one test; also its GoogleTest name below the area.
std::string test_path(const Scenario& s, const std::string& backend, const std::string& version) {
  return s.id + "/" + backend + "/cpython-" + version;
}

struct Selection {
  std::set<std::string> ids, paths, backends, versions;
};

// CMake's bracket argument, safe for any text without "]==]".
std::string bracket(const std::string& text) { return "[==[" + text + "]==]"; }

int write_ctest(const std::string& out_path, const std::string& self, const std::vector<Scenario>& scenarios,
                const std::vector<std::string>& backends, const std::vector<std::string>& versions) {
  std::ofstream out(out_path + ".tmp");
  out << "# Written by conformance_tests --write-ctest from " << suite::bundle_path() << "; do not edit.\n";
  std::size_t count = 0;
  for (const Scenario& s : scenarios) {
    for (const auto& version : versions) {
      if (!s.applies_to(version)) continue;
      for (const auto& backend : backends) {
        const std::string name = "conformance/" + s.area + "/" + test_path(s, backend, version);
        out << "add_test(" << bracket(name) << " " << bracket(self) << " --id " << bracket(s.id) << " --backend "
            << backend << " --python " << version << ")\n"
            << "set_tests_properties(" << bracket(name) << " PROPERTIES LABELS "
            << bracket("conformance;" + s.area + ";" + backend + ";cpython-" + version)
            << " SKIP_REGULAR_EXPRESSION [==[\\[  SKIPPED \\]]==] TIMEOUT 60 FIXTURES_REQUIRED aiospec_fresh)\n";
        ++count;
      }
    }
  }
  out.close();
  std::filesystem::rename(out_path + ".tmp", out_path);
  std::cerr << "conformance_tests: " << count << " CTest tests (" << scenarios.size() << " scenarios x "
            << backends.size() << " backends x " << versions.size() << " CPython versions) -> " << out_path << "\n";
  return 0;
}

}  // namespace
}  // namespace aiospec::conformance

int main(int argc, char** argv) {
  using namespace aiospec::conformance;
  ::testing::InitGoogleTest(&argc, argv);
  Selection only;
  std::string ctest_out;
  bool check_fresh = false;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--check-fresh") {
      check_fresh = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::cerr << "conformance_tests: " << flag << " needs a value (or unknown argument)\n";
      return 2;
    }
    std::string value = argv[++i];
    if (flag == "--scenario") {
      only.paths.insert(value);
    } else if (flag == "--id") {
      only.ids.insert(value);
    } else if (flag == "--backend") {
      only.backends.insert(value);
    } else if (flag == "--python") {
      only.versions.insert(value);
    } else if (flag == "--write-ctest") {
      ctest_out = value;
    } else {
      std::cerr << "conformance_tests: unknown argument " << flag << "\n";
      return 2;
    }
  }
  std::vector<Scenario> scenarios;
  try {
    scenarios = read_bundle(suite::bundle_path());
  } catch (const std::exception& e) {
    std::cerr << "conformance_tests: " << e.what() << "\n";
    return 2;
  }
  if (check_fresh) {
    auto stale = stale_bundle(suite::bundle_path(), scenarios, AIOSPEC_SOURCE_DIR,
                              "run the build first (`make`, or `cmake --build " + std::string(AIOSPEC_BINARY_DIR) + "`)");
    if (stale) {
      std::cerr << "conformance_tests: " << *stale << "\n";
      return 1;
    }
    std::cout << "conformance_tests: " << suite::bundle_path() << " is as new as spec/ (" << scenarios.size()
              << " scenarios)\n";
    return 0;
  }
  std::vector<std::string> backends = aiospec::ref::available_backends();
  std::vector<std::string> versions = versions_with_traces(suite::expected_root());
  if (!ctest_out.empty()) return write_ctest(ctest_out, argv[0], scenarios, backends, versions);

  std::size_t registered = 0;
  for (const Scenario& s : scenarios) {
    if (!only.paths.empty() && !only.paths.count(s.path)) continue;
    if (!only.ids.empty() && !only.ids.count(s.id)) continue;
    for (const auto& version : versions) {
      if (!only.versions.empty() && !only.versions.count(version)) continue;
      if (!s.applies_to(version) && only.versions.empty()) continue;
      for (const auto& backend : backends) {
        if (!only.backends.empty() && !only.backends.count(backend)) continue;
        ::testing::RegisterTest(s.area.c_str(), test_path(s, backend, version).c_str(), nullptr, nullptr, __FILE__,
                                __LINE__, [=]() -> ::testing::Test* { return new ScenarioTest(s, backend, version); });
        ++registered;
      }
    }
  }
  if (registered == 0) {
    std::cerr << "conformance_tests: nothing matches the selection in " << suite::bundle_path()
              << " (versions with traces:";
    for (const auto& v : versions) std::cerr << " " << v;
    std::cerr << "; backends:";
    for (const auto& b : backends) std::cerr << " " << b;
    std::cerr << ")\n";
    return 2;
  }
  return RUN_ALL_TESTS();
}
