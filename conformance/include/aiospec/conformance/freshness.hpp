// No verdict from stale data: whether a compiled bundle still describes the scenario files on
// disk. Runners check this before judging and refuse with one line naming the rebuild command.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "aiospec/conformance/scenario.hpp"

namespace aiospec::conformance {

// The first reason `bundle_path` (holding `scenarios`) is older than the scenarios under
// `source_root`/spec (a file added, removed or changed since it was compiled, or a changed
// clauses.yaml / features.txt), phrased as one line ending in `rebuild`; nullopt when fresh.
std::optional<std::string> stale_bundle(const std::string& bundle_path, const std::vector<Scenario>& scenarios,
                                        const std::string& source_root, const std::string& rebuild);

}  // namespace aiospec::conformance
