// asyncio/base_events.py (+ the selector half in selector_events.cpp): the event loop.
#pragma once

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <source_location>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <typeindex>
#include <vector>

#include "aiospec/ref/clock.hpp"
#include "aiospec/ref/events.hpp"
#include "aiospec/ref/log.hpp"
#include "aiospec/ref/profile.hpp"
#include "aiospec/ref/selectors.hpp"

namespace aiospec::ref {

class FutureBase;
class TaskBase;
template <class T>
class Future;
template <class T>
class Task;
template <class T>
class AnyCoroutine;
template <class T>
class Coroutine;

// loop.set_task_factory's factory for tasks of result type T (tasks.hpp). Python has one
// factory for every task; C++ tasks have a result type, so a loop keeps one factory per type.
template <class T>
using TaskFactory =
    std::function<std::shared_ptr<Task<T>>(EventLoop&, std::unique_ptr<AnyCoroutine<T>>, std::optional<std::string>)>;

class EventLoop {
 public:
  // base_events: MAXIMUM_SELECT_TIMEOUT, _MIN_SCHEDULED_TIMER_HANDLES,
  // _MIN_CANCELLED_TIMER_HANDLES_FRACTION.
  static constexpr double kMaximumSelectTimeout = 24 * 3600;
  static constexpr std::size_t kMinScheduledTimerHandles = 100;
  static constexpr double kMinCancelledTimerHandlesFraction = 0.5;

  using ExceptionHandler = std::function<void(EventLoop&, const ExceptionContext&)>;

  // `clock` must outlive the loop. The self-pipe is registered with `selector` at once.
  // `profile`: the CPython version whose behaviour the loop reproduces where versions differ.
  EventLoop(std::unique_ptr<Selector> selector, Clock& clock,
            Profile profile = Profile::for_version(kDefaultVersion));
  // Real time (MonotonicClock), real descriptors.
  explicit EventLoop(std::string_view backend = "poll", Profile profile = Profile::for_version(kDefaultVersion));
  virtual ~EventLoop();  // closes the loop unless it is closed or running
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Scheduling. All throw RuntimeError("Event loop is closed") on a closed loop; in debug mode
  // call_soon/call_at/call_later also check the thread (check_thread). `where` is the caller:
  // a debug-mode handle's creation site.
  // `callback`: a Callback, or any callable a Callback is made of (then the handle's is "callback").
  template <class F>
    requires std::is_constructible_v<Callback, F>
  HandlePtr call_soon(F&& callback, const std::source_location& where = std::source_location::current()) {
    check_closed();
    if (debug_) check_thread();
    auto handle = detail::make_handle<Handle>(std::forward<F>(callback), this, debug_, where);
    append_ready(handle);
    return handle;
  }
  // The only method safe to call from another thread: queues in the inbox (under its mutex) and
  // wakes the selector through the self-pipe. Never checks the thread.
  HandlePtr call_soon_threadsafe(Callback callback,
                                 const std::source_location& where = std::source_location::current());
  TimerHandlePtr call_later(double delay, Callback callback,  // call_at(time() + delay)
                            const std::source_location& where = std::source_location::current());
  TimerHandlePtr call_at(double when, Callback callback,
                         const std::source_location& where = std::source_location::current());
  double time() const;
  double clock_resolution() const { return clock_resolution_; }
  const Profile& profile() const { return profile_; }

  // Running and stopping.
  void run_forever();
  template <class T>
  T run_until_complete(std::shared_ptr<Future<T>> future);  // defined in futures.hpp
  // run_until_complete(coro): wraps it in a task first (ensure_future); run_until_complete(task).
  // Defined in tasks.hpp.
  template <class T>
  T run_until_complete(Coroutine<T> coro);
  template <class T>
  T run_until_complete(std::shared_ptr<Task<T>> task);
  void stop();  // only sets a flag: the current iteration finishes first
  void close();
  bool is_running() const { return running_.load(); }
  bool is_closed() const { return closed_.load(); }

  template <class T>  // defined in futures.hpp
  std::shared_ptr<Future<T>> create_future(const std::source_location& where = std::source_location::current());

  // loop.create_task(coro, name=): through the task factory of T if one is set (tasks.hpp).
  template <class T>
  std::shared_ptr<Task<T>> create_task(std::unique_ptr<AnyCoroutine<T>> coro, std::optional<std::string> name = {});
  template <class T>
  std::shared_ptr<Task<T>> create_task(Coroutine<T> coro, std::optional<std::string> name = {});
  // loop.set_task_factory(factory) for tasks of result type T; nullptr restores the default.
  template <class T>
  void set_task_factory(TaskFactory<T> factory);

  // I/O callbacks (selector_events.cpp). add_* replaces (and cancels) a previous callback for
  // the descriptor; remove_* returns whether there was one and cancels it.
  void add_reader(int fd, Callback callback);
  bool remove_reader(int fd);
  void add_writer(int fd, Callback callback);
  bool remove_writer(int fd);

  // The head of the timer heap: what a virtual-time selector waits for. Meaningful inside
  // select(), where the head has just been cleaned of cancelled timers.
  std::optional<double> next_deadline() const;

  // Exception handling (base_events.py). set_exception_handler(nullptr) restores the default
  // handler; get_exception_handler() is empty then.
  void set_exception_handler(ExceptionHandler handler);
  const ExceptionHandler& get_exception_handler() const { return exception_handler_; }
  // call_exception_handler(context): the custom handler, or the default one; the fallbacks of
  // EXC-02 (a failing custom handler: the default handler reports it with the context nested; a
  // failing default handler: one logger.error). SystemExit and KeyboardInterrupt propagate.
  // Virtual as in Python: subclasses and mutants override it.
  virtual void call_exception_handler(const ExceptionContext& context);
  // One ERROR record: the message ('Unhandled exception in event loop' when missing or empty),
  // then "key: repr(value)" for every other key, sorted (source_traceback and handle_traceback
  // as tracebacks), the context's exception as the record's exception. In debug mode, during a
  // callback, adds handle_traceback when the context has no source_traceback (EXC-07).
  virtual void default_exception_handler(const ExceptionContext& context);

  // The loop's `asyncio` logger (log.hpp): stderr unless replaced. Never null.
  void set_logger(std::shared_ptr<Logger> logger);

  // Debug mode (coroutines._is_debug_mode at construction: PYTHONASYNCIODEBUG non-empty).
  void set_debug(bool enabled) { debug_ = enabled; }
  bool get_debug() const { return debug_; }
  // loop.slow_callback_duration: a callback running at least this long is logged (debug mode).
  double slow_callback_duration() const { return slow_callback_duration_; }
  void set_slow_callback_duration(double seconds) { slow_callback_duration_ = seconds; }
  // Whether callback reprs show their arguments (Profile::callback_args_only_in_debug).
  bool shows_callback_args() const { return !profile_.callback_args_only_in_debug || debug_; }

  // repr(loop): <EventLoop running=False closed=False debug=False> (Python shows its class,
  // _UnixSelectorEventLoop; the suite's normalisation calls every loop EventLoop).
  std::string repr() const;

  // gc.collect() for this loop's futures (futures.cpp; the ownership rules in reference/README.md):
  // frees the futures and tasks that only reference cycles keep alive, reporting them first.
  // `held_inside(f)`: how many of f's owners the caller knows to be references from inside the
  // loop's objects beyond the edges the loop knows (a coroutine frame's, which C++ cannot see);
  // none by default. Returns how many futures it freed.
  std::size_t collect_garbage(const std::function<long(const FutureBase&)>& held_inside = {});

  // For tests and the conformance adapter: len(_ready), len(_scheduled), _timer_cancelled_count.
  std::size_t ready_count() const;
  std::size_t scheduled_count() const { return scheduled_.size(); }
  long timer_cancelled_count() const { return timer_cancelled_count_; }

 protected:
  // One full iteration (_run_once). The only virtual: test-only mutant loops override it to
  // break one rule each (conformance/mutants).
  virtual void run_once();

  // The phases of one iteration, in order (libuv style):
  void drop_cancelled_timers();
  std::optional<double> compute_timeout() const;
  void process_events(const std::vector<ReadyEvent>& events);
  void schedule_expired_timers(double end_time);  // pops while head.when < end_time
  void run_ready_batch();                         // exactly the handles queued when it starts
  // Skips cancelled handles; in debug mode times the callback and logs a slow one (DBG-02), the
  // handle being _current_handle meanwhile.
  void run_handle(Handle& handle) {
    if (handle.cancelled()) return;
    if (debug_) {
      run_in_debug_mode(handle);
    } else {
      handle.run();
    }
  }

  // _check_thread: RuntimeError when called from another thread than the one running the loop.
  // Virtual for the mutants (a loop that never checks).
  virtual void check_thread() const;
  // _format_handle: the task's repr for a task's step or wake-up, else the handle's.
  static std::string format_handle(const Handle& handle);
  Logger& logger() const { return *logger_; }
  // The handle whose callback runs now, in debug mode (_current_handle); nullptr otherwise.
  const Handle* current_handle() const { return current_handle_; }
  void set_current_handle(const Handle* handle) { current_handle_ = handle; }

  // _add_reader/_add_writer: like add_reader/add_writer, returning the handle (which may then be
  // cancelled without removing it, as sock_recv does).
  HandlePtr add_reader_handle(int fd, Callback callback);
  HandlePtr add_writer_handle(int fd, Callback callback);

  Selector& selector() { return *selector_; }
  Clock& clock() { return *clock_; }

  // The ready queue (_ready), with whatever other threads have queued since the loop thread last
  // looked moved to its back first (take_inbox). Only the loop's thread may call it.
  std::deque<HandlePtr>& ready_queue() {
    if (inbox_pending_.load(std::memory_order_acquire)) take_inbox();
    return ready_;
  }

  // State mutants need.
  std::vector<TimerHandlePtr> scheduled_;  // a heapq heap ordered by TimerHandleLess
  long timer_cancelled_count_ = 0;
  bool stopping_ = false;

 private:
  void run_in_debug_mode(Handle& handle);
  friend class TimerHandle;
  friend class Handle;
  void timer_handle_cancelled(const TimerHandle& handle);  // _timer_handle_cancelled

  void check_closed() const {
    if (closed_.load()) throw_closed();
  }
  [[noreturn]] static void throw_closed();
  void check_running() const;
  void append_ready(HandlePtr handle) { ready_queue().push_back(std::move(handle)); }

  // CPython's _ready is one deque that call_soon_threadsafe appends to from any thread under the
  // GIL. Here the loop's thread owns ready_ and appends without a lock; other threads append to
  // inbox_ under inbox_mutex_ and raise inbox_pending_. Every time the loop thread touches the
  // queue it first moves the inbox to the back of ready_ (one atomic load when there is nothing),
  // so a handle queued from a thread still runs before everything queued after it became
  // visible, as in the single deque.
  void take_inbox();
  std::deque<HandlePtr> ready_;
  std::vector<HandlePtr> inbox_;
  mutable std::mutex inbox_mutex_;  // also orders call_soon_threadsafe against close()
  std::atomic<bool> inbox_pending_{false};

  // futures.cpp / tasks.cpp: every future of this loop (for all_tasks and, on destruction, to
  // break the reference cycles between futures, their callbacks and tasks), the task whose step
  // runs now (tasks._current_tasks[loop]), the task factories by result type.
  friend class FutureBase;
  friend class TaskBase;
  void release_futures();
  std::set<FutureBase*> futures_;
  TaskBase* current_task_ = nullptr;
  std::map<std::type_index, std::shared_ptr<void>> task_factories_;

  // selector_events.cpp
  struct SelectorKey {  // what Python's selector keeps per descriptor: key.events, key.data
    unsigned events = 0;
    HandlePtr reader, writer;
  };
  void make_self_pipe();
  void close_self_pipe();
  void read_from_self();
  void write_to_self();  // callers hold inbox_mutex_

  std::unique_ptr<Clock> owned_clock_;
  Clock* clock_;
  std::unique_ptr<Selector> selector_;
  double clock_resolution_;
  std::atomic<bool> closed_{false};
  std::atomic<bool> running_{false};
  ExceptionHandler exception_handler_;
  std::shared_ptr<Logger> logger_;
  bool debug_ = false;
  double slow_callback_duration_ = 0.1;
  std::optional<std::thread::id> thread_id_;  // _thread_id: set while running
  const Handle* current_handle_ = nullptr;
  // The exception Handle._run is handling while it calls the handler (its `except` block): a
  // custom handler's own exception is chained to it, as Python chains implicitly.
  std::exception_ptr handling_;
  Profile profile_;
  std::map<int, SelectorKey> keys_;
  int ssock_ = -1;  // self-pipe: the loop reads here
  int csock_ = -1;  // others write here, under inbox_mutex_
};

}  // namespace aiospec::ref

// Future<T> needs the complete EventLoop and EventLoop's templates need Future<T>: whichever of
// the two headers comes first, both end up complete.
#include "aiospec/ref/futures.hpp"
