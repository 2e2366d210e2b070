// asyncio/base_events.py: the ready queue, the timer heap, _run_once, run/stop/close.
#include "aiospec/ref/base_events.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <utility>

#include "aiospec/ref/exceptions.hpp"
#include "aiospec/ref/heapq.hpp"
#include "aiospec/ref/tasks.hpp"

namespace aiospec::ref {

namespace {
// coroutines._is_debug_mode(): PYTHONASYNCIODEBUG set to anything non-empty (even "0").
bool is_debug_mode() {
  const char* value = std::getenv("PYTHONASYNCIODEBUG");
  return value != nullptr && *value != '\0';
}
}  // namespace

EventLoop::EventLoop(std::unique_ptr<Selector> selector, Clock& clock, Profile profile)
    : clock_(&clock),
      selector_(std::move(selector)),
      clock_resolution_(clock.resolution()),
      logger_(std::make_shared<StderrLogger>()),
      debug_(is_debug_mode()),
      profile_(std::move(profile)) {
  make_self_pipe();
}

EventLoop::EventLoop(std::string_view backend, Profile profile)
    : owned_clock_(std::make_unique<MonotonicClock>()),
      clock_(owned_clock_.get()),
      selector_(make_selector(backend)),
      clock_resolution_(clock_->resolution()),
      logger_(std::make_shared<StderrLogger>()),
      debug_(is_debug_mode()),
      profile_(std::move(profile)) {
  make_self_pipe();
}

EventLoop::~EventLoop() {
  // BaseEventLoop.__del__: an unclosed loop warns (ResourceWarning, here a WARNING record) and
  // closes itself unless it is running.
  if (!is_closed()) {
    logger_->log({LogLevel::warning, "unclosed event loop " + repr(), nullptr});
    if (!is_running()) {
      try {
        close();
      } catch (...) {  // a destructor must not throw; close() only fails when running
      }
    }
  }
  // What the futures report while the loop dies (never retrieved, destroyed pending) goes to the
  // default handler: a custom handler may belong to an object that is already gone.
  exception_handler_ = nullptr;
  release_futures();
}

// Python's garbage collector frees a pending task, the future it waits for and the callbacks
// between them together; shared_ptr cycles never are. A dead loop can run none of them again,
// so its futures let go of their callbacks and coroutines (which frees the cycles) and forget the
// loop. Everything stays alive while this runs: the strong references are dropped only at the end.
void EventLoop::release_futures() {
  std::vector<std::shared_ptr<FutureBase>> alive;
  std::vector<FutureBase*> all(futures_.begin(), futures_.end());
  for (FutureBase* f : all) {
    f->registered_ = false;
    if (auto strong = f->weak_from_this().lock()) alive.push_back(std::move(strong));
  }
  futures_.clear();
  for (auto& f : alive) f->release_references();
}

void EventLoop::throw_closed() { throw RuntimeError("Event loop is closed"); }

void EventLoop::check_running() const {
  if (is_running()) throw RuntimeError("This event loop is already running");
  if (running_loop_or_null() != nullptr) {
    throw RuntimeError("Cannot run the event loop while another loop is running");
  }
}

void EventLoop::take_inbox() {
  std::lock_guard lock(inbox_mutex_);
  for (auto& handle : inbox_) ready_.push_back(std::move(handle));
  inbox_.clear();
  inbox_pending_.store(false, std::memory_order_relaxed);
}

void EventLoop::check_thread() const {
  if (!thread_id_) return;
  if (*thread_id_ != std::this_thread::get_id()) {
    throw RuntimeError("Non-thread-safe operation invoked on an event loop other than the current one");
  }
}

HandlePtr EventLoop::call_soon_threadsafe(Callback callback, const std::source_location& where) {
  auto handle = detail::make_handle<Handle>(std::move(callback), this, debug_, where);
  handle->shared_between_threads_ = true;  // before another thread can see it
  std::lock_guard lock(inbox_mutex_);  // also orders this call against close()
  check_closed();
  // One wake-up per batch, as uv_async_send: asyncio writes a byte on every call, but a byte
  // is already on its way while the inbox is pending, and the loop looks at inbox_pending_
  // before it waits (compute_timeout), then empties the inbox (take_inbox, under this mutex).
  const bool wake = !inbox_pending_.load(std::memory_order_relaxed);
  inbox_.push_back(handle);
  inbox_pending_.store(true, std::memory_order_release);
  if (wake) write_to_self();
  return handle;
}

TimerHandlePtr EventLoop::call_later(double delay, Callback callback, const std::source_location& where) {
  return call_at(time() + delay, std::move(callback), where);
}

TimerHandlePtr EventLoop::call_at(double when, Callback callback, const std::source_location& where) {
  check_closed();
  if (debug_) check_thread();
  auto timer = detail::make_handle<TimerHandle>(when, std::move(callback), this, debug_, where);
  heappush(scheduled_, timer, TimerHandleLess{});
  timer->scheduled = true;
  return timer;
}

double EventLoop::time() const { return clock_->time(); }

void EventLoop::timer_handle_cancelled(const TimerHandle& handle) {
  if (handle.scheduled) ++timer_cancelled_count_;
}

std::size_t EventLoop::ready_count() const {
  std::lock_guard lock(inbox_mutex_);
  return ready_.size() + inbox_.size();
}

std::optional<double> EventLoop::next_deadline() const {
  if (scheduled_.empty()) return std::nullopt;
  return scheduled_.front()->when();
}

// ---------------------------------------------------------------------------------------------
// Run one full iteration of the event loop (BaseEventLoop._run_once):
//   1. drop cancelled timers: rebuild the heap when more than half of more than 100 timers are
//      cancelled, else pop the cancelled ones off its head;
//   2. poll for I/O, waiting until the first timer is due (not at all when callbacks are ready
//      or stop() was called; at most a day; forever when there are no timers);
//   3. queue the I/O callbacks behind the callbacks still ready from before;
//   4. queue every timer due by now + clock resolution, in heap-pop order;
//   5. run exactly the callbacks queued at this point. What they schedule runs next time round.
void EventLoop::run_once() {
  drop_cancelled_timers();
  const auto events = selector().select(compute_timeout());
  process_events(events);
  // end_time = self.time() + self._clock_resolution; the clock is read only when a timer is
  // there to compare it with (a read has no other effect).
  if (!scheduled_.empty()) schedule_expired_timers(time() + clock_resolution_);
  run_ready_batch();
}

void EventLoop::drop_cancelled_timers() {
  const std::size_t sched_count = scheduled_.size();
  if (sched_count > kMinScheduledTimerHandles &&
      static_cast<double>(timer_cancelled_count_) / static_cast<double>(sched_count) >
          kMinCancelledTimerHandlesFraction) {
    // Compaction. Reshapes the heap, and with it the order of equal deadlines (TMR-04).
    std::vector<TimerHandlePtr> new_scheduled;
    for (auto& handle : scheduled_) {
      if (handle->cancelled()) {
        handle->scheduled = false;
      } else {
        new_scheduled.push_back(std::move(handle));
      }
    }
    heapify(new_scheduled, TimerHandleLess{});
    scheduled_ = std::move(new_scheduled);
    timer_cancelled_count_ = 0;
  } else {
    while (!scheduled_.empty() && scheduled_.front()->cancelled()) {
      --timer_cancelled_count_;
      auto handle = heappop(scheduled_, TimerHandleLess{});
      handle->scheduled = false;
    }
  }
}

std::optional<double> EventLoop::compute_timeout() const {
  const bool ready = !ready_.empty() || inbox_pending_.load(std::memory_order_acquire);
  if (ready || stopping_) return 0.0;
  if (scheduled_.empty()) return std::nullopt;
  double timeout = scheduled_.front()->when() - time();
  if (profile_.nan_timeout_reaches_selector) {
    // 3.13: if timeout > MAXIMUM_SELECT_TIMEOUT: ... elif timeout < 0: ... (NaN passes both).
    if (timeout > kMaximumSelectTimeout) {
      timeout = kMaximumSelectTimeout;
    } else if (timeout < 0) {
      timeout = 0.0;
    }
    return timeout;
  }
  // 3.8-3.12: min(max(0, when - time()), MAXIMUM_SELECT_TIMEOUT), comparison for comparison: a
  // NaN deadline gives 0.
  timeout = (timeout > 0) ? timeout : 0.0;
  timeout = (kMaximumSelectTimeout < timeout) ? kMaximumSelectTimeout : timeout;
  return timeout;
}

void EventLoop::schedule_expired_timers(double end_time) {
  while (!scheduled_.empty()) {
    // `>=` so that a NaN deadline, comparing false with everything, counts as expired.
    if (scheduled_.front()->when() >= end_time) break;
    auto handle = heappop(scheduled_, TimerHandleLess{});
    handle->scheduled = false;
    // A cancelled timer still goes to the ready queue (to be skipped there), and the cancelled
    // count is not decremented for it: the count drifts upward, as in CPython.
    append_ready(std::move(handle));
  }
}

void EventLoop::run_ready_batch() {
  std::deque<HandlePtr>& ready = ready_queue();
  const std::size_t ntodo = ready.size();
  for (std::size_t i = 0; i < ntodo; ++i) {
    const HandlePtr handle = std::move(ready.front());
    ready.pop_front();
    run_handle(*handle);
  }
}

void EventLoop::run_in_debug_mode(Handle& handle) {
  struct Current {  // try: self._current_handle = handle ... finally: self._current_handle = None
    EventLoop& loop;
    ~Current() { loop.current_handle_ = nullptr; }
  } current{*this};
  current_handle_ = &handle;
  const double t0 = time();
  handle.run();
  const double dt = time() - t0;
  if (dt >= slow_callback_duration_) {
    char seconds[64];
    std::snprintf(seconds, sizeof seconds, "%.3f", dt);
    logger_->log({LogLevel::warning, "Executing " + format_handle(handle) + " took " + seconds + " seconds", nullptr});
  }
}

std::string EventLoop::format_handle(const Handle& handle) {
  const Callback* cb = handle.callback();
  if (cb != nullptr && cb->task != nullptr) return cb->task->repr();
  return handle.repr();
}

// ---------------------------------------------------------------------------------------------

void EventLoop::run_forever() {
  check_closed();
  check_running();
  // Whatever leaves the loop (stop, SystemExit, WouldBlockForever, a foreign exception) leaves
  // it not running, not stopping, and no longer this thread's running loop. Unrun handles stay
  // queued for the next run.
  struct Running {
    explicit Running(EventLoop& l) : loop(l) {
      loop.thread_id_ = std::this_thread::get_id();
      loop.running_ = true;
      set_running_loop(&loop);
    }
    ~Running() {
      loop.stopping_ = false;
      loop.running_ = false;
      loop.thread_id_.reset();
      set_running_loop(nullptr);
    }
    EventLoop& loop;
  } running(*this);
  while (true) {
    run_once();
    if (stopping_) break;
  }
}

void EventLoop::stop() { stopping_ = true; }

void EventLoop::close() {
  if (is_running()) throw RuntimeError("Cannot close a running event loop");
  if (is_closed()) return;
  close_self_pipe();
  if (debug_) logger_->log({LogLevel::debug, "Close " + repr(), nullptr});
  // Pending callbacks are dropped silently; timers keep their `scheduled` flag, as in CPython.
  // They are destroyed outside the lock: a callback's captures may call back into the loop.
  std::deque<HandlePtr> dropped;
  std::vector<HandlePtr> dropped_inbox;
  {
    std::lock_guard lock(inbox_mutex_);
    closed_ = true;
    dropped.swap(ready_);
    dropped_inbox.swap(inbox_);
    inbox_pending_ = false;
  }
  scheduled_.clear();
  keys_.clear();
  selector_->close();
}

// ---------------------------------------------------------------------------------------------

std::string EventLoop::repr() const {
  const auto py = [](bool b) { return b ? "True" : "False"; };
  return std::string("<EventLoop running=") + py(is_running()) + " closed=" + py(is_closed()) + " debug=" + py(debug_) +
         ">";
}

void EventLoop::set_logger(std::shared_ptr<Logger> logger) {
  logger_ = logger ? std::move(logger) : std::make_shared<StderrLogger>();
}

void EventLoop::set_exception_handler(ExceptionHandler handler) { exception_handler_ = std::move(handler); }

void EventLoop::call_exception_handler(const ExceptionContext& context) {
  if (!exception_handler_) {
    try {
      default_exception_handler(context);
    } catch (const SystemExit&) {
      throw;
    } catch (const KeyboardInterrupt&) {
      throw;
    } catch (const std::exception&) {
      // Second protection layer for unexpected errors in the default implementation, as well as
      // for subclassed event loops with overloaded default_exception_handler. (base_events.py)
      logger_->log({LogLevel::error, "Exception in default exception handler", std::current_exception()});
    }
    return;
  }
  try {
    exception_handler_(*this, context);
  } catch (const SystemExit&) {
    throw;
  } catch (const KeyboardInterrupt&) {
    throw;
  } catch (const std::exception&) {
    // Exception in the user set custom exception handler: let's try the default handler. Raised
    // inside Handle._run's except block, it has that block's exception as __context__.
    const std::exception_ptr exc = chain_context(std::current_exception(), handling_);
    try {
      default_exception_handler({{"message", "Unhandled error in exception handler"},
                                 {"exception", exc},
                                 {"context", std::make_shared<const ExceptionContext>(context)}});
    } catch (const SystemExit&) {
      throw;
    } catch (const KeyboardInterrupt&) {
      throw;
    } catch (const std::exception&) {
      logger_->log({LogLevel::error,
                    "Exception in default exception handler while handling an unexpected error in custom "
                    "exception handler",
                    std::current_exception()});
    }
  }
}

void EventLoop::default_exception_handler(const ExceptionContext& given) {
  ExceptionContext context = given;
  const std::optional<std::string> given_message = context.message();
  const std::string message = given_message && !given_message->empty() ? *given_message : "Unhandled exception in event loop";

  if (!context.contains("source_traceback") && current_handle_ != nullptr &&
      !current_handle_->source_traceback().empty()) {
    context.set("handle_traceback", current_handle_->source_traceback());
  }

  std::string log = message;
  for (const std::string& key : context.sorted_keys()) {
    if (key == "message" || key == "exception") continue;
    const ContextValue& value = *context.get(key);
    std::string text;
    const auto* tb = std::get_if<SourceTraceback>(&value);
    if (key == "source_traceback" && tb != nullptr) {
      text = format_traceback("Object created at (most recent call last):", *tb);
    } else if (key == "handle_traceback" && tb != nullptr) {
      text = format_traceback("Handle created at (most recent call last):", *tb);
    } else {
      text = context_value_repr(value);
    }
    log += "\n" + key + ": " + text;
  }
  logger_->log({LogLevel::error, std::move(log), context.exception()});
}

}  // namespace aiospec::ref
