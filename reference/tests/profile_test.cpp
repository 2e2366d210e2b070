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

TEST(Profile, EveryVersionFrom38To313HasOne) {
  EXPECT_EQ(Profile::versions(), (Order{"3.8", "3.9", "3.10", "3.11", "3.12", "3.13"}));
  for (const auto& v : Profile::versions()) EXPECT_EQ(Profile::for_version(v).version, v);
  EXPECT_THROW(Profile::for_version("3.7"), ValueError);
  EXPECT_THROW(Profile::for_version("3.14"), ValueError);
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
