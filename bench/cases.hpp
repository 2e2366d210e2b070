// The benchmark functions. loop_bench.cpp registers them in pairs, reference then libuv, so that
// the two halves of a pair run back to back (less drift between them than if every reference
// case ran before every libuv case).
#pragma once

#include <benchmark/benchmark.h>

namespace aiospec::bench {

// reference_cases.cpp: aiospec::ref::EventLoop on real time and real descriptors.
void call_soon_batch_reference(benchmark::State& state);
void timers_fire_reference(benchmark::State& state);
void timer_cancel_churn_reference(benchmark::State& state);
void socketpair_pingpong_reference(benchmark::State& state, const char* backend);  // "poll" | "select"

// libuv_cases.cpp: the same work on a uv_loop_t.
void call_soon_batch_libuv(benchmark::State& state);
void timers_fire_libuv(benchmark::State& state);
void timer_cancel_churn_libuv(benchmark::State& state);
void socketpair_pingpong_libuv(benchmark::State& state);

}  // namespace aiospec::bench
