// CPython, embedded: the live oracle for the C++ tools. It runs the very same Python packages as
// `make bless` (tools/aiospec_spec reads the YAML, oracle/aiospec_oracle runs the scenario on the
// real asyncio loop), so a live trace and a committed one can only differ if CPython does.
#pragma once

#include <map>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace aiospec::oracle {

// A scenario file the loader rejected; what() is the loader's one-line message with file:line:col.
class LoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The scenario loaded but the oracle refused to run it (a name used before it is bound, …):
// bad input, like LoadError. Any other failure of the oracle is a std::runtime_error.
class InvalidScenario : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LoadedScenario {
  nlohmann::json canonical;
  std::string path;
  std::string area;
  std::string sha256;
};

class CPython {
 public:
  // The process-wide interpreter, started on first use (CPython allows one per process). It is
  // sealed from where it runs: isolated configuration, the standard library and site-packages of
  // the CPython the build was configured with, no current directory, no user site, no PYTHON*
  // environment variables; only tools/ and oracle/ of this source tree are added to sys.path.
  static CPython& instance();

  std::string version() const;        // "3.11.2"
  std::string prefix() const;         // sys.prefix: where its standard library came from
  std::string minor_version() const;  // "3.11"
  // Scenario id -> why this patch release differs from its minor version's committed traces
  // (blessed with a newer patch release): aiospec_oracle/patches.py.
  std::map<std::string, std::string> patch_differences() const;
  // The same for another Python: `version` "3.11.2", `implementation` "cpython" or "pypy" (a
  // Python loop host's language_version and runtime).
  std::map<std::string, std::string> patch_differences(const std::string& version,
                                                       const std::string& implementation) const;

  // Loads and validates one scenario file through tools/aiospec_spec; throws LoadError.
  LoadedScenario load_scenario(const std::string& path);
  // Runs a canonical scenario on the real asyncio loop; returns the trace file as JSON. Throws
  // InvalidScenario when the oracle refuses the scenario, std::runtime_error when it fails.
  nlohmann::json run(const nlohmann::json& canonical);

 private:
  CPython();
};

}  // namespace aiospec::oracle
