// The machinery under Coroutine<T> (coroutines.hpp): promise types, the awaiters `co_await`
// uses, and drive(), which turns one send()/throw() into resuming the right frame.
//
// A root Coroutine and the Coroutines it awaits form a chain of frames, like a chain of
// `yield from` in Python. They share one Driver (the root's): the frame that suspended last (the
// leaf, which the next step resumes), what it yielded, and the exception the next step throws in
// there. Awaiting a Coroutine hands control to it by symmetric transfer and its final suspend
// hands control back, so the task never notices; awaiting a pending future or yielding (sleep(0))
// suspends the leaf, and control returns from the root's resume() to drive(), which reports the
// yield. Awaiting an AnyCoroutine that is not a C++ frame (an adapter's coroutine) makes it the
// Driver's delegate: steps go to it, as `yield from` forwards send() and throw().
//
// The awaiters have constructors on purpose (not aggregates): g++ 12 destroys a frame's
// parameters twice when the frame is destroyed while suspended at a braced aggregate temporary.
#pragma once

#include <concepts>
#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <utility>

namespace aiospec::ref::detail {

// Where a delegate's final step lands, for its awaiter to turn into a value or an exception.
struct YieldFromAwaiterBase {
  Step outcome;
};

struct Driver {
  std::coroutine_handle<> leaf;
  std::shared_ptr<FutureBase> yielded;  // nullptr: a bare yield
  std::exception_ptr thrown;
  AnyCoroutineBase* delegate = nullptr;
  YieldFromAwaiterBase* delegate_awaiter = nullptr;
  bool started = false;   // first send() done, or awaited by another coroutine
  bool finished = false;  // returned or raised
};

// One step of an AnyCoroutine that might throw instead of reporting `raised`.
inline Step guarded(AnyCoroutineBase& coro, std::exception_ptr thrown) {
  try {
    return thrown ? coro.throw_(std::move(thrown)) : coro.send();
  } catch (...) {
    return Step::raised(std::current_exception());
  }
}

struct PromiseBase;

// Future.__await__: no suspension when done; otherwise yield the future to the task and, once
// resumed, return its result (or raise its exception, or what the task threw in).
template <class F>
struct FutureAwaiter {
  FutureAwaiter(std::shared_ptr<F> f, PromiseBase& p) : future(std::move(f)), awaiting(p) {}
  std::shared_ptr<F> future;
  PromiseBase& awaiting;

  bool await_ready() const { return future->done(); }
  void await_suspend(std::coroutine_handle<> handle);
  typename F::result_type await_resume();
};

// tasks.__sleep0's bare `yield`.
struct YieldAwaiter {
  explicit YieldAwaiter(PromiseBase& p) : awaiting(p) {}
  PromiseBase& awaiting;
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> handle);
  void await_resume();
};

// `await other_coroutine()`: runs it at once in the same task.
template <class U>
struct CoroutineAwaiter {
  CoroutineAwaiter(Coroutine<U>&& c, PromiseBase& p) : coro(std::move(c)), awaiting(p) {}
  Coroutine<U> coro;
  PromiseBase& awaiting;

  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> handle);
  U await_resume();
};

// `yield from` an AnyCoroutine: its first step now; if it yields, the Driver forwards the
// following steps to it until it finishes.
template <class U>
struct YieldFromAwaiter : YieldFromAwaiterBase {
  YieldFromAwaiter(std::unique_ptr<AnyCoroutine<U>> o, AnyCoroutine<U>* c, PromiseBase& p)
      : owned(std::move(o)), coro(c), awaiting(p) {}
  std::unique_ptr<AnyCoroutine<U>> owned;  // null when awaited by reference
  AnyCoroutine<U>* coro;
  PromiseBase& awaiting;

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> handle);
  U await_resume() {
    if (outcome.kind == Step::Kind::raised) std::rethrow_exception(outcome.exception);
    return coro->result();
  }
};

// Back to the awaiting frame, or (for the root) out of resume() to drive().
struct FinalAwaiter {
  bool await_ready() const noexcept { return false; }
  template <class P>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<P> handle) noexcept {
    auto& promise = handle.promise();
    if (promise.continuation) {
      promise.driver->leaf = promise.continuation;
      return promise.continuation;
    }
    return std::noop_coroutine();
  }
  void await_resume() const noexcept {}
};

struct PromiseBase {
  Driver own_driver;         // the chain's state when this frame is the root
  Driver* driver = nullptr;  // the chain this frame runs in
  std::coroutine_handle<> continuation;  // the frame awaiting this one; null for a root
  std::exception_ptr exception;          // what the body raised

  std::suspend_always initial_suspend() noexcept { return {}; }
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { exception = std::current_exception(); }

  // What `co_await` accepts in a Coroutine: futures and tasks (shared), other Coroutines,
  // AnyCoroutines (owned or by reference) and yield_now().
  template <class F>
    requires std::derived_from<F, FutureBase>
  FutureAwaiter<F> await_transform(std::shared_ptr<F> future) {
    return FutureAwaiter<F>(std::move(future), *this);
  }
  template <class U>
  CoroutineAwaiter<U> await_transform(Coroutine<U>&& coro) {
    auto& child = coro.handle().promise().own_driver;
    if (child.started) throw RuntimeError("cannot reuse already awaited coroutine");
    child.started = true;
    return CoroutineAwaiter<U>(std::move(coro), *this);
  }
  template <class U>
  YieldFromAwaiter<U> await_transform(std::unique_ptr<AnyCoroutine<U>> coro) {
    auto* raw = coro.get();
    return YieldFromAwaiter<U>(std::move(coro), raw, *this);
  }
  template <class U>
  YieldFromAwaiter<U> await_transform(AnyCoroutine<U>& coro) {
    return YieldFromAwaiter<U>(nullptr, &coro, *this);
  }
  YieldAwaiter await_transform(YieldNow) { return YieldAwaiter(*this); }
};

template <class T>
struct Promise : PromiseBase {
  std::optional<T> value;
  Coroutine<T> get_return_object() { return Coroutine<T>(std::coroutine_handle<Promise>::from_promise(*this)); }
  template <class V>
    requires std::convertible_to<V, T>
  void return_value(V&& v) {
    value.emplace(std::forward<V>(v));
  }
  T take_result() { return std::move(*value); }
};

template <>
struct Promise<void> : PromiseBase {
  Coroutine<void> get_return_object();  // in coroutines.hpp, once Coroutine<void> is complete
  void return_void() noexcept {}
  void take_result() noexcept {}
};

template <class F>
void FutureAwaiter<F>::await_suspend(std::coroutine_handle<> handle) {
  awaiting.driver->leaf = handle;
  awaiting.driver->yielded = future;
}

template <class F>
typename F::result_type FutureAwaiter<F>::await_resume() {
  if (auto thrown = std::exchange(awaiting.driver->thrown, nullptr)) std::rethrow_exception(thrown);
  if (!future->done()) throw RuntimeError("await wasn't used with future");
  return future->result();
}

inline void YieldAwaiter::await_suspend(std::coroutine_handle<> handle) {
  awaiting.driver->leaf = handle;
  awaiting.driver->yielded = nullptr;
}

inline void YieldAwaiter::await_resume() {
  if (auto thrown = std::exchange(awaiting.driver->thrown, nullptr)) std::rethrow_exception(thrown);
}

template <class U>
std::coroutine_handle<> CoroutineAwaiter<U>::await_suspend(std::coroutine_handle<> handle) {
  auto child = coro.handle();
  auto& promise = child.promise();
  promise.driver = awaiting.driver;
  promise.continuation = handle;
  awaiting.driver->leaf = child;
  return child;
}

template <class U>
U CoroutineAwaiter<U>::await_resume() {
  auto& promise = coro.handle().promise();
  if (promise.exception) std::rethrow_exception(promise.exception);
  return promise.take_result();
}

template <class U>
bool YieldFromAwaiter<U>::await_suspend(std::coroutine_handle<> handle) {
  Step step = guarded(*coro, nullptr);
  if (step.kind != Step::Kind::yielded) {
    outcome = std::move(step);
    return false;  // finished without yielding: resume at once
  }
  Driver& driver = *awaiting.driver;
  driver.leaf = handle;
  driver.yielded = std::move(step.future);
  driver.delegate = coro;
  driver.delegate_awaiter = this;
  return true;
}

// One send() (thrown == nullptr) or throw() on the root frame `root`.
template <class P>
Step drive(std::coroutine_handle<P> root, std::exception_ptr thrown) {
  auto& promise = root.promise();
  Driver& d = promise.own_driver;
  if (d.finished || (d.started && promise.driver != &d)) {
    return Step::raised(std::make_exception_ptr(RuntimeError("cannot reuse already awaited coroutine")));
  }
  if (!d.started) {
    d.started = true;
    if (thrown) {  // coro.throw() before the first send raises at once and closes the coroutine
      d.finished = true;
      return Step::raised(std::move(thrown));
    }
    promise.driver = &d;
    d.leaf = root;
  }
  if (d.delegate) {
    Step step = guarded(*d.delegate, std::move(thrown));
    if (step.kind == Step::Kind::yielded) return step;
    d.delegate_awaiter->outcome = std::move(step);
    d.delegate = nullptr;
    d.delegate_awaiter = nullptr;
    thrown = nullptr;
  }
  d.thrown = std::move(thrown);
  d.yielded.reset();
  d.leaf.resume();
  if (root.done()) {
    d.finished = true;
    if (promise.exception) return Step::raised(promise.exception);
    return Step::returned();
  }
  return Step::yielded(std::move(d.yielded));
}

}  // namespace aiospec::ref::detail
