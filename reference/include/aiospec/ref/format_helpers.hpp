// asyncio/format_helpers.py, reprlib and the builtin reprs asyncio's messages are made of: the
// text of str/float/exception reprs, reprlib's truncation, creation sites (_source_traceback)
// and callback sources ("name(args)").
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <source_location>
#include <string>
#include <string_view>
#include <vector>

#include "aiospec/ref/exceptions.hpp"

namespace aiospec::ref {

// repr(str): single quotes unless the text has one and no double quote, Python's escapes.
std::string python_repr(std::string_view text);
// repr(float): the shortest text that reads back, '1.0', '1e+16', 'inf', 'nan'.
std::string python_repr(double value);
// repr() of one exception argument (None, True, 3, 0.5, 'x').
std::string python_repr(const Arg& arg);
// repr(exc): ValueError('boom'), CancelledError(), KeyError('a', 1),
// ExceptionGroup('msg', [ValueError('a')]). A foreign exception: its what() as a str.
std::string exception_repr(const std::exception_ptr& exception);

// reprlib.repr's truncation (maxstring = maxother = 30) of a string's repr and of any other
// object's repr: the head, '...', the tail.
std::string reprlib_repr(std::string_view text);          // reprlib.repr(a str)
std::string reprlib_truncate(std::string repr_of_object);  // reprlib.repr(an instance), given repr()

// One entry of a _source_traceback (traceback.FrameSummary): where an object was created in
// debug mode. C++ knows one frame, the caller's (std::source_location).
struct Frame {
  std::string filename;
  unsigned line = 0;
  std::string name;
};
using SourceTraceback = std::vector<Frame>;  // empty: none (debug was off)
SourceTraceback extract_stack(const std::source_location& where);
// traceback.format_list(tb), joined and rstripped, under its title line: the default handler's
// "Object created at (most recent call last):\n  File \"x.cpp\", line 3, in f".
std::string format_traceback(std::string_view title, const SourceTraceback& tb);
// repr(tb): [<FrameSummary file x.cpp, line 3 in f>].
std::string traceback_repr(const SourceTraceback& tb);
// " created at file:line" (the last frame), or "" without a traceback.
std::string created_at(const SourceTraceback& tb);

}  // namespace aiospec::ref
