// The messages of the loop host protocol aiospec-host/1 (spec/PROTOCOL.md), built and checked in
// one place so that the harness (host_process.hpp) and the C++ host (src/host_main.cpp) cannot
// disagree about them. No I/O here: lines in, lines out.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "aiospec/conformance/scenario.hpp"
#include "aiospec/conformance/trace.hpp"

namespace aiospec::conformance::protocol {

inline constexpr int kVersion = 1;

// What a host says about itself in its handshake.
struct Implementation {
  std::string name;              // "uvloop", "aiospec-reference/poll": names the expectation file
  std::string version;           // the loop's own version
  std::string language, language_version, runtime;
  std::string time;              // virtual | interposed | real
  std::set<std::string> features;
  bool versioned = false;        // true: send each scenario once per CPython version
  std::string producer;
};

// A host broke the protocol; `what()` is the reason wording of spec/PROTOCOL.md's table.
class Violation : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// JSON numbers must stay JSON: NaN and the infinities become "nan", "inf", "-inf" (as in trace
// files) everywhere in `value`.
nlohmann::json to_wire(const nlohmann::json& value);
// One line of the protocol: compact JSON, ASCII-escaped, '\n'-terminated.
std::string line(const nlohmann::json& message);

nlohmann::json start_request();
nlohmann::json run_request(std::int64_t seq, const nlohmann::json& scenario, const std::string& cpython);
nlohmann::json stop_request();

// A line the host wrote, as an object; throws Violation ("host wrote a line that is not JSON: …").
nlohmann::json parse_line(const std::string& text);
// The handshake answer; throws Violation ("malformed answer: …", or another protocol version).
Implementation parse_handshake(const nlohmann::json& answer);
nlohmann::json handshake_answer(const Implementation& implementation);

struct Skipped {
  std::string reason;
};
struct Errored {
  std::string kind;  // invalid_scenario | failed
  std::string message;
};
using Answer = std::variant<Trace, Skipped, Errored>;

// A run answer to request `seq`; throws Violation for another seq, or for an answer that is none
// of the three or a trace whose events are not event objects.
Answer parse_answer(const nlohmann::json& answer, std::int64_t seq);
nlohmann::json trace_answer(std::int64_t seq, const Trace& trace);
nlohmann::json skipped_answer(std::int64_t seq, const std::string& reason);
nlohmann::json errored_answer(std::int64_t seq, const std::string& kind, const std::string& message);

// The first `n` bytes of `text` as printable ASCII, "..." when cut: how reasons quote a host.
std::string excerpt(const std::string& text, std::size_t n = 200);

}  // namespace aiospec::conformance::protocol
