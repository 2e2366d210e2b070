// asyncio/exceptions.py (and the builtins asyncio raises): what the reference loop throws.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <utility>

namespace aiospec::ref {

// Everything asyncio raises as an ordinary Exception, tagged with its Python class name so a
// trace can say `"type": "RuntimeError"` without knowing about C++ types.
class Error : public std::runtime_error {
 public:
  Error(const char* python_type, std::string message)
      : std::runtime_error(std::move(message)), python_type_(python_type) {}
  const char* python_type() const noexcept { return python_type_; }

 private:
  const char* python_type_;
};

struct RuntimeError : Error {
  explicit RuntimeError(std::string m) : Error("RuntimeError", std::move(m)) {}
};
struct ValueError : Error {
  explicit ValueError(std::string m) : Error("ValueError", std::move(m)) {}
};
struct TypeError : Error {
  explicit TypeError(std::string m) : Error("TypeError", std::move(m)) {}
};
// Lib/selectors.py raises KeyError for a descriptor registered twice or not registered.
struct KeyError : Error {
  explicit KeyError(std::string m) : Error("KeyError", std::move(m)) {}
};
struct InvalidStateError : Error {
  explicit InvalidStateError(std::string m) : Error("InvalidStateError", std::move(m)) {}
};
// A BaseException in Python, but a callback raising it still goes to the exception handler
// (Handle._run catches BaseException except SystemExit/KeyboardInterrupt), so it is an Error here.
struct CancelledError : Error {
  explicit CancelledError(std::string m = "") : Error("CancelledError", std::move(m)) {}
};

// Python's SystemExit and KeyboardInterrupt are the two exceptions Handle._run lets escape: they
// leave run_forever mid-batch instead of reaching the exception handler. Any exception that does
// not derive from std::exception escapes the same way. what() is str(exc): the message, often "".
struct SystemExit : std::exception {
  explicit SystemExit(std::string message = "") : message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

struct KeyboardInterrupt : std::exception {
  explicit KeyboardInterrupt(std::string message = "") : message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

}  // namespace aiospec::ref
