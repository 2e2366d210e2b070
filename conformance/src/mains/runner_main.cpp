// aiospec::runner — the conformance suite for any loop that has a LoopDescription
// (loop_description.hpp), in the loop's own build: what aiospec_add_conformance() links with the
// adapter's sources. CTest runs it once per scenario x backend x CPython version.
//
//   RUNNER --bundle F --expected DIR [--time T] [--expectations F] ...then one of:
//     --write-ctest FILE --target NAME [--backend B]... [--python V]... [--preload LIB]
//                                                           the CTest registrations (LD_PRELOAD=LIB)
//     --check-install                                                    bundle and traces agree
//     --id ID --backend B --python V                                     one test (what CTest runs)
//     --report [--json FILE] [--backend B]... [--python V]...             every test, summarised
//
// Exit status: 0 nothing unexpected (PASS, XFAIL, UNSUPPORTED, SKIP: one test prints
// "[  SKIPPED ] reason"), 1 an unexpected FAIL, ERROR, STALE or XPASS, 2 bad input (options, a
// partial install, an expectation file): one line.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "aiospec/conformance/described_loop.hpp"
#include "aiospec/conformance/expectations.hpp"
#include "aiospec/conformance/runner.hpp"
#include "aiospec/conformance/scenario.hpp"
#include "aiospec/conformance/summary.hpp"
#include "aiospec/conformance/trace.hpp"

namespace aiospec::conformance {
namespace {

struct Options {
  std::string bundle, expected, time, expectations, write_ctest, target, json, id, preload;
  std::vector<std::string> backends, versions;
  bool check_install = false, report = false;
};

struct BadInput : std::runtime_error {
  using std::runtime_error::runtime_error;
};

Options parse(int argc, char** argv) {
  Options o;
  std::string backend;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--check-install") {
      o.check_install = true;
      continue;
    }
    if (flag == "--report") {
      o.report = true;
      continue;
    }
    if (i + 1 >= argc) throw BadInput(flag + " needs a value (or is unknown)");
    const std::string value = argv[++i];
    if (flag == "--bundle") o.bundle = value;
    else if (flag == "--expected") o.expected = value;
    else if (flag == "--time") o.time = value;
    else if (flag == "--expectations") o.expectations = value;
    else if (flag == "--write-ctest") o.write_ctest = value;
    else if (flag == "--target") o.target = value;
    else if (flag == "--json") o.json = value;
    else if (flag == "--id") o.id = value;
    else if (flag == "--preload") o.preload = value;
    else if (flag == "--backend") o.backends.push_back(value);
    else if (flag == "--python") o.versions.push_back(value);
    else throw BadInput("unknown argument " + flag);
  }
  if (o.bundle.empty() || o.expected.empty()) throw BadInput("--bundle and --expected are required");
  if (o.time == "real") {
    throw BadInput("real time is judged by several runs within a tolerance: `aiospec report --loop cmd:HOST "
                   "--time real`, with HOST this loop linked with aiospec::host");
  }
  return o;
}

// A partial install (a trace missing, or blessed from another version of its scenario, or a
// bundle from another release) gives no verdicts: refused before anything runs.
void check_install(const std::vector<Scenario>& scenarios, const Options& o, const std::vector<std::string>& versions) {
  for (const auto& version : versions) {
    for (const Scenario& s : scenarios) {
      if (!s.applies_to(version)) continue;
      const std::string path = expected_trace_path(o.expected, version, s.id);
      if (!std::filesystem::exists(path)) {
        throw BadInput("the installed traces do not match the installed bundle " + o.bundle + ": " + path +
                       " is missing (a partial install: reinstall aiospec)");
      }
      Trace expected;
      if (auto standing = verdict_without_running(s, o.expected, version, expected);
          standing && standing->status != Status::skip) {
        throw BadInput("the installed traces do not match the installed bundle " + o.bundle + ": " + path + ": " +
                       standing->reason + " (a partial install: reinstall aiospec)");
      }
    }
  }
}

std::string bracket(const std::string& text) { return "[==[" + text + "]==]"; }

int write_ctest(const Options& o, const std::string& self, const std::vector<Scenario>& scenarios,
                const DescribedLoop& loop, const std::vector<std::string>& backends,
                const std::vector<std::string>& versions) {
  std::ofstream out(o.write_ctest + ".tmp");
  out << "# Written by " << self << " --write-ctest from " << o.bundle << "; do not edit.\n";
  std::string common = " --bundle " + bracket(o.bundle) + " --expected " + bracket(o.expected) + " --time " + loop.time();
  if (!o.expectations.empty()) common += " --expectations " + bracket(o.expectations);
  std::size_t count = 0;
  for (const Scenario& s : scenarios) {
    for (const auto& version : versions) {
      if (!s.applies_to(version)) continue;
      for (const auto& backend : backends) {
        const std::string name = o.target + "/" + s.area + "/" + s.id + "/" + backend + "/cpython-" + version;
        out << "add_test(" << bracket(name) << " " << bracket(self) << common << " --id " << bracket(s.id)
            << " --backend " << bracket(backend) << " --python " << version << ")\n"
            << "set_tests_properties(" << bracket(name) << " PROPERTIES LABELS "
            << bracket("conformance;" + s.area + ";" + backend + ";cpython-" + version + ";" + o.target)
            << " SKIP_REGULAR_EXPRESSION [==[\\[  SKIPPED \\]]==] TIMEOUT 60"
            << (o.preload.empty() ? "" : " ENVIRONMENT " + bracket("LD_PRELOAD=" + o.preload)) << ")\n";
        ++count;
      }
    }
  }
  out.close();
  std::filesystem::rename(o.write_ctest + ".tmp", o.write_ctest);
  std::cerr << o.target << ": " << count << " CTest tests (" << scenarios.size() << " scenarios x " << backends.size()
            << " backends x " << versions.size() << " CPython versions) -> " << o.write_ctest << "\n";
  return 0;
}

struct Judged {
  const Scenario* scenario;
  std::string backend, version, raw;
  Outcome outcome;
  const Expectation* expectation = nullptr;
};

// One loop per backend, each scenario run once per version when versioned, else once.
std::vector<Judged> judge_all(const Options& o, const std::vector<Scenario>& scenarios,
                              std::map<std::string, std::unique_ptr<DescribedLoop>>& loops,
                              const std::vector<std::string>& versions, const std::optional<ExpectationFile>& file) {
  std::vector<Judged> results;
  for (auto& [backend, loop] : loops) {
    const auto features = loop->features();
    for (const Scenario& s : scenarios) {
      if (!o.id.empty() && s.id != o.id) continue;
      std::optional<Outcome> shared;
      for (const auto& version : versions) {
        if (!o.id.empty() && !s.applies_to(version) && versions.size() > 1) continue;
        auto run = [&]() -> Outcome {
          if (loop->description().versioned) return loop->run(s, version);
          if (!shared) shared = loop->run(s, version);
          return *shared;
        };
        Judged j{&s, backend, version, "", judge_with(features, run, s, o.expected, version,
                                                      {"expected (cpython-" + version + ")", "actual (" + loop->name() + ")"},
                                                      false)};
        j.raw = to_string(j.outcome.status);
        if (file) {
          j.expectation = applicable(*file, s.id, version, loop->time());
          if (j.expectation) apply(*j.expectation, j.outcome);
        }
        results.push_back(std::move(j));
      }
    }
  }
  return results;
}

int one_test(const std::vector<Judged>& results) {
  if (results.empty()) {
    std::cerr << "aiospec runner: nothing matches --id/--backend/--python\n";
    return 2;
  }
  int exit = 0;
  for (const auto& j : results) {
    const Status st = j.outcome.status;
    std::cout << to_string(st) << " " << j.scenario->path << " (" << j.scenario->id << ") on " << j.backend
              << " against cpython-" << j.version << "\n";
    if (st == Status::skip || st == Status::unsupported) std::cout << "[  SKIPPED ] " << j.outcome.reason << "\n";
    else if (st == Status::xfail) std::cout << "known difference: " << j.expectation->reason << "\n";
    else if (!j.outcome.reason.empty()) std::cout << j.outcome.reason << "\n" << j.outcome.diff;
    if (is_failure(st)) exit = 1;
  }
  return exit;
}

int report(const Options& o, const std::vector<Judged>& results, const DescribedLoop& first, std::size_t scenarios,
           const std::vector<std::string>& versions, double seconds) {
  Table table;
  table.columns = std::size(kSummaryColumns);
  std::map<std::pair<std::string, std::string>, Tally> by_version, by_area;
  Tally total;
  std::string failures;
  for (const auto& j : results) {
    by_version[{j.version, j.backend}].add(j.outcome.status);
    by_area[{j.scenario->area, j.backend}].add(j.outcome.status);
    total.add(j.outcome.status);
    if (is_failure(j.outcome.status)) {
      failures += "\n" + std::string(to_string(j.outcome.status)) + " " + j.scenario->path + " (" + j.scenario->id +
                  ") on " + j.backend + " against cpython-" + j.version + "\n" + j.outcome.reason + "\n" + j.outcome.diff;
    }
  }
  std::cout << "aiospec conformance: " << first.description().name << " " << first.description().version << " ("
            << first.time() << " time), " << scenarios << " scenarios, CPython";
  for (const auto& v : versions) std::cout << " " << v;
  std::cout << "\n\n" << table.header("cpython", "backend") << "\n";
  for (const auto& [key, tally] : by_version) std::cout << table.row(key.first, key.second, tally) << "\n";
  std::cout << "\n" << table.header("area", "backend") << "   (all versions)\n";
  for (const auto& [key, tally] : by_area) std::cout << table.row(key.first, key.second, tally) << "\n";
  std::cout << table.row("total", "", total) << "\n" << failures << closing_line(total, true, seconds);
  if (!o.json.empty()) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& j : results) {
      auto item = result_record(*j.scenario, first.name(), j.version, first.time(), j.outcome, j.raw, j.expectation);
      item["backend"] = j.backend;
      items.push_back(std::move(item));
    }
    nlohmann::json run_info = {{"loop", first.description().name},
                               {"loop_version", first.description().version},
                               {"language", "c++"},
                               {"runtime", "native"},
                               {"time", first.time()},
                               {"cpython", versions},
                               {"scenarios", scenarios},
                               {"runs", 1},
                               {"seconds", seconds},
                               {"expectations", o.expectations.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.expectations)}};
    std::ofstream out(o.json);
    if (!out) throw BadInput("cannot write " + o.json);
    out << nlohmann::json({{"format", "aiospec-report/2"}, {"run_info", run_info}, {"results", items}}).dump(2, ' ', true)
        << "\n";
  }
  for (const auto& j : results) {
    if (is_failure(j.outcome.status)) return 1;
  }
  return 0;
}

int run(int argc, char** argv) {
  const Options o = parse(argc, argv);
  const std::vector<Scenario> scenarios = [&] {
    try {
      return read_bundle(o.bundle);
    } catch (const std::exception& e) {
      throw BadInput(e.what());
    }
  }();
  const std::vector<std::string> available = versions_with_traces(o.expected);
  if (available.empty()) throw BadInput("no traces under " + o.expected + " (a partial install: reinstall aiospec)");
  for (const auto& v : o.versions) {
    if (std::find(available.begin(), available.end(), v) == available.end()) {
      std::string have;
      for (const auto& a : available) have += " " + a;
      throw BadInput("no traces for CPython " + v + " under " + o.expected + " (have:" + have + ")");
    }
  }
  const std::vector<std::string> versions = o.versions.empty() ? available : o.versions;

  const LoopDescription description = describe_loop();
  const std::vector<std::string> backends = o.backends.empty() ? description.backends : o.backends;
  std::map<std::string, std::unique_ptr<DescribedLoop>> loops;
  for (const auto& b : backends) {
    try {
      loops[b] = std::make_unique<DescribedLoop>(description, b, o.time);
    } catch (const DescriptionError& e) {
      throw BadInput(e.what());
    }
  }
  if (o.check_install || !o.write_ctest.empty()) check_install(scenarios, o, versions);
  if (o.check_install) {
    std::cout << "aiospec runner: " << o.bundle << " and the traces of CPython";
    for (const auto& v : versions) std::cout << " " << v;
    std::cout << " agree (" << scenarios.size() << " scenarios)\n";
    return 0;
  }
  if (!o.write_ctest.empty()) {
    if (o.target.empty()) throw BadInput("--write-ctest needs --target NAME");
    return write_ctest(o, argv[0], scenarios, *loops.begin()->second, backends, versions);
  }
  std::optional<ExpectationFile> file;
  if (!o.expectations.empty()) {
    try {
      file = read_expectation_file(o.expectations);
    } catch (const ExpectationError& e) {
      throw BadInput(e.what());
    }
    if (file->loop != loops.begin()->second->name()) {
      throw BadInput(o.expectations + " is the expectation file of " + file->loop + ", not of " +
                     loops.begin()->second->name());
    }
  }
  for (auto& [b, loop] : loops) {
    try {
      loop->probe();
    } catch (const std::exception& e) {
      throw BadInput(e.what());
    }
  }
  const auto started = std::chrono::steady_clock::now();
  const auto results = judge_all(o, scenarios, loops, versions, file);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (o.report) return report(o, results, *loops.begin()->second, scenarios.size(), versions, seconds);
  if (o.id.empty()) throw BadInput("give --id ID (one test), --report, --write-ctest FILE or --check-install");
  return one_test(results);
}

}  // namespace
}  // namespace aiospec::conformance

int main(int argc, char** argv) {
  try {
    return aiospec::conformance::run(argc, argv);
  } catch (const aiospec::conformance::BadInput& e) {
    std::cerr << "aiospec runner: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "aiospec runner: " << e.what() << "\n";
    return 3;
  }
}
