// Which suite a report was made with: `git rev-parse --short HEAD` of the source tree, "+dirty"
// when tracked files changed, "unknown" when git cannot say (no git, not a checkout).
#pragma once

#include <string>

namespace aiospec::cli {

std::string suite_revision(const std::string& source_root);

}  // namespace aiospec::cli
