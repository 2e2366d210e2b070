// libuv's half of each pair: the same work on a uv_loop_t, through libuv's own primitives where
// it has one (timers, uv_poll_t) and through the smallest user-side queue where it has none
// (call_soon). Handles are initialised once outside the timed loop, as libuv programs do: libuv
// lets the caller own and reuse handle memory, while the reference allocates a handle per call.
// That difference is part of what the ratios show, not something to hide.
#include <uv.h>

#include <cstddef>
#include <cstdio>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "cases.hpp"
#include "common.hpp"
#include "producers.hpp"

namespace aiospec::bench {

namespace {

void check_uv(int rc, const char* what) {
  if (rc != 0) throw std::runtime_error(std::string(what) + ": " + uv_strerror(rc));
}

// A uv_loop_t that, like the reference loop, always has one cross-thread wake-up descriptor
// registered: the reference's self-pipe (asyncio's, for call_soon_threadsafe) is matched by a
// uv_async_t (an eventfd; uvloop has one for the same purpose). Without it libuv would skip the
// epoll_wait() syscall altogether in the cases with no descriptors, which the reference cannot
// do. The async handle also keeps the loop alive, so uv_run only returns on uv_stop or with
// UV_RUN_NOWAIT, as run_forever only returns on stop().
//
// Handles on this loop are closed by the destructor: declare their storage BEFORE the UvLoop, so
// that it is destroyed after it.
class UvLoop {
 public:
  UvLoop() {
    check_uv(uv_loop_init(&loop_), "uv_loop_init");
    check_uv(uv_async_init(&loop_, &wakeup_, nullptr), "uv_async_init");
  }
  ~UvLoop() {
    uv_walk(
        &loop_,
        [](uv_handle_t* handle, void*) {
          if (!uv_is_closing(handle)) uv_close(handle, nullptr);
        },
        nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);  // runs the close callbacks; returns when no handle is left
    // UV_EBUSY here means a handle outlived its benchmark: a bug in this file, not a timing.
    if (const int rc = uv_loop_close(&loop_); rc != 0) {
      std::fprintf(stderr, "loop_bench: uv_loop_close: %s\n", uv_strerror(rc));
    }
  }
  UvLoop(const UvLoop&) = delete;
  UvLoop& operator=(const UvLoop&) = delete;

  // Registering a descriptor costs an epoll_ctl() on the next iteration; run one iteration after
  // setting up handles so that cost stays out of the timed loop (the reference's poll and select
  // selectors register without a syscall).
  void settle() { uv_run(&loop_, UV_RUN_NOWAIT); }

  uv_loop_t* get() { return &loop_; }

 private:
  uv_loop_t loop_{};
  uv_async_t wakeup_{};
};

// ---------------------------------------------------------------------------------------------
// call_soon on libuv. libuv has no "run this on the next iteration" primitive, so this is what
// uvloop builds its call_soon from: a FIFO of callbacks plus one uv_idle_t, started when the FIFO
// becomes non-empty. An active idle handle makes libuv poll with timeout 0, just as a non-empty
// ready queue does in asyncio, and the idle callback runs exactly the callbacks queued when it
// starts (run_ready_batch's rule). The alternative, N uv_timer_t with timeout 0, would push every
// callback through libuv's timer heap (O(log n) per callback) for work the reference does with a
// deque, which would be unfair to libuv. The FIFO holds std::function, so both sides pay a type
// erasure; the reference's Handle objects (a pooled block per call_soon with its count, cancel(),
// an identity) have no counterpart here.
class ReadyQueue {
 public:
  explicit ReadyQueue(uv_loop_t* loop) {
    check_uv(uv_idle_init(loop, &idle_), "uv_idle_init");
    idle_.data = this;
  }

  void call_soon(std::function<void()> callback) {
    ready_.push_back(std::move(callback));
    if (!uv_is_active(reinterpret_cast<uv_handle_t*>(&idle_))) uv_idle_start(&idle_, &on_idle);
  }

 private:
  static void on_idle(uv_idle_t* idle) {
    auto& self = *static_cast<ReadyQueue*>(idle->data);
    const std::size_t ntodo = self.ready_.size();
    for (std::size_t i = 0; i < ntodo; ++i) {
      auto callback = std::move(self.ready_.front());
      self.ready_.pop_front();
      callback();
    }
    if (self.ready_.empty()) uv_idle_stop(idle);
  }

  uv_idle_t idle_{};
  std::deque<std::function<void()>> ready_;
};

}  // namespace

void call_soon_batch_libuv(benchmark::State& state) {
  std::unique_ptr<ReadyQueue> queue;  // storage before the loop: closed by ~UvLoop
  UvLoop uv;
  queue = std::make_unique<ReadyQueue>(uv.get());
  uv.settle();
  int count = 0;
  uv_loop_t* loop = uv.get();
  for (auto _ : state) {
    count = 0;
    for (int i = 0; i < kCallbacks; ++i) {
      queue->call_soon([&count, loop] {
        if (++count == kCallbacks) uv_stop(loop);
      });
    }
    uv_run(loop, UV_RUN_DEFAULT);
    if (count != kCallbacks) {
      state.SkipWithError("call_soon_batch: not every callback ran");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kCallbacks);
}

// ---------------------------------------------------------------------------------------------
// Timers. libuv's timeouts are whole milliseconds from the loop's cached time, so the
// reference's deadlines one microsecond apart (all due at once) cannot be copied; timeout 0 for
// every timer is the nearest: all due at the next iteration, fired in start order. Both heaps
// then see keys inserted in ascending order (libuv breaks the equal timeouts by start order), so
// neither sifts on insert and both pop in order: the same heap work.

namespace {

struct TimerCounter {
  int count = 0;
  uv_loop_t* loop = nullptr;
};

void on_timer_count(uv_timer_t* timer) {
  auto& counter = *static_cast<TimerCounter*>(timer->data);
  if (++counter.count == kTimers) uv_stop(counter.loop);
}

void on_timer_never(uv_timer_t*) {}

}  // namespace

void timers_fire_libuv(benchmark::State& state) {
  auto timers = std::make_unique<uv_timer_t[]>(kTimers);  // storage before the loop
  TimerCounter counter;
  UvLoop uv;
  counter.loop = uv.get();
  for (int i = 0; i < kTimers; ++i) {
    check_uv(uv_timer_init(uv.get(), &timers[i]), "uv_timer_init");
    timers[i].data = &counter;
  }
  uv.settle();
  for (auto _ : state) {
    counter.count = 0;
    for (int i = 0; i < kTimers; ++i) uv_timer_start(&timers[i], &on_timer_count, 0, 0);
    uv_run(uv.get(), UV_RUN_DEFAULT);
    if (counter.count != kTimers) {
      state.SkipWithError("timers_fire: not every timer fired");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kTimers);
}

// Start N timers an hour out (distinct deadlines, ascending, like the reference's), stop them
// all, run one iteration (UV_RUN_NOWAIT: the async handle keeps the loop alive, so this is a
// full iteration with an epoll_wait(0), like the reference's poll(0)). uv_timer_stop removes
// each timer from the heap at once, O(log n); the reference only counts and compacts later.
void timer_cancel_churn_libuv(benchmark::State& state) {
  auto timers = std::make_unique<uv_timer_t[]>(kTimers);  // storage before the loop
  UvLoop uv;
  for (int i = 0; i < kTimers; ++i) check_uv(uv_timer_init(uv.get(), &timers[i]), "uv_timer_init");
  uv.settle();
  for (auto _ : state) {
    for (int i = 0; i < kTimers; ++i) {
      uv_timer_start(&timers[i], &on_timer_never, kFarFutureMilliseconds + static_cast<std::uint64_t>(i), 0);
    }
    for (int i = 0; i < kTimers; ++i) uv_timer_stop(&timers[i]);
    uv_run(uv.get(), UV_RUN_NOWAIT);
    if (uv_is_active(reinterpret_cast<uv_handle_t*>(&timers[kTimers - 1]))) {
      state.SkipWithError("timer_cancel_churn: a stopped timer is still active");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kTimers);
}

// ---------------------------------------------------------------------------------------------
// Ping-pong over a socketpair with a uv_poll_t on each end: libuv tells the callbacks that the
// descriptor is readable and they make the same raw recv/send calls as the reference's readers.
// libuv on Linux polls with epoll (level-triggered), the reference with poll() or select(); with
// three descriptors the syscalls cost about the same, and that difference is libuv's to keep.

namespace {

struct PingPong {
  SocketPair pair;
  uv_poll_t server_poll{};
  uv_poll_t client_poll{};
  uv_loop_t* loop = nullptr;
  int trips = 0;
  bool io_ok = true;
};

void on_server_readable(uv_poll_t* poll, int status, int) {
  auto& pp = *static_cast<PingPong*>(poll->data);
  pp.io_ok &= status == 0 && recv_byte(pp.pair.server) && send_byte(pp.pair.server);
}

void on_client_readable(uv_poll_t* poll, int status, int) {
  auto& pp = *static_cast<PingPong*>(poll->data);
  pp.io_ok &= status == 0 && recv_byte(pp.pair.client);
  if (++pp.trips == kRoundTrips) {
    uv_stop(pp.loop);
  } else {
    pp.io_ok &= send_byte(pp.pair.client);
  }
}

}  // namespace

void socketpair_pingpong_libuv(benchmark::State& state) {
  // Storage (and the descriptors) before the loop: the polls are closed before the sockets.
  auto pp = std::make_unique<PingPong>();
  UvLoop uv;
  pp->loop = uv.get();
  check_uv(uv_poll_init(uv.get(), &pp->server_poll, pp->pair.server), "uv_poll_init");
  check_uv(uv_poll_init(uv.get(), &pp->client_poll, pp->pair.client), "uv_poll_init");
  pp->server_poll.data = pp.get();
  pp->client_poll.data = pp.get();
  check_uv(uv_poll_start(&pp->server_poll, UV_READABLE, &on_server_readable), "uv_poll_start");
  check_uv(uv_poll_start(&pp->client_poll, UV_READABLE, &on_client_readable), "uv_poll_start");
  uv.settle();
  for (auto _ : state) {
    pp->trips = 0;
    pp->io_ok = send_byte(pp->pair.client);
    uv_run(uv.get(), UV_RUN_DEFAULT);
    if (!pp->io_ok || pp->trips != kRoundTrips) {
      state.SkipWithError("socketpair_pingpong: a send or recv failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kRoundTrips);
}

// ---------------------------------------------------------------------------------------------
// idle_pingpong and many_ready: the same ping-pong readers, one uv_poll_t per registered socket.

namespace {

// A socketpair ping-ponging one byte: the server's poll echoes, the client's counts the echo and
// sends the next byte until `round_trips`, then calls on_done(owner).
struct Pinger {
  SocketPair pair;
  uv_poll_t server_poll{};
  uv_poll_t client_poll{};
  int trips = 0;
  int round_trips = 0;
  bool* io_ok = nullptr;
  void (*on_done)(void* owner) = nullptr;
  void* owner = nullptr;

  void start(uv_loop_t* loop) {
    check_uv(uv_poll_init(loop, &server_poll, pair.server), "uv_poll_init");
    check_uv(uv_poll_init(loop, &client_poll, pair.client), "uv_poll_init");
    server_poll.data = this;
    client_poll.data = this;
    check_uv(uv_poll_start(&server_poll, UV_READABLE, &on_server), "uv_poll_start");
    check_uv(uv_poll_start(&client_poll, UV_READABLE, &on_client), "uv_poll_start");
  }
  static void on_server(uv_poll_t* poll, int status, int) {
    auto& self = *static_cast<Pinger*>(poll->data);
    *self.io_ok &= status == 0 && recv_byte(self.pair.server) && send_byte(self.pair.server);
  }
  static void on_client(uv_poll_t* poll, int status, int) {
    auto& self = *static_cast<Pinger*>(poll->data);
    *self.io_ok &= status == 0 && recv_byte(self.pair.client);
    if (++self.trips == self.round_trips) {
      self.on_done(self.owner);
    } else {
      *self.io_ok &= send_byte(self.pair.client);
    }
  }
};

void stop_loop(void* loop) { uv_stop(static_cast<uv_loop_t*>(loop)); }

void on_idle_readable(uv_poll_t* poll, int, int) { *static_cast<bool*>(poll->data) = true; }

}  // namespace

// N idle sockets (one end each of N socketpairs nobody writes to), each with a uv_poll_t, next to
// the ping-pong pair. libuv's epoll only reports the ready descriptors, whatever N is.
void idle_pingpong_libuv(benchmark::State& state) {
  const int idle_count = static_cast<int>(state.range(0));
  // Storage (and descriptors) before the loop: ~UvLoop closes the polls before the sockets close.
  auto pinger = std::make_unique<Pinger>();
  auto idle = std::make_unique<SocketPair[]>(idle_count);
  auto idle_polls = std::make_unique<uv_poll_t[]>(idle_count);
  bool io_ok = true;
  bool idle_ran = false;
  UvLoop uv;
  for (int i = 0; i < idle_count; ++i) {
    check_uv(uv_poll_init(uv.get(), &idle_polls[i], idle[i].server), "uv_poll_init");
    idle_polls[i].data = &idle_ran;
    check_uv(uv_poll_start(&idle_polls[i], UV_READABLE, &on_idle_readable), "uv_poll_start");
  }
  pinger->round_trips = kIdleRoundTrips;
  pinger->io_ok = &io_ok;
  pinger->on_done = &stop_loop;
  pinger->owner = uv.get();
  pinger->start(uv.get());
  uv.settle();
  for (auto _ : state) {
    pinger->trips = 0;
    io_ok = send_byte(pinger->pair.client);
    uv_run(uv.get(), UV_RUN_DEFAULT);
    if (!io_ok || pinger->trips != kIdleRoundTrips || idle_ran) {
      state.SkipWithError(idle_ran ? "idle_pingpong: an idle reader ran" : "idle_pingpong: a send or recv failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kIdleRoundTrips);
}

namespace {

struct ManyReady {
  uv_loop_t* loop = nullptr;
  int done = 0;
};

void many_ready_pair_done(void* owner) {
  auto& many = *static_cast<ManyReady*>(owner);
  if (++many.done == kManyReadyPairs) uv_stop(many.loop);
}

}  // namespace

// kManyReadyPairs pairs in lockstep, two uv_poll_t each: 64 events per epoll_wait.
void many_ready_libuv(benchmark::State& state) {
  auto pingers = std::make_unique<Pinger[]>(kManyReadyPairs);  // storage before the loop
  ManyReady many;
  bool io_ok = true;
  UvLoop uv;
  many.loop = uv.get();
  for (int p = 0; p < kManyReadyPairs; ++p) {
    pingers[p].round_trips = kManyReadyTrips;
    pingers[p].io_ok = &io_ok;
    pingers[p].on_done = &many_ready_pair_done;
    pingers[p].owner = &many;
    pingers[p].start(uv.get());
  }
  uv.settle();
  for (auto _ : state) {
    many.done = 0;
    io_ok = true;
    for (int p = 0; p < kManyReadyPairs; ++p) {
      pingers[p].trips = 0;
      io_ok &= send_byte(pingers[p].pair.client);
    }
    uv_run(uv.get(), UV_RUN_DEFAULT);
    bool all = many.done == kManyReadyPairs;
    for (int p = 0; p < kManyReadyPairs; ++p) all &= pingers[p].trips == kManyReadyTrips;
    if (!io_ok || !all) {
      state.SkipWithError("many_ready: a pair did not complete its round trips");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kManyReadyPairs * kManyReadyTrips);
}

// ---------------------------------------------------------------------------------------------
// timer_compaction: 100k uv_timer_start(timeout 0) (all due, in start order, as in timers_fire),
// 90% of them stopped at once with uv_timer_stop (each an O(log n) removal from libuv's heap:
// libuv has no lazy cancellation, so nothing to compact), then uv_run fires the other 10k.

namespace {

struct CompactionCounter {
  int count = 0;
  uv_loop_t* loop = nullptr;
};

void on_compaction_timer(uv_timer_t* timer) {
  auto& counter = *static_cast<CompactionCounter*>(timer->data);
  if (++counter.count == kCompactionFired) uv_stop(counter.loop);
}

}  // namespace

void timer_compaction_libuv(benchmark::State& state) {
  auto timers = std::make_unique<uv_timer_t[]>(kCompactionTimers);  // storage before the loop
  CompactionCounter counter;
  UvLoop uv;
  counter.loop = uv.get();
  for (int i = 0; i < kCompactionTimers; ++i) {
    check_uv(uv_timer_init(uv.get(), &timers[i]), "uv_timer_init");
    timers[i].data = &counter;
  }
  uv.settle();
  for (auto _ : state) {
    counter.count = 0;
    for (int i = 0; i < kCompactionTimers; ++i) uv_timer_start(&timers[i], &on_compaction_timer, 0, 0);
    for (int i = 0; i < kCompactionTimers; ++i) {
      if (i % kCompactionKeepEvery != 0) uv_timer_stop(&timers[i]);
    }
    uv_run(uv.get(), UV_RUN_DEFAULT);
    bool idle = true;
    for (int i = 0; i < kCompactionTimers; i += kCompactionKeepEvery) {
      idle &= !uv_is_active(reinterpret_cast<uv_handle_t*>(&timers[i]));
    }
    if (counter.count != kCompactionFired || !idle) {
      state.SkipWithError("timer_compaction: fired count wrong or a timer still active");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kCompactionTimers);
}

// ---------------------------------------------------------------------------------------------
// threadsafe_producers: uvloop's call_soon_threadsafe on libuv. A mutex-protected FIFO of
// std::function (the reference's Callback type) and a uv_async_t: producers append under the
// mutex and call uv_async_send (which writes the eventfd only if no wake-up is already pending,
// as the reference writes its self-pipe byte); the async callback, on the loop thread, takes the
// whole FIFO under the mutex and runs it.

namespace {

class ThreadsafeQueue {
 public:
  explicit ThreadsafeQueue(uv_loop_t* loop) {
    check_uv(uv_async_init(loop, &async_, &on_async), "uv_async_init");
    async_.data = this;
  }
  void call_soon_threadsafe(std::function<void()> callback) {
    {
      std::lock_guard lock(mutex_);
      fifo_.push_back(std::move(callback));
    }
    uv_async_send(&async_);
  }

 private:
  static void on_async(uv_async_t* async) {
    auto& self = *static_cast<ThreadsafeQueue*>(async->data);
    std::deque<std::function<void()>> batch;
    {
      std::lock_guard lock(self.mutex_);
      batch.swap(self.fifo_);
    }
    for (auto& callback : batch) callback();
  }

  uv_async_t async_{};
  std::mutex mutex_;
  std::deque<std::function<void()>> fifo_;
};

}  // namespace

void threadsafe_producers_libuv(benchmark::State& state) {
  struct Context {
    Tally tally{kProducerThreads, kPostsPerThread};
    uv_loop_t* loop = nullptr;
    ThreadsafeQueue* queue = nullptr;
  };
  std::unique_ptr<ThreadsafeQueue> queue;  // storage before the loop: closed by ~UvLoop
  Context context;
  UvLoop uv;
  queue = std::make_unique<ThreadsafeQueue>(uv.get());
  context.loop = uv.get();
  context.queue = queue.get();
  Context* ctx = &context;
  uv.settle();
  // After the loop: joined before the loop is destroyed. Threads created here, outside the timing.
  ProducerPool pool(kProducerThreads, kPostsPerThread, [ctx](int thread, int seq) {
    ctx->queue->call_soon_threadsafe([ctx, thread, seq] {  // [pointer, int, int], as the reference's
      if (ctx->tally.record(thread, seq)) uv_stop(ctx->loop);
    });
  });
  for (auto _ : state) {
    context.tally.reset();
    pool.release();
    uv_run(uv.get(), UV_RUN_DEFAULT);
    if (!context.tally.ok()) {
      state.SkipWithError("threadsafe_producers: a callback was lost, repeated or out of order");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kProducerThreads * kPostsPerThread);
}

}  // namespace aiospec::bench
