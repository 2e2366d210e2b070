#include "aiospec/ref/virtual_time.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <thread>
#include <utility>

#include "aiospec/ref/base_events.hpp"

namespace aiospec::ref {

VirtualSelector::VirtualSelector(std::unique_ptr<Selector> inner, Clock& clock, TimeKeeper& keeper)
    : inner_(std::move(inner)), clock_(clock), keeper_(keeper) {}

std::vector<ReadyEvent> VirtualSelector::select(std::optional<double> timeout) {
  keeper_.before_poll(timeout);
  // Only a 3.13-style clamp produces a NaN timeout; a real selector rejects it, with its own
  // exception and message, and so does the inner one here.
  if (timeout && std::isnan(*timeout)) return inner_->select(timeout);
  auto ready = inner_->select(0.0);
  if (!ready.empty() || timeout == 0.0) return ready;
  const std::optional<double> deadline = deadline_of(timeout);
  while (true) {
    const bool reached = keeper_.let_time_pass(deadline);
    ready = inner_->select(0.0);
    if (reached || !ready.empty()) return ready;
  }
}

std::optional<double> VirtualSelector::deadline_of(std::optional<double> timeout) const {
  if (!timeout) return std::nullopt;
  // The cap _run_once applied, read from the loop rather than copied.
  constexpr double cap = EventLoop::kMaximumSelectTimeout;
  if (*timeout >= cap) return clock_.time() + cap;
  if (loop_ == nullptr) throw std::logic_error("VirtualSelector::attach() was not called");
  // run_once computed `timeout` from this very timer: it cleaned the cancelled heads first and
  // nothing ran since. Only a caller other than run_once can find the heap empty.
  if (const auto when = loop_->next_deadline()) return *when;
  return clock_.time() + *timeout;
}

void StandaloneTimeKeeper::add_external(double at, std::function<void()> fn) {
  const auto pos = std::upper_bound(externals_.begin(), externals_.end(), at,
                                    [](double t, const External& e) { return t < e.at; });
  externals_.insert(pos, External{at, std::move(fn)});
}

void StandaloneTimeKeeper::run_external(External e) {
  std::exception_ptr error;
  std::thread([&] {
    try {
      e.fn();
    } catch (...) {
      error = std::current_exception();
    }
  }).join();
  if (error) std::rethrow_exception(error);  // on the loop's thread, out of select()
}

void StandaloneTimeKeeper::run_due_externals() {
  // Removed before it runs, so that an event adding events due now sees them run here too.
  while (!externals_.empty() && externals_.front().at <= clock_.time()) {
    External e = std::move(externals_.front());
    externals_.erase(externals_.begin());
    run_external(std::move(e));
  }
}

void StandaloneTimeKeeper::before_poll(std::optional<double> timeout) {
  if (++polls_ > max_polls_) throw std::length_error("StandaloneTimeKeeper: poll budget exceeded");
  timeouts_.push_back(timeout);
  run_due_externals();
}

bool StandaloneTimeKeeper::let_time_pass(std::optional<double> deadline) {
  // An external event due at the deadline itself comes first, as in the oracle.
  if (!externals_.empty() && (!deadline || externals_.front().at <= *deadline)) {
    clock_.set(std::max(clock_.time(), externals_.front().at));
    run_due_externals();
    return false;
  }
  if (!deadline) throw WouldBlockForever();
  clock_.set(std::max(clock_.time(), *deadline));
  return true;
}

}  // namespace aiospec::ref
