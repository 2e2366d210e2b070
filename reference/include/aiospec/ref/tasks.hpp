// asyncio/tasks.py: Task, create_task, current_task / all_tasks, ensure_future, sleep, gather,
// shield, wait_for, wait.
//
// A Task is a Future that drives a coroutine with Task.__step and Task.__wakeup exactly as
// tasks.py does: the first step is scheduled with call_soon; a step that yields a pending future
// adds __wakeup as that future's done callback, and the wake-up steps the coroutine again;
// a bare yield reschedules the step with call_soon (one iteration); cancel() cancels the future
// waited for, or sets _must_cancel so that the next step throws CancelledError in.
#pragma once

#include <cmath>
#include <concepts>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <typeindex>
#include <utility>
#include <variant>
#include <vector>

#include "aiospec/ref/base_events.hpp"
#include "aiospec/ref/coroutines.hpp"
#include "aiospec/ref/exceptions.hpp"
#include "aiospec/ref/futures.hpp"
#include "aiospec/ref/timeouts.hpp"

namespace aiospec::ref {

// The half of Task<T> that does not depend on T: tasks.py's Task minus the result. Task<T> is
// both a Future<T> and a TaskBase; `as_future()` is the task seen as its future.
class TaskBase {
 public:
  virtual ~TaskBase() = default;
  TaskBase(const TaskBase&) = delete;
  TaskBase& operator=(const TaskBase&) = delete;

  FutureBase& as_future() const { return self_; }
  EventLoop& get_loop() const { return self_.get_loop(); }
  bool done() const { return self_.done(); }
  // The task as a shared_ptr (it is always owned by one: make_task).
  std::shared_ptr<TaskBase> shared_task() const;

  // Task-<counter> unless a name was given.
  const std::string& get_name() const { return name_; }
  void set_name(std::string name) { name_ = std::move(name); }

  // Task.cancel(msg): false when done; otherwise counts the request and cancels the future the
  // task waits for, or (no such future, or it refused) sets _must_cancel. Always true then.
  virtual bool cancel(const std::optional<std::string>& msg = std::nullopt);
  // Task.cancelling() / Task.uncancel() (3.11+; Profile::task_has_cancelling,
  // Profile::uncancel_rescinds_pending_cancel).
  virtual int cancelling() const;
  virtual int uncancel();

  // The coroutine's lifetime ends with the task's.
  virtual AnyCoroutineBase& get_coro() = 0;

  // _fut_waiter: the future the task waits for (nullptr when it waits for none).
  const FutureBase* waiting_for() const { return fut_waiter_.get(); }

  // repr(task): <Task pending name='Task-1' coro=<...> wait_for=<Future pending ...>>, <Task
  // finished name='t' coro=<...> exception=KeyError('k')> (base_tasks._task_repr_info).
  std::string repr() const;

  // Task._log_destroy_pending: whether ~Task reports a task destroyed while pending (gather
  // turns it off for the tasks it wraps coroutines in).
  bool log_destroy_pending = true;

  // tasks.current_task(loop) and tasks.all_tasks(loop) (the free functions below).
  static std::shared_ptr<TaskBase> current(EventLoop& loop);
  static std::vector<std::shared_ptr<TaskBase>> all(EventLoop& loop);

 protected:
  TaskBase(FutureBase& self, std::optional<std::string> name, bool eager_start = false);

  // Task.__init__'s `self._loop.call_soon(self.__step)` (or, for an eager task of a running
  // loop, __eager_start), run by make_task once the task is owned by a shared_ptr. Virtual so
  // that a test mutant can run the first step inline instead.
  virtual void schedule_first_step();
  // Task.__eager_start (3.12+): the first step now, this task current meanwhile.
  void eager_start();
  // Task.__step and Task.__wakeup.
  void step(std::exception_ptr exc = nullptr);
  void wakeup(FutureBase& future);

  // super().set_result(exc.value) after the coroutine returned.
  virtual void set_result_from_coroutine() = 0;
  // ~EventLoop's cycle breaking (FutureBase::release_references).
  void release_task_references() { fut_waiter_.reset(); }
  // Task.__del__: 'Task was destroyed but it is pending!' ({message, task[, source_traceback]}),
  // then Future.__del__'s never-retrieved report. Called by ~Task<T>, while it is still a Task.
  void report_destroyed() noexcept;

 private:
  template <class TaskType, class... Args>
  friend std::shared_ptr<TaskType> make_task(Args&&... args);
  friend class EventLoop;  // collect_garbage follows fut_waiter_

  void step_run_and_handle_result(std::exception_ptr exc);

  FutureBase& self_;
  std::string name_;
  int num_cancels_requested_ = 0;     // _num_cancels_requested
  bool must_cancel_ = false;          // _must_cancel
  bool eager_start_ = false;
  std::shared_ptr<FutureBase> fut_waiter_;  // _fut_waiter
};

template <class T>
class Task : public Future<T>, public TaskBase {
 public:
  // Task(coro, loop=loop, name=name) without the scheduling: use make_task (or
  // loop.create_task), which schedules the first step once the task is shared.
  Task(EventLoop& loop, std::unique_ptr<AnyCoroutine<T>> coro, std::optional<std::string> name = {},
       bool eager_start = false)
      : Future<T>(loop),
        TaskBase(static_cast<FutureBase&>(*this), std::move(name), eager_start),
        coro_(std::move(coro)) {
    this->set_class_name("Task");
  }
  ~Task() override { report_destroyed(); }

  std::string repr() const override { return TaskBase::repr(); }

  using FutureBase::done;
  using FutureBase::get_loop;

  // One cancel() for both bases: Future.cancel is Task.cancel on a task.
  bool cancel(const std::optional<std::string>& msg = std::nullopt) override { return TaskBase::cancel(msg); }

  template <class... A>
  [[noreturn]] void set_result(A&&...) {
    throw RuntimeError("Task does not support set_result operation");
  }
  void set_exception(std::exception_ptr) override {
    throw RuntimeError("Task does not support set_exception operation");
  }

  AnyCoroutine<T>& get_coro() override { return *coro_; }

 protected:
  void set_result_from_coroutine() override {
    if constexpr (std::is_void_v<T>) {
      coro_->result();
      Future<T>::set_result(std::monostate{});
    } else {
      Future<T>::set_result(coro_->result());
    }
  }
  void release_references() override {
    FutureBase::release_references();
    release_task_references();
    coro_.reset();
  }

 private:
  std::unique_ptr<AnyCoroutine<T>> coro_;
};

// Constructs a task (Task<T> or a subclass, with these constructor arguments) and schedules its
// first step: together, what calling the Task class does in Python.
template <class TaskType, class... Args>
std::shared_ptr<TaskType> make_task(Args&&... args) {
  auto task = std::make_shared<TaskType>(std::forward<Args>(args)...);
  static_cast<TaskBase&>(*task).schedule_first_step();
  return task;
}

// asyncio.eager_task_factory (3.12+), for loop.set_task_factory<T>: tasks whose first step runs
// inside create_task when the loop is running; one that finishes without suspending is done
// when create_task returns.
template <class T>
TaskFactory<T> eager_task_factory() {
  return [](EventLoop& loop, std::unique_ptr<AnyCoroutine<T>> coro, std::optional<std::string> name) {
    return make_task<Task<T>>(loop, std::move(coro), std::move(name), /*eager_start=*/true);
  };
}

// asyncio.current_task(loop) (nullptr when no task runs) and asyncio.all_tasks(loop) (the tasks
// not done, in no particular order). Without a loop: the running loop (RuntimeError if none).
std::shared_ptr<TaskBase> current_task(EventLoop* loop = nullptr);
std::vector<std::shared_ptr<TaskBase>> all_tasks(EventLoop* loop = nullptr);

// ---- EventLoop's task methods (declared in base_events.hpp) --------------------------------

template <class T>
std::shared_ptr<Task<T>> EventLoop::create_task(std::unique_ptr<AnyCoroutine<T>> coro, std::optional<std::string> name) {
  check_closed();
  const auto factory = task_factories_.find(std::type_index(typeid(T)));
  if (factory == task_factories_.end()) return make_task<Task<T>>(*this, std::move(coro), std::move(name));
  return (*static_cast<TaskFactory<T>*>(factory->second.get()))(*this, std::move(coro), std::move(name));
}

template <class T>
std::shared_ptr<Task<T>> EventLoop::create_task(Coroutine<T> coro, std::optional<std::string> name) {
  return create_task<T>(std::make_unique<Coroutine<T>>(std::move(coro)), std::move(name));
}

template <class T>
void EventLoop::set_task_factory(TaskFactory<T> factory) {
  if (factory) {
    task_factories_[std::type_index(typeid(T))] = std::make_shared<TaskFactory<T>>(std::move(factory));
  } else {
    task_factories_.erase(std::type_index(typeid(T)));
  }
}

template <class T>
T EventLoop::run_until_complete(Coroutine<T> coro) {
  check_closed();
  check_running();
  std::shared_ptr<Future<T>> task = create_task(std::move(coro));
  return run_until_complete(std::move(task));
}

template <class T>
T EventLoop::run_until_complete(std::shared_ptr<Task<T>> task) {
  return run_until_complete(std::shared_ptr<Future<T>>(std::move(task)));
}

// ---- ensure_future --------------------------------------------------------------------------

// What ensure_future, gather, shield and wait_for accept: a future (or task) of T, or a
// coroutine returning T that has not started.
template <class T>
struct Awaitable {
  template <class F>
    requires std::derived_from<F, Future<T>>
  Awaitable(std::shared_ptr<F> f) : future(std::move(f)) {}  // NOLINT: implicit, like Python
  Awaitable(Coroutine<T>&& coro) : coroutine(std::make_unique<Coroutine<T>>(std::move(coro))) {}  // NOLINT
  Awaitable(std::unique_ptr<AnyCoroutine<T>> coro) : coroutine(std::move(coro)) {}  // NOLINT

  std::shared_ptr<Future<T>> future;  // exactly one of the two is set
  std::unique_ptr<AnyCoroutine<T>> coroutine;
};

// asyncio.ensure_future(aw, loop=loop): a future as it is (ValueError if it belongs to another
// loop than `loop`), a coroutine wrapped in a task of `loop` (default: the running loop).
template <class T>
std::shared_ptr<Future<T>> ensure_future(Awaitable<T> aw, EventLoop* loop = nullptr) {
  if (aw.future) {
    if (loop != nullptr && loop != &aw.future->get_loop()) {
      throw ValueError("The future belongs to a different loop than the one specified as the loop argument");
    }
    return std::move(aw.future);
  }
  if (loop == nullptr) loop = get_running_loop();
  return loop->create_task(std::move(aw.coroutine));
}

namespace detail {
// `await aw` for an Awaitable, the result as stored (std::monostate for void).
template <class T>
Coroutine<ResultType<T>> await_stored(Awaitable<T> aw) {
  if (aw.future) {
    co_await aw.future;
    co_return aw.future->stored_result();
  }
  if constexpr (std::is_void_v<T>) {
    co_await std::move(aw.coroutine);
    co_return std::monostate{};
  } else {
    co_return co_await std::move(aw.coroutine);
  }
}
}  // namespace detail

// ---- sleep ----------------------------------------------------------------------------------

namespace detail {
// tasks.__sleep0 and the body of sleep() (Profile::sleep_rejects_nan).
Coroutine<void> sleep_for(double delay);
}  // namespace detail

// asyncio.sleep(delay): delay <= 0 is a bare yield (one iteration); otherwise a future set by a
// call_later timer (cancelled on the way out, however the sleep ends).
inline Coroutine<void> sleep(double delay) { return detail::sleep_for(delay); }
// sleep(0), sleep(1): an exact match, so that POSIX's ::sleep(unsigned) from <unistd.h> does not
// make the call ambiguous (or win) where both are visible.
template <std::integral I>
Coroutine<void> sleep(I delay) {
  return detail::sleep_for(static_cast<double>(delay));
}

// asyncio.sleep(delay, result).
template <class T>
Coroutine<T> sleep(double delay, T result) {
  co_await detail::sleep_for(delay);
  co_return result;
}

// ---- gather ---------------------------------------------------------------------------------

// One element of gather's result list: the child's result, or (return_exceptions=True) the
// exception it raised, as Python's list holds either.
template <class T>
using Gathered = std::variant<ResultType<T>, std::exception_ptr>;

// tasks._GatheringFuture: cancel() cancels the children instead of the future itself.
template <class T>
class GatheringFuture : public Future<std::vector<Gathered<T>>> {
 public:
  GatheringFuture(EventLoop& loop, std::vector<std::shared_ptr<Future<T>>> children)
      : Future<std::vector<Gathered<T>>>(loop), children_(std::move(children)) {
    this->set_class_name("_GatheringFuture");
  }

  // True if any child was cancelled; then the gather ends with CancelledError whatever the
  // children do. (It does not touch __log_traceback: it does not call Future.cancel.)
  bool cancel(const std::optional<std::string>& msg = std::nullopt) override {
    // 3.8: a Python method without the parameter (Future's and Task's are C, with their text).
    if (msg && !this->get_loop().profile().cancel_takes_message) {
      throw TypeError("cancel() takes 1 positional argument but 2 were given");
    }
    if (this->done()) return false;
    bool ret = false;
    for (auto& child : children_) {
      if (child->cancel(msg)) ret = true;
    }
    if (ret) cancel_requested_ = true;
    return ret;
  }
  bool cancel_requested() const { return cancel_requested_; }
  const std::vector<std::shared_ptr<Future<T>>>& children() const { return children_; }

 private:
  std::vector<std::shared_ptr<Future<T>>> children_;
  bool cancel_requested_ = false;
};

namespace detail {
// gather's closure: _done_callback with its nonlocal counters.
template <class T>
struct GatherState {
  std::shared_ptr<GatheringFuture<T>> outer;  // null until every child is in place
  std::vector<std::shared_ptr<Future<T>>> children;
  std::size_t nfuts = 0, nfinished = 0;
  bool return_exceptions = false;

  void done_callback(Future<T>& fut) {
    ++nfinished;
    if (!outer || outer->done()) {
      if (!fut.cancelled()) (void)fut.exception();  // mark it retrieved
      return;
    }
    const Profile& profile = outer->get_loop().profile();
    if (!return_exceptions) {
      if (fut.cancelled()) {
        outer->FutureBase::set_exception(profile.gather_cancelled_error_from_child
                                             ? fut.make_cancelled_error()
                                             : std::make_exception_ptr(CancelledError()));
        return;
      }
      if (auto exc = fut.exception()) {
        outer->FutureBase::set_exception(exc);
        return;
      }
    }
    if (nfinished != nfuts) return;
    std::vector<Gathered<T>> results;
    for (auto& child : children) {
      if (child->cancelled()) {
        // 3.9+: the child's _cancel_message, '' for none: a task's own message is lost.
        auto exc = profile.gather_cancelled_error_from_child
                       ? CancelledError(std::optional<std::string>(child->cancel_message().value_or("")))
                       : CancelledError();
        results.emplace_back(std::in_place_index<1>, std::make_exception_ptr(std::move(exc)));
      } else if (auto exc = child->exception()) {
        results.emplace_back(std::in_place_index<1>, exc);
      } else {
        results.emplace_back(std::in_place_index<0>, child->stored_result());
      }
    }
    if (outer->cancel_requested()) {
      // `fut` is the loop variable above: the last child.
      outer->FutureBase::set_exception(profile.gather_cancelled_error_from_child
                                           ? children.back()->make_cancelled_error()
                                           : std::make_exception_ptr(CancelledError()));
    } else {
      outer->set_result(std::move(results));
    }
  }
};
}  // namespace detail

// asyncio.gather(*children, return_exceptions=...). Coroutines become tasks (in order); the
// same future twice is one child listed twice. A child's exception (return_exceptions=False)
// finishes the gather at once and leaves the siblings running.
template <class T>
std::shared_ptr<Future<std::vector<Gathered<T>>>> gather(std::vector<Awaitable<T>> children,
                                                         bool return_exceptions = false) {
  if (children.empty()) {
    auto outer = get_running_loop()->create_future<std::vector<Gathered<T>>>();
    outer->set_result({});
    return outer;
  }
  auto state = std::make_shared<detail::GatherState<T>>();
  state->return_exceptions = return_exceptions;
  EventLoop* loop = nullptr;
  std::vector<std::shared_ptr<Future<T>>> done_futs;
  std::vector<std::shared_ptr<Future<T>>> seen;  // arg_to_fut, for the futures among the args
  for (auto& arg : children) {
    if (arg.future) {
      const auto it = std::find(seen.begin(), seen.end(), arg.future);
      if (it != seen.end()) {
        state->children.push_back(*it);
        continue;
      }
    }
    const bool is_future = static_cast<bool>(arg.future);
    auto fut = ensure_future(std::move(arg), loop);
    if (loop == nullptr) loop = &fut->get_loop();
    // A task made for a coroutine: the caller cannot control it, so no "destroy pending task"
    // report.
    if (!is_future) {
      if (auto* task = dynamic_cast<TaskBase*>(fut.get())) task->log_destroy_pending = false;
    }
    if (is_future) seen.push_back(fut);
    ++state->nfuts;
    if (loop->profile().gather_handles_done_children_at_once && fut->done()) {
      done_futs.push_back(fut);
    } else {
      fut->add_done_callback([state](Future<T>& f) { state->done_callback(f); }, "_done_callback");
    }
    state->children.push_back(fut);
  }
  state->outer = std::make_shared<GatheringFuture<T>>(*loop, state->children);
  for (auto& fut : done_futs) state->done_callback(*fut);
  return state->outer;
}

// gather(a, b, ...) of awaitables of one result type: coroutines, or futures and tasks (the
// first argument fixes the type).
template <class T, class... Rest>
std::shared_ptr<Future<std::vector<Gathered<T>>>> gather(Coroutine<T> first, Rest&&... rest) {
  std::vector<Awaitable<T>> children;
  children.emplace_back(std::move(first));
  (children.emplace_back(std::forward<Rest>(rest)), ...);
  return gather<T>(std::move(children));
}

template <class F, class... Rest>
  requires std::derived_from<F, Future<typename F::result_type>>
std::shared_ptr<Future<std::vector<Gathered<typename F::result_type>>>> gather(std::shared_ptr<F> first,
                                                                               Rest&&... rest) {
  using T = typename F::result_type;
  std::vector<Awaitable<T>> children;
  children.emplace_back(std::move(first));
  (children.emplace_back(std::forward<Rest>(rest)), ...);
  return gather<T>(std::move(children));
}

// ---- shield ---------------------------------------------------------------------------------

namespace detail {
// tasks._log_on_exception (3.14): once the outer is done, the inner's exception goes to the
// exception handler ({message: '<Class> exception in shielded future', exception, future}).
void log_on_exception(FutureBase& fut);
inline constexpr std::string_view kLogOnException = "_log_on_exception";
}  // namespace detail

// asyncio.shield(aw): the inner itself when it is done; otherwise a new future that follows it,
// whose cancellation does not reach the inner. What becomes of the inner's exception once the
// outer is gone: Profile::shield_logs_orphaned_exception.
template <class T>
std::shared_ptr<Future<T>> shield(Awaitable<T> arg) {
  auto inner = ensure_future(std::move(arg));
  if (inner->done()) return inner;
  auto outer = inner->get_loop().template create_future<T>();
  const bool logs = inner->get_loop().profile().shield_logs_orphaned_exception;
  const DoneCallbackId inner_callback = inner->add_done_callback([outer, logs](Future<T>& in) {
    if (outer->cancelled()) {
      if (!logs && !in.cancelled()) (void)in.exception();  // mark it retrieved (3.8-3.13)
      return;
    }
    if (in.cancelled()) {
      outer->cancel();
    } else if (auto exc = in.exception()) {
      outer->set_exception(exc);
    } else {
      outer->set_result(in.stored_result());
    }
  });
  outer->add_done_callback([inner, inner_callback, logs](Future<T>&) {
    if (inner->done()) return;
    inner->remove_done_callback(inner_callback);
    if (logs) {
      // Keep only one callback to log on cancel
      inner->remove_done_callbacks_named(detail::kLogOnException);
      inner->add_done_callback([](Future<T>& f) { detail::log_on_exception(f); }, std::string(detail::kLogOnException));
    }
  });
  return outer;
}

// ---- wait_for -------------------------------------------------------------------------------

namespace detail {

// tasks._release_waiter.
inline void release_waiter(Future<void>& waiter) {
  if (!waiter.done()) waiter.set_result();
}

// tasks._cancel_and_wait: cancel `fut` and wait until it is done, through a waiter future so
// that this wait can itself be cancelled.
Coroutine<void> cancel_and_wait(EventLoop& loop, std::shared_ptr<FutureBase> fut);

// `return fut.result()` turned into `raise TimeoutError() from exc` for a CancelledError.
template <class T>
ResultType<T> result_or_timeout(Future<T>& fut) {
  try {
    (void)fut.result();
  } catch (const CancelledError&) {
    raise_from(TimeoutError(), std::current_exception());
  }
  return fut.stored_result();
}

// wait_for of 3.8-3.11 (Profile::WaitFor::until_3_8 and until_3_11).
template <class T>
Coroutine<ResultType<T>> wait_for_with_waiter(EventLoop& loop, Awaitable<T> aw, std::optional<double> timeout) {
  const bool v38 = loop.profile().wait_for == Profile::WaitFor::until_3_8;
  if (!timeout) co_return co_await await_stored(std::move(aw));

  if (*timeout <= 0) {
    auto fut = ensure_future(std::move(aw), &loop);
    if (fut->done()) {
      (void)fut->result();
      co_return fut->stored_result();
    }
    co_await cancel_and_wait(loop, fut);
    if (v38) {
      (void)result_or_timeout(*fut);
      throw TimeoutError();  // 3.8: a value the inner returned is discarded
    }
    co_return result_or_timeout(*fut);
  }

  auto waiter = loop.create_future<void>();
  const auto timeout_handle = loop.call_later(*timeout, [waiter] { release_waiter(*waiter); });
  struct CancelTimeout {  // finally: timeout_handle.cancel()
    TimerHandlePtr handle;
    ~CancelTimeout() { handle->cancel(); }
  } finally{timeout_handle};

  auto fut = ensure_future(std::move(aw), &loop);
  const auto cb = fut->FutureBase::add_done_callback([waiter](FutureBase&) { release_waiter(*waiter); });

  // Wait until the future completes or the timeout.
  std::exception_ptr cancelled;
  try {
    co_await waiter;
  } catch (const CancelledError&) {
    cancelled = std::current_exception();
  }
  if (cancelled) {
    // `except CancelledError:` — what is raised in this block chains the CancelledError.
    if (fut->done()) {
      try {
        (void)fut->result();
      } catch (...) {
        std::rethrow_exception(chain_context(std::current_exception(), cancelled));
      }
      co_return fut->stored_result();
    }
    fut->remove_done_callback(cb);
    std::exception_ptr during;
    try {
      co_await cancel_and_wait(loop, fut);  // we must ensure that the task is not running (bpo-32751)
    } catch (...) {
      during = chain_context(std::current_exception(), cancelled);
    }
    std::rethrow_exception(during ? during : cancelled);
  }

  if (fut->done()) {
    (void)fut->result();
    co_return fut->stored_result();
  }
  fut->remove_done_callback(cb);
  co_await cancel_and_wait(loop, fut);
  if (v38) throw TimeoutError();
  // The inner may have swallowed the cancellation (bpo-40607).
  co_return result_or_timeout(*fut);
}

// wait_for of 3.12+ (Profile::WaitFor::timeout_scope).
template <class T>
Coroutine<ResultType<T>> wait_for_in_timeout(EventLoop& loop, Awaitable<T> aw, std::optional<double> timeout) {
  if (timeout && *timeout <= 0) {
    auto fut = ensure_future(std::move(aw));
    if (fut->done()) {
      (void)fut->result();
      co_return fut->stored_result();
    }
    co_await cancel_and_wait(loop, fut);
    co_return result_or_timeout(*fut);
  }
  // async with timeouts.timeout(timeout): return await fut
  Timeout scope(timeout ? std::optional<double>(loop.time() + *timeout) : std::nullopt);
  scope.enter();
  std::optional<ResultType<T>> value;
  std::exception_ptr raised;
  try {
    value = co_await await_stored(std::move(aw));
  } catch (...) {
    raised = std::current_exception();
  }
  scope.exit(raised);
  if (raised) std::rethrow_exception(raised);
  co_return std::move(*value);
}

}  // namespace detail

// asyncio.wait_for(aw, timeout): aw's result, or TimeoutError once `timeout` seconds passed
// (nullopt: no timeout), per Profile::wait_for.
template <class T>
Coroutine<T> wait_for(Awaitable<T> aw, std::optional<double> timeout) {
  EventLoop& loop = *get_running_loop();
  auto body = loop.profile().wait_for == Profile::WaitFor::timeout_scope
                  ? detail::wait_for_in_timeout(loop, std::move(aw), timeout)
                  : detail::wait_for_with_waiter(loop, std::move(aw), timeout);
  if constexpr (std::is_void_v<T>) {
    co_await std::move(body);
  } else {
    co_return co_await std::move(body);
  }
}

// ---- wait -----------------------------------------------------------------------------------

// asyncio.wait's return_when: FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED.
enum class ReturnWhen { first_completed, first_exception, all_completed };

// What `done, pending = await asyncio.wait(fs)` gets: Python's two sets, here in the order of fs.
struct WaitResult {
  std::vector<std::shared_ptr<FutureBase>> done;
  std::vector<std::shared_ptr<FutureBase>> pending;
};

// asyncio.wait(fs, timeout=timeout, return_when=return_when) and tasks._wait: a waiter future
// set by one done callback per future (FIRST_COMPLETED: the first to finish; FIRST_EXCEPTION: the
// first to finish with an exception, or all; ALL_COMPLETED: all) or by a call_later timer after
// `timeout` seconds; the callbacks and the timer are removed however the wait ends. It never
// raises TimeoutError: what is not done then is pending. A future listed twice counts once (fs
// is a set in Python). Coroutines are not accepted (3.11+ refuses them too; 3.8-3.10 would wrap
// them in tasks). An empty fs is ValueError, worded per Profile::wait_takes_only_futures, as is
// the loop check of 3.8-3.10.
Coroutine<WaitResult> wait(std::vector<std::shared_ptr<FutureBase>> fs, std::optional<double> timeout = std::nullopt,
                           ReturnWhen return_when = ReturnWhen::all_completed);

}  // namespace aiospec::ref
