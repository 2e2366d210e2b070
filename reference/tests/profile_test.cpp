// Version profiles: the one place the reference loop's behaviour depends on the CPython version.
#include "aiospec/ref/profile.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "aiospec/ref/exceptions.hpp"
#include "test_loop.hpp"

namespace aiospec::ref::testing {
namespace {

using Order = std::vector<std::string>;

TEST(Profile, EveryVersionFrom38To315HasOne) {
  EXPECT_EQ(Profile::versions(), (Order{"3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15"}));
  for (const auto& v : Profile::versions()) EXPECT_EQ(Profile::for_version(v).version, v);
  EXPECT_THROW(Profile::for_version("3.7"), ValueError);
  EXPECT_THROW(Profile::for_version("3.16"), ValueError);
  EXPECT_EQ(EventLoop().profile().version, kDefaultVersion);
}

TEST(Profile, NanHeadTimerIsClampedTo0Before313) {
  for (const char* v : {"3.8", "3.12"}) {
    VirtualWorld w("poll", Profile::for_version(v));
    w.loop->call_later(std::numeric_limits<double>::quiet_NaN(), w.record("nan"));
    w.loop->call_later(0.5, [&] { w.loop->stop(); });
    w.loop->run_forever();
    EXPECT_EQ(w.log, (Order{"nan"})) << v;
  }
}

TEST(Profile, NanHeadTimerReachesTheSelectorIn313) {
  for (const char* backend : {"select", "poll"}) {
    VirtualWorld w(backend, Profile::for_version("3.13"));
    w.loop->call_later(std::numeric_limits<double>::quiet_NaN(), w.record("nan"));
    w.loop->call_later(0.5, [&] { w.loop->stop(); });
    try {
      w.loop->run_forever();
      ADD_FAILURE() << "run_forever returned";
    } catch (const ValueError& e) {
      EXPECT_STREQ(e.what(), "cannot convert float NaN to integer") << backend;
    }
    EXPECT_TRUE(w.log.empty());
    EXPECT_FALSE(w.loop->is_running());
  }
}

}  // namespace
}  // namespace aiospec::ref::testing

namespace aiospec::ref::testing {
namespace {

// Each member against the inventory's version-change list (asyncio-semantics.md).
TEST(Profile, FuturesAndTasksMembersPerVersion) {
  struct Row {
    const char* version;
    bool message, chains, saved, gather_child, gather_at_once, cancelling, rescinds, nan, timeout_every;
    Profile::WaitFor wait_for;
  };
  using W = Profile::WaitFor;
  for (const Row& r : std::vector<Row>{
           {"3.8", false, false, false, false, false, false, false, false, false, W::until_3_8},
           {"3.9", true, true, false, true, false, false, false, false, false, W::until_3_11},
           {"3.10", true, true, false, true, false, false, false, false, false, W::until_3_11},
           {"3.11", true, false, true, true, false, true, false, false, false, W::until_3_11},
           {"3.12", true, false, true, true, true, true, false, false, false, W::timeout_scope},
           {"3.13", true, false, true, true, true, true, true, true, true, W::timeout_scope},
       }) {
    const Profile p = Profile::for_version(r.version);
    EXPECT_EQ(p.cancel_takes_message, r.message) << r.version;
    EXPECT_EQ(p.cancelled_error_chains_saved, r.chains) << r.version;
    EXPECT_EQ(p.cancelled_error_is_saved, r.saved) << r.version;
    EXPECT_EQ(p.gather_cancelled_error_from_child, r.gather_child) << r.version;
    EXPECT_EQ(p.gather_handles_done_children_at_once, r.gather_at_once) << r.version;
    EXPECT_EQ(p.task_has_cancelling, r.cancelling) << r.version;
    EXPECT_EQ(p.uncancel_rescinds_pending_cancel, r.rescinds) << r.version;
    EXPECT_EQ(p.sleep_rejects_nan, r.nan) << r.version;
    EXPECT_EQ(p.timeout_exit_handles_every_exception, r.timeout_every) << r.version;
    EXPECT_EQ(p.wait_for, r.wait_for) << r.version;
    EXPECT_EQ(p.eager_tasks, r.gather_at_once) << r.version;  // both 3.12
  }
}

}  // namespace
}  // namespace aiospec::ref::testing

namespace aiospec::ref::testing {
namespace {

// wait, TaskGroup and asyncio.run: the members this session added, against the sources.
TEST(Profile, WaitTaskGroupAndRunMembersPerVersion) {
  struct Row {
    const char* version;
    bool only_futures, done_at_once, name_at_creation, subclasses, uncancel_after, redeliver, executor;
  };
  for (const Row& r : std::vector<Row>{
           {"3.8", false, false, false, false, false, false, false},
           {"3.9", false, false, false, false, false, false, true},
           {"3.10", false, false, false, false, false, false, true},
           {"3.11", true, false, false, false, false, false, true},
           {"3.12", true, true, false, false, false, false, true},
           {"3.13", true, true, true, true, true, true, true},
       }) {
    const Profile p = Profile::for_version(r.version);
    EXPECT_EQ(p.wait_takes_only_futures, r.only_futures) << r.version;
    EXPECT_EQ(p.task_group_handles_done_task_at_once, r.done_at_once) << r.version;
    EXPECT_EQ(p.task_group_names_task_at_creation, r.name_at_creation) << r.version;
    EXPECT_EQ(p.task_group_exit_matches_cancelled_subclasses, r.subclasses) << r.version;
    EXPECT_EQ(p.task_group_uncancels_after_wait, r.uncancel_after) << r.version;
    EXPECT_EQ(p.task_group_redelivers_external_cancel, r.redeliver) << r.version;
    EXPECT_EQ(p.run_shuts_down_default_executor, r.executor) << r.version;
    EXPECT_EQ(p.run_checks_main_inside_runner, r.only_futures) << r.version;  // both 3.11
    EXPECT_FALSE(p.run_accepts_any_awaitable) << r.version;                   // 3.14
  }
  EXPECT_TRUE(Profile::for_version("3.14").run_accepts_any_awaitable);
}

}  // namespace
}  // namespace aiospec::ref::testing

namespace aiospec::ref::testing {
namespace {

TEST(Profile, APatchReleaseIsItsMinorsProfileWithThePatchLevelMembers) {
  const Profile blessed = Profile::for_version("3.11");
  EXPECT_EQ(blessed.version, "3.11");
  EXPECT_EQ(blessed.patch, 7);  // the traces' 3.11.7
  EXPECT_TRUE(blessed.timeout_error_raised_from_cancel);
  EXPECT_TRUE(blessed.timeout_counts_cancels_from_entry);

  const Profile debian = Profile::for_version("3.11.2");
  EXPECT_EQ(debian.version, "3.11");
  EXPECT_EQ(debian.patch, 2);
  EXPECT_FALSE(debian.timeout_error_raised_from_cancel);
  EXPECT_FALSE(debian.timeout_counts_cancels_from_entry);
  EXPECT_TRUE(debian.task_has_cancelling);  // the rest is 3.11's

  EXPECT_TRUE(Profile::for_version("3.11.3").timeout_error_raised_from_cancel);
  EXPECT_TRUE(Profile::for_version("3.12.0").timeout_error_raised_from_cancel);
  EXPECT_EQ(Profile::for_version("3.13").patch, 0);
  EXPECT_EQ(Profile::for_version("3.8.10").version, "3.8");
  for (const char* bad : {"3.11.", "3.11.x", "3.11.2.1", "3.7.1", "3", ""}) {
    EXPECT_THROW(Profile::for_version(bad), ValueError) << bad;
  }
}

}  // namespace
}  // namespace aiospec::ref::testing


namespace aiospec::ref::testing {
namespace {
// The 3.14 changes of the reference loop's areas, and 3.13's patch-level one (gh-128550).
TEST(Profile, WhatChangedIn314) {
  EXPECT_FALSE(Profile::for_version("3.13").shield_logs_orphaned_exception);
  EXPECT_TRUE(Profile::for_version("3.14").shield_logs_orphaned_exception);
  EXPECT_TRUE(Profile::for_version("3.15").shield_logs_orphaned_exception);
  EXPECT_TRUE(Profile::for_version("3.13").task_group_handles_done_task_at_once);    // 3.13.0
  EXPECT_TRUE(Profile::for_version("3.13.1").task_group_handles_done_task_at_once);
  EXPECT_FALSE(Profile::for_version("3.13.2").task_group_handles_done_task_at_once);
  EXPECT_FALSE(Profile::for_version("3.14").task_group_handles_done_task_at_once);
}

TEST(Profile, WhatChangedIn315) {
  EXPECT_FALSE(Profile::for_version("3.11").task_group_has_cancel);
  EXPECT_FALSE(Profile::for_version("3.14").task_group_has_cancel);
  EXPECT_TRUE(Profile::for_version("3.15").task_group_has_cancel);
}

}  // namespace
}  // namespace aiospec::ref::testing
