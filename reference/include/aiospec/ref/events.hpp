// asyncio/events.py: Handle, TimerHandle, the exception handler's context dict and the
// per-thread running loop.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <source_location>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "aiospec/ref/detail/pool_allocator.hpp"
#include "aiospec/ref/detail/small_function.hpp"
#include "aiospec/ref/format_helpers.hpp"

namespace aiospec::ref {

class EventLoop;
class FutureBase;
class Handle;
class TaskBase;

// A callback and what asyncio shows of it in reprs and reports: its __qualname__ (`name`), the
// reprs of its arguments (a done callback's one argument is the future, shown as it is when the
// repr is made), and the task whose step or wake-up it is (_format_handle shows that task).
// The body is a SmallFunction: a callable of a few pointers or a shared_ptr is stored inline, so
// queuing one allocates nothing.
struct Callback : detail::SmallFunction {
  using detail::SmallFunction::SmallFunction;
  Callback() = default;
  template <class F>
  Callback(F&& body, std::string callback_name)
      : detail::SmallFunction(std::forward<F>(body)), name(std::move(callback_name)) {}
  std::string name = "callback";
  std::vector<std::function<std::string()>> args;  // each returns repr(arg)
  const TaskBase* task = nullptr;  // valid while the callback lives (it holds the task)
};

// format_helpers._format_callback_source(func, args, debug=debug): "name(arg, ...)". Without
// `show_args` (3.13 outside debug mode, EXC-05) the arguments are "()".
std::string format_callback_source(const Callback& callback, bool show_args);

class ExceptionContext;

// One value of the context dict. Objects (handle, future, task) are referred to, valid during
// the call of the handler, as Python's dict refers to them; a nested context ('context' of a
// failed handler) is shared.
struct ContextRepr {  // any other value, given by its repr()
  std::string repr;
};
using ContextValue = std::variant<std::string, std::int64_t, std::exception_ptr, const Handle*, const FutureBase*,
                                  const TaskBase*, std::shared_ptr<const ExceptionContext>, SourceTraceback, ContextRepr>;
// repr(value), as the default handler writes it after "key: ".
std::string context_value_repr(const ContextValue& value);

// The context dict passed to call_exception_handler: keys in insertion order, as a dict keeps
// them ({'message': ..., 'exception': ..., 'handle': ...}).
class ExceptionContext {
 public:
  ExceptionContext() = default;
  ExceptionContext(std::initializer_list<std::pair<std::string, ContextValue>> items);

  // context[key] = value: replaces in place, or appends.
  void set(const std::string& key, ContextValue value);
  const ContextValue* get(const std::string& key) const;  // context.get(key); nullptr if absent
  bool contains(const std::string& key) const { return get(key) != nullptr; }
  const std::vector<std::pair<std::string, ContextValue>>& items() const { return items_; }
  std::vector<std::string> sorted_keys() const;

  // Typed look-ups: context.get('message') when it is a str, context.get('exception'), and the
  // object keys (nullptr when absent or of another kind).
  std::optional<std::string> message() const;
  std::exception_ptr exception() const;
  const Handle* handle() const;
  const FutureBase* future() const;
  const TaskBase* task() const;

  // repr(context): {'message': 'm', 'exception': ValueError('boom'), 'handle': <Handle a()>}.
  std::string repr() const;

 private:
  std::vector<std::pair<std::string, ContextValue>> items_;
};

// events.Handle: a callback queued in the loop's ready queue.
class Handle {
 public:
  // In debug mode the handle records where it was created (`where`): its _source_traceback.
  Handle(Callback&& cb, EventLoop* loop, const std::source_location& where = std::source_location::current());
  virtual ~Handle() = default;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  // Idempotent. Drops the callback at once (like Python) so whatever it captured is released
  // even though the handle stays queued until the loop reaches it; a callback that cancels its
  // own handle is dropped when it returns (Python's frame holds it until then). In debug mode
  // the repr is kept first, so that "Executing <Handle cancelled h()>" can still name it.
  virtual void cancel();
  bool cancelled() const { return cancelled_; }

  // Runs the callback. An exception derived from std::exception goes to the loop's exception
  // handler ({message: 'Exception in callback name(args)', exception, handle[, source_traceback]})
  // and the batch goes on; SystemExit, KeyboardInterrupt and anything not derived from
  // std::exception (a harness's WouldBlockForever, say) propagate out of run_forever (Handle._run).
  void run();

  // repr(handle): <Handle name(args)>, <Handle cancelled>, <TimerHandle when=1.0 name()>,
  // with " created at file:line" in debug mode.
  std::string repr() const;
  // The callback (nullptr once cancelled: self._callback is None): _format_handle looks at its
  // task.
  const Callback* callback() const { return has_callback_ ? &callback_ : nullptr; }
  const SourceTraceback& source_traceback() const { return source_traceback_; }
  EventLoop& loop() const { return *loop_; }

 protected:
  // _repr_info: ["Handle", "cancelled", "name(args)", "created at f:l"]; TimerHandle inserts
  // when=.
  virtual std::vector<std::string> repr_info() const;

  EventLoop* loop_;

 private:
  void drop_callback() noexcept;

  Callback callback_;
  bool has_callback_ = true;  // self._callback is not None
  bool cancelled_ = false;
  bool running_ = false;      // inside run(): cancel() leaves the callable to run() to drop
  SourceTraceback source_traceback_;
  std::optional<std::string> saved_repr_;  // _repr, kept by cancel() in debug mode
};

// events.TimerHandle: a Handle with a deadline, ordered in the timer heap by `when` alone.
class TimerHandle final : public Handle {
 public:
  TimerHandle(double when, Callback&& cb, EventLoop* loop,
              const std::source_location& where = std::source_location::current());
  double when() const { return when_; }
  // Tells the loop first (while still in the heap this bumps its cancelled-timer count).
  void cancel() override;

  bool scheduled = false;  // still in the loop's heap (Python's _scheduled)

 protected:
  std::vector<std::string> repr_info() const override;

 private:
  double when_;
};

using HandlePtr = std::shared_ptr<Handle>;
using TimerHandlePtr = std::shared_ptr<TimerHandle>;

namespace detail {
// std::make_shared for handles, from the per-thread pool (detail/pool_allocator.hpp): one block
// for the handle and its control block, recycled rather than freed.
template <class H, class... Args>
std::shared_ptr<H> make_handle(Args&&... args) {
  return std::allocate_shared<H>(PoolAllocator<H>{}, std::forward<Args>(args)...);
}
}  // namespace detail

// TimerHandle.__lt__: only `when`, so equal deadlines are ties and heapq decides their order.
struct TimerHandleLess {
  bool operator()(const TimerHandlePtr& a, const TimerHandlePtr& b) const {
    return a->when() < b->when();
  }
};

// events.get_running_loop(): throws RuntimeError("no running event loop").
EventLoop* get_running_loop();
// events._get_running_loop(): nullptr when no loop runs in this thread.
EventLoop* running_loop_or_null();
// events._set_running_loop(): run_forever's business.
void set_running_loop(EventLoop* loop);

}  // namespace aiospec::ref
