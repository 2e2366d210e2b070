// The C++ interpreter's coroutine half (spec/README.md, "Coroutines and tasks"): scenario
// coroutines as chains of C++20 frames (detail/body.hpp) that the loop's tasks drive through
// conformance::Coroutine, the operations that await, try/except/finally, and the scopes
// (timeout, timeout_at, task_group). The first half, and what leaves an operation, is in
// interpreter.cpp.
#include <algorithm>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "detail/body.hpp"
#include "detail/interpreter_impl.hpp"
#include "detail/python_exceptions.hpp"

namespace aiospec::conformance {

using namespace interpreter_detail;
using detail::Body;
using detail::Chain;
using json = nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Coroutines and tasks

namespace {
// A scenario coroutine as the loop's task sees it.
class ScenarioCoroutine final : public Coroutine {
 public:
  ScenarioCoroutine(Body<Value> body, bool throw_chains) : root_(std::move(body), throw_chains) {}
  Step send() override { return root_.send(); }
  Step throw_in(const LoopError& error) override { return root_.throw_in(error); }

 private:
  detail::RootFrame root_;
};
}  // namespace

CoroutinePtr Interpreter::Impl::coroutine(Block body) {
  return std::make_unique<ScenarioCoroutine>(run_coroutine(std::move(body)), language_.throw_chains);
}

// The whole coroutine: its value is the `return`'s, None when the body ends without one.
Body<Value> Interpreter::Impl::run_coroutine(Block body) {
  std::optional<Value> returned;
  try {
    co_await run_async_block(std::move(body));
  } catch (const Return& r) {
    returned = r.value;
  }
  co_return returned ? std::move(*returned) : Value(nullptr);
}

Body<void> Interpreter::Impl::run_async_block(Block block) {
  Chain& chain = *co_await detail::CurrentChain();
  if (!block->is_array()) fail("a block must be a list of operations, not " + repr(*block));
  for (const auto& op_json : *block) {
    const Spec& spec = start(op_json);
    const Op op{op_json.begin().key(), op_json.begin().value(), block};
    if (spec.async_function) {
      co_await (this->*spec.async_function)(op);
    } else if (op.name == "raise") {
      throw raised(op, chain);  // the point of `raise`: it propagates through the coroutine
    } else {
      invoke(op, spec, &chain);
    }
  }
}

LoopError Interpreter::Impl::raised(const Op& op, const Chain& chain) const {
  const std::string type = name(op, "type");
  if (!raisable(type)) fail("raise: unknown exception type '" + type + "'");
  LoopError error = scenario_exception(type, op.args);
  detail::chain_to_handled(error, chain);
  return error;
}

// Future.__await__: yield the future unless it is done; once woken, its result (or exception),
// raised here, chained like anything raised inside a handler.
Body<Value> Interpreter::Impl::await_future(std::shared_ptr<Future> future) {
  Chain& chain = *co_await detail::CurrentChain();
  if (!future->done()) co_await detail::Yield(future);
  try {
    co_return future->result();
  } catch (LoopError& e) {
    detail::chain_to_handled(e, chain);
    throw;
  }
}

// `yield from` a coroutine of the loop's (sleep, wait_for): its yields go up to our task, what
// our task is sent or thrown goes down to it.
//
// An exception the loop's coroutine raised (not the one thrown into it) was raised inside a frame
// called from ours: if that frame did not chain it itself (no context), Python chained it to the
// exception our coroutine is handling.
Body<Value> Interpreter::Impl::yield_from(CoroutinePtr coroutine) {
  Chain& chain = *co_await detail::CurrentChain();
  Step step = coroutine->send();
  std::optional<LoopError> thrown;
  for (;;) {
    if (step.kind == Step::Kind::returned) co_return std::move(step.value);
    if (step.kind == Step::Kind::raised) {
      try {
        std::rethrow_exception(step.exception);
      } catch (LoopError& e) {
        if (!e.context() && !(thrown && e.same_object(*thrown))) detail::chain_to_handled(e, chain);
        throw;
      }
    }
    thrown.reset();
    try {
      co_await detail::Yield(std::move(step.future));
    } catch (const LoopError& e) {
      thrown = e;
    }
    step = thrown ? coroutine->throw_in(*thrown) : coroutine->send();
  }
}

// Every await records its outcome: the value, or the exception it raised (which then goes on).
Body<void> Interpreter::Impl::outcome(json event, Body<Value> awaited) {
  std::optional<LoopError> error;
  try {
    event["value"] = co_await std::move(awaited);
  } catch (const LoopError& e) {
    error = e;
  }
  if (error) event["raised"] = describe(*error);
  record(std::move(event));
  if (error) throw *error;
}

// The event an await-family operation records, before its outcome is added.
json Interpreter::Impl::event_of(const Op& op) {
  json event = json::object();
  event["ev"] = op.name;
  return event;
}

// AWAITABLE: the name of a future (or task), or {coroutine: BLOCK}.
Awaitable Interpreter::Impl::awaitable(const Op& op, const json& spec) {
  Awaitable a;
  if (spec.is_string()) {
    a.future = lookup(futures_, "future", op, spec.get<std::string>());
  } else if (spec.is_object() && spec.size() == 1 && spec.contains("coroutine")) {
    a.coroutine = coroutine(Block(op.owner, &spec.at("coroutine")));
  } else {
    fail(op.name + ": an awaitable is a future's name or {coroutine: BLOCK}, not " + repr(spec));
  }
  return a;
}

// What `await` awaits: a future, or a coroutine run inline (no task, no suspension of its own).
Body<Value> Interpreter::Impl::awaiting(const Op& op, const json& spec) {
  Awaitable a = awaitable(op, spec);
  if (a.future) return await_future(std::move(a.future));
  return run_coroutine(Block(op.owner, &spec.at("coroutine")));
}

// asyncio's helpers find their loop as asyncio.get_running_loop() does.
Loop& Interpreter::Impl::running() {
  Loop* loop = adapter_.running_loop();
  if (!loop) throw LoopError("RuntimeError", "no running event loop");
  return *loop;
}

std::shared_ptr<Task> Interpreter::Impl::task(const Op& op) {
  const std::string future = name(op, "future");
  auto task = std::dynamic_pointer_cast<Task>(lookup(futures_, "future", op, future));
  if (!task) fail(op.name + ": '" + future + "' is not a task");
  return task;
}

// `as:` of gather and shield: the future they return, named before it is awaited.
void Interpreter::Impl::bind_future(const Op& op, std::shared_ptr<Future> future) {
  if (!op.args.contains("as")) return;
  const std::string as = name(op, "as");
  check_free(futures_, "future", op, as);
  futures_[as] = std::move(future);
}

std::string Interpreter::Impl::name_of(const Task* task) const {
  const auto it = task_names_.find(task);
  return it == task_names_.end() ? std::string() : it->second;
}

void Interpreter::Impl::op_create_task(const Op& op) {
  Loop& l = loop(op);
  std::optional<std::string> as;
  if (op.args.contains("as")) {
    as = name(op, "as");
    check_free(futures_, "future", op, *as);
  }
  auto created = l.create_task(coroutine(block(op, "do")));
  tasks_.push_back(created);
  if (as) {
    futures_[*as] = created;
    task_names_[created.get()] = *as;
  }
}

void Interpreter::Impl::op_current_task(const Op& op) {
  const auto current = running().current_task();
  record_value(op, current ? json(name_of(current.get())) : json(nullptr));
}

void Interpreter::Impl::op_cancelling(const Op& op) { record_answer(op, task(op)->cancelling()); }

void Interpreter::Impl::op_uncancel(const Op& op) { record_answer(op, task(op)->uncancel()); }

Body<void> Interpreter::Impl::op_await(const Op& op) {
  const json& on = op.args.at("on");
  json event = event_of(op);
  if (on.is_string()) event["future"] = on;
  co_await outcome(std::move(event), awaiting(op, on));
}

Body<Value> Interpreter::Impl::sleeping(const Op& op) {
  const double delay = num(op, "delay");
  const Value result = op.args.contains("result") ? op.args.at("result") : Value(nullptr);
  co_return co_await yield_from(running().sleep(delay, result));
}

Body<void> Interpreter::Impl::op_sleep(const Op& op) { co_await outcome(event_of(op), sleeping(op)); }

Body<Value> Interpreter::Impl::gathering(const Op& op) {
  std::vector<Awaitable> children;
  for (const auto& child : op.args.at("of")) children.push_back(awaitable(op, child));
  const bool return_exceptions = op.args.value("return_exceptions", false);
  auto gathered = running().gather(std::move(children), return_exceptions);
  bind_future(op, gathered);
  co_return co_await await_future(std::move(gathered));
}

Body<void> Interpreter::Impl::op_gather(const Op& op) { co_await outcome(event_of(op), gathering(op)); }

Body<Value> Interpreter::Impl::shielding(const Op& op) {
  auto outer = running().shield(awaitable(op, op.args.at("on")));
  bind_future(op, outer);
  co_return co_await await_future(std::move(outer));
}

Body<void> Interpreter::Impl::op_shield(const Op& op) { co_await outcome(event_of(op), shielding(op)); }

Body<Value> Interpreter::Impl::waiting_for(const Op& op) {
  std::optional<double> timeout;
  if (!op.args.at("timeout").is_null()) timeout = num(op, "timeout");
  co_return co_await yield_from(running().wait_for(awaitable(op, op.args.at("on")), timeout));
}

Body<void> Interpreter::Impl::op_wait_for(const Op& op) { co_await outcome(event_of(op), waiting_for(op)); }

Body<void> Interpreter::Impl::op_return(const Op& op) {
  throw Return{op.args.at("value")};
  co_return;
}

Body<void> Interpreter::Impl::op_reraise(const Op&) {
  Chain& chain = *co_await detail::CurrentChain();
  if (chain.handling.empty()) fail("reraise: only inside an except block");
  throw *chain.handling.back();
}

// try / except / finally with Python's rules: the first handler whose classes match runs, with
// the exception being handled; `finally` runs however the rest ended (an exception it raises
// replaces the one on its way out). Return and the suite's own stops are never matched.
Body<void> Interpreter::Impl::op_try(const Op& op) {
  Chain& chain = *co_await detail::CurrentChain();
  std::exception_ptr pending;
  std::shared_ptr<const LoopError> error;  // pending, when it is a loop's exception
  try {
    co_await run_async_block(block(op, "do"));
  } catch (const LoopError& e) {
    pending = std::current_exception();
    error = std::make_shared<const LoopError>(e);
  } catch (...) {
    pending = std::current_exception();
  }
  if (error && op.args.contains("except")) {
    const json& handlers = op.args.at("except");
    if (!handlers.is_array()) fail("try: except must be a list of handlers");
    for (const auto& handler : handlers) {
      if (!handler.is_object() || !handler.contains("match") || !handler.contains("do")) {
        fail("try: a handler is {match: [TYPE, ...], do: BLOCK}, not " + repr(handler));
      }
      const json& match = handler.at("match");
      const bool matches = std::any_of(match.begin(), match.end(), [&](const json& type) {
        return type.is_string() && detail::is_subclass(error->type(), type.get<std::string>());
      });
      if (!matches) continue;
      pending = nullptr;
      chain.handling.push_back(error);
      try {
        co_await run_async_block(Block(op.owner, &handler.at("do")));
      } catch (...) {
        pending = std::current_exception();
      }
      chain.handling.pop_back();
      break;
    }
  }
  if (op.args.contains("finally")) {
    // While finally runs for an exception, that exception is the one being handled.
    std::shared_ptr<const LoopError> unwinding;
    if (pending) {
      try {
        std::rethrow_exception(pending);
      } catch (const LoopError& e) {
        unwinding = std::make_shared<const LoopError>(e);
      } catch (...) {
      }
    }
    if (unwinding) chain.handling.push_back(unwinding);
    std::exception_ptr replaced;
    try {
      co_await run_async_block(block(op, "finally"));
    } catch (...) {
      replaced = std::current_exception();
    }
    if (unwinding) chain.handling.pop_back();
    if (replaced) pending = replaced;
  }
  if (pending) std::rethrow_exception(pending);
}


}  // namespace aiospec::conformance
