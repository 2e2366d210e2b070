// Lib/heapq.py's exact orders: ties are resolved by the algorithm, not by insertion order.
#include "aiospec/ref/heapq.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

namespace aiospec::ref {
namespace {

struct Item {
  double when;
  int id;
};
// Like TimerHandle.__lt__: only `when`.
constexpr auto by_when = [](const Item& a, const Item& b) { return a.when < b.when; };

// n equal deadlines plus one later timer, pushed in that order, then popped to the end.
std::vector<int> tie_order(int n) {
  std::vector<Item> heap;
  for (int i = 0; i < n; ++i) heappush(heap, Item{1.0, i}, by_when);
  heappush(heap, Item{2.0, -1}, by_when);
  std::vector<int> order;
  while (!heap.empty()) {
    const Item item = heappop(heap, by_when);
    if (item.id >= 0) order.push_back(item.id);
  }
  return order;
}

TEST(Heapq, TieOrdersMatchCPython) {
  EXPECT_EQ(tie_order(3), (std::vector<int>{0, 2, 1}));
  EXPECT_EQ(tie_order(4), (std::vector<int>{0, 2, 1, 3}));
  EXPECT_EQ(tie_order(5), (std::vector<int>{0, 2, 1, 3, 4}));
  EXPECT_EQ(tie_order(8), (std::vector<int>{0, 2, 6, 5, 7, 1, 3, 4}));
  EXPECT_EQ(tie_order(10), (std::vector<int>{0, 2, 6, 5, 9, 8, 7, 1, 3, 4}));
}

TEST(Heapq, HeapifyLayoutAndPopOrderMatchCPython) {
  // heapq.heapify over items compared by `when` only, then popped (computed with CPython).
  const double whens[] = {1, 1, 0, 1, 0, 1, 1, 0, 1};
  std::vector<Item> heap;
  for (int i = 0; i < 9; ++i) heap.push_back({whens[i], i});
  heapify(heap, by_when);
  std::vector<int> layout;
  for (const auto& item : heap) layout.push_back(item.id);
  EXPECT_EQ(layout, (std::vector<int>{2, 4, 6, 7, 1, 5, 0, 3, 8}));
  std::vector<int> popped;
  while (!heap.empty()) popped.push_back(heappop(heap, by_when).id);
  EXPECT_EQ(popped, (std::vector<int>{2, 4, 7, 6, 5, 0, 8, 1, 3}));

  std::vector<int> ints{5, 3, 8, 1, 9, 2, 7};
  heapify(ints);
  EXPECT_EQ(ints, (std::vector<int>{1, 3, 2, 5, 9, 8, 7}));
}

TEST(Heapq, PopsInSortedOrder) {
  std::mt19937 random(42);
  std::vector<int> values(500);
  for (auto& v : values) v = static_cast<int>(random() % 100);
  std::vector<int> heap;
  for (int v : values) heappush(heap, v);
  std::vector<int> popped;
  while (!heap.empty()) popped.push_back(heappop(heap));
  std::sort(values.begin(), values.end());
  EXPECT_EQ(popped, values);
}

TEST(Heapq, PopFromEmptyThrows) {
  std::vector<int> heap;
  EXPECT_THROW(heappop(heap), std::out_of_range);
}

}  // namespace
}  // namespace aiospec::ref
