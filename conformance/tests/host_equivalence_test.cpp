// The C++ host (aiospec-host) against the in-process reference loop: for every scenario, backend
// and CPython version with traces, the same status, reason and actual trace. What the protocol
// adds (serialisation of every event, NaN and the infinities, process boundaries) changes nothing.
#include <gtest/gtest.h>

#include "aiospec/conformance/reference_adapter.hpp"
#include "aiospec/conformance/remote_loop.hpp"
#include "aiospec/conformance/runner.hpp"
#include "aiospec/ref/selectors.hpp"
#include "suite_paths.hpp"

namespace aiospec::conformance {
namespace {

TEST(CppHost, EveryScenarioJudgedExactlyAsInProcess) {
  const auto scenarios = read_bundle(suite::bundle_path());
  const auto versions = versions_with_traces(suite::expected_root());
  ASSERT_FALSE(versions.empty());
  int judged = 0;
  for (const auto& backend : ref::available_backends()) {
    HostCommand command;
    command.argv = {AIOSPEC_HOST, "--backend", backend};
    command.time = "virtual";
    RemoteLoop remote(command);
    for (const auto& version : versions) {
      ReferenceAdapter local(backend, ref::Profile::for_version(version));
      for (const Scenario& s : scenarios) {
        const Outcome in_process = judge(local, s, suite::expected_root(), version);
        const Outcome over_protocol = judge_with(
            remote.implementation().features, [&] { return remote.run(s, version); }, s, suite::expected_root(),
            version, {"expected (cpython-" + version + ")", "actual (" + local.name() + ")"}, false);
        SCOPED_TRACE(s.id + " " + backend + " cpython-" + version);
        EXPECT_EQ(to_string(over_protocol.status), std::string(to_string(in_process.status)));
        EXPECT_EQ(over_protocol.reason, in_process.reason);
        EXPECT_EQ(render_events(over_protocol.actual.events), render_events(in_process.actual.events));
        ++judged;
      }
    }
    EXPECT_EQ(remote.starts(), 1) << "the host had to be restarted";
  }
  std::cout << "judged " << judged << " scenario x backend x version both ways\n";
}

}  // namespace
}  // namespace aiospec::conformance
