#include "aiospec/conformance/freshness.hpp"

#include <filesystem>
#include <set>

namespace aiospec::conformance {

namespace fs = std::filesystem;

std::optional<std::string> stale_bundle(const std::string& bundle_path, const std::vector<Scenario>& scenarios,
                                        const std::string& source_root, const std::string& rebuild) {
  std::error_code ec;
  const auto compiled = fs::last_write_time(bundle_path, ec);
  if (ec) return bundle_path + " is missing: " + rebuild;
  const fs::path root(source_root);
  auto changed = [&](const fs::path& file) {
    std::error_code e;
    const auto t = fs::last_write_time(file, e);
    return !e && t > compiled;
  };
  std::set<std::string> in_bundle;
  for (const auto& s : scenarios) in_bundle.insert(s.path);
  // The files the build compiles: spec/<area>/*.yaml (conformance/CMakeLists.txt globs the same).
  std::set<std::string> on_disk;
  for (const auto& area : fs::directory_iterator(root / "spec", ec)) {
    if (!area.is_directory()) continue;
    for (const auto& file : fs::directory_iterator(area.path(), ec)) {
      if (file.path().extension() == ".yaml") on_disk.insert(fs::relative(file.path(), root).generic_string());
    }
  }
  const std::string what = bundle_path + " is older than spec/: ";
  for (const auto& path : on_disk) {
    if (!in_bundle.count(path)) return what + path + " is new; " + rebuild;
    if (changed(root / path)) return what + path + " changed; " + rebuild;
  }
  for (const auto& path : in_bundle) {
    if (!on_disk.count(path)) return what + path + " was removed; " + rebuild;
  }
  for (const char* catalogue : {"spec/clauses.yaml", "spec/features.txt"}) {
    if (changed(root / catalogue)) return what + std::string(catalogue) + " changed; " + rebuild;
  }
  return std::nullopt;
}

}  // namespace aiospec::conformance
