#include "aiospec/ref/events.hpp"

#include <functional>
#include <utility>

#include "aiospec/ref/base_events.hpp"
#include "aiospec/ref/exceptions.hpp"

namespace aiospec::ref {

Handle::Handle(Callback cb, EventLoop* loop)
    : loop_(loop), callback_(std::make_shared<const Callback>(std::move(cb))) {}

void Handle::cancel() {
  if (!cancelled_) {
    cancelled_ = true;
    callback_.reset();
  }
}

void Handle::run() {
  const auto callback = callback_;
  try {
    if (!callback) throw std::bad_function_call();  // Python: calling None, a TypeError
    (*callback)();
  } catch (const SystemExit&) {
    throw;
  } catch (const KeyboardInterrupt&) {
    throw;
  } catch (const std::exception&) {
    // C++ callbacks have no printable source, so the "<qualname>(<args>)" part is generic.
    loop_->call_exception_handler(
        {"Exception in callback <callback>()", std::current_exception(), this});
  }
}

TimerHandle::TimerHandle(double when, Callback cb, EventLoop* loop)
    : Handle(std::move(cb), loop), when_(when) {}

void TimerHandle::cancel() {
  if (!cancelled()) loop_->timer_handle_cancelled(*this);
  Handle::cancel();
}

namespace {
thread_local EventLoop* running_loop = nullptr;
}  // namespace

EventLoop* get_running_loop() {
  if (running_loop == nullptr) throw RuntimeError("no running event loop");
  return running_loop;
}

EventLoop* running_loop_or_null() { return running_loop; }

void set_running_loop(EventLoop* loop) { running_loop = loop; }

}  // namespace aiospec::ref
