#include "asio_future.hpp"

namespace aiospec::asio_adapter {

using conformance::Callback;
using conformance::LoopError;
using conformance::Value;

namespace {
LoopError invalid_state(const std::string& message) { return LoopError("InvalidStateError", message); }
}  // namespace

AsioLoop& AsioFuture::loop() const {
  std::lock_guard lock(link_->mutex);
  if (link_->loop == nullptr) throw LoopError("RuntimeError", "Event loop is closed");
  return *link_->loop;
}

bool AsioFuture::belongs_to(const AsioLoop& loop) const {
  std::lock_guard lock(link_->mutex);
  return link_->loop == &loop;
}

// _make_cancelled_error: CancelledError(msg), or CancelledError() without a message.
LoopError AsioFuture::cancelled_error() const {
  return LoopError::with_args("CancelledError", cancel_message_ ? Value::array({*cancel_message_}) : Value::array());
}

void AsioFuture::set_result(const Value& value) {
  if (state_ != State::pending) throw invalid_state("invalid state");  // the C Future's text
  result_ = value;
  state_ = State::finished;
  schedule_callbacks();
}

void AsioFuture::set_exception(const LoopError& error) {
  if (state_ != State::pending) throw invalid_state("invalid state");
  // StopIteration would end a coroutine awaiting the future as if it returned (3.8-3.12 refuse).
  if (error.type() == "StopIteration") {
    throw LoopError("TypeError", "StopIteration interacts badly with generators and cannot be raised into a Future");
  }
  exception_ = error;
  // One Python object: every result() and exception() raises this very exception.
  if (!exception_->native()) exception_->set_native(std::make_exception_ptr(error));
  state_ = State::finished;
  schedule_callbacks();
}

Value AsioFuture::result() const {
  if (state_ == State::cancelled) throw cancelled_error();
  if (state_ != State::finished) throw invalid_state("Result is not set.");
  if (exception_) throw *exception_;
  return result_;
}

std::optional<LoopError> AsioFuture::exception() const {
  if (state_ == State::cancelled) throw cancelled_error();
  if (state_ != State::finished) throw invalid_state("Exception is not set.");
  return exception_;
}

bool AsioFuture::cancel(const std::optional<std::string>& message) {
  if (state_ != State::pending) return false;
  state_ = State::cancelled;
  cancel_message_ = message;
  schedule_callbacks();
  return true;
}

void AsioFuture::add_done_callback(Callback callback) { add_callback(std::move(callback)); }

std::uint64_t AsioFuture::add_callback(Callback callback) {
  if (done()) {
    loop().call_soon(std::move(callback));  // a done future schedules at once
    return 0;
  }
  callbacks_.emplace_back(next_id_, std::move(callback));
  return next_id_++;
}

void AsioFuture::remove_callback(std::uint64_t id) {
  std::erase_if(callbacks_, [id](const auto& entry) { return entry.first == id; });
}

// __schedule_callbacks: one call_soon each, in the order they were added.
void AsioFuture::schedule_callbacks() {
  auto callbacks = std::move(callbacks_);
  callbacks_.clear();
  for (auto& [id, callback] : callbacks) loop().call_soon(std::move(callback));
}

}  // namespace aiospec::asio_adapter
