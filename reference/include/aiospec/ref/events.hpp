// asyncio/events.py: Handle, TimerHandle and the per-thread running loop.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <string>

namespace aiospec::ref {

class EventLoop;
class Handle;
class TaskBase;

using Callback = std::function<void()>;

// The context dict passed to call_exception_handler. Only the keys the reference loop produces.
struct ExceptionContext {
  std::string message;
  std::exception_ptr exception;    // may be null
  const Handle* handle = nullptr;  // the handle whose callback raised, valid during the call
  const TaskBase* task = nullptr;  // 'task': asyncio.run's teardown, TaskGroup (valid during the call)
};

// events.Handle: a callback queued in the loop's ready queue.
class Handle {
 public:
  Handle(Callback cb, EventLoop* loop);
  virtual ~Handle() = default;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  // Idempotent. Drops the callback at once (like Python) so whatever it captured is released
  // even though the handle stays queued until the loop reaches it.
  virtual void cancel();
  bool cancelled() const { return cancelled_; }

  // Runs the callback. An exception derived from std::exception goes to the loop's exception
  // handler and the batch goes on; SystemExit, KeyboardInterrupt and anything not derived from
  // std::exception (a harness's WouldBlockForever, say) propagate out of run_forever (Handle._run).
  void run();

 protected:
  EventLoop* loop_;

 private:
  // Shared so that run() keeps the callback alive while it runs, even if the callback cancels
  // its own handle (a reader calling remove_reader on itself).
  std::shared_ptr<const Callback> callback_;
  bool cancelled_ = false;
};

// events.TimerHandle: a Handle with a deadline, ordered in the timer heap by `when` alone.
class TimerHandle final : public Handle {
 public:
  TimerHandle(double when, Callback cb, EventLoop* loop);
  double when() const { return when_; }
  // Tells the loop first (while still in the heap this bumps its cancelled-timer count).
  void cancel() override;

  bool scheduled = false;  // still in the loop's heap (Python's _scheduled)

 private:
  double when_;
};

using HandlePtr = std::shared_ptr<Handle>;
using TimerHandlePtr = std::shared_ptr<TimerHandle>;

// TimerHandle.__lt__: only `when`, so equal deadlines are ties and heapq decides their order.
struct TimerHandleLess {
  bool operator()(const TimerHandlePtr& a, const TimerHandlePtr& b) const {
    return a->when() < b->when();
  }
};

// events.get_running_loop(): throws RuntimeError("no running event loop").
EventLoop* get_running_loop();
// events._get_running_loop(): nullptr when no loop runs in this thread.
EventLoop* running_loop_or_null();
// events._set_running_loop(): run_forever's business.
void set_running_loop(EventLoop* loop);

}  // namespace aiospec::ref
