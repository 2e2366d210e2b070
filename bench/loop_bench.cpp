// loop_bench: the reference loop side by side with libuv, in one process and one run.
//
// Every case is a pair, BM_<case>/reference[/<backend>] and BM_<case>/libuv, doing the same work
// per iteration (see bench/README.md). All cases report real (wall-clock) time and
// items_processed; bench/ratios.py divides one by the other. The pairs are registered here, in
// order, so that the two halves of a pair run one right after the other.
#include <uv.h>

#include <cstring>

#include <benchmark/benchmark.h>

#include "cases.hpp"

namespace {

void register_pairs() {
  using namespace aiospec::bench;
  benchmark::RegisterBenchmark("BM_call_soon_batch/reference", call_soon_batch_reference)->UseRealTime();
  benchmark::RegisterBenchmark("BM_call_soon_batch/libuv", call_soon_batch_libuv)->UseRealTime();

  benchmark::RegisterBenchmark("BM_timers_fire/reference", timers_fire_reference)->UseRealTime();
  benchmark::RegisterBenchmark("BM_timers_fire/libuv", timers_fire_libuv)->UseRealTime();

  benchmark::RegisterBenchmark("BM_timer_cancel_churn/reference", timer_cancel_churn_reference)
      ->UseRealTime();
  benchmark::RegisterBenchmark("BM_timer_cancel_churn/libuv", timer_cancel_churn_libuv)->UseRealTime();

  // One libuv run serves as the peer of both reference backends.
  benchmark::RegisterBenchmark("BM_socketpair_pingpong/reference/poll", socketpair_pingpong_reference,
                               "poll")
      ->UseRealTime();
  benchmark::RegisterBenchmark("BM_socketpair_pingpong/reference/select",
                               socketpair_pingpong_reference, "select")
      ->UseRealTime();
  benchmark::RegisterBenchmark("BM_socketpair_pingpong/libuv", socketpair_pingpong_libuv)->UseRealTime();
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // Into the JSON's "context", for ratios.py: numbers from a Debug or sanitizer build are not
  // worth comparing.
  benchmark::AddCustomContext("aiospec_build_type", AIOSPEC_BENCH_BUILD_TYPE);
  benchmark::AddCustomContext("aiospec_sanitize",
                              std::strlen(AIOSPEC_BENCH_SANITIZE) ? AIOSPEC_BENCH_SANITIZE : "none");
  benchmark::AddCustomContext("libuv_version", uv_version_string());
  register_pairs();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
