#include "aiospec/ref/virtual_time.hpp"

#include <cmath>
#include <stdexcept>
#include <utility>

#include "aiospec/ref/base_events.hpp"
#include "aiospec/ref/exceptions.hpp"

namespace aiospec::ref {

VirtualSelector::VirtualSelector(std::unique_ptr<Selector> inner, Clock& clock, TimeKeeper& keeper)
    : inner_(std::move(inner)), clock_(clock), keeper_(keeper) {}

std::vector<ReadyEvent> VirtualSelector::select(std::optional<double> timeout) {
  keeper_.before_poll(timeout);
  // Only a 3.13-style clamp produces a NaN timeout. A real selector rejects it; the oracle's is
  // CPython's DefaultSelector (epoll), whose select() fails in math.ceil(timeout * 1e3), and that
  // is the error the world raises here whatever the inner backend (select(2) would word it
  // differently: "Invalid value NaN (not a number)").
  if (timeout && std::isnan(*timeout)) throw ValueError("cannot convert float NaN to integer");
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

}  // namespace aiospec::ref
