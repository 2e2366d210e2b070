// Cancellation (CXL-*), per version profile: what cancel() does to a task, what its awaiters see,
// gather / shield / wait_for. The expected values are CPython's (C accelerator), measured with
// the interpreters in /root/.pyenv.
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

std::string args_of(const BaseException& e) {
  std::string out = "(";
  for (const auto& a : e.args()) {
    if (const auto* s = std::get_if<std::string>(&a)) out += "'" + *s + "',";
  }
  return out + ")";
}

// "CancelledError('bye',)" plus " context=CancelledError('x',)" / " cause=..." when chained.
std::string describe(const std::exception_ptr& exc) {
  const BaseException* e = as_base_exception(exc);
  if (e == nullptr) return exc ? "foreign" : "none";
  std::string out = e->python_type() + args_of(*e);
  if (const auto* c = as_base_exception(e->context())) out += " context=" + c->python_type() + args_of(*c);
  if (const auto* c = as_base_exception(e->cause())) out += " cause=" + c->python_type() + args_of(*c);
  return out;
}

template <class F>
std::string describe_call(F&& f) {
  try {
    f();
  } catch (...) {
    return describe(std::current_exception());
  }
  return "returned";
}

Coroutine<int> constant_value(int value) { co_return value; }

Coroutine<void> log_then_sleep(Order& log, double delay) {
  log.push_back("started");
  co_await sleep(delay);
  log.push_back("woke");
}

Coroutine<int> swallow_cancel(Order& log, std::shared_ptr<Future<int>> f) {
  try {
    co_await f;
  } catch (const CancelledError& e) {
    log.push_back("caught " + args_of(e));
  }
  co_return 42;
}

Coroutine<void> sleep_then_log(Order& log) {
  co_await sleep(0);
  log.push_back("completed");
}

std::shared_ptr<Future<int>> as_future(std::shared_ptr<Task<int>> t) { return t; }

TEST(Cancellation, BeforeTheFirstStepTheBodyNeverRuns) {
  for (const auto& v : Profile::versions()) {
    VirtualWorld w("poll", Profile::for_version(v));
    auto t = w.loop->create_task(log_then_sleep(w.log, 1));
    EXPECT_TRUE(t->cancel());
    EXPECT_TRUE(t->cancel());  // True each time while not done
    EXPECT_FALSE(t->cancelled());
    EXPECT_THROW(w.loop->run_until_complete(std::shared_ptr<Future<void>>(t)), CancelledError);
    EXPECT_TRUE(t->cancelled()) << v;
    EXPECT_TRUE(w.log.empty()) << v;
    EXPECT_FALSE(t->cancel());
  }
}

TEST(Cancellation, WhileAwaitingAFutureCancelsThatFuture) {
  VirtualWorld w;
  auto f = w.loop->create_future<int>();
  auto t = w.loop->create_task(swallow_cancel(w.log, f));
  w.loop->call_soon([&] {
    EXPECT_TRUE(t->cancel());
    EXPECT_TRUE(f->cancelled());  // at once; the task learns it one iteration later
    EXPECT_TRUE(w.log.empty());
  });
  EXPECT_EQ(w.loop->run_until_complete(as_future(t)), 42);
  EXPECT_FALSE(t->cancelled());  // it swallowed the CancelledError
  EXPECT_EQ(w.log, (Order{"caught ()"}));
}

// The awaiter of a task cancelled with a message, twice, and the task's result() (CXL-04).
Coroutine<void> await_cancelled_twice(Order& log, std::shared_ptr<Task<void>> victim, bool with_message) {
  co_await sleep(0);
  victim->cancel(with_message ? std::optional<std::string>("bye") : std::nullopt);
  for (int i = 0; i < 2; ++i) {
    try {
      co_await victim;
    } catch (const CancelledError&) {
      log.push_back("await " + describe(std::current_exception()));
    }
  }
  log.push_back("result " + describe_call([&] { victim->result(); }));
}

TEST(Cancellation, WhatTheAwaiterOfACancelledTaskSees) {
  const std::vector<std::pair<std::string, Order>> expected = {
      {"3.8", {"await CancelledError()", "await CancelledError()", "result CancelledError()"}},
      {"3.9",
       {"await CancelledError() context=CancelledError('bye',)", "await CancelledError() context=CancelledError('bye',)",
        "result CancelledError() context=CancelledError('bye',)"}},
      {"3.10",
       {"await CancelledError() context=CancelledError('bye',)", "await CancelledError() context=CancelledError('bye',)",
        "result CancelledError() context=CancelledError('bye',)"}},
      {"3.11", {"await CancelledError('bye',)", "await CancelledError()", "result CancelledError()"}},
      {"3.12", {"await CancelledError('bye',)", "await CancelledError()", "result CancelledError()"}},
      {"3.13", {"await CancelledError('bye',)", "await CancelledError()", "result CancelledError()"}},
  };
  for (const auto& [v, order] : expected) {
    VirtualWorld w("poll", Profile::for_version(v));
    Order ignored;
    auto victim = w.loop->create_task(log_then_sleep(ignored, 10));
    w.loop->run_until_complete(await_cancelled_twice(w.log, victim, v != "3.8"));
    EXPECT_EQ(w.log, order) << v;
  }
}

TEST(Cancellation, NoMessageIn38) {
  VirtualWorld w("poll", Profile::for_version("3.8"));
  auto f = w.loop->create_future<int>();
  EXPECT_THROW(f->cancel("x"), TypeError);
  EXPECT_FALSE(f->done());
  auto t = w.loop->create_task(constant_value(1));
  try {
    t->cancel("x");
    FAIL();
  } catch (const TypeError& e) {
    EXPECT_STREQ(e.what(), "cancel() takes no arguments (1 given)");
  }
  std::vector<Awaitable<int>> children;
  children.emplace_back(t);
  auto gathering = gather(std::move(children));
  try {
    gathering->cancel("x");
    FAIL();
  } catch (const TypeError& e) {
    EXPECT_STREQ(e.what(), "cancel() takes 1 positional argument but 2 were given");  // pure Python
  }
  VirtualWorld w9("poll", Profile::for_version("3.9"));
  auto g = w9.loop->create_future<int>();
  EXPECT_TRUE(g->cancel("x"));
  EXPECT_EQ(describe_call([&] { g->result(); }), "CancelledError('x',)");
}

TEST(Cancellation, CancelThenUncancelWithTheStepPending) {
  for (const auto& [v, outcome] : std::vector<std::pair<std::string, std::string>>{
           {"3.11", "cancelled"}, {"3.12", "cancelled"}, {"3.13", "completed"}}) {
    VirtualWorld w("poll", Profile::for_version(v));
    auto t = w.loop->create_task(sleep_then_log(w.log));
    EXPECT_TRUE(t->cancel());
    EXPECT_EQ(t->cancelling(), 1);
    EXPECT_EQ(t->uncancel(), 0);
    EXPECT_EQ(t->uncancel(), 0);  // floors at 0
    try {
      w.loop->run_until_complete(std::shared_ptr<Future<void>>(t));
      EXPECT_EQ(outcome, "completed") << v;
      EXPECT_EQ(w.log, (Order{"completed"}));
    } catch (const CancelledError&) {
      EXPECT_EQ(outcome, "cancelled") << v;
      EXPECT_TRUE(w.log.empty());
    }
  }
}

TEST(Cancellation, CancellingCountsRequestsFrom311) {
  VirtualWorld w("poll", Profile::for_version("3.11"));
  auto t = w.loop->create_task(sleep_then_log(w.log));
  t->cancel();
  t->cancel();
  EXPECT_EQ(t->cancelling(), 2);
  EXPECT_THROW(w.loop->run_until_complete(std::shared_ptr<Future<void>>(t)), CancelledError);
  EXPECT_FALSE(t->cancel());
  EXPECT_EQ(t->cancelling(), 2);  // a done task does not count

  VirtualWorld old("poll", Profile::for_version("3.10"));
  auto u = old.loop->create_task(sleep_then_log(old.log));
  EXPECT_EQ(describe_call([&] { u->cancelling(); }),
            "AttributeError(''_asyncio.Task' object has no attribute 'cancelling'',)");
  try {
    u->uncancel();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.python_type(), "AttributeError");
    EXPECT_STREQ(e.what(), "'_asyncio.Task' object has no attribute 'uncancel'");
  }
}

// CXL-02: a step that yields a future while _must_cancel is set cancels it at once.
Coroutine<void> cancel_self_then_await(Order& log, std::shared_ptr<Future<int>> f) {
  current_task()->cancel("self");
  try {
    co_await f;
  } catch (const CancelledError& e) {
    log.push_back("caught " + args_of(e) + (f->cancelled() ? " future cancelled" : ""));
  }
}

TEST(Cancellation, YieldingWhileMustCancelCancelsTheFuture) {
  VirtualWorld w;
  auto f = w.loop->create_future<int>();
  w.loop->run_until_complete(cancel_self_then_await(w.log, f));
  EXPECT_EQ(w.log, (Order{"caught ('self',) future cancelled"}));
}

// ---- gather -----------------------------------------------------------------------------------

Coroutine<int> cancel_self(std::optional<std::string> message) {
  current_task()->cancel(message);
  co_await sleep(0);
  co_return 1;
}

Coroutine<int> value_after_sleep(int value) {
  co_await sleep(0);
  co_return value;
}

std::string describe_results(const std::vector<Gathered<int>>& results) {
  std::string out;
  for (const auto& r : results) {
    if (const auto* e = std::get_if<std::exception_ptr>(&r)) {
      out += describe(*e) + ";";
    } else {
      out += std::to_string(std::get<int>(r)) + ";";
    }
  }
  return out;
}

Coroutine<std::string> gather_self_cancelled_child(std::optional<std::string> message, bool return_exceptions) {
  std::vector<Awaitable<int>> children;
  children.emplace_back(cancel_self(message));
  children.emplace_back(value_after_sleep(2));
  auto g = gather(std::move(children), return_exceptions);
  try {
    co_return describe_results(co_await g);
  } catch (const CancelledError&) {
    co_return "raised " + describe(std::current_exception());
  }
}

TEST(Gather, ASelfCancelledChildLosesItsMessage) {
  for (const auto& [v, expected] : std::vector<std::pair<std::string, std::string>>{
           {"3.8", "CancelledError();2;"}, {"3.9", "CancelledError('',);2;"}, {"3.13", "CancelledError('',);2;"}}) {
    VirtualWorld w("poll", Profile::for_version(v));
    auto message = v == "3.8" ? std::nullopt : std::optional<std::string>("child-msg");
    EXPECT_EQ(w.loop->run_until_complete(gather_self_cancelled_child(message, true)), expected) << v;
  }
  for (const auto& [v, expected] : std::vector<std::pair<std::string, std::string>>{
           {"3.8", "raised CancelledError()"},
           {"3.9", "raised CancelledError() context=CancelledError('child-msg',)"},
           {"3.11", "raised CancelledError('child-msg',)"}}) {
    VirtualWorld w("poll", Profile::for_version(v));
    auto message = v == "3.8" ? std::nullopt : std::optional<std::string>("child-msg");
    EXPECT_EQ(w.loop->run_until_complete(gather_self_cancelled_child(message, false)), expected) << v;
  }
}

TEST(Gather, DoneChildrenAreHandledAtOnceFrom312) {
  for (const auto& [v, done_at_once] : std::vector<std::pair<std::string, bool>>{{"3.11", false}, {"3.12", true}}) {
    VirtualWorld w("poll", Profile::for_version(v));
    auto a = w.loop->create_future<int>();
    auto b = w.loop->create_future<int>();
    a->set_result(1);
    b->set_result(2);
    std::vector<Awaitable<int>> children;
    for (const auto& f : {a, b, a}) children.emplace_back(f);  // a twice: one child listed twice
    auto g = gather(std::move(children));
    EXPECT_EQ(g->done(), done_at_once) << v;
    EXPECT_EQ(describe_results(w.loop->run_until_complete(g)), "1;2;1;") << v;
  }
}

Coroutine<std::string> cancel_the_gather(Order& log) {
  std::vector<Awaitable<void>> children;
  children.emplace_back(log_then_sleep(log, 5));
  children.emplace_back(log_then_sleep(log, 5));
  auto g = gather(std::move(children));
  co_await sleep(0);
  log.push_back(g->cancel("stop") ? "cancel true" : "cancel false");
  try {
    co_await g;
  } catch (const CancelledError&) {
    co_return describe(std::current_exception());
  }
  co_return "returned";
}

TEST(Gather, CancellingTheGatherCancelsTheChildren) {
  for (const auto& [v, expected] : std::vector<std::pair<std::string, std::string>>{
           {"3.10", "CancelledError() context=CancelledError('stop',)"}, {"3.12", "CancelledError('stop',)"}}) {
    VirtualWorld w("poll", Profile::for_version(v));
    EXPECT_EQ(w.loop->run_until_complete(cancel_the_gather(w.log)), expected) << v;
    EXPECT_EQ(w.log, (Order{"started", "started", "cancel true"}));
    EXPECT_EQ(w.clock.time(), 0.0);
  }
}

TEST(Gather, CostsThreeIterations) {
  // gather(coro) awaited by a task: child step, child done callback -> outer set, wake-up.
  VirtualWorld w;
  auto body = []() -> Coroutine<int> {
    std::vector<Awaitable<int>> children;
    children.emplace_back(constant_value(5));
    auto results = co_await gather(std::move(children));
    co_return std::get<int>(results.at(0));
  };
  EXPECT_EQ(w.loop->run_until_complete(body()), 5);
  EXPECT_EQ(w.keeper.polls(), 2u + 3u);
}

// ---- shield -----------------------------------------------------------------------------------

Coroutine<std::string> shielded(Order& log, std::shared_ptr<Task<void>>& inner_out) {
  auto inner = get_running_loop()->create_task(log_then_sleep(log, 1));
  inner_out = inner;
  auto outer = shield<void>(inner);
  co_await sleep(0);
  outer->cancel();
  try {
    co_await outer;
  } catch (const CancelledError&) {
    log.push_back("outer cancelled");
  }
  co_await inner;
  co_return "inner " + std::string(inner->cancelled() ? "cancelled" : "finished");
}

TEST(Shield, CancellingTheOuterLeavesTheInnerRunning) {
  VirtualWorld w;
  std::shared_ptr<Task<void>> inner;
  EXPECT_EQ(w.loop->run_until_complete(shielded(w.log, inner)), "inner finished");
  EXPECT_EQ(w.log, (Order{"started", "outer cancelled", "woke"}));
  EXPECT_EQ(w.clock.time(), 1.0);
}

// ---- wait_for ---------------------------------------------------------------------------------

Coroutine<int> wait_for_constant() { co_return co_await wait_for<int>(constant_value(1), 10.0); }

TEST(WaitFor, IterationCostsPerVersion) {
  // TSK-08: a Task and a waiter future until 3.11 (3 iterations more than `await coro`), the
  // coroutine inline in a timeout scope from 3.12 (none).
  for (const auto& [v, polls] : std::vector<std::pair<std::string, std::size_t>>{
           {"3.8", 5}, {"3.11", 5}, {"3.12", 2}, {"3.13", 2}}) {
    VirtualWorld w("poll", Profile::for_version(v));
    EXPECT_EQ(w.loop->run_until_complete(wait_for_constant()), 1);
    EXPECT_EQ(w.keeper.polls(), polls) << v;
    EXPECT_EQ(w.loop->scheduled_count(), 0u) << v;
  }
}

Coroutine<std::string> wait_for_slow(double timeout) {
  try {
    co_await wait_for<void>(sleep(10), timeout);
  } catch (const TimeoutError&) {
    co_return describe(std::current_exception());
  }
  co_return "returned";
}

TEST(WaitFor, TimeoutRaisesTimeoutErrorChainedFrom39) {
  for (const auto& [v, expected] : std::vector<std::pair<std::string, std::string>>{
           {"3.8", "TimeoutError()"},
           {"3.9", "TimeoutError() context=CancelledError() cause=CancelledError()"},
           {"3.12", "TimeoutError() context=CancelledError() cause=CancelledError()"}}) {
    VirtualWorld w("poll", Profile::for_version(v));
    EXPECT_EQ(w.loop->run_until_complete(wait_for_slow(1.0)), expected) << v;
    EXPECT_EQ(w.clock.time(), 1.0) << v;
    // timeout <= 0 cancels the inner before it runs; 3.8 chains the TimeoutError there too.
    VirtualWorld now("poll", Profile::for_version(v));
    EXPECT_EQ(now.loop->run_until_complete(wait_for_slow(0)),
              "TimeoutError() context=CancelledError() cause=CancelledError()")
        << v << " timeout 0";
    EXPECT_EQ(now.clock.time(), 0.0) << v;
  }
}

Coroutine<std::string> stubborn() {
  try {
    co_await sleep(10);
  } catch (const CancelledError&) {
  }
  co_return "stubborn-value";
}

Coroutine<std::string> wait_for_stubborn() {
  try {
    co_return co_await wait_for<std::string>(stubborn(), 1.0);
  } catch (const TimeoutError&) {
    co_return "TimeoutError";
  }
}

TEST(WaitFor, ACancelSwallowingInnerWinsFrom39) {
  for (const auto& [v, expected] : std::vector<std::pair<std::string, std::string>>{
           {"3.8", "TimeoutError"}, {"3.9", "stubborn-value"}, {"3.11", "stubborn-value"}, {"3.12", "stubborn-value"}}) {
    VirtualWorld w("poll", Profile::for_version(v));
    EXPECT_EQ(w.loop->run_until_complete(wait_for_stubborn()), expected) << v;
  }
}

}  // namespace
}  // namespace aiospec::ref::testing
