// Lib/selectors.py's bookkeeping, errors and event mapping, on real descriptors.
#include "aiospec/ref/selectors.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "aiospec/ref/exceptions.hpp"
#include "test_loop.hpp"

namespace aiospec::ref {
namespace {

using testing::SocketPair;

class SelectorByBackend : public ::testing::TestWithParam<const char*> {};

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
  EXPECT_STREQ(selector->name(), GetParam());
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

INSTANTIATE_TEST_SUITE_P(Backends, SelectorByBackend, ::testing::Values("select", "poll"));

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

TEST(Selectors, NanTimeoutIsRejectedLikePython) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(message_of<ValueError>([&] { make_selector("poll")->select(nan); }),
            "cannot convert float NaN to integer");
  EXPECT_EQ(message_of<ValueError>([&] { make_selector("select")->select(nan); }),
            "Invalid value NaN (not a number)");
}

TEST(Selectors, MakeSelector) {
  EXPECT_EQ(available_backends(), (std::vector<std::string>{"select", "poll"}));
  EXPECT_THROW(make_selector("epoll"), ValueError);
}

}  // namespace
}  // namespace aiospec::ref
