// The kernel's part of socketpair_pingpong, alone: the same one-byte round trips on the same kind
// of descriptors, waiting for readability with nothing but the system calls of one readiness
// mechanism. No loop, no callbacks, no handles. Each waiter also has an idle descriptor
// registered, as each loop has its wake-up descriptor (the reference's self-pipe, libuv's
// eventfd).
//
// What a loop adds is its ping-pong minus its mechanism's floor. The floor of io_uring is the
// io_uring selector's protocol (reference/src/io_uring_selector.cpp) and nothing else: multishot
// polls armed once, completions read from the ring, the level asked with one poll(2) of the
// descriptors that woke or were reported last time, and a wait in io_uring_enter only when none
// is ready. A floor above libuv's whole ping-pong is a ratio no loop on that mechanism reaches.
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#if AIOSPEC_BENCH_IO_URING
#include <liburing.h>
#endif

#include "cases.hpp"
#include "common.hpp"

namespace aiospec::bench {

namespace {

[[noreturn]] void fail(const char* call, int error = errno) {
  throw std::system_error(error, std::generic_category(), call);
}

// Waits until one of the registered descriptors is readable and returns it (the ping-pong has
// exactly one ready at a time; anything else is the case failing).
class Waiter {
 public:
  virtual ~Waiter() = default;
  virtual int wait() = 0;
};

class EpollWaiter final : public Waiter {
 public:
  explicit EpollWaiter(const std::vector<int>& fds) : epfd_(::epoll_create1(EPOLL_CLOEXEC)) {
    if (epfd_ < 0) fail("epoll_create1");
    for (const int fd : fds) {
      epoll_event event{};
      event.events = EPOLLIN;  // level-triggered, as libuv's and the reference's
      event.data.fd = fd;
      if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &event) != 0) fail("epoll_ctl");
    }
  }
  ~EpollWaiter() override { ::close(epfd_); }
  int wait() override {
    epoll_event events[4];
    int n;
    while ((n = ::epoll_wait(epfd_, events, 4, -1)) < 0) {
      if (errno != EINTR) fail("epoll_wait");
    }
    if (n != 1) throw std::runtime_error("epoll_wait: not exactly one descriptor ready");
    return events[0].data.fd;
  }

 private:
  int epfd_;
};

class PollWaiter final : public Waiter {
 public:
  explicit PollWaiter(const std::vector<int>& fds) {
    for (const int fd : fds) pollfds_.push_back({fd, POLLIN, 0});
  }
  int wait() override {
    while (::poll(pollfds_.data(), pollfds_.size(), -1) < 0) {
      if (errno != EINTR) fail("poll");
    }
    return only_ready(pollfds_);
  }

  static int only_ready(const std::vector<pollfd>& pollfds) {
    int ready = -1;
    for (const pollfd& p : pollfds) {
      if (p.revents == 0) continue;
      if (ready >= 0) throw std::runtime_error("poll: more than one descriptor ready");
      ready = p.fd;
    }
    if (ready < 0) throw std::runtime_error("poll: no descriptor ready");
    return ready;
  }

 private:
  std::vector<pollfd> pollfds_;
};

class SelectWaiter final : public Waiter {
 public:
  explicit SelectWaiter(const std::vector<int>& fds) : fds_(fds) {}
  int wait() override {
    fd_set readable;
    int ready = -1;
    while (true) {
      FD_ZERO(&readable);
      for (const int fd : fds_) FD_SET(fd, &readable);
      if (::select(*std::max_element(fds_.begin(), fds_.end()) + 1, &readable, nullptr, nullptr, nullptr) >= 0) break;
      if (errno != EINTR) fail("select");
    }
    for (const int fd : fds_) {
      if (!FD_ISSET(fd, &readable)) continue;
      if (ready >= 0) throw std::runtime_error("select: more than one descriptor ready");
      ready = fd;
    }
    if (ready < 0) throw std::runtime_error("select: no descriptor ready");
    return ready;
  }

 private:
  std::vector<int> fds_;
};

#if AIOSPEC_BENCH_IO_URING
class IoUringWaiter final : public Waiter {
 public:
  explicit IoUringWaiter(const std::vector<int>& fds) {
    io_uring_params params{};
    params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
    if (const int rc = io_uring_queue_init_params(64, &ring_, &params); rc < 0) {
      throw std::runtime_error(std::string("unavailable: io_uring_setup: ") + std::strerror(-rc));
    }
    for (const int fd : fds) {
      io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
      io_uring_prep_poll_multishot(sqe, fd, POLLIN);
      io_uring_sqe_set_data64(sqe, static_cast<std::uint64_t>(fd));
    }
    if (const int rc = io_uring_submit(&ring_); rc < 0) fail("io_uring_submit", -rc);
  }
  ~IoUringWaiter() override { io_uring_queue_exit(&ring_); }

  int wait() override {
    // 1. the wake-ups of the past and 2. the descriptor reported last time: their level now.
    recheck_.clear();
    if (last_ >= 0) recheck_.push_back({last_, POLLIN, 0});
    drain(recheck_);
    std::sort(recheck_.begin(), recheck_.end(), [](const pollfd& a, const pollfd& b) { return a.fd < b.fd; });
    recheck_.erase(std::unique(recheck_.begin(), recheck_.end(), [](const pollfd& a, const pollfd& b) { return a.fd == b.fd; }),
                   recheck_.end());
    if (!recheck_.empty()) {
      int n;
      while ((n = ::poll(recheck_.data(), recheck_.size(), 0)) < 0) {
        if (errno != EINTR) fail("poll");
      }
      if (n > 0) return last_ = PollWaiter::only_ready(recheck_);
    }
    // 3. none is: wait for a wake-up, and report it.
    woke_.clear();
    while (woke_.empty()) {
      if (const int rc = io_uring_submit_and_wait(&ring_, 1); rc < 0 && rc != -EINTR) fail("io_uring_enter", -rc);
      drain(woke_);
    }
    if (woke_.size() != 1) throw std::runtime_error("io_uring: more than one descriptor woke");
    return last_ = woke_.front().fd;
  }

 private:
  void harvest(std::vector<pollfd>& into) {
    unsigned head, seen = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      ++seen;
      if (!(cqe->flags & IORING_CQE_F_MORE)) throw std::runtime_error("io_uring: a multishot poll ended");
      into.push_back({static_cast<int>(cqe->user_data), POLLIN, 0});
    }
    io_uring_cq_advance(&ring_, seen);
  }
  void drain(std::vector<pollfd>& into) {
    harvest(into);
    while (IO_URING_READ_ONCE(*ring_.sq.kflags) & IORING_SQ_TASKRUN) {
      if (const int rc = io_uring_get_events(&ring_); rc < 0 && rc != -EINTR) fail("io_uring_enter", -rc);
      harvest(into);
    }
  }

  io_uring ring_{};
  int last_ = -1;
  std::vector<pollfd> recheck_, woke_;
};
#endif

std::unique_ptr<Waiter> make_waiter(const std::string& mechanism, const std::vector<int>& fds) {
  if (mechanism == "epoll") return std::make_unique<EpollWaiter>(fds);
  if (mechanism == "poll") return std::make_unique<PollWaiter>(fds);
  if (mechanism == "select") return std::make_unique<SelectWaiter>(fds);
#if AIOSPEC_BENCH_IO_URING
  if (mechanism == "io_uring") return std::make_unique<IoUringWaiter>(fds);
#endif
  throw std::runtime_error("unavailable: " + mechanism + " is not built");
}

}  // namespace

std::vector<std::string> floor_mechanisms() {
  std::vector<std::string> out{"select", "poll", "epoll"};
#if AIOSPEC_BENCH_IO_URING
  out.emplace_back("io_uring");
#endif
  return out;
}

void socketpair_pingpong_floor(benchmark::State& state, const std::string& mechanism) {
  SocketPair pair;
  const int idle = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (idle < 0) fail("eventfd");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{idle};
  std::unique_ptr<Waiter> waiter;
  try {
    waiter = make_waiter(mechanism, {idle, pair.client, pair.server});
  } catch (const std::exception& e) {
    const std::string what = e.what();
    state.SkipWithError((what.rfind("unavailable: ", 0) == 0 ? what : "socketpair_pingpong floor: " + what).c_str());
    return;
  }
  try {
    for (auto _ : state) {
      bool io_ok = send_byte(pair.client);
      for (int trip = 0; trip < kRoundTrips && io_ok; ++trip) {
        io_ok = waiter->wait() == pair.server && recv_byte(pair.server) && send_byte(pair.server);
        io_ok = io_ok && waiter->wait() == pair.client && recv_byte(pair.client);
        if (trip + 1 < kRoundTrips) io_ok = io_ok && send_byte(pair.client);
      }
      if (!io_ok) {
        state.SkipWithError("socketpair_pingpong floor: a wait, send or recv went wrong");
        break;
      }
    }
  } catch (const std::exception& e) {
    state.SkipWithError((std::string("socketpair_pingpong floor: ") + e.what()).c_str());
    return;
  }
  state.SetItemsProcessed(state.iterations() * kRoundTrips);
}

}  // namespace aiospec::bench
