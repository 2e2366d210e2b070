// asyncio/taskgroups.py (3.11+): `async with asyncio.TaskGroup() as tg:`. __aenter__ never
// suspends, so it is a plain call; __aexit__ waits for the children, so it is a coroutine:
//
//   auto tg = std::make_shared<TaskGroup>();
//   tg->enter();
//   std::exception_ptr raised;
//   try {
//     tg->create_task(child());
//     co_await sleep(1);
//   } catch (...) {
//     raised = std::current_exception();
//   }
//   const bool suppressed = co_await tg->exit(raised);  // raises the ExceptionGroup, ...
//   if (raised && !suppressed) std::rethrow_exception(raised);  // __aexit__ returned None
//
// The first child to fail with anything but CancelledError cancels its siblings and the parent
// task (_parent_cancel_requested); exit() waits for every child, then raises
// ExceptionGroup('unhandled errors in a TaskGroup', errors) (a BaseExceptionGroup if one is not
// an Exception), or re-raises a SystemExit / KeyboardInterrupt bare, or propagates the parent's
// own cancellation. The versions differ in six places, each a Profile member (task_group_*);
// 3.15 adds cancel() (Profile::task_group_has_cancel).
// With a profile older than 3.11 the group behaves as 3.11's, and Task.cancelling()/uncancel()
// raise AttributeError where it needs them.
#pragma once

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aiospec/ref/base_events.hpp"
#include "aiospec/ref/coroutines.hpp"
#include "aiospec/ref/exceptions.hpp"
#include "aiospec/ref/futures.hpp"
#include "aiospec/ref/tasks.hpp"

namespace aiospec::ref {

// A TaskGroup not owned by a shared_ptr must outlive its children's done callbacks (exit()
// waits for them); one owned by a shared_ptr is kept alive by them, as Python's bound method
// _on_task_done keeps the group alive.
class TaskGroup : public std::enable_shared_from_this<TaskGroup> {
 public:
  TaskGroup() = default;
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  // __aenter__: binds the running loop and the current task (the parent). RuntimeError when
  // entered twice, or outside a task.
  void enter();

  // TaskGroup.create_task(coro, name=name): a task of the group's loop (through its task factory:
  // an eager task may be done at once). RuntimeError before enter() ("has not been entered"),
  // after exit() finished ("is finished") and once the group aborts ("is shutting down"); the
  // coroutine refused is destroyed, never run.
  template <class T>
  std::shared_ptr<Task<T>> create_task(std::unique_ptr<AnyCoroutine<T>> coro, std::optional<std::string> name = {});
  template <class T>
  std::shared_ptr<Task<T>> create_task(Coroutine<T> coro, std::optional<std::string> name = {}) {
    return create_task<T>(std::make_unique<Coroutine<T>>(std::move(coro)), std::move(name));
  }

  // __aexit__ with what the body raised (nullptr: nothing, or a return). Returns __aexit__'s
  // value: false (None) when that (or nothing) leaves the group as it is, true when 3.15's
  // `return True` suppresses it; raises what leaves instead. What it raises has
  // __context__ = `exc` (Python raises it inside __aexit__, where `exc` is being handled).
  // RuntimeError before enter() (a C++ guard: `async with` cannot get there).
  Coroutine<bool> exit(std::exception_ptr exc);

  // TaskGroup.cancel() (3.15+): cancels the unfinished children and the parent task, so that
  // the `async with` exits without CancelledError; before enter() it only marks the group to be
  // cancelled on entry (_cancel_on_enter). Idempotent, and a no-op once the group has exited.
  // An entered group with an older profile raises AttributeError, as Python's has no such
  // method (before entering the group knows no loop, hence no profile: callers check).
  void cancel();

  // repr(tg): <TaskGroup tasks=1 errors=1 entered>, as the refusals' messages show it.
  std::string repr() const;

 private:
  void check_can_create() const;
  // The second half of create_task, once the loop made the task.
  void adopt(const std::shared_ptr<TaskBase>& task);
  void on_task_done(TaskBase& task);  // _on_task_done
  void abort();                       // _abort
  // _is_base_error: SystemExit and KeyboardInterrupt (and the foreign exceptions that escape a
  // loop like them: escapes_the_loop).
  static bool is_base_error(const std::exception_ptr& exc) { return escapes_the_loop(exc); }
  // __aexit__'s test for "the body was cancelled" (Profile::task_group_exit_matches_cancelled_subclasses).
  bool is_cancelled_error(const std::exception_ptr& exc) const;

  bool entered_ = false;
  bool exiting_ = false;
  bool aborting_ = false;
  EventLoop* loop_ = nullptr;
  std::shared_ptr<TaskBase> parent_task_;
  bool parent_cancel_requested_ = false;
  bool cancel_on_enter_ = false;  // cancel() before enter() (3.15+)
  // _tasks: a set in Python (iterated in an order of its own); here in creation order.
  std::vector<std::shared_ptr<TaskBase>> tasks_;
  std::vector<std::exception_ptr> errors_;
  std::exception_ptr base_error_;
  std::shared_ptr<Future<bool>> on_completed_fut_;
};

template <class T>
std::shared_ptr<Task<T>> TaskGroup::create_task(std::unique_ptr<AnyCoroutine<T>> coro, std::optional<std::string> name) {
  check_can_create();
  std::shared_ptr<Task<T>> task;
  if (loop_->profile().task_group_names_task_at_creation) {
    task = loop_->create_task(std::move(coro), std::move(name));
  } else {
    task = loop_->create_task(std::move(coro));  // Task-N first, then tasks._set_task_name
    if (name) task->set_name(std::move(*name));
  }
  adopt(task->shared_task());
  return task;
}

}  // namespace aiospec::ref
