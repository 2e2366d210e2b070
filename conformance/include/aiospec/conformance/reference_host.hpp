// What the C++ host serves: the reference loop, judged by the same interpreter and adapter as
// in-process, imitating the CPython version each run names (versioned).
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "aiospec/conformance/protocol.hpp"
#include "aiospec/conformance/reference_adapter.hpp"

namespace aiospec::conformance {

protocol::Implementation reference_implementation(const std::string& backend, const std::string& version);

// The answer to one run of `scenario` on the reference loop with `backend` and the profile of
// CPython `cpython` (the default profile when empty). With a `factory` (a mutant loop,
// conformance/mutants), that loop under the name `name`.
nlohmann::json run_on_reference(const std::string& backend, std::int64_t seq, const nlohmann::json& scenario,
                                const std::string& cpython, const ReferenceAdapter::LoopFactory& factory = {},
                                const std::string& name = {});

}  // namespace aiospec::conformance
