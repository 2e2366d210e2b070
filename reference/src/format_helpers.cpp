// asyncio/format_helpers.py, reprlib and the builtin reprs: see the header.
#include "aiospec/ref/format_helpers.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace aiospec::ref {

std::string python_repr(std::string_view text) {
  const bool has_single = text.find('\'') != std::string_view::npos;
  const bool has_double = text.find('"') != std::string_view::npos;
  const char quote = has_single && !has_double ? '"' : '\'';
  std::string out(1, quote);
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == quote || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;  // printable ASCII, and UTF-8 bytes of (assumed printable) non-ASCII text
    }
  }
  return out + quote;
}

std::string python_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  // The shortest round-tripping digits, then float_repr_style 'short''s layout: positional
  // when the decimal exponent is in [-4, 16), else d.ddde+XX.
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  const auto e = sci.find('e');
  std::string mantissa = sci.substr(0, e);
  const int exponent = std::atoi(sci.c_str() + e + 1);
  std::string sign;
  if (mantissa[0] == '-') {
    sign = "-";
    mantissa.erase(0, 1);
  }
  std::string digits;
  for (const char c : mantissa) {
    if (c != '.') digits += c;
  }
  const int decpt = exponent + 1;  // digits d1 d2 ... with the point after decpt of them
  if (-4 < decpt && decpt <= 16) {
    std::string out;
    if (decpt <= 0) {
      out = "0." + std::string(static_cast<std::size_t>(-decpt), '0') + digits;
    } else if (static_cast<std::size_t>(decpt) >= digits.size()) {
      out = digits + std::string(static_cast<std::size_t>(decpt) - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, static_cast<std::size_t>(decpt)) + "." + digits.substr(static_cast<std::size_t>(decpt));
    }
    return sign + out;
  }
  std::string out = digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  char ebuf[16];
  std::snprintf(ebuf, sizeof ebuf, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
  return sign + out + ebuf;
}

std::string python_repr(const Arg& arg) {
  struct Repr {
    std::string operator()(std::monostate) const { return "None"; }
    std::string operator()(bool b) const { return b ? "True" : "False"; }
    std::string operator()(std::int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const { return python_repr(d); }
    std::string operator()(const std::string& s) const { return python_repr(std::string_view(s)); }
  };
  return std::visit(Repr{}, arg);
}

std::string exception_repr(const std::exception_ptr& exception) {
  const BaseException* e = as_base_exception(exception);
  if (e == nullptr) {
    try {
      std::rethrow_exception(exception);
    } catch (const std::exception& foreign) {
      return python_repr(std::string_view(foreign.what()));
    } catch (...) {
      return "<unknown exception>";
    }
  }
  // BaseException.__repr__: the class name and repr(args) without a 1-tuple's comma. A group's
  // args are (message, [members]).
  std::string out = e->python_type() + "(";
  const Args& args = e->args();
  for (std::size_t i = 0; i < args.size(); ++i) out += (i ? ", " : "") + python_repr(args[i]);
  if (const auto* group = dynamic_cast<const BaseExceptionGroup*>(e)) {
    out += ", [";
    for (std::size_t i = 0; i < group->exceptions().size(); ++i) {
      out += (i ? ", " : "") + exception_repr(group->exceptions()[i]);
    }
    out += "]";
  }
  return out + ")";
}

namespace {
constexpr std::size_t kMaxString = 30, kMaxOther = 30;  // reprlib.Repr's defaults
}  // namespace

std::string reprlib_repr(std::string_view text) {
  // Repr.repr_str: repr of the first maxstring characters; if still too long, repr of head+tail
  // cut around '...'.
  std::string s = python_repr(text.substr(0, kMaxString));
  if (s.size() > kMaxString) {
    const std::size_t i = (kMaxString - 3) / 2, j = kMaxString - 3 - i;
    std::string joined(text.substr(0, i));
    joined += text.size() >= j ? text.substr(text.size() - j) : text;
    s = python_repr(std::string_view(joined));
    s = s.substr(0, i) + "..." + s.substr(s.size() - j);
  }
  return s;
}

std::string reprlib_truncate(std::string s) {
  // Repr.repr_instance.
  if (s.size() > kMaxOther) {
    const std::size_t i = (kMaxOther - 3) / 2, j = kMaxOther - 3 - i;
    s = s.substr(0, i) + "..." + s.substr(s.size() - j);
  }
  return s;
}

SourceTraceback extract_stack(const std::source_location& where) {
  return {Frame{where.file_name(), static_cast<unsigned>(where.line()), where.function_name()}};
}

std::string format_traceback(std::string_view title, const SourceTraceback& tb) {
  std::string out(title);
  for (const Frame& f : tb) {
    out += "\n  File \"" + f.filename + "\", line " + std::to_string(f.line) + ", in " + f.name;
  }
  return out;
}

std::string traceback_repr(const SourceTraceback& tb) {
  std::string out = "[";
  for (std::size_t i = 0; i < tb.size(); ++i) {
    out += (i ? ", " : "") + std::string("<FrameSummary file ") + tb[i].filename + ", line " +
           std::to_string(tb[i].line) + " in " + tb[i].name + ">";
  }
  return out + "]";
}

std::string created_at(const SourceTraceback& tb) {
  if (tb.empty()) return "";
  return " created at " + tb.back().filename + ":" + std::to_string(tb.back().line);
}

}  // namespace aiospec::ref
