// One iteration: leftover ready callbacks, then I/O callbacks, then expired timers; exactly one
// batch per iteration; what escapes a callback and what does not (ORD-*).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "aiospec/ref/exceptions.hpp"
#include "backends.hpp"
#include "test_loop.hpp"

namespace aiospec::ref::testing {
namespace {

using Order = std::vector<std::string>;


class RunOnceByBackend : public ByBackend {};

TEST_P(RunOnceByBackend, LeftoverThenIoThenTimers) {
  VirtualWorld w(backend());
  SocketPair sockets;
  ASSERT_EQ(::send(sockets.b, "x", 1, 0), 1);
  w.loop->call_at(-1.0, w.record("timer-past"));
  w.loop->add_writer(sockets.a, w.record("io-write"));
  w.loop->add_reader(sockets.a, w.record("io-read"));  // reader first although added second
  w.loop->call_soon(w.record("soon-1"));
  w.loop->call_soon(w.record("soon-2"));
  w.loop->call_soon([&] { w.loop->stop(); });
  w.loop->run_forever();
  EXPECT_EQ(w.log, (Order{"soon-1", "soon-2", "io-read", "io-write", "timer-past"}));
  EXPECT_EQ(w.keeper.polls(), 1u);
}

TEST_P(RunOnceByBackend, CancelledReaderInAnEventUnregistersItself) {
  VirtualWorld w(backend());
  SocketPair sockets;
  ASSERT_EQ(::send(sockets.b, "x", 1, 0), 1);
  auto reader = w.loop->add_reader_handle(sockets.a, w.record("reader"));
  reader->cancel();  // cancelled without remove_reader, as sock_recv's done callback may
  w.loop->add_writer(sockets.a, w.record("writer"));
  w.loop->stop();
  w.loop->run_forever();
  EXPECT_EQ(w.log, (Order{"writer"}));
  EXPECT_FALSE(w.loop->remove_reader(sockets.a));  // already gone
  EXPECT_TRUE(w.loop->remove_writer(sockets.a));
  EXPECT_FALSE(w.loop->remove_writer(sockets.a));
}

TEST_P(RunOnceByBackend, AddReaderReplacesAndCancelsThePreviousHandle) {
  VirtualWorld w(backend());
  SocketPair sockets;
  ASSERT_EQ(::send(sockets.b, "x", 1, 0), 1);
  auto first = w.loop->add_reader_handle(sockets.a, w.record("first"));
  auto second = w.loop->add_reader_handle(sockets.a, w.record("second"));
  EXPECT_TRUE(first->cancelled());
  EXPECT_FALSE(second->cancelled());
  w.loop->stop();
  w.loop->run_forever();
  EXPECT_EQ(w.log, (Order{"second"}));
  EXPECT_TRUE(w.loop->remove_reader(sockets.a));
  EXPECT_TRUE(second->cancelled());
  EXPECT_FALSE(w.loop->remove_reader(sockets.a));
  EXPECT_FALSE(w.loop->remove_writer(sockets.a));
}

TEST_P(RunOnceByBackend, ReaderMayRemoveItselfWhileRunning) {
  VirtualWorld w(backend());
  SocketPair sockets;
  ASSERT_EQ(::send(sockets.b, "x", 1, 0), 1);
  std::string captured = "kept alive while running";
  w.loop->add_reader(sockets.a, [&, captured] {
    EXPECT_TRUE(w.loop->remove_reader(sockets.a));
    w.log.push_back(captured);  // the lambda's own capture, after its handle was cancelled
    w.loop->stop();
  });
  w.loop->run_forever();
  EXPECT_EQ(w.log, (Order{captured}));
}

INSTANTIATE_BY_BACKEND(RunOnceByBackend);

TEST(RunOnce, OneBatchPerIteration) {
  VirtualWorld w;
  w.loop->call_soon([&] {
    w.log.push_back("a");
    w.loop->call_soon(w.record("scheduled-during-iter"));
    w.loop->stop();
  });
  w.loop->call_soon(w.record("b-after-stop-same-iter"));
  w.loop->run_forever();
  EXPECT_EQ(w.log, (Order{"a", "b-after-stop-same-iter"}));
  EXPECT_EQ(w.loop->ready_count(), 1u);
  w.loop->call_soon([&] { w.loop->stop(); });
  w.loop->run_forever();
  EXPECT_EQ(w.log, (Order{"a", "b-after-stop-same-iter", "scheduled-during-iter"}));
}

TEST(RunOnce, TimeIsSampledOncePerIteration) {
  VirtualWorld w;
  w.loop->call_later(0.5, w.record("timer"));
  w.loop->call_soon([&] {
    w.clock.advance(1.0);  // a slow callback: the timer becomes due meanwhile
    w.log.push_back("slow-done");
    w.loop->call_soon(w.record("soon-A"));
  });
  w.loop->call_soon(w.record("same-iter"));
  w.loop->call_later(2.0, [&] { w.loop->stop(); });
  w.loop->run_forever();
  EXPECT_EQ(w.log, (Order{"slow-done", "same-iter", "soon-A", "timer"}));
}

TEST(RunOnce, CancelledHandleStaysQueuedAndIsSkipped) {
  VirtualWorld w;
  w.loop->call_soon(w.record("a"));
  auto b = w.loop->call_soon(w.record("b"));
  w.loop->call_soon(w.record("c"));
  b->cancel();
  EXPECT_EQ(w.loop->ready_count(), 3u);
  w.loop->stop();
  w.loop->run_forever();
  EXPECT_EQ(w.log, (Order{"a", "c"}));
  EXPECT_EQ(w.loop->ready_count(), 0u);
}

TEST(RunOnce, ExceptionGoesToTheHandlerAndTheBatchGoesOn) {
  VirtualWorld w;
  std::vector<std::string> messages;
  w.loop->set_exception_handler([&](EventLoop&, const ExceptionContext& context) {
    messages.push_back(context.message().value_or("?"));
    try {
      std::rethrow_exception(context.exception());
    } catch (const ValueError& e) {
      messages.push_back(std::string(e.python_type()) + ": " + e.what());
    }
    EXPECT_NE(context.handle(), nullptr);
  });
  w.loop->call_soon(w.record("a"));
  w.loop->call_soon([] { throw ValueError("boom"); });
  w.loop->call_soon(w.record("c"));
  w.loop->stop();
  w.loop->run_forever();
  EXPECT_EQ(w.log, (Order{"a", "c"}));
  EXPECT_EQ(messages, (Order{"Exception in callback callback()", "ValueError: boom"}));
}

TEST(RunOnce, KeyboardInterruptEscapesMidBatchAndTheRestStaysQueued) {
  VirtualWorld w;
  w.loop->call_soon(w.record("a"));
  w.loop->call_soon([&] {
    w.log.push_back("boom");
    w.loop->stop();
    throw KeyboardInterrupt();
  });
  w.loop->call_soon(w.record("c"));
  w.loop->call_soon([&] { w.loop->stop(); });
  EXPECT_THROW(w.loop->run_forever(), KeyboardInterrupt);
  EXPECT_FALSE(w.loop->is_running());
  EXPECT_EQ(running_loop_or_null(), nullptr);
  EXPECT_EQ(w.loop->ready_count(), 2u);
  w.loop->run_forever();  // stopping_ was reset: this run goes until the queued stop
  EXPECT_EQ(w.log, (Order{"a", "boom", "c"}));
}

TEST(RunOnce, SystemExitAndForeignExceptionsEscape) {
  VirtualWorld w;
  bool handler_called = false;
  w.loop->set_exception_handler(
      [&](EventLoop&, const ExceptionContext&) { handler_called = true; });
  w.loop->call_soon([] { throw SystemExit("bye"); });
  try {
    w.loop->run_forever();
    FAIL() << "SystemExit did not escape";
  } catch (const SystemExit& e) {
    EXPECT_STREQ(e.what(), "bye");
  }
  w.loop->call_soon([] { throw 42; });
  EXPECT_THROW(w.loop->run_forever(), int);
  EXPECT_FALSE(handler_called);
  EXPECT_FALSE(w.loop->is_running());
}

// The handlers' fallbacks and the default handler's text: exception_handlers_test.cpp.

}  // namespace
}  // namespace aiospec::ref::testing
