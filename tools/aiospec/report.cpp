#include "report.hpp"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>

#include <nlohmann/json.hpp>

#include "aiospec/conformance/freshness.hpp"
#include "aiospec/conformance/reference_adapter.hpp"
#include "aiospec/conformance/runner.hpp"
#include "aiospec/ref/selectors.hpp"

namespace aiospec::cli {

using namespace aiospec::conformance;

namespace {

struct Tally {
  int pass = 0, fail = 0, error = 0, stale = 0, unsupported = 0, skip = 0;
  void add(Status s) {
    switch (s) {
      case Status::pass: ++pass; break;
      case Status::fail: ++fail; break;
      case Status::error: ++error; break;
      case Status::stale: ++stale; break;
      case Status::unsupported: ++unsupported; break;
      case Status::skip: ++skip; break;
      default: break;
    }
  }
};

constexpr const char* kHeader = "passed  failed  errors  stale  unsupported  skipped";

std::string row(const std::string& first, const std::string& second, const Tally& t) {
  char line[200];
  std::snprintf(line, sizeof line, "%-14s %-8s %6d %7d %7d %6d %12d %8d", first.c_str(), second.c_str(), t.pass, t.fail,
                t.error, t.stale, t.unsupported, t.skip);
  return line;
}

std::string joined(const std::vector<std::string>& items, const char* separator = ", ") {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

}  // namespace

int report(const ReportOptions& options) {
  std::vector<Scenario> scenarios;
  try {
    scenarios = read_bundle(options.bundle);
  } catch (const std::exception& e) {
    std::cerr << "aiospec report: " << e.what() << "\n";
    return 2;
  }
  if (!options.source_root.empty()) {
    if (auto stale = stale_bundle(options.bundle, scenarios, options.source_root,
                                  "rebuild it first (`make`, or `cmake --build build`)")) {
      std::cerr << "aiospec report: " << *stale << "\n";
      return 2;
    }
  }
  const std::vector<std::string> available = versions_with_traces(options.expected_root);
  std::vector<std::string> versions = options.versions.empty() ? available : options.versions;
  for (const auto& v : versions) {
    bool known = false;
    for (const auto& a : available) known |= a == v;
    if (!known) {
      std::cerr << "aiospec report: no traces for CPython " << v << " under " << options.expected_root
                << " (have: " << joined(available) << ")\n";
      return 2;
    }
  }
  if (versions.empty()) {
    std::cerr << "aiospec report: no traces under " << options.expected_root << " (run `make bless`)\n";
    return 2;
  }
  const std::vector<std::string> backends = options.backends.empty() ? ref::available_backends() : options.backends;

  auto started = std::chrono::steady_clock::now();
  std::map<std::pair<std::size_t, std::string>, Tally> by_version;  // (index in versions, backend)
  std::map<std::pair<std::string, std::string>, Tally> by_area;     // (area, backend), all versions
  std::map<std::string, Tally> by_level;  // must: what the docs promise; cpython: CPython's choices
  Tally total;
  int exit = 0;
  nlohmann::json results = nlohmann::json::array();
  std::string failures;
  for (std::size_t vi = 0; vi < versions.size(); ++vi) {
    const std::string& version = versions[vi];
    for (const auto& backend : backends) {
      ReferenceAdapter adapter(backend, ref::Profile::for_version(version));
      for (const auto& s : scenarios) {
        Outcome o = judge(adapter, s, options.expected_root, version, options.color);
        by_version[{vi, backend}].add(o.status);
        by_area[{s.area, backend}].add(o.status);
        by_level[s.level].add(o.status);
        total.add(o.status);
        exit = worse_exit(exit, exit_code(o));
        results.push_back({{"scenario", s.id},
                           {"path", s.path},
                           {"area", s.area},
                           {"level", s.level},
                           {"loop", adapter.name()},
                           {"backend", backend},
                           {"cpython", version},
                           {"status", to_string(o.status)},
                           {"message", o.reason}});
        if (o.status == Status::fail || o.status == Status::error || o.status == Status::stale) {
          failures += "\n" + std::string(to_string(o.status)) + " " + s.path + " (" + s.id + ") on " + adapter.name() +
                      " against cpython-" + version + "\n" + o.reason + "\n" + o.diff;
        }
      }
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  std::cout << "aiospec conformance: aiospec-reference, " << scenarios.size() << " scenarios x " << backends.size()
            << " backends x " << versions.size() << " CPython versions (" << joined(versions) << ")\n";
  std::cout << "single-version commands (diff against committed traces, conformance_tests --python) default to "
            << kDefaultProfile << ": " << kDefaultProfileWhy << "\n\n";
  std::cout << "cpython        backend  " << kHeader << "\n";
  for (const auto& [key, tally] : by_version) std::cout << row(versions[key.first], key.second, tally) << "\n";
  std::cout << "\narea           backend  " << kHeader << "   (all versions)\n";
  for (const auto& [key, tally] : by_area) std::cout << row(key.first, key.second, tally) << "\n";
  std::cout << row("total", "", total) << "\n\n";
  for (const auto& [level, tally] : by_level) std::cout << row("level " + level, "", tally) << "\n";
  if (!failures.empty()) std::cout << failures;
  char closing[200];
  std::snprintf(closing, sizeof closing,
                "\nconformance: %d passed, %d failed, %d errors, %d stale, %d unsupported, %d skipped in %.2f s\n",
                total.pass, total.fail, total.error, total.stale, total.unsupported, total.skip, seconds);
  std::cout << closing;

  if (!options.json_path.empty()) {
    nlohmann::json doc = {{"format", "aiospec-report/1"},
                          {"run_info",
                           {{"implementation", "aiospec-reference"},
                            {"backends", backends},
                            {"cpython", versions},
                            {"default_cpython", kDefaultProfile},
                            {"scenarios", scenarios.size()},
                            {"seconds", seconds}}},
                          {"results", results}};
    std::ofstream out(options.json_path);
    if (!out) {
      std::cerr << "aiospec report: cannot write " << options.json_path << "\n";
      return 2;
    }
    out << doc.dump(2) << "\n";
  }
  return exit;
}

}  // namespace aiospec::cli
