// The C++ normaliser against the vectors both twins are tested with (spec/normalisation.json),
// and its idempotence on each of them.
#include "aiospec/conformance/reprs.hpp"

#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace aiospec::conformance {
namespace {

nlohmann::json vectors() {
  std::ifstream in(std::string(AIOSPEC_SOURCE_DIR) + "/spec/normalisation.json");
  return nlohmann::json::parse(in);
}

TEST(Reprs, EveryVectorOfSpecNormalisationJson) {
  const auto cases = vectors().at("cases");
  ASSERT_GE(cases.size(), 20u);
  for (const auto& c : cases) {
    const std::string raw = c.at("raw"), normalised = c.at("normalised");
    EXPECT_EQ(normalise_reprs(raw), normalised) << c.value("why", "");
    EXPECT_EQ(normalise_reprs(normalised), normalised) << "not idempotent: " << c.value("why", "");
  }
}

TEST(Reprs, UnbalancedBracketsAreKept) {
  EXPECT_EQ(normalise_reprs("a < b"), "a < b");
  EXPECT_EQ(normalise_reprs("<Task pending name='t'"), "<Task pending name='t'");
}

}  // namespace
}  // namespace aiospec::conformance
