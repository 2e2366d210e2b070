#include "mutants.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>

#include "aiospec/ref/base_events.hpp"
#include "aiospec/ref/heapq.hpp"

namespace aiospec::conformance::mutants {

namespace {

using ref::EventLoop;

// libuv's order: due timers run before the callbacks already waiting in the ready queue.
class TimersBeforeReady final : public EventLoop {
  using EventLoop::EventLoop;
  void run_once() override {
    drop_cancelled_timers();
    auto events = selector().select(compute_timeout());
    std::deque<ref::HandlePtr> leftovers;
    {
      std::lock_guard lock(ready_mutex_);
      leftovers.swap(ready_);
    }
    schedule_expired_timers(time() + clock().resolution());
    process_events(events);
    {
      std::lock_guard lock(ready_mutex_);
      ready_.insert(ready_.end(), leftovers.begin(), leftovers.end());
    }
    run_ready_batch();
  }
};

// Equal deadlines fire first-scheduled-first (what most non-CPython loops do), not in heapq order.
class FifoTies final : public EventLoop {
  using EventLoop::EventLoop;
  void run_once() override {
    drop_cancelled_timers();
    process_events(selector().select(compute_timeout()));
    std::size_t before;
    {
      std::lock_guard lock(ready_mutex_);
      before = ready_.size();
    }
    schedule_expired_timers(time() + clock().resolution());
    {
      std::lock_guard lock(ready_mutex_);
      std::stable_sort(ready_.begin() + static_cast<long>(before), ready_.end(), [](const auto& a, const auto& b) {
        auto ta = std::static_pointer_cast<ref::TimerHandle>(a), tb = std::static_pointer_cast<ref::TimerHandle>(b);
        return ta->when() < tb->when() || (ta->when() == tb->when() && ta->sequence() < tb->sequence());
      });
    }
    run_ready_batch();
  }
};

// Callbacks scheduled while the batch runs join the same batch (no snapshot of the ready queue).
class NoBatchSnapshot final : public EventLoop {
  using EventLoop::EventLoop;
  void run_once() override {
    drop_cancelled_timers();
    process_events(selector().select(compute_timeout()));
    schedule_expired_timers(time() + clock().resolution());
    for (;;) {
      ref::HandlePtr handle;
      {
        std::lock_guard lock(ready_mutex_);
        if (ready_.empty()) return;
        handle = ready_.front();
        ready_.pop_front();
      }
      run_handle(*handle);
    }
  }
};

// stop() takes effect at once: the rest of the current batch is thrown away.
class StopDiscardsBatch final : public EventLoop {
  using EventLoop::EventLoop;
  void run_once() override {
    drop_cancelled_timers();
    process_events(selector().select(compute_timeout()));
    schedule_expired_timers(time() + clock().resolution());
    std::size_t ntodo;
    {
      std::lock_guard lock(ready_mutex_);
      ntodo = ready_.size();
    }
    for (std::size_t i = 0; i < ntodo; ++i) {
      ref::HandlePtr handle;
      {
        std::lock_guard lock(ready_mutex_);
        handle = ready_.front();
        ready_.pop_front();
      }
      run_handle(*handle);
      if (stopping_) {
        std::lock_guard lock(ready_mutex_);
        ready_.erase(ready_.begin(), ready_.begin() + static_cast<long>(ntodo - i - 1));
        return;
      }
    }
  }
};

// A timer counts as expired when `when <= now + resolution` instead of `<`.
class LessOrEqualExpiry final : public EventLoop {
  using EventLoop::EventLoop;
  void run_once() override {
    drop_cancelled_timers();
    process_events(selector().select(compute_timeout()));
    double end_time = time() + clock().resolution();
    schedule_expired_timers(std::nextafter(end_time, std::numeric_limits<double>::infinity()));
    run_ready_batch();
  }
};

// The selector wait is not capped at one day: a far timer gives one long wait, not daily wake-ups.
class NoDayCap final : public EventLoop {
  using EventLoop::EventLoop;
  void run_once() override {
    drop_cancelled_timers();
    auto timeout = compute_timeout();
    if (timeout && *timeout > 0 && next_deadline()) timeout = *next_deadline() - time();
    process_events(selector().select(timeout));
    schedule_expired_timers(time() + clock().resolution());
    run_ready_batch();
  }
};

// Cancelled timers are only ever popped off the head: the heap is never compacted, so the tie
// order that compaction would reshape stays as it was.
class NoCompaction final : public EventLoop {
  using EventLoop::EventLoop;
  void run_once() override {
    while (!scheduled_.empty() && scheduled_.front()->cancelled()) {
      --timer_cancelled_count_;
      ref::heappop(scheduled_, ref::TimerHandleLess{})->scheduled = false;
    }
    process_events(selector().select(compute_timeout()));
    schedule_expired_timers(time() + clock().resolution());
    run_ready_batch();
  }
};

// The loop waits for the head timer even when it was cancelled: the cancelled heads are not
// dropped before the timeout is computed.
class WaitsForCancelledHead final : public EventLoop {
  using EventLoop::EventLoop;
  void run_once() override {
    process_events(selector().select(compute_timeout()));
    schedule_expired_timers(time() + clock().resolution());
    run_ready_batch();
  }
};

template <class L>
ReferenceAdapter::LoopFactory factory() {
  return [](std::unique_ptr<ref::Selector> selector, ref::Clock& clock) -> std::unique_ptr<EventLoop> {
    return std::make_unique<L>(std::move(selector), clock);
  };
}

}  // namespace

const std::vector<Mutant>& all() {
  static const std::vector<Mutant> mutants = {
      {"timers-before-ready", "expired timers run before the callbacks already in the ready queue (libuv order)",
       {"ord-0003", "ord-0004"}, factory<TimersBeforeReady>()},
      {"fifo-ties", "timers with equal deadlines fire in FIFO order instead of CPython's heap order",
       {"tmr-0004", "tmr-0007"}, factory<FifoTies>()},
      {"no-batch-snapshot", "callbacks added while a batch runs are run in that same batch",
       {"ord-0002"}, factory<NoBatchSnapshot>()},
      {"stop-discards-batch", "stop() drops the rest of the current batch",
       {"lif-0001"}, factory<StopDiscardsBatch>()},
      {"less-or-equal-expiry", "timers expire when `when <= now + resolution` instead of `<`",
       {"ord-0008"}, factory<LessOrEqualExpiry>()},
      {"no-day-cap", "the selector timeout is not capped at 86400 s",
       {"tmr-0015"}, factory<NoDayCap>()},
      {"no-compaction", "a heap with more than half of over 100 timers cancelled is not compacted",
       {"tmr-0009"}, factory<NoCompaction>()},
      {"waits-for-cancelled-head", "the select timeout is computed from a cancelled head timer",
       {"tmr-0013"}, factory<WaitsForCancelledHead>()},
  };
  return mutants;
}

}  // namespace aiospec::conformance::mutants
