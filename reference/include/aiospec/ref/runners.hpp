// asyncio/runners.py: asyncio.run and Runner. The program's entry point:
//
//   Coroutine<int> amain() { co_await sleep(0.1); co_return 42; }
//   int main() { return aiospec::ref::run(amain()) == 42 ? 0 : 1; }
//
// run(main) makes a new loop, runs main as the main task to completion, then tears down: the
// tasks still pending are cancelled and awaited (_cancel_all_tasks), async generators and the
// default executor are shut down (C++ has neither: trivial coroutines, run to completion all the
// same because the loop iterations they take are observable), and the loop is closed. main's
// value is returned or its exception raised. 3.8-3.10 have run() only, 3.11+ implement it with
// Runner; the steps are the same, and the one difference is Profile::run_shuts_down_default_executor.
// Not modelled: Runner's SIGINT handling, contextvars, debug mode, set_event_loop.
#pragma once

#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "aiospec/ref/base_events.hpp"
#include "aiospec/ref/coroutines.hpp"
#include "aiospec/ref/exceptions.hpp"
#include "aiospec/ref/profile.hpp"
#include "aiospec/ref/tasks.hpp"

namespace aiospec::ref {

namespace detail {
// BaseEventLoop.shutdown_asyncgens() and shutdown_default_executor(): nothing to shut down, so
// both return at once; run_until_complete still takes two iterations for each.
Coroutine<void> shutdown_asyncgens();
Coroutine<void> shutdown_default_executor();
// runners._cancel_all_tasks(loop): cancel every task not done, run the loop until all are done
// (gather(*to_cancel, return_exceptions=True)), report the ones that ended with an exception
// other than a cancellation to the exception handler.
void cancel_all_tasks(EventLoop& loop);
}  // namespace detail

// asyncio.Runner (3.11+; the same steps as 3.8's asyncio.run): a loop, made on first use, runs
// coroutines one run() at a time; close() tears it down. The destructor closes too, and since a
// destructor cannot raise, what close() would raise there is lost: call close() yourself.
class Runner {
 public:
  // Runner(): a loop of its own (real time, "poll"), imitating `profile`.
  explicit Runner(Profile profile = Profile::for_version(kDefaultVersion)) : profile_(std::move(profile)) {}
  // Runner(loop_factory=lambda: loop): runs on `loop`, which must be new (never run), outlive
  // the Runner, and is closed by close().
  explicit Runner(EventLoop& loop) : given_(&loop) {}
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Runner.run(coro): coro as a new task of the loop, run until it is done. RuntimeError when a
  // loop is already running in this thread, or after close().
  template <class T>
  T run(std::unique_ptr<AnyCoroutine<T>> coro);
  template <class T>
  T run(Coroutine<T> coro) {
    return run<T>(std::make_unique<Coroutine<T>>(std::move(coro)));
  }

  // Runner.close(): the teardown above, then loop.close(). Nothing when never used or closed.
  void close();
  // Runner.get_loop() (makes the loop if needed).
  EventLoop& get_loop();

 private:
  enum class State { created, initialized, closed };
  void lazy_init();

  State state_ = State::created;
  Profile profile_;
  EventLoop* given_ = nullptr;
  std::unique_ptr<EventLoop> owned_;  // a loop of its own; kept (closed) until the Runner dies
  EventLoop* loop_ = nullptr;
};

template <class T>
T Runner::run(std::unique_ptr<AnyCoroutine<T>> coro) {
  if (running_loop_or_null() != nullptr) {
    throw RuntimeError("Runner.run() cannot be called from a running event loop");  // fail fast
  }
  lazy_init();
  auto task = loop_->create_task(std::move(coro));
  return loop_->run_until_complete(std::move(task));
}

namespace detail {
// Runner.__exit__ after a body that raised `failure` (or nothing): close(), whose own exception
// replaces `failure`, chained to it as in a finally block; then `failure` itself, if any.
void exit_runner(Runner& runner, const std::exception_ptr& failure);

// `with Runner(...) as runner: return runner.run(main)`: close() runs however run() ends; what
// close() raises replaces run()'s exception (chained to it, as in a finally block).
template <class T>
T run_in(Runner& runner, std::unique_ptr<AnyCoroutine<T>> main) {
  runner.get_loop();  // __enter__
  std::optional<ResultType<T>> value;
  std::exception_ptr failure;
  try {
    if constexpr (std::is_void_v<T>) {
      runner.run(std::move(main));
      value.emplace();
    } else {
      value.emplace(runner.run(std::move(main)));
    }
  } catch (...) {
    failure = std::current_exception();
  }
  exit_runner(runner, failure);
  if constexpr (!std::is_void_v<T>) return std::move(*value);
}

inline void refuse_running_loop() {
  if (running_loop_or_null() != nullptr) {
    throw RuntimeError("asyncio.run() cannot be called from a running event loop");
  }
}
}  // namespace detail

// asyncio.run(main, loop_factory=lambda: loop): main on `loop` (new, never run), which is closed
// at the end. RuntimeError, and main destroyed unrun, when a loop runs in this thread.
template <class T>
T run(std::unique_ptr<AnyCoroutine<T>> main, EventLoop& loop) {
  detail::refuse_running_loop();
  Runner runner(loop);
  return detail::run_in<T>(runner, std::move(main));
}
template <class T>
T run(Coroutine<T> main, EventLoop& loop) {
  return run<T>(std::make_unique<Coroutine<T>>(std::move(main)), loop);
}

// asyncio.run(main, loop_factory=lambda: loop) of a `main` that is no awaitable: a plain value,
// given as the Arg whose repr the message shows. C++ code cannot pass run() anything but a
// coroutine; a replayed Python program can (the conformance interpreter's `run: {value: V}`).
// Always raises:
//   RuntimeError when a loop runs in this thread, first in every version;
//   3.8-3.10:  ValueError("a coroutine was expected, got <repr(main)>"), before `loop` is used;
//   3.11-3.13: the same, from Runner.run inside `with Runner(...)`: `loop` is taken on entry and
//              torn down and closed on exit (Profile::run_checks_main_inside_runner);
//   3.14+:     TypeError("An asyncio.Future, a coroutine or an awaitable is required"), the same
//              way (Profile::run_accepts_any_awaitable: anything awaitable would be wrapped).
[[noreturn]] void run_not_awaitable(const Arg& main, EventLoop& loop);

// asyncio.run(main): on a loop of its own (real time), imitating `profile`.
template <class T>
T run(Coroutine<T> main, Profile profile = Profile::for_version(kDefaultVersion)) {
  detail::refuse_running_loop();
  Runner runner(std::move(profile));
  return detail::run_in<T>(runner, std::make_unique<Coroutine<T>>(std::move(main)));
}

}  // namespace aiospec::ref
