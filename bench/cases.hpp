// The benchmark functions. loop_bench.cpp registers them in pairs, reference then libuv, so that
// the two halves of a pair run back to back (less drift between them than if every reference
// case ran before every libuv case).
#pragma once

#include <string>
#include <vector>

#include <benchmark/benchmark.h>

namespace aiospec::bench {

// reference_cases.cpp: aiospec::ref::EventLoop on real time and real descriptors.
void call_soon_batch_reference(benchmark::State& state);
void timers_fire_reference(benchmark::State& state);
void timer_cancel_churn_reference(benchmark::State& state);
// `backend`: one of aiospec::ref::available_backends(). A backend that cannot be opened on this
// machine makes the case SkipWithError("unavailable: ...").
void socketpair_pingpong_reference(benchmark::State& state, const std::string& backend);
void idle_pingpong_reference(benchmark::State& state, const std::string& backend);  // range(0): N idle
void many_ready_reference(benchmark::State& state, const std::string& backend);
void timer_compaction_reference(benchmark::State& state);
void threadsafe_producers_reference(benchmark::State& state);

// libuv_cases.cpp: the same work on a uv_loop_t.
void call_soon_batch_libuv(benchmark::State& state);
void timers_fire_libuv(benchmark::State& state);
void timer_cancel_churn_libuv(benchmark::State& state);
void socketpair_pingpong_libuv(benchmark::State& state);
void idle_pingpong_libuv(benchmark::State& state);  // range(0): N idle
void many_ready_libuv(benchmark::State& state);
void timer_compaction_libuv(benchmark::State& state);
void threadsafe_producers_libuv(benchmark::State& state);

// floor_cases.cpp: socketpair_pingpong's round trips on the bare system calls of one readiness
// mechanism (no loop): the kernel's part of each loop's ping-pong. `mechanism`: one of
// floor_mechanisms() ("select", "poll", "epoll", and "io_uring" when liburing was found).
std::vector<std::string> floor_mechanisms();
void socketpair_pingpong_floor(benchmark::State& state, const std::string& mechanism);

}  // namespace aiospec::bench
