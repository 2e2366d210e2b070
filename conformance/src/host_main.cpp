// aiospec-host: the reference loop as a loop host (spec/PROTOCOL.md), the proof that the
// protocol is language-neutral and the host the next issue's libuv and Asio adapters reuse.
//
//   aiospec-host [--backend select|poll]        requests on stdin, answers on stdout
#include <iostream>
#include <string>

#include "aiospec/conformance/host_server.hpp"
#include "aiospec/conformance/reference_host.hpp"
#include "aiospec/ref/selectors.hpp"

int main(int argc, char** argv) {
  using namespace aiospec::conformance;
  std::string backend = "poll";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--backend" && i + 1 < argc) {
      backend = argv[++i];
    } else {
      std::cerr << "aiospec-host: unknown argument " << a << " (usage: aiospec-host [--backend select|poll])\n";
      return 2;
    }
  }
  bool known = false;
  for (const auto& b : aiospec::ref::available_backends()) known |= b == backend;
  if (!known) {
    std::cerr << "aiospec-host: unknown backend '" << backend << "'\n";
    return 2;
  }
  std::ios::sync_with_stdio(false);
  return serve(std::cin, std::cout, std::cerr, reference_implementation(backend, AIOSPEC_VERSION),
               [&](std::int64_t seq, const nlohmann::json& scenario, const std::string& cpython) {
                 return run_on_reference(backend, seq, scenario, cpython);
               });
}
