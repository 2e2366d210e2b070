#include "report.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "aiospec/conformance/freshness.hpp"
#include "aiospec/conformance/runner.hpp"
#include "aiospec/conformance/summary.hpp"
#include "aiospec/oracle/cpython.hpp"
#include "aiospec/ref/selectors.hpp"
#include "expectations.hpp"
#include "loops.hpp"
#include "suite_revision.hpp"

namespace aiospec::cli {

using namespace aiospec::conformance;

namespace {

// The minor version of the Python a host runs on ("3.11"), or "" for a host in another language.
std::string own_python(const protocol::Implementation& impl) {
  if (impl.language != "python") return "";
  const auto first = impl.language_version.find('.');
  const auto second = impl.language_version.find('.', first + 1);
  return first == std::string::npos ? "" : impl.language_version.substr(0, second);
}

// A Python loop host that does not imitate versions runs on one Python, whose asyncio (Task,
// Future, gather, wait_for, ...) is that version's. Where CPython `version` and the host's own
// version disagree on a scenario's trace, the other version's trace describes another asyncio,
// not this loop: the result is SKIP, with that reason; so is a scenario outside the host's own
// version's python range, and one where the host's patch release of its minor version is known
// to differ from the traces (blessed with a later patch release: aiospec_oracle/patches.py).
// nullopt when the two agree (or either has no trace), and the loop is judged against `version`
// as against its own.
class OtherAsyncio {
 public:
  OtherAsyncio(std::string root, std::string own, std::map<std::string, std::string> patch_differences)
      : root_(std::move(root)), own_(std::move(own)), patch_differences_(std::move(patch_differences)) {}

  std::optional<Outcome> verdict(const Scenario& s, const std::string& version) {
    if (const auto known = patch_differences_.find(s.id); known != patch_differences_.end()) {
      Outcome o;
      o.status = Status::skip;
      o.reason = "this host's asyncio is " + known->second;
      return o;
    }
    if (own_.empty() || version == own_) return std::nullopt;
    if (!s.applies_to(own_)) {
      // An API or behaviour of other versions (cancelling() is 3.11+): this asyncio has not got it.
      Outcome o;
      o.status = Status::skip;
      o.reason = "the scenario is not for CPython " + own_ + ", whose asyncio this host runs";
      return o;
    }
    const auto mine = events(s.id, own_);
    const auto theirs = events(s.id, version);
    if (!mine || !theirs || *mine == *theirs) return std::nullopt;
    Outcome o;
    o.status = Status::skip;
    o.reason = "CPython " + version + "'s trace differs from CPython " + own_ + "'s, whose asyncio this host runs";
    return o;
  }

 private:
  const std::vector<Event>* events(const std::string& id, const std::string& version) {
    const auto key = std::make_pair(id, version);
    auto it = cache_.find(key);
    if (it == cache_.end()) {
      std::optional<std::vector<Event>> read;
      try {
        read = read_trace_file(expected_trace_path(root_, version, id)).events;
      } catch (const std::exception&) {
        // no usable trace: judging decides what that means
      }
      it = cache_.emplace(key, std::move(read)).first;
    }
    return it->second ? &*it->second : nullptr;
  }

  std::string root_, own_;
  std::map<std::string, std::string> patch_differences_;
  std::map<std::pair<std::string, std::string>, std::optional<std::vector<Event>>> cache_;
};

std::string joined(const std::vector<std::string>& items, const char* separator = ", ") {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

// Runs of one scenario in real time: all alike, or FLAKY (never PASS) saying how they differed.
// What makes two runs' outcomes the same: the status and where the trace diverged, not the actual
// values there. In real time those are clock readings (`actual 1.5078`, `extra event {"t":
// 0.0045…`) that differ from run to run while the loop does the same thing every time.
std::string outcome_key(const Outcome& o) {
  std::string key = std::string(to_string(o.status)) + " " + o.reason;
  if (o.status != Status::fail) return key;
  for (const char* cut : {", actual ", ": extra event"}) {
    const std::size_t at = key.find(cut);
    if (at != std::string::npos) return key.substr(0, at + std::string(cut).size());
  }
  return key;
}

Outcome combine(std::vector<Outcome> runs) {
  bool alike = true;
  for (const auto& o : runs) alike &= outcome_key(o) == outcome_key(runs[0]);
  if (alike) return std::move(runs[0]);
  Outcome flaky;
  flaky.status = Status::flaky;
  std::vector<std::string> statuses;
  for (const auto& o : runs) statuses.push_back(to_string(o.status));
  flaky.reason = "runs disagree: " + joined(statuses);
  for (auto& o : runs) {
    if (o.status != Status::pass) {
      flaky.reason += "; " + std::string(to_string(o.status)) + ": " + o.reason;
      flaky.diff = o.diff;
      flaky.actual = std::move(o.actual);
      break;
    }
  }
  return flaky;
}

// Everything about one judged result that the tables, the failures and the JSON need.
struct Result {
  const Scenario* scenario;
  std::size_t loop;  // index in loops
  std::string version;
  Outcome outcome;        // after expectations
  std::string raw;        // the status before expectations
  std::string expected;   // the applicable expectation's status, or ""
  std::string expected_reason, upstream;  // and why, from the expectation file
};

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
  const bool reference = is_reference(options.loop);
  if (!reference && !options.backends.empty()) {
    std::cerr << "aiospec report: --backend is for --loop reference (a host serves one loop)\n";
    return 2;
  }
  const std::vector<std::string> backends = options.backends.empty() ? ref::available_backends() : options.backends;

  auto started = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<LoopUnderTest>> loops;
  try {
    loops = make_loops(options.loop, backends, "");
  } catch (const LoopSpecError& e) {
    std::cerr << "aiospec report: " << e.what() << "\n";
    return 2;
  } catch (const HostFailure& e) {
    // The host's own line says why (a factory that cannot be imported, ...); else what we saw.
    std::cerr << "aiospec report: " << (e.stderr_line().empty() ? e.what() : e.stderr_line()) << "\n";
    return 2;
  }

  // Expectation files, one per loop: the one given, or the loop's own when it exists.
  std::vector<std::optional<ExpectationFile>> expectations(loops.size());
  for (std::size_t li = 0; li < loops.size(); ++li) {
    const std::string& name = loops[li]->implementation().name;
    const std::string path = options.expectations.empty() ? default_expectation_path(name) : options.expectations;
    if (!options.expectations.empty() || std::filesystem::exists(path)) {
      if (!std::filesystem::exists(path)) {
        if (options.update_expectations) continue;  // to be written
        std::cerr << "aiospec report: " << path << ": no such expectation file\n";
        return 2;
      }
      try {
        expectations[li] = read_expectations(path);
      } catch (const ExpectationError& e) {
        std::cerr << e.what() << "\n";
        return 2;
      }
      if (expectations[li]->loop != name) {
        std::cerr << "aiospec report: " << path << " is the expectation file of " << expectations[li]->loop
                  << ", not of " << name << "\n";
        return 2;
      }
    }
  }

  const std::string time = loops.front()->implementation().time;
  const bool real = time == "real";
  const int runs = options.loop.runs.value_or(real ? 3 : 1);
  const std::optional<double> tolerance = real ? std::optional<double>(options.loop.tolerance) : std::nullopt;

  std::vector<Result> results;
  for (std::size_t li = 0; li < loops.size(); ++li) {
    LoopUnderTest& loop = *loops[li];
    const auto& impl = loop.implementation();
    const bool one_asyncio = !impl.versioned && !own_python(impl).empty();
    OtherAsyncio other_asyncio(options.expected_root, one_asyncio ? own_python(impl) : "",
                               one_asyncio ? oracle::CPython::instance().patch_differences(impl.language_version, impl.runtime)
                                           : std::map<std::string, std::string>{});
    for (const Scenario& s : scenarios) {
      // A host that does not imitate versions runs each scenario `runs` times in all, and each run
      // is judged against every version: the runs are kept across versions.
      std::vector<Outcome> shared;
      for (const auto& version : versions) {
        std::vector<Outcome> judged;
        if (auto skip = other_asyncio.verdict(s, version)) {
          judged.push_back(std::move(*skip));
        } else {
          for (int r = 0; r < runs; ++r) {
            auto run = [&]() -> Outcome {
              if (impl.versioned) return loop.run(s, version);
              while (shared.size() <= static_cast<std::size_t>(r)) shared.push_back(loop.run(s, version));
              return shared[static_cast<std::size_t>(r)];
            };
            judged.push_back(judge_with(impl.features, run, s, options.expected_root, version,
                                        {"expected (cpython-" + version + ")", "actual (" + impl.name + ")"},
                                        options.color, tolerance));
            // What stands without running stands for every run.
            const Status st = judged.back().status;
            if (st == Status::unsupported || st == Status::skip || st == Status::stale) break;
          }
        }
        Result result{&s, li, version, combine(std::move(judged)), "", "", "", ""};
        result.raw = to_string(result.outcome.status);
        if (expectations[li]) {
          if (const Expectation* e = applicable(*expectations[li], s.id, version, time)) {
            result.expected = e->status;
            result.expected_reason = e->reason;
            result.upstream = e->upstream;
            apply(*e, result.outcome);
          }
        }
        results.push_back(std::move(result));
      }
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  // ---- tables
  Table table;
  bool any_expectation = false;
  for (const auto& e : expectations) any_expectation |= e.has_value();
  for (const auto& r : results) {
    const Status st = r.outcome.status;
    if (st == Status::flaky || st == Status::xfail || st == Status::xpass) any_expectation = true;
  }
  if (any_expectation || runs > 1) table.columns = std::size(kSummaryColumns);
  auto column = [&](std::size_t li) { return reference ? loops[li]->backend() : loops[li]->implementation().name; };
  for (std::size_t li = 0; li < loops.size(); ++li) table.width = std::max<int>(table.width, int(column(li).size()));
  const std::string second = reference ? "backend" : "loop";

  std::map<std::pair<std::size_t, std::size_t>, Tally> by_version;  // (index in versions, loop)
  std::map<std::pair<std::string, std::size_t>, Tally> by_area;     // (area, loop), all versions
  std::map<std::string, Tally> by_level;  // must: what the docs promise; cpython: CPython's choices
  Tally total;
  int exit = 0;
  std::string failures;
  // Known differences, one line per scenario and loop: the versions, the first divergence of the
  // first of them, the expectation's reason. A loop author sees them without opening the JSON.
  std::vector<std::string> xfail_order;
  std::map<std::string, std::pair<std::vector<std::string>, std::string>> xfails;
  for (const auto& r : results) {
    const std::size_t vi = std::find(versions.begin(), versions.end(), r.version) - versions.begin();
    by_version[{vi, r.loop}].add(r.outcome.status);
    by_area[{r.scenario->area, r.loop}].add(r.outcome.status);
    by_level[r.scenario->level].add(r.outcome.status);
    total.add(r.outcome.status);
    // A host that crashes, hangs or errs on a scenario has given that scenario's result (ERROR;
    // spec/PROTOCOL.md: one bad scenario never ends a run): an unexpected result, exit 1 like a
    // FAIL. In-process, an interpreter fault stays 3: it is the suite's own bug.
    const int code = exit_code(r.outcome);
    exit = worse_exit(exit, !reference && code == 3 ? 1 : code);
    if (r.outcome.status == Status::xfail) {
      const std::string key = r.scenario->path + " (" + r.scenario->id + ") on " + loops[r.loop]->implementation().name;
      auto [it, added] = xfails.try_emplace(key);
      if (added) {
        xfail_order.push_back(key);
        it->second.second = r.outcome.reason + "\n  expected: " + r.expected_reason;
      }
      it->second.first.push_back(r.version);
    }
    if (is_failure(r.outcome.status)) {
      failures += "\n" + std::string(to_string(r.outcome.status)) + " " + r.scenario->path + " (" + r.scenario->id +
                  ") on " + loops[r.loop]->implementation().name + " against cpython-" + r.version + "\n" +
                  r.outcome.reason + "\n" + r.outcome.diff;
    }
  }

  const auto& first = loops.front()->implementation();
  if (reference) {
    std::cout << "aiospec conformance: aiospec-reference (virtual time), " << scenarios.size() << " scenarios x "
              << backends.size() << " backends x " << versions.size() << " CPython versions (" << joined(versions)
              << ")\n";
  } else {
    std::cout << "aiospec conformance: " << first.name << " " << first.version << " (" << first.time << " time, "
              << first.runtime << " " << first.language_version << ", --loop " << options.loop.spec << "), "
              << scenarios.size() << " scenarios x " << versions.size() << " CPython versions (" << joined(versions)
              << ")" << (runs > 1 ? ", " + std::to_string(runs) + " runs each" : "") << "\n";
  }
  for (std::size_t li = 0; li < loops.size(); ++li) {
    if (expectations[li]) std::cout << "expectations of " << column(li) << ": " << expectations[li]->path << "\n";
  }
  std::cout << "single-version commands (diff against committed traces, conformance_tests --python) default to "
            << kDefaultProfile << ": " << kDefaultProfileWhy << "\n";
  if (reference) {
    // A backend the kernel refuses is UNSUPPORTED in every row below; the reason once, here.
    for (const auto& b : backends) {
      if (auto why = ref::why_unavailable(b)) std::cout << "backend " << b << ": UNSUPPORTED: " << *why << "\n";
    }
  }
  std::cout << "\n";
  std::cout << table.header("cpython", second) << "\n";
  for (const auto& [key, tally] : by_version) std::cout << table.row(versions[key.first], column(key.second), tally) << "\n";
  std::cout << "\n" << table.header("area", second) << "   (all versions)\n";
  for (const auto& [key, tally] : by_area) std::cout << table.row(key.first, column(key.second), tally) << "\n";
  std::cout << table.row("total", "", total) << "\n\n";
  for (const auto& [level, tally] : by_level) std::cout << table.row("level " + level, "", tally) << "\n";
  if (!xfail_order.empty()) std::cout << "\nknown differences (XFAIL: listed in the expectation file, not failures)\n";
  for (const auto& key : xfail_order) {
    const auto& [xversions, text] = xfails.at(key);
    std::cout << "XFAIL " << key << " against cpython-" << joined(xversions) << "\n  " << text << "\n";
  }
  if (!failures.empty()) std::cout << failures;
  std::cout << closing_line(total, table.columns > kBaseColumns, seconds);

  // ---- JSON
  if (!options.json_path.empty()) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& r : results) {
      const Scenario& s = *r.scenario;
      const Expectation* e = expectations[r.loop] ? applicable(*expectations[r.loop], s.id, r.version, time) : nullptr;
      nlohmann::json item = result_record(s, loops[r.loop]->implementation().name, r.version, time, r.outcome, r.raw, e);
      if (reference) item["backend"] = loops[r.loop]->backend();
      items.push_back(std::move(item));
    }
    std::vector<std::string> names, used;
    for (std::size_t li = 0; li < loops.size(); ++li) {
      names.push_back(loops[li]->implementation().name);
      if (expectations[li]) used.push_back(expectations[li]->path);
    }
    const std::string interpreter = interpreter_of(options.loop);
    nlohmann::json run_info = {{"loop", loops.size() == 1 ? first.name : std::string("aiospec-reference")},
                               {"loops", names},
                               {"loop_version", first.version},
                               {"producer", first.producer},
                               {"language", first.language},
                               {"language_version", first.language_version},
                               {"runtime", first.runtime},
                               {"time", time},
                               {"spec", options.loop.spec},
                               {"interpreter", interpreter.empty() ? nlohmann::json(nullptr) : nlohmann::json(interpreter)},
                               {"cpython", versions},
                               {"default_cpython", kDefaultProfile},
                               {"suite_revision", suite_revision(AIOSPEC_SOURCE_DIR)},
                               {"scenarios", scenarios.size()},
                               {"runs", runs},
                               {"seconds", seconds},
                               {"expectations", used.empty() ? nlohmann::json(nullptr) : nlohmann::json(joined(used))}};
    if (reference) run_info["backends"] = backends;
    nlohmann::json doc = {{"format", "aiospec-report/2"}, {"run_info", run_info}, {"results", items}};
    std::ofstream out(options.json_path);
    if (!out) {
      std::cerr << "aiospec report: cannot write " << options.json_path << "\n";
      return 2;
    }
    out << doc.dump(2, ' ', true) << "\n";
  }

  // ---- --update-expectations
  if (options.update_expectations) {
    for (std::size_t li = 0; li < loops.size(); ++li) {
      const std::string& name = loops[li]->implementation().name;
      std::vector<RunResult> failed;
      std::map<std::string, std::vector<std::string>> judged;
      std::set<std::string> applied;
      for (const auto& r : results) {
        if (r.loop != li) continue;
        if (r.raw != "SKIP" && r.raw != "UNSUPPORTED" && r.raw != "STALE") judged[r.scenario->id].push_back(r.version);
        if (!r.expected.empty()) applied.insert(r.scenario->id);
        failed.push_back({r.scenario->id, r.version, r.raw});
      }
      const ExpectationFile* previous = expectations[li] ? &*expectations[li] : nullptr;
      const std::string path = options.expectations.empty() ? default_expectation_path(name) : options.expectations;
      std::error_code ec;
      std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
      std::ofstream out(path);
      if (!out) {
        std::cerr << "aiospec report: cannot write " << path << "\n";
        return 2;
      }
      const auto entries = updated_expectations(failed, judged, previous, applied);
      out << render_expectations(name, entries);
      std::cout << "wrote " << path << " (" << entries.size() << " expectations)\n";
    }
  }
  return exit;
}

}  // namespace aiospec::cli
