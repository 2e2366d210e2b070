// The interpreter's scenario coroutines as C++20 coroutines: a generator with `yield from`.
//
// A scenario coroutine is a chain of frames. Each frame is a Body: the body of the coroutine
// itself, a block inside it (try, except, finally), or a coroutine it awaits directly (awaiting
// a coroutine never suspends the task, PEP 492). A frame awaits another by symmetric transfer.
// Only a Yield suspends the whole chain: control goes back to whoever called send() or
// throw_in() (the loop's task, through Chain::resume), carrying the future to wait for. The
// next send() resumes the frame that yielded; throw_in() resumes it by throwing there. This is
// Python's generator protocol: coro.send(None), coro.throw(exc), `yield fut` in Future.__await__.
#pragma once

#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "aiospec/conformance/adapter.hpp"

namespace aiospec::conformance::detail {

// What all frames of one scenario coroutine share.
struct Chain {
  std::coroutine_handle<> leaf;      // the frame suspended at a Yield
  bool yielded = false;              // the last resumption ended at a Yield ...
  std::shared_ptr<Future> future;    // ... waiting for this future
  std::optional<LoopError> throw_in;  // what the resumed Yield throws, when set
  // The exceptions being handled (except blocks, and finally blocks run for an exception),
  // innermost last: Python's exception state, shared along the await chain, which gives an
  // exception that appears inside a handler its __context__.
  std::vector<std::shared_ptr<const LoopError>> handling;
  // Whether an exception thrown in gets the handled one as __context__ (Language::throw_chains).
  bool throw_chains = true;
  // Where each coroutine level's own entries of `handling` start. Level 0 is the coroutine the
  // task drives; a coroutine it awaits inline adds a level (in Python a generator frame of its
  // own, with its own exception state). A raise sees every level's handled exception (the
  // thread's exception stack); a throw sees only the level it passes through.
  std::vector<std::size_t> levels{0};
  // The levels [0, thrown_through) were suspended when the current resumption began with a
  // throw and have neither finished nor suspended since: an exception one of them ends with
  // reaches the level below as gen_throw hands it on (3.9+: chained to that level's own
  // handled exception).
  std::size_t thrown_through = 0;
};

// Python's implicit chaining (_PyErr_SetObject): an exception that appears while `chain`'s
// coroutine handles another gets that one as __context__, unless it is that very object.
inline void chain_to_handled(LoopError& error, const Chain& chain) {
  if (chain.handling.empty() || error.same_object(*chain.handling.back())) return;
  error.set_context(chain.handling.back());
}

// The chaining of a throw (gen_throw, 3.9+): only the innermost level's own handled exception.
inline void chain_to_own_handled(LoopError& error, const Chain& chain) {
  if (!chain.throw_chains || chain.handling.size() <= chain.levels.back()) return;
  if (error.same_object(*chain.handling.back())) return;
  error.set_context(chain.handling.back());
}

template <class T>
class Body;

namespace body_detail {

struct PromiseBase {
  Chain* chain = nullptr;
  std::coroutine_handle<> continuation;  // the frame awaiting this one; none for the root
  std::exception_ptr error;

  std::suspend_always initial_suspend() noexcept { return {}; }  // lazy: starts when awaited
  struct ToContinuation {  // a finished frame hands control to the frame awaiting it
    bool await_ready() noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> self) noexcept {
      const auto next = self.promise().continuation;
      return next ? next : std::noop_coroutine();  // the root returns to RootFrame::resume
    }
    void await_resume() noexcept {}
  };
  ToContinuation final_suspend() noexcept { return {}; }
  void unhandled_exception() { error = std::current_exception(); }
};

template <class T>
struct Promise : PromiseBase {
  std::optional<T> value;
  Body<T> get_return_object();
  void return_value(T v) { value = std::move(v); }
};

template <>
struct Promise<void> : PromiseBase {
  Body<void> get_return_object();
  void return_void() {}
};

}  // namespace body_detail

// One frame. Owns its coroutine; move-only.
template <class T>
class Body {
 public:
  using promise_type = body_detail::Promise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  explicit Body(Handle h) : h_(h) {}
  Body(Body&& other) noexcept : h_(std::exchange(other.h_, {})) {}
  Body& operator=(Body&&) = delete;
  ~Body() {
    if (h_) h_.destroy();
  }

  // Awaited by a parent frame: the child runs at once on the parent's chain.
  bool await_ready() const noexcept { return false; }
  template <class P>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<P> parent) noexcept {
    h_.promise().chain = parent.promise().chain;
    h_.promise().continuation = parent;
    return h_;
  }
  T await_resume() {
    if (h_.promise().error) std::rethrow_exception(h_.promise().error);
    if constexpr (!std::is_void_v<T>) return std::move(*h_.promise().value);
  }

  Handle handle() const { return h_; }

 private:
  Handle h_;
};

namespace body_detail {
template <class T>
Body<T> Promise<T>::get_return_object() {
  return Body<T>(Body<T>::Handle::from_promise(*this));
}
inline Body<void> Promise<void>::get_return_object() {
  return Body<void>(Body<void>::Handle::from_promise(*this));
}
}  // namespace body_detail

// `co_await Yield(future)`: suspend the whole chain until the task resumes it; then return, or
// throw what throw_in() brought.
//
// The awaiters here have constructors on purpose: g++ 12 destroys the frame's parameters twice
// when a coroutine is destroyed while suspended at `co_await Aggregate{...}` (a pending task's
// frames are destroyed that way at the end of a run); a non-aggregate temporary is handled right.
class Yield {
 public:
  explicit Yield(std::shared_ptr<Future> future) : future_(std::move(future)) {}

  bool await_ready() const noexcept { return false; }
  template <class P>
  void await_suspend(std::coroutine_handle<P> self) noexcept {
    chain_ = self.promise().chain;
    chain_->leaf = self;
    chain_->yielded = true;
    chain_->future = std::move(future_);
  }
  void await_resume() {
    if (chain_->throw_in) {
      LoopError error = std::move(*chain_->throw_in);
      chain_->throw_in.reset();
      // Thrown in while this level's handler runs: Python 3.9+ chains it to that exception.
      chain_to_own_handled(error, *chain_);
      throw error;
    }
  }

 private:
  std::shared_ptr<Future> future_;
  Chain* chain_ = nullptr;
};

// `Chain& chain = *co_await CurrentChain();`: the chain of the frame that asks, without suspending.
class CurrentChain {
 public:
  CurrentChain() = default;
  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> self) noexcept {
    chain_ = self.promise().chain;
    return false;  // go on at once
  }
  Chain* await_resume() const noexcept { return chain_; }

 private:
  Chain* chain_ = nullptr;
};

// The root of a chain, driven one step at a time: the Coroutine the loop's task sees.
class RootFrame {
 public:
  explicit RootFrame(Body<Value> body, bool throw_chains = true) : body_(std::move(body)) {
    body_.handle().promise().chain = &chain_;
    chain_.throw_chains = throw_chains;
  }

  Step send() {
    chain_.thrown_through = 0;
    return resume();
  }
  Step throw_in(const LoopError& error) {
    if (!chain_.leaf && !finished()) {
      // coro.throw() before the first step: the body never runs, the exception comes straight
      // back (a task cancelled before its first step).
      closed_ = true;
      Step step;
      step.kind = Step::Kind::raised;
      step.exception = std::make_exception_ptr(error);
      return step;
    }
    chain_.throw_in = error;
    chain_.thrown_through = chain_.levels.size();
    return resume();
  }
  bool finished() const { return closed_ || body_.handle().done(); }

 private:
  Step resume() {
    Step step;
    if (finished()) {
      step.kind = Step::Kind::raised;
      step.exception = std::make_exception_ptr(LoopError("RuntimeError", "cannot reuse already awaited coroutine"));
      return step;
    }
    const std::coroutine_handle<> next = chain_.leaf ? chain_.leaf : std::coroutine_handle<>(body_.handle());
    chain_.yielded = false;
    next.resume();
    chain_.thrown_through = 0;  // suspended or finished: the throw's path ends here
    if (chain_.yielded) {
      step.kind = Step::Kind::yielded;
      step.future = std::move(chain_.future);
      return step;
    }
    auto& promise = body_.handle().promise();
    if (promise.error) {
      step.kind = Step::Kind::raised;
      step.exception = promise.error;
    } else {
      step.kind = Step::Kind::returned;
      step.value = std::move(*promise.value);
    }
    return step;
  }

  Chain chain_;
  Body<Value> body_;
  bool closed_ = false;
};

}  // namespace aiospec::conformance::detail
