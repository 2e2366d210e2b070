// A loop host that misbehaves on purpose (the protocol tests, protocol_test.cpp): the reference
// loop served over the protocol, except for one chosen scenario or at start-up.
//
//   broken_host [--fault MODE --on ID] [--start MODE] [--fail-restarts FILE]
//
// --fault, when scenario ID is run: segfault, hang, garbage, wrong-seq, malformed-trace,
//   not-events, huge-line, exit, errored, skipped, invalid.
// --start: exit (one stderr line, status 2), stdout (a line on stdout before the handshake),
//   version (answers protocol version 2), time (says it runs in real time).
// --fail-restarts FILE: the first start creates FILE; any later start (FILE exists) fails.
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "aiospec/conformance/host_server.hpp"
#include "aiospec/conformance/reference_host.hpp"

namespace {

using namespace aiospec::conformance;
using json = nlohmann::json;

[[noreturn]] void hang() {
  for (;;) pause();
}

}  // namespace

int main(int argc, char** argv) {
  std::string fault, on, start, restarts;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--fault") fault = v;
    else if (a == "--on") on = v;
    else if (a == "--start") start = v;
    else if (a == "--fail-restarts") restarts = v;
  }
  if (!restarts.empty()) {
    if (std::ifstream(restarts)) {
      std::cerr << "broken_host: refusing to start again\n";
      return 2;
    }
    std::ofstream(restarts) << "started\n";
  }
  if (start == "exit") {
    std::cerr << "broken_host: cannot start: no such loop\n";
    return 2;
  }
  if (start == "stdout") std::cout << "hello from the host\n" << std::flush;
  protocol::Implementation impl = reference_implementation("poll", "0");
  impl.name = "broken-host";
  if (start == "time") impl.time = "real";
  if (start == "version") {
    std::string request;
    std::getline(std::cin, request);
    json answer = protocol::handshake_answer(impl);
    answer["version"] = 2;
    std::cout << protocol::line(answer) << std::flush;
    hang();
  }
  return serve(std::cin, std::cout, std::cerr, impl, [&](std::int64_t seq, const json& scenario, const std::string& cpython) {
    if (scenario.value("id", "") != on) return run_on_reference("poll", seq, scenario, cpython);
    std::cerr << "broken_host: " << fault << " on " << on << "\n";
    if (fault == "segfault") {
      std::signal(SIGSEGV, SIG_DFL);  // a plain crash, not a sanitizer's report and exit
      std::raise(SIGSEGV);
    }
    if (fault == "hang") hang();
    if (fault == "exit") std::exit(3);
    if (fault == "garbage") {
      std::cout << "Traceback (most recent call last):\n" << std::flush;
      hang();
    }
    if (fault == "huge-line") {
      std::cout << std::string(std::size_t(8) << 20, 'x') << "\n" << std::flush;
      hang();
    }
    if (fault == "wrong-seq") return run_on_reference("poll", seq + 1, scenario, cpython);
    if (fault == "malformed-trace") return json{{"seq", seq}, {"trace", {{"events", {1, 2}}}}};
    if (fault == "not-events") return json{{"seq", seq}, {"result", "ok"}};
    if (fault == "errored") return protocol::errored_answer(seq, "failed", "the loop fell over");
    if (fault == "invalid") return protocol::errored_answer(seq, "invalid_scenario", "cancel: no handle named 'h'");
    if (fault == "skipped") return protocol::skipped_answer(seq, "needs fork");
    return run_on_reference("poll", seq, scenario, cpython);
  });
}
