// asyncio.Future for the Asio loop. Asio has no future that fits (std::future blocks; Asio's
// use_future completes through a std::promise), so the adapter has a small one, as a loop author
// would: asyncio's states, messages and done-callback rules, callbacks scheduled with call_soon.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "aiospec/conformance/adapter.hpp"
#include "asio_loop.hpp"

namespace aiospec::asio_adapter {

class AsioFuture final : public conformance::Future {
 public:
  explicit AsioFuture(std::shared_ptr<LoopLink> link) : link_(std::move(link)) {}

  void set_result(const conformance::Value& value) override;
  conformance::Value result() const override;
  bool done() const override { return state_ != State::pending; }
  void add_done_callback(conformance::Callback callback) override;
  void set_exception(const conformance::LoopError& error) override;
  bool cancel(const std::optional<std::string>& message) override;
  bool cancelled() const override { return state_ == State::cancelled; }
  std::optional<conformance::LoopError> exception() const override;

  // For run_until_complete: the loop it belongs to, and its own done callback removed again.
  bool belongs_to(const AsioLoop& loop) const;
  std::uint64_t add_callback(conformance::Callback callback);
  void remove_callback(std::uint64_t id);
  // The exception it finished with, without raising (nullopt: none, or not finished so).
  const std::optional<conformance::LoopError>& stored_exception() const { return exception_; }

 private:
  enum class State { pending, cancelled, finished };
  conformance::LoopError cancelled_error() const;
  void schedule_callbacks();
  AsioLoop& loop() const;  // RuntimeError('Event loop is closed') once the loop is gone

  std::shared_ptr<LoopLink> link_;
  State state_ = State::pending;
  conformance::Value result_;
  std::optional<conformance::LoopError> exception_;
  std::optional<std::string> cancel_message_;
  std::vector<std::pair<std::uint64_t, conformance::Callback>> callbacks_;
  std::uint64_t next_id_ = 1;
};

}  // namespace aiospec::asio_adapter
