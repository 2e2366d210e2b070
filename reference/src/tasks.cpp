// asyncio/tasks.py: Task.__step, Task.__wakeup and cancel, the task registry, sleep and
// _cancel_and_wait; asyncio/timeouts.py.
#include "aiospec/ref/tasks.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <typeinfo>

namespace aiospec::ref {

void detail::log_on_exception(FutureBase& fut) {
  if (fut.cancelled()) return;
  const std::exception_ptr exc = fut.exception();
  if (!exc) return;
  std::string class_name = "Exception";  // f'{exc.__class__.__name__} exception in shielded future'
  try {
    std::rethrow_exception(exc);
  } catch (const BaseException& e) {
    class_name = e.python_type();
  } catch (...) {  // NOLINT(bugprone-empty-catch): a foreign exception keeps the generic name
  }
  ExceptionContext context{{"message", class_name + " exception in shielded future"},
                           {"exception", exc},
                           {"future", static_cast<const FutureBase*>(&fut)}};
  if (!fut.source_traceback().empty()) context.set("source_traceback", fut.source_traceback());
  fut.get_loop().call_exception_handler(context);
}

namespace {
// tasks._task_name_counter: one counter for the whole process, as in Python.
std::atomic<std::uint64_t> task_name_counter{0};
}  // namespace

TaskBase::TaskBase(FutureBase& self, std::optional<std::string> name, bool eager_start)
    : self_(self), name_(name ? std::move(*name) : "Task-" + std::to_string(++task_name_counter)), eager_start_(eager_start) {
  if (eager_start && !self.get_loop().profile().eager_tasks) {
    throw TypeError("Task.__init__() got an unexpected keyword argument 'eager_start'");
  }
}

std::shared_ptr<TaskBase> TaskBase::shared_task() const {
  // The aliasing constructor: shares ownership of the whole Task<T>, points at this base.
  return std::shared_ptr<TaskBase>(self_.shared_from_this(), const_cast<TaskBase*>(this));
}

std::string TaskBase::repr() const {
  std::vector<std::string> info = self_.repr_info();
  const bool cancelling = self_.get_loop().profile().task_has_cancelling
                              ? num_cancels_requested_ > 0 && !self_.done()  // 3.11+: cancelling() and not done()
                              : must_cancel_;                               // 3.8-3.10: _must_cancel
  if (cancelling) info[0] = "cancelling";
  info.insert(info.begin() + 1, "name=" + python_repr(std::string_view(name_)));
  // coroutines._format_coroutine: a C++ coroutine has no name or line to show.
  std::size_t at = 2;
  info.insert(info.begin() + at++, "coro=<coroutine>");
  if (fut_waiter_) info.insert(info.begin() + at, "wait_for=" + fut_waiter_->repr());
  std::string out = "<Task";
  for (const auto& part : info) out += " " + part;
  return out + ">";
}

void TaskBase::report_destroyed() noexcept {
  if (!self_.done() && log_destroy_pending && self_.registered_) {
    ExceptionContext context{{"message", "Task was destroyed but it is pending!"},
                             {"task", static_cast<const TaskBase*>(this)}};
    if (!self_.source_traceback().empty()) context.set("source_traceback", self_.source_traceback());
    try {
      self_.get_loop().call_exception_handler(context);
    } catch (...) {  // NOLINT(bugprone-empty-catch): "Exception ignored in" a __del__
    }
  }
  self_.report_never_retrieved();
}

namespace {
// The Callback of a task's step: named, and marked as the task's (_format_handle shows the task).
template <class F>
Callback step_callback(const TaskBase* task, F body) {
  Callback cb(std::move(body), "Task.task_step");
  cb.task = task;
  return cb;
}
}  // namespace

void TaskBase::schedule_first_step() {
  if (eager_start_ && self_.get_loop().is_running()) {
    eager_start();
    return;
  }
  self_.get_loop().call_soon(step_callback(this, [self = shared_task()] { self->step(); }));
}

void TaskBase::eager_start() {
  // _swap_current_task: the creating task (if any) is current again afterwards.
  EventLoop& loop = self_.get_loop();
  struct Restore {
    EventLoop& loop;
    TaskBase* prev;
    ~Restore() { loop.current_task_ = prev; }
  } restore{loop, std::exchange(loop.current_task_, this)};
  step_run_and_handle_result(nullptr);
}

bool TaskBase::cancel(const std::optional<std::string>& msg) {
  self_.check_cancel_message(msg);
  self_.log_traceback_ = false;
  if (self_.done()) return false;
  ++num_cancels_requested_;
  if (fut_waiter_) {
    // Leave fut_waiter_: it may be a Task that swallows the cancellation, to be cancelled again.
    if (fut_waiter_->cancel(msg)) return true;
  }
  // It must be the case that step() is already scheduled.
  must_cancel_ = true;
  self_.cancel_message_ = msg;
  return true;
}

namespace {
[[noreturn]] void no_attribute(const char* name) {
  throw Error("AttributeError", std::string("'_asyncio.Task' object has no attribute '") + name + "'");
}
}  // namespace

int TaskBase::cancelling() const {
  if (!self_.get_loop().profile().task_has_cancelling) no_attribute("cancelling");
  return num_cancels_requested_;
}

int TaskBase::uncancel() {
  const Profile& profile = self_.get_loop().profile();
  if (!profile.task_has_cancelling) no_attribute("uncancel");
  if (num_cancels_requested_ > 0) {
    --num_cancels_requested_;
    if (num_cancels_requested_ == 0 && profile.uncancel_rescinds_pending_cancel) must_cancel_ = false;
  }
  return num_cancels_requested_;
}

void TaskBase::step(std::exception_ptr exc) {
  if (self_.done()) throw InvalidStateError("_step(): already done: " + repr());
  if (must_cancel_) {
    if (!holds<CancelledError>(exc)) exc = self_.make_cancelled_error();
    must_cancel_ = false;
  }
  fut_waiter_.reset();

  // _enter_task / _leave_task: this task is current_task() while its coroutine runs.
  EventLoop& loop = self_.get_loop();
  if (loop.current_task_ != nullptr) {
    throw RuntimeError("Cannot enter into task " + repr() + " while another task " + loop.current_task_->repr() +
                       " is being executed.");
  }
  loop.current_task_ = this;
  struct LeaveTask {
    EventLoop& loop;
    ~LeaveTask() { loop.current_task_ = nullptr; }
  } leave{loop};
  step_run_and_handle_result(std::move(exc));
}

void TaskBase::step_run_and_handle_result(std::exception_ptr exc) {
  EventLoop& loop = self_.get_loop();
  Step result = detail::guarded(get_coro(), std::move(exc));
  switch (result.kind) {
    case Step::Kind::returned:
      if (must_cancel_) {
        // Task is cancelled right before the coroutine stops.
        must_cancel_ = false;
        self_.FutureBase::cancel(self_.cancel_message_);
      } else {
        set_result_from_coroutine();
      }
      return;

    case Step::Kind::raised: {
      const auto& e = result.exception;
      if (holds<CancelledError>(e)) {
        // Save the original exception so that awaiters can chain it, or get it (3.11+).
        self_.cancelled_exc_ = e;
        self_.FutureBase::cancel();
        return;
      }
      self_.FutureBase::set_exception(e);
      // KeyboardInterrupt, SystemExit and foreign exceptions also leave the loop.
      if (escapes_the_loop(e)) std::rethrow_exception(e);
      return;
    }

    case Step::Kind::yielded:
      break;
  }

  auto self = shared_task();
  if (!result.future) {
    // A bare yield relinquishes control for one event loop iteration.
    loop.call_soon(step_callback(this, [self] { self->step(); }));
    return;
  }
  auto& future = result.future;
  if (&future->get_loop() != &loop) {
    auto error = std::make_exception_ptr(RuntimeError("Task " + repr() + " got Future attached to a different loop"));
    loop.call_soon(step_callback(this, [self, error] { self->step(error); }));
    return;
  }
  if (future.get() == &self_) {
    auto error = std::make_exception_ptr(RuntimeError("Task cannot await on itself: " + repr()));
    loop.call_soon(step_callback(this, [self, error] { self->step(error); }));
    return;
  }
  future->add_done_callback(DoneCallback([self](FutureBase& f) { self->wakeup(f); }, "Task.task_wakeup", this));
  fut_waiter_ = future;
  if (must_cancel_) {
    if (fut_waiter_->cancel(self_.cancel_message_)) must_cancel_ = false;
  }
}

void TaskBase::wakeup(FutureBase& future) {
  // future.result(), raising what it raises (this may also be a cancellation).
  if (auto exc = future.result_exception()) {
    step(std::move(exc));
  } else {
    step();
  }
}

std::shared_ptr<TaskBase> TaskBase::current(EventLoop& loop) {
  return loop.current_task_ ? loop.current_task_->shared_task() : nullptr;
}

std::vector<std::shared_ptr<TaskBase>> TaskBase::all(EventLoop& loop) {
  std::vector<std::shared_ptr<TaskBase>> tasks;
  for (FutureBase* f : loop.futures_) {
    auto* task = dynamic_cast<TaskBase*>(f);
    if (task != nullptr && !f->done() && !f->weak_from_this().expired()) tasks.push_back(task->shared_task());
  }
  return tasks;
}

std::shared_ptr<TaskBase> current_task(EventLoop* loop) {
  return TaskBase::current(loop != nullptr ? *loop : *get_running_loop());
}

std::vector<std::shared_ptr<TaskBase>> all_tasks(EventLoop* loop) {
  return TaskBase::all(loop != nullptr ? *loop : *get_running_loop());
}

// ---- sleep, _cancel_and_wait ------------------------------------------------------------------

namespace detail {

Coroutine<void> sleep_for(double delay) {
  if (delay <= 0) {
    co_await yield_now();  // __sleep0
    co_return;
  }
  EventLoop& loop = *get_running_loop();
  if (loop.profile().sleep_rejects_nan && std::isnan(delay)) throw ValueError("Invalid delay: NaN (not a number)");
  auto future = loop.create_future<void>();
  const auto h = loop.call_later(delay, [future] { set_result_unless_cancelled(*future, {}); });
  struct CancelTimer {  // finally: h.cancel()
    TimerHandlePtr h;
    ~CancelTimer() { h->cancel(); }
  } finally{h};
  co_await future;
}

Coroutine<void> cancel_and_wait(EventLoop& loop, std::shared_ptr<FutureBase> fut) {
  auto waiter = loop.create_future<void>();
  const auto cb = fut->add_done_callback([waiter](FutureBase&) { release_waiter(*waiter); });
  struct RemoveCallback {  // finally: fut.remove_done_callback(cb)
    FutureBase& fut;
    DoneCallbackId cb;
    ~RemoveCallback() { fut.remove_done_callback(cb); }
  } finally{*fut, cb};
  fut->cancel();
  co_await waiter;
}

}  // namespace detail

// ---- wait -------------------------------------------------------------------------------------

namespace {
// _wait's closure: the waiter, the timer and the nonlocal counter of _on_completion.
struct WaitState {
  std::shared_ptr<Future<void>> waiter;
  TimerHandlePtr timeout_handle;  // null without a timeout
  std::ptrdiff_t counter = 0;
  ReturnWhen return_when = ReturnWhen::all_completed;

  void on_completion(FutureBase& f) {
    --counter;
    if (counter <= 0 || return_when == ReturnWhen::first_completed ||
        (return_when == ReturnWhen::first_exception && !f.cancelled() && f.exception() != nullptr)) {
      if (timeout_handle) timeout_handle->cancel();
      if (!waiter->done()) waiter->set_result();
    }
  }
};
}  // namespace

Coroutine<WaitResult> wait(std::vector<std::shared_ptr<FutureBase>> fs, std::optional<double> timeout,
                           ReturnWhen return_when) {
  // Python checks the empty set before it asks for the running loop; the message depends on the
  // profile, which is the loop's, so here the loop comes first (inside a task there always is one).
  EventLoop& loop = *get_running_loop();
  const bool only_futures = loop.profile().wait_takes_only_futures;
  if (fs.empty()) {
    throw ValueError(only_futures ? "Set of Tasks/Futures is empty." : "Set of coroutines/Futures is empty.");
  }
  std::vector<std::shared_ptr<FutureBase>> unique;  // set(fs), in the order given
  for (auto& f : fs) {
    if (std::find(unique.begin(), unique.end(), f) == unique.end()) unique.push_back(std::move(f));
  }
  if (!only_futures) {  // {ensure_future(f, loop=loop) for f in set(fs)}
    for (const auto& f : unique) {
      if (&f->get_loop() != &loop) {
        throw ValueError("The future belongs to a different loop than the one specified as the loop argument");
      }
    }
  }

  // _wait(fs, timeout, return_when, loop)
  auto state = std::make_shared<WaitState>();
  state->waiter = loop.create_future<void>();
  state->return_when = return_when;
  if (timeout) {
    state->timeout_handle = loop.call_later(*timeout, [waiter = state->waiter] { detail::release_waiter(*waiter); });
  }
  state->counter = static_cast<std::ptrdiff_t>(unique.size());
  std::vector<DoneCallbackId> ids;
  for (const auto& f : unique) {
    ids.push_back(f->add_done_callback([state](FutureBase& done) { state->on_completion(done); }));
  }
  struct Finally {  // finally: timeout_handle.cancel(); f.remove_done_callback(_on_completion)
    WaitState& state;
    const std::vector<std::shared_ptr<FutureBase>>& fs;
    const std::vector<DoneCallbackId>& ids;
    ~Finally() {
      if (state.timeout_handle) state.timeout_handle->cancel();
      for (std::size_t i = 0; i < fs.size(); ++i) fs[i]->remove_done_callback(ids[i]);
    }
  };
  {
    Finally finally{*state, unique, ids};
    co_await state->waiter;
  }

  WaitResult result;
  for (auto& f : unique) (f->done() ? result.done : result.pending).push_back(f);
  co_return result;
}

// ---- timeouts.py ------------------------------------------------------------------------------

Timeout::~Timeout() {
  if (timeout_handler_) timeout_handler_->cancel();
}

void Timeout::reschedule(std::optional<double> when) {
  if (state_ != State::entered) {
    if (state_ == State::created) throw RuntimeError("Timeout has not been entered");
    static const char* const names[] = {"created", "active", "expiring", "expired", "finished"};
    throw RuntimeError(std::string("Cannot change state of ") + names[static_cast<int>(state_)] + " Timeout");
  }
  when_ = when;
  if (timeout_handler_) timeout_handler_->cancel();
  if (!when) {
    timeout_handler_.reset();
    return;
  }
  EventLoop& loop = *get_running_loop();
  if (*when <= loop.time()) {
    timeout_handler_ = loop.call_soon([this] { on_timeout(); });
  } else {
    timeout_handler_ = loop.call_at(*when, [this] { on_timeout(); });
  }
}

void Timeout::enter() {
  if (state_ != State::created) throw RuntimeError("Timeout has already been entered");
  auto task = current_task();
  if (!task) throw RuntimeError("Timeout should be used inside a task");
  state_ = State::entered;
  task_ = std::move(task);
  cancelling_ = task_->cancelling();
  reschedule(when_);
}

namespace {
// Timeout._insert_timeout_error (3.13): a TimeoutError in front of the first CancelledError of
// the __context__ chain.
void insert_timeout_error(BaseException* exc) {
  while (exc != nullptr && exc->context()) {
    if (holds<CancelledError>(exc->context())) {
      TimeoutError te;
      te.set_context(exc->context());
      te.set_cause(exc->context());
      exc->set_context(std::make_exception_ptr(std::move(te)));
      break;
    }
    exc = as_base_exception(exc->context());
  }
}
}  // namespace

void Timeout::exit(const std::exception_ptr& raised) {
  if (timeout_handler_) {
    timeout_handler_->cancel();
    timeout_handler_.reset();
  }
  if (state_ == State::expiring) {
    state_ = State::expired;
    const Profile& profile = task_->get_loop().profile();
    const bool every = profile.timeout_exit_handles_every_exception;
    // 3.11-3.12 ask `exc_type is CancelledError`: that exact class.
    BaseException* base = as_base_exception(raised);
    const bool cancelled = every ? holds<CancelledError>(raised)
                                 : base != nullptr && typeid(*base) == typeid(CancelledError);
    const int left = task_->uncancel();
    const bool ours = profile.timeout_counts_cancels_from_entry ? left <= cancelling_ : left == 0;
    if (ours && raised) {
      // Since there are no new cancel requests, we're handling this.
      if (cancelled && !profile.timeout_error_raised_from_cancel) {
        // 3.11.0-3.11.2: a bare `raise TimeoutError` inside __aexit__: only the implicit context.
        TimeoutError error;
        error.set_context(raised);
        throw error;
      }
      if (cancelled) raise_from(TimeoutError(), raised);
      if (every) {
        insert_timeout_error(base);
        // isinstance(exc_val, ExceptionGroup): a BaseExceptionGroup's members are left alone.
        if (const auto* group = dynamic_cast<const ExceptionGroup*>(base)) {
          for (const auto& member : group->exceptions()) insert_timeout_error(as_base_exception(member));
        }
      }
    }
  } else if (state_ == State::entered) {
    state_ = State::exited;
  }
}

void Timeout::on_timeout() {
  task_->cancel();
  state_ = State::expiring;
  timeout_handler_.reset();  // drop the reference early
}

Timeout timeout_at(std::optional<double> when) { return Timeout(when); }

}  // namespace aiospec::ref
