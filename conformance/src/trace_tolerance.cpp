// Real-time runs (spec/PROTOCOL.md, "Time modes"): a loop on the real clock cannot reproduce
// CPython's times to the last bit, only to within a tolerance. Everything else in a trace (order,
// labels, values, errors) must still be exact, so the comparison stays the exact one, run on the
// actual events with the times that agree closely enough replaced by the expected ones.
#include <cmath>
#include <string>

#include "aiospec/conformance/trace.hpp"

namespace aiospec::conformance {

namespace {

// Replaces actual[key] by expected[key] when both are numbers within the tolerance.
void pull(const Event& expected, Event& actual, const char* key, double tolerance) {
  if (!expected.contains(key) || !actual.contains(key)) return;
  const auto& want = expected.at(key);
  const auto& got = actual.at(key);
  if (!want.is_number() || !got.is_number()) return;  // "inf"/"nan" strings must be equal
  if (std::fabs(want.get<double>() - got.get<double>()) <= tolerance) actual[key] = want;
}

}  // namespace

std::vector<Event> within_tolerance(const std::vector<Event>& expected, const std::vector<Event>& actual,
                                    double tolerance) {
  std::vector<Event> out = actual;
  for (std::size_t i = 0; i < out.size() && i < expected.size(); ++i) {
    if (!expected[i].is_object() || !out[i].is_object()) continue;
    pull(expected[i], out[i], "t", tolerance);
    // Clock readings: time() itself, and when() (an absolute deadline, computed from the clock).
    const std::string ev = expected[i].value("ev", "");
    if ((ev == "time" || ev == "when") && out[i].value("ev", "") == ev) pull(expected[i], out[i], "value", tolerance);
  }
  return out;
}

}  // namespace aiospec::conformance
