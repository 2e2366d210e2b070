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
