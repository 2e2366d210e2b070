// `aiospec report`: the whole suite on the reference loop, every backend and every CPython
// version that has traces, as tables, the failures with their diffs, and a JSON report.
#pragma once

#include <string>
#include <vector>

namespace aiospec::cli {

struct ReportOptions {
  std::string bundle;
  std::string expected_root;
  std::string source_root;            // where spec/ is, to refuse a stale bundle; empty = no check
  std::vector<std::string> versions;  // CPython minor versions; empty = every one with traces
  std::vector<std::string> backends;  // validated by the caller; empty = all
  std::string json_path;              // empty = none
  bool color = false;
};

// Exit status: 0 everything passed (or was unsupported/skipped), 1 a failure, a budget stop or a
// stale trace, 2 bad input, 3 the loop or the interpreter failed to run a scenario.
int report(const ReportOptions& options);

}  // namespace aiospec::cli
