// asyncio/selector_events.py: EventLoop's reader/writer registry, _process_events, self-pipe.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <system_error>
#include <utility>

#include "aiospec/ref/base_events.hpp"

namespace aiospec::ref {

// add_reader/add_writer: BaseSelectorEventLoop.add_reader/add_writer (no transports to check).
void EventLoop::add_reader(int fd, Callback callback) { add_reader_handle(fd, std::move(callback)); }

void EventLoop::add_writer(int fd, Callback callback) { add_writer_handle(fd, std::move(callback)); }

// remove_reader/remove_writer are _remove_reader/_remove_writer themselves.

// _add_reader: register the descriptor for reading, or widen its mask; the reader it replaces is
// cancelled (if already queued, it will not run).
HandlePtr EventLoop::add_reader_handle(int fd, Callback callback) {
  check_closed();
  auto handle = detail::make_handle<Handle>(std::move(callback), this, debug_, std::source_location::current());
  const auto key = keys_.find(fd);
  if (key == keys_.end()) {
    selector().register_fd(fd, EVENT_READ);
    keys_[fd] = SelectorKey{EVENT_READ, handle, nullptr};
  } else {
    auto& [mask, reader, writer] = key->second;
    selector().modify(fd, mask | EVENT_READ);
    mask |= EVENT_READ;
    if (auto old = std::exchange(reader, handle)) old->cancel();
  }
  return handle;
}

// _add_writer: the same for writing.
HandlePtr EventLoop::add_writer_handle(int fd, Callback callback) {
  check_closed();
  auto handle = detail::make_handle<Handle>(std::move(callback), this, debug_, std::source_location::current());
  const auto key = keys_.find(fd);
  if (key == keys_.end()) {
    selector().register_fd(fd, EVENT_WRITE);
    keys_[fd] = SelectorKey{EVENT_WRITE, nullptr, handle};
  } else {
    auto& [mask, reader, writer] = key->second;
    selector().modify(fd, mask | EVENT_WRITE);
    mask |= EVENT_WRITE;
    if (auto old = std::exchange(writer, handle)) old->cancel();
  }
  return handle;
}

// _remove_reader: drop the read half of the key (unregister when nothing is left) and cancel the
// reader; whether there was one.
bool EventLoop::remove_reader(int fd) {
  if (is_closed()) return false;
  const auto key = keys_.find(fd);
  if (key == keys_.end()) return false;
  auto& [mask, reader_ref, writer] = key->second;
  mask &= ~static_cast<unsigned>(EVENT_READ);
  HandlePtr reader = std::exchange(reader_ref, nullptr);
  if (!mask) {
    selector().unregister(fd);
    keys_.erase(key);
  } else {
    selector().modify(fd, mask);
  }
  if (reader) {
    reader->cancel();
    return true;
  }
  return false;
}

// _remove_writer: the same for the write half.
bool EventLoop::remove_writer(int fd) {
  if (is_closed()) return false;
  const auto key = keys_.find(fd);
  if (key == keys_.end()) return false;
  auto& [mask, reader, writer_ref] = key->second;
  mask &= ~static_cast<unsigned>(EVENT_WRITE);
  HandlePtr writer = std::exchange(writer_ref, nullptr);
  if (!mask) {
    selector().unregister(fd);
    keys_.erase(key);
  } else {
    selector().modify(fd, mask);
  }
  if (writer) {
    writer->cancel();
    return true;
  }
  return false;
}

void EventLoop::process_events(const std::vector<ReadyEvent>& events) {
  for (const auto& event : events) {
    const auto key = keys_.find(event.fd);
    if (key == keys_.end()) continue;
    // The key's data as select() saw it: removing the reader must not hide the writer.
    const HandlePtr reader = key->second.reader, writer = key->second.writer;
    // For one descriptor, the reader is queued before the writer. A cancelled handle found
    // here (cancelled without remove_*) unregisters itself instead of running.
    if ((event.mask & EVENT_READ) && reader) {
      if (reader->cancelled()) {
        remove_reader(event.fd);
      } else {
        append_ready(reader);
      }
    }
    if ((event.mask & EVENT_WRITE) && writer) {
      if (writer->cancelled()) {
        remove_writer(event.fd);
      } else {
        append_ready(writer);
      }
    }
  }
}

// The self-pipe: a socketpair whose reading end is an ordinary reader of this loop, so that a
// byte written from another thread wakes a blocked select().
void EventLoop::make_self_pipe() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
    throw std::system_error(errno, std::generic_category(), "socketpair");
  }
  ssock_ = fds[0];
  csock_ = fds[1];
  add_reader(ssock_, [this] { read_from_self(); });
}

void EventLoop::close_self_pipe() {
  remove_reader(ssock_);
  ::close(ssock_);
  ssock_ = -1;
  std::lock_guard lock(inbox_mutex_);  // no write_to_self() in flight on the old descriptor
  ::close(csock_);
  csock_ = -1;
}

void EventLoop::read_from_self() {
  char buffer[4096];
  while (true) {
    const auto n = ::recv(ssock_, buffer, sizeof buffer, 0);
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    break;  // EAGAIN: drained; 0: closed
  }
}

void EventLoop::write_to_self() {
  // Errors are ignored, as in CPython: a full pipe (EAGAIN) already guarantees a wake-up.
  if (csock_ >= 0) (void)::send(csock_, "\0", 1, MSG_NOSIGNAL);
}

}  // namespace aiospec::ref
