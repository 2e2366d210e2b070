// Lib/selectors.py: the Selector seam and the select(2) and poll(2) selectors.
// Unlike Python's, these keep no per-descriptor data: the loop keeps its reader/writer handles
// itself (selector_events.cpp), the selector only knows which events each descriptor wants.
#pragma once

#include <poll.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
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
  virtual const char* name() const = 0;  // "select", "poll"
  // KeyError if already registered; ValueError for bad events or a negative fd.
  virtual void register_fd(int fd, unsigned events) = 0;
  virtual void modify(int fd, unsigned events) = 0;  // KeyError if not registered
  virtual void unregister(int fd) = 0;               // KeyError if not registered
  // nullopt blocks until something is ready; a timeout <= 0 only polls.
  virtual std::vector<ReadyEvent> select(std::optional<double> timeout) = 0;
  virtual void close() {}
};

// "select" | "poll"; ValueError otherwise. The one place a new backend (io_uring) plugs in.
std::unique_ptr<Selector> make_selector(std::string_view backend);
std::vector<std::string> available_backends();

// _BaseSelectorImpl's fd -> events map, with its checks and messages. Shared by composition.
class SelectorMap {
 public:
  void add(int fd, unsigned events);  // register()
  unsigned remove(int fd);            // unregister(); returns the events it had
  unsigned& at(int fd);               // modify()'s lookup
  std::optional<unsigned> get(int fd) const;
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

}  // namespace aiospec::ref
