// Traces: the events a loop produced for one scenario, rendered so that C++ and Python write the
// same characters (spec/TRACE.md), and compared line by line.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace aiospec::conformance {

using Event = nlohmann::json;

struct Trace {
  std::string scenario;
  std::string producer;  // "cpython-3.11.7", "aiospec-reference/poll"
  std::vector<Event> events;
  // Of a committed trace: the hash of the scenario it was blessed from (spec/TRACE.md). A trace
  // whose hash is not the bundle's is stale: it says nothing about the scenario as it is now.
  std::string scenario_sha256 = {};
};

// Python's repr() of a float: shortest round-trip digits, fixed notation for decimal exponents
// -4..15, otherwise d.ddde±XX; "nan", "inf", "-inf" for the non-finite values.
std::string render_double(double value);
// Any JSON value in the trace layout (floats as above, separators ", " and ": ").
std::string render_json_value(const nlohmann::json& value);
// One event as one line: "t" first, "ev" second, other keys sorted.
std::string render_event(const Event& event);
std::vector<std::string> render_events(const std::vector<Event>& events);
// The whole trace file, in the layout the oracle writes.
std::string render_trace_file(const Trace& trace, const std::string& scenario_sha256);

Trace parse_trace_file(const std::string& text);  // throws std::runtime_error on a malformed file
Trace read_trace_file(const std::string& path);

struct Divergence {
  std::size_t index;    // first event that differs
  std::string summary;  // `first divergence at event 3, field "label": expected "a", actual "b"`
};

// nullopt when the traces are equal.
std::optional<Divergence> first_divergence(const std::vector<Event>& expected, const std::vector<Event>& actual);

// `actual` with each "t", and the "value" of each `time` event, replaced by the expected one
// where both are numbers within `tolerance` seconds of each other: what real-time runs are
// compared as (exactly, afterwards), so that the divergence and the diff show only what differs
// beyond the tolerance. Events are paired by position.
std::vector<Event> within_tolerance(const std::vector<Event>& expected, const std::vector<Event>& actual,
                                    double tolerance);

struct DiffLabels {
  std::string expected = "expected";
  std::string actual = "actual";
};
// A unified diff of the rendered events (3 lines of context); ANSI colours when `color`.
std::string unified_diff(const std::vector<std::string>& expected, const std::vector<std::string>& actual,
                         const DiffLabels& labels, bool color);

}  // namespace aiospec::conformance
