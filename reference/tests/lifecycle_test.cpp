// run_forever / stop / close and their errors, with CPython's messages (LIF-*).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <vector>

#include "aiospec/ref/exceptions.hpp"
#include "test_loop.hpp"

namespace aiospec::ref::testing {
namespace {

using Order = std::vector<std::string>;

// The message of the RuntimeError `fn` throws ("" when it does not throw one).
std::string runtime_error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const RuntimeError& e) {
    EXPECT_EQ(e.python_type(), "RuntimeError");
    return e.what();
  }
  return "";
}

TEST(Lifecycle, StopBeforeRunForeverRunsExactlyOneIterationWithZeroTimeout) {
  VirtualWorld w;
  w.loop->call_later(0.0, w.record("later0"));
  w.loop->call_later(1.0, w.record("later1"));
  w.loop->stop();
  w.loop->run_forever();
  EXPECT_EQ(w.log, (Order{"later0"}));
  EXPECT_EQ(w.keeper.timeouts(), (std::vector<std::optional<double>>{0.0}));
  EXPECT_FALSE(w.loop->is_running());
}

TEST(Lifecycle, RunningStateInsideAndOutside) {
  VirtualWorld w;
  EXPECT_EQ(runtime_error_of([] { get_running_loop(); }), "no running event loop");
  w.loop->call_soon([&] {
    EXPECT_TRUE(w.loop->is_running());
    EXPECT_EQ(get_running_loop(), w.loop.get());
    w.loop->stop();
  });
  w.loop->run_forever();
  EXPECT_FALSE(w.loop->is_running());
  EXPECT_EQ(running_loop_or_null(), nullptr);
}

TEST(Lifecycle, RunForeverErrorsInCPythonsOrder) {
  VirtualWorld w;
  VirtualWorld other;
  VirtualWorld closed;
  closed.loop->close();
  EXPECT_EQ(runtime_error_of([&] { closed.loop->run_forever(); }), "Event loop is closed");
  std::vector<std::string> errors;
  w.loop->call_soon([&] {
    errors.push_back(runtime_error_of([&] { w.loop->run_forever(); }));
    errors.push_back(runtime_error_of([&] { other.loop->run_forever(); }));
    errors.push_back(runtime_error_of([&] { closed.loop->run_forever(); }));  // closed comes first
    // The failed attempts changed nothing (CPython 3.8-3.12; 3.13 clears the running loop).
    EXPECT_TRUE(w.loop->is_running());
    EXPECT_EQ(get_running_loop(), w.loop.get());
    w.loop->stop();
  });
  w.loop->run_forever();
  EXPECT_EQ(errors, (Order{"This event loop is already running",
                           "Cannot run the event loop while another loop is running",
                           "Event loop is closed"}));
}

TEST(Lifecycle, ClosedLoopRefusesWork) {
  VirtualWorld w;
  w.loop->close();
  const std::string closed = "Event loop is closed";
  EXPECT_EQ(runtime_error_of([&] { w.loop->call_soon([] {}); }), closed);
  EXPECT_EQ(runtime_error_of([&] { w.loop->call_soon_threadsafe([] {}); }), closed);
  EXPECT_EQ(runtime_error_of([&] { w.loop->call_at(1.0, [] {}); }), closed);
  EXPECT_EQ(runtime_error_of([&] { w.loop->call_later(1.0, [] {}); }), closed);
  EXPECT_EQ(runtime_error_of([&] { w.loop->add_reader(0, [] {}); }), closed);
  EXPECT_EQ(runtime_error_of([&] { w.loop->add_writer(1, [] {}); }), closed);
  EXPECT_FALSE(w.loop->remove_reader(0));
  EXPECT_FALSE(w.loop->remove_writer(1));
  EXPECT_TRUE(w.loop->is_closed());
}

TEST(Lifecycle, CloseWhileRunningFailsAndCloseIsIdempotent) {
  VirtualWorld w;
  std::string error;
  w.loop->call_soon([&] {
    error = runtime_error_of([&] { w.loop->close(); });
    w.loop->stop();
  });
  w.loop->run_forever();
  EXPECT_EQ(error, "Cannot close a running event loop");
  EXPECT_FALSE(w.loop->is_closed());
  w.loop->close();
  w.loop->close();
  EXPECT_TRUE(w.loop->is_closed());
}

TEST(Lifecycle, CloseDropsReadyAndScheduled) {
  VirtualWorld w;
  w.loop->call_soon(w.record("never"));
  auto timer = w.loop->call_later(1.0, w.record("never"));
  w.loop->close();
  EXPECT_EQ(w.loop->ready_count(), 0u);
  EXPECT_EQ(w.loop->scheduled_count(), 0u);
  EXPECT_TRUE(timer->scheduled);  // CPython clears the list, not the flags
  EXPECT_TRUE(w.log.empty());
}

TEST(Lifecycle, StopIsResetWhenRunForeverReturns) {
  VirtualWorld w;
  w.loop->stop();
  w.loop->run_forever();
  w.loop->call_soon(w.record("first"));
  w.loop->call_later(1.0, [&] {
    w.log.push_back("second");
    w.loop->stop();
  });
  w.loop->run_forever();  // would stop after one iteration if stopping_ had stuck
  EXPECT_EQ(w.log, (Order{"first", "second"}));
}

TEST(Lifecycle, WouldBlockForeverLeavesTheLoopConsistent) {
  VirtualWorld w;
  w.loop->call_soon(w.record("a"));
  EXPECT_THROW(w.loop->run_forever(), WouldBlockForever);
  EXPECT_FALSE(w.loop->is_running());
  EXPECT_EQ(running_loop_or_null(), nullptr);
  EXPECT_EQ(w.log, (Order{"a"}));
  w.loop->stop();
  w.loop->run_forever();  // usable again
}

TEST(Lifecycle, DestructorClosesTheLoopAndItsSelfPipe) {
  int probe[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, probe), 0);
  ::close(probe[0]);
  ::close(probe[1]);
  { VirtualWorld w; }
  int again[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, again), 0);
  EXPECT_EQ(again[0], probe[0]);  // the self-pipe's descriptors were given back
  ::close(again[0]);
  ::close(again[1]);
}

TEST(Lifecycle, RealTimeLoopRunsTimersInOrder) {
  EventLoop loop("select");
  Order log;
  const double start = loop.time();
  loop.call_later(0.02, [&] {
    log.push_back("b");
    loop.stop();
  });
  loop.call_later(0.01, [&] { log.push_back("a"); });
  loop.run_forever();
  EXPECT_EQ(log, (Order{"a", "b"}));
  EXPECT_GE(loop.time() - start, 0.02);
}

}  // namespace
}  // namespace aiospec::ref::testing
