// Where the test binaries find the compiled scenarios and the committed traces. The build passes
// the defaults; AIOSPEC_BUNDLE and AIOSPEC_EXPECTED override them.
#pragma once

#include <cstdlib>
#include <string>

namespace aiospec::conformance::suite {

inline std::string bundle_path() {
  const char* env = std::getenv("AIOSPEC_BUNDLE");
  return env ? env : AIOSPEC_DEFAULT_BUNDLE;
}

inline std::string expected_root() {
  const char* env = std::getenv("AIOSPEC_EXPECTED");
  return env ? env : AIOSPEC_DEFAULT_EXPECTED;
}

}  // namespace aiospec::conformance::suite
