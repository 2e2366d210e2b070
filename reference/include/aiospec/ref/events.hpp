// asyncio/events.py: Handle, TimerHandle, the exception handler's context dict and the
// per-thread running loop.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <source_location>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "aiospec/ref/detail/callback_name.hpp"
#include "aiospec/ref/detail/free_list.hpp"
#include "aiospec/ref/detail/handle_ref.hpp"
#include "aiospec/ref/detail/small_function.hpp"
#include "aiospec/ref/format_helpers.hpp"

namespace aiospec::ref {

class EventLoop;
class FutureBase;
class Handle;
class TaskBase;

// A callback and what asyncio shows of it in reprs and reports: its __qualname__ (`name`), the
// future it is called with (call_soon(callback, future): a done callback's one argument, shown as
// the future is when the repr is made; the only callbacks the loop queues with arguments), and
// the task whose step or wake-up it is (_format_handle shows that task).
// The body is a SmallFunction: a callable of a few pointers or a shared_ptr is stored inline, and
// a literal name is a pointer, so queuing one allocates nothing.
struct Callback : detail::SmallFunction {
  using detail::SmallFunction::SmallFunction;
  Callback() = default;
  template <class F>
  Callback(F&& body, detail::CallbackName callback_name)
      : detail::SmallFunction(std::forward<F>(body)), name(std::move(callback_name)) {}
  detail::CallbackName name = "callback";
  const FutureBase* future_arg = nullptr;  // valid while the callback lives (it holds the future)
  const TaskBase* task = nullptr;          // valid while the callback lives (it holds the task)
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

// events.Handle: a callback queued in the loop's ready queue. Held by HandleRef (HandlePtr), whose
// count it keeps; its blocks come from a per-thread free list.
class Handle {
 public:
  static void* operator new(std::size_t size);
  static void operator delete(void* p, std::size_t size) noexcept;

  // The loop makes its handles (call_soon, call_at, add_reader), from a Callback or from any
  // callable a Callback is made of, constructed in place. In debug mode (`debug`: the loop's) the
  // handle records where it was created (`where`): its _source_traceback.
  template <class F>
    requires std::is_constructible_v<Callback, F>
  Handle(F&& callback, EventLoop* loop, bool debug, const std::source_location& where)
      : loop_(loop), callback_(std::forward<F>(callback)) {
    if (debug) record_creation(where);
  }
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
  // Inline, with everything but the call itself out of line (called_none, callback_failed): the
  // loop runs one handle per callback.
  void run() {
    if (!has_callback_) [[unlikely]] return called_none();
    // While the callable runs it stays where it is: a cancel() meanwhile (a reader removing
    // itself) only marks it, and it is dropped when the call returns, however it returns.
    running_ = true;
    try {
      callback_();
    } catch (...) {
      finish_running();
      callback_failed();  // reports it, or rethrows
      return;
    }
    finish_running();
  }

  // repr(handle): <Handle name(args)>, <Handle cancelled>, <TimerHandle when=1.0 name()>,
  // with " created at file:line" in debug mode.
  std::string repr() const;
  // The callback (nullptr once cancelled: self._callback is None): _format_handle looks at its
  // task.
  const Callback* callback() const { return has_callback_ ? &callback_ : nullptr; }
  const SourceTraceback& source_traceback() const;
  EventLoop& loop() const { return *loop_; }

 protected:
  // _repr_info: ["Handle", "cancelled", "name(args)", "created at f:l"]; TimerHandle inserts
  // when=.
  virtual std::vector<std::string> repr_info() const;

  EventLoop* loop_;

 private:
  friend class EventLoop;  // marks call_soon_threadsafe's handles shared_between_threads_
  friend void retain(const Handle& handle) noexcept {
    if (handle.shared_between_threads_) {
      std::atomic_ref(handle.refs_).fetch_add(1, std::memory_order_relaxed);
    } else {
      ++handle.refs_;
    }
  }
  friend void release(const Handle& handle) noexcept {
    const std::uint32_t left = handle.shared_between_threads_
                                   ? std::atomic_ref(handle.refs_).fetch_sub(1, std::memory_order_acq_rel) - 1
                                   : --handle.refs_;
    if (left == 0) delete &handle;
  }

  void drop_callback() noexcept;
  void finish_running() noexcept {
    running_ = false;
    if (!has_callback_) [[unlikely]] drop_callback();
  }
  // In run()'s handler: the exception in flight goes to the loop's exception handler, or on
  // (SystemExit, KeyboardInterrupt, anything not a std::exception).
  [[gnu::cold]] void callback_failed();
  [[gnu::cold]] void called_none();  // Python: calling None, a TypeError, reported as above
  void record_creation(const std::source_location& where);

  Callback callback_;
  bool has_callback_ = true;  // self._callback is not None
  bool cancelled_ = false;
  bool running_ = false;      // inside run(): cancel() leaves the callable to run() to drop
  // HandleRef's count: only the loop's thread touches a handle, except one made by
  // call_soon_threadsafe, which its caller's thread also holds and drops: its count is updated
  // through atomic_ref from then on. A plain integer otherwise, which the compiler sees through
  // (call_soon's copy into the queue and its caller's release of the returned reference fold
  // into plain stores; an atomic would reload what was just stored).
  bool shared_between_threads_ = false;
  alignas(std::atomic_ref<std::uint32_t>::required_alignment) mutable std::uint32_t refs_ = 1;  // make_handle's
  // What only debug mode records, apart so that a handle outside debug mode stays small.
  struct DebugRecord {
    SourceTraceback source_traceback;
    std::optional<std::string> saved_repr;  // _repr, kept by cancel()
  };
  std::unique_ptr<DebugRecord> debug_;  // null outside debug mode
};

// events.TimerHandle: a Handle with a deadline, ordered in the timer heap by `when` alone.
class TimerHandle final : public Handle {
 public:
  TimerHandle(double when, Callback&& cb, EventLoop* loop, bool debug, const std::source_location& where);
  double when() const { return when_; }
  // Tells the loop first (while still in the heap this bumps its cancelled-timer count).
  void cancel() override;

  bool scheduled = false;  // still in the loop's heap (Python's _scheduled)

 protected:
  std::vector<std::string> repr_info() const override;

 private:
  double when_;
};

using HandlePtr = detail::HandleRef<Handle>;
using TimerHandlePtr = detail::HandleRef<TimerHandle>;

// Handles and timer handles each have a free list of blocks of their size (detail/free_list.hpp).
inline void* Handle::operator new(std::size_t size) {
  if (size == sizeof(Handle)) return detail::FreeList<sizeof(Handle), alignof(Handle)>::take();
  if (size == sizeof(TimerHandle)) return detail::FreeList<sizeof(TimerHandle), alignof(TimerHandle)>::take();
  return ::operator new(size, std::align_val_t{alignof(Handle)});
}
inline void Handle::operator delete(void* p, std::size_t size) noexcept {
  if (size == sizeof(Handle)) return detail::FreeList<sizeof(Handle), alignof(Handle)>::give(p);
  if (size == sizeof(TimerHandle)) return detail::FreeList<sizeof(TimerHandle), alignof(TimerHandle)>::give(p);
  ::operator delete(p, std::align_val_t{alignof(Handle)});
}

namespace detail {
// make_shared for handles: a new handle and the first reference to it.
template <class H, class... Args>
HandleRef<H> make_handle(Args&&... args) {
  return HandleRef<H>(new H(std::forward<Args>(args)...), typename HandleRef<H>::Adopt{});
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
