// asyncio/selector_events.py: EventLoop's reader/writer registry, _process_events, self-pipe.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <system_error>
#include <utility>

#include "aiospec/ref/base_events.hpp"

namespace aiospec::ref {

void EventLoop::add_reader(int fd, Callback callback) {
  add_reader_handle(fd, std::move(callback));
}
void EventLoop::add_writer(int fd, Callback callback) {
  add_writer_handle(fd, std::move(callback));
}

HandlePtr EventLoop::add_reader_handle(int fd, Callback callback) {
  return add_io(fd, std::move(callback), &IoHandles::reader, &IoHandles::writer, EVENT_READ, EVENT_WRITE);
}

HandlePtr EventLoop::add_writer_handle(int fd, Callback callback) {
  return add_io(fd, std::move(callback), &IoHandles::writer, &IoHandles::reader, EVENT_WRITE, EVENT_READ);
}

// _add_reader and _add_writer: register the descriptor or widen its mask, and put the new handle
// in one half of its key. The handle it replaces is cancelled: if already queued, it will not run.
HandlePtr EventLoop::add_io(int fd, Callback callback, HandlePtr IoHandles::*mine, HandlePtr IoHandles::*other,
                            unsigned my_event, unsigned other_event) {
  check_closed();
  auto handle = std::make_shared<Handle>(std::move(callback), this);
  const auto it = io_handles_.find(fd);
  if (it == io_handles_.end()) {
    selector().register_fd(fd, my_event);
    io_handles_[fd].*mine = handle;
  } else {
    selector().modify(fd, my_event | (it->second.*other ? other_event : 0u));
    if (auto old = std::exchange(it->second.*mine, handle)) old->cancel();
  }
  return handle;
}

// _remove_reader and _remove_writer: clear one half of the descriptor's key, unregister it when
// both halves are empty, and cancel the handle that was there.
bool EventLoop::remove_io(int fd, HandlePtr IoHandles::*mine, HandlePtr IoHandles::*other, unsigned other_event) {
  if (is_closed()) return false;
  const auto it = io_handles_.find(fd);
  if (it == io_handles_.end()) return false;
  HandlePtr handle = std::exchange(it->second.*mine, nullptr);
  if (it->second.*other) {
    selector().modify(fd, other_event);
  } else {
    selector().unregister(fd);
    io_handles_.erase(it);
  }
  if (!handle) return false;
  handle->cancel();
  return true;
}

bool EventLoop::remove_reader(int fd) { return remove_io(fd, &IoHandles::reader, &IoHandles::writer, EVENT_WRITE); }

bool EventLoop::remove_writer(int fd) { return remove_io(fd, &IoHandles::writer, &IoHandles::reader, EVENT_READ); }

void EventLoop::process_events(const std::vector<ReadyEvent>& events) {
  for (const auto& event : events) {
    const auto it = io_handles_.find(event.fd);
    if (it == io_handles_.end()) continue;
    // The key's data as select() saw it: removing the reader must not hide the writer.
    const auto [reader, writer] = it->second;
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
  std::lock_guard lock(ready_mutex_);  // no write_to_self() in flight on the old descriptor
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
