// Mutant loops: the reference loop with exactly one asyncio rule broken each. They exist to prove
// that the suite has teeth: every mutant must fail at least one named scenario, while the
// reference loop passes it. They are test-only subclasses overriding EventLoop::run_once(), or
// loops installing a task factory (loop.set_task_factory) whose tasks break one rule through the
// overridable parts of asyncio's Task (cancel, uncancel, the first step, the done callbacks, the
// coroutine they drive): never switches inside the reference loop.
#pragma once

#include <string>
#include <vector>

#include "aiospec/conformance/reference_adapter.hpp"

namespace aiospec::conformance::mutants {

struct Mutant {
  std::string name;                    // "timers-before-ready"
  std::string rule;                    // the asyncio rule it breaks, in one line
  std::vector<std::string> caught_by;  // scenario ids that must fail on it
  ReferenceAdapter::LoopFactory factory;
};

const std::vector<Mutant>& all();

// The mutant called `name`, or nullptr.
const Mutant* find(const std::string& name);
// " timers-before-ready fifo-ties ...": the known names, for messages.
std::string names();
// What a mutant loop on `backend` is called wherever it is judged: mutant/NAME/BACKEND.
std::string loop_name(const Mutant& mutant, const std::string& backend);
// The reference adapter running `mutant` on `backend` with the profile of a CPython version.
ReferenceAdapter adapter(const Mutant& mutant, const std::string& backend, const ref::Profile& profile);

}  // namespace aiospec::conformance::mutants
