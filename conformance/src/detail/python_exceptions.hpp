// The Python exception classes a scenario can name in `except` (spec/README.md, "try"), with
// their bases: the C++ twin of ops.EXCEPTION_TYPES, which tools/tests/test_catalog.py compares
// with the table in python_exceptions.cpp line by line.
#pragma once

#include <string>

namespace aiospec::conformance::detail {

// Whether the class named `type` is `base` or derives from it. A class the table does not know
// (AttributeError, OSError, ...) derives from Exception, as every built-in class the loops under
// test raise does, apart from those the table lists.
bool is_subclass(const std::string& type, const std::string& base);

}  // namespace aiospec::conformance::detail
