// FreeList<Size, Align>: where Handle's operator new and delete (events.hpp) take and return
// their blocks. A handle lives from call_soon to the end of its callback, a few microseconds, and
// the loop makes one per callback: recycling the blocks through a per-thread free list costs a
// few instructions where operator new and delete cost a few dozen. Blocks of one size go back to the free list of the
// thread that frees them (a call_soon_threadsafe handle may die on another thread); each list
// keeps at most kMaxFree blocks and returns them to operator delete when its thread ends.
//
// Under AddressSanitizer the pool steps aside (plain new and delete), so that a use after free of
// a handle is still reported rather than hidden by a recycled block.
#pragma once

#include <cstddef>
#include <new>
#include <utility>

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

  static void* take() {
    if constexpr (kPoolHandles) {
      Local& local = local_;
      if (local.count != 0) return local.slots[--local.count];
    }
    return ::operator new(Size, std::align_val_t{Align});
  }

  static void give(void* p) noexcept {
    if constexpr (kPoolHandles) {
      Local& local = local_;
      if (local.count < kMaxFree && (local.slots != nullptr || start(local))) {
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
    void** slots = nullptr;  // kMaxFree entries once the thread has given a block back
    std::size_t count = 0;
    bool thread_done = false;  // a block freed later in this thread's exit goes to operator delete
  };
  // Returns the thread's blocks to operator delete when the thread ends; constructed (and so
  // registered for destruction) with the thread's array.
  struct Reaper {
    ~Reaper() {
      Local& local = local_;
      local.thread_done = true;
      while (local.count != 0) ::operator delete(local.slots[--local.count], std::align_val_t{Align});
      delete[] std::exchange(local.slots, nullptr);
    }
  };
  static bool start(Local& local) noexcept {
    if (local.thread_done) return false;
    local.slots = new (std::nothrow) void*[kMaxFree];
    if (local.slots == nullptr) return false;
    static thread_local Reaper reaper;
    (void)reaper;
    return true;
  }

  static inline thread_local Local local_;
};

}  // namespace aiospec::ref::detail
