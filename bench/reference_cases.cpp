// The reference loop's half of each pair. Every case builds its loop (and socketpair) once, outside
// the timed loop; each benchmark iteration then does a fixed amount of work and stops the loop,
// so an iteration is bounded and leaves the loop as it found it.
#include <vector>

#include "aiospec/ref/base_events.hpp"
#include "cases.hpp"
#include "common.hpp"

namespace aiospec::bench {

using aiospec::ref::EventLoop;
using aiospec::ref::TimerHandlePtr;

// N call_soon callbacks, each incrementing a counter; the N-th stops the loop. One run_forever is
// one loop iteration: a poll(0) (callbacks are ready), then the batch. The loop's own self-pipe is
// the only registered descriptor.
void call_soon_batch_reference(benchmark::State& state) {
  EventLoop loop("poll");
  int count = 0;
  for (auto _ : state) {
    count = 0;
    for (int i = 0; i < kCallbacks; ++i) {
      loop.call_soon([&count, &loop] {
        if (++count == kCallbacks) loop.stop();
      });
    }
    loop.run_forever();
    if (count != kCallbacks) {
      state.SkipWithError("call_soon_batch: not every callback ran");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kCallbacks);
}

// N timers with distinct deadlines, one microsecond apart, the last of them at the moment of
// scheduling: all are due when the loop runs, so the iteration measures heap push, heap pop and
// dispatch, never a sleep (poll() rounds a wait up to a whole millisecond, which would swamp
// everything else). call_at with one clock read per batch, not call_later (one clock read per
// timer), because libuv's uv_timer_start also reads the loop's cached time instead of the clock.
void timers_fire_reference(benchmark::State& state) {
  EventLoop loop("poll");
  int count = 0;
  for (auto _ : state) {
    count = 0;
    const double first = loop.time() - (kTimers - 1) * kTimerSpacingSeconds;
    for (int i = 0; i < kTimers; ++i) {
      loop.call_at(first + i * kTimerSpacingSeconds, [&count, &loop] {
        if (++count == kTimers) loop.stop();
      });
    }
    loop.run_forever();
    if (count != kTimers || loop.scheduled_count() != 0) {
      state.SkipWithError("timers_fire: not every timer fired");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kTimers);
}

// N timers an hour out, all cancelled, then one loop iteration (stop() before run_forever() is
// asyncio's way to run exactly one). Cancelling only counts; the iteration then finds more than
// half of more than 100 timers cancelled and rebuilds the heap without them (the compaction).
void timer_cancel_churn_reference(benchmark::State& state) {
  EventLoop loop("poll");
  std::vector<TimerHandlePtr> timers;
  timers.reserve(kTimers);
  for (auto _ : state) {
    const double far = loop.time() + kFarFutureSeconds;
    for (int i = 0; i < kTimers; ++i) {
      timers.push_back(loop.call_at(far + i * kTimerSpacingSeconds, [] {}));
    }
    for (auto& timer : timers) timer->cancel();
    loop.stop();
    loop.run_forever();
    timers.clear();  // the last references: the handles are freed here, inside the timing
    if (loop.scheduled_count() != 0 || loop.timer_cancelled_count() != 0) {
      state.SkipWithError("timer_cancel_churn: cancelled timers still in the heap");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kTimers);
}

// M one-byte round trips over a socketpair: the client's reader counts the echo and sends the
// next byte, the server's reader echoes. Each round trip is two loop iterations, each one a
// poll()/select() over three descriptors (the self-pipe and both ends), a recv and a send.
void socketpair_pingpong_reference(benchmark::State& state, const char* backend) {
  EventLoop loop(backend);
  SocketPair pair;
  int trips = 0;
  bool io_ok = true;
  loop.add_reader(pair.server, [&] { io_ok &= recv_byte(pair.server) && send_byte(pair.server); });
  loop.add_reader(pair.client, [&] {
    io_ok &= recv_byte(pair.client);
    if (++trips == kRoundTrips) {
      loop.stop();
    } else {
      io_ok &= send_byte(pair.client);
    }
  });
  for (auto _ : state) {
    trips = 0;
    io_ok = send_byte(pair.client);
    loop.run_forever();
    if (!io_ok || trips != kRoundTrips) {
      state.SkipWithError("socketpair_pingpong: a send or recv failed");
      break;
    }
  }
  loop.remove_reader(pair.client);
  loop.remove_reader(pair.server);
  state.SetItemsProcessed(state.iterations() * kRoundTrips);
}

}  // namespace aiospec::bench
