// `aiospec report`: the whole suite on one kind of loop (loop_spec.hpp) against every CPython
// version that has traces, as tables, the failures with their diffs, and a JSON report in the
// format "aiospec-report/2" (wptreport-like: run_info and one result per scenario x loop x
// version). With the default --loop reference: every backend of the reference loop, in-process.
#pragma once

#include <string>
#include <vector>

#include "loop_spec.hpp"

namespace aiospec::cli {

struct ReportOptions {
  std::string bundle;
  std::string expected_root;
  std::string source_root;            // where spec/ is, to refuse a stale bundle; empty = no check
  std::vector<std::string> versions;  // CPython minor versions; empty = every one with traces
  std::vector<std::string> backends;  // reference only; validated by the caller; empty = all
  std::string json_path;              // empty = none
  bool color = false;
  LoopOptions loop;
  std::string expectations;           // empty: conformance/expectations/<loop>.yaml when it exists
  bool update_expectations = false;
};

// Exit status: 0 nothing unexpected (PASS, UNSUPPORTED, SKIP, XFAIL), 1 an unexpected FAIL, ERROR
// (a host that crashed, hung or erred included), FLAKY or XPASS, a budget stop or a stale trace,
// 2 bad input (options, a host that cannot start, an expectation file, a scenario refused as
// invalid), 3 the in-process reference loop or the interpreter failed to run a scenario.
int report(const ReportOptions& options);

}  // namespace aiospec::cli
