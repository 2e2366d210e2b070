// Future callbacks and run_until_complete (FUT-*, LIF-03).
#include "aiospec/ref/futures.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "aiospec/ref/exceptions.hpp"
#include "test_loop.hpp"

namespace aiospec::ref::testing {
namespace {

using Order = std::vector<std::string>;

TEST(Futures, DoneCallbacksAreScheduledInOrderNeverCalledSynchronously) {
  VirtualWorld w;
  auto f = w.loop->create_future<int>();
  f->add_done_callback(
      [&](Future<int>& g) { w.log.push_back("cb1=" + std::to_string(g.result())); });
  f->add_done_callback([&](Future<int>&) { w.log.push_back("cb2"); });
  w.loop->call_soon(w.record("queued-before"));
  f->set_result(7);
  EXPECT_TRUE(w.log.empty());
  EXPECT_EQ(w.loop->ready_count(), 3u);
  // Already done: scheduled at once, behind the others.
  f->add_done_callback([&](Future<int>&) { w.log.push_back("late"); });
  w.loop->stop();
  w.loop->run_forever();
  EXPECT_EQ(w.log, (Order{"queued-before", "cb1=7", "cb2", "late"}));
}

TEST(Futures, StatesAndErrors) {
  VirtualWorld w;
  auto f = w.loop->create_future<std::string>();
  EXPECT_FALSE(f->done());
  try {
    (void)f->result();
    FAIL();
  } catch (const InvalidStateError& e) {
    EXPECT_STREQ(e.what(), "Result is not set.");
  }
  f->set_result("x");
  EXPECT_EQ(f->result(), "x");
  EXPECT_EQ(f->exception(), nullptr);
  try {
    f->set_result("y");
    FAIL();
  } catch (const InvalidStateError& e) {
    EXPECT_STREQ(e.what(), "invalid state");
  }
  EXPECT_FALSE(f->cancel());

  auto c = w.loop->create_future<int>();
  EXPECT_TRUE(c->cancel());
  EXPECT_TRUE(c->cancelled());
  EXPECT_TRUE(c->done());
  EXPECT_THROW((void)c->result(), CancelledError);
  EXPECT_THROW(c->set_result(1), InvalidStateError);

  auto e = w.loop->create_future<int>();
  e->set_exception(std::make_exception_ptr(ValueError("bad")));
  EXPECT_THROW((void)e->result(), ValueError);
}

// FUT-05, as CPython 3.12.1 and 3.13.0 print it: refused before 3.13, wrapped from 3.13.
TEST(Futures, AStopIterationIsRefusedOrWrapped) {
  const std::string text = "StopIteration interacts badly with generators and cannot be raised into a Future";
  VirtualWorld old("poll", Profile::for_version("3.12"));
  auto refused = old.loop->create_future<int>();
  try {
    refused->set_exception(make_exception("StopIteration", {std::string("stop")}));
    FAIL();
  } catch (const TypeError& e) {
    EXPECT_EQ(e.what(), text);
  }
  EXPECT_FALSE(refused->done());

  VirtualWorld now("poll", Profile::for_version("3.13"));
  auto wrapped = now.loop->create_future<int>();
  wrapped->set_exception(make_exception("StopIteration", {std::string("stop")}));
  ASSERT_TRUE(wrapped->done());
  const BaseException* e = as_base_exception(wrapped->exception());
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->python_type(), "RuntimeError");
  EXPECT_EQ(std::string(e->what()), text);
  EXPECT_EQ(as_base_exception(e->cause())->python_type(), "StopIteration");
  EXPECT_EQ(e->context(), e->cause());
}

TEST(Futures, RemoveDoneCallback) {
  VirtualWorld w;
  auto f = w.loop->create_future<int>();
  const auto keep = f->add_done_callback([&](Future<int>&) { w.log.push_back("kept"); });
  const auto drop = f->add_done_callback([&](Future<int>&) { w.log.push_back("dropped"); });
  EXPECT_EQ(f->remove_done_callback(drop), 1u);
  EXPECT_EQ(f->remove_done_callback(drop), 0u);
  EXPECT_NE(keep, drop);
  f->set_result(1);
  w.loop->stop();
  w.loop->run_forever();
  EXPECT_EQ(w.log, (Order{"kept"}));
}

TEST(Futures, RunUntilCompleteWithADelayedResult) {
  VirtualWorld w;
  auto f = w.loop->create_future<int>();
  w.loop->call_later(1.5, [&] { f->set_result(42); });
  EXPECT_EQ(w.loop->run_until_complete(f), 42);
  EXPECT_EQ(w.clock.time(), 1.5);
  // Iterations: the timer sets the result, the done callback stops the loop.
  EXPECT_EQ(w.keeper.polls(), 2u);
  EXPECT_FALSE(w.loop->is_running());
}

TEST(Futures, RunUntilCompleteCosts) {
  VirtualWorld done;
  auto f = done.loop->create_future<int>();
  f->set_result(1);
  done.loop->run_until_complete(f);
  EXPECT_EQ(done.keeper.polls(), 1u);

  VirtualWorld soon;
  auto g = soon.loop->create_future<int>();
  soon.loop->call_soon([&] { g->set_result(2); });
  EXPECT_EQ(soon.loop->run_until_complete(g), 2);
  EXPECT_EQ(soon.keeper.polls(), 2u);
}

TEST(Futures, RunUntilCompleteStoppedEarly) {
  VirtualWorld w;
  auto f = w.loop->create_future<int>();
  w.loop->call_soon([&] { w.loop->stop(); });
  try {
    w.loop->run_until_complete(f);
    FAIL();
  } catch (const RuntimeError& e) {
    EXPECT_STREQ(e.what(), "Event loop stopped before Future completed.");
  }
  f->set_result(1);
  EXPECT_EQ(w.loop->ready_count(), 0u);  // the stopping done callback was removed
}

TEST(Futures, RunUntilCompleteRemovesItsCallbackWhenAnExceptionEscapes) {
  VirtualWorld w;
  auto f = w.loop->create_future<int>();
  EXPECT_THROW(w.loop->run_until_complete(f), WouldBlockForever);
  EXPECT_FALSE(w.loop->is_running());
  f->set_result(1);
  EXPECT_EQ(w.loop->ready_count(), 0u);
}

TEST(Futures, RunUntilCompleteErrors) {
  VirtualWorld w;
  VirtualWorld other;
  auto foreign = other.loop->create_future<int>();
  try {
    w.loop->run_until_complete(foreign);
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_STREQ(
        e.what(),
        "The future belongs to a different loop than the one specified as the loop argument");
  }
  auto mine = w.loop->create_future<int>();
  std::string nested;
  w.loop->call_soon([&] {
    try {
      w.loop->run_until_complete(mine);
    } catch (const RuntimeError& e) {
      nested = e.what();
    }
    w.loop->stop();
  });
  w.loop->run_forever();
  EXPECT_EQ(nested, "This event loop is already running");
  w.loop->close();
  EXPECT_THROW(w.loop->run_until_complete(mine), RuntimeError);
}

TEST(Futures, RunUntilCompleteOfACancelledOrFailedFuture) {
  VirtualWorld w;
  auto c = w.loop->create_future<int>();
  w.loop->call_soon([&] { c->cancel(); });
  EXPECT_THROW(w.loop->run_until_complete(c), CancelledError);

  auto e = w.loop->create_future<int>();
  w.loop->call_soon([&] { e->set_exception(std::make_exception_ptr(ValueError("bad"))); });
  EXPECT_THROW(w.loop->run_until_complete(e), ValueError);
}

TEST(Futures, StackFutureWorksWhileItOutlivesItsCallbacks) {
  VirtualWorld w;
  Future<int> f(*w.loop);
  f.add_done_callback([&](Future<int>& g) { w.log.push_back(std::to_string(g.result())); });
  f.set_result(5);
  w.loop->stop();
  w.loop->run_forever();
  EXPECT_EQ(w.log, (Order{"5"}));
}

}  // namespace
}  // namespace aiospec::ref::testing

namespace aiospec::ref::testing {
namespace {

// FUT-06's flag: set by set_exception, cleared by result(), exception() and cancel() of a done
// future (the report itself is issue 8's).
TEST(Futures, TheRetrievedFlag) {
  VirtualWorld w;
  auto f = w.loop->create_future<int>();
  EXPECT_FALSE(f->log_traceback());
  f->set_exception(std::make_exception_ptr(ValueError("x")));
  EXPECT_TRUE(f->log_traceback());
  (void)f->exception();
  EXPECT_FALSE(f->log_traceback());

  auto g = w.loop->create_future<int>();
  g->set_exception(std::make_exception_ptr(ValueError("x")));
  EXPECT_FALSE(g->cancel());
  EXPECT_FALSE(g->log_traceback());

  auto h = w.loop->create_future<int>();
  h->set_exception(std::make_exception_ptr(ValueError("x")));
  EXPECT_THROW((void)h->result(), ValueError);
  EXPECT_FALSE(h->log_traceback());
}

TEST(Futures, CancelMessageAndArgs) {
  VirtualWorld w;  // 3.12
  auto f = w.loop->create_future<int>();
  EXPECT_TRUE(f->cancel("why"));
  EXPECT_EQ(f->cancel_message(), std::optional<std::string>("why"));
  try {
    (void)f->result();
    FAIL();
  } catch (const CancelledError& e) {
    ASSERT_EQ(e.args().size(), 1u);
    EXPECT_EQ(std::get<std::string>(e.args()[0]), "why");
    EXPECT_STREQ(e.what(), "why");
  }
  auto g = w.loop->create_future<int>();
  g->cancel();
  try {
    g->exception();
    FAIL();
  } catch (const CancelledError& e) {
    EXPECT_TRUE(e.args().empty());  // CancelledError(), not CancelledError('')
  }
  EXPECT_THROW(g->set_exception(nullptr), InvalidStateError);
  auto p = w.loop->create_future<int>();
  EXPECT_THROW(p->exception(), InvalidStateError);
}

TEST(Futures, VoidFuture) {
  VirtualWorld w;
  auto f = w.loop->create_future<void>();
  w.loop->call_soon([f] { f->set_result(); });
  w.loop->run_until_complete(f);
  EXPECT_TRUE(f->done());
}

// The mutant hook: a future whose callbacks run synchronously breaks FUT-01.
class SynchronousCallbacks : public Future<int> {
 public:
  using Future<int>::Future;

 protected:
  void schedule_callbacks() override {
    for (auto& callback : take_callbacks()) callback(*this);  // not what asyncio does
  }
};

TEST(Futures, ScheduleCallbacksIsTheHookForAMutant) {
  VirtualWorld w;
  auto f = std::make_shared<SynchronousCallbacks>(*w.loop);
  f->add_done_callback([&](Future<int>& g) { w.log.push_back("cb=" + std::to_string(g.result())); });
  f->set_result(1);
  EXPECT_EQ(w.log, (Order{"cb=1"}));
  EXPECT_EQ(w.loop->ready_count(), 0u);
}

TEST(Exceptions, ArgsStrAndMakeException) {
  EXPECT_STREQ(CancelledError().what(), "");
  EXPECT_TRUE(CancelledError().args().empty());
  EXPECT_EQ(CancelledError(std::optional<std::string>("")).args().size(), 1u);
  EXPECT_STREQ(RuntimeError(Args{std::string("a"), std::int64_t{2}}).what(), "('a', 2)");
  auto e = make_exception("TimeoutError", {});
  EXPECT_TRUE(holds<TimeoutError>(e));
  EXPECT_TRUE(holds<Exception>(e));
  EXPECT_TRUE(holds<CancelledError>(make_exception("CancelledError", {std::string("m")})));
  EXPECT_FALSE(holds<Exception>(make_exception("CancelledError", {})));  // a BaseException
  EXPECT_FALSE(holds<Exception>(make_exception("KeyboardInterrupt", {})));
  auto other = make_exception("AttributeError", {std::string("no")});
  EXPECT_EQ(as_base_exception(other)->python_type(), "AttributeError");
  EXPECT_TRUE(escapes_the_loop(make_exception("SystemExit", {})));
  EXPECT_FALSE(escapes_the_loop(make_exception("CancelledError", {})));
  EXPECT_TRUE(escapes_the_loop(std::make_exception_ptr(42)));
  // Implicit chaining, never onto itself.
  auto handled = make_exception("ValueError", {});
  auto raised = chain_context(make_exception("RuntimeError", {}), handled);
  EXPECT_EQ(as_base_exception(raised)->context(), handled);
  chain_context(handled, handled);
  EXPECT_EQ(as_base_exception(handled)->context(), nullptr);
}

}  // namespace
}  // namespace aiospec::ref::testing
