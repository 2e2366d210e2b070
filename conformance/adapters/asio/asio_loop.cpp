// The loop: call_soon is asio::post, timers are Asio timers, readers and writers are
// stream_descriptor::async_wait, stop is io_context::stop.
#include "asio_loop.hpp"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>

#include "asio_future.hpp"
#include "virtual_clock.hpp"

namespace aiospec::asio_adapter {

using conformance::Callback;
using conformance::Handle;
using conformance::LoopError;
using conformance::Value;

namespace {

thread_local AsioLoop* running_loop = nullptr;  // asyncio's _running_loop, per thread

class CallHandle final : public Handle {
 public:
  explicit CallHandle(std::shared_ptr<CallState> state) : state_(std::move(state)) {}
  void cancel() override { state_->cancelled = true; }
  double when() const override { throw LoopError("AttributeError", "'Handle' object has no attribute 'when'"); }

 private:
  std::shared_ptr<CallState> state_;
};

class TimerHandle final : public Handle {
 public:
  TimerHandle(std::shared_ptr<TimerState> state, std::shared_ptr<LoopLink> link)
      : state_(std::move(state)), link_(std::move(link)) {}
  void cancel() override {
    std::lock_guard lock(link_->mutex);
    state_->cancelled = true;
    if (link_->loop != nullptr) link_->loop->cancel_timer(state_);
  }
  double when() const override { return state_->when; }

 private:
  std::shared_ptr<TimerState> state_;
  std::shared_ptr<LoopLink> link_;
};

template <class Timer>
struct AsioTimer final : TimerBase {
  AsioTimer(asio::io_context& io, typename Timer::time_point at) : timer(io, at) {}
  Timer timer;  // destroying it cancels its wait
};
using VirtualTimer = AsioTimer<asio::basic_waitable_timer<VirtualClock>>;
using SteadyTimer = AsioTimer<asio::steady_timer>;

asio::steady_timer::time_point steady_deadline(double when) {
  return asio::steady_timer::time_point(std::chrono::nanoseconds(to_ticks(when)));
}

// A scope in which `loop` is the running loop of this thread; it leaves the io_context ready for
// the next run (restart() after a stop, as Asio asks) however the run ended.
class RunningScope {
 public:
  RunningScope(AsioLoop& loop, std::atomic<bool>& running, asio::io_context& io) : running_(running), io_(io) {
    running_loop = &loop;
    running_ = true;
  }
  ~RunningScope() {
    running_ = false;
    running_loop = nullptr;
    io_.restart();  // asyncio's finally: self._stopping = False
  }
  RunningScope(const RunningScope&) = delete;
  RunningScope& operator=(const RunningScope&) = delete;

 private:
  std::atomic<bool>& running_;
  asio::io_context& io_;
};

}  // namespace

AsioLoop::AsioLoop(conformance::VirtualTime& time, TimeMode mode)
    : time_(time), mode_(mode), link_(std::make_shared<LoopLink>()) {
  link_->loop = this;
  work_.emplace(io_.get_executor());
}

AsioLoop::~AsioLoop() {
  {
    std::lock_guard lock(link_->mutex);
    link_->loop = nullptr;
  }
  for (auto& [fd, w] : watches_) release(*w);  // the suite owns the descriptors: never close them
  watches_.clear();
  timers_.clear();
}

AsioLoop* AsioLoop::running_in_this_thread() { return running_loop; }

void AsioLoop::check_closed() const {
  if (closed_) throw LoopError("RuntimeError", "Event loop is closed");
}

// The clock the loop's timers compare with, in seconds: VirtualClock (VirtualTime::now() in whole
// ns) or steady_clock, so that call_later(d) is `d` after what time() said.
double AsioLoop::time() {
  if (mode_ == TimeMode::virtual_time) {
    return static_cast<double>(VirtualClock::now().time_since_epoch().count()) / 1e9;
  }
  const auto since = asio::steady_timer::clock_type::now().time_since_epoch();
  return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(since).count()) / 1e9;
}

// ---- callbacks ------------------------------------------------------------------------------

void AsioLoop::invoke(Callback& callback) {
  try {
    callback();
  } catch (const LoopError& error) {
    report(callback, error);
  }
}

// asyncio's default exception handler: logged, and the loop goes on.
void AsioLoop::report(const Callback& callback, const LoopError& error) {
  std::cerr << "Exception in callback " << callback.name << "()\nhandle: <Handle " << callback.name << "()>\n"
            << error.type() << ": " << error.what() << std::endl;
}

void AsioLoop::post(std::shared_ptr<CallState> state, Callback callback) {
  ++ready_;
  asio::post(io_, [this, state = std::move(state), callback = std::move(callback)]() mutable {
    --ready_;
    if (state->cancelled) return;
    invoke(callback);
  });
}

std::shared_ptr<Handle> AsioLoop::call_soon(Callback callback) {
  check_closed();
  auto state = std::make_shared<CallState>();
  post(state, std::move(callback));
  return std::make_shared<CallHandle>(std::move(state));
}

// asio::post is thread-safe and wakes the reactor: nothing more to do.
std::shared_ptr<Handle> AsioLoop::call_soon_threadsafe(Callback callback) { return call_soon(std::move(callback)); }

std::shared_ptr<Handle> AsioLoop::call_later(double delay, Callback callback) {
  return call_at(time() + delay, std::move(callback));
}

std::shared_ptr<Handle> AsioLoop::call_at(double when, Callback callback) {
  check_closed();
  auto state = std::make_shared<TimerState>();
  state->when = when;
  auto handler = [this, state, callback = std::move(callback)](const asio::error_code& ec) mutable {
    if (!ec) on_timer(state, callback);
  };
  if (mode_ == TimeMode::virtual_time) {
    auto timer = std::make_unique<VirtualTimer>(io_, VirtualClock::time_point(VirtualClock::duration(to_ticks(when))));
    timer->timer.async_wait(std::move(handler));
    timers_[state.get()] = std::move(timer);
  } else {
    auto timer = std::make_unique<SteadyTimer>(io_, steady_deadline(when));
    timer->timer.async_wait(std::move(handler));
    timers_[state.get()] = std::move(timer);
  }
  {
    std::lock_guard lock(deadlines_mutex_);
    deadlines_.insert(when);
  }
  return std::make_shared<TimerHandle>(std::move(state), link_);
}

void AsioLoop::on_timer(const std::shared_ptr<TimerState>& state, Callback& callback) {
  if (state->cancelled || state->finished) return;  // cancelled after it expired, before it ran
  forget_deadline(*state);
  timers_.erase(state.get());  // the handler was moved out of the timer: it may go
  invoke(callback);
}

void AsioLoop::cancel_timer(const std::shared_ptr<TimerState>& state) {
  if (state->finished) return;
  forget_deadline(*state);
  timers_.erase(state.get());  // cancels the wait: the handler sees operation_aborted
}

void AsioLoop::forget_deadline(TimerState& state) {
  if (state.finished) return;
  state.finished = true;
  std::lock_guard lock(deadlines_mutex_);
  const auto it = deadlines_.find(state.when);
  if (it != deadlines_.end()) deadlines_.erase(it);
}

// ---- running and stopping -------------------------------------------------------------------

void AsioLoop::run_forever() {
  check_closed();
  if (running_) throw LoopError("RuntimeError", "This event loop is already running");
  if (running_loop != nullptr) throw LoopError("RuntimeError", "Cannot run the event loop while another loop is running");
  RunningScope scope(*this, running_, io_);
  try {
    if (mode_ == TimeMode::virtual_time) {
      run_virtual();
    } else {
      io_.run();  // until stop(); the work guard keeps it from running out of work
    }
  } catch (const Escape& escape) {
    throw escape.error;  // KeyboardInterrupt, SystemExit: out of run_forever, as the LoopError
  }
}

// Asio's select reactor never waits longer than 5 minutes (select_reactor::get_timeout: "any
// changes to the system clock are detected after no longer than this"), with or without timers:
// an idle Asio loop wakes every 5 minutes, it never blocks for good.
constexpr double kMaxWait = 300.0;

std::optional<double> AsioLoop::poll_timeout(std::optional<double>& deadline) {
  const double now = time_.now();
  std::lock_guard lock(deadlines_mutex_);
  const bool head_first = !deadlines_.empty() && !(*deadlines_.begin() - now > kMaxWait);
  deadline = head_first ? *deadlines_.begin() : now + kMaxWait;  // exactly the head's `when`
  if (ready_ > 0) return 0.0;
  return head_first ? std::max(0.0, *deadline - now) : kMaxWait;
}

// The rule of virtual_time.hpp around io_context::poll(), which runs every handler that is
// ready (those posted while it runs included) and lets the reactor check descriptors and the
// VirtualClock timers without blocking. Where run() would block in select, time passes instead,
// as long as select would have waited.
void AsioLoop::run_virtual() {
  for (;;) {
    if (io_.stopped()) return;
    std::optional<double> deadline;  // fixed once per wait
    const std::optional<double> timeout = poll_timeout(deadline);
    time_.before_poll(timeout);
    std::size_t ran = io_.poll();
    if (io_.stopped()) return;
    if (ran != 0 || *timeout == 0) continue;
    for (;;) {
      const bool reached = time_.let_time_pass(deadline);
      ran = io_.poll();
      if (io_.stopped()) return;
      if (reached || ran != 0) break;
    }
  }
}

void AsioLoop::stop() { io_.stop(); }

conformance::Value AsioLoop::run_until_complete(const std::shared_ptr<conformance::Future>& future) {
  check_closed();
  if (running_) throw LoopError("RuntimeError", "This event loop is already running");
  if (running_loop != nullptr) throw LoopError("RuntimeError", "Cannot run the event loop while another loop is running");
  auto f = std::dynamic_pointer_cast<AsioFuture>(future);
  if (!f) throw conformance::Fault{"run_until_complete: a future that is not the Asio adapter's"};
  if (!f->belongs_to(*this)) {
    throw LoopError("ValueError", "The future belongs to a different loop than the one specified as the loop argument");
  }
  // _run_until_complete_cb: stop the loop, unless a KeyboardInterrupt or SystemExit is on its way.
  // It holds the future, as asyncio's handle does: scheduled at once (a done future), it may
  // run in a later run_forever, after this call has returned.
  const auto id = f->add_callback(Callback(
      [this, f] {
        if (!f->cancelled() && f->stored_exception()) {
          const std::string& type = f->stored_exception()->type();
          if (type == "KeyboardInterrupt" || type == "SystemExit") return;
        }
        stop();
      },
      "_run_until_complete_cb"));
  try {
    run_forever();
  } catch (...) {
    f->remove_callback(id);
    throw;
  }
  f->remove_callback(id);
  if (!f->done()) throw LoopError("RuntimeError", "Event loop stopped before Future completed.");
  return f->result();
}

void AsioLoop::close() {
  if (running_) throw LoopError("RuntimeError", "Cannot close a running event loop");
  if (closed_) return;
  closed_ = true;
  // asyncio drops what is scheduled; here nothing runs again: no run_forever on a closed loop.
  for (auto& [fd, w] : watches_) release(*w);
  watches_.clear();
  timers_.clear();
  {
    std::lock_guard lock(deadlines_mutex_);
    deadlines_.clear();
  }
  work_.reset();
}

std::shared_ptr<conformance::Future> AsioLoop::create_future() { return std::make_shared<AsioFuture>(link_); }

// ---- readers and writers ----------------------------------------------------------------------
// asyncio's readers and writers are level-triggered and stay until removed; an async_wait is
// one-shot, so each is armed again after it completes.

void AsioLoop::watch(int fd, int direction, Callback callback) {
  check_closed();
  auto& w = watches_[fd];
  if (!w) {
    auto made = std::make_shared<Watch>(io_);
    try {
      made->descriptor.assign(fd);
    } catch (const std::system_error& e) {
      watches_.erase(fd);
      throw conformance::os_error(e.code().value());
    }
    w = std::move(made);
  }
  w->directions[direction].callback = std::move(callback);  // replaces the one before
  arm(w, direction);
}

void AsioLoop::arm(const std::shared_ptr<Watch>& w, int direction) {
  auto& d = w->directions[direction];
  if (d.armed || !d.callback) return;
  d.armed = true;
  const auto type = direction == 0 ? asio::posix::stream_descriptor::wait_read : asio::posix::stream_descriptor::wait_write;
  w->descriptor.async_wait(type, asio::bind_cancellation_slot(d.cancel.slot(), [this, weak = std::weak_ptr<Watch>(w), direction](
                                                                                   const asio::error_code& ec) {
                             on_ready(weak, direction, ec);
                           }));
}

void AsioLoop::on_ready(const std::weak_ptr<Watch>& weak, int direction, const asio::error_code& ec) {
  const auto w = weak.lock();
  if (!w) return;  // removed (released) since
  auto& d = w->directions[direction];
  d.armed = false;
  if (ec || !d.callback) return;
  Callback callback = *d.callback;  // the callback may remove or replace itself
  arm(w, direction);                // armed before it runs: it stays if the callback throws
  invoke(callback);
}

bool AsioLoop::unwatch(int fd, int direction) {
  if (closed_) return false;
  const auto it = watches_.find(fd);
  if (it == watches_.end() || !it->second->directions[direction].callback) return false;
  auto& w = *it->second;
  auto& d = w.directions[direction];
  d.callback.reset();
  if (d.armed) d.cancel.emit(asio::cancellation_type::all);
  if (!w.directions[0].callback && !w.directions[1].callback) {
    release(w);
    watches_.erase(it);
  }
  return true;
}

// Lets go of the descriptor without closing it (stream_descriptor's destructor would close it).
void AsioLoop::release(Watch& w) {
  if (w.descriptor.is_open()) w.descriptor.release();
}

}  // namespace aiospec::asio_adapter
