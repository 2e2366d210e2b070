// The libuv adapter: asyncio's loop API written on libuv 1.44, the way a loop author maps it.
//
//   call_soon            a FIFO of handles, drained one batch per iteration by a uv_idle_t
//   call_later/call_at   one uv_timer_t per handle, whole milliseconds (rounded as uvloop does)
//   call_soon_threadsafe the same FIFO, woken through a uv_async_t
//   add_reader/writer    one uv_poll_t per fd, the two directions combined
//   stop                 a flag; the idle handle calls uv_stop after the batch it ends
//   time()               uv_now() / 1000, after uv_update_time (asyncio's time() is never cached)
//   Future               libuv has none: a small asyncio.Future (libuv_future.cpp)
//
// libuv is C: no exception may unwind through its frames. Every C callback runs the scenario's
// code through UvLoop::invoke, which catches everything; what must leave run_forever is stashed,
// uv_stop is called, and run_forever rethrows it after uv_run has returned.
#pragma once

#include <uv.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "aiospec/conformance/adapter.hpp"

namespace aiospec::libuv {

using conformance::Callback;
using conformance::LoopError;
using conformance::Value;

// What raise_in_callback throws for SystemExit and KeyboardInterrupt. Not a std::exception, so
// that no catch of errors on the way can report it; run_forever rethrows `error` in its place.
struct ExitRequest {
  LoopError error;
};

class UvLoop;

// call_soon's handle: a callback in the FIFO; cancel() makes the drain skip it.
class ReadyHandle final : public conformance::Handle {
 public:
  explicit ReadyHandle(Callback callback) : callback_(std::move(callback)) {}
  void cancel() override { cancelled_ = true; }
  double when() const override;
  bool cancelled() const { return cancelled_; }
  const Callback& callback() const { return callback_; }

 private:
  Callback callback_;
  std::atomic<bool> cancelled_{false};
};

// call_later's handle: owns one uv_timer_t until it fires or is cancelled.
class TimerHandle final : public conformance::Handle, public std::enable_shared_from_this<TimerHandle> {
 public:
  TimerHandle(UvLoop& loop, Callback callback, double when) : loop_(&loop), callback_(std::move(callback)), when_(when) {}
  void cancel() override;
  double when() const override { return when_; }

 private:
  friend class UvLoop;
  UvLoop* loop_;                  // null once the loop is gone
  uv_timer_t* timer_ = nullptr;   // null once closed (fired, cancelled, loop closed)
  Callback callback_;
  double when_;
  bool cancelled_ = false;
};

// One watched descriptor: its uv_poll_t and the reader and writer callbacks.
struct FdWatch {
  UvLoop* loop = nullptr;
  int fd = -1;
  uv_poll_t* poll = nullptr;
  std::optional<Callback> reader, writer;
};

class UvFuture;

class UvLoop final : public conformance::Loop {
 public:
  // cpython_minor: the asyncio whose Future the adapter's UvFuture imitates (3.<minor>).
  explicit UvLoop(int cpython_minor);
  ~UvLoop() override;
  UvLoop(const UvLoop&) = delete;
  UvLoop& operator=(const UvLoop&) = delete;

  std::shared_ptr<conformance::Handle> call_soon(Callback callback) override;
  std::shared_ptr<conformance::Handle> call_soon_threadsafe(Callback callback) override;
  std::shared_ptr<conformance::Handle> call_later(double delay, Callback callback) override;
  std::shared_ptr<conformance::Handle> call_at(double when, Callback callback) override;
  double time() override;
  void run_forever() override;
  Value run_until_complete(const std::shared_ptr<conformance::Future>& future) override;
  void stop() override;
  void close() override;
  bool is_running() const override { return running_; }
  bool is_closed() const override { return closed_; }
  std::shared_ptr<conformance::Future> create_future() override;
  void add_reader(int fd, Callback callback) override;
  bool remove_reader(int fd) override;
  void add_writer(int fd, Callback callback) override;
  bool remove_writer(int fd) override;

  // The loop running in the calling thread (asyncio's _get_running_loop), or null.
  static UvLoop* running_in_this_thread();
  void check_closed() const;

 private:
  friend class TimerHandle;
  // The C trampolines (one per handle type), and what they share.
  static void on_idle(uv_idle_t* idle);
  static void on_async(uv_async_t* async);
  static void on_timer(uv_timer_t* timer);
  static void on_poll(uv_poll_t* poll, int status, int events);

  void run_batch() noexcept;
  // Runs a scenario callback: a LoopError goes to the exception handler (stderr), SystemExit,
  // KeyboardInterrupt and everything that is not a LoopError are stashed for run_forever.
  void invoke(const Callback& callback) noexcept;
  void escape(std::exception_ptr error) noexcept;
  bool escaping() const noexcept { return static_cast<bool>(escaping_); }
  void report(const LoopError& error, const std::string& callback_name) noexcept;
  [[noreturn]] void rethrow_escaped();

  void push_ready(std::shared_ptr<ReadyHandle> handle, bool threadsafe);
  bool on_loop_thread() const;
  void release_timer(TimerHandle& timer) noexcept;  // stop + close its uv_timer_t
  void rearm_deferred_timers() noexcept;

  void watch(int fd, Callback callback, bool reader);
  bool unwatch(int fd, bool reader);
  void restart_poll(FdWatch& watch);
  void release_handles() noexcept;  // uv_close on every handle (close() and the destructor)

  int cpython_minor_;
  uv_loop_t uv_{};
  uv_idle_t idle_{};
  uv_async_t async_{};

  std::mutex ready_mutex_;  // the FIFO is shared with call_soon_threadsafe's threads
  std::deque<std::shared_ptr<ReadyHandle>> ready_;

  std::set<std::shared_ptr<TimerHandle>> timers_;        // armed (or deferred) timers
  std::vector<std::shared_ptr<TimerHandle>> deferred_;   // fired while an exception was leaving
  std::map<int, std::shared_ptr<FdWatch>> watches_;

  std::atomic<bool> running_{false};
  std::atomic<bool> stopping_{false};  // stop() may come from a thread (call_soon_threadsafe(stop) is the safe way)
  std::atomic<bool> closed_{false};  // read by call_soon_threadsafe on other threads
  bool handles_released_ = false;
  std::exception_ptr escaping_;
  std::atomic<std::thread::id> owner_;  // the thread that made the loop or ran it last
};

// asyncio.Future on a UvLoop: done callbacks are scheduled with the loop's call_soon.
class UvFuture final : public conformance::Future, public std::enable_shared_from_this<UvFuture> {
 public:
  // wraps_stop_iteration: 3.13's set_exception(StopIteration) (a RuntimeError from it; before:
  // TypeError, refused).
  UvFuture(UvLoop& loop, bool wraps_stop_iteration) : loop_(loop), wraps_stop_iteration_(wraps_stop_iteration) {}
  void set_result(const Value& value) override;
  Value result() const override;
  bool done() const override { return state_ != State::pending; }
  void add_done_callback(Callback callback) override;
  void set_exception(const LoopError& error) override;
  bool cancel(const std::optional<std::string>& message) override;
  bool cancelled() const override { return state_ == State::cancelled; }
  std::optional<LoopError> exception() const override;

  UvLoop& loop() const { return loop_; }
  // run_until_complete's own callback, removed again when it returns.
  std::uint64_t add_internal_callback(Callback callback);
  void remove_callback(std::uint64_t id);

 private:
  enum class State { pending, cancelled, finished };
  LoopError cancelled_error() const;
  void schedule_callbacks();

  UvLoop& loop_;
  bool wraps_stop_iteration_;
  State state_ = State::pending;
  Value result_;
  std::optional<LoopError> exception_;
  std::optional<std::string> cancel_message_;
  std::vector<std::pair<std::uint64_t, Callback>> callbacks_;
  std::uint64_t next_id_ = 0;
};

// The loop is libuv's whatever the version judged; only the adapter's own Future follows the
// requested CPython (versioned = true in describe.cpp), so that asyncio.Future's changes between
// versions are not counted against libuv.
class LibuvAdapter final : public conformance::Adapter {
 public:
  explicit LibuvAdapter(const std::string& cpython);
  std::string name() const override;
  std::set<std::string> features() const override;
  std::unique_ptr<conformance::Loop> new_loop(conformance::VirtualTime& time) override;
  conformance::Loop* running_loop() override { return UvLoop::running_in_this_thread(); }
  [[noreturn]] void raise_in_callback(const std::string& type, const std::optional<std::string>& message) override;

 private:
  int cpython_minor_;
};

}  // namespace aiospec::libuv
