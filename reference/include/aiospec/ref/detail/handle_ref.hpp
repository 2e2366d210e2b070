// HandleRef<T>: a counted reference to a Handle, as a Python variable refers to one. The count
// lives in the handle (events.hpp: retain and release), so a handle is one block from the pool, and the loop's
// ready queue holds one pointer per entry. Copying is a plain increment for a handle that only its
// loop's thread sees, an atomic one for a handle made by call_soon_threadsafe (which the calling
// thread keeps while the loop runs it).
//
// The subset of std::shared_ptr the loop needs: copy, move, conversion to a base, get, ->, *,
// comparison, reset. No weak references: nothing in asyncio holds a handle weakly.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

namespace aiospec::ref::detail {

template <class T>
class HandleRef {
 public:
  using element_type = T;

  HandleRef() noexcept = default;
  HandleRef(std::nullptr_t) noexcept {}  // NOLINT: implicit, as shared_ptr's
  // Takes over a reference already counted: a new handle's count starts at one, for the
  // HandleRef make_handle returns.
  struct Adopt {};
  HandleRef(T* p, Adopt) noexcept : p_(p) {}
  HandleRef(const HandleRef& other) noexcept : p_(other.p_) {
    if (p_ != nullptr) retain(*p_);
  }
  HandleRef(HandleRef&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
  template <class U>
    requires std::is_convertible_v<U*, T*>
  HandleRef(const HandleRef<U>& other) noexcept : p_(other.get()) {  // NOLINT: implicit, to a base
    if (p_ != nullptr) retain(*p_);
  }
  template <class U>
    requires std::is_convertible_v<U*, T*>
  HandleRef(HandleRef<U>&& other) noexcept : p_(other.release_pointer()) {}  // NOLINT: implicit, to a base

  HandleRef& operator=(HandleRef other) noexcept {
    std::swap(p_, other.p_);
    return *this;
  }
  ~HandleRef() { reset(); }

  void reset() noexcept {
    if (T* p = std::exchange(p_, nullptr)) release(*p);
  }

  T* get() const noexcept { return p_; }
  T* operator->() const noexcept { return p_; }
  T& operator*() const noexcept { return *p_; }
  explicit operator bool() const noexcept { return p_ != nullptr; }

  template <class U>
  friend bool operator==(const HandleRef& a, const HandleRef<U>& b) noexcept {
    return a.get() == b.get();
  }
  friend bool operator==(const HandleRef& a, std::nullptr_t) noexcept { return a.p_ == nullptr; }

  // Gives up the reference without dropping it (for the converting move).
  T* release_pointer() noexcept { return std::exchange(p_, nullptr); }

 private:
  T* p_ = nullptr;
};

}  // namespace aiospec::ref::detail
