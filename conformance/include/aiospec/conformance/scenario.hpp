// A scenario in its validated canonical JSON form, as the loader (tools/aiospec_spec) compiles it
// into the bundle: the C++ side never reads YAML.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aiospec/conformance/virtual_time.hpp"

namespace aiospec::conformance {

struct Scenario {
  std::string id;
  std::string path;  // spec/timers/equal-deadlines-3.yaml
  std::string area;  // timers
  std::string title;
  std::string level;  // must | cpython
  std::set<std::string> features;
  std::optional<std::string> python_min, python_max;  // "3.8"
  Budget budget;
  nlohmann::json program;
  nlohmann::json canonical;  // the whole scenario as the bundle holds it: what a loop host is sent
  std::string sha256;
  // "3.14" -> "needs threads (no threads in CPython for WebAssembly)": the versions whose oracle
  // (spec/oracles.yaml, carried by the bundle) cannot run this scenario, so it has no trace.
  std::map<std::string, std::string> no_oracle;

  static Scenario from_canonical(const nlohmann::json& canonical, std::string path, std::string area,
                                 std::string sha256);
  // Whether CPython major.minor `version` ("3.11") is inside the scenario's python range.
  bool applies_to(const std::string& version) const;
};

// Reads the bundle written by `python3 -m aiospec_spec compile` (with its oracle table, which
// fills Scenario::no_oracle); throws std::runtime_error.
std::vector<Scenario> read_bundle(const std::string& path);

// "3.9" < "3.10": compares dotted version numbers numerically.
int compare_versions(const std::string& a, const std::string& b);

}  // namespace aiospec::conformance
