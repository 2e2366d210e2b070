// No verdict from stale data: a bundle older than the scenario files it was compiled from is
// refused, with one line that names the file and the command (issue 5, section 5).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "aiospec/conformance/freshness.hpp"

namespace aiospec::conformance {
namespace {

namespace fs = std::filesystem;

class Freshness : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("aiospec-freshness-" + std::to_string(::getpid()));
    fs::create_directories(root_ / "spec/timers");
    write("spec/timers/a.yaml");
    write("spec/clauses.yaml");
    write("bundle.json");
    // The bundle is newer than everything it was compiled from.
    const auto now = fs::file_time_type::clock::now();
    fs::last_write_time(root_ / "spec/timers/a.yaml", now - std::chrono::hours(2));
    fs::last_write_time(root_ / "spec/clauses.yaml", now - std::chrono::hours(2));
    fs::last_write_time(root_ / "bundle.json", now - std::chrono::hours(1));
    scenarios_.push_back(Scenario{});
    scenarios_.back().path = "spec/timers/a.yaml";
  }
  void TearDown() override { fs::remove_all(root_); }
  void write(const std::string& rel) { std::ofstream(root_ / rel) << "x\n"; }
  std::optional<std::string> check() {
    return stale_bundle((root_ / "bundle.json").string(), scenarios_, root_.string(), "run make");
  }

  fs::path root_;
  std::vector<Scenario> scenarios_;
};

TEST_F(Freshness, AFreshBundleIsAccepted) { EXPECT_EQ(check(), std::nullopt); }

TEST_F(Freshness, AChangedScenarioIsNamed) {
  fs::last_write_time(root_ / "spec/timers/a.yaml", fs::file_time_type::clock::now());
  auto stale = check();
  ASSERT_TRUE(stale);
  EXPECT_NE(stale->find("spec/timers/a.yaml changed; run make"), std::string::npos) << *stale;
  EXPECT_EQ(stale->find('\n'), std::string::npos);
}

TEST_F(Freshness, ANewScenarioIsNamed) {
  write("spec/timers/b.yaml");
  fs::last_write_time(root_ / "spec/timers/b.yaml", fs::file_time_type::clock::now() - std::chrono::hours(3));
  auto stale = check();
  ASSERT_TRUE(stale);
  EXPECT_NE(stale->find("spec/timers/b.yaml is new"), std::string::npos) << *stale;
}

TEST_F(Freshness, ARemovedScenarioIsNamed) {
  fs::remove(root_ / "spec/timers/a.yaml");
  auto stale = check();
  ASSERT_TRUE(stale);
  EXPECT_NE(stale->find("spec/timers/a.yaml was removed"), std::string::npos) << *stale;
}

TEST_F(Freshness, AChangedCatalogueIsNamed) {
  fs::last_write_time(root_ / "spec/clauses.yaml", fs::file_time_type::clock::now());
  auto stale = check();
  ASSERT_TRUE(stale);
  EXPECT_NE(stale->find("spec/clauses.yaml changed"), std::string::npos) << *stale;
}

TEST_F(Freshness, AMissingBundleIsNamed) {
  fs::remove(root_ / "bundle.json");
  auto stale = check();
  ASSERT_TRUE(stale);
  EXPECT_NE(stale->find("bundle.json is missing"), std::string::npos) << *stale;
}

}  // namespace
}  // namespace aiospec::conformance
