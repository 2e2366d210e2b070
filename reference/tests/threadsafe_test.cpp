// call_soon_threadsafe from another thread while the loop runs on real time and real
// descriptors (ORD-09). Bounded: a watchdog timer stops the loop after a few seconds at most.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "aiospec/ref/base_events.hpp"
#include "backends.hpp"
#include "test_loop.hpp"

namespace aiospec::ref::testing {
namespace {

class ThreadsafeByBackend : public ByBackend {};

TEST_P(ThreadsafeByBackend, WakesABlockedLoopAndKeepsFifoOrder) {
  EventLoop loop(backend());
  constexpr int kCount = 2000;
  std::vector<int> seen;  // touched on the loop thread only
  std::thread producer;
  bool watchdog_fired = false;
  loop.call_later(10.0, [&] {
    watchdog_fired = true;
    loop.stop();
  });
  loop.call_soon([&] {
    // Started from inside the loop, so the loop is running (and soon blocked) meanwhile.
    producer = std::thread([&] {
      for (int i = 0; i < kCount; ++i) {
        loop.call_soon_threadsafe([&, i] {
          seen.push_back(i);
          if (i == kCount - 1) loop.stop();
        });
        if (i % 500 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
  });
  loop.run_forever();
  producer.join();
  EXPECT_FALSE(watchdog_fired);
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kCount));
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(seen[i], i);
}

TEST_P(ThreadsafeByBackend, CallsRacingCloseEitherQueueOrFailCleanly) {
  auto loop = std::make_unique<EventLoop>(backend());
  std::atomic<int> refused{0};
  std::thread producer([&] {
    for (int i = 0; i < 1000; ++i) {
      try {
        loop->call_soon_threadsafe([] {});
      } catch (const RuntimeError&) {
        ++refused;
      }
    }
  });
  loop->close();
  producer.join();
  EXPECT_TRUE(loop->is_closed());
  EXPECT_GE(refused.load(), 0);
}

INSTANTIATE_BY_BACKEND(ThreadsafeByBackend);

TEST(Threadsafe, AppendsToTheSameFifoAsCallSoon) {
  VirtualWorld w;
  w.loop->call_soon(w.record("soon-1"));
  w.loop->call_soon_threadsafe(w.record("threadsafe"));
  w.loop->call_soon(w.record("soon-2"));
  w.loop->stop();
  w.loop->run_forever();
  EXPECT_EQ(w.log, (std::vector<std::string>{"soon-1", "threadsafe", "soon-2"}));
  // The self-pipe byte was drained by the internal reader in that iteration's I/O phase, so
  // the next run waits for its timer straight away instead of waking up for the byte again.
  w.loop->call_later(1.0, [&] { w.loop->stop(); });
  w.loop->run_forever();
  EXPECT_EQ(w.keeper.polls(), 2u);
  EXPECT_EQ(w.clock.time(), 1.0);
}

}  // namespace
}  // namespace aiospec::ref::testing
