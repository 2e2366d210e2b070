// Debug mode (DBG): set_debug / PYTHONASYNCIODEBUG, slow callbacks, the thread check, creation
// sites in reprs and contexts (source_traceback, handle_traceback), 'Close ...', an unclosed loop.
#include <gtest/gtest.h>

#include <stdlib.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "aiospec/ref/base_events.hpp"
#include "aiospec/ref/exceptions.hpp"
#include "aiospec/ref/futures.hpp"
#include "aiospec/ref/log.hpp"
#include "aiospec/ref/tasks.hpp"
#include "test_loop.hpp"

namespace aiospec::ref::testing {
namespace {

struct DebugWorld : LoggedWorld {
  explicit DebugWorld(Profile profile = Profile::for_version(kDefaultVersion)) : LoggedWorld(std::move(profile)) {
    loop->set_debug(true);
  }
  // A callback named `name` that takes `seconds` of (virtual) time.
  Callback burning(std::string name, double seconds) {
    return Callback([this, seconds] { clock.advance(seconds); }, std::move(name));
  }
};

// The text after "created at " up to the closing '>' is this file and a line: strip it the way
// the suite's normalisation does, to compare the rest exactly.
std::string without_sites(std::string text) {
  for (std::size_t at; (at = text.find(" created at ")) != std::string::npos;) {
    std::size_t end = text.find_first_of(">\n", at);
    text.erase(at, end - at);
  }
  return text;
}

TEST(Debug, OffByDefaultOnWithTheEnvironment) {
  unsetenv("PYTHONASYNCIODEBUG");
  EXPECT_FALSE(VirtualWorld().loop->get_debug());
  setenv("PYTHONASYNCIODEBUG", "0", 1);  // any non-empty value, even 0 (DBG-01)
  EXPECT_TRUE(VirtualWorld().loop->get_debug());
  setenv("PYTHONASYNCIODEBUG", "", 1);
  EXPECT_FALSE(VirtualWorld().loop->get_debug());
  unsetenv("PYTHONASYNCIODEBUG");
  VirtualWorld w;
  w.loop->set_debug(true);
  EXPECT_TRUE(w.loop->get_debug());
  EXPECT_EQ(w.loop->slow_callback_duration(), 0.1);
}

TEST(Debug, SlowCallbackThresholdIsInclusive) {
  DebugWorld w;
  w.loop->set_slow_callback_duration(0.25);
  w.loop->call_soon(w.burning("under", 0.125));
  w.loop->call_soon(w.burning("at", 0.25));
  w.loop->call_soon(w.burning("over", 0.5));
  w.run_batch();
  std::vector<std::string> got;
  for (const auto& m : w.messages()) got.push_back(without_sites(m));
  EXPECT_EQ(got, (std::vector<std::string>{"WARNING Executing <Handle at()> took 0.250 seconds",
                                           "WARNING Executing <Handle over()> took 0.500 seconds"}));
}

TEST(Debug, NoTimingOutsideDebugMode) {
  DebugWorld w;
  w.loop->set_debug(false);
  w.loop->call_soon(w.burning("slow", 1.0));
  w.run_batch();
  EXPECT_TRUE(w.logger->records.empty());
}

Coroutine<int> burn_in_task(VirtualClock& clock) {
  clock.advance(0.125);
  co_return 1;
}

TEST(Debug, ATaskStepShowsTheTask) {
  DebugWorld w;
  auto t = w.loop->create_task(burn_in_task(w.clock), "t");
  w.run_batch();
  ASSERT_EQ(w.logger->records.size(), 1u);
  EXPECT_EQ(without_sites(w.messages()[0]),
            "WARNING Executing <Task finished name='t' coro=<coroutine> result=1> took 0.125 seconds");
}

TEST(Debug, CancelledHandleKeepsItsRepr) {
  DebugWorld w;
  auto h = w.loop->call_soon(Callback([] {}, "h"));
  h->cancel();
  EXPECT_EQ(without_sites(h->repr()), "<Handle cancelled h()>");
  EXPECT_NE(h->repr().find(" created at "), std::string::npos);
  w.loop->set_debug(false);
  auto g = w.loop->call_soon(Callback([] {}, "g"));
  g->cancel();
  EXPECT_EQ(g->repr(), "<Handle cancelled>");
}

TEST(Debug, CallbackArgsShownIn313DebugMode) {
  DebugWorld w(Profile::for_version("3.13"));
  auto f = w.loop->create_future<int>();
  f->add_done_callback([](Future<int>&) { throw ValueError("boom"); }, "dcb");
  f->set_result(1);
  w.run_batch();
  ASSERT_EQ(w.logger->records.size(), 1u);
  const std::string text = w.messages()[0];
  // reprlib cuts the future's repr (it has " created at ..." in debug mode) to 30 characters.
  EXPECT_EQ(text.substr(0, 48), "ERROR Exception in callback dcb(<Future finis...");
}

TEST(Debug, SourceTracebackInTheCallbackContext) {
  DebugWorld w;
  std::vector<std::string> keys;
  w.loop->set_exception_handler([&](EventLoop&, const ExceptionContext& c) { keys = c.sorted_keys(); });
  w.loop->call_soon(Callback([] { throw ValueError("boom"); }, "slow"));
  w.run_batch();
  EXPECT_EQ(keys, (std::vector<std::string>{"exception", "handle", "message", "source_traceback"}));
  w.loop->set_exception_handler(nullptr);
  w.loop->call_soon(Callback([] { throw ValueError("boom"); }, "slow"));
  w.run_batch();
  ASSERT_EQ(w.logger->records.size(), 1u);
  const std::string& m = w.logger->records[0].message;
  const std::string head = "Exception in callback slow()\nhandle: <Handle slow() created at ";
  EXPECT_EQ(m.substr(0, head.size()), head);
  const std::string tb = "\nsource_traceback: Object created at (most recent call last):\n  File \"";
  EXPECT_NE(m.find(tb), std::string::npos) << m;
  EXPECT_NE(m.find("debug_test.cpp"), std::string::npos) << m;
}

TEST(Debug, DefaultHandlerAddsHandleTracebackDuringACallback) {
  // EXC-07: called during a callback, with no source_traceback of its own.
  DebugWorld w;
  w.loop->call_soon(Callback([&] { w.loop->call_exception_handler({{"message", "m"}}); }, "cb"));
  w.run_batch();
  ASSERT_EQ(w.logger->records.size(), 1u);
  const std::string head = "m\nhandle_traceback: Handle created at (most recent call last):\n  File \"";
  EXPECT_EQ(w.logger->records[0].message.substr(0, head.size()), head);
  // Outside a callback: nothing added.
  w.loop->call_exception_handler({{"message", "m"}});
  EXPECT_EQ(w.logger->records[1].message, "m");
}

TEST(Debug, FutureAndTaskRecordTheirCreation) {
  DebugWorld w;
  auto f = w.loop->create_future<int>();
  EXPECT_FALSE(f->source_traceback().empty());
  EXPECT_EQ(without_sites(f->repr()), "<Future pending>");
  f->set_exception(std::make_exception_ptr(ValueError("boom")));
  std::vector<std::string> keys;
  w.loop->set_exception_handler([&](EventLoop&, const ExceptionContext& c) { keys = c.sorted_keys(); });
  f.reset();
  EXPECT_EQ(keys, (std::vector<std::string>{"exception", "future", "message", "source_traceback"}));
}

TEST(Debug, CloseIsLoggedAndAnUnclosedLoopIsReported) {
  auto logger = std::make_shared<CapturingLogger>();
  {
    DebugWorld w;
    w.loop->set_logger(logger);
    w.loop->close();
  }
  {
    VirtualWorld w;
    w.loop->set_logger(logger);
    w.loop.reset();  // destroyed unclosed
  }
  std::vector<std::string> got;
  for (const auto& r : logger->records) got.push_back(std::string(level_name(r.level)) + " " + r.message);
  EXPECT_EQ(got, (std::vector<std::string>{"DEBUG Close <EventLoop running=False closed=False debug=True>",
                                           "WARNING unclosed event loop <EventLoop running=False closed=False debug=False>"}));
}

TEST(Debug, ThreadCheckWhileRunning) {
  DebugWorld w;
  std::string error;
  bool threadsafe_ok = false;
  w.loop->call_soon([&] {
    std::thread other([&] {
      try {
        w.loop->call_soon([] {});
      } catch (const RuntimeError& e) {
        error = e.what();
      }
      try {
        w.loop->call_later(1, [] {});
        error += " | call_later accepted";
      } catch (const RuntimeError&) {
      }
      w.loop->call_soon_threadsafe([] {});  // exempt
      threadsafe_ok = true;
    });
    other.join();
  });
  w.run_batch();
  EXPECT_EQ(error, "Non-thread-safe operation invoked on an event loop other than the current one");
  EXPECT_TRUE(threadsafe_ok);
  // Not running: no check, from any thread; not in debug mode: no check.
  std::thread([&] { w.loop->call_soon([] {}); }).join();
  w.loop->set_debug(false);
  w.loop->call_soon([&] { std::thread([&] { w.loop->call_soon([] {}); }).join(); });
  EXPECT_NO_THROW(w.run_batch());
}

}  // namespace
}  // namespace aiospec::ref::testing
