#include "aiospec/ref/profile.hpp"

#include <algorithm>
#include <string>

#include "aiospec/ref/exceptions.hpp"

namespace aiospec::ref {

const std::vector<std::string>& Profile::versions() {
  static const std::vector<std::string> all = {"3.8", "3.9", "3.10", "3.11", "3.12", "3.13"};
  return all;
}

Profile Profile::for_version(std::string_view version) {
  const auto& all = versions();
  const auto it = std::find(all.begin(), all.end(), version);
  if (it == all.end()) {
    throw ValueError("no reference-loop profile for CPython '" + std::string(version) + "' (3.8-3.13)");
  }
  Profile p;
  p.version = *it;
  const auto at_least = [&](std::string_view v) {
    return it >= std::find(all.begin(), all.end(), v);
  };
  p.nan_timeout_reaches_selector = at_least("3.13");
  return p;
}

}  // namespace aiospec::ref
