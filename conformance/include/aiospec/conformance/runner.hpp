// One scenario on one adapter, judged against CPython's committed trace.
#pragma once

#include <string>

#include "aiospec/conformance/adapter.hpp"
#include "aiospec/conformance/scenario.hpp"
#include "aiospec/conformance/trace.hpp"

namespace aiospec::conformance {

enum class Status { pass, fail, unsupported, skip, error };
const char* to_string(Status status);

struct Outcome {
  Status status = Status::error;
  std::string reason;  // first divergence, missing features, why skipped, what went wrong
  std::string diff;    // unified diff of expected vs actual, for fail and error
  Trace actual;
};

// Where the committed traces of one CPython version live: <root>/cpython-<version>/<id>.json.
std::string expected_trace_path(const std::string& expected_root, const std::string& version, const std::string& id);
// The CPython version whose traces the reference loop reproduces by default: the newest minor
// whose traces in these areas do not depend on the patch release (3.13.0 still has gh-130145,
// fixed in 3.13.3, and lets a NaN timeout reach the selector). Tools take --python to change it.
inline constexpr const char* kDefaultProfile = "3.12";

// Runs `scenario` on `adapter` and compares with the CPython `version` trace under expected_root.
Outcome judge(Adapter& adapter, const Scenario& scenario, const std::string& expected_root,
              const std::string& version, bool color = false);

// Compares two traces of the same scenario: pass, or fail with the divergence and the diff.
Outcome compare(const Trace& expected, Trace actual, const DiffLabels& labels, bool color);

}  // namespace aiospec::conformance
