// The harness against hosts that misbehave (tests/broken_host.cpp): each misbehaviour is an ERROR
// for the scenario it happened on, with the reason of spec/PROTOCOL.md's table; the host is then
// restarted and the scenarios after it still PASS. Time limits are 1 s so that a hang costs 1 s.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "aiospec/conformance/interpreter.hpp"
#include "aiospec/conformance/reference_adapter.hpp"
#include "aiospec/conformance/remote_loop.hpp"
#include "aiospec/conformance/runner.hpp"
#include "suite_paths.hpp"

namespace aiospec::conformance {
namespace {

const char* kVersion = "3.12";

// Three scenarios the reference loop passes against 3.12: the fault goes on the middle one.
std::vector<Scenario> three_scenarios() {
  static const std::vector<Scenario> chosen = [] {
    std::vector<Scenario> out;
    ReferenceAdapter adapter("poll", ref::Profile::for_version(kVersion));
    for (const Scenario& s : read_bundle(suite::bundle_path())) {
      if (out.size() == 3) break;
      if (judge(adapter, s, suite::expected_root(), kVersion).status == Status::pass) out.push_back(s);
    }
    return out;
  }();
  return chosen;
}

HostCommand broken(std::vector<std::string> args) {
  HostCommand command;
  command.argv = {AIOSPEC_BROKEN_HOST};
  command.argv.insert(command.argv.end(), args.begin(), args.end());
  command.timeout = 1.0;
  return command;
}

HostCommand fault(const std::string& mode) { return broken({"--fault", mode, "--on", three_scenarios()[1].id}); }

Outcome judged(RemoteLoop& loop, const Scenario& s) {
  Trace expected;
  if (auto verdict = verdict_without_running(s, suite::expected_root(), kVersion, expected)) return *verdict;
  return judge_run(expected, loop.run(s, kVersion), {"expected", "actual"}, false);
}

// Runs the three scenarios; checks the first and last PASS and returns the middle one.
Outcome middle(const HostCommand& command, int expected_starts) {
  const auto scenarios = three_scenarios();
  EXPECT_EQ(scenarios.size(), 3u);
  RemoteLoop loop(command);
  std::vector<Outcome> outcomes;
  for (const Scenario& s : scenarios) outcomes.push_back(judged(loop, s));
  EXPECT_EQ(outcomes[0].status, Status::pass) << outcomes[0].reason;
  EXPECT_EQ(outcomes[2].status, Status::pass) << outcomes[2].reason;
  EXPECT_EQ(loop.starts(), expected_starts);
  return outcomes[1];
}

// A reason starts with `prefix`, or is exactly `prefix` when it ends in '$'. (Not std::regex:
// GCC 12 warns inside <regex> under the sanitizers, and warnings are errors.)
bool matches(const std::string& text, std::string prefix) {
  if (!prefix.empty() && prefix.back() == '$') {
    prefix.pop_back();
    return text == prefix;
  }
  return text.rfind(prefix, 0) == 0;
}

void expect_error(const Outcome& o, const std::string& pattern) {
  EXPECT_EQ(o.status, Status::error) << to_string(o.status) << ": " << o.reason;
  EXPECT_EQ(o.cause, Cause::failed_to_run);
  EXPECT_TRUE(matches(o.reason, pattern)) << o.reason << "\n  does not start with " << pattern;
}

TEST(BrokenHost, AWellBehavedHostPassesAll) {
  const auto scenarios = three_scenarios();
  RemoteLoop loop(broken({}));
  for (const Scenario& s : scenarios) EXPECT_EQ(judged(loop, s).status, Status::pass) << s.id;
  EXPECT_EQ(loop.starts(), 1);
  EXPECT_EQ(loop.implementation().name, "broken-host");
}

TEST(BrokenHost, Segfault) {
  expect_error(middle(fault("segfault"), 2), "host killed by signal SIGSEGV; its stderr ends: broken_host: segfault on ");
}

TEST(BrokenHost, ExitStatusAndLastStderrLine) {
  expect_error(middle(fault("exit"), 2), "host exited with status 3; its stderr ends: broken_host: exit on ");
}

TEST(BrokenHost, Hang) { expect_error(middle(fault("hang"), 2), "host did not answer within 1 s"); }

TEST(BrokenHost, Garbage) {
  expect_error(middle(fault("garbage"), 2), "host wrote a line that is not JSON: Traceback (most recent call last):");
}

TEST(BrokenHost, HugeLineIsQuotedShort) {
  const Outcome o = middle(fault("huge-line"), 2);
  expect_error(o, "host wrote a line that is not JSON: " + std::string(200, 'x') + "...");
  EXPECT_LT(o.reason.size(), 400u);
}

TEST(BrokenHost, LineOverTheLimit) {
  HostCommand command = fault("huge-line");
  command.max_line = 1 << 20;
  const Outcome o = middle(command, 2);
  expect_error(o, "host wrote a line that is not JSON: " + std::string(200, 'x') + "... (longer than 1048576 bytes)");
}

TEST(BrokenHost, WrongSeq) {
  // Scenario 2 is request 2: the host answers 3.
  expect_error(middle(fault("wrong-seq"), 2), "host answered seq 3 to request 2");
}

TEST(BrokenHost, MalformedTrace) {
  expect_error(middle(fault("malformed-trace"), 2), "malformed answer: events[0] is not an event object: 1");
}

TEST(BrokenHost, AnswerThatIsNoneOfTheThree) {
  expect_error(middle(fault("not-events"), 2), "malformed answer: not exactly one of");
}

TEST(BrokenHost, ErroredIsAnErrorWithoutRestart) {
  expect_error(middle(fault("errored"), 1), "the host failed: the loop fell over$");
}

TEST(BrokenHost, InvalidScenarioIsBadInput) {
  const Outcome o = middle(fault("invalid"), 1);
  EXPECT_EQ(o.status, Status::error);
  EXPECT_EQ(o.cause, Cause::bad_input);
  EXPECT_EQ(o.reason, "invalid scenario: cancel: no handle named 'h'");
}

TEST(BrokenHost, SkippedIsUnsupported) {
  const Outcome o = middle(fault("skipped"), 1);
  EXPECT_EQ(o.status, Status::unsupported);
  EXPECT_EQ(o.reason, "skipped by the host: needs fork");
}

TEST(BrokenHost, AHostThatCannotBeRestartedErrorsEveryRemainingScenario) {
  const auto scenarios = three_scenarios();
  const std::string marker = ::testing::TempDir() + "/broken-host-started-" + std::to_string(::getpid());
  std::filesystem::remove(marker);
  RemoteLoop loop(broken({"--fault", "exit", "--on", scenarios[0].id, "--fail-restarts", marker}));
  expect_error(judged(loop, scenarios[0]), "host exited with status 3");
  for (int i = 1; i < 3; ++i) {
    expect_error(judged(loop, scenarios[i]),
                 "the host could not be restarted: host exited with status 2; its stderr ends: broken_host: refusing");
  }
  std::filesystem::remove(marker);
}

void expect_start_failure(const HostCommand& command, const std::string& pattern, const std::string& stderr_line) {
  try {
    RemoteLoop loop(command);
    ADD_FAILURE() << "the host started";
  } catch (const HostFailure& e) {
    EXPECT_TRUE(matches(e.what(), pattern)) << e.what() << "\n  does not start with " << pattern;
    EXPECT_EQ(e.stderr_line(), stderr_line);
  }
}

TEST(BrokenHost, ExitAtStart) {
  expect_start_failure(broken({"--start", "exit"}), "host exited with status 2",
                       "broken_host: cannot start: no such loop");
}

TEST(BrokenHost, StdoutBeforeTheHandshake) {
  expect_start_failure(broken({"--start", "stdout"}), "host wrote a line that is not JSON: hello from the host$", "");
}

TEST(BrokenHost, AnotherProtocolVersion) {
  expect_start_failure(broken({"--start", "version"}), "host speaks protocol version 2, the harness speaks 1$", "");
}

TEST(BrokenHost, AnotherTimeModeThanAsked) {
  HostCommand command = broken({"--start", "time"});
  command.time = "virtual";
  expect_start_failure(command, "host runs in real time, not virtual as asked$", "");
  command.time = "auto";  // auto takes what the host says
  EXPECT_EQ(RemoteLoop(command).implementation().time, "real");
}

TEST(BrokenHost, ACommandThatDoesNotExist) {
  HostCommand command;
  command.argv = {"/nonexistent/aiospec-host"};
  expect_start_failure(command, "cannot start /nonexistent/aiospec-host: No such file or directory$", "");
}

TEST(BrokenHost, AFeatureTheHandshakeDoesNotListIsUnsupportedWithoutSending) {
  RemoteLoop loop(broken({}));
  Scenario s = three_scenarios()[0];
  s.features.insert("contextvars");
  const Outcome o = loop.run(s, kVersion);
  EXPECT_EQ(o.status, Status::unsupported);
  EXPECT_EQ(o.reason, "needs contextvars");
}

TEST(CppHost, NamesItselfAndIsVersioned) {
  HostCommand command;
  command.argv = {AIOSPEC_HOST, "--backend", "select"};
  command.time = "virtual";
  RemoteLoop loop(command);
  EXPECT_EQ(loop.implementation().name, "aiospec-reference/select");
  EXPECT_TRUE(loop.implementation().versioned);
  EXPECT_EQ(loop.implementation().runtime, "native");
}

}  // namespace
}  // namespace aiospec::conformance
