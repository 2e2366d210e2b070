#include "aiospec/conformance/expectations.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

namespace aiospec::conformance {

namespace {

struct Reader {
  const std::string& path;
  int line = 0;

  [[noreturn]] void fail(std::size_t column, const std::string& why) const {
    throw ExpectationError(path + ":" + std::to_string(line) + ":" + std::to_string(column + 1) + ": " + why);
  }

  // A scalar at `at` in `text`: "double" (JSON escapes), 'single' ('' for '), or plain up to a
  // comment. Nothing may follow but a comment.
  std::string scalar(const std::string& text, std::size_t at) const {
    std::size_t end = 0;
    std::string value;
    if (at < text.size() && text[at] == '"') {
      bool escaped = false;
      for (end = at + 1; end < text.size(); ++end) {
        if (escaped) {
          escaped = false;
        } else if (text[end] == '\\') {
          escaped = true;
        } else if (text[end] == '"') {
          break;
        }
      }
      if (end >= text.size()) fail(at, "unterminated double-quoted string");
      try {
        value = nlohmann::json::parse(text.substr(at, end - at + 1)).get<std::string>();
      } catch (const nlohmann::json::exception&) {
        fail(at, "invalid escape in a double-quoted string");
      }
      ++end;
    } else if (at < text.size() && text[at] == '\'') {
      for (end = at + 1;; ++end) {
        if (end >= text.size()) fail(at, "unterminated single-quoted string");
        if (text[end] == '\'') {
          if (end + 1 < text.size() && text[end + 1] == '\'') {
            value += '\'';
            ++end;
            continue;
          }
          break;
        }
        value += text[end];
      }
      ++end;
    } else {
      end = text.find(" #", at);
      if (end == std::string::npos) end = text.size();
      value = text.substr(at, end - at);
      while (!value.empty() && value.back() == ' ') value.pop_back();
      if (value.empty()) fail(at, "a value is missing");
      return value;
    }
    const auto rest = text.find_first_not_of(' ', end);
    if (rest != std::string::npos && text[rest] != '#') fail(rest, "unexpected text after the value");
    return value;
  }

  std::vector<std::string> flow_list(const std::string& text, std::size_t at) const {
    const auto close = text.find(']', at);
    if (text[at] != '[' || close == std::string::npos) fail(at, "cpython must be a list like [\"3.8\", \"3.9\"]");
    std::vector<std::string> items;
    std::stringstream body(text.substr(at + 1, close - at - 1));
    for (std::string item; std::getline(body, item, ',');) {
      const auto b = item.find_first_not_of(' ');
      if (b == std::string::npos) fail(at, "an empty item in the cpython list");
      items.push_back(scalar(item, b));
    }
    return items;
  }
};

// key: value, with the column where the value starts (npos: no value on the line).
bool split(const std::string& text, std::size_t indent, std::string& key, std::size_t& value_at) {
  const auto colon = text.find(':', indent);
  if (colon == std::string::npos) return false;
  key = text.substr(indent, colon - indent);
  const auto v = text.find_first_not_of(' ', colon + 1);
  value_at = v == std::string::npos || text[v] == '#' ? std::string::npos : v;
  return true;
}

bool is_scenario_id(const std::string& id) {
  const auto dash = id.find('-');
  if (dash == std::string::npos || dash == 0 || id.size() != dash + 5) return false;
  return std::all_of(id.begin(), id.begin() + dash, [](char c) { return c >= 'a' && c <= 'z'; }) &&
         std::all_of(id.begin() + dash + 1, id.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

ExpectationFile parse_expectations(const std::string& text, const std::string& path) {
  Reader r{path};
  ExpectationFile file;
  file.path = path;
  bool have_loop = false, have_entries = false;
  std::string current;  // the entry being read
  std::stringstream lines(text);
  for (std::string raw; std::getline(lines, raw);) {
    ++r.line;
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    const auto first = raw.find_first_not_of(' ');
    if (first == std::string::npos || raw[first] == '#') continue;
    if (raw.find('\t') != std::string::npos) r.fail(raw.find('\t'), "tabs are not allowed");
    std::string key;
    std::size_t value_at = 0;
    if (!split(raw, first, key, value_at)) r.fail(first, "expected 'key: value'");
    if (first == 0) {
      current.clear();
      if (key == "loop") {
        if (value_at == std::string::npos) r.fail(first, "loop needs a value");
        file.loop = r.scalar(raw, value_at);
        have_loop = true;
      } else if (key == "expectations") {
        have_entries = true;
        if (value_at != std::string::npos && r.scalar(raw, value_at) != "{}") {
          r.fail(value_at, "expectations is a mapping of scenario ids (or {})");
        }
      } else {
        r.fail(0, "unknown key '" + key + "' (the keys are loop and expectations)");
      }
    } else if (first == 2 && have_entries) {
      if (value_at != std::string::npos) r.fail(value_at, "an entry is a mapping of status, reason, ...");
      if (!is_scenario_id(key)) r.fail(2, "'" + key + "' is not a scenario id");
      if (file.entries.count(key)) r.fail(2, "scenario " + key + " is listed twice");
      current = key;
      file.entries[key];
    } else if (first == 4 && !current.empty()) {
      if (value_at == std::string::npos) r.fail(first, key + " needs a value");
      Expectation& e = file.entries[current];
      if (key == "status") {
        e.status = r.scalar(raw, value_at);
        if (e.status != "FAIL" && e.status != "ERROR" && e.status != "FLAKY") {
          r.fail(value_at, "status is FAIL, ERROR or FLAKY, not '" + e.status + "'");
        }
      } else if (key == "reason") {
        e.reason = r.scalar(raw, value_at);
      } else if (key == "upstream") {
        e.upstream = r.scalar(raw, value_at);
        if (e.upstream.rfind("http://", 0) != 0 && e.upstream.rfind("https://", 0) != 0) {
          r.fail(value_at, "upstream must be an http(s) link");
        }
      } else if (key == "cpython") {
        e.cpython = r.flow_list(raw, value_at);
        if (e.cpython.empty()) r.fail(value_at, "an empty cpython list");
        if (std::set<std::string>(e.cpython.begin(), e.cpython.end()).size() != e.cpython.size()) {
          r.fail(value_at, "a version is repeated in the cpython list");
        }
      } else if (key == "time") {
        e.time = r.scalar(raw, value_at);
        if (e.time != "virtual" && e.time != "interposed" && e.time != "real") {
          r.fail(value_at, "time is virtual, interposed or real, not '" + e.time + "'");
        }
      } else {
        r.fail(first, "unknown key '" + key + "' (status, reason, upstream, cpython, time)");
      }
    } else {
      r.fail(first, "unexpected indentation");
    }
  }
  r.line = std::max(r.line, 1);
  if (!have_loop) r.fail(0, "the key 'loop' is missing");
  if (!have_entries) r.fail(0, "the key 'expectations' is missing");
  for (const auto& [id, e] : file.entries) {
    if (e.status.empty() || e.reason.empty()) {
      throw ExpectationError(path + ": " + id + ": an entry needs status and reason");
    }
  }
  return file;
}

ExpectationFile read_expectation_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw ExpectationError(path + ": cannot read the expectation file");
  std::stringstream text;
  text << in.rdbuf();
  return parse_expectations(text.str(), path);
}

const Expectation* applicable(const ExpectationFile& file, const std::string& id, const std::string& version,
                              const std::string& time) {
  const auto it = file.entries.find(id);
  if (it == file.entries.end()) return nullptr;
  const Expectation& e = it->second;
  if (!e.cpython.empty() && std::find(e.cpython.begin(), e.cpython.end(), version) == e.cpython.end()) return nullptr;
  if (!e.time.empty() && e.time != time) return nullptr;
  return &e;
}

void apply(const Expectation& expectation, Outcome& outcome) {
  if (to_string(outcome.status) == expectation.status) {
    outcome.status = Status::xfail;
  } else if (outcome.status == Status::pass) {
    outcome.status = Status::xpass;
    outcome.reason = "listed as " + expectation.status + " (" + expectation.reason + ") but passes";
  }
}

}  // namespace aiospec::conformance
