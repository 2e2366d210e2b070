// A readiness selector on io_uring (IORING_OP_POLL_ADD): the Selector seam, level-triggered as
// asyncio expects, giving at each select() the answer poll(2) would give at that moment. Built
// only with liburing (reference/CMakeLists.txt); make_selector("io_uring") is its one door.
//
// Waiting. Each registered descriptor has one multishot POLL_ADD in flight (IORING_POLL_ADD_MULTI):
// the kernel posts a completion at every wake-up of the file and the poll stays armed, so a
// select() arms nothing and an idle descriptor costs nothing, however many there are.
//
// Level-triggering. A wake-up says that something happened, not that the file is ready now:
// the data may have been read since, and unread data that woke the poll once does not wake it
// again. So the level is asked of the files themselves, with one poll(2) of timeout 0 over the
// descriptors that may be ready without a wake-up to come:
//   1. those whose wake-ups came before this call (wake-ups of the past: not reported as such);
//   2. those the last select() reported (their callbacks may have left data unread);
//   3. those registered or modified since (their new polls' first answer may not have come yet).
// If that poll(2) finds any ready, select() returns them at once, with what else woke meanwhile.
// Otherwise it waits in io_uring_enter, submitting the registrations and removals queued since
// the last call in the same entry; a wake-up during the wait is reported (poll's mapping of the
// mask). Stale completions never reach the loop: each POLL_ADD's user_data is its descriptor
// and a generation, new for every arm, and only the generation last armed for a registered
// descriptor counts (unregister then register of the same number, or modify, leave the old
// poll's answers behind; the old poll is removed in the next batch). A multishot poll the
// kernel ends (a completion without IORING_CQE_F_MORE) is armed again by the next batch.
//
// Entering the kernel only when needed. IORING_SETUP_TASKRUN_FLAG makes the kernel raise
// IORING_SQ_TASKRUN in the shared ring while wake-ups wait to be run, and keep it raised until
// none is left (one GETEVENTS runs at most a bounded batch of them). So collecting the wake-ups
// of the past costs a memory read when there are none. A kernel that refuses the flag (before
// 5.19) is asked with a GETEVENTS every time, until one brings nothing.
//
// Task work. With IORING_SETUP_COOP_TASKRUN the kernel turns wake-ups into completions when this
// thread enters the kernel anyway (a callback's recv or send), never interrupting it. Not
// DEFER_TASKRUN, which keeps them until a GETEVENTS: then a wake-up the loop caused itself (a
// callback's send to another registered socket, every one of a ping-pong) would cost an
// io_uring_enter in the next select() just to learn which descriptor to re-check (strace: one
// io_uring_enter and one poll per select() with it; one poll and no io_uring_enter without).
//
// Threads. With IORING_SETUP_SINGLE_ISSUER only the creating thread may submit, but an asyncio
// loop may be made on one thread and run on another (examples/thread_loop.cpp): a select() on a
// thread other than the ring's makes a new ring there and arms every registered descriptor on
// it. register_fd/modify/unregister only queue; they never touch the ring.
#include <liburing.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "aiospec/ref/exceptions.hpp"
#include "aiospec/ref/selectors.hpp"

namespace aiospec::ref {

namespace {

// What one select() returns: one entry per descriptor, its events merged, in descriptor order
// (the re-check and the completions may both report one descriptor).
class ReadyList {
 public:
  void add(int fd, unsigned events) {
    if (events != 0) events_.push_back({fd, events});
  }
  bool empty() const { return events_.empty(); }
  std::vector<ReadyEvent> take() {  // merged in place: the one vector select() returns
    std::sort(events_.begin(), events_.end(), [](const ReadyEvent& a, const ReadyEvent& b) { return a.fd < b.fd; });
    std::size_t kept = 0;
    for (std::size_t i = 0; i < events_.size(); ++i) {
      if (kept != 0 && events_[kept - 1].fd == events_[i].fd) {
        events_[kept - 1].mask |= events_[i].mask;
      } else {
        events_[kept++] = events_[i];
      }
    }
    events_.resize(kept);
    return std::move(events_);
  }

 private:
  std::vector<ReadyEvent> events_;
};

class IoUringSelector final : public Selector {
 public:
  IoUringSelector() { open_ring(); }
  ~IoUringSelector() override { close(); }
  IoUringSelector(const IoUringSelector&) = delete;
  IoUringSelector& operator=(const IoUringSelector&) = delete;

  const char* name() const override { return "io_uring"; }
  void register_fd(int fd, unsigned events) override;
  void modify(int fd, unsigned events) override;
  void unregister(int fd) override;
  std::vector<ReadyEvent> select(std::optional<double> timeout) override;
  void close() override;

 private:
  // The submission queue's size; a larger batch is submitted in parts (next_sqe).
  static constexpr unsigned kEntries = 256;

  void open_ring();
  void move_to_this_thread();
  void disarm(int fd);
  io_uring_sqe* next_sqe();
  bool queue_batch();  // false: nothing to submit
  unsigned harvest(ReadyList* ready);
  bool wakeups_waiting() const;  // IORING_SQ_TASKRUN: wake-ups the kernel has not run yet
  void get_events();             // runs them (GETEVENTS): they become completions
  void drain(ReadyList* ready);
  void recheck(ReadyList& ready);

  SelectorMap map_;
  io_uring ring_{};
  bool open_ = false;
  unsigned flags_ = 0;  // the setup flags the kernel accepted
  std::thread::id owner_;
  std::uint32_t generation_ = 0;
  std::map<int, std::uint64_t> armed_;    // fd -> user_data of its multishot POLL_ADD in flight
  std::set<int> to_arm_;                  // registered descriptors to arm in the next batch
  std::vector<std::uint64_t> to_remove_;  // polls in flight that no longer count
  std::vector<int> to_recheck_;           // descriptors the next select() asks poll(2) about (repeats allowed)
  std::vector<pollfd> pollfds_;           // recheck()'s, kept to reuse its storage
};

void IoUringSelector::open_ring() {
  // The most the kernel accepts: a kernel refuses flags newer than itself with EINVAL.
  constexpr unsigned kFlagSets[] = {
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,  // 6.0
      IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,                                 // 5.19
      0,
  };
  io_uring_params params{};
  int rc = -EINVAL;
  for (const unsigned flags : kFlagSets) {
    params = io_uring_params{};
    params.flags = flags;
    rc = io_uring_queue_init_params(kEntries, &ring_, &params);
    if (rc != -EINVAL) break;
  }
  if (rc < 0) {
    throw BackendUnavailable("io_uring", std::string("io_uring is not available on this machine: io_uring_setup: ") +
                                             std::strerror(-rc) +
                                             " (kernel.io_uring_disabled, seccomp, or a kernel without io_uring); "
                                             "use the epoll, poll or select backend");
  }
  open_ = true;
  flags_ = params.flags;
  owner_ = std::this_thread::get_id();
}

void IoUringSelector::move_to_this_thread() {
  // Every poll in flight dies with the old ring, and its completions with it.
  io_uring_queue_exit(&ring_);
  open_ = false;
  open_ring();
  for (const auto& [fd, user_data] : armed_) {
    to_arm_.insert(fd);
    to_recheck_.push_back(fd);
  }
  armed_.clear();
  to_remove_.clear();
}

void IoUringSelector::register_fd(int fd, unsigned events) {
  map_.add(fd, events);
  to_arm_.insert(fd);
  to_recheck_.push_back(fd);
}

void IoUringSelector::modify(int fd, unsigned events) {
  unsigned& registered = map_.at(fd);
  if (registered == events) return;
  registered = events;
  disarm(fd);
  to_arm_.insert(fd);
  to_recheck_.push_back(fd);
}

void IoUringSelector::unregister(int fd) {
  map_.remove(fd);
  disarm(fd);
  to_arm_.erase(fd);
  std::erase(to_recheck_, fd);
}

void IoUringSelector::disarm(int fd) {
  if (const auto it = armed_.find(fd); it != armed_.end()) {
    to_remove_.push_back(it->second);
    armed_.erase(it);
  }
}

io_uring_sqe* IoUringSelector::next_sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) {  // the submission queue is full: this part of the batch goes now
    if (const int rc = io_uring_submit(&ring_); rc < 0) raise_os_error(-rc);
    sqe = io_uring_get_sqe(&ring_);
  }
  return sqe;
}

bool IoUringSelector::queue_batch() {
  const bool any = !to_remove_.empty() || !to_arm_.empty();
  for (const std::uint64_t user_data : to_remove_) {
    io_uring_sqe* sqe = next_sqe();
    io_uring_prep_poll_remove(sqe, user_data);
    io_uring_sqe_set_data64(sqe, 0);  // no descriptor's generation is 0: never reported
  }
  to_remove_.clear();
  for (const int fd : to_arm_) {
    if (++generation_ == 0) ++generation_;
    const std::uint64_t user_data = std::uint64_t{generation_} << 32 | static_cast<std::uint32_t>(fd);
    io_uring_sqe* sqe = next_sqe();
    io_uring_prep_poll_multishot(sqe, fd, static_cast<unsigned short>(poll_events(*map_.get(fd))));
    io_uring_sqe_set_data64(sqe, user_data);
    armed_[fd] = user_data;
  }
  to_arm_.clear();
  return any;
}

// Reads the completions. One of the current poll of a registered descriptor is a wake-up: with
// `ready`, it is reported (a failed poll, EBADF for a descriptor closed before its POLL_ADD was
// submitted, as poll(2) reports POLLNVAL); with nullptr it is of the past, and the descriptor is
// re-checked. A poll the kernel ended is armed again by the next batch.
unsigned IoUringSelector::harvest(ReadyList* ready) {
  unsigned head;
  unsigned seen = 0;
  io_uring_cqe* cqe;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    ++seen;
    const int fd = static_cast<int>(static_cast<std::uint32_t>(cqe->user_data));
    const auto it = armed_.find(fd);
    // A removal's own completion, a poll removed or replaced since, liburing's own timeout.
    if (it == armed_.end() || it->second != cqe->user_data) continue;
    if (!(cqe->flags & IORING_CQE_F_MORE)) {
      armed_.erase(it);
      to_arm_.insert(fd);
    }
    if (ready == nullptr) {
      to_recheck_.push_back(fd);
      continue;
    }
    const unsigned revents = cqe->res < 0 ? unsigned{POLLNVAL} : static_cast<unsigned>(cqe->res);
    ready->add(fd, events_of_revents(revents) & *map_.get(fd));
  }
  io_uring_cq_advance(&ring_, seen);
  return seen;
}

bool IoUringSelector::wakeups_waiting() const {
  return IO_URING_READ_ONCE(*ring_.sq.kflags) & IORING_SQ_TASKRUN;
}

void IoUringSelector::get_events() {
  if (const int rc = io_uring_get_events(&ring_); rc < 0 && rc != -EINTR) raise_os_error(-rc);
}

void IoUringSelector::drain(ReadyList* ready) {
  // Every wake-up that happened before now becomes a completion. One GETEVENTS runs a bounded
  // batch of them (20 on 6.x kernels), so: while the kernel says some wait (TASKRUN_FLAG), or
  // without the flag until an entry brings nothing.
  harvest(ready);
  if (flags_ & IORING_SETUP_TASKRUN_FLAG) {
    while (wakeups_waiting()) {
      get_events();
      harvest(ready);
    }
  } else {
    do {
      get_events();
    } while (harvest(ready) > 0);
  }
}

void IoUringSelector::recheck(ReadyList& ready) {
  std::sort(to_recheck_.begin(), to_recheck_.end());
  to_recheck_.erase(std::unique(to_recheck_.begin(), to_recheck_.end()), to_recheck_.end());
  pollfds_.clear();
  for (const int fd : to_recheck_) pollfds_.push_back({fd, poll_events(*map_.get(fd)), 0});
  to_recheck_.clear();
  if (pollfds_.empty()) return;
  int rc;
  do {
    rc = ::poll(pollfds_.data(), pollfds_.size(), 0);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0) raise_os_error(errno);
  for (const pollfd& p : pollfds_) {
    if (p.revents != 0) ready.add(p.fd, events_of_revents(static_cast<unsigned short>(p.revents)) & *map_.get(p.fd));
  }
}

std::vector<ReadyEvent> IoUringSelector::select(std::optional<double> timeout) {
  using Clock = std::chrono::steady_clock;
  const int ms = epoll_timeout_milliseconds(timeout);  // its errors first, as EpollSelector
  if (!open_) throw ValueError("I/O operation on closed io_uring selector");
  if ((flags_ & IORING_SETUP_SINGLE_ISSUER) && owner_ != std::this_thread::get_id()) move_to_this_thread();
  const auto deadline = wait_deadline(ms);

  ReadyList ready;
  drain(nullptr);  // 1. the wake-ups of the past: re-checked with 2. and 3.
  recheck(ready);
  const bool batch = queue_batch();
  if (!ready.empty() || ms == 0) {
    // No wait: the batch goes (if there is one), and whatever woke meanwhile comes along
    // (drain enters the kernel only if wake-ups wait to be run).
    if (batch) {
      if (const int rc = io_uring_submit(&ring_); rc < 0 && rc != -EINTR) raise_os_error(-rc);
    }
    drain(&ready);
  } else {
    while (true) {
      int rc;
      if (ms < 0) {
        rc = io_uring_submit_and_wait(&ring_, 1);
      } else {
        const auto left = std::max(Clock::duration::zero(), deadline - Clock::now());
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
        __kernel_timespec ts{ns / 1'000'000'000, ns % 1'000'000'000};
        io_uring_cqe* first;
        rc = io_uring_submit_and_wait_timeout(&ring_, &first, 1, &ts, nullptr);
      }
      if (rc < 0 && rc != -ETIME && rc != -EINTR) raise_os_error(-rc);
      drain(&ready);
      if (!ready.empty() || rc == -ETIME) break;
      // Woken by a completion that reports nothing (a removal, a stale generation) or by a
      // signal (PEP 475): wait for what is left of the timeout.
      if (ms > 0 && Clock::now() >= deadline) break;
    }
  }
  std::vector<ReadyEvent> events = ready.take();
  for (const ReadyEvent& e : events) to_recheck_.push_back(e.fd);  // 2. for the next select()
  return events;
}

void IoUringSelector::close() {
  map_.clear();
  armed_.clear();
  to_arm_.clear();
  to_remove_.clear();
  to_recheck_.clear();
  if (open_) io_uring_queue_exit(&ring_);
  open_ = false;
}

}  // namespace

std::unique_ptr<Selector> make_io_uring_selector();  // make_selector's (selectors.cpp)
std::unique_ptr<Selector> make_io_uring_selector() { return std::make_unique<IoUringSelector>(); }

}  // namespace aiospec::ref
