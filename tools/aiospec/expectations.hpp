// Expectation files (conformance/expectations/README.md): what a loop is known to get wrong.
// Read through the Python spec tools (the one YAML reader), applied to each result, and written
// back from a run by --update-expectations.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "aiospec/conformance/runner.hpp"

namespace aiospec::cli {

struct ExpectationError : std::runtime_error {  // one line `FILE:LINE:COL: why`, exit 2
  using std::runtime_error::runtime_error;
};

struct Expectation {
  std::string status;  // FAIL | ERROR | FLAKY
  std::string reason;
  std::string upstream;              // "" when none
  std::vector<std::string> cpython;  // empty: every version
  std::string time;                  // "": every time mode
};

struct ExpectationFile {
  std::string path;
  std::string loop;
  std::map<std::string, Expectation> entries;  // by scenario id
};

// <source>/conformance/expectations/<name with '/' as '_'>.yaml
std::string default_expectation_path(const std::string& loop_name);

// Throws ExpectationError with the reader's one line.
ExpectationFile read_expectations(const std::string& path);

// The entry for `id` that applies to a result against CPython `version` in time mode `time`.
const Expectation* applicable(const ExpectationFile& file, const std::string& id, const std::string& version,
                              const std::string& time);

// XFAIL when `outcome` is what `expectation` says, XPASS when it passes; otherwise unchanged (a
// different failure than the listed one is still unexpected).
void apply(const Expectation& expectation, conformance::Outcome& outcome);

// The YAML of an expectation file, entries sorted by id, strings double-quoted.
std::string render_expectations(const std::string& loop, const std::map<std::string, Expectation>& entries);

// One failing result of a run, for --update-expectations.
struct RunResult {
  std::string id, version, status;  // status before expectations: FAIL, ERROR, FLAKY (others ignored)
};
// The entries a run calls for: one per scenario that failed against some version, with the
// `cpython` list when only some of the versions it was judged against failed. Reasons, upstream
// links and time modes of `previous` entries that still apply are kept; new ones say "TODO: explain".
// `judged`: per scenario, the versions it was judged against (not SKIP/UNSUPPORTED/STALE).
// `applied`: the ids whose previous entry applied to some result; entries the run could not test
// (another time mode, versions not run) are kept unchanged.
std::map<std::string, Expectation> updated_expectations(const std::vector<RunResult>& failed,
                                                        const std::map<std::string, std::vector<std::string>>& judged,
                                                        const ExpectationFile* previous,
                                                        const std::set<std::string>& applied);

}  // namespace aiospec::cli
