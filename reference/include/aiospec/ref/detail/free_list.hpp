// FreeList<Size, Align>: where Handle's operator new and delete (events.hpp) take and return
// their blocks. A handle lives from call_soon to the end of its callback, a few microseconds, and
// the loop makes one per callback: recycling the blocks through a per-thread free list costs a
// few instructions where operator new and delete cost a few dozen. Blocks go back to the free
// list of the thread that frees them; each list keeps at most kMaxFree blocks.
//
// A call_soon_threadsafe handle is made on its caller's thread and freed on the loop's, so blocks
// flow one way: the producers' lists stay empty, the loop's overflows. The depot closes the
// circle: a full list hands kBatch blocks to it, an empty one takes kBatch from it, one lock per
// batch (a magazine, as in tcmalloc's central lists), where operator new on one thread and
// operator delete on another would take the allocator's arena lock for every block. Beyond
// kMaxDepot blocks the depot returns them to operator delete; a thread that ends gives its blocks
// to the depot.
//
// Under AddressSanitizer the pool steps aside (plain new and delete), so that a use after free of
// a handle is still reported rather than hidden by a recycled block.
#pragma once

#include <cstddef>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

namespace aiospec::ref::detail {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kPoolHandles = false;
#else
inline constexpr bool kPoolHandles = true;
#endif

template <std::size_t Size, std::size_t Align>
class FreeList {
 public:
  static constexpr std::size_t kMaxFree = 4096;
  static constexpr std::size_t kBatch = 256;
  static constexpr std::size_t kMaxDepot = 64 * 1024;

  static void* take() {
    if constexpr (kPoolHandles) {
      Local& local = local_;
      if (local.count != 0 || refill(local)) return local.slots[--local.count];
    }
    return ::operator new(Size, std::align_val_t{Align});
  }

  static void give(void* p) noexcept {
    if constexpr (kPoolHandles) {
      Local& local = local_;
      if ((local.slots != nullptr || start(local)) && (local.count < kMaxFree || spill(local))) {
        local.slots[local.count++] = p;
        return;
      }
    }
    ::operator delete(p, std::align_val_t{Align});
  }

 private:
  // The free blocks' addresses in an array, not a list threaded through the blocks: taking one
  // then reads nothing from a block that may have left the cache, and consecutive takes do not
  // wait on each other. Trivially destructible, so that each access is a plain thread-local
  // load (a thread_local with a destructor is reached through a wrapper that checks its
  // initialisation every time).
  struct Local {
    void** slots = nullptr;  // kMaxFree entries once the thread has used the list
    std::size_t count = 0;
    bool thread_done = false;  // a block freed later in this thread's exit goes to operator delete
  };
  // Gives the thread's blocks to the depot when the thread ends; constructed (and so registered
  // for destruction) with the thread's array.
  struct Reaper {
    ~Reaper() {
      Local& local = local_;
      local.thread_done = true;
      while (local.count >= kBatch) spill(local);
      while (local.count != 0) ::operator delete(local.slots[--local.count], std::align_val_t{Align});
      delete[] std::exchange(local.slots, nullptr);
    }
  };
  // Blocks any thread gave up, for any thread to take, kBatch at a time. Never destroyed: a
  // thread may end (and give its blocks here) after static destructors have run.
  struct Depot {
    std::mutex mutex;
    std::vector<void*> blocks;
  };
  static Depot& depot() {
    static Depot* const depot = new Depot;
    return *depot;
  }

  static bool start(Local& local) noexcept {
    if (local.thread_done) return false;
    local.slots = new (std::nothrow) void*[kMaxFree];
    if (local.slots == nullptr) return false;
    static thread_local Reaper reaper;
    (void)reaper;
    return true;
  }
  // The local list is empty: up to kBatch blocks from the depot. False when it has none.
  [[gnu::noinline]] static bool refill(Local& local) noexcept {
    if (local.slots == nullptr && !start(local)) return false;
    Depot& d = depot();
    std::lock_guard lock(d.mutex);
    const std::size_t n = d.blocks.size() < kBatch ? d.blocks.size() : kBatch;
    for (std::size_t i = 0; i < n; ++i) {
      local.slots[local.count++] = d.blocks.back();
      d.blocks.pop_back();
    }
    return n != 0;
  }
  // The local list is full (or its thread ends): kBatch blocks to the depot, or to operator
  // delete when the depot is full. Always makes room.
  [[gnu::noinline]] static bool spill(Local& local) noexcept {
    Depot& d = depot();
    std::lock_guard lock(d.mutex);
    for (std::size_t i = 0; i < kBatch; ++i) {
      void* block = local.slots[--local.count];
      if (d.blocks.size() < kMaxDepot && push(d.blocks, block)) continue;
      ::operator delete(block, std::align_val_t{Align});
    }
    return true;
  }
  static bool push(std::vector<void*>& blocks, void* block) noexcept {
    try {
      blocks.push_back(block);
      return true;
    } catch (const std::bad_alloc&) {
      return false;
    }
  }

  static inline thread_local Local local_;
};

}  // namespace aiospec::ref::detail
