// The reference loop's half of each pair. Every case builds its loop (and socketpair) once, outside
// the timed loop; each benchmark iteration then does a fixed amount of work and stops the loop,
// so an iteration is bounded and leaves the loop as it found it.
#include <sys/select.h>

#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "aiospec/ref/base_events.hpp"
#include "cases.hpp"
#include "common.hpp"
#include "producers.hpp"

namespace aiospec::bench {

using aiospec::ref::EventLoop;
using aiospec::ref::TimerHandlePtr;

namespace {

// A loop on `backend`, or nullptr after SkipWithError("unavailable: ...") when the backend cannot
// be opened here (io_uring on a kernel that refuses it): a fact about the machine, which
// ratios.py reports as "not run", not as a failed case.
std::unique_ptr<EventLoop> open_loop(benchmark::State& state, const std::string& backend) {
  try {
    return std::make_unique<EventLoop>(backend);
  } catch (const std::exception& e) {
    state.SkipWithError(("unavailable: backend " + backend + ": " + e.what()).c_str());
    return nullptr;
  }
}

// Any other exception (a selector failing mid-run) is the case failing, reported as an error.
template <class Body>
void guarded(benchmark::State& state, const char* name, Body body) {
  try {
    body();
  } catch (const std::exception& e) {
    state.SkipWithError((std::string(name) + ": " + e.what()).c_str());
  }
}

// One-byte ping-pong readers on a socketpair, as in socketpair_pingpong: the server echoes, the
// client counts the echo and sends the next byte until `round_trips`, then calls on_done().
template <class OnDone>
void add_pingpong_readers(EventLoop& loop, SocketPair& pair, int& trips, int round_trips, bool& io_ok,
                          OnDone on_done) {
  loop.add_reader(pair.server, [&pair, &io_ok] { io_ok &= recv_byte(pair.server) && send_byte(pair.server); });
  loop.add_reader(pair.client, [&pair, &trips, &io_ok, round_trips, on_done] {
    io_ok &= recv_byte(pair.client);
    if (++trips == round_trips) {
      on_done();
    } else {
      io_ok &= send_byte(pair.client);
    }
  });
}

}  // namespace

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
  loop.close();  // an unclosed loop warns on destruction, as asyncio's does
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
  loop.close();
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
  loop.close();
}

// M one-byte round trips over a socketpair: the client's reader counts the echo and sends the
// next byte, the server's reader echoes. Each round trip is two loop iterations, each one a
// poll()/select() over three descriptors (the self-pipe and both ends), a recv and a send.
void socketpair_pingpong_reference(benchmark::State& state, const std::string& backend) {
  auto opened = open_loop(state, backend);
  if (!opened) return;
  EventLoop& loop = *opened;
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
  loop.close();
}

// socketpair_pingpong's ping-pong (kIdleRoundTrips per iteration) while N more sockets are
// registered as readers and never become readable: what a loop pays per iteration for descriptors
// that are registered but idle. Each idle socket is one end of its own socketpair (the other end
// unregistered, nobody writes): N = 1024 is 1024 socketpairs. poll(2) and select(2) pass every
// registered descriptor to the kernel on every iteration; epoll and io_uring should not care.
// select(2) cannot watch a descriptor >= FD_SETSIZE, which N = 1024 needs: not run, with that
// reason (a fact of select, not a failure).
void idle_pingpong_reference(benchmark::State& state, const std::string& backend) {
  guarded(state, "idle_pingpong", [&] {
    const int idle_count = static_cast<int>(state.range(0));
    SocketPair pair;  // first: the active pair gets the lowest descriptors
    auto idle = std::make_unique<SocketPair[]>(idle_count);
    if (backend == "select" && idle[idle_count - 1].server >= FD_SETSIZE) {
      state.SkipWithError(("unavailable: select(2) cannot watch descriptors >= FD_SETSIZE (" +
                           std::to_string(FD_SETSIZE) + "); " + std::to_string(idle_count) +
                           " idle sockets reach descriptor " + std::to_string(idle[idle_count - 1].server))
                              .c_str());
      return;
    }
    auto loop = open_loop(state, backend);  // after the sockets: closed before them
    if (!loop) return;
    bool idle_ran = false;
    for (int i = 0; i < idle_count; ++i) loop->add_reader(idle[i].server, [&idle_ran] { idle_ran = true; });
    int trips = 0;
    bool io_ok = true;
    add_pingpong_readers(*loop, pair, trips, kIdleRoundTrips, io_ok, [&loop] { loop->stop(); });
    for (auto _ : state) {
      trips = 0;
      io_ok = send_byte(pair.client);
      loop->run_forever();
      if (!io_ok || trips != kIdleRoundTrips || idle_ran) {
        state.SkipWithError(idle_ran ? "idle_pingpong: an idle reader ran"
                                     : "idle_pingpong: a send or recv failed");
        break;
      }
    }
    state.SetItemsProcessed(state.iterations() * kIdleRoundTrips);
    loop->close();
  });
}

// kManyReadyPairs socketpairs ping-ponging at once, kManyReadyTrips round trips each: every loop
// iteration has 64 ready descriptors (all servers, then all clients), so a backend that hands the
// loop many events per syscall (epoll_wait, an io_uring completion batch) shows it here. The
// pair that completes last stops the loop; all pairs complete in the same iteration.
void many_ready_reference(benchmark::State& state, const std::string& backend) {
  guarded(state, "many_ready", [&] {
    auto pairs = std::make_unique<SocketPair[]>(kManyReadyPairs);
    auto loop = open_loop(state, backend);
    if (!loop) return;
    std::vector<int> trips(kManyReadyPairs, 0);
    int done = 0;
    bool io_ok = true;
    for (int p = 0; p < kManyReadyPairs; ++p) {
      add_pingpong_readers(*loop, pairs[p], trips[p], kManyReadyTrips, io_ok, [&done, &loop] {
        if (++done == kManyReadyPairs) loop->stop();
      });
    }
    for (auto _ : state) {
      done = 0;
      io_ok = true;
      for (int p = 0; p < kManyReadyPairs; ++p) {
        trips[p] = 0;
        io_ok &= send_byte(pairs[p].client);
      }
      loop->run_forever();
      bool all = done == kManyReadyPairs;
      for (int t : trips) all &= t == kManyReadyTrips;
      if (!io_ok || !all) {
        state.SkipWithError("many_ready: a pair did not complete its round trips");
        break;
      }
    }
    state.SetItemsProcessed(state.iterations() * kManyReadyPairs * kManyReadyTrips);
    loop->close();
  });
}

// 100k timers, all due (deadlines 1 us apart, the last one now, as in timers_fire), 90% of them
// cancelled before the loop runs: the iteration finds more than half of more than 100 timers
// cancelled, rebuilds the heap from the 10k live ones (the compaction), then fires those 10k.
void timer_compaction_reference(benchmark::State& state) {
  guarded(state, "timer_compaction", [&] {
    EventLoop loop("poll");
    std::vector<TimerHandlePtr> cancelled;
    cancelled.reserve(kCompactionTimers);
    int fired = 0;
    for (auto _ : state) {
      fired = 0;
      const double first = loop.time() - (kCompactionTimers - 1) * kTimerSpacingSeconds;
      for (int i = 0; i < kCompactionTimers; ++i) {
        auto timer = loop.call_at(first + i * kTimerSpacingSeconds, [&fired, &loop] {
          if (++fired == kCompactionFired) loop.stop();
        });
        if (i % kCompactionKeepEvery != 0) cancelled.push_back(std::move(timer));
      }
      for (auto& timer : cancelled) timer->cancel();
      loop.run_forever();
      cancelled.clear();  // the last references to the cancelled handles: freed inside the timing
      if (fired != kCompactionFired || loop.scheduled_count() != 0 || loop.timer_cancelled_count() != 0) {
        state.SkipWithError("timer_compaction: fired count wrong or cancelled timers left in the heap");
        break;
      }
    }
    state.SetItemsProcessed(state.iterations() * kCompactionTimers);
    loop.close();
  });
}

// kProducerThreads threads (created once, outside the timing, released each iteration) each post
// kPostsPerThread callbacks with call_soon_threadsafe into the running loop; each callback
// carries (thread, sequence) and the one that completes the round stops the loop. After every
// iteration the tally must show each callback run exactly once, in per-thread order.
void threadsafe_producers_reference(benchmark::State& state) {
  guarded(state, "threadsafe_producers", [&] {
    struct Context {
      Tally tally{kProducerThreads, kPostsPerThread};
      EventLoop* loop = nullptr;
    };
    EventLoop loop("poll");
    Context context;
    context.loop = &loop;
    Context* ctx = &context;
    // After the loop: joined before the loop is destroyed. Threads created here, outside the timing.
    auto pool = std::make_unique<ProducerPool>(kProducerThreads, kPostsPerThread, [ctx](int thread, int seq) {
      // [pointer, int, int]: fits std::function's local buffer, as on the libuv side.
      ctx->loop->call_soon_threadsafe([ctx, thread, seq] {
        if (ctx->tally.record(thread, seq)) ctx->loop->stop();
      });
    });
    for (auto _ : state) {
      context.tally.reset();
      pool->release();
      loop.run_forever();
      if (!context.tally.ok()) {
        state.SkipWithError("threadsafe_producers: a callback was lost, repeated or out of order");
        break;
      }
    }
    state.SetItemsProcessed(state.iterations() * kProducerThreads * kPostsPerThread);
    pool.reset();  // no producer may post into a closed loop
    loop.close();
  });
}

}  // namespace aiospec::bench
