// The adapter for aiospec's own reference loop (reference/): the first implementation of
// adapter.hpp and the example to copy when plugging in another C++ loop.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "aiospec/conformance/adapter.hpp"
#include "aiospec/ref/base_events.hpp"
#include "aiospec/ref/format_helpers.hpp"
#include "aiospec/ref/tasks.hpp"
#include "aiospec/ref/profile.hpp"

// (In this header: every translation unit that makes a Future<Value> must see it.)
// repr() of a scenario value inside a future's repr (reprlib.repr(future._result)): None, True,
// 3, 0.5, 'text' (cut at 30 characters), a list of at most 6 items, a dict of at most 4.
namespace aiospec::ref {
namespace detail {
inline std::string value_repr(const nlohmann::json& v, int level = 0) {
  if (v.is_null()) return "None";
  if (v.is_boolean()) return v.get<bool>() ? "True" : "False";
  if (v.is_number_integer()) return v.dump();
  if (v.is_number()) return python_repr(v.get<double>());
  if (v.is_string()) return reprlib_repr(v.get<std::string>());
  const bool list = v.is_array();
  if (v.empty()) return list ? "[]" : "{}";
  if (level >= 6) return list ? "[...]" : "{...}";  // reprlib's maxlevel
  const std::size_t most = list ? 6 : 4;             // maxlist, maxdict
  std::string out = list ? "[" : "{";
  std::size_t n = 0;
  for (auto it = v.begin(); it != v.end() && n < most; ++it, ++n) {
    if (n) out += ", ";
    out += list ? value_repr(*it, level + 1) : reprlib_repr(it.key()) + ": " + value_repr(*it, level + 1);
  }
  if (v.size() > most) out += ", ...";
  return out + (list ? "]" : "}");
}
}  // namespace detail

template <>
struct PythonRepr<nlohmann::json> {
  static std::string repr(const nlohmann::json& value) { return detail::value_repr(value); }
};
template <>
struct PythonRepr<std::vector<Gathered<nlohmann::json>>> {
  static std::string repr(const std::vector<Gathered<nlohmann::json>>& results) {
    std::string out = "[";
    for (std::size_t i = 0; i < results.size() && i < 6; ++i) {
      if (i) out += ", ";
      const auto* e = std::get_if<std::exception_ptr>(&results[i]);
      out += e ? exception_repr(*e) : detail::value_repr(std::get<0>(results[i]), 1);
    }
    if (results.size() > 6) out += ", ...";
    return out + "]";
  }
};
}  // namespace aiospec::ref

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
  // Throws the reference loop's exception for `type`.
  [[noreturn]] void raise_in_callback(const std::string& type, const std::optional<std::string>& message) override;

  // From now on its loops read time.monotonic() (ref::MonotonicClock) and wait in the real
  // selector, as they do anywhere: for interposed time (interposed_time.hpp), where the
  // preloaded library answers both. The features lose select-trace.
  void use_own_clock() { own_clock_ = true; }
  bool own_clock() const { return own_clock_; }

  // Bookkeeping for running_loop(): each wrapper registers the ref::EventLoop it owns.
  void enroll(const ref::EventLoop* native, Loop* wrapper) { wrappers_[native] = wrapper; }
  void withdraw(const ref::EventLoop* native) { wrappers_.erase(native); }

 private:
  std::string backend_;
  ref::Profile profile_;
  std::string name_;
  LoopFactory factory_;
  bool own_clock_ = false;
  std::map<const ref::EventLoop*, Loop*> wrappers_;
};

}  // namespace aiospec::conformance
