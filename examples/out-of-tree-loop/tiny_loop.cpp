#include "tiny_loop.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

namespace tiny {

namespace {

bool later(const std::shared_ptr<Handle>& a, const std::shared_ptr<Handle>& b) {
  return a->when != b->when ? a->when > b->when : a->order > b->order;
}

}  // namespace

Loop::Loop(Clock clock, Wait wait) : clock_(std::move(clock)), wait_(std::move(wait)) {
  if (!clock_) {
    clock_ = [] { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); };
  }
  if (!wait_) {
    wait_ = [](std::optional<double> timeout) {
      if (timeout) std::this_thread::sleep_for(std::chrono::duration<double>(*timeout));
    };
  }
}

void Loop::check_open() const {
  if (closed_) throw Error("Event loop is closed");
}

std::shared_ptr<Handle> Loop::call_soon(std::function<void()> callback) {
  check_open();
  auto h = std::make_shared<Handle>();
  h->callback = std::move(callback);
  ready_.push_back(h);
  return h;
}

std::shared_ptr<Handle> Loop::call_later(double delay, std::function<void()> callback) {
  return call_at(time() + delay, std::move(callback));
}

std::shared_ptr<Handle> Loop::call_at(double when, std::function<void()> callback) {
  check_open();
  auto h = std::make_shared<Handle>();
  h->callback = std::move(callback);
  h->when = when;
  h->order = next_order_++;
  h->timer = true;
  timers_.push_back(h);
  std::push_heap(timers_.begin(), timers_.end(), later);
  return h;
}

void Loop::run_forever() {
  check_open();
  if (running_) throw Error("This event loop is already running");
  running_ = true;
  struct Reset {
    Loop& loop;
    ~Reset() { loop.running_ = loop.stopping_ = false; }
  } reset{*this};
  for (;;) {
    run_once();
    if (stopping_) break;
  }
}

// One iteration: wait until the first timer is due (not at all when something is ready or a
// stop is pending), move the due timers to the ready queue, run what was ready then.
void Loop::run_once() {
  while (!timers_.empty() && timers_.front()->cancelled) {
    std::pop_heap(timers_.begin(), timers_.end(), later);
    timers_.pop_back();
  }
  std::optional<double> timeout;
  if (!ready_.empty() || stopping_) {
    timeout = 0.0;
  } else if (!timers_.empty()) {
    timeout = std::max(0.0, timers_.front()->when - time());
  }
  wait_(timeout);
  const double now = time();
  while (!timers_.empty() && timers_.front()->when <= now) {
    std::pop_heap(timers_.begin(), timers_.end(), later);
    auto h = std::move(timers_.back());
    timers_.pop_back();
    if (!h->cancelled) ready_.push_back(std::move(h));
  }
  for (std::size_t n = ready_.size(); n > 0; --n) {
    auto h = std::move(ready_.front());
    ready_.pop_front();
    if (h->cancelled) continue;
    try {
      h->callback();
    } catch (const std::exception& e) {
      if (report) report(e);
    }
  }
}

void Loop::close() {
  if (running_) throw Error("Cannot close a running event loop");
  closed_ = true;
  ready_.clear();
  timers_.clear();
}

}  // namespace tiny
