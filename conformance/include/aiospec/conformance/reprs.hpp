// The normalisation of reprs in messages (spec/TRACE.md, "Reprs in messages"): what the suite
// does to every handler message and log record of every loop before it is compared, so that
// CPython's `Exception in callback h() at /x/y.py:12` and a C++ loop's own text meet on one
// form. Defined on CPython's side (oracle/aiospec_oracle/reprs.py is the twin); both are tested
// against the vectors in spec/normalisation.json.
#pragma once

#include <string>
#include <string_view>

namespace aiospec::conformance {

// The normal form of `text`. Idempotent: normalise_reprs(normalise_reprs(t)) == normalise_reprs(t).
std::string normalise_reprs(std::string_view text);

}  // namespace aiospec::conformance
