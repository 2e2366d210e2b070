#include "aiospec/conformance/summary.hpp"

#include <cstdio>

#include "aiospec/conformance/expectations.hpp"

namespace aiospec::conformance {

namespace {

constexpr const char* kTitles[] = {"passed", "failed", "errors", "stale", "unsupported", "skipped",
                                   "flaky",  "xfail",  "xpass"};

}  // namespace

std::string Table::header(const std::string& first, const std::string& second) const {
  char head[64];
  std::snprintf(head, sizeof head, "%-14s %-*s", first.c_str(), width, second.c_str());
  std::string out = head;
  for (std::size_t c = 0; c < columns; ++c) out += std::string(c ? "  " : " ") + kTitles[c];
  return out;
}

std::string Table::row(const std::string& first, const std::string& second, const Tally& t) const {
  char cell[64];
  std::snprintf(cell, sizeof cell, "%-14s %-*s", first.c_str(), width, second.c_str());
  std::string out = cell;
  for (std::size_t c = 0; c < columns; ++c) {
    // Right-aligned under its title (titles are separated by two spaces, the first by one).
    std::snprintf(cell, sizeof cell, "%*d", static_cast<int>(std::string(kTitles[c]).size()) + (c ? 2 : 1),
                  t[kSummaryColumns[c]]);
    out += cell;
  }
  return out;
}

std::string closing_line(const Tally& total, bool extended, double seconds) {
  char text[300];
  std::snprintf(text, sizeof text, "\nconformance: %d passed, %d failed, %d errors, %d stale, %d unsupported, %d skipped",
                total[Status::pass], total[Status::fail], total[Status::error], total[Status::stale],
                total[Status::unsupported], total[Status::skip]);
  std::string out = text;
  if (extended) {
    std::snprintf(text, sizeof text, ", %d flaky, %d xfail, %d xpass", total[Status::flaky], total[Status::xfail],
                  total[Status::xpass]);
    out += text;
  }
  std::snprintf(text, sizeof text, " in %.2f s\n", seconds);
  return out + text;
}

bool is_failure(Status s) {
  return s == Status::fail || s == Status::error || s == Status::stale || s == Status::flaky || s == Status::xpass;
}

nlohmann::json result_record(const Scenario& s, const std::string& loop, const std::string& version,
                             const std::string& time, const Outcome& outcome, const std::string& raw,
                             const Expectation* expectation) {
  nlohmann::json item = {{"scenario", s.id}, {"path", s.path},       {"area", s.area},
                         {"level", s.level}, {"title", s.title},     {"loop", loop},
                         {"cpython", version}, {"time", time},       {"status", to_string(outcome.status)},
                         {"message", outcome.reason}};
  if (expectation) {
    item["expected"] = expectation->status;
    item["expected_reason"] = expectation->reason;
    if (!expectation->upstream.empty()) item["upstream"] = expectation->upstream;
  }
  const bool failed = raw == "FAIL" || raw == "ERROR" || raw == "FLAKY";
  if (raw == "FAIL") item["divergence"] = outcome.reason;
  if (failed && !outcome.diff.empty()) item["diff"] = outcome.diff;
  return item;
}

}  // namespace aiospec::conformance
