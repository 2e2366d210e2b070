// add_reader / add_writer on uv_poll_t: one poll handle per descriptor, its events the union of
// the two directions (libuv refuses a second uv_poll_t on one fd in a loop: UV_EEXIST).
#include <utility>

#include "libuv_adapter.hpp"

namespace aiospec::libuv {

namespace {
void delete_poll(uv_handle_t* handle) { delete reinterpret_cast<uv_poll_t*>(handle); }
}  // namespace

void UvLoop::watch(int fd, Callback callback, bool reader) {
  check_closed();
  auto& slot = watches_[fd];
  if (!slot) {
    auto watch = std::make_shared<FdWatch>();
    watch->loop = this;
    watch->fd = fd;
    watch->poll = new uv_poll_t;
    if (int err = uv_poll_init(&uv_, watch->poll, fd)) {
      delete watch->poll;
      watches_.erase(fd);
      throw conformance::os_error(-err);
    }
    watch->poll->data = watch.get();
    slot = std::move(watch);
  }
  auto watch = slot;  // restart_poll may drop the table's reference
  (reader ? watch->reader : watch->writer) = std::move(callback);  // a second add replaces the first
  restart_poll(*watch);
}

bool UvLoop::unwatch(int fd, bool reader) {
  if (closed_) return false;  // asyncio: removing from a closed loop is False, not an error
  const auto it = watches_.find(fd);
  if (it == watches_.end()) return false;
  auto watch = it->second;
  auto& slot = reader ? watch->reader : watch->writer;
  if (!slot) return false;
  slot.reset();
  restart_poll(*watch);
  return true;
}

// The poll handle follows the callbacks: both directions, one, or closed when none is left.
void UvLoop::restart_poll(FdWatch& watch) {
  if (watch.poll == nullptr) return;
  const int events = (watch.reader ? UV_READABLE : 0) | (watch.writer ? UV_WRITABLE : 0);
  if (events == 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(watch.poll), &delete_poll);
    watch.poll = nullptr;
    watches_.erase(watch.fd);
    return;
  }
  if (int err = uv_poll_start(watch.poll, events, &UvLoop::on_poll)) throw conformance::os_error(-err);
}

void UvLoop::add_reader(int fd, Callback callback) { watch(fd, std::move(callback), true); }
bool UvLoop::remove_reader(int fd) { return unwatch(fd, true); }
void UvLoop::add_writer(int fd, Callback callback) { watch(fd, std::move(callback), false); }
bool UvLoop::remove_writer(int fd) { return unwatch(fd, false); }

void UvLoop::on_poll(uv_poll_t* poll, int status, int events) {
  auto* raw = static_cast<FdWatch*>(poll->data);
  UvLoop& loop = *raw->loop;
  // An exception is leaving run_forever: skip; the poll is level-triggered, it reports again.
  if (loop.escaping()) return;
  const auto it = loop.watches_.find(raw->fd);
  if (it == loop.watches_.end() || it->second.get() != raw) return;
  auto watch = it->second;  // the callbacks may remove it from the table
  const auto current = [&] {
    const auto found = loop.watches_.find(watch->fd);
    return found != loop.watches_.end() && found->second == watch;
  };
  // On POLLERR libuv stops the handle and reports UV_EBADF with no events; a selector reports
  // such a descriptor ready both ways, so both callbacks run and the watch is started again.
  const bool failed = status < 0;
  if ((failed || (events & UV_READABLE)) && watch->reader) {
    const Callback callback = *watch->reader;  // a copy: the callback may replace itself
    loop.invoke(callback);
  }
  if (!loop.escaping() && current() && (failed || (events & UV_WRITABLE)) && watch->writer) {
    const Callback callback = *watch->writer;
    loop.invoke(callback);
  }
  if (failed && current() && watch->poll != nullptr) {
    const int wanted = (watch->reader ? UV_READABLE : 0) | (watch->writer ? UV_WRITABLE : 0);
    if (wanted != 0) uv_poll_start(watch->poll, wanted, &UvLoop::on_poll);
  }
}

}  // namespace aiospec::libuv
