// tiny_loop: the smallest loop worth judging: call_soon, call_later/call_at, stop, close. No
// futures, no fds, no threads. Its clock and its wait are parameters, so the same loop runs on
// real time (the defaults) and under a test's virtual time.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

namespace tiny {

// The loop's own errors: asyncio's RuntimeError.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Handle {
  std::function<void()> callback;
  double when = 0;  // timers
  std::uint64_t order = 0;
  bool cancelled = false;
  bool timer = false;
};

class Loop {
 public:
  using Clock = std::function<double()>;
  // Waits at most `timeout` seconds (nullopt: until woken; tiny_loop has nothing to wake it).
  using Wait = std::function<void(std::optional<double> timeout)>;
  Loop(Clock clock = {}, Wait wait = {});

  std::shared_ptr<Handle> call_soon(std::function<void()> callback);
  std::shared_ptr<Handle> call_later(double delay, std::function<void()> callback);
  std::shared_ptr<Handle> call_at(double when, std::function<void()> callback);
  double time() const { return clock_(); }
  void run_forever();
  void stop() { stopping_ = true; }
  void close();
  bool is_running() const { return running_; }
  bool is_closed() const { return closed_; }
  // What a callback throws that is not tiny's (an exception it cannot report) ends run_forever;
  // a std::exception is reported here and the loop goes on.
  std::function<void(const std::exception&)> report;

 private:
  void run_once();
  void check_open() const;

  Clock clock_;
  Wait wait_;
  std::deque<std::shared_ptr<Handle>> ready_;
  std::vector<std::shared_ptr<Handle>> timers_;  // a min-heap on (when, order)
  std::uint64_t next_order_ = 0;
  bool stopping_ = false, running_ = false, closed_ = false;
};

}  // namespace tiny
