// asyncio/futures.py: the non-template half of Future.
#include "aiospec/ref/futures.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <utility>

#include "aiospec/ref/tasks.hpp"

namespace aiospec::ref {

namespace {
std::atomic<std::uint64_t> future_serial{0};  // process-wide, like the order of gc's lists
}  // namespace

FutureBase::FutureBase(EventLoop& loop, const std::source_location& where) : loop_(&loop), serial_(++future_serial) {
  loop_->futures_.insert(this);
  if (loop_->get_debug()) source_traceback_ = extract_stack(where);
}

FutureBase::~FutureBase() {
  if (!registered_) return;  // the loop is gone (or dying): nobody to report to
  report_never_retrieved();
  loop_->futures_.erase(this);
}

void FutureBase::report_never_retrieved() noexcept {
  if (!log_traceback_ || !registered_) return;
  log_traceback_ = false;
  ExceptionContext context{{"message", class_name_ + " exception was never retrieved"},
                           {"exception", exception_},
                           {"future", static_cast<const FutureBase*>(this)}};
  if (!source_traceback_.empty()) context.set("source_traceback", source_traceback_);
  try {
    loop_->call_exception_handler(context);
  } catch (...) {  // NOLINT(bugprone-empty-catch): Python prints "Exception ignored in: <__del__>" and goes on
  }
}

std::vector<std::string> FutureBase::repr_info() const {
  std::vector<std::string> info{state_ == State::pending ? "pending" : state_ == State::cancelled ? "cancelled" : "finished"};
  if (state_ == State::finished) {
    info.push_back(exception_ ? "exception=" + exception_repr(exception_) : "result=" + result_repr());
  }
  if (!callbacks_.empty()) {
    // base_futures._format_callbacks: one, two, or the first, "<N more>" and the last.
    const auto cb = [](const DoneCallback& c) { return c.name.str() + "()"; };
    const std::size_t size = callbacks_.size();
    std::string text = cb(callbacks_.front().second);
    if (size == 2) {
      text += ", " + cb(callbacks_.back().second);
    } else if (size > 2) {
      text += ", <" + std::to_string(size - 2) + " more>, " + cb(callbacks_.back().second);
    }
    info.push_back("cb=[" + text + "]");
  }
  if (!source_traceback_.empty()) info.push_back(created_at(source_traceback_).substr(1));
  return info;
}

std::string FutureBase::repr() const {
  std::string out = "<" + class_name_;
  for (const auto& part : repr_info()) out += " " + part;
  return out + ">";
}

void FutureBase::check_cancel_message(const std::optional<std::string>& msg) const {
  if (msg && !loop_->profile().cancel_takes_message) {
    throw TypeError("cancel() takes no arguments (1 given)");
  }
}

bool FutureBase::cancel(const std::optional<std::string>& msg) {
  check_cancel_message(msg);
  log_traceback_ = false;
  if (state_ != State::pending) return false;
  state_ = State::cancelled;
  cancel_message_ = msg;
  schedule_callbacks();
  return true;
}

std::exception_ptr FutureBase::make_cancelled_error() const {
  const Profile& profile = loop_->profile();
  if (profile.cancelled_error_is_saved && cancelled_exc_) return std::exchange(cancelled_exc_, nullptr);
  CancelledError exc(cancel_message_);
  // The C accelerator of 3.9/3.10 chains the saved error and keeps it (_PyErr_ChainStackItem).
  if (profile.cancelled_error_chains_saved) exc.set_context(cancelled_exc_);
  return std::make_exception_ptr(std::move(exc));
}

void FutureBase::throw_unless_result() const {
  if (state_ == State::cancelled) std::rethrow_exception(make_cancelled_error());
  if (state_ != State::finished) throw InvalidStateError("Result is not set.");
  log_traceback_ = false;
  if (exception_) std::rethrow_exception(exception_);
}

std::exception_ptr FutureBase::result_exception() const {
  if (state_ == State::cancelled) return make_cancelled_error();
  if (state_ != State::finished) return std::make_exception_ptr(InvalidStateError("Result is not set."));
  log_traceback_ = false;
  return exception_;
}

std::exception_ptr FutureBase::exception() const {
  if (state_ == State::cancelled) std::rethrow_exception(make_cancelled_error());
  if (state_ != State::finished) throw InvalidStateError("Exception is not set.");
  log_traceback_ = false;
  return exception_;
}

void FutureBase::set_exception(std::exception_ptr exception) {
  if (state_ != State::pending) throw InvalidStateError("invalid state");
  const BaseException* base = as_base_exception(exception);
  if (base != nullptr && base->python_type() == "StopIteration") {  // Profile::future_wraps_stop_iteration
    const char* text = "StopIteration interacts badly with generators and cannot be raised into a Future";
    if (!loop_->profile().future_wraps_stop_iteration) throw TypeError(text);
    RuntimeError wrapper(text);
    wrapper.set_cause(exception);
    wrapper.set_context(exception);
    exception = std::make_exception_ptr(std::move(wrapper));
  }
  exception_ = std::move(exception);
  state_ = State::finished;
  schedule_callbacks();
  log_traceback_ = true;
}

void FutureBase::finish_with_result() {
  state_ = State::finished;
  schedule_callbacks();
}

DoneCallbackId FutureBase::add_done_callback(DoneCallback callback) {
  const DoneCallbackId id = next_id_++;
  if (done()) {
    call_soon_with_self(std::move(callback));
  } else {
    callbacks_.emplace_back(id, std::move(callback));
  }
  return id;
}

std::size_t FutureBase::remove_done_callback(DoneCallbackId id) {
  return std::erase_if(callbacks_, [id](const auto& entry) { return entry.first == id; });
}

std::size_t FutureBase::remove_done_callbacks_named(std::string_view name) {
  return std::erase_if(callbacks_, [name](const auto& entry) { return entry.second.name == name; });
}

std::vector<FutureBase::DoneCallback> FutureBase::take_callbacks() {
  std::vector<DoneCallback> out;
  for (auto& entry : callbacks_) out.push_back(std::move(entry.second));
  callbacks_.clear();
  return out;
}

void FutureBase::schedule_callbacks() {
  for (auto& callback : take_callbacks()) call_soon_with_self(std::move(callback));
}

void FutureBase::call_soon_with_self(DoneCallback callback) {
  // call_soon(callback, self): the handle shows the future as the callback's argument.
  Callback handle_callback;
  handle_callback.name = callback.name;
  handle_callback.task = callback.task;
  handle_callback.future_arg = this;
  if (auto self = weak_from_this().lock()) {
    static_cast<detail::SmallFunction&>(handle_callback) = [self, cb = std::move(callback)] { cb(*self); };
  } else {
    static_cast<detail::SmallFunction&>(handle_callback) = [this, cb = std::move(callback)] { cb(*this); };
  }
  loop_->call_soon(std::move(handle_callback));
}

void FutureBase::release_references() {
  auto dropped = std::move(callbacks_);
  callbacks_.clear();
}

}  // namespace aiospec::ref

namespace aiospec::ref {

// gc.collect() over this loop's futures, by trial deletion as CPython's collector does: an
// object's references from other futures (the edges below) are subtracted from its owner count;
// what is left is held from outside (the ready queue and the timer heap, a caller's shared_ptr,
// a coroutine frame) and is a root. Whatever the roots do not reach through the edges is garbage:
// it is finalized first (Task.__del__ / Future.__del__ reports, in creation order), then its
// references are cleared, which frees it. The edges the loop knows:
//   - a future's done callback that wakes a task holds that task (Task.task_wakeup);
//   - a task holds the future it waits for (_fut_waiter).
// A coroutine frame's own references are not known: unless `held_inside` counts them, a future
// held by a frame counts as held from outside, and such cycles stay alive (reference/README.md,
// "Ownership").
std::size_t EventLoop::collect_garbage(const std::function<long(const FutureBase&)>& held_inside) {
  struct Node {
    FutureBase* future;
    long refs;
    bool reachable = false;
  };
  std::map<const FutureBase*, Node> nodes;
  for (FutureBase* f : futures_) {
    const long owners = f->weak_from_this().use_count();
    if (owners > 0) nodes.emplace(f, Node{f, owners - (held_inside ? held_inside(*f) : 0)});
  }
  const auto edges = [&](const FutureBase& from) {
    std::vector<const FutureBase*> out;
    for (const auto& [id, cb] : from.callbacks_) {
      if (cb.task != nullptr) out.push_back(&cb.task->as_future());
    }
    if (const auto* task = dynamic_cast<const TaskBase*>(&from); task != nullptr && task->fut_waiter_) {
      out.push_back(task->fut_waiter_.get());
    }
    return out;
  };
  for (auto& [key, node] : nodes) {
    for (const FutureBase* to : edges(*node.future)) {
      if (auto it = nodes.find(to); it != nodes.end()) --it->second.refs;
    }
  }
  std::vector<const FutureBase*> todo;
  for (auto& [key, node] : nodes) {
    if (node.refs > 0) {
      node.reachable = true;
      todo.push_back(key);
    }
  }
  while (!todo.empty()) {
    const FutureBase* f = todo.back();
    todo.pop_back();
    for (const FutureBase* to : edges(*f)) {
      auto it = nodes.find(to);
      if (it != nodes.end() && !it->second.reachable) {
        it->second.reachable = true;
        todo.push_back(to);
      }
    }
  }
  std::vector<std::shared_ptr<FutureBase>> garbage;
  for (auto& [key, node] : nodes) {
    if (!node.reachable) garbage.push_back(node.future->shared_from_this());
  }
  std::sort(garbage.begin(), garbage.end(), [](const auto& a, const auto& b) { return a->serial_ < b->serial_; });
  for (auto& f : garbage) {  // finalizers first, everything still alive (PEP 442)
    if (auto* task = dynamic_cast<TaskBase*>(f.get())) {
      task->report_destroyed();
      task->log_destroy_pending = false;
    } else {
      f->report_never_retrieved();
    }
  }
  for (auto& f : garbage) f->release_references();  // tp_clear: the cycles open
  const std::size_t freed = garbage.size();
  garbage.clear();
  return freed;
}

}  // namespace aiospec::ref
