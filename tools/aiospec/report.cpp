#include "report.hpp"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "aiospec/conformance/reference_adapter.hpp"
#include "aiospec/conformance/runner.hpp"
#include "aiospec/ref/selectors.hpp"

namespace aiospec::cli {

using namespace aiospec::conformance;

namespace {

struct Tally {
  int pass = 0, fail = 0, unsupported = 0, skip = 0;
  void add(Status s) {
    switch (s) {
      case Status::pass: ++pass; break;
      case Status::fail:
      case Status::error: ++fail; break;
      case Status::unsupported: ++unsupported; break;
      case Status::skip: ++skip; break;
    }
  }
};

std::string row(const std::string& area, const std::string& backend, const Tally& t) {
  char line[160];
  std::snprintf(line, sizeof line, "%-12s %-8s %7d %7d %12d %8d", area.c_str(), backend.c_str(), t.pass, t.fail,
                t.unsupported, t.skip);
  return line;
}

}  // namespace

int report(const ReportOptions& options) {
  std::vector<Scenario> scenarios = read_bundle(options.bundle);
  std::string version = options.version.empty() ? kDefaultProfile : options.version;
  std::vector<std::string> backends = options.backends.empty() ? ref::available_backends() : options.backends;

  auto started = std::chrono::steady_clock::now();
  std::map<std::pair<std::string, std::string>, Tally> tallies;
  std::map<std::string, Tally> by_level;  // must: what the docs promise; cpython: CPython's choices
  Tally total;
  nlohmann::json results = nlohmann::json::array();
  std::string failures;
  for (const auto& backend : backends) {
    ReferenceAdapter adapter(backend);
    for (const auto& s : scenarios) {
      Outcome o = judge(adapter, s, options.expected_root, version, options.color);
      tallies[{s.area, backend}].add(o.status);
      by_level[s.level].add(o.status);
      total.add(o.status);
      results.push_back({{"id", s.id}, {"path", s.path}, {"area", s.area}, {"level", s.level},
                         {"backend", backend}, {"status", to_string(o.status)}, {"message", o.reason}});
      if (o.status == Status::fail || o.status == Status::error) {
        failures += "\n" + std::string(to_string(o.status)) + " " + s.path + " (" + s.id + ") on " + adapter.name() +
                    "\n" + o.reason + "\n" + o.diff;
      }
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  std::cout << "aiospec conformance: aiospec-reference against CPython " << version << " traces, " << scenarios.size()
            << " scenarios x " << backends.size() << " backends\n\n";
  std::cout << "area         backend   passed  failed  unsupported  skipped\n";
  for (const auto& [key, tally] : tallies) std::cout << row(key.first, key.second, tally) << "\n";
  std::cout << row("total", "", total) << "\n\n";
  for (const auto& [level, tally] : by_level) std::cout << row("level " + level, "", tally) << "\n";
  if (!failures.empty()) std::cout << failures;
  char closing[128];
  std::snprintf(closing, sizeof closing, "\nconformance: %d passed, %d failed, %d skipped (%d unsupported) in %.2f s\n",
                total.pass, total.fail, total.skip + total.unsupported, total.unsupported, seconds);
  std::cout << closing;

  if (!options.json_path.empty()) {
    nlohmann::json doc = {{"format", "aiospec-report/1"},
                          {"run_info",
                           {{"implementation", "aiospec-reference"},
                            {"backends", backends},
                            {"cpython_profile", version},
                            {"scenarios", scenarios.size()},
                            {"seconds", seconds}}},
                          {"results", results}};
    std::ofstream(options.json_path) << doc.dump(2) << "\n";
  }
  return total.fail == 0 ? 0 : 1;
}

}  // namespace aiospec::cli
