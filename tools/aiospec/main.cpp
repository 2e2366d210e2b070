// aiospec: the command line of the conformance suite.
//
//   aiospec diff SCENARIO.yaml [--backend poll|select|all] [--python X.Y] [--color] [--mutant NAME]
//                                                                  CPython (live) vs the reference loop
//   aiospec run SCENARIO.yaml [--loop cpython|reference|SPEC] [--backend B]  print one trace
//   aiospec report [--loop SPEC] [--python X.Y]... [--backend B]... [--json FILE] ...
//                                                                  the whole suite, every version
//   aiospec diff SCENARIO.yaml --loop SPEC                          CPython (live) vs any loop
//   aiospec lint | bless | compile | next-id | show | fresh ...     the spec tools (tools/aiospec_spec)
//
// Exit codes: 0 identical / clean, 1 different (a budget stop or stale trace included), 2 bad input,
// 3 a loop, the interpreter or the oracle failed to run it.
#include <unistd.h>

#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "aiospec/conformance/interpreter.hpp"
#include "aiospec/conformance/reference_adapter.hpp"
#include "aiospec/conformance/runner.hpp"
#include "aiospec/oracle/cpython.hpp"
#include "aiospec/ref/selectors.hpp"
#include "mutants/mutants.hpp"
#include "fuzz.hpp"
#include "loop_spec.hpp"
#include "loops.hpp"
#include "report.hpp"

namespace aiospec::cli {

using namespace aiospec::conformance;

namespace {

constexpr int kSame = 0, kDifferent = 1, kBadInput = 2, kFailedToRun = 3;

struct Args {
  std::vector<std::string> positional;
  std::vector<std::pair<std::string, std::string>> options;
  std::vector<std::string> flags;

  std::string get(const std::string& name, const std::string& fallback = {}) const {
    for (const auto& [k, v] : options) {
      if (k == name) return v;
    }
    return fallback;
  }
  std::vector<std::string> all(const std::string& name) const {
    std::vector<std::string> out;
    for (const auto& [k, v] : options) {
      if (k == name) out.push_back(v);
    }
    return out;
  }
  bool has(const std::string& flag) const {
    for (const auto& f : flags) {
      if (f == flag) return true;
    }
    return false;
  }
};

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

Args parse(int argc, char** argv, const std::vector<std::string>& valued, const std::vector<std::string>& boolean) {
  Args args;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto is = [&](const std::vector<std::string>& names) {
      for (const auto& n : names) {
        if (n == a) return true;
      }
      return false;
    };
    if (is(valued)) {
      if (i + 1 >= argc) throw UsageError(a + " needs a value");
      args.options.emplace_back(a, argv[++i]);
    } else if (is(boolean)) {
      args.flags.push_back(a);
    } else if (a.rfind("--", 0) == 0) {
      throw UsageError("unknown option " + a);
    } else {
      args.positional.push_back(a);
    }
  }
  return args;
}

bool want_color(const Args& args) {
  std::string mode = args.get("--color-mode", args.has("--color") ? "always" : args.has("--no-color") ? "never" : "auto");
  return mode == "always" || (mode == "auto" && isatty(STDOUT_FILENO));
}

std::vector<std::string> backends_of(const Args& args) {
  auto chosen = args.all("--backend");
  if (chosen.empty()) return {"poll"};
  if (chosen.size() == 1 && chosen[0] == "all") return ref::available_backends();
  for (const auto& b : chosen) {
    bool known = false;
    for (const auto& a : ref::available_backends()) known |= a == b;
    if (!known) throw UsageError("unknown backend '" + b + "'");
  }
  return chosen;
}

// One line for an outcome that is not PASS, then the diff when there is one.
void print_outcome(const Scenario& scenario, const std::string& loop, const Outcome& o) {
  std::cout << scenario.path << " (" << scenario.id << ") on " << loop << ": ";
  if (o.status != Status::fail) std::cout << to_string(o.status) << ": ";
  std::cout << o.reason << "\n" << o.diff;
}

// The options of --loop (loop_spec.hpp), shared by report and diff.
const std::vector<std::string> kLoopValued = {"--loop", "--interpreter", "--time", "--timeout", "--runs", "--scale",
                                              "--tolerance"};

double number(const Args& args, const std::string& name, double fallback) {
  const std::string text = args.get(name);
  if (text.empty()) return fallback;
  try {
    std::size_t used = 0;
    const double value = std::stod(text, &used);
    if (used == text.size()) return value;
  } catch (const std::exception&) {
  }
  throw UsageError(name + " takes a number, not '" + text + "'");
}

LoopOptions loop_options(const Args& args) {
  LoopOptions o;
  o.spec = args.get("--loop", "reference");
  o.interpreter = args.get("--interpreter");
  o.time = args.get("--time", "auto");
  o.pure_python = args.has("--pure-python");
  o.timeout = number(args, "--timeout", o.timeout);
  if (!args.get("--runs").empty()) {
    const double runs = number(args, "--runs", 1);
    if (runs != static_cast<int>(runs)) throw UsageError("--runs takes a whole number");
    o.runs = static_cast<int>(runs);
  }
  if (!args.get("--scale").empty()) o.scale = number(args, "--scale", 0);
  o.tolerance = number(args, "--tolerance", o.tolerance);
  return o;
}

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Builds the loops of --loop (the reference on each backend, with --mutant one of its mutants, or
// one host); on failure prints the one line and gives nothing: exit 2.
std::vector<std::unique_ptr<LoopUnderTest>> loops_for(const char* command, const LoopOptions& options,
                                                      const std::vector<std::string>& backends, const std::string& mutant) {
  try {
    return make_loops(options, backends, mutant);
  } catch (const LoopSpecError& e) {
    std::cerr << "aiospec " << command << ": " << e.what() << "\n";
  } catch (const HostFailure& e) {
    std::cerr << "aiospec " << command << ": " << (e.stderr_line().empty() ? e.what() : e.stderr_line()) << "\n";
  }
  return {};
}

int diff(const Args& args) {
  if (args.positional.size() != 1) throw UsageError("diff takes one scenario file");
  const LoopOptions options = loop_options(args);
  try {
    validate(options);
  } catch (const LoopSpecError& e) {
    std::cerr << "aiospec diff: " << e.what() << "\n";  // one line, as report says it
    return kBadInput;
  }
  if (!is_reference(options) && !args.all("--backend").empty()) throw UsageError("--backend is for --loop reference");
  if (!is_reference(options) && !args.get("--mutant").empty()) {
    throw UsageError("--mutant is for --loop reference (a host serves its own loop: aiospec-host --mutant NAME)");
  }
  if (const std::string m = args.get("--mutant"); !m.empty() && !mutants::find(m)) {
    throw UsageError("unknown mutant '" + m + "'; known:" + mutants::names());
  }
  const auto backends = is_reference(options) ? backends_of(args) : std::vector<std::string>{};
  auto& py = oracle::CPython::instance();
  auto loaded = py.load_scenario(args.positional[0]);
  Scenario scenario = Scenario::from_canonical(loaded.canonical, loaded.path, loaded.area, loaded.sha256);
  // The live oracle is the CPython aiospec embeds; another version is judged by its committed
  // trace (which must be fresh: blessed from this very scenario).
  const std::string version = args.get("--python", py.minor_version());
  std::string producer = "cpython-" + py.version();
  Trace expected;
  if (version != py.minor_version()) {
    // The versions without an oracle for this scenario (spec/oracles.yaml) travel in the bundle;
    // a bundle that cannot be read (not built yet) leaves the verdict to the traces alone.
    try {
      for (auto& s : read_bundle(args.get("--bundle", AIOSPEC_DEFAULT_BUNDLE))) {
        if (s.id == scenario.id) scenario.no_oracle = std::move(s.no_oracle);
      }
    } catch (const std::runtime_error&) {
    }
    if (auto verdict = verdict_without_running(scenario, args.get("--expected", AIOSPEC_DEFAULT_EXPECTED), version,
                                               expected)) {
      std::cout << scenario.path << ": " << to_string(verdict->status) << ": " << verdict->reason << "\n";
      return exit_code(*verdict);
    }
    producer = expected.producer.empty() ? "cpython-" + version : expected.producer;
  } else if (!scenario.applies_to(version)) {
    std::cout << scenario.path << ": SKIP: the scenario does not apply to CPython " << version << "\n";
    return kSame;
  } else {
    expected = parse_trace_file(py.run(loaded.canonical).dump());
  }
  const auto loops = loops_for("diff", options, backends, args.get("--mutant"));
  if (loops.empty()) return kBadInput;
  int status = kSame;
  for (const auto& loop : loops) {
    const auto& impl = loop->implementation();
    if (auto missing = missing_features(impl.features, scenario); !missing.empty()) {
      std::cout << scenario.path << ": UNSUPPORTED on " << impl.name << ": needs";
      for (const auto& f : missing) std::cout << " " << f;
      std::cout << " (nothing to compare)\n";
      continue;
    }
    // Compared as report compares (with the tolerance in real time). In real time, the declared
    // exception to determinism, a run that differs is retried: up to --runs attempts (3 unless
    // told), the first identical one passes and the output says which attempt it was. Report
    // judges the other way round (all runs alike, or FLAKY); diff answers "can it match at all".
    const bool real = impl.time == "real";
    const std::optional<double> tolerance = real ? std::optional<double>(options.tolerance) : std::nullopt;
    const int attempts = real ? options.runs.value_or(3) : 1;
    // Against the live oracle a versioned loop imitates its very patch release ("3.11.2").
    const std::string imitated = version == py.minor_version() ? py.version() : version;
    Outcome o;
    int attempt = 0;
    do {
      ++attempt;
      o = judge_run(expected, loop->run(scenario, imitated),
                    {"expected (" + producer + ")", "actual (" + impl.name + ")"}, want_color(args), tolerance);
    } while (o.status == Status::fail && attempt < attempts);
    if (o.status == Status::pass) {
      std::cout << scenario.path << ": identical on " << impl.name << " (" << impl.time << " time, "
                << expected.events.size() << " events, " << producer;
      if (real) std::cout << "; attempt " << attempt << " of " << attempts;
      std::cout << ")\n";
    } else {
      if (attempt > 1) o.reason += " (each of " + std::to_string(attempt) + " attempts differed; the last is shown)";
      print_outcome(scenario, impl.name, o);
    }
    status = worse_exit(status, exit_code(o));
  }
  return status;
}

// The trace of one run on the loop of --loop (any but cpython), or nothing with the exit status
// in `status`: the ERROR the loop gave, 2 when it cannot start or lacks a feature.
std::optional<Trace> run_once(const LoopOptions& options, const std::vector<std::string>& backends,
                              const std::string& mutant, const Scenario& scenario, const std::string& version,
                              int& status) {
  const auto loops = loops_for("run", options, backends, mutant);
  if (loops.empty()) {
    status = kBadInput;
    return std::nullopt;
  }
  LoopUnderTest& loop = *loops.front();
  if (auto missing = missing_features(loop.implementation().features, scenario); !missing.empty()) {
    std::cerr << scenario.path << ": UNSUPPORTED on " << loop.implementation().name << "\n";
    status = kBadInput;
    return std::nullopt;
  }
  Outcome o = loop.run(scenario, version);
  if (o.status != Status::pass) {
    std::cerr << scenario.path << " (" << scenario.id << ") on " << loop.implementation().name << ": " << o.reason
              << "\n";
    status = exit_code(o);
    return std::nullopt;
  }
  return std::move(o.actual);
}

int run(const Args& args) {
  if (args.positional.size() != 1) throw UsageError("run takes one scenario file");
  const std::string loop = args.get("--loop", "reference");
  const LoopOptions options = loop_options(args);
  if (loop != "cpython") {
    try {
      validate(options);
    } catch (const LoopSpecError& e) {
      std::cerr << "aiospec run: " << e.what() << "\n";
      return kBadInput;
    }
  }
  const auto backends = backends_of(args);
  auto& py = oracle::CPython::instance();
  auto loaded = py.load_scenario(args.positional[0]);
  Scenario scenario = Scenario::from_canonical(loaded.canonical, loaded.path, loaded.area, loaded.sha256);
  const std::string version = args.get("--python", kDefaultProfile);
  Trace trace;
  if (loop == "cpython") {
    trace = parse_trace_file(py.run(loaded.canonical).dump());
  } else {
    if (!is_reference(options) && !args.get("--mutant").empty()) throw UsageError("--mutant is for --loop reference");
    int status = kSame;
    const auto on = is_reference(options) ? std::vector<std::string>{backends.front()} : std::vector<std::string>{};
    std::optional<Trace> got = run_once(options, on, args.get("--mutant"), scenario, version, status);
    if (!got) return status;
    trace = std::move(*got);
  }
  std::cout << render_trace_file(trace, loaded.sha256);
  if (ends_at_budget(trace)) {
    std::cerr << scenario.path << " (" << scenario.id << "): stopped at the "
              << trace.events.back().value("limit", "?") << " budget: the trace above is not a result\n";
    return kDifferent;
  }
  return kSame;
}

// Runs a Python package of tools/ with this command's arguments (after `extra`), in place of this
// process.
int python_tool(const char* package, int argc, char** argv, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> words = {AIOSPEC_PYTHON, "-m", package};
  words.insert(words.end(), extra.begin(), extra.end());
  for (int i = 1; i < argc; ++i) words.emplace_back(argv[i]);
  std::vector<char*> exec_argv;
  for (auto& w : words) exec_argv.push_back(w.data());
  exec_argv.push_back(nullptr);
  std::string pythonpath = std::string(AIOSPEC_SOURCE_DIR) + "/tools:" + AIOSPEC_SOURCE_DIR + "/oracle";
  setenv("PYTHONPATH", pythonpath.c_str(), 1);
  execv(AIOSPEC_PYTHON, exec_argv.data());
  std::perror("aiospec: cannot start " AIOSPEC_PYTHON);
  return kBadInput;
}

// lint, bless and friends live in the Python package that owns the YAML (one reader, one place).
int spec_tool(int argc, char** argv) { return python_tool("aiospec_spec", argc, argv); }

// `aiospec matrix [--out DIR] [--loops A,B]`: every loop of tools/aiospec_matrix/loops.py judged by
// this very command, rendered as one HTML page (what `make matrix` runs).
int matrix(int argc, char** argv) {
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) throw std::runtime_error("cannot find this program (/proc/self/exe)");
  self[n] = '\0';
  // argv[1] is "matrix": the package takes the rest.
  return python_tool("aiospec_matrix", argc - 1, argv + 1, {"--aiospec", self});
}

void usage(std::ostream& out) {
  out << "usage: aiospec diff SCENARIO.yaml [--backend poll|select|all] [--python X.Y] [--color|--no-color] [--mutant NAME]\n"
         "       aiospec run SCENARIO.yaml [--loop reference|cpython|SPEC] [--backend B] [--python X.Y] [--mutant NAME]\n"
         "       aiospec report [--loop reference|python:MODULE:FACTORY|cmd:COMMAND] [--interpreter PATH]\n"
         "                      [--time auto|virtual|interposed|real] [--pure-python] [--timeout S] [--runs N]\n"
         "                      [--scale F] [--tolerance S] [--expectations FILE] [--update-expectations]\n"
         "                      [--python X.Y]... [--backend B]... [--json FILE] [--bundle F] [--expected DIR]\n"
         "       aiospec diff SCENARIO.yaml --loop SPEC [the --loop options of report]\n"
         "       aiospec fuzz --seed S --count N [--backend poll|select|all] [--out DIR] [--max-ops K] [--mutant NAME]\n"
         "       aiospec matrix [--out DIR] [--loops NAME,...]            every loop on this machine, as build/matrix/index.html\n"
         "       aiospec lint [PATHS] | coverage [-v] | bless | compile --out F | next-id AREA | show FILE | fresh --version X.Y\n"
         "       aiospec --version\n"
         "exit status: 0 identical, 1 different (a budget stop included), 2 bad input, 3 a loop or the oracle failed\n";
}

}  // namespace

int dispatch(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    usage(argc < 2 ? std::cerr : std::cout);
    return argc < 2 ? kBadInput : kSame;
  }
  std::string command = argv[1];
  if (command == "--version") {
    std::cout << "aiospec " << AIOSPEC_VERSION << " (suite at " << AIOSPEC_SOURCE_DIR << ", embedded CPython "
              << oracle::CPython::instance().version() << ")\n";
    return kSame;
  }
  try {
    if (command == "fuzz") return fuzz(argc, argv);
    if (command == "diff") {
      return diff(parse(argc, argv, with({"--backend", "--color-mode", "--mutant", "--python", "--expected"}, kLoopValued),
                        {"--color", "--no-color", "--pure-python"}));
    }
    if (command == "run") {
      return run(parse(argc, argv, with({"--backend", "--mutant", "--python"}, kLoopValued), {"--pure-python"}));
    }
    if (command == "report") {
      Args args = parse(argc, argv,
                        with({"--python", "--backend", "--json", "--bundle", "--expected", "--color-mode", "--expectations"},
                             kLoopValued),
                        {"--color", "--no-color", "--pure-python", "--update-expectations"});
      if (!args.positional.empty()) throw UsageError("report takes no file arguments");
      std::vector<std::string> backends;
      if (!args.all("--backend").empty()) backends = backends_of(args);
      LoopOptions loop = loop_options(args);
      std::string bundle = args.get("--bundle", AIOSPEC_DEFAULT_BUNDLE);
      // A bundle given by hand is judged as it is; the build's own is checked against spec/.
      std::string source_root = args.get("--bundle").empty() ? AIOSPEC_SOURCE_DIR : "";
      ReportOptions options{bundle,        args.get("--expected", AIOSPEC_DEFAULT_EXPECTED),
                            source_root,   args.all("--python"),
                            backends,      args.get("--json"),
                            want_color(args), loop,
                            args.get("--expectations"), args.has("--update-expectations")};
      return report(options);
    }
    if (command == "lint" || command == "coverage" || command == "bless" || command == "compile" || command == "next-id" || command == "show" ||
        command == "fresh") {
      return spec_tool(argc, argv);
    }
    if (command == "matrix") {
      return matrix(argc, argv);
    }
    throw UsageError("unknown command '" + command + "'");
  } catch (const UsageError& e) {
    std::cerr << "aiospec " << command << ": " << e.what() << "\n";
    usage(std::cerr);
    return kBadInput;
  } catch (const oracle::LoadError& e) {
    std::cerr << e.what() << "\n";
    return kBadInput;
  } catch (const oracle::InvalidScenario& e) {
    std::cerr << "aiospec " << command << ": invalid scenario: " << e.what() << "\n";
    return kBadInput;
  } catch (const std::exception& e) {
    std::cerr << "aiospec " << command << ": " << e.what() << "\n";
    return kFailedToRun;
  }
}

}  // namespace aiospec::cli

int main(int argc, char** argv) { return aiospec::cli::dispatch(argc, argv); }
