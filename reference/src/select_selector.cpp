// selectors.SelectSelector over select(2).
#include <sys/select.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <system_error>

#include "aiospec/ref/exceptions.hpp"
#include "aiospec/ref/selectors.hpp"

namespace aiospec::ref {

namespace {

using Nanoseconds = std::chrono::nanoseconds;

// select.select's timeout: seconds -> nanoseconds rounded up (_PyTime_ROUND_TIMEOUT), never
// shorter than asked; then microseconds rounded up again when it becomes a timeval.
Nanoseconds to_nanoseconds(double timeout) {
  if (std::isnan(timeout)) throw ValueError("Invalid value NaN (not a number)");
  const double ns = std::ceil(timeout * 1e9);
  if (!(ns < 9.2e18)) throw Error("OverflowError", "timeout doesn't fit into C timeval");
  return Nanoseconds{static_cast<Nanoseconds::rep>(ns)};
}

timeval to_timeval(Nanoseconds ns) {
  const auto us = (ns.count() + 999) / 1000;
  return timeval{static_cast<time_t>(us / 1'000'000), static_cast<suseconds_t>(us % 1'000'000)};
}

}  // namespace

void SelectSelector::register_fd(int fd, unsigned events) {
  if (fd >= FD_SETSIZE) throw ValueError("filedescriptor out of range in select()");
  map_.add(fd, events);
  if (events & EVENT_READ) readers_.insert(fd);
  if (events & EVENT_WRITE) writers_.insert(fd);
}

void SelectSelector::modify(int fd, unsigned events) {
  // _BaseSelectorImpl.modify: a change of events is an unregister plus a register.
  if (map_.at(fd) != events) {
    unregister(fd);
    register_fd(fd, events);
  }
}

void SelectSelector::unregister(int fd) {
  map_.remove(fd);
  readers_.erase(fd);
  writers_.erase(fd);
}

std::vector<ReadyEvent> SelectSelector::select(std::optional<double> timeout) {
  using Clock = std::chrono::steady_clock;
  std::optional<Nanoseconds> wait;
  if (timeout) wait = to_nanoseconds(std::max(*timeout, 0.0));
  // The clock is read only for a finite wait, the one a retry needs (PEP 475).
  const auto deadline = wait && wait->count() > 0 ? Clock::now() + *wait : Clock::time_point{};

  fd_set r, w;
  int maxfd = -1;
  while (true) {
    FD_ZERO(&r);
    FD_ZERO(&w);
    for (int fd : readers_) FD_SET(fd, &r);
    for (int fd : writers_) FD_SET(fd, &w);
    maxfd = std::max(readers_.empty() ? -1 : *readers_.rbegin(),
                     writers_.empty() ? -1 : *writers_.rbegin());
    timeval tv{};
    if (wait) tv = to_timeval(*wait);
    if (::select(maxfd + 1, &r, &w, nullptr, wait ? &tv : nullptr) >= 0) break;
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "select");
    // PEP 475: retry with what is left of the timeout.
    if (wait) {
      if (wait->count() == 0) return {};
      wait = std::chrono::duration_cast<Nanoseconds>(deadline - Clock::now());
      if (wait->count() < 0) return {};
    }
  }

  std::vector<ReadyEvent> ready;
  for (int fd = 0; fd <= maxfd; ++fd) {
    const unsigned events =
        (FD_ISSET(fd, &r) ? EVENT_READ : 0u) | (FD_ISSET(fd, &w) ? EVENT_WRITE : 0u);
    if (events == 0) continue;
    if (const auto registered = map_.get(fd)) ready.push_back({fd, events & *registered});
  }
  return ready;
}

void SelectSelector::close() {
  map_.clear();
  readers_.clear();
  writers_.clear();
}

}  // namespace aiospec::ref
