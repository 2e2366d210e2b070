// asyncio/futures.py (with the C _asyncio.Future's messages, which the oracle records): a result
// that arrives later, whose done callbacks are always scheduled with call_soon, never called
// synchronously.
//
// FutureBase is everything of asyncio.Future that does not depend on the result's type: state,
// exception, cancellation (with its message and the CancelledError a Task saved), the "exception
// was never retrieved" flag and the done callbacks. Future<T> adds the result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <source_location>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "aiospec/ref/base_events.hpp"
#include "aiospec/ref/exceptions.hpp"
#include "aiospec/ref/format_helpers.hpp"

namespace aiospec::ref {

class TaskBase;

// Python removes done callbacks by equality; std::function has none, so add_done_callback
// hands out an id to remove by.
using DoneCallbackId = std::uint64_t;

// What a Future<T> stores as its result: T, or std::monostate for Future<void>.
template <class T>
using ResultType = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

// repr(result) inside a Future's repr (reprlib.repr(future._result)): None, True, 3, 0.5, 'x';
// "<object>" for a type it does not know. Specialise it for a result type of your own.
template <class T>
struct PythonRepr {
  static std::string repr(const T& value) {
    if constexpr (std::is_same_v<T, std::monostate>) {
      return "None";
    } else if constexpr (std::is_same_v<T, bool>) {
      return value ? "True" : "False";
    } else if constexpr (std::is_integral_v<T>) {
      return std::to_string(value);
    } else if constexpr (std::is_floating_point_v<T>) {
      return python_repr(static_cast<double>(value));
    } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
      return reprlib_repr(std::string_view(value));
    } else {
      return "<object>";
    }
  }
};

// A done callback and its name (its __qualname__ in reprs: cb=[name()], and the Handle that runs
// it, <Handle name(<Future finished result=1>)>); `task` is the task it wakes up, if any.
struct DoneCallback : std::function<void(FutureBase&)> {
  using std::function<void(FutureBase&)>::function;
  DoneCallback(std::function<void(FutureBase&)> body)  // NOLINT: implicit, as before
      : std::function<void(FutureBase&)>(std::move(body)) {}
  DoneCallback(std::function<void(FutureBase&)> body, detail::CallbackName callback_name,
               const TaskBase* wakes = nullptr)
      : std::function<void(FutureBase&)>(std::move(body)), name(std::move(callback_name)), task(wakes) {}
  detail::CallbackName name = "callback";
  const TaskBase* task = nullptr;
};

class FutureBase : public std::enable_shared_from_this<FutureBase> {
 public:
  using DoneCallback = aiospec::ref::DoneCallback;

  // In debug mode the future records where it was created (`where`): its _source_traceback.
  explicit FutureBase(EventLoop& loop, const std::source_location& where = std::source_location::current());
  // Future.__del__: an exception set and never retrieved is reported to the loop's exception
  // handler ({message: '<Class> exception was never retrieved', exception, future}) when the
  // last reference goes (Task reports from ~Task, where it is still a Task).
  virtual ~FutureBase();
  FutureBase(const FutureBase&) = delete;
  FutureBase& operator=(const FutureBase&) = delete;

  EventLoop& get_loop() const { return *loop_; }
  bool done() const { return state_ != State::pending; }
  bool cancelled() const { return state_ == State::cancelled; }

  // Future.cancel(msg): false when already done (and then the exception counts as retrieved).
  // Virtual because Task and _GatheringFuture override it, as in Python.
  virtual bool cancel(const std::optional<std::string>& msg = std::nullopt);

  // Future.exception(): nullptr when finished with a result; marks the exception retrieved.
  // CancelledError (_make_cancelled_error) when cancelled, InvalidStateError when pending.
  std::exception_ptr exception() const;
  // Future.set_exception(exc). Task overrides it to refuse (RuntimeError).
  virtual void set_exception(std::exception_ptr exception);

  // On a done future the callback is scheduled at once (and its id removes nothing).
  DoneCallbackId add_done_callback(DoneCallback callback);
  // The number of callbacks removed: 0 or 1.
  std::size_t remove_done_callback(DoneCallbackId id);
  // remove_done_callback(fn) for a module-level fn: every callback of that name goes.
  std::size_t remove_done_callbacks_named(std::string_view name);

  // Future._make_cancelled_error(): the CancelledError to raise for this cancelled future, per
  // profile (Profile::cancelled_error_chains_saved / cancelled_error_is_saved).
  std::exception_ptr make_cancelled_error() const;
  // Future._cancel_message (gather reads it).
  const std::optional<std::string>& cancel_message() const { return cancel_message_; }
  // Future.__log_traceback: an exception was set and neither result(), exception() nor cancel()
  // has been called since. (The "never retrieved" report itself belongs to issue 8.)
  bool log_traceback() const { return log_traceback_; }

  // What result() would raise, without the result: nullptr when it finished with a result. Marks
  // the exception retrieved. Task.__wakeup calls it (the C task_wakeup's future_get_result).
  std::exception_ptr result_exception() const;

  // repr(future): <Future pending>, <Future finished result=1>, <Future finished
  // exception=ValueError('boom')>, <Future pending cb=[h()]>, " created at f:l" in debug mode.
  // Task overrides it.
  virtual std::string repr() const;
  const SourceTraceback& source_traceback() const { return source_traceback_; }
  // type(self).__name__: Future, _GatheringFuture, Task.
  const std::string& class_name() const { return class_name_; }

 protected:
  enum class State { pending, cancelled, finished };

  // base_futures._future_repr_info: [state, result=/exception=, cb=[...], created at f:l].
  std::vector<std::string> repr_info() const;
  // reprlib.repr(self._result), for a future finished with a result.
  virtual std::string result_repr() const { return "None"; }
  void set_class_name(std::string name) { class_name_ = std::move(name); }
  // Future.__del__'s report (also Task's, from ~Task<T>); clears the flag.
  void report_never_retrieved() noexcept;

  // __schedule_callbacks: one call_soon per callback, in registration order. Virtual only so
  // that a test mutant can call them synchronously instead.
  virtual void schedule_callbacks();
  // The registered callbacks, in registration order, removed from the future (for an override
  // of schedule_callbacks).
  std::vector<DoneCallback> take_callbacks();
  // Throws what result() throws for a future that did not finish with a result.
  void throw_unless_result() const;
  // The ready/finished transition for a result (Future<T>::set_result).
  void finish_with_result();
  // 3.8 has no cancel message: refuse one the way its C cancel() does.
  void check_cancel_message(const std::optional<std::string>& msg) const;

  // The handle keeps the future alive until the callback ran, as in Python. A future that is
  // not owned by a shared_ptr must outlive its callbacks.
  void call_soon_with_self(DoneCallback callback);

  // Called by ~EventLoop: drops the callbacks (and, for a task, its coroutine), which may hold
  // this future in a cycle no garbage collector would ever break.
  virtual void release_references();

 private:
  friend class TaskBase;   // Task.__step is Future's subclass in Python: it sets the fields below
  friend class EventLoop;  // breaks reference cycles when it is destroyed (release_futures)

  EventLoop* loop_;
  State state_ = State::pending;
  std::exception_ptr exception_;
  std::optional<std::string> cancel_message_;  // _cancel_message
  mutable std::exception_ptr cancelled_exc_;   // _cancelled_exc, saved by Task.__step
  mutable bool log_traceback_ = false;         // __log_traceback
  std::vector<std::pair<DoneCallbackId, DoneCallback>> callbacks_;
  DoneCallbackId next_id_ = 1;
  bool registered_ = true;  // still in its loop's registry (the loop is alive)
  std::string class_name_ = "Future";
  std::uint64_t serial_;  // creation order: collect_garbage finalizes in it, as gc's lists do
  SourceTraceback source_traceback_;
};

template <class T>
class Future : public FutureBase {
 public:
  using result_type = T;

  explicit Future(EventLoop& loop, const std::source_location& where = std::source_location::current())
      : FutureBase(loop, where) {}

  // Future.result(): CancelledError when cancelled, InvalidStateError when pending, the exception
  // when one was set (the exception then counts as retrieved).
  std::add_lvalue_reference_t<const T> result() const {
    throw_unless_result();
    if constexpr (!std::is_void_v<T>) return *result_;
  }
  // The result as stored (std::monostate for void); only for a future finished with a result.
  const ResultType<T>& stored_result() const { return *result_; }

  void set_result(ResultType<T> value) {
    if (done()) throw InvalidStateError("invalid state");
    result_ = std::move(value);
    finish_with_result();
  }
  void set_result()
    requires std::is_void_v<T>
  {
    set_result(std::monostate{});
  }

  // The callback gets this future as a Future<T>& (or any base it accepts).
  template <class F>
    requires std::is_invocable_v<F&, Future<T>&>
  DoneCallbackId add_done_callback(F callback) {
    return FutureBase::add_done_callback(
        [cb = std::move(callback)](FutureBase& f) mutable { cb(static_cast<Future<T>&>(f)); });
  }
  // The same with the callback's name (its __qualname__ in reprs).
  template <class F>
    requires std::is_invocable_v<F&, Future<T>&>
  DoneCallbackId add_done_callback(F callback, std::string name) {
    return FutureBase::add_done_callback(DoneCallback(
        [cb = std::move(callback)](FutureBase& f) mutable { cb(static_cast<Future<T>&>(f)); }, std::move(name)));
  }

 protected:
  std::string result_repr() const override { return result_ ? PythonRepr<ResultType<T>>::repr(*result_) : "None"; }

 private:
  std::optional<ResultType<T>> result_;
};

// futures._set_result_unless_cancelled.
template <class T>
void set_result_unless_cancelled(Future<T>& future, ResultType<T> result) {
  if (future.cancelled()) return;
  future.set_result(std::move(result));
}

template <class T>
std::shared_ptr<Future<T>> EventLoop::create_future(const std::source_location& where) {
  return std::make_shared<Future<T>>(*this, where);
}

template <class T>
T EventLoop::run_until_complete(std::shared_ptr<Future<T>> future) {
  check_closed();
  check_running();
  if (&future->get_loop() != this) {
    throw ValueError(
        "The future belongs to a different loop than the one specified as the loop argument");
  }
  // _run_until_complete_cb: stop the future's loop when it is done, unless it finished with
  // SystemExit/KeyboardInterrupt (or a foreign exception), which left run_forever on their own.
  const auto id = future->FutureBase::add_done_callback(DoneCallback(
      [](FutureBase& f) {
        if (!f.cancelled() && escapes_the_loop(f.exception())) return;
        f.get_loop().stop();
      },
      "_run_until_complete_cb"));
  // Removed however run_forever ends, exceptions included.
  struct RemoveCallback {
    FutureBase& f;
    DoneCallbackId id;
    ~RemoveCallback() { f.remove_done_callback(id); }
  } remove{*future, id};
  run_forever();
  if (!future->done()) throw RuntimeError("Event loop stopped before Future completed.");
  if constexpr (std::is_void_v<T>) {
    future->result();
  } else {
    return future->result();
  }
}

}  // namespace aiospec::ref
