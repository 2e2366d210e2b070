// Expectation files (conformance/expectations/README.md): what a loop is known to get wrong,
// applied to each result. The aiospec CLI reads them through the spec tools (the YAML reader of
// the whole suite); the installed package has no Python, so it reads them here, in the same
// format as far as expectation files use YAML: block mappings two spaces deep, scalars plain,
// 'single' or "double" quoted, `cpython` as a flow list. A test keeps the two readers agreeing
// on every file in conformance/expectations/.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "aiospec/conformance/runner.hpp"

namespace aiospec::conformance {

struct ExpectationError : std::runtime_error {  // one line `FILE:LINE:COL: why`
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

// Reads and checks `path` (as strictly as the spec tools, except that scenario ids are checked
// only for their form); throws ExpectationError.
ExpectationFile read_expectation_file(const std::string& path);
ExpectationFile parse_expectations(const std::string& text, const std::string& path);

// The entry for `id` that applies to a result against CPython `version` in time mode `time`.
const Expectation* applicable(const ExpectationFile& file, const std::string& id, const std::string& version,
                              const std::string& time);

// XFAIL when `outcome` is what `expectation` says, XPASS when it passes; otherwise unchanged (a
// different failure than the listed one is still unexpected).
void apply(const Expectation& expectation, Outcome& outcome);

}  // namespace aiospec::conformance
