#include "standalone_time_keeper.hpp"

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <thread>
#include <utility>

namespace aiospec::ref::testing {

void StandaloneTimeKeeper::add_external(double at, std::function<void()> fn) {
  const auto pos = std::upper_bound(externals_.begin(), externals_.end(), at,
                                    [](double t, const External& e) { return t < e.at; });
  externals_.insert(pos, External{at, std::move(fn)});
}

void StandaloneTimeKeeper::run_external(External e) {
  std::exception_ptr error;
  std::thread([&] {
    try {
      e.fn();
    } catch (...) {
      error = std::current_exception();
    }
  }).join();
  if (error) std::rethrow_exception(error);  // on the loop's thread, out of select()
}

void StandaloneTimeKeeper::run_due_externals() {
  // Removed before it runs, so that an event adding events due now sees them run here too.
  while (!externals_.empty() && externals_.front().at <= clock_.time()) {
    External e = std::move(externals_.front());
    externals_.erase(externals_.begin());
    run_external(std::move(e));
  }
}

void StandaloneTimeKeeper::before_poll(std::optional<double> timeout) {
  if (++polls_ > max_polls_) throw std::length_error("StandaloneTimeKeeper: poll budget exceeded");
  timeouts_.push_back(timeout);
  run_due_externals();
}

bool StandaloneTimeKeeper::let_time_pass(std::optional<double> deadline) {
  // An external event due at the deadline itself comes first, as in the oracle.
  if (!externals_.empty() && (!deadline || externals_.front().at <= *deadline)) {
    clock_.set(std::max(clock_.time(), externals_.front().at));
    run_due_externals();
    return false;
  }
  if (!deadline) throw WouldBlockForever();
  clock_.set(std::max(clock_.time(), *deadline));
  return true;
}

}  // namespace aiospec::ref::testing
