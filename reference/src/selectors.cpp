#include "aiospec/ref/selectors.hpp"

#include <cerrno>
#include <cstring>
#include <string>

#include "aiospec/ref/exceptions.hpp"

namespace aiospec::ref {

void SelectorMap::add(int fd, unsigned events) {
  // _BaseSelectorImpl.register and _fileobj_to_fd, with their messages.
  if (events == 0 || (events & ~unsigned{EVENT_READ | EVENT_WRITE}) != 0) {
    throw ValueError("Invalid events: " + std::to_string(events));
  }
  if (fd < 0) throw ValueError("Invalid file descriptor: " + std::to_string(fd));
  if (fd_to_events_.count(fd) != 0) {
    throw KeyError(std::to_string(fd) + " (FD " + std::to_string(fd) + ") is already registered");
  }
  fd_to_events_.emplace(fd, events);
}

unsigned SelectorMap::remove(int fd) {
  const auto it = fd_to_events_.find(fd);
  if (it == fd_to_events_.end()) throw KeyError(std::to_string(fd) + " is not registered");
  const unsigned events = it->second;
  fd_to_events_.erase(it);
  return events;
}

unsigned& SelectorMap::at(int fd) {
  const auto it = fd_to_events_.find(fd);
  if (it == fd_to_events_.end()) throw KeyError(std::to_string(fd) + " is not registered");
  return it->second;
}

std::optional<unsigned> SelectorMap::get(int fd) const {
  const auto it = fd_to_events_.find(fd);
  if (it == fd_to_events_.end()) return std::nullopt;
  return it->second;
}

std::chrono::steady_clock::time_point wait_deadline(int ms) {
  return ms > 0 ? std::chrono::steady_clock::now() + std::chrono::milliseconds(ms) : std::chrono::steady_clock::time_point{};
}

void raise_os_error(int error) {
  // OSError.__new__ picks the subclass by errno; these are the ones a selector can meet.
  const char* type = error == EPERM || error == EACCES ? "PermissionError"
                     : error == EEXIST                 ? "FileExistsError"
                     : error == ENOENT                 ? "FileNotFoundError"
                                                       : "OSError";
  throw Error(type, "[Errno " + std::to_string(error) + "] " + std::strerror(error));
}

#if AIOSPEC_HAVE_IO_URING
std::unique_ptr<Selector> make_io_uring_selector();  // io_uring_selector.cpp
#endif

std::unique_ptr<Selector> make_selector(std::string_view backend) {
  if (backend == "select") return std::make_unique<SelectSelector>();
  if (backend == "poll") return std::make_unique<PollSelector>();
  if (backend == "epoll") return std::make_unique<EpollSelector>();
#if AIOSPEC_HAVE_IO_URING
  if (backend == "io_uring") return make_io_uring_selector();
#else
  if (backend == "io_uring") {
    throw ValueError("selector backend 'io_uring' was not built (liburing was not found when aiospec was configured)");
  }
#endif
  std::string available;
  for (const auto& name : available_backends()) available += (available.empty() ? "" : ", ") + name;
  throw ValueError("unknown selector backend: '" + std::string(backend) + "' (available: " + available + ")");
}

std::vector<std::string> available_backends() {
#if AIOSPEC_HAVE_IO_URING
  return {"select", "poll", "epoll", "io_uring"};
#else
  return {"select", "poll", "epoll"};
#endif
}

std::optional<std::string> why_unavailable(std::string_view backend) {
  try {
    make_selector(backend);
    return std::nullopt;
  } catch (const BackendUnavailable& e) {
    return e.what();
  }
}

}  // namespace aiospec::ref
