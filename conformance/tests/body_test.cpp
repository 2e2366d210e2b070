// The interpreter's coroutine frames (detail/body.hpp) on their own: Python's generator protocol
// with `yield from`, driven by hand the way a loop's task drives a scenario coroutine.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "detail/body.hpp"

namespace aiospec::conformance::detail {
namespace {

// A future that is never looked at: what a frame yields, identified by address.
class Marker final : public Future {
 public:
  void set_result(const Value&) override {}
  Value result() const override { return nullptr; }
  bool done() const override { return false; }
  void add_done_callback(Callback) override {}
};

Body<Value> leaf(std::shared_ptr<Future> waits_for, std::vector<std::string>& log) {
  log.push_back("leaf starts");
  co_await Yield(waits_for);
  log.push_back("leaf resumed");
  co_return Value(7);
}

Body<Value> middle(std::shared_ptr<Future> waits_for, std::vector<std::string>& log) {
  const Value v = co_await leaf(waits_for, log);  // awaiting a frame never suspends by itself
  log.push_back("middle got " + v.dump());
  co_return Value(v.get<int>() * 6);
}

Body<Value> catches(std::shared_ptr<Future> waits_for, std::vector<std::string>& log) {
  try {
    co_await Yield(waits_for);
  } catch (const LoopError& e) {
    log.push_back(std::string("caught ") + e.type() + " " + e.what());
  }
  co_return Value("after");
}

TEST(Body, YieldsTheInnermostFutureAndReturnsThroughEveryFrame) {
  std::vector<std::string> log;
  auto f = std::make_shared<Marker>();
  RootFrame root(middle(f, log));
  Step first = root.send();
  ASSERT_EQ(first.kind, Step::Kind::yielded);
  EXPECT_EQ(first.future, f);
  EXPECT_EQ(log, (std::vector<std::string>{"leaf starts"}));
  Step second = root.send();
  ASSERT_EQ(second.kind, Step::Kind::returned);
  EXPECT_EQ(second.value, Value(42));
  EXPECT_EQ(log, (std::vector<std::string>{"leaf starts", "leaf resumed", "middle got 7"}));
  EXPECT_TRUE(root.finished());
}

TEST(Body, ThrowInRaisesWhereTheFrameWaits) {
  std::vector<std::string> log;
  RootFrame root(catches(std::make_shared<Marker>(), log));
  ASSERT_EQ(root.send().kind, Step::Kind::yielded);
  Step step = root.throw_in(LoopError::with_args("CancelledError", nlohmann::json::array({"bye"})));
  ASSERT_EQ(step.kind, Step::Kind::returned);
  EXPECT_EQ(step.value, Value("after"));
  EXPECT_EQ(log, (std::vector<std::string>{"caught CancelledError bye"}));
}

TEST(Body, ThrowInBeforeTheFirstStepNeverRunsTheBody) {
  std::vector<std::string> log;
  RootFrame root(leaf(std::make_shared<Marker>(), log));
  Step step = root.throw_in(LoopError::with_args("CancelledError", nlohmann::json::array()));
  ASSERT_EQ(step.kind, Step::Kind::raised);
  EXPECT_TRUE(log.empty());
  EXPECT_TRUE(root.finished());
  EXPECT_EQ(root.send().kind, Step::Kind::raised);  // a finished coroutine cannot be resumed
}

TEST(Body, AnExceptionLeavesTheRootAsARaisedStep) {
  std::vector<std::string> log;
  auto raising = [](std::vector<std::string>&) -> Body<Value> {
    throw LoopError("ValueError", "no");
    co_return Value(nullptr);
  };
  RootFrame root(raising(log));
  Step step = root.send();
  ASSERT_EQ(step.kind, Step::Kind::raised);
  try {
    std::rethrow_exception(step.exception);
  } catch (const LoopError& e) {
    EXPECT_EQ(e.type(), "ValueError");
    EXPECT_EQ(e.args(), nlohmann::json::array({"no"}));
  }
}

TEST(Body, DestroyingASuspendedChainFreesEveryFrame) {
  std::vector<std::string> log;
  auto f = std::make_shared<Marker>();
  {
    RootFrame root(middle(f, log));
    ASSERT_EQ(root.send().kind, Step::Kind::yielded);
  }
  EXPECT_EQ(f.use_count(), 1) << "frames still hold the future";  // LeakSanitizer checks the rest
}

}  // namespace
}  // namespace aiospec::conformance::detail
