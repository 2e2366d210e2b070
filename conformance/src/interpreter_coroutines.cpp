// The C++ interpreter's coroutine half (spec/README.md, "Coroutines and tasks"): scenario
// coroutines as chains of C++20 frames (detail/body.hpp) that the loop's tasks drive through
// conformance::Coroutine, the operations that await, try/except/finally, and the scopes
// (timeout, timeout_at, task_group). The first half, and what leaves an operation, is in
// interpreter.cpp.
#include <algorithm>
#include <exception>
#include <functional>
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

LoopError Interpreter::Impl::raised(const Op& op, const Chain& chain) {
  const std::string type = name(op, "type");
  if (!raisable(type)) fail("raise: unknown exception type '" + type + "'");
  LoopError error = scenario_exception(type, op.args);
  {
    std::lock_guard lock(events_mutex_);  // a report of it is no fault (prepare)
    raised_.emplace_back(error.type(), error.args());
  }
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
        if (thrown) {
          // Handed on by gen_throw: chained to this level's own handled exception (the one
          // thrown in was, at the Yield).
          if (!e.same_object(*thrown)) detail::chain_to_own_handled(e, chain);
        } else if (!e.context()) {
          // Raised by the loop's coroutine where it handled nothing: the thread's handled one.
          detail::chain_to_handled(e, chain);
        }
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
  return inline_coroutine(Block(op.owner, &spec.at("coroutine")));
}

// A coroutine awaited inline is a level of its own (detail::Chain::levels). An exception it ends
// with on the path of a throw reaches the awaiting level as Python's gen_throw hands it on:
// chained to that level's own handled exception (3.9+), whatever its context was.
Body<Value> Interpreter::Impl::inline_coroutine(Block body) {
  Chain& chain = *co_await detail::CurrentChain();
  const std::size_t level = chain.levels.size();
  chain.levels.push_back(chain.handling.size());
  const auto leave = [&chain, level] {
    chain.levels.pop_back();
    chain.thrown_through = std::min(chain.thrown_through, level);
  };
  Value value;
  try {
    value = co_await run_coroutine(std::move(body));
  } catch (LoopError& e) {
    const bool thrown_through = level < chain.thrown_through;
    leave();
    if (thrown_through) detail::chain_to_own_handled(e, chain);
    throw;
  } catch (...) {
    leave();
    throw;
  }
  leave();
  co_return value;
}

// asyncio's helpers find their loop as asyncio.get_running_loop() does.
Loop& Interpreter::Impl::running() {
  Loop* loop = adapter_.running_loop();
  if (!loop) throw LoopError("RuntimeError", "no running event loop");
  return *loop;
}

std::shared_ptr<Task> Interpreter::Impl::task(const Op& op, const char* key) {
  const std::string future = name(op, key);
  auto task = std::dynamic_pointer_cast<Task>(lookup(futures_, key, op, future));
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
  return it == task_names_.end() || it->second.first.expired() ? std::string() : it->second.second;
}

// loop.create_task(coro, name=as), or with `group` TaskGroup.create_task(coro, name=as).
void Interpreter::Impl::op_create_task(const Op& op) {
  if (op.args.contains("group") && op.args.contains("loop")) fail("create_task: 'group' and 'loop' exclude each other");
  std::shared_ptr<TaskGroup> group;
  if (op.args.contains("group")) group = lookup(groups_, "task group", op, name(op, "group"));
  Loop* l = group ? nullptr : &loop(op);
  std::optional<std::string> as;
  if (op.args.contains("as")) {
    as = name(op, "as");
    check_free(futures_, "future", op, *as);
  }
  // An eager task runs its first step inside create_task, before the call returns it: the name
  // it is being created under is what current_task records there.
  CoroutinePtr body = coroutine(block(op, "do"));
  creating_.push_back(as.value_or(""));
  struct Created {
    std::vector<std::string>& creating;
    ~Created() { creating.pop_back(); }
  } under_way{creating_};
  // A named task carries the scenario's name, which reports show (`<Task pending name='t'>`).
  auto created = group ? group->create_task(std::move(body), as) : l->create_task(std::move(body), as);
  if (!reports_traced()) tasks_.push_back(created);
  task_names_[created.get()] = {created, as.value_or("")};  // every task the scenario made
  if (as) futures_[*as] = created;
}

void Interpreter::Impl::op_current_task(const Op& op) {
  const auto current = running().current_task();
  if (!current) return record_value(op, nullptr);
  // Unknown and a create_task under way: the eager task being created (the innermost one).
  const auto entry = task_names_.find(current.get());
  const bool known = entry != task_names_.end() && !entry->second.first.expired();
  record_value(op, !known && !creating_.empty() ? creating_.back() : name_of(current.get()));
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
  Awaitable inner = awaitable(op, op.args.at("on"));
  // shield(arg) begins with ensure_future(arg). Where reports are not traced, the task it makes
  // of a coroutine is made here and kept, as create_task's are (the oracle's _cop_shield): a
  // failure only the cancelled outer future saw is then never reported to the fault net.
  if (inner.coroutine && !reports_traced()) {
    auto task = running().create_task(std::move(inner.coroutine), std::nullopt);
    tasks_.push_back(task);
    inner.future = std::move(task);
    inner.coroutine = nullptr;
  }
  auto outer = running().shield(std::move(inner));
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


// ---------------------------------------------------------------------------------------------
// asyncio.wait

Body<Value> Interpreter::Impl::waiting(const Op& op) {
  const json& of = op.args.at("of");
  if (!of.is_array()) fail("wait: of must be a list of future names, not " + repr(of));
  std::vector<std::string> names;
  std::vector<std::shared_ptr<Future>> futures;
  for (const auto& item : of) {
    if (!item.is_string()) fail("wait: of must be a list of future names, not " + repr(of));
    const std::string n = item.get<std::string>();
    if (std::find(names.begin(), names.end(), n) != names.end()) fail("wait: of names a future more than once");
    futures.push_back(lookup(futures_, "future", op, n));
    names.push_back(n);
  }
  ReturnWhen return_when = ReturnWhen::all_completed;
  if (op.args.contains("return_when")) {
    const json& v = op.args.at("return_when");
    if (v == "FIRST_COMPLETED") {
      return_when = ReturnWhen::first_completed;
    } else if (v == "FIRST_EXCEPTION") {
      return_when = ReturnWhen::first_exception;
    } else if (v != "ALL_COMPLETED") {
      fail("wait: return_when must be one of FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED");
    }
  }
  std::optional<double> timeout;
  if (op.args.contains("timeout") && !op.args.at("timeout").is_null()) timeout = num(op, "timeout");
  const Value indices = co_await yield_from(running().wait(std::move(futures), timeout, return_when));
  // {"done": [i...], "pending": [j...]} into names, in `of` order.
  Value out = {{"done", json::array()}, {"pending", json::array()}};
  for (const char* part : {"done", "pending"}) {
    std::vector<std::size_t> at;
    for (const auto& i : indices.at(part)) at.push_back(i.get<std::size_t>());
    std::sort(at.begin(), at.end());
    for (std::size_t i : at) {
      if (i >= names.size()) throw Fault{"wait: the loop returned an index out of range"};
      out[part].push_back(names[i]);
    }
  }
  co_return out;
}

Body<void> Interpreter::Impl::op_wait(const Op& op) { co_await outcome(event_of(op), waiting(op)); }

// ---------------------------------------------------------------------------------------------
// Scopes: `async with asyncio.timeout(...)`, `async with asyncio.TaskGroup()`
//
// The outcome event covers the whole statement: an exception from entering (the block does not
// run), from the block, or from the exit. A TaskGroup's exit is a coroutine of the loop's, and
// it runs with the block's exception as the one being handled, so what it raises is chained to
// it, as inside Python's `async with` (yield_from's rule); a Timeout's exit does not suspend and
// hands back its result already chained. `return` runs the exit with no exception; the suite's
// own stops pass the exit by.

namespace {
// What left a scope's block: nothing, a loop's exception, or a `return` on its way out.
struct Leaving {
  std::optional<LoopError> error;
  std::exception_ptr returning;
};
}  // namespace

Timeout& Interpreter::Impl::timeout(const Op& op) { return *lookup(timeouts_, "timeout", op, name(op, "timeout")); }

// `async with` of one scope: entering (if it raises, that is the outcome and the block does not
// run), binding `as`, the block, then the exit given what left the block; the outcome recorded.
Body<void> Interpreter::Impl::scope_statement(const Op& op, std::function<void()> enter,
                                              std::function<Body<std::optional<LoopError>>(std::optional<LoopError>)> exit) {
  Chain& chain = *co_await detail::CurrentChain();
  json event = event_of(op);
  std::optional<LoopError> out;
  Leaving leaving;
  try {
    enter();
  } catch (LoopError& e) {
    detail::chain_to_handled(e, chain);
    out = e;
  }
  if (!out) {
    try {
      co_await run_async_block(block(op, "do"));
    } catch (const LoopError& e) {
      leaving.error = e;
    } catch (const Return&) {
      leaving.returning = std::current_exception();
    }
    // The exit runs while the block's exception is the one being handled.
    if (leaving.error) chain.handling.push_back(std::make_shared<const LoopError>(*leaving.error));
    try {
      out = co_await exit(leaving.error);
    } catch (const LoopError& e) {
      out = e;
    }
    if (leaving.error) chain.handling.pop_back();
  }
  if (out) {
    event["raised"] = describe(*out);
  } else {
    event["value"] = nullptr;
  }
  record(std::move(event));
  if (out) throw *out;
  if (leaving.returning) std::rethrow_exception(leaving.returning);
}

// `as:` of a scope, bound once entering succeeded.
template <class Table>
void Interpreter::Impl::bind_scope(const Op& op, Table& table, const char* kind, typename Table::mapped_type scope) {
  if (!op.args.contains("as")) return;
  const std::string as = name(op, "as");
  check_free(table, kind, op, as);
  table[as] = std::move(scope);
}

// What Timeout.__aexit__ hands back comes chained as __aexit__ leaves it: nothing to add.
Body<std::optional<LoopError>> Interpreter::Impl::timeout_exit(std::shared_ptr<Timeout> scope,
                                                               std::optional<LoopError> leaving) {
  co_return scope->exit(std::move(leaving));
}

Body<void> Interpreter::Impl::timeout_scope(const Op& op, std::optional<double> when) {
  std::shared_ptr<Timeout> scope;
  co_await scope_statement(
      op,
      [&] {
        scope = running().timeout_at(when);
        scopes_.push_back(scope);
        scope->enter();
        bind_scope(op, timeouts_, "timeout", scope);
      },
      [&](std::optional<LoopError> leaving) { return timeout_exit(scope, std::move(leaving)); });
}

Body<void> Interpreter::Impl::op_timeout(const Op& op) {
  std::optional<double> when;
  if (!op.args.at("delay").is_null()) when = running().time() + num(op, "delay");
  co_await timeout_scope(op, when);
}

Body<void> Interpreter::Impl::op_timeout_at(const Op& op) {
  std::optional<double> when;
  if (!op.args.at("when").is_null()) when = num(op, "when");
  co_await timeout_scope(op, when);
}

void Interpreter::Impl::op_reschedule(const Op& op) {
  std::optional<double> when;
  if (!op.args.at("when").is_null()) when = num(op, "when");
  timeout(op).reschedule(when);
}

void Interpreter::Impl::op_expired(const Op& op) {
  record({{"ev", "expired"}, {"timeout", name(op, "timeout")}, {"value", timeout(op).expired()}});
}

void Interpreter::Impl::op_deadline(const Op& op) {
  const auto when = timeout(op).when();
  record({{"ev", "deadline"}, {"timeout", name(op, "timeout")}, {"value", when ? json(*when) : json(nullptr)}});
}

// TaskGroup.__aexit__ waits for the children: a coroutine of the loop's, so yield_from chains what
// it raises to the block's exception. When it returns None, what left the block goes on; when it
// returns True (3.15, after cancel()), `async with` suppresses it.
Body<std::optional<LoopError>> Interpreter::Impl::task_group_exit(std::shared_ptr<TaskGroup> group,
                                                                  std::optional<LoopError> leaving) {
  const Value returned = co_await yield_from(group->exit(leaving));
  if (returned == true) co_return std::nullopt;
  co_return leaving;
}

Body<void> Interpreter::Impl::op_task_group(const Op& op) {
  std::shared_ptr<TaskGroup> group;
  co_await scope_statement(
      op,
      [&] {
        group = running().task_group();
        scopes_.push_back(group);
        group->enter();
        bind_scope(op, groups_, "task group", group);
      },
      [&](std::optional<LoopError> leaving) { return task_group_exit(group, std::move(leaving)); });
}

// TaskGroup.cancel() (3.15+; the loop raises AttributeError before): returns None.
void Interpreter::Impl::op_cancel_task_group(const Op& op) {
  lookup(groups_, "task group", op, name(op, "group"))->cancel();
}

// ---------------------------------------------------------------------------------------------
// The task factory and asyncio.run

void Interpreter::Impl::op_set_task_factory(const Op& op) {
  const json& factory = op.args.at("factory");
  if (factory == "eager") {
    loop(op).set_task_factory(TaskFactory::eager);
  } else if (factory.is_null()) {
    loop(op).set_task_factory(TaskFactory::none);
  } else {
    fail("set_task_factory: factory must be 'eager' or null");
  }
}

// asyncio.run on a new loop, made as new_loop makes one and named by `as`: of a coroutine whose
// body is `do`, or of `value`, a plain value (no awaitable: asyncio.run refuses it).
Value Interpreter::Impl::run_main(const Op& op) {
  std::optional<std::string> as;
  if (op.args.contains("as")) {
    as = name(op, "as");
    check_free(loops_, "loop", op, *as);
  }
  const bool plain = op.args.contains("value");
  if (plain == op.args.contains("do")) fail("run: exactly one of 'do' and 'value' is needed");
  if (plain) {
    const json& value = op.args.at("value");
    if (!(value.is_null() || value.is_string() || value.is_number() || value.is_boolean())) {
      fail("run: value must be a string, number, boolean or null");
    }
  }
  std::unique_ptr<Loop> made = adapter_.new_loop(time_);
  Loop& l = *made;
  prepare(l);
  if (as) {
    loops_[*as] = std::move(made);
    loop_order_.push_back(*as);
  } else {
    unnamed_loops_.push_back(std::move(made));
  }
  if (plain) return l.run_not_awaitable(op.args.at("value"));
  return l.run(coroutine(block(op, "do")));
}

// Outside a coroutine the outcome is the event; the block goes on.
void Interpreter::Impl::op_run(const Op& op) {
  json event = event_of(op);
  try {
    event["value"] = run_main(op);
  } catch (const LoopError& e) {
    event["raised"] = describe(e);
  }
  record(std::move(event));
}

// Inside one a loop runs, so asyncio.run refuses; the outcome is recorded and the error goes on.
Body<void> Interpreter::Impl::op_run_async(const Op& op) {
  Chain& chain = *co_await detail::CurrentChain();
  json event = event_of(op);
  std::optional<LoopError> error;
  try {
    event["value"] = run_main(op);
  } catch (LoopError& e) {
    detail::chain_to_handled(e, chain);
    error = e;
  }
  if (error) event["raised"] = describe(*error);
  record(std::move(event));
  if (error) throw *error;
}

}  // namespace aiospec::conformance
