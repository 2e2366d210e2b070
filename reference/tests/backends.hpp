// The selector backends the parameterized tests run on: every one this build has (io_uring
// among them when liburing was found), each skipped where the kernel refuses it.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "aiospec/ref/selectors.hpp"

namespace aiospec::ref::testing {

class ByBackend : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    try {
      (void)make_selector(GetParam());
    } catch (const BackendUnavailable& e) {
      GTEST_SKIP() << e.what();
    }
  }
  const char* backend() const { return GetParam().c_str(); }
};

inline std::string backend_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

}  // namespace aiospec::ref::testing

// INSTANTIATE_BY_BACKEND(RunOnceByBackend): Backends/RunOnceByBackend.Test/epoll, ...
#define INSTANTIATE_BY_BACKEND(suite)                                                        \
  INSTANTIATE_TEST_SUITE_P(Backends, suite, ::testing::ValuesIn(::aiospec::ref::available_backends()), \
                           ::aiospec::ref::testing::backend_name)
