// `aiospec report`: the whole suite on the reference loop, every backend, as a table, the
// failures with their diffs, and a machine-readable JSON report.
#pragma once

#include <string>
#include <vector>

namespace aiospec::cli {

struct ReportOptions {
  std::string bundle;
  std::string expected_root;
  std::string version;                // CPython profile; empty = newest committed
  std::vector<std::string> backends;  // empty = all
  std::string json_path;              // empty = none
  bool color = false;
};

int report(const ReportOptions& options);

}  // namespace aiospec::cli
