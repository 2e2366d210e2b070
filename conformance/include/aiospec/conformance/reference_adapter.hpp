// The adapter for aiospec's own reference loop (reference/): the first implementation of
// adapter.hpp and the example to copy when plugging in another C++ loop.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "aiospec/conformance/adapter.hpp"
#include "aiospec/ref/base_events.hpp"
#include "aiospec/ref/profile.hpp"

namespace aiospec::conformance {

class ReferenceAdapter : public Adapter {
 public:
  // Builds the ref::EventLoop; the mutant loops (conformance/mutants) pass their own subclass.
  using LoopFactory =
      std::function<std::unique_ptr<ref::EventLoop>(std::unique_ptr<ref::Selector>, ref::Clock&, const ref::Profile&)>;

  // Loops imitating CPython `profile.version` (ref::Profile::for_version("3.13")): judge them
  // against that version's traces.
  ReferenceAdapter(std::string backend, ref::Profile profile, std::string name = {}, LoopFactory factory = {});
  // Loops imitating ref::kDefaultVersion (3.12). (No name/factory here: a string second argument
  // must never be mistaken for a version.)
  explicit ReferenceAdapter(std::string backend);

  std::string name() const override { return name_; }
  const ref::Profile& profile() const { return profile_; }
  std::set<std::string> features() const override;
  std::unique_ptr<Loop> new_loop(VirtualTime& time) override;
  Loop* running_loop() override;
  // Throws the reference loop's exception for `type`, tagged, so that is_raised can tell it.
  [[noreturn]] void raise_in_callback(const std::string& type, const std::optional<std::string>& message) override;
  // Whether `error` (an ExceptionContext's exception, a LogRecord's) is what raise_in_callback
  // threw: its native() is the tagged object. For a fault net that accepts only a scenario's
  // `raise` reaching a handler.
  static bool is_raised(const LoopError& error);

  // Bookkeeping for running_loop(): each wrapper registers the ref::EventLoop it owns.
  void enroll(const ref::EventLoop* native, Loop* wrapper) { wrappers_[native] = wrapper; }
  void withdraw(const ref::EventLoop* native) { wrappers_.erase(native); }

 private:
  std::string backend_;
  ref::Profile profile_;
  std::string name_;
  LoopFactory factory_;
  std::map<const ref::EventLoop*, Loop*> wrappers_;
};

}  // namespace aiospec::conformance
