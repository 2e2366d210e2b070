#include "aiospec/conformance/real_time.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace aiospec::conformance {

namespace {

using RealClock = std::chrono::steady_clock;

double seconds_since(RealClock::time_point origin) {
  return std::chrono::duration<double>(RealClock::now() - origin).count();
}

// The features whose operations pass only times that ScaledLoop translates.
const std::set<std::string>& translated_features() {
  static const std::set<std::string> f = {"threads",      "fd-io",          "futures",        "multiple-loops",
                                          "running-loop", "float-specials", "timer-heap-ties"};
  return f;
}

}  // namespace

// One scenario's real clock and its timer thread.
struct RealTimeAdapter::State {
  double scale = kDefaultScale;

  std::mutex mutex;
  std::condition_variable wake;
  VirtualTime* time = nullptr;        // bound by the scenario's first new_loop()
  RealClock::time_point origin;       // scenario time 0
  double loop_origin = 0;             // the first loop's time() at scenario time 0
  std::map<Loop*, Loop*> wrappers;    // inner loop -> the ScaledLoop the interpreter holds
  bool done = false;
  std::thread timer;

  // Ends the timer thread (from any other thread; idempotent).
  void stop_timer() {
    {
      std::lock_guard lock(mutex);
      done = true;
    }
    wake.notify_all();
    if (timer.joinable() && timer.get_id() != std::this_thread::get_id()) timer.join();
  }

  // Scenario time `t` as the loop's clock reads it, and back.
  double loop_time(double t) const { return loop_origin + t * scale; }
  double scenario_time(double loop_t) const { return (loop_t - loop_origin) / scale; }

  // Every running loop of the scenario gets a callback that throws `end`; whether one did.
  bool end_all(const std::exception_ptr& end) {
    std::vector<Loop*> loops;
    {
      std::lock_guard lock(mutex);
      for (const auto& [inner_loop, wrapper] : wrappers) loops.push_back(inner_loop);
    }
    bool woken = false;
    for (Loop* loop : loops) {
      try {
        if (!loop->is_running()) continue;
        loop->call_soon_threadsafe(Callback([end] { std::rethrow_exception(end); }, "real_time_stop"));
        woken = true;
      } catch (...) {
        // closed meanwhile: it no longer waits
      }
    }
    return woken;
  }

  // host.py, _RealRun._timer.
  void run_timer() {
    auto quiet_since = RealClock::now();
    std::unique_lock lock(mutex);
    while (!done) {
      VirtualTime* t = time;
      lock.unlock();
      const double now = t->now();
      if (now > t->budget().time) {
        end_all(std::make_exception_ptr(Abort{"time"}));
        lock.lock();
        return;
      }
      const auto next = t->next_external();
      if (next && *next <= now) {
        try {
          t->run_due_externals();
        } catch (...) {
          end_all(std::current_exception());
          lock.lock();
          return;
        }
        quiet_since = RealClock::now();
        lock.lock();
        continue;
      }
      if (!next && seconds_since(quiet_since) >= kHorizon) {
        // Nothing will ever happen from outside: a loop still running kHorizon real seconds
        // later is taken for one that would block forever.
        if (end_all(std::make_exception_ptr(Blocked{}))) quiet_since = RealClock::now();
      }
      const double horizon = next ? std::min(*next, t->budget().time) : t->budget().time;
      const double wait = std::clamp((horizon - now) * scale, 0.0, 0.01);
      lock.lock();
      wake.wait_for(lock, std::chrono::duration<double>(wait), [this] { return done; });
    }
  }
};

namespace {

class ScaledHandle final : public Handle {
 public:
  ScaledHandle(std::shared_ptr<Handle> inner, const RealTimeAdapter::State& state)
      : inner_(std::move(inner)), state_(state) {}
  void cancel() override { inner_->cancel(); }
  double when() const override { return state_.scenario_time(inner_->when()); }

 private:
  std::shared_ptr<Handle> inner_;
  const RealTimeAdapter::State& state_;
};

// The loop as the interpreter sees it: times in scenario seconds, everything else the loop's own.
class ScaledLoop final : public Loop {
 public:
  ScaledLoop(std::unique_ptr<Loop> inner, RealTimeAdapter::State& state) : inner_(std::move(inner)), state_(state) {
    std::lock_guard lock(state_.mutex);
    state_.wrappers[inner_.get()] = this;
  }
  ~ScaledLoop() override {
    // The first loop to go means the run is over (the interpreter keeps every loop to the end),
    // and the scenario's VirtualTime goes soon after: no external event may start from now on.
    state_.stop_timer();
    std::lock_guard lock(state_.mutex);
    state_.wrappers.erase(inner_.get());
  }

  std::shared_ptr<Handle> call_soon(Callback cb) override { return inner_->call_soon(std::move(cb)); }
  std::shared_ptr<Handle> call_later(double delay, Callback cb) override {
    return scaled(inner_->call_later(delay * state_.scale, std::move(cb)));
  }
  std::shared_ptr<Handle> call_at(double when, Callback cb) override {
    return scaled(inner_->call_at(state_.loop_time(when), std::move(cb)));
  }
  double time() override { return state_.scenario_time(inner_->time()); }
  void run_forever() override { inner_->run_forever(); }
  void stop() override { inner_->stop(); }
  void close() override { inner_->close(); }
  bool is_running() const override { return inner_->is_running(); }
  bool is_closed() const override { return inner_->is_closed(); }

  std::shared_ptr<Handle> call_soon_threadsafe(Callback cb) override {
    return inner_->call_soon_threadsafe(std::move(cb));
  }
  std::shared_ptr<Future> create_future() override { return inner_->create_future(); }
  Value run_until_complete(const std::shared_ptr<Future>& future) override {
    return inner_->run_until_complete(future);
  }
  void add_reader(int fd, Callback cb) override { inner_->add_reader(fd, std::move(cb)); }
  bool remove_reader(int fd) override { return inner_->remove_reader(fd); }
  void add_writer(int fd, Callback cb) override { inner_->add_writer(fd, std::move(cb)); }
  bool remove_writer(int fd) override { return inner_->remove_writer(fd); }

 private:
  std::shared_ptr<Handle> scaled(std::shared_ptr<Handle> h) { return std::make_shared<ScaledHandle>(std::move(h), state_); }

  std::unique_ptr<Loop> inner_;
  RealTimeAdapter::State& state_;
};

}  // namespace

RealTimeAdapter::RealTimeAdapter(std::unique_ptr<Adapter> inner, double scale)
    : OwnClockAdapter(std::move(inner)), state_(std::make_unique<State>()) {
  if (!(scale > 0)) throw std::invalid_argument("real time: the scale must be a positive factor");
  if (!this->inner().features().count("threads")) {
    throw std::invalid_argument("real time: " + this->inner().name() +
                                " does not declare threads: the timer thread reaches a loop only through "
                                "call_soon_threadsafe");
  }
  state_->scale = scale;
}

RealTimeAdapter::~RealTimeAdapter() { end_scenario(); }

std::set<std::string> RealTimeAdapter::features() const {
  std::set<std::string> out;
  for (const auto& f : inner().features()) {
    if (translated_features().count(f)) out.insert(f);
  }
  return out;
}

void RealTimeAdapter::begin_scenario() {
  end_scenario();
  std::lock_guard lock(state_->mutex);
  state_->time = nullptr;
  state_->done = false;
}

void RealTimeAdapter::end_scenario() { state_->stop_timer(); }

std::unique_ptr<Loop> RealTimeAdapter::new_loop(VirtualTime& time) {
  auto made = inner().new_loop(time);
  bool first = false;
  {
    std::lock_guard lock(state_->mutex);
    first = state_->time == nullptr;
    if (first) {
      // Scenario time 0 is when the main loop exists: nothing can happen before.
      state_->time = &time;
      state_->origin = RealClock::now();
    }
  }
  if (first) {
    state_->loop_origin = made->time();
    State* s = state_.get();
    time.use_real_clock([s] { return seconds_since(s->origin) / s->scale; },
                        [s](double t) {
                          const auto until = s->origin + std::chrono::duration_cast<RealClock::duration>(
                                                             std::chrono::duration<double>(t * s->scale));
                          std::this_thread::sleep_until(until);
                        });
    state_->timer = std::thread([s] { s->run_timer(); });
  }
  return std::make_unique<ScaledLoop>(std::move(made), *state_);
}

Loop* RealTimeAdapter::running_loop() {
  Loop* native = inner().running_loop();
  std::lock_guard lock(state_->mutex);
  const auto it = state_->wrappers.find(native);
  return it == state_->wrappers.end() ? nullptr : it->second;
}


}  // namespace aiospec::conformance
