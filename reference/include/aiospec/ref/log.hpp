// asyncio/log.py: `logger = logging.getLogger('asyncio')`, as a seam. Every report of the loop
// (the default exception handler, slow callbacks, 'Close ...', an unclosed loop) is one record
// here; each loop has its own Logger, stderr by default, and the conformance adapter installs
// one that captures the records.
#pragma once

#include <exception>
#include <string>

namespace aiospec::ref {

enum class LogLevel { debug = 10, info = 20, warning = 30, error = 40, critical = 50 };
// logging.getLevelName: "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL".
const char* level_name(LogLevel level);

// One logging.LogRecord: its level, getMessage() and the exception of exc_info (null: none).
struct LogRecord {
  LogLevel level = LogLevel::error;
  std::string message;
  std::exception_ptr exception;
};

class Logger {
 public:
  virtual ~Logger() = default;
  virtual void log(const LogRecord& record) = 0;
};

// What an unconfigured Python process does with the records (logging.lastResort): WARNING and
// above on stderr, the message and then the exception's last traceback line ("ValueError: boom").
class StderrLogger final : public Logger {
 public:
  void log(const LogRecord& record) override;
};

}  // namespace aiospec::ref
