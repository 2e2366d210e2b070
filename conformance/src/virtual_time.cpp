#include "aiospec/conformance/virtual_time.hpp"

#include <algorithm>

namespace aiospec::conformance {

void VirtualTime::burn(double seconds) {
  if (sleep_until_) {
    sleep_until_(now() + seconds);
  } else {
    advance_to(now_ + seconds);
  }
}

void VirtualTime::add_external(double at, std::function<void()> action) {
  std::lock_guard lock(externals_mutex_);
  externals_.push_back({at, next_order_++, std::move(action)});
}

void VirtualTime::count_callback() {
  if (++callbacks_ > budget_.callbacks) throw Abort{"callbacks"};
}

void VirtualTime::count_operations(std::int64_t n) {
  operations_ += n;
  if (operations_ > budget_.operations) throw Abort{"operations"};
}

void VirtualTime::count_event() {
  if (++events_ > budget_.events) throw Abort{"events"};
}

void VirtualTime::before_poll(std::optional<double> timeout) {
  if (select_observer_) select_observer_(timeout);
  if (++iterations_ > budget_.iterations) throw Abort{"iterations"};
  run_due_externals();
}

std::optional<double> VirtualTime::next_external() const {
  std::lock_guard lock(externals_mutex_);
  std::optional<double> next;
  for (const External& e : externals_) {
    if (!next || e.at < *next) next = e.at;
  }
  return next;
}

bool VirtualTime::let_time_pass(std::optional<double> deadline) {
  const std::optional<double> next_external = this->next_external();
  if (!deadline && !next_external) throw Blocked{};
  // An external event due at the deadline itself happens first: it is what a real selector
  // would have seen before its timeout expired.
  if (next_external && (!deadline || *next_external <= *deadline)) {
    advance_to(std::max(now_, *next_external));
    run_due_externals();
    return false;
  }
  advance_to(*deadline);
  return true;
}

void VirtualTime::advance_to(double t) {
  if (t > budget_.time) throw Abort{"time"};
  if (t > now_) {
    now_ = t;
    if (follower_) follower_(now_);
  }
}

void VirtualTime::run_due_externals() {
  // Each action may add further externals, so pick the earliest due one afresh every time.
  for (;;) {
    std::function<void()> action;
    {
      std::lock_guard lock(externals_mutex_);
      const double t = now();
      auto due = externals_.end();
      for (auto it = externals_.begin(); it != externals_.end(); ++it) {
        if (it->at > t) continue;
        if (due == externals_.end() || it->at < due->at || (it->at == due->at && it->order < due->order)) due = it;
      }
      if (due == externals_.end()) return;
      action = std::move(due->action);
      externals_.erase(due);
    }
    action();
  }
}

}  // namespace aiospec::conformance
