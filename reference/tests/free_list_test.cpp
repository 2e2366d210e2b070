// detail::FreeList: blocks recycled per thread, and through the depot between threads (a
// call_soon_threadsafe handle is made on its caller's thread and freed on the loop's). A size no
// handle has, so that no other test's blocks are in these lists.
#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

#include "aiospec/ref/detail/free_list.hpp"

namespace {

using aiospec::ref::detail::kPoolHandles;
using List = aiospec::ref::detail::FreeList<200, 8>;

TEST(FreeList, AThreadTakesBackTheBlockItGaveLastFirst) {
  if (!kPoolHandles) GTEST_SKIP() << "the pool steps aside under AddressSanitizer";
  void* a = List::take();
  void* b = List::take();
  List::give(a);
  List::give(b);
  EXPECT_EQ(List::take(), b);
  EXPECT_EQ(List::take(), a);
  List::give(a);
  List::give(b);
}

TEST(FreeList, BlocksFreedOnOneThreadAreTakenOnAnotherThroughTheDepot) {
  if (!kPoolHandles) GTEST_SKIP() << "the pool steps aside under AddressSanitizer";
  // A producer thread makes the blocks, this thread frees them: more than one list holds, so
  // batches go to the depot, and the producer's next blocks come back from there.
  const std::size_t n = List::kMaxFree + 2 * List::kBatch;
  std::vector<void*> made(n);
  std::thread([&] {
    for (auto& block : made) block = List::take();
  }).join();
  for (void* block : made) List::give(block);
  const std::set<void*> given(made.begin(), made.end());
  std::vector<void*> retaken(List::kBatch);
  std::thread([&] {
    for (auto& block : retaken) block = List::take();
    for (void* block : retaken) List::give(block);  // back to the depot when this thread ends
  }).join();
  for (void* block : retaken) EXPECT_TRUE(given.count(block)) << "a block from operator new, not from the depot";
  // This thread's list is full, so handing back more spills; nothing is lost either way.
  for (std::size_t i = 0; i < n; ++i) List::give(List::take());
}

}  // namespace
