// Lib/heapq.py (and the C _heapq it is replaced by): the exact algorithms, because the order in
// which asyncio runs timers with equal deadlines is whatever these functions produce.
// `less` plays the part of `<`; nothing else is ever compared.
#pragma once

#include <cstddef>
#include <functional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace aiospec::ref {

// 'heap' is a heap at all indices >= startpos, except possibly for pos. pos is the index of a
// leaf with a possibly out-of-order value. Restore the heap invariant.
template <class T, class Less>
void heapq_siftdown(std::vector<T>& heap, std::size_t startpos, std::size_t pos, Less less) {
  T newitem = std::move(heap[pos]);
  // Follow the path to the root, moving parents down until finding a place newitem fits.
  while (pos > startpos) {
    const std::size_t parentpos = (pos - 1) >> 1;
    if (less(newitem, heap[parentpos])) {
      heap[pos] = std::move(heap[parentpos]);
      pos = parentpos;
      continue;
    }
    break;
  }
  heap[pos] = std::move(newitem);
}

// Floyd's variant: bubble the smaller child up all the way to a leaf (the right child wins
// unless left < right), then sift the displaced item back down from there. This, not the
// textbook "stop when in place", is what fixes CPython's tie order.
template <class T, class Less>
void heapq_siftup(std::vector<T>& heap, std::size_t pos, Less less) {
  const std::size_t endpos = heap.size();
  const std::size_t startpos = pos;
  T newitem = std::move(heap[pos]);
  // Bubble up the smaller child until hitting a leaf.
  std::size_t childpos = 2 * pos + 1;  // leftmost child position
  while (childpos < endpos) {
    // Set childpos to index of smaller child.
    const std::size_t rightpos = childpos + 1;
    if (rightpos < endpos && !less(heap[childpos], heap[rightpos])) childpos = rightpos;
    // Move the smaller child up.
    heap[pos] = std::move(heap[childpos]);
    pos = childpos;
    childpos = 2 * pos + 1;
  }
  // The leaf at pos is empty now. Put newitem there, and bubble it up to its final resting
  // place (by sifting its parents down).
  heap[pos] = std::move(newitem);
  heapq_siftdown(heap, startpos, pos, less);
}

// Push item onto heap, maintaining the heap invariant.
template <class T, class Less = std::less<>>
void heappush(std::vector<T>& heap, T item, Less less = {}) {
  heap.push_back(std::move(item));
  heapq_siftdown(heap, 0, heap.size() - 1, less);
}

// Pop the smallest item off the heap, maintaining the heap invariant.
template <class T, class Less = std::less<>>
T heappop(std::vector<T>& heap, Less less = {}) {
  if (heap.empty()) throw std::out_of_range("index out of range");  // Python: IndexError
  T lastelt = std::move(heap.back());
  heap.pop_back();
  if (!heap.empty()) {
    T returnitem = std::move(heap[0]);
    heap[0] = std::move(lastelt);
    heapq_siftup(heap, 0, less);
    return returnitem;
  }
  return lastelt;
}

// Transform list into a heap, in-place, in O(len(x)) time: bottom-up, from n//2 - 1 down to 0.
// (C _heapq's cache-friendly variant for n > 2500 visits nodes in another order but, as its
// comment proves, builds the identical heap.)
template <class T, class Less = std::less<>>
void heapify(std::vector<T>& x, Less less = {}) {
  for (std::size_t i = x.size() / 2; i-- > 0;) heapq_siftup(x, i, less);
}

}  // namespace aiospec::ref
