#include "suite_revision.hpp"

#include "subprocess.hpp"

namespace aiospec::cli {

std::string suite_revision(const std::string& source_root) {
  const Captured head = capture({"git", "-C", source_root, "rev-parse", "--short", "HEAD"});
  std::string revision = head.out.substr(0, head.out.find('\n'));
  if (head.status != 0 || revision.empty()) return "unknown";
  const Captured status = capture({"git", "-C", source_root, "status", "--porcelain", "--untracked-files=no"});
  if (status.status != 0) return "unknown";
  return status.out.empty() ? revision : revision + "+dirty";
}

}  // namespace aiospec::cli
