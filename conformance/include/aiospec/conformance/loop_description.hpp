// What a loop author writes besides the adapter (adapter.hpp): one function that says what the
// loop is and makes its adapters. The package's two mains call it:
//
//   aiospec::host     a loop host (spec/PROTOCOL.md), for `aiospec report --loop cmd:...`
//   aiospec::runner   the CTest runner of aiospec_add_conformance(), and its `--report`
//
// so the same adapter sources are judged in the author's build (ctest -L conformance) and in
// aiospec's matrix. Example: examples/out-of-tree-loop/.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "aiospec/conformance/adapter.hpp"

namespace aiospec::conformance {

// What an adapter is made for.
struct AdapterRequest {
  std::string backend;  // one of LoopDescription::backends
  std::string cpython;  // the CPython version the run is judged against ("3.12"); see `versioned`
  std::string time;     // "virtual": loops read and wait through the VirtualTime new_loop() is given;
                        // "interposed": loops keep their own clock (libaiospec_interpose.so answers it)
};

struct LoopDescription {
  std::string name;     // the report column, and the expectation file's `loop:` ("libuv")
  std::string version;  // the loop's own version ("1.44.2")
  std::vector<std::string> backends = {"default"};
  std::vector<std::string> time_modes = {"virtual"};  // "virtual" and/or "interposed", preferred first
  // true: make_adapter imitates request.cpython (the reference loop's profiles), so each scenario
  // is run once per CPython version; false: run once, judged against every version.
  bool versioned = false;
  std::function<std::unique_ptr<Adapter>(const AdapterRequest&)> make_adapter;
};

// Defined once, by the adapter's sources.
LoopDescription describe_loop();

}  // namespace aiospec::conformance
