// PoolAllocator: the allocator the loop gives std::allocate_shared for its handles. A handle lives
// from call_soon to the end of its callback, a few microseconds, and the loop makes one per
// callback: recycling the blocks through a per-thread free list costs a few instructions where
// operator new and delete cost a few dozen. Blocks of one size go back to the free list of the
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
      if (Block* block = local.head) {
        local.head = block->next;
        --local.count;
        return block;
      }
    }
    return ::operator new(Size, std::align_val_t{Align});
  }

  static void give(void* p) noexcept {
    if constexpr (kPoolHandles) {
      Local& local = local_;
      if (!thread_done_ && local.count < kMaxFree) {
        local.head = ::new (p) Block{local.head};
        ++local.count;
        return;
      }
    }
    ::operator delete(p, std::align_val_t{Align});
  }

 private:
  struct Block {
    Block* next;
  };
  struct Local {
    Block* head = nullptr;
    std::size_t count = 0;
    ~Local() {
      thread_done_ = true;  // a handle freed later in this thread's exit goes to operator delete
      while (head != nullptr) ::operator delete(std::exchange(head, head->next), std::align_val_t{Align});
    }
  };
  static inline thread_local Local local_;
  static inline thread_local bool thread_done_ = false;  // trivially destructible: readable to the end
};

template <class T>
struct PoolAllocator {
  using value_type = T;
  static_assert(sizeof(T) >= sizeof(void*));

  PoolAllocator() noexcept = default;
  template <class U>
  PoolAllocator(const PoolAllocator<U>&) noexcept {}  // NOLINT: rebinding, as allocators do

  T* allocate(std::size_t n) {
    if (n != 1) return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{alignof(T)}));
    return static_cast<T*>(FreeList<sizeof(T), alignof(T)>::take());
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n != 1) return ::operator delete(p, std::align_val_t{alignof(T)});
    FreeList<sizeof(T), alignof(T)>::give(p);
  }

  template <class U>
  bool operator==(const PoolAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace aiospec::ref::detail
