#include "detail/python_exceptions.hpp"

#include <map>
#include <vector>

namespace aiospec::conformance::detail {

namespace {

// class -> its direct bases. Keep one entry per line: test_catalog.py reads them.
const std::map<std::string, std::vector<std::string>>& bases() {
  static const std::map<std::string, std::vector<std::string>> table = {
      {"BaseException", {}},
      {"Exception", {"BaseException"}},
      {"ValueError", {"Exception"}},
      {"RuntimeError", {"Exception"}},
      {"TypeError", {"Exception"}},
      {"InvalidStateError", {"Exception"}},
      {"TimeoutError", {"Exception"}},
      {"CancelledError", {"BaseException"}},
      {"KeyboardInterrupt", {"BaseException"}},
      {"SystemExit", {"BaseException"}},
      {"BaseExceptionGroup", {"BaseException"}},
      {"ExceptionGroup", {"BaseExceptionGroup", "Exception"}},
  };
  return table;
}

}  // namespace

bool is_subclass(const std::string& type, const std::string& base) {
  if (type == base) return true;
  const auto it = bases().find(type);
  if (it == bases().end()) return is_subclass("Exception", base);
  for (const auto& parent : it->second) {
    if (is_subclass(parent, base)) return true;
  }
  return false;
}

}  // namespace aiospec::conformance::detail
