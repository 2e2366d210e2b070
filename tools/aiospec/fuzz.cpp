// aiospec fuzz: see fuzz.hpp. The generator, the YAML writer and the minimiser are Python
// (tools/aiospec_spec/fuzzgen.py, reading the operation table); this file runs them on the
// embedded interpreter that also runs the oracle, so a program costs no process start-up.
#include "fuzz.hpp"

#include <pybind11/embed.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <ctime>
#include <iostream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "aiospec/conformance/interpreter.hpp"
#include "aiospec/conformance/reference_adapter.hpp"
#include "aiospec/conformance/runner.hpp"
#include "aiospec/conformance/scenario.hpp"
#include "aiospec/conformance/trace.hpp"
#include "aiospec/oracle/cpython.hpp"
#include "aiospec/ref/profile.hpp"
#include "aiospec/ref/selectors.hpp"
#include "mutants/mutants.hpp"

namespace aiospec::cli {

namespace py = pybind11;
using namespace aiospec::conformance;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kClean = 0, kFound = 1, kBadInput = 2;

struct Usage : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Options {
  std::uint64_t seed = 0;
  std::uint64_t count = 0;
  std::uint64_t start = 0;
  std::vector<std::string> backends{"poll"};
  std::string mutant;
  std::string out = "fuzz-findings";
  int max_ops = 40;
  int max_tests = 2000;
  int per_kind = 3;  // divergences minimised and written per kind; the rest are only counted
  std::uint64_t progress = 0;
  std::uint64_t stop_after = 0;  // stop after this many divergences (0: never)
  unsigned timeout = 30;         // seconds one run of one program (both loops) may take
  bool quiet = false;
};

std::uint64_t number(const std::string& flag, const std::string& text, std::uint64_t lo, std::uint64_t hi) {
  std::size_t used = 0;
  unsigned long long v = 0;
  try {
    if (text.empty() || text[0] == '-' || text[0] == '+') throw std::invalid_argument(text);
    v = std::stoull(text, &used, 10);
  } catch (const std::exception&) {
    throw Usage(flag + " needs a whole number, not '" + text + "'");
  }
  if (used != text.size()) throw Usage(flag + " needs a whole number, not '" + text + "'");
  if (v < lo || v > hi) throw Usage(flag + " must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return v;
}

Options parse_options(int argc, char** argv) {
  Options o;
  bool have_seed = false, have_count = false;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw Usage(a + " needs a value");
      return argv[++i];
    };
    if (a == "--seed") {
      o.seed = number(a, value(), 0, UINT64_MAX / 2);
      have_seed = true;
    } else if (a == "--count") {
      o.count = number(a, value(), 0, UINT64_MAX / 4);
      have_count = true;
    } else if (a == "--start") {
      o.start = number(a, value(), 0, UINT64_MAX / 4);
    } else if (a == "--backend") {
      std::string b = value();
      auto known = ref::available_backends();
      if (b == "all") {
        o.backends = known;
      } else {
        bool ok = false;
        for (const auto& k : known) ok |= k == b;
        if (!ok) throw Usage("unknown backend '" + b + "'");
        o.backends = {b};
      }
    } else if (a == "--mutant") {
      o.mutant = value();
      if (!mutants::find(o.mutant)) throw Usage("unknown mutant '" + o.mutant + "'; known:" + mutants::names());
    } else if (a == "--out") {
      o.out = value();
    } else if (a == "--max-ops") {
      o.max_ops = static_cast<int>(number(a, value(), 1, 10000));
    } else if (a == "--max-tests") {
      o.max_tests = static_cast<int>(number(a, value(), 0, 1000000));
    } else if (a == "--per-kind") {
      o.per_kind = static_cast<int>(number(a, value(), 1, 1000000));
    } else if (a == "--timeout") {
      o.timeout = static_cast<unsigned>(number(a, value(), 1, 86400));
    } else if (a == "--stop-after") {
      o.stop_after = number(a, value(), 1, UINT64_MAX / 4);
    } else if (a == "--progress") {
      o.progress = number(a, value(), 1, UINT64_MAX / 4);
    } else if (a == "--quiet") {
      o.quiet = true;
    } else {
      throw Usage("unknown argument '" + a + "'");
    }
  }
  if (!have_seed || !have_count) throw Usage("--seed and --count are required");
  return o;
}

ReferenceAdapter make_adapter(const std::string& backend, const std::string& mutant) {
  // The reference imitates the CPython it is compared with: the embedded one.
  const ref::Profile profile = ref::Profile::for_version(oracle::CPython::instance().version());
  if (const auto* m = mutants::find(mutant)) return mutants::adapter(*m, backend, profile);
  return ReferenceAdapter(backend, profile);
}

// What one program did.
enum class Kind { same, divergence, budget, budget_one_sided, scenario_error, invalid, oracle_fault, unsupported };

struct Verdict {
  Kind kind = Kind::same;
  std::string detail;
};

std::string python_error(const py::error_already_set& e) {
  std::string type = py::str(e.type().attr("__name__")).cast<std::string>();
  std::string text = py::str(e.value()).cast<std::string>();
  return text.empty() ? type : type + ": " + text;
}

class Fuzzer {
 public:
  explicit Fuzzer(Options options)
      : o_(std::move(options)), gen_(py::module_::import("aiospec_spec.fuzzgen")), invalid_(gen_.attr("FuzzInvalid")),
        json_(py::module_::import("json")) {}

  int run();

 private:
  Verdict evaluate(const std::string& canonical_text, const std::string& backend);
  // A divergence, or a program on which the oracle itself failed: minimised (while it stays that
  // kind of finding) and written to --out with the command that reproduces it.
  void report_finding(std::uint64_t index, const std::string& backend, const std::string& canonical_text,
                      const Verdict& verdict);
  std::size_t divergence_kinds() const {
    return static_cast<std::size_t>(std::count_if(kinds_.begin(), kinds_.end(), [](const auto& kind) {
      return kind.first.rfind("DIVERGENCE ", 0) == 0;
    }));
  }
  std::string label(std::uint64_t index, const std::string& backend) const {
    std::string s = "seed " + std::to_string(o_.seed) + " index " + std::to_string(index) + " on " + backend;
    if (!o_.mutant.empty()) s += " (mutant " + o_.mutant + ")";
    return s;
  }

  Options o_;
  py::module_ gen_;
  py::object invalid_;
  py::module_ json_;
  double cpython_s_ = 0, reference_s_ = 0, minimise_s_ = 0;
  // "DIVERGENCE kind" or "ORACLE-FAULT kind" -> (how many, first file)
  std::map<std::string, std::pair<int, std::string>> kinds_;
  std::map<std::string, std::pair<int, std::string>> minimised_kinds_;
};

// The kind of a divergence, for grouping: its line without event numbers and times.
// Each number ([0-9]+, then optionally .[0-9]+ and e[-+]?[0-9]+) becomes "N". (Not std::regex:
// GCC 12 warns inside <regex> under the sanitizers, and warnings are errors here.)
std::string kind_of(const std::string& line) {
  auto digit = [&](std::size_t i) { return i < line.size() && line[i] >= '0' && line[i] <= '9'; };
  auto skip_digits = [&](std::size_t i) {
    while (digit(i)) ++i;
    return i;
  };
  std::string out;
  for (std::size_t i = 0; i < line.size();) {
    if (!digit(i)) {
      out += line[i++];
      continue;
    }
    i = skip_digits(i);
    if (i < line.size() && line[i] == '.' && digit(i + 1)) i = skip_digits(i + 1);
    if (i < line.size() && line[i] == 'e') {
      std::size_t j = i + 1;
      if (j < line.size() && (line[j] == '-' || line[j] == '+')) ++j;
      if (digit(j)) i = skip_digits(j);
    }
    out += 'N';
  }
  return out;
}

// A crash of either loop ends the process: say which program it was, so that `--start I
// --count 1` reproduces it. Only async-signal-safe calls in the handler.
volatile std::sig_atomic_t crash_armed = 0;
char crash_message[160];
std::size_t crash_length = 0;

extern "C" void on_crash(int signal) {
  if (crash_armed) {
    static const char prefix[] = "aiospec fuzz: crashed on ";
    ssize_t ignored = ::write(STDERR_FILENO, prefix, sizeof prefix - 1);
    ignored = ::write(STDERR_FILENO, crash_message, crash_length);
    (void)ignored;
  }
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

// A program that does not end (a hang in either loop, a deadlock between threads) would stop the
// whole run: after the per-program limit the process names it and exits 3.
extern "C" void on_timeout(int) {
  static const char prefix[] = "aiospec fuzz: ran past the time limit (--timeout) on ";
  ssize_t ignored = ::write(STDERR_FILENO, prefix, sizeof prefix - 1);
  if (crash_armed) ignored = ::write(STDERR_FILENO, crash_message, crash_length);
  (void)ignored;
  ::_exit(3);
}

void arm_crash_report(std::uint64_t seed, std::uint64_t index, const std::string& backend) {
  std::string m = "seed " + std::to_string(seed) + " index " + std::to_string(index) + " on " +
                  backend + " (reproduce with --seed " + std::to_string(seed) + " --start " + std::to_string(index) +
                  " --count 1)\n";
  crash_armed = 0;
  crash_length = std::min(m.size(), sizeof crash_message);
  std::copy(m.begin(), m.begin() + static_cast<std::ptrdiff_t>(crash_length), crash_message);
  crash_armed = 1;
}

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

Verdict Fuzzer::evaluate(const std::string& canonical_text, const std::string& backend) {
  struct Alarm {
    explicit Alarm(unsigned s) { ::alarm(s); }
    ~Alarm() { ::alarm(0); }
  } alarm(o_.timeout);
  auto t0 = Clock::now();
  std::string status, out;
  try {
    py::tuple r = gen_.attr("oracle")(canonical_text);
    status = r[0].cast<std::string>();
    out = r[1].cast<std::string>();
  } catch (const py::error_already_set& e) {
    cpython_s_ += since(t0);
    return {Kind::oracle_fault, "the CPython oracle failed: " + python_error(e)};
  }
  cpython_s_ += since(t0);

  auto t1 = Clock::now();
  Scenario scenario = Scenario::from_canonical(nlohmann::json::parse(canonical_text), "fuzz.yaml", "fuzz", "");
  ReferenceAdapter adapter = make_adapter(backend, o_.mutant);
  if (auto missing = missing_features(adapter, scenario); !missing.empty()) {
    std::string needs;
    for (const auto& f : missing) needs += " " + f;
    return {Kind::unsupported, "the reference lacks" + needs};
  }
  Trace actual;
  std::optional<std::string> fault;
  try {
    actual = Interpreter(adapter, scenario, Language::of(oracle::CPython::instance().version())).run();
  } catch (const std::exception& e) {
    fault = e.what();
  }
  reference_s_ += since(t1);

  if (status == "scenario-error") {
    // Both refuse it (D3/D4): not a divergence, but the two messages should agree.
    if (fault) return {Kind::scenario_error, *fault == out ? out : "CPython: " + out + "; reference: " + *fault};
    return {Kind::divergence, "CPython refused the program (" + out + ") but the reference ran it"};
  }
  if (fault) return {Kind::divergence, "the interpreter failed: " + *fault};
  Trace expected = parse_trace_file(out);
  auto d = first_divergence(expected.events, actual.events);
  bool eb = ends_at_budget(expected), ab = ends_at_budget(actual);
  if (!d) return {eb ? Kind::budget : Kind::same, {}};
  // One side reached its budget where the other did something else: counted apart (a runaway
  // loop), not minimised; a difference before any budget stop is an ordinary divergence.
  if ((eb && d->index + 1 == expected.events.size()) || (ab && d->index + 1 == actual.events.size())) {
    return {Kind::budget_one_sided, d->summary};
  }
  return {Kind::divergence, d->summary};
}

void Fuzzer::report_finding(std::uint64_t index, const std::string& backend, const std::string& canonical_text,
                            const Verdict& verdict) {
  const bool fault = verdict.kind == Kind::oracle_fault;
  const char* tag = fault ? "ORACLE-FAULT " : "DIVERGENCE ";
  auto& [seen, first] = kinds_[tag + kind_of(verdict.detail)];
  if (++seen > o_.per_kind) {
    if (!o_.quiet) {
      std::cout << tag << label(index, backend) << ": " << verdict.detail << " (same kind as " << first
                << ", not minimised)\n";
    }
    return;
  }
  auto t0 = Clock::now();
  py::object canonical = json_.attr("loads")(canonical_text);
  int tests = 0;
  py::object best = canonical;
  std::string final_line = verdict.detail;
  if (o_.max_tests > 0) {
    auto still_fails = py::cpp_function([&](py::object candidate) -> bool {
      std::string text;
      try {
        text = gen_.attr("check")(candidate).cast<std::string>();
      } catch (const py::error_already_set&) {
        return false;  // the loader refuses it: not a candidate
      }
      return evaluate(text, backend).kind == verdict.kind;
    });
    py::tuple r = gen_.attr("minimise")(canonical, still_fails, o_.max_tests);
    best = r[0];
    tests = r[1].cast<int>();
    Verdict v = evaluate(gen_.attr("check")(best).cast<std::string>(), backend);
    final_line = v.detail;
  }
  int before = gen_.attr("size")(canonical).cast<int>();
  int after = gen_.attr("size")(best).cast<int>();
  // Several programs minimise to the same finding: keep per_kind files per minimised kind.
  auto& [final_seen, final_first] = minimised_kinds_[tag + kind_of(final_line)];
  if (++final_seen > o_.per_kind) {
    minimise_s_ += since(t0);
    if (!o_.quiet) {
      std::cout << tag << label(index, backend) << ": " << final_line << " (minimised to " << after
                << " operations: same kind as " << final_first << ", not written)\n";
    }
    return;
  }
  std::filesystem::create_directories(o_.out);
  std::string path = o_.out + (fault ? "/oracle-fault-" : "/fuzz-") + std::to_string(o_.seed) + "-" + std::to_string(index) + ".yaml";
  std::string reproduce = "aiospec diff " + path + " --backend " + backend;
  if (!o_.mutant.empty()) reproduce += " --mutant " + o_.mutant;
  std::string comment = std::string(fault ? "The CPython oracle failed on it (a defect of the oracle, not of a loop). " : "") +
                        "Found by `aiospec fuzz --seed " + std::to_string(o_.seed) + "`: program " +
                        std::to_string(index) + " on " + backend +
                        (o_.mutant.empty() ? std::string() : " (mutant " + o_.mutant + ")") + ", minimised from " +
                        std::to_string(before) + " to " + std::to_string(after) + " operations in " +
                        std::to_string(tests) + " runs.\n" + final_line + "\nReproduce: " + reproduce +
                        "\nTo add it: give it a free id (aiospec next-id AREA), a title, its clauses and features "
                        "check, then `make bless`.";
  std::string text = gen_.attr("to_yaml")(best, comment).cast<std::string>();
  std::ofstream(path) << text;
  if (first.empty()) first = path;
  if (final_first.empty()) final_first = path;
  minimise_s_ += since(t0);
  std::cout << tag << label(index, backend) << ": " << final_line << " -> " << path << " (" << before
            << " -> " << after << " operations)\n"
            << std::flush;
}

int Fuzzer::run() {
  std::uint64_t programs = 0, divergences = 0, budget = 0, one_sided = 0, scenario_errors = 0, invalid = 0,
                oracle_faults = 0, unsupported = 0;
  double gen_s = 0;
  auto t0 = Clock::now();
  std::clock_t cpu0 = std::clock();
  for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) std::signal(sig, on_crash);
  std::signal(SIGALRM, on_timeout);
  for (std::uint64_t k = 0; k < o_.count; ++k) {
    std::uint64_t index = o_.start + k;
    const std::string& backend = o_.backends[index % o_.backends.size()];
    ++programs;
    arm_crash_report(o_.seed, index, backend);
    auto tg = Clock::now();
    std::string canonical_text;
    try {
      py::tuple r = gen_.attr("prepare")(o_.seed, index, o_.max_ops);
      canonical_text = r[1].cast<std::string>();
    } catch (const py::error_already_set& e) {
      gen_s += since(tg);
      ++invalid;
      std::cout << "INVALID " << label(index, backend) << ": the loader refused a generated program: "
                << python_error(e) << "\n";
      continue;
    }
    gen_s += since(tg);
    Verdict v = evaluate(canonical_text, backend);
    switch (v.kind) {
      case Kind::same: break;
      case Kind::budget: ++budget; break;
      case Kind::budget_one_sided:
        ++budget;
        ++one_sided;
        if (!o_.quiet) std::cout << "BUDGET " << label(index, backend) << ": one side only: " << v.detail << "\n";
        break;
      case Kind::scenario_error:
        ++scenario_errors;
        if (!o_.quiet) std::cout << "SCENARIO-ERROR " << label(index, backend) << ": " << v.detail << "\n";
        break;
      case Kind::unsupported: ++unsupported; break;
      case Kind::invalid: ++invalid; break;
      case Kind::oracle_fault:
        ++oracle_faults;
        report_finding(index, backend, canonical_text, v);
        break;
      case Kind::divergence:
        ++divergences;
        report_finding(index, backend, canonical_text, v);
        break;
    }
    if (o_.stop_after && divergences >= o_.stop_after) break;
    if (o_.progress && programs % o_.progress == 0) {
      std::cerr << "fuzz: " << programs << " programs, " << divergences << " divergences, "
                << static_cast<int>(programs / since(t0)) << " programs/s\n";
    }
  }
  double total = since(t0);
  double rate = total > 0 ? static_cast<double>(programs) / total : 0;
  double cpu = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
  std::cout << "fuzz: seed " << o_.seed << ", programs " << programs << " (indices " << o_.start << ".."
            << (o_.start + programs) << "), " << static_cast<int>(rate * 10) / 10.0 << " programs/s (" << static_cast<int>(cpu > 0 ? programs / cpu : 0)
            << " per CPU second), divergences " << divergences << " of " << divergence_kinds() << " kinds, budget stops " << budget << " (one side only " << one_sided << "), scenario errors "
            << scenario_errors << ", invalid " << invalid << ", oracle faults " << oracle_faults << ", unsupported "
            << unsupported << "\n";
  for (const auto& [kind, seen] : minimised_kinds_) {
    std::cout << "fuzz: kind (" << seen.first << " minimised): " << kind << " (" << seen.second << ")\n";
  }
  if (!o_.quiet) {
    std::cout << "fuzz: time " << static_cast<int>(total * 10) / 10.0 << " s: generate+load "
              << static_cast<int>(gen_s * 10) / 10.0 << " s, cpython " << static_cast<int>(cpython_s_ * 10) / 10.0
              << " s, reference " << static_cast<int>(reference_s_ * 10) / 10.0 << " s, minimise "
              << static_cast<int>(minimise_s_ * 10) / 10.0 << " s\n";
  }
  return divergences || invalid || oracle_faults ? kFound : kClean;
}

}  // namespace

int fuzz(int argc, char** argv) {
  Options options;
  try {
    options = parse_options(argc, argv);
  } catch (const Usage& e) {
    std::cerr << "aiospec fuzz: " << e.what() << "\n"
              << "usage: aiospec fuzz --seed S --count N [--start I] [--backend poll|select|all] [--mutant NAME]\n"
                 "                    [--out DIR] [--max-ops K] [--max-tests T] [--per-kind K] [--stop-after D] [--timeout S]\n"
                 "                    [--progress N] [--quiet]\n";
    return kBadInput;
  }
  oracle::CPython::instance();  // starts the embedded interpreter, with the project on sys.path
  try {
    return Fuzzer(std::move(options)).run();
  } catch (const py::error_already_set& e) {
    std::cerr << "aiospec fuzz: the generator failed: " << python_error(e) << "\n";
    return 3;
  }
}

}  // namespace aiospec::cli
