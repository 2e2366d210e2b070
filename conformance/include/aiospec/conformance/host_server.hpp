// The host side of spec/PROTOCOL.md for hosts written in C++: reads requests, answers them
// through a function, until `stop` or end of input. The C++ host (src/host_main.cpp) and the
// protocol tests' deliberately broken host are both this loop around a different function.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

#include <nlohmann/json.hpp>

#include "aiospec/conformance/protocol.hpp"

namespace aiospec::conformance {

// The answer object (protocol.hpp: trace_answer, skipped_answer, errored_answer) to one run.
using RunHandler =
    std::function<nlohmann::json(std::int64_t seq, const nlohmann::json& scenario, const std::string& cpython)>;

// Exit status for the host: 0 after stop or end of input, 2 for a request it cannot read (one
// line on `err`). Each answer is one flushed line on `out`.
int serve(std::istream& in, std::ostream& out, std::ostream& err, const protocol::Implementation& implementation,
          const RunHandler& run);

}  // namespace aiospec::conformance
