// aiospec::host — the loop host (spec/PROTOCOL.md) of any loop that has a LoopDescription
// (loop_description.hpp): link this main with the adapter's sources.
//
//   HOST [--backend B] [--time virtual|interposed|real] [--scale F]   requests on stdin, answers on stdout
//
// In interposed time the host must run with libaiospec_interpose.so preloaded (`aiospec report
// --loop cmd:HOST --time interposed` does it) and checks at start that the loop follows it. In
// real time every scenario time is multiplied by F (default 0.05, or $AIOSPEC_SCALE).
#include <cstdlib>
#include <iostream>
#include <string>

#include "aiospec/conformance/described_loop.hpp"
#include "aiospec/conformance/host_server.hpp"
#include "aiospec/conformance/interpreter.hpp"

int main(int argc, char** argv) {
  using namespace aiospec::conformance;
  const std::string self = "aiospec host";
  std::string backend, time;
  double scale = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if ((a == "--backend" || a == "--time") && i + 1 < argc) {
      (a == "--backend" ? backend : time) = argv[++i];
    } else if (a == "--scale" && i + 1 < argc) {
      scale = std::atof(argv[++i]);
      if (!(scale > 0)) {
        std::cerr << self << ": --scale must be a positive factor\n";
        return 2;
      }
    } else {
      std::cerr << self << ": unknown argument " << a << " (usage: " << argv[0]
                << " [--backend B] [--time virtual|interposed|real] [--scale F])\n";
      return 2;
    }
  }
  std::unique_ptr<DescribedLoop> loop;
  protocol::Implementation implementation;
  try {
    loop = std::make_unique<DescribedLoop>(describe_loop(), backend, time, scale);
    loop->probe();
    implementation.name = implementation.producer = loop->name();
    implementation.version = loop->description().version;
    implementation.language = "c++";
    implementation.language_version = std::to_string(__cplusplus);
    implementation.runtime = "native";
    implementation.time = loop->time();
    implementation.features = loop->features();
    implementation.versioned = loop->description().versioned;
  } catch (const std::exception& e) {
    std::cerr << self << ": " << e.what() << "\n";
    return 2;
  }
  std::ios::sync_with_stdio(false);
  return serve(std::cin, std::cout, std::cerr, implementation,
               [&](std::int64_t seq, const nlohmann::json& canonical, const std::string& cpython) {
                 Scenario scenario;
                 try {
                   scenario = Scenario::from_canonical(canonical, "", "", "");
                 } catch (const std::exception& e) {
                   return protocol::errored_answer(seq, "invalid_scenario",
                                                   std::string("not a canonical scenario: ") + e.what());
                 }
                 // The harness sends only scenarios whose features the handshake listed; the
                 // host still answers for one sent anyway.
                 if (auto missing = missing_features(implementation.features, scenario); !missing.empty()) {
                   return protocol::skipped_answer(seq, unsupported(missing).reason);
                 }
                 Outcome ran;
                 try {
                   ran = loop->run(scenario, cpython.empty() ? std::string(kDefaultProfile) : cpython);
                 } catch (const std::exception& e) {
                   return protocol::errored_answer(seq, "failed", e.what());
                 }
                 if (ran.status == Status::pass) {
                   ran.actual.producer = implementation.producer;
                   return protocol::trace_answer(seq, ran.actual);
                 }
                 if (ran.status == Status::unsupported) return protocol::skipped_answer(seq, ran.reason);
                 return protocol::errored_answer(seq, ran.cause == Cause::bad_input ? "invalid_scenario" : "failed",
                                                 ran.reason);
               });
}
