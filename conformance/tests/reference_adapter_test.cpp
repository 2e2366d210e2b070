// The reference adapter's tasks seam, driven without the interpreter: hand-written
// conformance::Coroutines (what the interpreter's scenario coroutines are) on the adapter's loops.
#include "aiospec/conformance/reference_adapter.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "aiospec/conformance/adapter.hpp"
#include "aiospec/conformance/virtual_time.hpp"

namespace aiospec::conformance {
namespace {

using json = nlohmann::json;

Step returned(Value v) {
  Step s;
  s.kind = Step::Kind::returned;
  s.value = std::move(v);
  return s;
}
Step raised(std::exception_ptr e) {
  Step s;
  s.kind = Step::Kind::raised;
  s.exception = std::move(e);
  return s;
}

// `await` each part in turn (yield from), then return what the last one returned. A part raising
// ends the sequence with that exception, after `on_raise` saw it.
class Sequence final : public Coroutine {
 public:
  using Part = std::function<CoroutinePtr()>;
  explicit Sequence(std::vector<Part> parts, std::function<void(const LoopError&)> on_raise = {})
      : parts_(std::move(parts)), on_raise_(std::move(on_raise)) {}

  Step send() override { return drive(nullptr); }
  Step throw_in(const LoopError& error) override { return drive(&error); }

 private:
  Step drive(const LoopError* thrown) {
    while (true) {
      if (!current_) {
        if (next_ == parts_.size()) return returned(last_);
        current_ = parts_[next_++]();
        thrown = nullptr;
      }
      Step s = thrown ? current_->throw_in(*thrown) : current_->send();
      thrown = nullptr;
      if (s.kind == Step::Kind::yielded) return s;
      current_.reset();
      if (s.kind == Step::Kind::raised) {
        try {
          std::rethrow_exception(s.exception);
        } catch (const LoopError& e) {
          if (on_raise_) on_raise_(e);
        } catch (...) {
        }
        return s;
      }
      last_ = s.value;
    }
  }

  std::vector<Part> parts_;
  std::function<void(const LoopError&)> on_raise_;
  std::size_t next_ = 0;
  CoroutinePtr current_;
  Value last_;
};

// `await future`: no suspension when done.
class AwaitFuture final : public Coroutine {
 public:
  explicit AwaitFuture(std::shared_ptr<Future> f) : f_(std::move(f)) {}
  Step send() override {
    if (!f_->done() && !yielded_) {
      yielded_ = true;
      Step s;
      s.kind = Step::Kind::yielded;
      s.future = f_;
      return s;
    }
    try {
      return returned(f_->result());
    } catch (...) {
      return raised(std::current_exception());
    }
  }
  Step throw_in(const LoopError& error) override { return raised(std::make_exception_ptr(error)); }

 private:
  std::shared_ptr<Future> f_;
  bool yielded_ = false;
};

// Runs `f` and returns what it returns, without suspending.
class Call final : public Coroutine {
 public:
  explicit Call(std::function<Value()> f) : f_(std::move(f)) {}
  Step send() override {
    try {
      return returned(f_());
    } catch (...) {
      return raised(std::current_exception());
    }
  }
  Step throw_in(const LoopError& error) override { return raised(std::make_exception_ptr(error)); }

 private:
  std::function<Value()> f_;
};

template <class C, class... A>
Sequence::Part part(A... args) {
  return [=] { return CoroutinePtr(std::make_unique<C>(args...)); };
}

CoroutinePtr sequence(std::vector<Sequence::Part> parts, std::function<void(const LoopError&)> on_raise = {}) {
  return std::make_unique<Sequence>(std::move(parts), std::move(on_raise));
}

struct World {
  explicit World(const char* version = "3.12")
      : adapter("poll", ref::Profile::for_version(version)), loop(adapter.new_loop(time)) {}
  ReferenceAdapter adapter;
  VirtualTime time;
  std::unique_ptr<Loop> loop;
};

TEST(ReferenceAdapterTasks, CreateTaskSleepAndCurrentTask) {
  World w;
  std::shared_ptr<Task> seen;
  Loop* loop = w.loop.get();
  auto task = w.loop->create_task(sequence({
      [loop] { return loop->sleep(0, 1); },
      part<Call>(std::function<Value()>([&seen, loop] {
        seen = loop->current_task();
        return Value("slept");
      })),
      [loop] { return loop->sleep(2.5, "late"); },
  }));
  EXPECT_EQ(w.loop->run_until_complete(task), "late");
  EXPECT_EQ(seen, task);  // the very object create_task returned
  EXPECT_EQ(w.time.now(), 2.5);
  EXPECT_EQ(w.loop->current_task(), nullptr);
}

TEST(ReferenceAdapterTasks, GatherDescribesReturnedExceptions) {
  World w;
  Loop* loop = w.loop.get();
  auto failing = [] {
    return sequence({part<Call>(std::function<Value()>([]() -> Value { throw LoopError("ValueError", "bad"); }))});
  };
  auto main = w.loop->create_task(sequence({[loop, failing] {
    std::vector<Awaitable> children(2);
    children[0].coroutine = sequence({[loop] { return loop->sleep(0, 1); }});
    children[1].coroutine = failing();
    return CoroutinePtr(std::make_unique<AwaitFuture>(loop->gather(std::move(children), true)));
  }}));
  EXPECT_EQ(w.loop->run_until_complete(main), json::parse(R"([1, {"type": "ValueError", "args": ["bad"]}])"));
}

// What the awaiter of a task cancelled with a message sees, through the adapter: args and context.
json awaiter_of_cancelled(const char* version) {
  World w(version);
  Loop* loop = w.loop.get();
  auto forever = w.loop->create_future();
  auto victim = w.loop->create_task(sequence({part<AwaitFuture>(forever)}));
  json seen;
  auto awaiter = w.loop->create_task(sequence(
      {[loop] { return loop->sleep(0, nullptr); },
       part<Call>(std::function<Value()>([victim] { return Value(victim->cancel("bye")); })),
       part<AwaitFuture>(std::shared_ptr<Future>(victim))},
      [&seen](const LoopError& e) { seen = describe(e); }));
  try {
    w.loop->run_until_complete(awaiter);
  } catch (const LoopError& e) {
    EXPECT_EQ(e.type(), "CancelledError");
  }
  EXPECT_TRUE(forever->cancelled());
  EXPECT_TRUE(victim->cancelled());
  return seen;
}

TEST(ReferenceAdapterTasks, CancelMessagePerVersion) {
  EXPECT_EQ(awaiter_of_cancelled("3.9"), json::parse(R"({"type": "CancelledError", "args": [], "context": "CancelledError"})"));
  EXPECT_EQ(awaiter_of_cancelled("3.11"), json::parse(R"({"type": "CancelledError", "args": ["bye"]})"));
}

TEST(ReferenceAdapterTasks, WaitForTimeoutIsChained) {
  for (const char* version : {"3.8", "3.9", "3.12"}) {
    World w(version);
    Loop* loop = w.loop.get();
    json seen;
    auto main = w.loop->create_task(sequence({[loop] {
                                               Awaitable inner;
                                               inner.coroutine = sequence({[loop] { return loop->sleep(10, 1); }});
                                               return loop->wait_for(std::move(inner), 1.0);
                                             }},
                                             [&seen](const LoopError& e) { seen = describe(e); }));
    EXPECT_THROW(w.loop->run_until_complete(main), LoopError);
    const json expected = std::string(version) == "3.8"
                              ? json::parse(R"({"type": "TimeoutError", "args": []})")
                              : json::parse(R"({"type": "TimeoutError", "args": [], "context": "CancelledError", "cause": "CancelledError"})");
    EXPECT_EQ(seen, expected) << version;
    EXPECT_EQ(w.time.now(), 1.0);
    EXPECT_EQ(main->exception()->type(), "TimeoutError");
  }
}

TEST(ReferenceAdapterTasks, ShieldAndFutureMethods) {
  World w;
  auto f = w.loop->create_future();
  EXPECT_FALSE(f->cancelled());
  f->set_exception(LoopError::with_args("RuntimeError", json::array({"x", 2})));
  ASSERT_TRUE(f->exception());
  EXPECT_EQ(describe(*f->exception()), json::parse(R"({"type": "RuntimeError", "args": ["x", 2]})"));
  EXPECT_FALSE(f->cancel(std::nullopt));
  Awaitable a;
  a.future = f;
  EXPECT_EQ(w.loop->shield(std::move(a)), f);  // a done inner is returned itself
  auto t = w.loop->create_task(sequence({}));
  EXPECT_THROW(t->set_result(1), LoopError);
  EXPECT_EQ(t->cancelling(), 0);
  World old("3.10");
  auto u = old.loop->create_task(sequence({}));
  try {
    u->cancelling();
    FAIL();
  } catch (const LoopError& e) {
    EXPECT_EQ(e.type(), "AttributeError");
  }
}

TEST(ReferenceAdapterTasks, TheSuitesOwnExceptionsPassThrough) {
  World w;
  auto task = w.loop->create_task(
      sequence({part<Call>(std::function<Value()>([]() -> Value { throw Fault{"harness"}; }))}));
  try {
    w.loop->run_until_complete(task);
    FAIL();
  } catch (const Fault& f) {
    EXPECT_EQ(f.message, "harness");
  }
  EXPECT_TRUE(task->done());
}

}  // namespace
}  // namespace aiospec::conformance
