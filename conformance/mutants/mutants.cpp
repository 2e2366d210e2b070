#include "mutants.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <mutex>

#include "aiospec/ref/base_events.hpp"
#include "aiospec/ref/heapq.hpp"
#include "aiospec/ref/tasks.hpp"

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
    leftovers.swap(ready_queue());
    schedule_expired_timers(time() + clock().resolution());
    process_events(events);
    auto& ready = ready_queue();
    ready.insert(ready.end(), leftovers.begin(), leftovers.end());
    run_ready_batch();
  }
};

// Equal deadlines fire first-scheduled-first (what most non-CPython loops do), not in heapq order.
//
// The reference loop keeps no creation order of its timers (CPython has none), so this mutant
// keeps its own: it reads the loop's clock through a wrapper, and since call_later reads the clock
// once just before it makes its timer, every timer found in the heap at a clock reading (or at the
// start of an iteration) is numbered in the order found. Timers made by call_at in one burst are
// numbered in heap order among themselves, which is enough for the scenarios that catch it.
class TimerNumbering {
 protected:
  class NumberingClock final : public ref::Clock {
   public:
    NumberingClock(ref::Clock& inner, TimerNumbering& owner) : inner_(inner), owner_(owner) {}
    double time() override {
      owner_.number_new_timers();
      return inner_.time();
    }
    double resolution() const override { return inner_.resolution(); }

   private:
    ref::Clock& inner_;
    TimerNumbering& owner_;
  };

  explicit TimerNumbering(ref::Clock& inner) : clock_(inner, *this) {}
  virtual ~TimerNumbering() = default;
  virtual const std::vector<ref::TimerHandlePtr>& heap() const = 0;

  // Numbers only matter for timers in the heap: the map is remade from it each time, keeping
  // each timer alive while numbered so that a new timer cannot take a numbered one's address.
  void number_new_timers() {
    std::map<const ref::TimerHandle*, std::pair<ref::TimerHandlePtr, std::uint64_t>> numbers;
    for (const auto& timer : heap()) {
      auto known = numbers_.find(timer.get());
      numbers[timer.get()] = {timer, known != numbers_.end() ? known->second.second : next_++};
    }
    numbers_ = std::move(numbers);
  }
  std::uint64_t number_of(const ref::TimerHandle* timer) const { return numbers_.at(timer).second; }

  NumberingClock clock_;

 private:
  std::map<const ref::TimerHandle*, std::pair<ref::TimerHandlePtr, std::uint64_t>> numbers_;
  std::uint64_t next_ = 0;
};

class FifoTies final : private TimerNumbering, public EventLoop {
 public:
  FifoTies(std::unique_ptr<ref::Selector> selector, ref::Clock& clock, const ref::Profile& profile)
      : TimerNumbering(clock), EventLoop(std::move(selector), TimerNumbering::clock_, profile) {}

 private:
  const std::vector<ref::TimerHandlePtr>& heap() const override { return scheduled_; }

  void run_once() override {
    number_new_timers();
    drop_cancelled_timers();
    process_events(selector().select(compute_timeout()));
    const std::size_t before = ready_queue().size();
    schedule_expired_timers(time() + clock().resolution());
    auto& ready = ready_queue();
    std::stable_sort(ready.begin() + static_cast<long>(before), ready.end(), [&](const auto& a, const auto& b) {
      const auto* ta = static_cast<const ref::TimerHandle*>(a.get());
      const auto* tb = static_cast<const ref::TimerHandle*>(b.get());
      return ta->when() < tb->when() || (ta->when() == tb->when() && number_of(ta) < number_of(tb));
    });
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
    for (auto& ready = ready_queue(); !ready_queue().empty();) {
      const ref::HandlePtr handle = ready.front();
      ready.pop_front();
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
    auto& ready = ready_queue();
    const std::size_t ntodo = ready.size();
    for (std::size_t i = 0; i < ntodo; ++i) {
      const ref::HandlePtr handle = ready.front();
      ready.pop_front();
      run_handle(*handle);
      if (stopping_) {
        ready.erase(ready.begin(), ready.begin() + static_cast<long>(ntodo - i - 1));
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

// ---- Reports: exception handlers and debug mode.

// An exception out of a custom exception handler leaves the loop (with the rest of the batch
// still queued) instead of going to the default handler (EXC-02).
class HandlerErrorStopsBatch final : public EventLoop {
  using EventLoop::EventLoop;
  void call_exception_handler(const ref::ExceptionContext& context) override {
    if (const auto& handler = get_exception_handler()) {
      handler(*this, context);
      return;
    }
    EventLoop::call_exception_handler(context);
  }
};

// The context of a report calls the handle 'callback' (EXC-04's keys renamed).
class ContextKeyRenamed final : public EventLoop {
  using EventLoop::EventLoop;
  void call_exception_handler(const ref::ExceptionContext& context) override {
    ref::ExceptionContext renamed;
    for (const auto& [key, value] : context.items()) renamed.set(key == "handle" ? "callback" : key, value);
    EventLoop::call_exception_handler(renamed);
  }
};

// A callback is slow when it took longer than slow_callback_duration, not at least as long
// (DBG-02's `>=` as `>`). `dt > d` is `dt >= nextafter(d, inf)`: before each iteration the loop
// moves the threshold it was given one representable step up, so the rule the reference applies
// becomes the broken one without touching its code.
class SlowThresholdStrict final : public EventLoop {
  using EventLoop::EventLoop;
  void run_once() override {
    if (slow_callback_duration() != raised_) {
      raised_ = std::nextafter(slow_callback_duration(), std::numeric_limits<double>::infinity());
      set_slow_callback_duration(raised_);
    }
    EventLoop::run_once();
  }
  double raised_ = std::numeric_limits<double>::quiet_NaN();
};

// Debug mode never checks that call_soon / call_at / call_later come from the loop's thread.
class NoThreadCheck final : public EventLoop {
  using EventLoop::EventLoop;
  void check_thread() const override {}
};

// ---- Tasks. Each of these loops installs a task factory, as asyncio programs do with
// loop.set_task_factory, whose tasks break one rule; the loop itself is the reference loop.

using ref::AnyCoroutine;
using ValueTask = ref::Task<Value>;

template <class MakeTask>
class TaskFactoryLoop final : public EventLoop {
 public:
  TaskFactoryLoop(std::unique_ptr<ref::Selector> selector, ref::Clock& clock, const ref::Profile& profile)
      : EventLoop(std::move(selector), clock, profile) {
    set_task_factory<Value>(
        [](EventLoop& loop, std::unique_ptr<AnyCoroutine<Value>> coro, std::optional<std::string> name) {
          return MakeTask{}(loop, std::move(coro), std::move(name));
        });
  }
};

template <class TaskType>
struct Make {
  std::shared_ptr<ValueTask> operator()(EventLoop& loop, std::unique_ptr<AnyCoroutine<Value>> coro,
                                        std::optional<std::string> name) const {
    return ref::make_task<TaskType>(loop, std::move(coro), std::move(name));
  }
};

// What some loops and imitations do on cancel: the coroutine frame is destroyed instead of
// having CancelledError thrown into it, so its except and finally blocks never run. The task
// machinery is asyncio's; only the coroutine it drives refuses the throw.
class DestroyedOnCancel final : public AnyCoroutine<Value> {
 public:
  explicit DestroyedOnCancel(std::unique_ptr<AnyCoroutine<Value>> inner) : inner_(std::move(inner)) {}
  ref::Step send() override { return inner_->send(); }
  ref::Step throw_(std::exception_ptr exception) override {
    if (!ref::holds<ref::CancelledError>(exception)) return inner_->throw_(exception);
    inner_.reset();
    return ref::Step::raised(exception);
  }
  Value result() override { return inner_->result(); }

 private:
  std::unique_ptr<AnyCoroutine<Value>> inner_;
};

struct MakeDestroyedOnCancel {
  std::shared_ptr<ValueTask> operator()(EventLoop& loop, std::unique_ptr<AnyCoroutine<Value>> coro,
                                        std::optional<std::string> name) const {
    return ref::make_task<ValueTask>(loop, std::make_unique<DestroyedOnCancel>(std::move(coro)), std::move(name));
  }
};

// Task.cancel(msg) forgets the message.
class DropsCancelMessage final : public ValueTask {
 public:
  using ValueTask::ValueTask;
  bool cancel(const std::optional<std::string>&) override { return ValueTask::cancel(std::nullopt); }
};

// Task.uncancel() does nothing (the count of cancel requests only grows).
class IgnoresUncancel final : public ValueTask {
 public:
  using ValueTask::ValueTask;
  int uncancel() override { return cancelling(); }
};

// A task's done callbacks (its awaiters' wake-ups included) run inside set_result/set_exception/
// cancel, not through call_soon.
class SynchronousDoneCallbacks final : public ValueTask {
 public:
  using ValueTask::ValueTask;

 protected:
  void schedule_callbacks() override {
    for (auto& callback : take_callbacks()) callback(*this);
  }
};

// Task.__init__ runs the first step at once instead of scheduling it with call_soon.
class FirstStepInline final : public ValueTask {
 public:
  using ValueTask::ValueTask;

 protected:
  void schedule_first_step() override { step(); }
};

// Every task the loop makes stays referenced by the loop until the loop goes, so that a task
// whose exception nobody retrieved is reported when the loop is destroyed, not when the last
// reference of the program goes (EXC-08).
class KeepsTasksUntilClose final : public EventLoop {
 public:
  KeepsTasksUntilClose(std::unique_ptr<ref::Selector> selector, ref::Clock& clock, const ref::Profile& profile)
      : EventLoop(std::move(selector), clock, profile) {
    set_task_factory<Value>(
        [this](EventLoop& loop, std::unique_ptr<AnyCoroutine<Value>> coro, std::optional<std::string> name) {
          auto task = ref::make_task<ValueTask>(loop, std::move(coro), std::move(name));
          kept_.push_back(task);
          return task;
        });
  }
  ~KeepsTasksUntilClose() override { kept_.clear(); }

 private:
  std::vector<std::shared_ptr<ValueTask>> kept_;
};

template <class L>
ReferenceAdapter::LoopFactory factory() {
  return [](std::unique_ptr<ref::Selector> selector, ref::Clock& clock,
            const ref::Profile& profile) -> std::unique_ptr<EventLoop> {
    return std::make_unique<L>(std::move(selector), clock, profile);
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
      {"cancel-destroys-coroutine", "cancel destroys the coroutine instead of throwing CancelledError into it",
       {"cxl-0005", "cxl-0029"}, factory<TaskFactoryLoop<MakeDestroyedOnCancel>>()},
      {"cancel-drops-message", "Task.cancel(msg) loses the message",
       {"cxl-0008", "cxl-0009"}, factory<TaskFactoryLoop<Make<DropsCancelMessage>>>()},
      {"uncancel-ignored", "Task.uncancel() does not decrement the count of cancel requests",
       {"cxl-0010", "cxl-0011"}, factory<TaskFactoryLoop<Make<IgnoresUncancel>>>()},
      {"synchronous-done-callbacks", "a task's done callbacks run synchronously when it finishes",
       {"tsk-0003", "tsk-0014"}, factory<TaskFactoryLoop<Make<SynchronousDoneCallbacks>>>()},
      {"handler-error-stops-batch", "an exception out of a custom exception handler leaves run_forever mid-batch",
       {"exc-0017"}, factory<HandlerErrorStopsBatch>()},
      {"context-key-renamed", "a callback's report calls its handle 'callback' instead of 'handle'",
       {"exc-0001"}, factory<ContextKeyRenamed>()},
      {"never-retrieved-at-close", "an exception never retrieved is reported when the loop goes, not at release",
       {"exc-0007", "exc-0008"}, factory<KeepsTasksUntilClose>()},
      {"slow-threshold-strict", "a callback is slow only when it took longer than slow_callback_duration",
       {"dbg-0003"}, factory<SlowThresholdStrict>()},
      {"no-thread-check", "debug mode lets call_soon be called from another thread while the loop runs",
       {"dbg-0008", "dbg-0010"}, factory<NoThreadCheck>()},
      {"first-step-inline", "a task's first step runs inside create_task instead of via call_soon",
       {"tsk-0001", "tsk-0002"}, factory<TaskFactoryLoop<Make<FirstStepInline>>>()},
  };
  return mutants;
}

const Mutant* find(const std::string& name) {
  for (const auto& m : all()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

std::string names() {
  std::string known;
  for (const auto& m : all()) known += " " + m.name;
  return known;
}

std::string loop_name(const Mutant& mutant, const std::string& backend) { return "mutant/" + mutant.name + "/" + backend; }

ReferenceAdapter adapter(const Mutant& mutant, const std::string& backend, const ref::Profile& profile) {
  return ReferenceAdapter(backend, profile, loop_name(mutant, backend), mutant.factory);
}

}  // namespace aiospec::conformance::mutants
