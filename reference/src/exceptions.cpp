// asyncio/exceptions.py: str() of args, construction by name, and implicit chaining.
#include "aiospec/ref/exceptions.hpp"

#include <algorithm>
#include <cstdio>
#include <string>

namespace aiospec::ref {

namespace {

std::string python_str(const Arg& arg) {
  struct Str {
    std::string operator()(std::monostate) const { return "None"; }
    std::string operator()(bool b) const { return b ? "True" : "False"; }
    std::string operator()(std::int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", d);
      return buf;
    }
    std::string operator()(const std::string& s) const { return s; }
  };
  return std::visit(Str{}, arg);
}

std::string python_repr(const Arg& arg) {
  if (const auto* s = std::get_if<std::string>(&arg)) return "'" + *s + "'";
  return python_str(arg);
}

// BaseException.__str__: '' for no args, str(arg) for one, str(args) for more.
std::string str_of_args(const Args& args) {
  if (args.empty()) return "";
  if (args.size() == 1) return python_str(args[0]);
  std::string out = "(";
  for (std::size_t i = 0; i < args.size(); ++i) out += (i ? ", " : "") + python_repr(args[i]);
  return out + ")";
}

}  // namespace

BaseException::BaseException(std::string python_type, Args args)
    : python_type_(std::move(python_type)), args_(std::move(args)), str_(str_of_args(args_)) {}

void BaseException::assign(std::string python_type, Args args, std::optional<std::string> str) {
  python_type_ = std::move(python_type);
  args_ = std::move(args);
  str_ = str ? std::move(*str) : str_of_args(args_);
}

BaseExceptionGroup::BaseExceptionGroup(std::string python_type, std::string message,
                                       std::vector<std::exception_ptr> exceptions)
    : message_(std::move(message)), exceptions_(std::move(exceptions)) {
  if (exceptions_.empty()) throw ValueError("second argument (exceptions) must be a non-empty sequence");
  assign(std::move(python_type), Args{message_}, group_str());
}

std::string BaseExceptionGroup::group_str() const {
  const std::size_t n = exceptions_.size();
  return message_ + " (" + std::to_string(n) + (n == 1 ? " sub-exception)" : " sub-exceptions)");
}

ExceptionGroup::ExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions)
    : BaseExceptionGroup("ExceptionGroup", std::move(message), std::move(exceptions)),
      Exception("ExceptionGroup", Args{}) {
  for (const auto& e : this->exceptions()) {
    if (!holds<Exception>(e)) throw TypeError("Cannot nest BaseExceptions in an ExceptionGroup");
  }
  // Exception's body ran last and assigned plain args: the group's own str() again.
  assign("ExceptionGroup", Args{this->message()}, group_str());
}

std::exception_ptr make_exception_group(std::string message, std::vector<std::exception_ptr> exceptions) {
  const bool all_exceptions =
      std::all_of(exceptions.begin(), exceptions.end(), [](const auto& e) { return holds<Exception>(e); });
  if (all_exceptions && !exceptions.empty()) {
    return std::make_exception_ptr(ExceptionGroup(std::move(message), std::move(exceptions)));
  }
  return std::make_exception_ptr(BaseExceptionGroup(std::move(message), std::move(exceptions)));
}

std::exception_ptr make_exception(const std::string& python_type, Args args) {
  const auto make = [&]<class E>() { return std::make_exception_ptr(E(std::move(args))); };
  if (python_type == "BaseException") return make.operator()<BaseException>();
  if (python_type == "Exception") return make.operator()<Exception>();
  if (python_type == "RuntimeError") return make.operator()<RuntimeError>();
  if (python_type == "ValueError") return make.operator()<ValueError>();
  if (python_type == "TypeError") return make.operator()<TypeError>();
  if (python_type == "KeyError") return make.operator()<KeyError>();
  if (python_type == "InvalidStateError") return make.operator()<InvalidStateError>();
  if (python_type == "TimeoutError") return make.operator()<TimeoutError>();
  if (python_type == "CancelledError") return make.operator()<CancelledError>();
  if (python_type == "SystemExit") return make.operator()<SystemExit>();
  if (python_type == "KeyboardInterrupt") return make.operator()<KeyboardInterrupt>();
  return std::make_exception_ptr(Error(python_type, std::move(args)));
}

BaseException* as_base_exception(const std::exception_ptr& exception) noexcept {
  if (!exception) return nullptr;
  try {
    std::rethrow_exception(exception);
  } catch (BaseException& e) {
    return &e;  // the object exception_ptr refers to, not a copy
  } catch (...) {
    return nullptr;
  }
}

bool escapes_the_loop(const std::exception_ptr& exception) noexcept {
  if (!exception) return false;
  try {
    std::rethrow_exception(exception);
  } catch (const SystemExit&) {
    return true;
  } catch (const KeyboardInterrupt&) {
    return true;
  } catch (const std::exception&) {
    return false;
  } catch (...) {
    return true;
  }
}

std::exception_ptr chain_context(std::exception_ptr raised, const std::exception_ptr& handled) noexcept {
  if (handled && raised != handled) {
    if (auto* e = as_base_exception(raised)) e->set_context(handled);
  }
  return raised;
}

}  // namespace aiospec::ref
