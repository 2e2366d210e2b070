// A loop as its LoopDescription says (loop_description.hpp), run in one time mode: what the
// package's host and runner mains share. Interposed time wraps every adapter in an
// InterposedAdapter (interposed_time.hpp), made once per process; real time in a RealTimeAdapter
// (real_time.hpp).
#pragma once

#include <memory>
#include <string>

#include "aiospec/conformance/interposed_time.hpp"
#include "aiospec/conformance/loop_description.hpp"
#include "aiospec/conformance/real_time.hpp"
#include "aiospec/conformance/runner.hpp"
#include "aiospec/conformance/scenario.hpp"

namespace aiospec::conformance {

// A backend, time mode or description the loop does not have: one line, exit 2.
class DescriptionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class DescribedLoop {
 public:
  // `time` empty: $AIOSPEC_TIME when it is one of the loop's modes (the harness sets it for
  // cmd: hosts), else the loop's first mode. `scale` (real time only) 0: $AIOSPEC_SCALE, else
  // RealTimeAdapter::kDefaultScale. Throws DescriptionError.
  DescribedLoop(LoopDescription description, std::string backend, std::string time, double scale = 0);

  const LoopDescription& description() const { return description_; }
  const std::string& backend() const { return backend_; }
  const std::string& time() const { return time_; }
  // "libuv", or "libuv/epoll" for a loop with several backends: reports and expectation files.
  std::string name() const;
  std::set<std::string> features();
  // Interposed time: the start-up probe (throws InterposedTimeError with its one line).
  void probe();
  // Runs `scenario` once for CPython `version` (the adapter is made for it when versioned).
  Outcome run(const Scenario& scenario, const std::string& version);

 private:
  Adapter& adapter_for(const std::string& version);

  LoopDescription description_;
  std::string backend_, time_;
  std::string adapter_version_;  // what adapter_ was made for
  std::unique_ptr<Adapter> adapter_;
  OwnClockAdapter* own_clock_ = nullptr;  // adapter_, in interposed or real time
  double scale_ = 0;
};

}  // namespace aiospec::conformance
