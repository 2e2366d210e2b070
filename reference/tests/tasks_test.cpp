// Coroutines and tasks (TSK-*): the step machinery, iteration costs, current_task, factories.
#include "aiospec/ref/tasks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aiospec/ref/exceptions.hpp"
#include "test_loop.hpp"

namespace aiospec::ref::testing {
namespace {

using Order = std::vector<std::string>;

// Coroutines are free functions taking what they use by value or by reference to something that
// outlives them: a lambda's captures would die with the lambda.
Coroutine<int> constant(int value) { co_return value; }

Coroutine<void> ticker(Order& log, std::string name, int n) {
  for (int i = 0; i < n; ++i) {
    log.push_back(name + std::to_string(i));
    co_await sleep(0);
  }
}

Coroutine<int> add_inline(Order& log) {
  const int a = co_await constant(1);  // another Coroutine: no suspension
  log.push_back("after first");
  const int b = co_await constant(2);
  co_return a + b;
}

Coroutine<int> await_future(std::shared_ptr<Future<int>> f) { co_return co_await f; }

Coroutine<void> raise_system_exit() {
  co_await sleep(0);
  throw SystemExit("bye");
}

TEST(Tasks, ReadyTasksInterleaveRoundRobin) {
  VirtualWorld w;
  auto a = w.loop->create_task(ticker(w.log, "A", 2));
  auto b = w.loop->create_task(ticker(w.log, "B", 2));
  auto c = w.loop->create_task(ticker(w.log, "C", 2));
  w.loop->run_until_complete(c);
  EXPECT_EQ(w.log, (Order{"A0", "B0", "C0", "A1", "B1", "C1"}));
  EXPECT_TRUE(a->done() && b->done());
}

TEST(Tasks, IterationCosts) {
  {  // run_until_complete(coroutine without awaits) = 2 iterations
    VirtualWorld w;
    EXPECT_EQ(w.loop->run_until_complete(constant(7)), 7);
    EXPECT_EQ(w.keeper.polls(), 2u);
  }
  {  // sleep(0) = one more
    VirtualWorld w;
    w.loop->run_until_complete(ticker(w.log, "t", 1));
    EXPECT_EQ(w.keeper.polls(), 3u);
  }
  {  // awaiting Coroutines inline: no iteration
    VirtualWorld w;
    EXPECT_EQ(w.loop->run_until_complete(add_inline(w.log)), 3);
    EXPECT_EQ(w.keeper.polls(), 2u);
  }
  {  // a done future does not suspend; a pending one resumes the iteration after it is set
    VirtualWorld done;
    auto f = done.loop->create_future<int>();
    f->set_result(5);
    EXPECT_EQ(done.loop->run_until_complete(await_future(f)), 5);
    EXPECT_EQ(done.keeper.polls(), 2u);

    VirtualWorld pending;
    auto g = pending.loop->create_future<int>();
    std::shared_ptr<Future<int>> t = pending.loop->create_task(await_future(g));
    pending.loop->call_soon([g] { g->set_result(6); });
    // 1: first step (waits) and the set_result; 2: __wakeup, the task returns; 3: stop.
    EXPECT_EQ(pending.loop->run_until_complete(t), 6);
    EXPECT_EQ(pending.keeper.polls(), 3u);
  }
}

TEST(Tasks, SleepUsesATimer) {
  VirtualWorld w;
  auto t = w.loop->create_task(sleep(1.5, std::string("done")));
  EXPECT_EQ(w.loop->run_until_complete(std::shared_ptr<Future<std::string>>(t)), "done");
  EXPECT_EQ(w.clock.time(), 1.5);
  EXPECT_EQ(w.loop->scheduled_count(), 0u);
}

TEST(Tasks, NamesCurrentTaskAndAllTasks) {
  VirtualWorld w;
  std::shared_ptr<TaskBase> seen;
  auto body = [](std::shared_ptr<TaskBase>& out) -> Coroutine<int> {
    out = current_task();
    co_return static_cast<int>(all_tasks().size());
  };
  auto t = w.loop->create_task(body(seen), "worker");
  auto other = w.loop->create_task(constant(1));
  EXPECT_EQ(t->get_name(), "worker");
  EXPECT_EQ(other->get_name().rfind("Task-", 0), 0u);
  EXPECT_EQ(w.loop->run_until_complete(std::shared_ptr<Future<int>>(t)), 2);
  EXPECT_EQ(seen.get(), static_cast<TaskBase*>(t.get()));
  EXPECT_EQ(current_task(w.loop.get()), nullptr);
  EXPECT_THROW(current_task(), RuntimeError);  // no running loop
}

TEST(Tasks, SystemExitIsTheTasksExceptionAndLeavesTheLoop) {
  VirtualWorld w;
  auto t = w.loop->create_task(raise_system_exit());
  EXPECT_THROW(w.loop->run_until_complete(std::shared_ptr<Future<void>>(t)), SystemExit);
  ASSERT_TRUE(t->done());
  EXPECT_TRUE(holds<SystemExit>(t->exception()));
  EXPECT_FALSE(w.loop->is_running());
}

TEST(Tasks, AnExceptionIsTheResult) {
  VirtualWorld w;
  auto fail = []() -> Coroutine<int> {
    co_await sleep(0);
    throw ValueError("bad");
  };
  auto t = w.loop->create_task(fail());
  EXPECT_THROW(w.loop->run_until_complete(std::shared_ptr<Future<int>>(t)), ValueError);
  EXPECT_TRUE(t->log_traceback() == false);  // result() retrieved it
  EXPECT_THROW(t->set_result(1), RuntimeError);
  EXPECT_THROW(t->set_exception(nullptr), RuntimeError);
}

// A task subclass through the task factory, as the mutants install one.
class CountingTask : public Task<int> {
 public:
  using Task<int>::Task;
  bool cancel(const std::optional<std::string>& msg = std::nullopt) override {
    ++cancels;
    return Task<int>::cancel(msg);
  }
  int cancels = 0;
};

TEST(Tasks, TaskFactory) {
  VirtualWorld w;
  w.loop->set_task_factory<int>([](EventLoop& loop, std::unique_ptr<AnyCoroutine<int>> coro, std::optional<std::string> name) {
    return std::shared_ptr<Task<int>>(make_task<CountingTask>(loop, std::move(coro), std::move(name)));
  });
  auto t = w.loop->create_task(constant(3));
  auto* counting = dynamic_cast<CountingTask*>(t.get());
  ASSERT_NE(counting, nullptr);
  EXPECT_TRUE(t->as_future().cancel());  // virtual through FutureBase too
  EXPECT_EQ(counting->cancels, 1);
  EXPECT_THROW(w.loop->run_until_complete(std::shared_ptr<Future<int>>(t)), CancelledError);
  w.loop->set_task_factory<int>(nullptr);
  EXPECT_EQ(dynamic_cast<CountingTask*>(w.loop->create_task(constant(1)).get()), nullptr);
}

// A task whose first step runs inline (the other mutant hook).
class InlineTask : public Task<int> {
 public:
  using Task<int>::Task;

 protected:
  void schedule_first_step() override { step(); }
};

TEST(Tasks, FirstStepHook) {
  VirtualWorld w;
  auto t = make_task<InlineTask>(*w.loop, std::make_unique<Coroutine<int>>(constant(4)));
  EXPECT_TRUE(t->done());
  EXPECT_EQ(t->result(), 4);
}

// TSK-07: eager tasks (3.12+).
Coroutine<int> child(Order& log, bool suspend) {
  log.push_back("child sees " + current_task()->get_name());
  if (suspend) co_await sleep(0);
  log.push_back("child ends");
  co_return 1;
}

Coroutine<int> parent(Order& log) {
  auto& loop = *get_running_loop();
  auto quick = loop.create_task(child(log, false), "quick");
  log.push_back(std::string("parent: quick ") + (quick->done() ? "done" : "pending") + ", current " +
                current_task()->get_name());
  auto slow = loop.create_task(child(log, true), "slow");
  log.push_back(std::string("parent: slow ") + (slow->done() ? "done" : "pending"));
  std::vector<Awaitable<int>> children;
  children.emplace_back(quick);
  auto g = gather(std::move(children));
  log.push_back(std::string("gather of done ") + (g->done() ? "done" : "pending"));
  co_return co_await slow;
}

TEST(Tasks, EagerTasksFrom312) {
  VirtualWorld w("poll", Profile::for_version("3.12"));
  w.loop->set_task_factory<int>(eager_task_factory<int>());
  auto main = w.loop->create_task(parent(w.log), "main");  // loop not running: call_soon
  EXPECT_FALSE(main->done());
  EXPECT_EQ(w.loop->run_until_complete(main), 1);
  EXPECT_EQ(w.log, (Order{"child sees quick", "child ends", "parent: quick done, current main", "child sees slow",
                          "parent: slow pending", "gather of done done", "child ends"}));

  VirtualWorld old("poll", Profile::for_version("3.11"));
  old.loop->set_task_factory<int>(eager_task_factory<int>());
  EXPECT_THROW(old.loop->create_task(constant(1)), TypeError);
}

Coroutine<int> logged_quick(Order& log) {
  log.push_back("quick");
  co_return 1;
}

Coroutine<int> gather_eager_coroutines(Order& log) {
  std::vector<Awaitable<int>> children;
  children.emplace_back(logged_quick(log));
  children.emplace_back(logged_quick(log));
  auto g = gather(std::move(children));
  log.push_back(std::string("gather done=") + (g->done() ? "True" : "False"));
  const auto results = co_await g;
  co_return std::get<0>(results[0]) + std::get<0>(results[1]);
}

TEST(Tasks, GatherOfEagerCoroutinesIsDoneAtOnce) {
  // CPython 3.12.1 and 3.13.0: ['quick', 'quick', 'gather done=True', '[1, 1]'].
  for (const char* version : {"3.12", "3.13"}) {
    VirtualWorld w("poll", Profile::for_version(version));
    w.loop->set_task_factory<int>(eager_task_factory<int>());
    Order log;
    EXPECT_EQ(w.loop->run_until_complete(gather_eager_coroutines(log)), 2) << version;
    EXPECT_EQ(log, (Order{"quick", "quick", "gather done=True"})) << version;
  }
}

TEST(Tasks, LoopDestructionFreesPendingTasks) {
  // A task waiting forever on a future forms a cycle (task -> future -> wake-up -> task); the
  // loop's destruction breaks it (LeakSanitizer would see it otherwise).
  std::weak_ptr<FutureBase> task;
  {
    VirtualWorld w;
    auto f = w.loop->create_future<int>();
    auto t = w.loop->create_task(await_future(f));
    task = t->weak_from_this();
    w.loop->call_soon([&] { w.loop->stop(); });
    w.loop->run_forever();
  }
  EXPECT_TRUE(task.expired());
}

}  // namespace
}  // namespace aiospec::ref::testing

namespace aiospec::ref::testing {
namespace {

// The C++ spellings people reach for: gather(task, task) and sleep(0) with an int.
Coroutine<int> sum_of_tasks(EventLoop& loop) {
  auto a = loop.create_task(constant(1));
  auto b = loop.create_task(constant(2));
  co_await sleep(0);  // the integral overload, not POSIX ::sleep(unsigned)
  const auto results = co_await gather(a, b);
  co_return std::get<0>(results[0]) + std::get<0>(results[1]);
}

TEST(Tasks, GatherOfTasksAndIntegralSleep) {
  VirtualWorld w;
  EXPECT_EQ(w.loop->run_until_complete(sum_of_tasks(*w.loop)), 3);
}

}  // namespace
}  // namespace aiospec::ref::testing

namespace aiospec::ref::testing {
namespace {

// asyncio.wait: the same program printed these on CPython 3.8.18 ... 3.13.0 (wait.py in the
// session notes): indices of done and pending, and the time.
using WaitOrder = std::vector<std::string>;

std::string indices(const std::vector<std::shared_ptr<FutureBase>>& some,
                    const std::vector<std::shared_ptr<FutureBase>>& all) {
  std::string out = "[";
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (std::find(some.begin(), some.end(), all[i]) != some.end()) out += (out.size() > 1 ? ", " : "") + std::to_string(i);
  }
  return out + "]";
}

std::string one_decimal(double x) {
  char t[32];
  std::snprintf(t, sizeof t, "%.1f", x);
  return t;
}

Coroutine<void> wait_program(WaitOrder& log) {
  EventLoop& loop = *get_running_loop();
  try {
    co_await wait(std::vector<std::shared_ptr<FutureBase>>());
  } catch (const ValueError& e) {
    log.push_back(std::string("empty: ") + e.what());
  }
  auto f1 = loop.create_future<int>(), f2 = loop.create_future<int>(), f3 = loop.create_future<int>();
  loop.call_later(1, [f1] { f1->set_result(1); });
  loop.call_later(2, [f2] { f2->set_exception(std::make_exception_ptr(ValueError("x"))); });
  loop.call_later(3, [f3] { f3->set_result(3); });
  const std::vector<std::shared_ptr<FutureBase>> fs = {f1, f2, f3};
  const auto line = [&](const char* what, const WaitResult& r) {
    log.push_back(std::string(what) + " t=" + one_decimal(loop.time()) + " " + indices(r.done, fs) + " " +
                  indices(r.pending, fs));
  };
  // No braced lists in a co_await's full-expression: g++ 12 cannot keep an initializer_list's
  // array across the suspension ("array used as initializer").
  auto fc = co_await wait(fs, std::nullopt, ReturnWhen::first_completed);
  line("FC", fc);
  auto fe = co_await wait(fs, std::nullopt, ReturnWhen::first_exception);
  line("FE", fe);
  auto to = co_await wait(fs, 0.5);
  line("TO", to);
  auto ac = co_await wait(fs);
  line("AC", ac);
  auto t0 = co_await wait(fs, 0.0);
  line("T0", t0);
  auto g = loop.create_future<int>();
  g->cancel();
  auto never = loop.create_future<int>();
  std::vector<std::shared_ptr<FutureBase>> two = {g, never};
  auto r = co_await wait(two, 1.0, ReturnWhen::first_exception);
  log.push_back("FE-cancelled " + std::to_string(r.done.size()) + " " + std::to_string(r.pending.size()));
}

TEST(Wait, AsCPythonPrintsIt) {
  for (const std::string version : {"3.8", "3.10", "3.11", "3.13"}) {
    VirtualWorld w("poll", Profile::for_version(version));
    WaitOrder log;
    w.loop->run_until_complete(wait_program(log));
    const bool new_text = version == "3.11" || version == "3.13";
    EXPECT_EQ(log, (WaitOrder{std::string("empty: Set of ") + (new_text ? "Tasks" : "coroutines") + "/Futures is empty.",
                              "FC t=1.0 [0] [1, 2]", "FE t=2.0 [0, 1] [2]", "TO t=2.5 [0, 1] [2]",
                              "AC t=3.0 [0, 1, 2] []", "T0 t=3.0 [0, 1, 2] []", "FE-cancelled 1 1"}))
        << version;
    EXPECT_EQ(w.clock.time(), 4.0);
    EXPECT_EQ(w.loop->scheduled_count(), 0u);  // every timeout timer cancelled (and dropped)
  }
}

Coroutine<void> wait_on(WaitOrder& log, std::shared_ptr<Future<int>> h) {
  std::vector<std::shared_ptr<FutureBase>> one = {h};
  co_await wait(one);
  log.push_back("waited");
}

TEST(Wait, ADoneFutureStillCostsTwoIterations) {
  // The done callback is scheduled (call_soon), it sets the waiter, whose callback wakes the task.
  VirtualWorld w;
  auto h = w.loop->create_future<int>();
  h->set_result(1);
  w.loop->call_soon(w.record("cb1"));
  auto t = w.loop->create_task(wait_on(w.log, h));
  w.loop->call_soon(w.record("cb2"));
  w.loop->call_soon([&] { w.loop->call_soon(w.record("cb3")); });
  w.loop->call_soon([&] { w.loop->call_soon([&] { w.loop->call_soon(w.record("cb4")); }); });
  w.loop->run_until_complete(t);
  w.loop->run_until_complete(sleep(0));
  EXPECT_EQ(w.log, (Order{"cb1", "cb2", "cb3", "waited", "cb4"}));
}

TEST(Wait, AFutureOfAnotherLoopIsRefusedBefore311) {
  for (const std::string version : {"3.10", "3.11"}) {
    VirtualWorld w("poll", Profile::for_version(version)), other;
    auto foreign = other.loop->create_future<int>();
    foreign->set_result(1);
    struct Body {
      static Coroutine<std::string> run(std::shared_ptr<FutureBase> f) {
        try {
          std::vector<std::shared_ptr<FutureBase>> fs = {f};
          auto r = co_await wait(fs);
          co_return "done " + std::to_string(r.done.size());
        } catch (const ValueError& e) {
          co_return e.what();
        }
      }
    };
    auto t = w.loop->create_task(Body::run(foreign));
    if (version == "3.10") {
      EXPECT_EQ(w.loop->run_until_complete(t), "The future belongs to a different loop than the one specified as the loop argument");
    } else {
      // Taken as it is: its done callback is queued on its own loop, which does not run here.
      w.loop->run_until_complete(sleep(0));
      w.loop->run_until_complete(sleep(0));
      EXPECT_FALSE(t->done());
      t->cancel();
      EXPECT_THROW(w.loop->run_until_complete(t), CancelledError);
    }
  }
}

}  // namespace
}  // namespace aiospec::ref::testing
