// First divergence and unified diff of two traces: what a loop author reads first when a
// scenario fails.
#include <algorithm>
#include <set>

#include "aiospec/conformance/trace.hpp"

namespace aiospec::conformance {

namespace {

// The wording of spec/TRACE.md, "Comparison", shared with the oracle's compare.py.
std::string describe(const nlohmann::json& event, const std::string& field) {
  return event.contains(field) ? render_json_value(event.at(field)) : "absent";
}

}  // namespace

std::optional<Divergence> first_divergence(const std::vector<Event>& expected, const std::vector<Event>& actual) {
  const std::size_t n = std::min(expected.size(), actual.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (render_event(expected[i]) == render_event(actual[i])) continue;
    // Fields in rendering order: "t", "ev", then the others alphabetically, those of the expected
    // event first, then any the actual event adds.
    std::vector<std::string> fields = {"t", "ev"};
    std::set<std::string> rest;
    for (const auto& [k, v] : expected[i].items()) {
      if (k != "t" && k != "ev") rest.insert(k);
    }
    fields.insert(fields.end(), rest.begin(), rest.end());
    std::set<std::string> extra;
    for (const auto& [k, v] : actual[i].items()) {
      if (k != "t" && k != "ev" && !rest.count(k)) extra.insert(k);
    }
    fields.insert(fields.end(), extra.begin(), extra.end());
    for (const auto& field : fields) {
      std::string want = describe(expected[i], field);
      std::string got = describe(actual[i], field);
      if (want != got) {
        return Divergence{i, "first divergence at event " + std::to_string(i) + ", field \"" + field +
                                 "\": expected " + want + ", actual " + got};
      }
    }
    return Divergence{i, "first divergence at event " + std::to_string(i)};
  }
  if (expected.size() > n) {
    return Divergence{n, "first divergence at event " + std::to_string(n) + ": missing event " + render_event(expected[n])};
  }
  if (actual.size() > n) {
    return Divergence{n, "first divergence at event " + std::to_string(n) + ": extra event " + render_event(actual[n])};
  }
  return std::nullopt;
}

namespace {

enum class Op { keep, remove, add };

// Longest-common-subsequence edit script over the lines between the common prefix and suffix;
// traces are a few hundred lines at most, so the quadratic table is small.
std::vector<std::pair<Op, std::string>> edit_script(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::size_t pre = 0;
  while (pre < a.size() && pre < b.size() && a[pre] == b[pre]) ++pre;
  std::size_t suf = 0;
  while (suf < a.size() - pre && suf < b.size() - pre && a[a.size() - 1 - suf] == b[b.size() - 1 - suf]) ++suf;
  std::size_t n = a.size() - pre - suf, m = b.size() - pre - suf;
  std::vector<std::vector<unsigned>> lcs(n + 1, std::vector<unsigned>(m + 1, 0));
  for (std::size_t i = n; i-- > 0;) {
    for (std::size_t j = m; j-- > 0;) {
      lcs[i][j] = a[pre + i] == b[pre + j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  std::vector<std::pair<Op, std::string>> script;
  for (std::size_t i = 0; i < pre; ++i) script.emplace_back(Op::keep, a[i]);
  std::size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[pre + i] == b[pre + j]) {
      script.emplace_back(Op::keep, a[pre + i]);
      ++i, ++j;
    } else if (j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j])) {
      script.emplace_back(Op::add, b[pre + j++]);
    } else {
      script.emplace_back(Op::remove, a[pre + i++]);
    }
  }
  for (std::size_t k = a.size() - suf; k < a.size(); ++k) script.emplace_back(Op::keep, a[k]);
  // Within a changed run, show every removal before the additions, as diff(1) does.
  for (std::size_t k = 0; k < script.size();) {
    std::size_t end = k;
    while (end < script.size() && script[end].first != Op::keep) ++end;
    std::stable_partition(script.begin() + static_cast<long>(k), script.begin() + static_cast<long>(end),
                          [](const auto& e) { return e.first == Op::remove; });
    k = end == k ? k + 1 : end;
  }
  return script;
}

}  // namespace

std::string unified_diff(const std::vector<std::string>& expected, const std::vector<std::string>& actual,
                         const DiffLabels& labels, bool color) {
  auto script = edit_script(expected, actual);
  const std::string red = color ? "\033[31m" : "", green = color ? "\033[32m" : "", cyan = color ? "\033[36m" : "",
                    reset = color ? "\033[0m" : "";
  std::string out = red + "--- " + labels.expected + reset + "\n" + green + "+++ " + labels.actual + reset + "\n";
  const std::size_t context = 3;
  std::size_t k = 0;
  while (k < script.size()) {
    if (script[k].first == Op::keep) {
      ++k;
      continue;
    }
    // A hunk: from `context` lines before this change to `context` lines after the last change
    // that is no more than 2*context kept lines away.
    std::size_t start = k >= context ? k - context : 0;
    std::size_t end = k;
    while (end < script.size()) {
      if (script[end].first != Op::keep) {
        ++end;
        continue;
      }
      std::size_t run = end;
      while (run < script.size() && script[run].first == Op::keep) ++run;
      if (run == script.size() || run - end > 2 * context) {
        end = std::min(run, end + context);
        break;
      }
      end = run;
    }
    std::size_t a_line = 1, b_line = 1;
    for (std::size_t x = 0; x < start; ++x) {
      if (script[x].first != Op::add) ++a_line;
      if (script[x].first != Op::remove) ++b_line;
    }
    std::size_t a_count = 0, b_count = 0;
    std::string body;
    for (std::size_t x = start; x < end; ++x) {
      switch (script[x].first) {
        case Op::keep:
          body += " " + script[x].second + "\n";
          ++a_count, ++b_count;
          break;
        case Op::remove:
          body += red + "-" + script[x].second + reset + "\n";
          ++a_count;
          break;
        case Op::add:
          body += green + "+" + script[x].second + reset + "\n";
          ++b_count;
          break;
      }
    }
    auto range = [](std::size_t line, std::size_t count) {
      return std::to_string(count == 0 ? line - 1 : line) + (count == 1 ? "" : "," + std::to_string(count));
    };
    out += cyan + "@@ -" + range(a_line, a_count) + " +" + range(b_line, b_count) + " @@" + reset + "\n" + body;
    k = end;
  }
  return out;
}

}  // namespace aiospec::conformance
