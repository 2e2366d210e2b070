// UvFuture: asyncio.Future (C `_asyncio.Future` wording) for a loop that has none. Done callbacks
// go through the loop's call_soon, so a future of a closed loop fails to schedule them with the
// loop's "Event loop is closed", as asyncio's does.
#include <algorithm>
#include <utility>

#include "libuv_adapter.hpp"

namespace aiospec::libuv {

namespace {
LoopError invalid_state(const std::string& message) { return LoopError("InvalidStateError", message); }
}  // namespace

LoopError UvFuture::cancelled_error() const {
  // cancel(msg) (3.9+): CancelledError(msg); cancel(): CancelledError() with no args.
  return LoopError::with_args("CancelledError",
                              cancel_message_ ? Value::array({*cancel_message_}) : Value::array());
}

void UvFuture::set_result(const Value& value) {
  if (done()) throw invalid_state("invalid state");
  result_ = value;
  state_ = State::finished;
  schedule_callbacks();
}

void UvFuture::set_exception(const LoopError& error) {
  if (done()) throw invalid_state("invalid state");
  if (error.type() == "StopIteration") {
    const std::string text = "StopIteration interacts badly with generators and cannot be raised into a Future";
    if (!wraps_stop_iteration_) throw LoopError("TypeError", text);
    // 3.13: `raise RuntimeError(...) from exception` inside set_exception's except block.
    LoopError wrapped("RuntimeError", text);
    const auto given = std::make_shared<const LoopError>(error);
    wrapped.set_cause(given);
    wrapped.set_context(given);
    exception_ = std::move(wrapped);
  } else {
    exception_ = error;
  }
  state_ = State::finished;
  schedule_callbacks();
}

bool UvFuture::cancel(const std::optional<std::string>& message) {
  if (done()) return false;
  cancel_message_ = message;
  state_ = State::cancelled;
  schedule_callbacks();
  return true;
}

Value UvFuture::result() const {
  if (cancelled()) throw cancelled_error();
  if (!done()) throw invalid_state("Result is not set.");
  if (exception_) throw *exception_;
  return result_;
}

std::optional<LoopError> UvFuture::exception() const {
  if (cancelled()) throw cancelled_error();
  if (!done()) throw invalid_state("Exception is not set.");
  return exception_;
}

void UvFuture::add_done_callback(Callback callback) {
  if (done()) {
    loop_.call_soon(std::move(callback));
    return;
  }
  callbacks_.emplace_back(next_id_++, std::move(callback));
}

std::uint64_t UvFuture::add_internal_callback(Callback callback) {
  const std::uint64_t id = next_id_++;
  if (done()) {
    loop_.call_soon(std::move(callback));
  } else {
    callbacks_.emplace_back(id, std::move(callback));
  }
  return id;
}

void UvFuture::remove_callback(std::uint64_t id) {
  std::erase_if(callbacks_, [id](const auto& entry) { return entry.first == id; });
}

// Every callback in the order added; the list is cleared first, as asyncio's is.
void UvFuture::schedule_callbacks() {
  for (auto& [id, callback] : std::exchange(callbacks_, {})) loop_.call_soon(std::move(callback));
}

}  // namespace aiospec::libuv
