// loop_bench: the reference loop side by side with libuv, in one process and one run.
//
// Every case is a pair, BM_<case>/reference[/<backend>] and BM_<case>/libuv, doing the same work
// per iteration (see bench/README.md). All cases report real (wall-clock) time and
// items_processed; bench/ratios.py divides one by the other. The pairs are registered here, in
// order, so that the two halves of a pair run one right after the other.
#include <sys/resource.h>
#include <uv.h>

#include <cstdio>
#include <cstring>
#include <string>

#include <benchmark/benchmark.h>

#include "aiospec/ref/selectors.hpp"
#include "cases.hpp"
#include "common.hpp"

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

  // The backend-parameterized cases run on every backend of this build; one libuv run serves as
  // the peer of all of them (at the same N for idle_pingpong).
  const auto backends = aiospec::ref::available_backends();
  for (const std::string& backend : backends) {
    benchmark::RegisterBenchmark(("BM_socketpair_pingpong/reference/" + backend).c_str(),
                                 socketpair_pingpong_reference, backend)
        ->UseRealTime();
  }
  benchmark::RegisterBenchmark("BM_socketpair_pingpong/libuv", socketpair_pingpong_libuv)->UseRealTime();
  // The kernel's part of the ping-pong, mechanism by mechanism (BM_socketpair_pingpong/floor/...):
  // ratios.py shows what each loop adds to it.
  for (const std::string& mechanism : floor_mechanisms()) {
    benchmark::RegisterBenchmark(("BM_socketpair_pingpong/floor/" + mechanism).c_str(), socketpair_pingpong_floor,
                                 mechanism)
        ->UseRealTime();
  }

  // BM_idle_pingpong/reference/<backend>/<N> and BM_idle_pingpong/libuv/<N>. select at N = 1024
  // is registered and reports "unavailable: select(2) cannot watch descriptors >= FD_SETSIZE".
  for (const std::string& backend : backends) {
    auto* b = benchmark::RegisterBenchmark(("BM_idle_pingpong/reference/" + backend).c_str(),
                                           idle_pingpong_reference, backend);
    for (int n : kIdleSockets) b->Arg(n);
    b->UseRealTime();
  }
  auto* idle_uv = benchmark::RegisterBenchmark("BM_idle_pingpong/libuv", idle_pingpong_libuv);
  for (int n : kIdleSockets) idle_uv->Arg(n);
  idle_uv->UseRealTime();

  for (const std::string& backend : backends) {
    benchmark::RegisterBenchmark(("BM_many_ready/reference/" + backend).c_str(), many_ready_reference, backend)
        ->UseRealTime();
  }
  benchmark::RegisterBenchmark("BM_many_ready/libuv", many_ready_libuv)->UseRealTime();

  benchmark::RegisterBenchmark("BM_timer_compaction/reference", timer_compaction_reference)->UseRealTime();
  benchmark::RegisterBenchmark("BM_timer_compaction/libuv", timer_compaction_libuv)->UseRealTime();

  benchmark::RegisterBenchmark("BM_threadsafe_producers/reference", threadsafe_producers_reference)
      ->UseRealTime();
  benchmark::RegisterBenchmark("BM_threadsafe_producers/libuv", threadsafe_producers_libuv)->UseRealTime();
}

// idle_pingpong at N = 1024 holds 2048 socket descriptors plus the loops' own; raise the soft
// RLIMIT_NOFILE to the hard limit (a soft limit of 1024 is common; the hard one rarely is).
void raise_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur != RLIM_INFINITY && (limit.rlim_max == RLIM_INFINITY || limit.rlim_cur < limit.rlim_max)) {
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) std::perror("loop_bench: setrlimit(RLIMIT_NOFILE)");
  }
}

}  // namespace

int main(int argc, char** argv) {
  raise_fd_limit();
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
