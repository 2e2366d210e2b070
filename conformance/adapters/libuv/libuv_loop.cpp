// UvLoop: the ready FIFO, timers, run/stop/close. I/O watches are in libuv_io.cpp, the C
// trampolines' error policy in libuv_adapter.cpp.
#include <cmath>
#include <utility>

#include "libuv_adapter.hpp"

namespace aiospec::libuv {

namespace {

thread_local UvLoop* running_loop = nullptr;

// uvloop's cap: ~100 years stands for infinity (and keeps uv_now() + timeout in 64 bits).
constexpr double kMaxSleepSeconds = 3600.0 * 24 * 365 * 100;

// A delay in whole milliseconds, as uvloop computes it: negative is 0, huge or infinite is the
// cap, the rest round(delay * 1000) (Python's round: half to even, which nearbyint gives in the
// default rounding mode). NaN has no integer: Python's own error for int(nan).
std::uint64_t delay_ms(double delay) {
  if (std::isnan(delay)) throw LoopError("ValueError", "cannot convert float NaN to integer");
  if (delay <= 0) return 0;
  if (delay > kMaxSleepSeconds) delay = kMaxSleepSeconds;
  return static_cast<std::uint64_t>(std::nearbyint(delay * 1000.0));
}

void delete_timer(uv_handle_t* handle) { delete reinterpret_cast<uv_timer_t*>(handle); }

}  // namespace

double ReadyHandle::when() const { throw LoopError("AttributeError", "'Handle' object has no attribute 'when'"); }

void TimerHandle::cancel() {
  if (cancelled_) return;
  cancelled_ = true;
  if (timer_ == nullptr || loop_ == nullptr) return;  // fired, or its loop closed
  auto self = shared_from_this();                     // the loop's set may hold the last reference
  loop_->release_timer(*this);
  loop_->timers_.erase(self);
  std::erase(loop_->deferred_, self);
}

UvLoop::UvLoop(int cpython_minor) : cpython_minor_(cpython_minor), owner_(std::this_thread::get_id()) {
  if (int err = uv_loop_init(&uv_)) throw conformance::os_error(-err);
  uv_.data = this;
  uv_idle_init(&uv_, &idle_);
  idle_.data = this;
  // The async handle is also what keeps uv_run going when nothing else is active: asyncio's
  // run_forever waits for ever on an idle loop (in interposed time: until the suite says Blocked).
  uv_async_init(&uv_, &async_, &UvLoop::on_async);
  async_.data = this;
}

UvLoop::~UvLoop() {
  release_handles();
  // The close callbacks run in libuv's closing phase; one more (zero-timeout) run delivers them.
  uv_run(&uv_, UV_RUN_DEFAULT);
  uv_loop_close(&uv_);
}

UvLoop* UvLoop::running_in_this_thread() { return running_loop; }

void UvLoop::check_closed() const {
  if (closed_) throw LoopError("RuntimeError", "Event loop is closed");
}

bool UvLoop::on_loop_thread() const { return std::this_thread::get_id() == owner_.load(); }

// ---- the ready FIFO ---------------------------------------------------------------------------

void UvLoop::push_ready(std::shared_ptr<ReadyHandle> handle, bool threadsafe) {
  {
    std::lock_guard lock(ready_mutex_);
    ready_.push_back(std::move(handle));
  }
  const bool here = on_loop_thread();
  if (here) uv_idle_start(&idle_, &UvLoop::on_idle);  // an active idle handle makes the poll not block
  // Another thread may not touch the idle handle: the async handle starts it on the loop's thread.
  if (threadsafe || !here) uv_async_send(&async_);
}

std::shared_ptr<conformance::Handle> UvLoop::call_soon(Callback callback) {
  check_closed();
  auto handle = std::make_shared<ReadyHandle>(std::move(callback));
  push_ready(handle, false);
  return handle;
}

std::shared_ptr<conformance::Handle> UvLoop::call_soon_threadsafe(Callback callback) {
  check_closed();
  auto handle = std::make_shared<ReadyHandle>(std::move(callback));
  push_ready(handle, true);
  return handle;
}

void UvLoop::on_async(uv_async_t* async) {
  auto& loop = *static_cast<UvLoop*>(async->data);
  bool wanted = loop.stopping_;
  {
    std::lock_guard lock(loop.ready_mutex_);
    wanted |= !loop.ready_.empty();
  }
  if (wanted) uv_idle_start(&loop.idle_, &UvLoop::on_idle);
}

void UvLoop::on_idle(uv_idle_t* idle) { static_cast<UvLoop*>(idle->data)->run_batch(); }

// One batch: the callbacks queued when it starts; what they queue waits for the next iteration
// (asyncio's ntodo). A stop() made before the run (or from another thread) ends it here.
void UvLoop::run_batch() noexcept {
  std::size_t todo = 0;
  {
    std::lock_guard lock(ready_mutex_);
    todo = ready_.size();
  }
  for (std::size_t i = 0; i < todo && !escaping(); ++i) {
    std::shared_ptr<ReadyHandle> handle;
    {
      std::lock_guard lock(ready_mutex_);
      if (ready_.empty()) break;
      handle = std::move(ready_.front());
      ready_.pop_front();
    }
    if (!handle->cancelled()) invoke(handle->callback());
  }
  bool empty = false;
  {
    std::lock_guard lock(ready_mutex_);
    empty = ready_.empty();
  }
  if (empty) uv_idle_stop(&idle_);
  if (stopping_) uv_stop(&uv_);
}

// ---- timers -------------------------------------------------------------------------------------

std::shared_ptr<conformance::Handle> UvLoop::call_later(double delay, Callback callback) {
  check_closed();
  const std::uint64_t ms = delay_ms(delay);
  // libuv's timers count from the cached uv_now(); asyncio's from a fresh clock, so refresh it.
  uv_update_time(&uv_);
  const double when = static_cast<double>(uv_now(&uv_) + ms) / 1000.0;
  auto handle = std::make_shared<TimerHandle>(*this, std::move(callback), when);
  auto* timer = new uv_timer_t;
  uv_timer_init(&uv_, timer);
  timer->data = handle.get();
  handle->timer_ = timer;
  uv_timer_start(timer, &UvLoop::on_timer, ms, 0);
  timers_.insert(handle);
  return handle;
}

std::shared_ptr<conformance::Handle> UvLoop::call_at(double when, Callback callback) {
  check_closed();
  return call_later(when - time(), std::move(callback));  // libuv has relative timers only
}

void UvLoop::on_timer(uv_timer_t* timer) {
  auto* raw = static_cast<TimerHandle*>(timer->data);
  UvLoop& loop = *raw->loop_;
  auto handle = raw->shared_from_this();
  if (loop.escaping()) {
    // An exception is leaving run_forever: this timer runs in the next run instead of now.
    loop.deferred_.push_back(handle);
    return;
  }
  loop.timers_.erase(handle);
  loop.release_timer(*handle);
  loop.invoke(handle->callback_);
}

void UvLoop::release_timer(TimerHandle& timer) noexcept {
  if (timer.timer_ == nullptr) return;
  uv_timer_stop(timer.timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(timer.timer_), &delete_timer);
  timer.timer_ = nullptr;
}

void UvLoop::rearm_deferred_timers() noexcept {
  // Outside uv_run: a zero timeout started inside uv__run_timers would be due in the same pass.
  for (const auto& timer : std::exchange(deferred_, {})) {
    if (timer->timer_ != nullptr) uv_timer_start(timer->timer_, &UvLoop::on_timer, 0, 0);
  }
}

double UvLoop::time() {
  uv_update_time(&uv_);  // uv_now() is cached per iteration; asyncio's time() is not
  return static_cast<double>(uv_now(&uv_)) / 1000.0;
}

// ---- run, stop, close ---------------------------------------------------------------------------

void UvLoop::run_forever() {
  check_closed();
  if (running_) throw LoopError("RuntimeError", "This event loop is already running");
  if (running_loop != nullptr) throw LoopError("RuntimeError", "Cannot run the event loop while another loop is running");
  running_ = true;
  owner_ = std::this_thread::get_id();
  running_loop = this;
  {
    std::lock_guard lock(ready_mutex_);
    if (!ready_.empty() || stopping_) uv_idle_start(&idle_, &UvLoop::on_idle);
  }
  uv_run(&uv_, UV_RUN_DEFAULT);  // returns after uv_stop: the async handle keeps it alive
  running_loop = nullptr;
  running_ = false;
  stopping_ = false;
  rearm_deferred_timers();
  if (escaping_) rethrow_escaped();
}

// Running, on its own thread: uv_stop. libuv ends the iteration it is in (the rest of the batch,
// then a poll that does not block, then the check phase) and uv_run returns. Not running: uv_stop
// would make the next uv_run return before its first iteration, while asyncio runs one, so the
// flag makes the next batch end with uv_stop. From another thread: the same flag, woken through
// the async handle.
void UvLoop::stop() {
  if (closed_) {
    stopping_ = true;
    return;
  }
  if (running_ && on_loop_thread()) {
    uv_stop(&uv_);
    return;
  }
  stopping_ = true;
  if (on_loop_thread()) {
    uv_idle_start(&idle_, &UvLoop::on_idle);  // the batch that ends the run, even if nothing is ready
  } else {
    uv_async_send(&async_);
  }
}

void UvLoop::close() {
  if (running_) throw LoopError("RuntimeError", "Cannot close a running event loop");
  if (closed_) return;
  closed_ = true;
  {
    std::lock_guard lock(ready_mutex_);
    ready_.clear();  // asyncio's close() drops the ready callbacks and the timers
  }
  // The handles are closed now; libuv delivers their close callbacks (and the loop is closed)
  // when this object dies: running uv_run here would poll once more, which asyncio's close()
  // does not do.
  release_handles();
}

void UvLoop::release_handles() noexcept {
  if (handles_released_) return;
  handles_released_ = true;
  for (const auto& timer : timers_) release_timer(*timer);
  for (const auto& timer : timers_) timer->loop_ = nullptr;
  timers_.clear();
  deferred_.clear();
  for (const auto& [fd, watch] : watches_) {
    if (watch->poll != nullptr) {
      uv_close(reinterpret_cast<uv_handle_t*>(watch->poll),
               [](uv_handle_t* poll) { delete reinterpret_cast<uv_poll_t*>(poll); });
      watch->poll = nullptr;
    }
  }
  watches_.clear();
  uv_close(reinterpret_cast<uv_handle_t*>(&idle_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
}

// ---- futures ------------------------------------------------------------------------------------

std::shared_ptr<conformance::Future> UvLoop::create_future() {
  return std::make_shared<UvFuture>(*this, cpython_minor_ >= 13);
}

Value UvLoop::run_until_complete(const std::shared_ptr<conformance::Future>& future) {
  check_closed();
  if (running_) throw LoopError("RuntimeError", "This event loop is already running");
  if (running_loop != nullptr) throw LoopError("RuntimeError", "Cannot run the event loop while another loop is running");
  auto uv_future = std::dynamic_pointer_cast<UvFuture>(future);
  if (!uv_future) throw conformance::Fault{"run_until_complete: a future that is not the libuv adapter's"};
  if (&uv_future->loop() != this) {
    throw LoopError("ValueError", "The future belongs to a different loop than the one specified as the loop argument");
  }
  // asyncio's _run_until_complete_cb: stop when the future is done, unless it finished with
  // SystemExit or KeyboardInterrupt (those leave run_forever by themselves in a task).
  std::weak_ptr<UvFuture> weak = uv_future;
  const std::uint64_t id = uv_future->add_internal_callback(Callback(
      [this, weak] {
        auto f = weak.lock();
        if (!f) return;
        if (!f->cancelled()) {
          const auto exc = f->exception();
          if (exc && (exc->type() == "SystemExit" || exc->type() == "KeyboardInterrupt")) return;
        }
        stop();
      },
      "_run_until_complete_cb"));
  try {
    run_forever();
  } catch (...) {
    uv_future->remove_callback(id);
    throw;
  }
  uv_future->remove_callback(id);
  if (!uv_future->done()) throw LoopError("RuntimeError", "Event loop stopped before Future completed.");
  return uv_future->result();
}

}  // namespace aiospec::libuv
