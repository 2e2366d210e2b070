// The reference loop as a described loop (loop_description.hpp), linked with the package's host
// main: the self-check of interposed time for C++ loops. Under libaiospec_interpose.so, on
// time.monotonic() and real poll/select waits, it must give every trace virtual time gives.
#include "aiospec/conformance/loop_description.hpp"
#include "aiospec/conformance/reference_adapter.hpp"
#include "aiospec/ref/profile.hpp"
#include "aiospec/ref/selectors.hpp"

aiospec::conformance::LoopDescription aiospec::conformance::describe_loop() {
  LoopDescription d;
  d.name = "aiospec-reference";
  d.version = AIOSPEC_VERSION;
  d.backends = ref::available_backends();
  d.time_modes = {"virtual", "interposed", "real"};
  d.versioned = true;
  d.make_adapter = [](const AdapterRequest& request) {
    auto adapter = std::make_unique<ReferenceAdapter>(request.backend, ref::Profile::for_version(request.cpython));
    if (request.time != "virtual") adapter->use_own_clock();
    return adapter;
  };
  return d;
}
