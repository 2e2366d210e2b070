// asyncio/coroutines.py and the coroutine protocol Task.__step drives: send() and throw().
//
// A Python coroutine is driven one step at a time: coro.send(None) or coro.throw(exc) runs it
// until it yields a future to wait for (`await fut` on a pending future), yields nothing (the
// bare `yield` of sleep(0)), returns, or raises. AnyCoroutine<T> is that protocol, whoever
// implements it; Coroutine<T> is the C++20 coroutine type people write:
//
//   Coroutine<int> answer(std::shared_ptr<Future<int>> f) {
//     co_await sleep(0);            // a bare yield: one loop iteration
//     int x = co_await f;           // suspends the task only if f is pending
//     int y = co_await helper();    // another Coroutine runs inline, as `await helper()` does
//     co_return x + y;
//   }
//
// Awaiting a Coroutine does not suspend the task: the awaited one runs at once (symmetric
// transfer) and a future it yields is yielded by the whole chain, as with `yield from`.
#pragma once

#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "aiospec/ref/exceptions.hpp"
#include "aiospec/ref/futures.hpp"

namespace aiospec::ref {

// One step of a coroutine: what coro.send(None) or coro.throw(exc) did.
struct Step {
  enum class Kind { yielded, returned, raised };
  Kind kind = Kind::returned;
  std::shared_ptr<FutureBase> future;  // yielded: the future to wait for; nullptr is a bare yield
  std::exception_ptr exception;        // raised

  static Step yielded(std::shared_ptr<FutureBase> future) { return {Kind::yielded, std::move(future), nullptr}; }
  static Step returned() { return {Kind::returned, nullptr, nullptr}; }
  static Step raised(std::exception_ptr exception) { return {Kind::raised, nullptr, std::move(exception)}; }
};

// The protocol without the result type: what Task.__step needs.
class AnyCoroutineBase {
 public:
  virtual ~AnyCoroutineBase() = default;
  virtual Step send() = 0;                              // the first step and every resumption
  virtual Step throw_(std::exception_ptr exception) = 0;  // resume by raising it where it waits
};

// A coroutine object returning T. After a step that returned, result() hands the value over
// (once).
template <class T>
class AnyCoroutine : public AnyCoroutineBase {
 public:
  using result_type = T;
  virtual T result() = 0;
};

template <class T>
class Coroutine;

// `co_await yield_now()` is the bare `yield` of tasks.__sleep0: the task gives up one iteration.
struct YieldNow {};
inline YieldNow yield_now() { return {}; }

}  // namespace aiospec::ref

#include "aiospec/ref/detail/coroutine_frame.hpp"

namespace aiospec::ref {

// The C++20 coroutine type. Lazy like a Python coroutine: nothing runs before the first send()
// (or before it is awaited). Move-only; destroying it destroys the frame (and the frames it
// awaits).
template <class T>
class Coroutine final : public AnyCoroutine<T> {
 public:
  using promise_type = detail::Promise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  explicit Coroutine(Handle handle) : handle_(handle) {}
  Coroutine(Coroutine&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Coroutine& operator=(Coroutine&& other) noexcept {
    if (this != &other) {
      if (handle_) handle_.destroy();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  ~Coroutine() override {
    if (handle_) handle_.destroy();
  }

  Step send() override { return detail::drive(handle_, nullptr); }
  Step throw_(std::exception_ptr exception) override { return detail::drive(handle_, std::move(exception)); }
  T result() override {
    auto& promise = handle_.promise();
    if constexpr (std::is_void_v<T>) {
      promise.take_result();
    } else {
      return promise.take_result();
    }
  }

  // For the awaiter of another coroutine (detail::CoroutineAwaiter).
  Handle handle() const { return handle_; }

 private:
  Handle handle_;
};

namespace detail {
inline Coroutine<void> Promise<void>::get_return_object() {
  return Coroutine<void>(std::coroutine_handle<Promise>::from_promise(*this));
}
}  // namespace detail

}  // namespace aiospec::ref
