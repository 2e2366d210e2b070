#include "expectations.hpp"

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "subprocess.hpp"

namespace aiospec::cli {

using namespace aiospec::conformance;

std::string default_expectation_path(const std::string& loop_name) {
  std::string file = loop_name;
  std::replace(file.begin(), file.end(), '/', '_');
  return std::string(AIOSPEC_SOURCE_DIR) + "/conformance/expectations/" + file + ".yaml";
}

ExpectationFile read_expectations(const std::string& path) {
  const Captured r = capture({AIOSPEC_PYTHON, "-m", "aiospec_spec", "expectations", path},
                             {{"PYTHONPATH", std::string(AIOSPEC_SOURCE_DIR) + "/tools:" + AIOSPEC_SOURCE_DIR + "/oracle"}});
  if (r.status != 0) {
    std::string line = r.err.substr(0, r.err.find('\n'));
    if (line.empty()) line = path + ": the expectation reader failed (" AIOSPEC_PYTHON " -m aiospec_spec expectations)";
    throw ExpectationError(line);
  }
  ExpectationFile file;
  file.path = path;
  try {
    const auto doc = nlohmann::json::parse(r.out);
    file.loop = doc.at("loop").get<std::string>();
    for (const auto& [id, e] : doc.at("expectations").items()) {
      Expectation x;
      x.status = e.at("status").get<std::string>();
      x.reason = e.at("reason").get<std::string>();
      x.upstream = e.value("upstream", "");
      x.cpython = e.value("cpython", std::vector<std::string>{});
      x.time = e.value("time", "");
      file.entries[id] = std::move(x);
    }
  } catch (const std::exception& e) {
    throw ExpectationError(path + ": unexpected output of the expectation reader: " + e.what());
  }
  return file;
}

namespace {

std::string quoted(const std::string& s) { return nlohmann::json(s).dump(-1, ' ', true); }

}  // namespace

std::string render_expectations(const std::string& loop, const std::map<std::string, Expectation>& entries) {
  std::string out = "# What " + loop + " is known to get wrong (conformance/expectations/README.md).\n";
  out += "# Written by `aiospec report --update-expectations`; review every reason before committing.\n";
  out += "loop: " + quoted(loop) + "\n";
  if (entries.empty()) return out + "expectations: {}\n";
  out += "expectations:\n";
  for (const auto& [id, e] : entries) {
    out += "  " + id + ":\n";
    out += "    status: " + e.status + "\n";
    out += "    reason: " + quoted(e.reason) + "\n";
    if (!e.upstream.empty()) out += "    upstream: " + quoted(e.upstream) + "\n";
    if (!e.cpython.empty()) {
      out += "    cpython: [";
      for (std::size_t i = 0; i < e.cpython.size(); ++i) out += (i ? ", " : "") + quoted(e.cpython[i]);
      out += "]\n";
    }
    if (!e.time.empty()) out += "    time: " + e.time + "\n";
  }
  return out;
}

std::map<std::string, Expectation> updated_expectations(const std::vector<RunResult>& failed,
                                                        const std::map<std::string, std::vector<std::string>>& judged,
                                                        const ExpectationFile* previous,
                                                        const std::set<std::string>& applied) {
  // id -> status -> versions; the status an entry keeps is the one most versions show (an entry
  // has one status; the other versions' failures stay unexpected and are listed by the report).
  std::map<std::string, std::map<std::string, std::vector<std::string>>> by_id;
  for (const auto& r : failed) {
    if (r.status == "FAIL" || r.status == "ERROR" || r.status == "FLAKY") by_id[r.id][r.status].push_back(r.version);
  }
  std::map<std::string, Expectation> out;
  for (const auto& [id, statuses] : by_id) {
    auto best = statuses.begin();
    for (auto it = statuses.begin(); it != statuses.end(); ++it) {
      if (it->second.size() > best->second.size()) best = it;
    }
    Expectation e;
    e.status = best->first;
    e.reason = "TODO: explain";
    std::vector<std::string> versions = best->second;
    std::sort(versions.begin(), versions.end(),
              [](const std::string& a, const std::string& b) { return compare_versions(a, b) < 0; });
    const auto j = judged.find(id);
    if (j == judged.end() || versions.size() < j->second.size()) e.cpython = versions;
    if (previous) {
      if (const auto p = previous->entries.find(id); p != previous->entries.end() && p->second.status == e.status) {
        e.reason = p->second.reason;
        e.upstream = p->second.upstream;
        e.time = p->second.time;
      }
    }
    out[id] = std::move(e);
  }
  if (previous) {
    for (const auto& [id, e] : previous->entries) {
      if (!applied.count(id) && !out.count(id)) out[id] = e;
    }
  }
  return out;
}

}  // namespace aiospec::cli
