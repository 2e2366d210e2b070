// asyncio/futures.py (the C _asyncio.Future's messages): a result that arrives later, whose
// done callbacks are always scheduled with call_soon, never called synchronously.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "aiospec/ref/base_events.hpp"
#include "aiospec/ref/exceptions.hpp"

namespace aiospec::ref {

// Python removes done callbacks by equality; std::function has none, so add_done_callback
// hands out an id to remove by.
using DoneCallbackId = std::uint64_t;

template <class T>
class Future : public std::enable_shared_from_this<Future<T>> {
 public:
  using DoneCallback = std::function<void(Future&)>;

  explicit Future(EventLoop& loop) : loop_(&loop) {}
  Future(const Future&) = delete;
  Future& operator=(const Future&) = delete;

  bool done() const { return state_ != State::pending; }
  bool cancelled() const { return state_ == State::cancelled; }
  EventLoop& get_loop() const { return *loop_; }

  // CancelledError when cancelled, InvalidStateError when pending, the exception when one was set.
  const T& result() const {
    if (state_ == State::cancelled) throw CancelledError();
    if (state_ != State::finished) throw InvalidStateError("Result is not set.");
    if (exception_) std::rethrow_exception(exception_);
    return *result_;
  }
  // nullptr when finished with a result.
  std::exception_ptr exception() const {
    if (state_ == State::cancelled) throw CancelledError();
    if (state_ != State::finished) throw InvalidStateError("Exception is not set.");
    return exception_;
  }

  void set_result(T value) {
    if (state_ != State::pending) throw InvalidStateError("invalid state");
    result_ = std::move(value);
    state_ = State::finished;
    schedule_callbacks();
  }
  void set_exception(std::exception_ptr exception) {
    if (state_ != State::pending) throw InvalidStateError("invalid state");
    exception_ = std::move(exception);
    state_ = State::finished;
    schedule_callbacks();
  }
  // False when already done.
  bool cancel() {
    if (state_ != State::pending) return false;
    state_ = State::cancelled;
    schedule_callbacks();
    return true;
  }

  // On a done future the callback is scheduled at once (and its id removes nothing).
  DoneCallbackId add_done_callback(DoneCallback callback) {
    const DoneCallbackId id = next_id_++;
    if (done()) {
      call_soon_with_self(std::move(callback));
    } else {
      callbacks_.emplace_back(id, std::move(callback));
    }
    return id;
  }
  // The number of callbacks removed: 0 or 1.
  std::size_t remove_done_callback(DoneCallbackId id) {
    return std::erase_if(callbacks_, [id](const auto& entry) { return entry.first == id; });
  }

 private:
  enum class State { pending, cancelled, finished };

  // __schedule_callbacks: one call_soon per callback, in registration order.
  void schedule_callbacks() {
    auto callbacks = std::move(callbacks_);
    callbacks_.clear();
    for (auto& entry : callbacks) call_soon_with_self(std::move(entry.second));
  }
  // The handle keeps the future alive until the callback ran, as in Python. A future that is
  // not owned by a shared_ptr must outlive its callbacks.
  void call_soon_with_self(DoneCallback callback) {
    if (auto self = this->weak_from_this().lock()) {
      loop_->call_soon([self, cb = std::move(callback)] { cb(*self); });
    } else {
      loop_->call_soon([this, cb = std::move(callback)] { cb(*this); });
    }
  }

  EventLoop* loop_;
  State state_ = State::pending;
  std::optional<T> result_;
  std::exception_ptr exception_;
  std::vector<std::pair<DoneCallbackId, DoneCallback>> callbacks_;
  DoneCallbackId next_id_ = 1;
};

template <class T>
std::shared_ptr<Future<T>> EventLoop::create_future() {
  return std::make_shared<Future<T>>(*this);
}

template <class T>
T EventLoop::run_until_complete(std::shared_ptr<Future<T>> future) {
  check_closed();
  check_running();
  if (&future->get_loop() != this) {
    throw ValueError(
        "The future belongs to a different loop than the one specified as the loop argument");
  }
  // _run_until_complete_cb: stop the future's loop when it is done, unless it finished with
  // SystemExit/KeyboardInterrupt, which have already left run_forever on their own.
  const auto id = future->add_done_callback([](Future<T>& f) {
    if (!f.cancelled()) {
      if (const auto exc = f.exception()) {
        try {
          std::rethrow_exception(exc);
        } catch (const SystemExit&) {
          return;
        } catch (const KeyboardInterrupt&) {
          return;
        } catch (...) {
        }
      }
    }
    f.get_loop().stop();
  });
  // Removed however run_forever ends, exceptions included.
  struct RemoveCallback {
    Future<T>& f;
    DoneCallbackId id;
    ~RemoveCallback() { f.remove_done_callback(id); }
  } remove{*future, id};
  run_forever();
  if (!future->done()) throw RuntimeError("Event loop stopped before Future completed.");
  return future->result();
}

}  // namespace aiospec::ref
