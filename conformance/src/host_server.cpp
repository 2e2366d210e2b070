#include "aiospec/conformance/host_server.hpp"

#include <istream>
#include <ostream>

namespace aiospec::conformance {

int serve(std::istream& in, std::ostream& out, std::ostream& err, const protocol::Implementation& implementation,
          const RunHandler& run) {
  std::string text;
  while (std::getline(in, text)) {
    if (text.empty()) continue;
    nlohmann::json request;
    try {
      request = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception&) {
      err << "aiospec-host: a request that is not JSON: " << protocol::excerpt(text) << "\n";
      return 2;
    }
    const std::string cmd = request.is_object() ? request.value("cmd", "") : "";
    if (cmd == "stop") return 0;
    if (cmd == "start") {
      out << protocol::line(protocol::handshake_answer(implementation)) << std::flush;
    } else if (cmd == "run" && request.contains("seq") && request.at("seq").is_number_integer() &&
               request.contains("scenario")) {
      const auto seq = request.at("seq").get<std::int64_t>();
      const std::string cpython =
          request.contains("cpython") && request.at("cpython").is_string() ? request.at("cpython").get<std::string>() : "";
      out << protocol::line(run(seq, request.at("scenario"), cpython)) << std::flush;
    } else {
      err << "aiospec-host: not a request of protocol version " << protocol::kVersion << ": "
          << protocol::excerpt(text) << "\n";
      return 2;
    }
  }
  return 0;
}

}  // namespace aiospec::conformance
