// CallbackName: a callback's __qualname__ as reprs show it ("Task.task_wakeup", "callback").
// Nearly every name the loop queues is a string literal, and a handle is made, moved and
// destroyed per call_soon: a std::string there costs a variable-length copy on every move. A
// literal is kept as its pointer (the consteval constructor accepts nothing else, so it cannot
// dangle); any other name is owned on the heap, and moving either is a pointer copy.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace aiospec::ref::detail {

class CallbackName {
 public:
  consteval CallbackName(const char* literal) : literal_(literal) {}  // NOLINT: implicit, as a string's
  CallbackName(std::string name)                                      // NOLINT: implicit, as a string's
      : owned_(std::make_unique<std::string>(std::move(name))) {}
  CallbackName(const CallbackName& other)
      : literal_(other.literal_), owned_(other.owned_ ? std::make_unique<std::string>(*other.owned_) : nullptr) {}
  CallbackName(CallbackName&&) noexcept = default;
  CallbackName& operator=(const CallbackName& other) {
    if (this != &other) *this = CallbackName(other);
    return *this;
  }
  CallbackName& operator=(CallbackName&&) noexcept = default;
  ~CallbackName() = default;

  std::string_view view() const noexcept { return owned_ ? std::string_view(*owned_) : std::string_view(literal_); }
  std::string str() const { return std::string(view()); }
  friend bool operator==(const CallbackName& a, std::string_view b) noexcept { return a.view() == b; }

 private:
  const char* literal_ = "";
  std::unique_ptr<std::string> owned_;  // set when the name is not a literal
};

}  // namespace aiospec::ref::detail
