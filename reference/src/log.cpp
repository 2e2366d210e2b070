// asyncio/log.py: the logger seam and its stderr default.
#include "aiospec/ref/log.hpp"

#include <iostream>

#include "aiospec/ref/exceptions.hpp"

namespace aiospec::ref {

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::debug: return "DEBUG";
    case LogLevel::info: return "INFO";
    case LogLevel::warning: return "WARNING";
    case LogLevel::error: return "ERROR";
    case LogLevel::critical: return "CRITICAL";
  }
  return "NOTSET";
}

void StderrLogger::log(const LogRecord& record) {
  if (record.level < LogLevel::warning) return;
  std::cerr << record.message << '\n';
  if (!record.exception) return;
  if (const BaseException* e = as_base_exception(record.exception)) {
    const std::string text = e->what();
    std::cerr << e->python_type() << (text.empty() ? "" : ": " + text) << '\n';
    return;
  }
  try {
    std::rethrow_exception(record.exception);
  } catch (const std::exception& foreign) {
    std::cerr << foreign.what() << '\n';
  } catch (...) {
    std::cerr << "unknown exception\n";
  }
}

}  // namespace aiospec::ref
