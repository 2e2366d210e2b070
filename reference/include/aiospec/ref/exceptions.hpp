// asyncio/exceptions.py and the builtins asyncio raises: what the reference loop throws.
//
// Python exceptions are objects with args, a __context__ and a __cause__; the C++ ones here are
// the same. BaseException is the root (a std::exception, so Handle.run sends it to the exception
// handler like Handle._run does), and the C++ class tree follows Python's where it matters to
// asyncio: CancelledError and SystemExit/KeyboardInterrupt are BaseExceptions, not Exceptions.
// An exception is held as a std::exception_ptr, which refers to the thrown object itself (no
// copy on rethrow with GCC and Clang), so "the same exception object" keeps its Python meaning.
//
// ExceptionGroup is both a BaseExceptionGroup and an Exception, as in Python, so Exception and
// BaseExceptionGroup inherit BaseException virtually. A virtual base is constructed by the most
// derived class, which here never names it: BaseException is default-constructed and every
// class sets type and args in its constructor's body (assign), the most derived one last.
#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace aiospec::ref {

// One element of an exception's args: Python's None, bool, int, float or str.
using Arg = std::variant<std::monostate, bool, std::int64_t, double, std::string>;
using Args = std::vector<Arg>;

// BaseException: args, str(), __context__ and __cause__. what() is str(exc).
class BaseException : public std::exception {
 public:
  // BaseException(): also what the classes that inherit it virtually start from (see the top).
  BaseException() : BaseException("BaseException", Args{}) {}
  explicit BaseException(Args args) : BaseException("BaseException", std::move(args)) {}
  explicit BaseException(std::string message) : BaseException(Args{std::move(message)}) {}

  const char* what() const noexcept override { return str_.c_str(); }
  // type(exc).__name__.
  const std::string& python_type() const noexcept { return python_type_; }
  const Args& args() const noexcept { return args_; }

  // __context__: the exception that was being handled when this one was raised (implicit
  // chaining). __cause__: `raise ... from cause`. Null when unset.
  const std::exception_ptr& context() const noexcept { return context_; }
  const std::exception_ptr& cause() const noexcept { return cause_; }
  void set_context(std::exception_ptr context) { context_ = std::move(context); }
  void set_cause(std::exception_ptr cause) { cause_ = std::move(cause); }

 protected:
  BaseException(std::string python_type, Args args);
  // For the classes that inherit BaseException virtually: the most derived class default-
  // constructs it, and each constructor body assigns the name and args (`str` overrides str()).
  void assign(std::string python_type, Args args, std::optional<std::string> str = std::nullopt);

 private:
  std::string python_type_;
  Args args_;
  std::string str_;
  std::exception_ptr context_, cause_;
};

// Declares a Python exception class: the two Python constructors that matter here, X(message)
// and X(*args), and the protected one subclasses use to give their own name.
#define AIOSPEC_REF_EXCEPTION(Name, Parent)                                               \
  class Name : public Parent {                                                            \
   public:                                                                                \
    explicit Name(Args args = {}) : Parent(#Name, std::move(args)) {}                     \
    explicit Name(std::string message) : Parent(#Name, Args{std::move(message)}) {}       \
                                                                                          \
   protected:                                                                             \
    Name(std::string python_type, Args args) : Parent(std::move(python_type), std::move(args)) {} \
  }

// Exception: a virtual BaseException (see the top of the file).
class Exception : public virtual BaseException {
 public:
  explicit Exception(Args args = {}) : Exception("Exception", std::move(args)) {}
  explicit Exception(std::string message) : Exception("Exception", Args{std::move(message)}) {}

 protected:
  Exception(std::string python_type, Args args) { assign(std::move(python_type), std::move(args)); }
};

AIOSPEC_REF_EXCEPTION(RuntimeError, Exception);
AIOSPEC_REF_EXCEPTION(ValueError, Exception);
AIOSPEC_REF_EXCEPTION(TypeError, Exception);
// Lib/selectors.py raises KeyError for a descriptor registered twice or not registered.
AIOSPEC_REF_EXCEPTION(KeyError, Exception);
AIOSPEC_REF_EXCEPTION(InvalidStateError, Exception);
// asyncio.TimeoutError: an Exception subclass in 3.8-3.10, builtins.TimeoutError (an OSError) from
// 3.11. Both are named TimeoutError, take no args here, and only the name is ever observed.
AIOSPEC_REF_EXCEPTION(TimeoutError, Exception);
// Python's SystemExit and KeyboardInterrupt are the two exceptions Handle._run and Task.__step
// let escape: they leave run_forever mid-batch instead of reaching the exception handler.
AIOSPEC_REF_EXCEPTION(SystemExit, BaseException);
AIOSPEC_REF_EXCEPTION(KeyboardInterrupt, BaseException);

#undef AIOSPEC_REF_EXCEPTION

// asyncio.CancelledError, a BaseException since 3.8. CancelledError() has no args and
// CancelledError('') has one: a cancel message of nullopt is the former.
class CancelledError : public BaseException {
 public:
  CancelledError() : BaseException("CancelledError", {}) {}
  explicit CancelledError(std::optional<std::string> message)
      : BaseException("CancelledError", message ? Args{std::move(*message)} : Args{}) {}
  explicit CancelledError(Args args) : BaseException("CancelledError", std::move(args)) {}
};

// BaseExceptionGroup(message, exceptions) (3.11+, PEP 654): a message and the member exceptions,
// in order. args() holds only the message (Python's args[1] is the list of members, which Args
// cannot hold; exceptions() has them); str() is "message (2 sub-exceptions)". The class is the one
// constructed: make_exception_group does what calling BaseExceptionGroup does in Python, choosing
// ExceptionGroup when every member is an Exception.
class BaseExceptionGroup : public virtual BaseException {
 public:
  BaseExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions)
      : BaseExceptionGroup("BaseExceptionGroup", std::move(message), std::move(exceptions)) {}

  const std::string& message() const noexcept { return message_; }
  const std::vector<std::exception_ptr>& exceptions() const noexcept { return exceptions_; }

 protected:
  BaseExceptionGroup(std::string python_type, std::string message, std::vector<std::exception_ptr> exceptions);
  // BaseExceptionGroup.__str__.
  std::string group_str() const;

 private:
  std::string message_;
  std::vector<std::exception_ptr> exceptions_;
};

// ExceptionGroup(message, exceptions): a BaseExceptionGroup of Exceptions, itself an Exception.
// A member that is not an Exception: TypeError("Cannot nest BaseExceptions in an ExceptionGroup").
class ExceptionGroup : public BaseExceptionGroup, public Exception {
 public:
  ExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions);
};

// BaseExceptionGroup(message, exceptions) as Python's __new__ decides: an ExceptionGroup when
// every member is an Exception, else a BaseExceptionGroup. An empty list is
// ValueError("second argument (exceptions) must be a non-empty sequence").
std::exception_ptr make_exception_group(std::string message, std::vector<std::exception_ptr> exceptions);

// An Exception whose Python class has no C++ class here ("AttributeError", "OverflowError"):
// caught as Exception, named as Python names it.
class Error : public Exception {
 public:
  Error(std::string python_type, std::string message) : Exception(std::move(python_type), Args{std::move(message)}) {}
  Error(std::string python_type, Args args) : Exception(std::move(python_type), std::move(args)) {}
};

// The exception `python_type(*args)`: the class above of that name, or an Error of that name for
// any other. For the conformance adapter, which receives exceptions by name.
std::exception_ptr make_exception(const std::string& python_type, Args args);

// The BaseException an exception_ptr holds, nullptr for anything else (a foreign exception). The
// pointer stays valid as long as `exception` (or another exception_ptr to the object) lives.
BaseException* as_base_exception(const std::exception_ptr& exception) noexcept;

// isinstance(exception, E), for an exception held by pointer.
template <class E>
bool holds(const std::exception_ptr& exception) noexcept {
  return dynamic_cast<E*>(as_base_exception(exception)) != nullptr;
}

// SystemExit, KeyboardInterrupt, or an exception that is not a std::exception at all (a
// harness's own stop): what Handle._run and Task.__step let escape from run_forever.
bool escapes_the_loop(const std::exception_ptr& exception) noexcept;

// Python's implicit chaining, for code written in C++ that must behave like a Python frame: an
// exception raised while `handled` is being handled gets __context__ = handled, unless it is the
// same object (or `handled` is null, or `raised` is not a BaseException). Returns `raised`.
std::exception_ptr chain_context(std::exception_ptr raised, const std::exception_ptr& handled) noexcept;

// `raise exception from cause` inside `except ... as cause`: both __cause__ and __context__.
template <class E>
[[noreturn]] void raise_from(E exception, const std::exception_ptr& cause) {
  exception.set_cause(cause);
  exception.set_context(cause);
  throw exception;
}

}  // namespace aiospec::ref
