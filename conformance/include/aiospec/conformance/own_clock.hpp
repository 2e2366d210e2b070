// The adapter of a loop that keeps its own clock, wrapped for one time mode: interposed time
// (interposed_time.hpp) or real time (real_time.hpp). What does not concern time is the loop's
// adapter's; every run is bracketed by begin_scenario() and end_scenario().
#pragma once

#include <memory>
#include <string>

#include "aiospec/conformance/adapter.hpp"

namespace aiospec::conformance {

class OwnClockAdapter : public Adapter {
 public:
  explicit OwnClockAdapter(std::unique_ptr<Adapter> inner) : inner_(std::move(inner)) {}

  std::string name() const override { return inner_->name(); }
  [[noreturn]] void raise_in_callback(const std::string& type, const std::optional<std::string>& message) override {
    inner_->raise_in_callback(type, message);
    throw Fault{inner_->name() + ": raise_in_callback returned"};
  }

  // The start-up check of the mode: throws with the one line to print. None by default.
  virtual void probe() {}
  virtual void begin_scenario() = 0;
  virtual void end_scenario() = 0;

 protected:
  Adapter& inner() const { return *inner_; }

 private:
  std::unique_ptr<Adapter> inner_;
};

}  // namespace aiospec::conformance
