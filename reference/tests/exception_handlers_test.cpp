// Exception handlers (EXC): call_exception_handler's fallbacks, the default handler's layout, the
// reports' contexts (callback raised, never retrieved, destroyed pending) and the reprs in them.
// Every expected text is what CPython 3.8 / 3.12 / 3.13 log for the same program (a Python
// callable object with that __qualname__ stands for a named C++ callback).
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "aiospec/ref/base_events.hpp"
#include "aiospec/ref/exceptions.hpp"
#include "aiospec/ref/format_helpers.hpp"
#include "aiospec/ref/futures.hpp"
#include "aiospec/ref/log.hpp"
#include "aiospec/ref/tasks.hpp"
#include "test_loop.hpp"

namespace aiospec::ref::testing {
namespace {

using Order = std::vector<std::string>;

Callback named(std::string name, std::function<void()> body) { return Callback(std::move(body), std::move(name)); }

void boom() { throw ValueError("boom"); }

std::string exception_text(const std::exception_ptr& e) { return e ? exception_repr(e) : "None"; }

Coroutine<int> raise_key_error();

TEST(Reprs, PythonTexts) {
  EXPECT_EQ(python_repr(std::string_view("it's")), "\"it's\"");
  EXPECT_EQ(python_repr(std::string_view("a\nb\\")), "'a\\nb\\\\'");
  EXPECT_EQ(python_repr(1e16), "1e+16");
  EXPECT_EQ(python_repr(0.1), "0.1");
  EXPECT_EQ(python_repr(1e-5), "1e-05");
  EXPECT_EQ(python_repr(123456789012345678.0), "1.2345678901234568e+17");
  EXPECT_EQ(python_repr(1.0), "1.0");
  EXPECT_EQ(python_repr(-0.5), "-0.5");
  EXPECT_EQ(python_repr(1.5e-4), "0.00015");
  EXPECT_EQ(exception_text(std::make_exception_ptr(ValueError("boom"))), "ValueError('boom')");
  EXPECT_EQ(exception_text(make_exception("KeyError", Args{std::string("a"), std::int64_t{1}})), "KeyError('a', 1)");
  EXPECT_EQ(exception_text(std::make_exception_ptr(CancelledError())), "CancelledError()");
  EXPECT_EQ(exception_text(make_exception_group("eg", {std::make_exception_ptr(ValueError("a"))})),
            "ExceptionGroup('eg', [ValueError('a')])");
  // reprlib.repr of a future whose repr is longer than 30 characters.
  EXPECT_EQ(reprlib_truncate("<Future finished exception=ValueError('a much longer message here')>"),
            "<Future finis...essage here')>");
  EXPECT_EQ(reprlib_repr("abcdefghijklmnopqrstuvwxyz0123456789"), "'abcdefghijkl...xyz0123456789'");
}

TEST(DefaultHandler, CallbackRaised) {
  LoggedWorld w;
  w.loop->call_soon(named("a", boom));
  w.loop->call_later(0, named("t", boom));
  w.run_batch();
  w.run_batch();
  ASSERT_EQ(w.logger->records.size(), 2u);
  EXPECT_EQ(w.messages()[0], "ERROR Exception in callback a()\nhandle: <Handle a()>");
  EXPECT_EQ(exception_text(w.logger->records[0].exception), "ValueError('boom')");
  EXPECT_EQ(w.messages()[1], "ERROR Exception in callback t()\nhandle: <TimerHandle when=0.0 t()>");
}

TEST(DefaultHandler, DoneCallbackShowsTheFutureUntil313) {
  for (const char* version : {"3.8", "3.12", "3.13"}) {
    LoggedWorld w(Profile::for_version(version));
    auto f = w.loop->create_future<int>();
    f->add_done_callback([](Future<int>&) { boom(); }, "dcb");
    f->set_result(1);
    w.run_batch();
    ASSERT_EQ(w.logger->records.size(), 1u) << version;
    EXPECT_EQ(w.messages()[0], std::string(version) == "3.13"
                                   ? "ERROR Exception in callback dcb()\nhandle: <Handle dcb()>"
                                   : "ERROR Exception in callback dcb(<Future finished result=1>)\n"
                                     "handle: <Handle dcb(<Future finished result=1>)>")
        << version;
  }
}

TEST(DefaultHandler, SortedKeysAndEmptyMessage) {
  LoggedWorld w;
  w.loop->call_exception_handler({{"message", "m"}, {"zeta", std::int64_t{1}}, {"alpha", "x"}});
  w.loop->call_exception_handler({});
  w.loop->call_exception_handler({{"message", ""}});
  EXPECT_EQ(w.messages(), (std::vector<std::string>{"ERROR m\nalpha: 'x'\nzeta: 1",
                                                    "ERROR Unhandled exception in event loop",
                                                    "ERROR Unhandled exception in event loop"}));
  EXPECT_EQ(w.logger->records[0].exception, nullptr);
}

TEST(CallExceptionHandler, FailingCustomHandlerGoesToTheDefaultWithTheContextNested) {
  LoggedWorld w;
  std::vector<std::string> seen;
  w.loop->set_exception_handler([&](EventLoop&, const ExceptionContext& context) {
    seen = context.sorted_keys();
    throw RuntimeError("handler");
  });
  w.loop->call_soon(named("a", boom));
  w.loop->call_soon(w.record("after"));
  w.run_batch();
  EXPECT_EQ(seen, (std::vector<std::string>{"exception", "handle", "message"}));
  ASSERT_EQ(w.logger->records.size(), 1u);
  EXPECT_EQ(w.messages()[0],
            "ERROR Unhandled error in exception handler\ncontext: {'message': 'Exception in callback a()', "
            "'exception': ValueError('boom'), 'handle': <Handle a()>}");
  EXPECT_EQ(exception_text(w.logger->records[0].exception), "RuntimeError('handler')");
  EXPECT_EQ(w.log, (Order{"after"}));
}

TEST(CallExceptionHandler, AHandlerFailingDuringACallbackChainsTheCallbacksException) {
  LoggedWorld w;
  w.loop->set_exception_handler([](EventLoop&, const ExceptionContext&) { throw RuntimeError("handler"); });
  w.loop->call_soon(named("a", boom));
  w.run_batch();
  w.loop->call_exception_handler({{"message", "outside a callback"}});
  ASSERT_EQ(w.logger->records.size(), 2u);
  const BaseException* first = as_base_exception(w.logger->records[0].exception);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(exception_text(first->context()), "ValueError('boom')");
  EXPECT_EQ(as_base_exception(w.logger->records[1].exception)->context(), nullptr);
}

// L5: what a handler throws while a future is being destroyed (Future.__del__) is swallowed,
// SystemExit included: "Exception ignored in", never std::terminate.
TEST(NeverRetrieved, AHandlerRaisingSystemExitInAFinalizerIsIgnored) {
  LoggedWorld w;
  int calls = 0;
  w.loop->set_exception_handler([&](EventLoop&, const ExceptionContext&) {
    ++calls;
    throw SystemExit("out");
  });
  auto f = w.loop->create_future<int>();
  f->set_exception(std::make_exception_ptr(ValueError("boom")));
  EXPECT_NO_THROW(f.reset());
  auto t = w.loop->create_task(raise_key_error(), "t");
  w.run_batch();
  EXPECT_NO_THROW(t.reset());
  EXPECT_EQ(calls, 2);
}

// A loop whose default handler fails: call_exception_handler's last protections.
class FailingDefaultLoop final : public TestLoop {
 public:
  using TestLoop::TestLoop;
  void default_exception_handler(const ExceptionContext&) override { throw TypeError("default"); }
};

TEST(CallExceptionHandler, FailingDefaultHandlerIsLogged) {
  VirtualClock clock;
  StandaloneTimeKeeper keeper{clock, 100};
  auto selector = std::make_unique<VirtualSelector>(make_selector("poll"), clock, keeper);
  auto* raw = selector.get();
  FailingDefaultLoop loop(std::move(selector), clock);
  raw->attach(loop);
  auto logger = std::make_shared<CapturingLogger>();
  loop.set_logger(logger);
  loop.call_exception_handler({{"message", "m"}});
  loop.set_exception_handler([](EventLoop&, const ExceptionContext&) { throw RuntimeError("custom"); });
  loop.call_exception_handler({{"message", "m"}});
  ASSERT_EQ(logger->records.size(), 2u);
  EXPECT_EQ(logger->records[0].message, "Exception in default exception handler");
  EXPECT_EQ(exception_text(logger->records[0].exception), "TypeError('default')");
  EXPECT_EQ(logger->records[1].message,
            "Exception in default exception handler while handling an unexpected error in custom exception handler");
  loop.close();
}

TEST(CallExceptionHandler, SystemExitAndKeyboardInterruptFromTheHandlerPropagate) {
  LoggedWorld w;
  w.loop->set_exception_handler([](EventLoop&, const ExceptionContext&) { throw SystemExit("out"); });
  EXPECT_THROW(w.loop->call_exception_handler({{"message", "m"}}), SystemExit);
  w.loop->set_exception_handler([](EventLoop&, const ExceptionContext&) { throw KeyboardInterrupt(); });
  w.loop->call_soon(named("a", boom));
  EXPECT_THROW(w.run_batch(), KeyboardInterrupt);
  EXPECT_TRUE(w.logger->records.empty());
  w.loop->set_exception_handler(nullptr);
  EXPECT_FALSE(w.loop->get_exception_handler());
}

// ---- never retrieved, destroyed pending -----------------------------------------------------

TEST(NeverRetrieved, FutureReportedWhenTheLastReferenceGoes) {
  LoggedWorld w;
  auto f = w.loop->create_future<int>();
  f->set_exception(std::make_exception_ptr(ValueError("boom")));
  EXPECT_TRUE(w.logger->records.empty());
  f.reset();
  ASSERT_EQ(w.logger->records.size(), 1u);
  EXPECT_EQ(w.messages()[0],
            "ERROR Future exception was never retrieved\nfuture: <Future finished exception=ValueError('boom')>");
  EXPECT_EQ(exception_text(w.logger->records[0].exception), "ValueError('boom')");
}

TEST(NeverRetrieved, RetrievedOrCancelledIsNotReported) {
  LoggedWorld w;
  auto f = w.loop->create_future<int>();
  f->set_exception(std::make_exception_ptr(ValueError("boom")));
  (void)f->exception();
  f.reset();
  auto g = w.loop->create_future<int>();
  g->cancel();
  g.reset();
  EXPECT_TRUE(w.logger->records.empty());
}

TEST(NeverRetrieved, HandlerSeesMessageExceptionFuture) {
  LoggedWorld w;
  std::vector<std::string> keys;
  std::string future_repr;
  w.loop->set_exception_handler([&](EventLoop&, const ExceptionContext& c) {
    keys = c.sorted_keys();
    future_repr = c.future()->repr();
  });
  auto f = w.loop->create_future<int>();
  f->set_exception(std::make_exception_ptr(ValueError("boom")));
  f.reset();
  EXPECT_EQ(keys, (std::vector<std::string>{"exception", "future", "message"}));
  EXPECT_EQ(future_repr, "<Future finished exception=ValueError('boom')>");
}

Coroutine<int> raise_key_error() {  // NOLINT: declared above
  throw KeyError("k");
  co_return 0;
}

TEST(NeverRetrieved, TaskReportedWithItsRepr) {
  LoggedWorld w;
  auto t = w.loop->create_task(raise_key_error(), "t1");
  w.run_batch();
  ASSERT_TRUE(t->done());
  EXPECT_TRUE(w.logger->records.empty());
  t.reset();
  ASSERT_EQ(w.logger->records.size(), 1u);
  EXPECT_EQ(w.messages()[0],
            "ERROR Task exception was never retrieved\nfuture: <Task finished name='t1' coro=<coroutine> "
            "exception=KeyError('k')>");
}

Coroutine<int> wait_on(std::shared_ptr<Future<int>> f) { co_return co_await f; }

TEST(DestroyedPending, TaskKeptAliveByTheFutureItWaitsFor) {
  LoggedWorld w;
  auto f = w.loop->create_future<int>();
  auto t = w.loop->create_task(wait_on(f), "t2");
  w.run_batch();
  std::weak_ptr<Task<int>> weak = t;
  t.reset();  // the future's wake-up callback holds it, as in Python
  EXPECT_FALSE(weak.expired());
  EXPECT_EQ(w.loop->collect_garbage(), 0u);
  EXPECT_TRUE(w.logger->records.empty());
  f->set_result(3);
  w.run_batch();
  EXPECT_TRUE(weak.expired());  // done: nothing holds it any more
  EXPECT_TRUE(w.logger->records.empty());
}

TEST(DestroyedPending, ACycleThroughAFrameIsCollectedWhenTheFrameIsCounted) {
  LoggedWorld w;
  auto f = w.loop->create_future<int>();
  const FutureBase* key = f.get();
  auto t = w.loop->create_task(wait_on(f), "t2");
  w.run_batch();  // t2 waits for f: f's wake-up callback holds t2, t2's frame and _fut_waiter hold f
  t.reset();
  const auto frame = [&](const FutureBase& x) -> long { return &x == key ? 2 : 0; };  // the parameter, the awaiter
  EXPECT_EQ(w.loop->collect_garbage(frame), 0u);  // f is still the test's: t2 lives on
  f.reset();
  EXPECT_EQ(w.loop->collect_garbage(), 0u);  // the frame's references unknown: held from outside
  EXPECT_TRUE(w.logger->records.empty());
  EXPECT_EQ(w.loop->collect_garbage(frame), 2u);  // gc.collect(): the task and its future
  ASSERT_EQ(w.logger->records.size(), 1u);
  EXPECT_EQ(w.messages()[0],
            "ERROR Task was destroyed but it is pending!\ntask: <Task pending name='t2' coro=<coroutine> "
            "wait_for=<Future pending cb=[Task.task_wakeup()]>>");
}

TEST(DestroyedPending, ReportedWhenReleasedPending) {
  LoggedWorld w;
  auto t = w.loop->create_task(wait_on(w.loop->create_future<int>()), "t2");
  // Never stepped: the ready queue holds it. Closing the loop drops the step.
  t.reset();
  EXPECT_TRUE(w.logger->records.empty());
  w.loop->close();
  ASSERT_EQ(w.logger->records.size(), 1u);
  EXPECT_EQ(w.messages()[0],
            "ERROR Task was destroyed but it is pending!\ntask: <Task pending name='t2' coro=<coroutine>>");
  EXPECT_EQ(w.logger->records[0].exception, nullptr);
}

TEST(DestroyedPending, GatherChildrenAreNotReported) {
  LoggedWorld w;
  std::shared_ptr<Future<std::vector<Gathered<int>>>> outer;
  w.loop->call_soon([&] { outer = gather(wait_on(w.loop->create_future<int>())); });
  w.run_batch();
  outer.reset();
  w.loop->close();
  EXPECT_TRUE(w.logger->records.empty());
}

}  // namespace
}  // namespace aiospec::ref::testing
