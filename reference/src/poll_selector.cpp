// selectors.PollSelector over poll(2).
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cmath>
#include <system_error>

#include "aiospec/ref/exceptions.hpp"
#include "aiospec/ref/selectors.hpp"

namespace aiospec::ref {

short poll_events(unsigned events) {
  return static_cast<short>(((events & EVENT_READ) ? POLLIN : 0) |
                            ((events & EVENT_WRITE) ? POLLOUT : 0));
}

unsigned events_of_revents(unsigned revents) {
  return ((revents & ~unsigned{POLLIN}) ? EVENT_WRITE : 0u) | ((revents & ~unsigned{POLLOUT}) ? EVENT_READ : 0u);
}

namespace {

// _PollLikeSelector.select: "poll() has a resolution of 1 millisecond, round away from zero to
// wait *at least* timeout seconds": math.ceil(timeout * 1e3), with math.ceil's errors.
int to_milliseconds(std::optional<double> timeout) {
  if (!timeout) return -1;
  if (*timeout <= 0) return 0;
  if (std::isnan(*timeout)) throw ValueError("cannot convert float NaN to integer");
  const double ms = std::ceil(*timeout * 1e3);
  if (std::isinf(ms)) throw Error("OverflowError", "cannot convert float infinity to integer");
  if (ms > INT_MAX) throw Error("OverflowError", "Python int too large to convert to C int");
  return static_cast<int>(ms);
}

}  // namespace

void PollSelector::register_fd(int fd, unsigned events) {
  map_.add(fd, events);
  pollfds_.push_back(pollfd{fd, poll_events(events), 0});
}

void PollSelector::modify(int fd, unsigned events) {
  unsigned& registered = map_.at(fd);
  if (registered == events) return;
  registered = events;
  // select.poll.modify keeps the descriptor's place in the poll array.
  for (auto& p : pollfds_) {
    if (p.fd == fd) p.events = poll_events(events);
  }
}

void PollSelector::unregister(int fd) {
  map_.remove(fd);
  std::erase_if(pollfds_, [fd](const pollfd& p) { return p.fd == fd; });
}

std::vector<ReadyEvent> PollSelector::select(std::optional<double> timeout) {
  using Clock = std::chrono::steady_clock;
  int ms = to_milliseconds(timeout);
  const auto deadline = wait_deadline(ms);
  for (auto& p : pollfds_) p.revents = 0;
  while (::poll(pollfds_.data(), pollfds_.size(), ms) < 0) {
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "poll");
    // PEP 475: retry with what is left of the timeout.
    if (ms > 0) {
      const auto left = deadline - Clock::now();
      if (left.count() < 0) return {};
      ms = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
    }
  }

  std::vector<ReadyEvent> ready;
  for (const auto& p : pollfds_) {
    if (p.revents == 0) continue;
    const unsigned events = events_of_revents(static_cast<unsigned short>(p.revents));
    if (const auto registered = map_.get(p.fd)) ready.push_back({p.fd, events & *registered});
  }
  return ready;
}

void PollSelector::close() {
  map_.clear();
  pollfds_.clear();
}

}  // namespace aiospec::ref
