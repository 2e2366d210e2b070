// A loop on virtual time, wired the way the conformance harness wires it, with the internals
// the tests look at in reach.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aiospec/ref/base_events.hpp"
#include "aiospec/ref/clock.hpp"
#include "aiospec/ref/log.hpp"
#include "aiospec/ref/virtual_time.hpp"
#include "standalone_time_keeper.hpp"

namespace aiospec::ref::testing {

class TestLoop : public EventLoop {
 public:
  using EventLoop::add_reader_handle;
  using EventLoop::add_writer_handle;
  using EventLoop::EventLoop;
  using EventLoop::run_once;

  using EventLoop::check_thread;
  using EventLoop::format_handle;

  std::vector<double> heap_whens() const {
    std::vector<double> whens;
    for (const auto& timer : scheduled_) whens.push_back(timer->when());
    return whens;
  }
};

// A Logger keeping every record (the loop's `asyncio` logger under test).
struct CapturingLogger final : Logger {
  void log(const LogRecord& record) override { records.push_back(record); }
  std::vector<LogRecord> records;
};

struct VirtualWorld {
  explicit VirtualWorld(std::string_view backend = "poll", Profile profile = Profile::for_version(kDefaultVersion)) {
    auto virtual_selector =
        std::make_unique<VirtualSelector>(make_selector(backend), clock, keeper);
    selector = virtual_selector.get();
    loop = std::make_unique<TestLoop>(std::move(virtual_selector), clock, std::move(profile));
    selector->attach(*loop);
  }
  // A loop destroyed unclosed reports it (DBG-08): the tests close theirs.
  ~VirtualWorld() {
    if (loop && !loop->is_closed() && !loop->is_running()) loop->close();
  }
  VirtualWorld(const VirtualWorld&) = delete;
  VirtualWorld& operator=(const VirtualWorld&) = delete;

  // A callback appending `label` to `log`.
  Callback record(std::string label) {
    return [this, label = std::move(label)] { log.push_back(label); };
  }

  VirtualClock clock;
  StandaloneTimeKeeper keeper{clock, 10'000};  // a broken loop fails, never hangs
  VirtualSelector* selector = nullptr;
  std::unique_ptr<TestLoop> loop;
  std::vector<std::string> log;
};

// A VirtualWorld whose loop logs into `logger`: the records its reports wrote, as "LEVEL message".
struct LoggedWorld : VirtualWorld {
  explicit LoggedWorld(Profile profile = Profile::for_version(kDefaultVersion)) : VirtualWorld("poll", std::move(profile)) {
    loop->set_logger(logger);
  }
  // Runs what is queued now (one iteration).
  void run_batch() {
    loop->stop();
    loop->run_forever();
  }
  std::vector<std::string> messages() const {
    std::vector<std::string> out;
    for (const auto& r : logger->records) out.push_back(std::string(level_name(r.level)) + " " + r.message);
    return out;
  }
  std::shared_ptr<CapturingLogger> logger = std::make_shared<CapturingLogger>();
};

// Two connected non-blocking stream sockets, closed at the end of the test (unless a test
// closed one itself and set it to -1).
struct SocketPair {
  SocketPair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) != 0)
      throw std::runtime_error("socketpair");
    a = fds[0];
    b = fds[1];
  }
  ~SocketPair() {
    if (a >= 0) ::close(a);
    if (b >= 0) ::close(b);
  }
  int a, b;
};

}  // namespace aiospec::ref::testing
