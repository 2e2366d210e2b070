// The C++ interpreter's third part: exception handlers, the `asyncio` log and debug mode
// (spec/README.md, "Exception handlers and debug mode"). Every message a loop reports is
// normalised (reprs.hpp) before it is recorded, exactly as the oracle normalises CPython's.
#include <algorithm>
#include <string>
#include <utility>

#include "aiospec/conformance/reprs.hpp"
#include "detail/interpreter_impl.hpp"

namespace aiospec::conformance {

using namespace interpreter_detail;
using json = nlohmann::json;

namespace {

json describe_or_null(const std::optional<LoopError>& error) { return error ? describe(*error) : json(nullptr); }

// The selector a loop chose is a host detail, not a behaviour (spec/TRACE.md, `log`).
bool dropped(const LogRecord& record) {
  return record.level == "DEBUG" && record.message.rfind("Using selector: ", 0) == 0;
}

}  // namespace

// Every loop of a scenario that observes reports starts as CPython's does: the default handler,
// its log records traced with `log-trace`. In the other areas a loop that has handlers gets the
// fault net: only a scenario's `raise` in a callback may reach a handler there (the oracle's
// _exception_handler); anything else fails the run at its end (thrown from here it could meet a
// destructor's report).
void Interpreter::Impl::prepare(Loop& loop) {
  const bool handlers = scenario_.features.count("exception-handler") > 0;
  const bool logs = scenario_.features.count("log-trace") > 0;
  if (!handlers && !logs) {
    if (!adapter_.features().count("exception-handler")) return;
    loop.set_exception_handler([this](const ExceptionContext& context) {
      if (ended_) return;
      if (context.exception && raised_by_scenario(*context.exception)) return;
      std::lock_guard lock(events_mutex_);
      if (fault_.empty()) {
        fault_ = "exception handler called: " + context.message.value_or("(no message)") +
                 (context.exception ? ": " + context.exception->type() + " " + context.exception->args().dump() : "");
      }
    });
    return;
  }
  loop.set_exception_handler({});
  if (!logs) return;
  loop.set_log_sink([this](const LogRecord& r) {
    if (ended_ || dropped(r)) return;
    record({{"ev", "log"}, {"level", r.level}, {"message", normalise_reprs(r.message)},
            {"exception", describe_or_null(r.exception)}});
  });
}

bool Interpreter::Impl::reports_traced() const {
  return scenario_.features.count("exception-handler") > 0 || scenario_.features.count("log-trace") > 0;
}

// Was `error` thrown by a `raise` of this run (same type, same args)?
bool Interpreter::Impl::raised_by_scenario(const LoopError& error) {
  std::lock_guard lock(events_mutex_);
  return std::find(raised_.begin(), raised_.end(), std::make_pair(error.type(), error.args())) != raised_.end();
}

void Interpreter::Impl::op_set_exception_handler(const Op& op) {
  Loop& l = loop(op);
  const json& handler = op.args.at("handler");
  if (handler.is_null()) {
    l.set_exception_handler({});
    installed_.erase(&l);
    return;
  }
  const std::string policy = handler.is_string() ? handler.get<std::string>() : std::string();
  if (policy != "record" && policy != "raise") {
    fail("set_exception_handler: handler must be record, raise or null, not " + repr(handler));
  }
  if (policy == "record" && (op.args.contains("type") || op.args.contains("message"))) {
    fail("set_exception_handler: type and message go with handler: raise");
  }
  std::string type = op.args.contains("type") ? name(op, "type") : "RuntimeError";
  if (!raisable(type)) fail("set_exception_handler: unknown exception type '" + type + "'");
  const std::optional<std::string> message = op.args.value("message", std::string("handler failed"));
  l.set_exception_handler([this, policy, type, message](const ExceptionContext& context) {
    if (ended_) return;
    record({{"ev", "handler"},
            {"message", context.message ? json(normalise_reprs(*context.message)) : json(nullptr)},
            {"keys", context.keys},
            {"exception", describe_or_null(context.exception)}});
    if (policy == "raise") adapter_.raise_in_callback(type, message);
  });
  installed_[&l] = policy;
}

void Interpreter::Impl::op_get_exception_handler(const Op& op) {
  Loop& l = loop(op);
  const bool has = l.has_exception_handler();
  const auto it = installed_.find(&l);
  if (has != (it != installed_.end())) {
    throw Fault{"get_exception_handler: the loop says a handler is " + std::string(has ? "" : "not ") +
                "set, the scenario set " + (it != installed_.end() ? it->second : "none")};
  }
  record_value(op, has ? json(it->second) : json(nullptr));
}

// The context a scenario writes, in the order asyncio's callers build theirs.
ContextArgs Interpreter::Impl::context_args(const Op& op) {
  ContextArgs context;
  if (op.args.contains("message")) context.message = op.args.at("message").get<std::string>();
  if (op.args.contains("exception")) {
    const json& spec = op.args.at("exception");
    if (!spec.is_object() || !spec.contains("type")) fail(op.name + ": exception must be {type, message?}");
    const std::string type = spec.at("type").get<std::string>();
    if (!raisable(type)) fail(op.name + ": unknown exception type '" + type + "'");
    context.exception = scenario_exception(type, spec);
  }
  if (op.args.contains("future")) context.future = lookup(futures_, "future", op, name(op, "future"));
  if (op.args.contains("task")) context.task = task(op, "task");
  if (op.args.contains("handle")) context.handle = lookup(handles_, "handle", op, name(op, "handle"));
  if (op.args.contains("keys")) {
    const json& keys = op.args.at("keys");
    if (!keys.is_object()) fail(op.name + ": keys must be an object of strings");
    for (const auto& [key, value] : keys.items()) {
      if (!value.is_string()) fail(op.name + ": keys." + key + " must be a string");
      context.keys.emplace_back(key, value.get<std::string>());
    }
  }
  return context;
}

void Interpreter::Impl::op_call_exception_handler(const Op& op) { loop(op).call_exception_handler(context_args(op)); }

void Interpreter::Impl::op_default_exception_handler(const Op& op) {
  loop(op).default_exception_handler(context_args(op));
}

// The scenario forgets the future or task: whatever the loop reports because of it, it reports now.
void Interpreter::Impl::op_drop(const Op& op) {
  const bool is_task = op.args.contains("task");
  if (is_task == op.args.contains("future")) fail("drop: exactly one of future and task");
  const std::string dropped_name = name(op, is_task ? "task" : "future");
  std::shared_ptr<Future> held = lookup(futures_, is_task ? "task" : "future", op, dropped_name);
  if (is_task && !std::dynamic_pointer_cast<Task>(held)) fail("drop: '" + dropped_name + "' is not a task");
  futures_.erase(dropped_name);
  const auto* raw_task = dynamic_cast<const Task*>(held.get());
  tasks_.erase(std::remove_if(tasks_.begin(), tasks_.end(),
                              [&](const std::shared_ptr<Task>& t) { return t.get() == raw_task && raw_task; }),
               tasks_.end());
  held.reset();  // the last reference the scenario had: reports happen inside this call
  // gc.collect(), as the oracle does: every loop's (a loop only knows its own objects).
  for (const auto& name : loop_order_) {
    if (const auto it = loops_.find(name); it != loops_.end()) it->second->collect_garbage();
  }
  for (const auto& l : unnamed_loops_) l->collect_garbage();
}

void Interpreter::Impl::op_set_debug(const Op& op) {
  const json& enabled = op.args.at("enabled");
  if (!enabled.is_boolean()) fail("set_debug: enabled must be true or false, not " + repr(enabled));
  loop(op).set_debug(enabled.get<bool>());
}

void Interpreter::Impl::op_get_debug(const Op& op) { record_value(op, loop(op).get_debug()); }

void Interpreter::Impl::op_slow_callback_duration(const Op& op) {
  const double seconds = num(op, "seconds", false);
  loop(op).set_slow_callback_duration(seconds);
}

}  // namespace aiospec::conformance
