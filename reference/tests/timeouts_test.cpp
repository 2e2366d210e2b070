// timeouts.Timeout (3.11+), the scope wait_for is built on from 3.12: expiry, external cancel,
// reschedule, and 3.13's TimeoutError spliced into another exception's context.
#include "aiospec/ref/timeouts.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "aiospec/ref/exceptions.hpp"
#include "aiospec/ref/tasks.hpp"
#include "test_loop.hpp"

namespace aiospec::ref::testing {
namespace {

std::string name_of(const std::exception_ptr& e) {
  const auto* base = as_base_exception(e);
  return base ? base->python_type() : "none";
}

// `async with timeout(delay): <body>` where the body sleeps `sleep_for`; what leaves the scope.
// `swallow_into` != "": the body catches the CancelledError and raises that type instead.
Coroutine<std::string> scoped(double delay, double sleep_for, std::string swallow_into = "") {
  EventLoop& loop = *get_running_loop();
  Timeout scope(loop.time() + delay);
  scope.enter();
  std::exception_ptr raised;
  try {
    try {
      co_await sleep(sleep_for);
    } catch (const CancelledError&) {
      if (swallow_into.empty()) throw;
      raised = chain_context(make_exception(swallow_into, {}), std::current_exception());
    }
    if (raised) std::rethrow_exception(raised);
  } catch (...) {
    raised = std::current_exception();
  }
  try {
    scope.exit(raised);
  } catch (...) {
    const auto* e = as_base_exception(std::current_exception());
    co_return "raised " + e->python_type() + " cause=" + name_of(e->cause()) + " context=" + name_of(e->context()) +
              " cancelling=" + std::to_string(current_task()->cancelling());
  }
  if (raised) {
    const auto* e = as_base_exception(raised);
    std::string out = "propagates " + e->python_type() + " context=" + name_of(e->context());
    if (const auto* c = as_base_exception(e->context())) out += " context.cause=" + name_of(c->cause());
    co_return out;
  }
  co_return std::string("finished ") + (scope.expired() ? "expired" : "in time");
}

TEST(Timeouts, ExpiryTurnsTheCancellationIntoTimeoutError) {
  VirtualWorld w("poll", Profile::for_version("3.11"));
  EXPECT_EQ(w.loop->run_until_complete(scoped(1, 10)),
            "raised TimeoutError cause=CancelledError context=CancelledError cancelling=0");
  EXPECT_EQ(w.clock.time(), 1.0);
  EXPECT_EQ(w.loop->scheduled_count(), 0u);  // the sleep's timer was cancelled
}

TEST(Timeouts, InTimeNothingHappensAndTheTimerIsCancelled) {
  VirtualWorld w;
  EXPECT_EQ(w.loop->run_until_complete(scoped(5, 1)), "finished in time");
  EXPECT_EQ(w.clock.time(), 1.0);
  EXPECT_EQ(w.loop->scheduled_count(), 0u);  // the timeout's own timer, cancelled at exit, then dropped
}

TEST(Timeouts, AnExternalCancelPropagates) {
  VirtualWorld w;
  auto t = w.loop->create_task(scoped(5, 10));
  w.loop->call_later(1, [t] { t->cancel(); });
  EXPECT_EQ(w.loop->run_until_complete(t), "propagates CancelledError context=none");
}

TEST(Timeouts, AnotherExceptionAfterExpiry) {
  // 3.12 leaves it alone; 3.13 splices a TimeoutError (from the CancelledError) into its context.
  VirtualWorld w12("poll", Profile::for_version("3.12"));
  EXPECT_EQ(w12.loop->run_until_complete(scoped(1, 10, "ValueError")),
            "propagates ValueError context=CancelledError context.cause=none");
  VirtualWorld w13("poll", Profile::for_version("3.13"));
  EXPECT_EQ(w13.loop->run_until_complete(scoped(1, 10, "ValueError")),
            "propagates ValueError context=TimeoutError context.cause=CancelledError");
}

Coroutine<std::string> reschedule_to_now() {
  EventLoop& loop = *get_running_loop();
  Timeout scope(std::nullopt);
  scope.enter();
  scope.reschedule(loop.time());  // due: call_soon, the body runs until its first suspension
  std::exception_ptr raised;
  try {
    co_await sleep(10);
  } catch (...) {
    raised = std::current_exception();
  }
  try {
    scope.exit(raised);
  } catch (const TimeoutError&) {
    co_return "TimeoutError at " + std::to_string(loop.time());
  }
  co_return "no timeout";
}

TEST(Timeouts, RescheduleAndStates) {
  VirtualWorld w;
  EXPECT_EQ(w.loop->run_until_complete(reschedule_to_now()), "TimeoutError at 0.000000");
  Timeout never(std::nullopt);
  EXPECT_THROW(never.reschedule(1.0), RuntimeError);  // not entered
  EXPECT_THROW(never.enter(), RuntimeError);          // no running loop, no task
}

}  // namespace
}  // namespace aiospec::ref::testing

namespace aiospec::ref::testing {
namespace {

// The __context__ chain as type names: "ValueError>TimeoutError>CancelledError".
std::string chain_of(std::exception_ptr e) {
  std::string out;
  for (const BaseException* b = as_base_exception(e); b != nullptr; b = as_base_exception(b->context())) {
    out += (out.empty() ? "" : ">") + b->python_type();
  }
  return out;
}

// After expiry the body raises a group of [ValueError, TypeError or KeyboardInterrupt], each
// member and the group chained to the CancelledError; what the chains are after the scope.
Coroutine<std::string> group_after_expiry(bool base_group) {
  EventLoop& loop = *get_running_loop();
  Timeout scope(loop.time() + 0.01);
  scope.enter();
  std::exception_ptr raised;
  try {
    co_await sleep(1);
  } catch (const CancelledError&) {
    const auto c = std::current_exception();
    auto m = chain_context(std::make_exception_ptr(ValueError("m")), c);
    auto k = chain_context(base_group ? std::make_exception_ptr(KeyboardInterrupt()) : std::make_exception_ptr(TypeError()), c);
    raised = chain_context(make_exception_group("g", {m, k}), c);
  }
  scope.exit(raised);
  const auto* group = dynamic_cast<const BaseExceptionGroup*>(as_base_exception(raised));
  co_return chain_of(raised) + " [" + chain_of(group->exceptions()[0]) + ", " + chain_of(group->exceptions()[1]) + "]";
}

TEST(Timeouts, ThirteenSplicesIntoEachMemberOfAnExceptionGroupOnly) {
  // CPython 3.13.0 and 3.12.1 printed these for the same program (tsplice.py in the session).
  VirtualWorld w13("poll", Profile::for_version("3.13"));
  EXPECT_EQ(w13.loop->run_until_complete(group_after_expiry(false)),
            "ExceptionGroup>TimeoutError>CancelledError [ValueError>TimeoutError>CancelledError, "
            "TypeError>TimeoutError>CancelledError]");
  EXPECT_EQ(w13.loop->run_until_complete(group_after_expiry(true)),
            "BaseExceptionGroup>TimeoutError>CancelledError [ValueError>CancelledError, KeyboardInterrupt>CancelledError]");
  VirtualWorld w12("poll", Profile::for_version("3.12"));
  EXPECT_EQ(w12.loop->run_until_complete(group_after_expiry(false)),
            "ExceptionGroup>CancelledError [ValueError>CancelledError, TypeError>CancelledError]");
}

TEST(ExceptionGroups, TheClassIsChosenAsBaseExceptionGroupNewDoes) {
  auto eg = make_exception_group("m", {std::make_exception_ptr(ValueError("x"))});
  EXPECT_TRUE(holds<ExceptionGroup>(eg));
  EXPECT_TRUE(holds<Exception>(eg));  // an Exception and a BaseExceptionGroup, as in Python
  EXPECT_TRUE(holds<BaseExceptionGroup>(eg));
  EXPECT_EQ(as_base_exception(eg)->python_type(), "ExceptionGroup");
  EXPECT_STREQ(as_base_exception(eg)->what(), "m (1 sub-exception)");
  EXPECT_EQ(as_base_exception(eg)->args().size(), 1u);

  auto beg = make_exception_group("m", {std::make_exception_ptr(ValueError("x")), std::make_exception_ptr(CancelledError())});
  EXPECT_FALSE(holds<Exception>(beg));
  EXPECT_EQ(as_base_exception(beg)->python_type(), "BaseExceptionGroup");
  EXPECT_STREQ(as_base_exception(beg)->what(), "m (2 sub-exceptions)");

  EXPECT_THROW(make_exception_group("m", {}), ValueError);
  EXPECT_THROW(ExceptionGroup("m", {std::make_exception_ptr(SystemExit())}), TypeError);
  // The virtual base keeps every other class's name and args.
  EXPECT_EQ(RuntimeError("r").python_type(), "RuntimeError");
  EXPECT_STREQ(Error("AttributeError", "a").what(), "a");
}

}  // namespace
}  // namespace aiospec::ref::testing

namespace aiospec::ref::testing {
namespace {

TEST(Timeouts, Before3113TheTimeoutErrorHasNoCause) {
  // CPython 3.11.2 (Debian's): `raise TimeoutError` inside __aexit__, context only.
  VirtualWorld w("poll", Profile::for_version("3.11.2"));
  EXPECT_EQ(w.loop->run_until_complete(scoped(1, 10)),
            "raised TimeoutError cause=none context=CancelledError cancelling=0");
}

// An outer cancel already requested when the scope is entered (cancelling() == 1 at entry).
Coroutine<std::string> scope_in_a_cancelled_task() {
  current_task()->cancel();
  try {
    co_await sleep(0);
  } catch (const CancelledError&) {
  }
  // cancelling() is still 1: the request was not uncancelled.
  co_return co_await scoped(1, 10);
}

TEST(Timeouts, Before3113ACancelCountedBeforeEntryKeepsTheCancellation) {
  // 3.11.3+: uncancel() <= cancelling at entry (1): TimeoutError. 3.11.0-3.11.2: uncancel() == 0
  // fails (it is 1), so the CancelledError propagates.
  VirtualWorld now("poll", Profile::for_version("3.11"));
  EXPECT_EQ(now.loop->run_until_complete(scope_in_a_cancelled_task()),
            "raised TimeoutError cause=CancelledError context=CancelledError cancelling=1");
  VirtualWorld old("poll", Profile::for_version("3.11.2"));
  EXPECT_EQ(old.loop->run_until_complete(scope_in_a_cancelled_task()), "propagates CancelledError context=none");
}

}  // namespace
}  // namespace aiospec::ref::testing
