// selectors.EpollSelector over epoll(7): the selector CPython's asyncio uses on Linux, and so the
// one the oracle's traces were made with (its VirtualSelector wraps selectors.DefaultSelector).
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cmath>

#include "aiospec/ref/exceptions.hpp"
#include "aiospec/ref/selectors.hpp"

namespace aiospec::ref {

namespace {

std::uint32_t epoll_events(unsigned events) {
  return ((events & EVENT_READ) ? EPOLLIN : 0u) | ((events & EVENT_WRITE) ? EPOLLOUT : 0u);
}

}  // namespace

int epoll_timeout_milliseconds(std::optional<double> timeout) {
  if (!timeout) return -1;
  if (*timeout <= 0) return 0;
  // EpollSelector.select: "epoll_wait() has a resolution of 1 millisecond, round away from zero
  // to wait *at least* timeout seconds".
  if (std::isnan(*timeout)) throw ValueError("cannot convert float NaN to integer");
  const double ms = std::ceil(*timeout * 1e3);
  if (std::isinf(ms)) throw Error("OverflowError", "cannot convert float infinity to integer");
  // select.epoll.poll(ms * 1e-3): seconds -> nanoseconds rounded up (_PyTime_ROUND_TIMEOUT),
  // then milliseconds rounded up (_PyTime_ROUND_CEILING). Usually `ms` again, but the float
  // product is not always exact, and this is CPython's arithmetic, not an approximation of it.
  const double ns = std::ceil(ms * 1e-3 * 1e9);
  if (!(ns < 9.2e18)) throw Error("OverflowError", "timestamp too large to convert to C _PyTime_t");
  const auto whole_ns = static_cast<long long>(ns);
  const long long milliseconds = whole_ns / 1'000'000 + (whole_ns % 1'000'000 != 0 ? 1 : 0);
  if (milliseconds > INT_MAX) throw Error("OverflowError", "timeout is too large");
  return static_cast<int>(milliseconds);
}

EpollSelector::EpollSelector() : epfd_(::epoll_create1(EPOLL_CLOEXEC)) {
  if (epfd_ < 0) raise_os_error(errno);
}

EpollSelector::~EpollSelector() { close(); }

void EpollSelector::register_fd(int fd, unsigned events) {
  // _PollLikeSelector.register: the map first, then the kernel; undone if the kernel refuses.
  map_.add(fd, events);
  epoll_event ev{};
  ev.events = epoll_events(events);
  ev.data.fd = fd;
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0) {
    const int error = errno;
    map_.remove(fd);
    raise_os_error(error);
  }
}

void EpollSelector::modify(int fd, unsigned events) {
  unsigned& registered = map_.at(fd);
  if (registered == events) return;
  epoll_event ev{};
  ev.events = epoll_events(events);
  ev.data.fd = fd;
  if (::epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) < 0) {
    // _PollLikeSelector.modify: a descriptor the kernel refuses to modify is unregistered.
    const int error = errno;
    map_.remove(fd);
    raise_os_error(error);
  }
  registered = events;
}

void EpollSelector::unregister(int fd) {
  map_.remove(fd);
  // _PollLikeSelector.unregister ignores the OSError: "This can happen if the FD was closed
  // since it was registered" (closing it already took it out of the epoll set).
  epoll_event ev{};
  (void)::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, &ev);
}

std::vector<ReadyEvent> EpollSelector::select(std::optional<double> timeout) {
  using Clock = std::chrono::steady_clock;
  int ms = epoll_timeout_milliseconds(timeout);
  if (epfd_ < 0) throw ValueError("I/O operation on closed epoll object");
  const auto deadline = wait_deadline(ms);
  // "epoll_wait() expects `maxevents` to be greater than zero; we want to make sure that
  // `select()` can be called when no FD is registered." (Kept between calls: its storage.)
  events_.resize(std::max<std::size_t>(map_.size(), 1));
  int n;
  while ((n = ::epoll_wait(epfd_, events_.data(), static_cast<int>(events_.size()), ms)) < 0) {
    if (errno != EINTR) raise_os_error(errno);
    // PEP 475 (select.epoll.poll): retry with what is left of the timeout.
    if (ms > 0) {
      const auto left = deadline - Clock::now();
      if (left.count() < 0) return {};
      ms = static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
    }
  }

  std::vector<ReadyEvent> ready;
  for (int i = 0; i < n; ++i) {
    const std::uint32_t got = events_[i].events;
    // As PollSelector: anything but EPOLLIN counts as writable, anything but EPOLLOUT as
    // readable (EPOLLHUP and EPOLLERR as both), then masked by what the descriptor wants.
    const unsigned mask =
        ((got & ~std::uint32_t{EPOLLIN}) ? EVENT_WRITE : 0u) | ((got & ~std::uint32_t{EPOLLOUT}) ? EVENT_READ : 0u);
    if (const auto registered = map_.get(events_[i].data.fd)) ready.push_back({events_[i].data.fd, mask & *registered});
  }
  return ready;
}

void EpollSelector::close() {
  map_.clear();
  if (epfd_ >= 0) ::close(epfd_);
  epfd_ = -1;
}

}  // namespace aiospec::ref
