// The embedded interpreter agrees with the committed traces of its own CPython version, and
// gives the same trace twice: the live oracle behind `aiospec diff` is the one `make bless` used.
#include <gtest/gtest.h>

#include <filesystem>

#include "aiospec/conformance/runner.hpp"
#include "aiospec/conformance/scenario.hpp"
#include "aiospec/oracle/cpython.hpp"

namespace aiospec::oracle {
namespace {

using conformance::Trace;

Trace as_trace(const nlohmann::json& file) { return conformance::parse_trace_file(file.dump()); }

TEST(EmbeddedOracle, MatchesTheCommittedTracesOfItsVersion) {
  CPython& py = CPython::instance();
  std::string version = py.minor_version();
  std::string dir = std::string(AIOSPEC_DEFAULT_EXPECTED) + "/cpython-" + version;
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "no committed traces for CPython " << version;
  // An older patch release than the one that blessed the traces differs where its asyncio changed
  // later (aiospec_oracle/patches.py): those are checked for determinism only.
  const auto patch_differences = py.patch_differences();
  int compared = 0;
  for (const auto& s : conformance::read_bundle(AIOSPEC_DEFAULT_BUNDLE)) {
    if (!s.applies_to(version)) continue;
    SCOPED_TRACE(s.path);
    nlohmann::json canonical = py.load_scenario(std::string(AIOSPEC_SOURCE_DIR) + "/" + s.path).canonical;
    Trace first = as_trace(py.run(canonical));
    Trace second = as_trace(py.run(canonical));
    Trace committed = conformance::read_trace_file(conformance::expected_trace_path(AIOSPEC_DEFAULT_EXPECTED, version, s.id));
    auto same = conformance::compare(committed, first, {"committed", "live"}, false);
    auto known = patch_differences.find(s.id);
    if (known == patch_differences.end()) {
      EXPECT_EQ(same.status, conformance::Status::pass) << same.reason << "\n" << same.diff;
    } else {
      EXPECT_NE(same.status, conformance::Status::pass) << s.id << " no longer differs on CPython " << py.version()
                                                        << " (" << known->second << "): update aiospec_oracle/patches.py";
    }
    auto twice = conformance::compare(first, second, {"first run", "second run"}, false);
    EXPECT_EQ(twice.status, conformance::Status::pass) << "not deterministic: " << twice.reason << "\n" << twice.diff;
    ++compared;
  }
  EXPECT_GT(compared, 0);
}

TEST(EmbeddedOracle, ReportsABadScenarioAsOneLineWithItsLocation) {
  std::string bad = std::string(AIOSPEC_SOURCE_DIR) + "/tools/tests/bad/unknown-op.yaml";
  if (!std::filesystem::exists(bad)) GTEST_SKIP() << bad << " is missing";
  try {
    CPython::instance().load_scenario(bad);
    FAIL() << "loading " << bad << " should fail";
  } catch (const LoadError& e) {
    std::string message = e.what();
    EXPECT_NE(message.find("unknown-op.yaml:"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace aiospec::oracle
