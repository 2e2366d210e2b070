// Lib/selectors.py's bookkeeping, errors and event mapping, on real descriptors.
#include "aiospec/ref/selectors.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "aiospec/ref/exceptions.hpp"
#include "backends.hpp"
#include "test_loop.hpp"

namespace aiospec::ref {
namespace {

using testing::SocketPair;

class SelectorByBackend : public testing::ByBackend {};
using Ready = std::vector<ReadyEvent>;

template <class E>
std::string message_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  }
  return "<no exception>";
}

TEST_P(SelectorByBackend, RegistrationErrorsUsePythonsMessages) {
  auto selector = make_selector(GetParam());
  EXPECT_EQ(selector->name(), GetParam());
  SocketPair s;
  const std::string fd = std::to_string(s.a);
  selector->register_fd(s.a, EVENT_READ);
  EXPECT_EQ(message_of<KeyError>([&] { selector->register_fd(s.a, EVENT_WRITE); }),
            fd + " (FD " + fd + ") is already registered");
  EXPECT_EQ(message_of<ValueError>([&] { selector->register_fd(s.b, 0); }), "Invalid events: 0");
  EXPECT_EQ(message_of<ValueError>([&] { selector->register_fd(s.b, 4); }), "Invalid events: 4");
  EXPECT_EQ(message_of<ValueError>([&] { selector->register_fd(-1, EVENT_READ); }),
            "Invalid file descriptor: -1");
  selector->unregister(s.a);
  EXPECT_EQ(message_of<KeyError>([&] { selector->unregister(s.a); }), fd + " is not registered");
  EXPECT_EQ(message_of<KeyError>([&] { selector->modify(s.a, EVENT_READ); }),
            fd + " is not registered");
}

TEST_P(SelectorByBackend, ReportsOnlyRegisteredEvents) {
  auto selector = make_selector(GetParam());
  SocketPair s;
  selector->register_fd(s.a, EVENT_READ);
  EXPECT_TRUE(selector->select(0.0).empty());  // writable, but only reading was asked for
  ASSERT_EQ(::send(s.b, "x", 1, 0), 1);
  EXPECT_EQ(selector->select(0.0), (std::vector<ReadyEvent>{{s.a, EVENT_READ}}));
  selector->modify(s.a, EVENT_READ | EVENT_WRITE);
  EXPECT_EQ(selector->select(0.0), (std::vector<ReadyEvent>{{s.a, EVENT_READ | EVENT_WRITE}}));
  selector->modify(s.a, EVENT_WRITE);
  EXPECT_EQ(selector->select(std::nullopt), (std::vector<ReadyEvent>{{s.a, EVENT_WRITE}}));
}

TEST_P(SelectorByBackend, TimeoutWaitsAtLeastThatLong) {
  auto selector = make_selector(GetParam());
  SocketPair s;
  selector->register_fd(s.a, EVENT_READ);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(selector->select(0.02).empty());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(20));
  EXPECT_TRUE(selector->select(-5.0).empty());  // negative: just a poll
}

TEST_P(SelectorByBackend, LevelTriggeredUnreadDataStaysReady) {
  auto selector = make_selector(GetParam());
  SocketPair s;
  selector->register_fd(s.a, EVENT_READ);
  EXPECT_EQ(selector->select(0.0), Ready{});
  ASSERT_EQ(::send(s.b, "xy", 2, 0), 2);
  // Not read: every poll reports it again, as poll(2) would.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(selector->select(0.0), (Ready{{s.a, EVENT_READ}})) << i;
  char buf[4];
  ASSERT_EQ(::recv(s.a, buf, 1, 0), 1);
  EXPECT_EQ(selector->select(0.0), (Ready{{s.a, EVENT_READ}}));  // one byte is left
  ASSERT_EQ(::recv(s.a, buf, 1, 0), 1);
  EXPECT_EQ(selector->select(0.0), Ready{});
  EXPECT_EQ(selector->select(0.0), Ready{});
}

TEST_P(SelectorByBackend, AWakeUpWhoseDataWasReadSinceIsNotReported) {
  auto selector = make_selector(GetParam());
  SocketPair s;
  selector->register_fd(s.a, EVENT_READ);
  EXPECT_EQ(selector->select(0.0), Ready{});  // io_uring: its poll is armed now
  ASSERT_EQ(::send(s.b, "x", 1, 0), 1);      // ... and fires
  char buf[2];
  ASSERT_EQ(::recv(s.a, buf, 1, 0), 1);      // read before the next select()
  EXPECT_EQ(selector->select(0.0), Ready{});  // poll(2) would say: not readable
}

TEST_P(SelectorByBackend, ReaderAndWriterOnOneDescriptorAreOneEvent) {
  auto selector = make_selector(GetParam());
  SocketPair s;
  selector->register_fd(s.a, EVENT_READ | EVENT_WRITE);
  EXPECT_EQ(selector->select(0.0), (Ready{{s.a, EVENT_WRITE}}));
  ASSERT_EQ(::send(s.b, "x", 1, 0), 1);
  EXPECT_EQ(selector->select(0.0), (Ready{{s.a, EVENT_READ | EVENT_WRITE}}));
  EXPECT_EQ(selector->select(0.0), (Ready{{s.a, EVENT_READ | EVENT_WRITE}}));
  selector->modify(s.a, EVENT_READ);
  EXPECT_EQ(selector->select(0.0), (Ready{{s.a, EVENT_READ}}));
}

TEST_P(SelectorByBackend, ModifyToTheSameEventsKeepsReporting) {
  auto selector = make_selector(GetParam());
  SocketPair s;
  selector->register_fd(s.a, EVENT_WRITE);
  EXPECT_EQ(selector->select(0.0), (Ready{{s.a, EVENT_WRITE}}));
  selector->modify(s.a, EVENT_WRITE);
  EXPECT_EQ(selector->select(0.0), (Ready{{s.a, EVENT_WRITE}}));
  selector->modify(s.a, EVENT_READ);  // not readable: nothing, not the old writable
  EXPECT_EQ(selector->select(0.0), Ready{});
  selector->modify(s.a, EVENT_WRITE);
  EXPECT_EQ(selector->select(0.0), (Ready{{s.a, EVENT_WRITE}}));
}

TEST_P(SelectorByBackend, ReRegisteredDescriptorNumberGetsNoStaleEvent) {
  auto selector = make_selector(GetParam());
  SocketPair old_pair, quiet;
  selector->register_fd(old_pair.a, EVENT_READ);
  EXPECT_EQ(selector->select(0.0), Ready{});
  ASSERT_EQ(::send(old_pair.b, "x", 1, 0), 1);  // the old file is readable...
  selector->unregister(old_pair.a);
  // ... and the same number is now a quiet socket, registered again.
  ASSERT_EQ(::dup2(quiet.a, old_pair.a), old_pair.a);
  selector->register_fd(old_pair.a, EVENT_READ);
  EXPECT_EQ(selector->select(0.0), Ready{});
  EXPECT_EQ(selector->select(0.0), Ready{});
  ASSERT_EQ(::send(quiet.b, "y", 1, 0), 1);
  EXPECT_EQ(selector->select(0.0), (Ready{{old_pair.a, EVENT_READ}}));
}

TEST_P(SelectorByBackend, UnregisteredDescriptorIsNeverReported) {
  auto selector = make_selector(GetParam());
  SocketPair s, other;
  selector->register_fd(s.a, EVENT_READ);
  selector->register_fd(other.a, EVENT_WRITE);
  ASSERT_EQ(::send(s.b, "x", 1, 0), 1);
  EXPECT_EQ(selector->select(0.0).size(), 2u);
  selector->unregister(s.a);
  EXPECT_EQ(selector->select(0.0), (Ready{{other.a, EVENT_WRITE}}));
}

TEST_P(SelectorByBackend, BlockingWaitEndsWhenAnotherThreadWrites) {
  auto selector = make_selector(GetParam());
  SocketPair s;
  selector->register_fd(s.a, EVENT_READ);
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    (void)::send(s.b, "x", 1, 0);
  });
  EXPECT_EQ(selector->select(std::nullopt), (Ready{{s.a, EVENT_READ}}));
  writer.join();
  char buf[2];
  ASSERT_EQ(::recv(s.a, buf, 1, 0), 1);
  // A timed wait ends early too.
  SocketPair t;
  selector->register_fd(t.a, EVENT_READ);
  const auto start = std::chrono::steady_clock::now();
  std::thread late([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    (void)::send(t.b, "x", 1, 0);
  });
  const Ready ready = selector->select(10.0);
  late.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(ready, (Ready{{t.a, EVENT_READ}}));
}

TEST_P(SelectorByBackend, SelectsWithNothingRegistered) {
  auto selector = make_selector(GetParam());
  EXPECT_EQ(selector->select(0.0), Ready{});
  EXPECT_EQ(selector->select(0.001), Ready{});
}

TEST_P(SelectorByBackend, ManyDescriptors) {
  // More than io_uring's submission queue holds: the batch goes in parts.
  auto selector = make_selector(GetParam());
  if (GetParam() == "select") GTEST_SKIP() << "FD_SETSIZE";
  std::vector<std::unique_ptr<SocketPair>> pairs;
  for (int i = 0; i < 300; ++i) {
    pairs.push_back(std::make_unique<SocketPair>());
    selector->register_fd(pairs.back()->a, i % 2 ? EVENT_READ : EVENT_WRITE);
  }
  EXPECT_EQ(selector->select(0.0).size(), 150u);
  EXPECT_EQ(selector->select(0.0).size(), 150u);
  for (int i = 1; i < 300; i += 2) ASSERT_EQ(::send(pairs[i]->b, "x", 1, 0), 1);
  EXPECT_EQ(selector->select(0.0).size(), 300u);
}

TEST_P(SelectorByBackend, NanTimeout) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto selector = make_selector(GetParam());
  // select.select words it its own way; poll, epoll and io_uring (which waits by epoll's
  // rule) fail in math.ceil.
  EXPECT_EQ(message_of<ValueError>([&] { selector->select(nan); }),
            GetParam() == "select" ? "Invalid value NaN (not a number)" : "cannot convert float NaN to integer");
}

INSTANTIATE_BY_BACKEND(SelectorByBackend);

TEST(Selectors, EpollTimeoutIsEpollSelectorsArithmetic) {
  EXPECT_EQ(epoll_timeout_milliseconds(std::nullopt), -1);
  EXPECT_EQ(epoll_timeout_milliseconds(0.0), 0);
  EXPECT_EQ(epoll_timeout_milliseconds(-1.0), 0);
  EXPECT_EQ(epoll_timeout_milliseconds(1e-9), 1);   // at least the timeout
  EXPECT_EQ(epoll_timeout_milliseconds(0.001), 1);
  EXPECT_EQ(epoll_timeout_milliseconds(0.0015), 2);
  EXPECT_EQ(epoll_timeout_milliseconds(2.5), 2500);
  EXPECT_EQ(message_of<Exception>([] { epoll_timeout_milliseconds(std::numeric_limits<double>::infinity()); }),
            "cannot convert float infinity to integer");
  EXPECT_EQ(message_of<Exception>([] { epoll_timeout_milliseconds(3e6); }), "timeout is too large");
}

TEST(Selectors, EpollRefusesARegularFileAndForgetsIt) {
  // _PollLikeSelector.register: the map entry is undone when the kernel refuses.
  auto selector = make_selector("epoll");
  const int fd = ::open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(message_of<Exception>([&] { selector->register_fd(fd, EVENT_READ); }),
            "[Errno 1] Operation not permitted");
  EXPECT_EQ(message_of<Exception>([&] { selector->register_fd(fd, EVENT_READ); }),
            "[Errno 1] Operation not permitted");  // not "already registered"
  try {
    selector->register_fd(fd, EVENT_READ);
  } catch (const Exception& e) {
    EXPECT_EQ(e.python_type(), "PermissionError");
  }
  ::close(fd);
}

TEST(Selectors, EpollUnregisterOfAClosedDescriptorIsQuiet) {
  auto selector = make_selector("epoll");
  auto s = std::make_unique<SocketPair>();
  const int fd = s->a;
  selector->register_fd(fd, EVENT_READ);
  s.reset();
  selector->unregister(fd);  // epoll_ctl(DEL) fails with EBADF; CPython ignores the OSError
  EXPECT_EQ(message_of<KeyError>([&] { selector->unregister(fd); }), std::to_string(fd) + " is not registered");
}

TEST(Selectors, ClosedSelectorRefusesToSelect) {
  auto selector = make_selector("epoll");
  selector->close();
  EXPECT_EQ(message_of<ValueError>([&] { selector->select(0.0); }), "I/O operation on closed epoll object");
}

TEST(Selectors, SelectReportsInDescriptorOrderPollInRegistrationOrder) {
  SocketPair first, second;
  const int low = std::min(first.a, second.a), high = std::max(first.a, second.a);
  for (const char* backend : {"select", "poll"}) {
    auto selector = make_selector(backend);
    selector->register_fd(high, EVENT_READ);
    selector->register_fd(low, EVENT_WRITE);
    selector->modify(high, EVENT_WRITE);  // keeps its place in poll's array
    const auto ready = selector->select(0.0);
    ASSERT_EQ(ready.size(), 2u) << backend;
    if (std::string(backend) == "select") {
      EXPECT_EQ(ready[0].fd, low);
    } else {
      EXPECT_EQ(ready[0].fd, high);
    }
  }
}

TEST(Selectors, PollCountsHangupAsBothDirections) {
  auto selector = make_selector("poll");
  SocketPair s;
  ::close(s.b);
  s.b = -1;
  selector->register_fd(s.a, EVENT_READ);
  // POLLIN|POLLHUP: Python maps anything but POLLIN to WRITE and anything but POLLOUT to READ,
  // then masks with the registered events.
  EXPECT_EQ(selector->select(0.0), (std::vector<ReadyEvent>{{s.a, EVENT_READ}}));
  selector->modify(s.a, EVENT_READ | EVENT_WRITE);
  EXPECT_EQ(selector->select(0.0), (std::vector<ReadyEvent>{{s.a, EVENT_READ | EVENT_WRITE}}));
}

TEST(Selectors, MakeSelector) {
#if AIOSPEC_HAVE_IO_URING
  EXPECT_EQ(available_backends(), (std::vector<std::string>{"select", "poll", "epoll", "io_uring"}));
#else
  EXPECT_EQ(available_backends(), (std::vector<std::string>{"select", "poll", "epoll"}));
  EXPECT_EQ(message_of<ValueError>([] { make_selector("io_uring"); }),
            "selector backend 'io_uring' was not built (liburing was not found when aiospec was configured)");
#endif
  EXPECT_EQ(message_of<ValueError>([] { make_selector("kqueue"); }),
            "unknown selector backend: 'kqueue' (available: " +
                std::string(available_backends().size() == 4 ? "select, poll, epoll, io_uring" : "select, poll, epoll") +
                ")");
}

#if AIOSPEC_HAVE_IO_URING
TEST(Selectors, IoUringRunsOnAnotherThreadThanItsCreator) {
  // An asyncio loop may be made on one thread and run on another (SINGLE_ISSUER's ring is
  // made again on the thread that selects).
  std::unique_ptr<Selector> selector;
  try {
    selector = make_selector("io_uring");
  } catch (const BackendUnavailable& e) {
    GTEST_SKIP() << e.what();
  }
  SocketPair s;
  selector->register_fd(s.a, EVENT_READ);
  ASSERT_EQ(::send(s.b, "x", 1, 0), 1);
  EXPECT_EQ(selector->select(0.0), (Ready{{s.a, EVENT_READ}}));
  Ready there, again;
  std::thread([&] {
    there = selector->select(0.0);
    again = selector->select(std::nullopt);
  }).join();
  EXPECT_EQ(there, (Ready{{s.a, EVENT_READ}}));
  EXPECT_EQ(again, (Ready{{s.a, EVENT_READ}}));
  EXPECT_EQ(selector->select(0.0), (Ready{{s.a, EVENT_READ}}));  // and back
  selector->close();
  EXPECT_EQ(message_of<ValueError>([&] { selector->select(0.0); }), "I/O operation on closed io_uring selector");
}
#endif

}  // namespace
}  // namespace aiospec::ref
