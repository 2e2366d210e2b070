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
#include <stdexcept>
#include <string>

#include "cases.hpp"
#include "common.hpp"

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
// deque, which would be unfair to libuv. The FIFO holds std::function, the reference's Callback
// type, so both sides pay the same type erasure; the reference's Handle objects (two allocations
// per call_soon, a mutex per append and per pop, cancel()) have no counterpart here.
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

}  // namespace aiospec::bench
