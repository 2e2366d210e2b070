// Runs one scenario's program against a loop adapter and records the trace: the C++ twin of the
// oracle's interpreter (oracle/aiospec_oracle/interpreter.py). Same operations, same events.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "aiospec/conformance/adapter.hpp"
#include "aiospec/conformance/scenario.hpp"
#include "aiospec/conformance/trace.hpp"
#include "aiospec/conformance/virtual_time.hpp"

namespace aiospec::conformance {

// The features `scenario` needs that `adapter` does not declare; empty when it can run.
std::vector<std::string> missing_features(const Adapter& adapter, const Scenario& scenario);

class Interpreter {
 public:
  Interpreter(Adapter& adapter, const Scenario& scenario);
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  // Runs the program once. A budget stop ends the trace with a budget_exceeded event.
  Trace run();

 private:
  // `in_callback`: the block is a callback's own body, where `raise` throws into the loop.
  void run_block(const nlohmann::json& block, bool in_callback = false);
  void run_op(const nlohmann::json& op, bool in_callback);
  void dispatch(const std::string& name, const nlohmann::json& args);
  void run_on_new_thread(const nlohmann::json& block);
  Callback make_callback(const nlohmann::json& block);
  void record(nlohmann::json event);
  void close_everything();

  Loop& loop_for(const nlohmann::json& args);
  std::string name_of(const Loop* loop) const;
  int fd_for(const nlohmann::json& args) const;

  Adapter& adapter_;
  const Scenario& scenario_;
  VirtualTime time_;
  std::mutex events_mutex_;
  std::vector<Event> events_;
  std::map<std::string, std::unique_ptr<Loop>> loops_;
  std::map<std::string, std::shared_ptr<Handle>> handles_;
  std::map<std::string, std::shared_ptr<Future>> futures_;
  std::map<std::string, int> fds_;
};

}  // namespace aiospec::conformance
