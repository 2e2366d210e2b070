// A readiness selector on io_uring (IORING_OP_POLL_ADD): the Selector seam, level-triggered as
// asyncio expects, giving at each select() the answer poll(2) would give at that moment. Built
// only with liburing (reference/CMakeLists.txt); make_selector("io_uring") is its one door.
//
// Level-triggering. A multishot poll posts a completion per wake-up, not per select(): unread
// data that woke it once stays silent, and would need a second mechanism to be reported again.
// One-shot polls get it from the kernel itself: a descriptor that fired is armed again by the
// next select(), in the same batch as the changes, and a POLL_ADD on a file that is ready
// completes at once, during that submit (the kernel asks the file, as poll(2) does). So:
//   1. Completions from polls armed by an earlier select() are wake-ups of the past: the data
//      may have been read since. They are not reported; their descriptors are armed again.
//   2. One batch: the registrations, modifications and removals queued since the last call and
//      the re-arms of 1. and of what the last call reported; submitted with the wait.
//   3. A completion of the current generation of its descriptor is reported (poll's mapping of
//      the mask); its descriptor is armed again by the next select().
// Stale completions never reach the loop: each POLL_ADD's user_data is its descriptor and a
// generation, new for every arm, and only the generation last armed for a registered descriptor
// counts (unregister then register of the same number, or modify, leave the old poll's answer
// behind; the old poll is removed in the next batch).
//
// Threads. IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN when the kernel allows them
// (6.1+; completions are then run only when select() asks for them, never interrupting the
// loop's callbacks). With SINGLE_ISSUER only the creating thread may submit, but an asyncio loop
// may be made on one thread and run on another (examples/thread_loop.cpp): a select() on a
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

unsigned poll_events(unsigned events) {
  return ((events & EVENT_READ) ? POLLIN : 0u) | ((events & EVENT_WRITE) ? POLLOUT : 0u);
}

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
  void queue_batch();
  unsigned harvest(std::vector<ReadyEvent>* ready);
  void drain(std::vector<ReadyEvent>* ready);

  SelectorMap map_;
  io_uring ring_{};
  bool open_ = false;
  unsigned flags_ = 0;  // the setup flags the kernel accepted
  std::thread::id owner_;
  std::uint32_t generation_ = 0;
  std::map<int, std::uint64_t> armed_;  // fd -> user_data of its POLL_ADD in flight
  std::set<int> to_arm_;                // registered descriptors to arm in the next batch
  std::vector<std::uint64_t> to_remove_;  // polls in flight that no longer count
};

void IoUringSelector::open_ring() {
  io_uring_params params{};
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  int rc = io_uring_queue_init_params(kEntries, &ring_, &params);
  if (rc == -EINVAL) {  // a kernel before 6.1 refuses the flags, not io_uring
    params = io_uring_params{};
    rc = io_uring_queue_init_params(kEntries, &ring_, &params);
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
  for (const auto& [fd, user_data] : armed_) to_arm_.insert(fd);
  armed_.clear();
  to_remove_.clear();
}

void IoUringSelector::register_fd(int fd, unsigned events) {
  map_.add(fd, events);
  to_arm_.insert(fd);
}

void IoUringSelector::modify(int fd, unsigned events) {
  unsigned& registered = map_.at(fd);
  if (registered == events) return;
  registered = events;
  disarm(fd);
  to_arm_.insert(fd);
}

void IoUringSelector::unregister(int fd) {
  map_.remove(fd);
  disarm(fd);
  to_arm_.erase(fd);
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

void IoUringSelector::queue_batch() {
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
    io_uring_prep_poll_add(sqe, fd, poll_events(*map_.get(fd)));
    io_uring_sqe_set_data64(sqe, user_data);
    armed_[fd] = user_data;
  }
  to_arm_.clear();
}

unsigned IoUringSelector::harvest(std::vector<ReadyEvent>* ready) {
  unsigned head;
  unsigned seen = 0;
  io_uring_cqe* cqe;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    ++seen;
    const int fd = static_cast<int>(static_cast<std::uint32_t>(cqe->user_data));
    const auto it = armed_.find(fd);
    // A removal's own completion, a poll removed or replaced since, liburing's own timeout.
    if (it == armed_.end() || it->second != cqe->user_data) continue;
    armed_.erase(it);
    to_arm_.insert(fd);  // one-shot: it fired, the next batch asks the file again
    if (ready == nullptr) continue;
    // A descriptor closed before its POLL_ADD was submitted fails with EBADF: poll(2) would
    // say POLLNVAL. Then poll's mapping: anything but POLLIN counts as writable, anything but
    // POLLOUT as readable, masked by what the descriptor is registered for.
    const unsigned revents = cqe->res < 0 ? unsigned{POLLNVAL} : static_cast<unsigned>(cqe->res);
    const unsigned events = ((revents & ~unsigned{POLLIN}) ? EVENT_WRITE : 0u) |
                            ((revents & ~unsigned{POLLOUT}) ? EVENT_READ : 0u);
    ready->push_back({fd, events & *map_.get(fd)});
  }
  io_uring_cq_advance(&ring_, seen);
  return seen;
}

void IoUringSelector::drain(std::vector<ReadyEvent>* ready) {
  // One GETEVENTS runs a bounded batch of the deferred wake-ups (the kernel caps local task
  // work per entry), so ask again until an entry brings nothing: every wake-up that happened
  // before now is then a completion.
  do {
    if (const int rc = io_uring_get_events(&ring_); rc < 0 && rc != -EINTR) raise_os_error(-rc);
  } while (harvest(ready) > 0);
}

std::vector<ReadyEvent> IoUringSelector::select(std::optional<double> timeout) {
  using Clock = std::chrono::steady_clock;
  const int ms = epoll_timeout_milliseconds(timeout);  // its errors first, as EpollSelector
  if (!open_) throw ValueError("I/O operation on closed io_uring selector");
  if ((flags_ & IORING_SETUP_SINGLE_ISSUER) && owner_ != std::this_thread::get_id()) move_to_this_thread();
  const auto deadline = Clock::now() + std::chrono::milliseconds(std::max(ms, 0));

  // 1. The wake-ups that came before this call (run now, with DEFER_TASKRUN): armed again.
  if (!armed_.empty()) drain(nullptr);
  // 2. and 3.: one batch, submitted with the wait.
  queue_batch();
  std::vector<ReadyEvent> ready;
  while (true) {
    int rc;
    if (ms == 0) {
      rc = io_uring_submit_and_get_events(&ring_);
    } else if (ms < 0) {
      rc = io_uring_submit_and_wait(&ring_, 1);
    } else {
      const auto left = std::max(Clock::duration::zero(), deadline - Clock::now());
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
      __kernel_timespec ts{ns / 1'000'000'000, ns % 1'000'000'000};
      io_uring_cqe* first;
      rc = io_uring_submit_and_wait_timeout(&ring_, &first, 1, &ts, nullptr);
    }
    if (rc < 0 && rc != -ETIME && rc != -EINTR) raise_os_error(-rc);
    if (harvest(&ready) > 0) drain(&ready);
    if (!ready.empty() || ms == 0 || rc == -ETIME) return ready;
    // Woken by a completion that reports nothing (a removal, a stale generation) or by a signal
    // (PEP 475): wait for what is left of the timeout.
    if (ms > 0 && Clock::now() >= deadline) return ready;
  }
}

void IoUringSelector::close() {
  map_.clear();
  armed_.clear();
  to_arm_.clear();
  to_remove_.clear();
  if (open_) io_uring_queue_exit(&ring_);
  open_ = false;
}

}  // namespace

std::unique_ptr<Selector> make_io_uring_selector();  // make_selector's (selectors.cpp)
std::unique_ptr<Selector> make_io_uring_selector() { return std::make_unique<IoUringSelector>(); }

}  // namespace aiospec::ref
