// How a run over many scenarios is summarised, by `aiospec report` and by the package's runner
// (`RUNNER --report`): the tally tables, the closing line, and one JSON record per result in the
// format "aiospec-report/2" (the matrix's cells).
#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "aiospec/conformance/runner.hpp"
#include "aiospec/conformance/scenario.hpp"

namespace aiospec::conformance {

inline constexpr Status kSummaryColumns[] = {Status::pass,        Status::fail, Status::error,
                                             Status::stale,       Status::unsupported, Status::skip,
                                             Status::flaky,       Status::xfail, Status::xpass};
inline constexpr std::size_t kBaseColumns = 6;  // FLAKY, XFAIL, XPASS only when a run can give them

struct Tally {
  std::map<Status, int> n;
  void add(Status s) { ++n[s]; }
  int operator[](Status s) const {
    const auto it = n.find(s);
    return it == n.end() ? 0 : it->second;
  }
};

// Rows of counts under the column titles (passed, failed, ...).
struct Table {
  std::size_t columns = kBaseColumns;
  int width = 8;  // of the second column: the backend, or the loop's name

  std::string header(const std::string& first, const std::string& second) const;
  std::string row(const std::string& first, const std::string& second, const Tally& t) const;
};

// "\nconformance: 3 passed, 0 failed, ... in 0.12 s\n" (the xfail/xpass/flaky counts with `extended`).
std::string closing_line(const Tally& total, bool extended, double seconds);

// Whether a status fails a run: FAIL, ERROR, STALE, FLAKY, XPASS.
bool is_failure(Status s);

// One judged result as the JSON report holds it. `raw` is the status before expectations;
// `expectation` the applicable entry (nullptr: none).
struct Expectation;
nlohmann::json result_record(const Scenario& s, const std::string& loop, const std::string& version,
                             const std::string& time, const Outcome& outcome, const std::string& raw,
                             const Expectation* expectation);

}  // namespace aiospec::conformance
