// taskgroups.TaskGroup (3.11+, CXL-10): a failing child, an external cancel, both at once, the
// refusals, eager children. The expected logs are what /tmp-style programs printed on CPython
// 3.11.7, 3.12.1 and 3.13.0 (the same scenarios written with asyncio.TaskGroup).
#include "aiospec/ref/taskgroups.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "aiospec/ref/exceptions.hpp"
#include "aiospec/ref/tasks.hpp"
#include "test_loop.hpp"

namespace aiospec::ref::testing {
namespace {

using Order = std::vector<std::string>;

// type(e).__name__, the members' types of a group in brackets, " ctx=" the context's type.
std::string describe(const std::exception_ptr& e) {
  const auto* base = as_base_exception(e);
  if (base == nullptr) return "none";
  std::string out = base->python_type();
  if (const auto* group = dynamic_cast<const BaseExceptionGroup*>(base)) {
    out += "[";
    for (std::size_t i = 0; i < group->exceptions().size(); ++i) {
      out += (i ? "," : "") + as_base_exception(group->exceptions()[i])->python_type();
    }
    out += "]";
  }
  if (const auto* context = as_base_exception(base->context())) out += " ctx=" + context->python_type();
  return out;
}

// `async with tg:` around an already-run body: exit(raised), then what leaves the scope.
Coroutine<std::exception_ptr> leave(std::shared_ptr<TaskGroup> tg, std::exception_ptr raised) {
  bool suppressed = false;
  try {
    suppressed = co_await tg->exit(raised);
  } catch (...) {
    co_return std::current_exception();
  }
  co_return suppressed ? nullptr : raised;
}

Coroutine<void> crash_after(double delay, std::string message) {
  co_await sleep(delay);
  throw ValueError(std::move(message));
}

Coroutine<void> logged_sleeper(Order& log, double delay) {
  try {
    co_await sleep(delay);
  } catch (const CancelledError&) {
    log.push_back("sleeper cancelled");
    throw;
  }
}

// A: a child fails; the sibling and the body are cancelled; ExceptionGroup after the wait.
Coroutine<void> failing_child(Order& log) {
  EventLoop& loop = *get_running_loop();
  const double t0 = loop.time();
  auto me = current_task();
  auto tg = std::make_shared<TaskGroup>();
  tg->enter();
  std::exception_ptr raised;
  try {
    tg->create_task(crash_after(0.1, "boom"));
    tg->create_task(logged_sleeper(log, 1));
    try {
      co_await sleep(10);
    } catch (const CancelledError& e) {
      log.push_back("body cancelled " + std::to_string(e.args().size()));
      throw;
    }
  } catch (...) {
    raised = std::current_exception();
  }
  auto left = co_await leave(tg, raised);
  log.push_back("A: " + describe(left) + " cancelling=" + std::to_string(me->cancelling()) +
                " dt=" + std::to_string(loop.time() - t0).substr(0, 3));
}

// B: the parent is cancelled from outside: CancelledError once the children are done.
Coroutine<void> external(Order& log) {
  auto me = current_task();
  get_running_loop()->call_later(0.1, [me] { me->cancel(); });
  auto tg = std::make_shared<TaskGroup>();
  tg->enter();
  std::exception_ptr raised;
  try {
    tg->create_task(sleep(1));
    co_await sleep(10);
  } catch (...) {
    raised = std::current_exception();
  }
  auto left = co_await leave(tg, raised);
  log.push_back("B: " + describe(left) + " cancelling=" + std::to_string(me->cancelling()));
  me->uncancel();
}

Coroutine<void> cancel_then_crash(std::shared_ptr<TaskBase> parent) {
  co_await sleep(0.1);
  parent->cancel();
  throw ValueError("boom");
}

// C: an external cancel coincides with a child's error (3.13 delivers it again).
Coroutine<void> both(Order& log) {
  auto me = current_task();
  auto tg = std::make_shared<TaskGroup>();
  tg->enter();
  std::exception_ptr raised;
  try {
    tg->create_task(cancel_then_crash(me));
    co_await sleep(10);
  } catch (...) {
    raised = std::current_exception();
  }
  auto left = co_await leave(tg, raised);
  log.push_back("C: " + describe(left) + " cancelling=" + std::to_string(me->cancelling()));
  try {
    co_await sleep(0);
    log.push_back("C: survived external cancel");
  } catch (const CancelledError&) {
    log.push_back("C: external cancel re-delivered cancelling=" + std::to_string(me->cancelling()));
    me->uncancel();
  }
}

Coroutine<int> one() { co_return 1; }

Coroutine<void> crash_now() {
  throw ValueError("x");
  co_return;
}

// D: create_task's refusals, with the group's repr in the message.
Coroutine<void> refusals(Order& log) {
  const auto refused = [&](TaskGroup& tg) {
    try {
      tg.create_task(one());
      log.push_back("D: accepted");
    } catch (const RuntimeError& e) {
      log.push_back(std::string("D: ") + e.what());
    }
  };
  auto tg = std::make_shared<TaskGroup>();
  refused(*tg);
  tg->enter();
  tg->create_task(one());
  log.push_back("D: repr " + tg->repr());
  co_await leave(tg, nullptr);
  refused(*tg);

  auto tg2 = std::make_shared<TaskGroup>();
  tg2->enter();
  std::exception_ptr raised;
  try {
    tg2->create_task(crash_now());
    try {
      co_await sleep(1);
    } catch (const CancelledError&) {
      refused(*tg2);
      throw;
    }
  } catch (...) {
    raised = std::current_exception();
  }
  log.push_back("D: " + describe(co_await leave(tg2, raised)));
  try {
    tg->enter();
  } catch (const RuntimeError& e) {
    log.push_back(std::string("D: ") + e.what());
  }
}

// E: the body raises: the children are cancelled, the body's error is a member and the context.
Coroutine<void> body_raises(Order& log) {
  auto tg = std::make_shared<TaskGroup>();
  tg->enter();
  std::exception_ptr raised;
  try {
    tg->create_task(sleep(1));
    throw TypeError("body");
  } catch (...) {
    raised = std::current_exception();
  }
  log.push_back("E: " + describe(co_await leave(tg, raised)));
}

Coroutine<int> quick(Order& log) {
  log.push_back("quick runs");
  co_return 1;
}

// F (3.12+): eager children that finish at once are handled inside create_task.
Coroutine<void> eager(Order& log) {
  EventLoop& loop = *get_running_loop();
  loop.set_task_factory<int>(eager_task_factory<int>());
  loop.set_task_factory<void>(eager_task_factory<void>());
  auto me = current_task();
  auto tg = std::make_shared<TaskGroup>();
  tg->enter();
  std::exception_ptr raised;
  try {
    auto t = tg->create_task(quick(log));
    log.push_back(std::string("F: after quick done=") + (t->done() ? "True " : "False ") + tg->repr());
    auto t2 = tg->create_task(crash_now());
    log.push_back(std::string("F: after crash done=") + (t2->done() ? "True " : "False ") + tg->repr() +
                  " cancelling=" + std::to_string(me->cancelling()));
    co_await sleep(0);
    log.push_back("F: not reached");
  } catch (...) {
    raised = std::current_exception();
  }
  auto left = co_await leave(tg, raised);
  log.push_back("F: " + describe(left) + " cancelling=" + std::to_string(me->cancelling()));
  loop.set_task_factory<int>(nullptr);
  loop.set_task_factory<void>(nullptr);
}

Coroutine<void> all_scenarios(Order& log) {
  co_await failing_child(log);
  co_await external(log);
  co_await both(log);
  co_await refusals(log);
  co_await body_raises(log);
  if (get_running_loop()->profile().eager_tasks) co_await eager(log);
}

const Order kCommon = {
    "sleeper cancelled",
    "body cancelled 0",
    "A: ExceptionGroup[ValueError] ctx=CancelledError cancelling=0 dt=0.1",
    "B: CancelledError cancelling=1",
    "C: ExceptionGroup[ValueError] ctx=CancelledError cancelling=1",
};
const Order kRest = {
    "D: TaskGroup <TaskGroup> has not been entered",
    "D: repr <TaskGroup tasks=1 entered>",
    "D: TaskGroup <TaskGroup entered> is finished",
    "D: TaskGroup <TaskGroup errors=1 cancelling> is shutting down",
    "D: ExceptionGroup[ValueError] ctx=CancelledError",
    "D: TaskGroup <TaskGroup entered> has already been entered",
    "E: ExceptionGroup[TypeError] ctx=TypeError",
};

Order expected(const std::string& version) {
  Order out = kCommon;
  out.push_back(version == "3.13" ? "C: external cancel re-delivered cancelling=1" : "C: survived external cancel");
  out.insert(out.end(), kRest.begin(), kRest.end());
  if (version == "3.12") {
    out.insert(out.end(), {"quick runs", "F: after quick done=True <TaskGroup entered>",
                           "F: after crash done=True <TaskGroup errors=1 cancelling> cancelling=2",
                           "F: ExceptionGroup[ValueError] ctx=CancelledError cancelling=1"});
  } else if (version == "3.13") {
    out.insert(out.end(), {"quick runs", "F: after quick done=True <TaskGroup entered>",
                           "F: after crash done=True <TaskGroup errors=1 cancelling> cancelling=1",
                           "F: ExceptionGroup[ValueError] ctx=CancelledError cancelling=0"});
  }
  return out;
}

TEST(TaskGroups, AsCPythonPrintsThem) {
  for (const std::string version : {"3.11", "3.12", "3.13"}) {
    VirtualWorld w("poll", Profile::for_version(version));
    Order log;
    w.loop->run_until_complete(all_scenarios(log));
    EXPECT_EQ(log, expected(version)) << version;
  }
}

TEST(TaskGroups, EveryChildSucceedsNothingLeaves) {
  VirtualWorld w;
  struct Body {
    static Coroutine<int> run() {
      auto tg = std::make_shared<TaskGroup>();
      tg->enter();
      auto a = tg->create_task(sleep(0.5, 1));
      auto b = tg->create_task(sleep(1.0, 2));
      co_await tg->exit(nullptr);
      co_return a->result() + b->result();
    }
  };
  EXPECT_EQ(w.loop->run_until_complete(Body::run()), 3);
  EXPECT_EQ(w.clock.time(), 1.0);
}

TEST(TaskGroups, OutsideATaskCannotDetermineTheParent) {
  VirtualWorld w;
  w.loop->call_soon([&] {
    TaskGroup tg;
    try {
      tg.enter();
    } catch (const RuntimeError& e) {
      w.log.push_back(e.what());
    }
    w.loop->stop();
  });
  w.loop->run_forever();
  EXPECT_EQ(w.log, (Order{"TaskGroup <TaskGroup> cannot determine the parent task"}));
}

// A subclass of CancelledError raised by the body (not a cancellation).
struct MyCancelled : CancelledError {};

Coroutine<std::string> body_raises_a_cancelled_subclass() {
  auto tg = std::make_shared<TaskGroup>();
  tg->enter();
  std::exception_ptr raised;
  try {
    tg->create_task(sleep(0.1));
    throw MyCancelled();
  } catch (...) {
    raised = std::current_exception();
  }
  auto left = co_await leave(tg, raised);
  const bool same = left == raised;
  co_return describe(left) + (same ? " (the body's)" : "");
}

TEST(TaskGroups, ACancelledErrorSubclassIsAnErrorBefore313) {
  // CPython 3.11.7 / 3.12.1: BaseExceptionGroup ['MyCancelled']; 3.13.0: MyCancelled itself.
  for (const std::string version : {"3.11", "3.12", "3.13"}) {
    VirtualWorld w("poll", Profile::for_version(version));
    EXPECT_EQ(w.loop->run_until_complete(body_raises_a_cancelled_subclass()),
              version == "3.13" ? "CancelledError (the body's)" : "BaseExceptionGroup[CancelledError] ctx=CancelledError")
        << version;
  }
}

Coroutine<int> numbers_spent_by_a_named_child() {
  EventLoop& loop = *get_running_loop();
  const auto number = [](const TaskBase& t) { return std::stoi(t.get_name().substr(5)); };
  auto tg = std::make_shared<TaskGroup>();
  tg->enter();
  auto before = loop.create_task(sleep(0, 0));
  auto named = tg->create_task(sleep(0, 0), "named");
  auto after = loop.create_task(sleep(0, 0));
  co_await tg->exit(nullptr);
  co_await before;
  co_await after;
  if (named->get_name() != "named") co_return -1;
  co_return number(*after) - number(*before) - 1;
}

TEST(TaskGroups, ANamedChildSpendsATaskNumberBefore313) {
  // 3.11-3.12: loop.create_task(coro) names it Task-N, then set_name; 3.13 names it at creation.
  for (const std::string version : {"3.11", "3.12", "3.13"}) {
    VirtualWorld w("poll", Profile::for_version(version));
    EXPECT_EQ(w.loop->run_until_complete(numbers_spent_by_a_named_child()), version == "3.13" ? 0 : 1) << version;
  }
}

// 3.15: cancel() before entering marks the group (_cancel_on_enter); enter() cancels it, so the
// group refuses children ("is shutting down"), the body's first await raises CancelledError, and
// nothing leaves the group (taskgroups.py 3.15, read line by line: no scenario can name a group
// before entering it).
Coroutine<std::string> cancelled_before_entering(Order& log) {
  auto me = current_task();
  auto tg = std::make_shared<TaskGroup>();
  tg->cancel();
  tg->enter();
  std::exception_ptr raised;
  try {
    try {
      tg->create_task(sleep(1));
    } catch (const RuntimeError& e) {
      log.push_back(e.what());
    }
    co_await sleep(1);
    log.push_back("not reached");
  } catch (...) {
    raised = std::current_exception();
  }
  auto left = co_await leave(tg, raised);
  tg->cancel();  // after the exit: a no-op
  co_await sleep(0);
  co_return describe(raised) + " -> " + describe(left) + " cancelling=" + std::to_string(me->cancelling());
}

TEST(TaskGroups, CancelBeforeEnteringCancelsOnEntryIn315) {
  VirtualWorld w("poll", Profile::for_version("3.15"));
  Order log;
  EXPECT_EQ(w.loop->run_until_complete(cancelled_before_entering(log)), "CancelledError -> none cancelling=0");
  EXPECT_EQ(log, (Order{"TaskGroup <TaskGroup cancelling> is shutting down"}));
  EXPECT_EQ(w.clock.time(), 0.0);
}

Coroutine<std::string> cancel_an_entered_group() {
  auto tg = std::make_shared<TaskGroup>();
  tg->enter();
  std::string out;
  try {
    tg->cancel();
    out = "cancelled";
  } catch (const BaseException& e) {
    out = e.python_type() + ": " + e.what();
  }
  co_await tg->exit(nullptr);
  co_return out;
}

TEST(TaskGroups, NoCancelBefore315) {
  VirtualWorld w("poll", Profile::for_version("3.14"));
  EXPECT_EQ(w.loop->run_until_complete(cancel_an_entered_group()),
            "AttributeError: 'TaskGroup' object has no attribute 'cancel'");
}

}  // namespace
}  // namespace aiospec::ref::testing
