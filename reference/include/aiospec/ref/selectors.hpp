// Lib/selectors.py: the Selector seam and the select(2), poll(2) and epoll(7) selectors, and
// a readiness selector on io_uring (when built with liburing; it lives in io_uring_selector.cpp).
// Unlike Python's, these keep no per-descriptor data: the loop keeps its reader/writer handles
// itself (selector_events.cpp), the selector only knows which events each descriptor wants.
#pragma once

#include <poll.h>
#include <sys/epoll.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace aiospec::ref {

enum : unsigned { EVENT_READ = 1, EVENT_WRITE = 2 };

struct ReadyEvent {
  int fd;
  unsigned mask;  // EVENT_READ | EVENT_WRITE, already masked with the registered events
  friend bool operator==(const ReadyEvent&, const ReadyEvent&) = default;
};

class Selector {
 public:
  virtual ~Selector() = default;
  virtual const char* name() const = 0;  // "select", "poll", "epoll", "io_uring"
  // KeyError if already registered; ValueError for bad events or a negative fd.
  virtual void register_fd(int fd, unsigned events) = 0;
  virtual void modify(int fd, unsigned events) = 0;  // KeyError if not registered
  virtual void unregister(int fd) = 0;               // KeyError if not registered
  // nullopt blocks until something is ready; a timeout <= 0 only polls.
  virtual std::vector<ReadyEvent> select(std::optional<double> timeout) = 0;
  virtual void close() {}
};

// "select" | "poll" | "epoll" | "io_uring"; ValueError otherwise (io_uring also when this build
// has no liburing). The one place a backend plugs in.
std::unique_ptr<Selector> make_selector(std::string_view backend);
// The backends this build has, whether or not the kernel allows them (io_uring is listed
// whenever it was compiled in, so a build registers the same tests on every machine).
std::vector<std::string> available_backends();

// make_selector() of a backend this build has but the kernel refuses (io_uring with
// kernel.io_uring_disabled, under seccomp, or on a kernel without it). Not a Python exception:
// asyncio has no such backend, and no loop was made. The conformance adapter reports it as
// UNSUPPORTED with what().
class BackendUnavailable : public std::runtime_error {
 public:
  BackendUnavailable(std::string backend, const std::string& reason)
      : std::runtime_error(reason), backend_(std::move(backend)) {}
  const std::string& backend() const { return backend_; }

 private:
  std::string backend_;
};

// Why this machine refuses `backend` (BackendUnavailable's what()), or nullopt when a selector
// of it can be made here: what a tool says once per backend, before running anything on it.
std::optional<std::string> why_unavailable(std::string_view backend);

// An OSError as CPython raises it from a failed system call: the errno's subclass
// (PermissionError, FileExistsError, FileNotFoundError, else OSError), "[Errno N] strerror".
[[noreturn]] void raise_os_error(int error);

// EpollSelector.select's timeout as epoll_wait's milliseconds: None -> -1, <= 0 -> 0, else
// math.ceil(timeout * 1e3) * 1e-3 seconds, which select.epoll.poll rounds up to milliseconds
// again; with their errors (NaN: ValueError "cannot convert float NaN to integer"). The io_uring
// selector waits by the same rule, so the two agree.
int epoll_timeout_milliseconds(std::optional<double> timeout);

// When a wait of `ms` milliseconds (poll(2)'s, epoll_wait's, io_uring's) that starts now ends:
// what a retry after EINTR waits for (PEP 475). Only a finite wait (ms > 0) reads the clock; for
// any other the result is meaningless, and not used.
std::chrono::steady_clock::time_point wait_deadline(int ms);

// PollSelector's two translations, which the io_uring selector shares (its polls are poll(2)'s
// masks): EVENT_READ/EVENT_WRITE as POLLIN/POLLOUT, and a revents mask back as Python maps it,
// on purpose loose (POLLHUP/POLLERR/POLLNVAL count as both directions; the caller masks the
// result with what the descriptor is registered for).
short poll_events(unsigned events);
unsigned events_of_revents(unsigned revents);

// _BaseSelectorImpl's fd -> events map, with its checks and messages. Shared by composition.
class SelectorMap {
 public:
  void add(int fd, unsigned events);  // register()
  unsigned remove(int fd);            // unregister(); returns the events it had
  unsigned& at(int fd);               // modify()'s lookup
  std::optional<unsigned> get(int fd) const;
  std::size_t size() const { return fd_to_events_.size(); }
  void clear() { fd_to_events_.clear(); }

 private:
  std::map<int, unsigned> fd_to_events_;
};

// selectors.SelectSelector. Ready descriptors come back in ascending fd order (Python returns
// them in set order, which for small descriptors is almost the same; no scenario relies on it).
class SelectSelector final : public Selector {
 public:
  const char* name() const override { return "select"; }
  void register_fd(int fd, unsigned events) override;
  void modify(int fd, unsigned events) override;
  void unregister(int fd) override;
  std::vector<ReadyEvent> select(std::optional<double> timeout) override;
  void close() override;

 private:
  SelectorMap map_;
  std::set<int> readers_, writers_;
};

// selectors.PollSelector. Ready descriptors come back in registration order, as poll(2) reports
// them (select.poll keeps a dict, so modify() keeps a descriptor's place).
class PollSelector final : public Selector {
 public:
  const char* name() const override { return "poll"; }
  void register_fd(int fd, unsigned events) override;
  void modify(int fd, unsigned events) override;
  void unregister(int fd) override;
  std::vector<ReadyEvent> select(std::optional<double> timeout) override;
  void close() override;

 private:
  SelectorMap map_;
  std::vector<pollfd> pollfds_;  // registration order
};

// selectors.EpollSelector, level-triggered as Python's. Ready descriptors come back in the
// kernel's ready-list order.
class EpollSelector final : public Selector {
 public:
  EpollSelector();  // epoll_create1(EPOLL_CLOEXEC); OSError on failure
  ~EpollSelector() override;
  EpollSelector(const EpollSelector&) = delete;
  EpollSelector& operator=(const EpollSelector&) = delete;

  const char* name() const override { return "epoll"; }
  void register_fd(int fd, unsigned events) override;
  void modify(int fd, unsigned events) override;
  void unregister(int fd) override;
  std::vector<ReadyEvent> select(std::optional<double> timeout) override;
  void close() override;

 private:
  SelectorMap map_;
  int epfd_ = -1;
  std::vector<epoll_event> events_;  // epoll_wait's answer, kept to reuse its storage
};

}  // namespace aiospec::ref
