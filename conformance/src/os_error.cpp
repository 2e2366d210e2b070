#include <cerrno>
#include <cstring>
#include <string>

#include "aiospec/conformance/adapter.hpp"

namespace aiospec::conformance {

namespace {

// PEP 3151's errno -> OSError subclass table, as Objects/exceptions.c fills errnomap.
const char* os_error_class(int e) {
  switch (e) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case EALREADY:
    case EINPROGRESS:
      return "BlockingIOError";
    case ECHILD:
      return "ChildProcessError";
    case EPIPE:
    case ESHUTDOWN:
      return "BrokenPipeError";
    case ECONNABORTED:
      return "ConnectionAbortedError";
    case ECONNREFUSED:
      return "ConnectionRefusedError";
    case ECONNRESET:
      return "ConnectionResetError";
    case EEXIST:
      return "FileExistsError";
    case ENOENT:
      return "FileNotFoundError";
    case EISDIR:
      return "IsADirectoryError";
    case ENOTDIR:
      return "NotADirectoryError";
    case EINTR:
      return "InterruptedError";
    case EACCES:
    case EPERM:
      return "PermissionError";
    case ESRCH:
      return "ProcessLookupError";
    case ETIMEDOUT:
      return "TimeoutError";
    default:
      return "OSError";
  }
}

}  // namespace

LoopError os_error(int errno_value) {
  // str(OSError(errno, strerror(errno))): CPython takes the text from the same C library.
  char buffer[256];
  const char* text = strerror_r(errno_value, buffer, sizeof buffer);  // GNU: may return a static string
  return LoopError(os_error_class(errno_value), "[Errno " + std::to_string(errno_value) + "] " + text);
}

}  // namespace aiospec::conformance
