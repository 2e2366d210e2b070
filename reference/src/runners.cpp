// asyncio/runners.py: Runner.close, _cancel_all_tasks, and the loop's two shutdown coroutines.
#include "aiospec/ref/runners.hpp"

#include <vector>

#include "aiospec/ref/format_helpers.hpp"

namespace aiospec::ref {

namespace detail {

Coroutine<void> shutdown_asyncgens() { co_return; }  // `if not len(self._asyncgens): return`

Coroutine<void> shutdown_default_executor() { co_return; }  // `if self._default_executor is None: return`

void cancel_all_tasks(EventLoop& loop) {
  const auto to_cancel = all_tasks(&loop);
  if (to_cancel.empty()) return;

  for (const auto& task : to_cancel) task->cancel();

  // gather(*to_cancel, return_exceptions=True): one done callback per task, the outer future
  // set by the last of them (none of the tasks is done yet: they were just cancelled).
  struct Gathering {
    std::shared_ptr<Future<void>> outer;
    std::size_t nfinished = 0, nfuts = 0;
  };
  auto state = std::make_shared<Gathering>();
  state->outer = loop.create_future<void>();
  state->nfuts = to_cancel.size();
  for (const auto& task : to_cancel) {
    task->as_future().add_done_callback([state](FutureBase&) {
      ++state->nfinished;
      if (state->nfinished != state->nfuts || state->outer->done()) return;
      state->outer->set_result();
    });
  }
  loop.run_until_complete(state->outer);

  for (const auto& task : to_cancel) {
    const FutureBase& future = task->as_future();
    if (future.cancelled()) continue;
    if (auto exc = future.exception()) {
      loop.call_exception_handler({{"message", "unhandled exception during asyncio.run() shutdown"},
                                   {"exception", exc},
                                   {"task", static_cast<const TaskBase*>(task.get())}});
    }
  }
}

void exit_runner(Runner& runner, const std::exception_ptr& failure) {
  try {
    runner.close();
  } catch (...) {
    std::rethrow_exception(chain_context(std::current_exception(), failure));
  }
  if (failure) std::rethrow_exception(failure);
}

}  // namespace detail

void run_not_awaitable(const Arg& main, EventLoop& loop) {
  detail::refuse_running_loop();
  const Profile& profile = loop.profile();
  // Runner.run's check (asyncio.run's own before 3.11).
  const auto refuse = [&] {
    if (profile.run_accepts_any_awaitable) {
      throw TypeError("An asyncio.Future, a coroutine or an awaitable is required");
    }
    throw ValueError("a coroutine was expected, got " + python_repr(main));
  };
  if (!profile.run_checks_main_inside_runner) refuse();
  // `with Runner(loop_factory=...) as runner: return runner.run(main)`, as detail::run_in.
  Runner runner(loop);
  runner.get_loop();  // __enter__
  std::exception_ptr failure;
  try {
    refuse();
  } catch (...) {
    failure = std::current_exception();
  }
  detail::exit_runner(runner, failure);
  std::rethrow_exception(failure);  // not reached: exit_runner raised failure or close()'s error
}

Runner::~Runner() {
  try {
    close();
  } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor cannot raise; see the header
  }
}

void Runner::lazy_init() {
  if (state_ == State::closed) throw RuntimeError("Runner is closed");
  if (state_ == State::initialized) return;
  if (given_ != nullptr) {
    loop_ = given_;  // self._loop_factory()
  } else {
    owned_ = std::make_unique<EventLoop>("poll", profile_);  // events.new_event_loop()
    loop_ = owned_.get();
  }
  state_ = State::initialized;
}

EventLoop& Runner::get_loop() {
  lazy_init();
  return *loop_;
}

void Runner::close() {
  if (state_ != State::initialized) return;
  EventLoop& loop = *loop_;
  // try: ... finally: loop.close()
  std::exception_ptr failure;
  try {
    detail::cancel_all_tasks(loop);
    loop.run_until_complete(detail::shutdown_asyncgens());
    if (loop.profile().run_shuts_down_default_executor) loop.run_until_complete(detail::shutdown_default_executor());
  } catch (...) {
    failure = std::current_exception();
  }
  try {
    loop.close();
  } catch (...) {
    std::rethrow_exception(chain_context(std::current_exception(), failure));
  }
  loop_ = nullptr;
  state_ = State::closed;
  if (failure) std::rethrow_exception(failure);
}

}  // namespace aiospec::ref
