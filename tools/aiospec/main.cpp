// aiospec: the command line of the conformance suite.
//
//   aiospec diff SCENARIO.yaml [--backend poll|select|all] [--color] [--mutant NAME]
//                                                                  CPython (live) vs the reference loop
//   aiospec run SCENARIO.yaml [--loop cpython|reference] [--backend B]  print one trace
//   aiospec report [--python 3.13] [--backend B]... [--json FILE]  the whole suite, summarised
//   aiospec lint | bless | compile | next-id | show | fresh ...     the spec tools (tools/aiospec_spec)
//
// Exit codes: 0 identical / clean, 1 different / failures, 2 bad input.
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "aiospec/conformance/interpreter.hpp"
#include "aiospec/conformance/reference_adapter.hpp"
#include "aiospec/conformance/runner.hpp"
#include "aiospec/oracle/cpython.hpp"
#include "aiospec/ref/selectors.hpp"
#include "mutants/mutants.hpp"
#include "fuzz.hpp"
#include "report.hpp"

namespace aiospec::cli {

using namespace aiospec::conformance;

namespace {

constexpr int kSame = 0, kDifferent = 1, kBadInput = 2;

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

// The reference loop, or with --mutant NAME one of the mutant loops that break a rule on purpose
// (to see what a failure looks like, or to check that a new scenario catches a mutant).
ReferenceAdapter adapter_for(const Args& args, const std::string& backend) {
  std::string name = args.get("--mutant");
  if (name.empty()) return ReferenceAdapter(backend);
  for (const auto& m : mutants::all()) {
    if (m.name == name) return ReferenceAdapter(backend, "mutant/" + name + "/" + backend, m.factory);
  }
  std::string known;
  for (const auto& m : mutants::all()) known += " " + m.name;
  throw UsageError("unknown mutant '" + name + "'; known:" + known);
}

int diff(const Args& args) {
  if (args.positional.size() != 1) throw UsageError("diff takes one scenario file");
  auto& py = oracle::CPython::instance();
  auto loaded = py.load_scenario(args.positional[0]);
  Scenario scenario = Scenario::from_canonical(loaded.canonical, loaded.path, loaded.area, loaded.sha256);
  std::string producer = "cpython-" + py.version();
  if (!scenario.applies_to(py.minor_version())) {
    std::cout << scenario.path << ": SKIP: the scenario does not apply to CPython " << py.minor_version() << "\n";
    return kSame;
  }
  bool color = want_color(args);
  Trace expected = parse_trace_file(py.run(loaded.canonical).dump());
  int status = kSame;
  for (const auto& backend : backends_of(args)) {
    ReferenceAdapter adapter = adapter_for(args, backend);
    if (auto missing = missing_features(adapter, scenario); !missing.empty()) {
      std::cout << scenario.path << ": UNSUPPORTED on " << adapter.name() << ": needs";
      for (const auto& f : missing) std::cout << " " << f;
      std::cout << " (nothing to compare)\n";
      continue;
    }
    Outcome o = compare(expected, Interpreter(adapter, scenario).run(), {"expected (" + producer + ")", "actual (" + adapter.name() + ")"},
                        color);
    if (o.status == Status::pass) {
      std::cout << scenario.path << ": identical on " << adapter.name() << " (" << expected.events.size()
                << " events, " << producer << ")\n";
    } else {
      std::cout << scenario.path << " (" << scenario.id << ") on " << adapter.name() << ": " << o.reason << "\n"
                << o.diff;
      status = kDifferent;
    }
  }
  return status;
}

int run(const Args& args) {
  if (args.positional.size() != 1) throw UsageError("run takes one scenario file");
  std::string loop = args.get("--loop", "reference");
  auto& py = oracle::CPython::instance();
  auto loaded = py.load_scenario(args.positional[0]);
  if (loop == "cpython") {
    std::cout << render_trace_file(parse_trace_file(py.run(loaded.canonical).dump()), loaded.sha256);
    return kSame;
  }
  if (loop != "reference") throw UsageError("--loop is cpython or reference");
  Scenario scenario = Scenario::from_canonical(loaded.canonical, loaded.path, loaded.area, loaded.sha256);
  ReferenceAdapter adapter = adapter_for(args, backends_of(args).front());
  if (auto missing = missing_features(adapter, scenario); !missing.empty()) {
    std::cerr << scenario.path << ": UNSUPPORTED on " << adapter.name() << "\n";
    return kBadInput;
  }
  std::cout << render_trace_file(Interpreter(adapter, scenario).run(), loaded.sha256);
  return kSame;
}

int spec_tool(int argc, char** argv) {
  // lint, bless and friends live in the Python package that owns the YAML (one reader, one place).
  std::vector<std::string> words = {AIOSPEC_PYTHON, "-m", "aiospec_spec"};
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

void usage(std::ostream& out) {
  out << "usage: aiospec diff SCENARIO.yaml [--backend poll|select|all] [--color|--no-color] [--mutant NAME]\n"
         "       aiospec run SCENARIO.yaml [--loop reference|cpython] [--backend B] [--mutant NAME]\n"
         "       aiospec report [--python X.Y] [--backend B]... [--json FILE] [--bundle F] [--expected DIR]\n"
         "       aiospec fuzz --seed S --count N [--backend poll|select|all] [--out DIR] [--max-ops K] [--mutant NAME]\n"
         "       aiospec lint [PATHS] | coverage [-v] | bless | compile --out F | next-id AREA | show FILE | fresh --version X.Y\n";
}

}  // namespace

int dispatch(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    usage(argc < 2 ? std::cerr : std::cout);
    return argc < 2 ? kBadInput : kSame;
  }
  std::string command = argv[1];
  try {
    if (command == "fuzz") return fuzz(argc, argv);
    if (command == "diff") {
      return diff(parse(argc, argv, {"--backend", "--color-mode", "--mutant"}, {"--color", "--no-color"}));
    }
    if (command == "run") return run(parse(argc, argv, {"--backend", "--loop", "--mutant"}, {}));
    if (command == "report") {
      Args args = parse(argc, argv, {"--python", "--backend", "--json", "--bundle", "--expected", "--color-mode"},
                        {"--color", "--no-color"});
      ReportOptions options{args.get("--bundle", AIOSPEC_DEFAULT_BUNDLE), args.get("--expected", AIOSPEC_DEFAULT_EXPECTED),
                            args.get("--python"), args.all("--backend"), args.get("--json"), want_color(args)};
      return report(options);
    }
    if (command == "lint" || command == "coverage" || command == "bless" || command == "compile" || command == "next-id" || command == "show" ||
        command == "fresh") {
      return spec_tool(argc, argv);
    }
    throw UsageError("unknown command '" + command + "'");
  } catch (const UsageError& e) {
    std::cerr << "aiospec " << command << ": " << e.what() << "\n";
    usage(std::cerr);
    return kBadInput;
  } catch (const oracle::LoadError& e) {
    std::cerr << e.what() << "\n";
    return kBadInput;
  } catch (const std::exception& e) {
    std::cerr << "aiospec " << command << ": " << e.what() << "\n";
    return kBadInput;
  }
}

}  // namespace aiospec::cli

int main(int argc, char** argv) { return aiospec::cli::dispatch(argc, argv); }
