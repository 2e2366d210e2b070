#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "aiospec/conformance/trace.hpp"

namespace aiospec::conformance {

std::string render_double(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  // Shortest round-trip digits from the standard library, then Python's float_repr_style layout.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  if (ec != std::errc()) throw std::runtime_error("cannot render a double");
  std::string sci(buf, end);  // "-1.2345e+02"
  bool negative = sci[0] == '-';
  std::string body = negative ? sci.substr(1) : sci;
  std::size_t e = body.find('e');
  int exponent = std::atoi(body.c_str() + e + 1);
  std::string digits;
  for (std::size_t i = 0; i < e; ++i) {
    if (body[i] != '.') digits += body[i];
  }
  std::string out;
  if (exponent < -4 || exponent >= 16) {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char exp[16];
    std::snprintf(exp, sizeof exp, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    out += exp;
  } else if (exponent < 0) {
    out = "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
  } else {
    auto point = static_cast<std::size_t>(exponent) + 1;
    if (digits.size() <= point) {
      out = digits + std::string(point - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, point) + "." + digits.substr(point);
    }
  }
  return negative ? "-" + out : out;
}

namespace {

std::string render_object(const nlohmann::json& object, bool event_order) {
  std::string out = "{";
  bool first = true;
  auto emit = [&](const std::string& key, const nlohmann::json& value) {
    if (!first) out += ", ";
    first = false;
    out += nlohmann::json(key).dump(-1, ' ', true) + ": " + render_json_value(value);
  };
  if (event_order) {
    if (object.contains("t")) emit("t", object.at("t"));
    if (object.contains("ev")) emit("ev", object.at("ev"));
  }
  for (const auto& [key, value] : object.items()) {  // nlohmann keeps keys sorted
    if (event_order && (key == "t" || key == "ev")) continue;
    emit(key, value);
  }
  return out + "}";
}

}  // namespace

std::string render_json_value(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::number_float:
      // NaN and infinities are not JSON: they travel as the strings "nan", "inf", "-inf", as NUM
      // does in scenarios.
      return std::isfinite(v.get<double>()) ? render_double(v.get<double>()) : "\"" + render_double(v.get<double>()) + "\"";
    case nlohmann::json::value_t::object:
      return render_object(v, false);
    case nlohmann::json::value_t::array: {
      std::string out = "[";
      for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + render_json_value(v[i]);
      return out + "]";
    }
    default:
      return v.dump(-1, ' ', true);  // strings (ASCII-escaped like Python), integers, bools, null
  }
}

std::string render_event(const Event& event) { return render_object(event, true); }

std::vector<std::string> render_events(const std::vector<Event>& events) {
  std::vector<std::string> lines;
  lines.reserve(events.size());
  for (const Event& e : events) lines.push_back(render_event(e));
  return lines;
}

std::string render_trace_file(const Trace& trace, const std::string& scenario_sha256) {
  auto str = [](const std::string& s) { return nlohmann::json(s).dump(-1, ' ', true); };
  std::string out = "{\n";
  out += "  \"format\": \"aiospec-trace/1\",\n";
  out += "  \"scenario\": " + str(trace.scenario) + ",\n";
  out += "  \"scenario_sha256\": " + str(scenario_sha256) + ",\n";
  out += "  \"producer\": " + str(trace.producer) + ",\n";
  out += "  \"regenerate\": \"make bless\",\n";
  out += "  \"events\": [";
  for (std::size_t i = 0; i < trace.events.size(); ++i) {
    out += (i ? ",\n    " : "\n    ") + render_event(trace.events[i]);
  }
  out += trace.events.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return out;
}

Trace parse_trace_file(const std::string& text) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, true, false);
  if (!doc.is_object() || doc.value("format", "") != "aiospec-trace/1" || !doc.contains("events") ||
      !doc["events"].is_array()) {
    throw std::runtime_error("not an aiospec-trace/1 file");
  }
  Trace trace;
  trace.scenario = doc.value("scenario", "");
  trace.producer = doc.value("producer", "");
  trace.scenario_sha256 = doc.value("scenario_sha256", "");
  for (std::size_t i = 0; i < doc["events"].size(); ++i) {
    const auto& e = doc["events"][i];
    // The fields every comparison reads; the rest is checked by the schema in `aiospec lint`.
    if (!e.is_object() || !e.contains("t") || !e.contains("ev") || !e["ev"].is_string() ||
        !(e["t"].is_number() || e["t"].is_string())) {
      throw std::runtime_error("events[" + std::to_string(i) + "]: an event needs \"t\" and \"ev\"");
    }
    trace.events.push_back(e);
  }
  return trace;
}

Trace read_trace_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read");
  std::stringstream buffer;
  buffer << in.rdbuf();
  try {
    return parse_trace_file(buffer.str());
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

}  // namespace aiospec::conformance
