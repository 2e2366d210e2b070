// The suite's teeth: each mutant loop breaks one asyncio rule, and the scenarios named for it must
// catch it (fail on the mutant) while the reference loop passes them on every backend.
#include <gtest/gtest.h>

#include <map>

#include "mutants/mutants.hpp"
#include "aiospec/conformance/runner.hpp"
#include "aiospec/ref/selectors.hpp"
#include "suite_paths.hpp"

namespace aiospec::conformance {
namespace {

const std::vector<Scenario>& scenarios() {
  static const std::vector<Scenario> all = read_bundle(suite::bundle_path());
  return all;
}

const Scenario& by_id(const std::string& id) {
  for (const auto& s : scenarios()) {
    if (s.id == id) return s;
  }
  throw std::runtime_error("no scenario with id " + id);
}

class MutantTest : public ::testing::TestWithParam<mutants::Mutant> {};

TEST_P(MutantTest, IsCaughtByItsScenariosWhichTheReferencePasses) {
  const mutants::Mutant& mutant = GetParam();
  const std::string version = kDefaultProfile;
  ASSERT_FALSE(mutant.caught_by.empty());
  for (const auto& backend : ref::available_backends()) {
    ReferenceAdapter reference(backend, ref::Profile::for_version(version));
    ReferenceAdapter broken(backend, ref::Profile::for_version(version), "mutant/" + mutant.name + "/" + backend,
                            mutant.factory);
    for (const auto& id : mutant.caught_by) {
      const Scenario& s = by_id(id);
      Outcome control = judge(reference, s, suite::expected_root(), version);
      EXPECT_EQ(control.status, Status::pass) << id << " must pass on the reference loop: " << control.reason;
      Outcome caught = judge(broken, s, suite::expected_root(), version);
      EXPECT_TRUE(caught.status == Status::fail || caught.status == Status::error)
          << "mutant " << mutant.name << " (" << mutant.rule << ") was not caught by " << id << " on " << backend;
    }
  }
}

// How many scenarios each mutant fails in all: printed for the record, asserted only to be >= 1.
TEST_P(MutantTest, FailsSomewhereInTheWholeSuite) {
  const mutants::Mutant& mutant = GetParam();
  const std::string version = kDefaultProfile;
  ReferenceAdapter broken("poll", ref::Profile::for_version(version), "mutant/" + mutant.name, mutant.factory);
  int failed = 0;
  for (const auto& s : scenarios()) {
    Status st = judge(broken, s, suite::expected_root(), version).status;
    failed += st == Status::fail || st == Status::error;
  }
  std::cout << "[ mutant   ] " << mutant.name << ": fails " << failed << " of " << scenarios().size() << " scenarios\n";
  EXPECT_GE(failed, 1);
}

INSTANTIATE_TEST_SUITE_P(Mutants, MutantTest, ::testing::ValuesIn(mutants::all()),
                         [](const ::testing::TestParamInfo<mutants::Mutant>& param) {
                           std::string name = param.param.name;
                           for (char& c : name) c = c == '-' ? '_' : c;
                           return name;
                         });

}  // namespace

namespace mutants {
// GoogleTest prints a parameter into the test's listing, and CTest takes that listing as the
// test name: without this it would be a byte dump holding heap addresses that change per build.
void PrintTo(const Mutant& mutant, std::ostream* out) { *out << mutant.name; }
}  // namespace mutants

}  // namespace aiospec::conformance
