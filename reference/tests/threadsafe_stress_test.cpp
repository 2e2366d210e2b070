// call_soon_threadsafe under load (ORD-09): 8 producer threads, 1M callbacks in total, into a
// running loop on real descriptors. Every callback must run exactly once and in per-thread order:
// each carries (thread, sequence) and the loop side checks sequence == last + 1 per thread.
//
// It cannot hang on a lost callback: the producer that finishes last (an acq_rel countdown, so
// every other producer's calls happen before its own) posts one more callback, the sentinel, and
// the sentinel stops the loop. The ready queue is one FIFO under one mutex, so the sentinel runs
// after everything posted before it, and the checks then look at the whole tally. No sleeps, no
// clock: a bounded amount of work. CTest's TIMEOUT (reference/CMakeLists.txt) is the backstop for
// a loop that stops waking up at all.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <latch>
#include <thread>
#include <vector>

#include "aiospec/ref/base_events.hpp"

namespace aiospec::ref::testing {
namespace {

constexpr int kThreads = 8;
constexpr int kTotal = 1'000'000;
constexpr int kPerThread = kTotal / kThreads;
static_assert(kPerThread * kThreads == kTotal);

// On poll, the default backend: the path under test (ready queue, mutex, self-pipe) is the same
// on every selector, and one million callbacks once is enough under TSan.
TEST(ThreadsafeStress, EightProducersOneMillionCallbacksEachOnceInPerThreadOrder) {
  EventLoop loop("poll");
  // Loop thread only.
  std::vector<std::int64_t> last(kThreads, -1);
  std::int64_t ran = 0;
  std::int64_t out_of_order = 0;
  int first_bad_thread = -1;
  std::int64_t first_bad_seq = -1, first_bad_expected = -1;
  bool sentinel_ran = false;
  std::int64_t ran_at_sentinel = -1;

  std::latch start(kThreads);  // the producers begin together, for contention
  std::atomic<int> producing{kThreads};
  std::vector<std::thread> producers;
  producers.reserve(kThreads);

  auto produce = [&](int thread) {
    start.arrive_and_wait();
    for (int seq = 0; seq < kPerThread; ++seq) {
      loop.call_soon_threadsafe([&, thread, seq] {
        ++ran;
        if (seq != last[thread] + 1) {
          if (out_of_order++ == 0) {
            first_bad_thread = thread;
            first_bad_seq = seq;
            first_bad_expected = last[thread] + 1;
          }
        }
        last[thread] = seq;
      });
    }
    if (producing.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      loop.call_soon_threadsafe([&] {
        sentinel_ran = true;
        ran_at_sentinel = ran;
        loop.stop();
      });
    }
  };
  // Started from inside the loop, so it is running (and blocking in its selector between
  // batches) while they post.
  loop.call_soon([&] {
    for (int t = 0; t < kThreads; ++t) producers.emplace_back(produce, t);
  });
  loop.run_forever();
  for (auto& producer : producers) producer.join();

  ASSERT_TRUE(sentinel_ran);
  EXPECT_EQ(ran_at_sentinel, kTotal);
  EXPECT_EQ(ran, kTotal);
  EXPECT_EQ(out_of_order, 0) << "first: thread " << first_bad_thread << " ran sequence " << first_bad_seq
                             << ", expected " << first_bad_expected;
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(last[t], kPerThread - 1) << "thread " << t;
  EXPECT_EQ(loop.ready_count(), 0u);
  loop.close();
}

}  // namespace
}  // namespace aiospec::ref::testing
