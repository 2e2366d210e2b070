#include "aiospec/conformance/protocol.hpp"

#include <cmath>

namespace aiospec::conformance::protocol {

using json = nlohmann::json;

json to_wire(const json& value) {
  switch (value.type()) {
    case json::value_t::number_float: {
      const double d = value.get<double>();
      if (std::isnan(d)) return "nan";
      if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
      return value;
    }
    case json::value_t::array: {
      json out = json::array();
      for (const auto& item : value) out.push_back(to_wire(item));
      return out;
    }
    case json::value_t::object: {
      json out = json::object();
      for (auto it = value.begin(); it != value.end(); ++it) out[it.key()] = to_wire(it.value());
      return out;
    }
    default:
      return value;
  }
}

// ensure_ascii: a line never contains a raw '\n' or bytes a reader could split on.
std::string line(const json& message) { return to_wire(message).dump(-1, ' ', true) + "\n"; }

json start_request() { return {{"cmd", "start"}, {"version", kVersion}}; }

json run_request(std::int64_t seq, const json& scenario, const std::string& cpython) {
  return {{"cmd", "run"}, {"seq", seq}, {"scenario", scenario}, {"cpython", cpython}};
}

json stop_request() { return {{"cmd", "stop"}}; }

std::string excerpt(const std::string& text, std::size_t n) {
  // Reasons end up in reports and JSON: what a host wrote is quoted as printable ASCII, anything
  // else (control characters, bytes that may not be UTF-8) as \xNN.
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < n; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  if (text.size() > n) out += "...";
  return out;
}

json parse_line(const std::string& text) {
  json value;
  try {
    value = json::parse(text);
  } catch (const json::exception&) {
    throw Violation("host wrote a line that is not JSON: " + excerpt(text));
  }
  if (!value.is_object()) throw Violation("host wrote a line that is not JSON: " + excerpt(text));
  return value;
}

namespace {

[[noreturn]] void malformed(const json& answer, const std::string& why) {
  throw Violation("malformed answer: " + why + ": " + excerpt(answer.dump(-1, ' ', true)));
}

std::string string_field(const json& object, const char* key, const json& whole) {
  if (!object.contains(key) || !object.at(key).is_string()) malformed(whole, std::string("no string \"") + key + "\"");
  return object.at(key).get<std::string>();
}

}  // namespace

Implementation parse_handshake(const json& answer) {
  if (!answer.contains("version") || !answer.at("version").is_number_integer()) {
    malformed(answer, "the handshake has no protocol \"version\"");
  }
  if (answer.at("version").get<std::int64_t>() != kVersion) {
    throw Violation("host speaks protocol version " + answer.at("version").dump() + ", the harness speaks " +
                    std::to_string(kVersion));
  }
  if (!answer.contains("implementation") || !answer.at("implementation").is_object()) {
    malformed(answer, "the handshake has no \"implementation\" object");
  }
  const json& impl = answer.at("implementation");
  Implementation out;
  out.name = string_field(impl, "name", answer);
  out.version = string_field(impl, "version", answer);
  out.language = string_field(impl, "language", answer);
  out.language_version = string_field(impl, "language_version", answer);
  out.runtime = string_field(impl, "runtime", answer);
  out.time = string_field(impl, "time", answer);
  out.producer = impl.contains("producer") ? string_field(impl, "producer", answer) : out.name;
  if (out.name.empty()) malformed(answer, "an empty implementation name");
  if (out.time != "virtual" && out.time != "interposed" && out.time != "real") {
    malformed(answer, "time \"" + out.time + "\" is none of virtual, interposed, real");
  }
  if (!impl.contains("features") || !impl.at("features").is_array()) malformed(answer, "no \"features\" list");
  for (const auto& f : impl.at("features")) {
    if (!f.is_string()) malformed(answer, "a feature that is not a string");
    out.features.insert(f.get<std::string>());
  }
  if (!impl.contains("versioned") || !impl.at("versioned").is_boolean()) malformed(answer, "no boolean \"versioned\"");
  out.versioned = impl.at("versioned").get<bool>();
  return out;
}

json handshake_answer(const Implementation& i) {
  return {{"version", kVersion},
          {"implementation",
           {{"name", i.name},
            {"version", i.version},
            {"language", i.language},
            {"language_version", i.language_version},
            {"runtime", i.runtime},
            {"time", i.time},
            {"features", i.features},
            {"versioned", i.versioned},
            {"producer", i.producer}}}};
}

Answer parse_answer(const json& answer, std::int64_t seq) {
  if (!answer.contains("seq") || !answer.at("seq").is_number_integer()) malformed(answer, "no integer \"seq\"");
  const auto got = answer.at("seq").get<std::int64_t>();
  if (got != seq) throw Violation("host answered seq " + std::to_string(got) + " to request " + std::to_string(seq));
  const int kinds = int(answer.contains("trace")) + int(answer.contains("skipped")) + int(answer.contains("errored"));
  if (kinds != 1) malformed(answer, "not exactly one of \"trace\", \"skipped\", \"errored\"");
  if (answer.contains("skipped")) {
    const json& s = answer.at("skipped");
    if (!s.is_object()) malformed(answer, "\"skipped\" is not an object");
    return Skipped{string_field(s, "reason", answer)};
  }
  if (answer.contains("errored")) {
    const json& e = answer.at("errored");
    if (!e.is_object()) malformed(answer, "\"errored\" is not an object");
    Errored out{string_field(e, "kind", answer), string_field(e, "message", answer)};
    if (out.kind != "invalid_scenario" && out.kind != "failed") {
      malformed(answer, "errored kind \"" + out.kind + "\" is neither invalid_scenario nor failed");
    }
    return out;
  }
  const json& t = answer.at("trace");
  if (!t.is_object() || !t.contains("events") || !t.at("events").is_array()) {
    malformed(answer, "\"trace\" has no \"events\" list");
  }
  Trace trace;
  trace.producer = t.contains("producer") && t.at("producer").is_string() ? t.at("producer").get<std::string>() : "";
  const json& events = t.at("events");
  for (std::size_t i = 0; i < events.size(); ++i) {
    const json& e = events[i];
    // The fields every comparison reads, as parse_trace_file checks them in committed traces.
    if (!e.is_object() || !e.contains("t") || !e.contains("ev") || !e.at("ev").is_string() ||
        !(e.at("t").is_number() || e.at("t").is_string())) {
      throw Violation("malformed answer: events[" + std::to_string(i) + "] is not an event object: " +
                      excerpt(e.dump(-1, ' ', true)));
    }
    trace.events.push_back(e);
  }
  return trace;
}

json trace_answer(std::int64_t seq, const Trace& trace) {
  return {{"seq", seq}, {"trace", {{"producer", trace.producer}, {"events", trace.events}}}};
}

json skipped_answer(std::int64_t seq, const std::string& reason) {
  return {{"seq", seq}, {"skipped", {{"reason", reason}}}};
}

json errored_answer(std::int64_t seq, const std::string& kind, const std::string& message) {
  return {{"seq", seq}, {"errored", {{"kind", kind}, {"message", message}}}};
}

}  // namespace aiospec::conformance::protocol
