// aiospec-host: the reference loop as a loop host (spec/PROTOCOL.md), the proof that the
// protocol is language-neutral and the host the next issue's libuv and Asio adapters reuse.
//
//   aiospec-host [--backend select|poll] [--mutant NAME]     requests on stdin, answers on stdout
//
// --mutant serves one of the mutant loops (conformance/mutants) instead, named
// mutant/NAME/BACKEND, as `aiospec diff --mutant` does in-process: a host with known failures,
// to see what a failing loop's report, expectations and diffs look like.
#include <iostream>
#include <string>

#include "aiospec/conformance/host_server.hpp"
#include "aiospec/conformance/reference_host.hpp"
#include "aiospec/ref/selectors.hpp"
#include "mutants/mutants.hpp"

int main(int argc, char** argv) {
  using namespace aiospec::conformance;
  std::string backend = "poll", mutant;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--backend" && i + 1 < argc) {
      backend = argv[++i];
    } else if (a == "--mutant" && i + 1 < argc) {
      mutant = argv[++i];
    } else {
      std::cerr << "aiospec-host: unknown argument " << a << " (usage: aiospec-host [--backend select|poll] [--mutant NAME])\n";
      return 2;
    }
  }
  bool known = false;
  for (const auto& b : aiospec::ref::available_backends()) known |= b == backend;
  if (!known) {
    std::cerr << "aiospec-host: unknown backend '" << backend << "'\n";
    return 2;
  }
  protocol::Implementation implementation = reference_implementation(backend, AIOSPEC_VERSION);
  ReferenceAdapter::LoopFactory factory;
  if (!mutant.empty()) {
    const auto* m = mutants::find(mutant);
    if (!m) {
      std::cerr << "aiospec-host: unknown mutant '" << mutant << "'; known:" << mutants::names() << "\n";
      return 2;
    }
    factory = m->factory;
    implementation.name = implementation.producer = mutants::loop_name(*m, backend);
  }
  std::ios::sync_with_stdio(false);
  return serve(std::cin, std::cout, std::cerr, implementation,
               [&](std::int64_t seq, const nlohmann::json& scenario, const std::string& cpython) {
                 return run_on_reference(backend, seq, scenario, cpython, factory, factory ? implementation.name : "");
               });
}
