// asyncio/taskgroups.py: TaskGroup, line by line (3.11 to 3.15 through Profile).
#include "aiospec/ref/taskgroups.hpp"

#include <algorithm>
#include <typeinfo>
#include <utility>

namespace aiospec::ref {

std::string TaskGroup::repr() const {
  std::string info;
  if (!tasks_.empty()) info += " tasks=" + std::to_string(tasks_.size());
  if (!errors_.empty()) info += " errors=" + std::to_string(errors_.size());
  if (aborting_) {
    info += " cancelling";
  } else if (entered_) {
    info += " entered";
  }
  return "<TaskGroup" + info + ">";
}

void TaskGroup::enter() {
  if (entered_) throw RuntimeError("TaskGroup " + repr() + " has already been entered");
  if (loop_ == nullptr) loop_ = get_running_loop();
  parent_task_ = current_task(loop_);
  if (!parent_task_) throw RuntimeError("TaskGroup " + repr() + " cannot determine the parent task");
  entered_ = true;
  if (cancel_on_enter_) cancel();
}

void TaskGroup::check_can_create() const {
  if (!entered_) throw RuntimeError("TaskGroup " + repr() + " has not been entered");
  if (exiting_ && tasks_.empty()) throw RuntimeError("TaskGroup " + repr() + " is finished");
  if (aborting_) throw RuntimeError("TaskGroup " + repr() + " is shutting down");
}

void TaskGroup::adopt(const std::shared_ptr<TaskBase>& task) {
  // 3.12+: a task that is already done (it ran eagerly to its end) is handled now and never
  // joins the set.
  if (loop_->profile().task_group_handles_done_task_at_once && task->done()) {
    on_task_done(*task);
    return;
  }
  tasks_.push_back(task);
  // The callback holds the group (when shared) as Python's bound method does.
  auto self = weak_from_this().lock();
  TaskGroup* group = this;
  TaskBase* child = task.get();
  task->as_future().add_done_callback([self, group, child](FutureBase&) { group->on_task_done(*child); });
}

void TaskGroup::abort() {
  aborting_ = true;
  // A copy: a loop whose done callbacks run synchronously (a test mutant) could finish a child
  // inside cancel() and change the set (Python would raise "Set changed size during iteration").
  const auto tasks = tasks_;
  for (const auto& t : tasks) {
    if (!t->done()) t->cancel();
  }
}

void TaskGroup::on_task_done(TaskBase& task) {
  std::erase_if(tasks_, [&](const auto& t) { return t.get() == &task; });

  if (on_completed_fut_ && tasks_.empty()) {
    if (!on_completed_fut_->done()) on_completed_fut_->set_result(true);
  }

  FutureBase& future = task.as_future();
  if (future.cancelled()) return;
  std::exception_ptr exc = future.exception();
  if (!exc) return;

  errors_.push_back(exc);
  if (is_base_error(exc) && !base_error_) base_error_ = exc;

  if (parent_task_->done()) {
    // Not sure if this case is possible, but we want to handle it anyways. (taskgroups.py)
    loop_->call_exception_handler({{"message", "Task " + task.repr() + " has errored out but its parent task " +
                                                   parent_task_->repr() + " is already completed"},
                                   {"exception", exc},
                                   {"task", static_cast<const TaskBase*>(&task)}});
    return;
  }

  if (!aborting_ && !parent_cancel_requested_) {
    // The parent is not being cancelled: cancel it to abort whatever it runs in the group now,
    // and mark it "not cancelled" again in exit().
    abort();
    parent_cancel_requested_ = true;
    parent_task_->cancel();
  }
}

bool TaskGroup::is_cancelled_error(const std::exception_ptr& exc) const {
  if (loop_->profile().task_group_exit_matches_cancelled_subclasses) return holds<CancelledError>(exc);
  const BaseException* base = as_base_exception(exc);
  return base != nullptr && typeid(*base) == typeid(CancelledError);  // `et is CancelledError`
}

Coroutine<bool> TaskGroup::exit(std::exception_ptr exc) {
  // `async with` never calls __aexit__ without a successful __aenter__; here it would find no loop.
  if (!entered_) throw RuntimeError("TaskGroup " + repr() + " has not been entered");
  const Profile& profile = loop_->profile();
  exiting_ = true;

  if (exc && is_base_error(exc) && !base_error_) base_error_ = exc;

  std::exception_ptr propagate_cancellation_error = exc && is_cancelled_error(exc) ? exc : nullptr;

  // If this flag is set we *must* call uncancel(): 3.11-3.12 here, 3.13 after the wait.
  const auto uncancel_parent = [&] {
    if (parent_cancel_requested_ && parent_task_->uncancel() == 0) {
      // If there are no pending cancellations left, don't propagate CancelledError.
      propagate_cancellation_error = nullptr;
    }
  };
  if (!profile.task_group_uncancels_after_wait) uncancel_parent();

  // The parent is being cancelled, or the body raised: cancel the children.
  if (exc && !aborting_) abort();

  // A loop because on_completed_fut_ can be cancelled several times if the parent task is
  // cancelled repeatedly (or even once, when our own cancellation is already in progress).
  while (!tasks_.empty()) {
    if (!on_completed_fut_) on_completed_fut_ = loop_->create_future<bool>();
    std::exception_ptr ex;
    try {
      co_await on_completed_fut_;
    } catch (const CancelledError&) {
      // Thrown in while `exc` is being handled: chained to it, as Python does since 3.9.
      ex = chain_context(std::current_exception(), exc);
    }
    if (ex && !aborting_) {
      // The parent is cancelled while the children still run.
      propagate_cancellation_error = ex;
      abort();
    }
    on_completed_fut_.reset();
  }

  if (base_error_) std::rethrow_exception(chain_context(base_error_, exc));

  if (profile.task_group_uncancels_after_wait) uncancel_parent();

  // Propagate CancelledError if there is one, except if there are other errors: those have
  // priority.
  if (propagate_cancellation_error && errors_.empty()) {
    std::rethrow_exception(chain_context(propagate_cancellation_error, exc));
  }

  if (exc && !is_cancelled_error(exc)) errors_.push_back(exc);

  if (!errors_.empty()) {
    // 3.13: the parent is also being cancelled from outside the group: uncancel and cancel it
    // again, which keeps the count and delivers that cancel at its next await.
    if (profile.task_group_redelivers_external_cancel && parent_task_->cancelling()) {
      parent_task_->uncancel();
      parent_task_->cancel();
    }
    // `raise me from None` in a try/finally that drops the errors (self._errors = None).
    auto errors = std::exchange(errors_, {});
    std::exception_ptr me = make_exception_group("unhandled errors in a TaskGroup", std::move(errors));
    std::rethrow_exception(chain_context(std::move(me), exc));
  }
  // Not modelled: 3.15's bare re-raise of a body's lone GeneratorExit (no generators here).

  // 3.15: "Suppress any remaining exception (exceptions deserving to be raised were raised
  // above)": `return True`. Before, __aexit__ returns None and what left the body goes on.
  co_return profile.task_group_has_cancel;
}

void TaskGroup::cancel() {
  if (!entered_) {
    cancel_on_enter_ = true;
    return;
  }
  if (!loop_->profile().task_group_has_cancel) {
    throw Error("AttributeError", "'TaskGroup' object has no attribute 'cancel'");
  }
  if (exiting_ && tasks_.empty()) return;
  if (!aborting_) {
    abort();
    if (parent_task_ && !parent_cancel_requested_) {
      parent_cancel_requested_ = true;
      parent_task_->cancel();
    }
  }
}

}  // namespace aiospec::ref
