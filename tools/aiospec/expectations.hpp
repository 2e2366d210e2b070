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

#include "aiospec/conformance/expectations.hpp"
#include "aiospec/conformance/runner.hpp"

namespace aiospec::cli {

// The entries and how they apply live in the conformance library (the installed package reads
// the same files); the CLI reads them through the spec tools.
using conformance::apply;
using conformance::applicable;
using conformance::Expectation;
using conformance::ExpectationError;
using conformance::ExpectationFile;

// <source>/conformance/expectations/<name with '/' as '_'>.yaml
std::string default_expectation_path(const std::string& loop_name);

// Throws ExpectationError with the reader's one line.
ExpectationFile read_expectations(const std::string& path);

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
