// SmallFunction: std::function<void()> without its heap allocation for the callables the loop
// queues by the thousand. libstdc++'s std::function keeps a callable inline only when it is
// trivially copyable and at most 16 bytes; a lambda holding a shared_ptr (a task's step, a done
// callback's future) or three pointers is allocated on the heap, once per call_soon. Here every
// callable of up to kInlineSize bytes that moves without throwing lives inside the object; larger
// ones still go to the heap, so any callable works.
//
// Like std::function: copyable (the callable must be), empty when default-constructed or set to
// nullptr, and calling an empty one throws std::bad_function_call.
#pragma once

#include <cstddef>
#include <cstring>
#include <functional>
#include <new>
#include <type_traits>
#include <utility>

namespace aiospec::ref::detail {

template <class T>
inline constexpr bool is_std_function = false;
template <class R, class... A>
inline constexpr bool is_std_function<std::function<R(A...)>> = true;

class SmallFunction {
 public:
  // A lambda capturing a shared_ptr and three pointers, or a std::function (32 bytes) and one:
  // with the ops pointer, 48 bytes, so that a Handle stays within two cache lines.
  static constexpr std::size_t kInlineSize = 40;

  SmallFunction() noexcept = default;
  SmallFunction(std::nullptr_t) noexcept {}  // NOLINT: implicit, as std::function's

  template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, SmallFunction> && std::is_invocable_v<std::decay_t<F>&>)
  SmallFunction(F&& f) {  // NOLINT: implicit, as std::function's
    using D = std::decay_t<F>;
    if constexpr (std::is_pointer_v<D> || std::is_member_pointer_v<D> || is_std_function<D>) {
      if (f == nullptr) return;  // an empty std::function or a null function pointer: empty
    }
    if constexpr (stored_inline<D>) {
      ::new (static_cast<void*>(storage_)) D(std::forward<F>(f));
    } else {
      heap_slot() = new D(std::forward<F>(f));
    }
    ops_ = &ops_for<D>;
  }

  SmallFunction(const SmallFunction& other) : ops_(nullptr) {
    if (other.ops_ == nullptr) return;
    other.ops_->copy(other.storage_, storage_);
    ops_ = other.ops_;
  }
  SmallFunction(SmallFunction&& other) noexcept : ops_(other.ops_) {
    relocate_from(other);
  }
  SmallFunction& operator=(const SmallFunction& other) {
    if (this != &other) *this = SmallFunction(other);
    return *this;
  }
  SmallFunction& operator=(SmallFunction&& other) noexcept {
    if (this != &other) {
      reset();
      ops_ = other.ops_;
      relocate_from(other);
    }
    return *this;
  }
  SmallFunction& operator=(std::nullptr_t) noexcept {
    reset();
    return *this;
  }
  ~SmallFunction() { reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }

  void operator()() const {
    if (ops_ == nullptr) throw std::bad_function_call();
    ops_->invoke(const_cast<unsigned char*>(storage_));
  }

 private:
  template <class D>
  static constexpr bool stored_inline = sizeof(D) <= kInlineSize && alignof(D) <= alignof(std::max_align_t) &&
                                        std::is_nothrow_move_constructible_v<D>;
  // Moving a trivially copyable inline callable, or the pointer to a heap one, is a memcpy.
  template <class D>
  static constexpr bool relocates_bitwise = !stored_inline<D> || std::is_trivially_copyable_v<D>;

  struct Ops {
    void (*invoke)(void* self);
    void (*copy)(const void* from, void* to);
    void (*move)(void* from, void* to) noexcept;  // leaves `from` destroyed; null: memcpy
    void (*destroy)(void* self) noexcept;         // null: nothing to do
  };

  template <class D>
  static D& target(void* storage) noexcept {
    if constexpr (stored_inline<D>) {
      return *std::launder(static_cast<D*>(storage));
    } else {
      return **static_cast<D**>(storage);
    }
  }

  template <class D>
  static constexpr Ops ops_for{
      [](void* self) { target<D>(self)(); },
      [](const void* from, void* to) {
        const D& source = target<D>(const_cast<void*>(from));
        if constexpr (stored_inline<D>) {
          ::new (to) D(source);
        } else {
          *static_cast<D**>(to) = new D(source);
        }
      },
      relocates_bitwise<D> ? nullptr
                           : +[](void* from, void* to) noexcept {
                               D& source = target<D>(from);
                               ::new (to) D(std::move(source));
                               source.~D();
                             },
      std::is_trivially_destructible_v<D> && stored_inline<D> ? nullptr
                                                              : +[](void* self) noexcept {
                                                                  if constexpr (stored_inline<D>) {
                                                                    target<D>(self).~D();
                                                                  } else {
                                                                    delete *static_cast<D**>(self);
                                                                  }
                                                                }};

  void*& heap_slot() noexcept { return *reinterpret_cast<void**>(storage_); }

  // ops_ already copied from `other`; moves the callable over and leaves `other` empty.
  void relocate_from(SmallFunction& other) noexcept {
    if (ops_ == nullptr) return;
    if (ops_->move == nullptr) {
      std::memcpy(storage_, other.storage_, kInlineSize);
    } else {
      ops_->move(other.storage_, storage_);
    }
    other.ops_ = nullptr;
  }

  void reset() noexcept {
    if (ops_ != nullptr && ops_->destroy != nullptr) ops_->destroy(storage_);
    ops_ = nullptr;
  }

  alignas(std::max_align_t) unsigned char storage_[kInlineSize];
  const Ops* ops_ = nullptr;
};

}  // namespace aiospec::ref::detail
