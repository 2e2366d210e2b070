// asyncio/futures.py: the non-template half of Future.
#include "aiospec/ref/futures.hpp"

#include <utility>

namespace aiospec::ref {

FutureBase::FutureBase(EventLoop& loop) : loop_(&loop) { loop_->futures_.insert(this); }

FutureBase::~FutureBase() {
  if (registered_) loop_->futures_.erase(this);
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
  if (auto self = weak_from_this().lock()) {
    loop_->call_soon([self, cb = std::move(callback)] { cb(*self); });
  } else {
    loop_->call_soon([this, cb = std::move(callback)] { cb(*this); });
  }
}

void FutureBase::release_references() {
  auto dropped = std::move(callbacks_);
  callbacks_.clear();
}

}  // namespace aiospec::ref
