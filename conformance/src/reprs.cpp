// The rules of spec/TRACE.md, "Reprs in messages", in the order written there. No regular
// expressions: each rule is a small scan, so that the C++ and Python twins read alike.
#include "aiospec/conformance/reprs.hpp"

#include <cctype>
#include <cstddef>
#include <string>
#include <vector>

namespace aiospec::conformance {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Rule 1: a traceback's frames are host detail; its header line stays.
std::string drop_traceback_frames(std::string_view text) {
  std::string out;
  bool in_traceback = false;
  std::size_t start = 0;
  bool first = true;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    if (in_traceback && starts_with(line, "  ")) {
      // a frame: dropped
    } else {
      in_traceback = ends_with(line, "created at (most recent call last):");
      if (!first) out += '\n';
      out += line;
      first = false;
    }
    if (end == text.size()) break;
    start = end + 1;
  }
  return out;
}

// A source location `<path>:<line>` starting at `at`: its length, or 0. The path has no space and
// no '>'; the part after its last ':' is digits.
std::size_t location_length(std::string_view text, std::size_t at) {
  std::size_t end = at;
  while (end < text.size() && text[end] != ' ' && text[end] != '>' && text[end] != '\n' && text[end] != ',' &&
         text[end] != ')') {
    ++end;
  }
  const std::string_view token = text.substr(at, end - at);
  if (starts_with(token, "0x")) return 0;
  const std::size_t colon = token.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || !all_digits(token.substr(colon + 1))) return 0;
  return token.size();
}

// Rules 2 and 3: ` created at <path>:<line>` and ` at <path>:<line>` are removed.
std::string drop_locations(std::string_view text, std::string_view marker) {
  std::string out;
  std::size_t from = 0;
  for (;;) {
    const std::size_t at = text.find(marker, from);
    if (at == std::string_view::npos) break;
    const std::size_t n = location_length(text, at + marker.size());
    out += text.substr(from, at - from);
    if (n == 0) {
      out += marker;
    }
    from = at + marker.size() + n;
  }
  out += text.substr(from);
  return out;
}

// Rule 4: reprlib.repr keeps the last characters of a repr it shortens, often a piece of a
// location: `<Future finis...events.py:422>` becomes `<Future finis...>`. The first `:<digits>>`
// after the "..." with no bracket between is the end of that tail.
std::string drop_shortened_tails(std::string_view text) {
  std::string out;
  std::size_t from = 0;
  for (std::size_t dots = text.find("..."); dots != std::string_view::npos; dots = text.find("...", dots + 3)) {
    if (dots < from) continue;
    std::size_t end = std::string_view::npos;
    for (std::size_t j = dots + 3; j < text.size() && text[j] != '<' && text[j] != '>'; ++j) {
      if (text[j] != ':') continue;
      std::size_t k = j + 1;
      while (k < text.size() && std::isdigit(static_cast<unsigned char>(text[k]))) ++k;
      if (k > j + 1 && k < text.size() && text[k] == '>') {
        end = k;
        break;
      }
    }
    if (end == std::string_view::npos) continue;
    out += text.substr(from, dots - from);
    out += "...>";
    from = end + 1;
  }
  out += text.substr(from);
  return out;
}

// Rule 5: addresses.
std::string hide_addresses(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '0' && i + 1 < text.size() && text[i + 1] == 'x' && i + 2 < text.size() &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2])) &&
        (i == 0 || !std::isalnum(static_cast<unsigned char>(text[i - 1])))) {
      out += "0x?";
      i += 2;
      while (i < text.size() && std::isxdigit(static_cast<unsigned char>(text[i]))) ++i;
    } else {
      out += text[i++];
    }
  }
  return out;
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < s.size() && s[i] != ' ') ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

bool is_identifier(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// `name='N'` in a Task repr; "Task-<digits>" is process-global numbering, shown as Task-?.
std::string task_name(std::string_view inner) {
  const std::size_t at = inner.find(" name='");
  if (at == std::string_view::npos) return {};
  const std::size_t start = at + 7;
  const std::size_t end = inner.find('\'', start);
  if (end == std::string_view::npos) return {};
  std::string_view name = inner.substr(start, end - start);
  if (starts_with(name, "Task-") && all_digits(name.substr(5))) return " name='Task-?'";
  return " name='" + std::string(name) + "'";
}

// A loop: `<X running=B closed=B debug=B>`.
bool is_loop_repr(const std::vector<std::string_view>& w) {
  return w.size() == 4 && starts_with(w[1], "running=") && starts_with(w[2], "closed=") && starts_with(w[3], "debug=");
}

// Rule 6 on one repr whose inside (already rewritten) is `inner`.
std::string rewrite_repr(const std::string& inner) {
  const auto w = words(inner);
  if (w.empty()) return "<" + inner + ">";
  const std::string_view kind = w[0];
  if (kind == "Task" && w.size() >= 2) return "<Task " + std::string(w[1]) + task_name(inner) + ">";
  if (is_identifier(kind) && ends_with(kind, "Future") && w.size() >= 2) {
    return "<" + std::string(kind) + " " + std::string(w[1]) + ">";
  }
  if (kind == "Handle" || kind == "TimerHandle") {
    // A timer's deadline is dropped wherever it stands (`<TimerHandle cancelled when=5.25 h()>`).
    std::string rest = inner.substr(kind.size());
    for (std::size_t at = rest.find(" when="); at != std::string::npos; at = rest.find(" when=", at)) {
      const std::size_t end = rest.find(' ', at + 1);
      rest.erase(at, (end == std::string::npos ? rest.size() : end) - at);
    }
    return "<" + std::string(kind) + rest + ">";
  }
  if (is_loop_repr(w)) {
    return "<EventLoop " + std::string(w[1]) + " " + std::string(w[2]) + " " + std::string(w[3]) + ">";
  }
  return "<" + inner + ">";
}

// The index of the '>' closing the '<' at `open`, or npos when it is not closed.
std::size_t closing(std::string_view text, std::size_t open) {
  int depth = 0;
  for (std::size_t i = open; i < text.size(); ++i) {
    if (text[i] == '<') ++depth;
    if (text[i] == '>' && --depth == 0) return i;
  }
  return std::string_view::npos;
}

std::string rewrite_reprs(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t open = text.find('<', i);
    if (open == std::string_view::npos) break;
    const std::size_t close = closing(text, open);
    if (close == std::string_view::npos) break;
    out += text.substr(i, open - i);
    out += rewrite_repr(rewrite_reprs(text.substr(open + 1, close - open - 1)));
    i = close + 1;
  }
  out += text.substr(i);
  return out;
}

}  // namespace

std::string normalise_reprs(std::string_view text) {
  std::string s = drop_traceback_frames(text);
  s = drop_locations(s, " created at ");
  s = drop_locations(s, " at ");
  s = drop_shortened_tails(s);
  s = hide_addresses(s);
  return rewrite_reprs(s);
}

}  // namespace aiospec::conformance
