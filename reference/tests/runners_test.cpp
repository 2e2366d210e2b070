// runners.run / Runner (LIF-08, CXL-12): the main task, the teardown's loop iterations, the
// refusal inside a running loop. The expected logs are what the same program printed with
// asyncio.run on CPython 3.8.18, 3.9.18 ... 3.13.0.
#include "aiospec/ref/runners.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "aiospec/ref/exceptions.hpp"
#include "aiospec/ref/tasks.hpp"
#include "test_loop.hpp"

namespace aiospec::ref::testing {
namespace {

using Order = std::vector<std::string>;

// call_soon(step, 0), each step logging `label<i>` and queueing the next, up to n.
void chain(EventLoop& loop, Order& log, int n, std::string label, int i = 0) {
  loop.call_soon([&loop, &log, n, label, i] {
    log.push_back(label + std::to_string(i));
    if (i < n) chain(loop, log, n, label, i + 1);
  });
}

Coroutine<void> pending_forever(Order& log) {
  try {
    co_await sleep(100);
  } catch (const CancelledError&) {
    log.push_back("pending cancelled");
    throw;
  }
}

Coroutine<int> main_with_a_pending_task(Order& log) {
  EventLoop& loop = *get_running_loop();
  auto t = loop.create_task(pending_forever(log));
  t->add_done_callback([&log](Future<void>&) { log.push_back("pending done cb"); });
  co_await sleep(0);
  chain(loop, log, 12, "c");
  log.push_back("main returns");
  co_return 5;
}

Coroutine<void> main_with_a_chain(Order& log) {
  chain(*get_running_loop(), log, 12, "d");
  co_return;
}

TEST(Runners, TheTeardownCancelsThePendingTaskAndTakesItsIterations) {
  for (const std::string version : {"3.8", "3.9", "3.13"}) {
    Order log;
    {
      VirtualWorld w("poll", Profile::for_version(version));
      EXPECT_EQ(run(main_with_a_pending_task(log), *w.loop), 5) << version;
      EXPECT_TRUE(w.loop->is_closed()) << version;
    }
    {
      VirtualWorld w("poll", Profile::for_version(version));
      run(main_with_a_chain(log), *w.loop);
    }
    Order expected = {"main returns", "c0", "c1", "pending cancelled", "c2", "pending done cb", "c3", "c4", "c5"};
    if (version != "3.8") expected.insert(expected.end(), {"c6", "c7"});
    expected.insert(expected.end(), {"d0", "d1", "d2"});
    if (version != "3.8") expected.insert(expected.end(), {"d3", "d4"});
    EXPECT_EQ(log, expected) << version;
  }
}

Coroutine<int> bad() {
  throw ValueError("bad");
  co_return 0;
}

TEST(Runners, MainsExceptionIsRaisedAfterTheTeardown) {
  VirtualWorld w;
  try {
    run(bad(), *w.loop);
    ADD_FAILURE() << "run returned";
  } catch (const ValueError& e) {
    EXPECT_STREQ(e.what(), "bad");
  }
  EXPECT_TRUE(w.loop->is_closed());
}

Coroutine<std::string> run_inside(EventLoop& other) {
  Order ignored;
  try {
    run(main_with_a_chain(ignored), other);
  } catch (const RuntimeError& e) {
    co_return e.what();
  }
  co_return "ran";
}

TEST(Runners, RefusedInsideARunningLoop) {
  VirtualWorld w, other;
  EXPECT_EQ(w.loop->run_until_complete(run_inside(*other.loop)),
            "asyncio.run() cannot be called from a running event loop");
  EXPECT_FALSE(other.loop->is_closed());  // never touched
}

Coroutine<int> answer() {
  co_await sleep(0.001);
  co_return 42;
}

// asyncio.run(1): the class and text of the refusal, and whether the loop was taken and closed
// (3.11+ make it in Runner.__enter__ before Runner.run checks main).
TEST(Runners, NotAwaitableIsRefused) {
  for (const char* version : {"3.8", "3.10", "3.11", "3.13"}) {
    VirtualWorld w("poll", Profile::for_version(version));
    try {
      run_not_awaitable(Arg{std::int64_t{1}}, *w.loop);
    } catch (const ValueError& e) {
      EXPECT_STREQ(e.what(), "a coroutine was expected, got 1") << version;
    }
    EXPECT_EQ(w.loop->is_closed(), Profile::for_version(version).run_checks_main_inside_runner) << version;
  }
  VirtualWorld w("poll", Profile::for_version("3.14"));
  try {
    run_not_awaitable(Arg{std::string("x")}, *w.loop);
  } catch (const TypeError& e) {
    EXPECT_STREQ(e.what(), "An asyncio.Future, a coroutine or an awaitable is required");
  }
  EXPECT_TRUE(w.loop->is_closed());
}

TEST(Runners, OnALoopOfItsOwn) {
  EXPECT_EQ(run(answer()), 42);  // real time, one millisecond
  EXPECT_EQ(run(answer(), Profile::for_version("3.8")), 42);
}

TEST(Runners, ARunnerRunsSeveralCoroutinesThenCloses) {
  VirtualWorld w;
  Runner runner(*w.loop);
  EXPECT_EQ(runner.run(answer()), 42);
  EXPECT_EQ(runner.run(answer()), 42);
  EXPECT_FALSE(w.loop->is_closed());
  runner.close();
  EXPECT_TRUE(w.loop->is_closed());
  try {
    runner.run(answer());
    ADD_FAILURE() << "run after close";
  } catch (const RuntimeError& e) {
    EXPECT_STREQ(e.what(), "Runner is closed");
  }
}

}  // namespace
}  // namespace aiospec::ref::testing
