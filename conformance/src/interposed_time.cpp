#include "aiospec/conformance/interposed_time.hpp"

#include <dlfcn.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <iostream>
#include <limits>
#include <mutex>
#include <set>
#include <thread>

#include "aiospec/interpose.h"

namespace aiospec::conformance {

namespace {

constexpr double kNs = 1e9;

// The control API of the preloaded library, found by name: a host need not link against it.
struct Api {
  int (*api_version)() = nullptr;
  void (*enable)(int) = nullptr;
  int (*enabled)() = nullptr;
  void (*set_clock_ns)(std::int64_t) = nullptr;
  std::int64_t (*get_clock_ns)() = nullptr;
  void (*set_hooks)(const aiospec_interpose_hooks*) = nullptr;
  std::uint64_t (*wait_count)() = nullptr;
};

template <typename F>
void find(F& slot, const char* name) {
  void* symbol = ::dlsym(RTLD_DEFAULT, name);
  if (!symbol) {
    const char* preload = std::getenv("LD_PRELOAD");
    throw InterposedTimeError(std::string("interposed time: libaiospec_interpose.so is not preloaded into this process (") +
                              name + " not found; LD_PRELOAD='" + (preload ? preload : "") + "')");
  }
  std::memcpy(&slot, &symbol, sizeof slot);
}

Api load_api() {
  Api api;
  find(api.api_version, "aiospec_interpose_api_version");
  find(api.enable, "aiospec_interpose_enable");
  find(api.enabled, "aiospec_interpose_enabled");
  find(api.set_clock_ns, "aiospec_interpose_set_clock_ns");
  find(api.get_clock_ns, "aiospec_interpose_get_clock_ns");
  find(api.set_hooks, "aiospec_interpose_set_hooks");
  find(api.wait_count, "aiospec_interpose_wait_count");
  if (const int v = api.api_version(); v != AIOSPEC_INTERPOSE_API_VERSION) {
    throw InterposedTimeError("interposed time: the preloaded library speaks control API " + std::to_string(v) +
                              ", not " + std::to_string(AIOSPEC_INTERPOSE_API_VERSION));
  }
  return api;
}

double real_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);  // never interposed: the probe's stopwatch
  return double(ts.tv_sec) + double(ts.tv_nsec) / kNs;
}

}  // namespace

std::int64_t seconds_to_ns(double seconds) {
  if (std::isnan(seconds)) throw std::invalid_argument("the virtual clock cannot move to NaN");
  if (seconds <= 0) return 0;
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  if (seconds >= double(kMax) / kNs) return kMax;
  auto ns = static_cast<std::int64_t>(std::ceil(seconds * kNs));
  while (double(ns) / kNs < seconds) ++ns;
  while (ns > 0 && double(ns - 1) / kNs >= seconds) --ns;
  return ns;
}

// The hooks' side for the scenario running. `time` is bound by the scenario's first new_loop().
// Once the run must end (`ended`), the hooks do nothing but give that end, once, to every loop
// that waits again: a loop may run its ready callbacks before it stops, and the end may come out
// of a loop run by an external event into the wait of the loop that ran that event.
struct InterposedAdapter::State {
  Adapter* adapter = nullptr;
  Api api;
  aiospec_interpose_hooks hooks{};

  std::mutex mutex;  // guards everything below; never held while calling out
  VirtualTime* time = nullptr;
  int pending = 0;              // Blocked callbacks handed to loops and not run yet
  std::exception_ptr ended;     // what ends the run, once there is one
  std::set<Loop*> woken;        // the loops given `ended`
  bool moving = false;          // inside advance: the library moves its own clock

  VirtualTime* bound() {
    std::lock_guard lock(mutex);
    return ended || pending ? nullptr : time;
  }

  // Hands the loop waiting on this thread a callback that throws `end`.
  void wake(std::exception_ptr end, bool blocked) {
    Loop* loop = adapter->running_loop();
    if (!loop) return;
    {
      std::lock_guard lock(mutex);
      if (blocked) {
        ++pending;
      } else if (!woken.insert(loop).second) {
        return;
      }
    }
    try {
      loop->call_soon_threadsafe(Callback(
          [this, end, blocked] {
            if (blocked) {
              std::lock_guard lock(mutex);
              --pending;
            }
            std::rethrow_exception(end);
          },
          "interposed_wakeup"));
    } catch (...) {
      // The loop cannot be woken (closed, or no call_soon_threadsafe): the probe makes sure the
      // second never happens; a closed loop is not waiting.
      std::lock_guard lock(mutex);
      if (blocked) --pending;
    }
  }

  void end_run(std::exception_ptr end) {
    {
      std::lock_guard lock(mutex);
      if (!ended) ended = std::move(end);
      end = ended;
    }
    wake(end, false);
  }

  // Runs `body`; whatever it throws ends the run.
  template <typename F>
  void guarded(F&& body) {
    try {
      body();
    } catch (...) {
      end_run(std::current_exception());
    }
  }

  static State& of(void* context) { return *static_cast<State*>(context); }

  static void begin_wait(void* context) {
    State& s = of(context);
    if (VirtualTime* t = s.bound()) s.guarded([t] { t->before_poll(std::nullopt); });
  }

  static int next_external(void* context, std::int64_t* at_ns) {
    State& s = of(context);
    VirtualTime* t = s.bound();
    if (!t) return 0;
    const auto next = t->next_external();
    if (!next || std::isnan(*next)) return 0;
    *at_ns = seconds_to_ns(*next);
    return 1;
  }

  static void run_externals(void* context) {
    State& s = of(context);
    VirtualTime* t;
    {
      std::lock_guard lock(s.mutex);
      t = s.ended ? nullptr : s.time;
    }
    if (t) s.guarded([t] { t->run_due_externals(); });
  }

  static int advance(void* context, std::int64_t to_ns) {
    State& s = of(context);
    VirtualTime* t;
    std::exception_ptr ended;
    {
      std::lock_guard lock(s.mutex);
      t = s.time;
      ended = s.ended;
    }
    if (!t) return 0;
    if (ended) {
      s.wake(ended, false);  // wakes this loop if it was not given the end yet
      return 1;
    }
    try {
      {
        std::lock_guard lock(s.mutex);
        s.moving = true;
      }
      t->advance_to(double(to_ns) / kNs);
      std::lock_guard lock(s.mutex);
      s.moving = false;
      return 0;
    } catch (...) {
      {
        std::lock_guard lock(s.mutex);
        s.moving = false;
      }
      s.end_run(std::current_exception());
      return 1;
    }
  }

  static void blocked(void* context) {
    State& s = of(context);
    std::exception_ptr ended;
    {
      std::lock_guard lock(s.mutex);
      if (!s.time) return;
      ended = s.ended;
    }
    if (ended) {
      s.wake(ended, false);
    } else {
      s.wake(std::make_exception_ptr(Blocked{}), true);
    }
  }
};

InterposedAdapter::InterposedAdapter(std::unique_ptr<Adapter> inner)
    : OwnClockAdapter(std::move(inner)), state_(std::make_unique<State>()) {
  state_->adapter = &this->inner();
  state_->api = load_api();
  state_->hooks = {state_.get(), &State::begin_wait, &State::next_external, &State::run_externals, &State::advance,
                   &State::blocked};
  state_->api.set_hooks(&state_->hooks);
}

InterposedAdapter::~InterposedAdapter() {
  state_->api.enable(0);
  state_->api.set_hooks(nullptr);
}

std::set<std::string> InterposedAdapter::features() const {
  auto f = inner().features();
  f.erase("select-trace");  // the loop's waits are not asyncio's select calls
  return f;
}

void InterposedAdapter::begin_scenario() {
  {
    std::lock_guard lock(state_->mutex);
    state_->time = nullptr;
    state_->pending = 0;
    state_->ended = nullptr;
    state_->woken.clear();
  }
  state_->api.set_clock_ns(0);
  state_->api.enable(1);
  if (!state_->api.enabled()) throw InterposedTimeError("interposed time: the library does not take enable(1)");
}

void InterposedAdapter::end_scenario() {
  state_->api.enable(0);
  std::lock_guard lock(state_->mutex);
  state_->time = nullptr;
}

std::unique_ptr<Loop> InterposedAdapter::new_loop(VirtualTime& time) {
  bool bind = false;
  {
    std::lock_guard lock(state_->mutex);
    if (!state_->time) {
      state_->time = &time;
      bind = true;
    }
  }
  if (bind) {
    time.advance_to(double(state_->api.get_clock_ns()) / kNs);
    State* s = state_.get();
    time.follow_clock([s](double now) {
      {
        std::lock_guard lock(s->mutex);
        if (s->moving) return;
      }
      s->api.set_clock_ns(seconds_to_ns(now));
    });
  }
  return inner().new_loop(time);
}

void InterposedAdapter::probe() {
  // A loop that waits in real time never returns from the wait below: a watchdog on the real
  // clock ends the process with the one line the harness reports.
  std::atomic<bool> done{false};
  std::thread watchdog([&done] {
    const double start = real_seconds();
    while (!done.load()) {
      if (real_seconds() - start > 3.0) {
        std::cerr << "interposed time: the loop waited in real time (call_later(7.25) not reached within 3 real "
                     "seconds): its waits do not go through epoll_wait/poll/select of libc\n";
        std::_Exit(2);
      }
      const timespec tick{0, 10 * 1000 * 1000};
      ::nanosleep(&tick, nullptr);  // not interposed: a real 10 ms
    }
  });
  struct Join {
    std::atomic<bool>& done;
    std::thread& thread;
    ~Join() {
      done = true;
      thread.join();
    }
  } join{done, watchdog};

  begin_scenario();
  const std::int64_t start_ns = 12'345'000'000;
  state_->api.set_clock_ns(start_ns);
  VirtualTime time;
  auto loop = inner().new_loop(time);  // not bound: begin_scenario leaves `time` unset until here
  const double read = loop->time();
  if (std::fabs(read - 12.345) > 1e-3) {
    end_scenario();
    throw InterposedTimeError("interposed time: " + name() + ": loop.time() does not follow the library's clock (" +
                              std::to_string(read) + " where the clock says 12.345)");
  }
  const std::uint64_t waits = state_->api.wait_count();
  const double real_start = real_seconds();
  Loop* raw = loop.get();
  loop->call_later(7.25, Callback([raw] { raw->stop(); }, "stop"));
  try {
    loop->run_forever();
  } catch (...) {
    end_scenario();
    throw InterposedTimeError("interposed time: " + name() + ": run_forever failed in the probe");
  }
  const double moved = double(state_->api.get_clock_ns() - start_ns) / kNs;
  const bool through_wait = state_->api.wait_count() > waits;
  loop->close();
  end_scenario();
  if (!through_wait || std::fabs(moved - 7.25) > 2e-3 || real_seconds() - real_start > 2.0) {
    throw InterposedTimeError("interposed time: " + name() + ": call_later(7.25, stop) did not stop the loop 7.25 s later " +
                              "on the library's clock through an interposed wait (the clock moved " + std::to_string(moved) +
                              " s, " + (through_wait ? "" : "no wait reached the library") + ")");
  }
}

}  // namespace aiospec::conformance
