// One asyncio-like loop on one asio::io_context (internal to the adapter).
#pragma once

#include <atomic>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>

#include <asio.hpp>

#include "aiospec/conformance/adapter.hpp"
#include "asio_adapter.hpp"

namespace aiospec::asio_adapter {

class AsioLoop;

// What outlives a loop: handles and futures reach their loop through it, and find nullptr once
// the loop is gone (the interpreter may hold them longer than the loop).
struct LoopLink {
  std::mutex mutex;
  AsioLoop* loop = nullptr;
};

// A call_soon callback's state: Handle.cancel() sets the flag, the posted handler reads it.
struct CallState {
  std::atomic<bool> cancelled{false};
};

// A call_later / call_at timer: its Asio timer lives in the loop (timers_), keyed by this.
struct TimerState {
  double when = 0;
  bool cancelled = false;
  bool finished = false;  // ran, or cancelled: its deadline no longer counts
};

// The two kinds of Asio timer a loop may use, behind one interface.
class TimerBase {
 public:
  virtual ~TimerBase() = default;
};

// One watched descriptor: asyncio's reader and writer of one fd share one stream_descriptor
// (the reactor registers a descriptor once).
struct Watch {
  explicit Watch(asio::io_context& io) : descriptor(io) {}
  struct Direction {
    std::optional<conformance::Callback> callback;
    bool armed = false;  // an async_wait is outstanding
    asio::cancellation_signal cancel;
  };
  asio::posix::stream_descriptor descriptor;
  Direction directions[2];  // 0: read, 1: write
};

// Thrown by raise_in_callback for KeyboardInterrupt and SystemExit: not a std::exception, so
// it leaves the callback, the handler and io_context::poll()/run() untouched, as asyncio lets
// BaseException out of run_forever; run_forever rethrows the LoopError inside.
struct Escape {
  conformance::LoopError error;
};

class AsioLoop final : public conformance::Loop {
 public:
  AsioLoop(conformance::VirtualTime& time, TimeMode mode);
  ~AsioLoop() override;

  std::shared_ptr<conformance::Handle> call_soon(conformance::Callback callback) override;
  std::shared_ptr<conformance::Handle> call_soon_threadsafe(conformance::Callback callback) override;
  std::shared_ptr<conformance::Handle> call_later(double delay, conformance::Callback callback) override;
  std::shared_ptr<conformance::Handle> call_at(double when, conformance::Callback callback) override;
  double time() override;
  void run_forever() override;
  conformance::Value run_until_complete(const std::shared_ptr<conformance::Future>& future) override;
  void stop() override;
  void close() override;
  bool is_running() const override { return running_; }
  bool is_closed() const override { return closed_; }
  std::shared_ptr<conformance::Future> create_future() override;
  void add_reader(int fd, conformance::Callback callback) override { watch(fd, 0, std::move(callback)); }
  bool remove_reader(int fd) override { return unwatch(fd, 0); }
  void add_writer(int fd, conformance::Callback callback) override { watch(fd, 1, std::move(callback)); }
  bool remove_writer(int fd) override { return unwatch(fd, 1); }

  // The loop running in the calling thread (asyncio's get_running_loop), or nullptr.
  static AsioLoop* running_in_this_thread();
  // For Handle.cancel() of a timer.
  void cancel_timer(const std::shared_ptr<TimerState>& state);
  const std::shared_ptr<LoopLink>& link() const { return link_; }

 private:
  void check_closed() const;
  // The handler every callback runs in: a LoopError goes to the exception handler (asyncio's
  // default: logged to stderr) and the run goes on; anything else leaves the loop.
  void invoke(conformance::Callback& callback);
  void report(const conformance::Callback& callback, const conformance::LoopError& error);
  void post(std::shared_ptr<CallState> state, conformance::Callback callback);
  void on_timer(const std::shared_ptr<TimerState>& state, conformance::Callback& callback);
  void forget_deadline(TimerState& state);

  void watch(int fd, int direction, conformance::Callback callback);
  bool unwatch(int fd, int direction);
  void arm(const std::shared_ptr<Watch>& w, int direction);
  void on_ready(const std::weak_ptr<Watch>& w, int direction, const asio::error_code& ec);
  void release(Watch& w);

  // run_forever's two drivers.
  void run_virtual();
  // The timeout the reactor's select would be given now (0: handlers are ready) and the deadline
  // a wait goes to: the head timer's `when`, or 5 minutes from now, whichever comes first.
  std::optional<double> poll_timeout(std::optional<double>& deadline);

  conformance::VirtualTime& time_;
  TimeMode mode_;
  std::shared_ptr<LoopLink> link_;
  asio::io_context io_;
  // run_forever runs until stop(), not until the io_context runs out of work.
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  // Never armed: its existence starts the reactor, as asyncio makes its selector with the loop.
  // An io_context without an I/O object waits on a condition variable when idle, where neither
  // a select nor the interposed clock is involved (README.md, "Idle waits").
  asio::steady_timer reactor_{io_};
  std::atomic<long> ready_{0};  // callbacks posted and not run yet (asyncio's _ready)
  std::mutex deadlines_mutex_;
  // NaN first, so that a NaN deadline keeps the ordering strict (its wait is "now").
  struct DeadlineOrder {
    bool operator()(double a, double b) const { return (std::isnan(a) && !std::isnan(b)) || a < b; }
  };
  std::multiset<double, DeadlineOrder> deadlines_;  // the pending timers' `when` (asyncio's _scheduled)
  std::unordered_map<const TimerState*, std::unique_ptr<TimerBase>> timers_;  // before io_ dies
  std::map<int, std::shared_ptr<Watch>> watches_;
  std::atomic<bool> running_{false};  // read from other threads (is_running)
  bool closed_ = false;
};

}  // namespace aiospec::asio_adapter
