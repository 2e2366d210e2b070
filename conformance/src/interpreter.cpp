// The C++ interpreter: one member function per operation (op_<name>, like the oracle's _op_<name>),
// found through one table that also lists each operation's arguments. Grouped as spec/README.md
// groups the operations.
//
// Blocks are never copied per callback: a callback holds a Block, a shared pointer to its list of
// operations. A block of the bundle's program is only referenced (the Scenario outlives the run);
// a block inside a copy that `repeat` made shares the ownership of that copy.
//
// Coroutines (spec/README.md, "Coroutines and tasks") live in interpreter_coroutines.cpp: a
// coroutine body runs as a chain of C++20 frames (detail/body.hpp) that the loop's task drives
// through conformance::Coroutine. The operations that await are coroutines themselves (op_await,
// ...); the others run as anywhere, except that an exception they raise propagates through the
// coroutine instead of the block going on. `return` is a Return, which no `except` matches.
// The class both halves share is in detail/interpreter_impl.hpp.
//
// What leaves an operation:
//   LoopError       the loop raised: an `error` event; the block goes on
//   Blocked         the loop would block forever: a `blocked` event; the block goes on
//   Abort           a budget is exhausted: the trace ends with budget_exceeded
//   ScenarioAbort   the scenario is malformed (D3/D4): run() throws InvalidScenario
//   Fault           the harness failed (D6): run() throws InterpreterFault
// The last three are not std::exceptions, so they pass through the loop under test.
#include "aiospec/conformance/interpreter.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <exception>
#include <limits>
#include <map>
#include <set>
#include <mutex>
#include <thread>
#include <utility>

#include "aiospec/conformance/virtual_time.hpp"
#include "detail/body.hpp"
#include "detail/interpreter_impl.hpp"
#include "detail/python_exceptions.hpp"

namespace aiospec::conformance {

using namespace interpreter_detail;
using detail::Body;
using detail::Chain;
using json = nlohmann::json;


namespace {

// The loader's limits (oracle: ops.MAX_RECV_SIZE, ops.MAX_REPEAT_TIMES), checked again at run time.
constexpr std::int64_t kDefaultRecvSize = 4096;
constexpr std::int64_t kMaxRecvSize = 65536;
constexpr std::uint64_t kMaxRepeatTimes = 100000;

// repeat: every "{var}" in every string of the body becomes the index, before that copy runs.
json substitute(const json& v, const std::string& placeholder, const std::string& index) {
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    for (std::size_t at = s.find(placeholder); at != std::string::npos; at = s.find(placeholder, at + index.size())) {
      s.replace(at, placeholder.size(), index);
    }
    return s;
  }
  if (v.is_array()) {
    json out = json::array();
    out.get_ref<json::array_t&>().reserve(v.size());
    for (const auto& item : v) out.push_back(substitute(item, placeholder, index));
    return out;
  }
  if (v.is_object()) {
    json out = json::object();
    for (auto it = v.begin(); it != v.end(); ++it) out.emplace(it.key(), substitute(it.value(), placeholder, index));
    return out;
  }
  return v;
}

// Calls f(block) for every block an operation's arguments hold: `do`, `finally`, each
// `except[].do`, and the `coroutine` of an awaitable (`on`, each of `of`).
template <class F>
void for_each_block(const json& args, F&& f) {
  if (!args.is_object()) return;
  for (const char* key : {"do", "finally"}) {
    if (args.contains(key)) f(args.at(key));
  }
  const auto coroutine_of = [&](const json& awaitable) {
    if (awaitable.is_object() && awaitable.contains("coroutine")) f(awaitable.at("coroutine"));
  };
  if (args.contains("except") && args.at("except").is_array()) {
    for (const auto& handler : args.at("except")) {
      if (handler.is_object() && handler.contains("do")) f(handler.at("do"));
    }
  }
  if (args.contains("on")) coroutine_of(args.at("on"));
  if (args.contains("of") && args.at("of").is_array()) {
    for (const auto& awaitable : args.at("of")) coroutine_of(awaitable);
  }
}

// The operations a block holds, nested blocks included: what a repeat's copy costs.
std::int64_t count_operations(const json& block) {
  std::int64_t n = 0;
  if (!block.is_array()) return n;
  for (const auto& op : block) {
    ++n;
    if (!op.is_object() || op.size() != 1) continue;
    for_each_block(op.begin().value(), [&](const json& inner) { n += count_operations(inner); });
  }
  return n;
}

// recv's bytes as the oracle decodes them: ASCII, anything else as \xNN (backslashreplace).
std::string decode_ascii(const char* data, std::size_t n) {
  std::string out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(data[i]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      out += escaped;
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> missing_features(const Adapter& adapter, const Scenario& scenario) {
  return missing_features(adapter.features(), scenario);
}

std::vector<std::string> missing_features(const std::set<std::string>& have, const Scenario& scenario) {
  std::vector<std::string> missing;
  for (const auto& f : scenario.features) {
    if (!have.count(f)) missing.push_back(f);
  }
  return missing;
}


// The operation table: arguments (required, optional) and the function, in spec/README.md order.
const std::map<std::string, Interpreter::Impl::Spec>& Interpreter::Impl::operations() {
  static const std::map<std::string, Spec> table = {
      // recording and the world
      {"record", {{"label"}, {}, &Impl::op_record}},
      {"raise", {{"type"}, {"message"}, &Impl::op_raise}},
      {"burn", {{"seconds"}, {}, &Impl::op_burn}},
      {"repeat", {{"times", "do"}, {"var"}, &Impl::op_repeat, &Impl::op_repeat_async}},
      {"in_thread", {{"do"}, {}, &Impl::op_in_thread}},
      {"external", {{"at", "do"}, {}, &Impl::op_external}},
      // scheduling callbacks
      {"call_soon", {{}, {"do", "object", "as", "loop"}, &Impl::op_call_soon}},
      {"call_soon_threadsafe", {{"do"}, {"as", "loop"}, &Impl::op_call_soon_threadsafe}},
      {"call_later", {{"delay", "do"}, {"as", "loop"}, &Impl::op_call_later}},
      {"call_at", {{"when", "do"}, {"as", "loop"}, &Impl::op_call_at}},
      {"cancel", {{"handle"}, {}, &Impl::op_cancel}},
      {"when", {{"handle"}, {}, &Impl::op_when}},
      // running and stopping
      {"run_forever", {{}, {"loop"}, &Impl::op_run_forever}},
      {"run_until_complete", {{"future"}, {"loop"}, &Impl::op_run_until_complete}},
      {"stop", {{}, {"loop"}, &Impl::op_stop}},
      {"close", {{}, {"loop"}, &Impl::op_close}},
      {"is_running", {{}, {"loop"}, &Impl::op_is_running}},
      {"is_closed", {{}, {"loop"}, &Impl::op_is_closed}},
      {"time", {{}, {"loop"}, &Impl::op_time}},
      {"new_loop", {{"name"}, {}, &Impl::op_new_loop}},
      {"get_running_loop", {{}, {}, &Impl::op_get_running_loop}},
      // futures
      {"new_future", {{"name"}, {"loop"}, &Impl::op_new_future}},
      {"set_result", {{"future", "value"}, {}, &Impl::op_set_result}},
      {"add_done_callback", {{"future", "do"}, {}, &Impl::op_add_done_callback}},
      {"done", {{"future"}, {}, &Impl::op_done}},
      {"result", {{"future"}, {}, &Impl::op_result}},
      {"set_exception", {{"future", "type"}, {"message"}, &Impl::op_set_exception}},
      {"cancel_future", {{"future"}, {"message"}, &Impl::op_cancel_future}},
      {"cancelled", {{"future"}, {}, &Impl::op_cancelled}},
      {"exception", {{"future"}, {}, &Impl::op_exception}},
      // coroutines and tasks; those without a function only inside a coroutine body
      {"create_task", {{"do"}, {"as", "loop", "group"}, &Impl::op_create_task}},
      {"current_task", {{}, {}, &Impl::op_current_task}},
      {"cancelling", {{"future"}, {}, &Impl::op_cancelling}},
      {"uncancel", {{"future"}, {}, &Impl::op_uncancel}},
      {"await", {{"on"}, {}, nullptr, &Impl::op_await}},
      {"sleep", {{"delay"}, {"result"}, nullptr, &Impl::op_sleep}},
      {"gather", {{"of"}, {"return_exceptions", "as"}, nullptr, &Impl::op_gather}},
      {"shield", {{"on"}, {"as"}, nullptr, &Impl::op_shield}},
      {"wait_for", {{"on", "timeout"}, {}, nullptr, &Impl::op_wait_for}},
      {"return", {{"value"}, {}, nullptr, &Impl::op_return}},
      {"try", {{"do"}, {"except", "finally"}, nullptr, &Impl::op_try}},
      {"reraise", {{}, {}, nullptr, &Impl::op_reraise}},
      {"wait", {{"of"}, {"return_when", "timeout"}, nullptr, &Impl::op_wait}},
      {"timeout", {{"delay", "do"}, {"as"}, nullptr, &Impl::op_timeout}},
      {"timeout_at", {{"when", "do"}, {"as"}, nullptr, &Impl::op_timeout_at}},
      {"reschedule", {{"timeout", "when"}, {}, &Impl::op_reschedule}},
      {"expired", {{"timeout"}, {}, &Impl::op_expired}},
      {"deadline", {{"timeout"}, {}, &Impl::op_deadline}},
      {"task_group", {{"do"}, {"as"}, nullptr, &Impl::op_task_group}},
      {"cancel_task_group", {{"group"}, {}, &Impl::op_cancel_task_group}},
      {"set_task_factory", {{"factory"}, {"loop"}, &Impl::op_set_task_factory}},
      {"run", {{}, {"do", "value", "as"}, &Impl::op_run, &Impl::op_run_async}},
      // I/O on socket pairs
      {"socketpair", {{"names"}, {}, &Impl::op_socketpair}},
      {"add_reader", {{"fd", "do"}, {"loop"}, &Impl::op_add_reader}},
      {"add_writer", {{"fd", "do"}, {"loop"}, &Impl::op_add_writer}},
      {"remove_reader", {{"fd"}, {"loop"}, &Impl::op_remove_reader}},
      {"remove_writer", {{"fd"}, {"loop"}, &Impl::op_remove_writer}},
      {"send", {{"fd", "data"}, {}, &Impl::op_send}},
      {"recv", {{"fd"}, {"size"}, &Impl::op_recv}},
      {"close_fd", {{"fd"}, {}, &Impl::op_close_fd}},
      // exception handlers, the asyncio log, debug mode
      {"set_exception_handler", {{"handler"}, {"type", "message", "var", "loop"}, &Impl::op_set_exception_handler}},
      {"get_exception_handler", {{}, {"loop"}, &Impl::op_get_exception_handler}},
      {"call_exception_handler",
       {{}, {"message", "exception", "future", "task", "handle", "keys", "loop"}, &Impl::op_call_exception_handler}},
      {"default_exception_handler",
       {{}, {"message", "exception", "future", "task", "handle", "keys", "loop"}, &Impl::op_default_exception_handler}},
      {"drop", {{}, {"future", "task"}, &Impl::op_drop}},
      {"set_debug", {{"enabled"}, {"loop"}, &Impl::op_set_debug}},
      {"get_debug", {{}, {"loop"}, &Impl::op_get_debug}},
      {"slow_callback_duration", {{"seconds"}, {"loop"}, &Impl::op_slow_callback_duration}},
      // Python only: their features make the scenario UNSUPPORTED before it runs
      {"contextvar_set", {{"var", "value"}, {}, &Impl::op_python_only}},
      {"contextvar_get", {{"var"}, {}, &Impl::op_python_only}},
      {"set_event_loop", {{"loop"}, {}, &Impl::op_python_only}},
      {"get_event_loop", {{}, {}, &Impl::op_python_only}},
      {"set_event_loop_policy", {{"policy"}, {}, &Impl::op_python_only}},
      {"get_event_loop_policy", {{}, {}, &Impl::op_python_only}},
      {"coroutine_origin_depth", {{}, {}, &Impl::op_python_only}},
  };
  return table;
}

// ---------------------------------------------------------------------------------------------
// The run

Trace Interpreter::Impl::run() {
  try {
    loops_["main"] = adapter_.new_loop(time_);
  } catch (const Unavailable& u) {
    throw LoopUnavailable(u.reason);
  }
  loop_order_.push_back("main");
  prepare(*loops_["main"]);
  try {
    run_block(scenario_.program, Block());
  } catch (const Abort& abort) {
    // Never counted against the events budget.
    std::lock_guard lock(events_mutex_);
    events_.push_back({{"ev", "budget_exceeded"}, {"limit", abort.limit}, {"t", time_.now()}});
  } catch (const ScenarioAbort& error) {
    close_everything();
    throw InvalidScenario(error.message);
  } catch (const Fault& fault) {
    close_everything();
    throw InterpreterFault(fault.message);
  } catch (const Blocked&) {
    close_everything();
    throw InterpreterFault("a wait that could never end escaped the loop that made it");
  } catch (const Unsupported& u) {
    close_everything();
    throw AdapterUnsupported(u.feature, u.method);
  } catch (const Unavailable& u) {  // a second loop the machine refused
    close_everything();
    throw LoopUnavailable(u.reason);
  }
  close_everything();
  if (!fault_.empty()) throw InterpreterFault(fault_);
  return Trace{scenario_.id, adapter_.name(), events_};
}

void Interpreter::Impl::record(json event) {
  std::lock_guard lock(events_mutex_);
  time_.count_event();
  event["t"] = time_.now();
  events_.push_back(std::move(event));
}

void Interpreter::Impl::run_block(const json& block, const Block& owner, Where where) {
  if (!block.is_array()) fail("a block must be a list of operations, not " + repr(block));
  for (const auto& op : block) run_op(op, owner, where);
}

// Outside a coroutine. In a callback's own body `raise` throws into the loop.
void Interpreter::Impl::run_op(const json& op_json, const Block& owner, Where where) {
  const Spec& spec = start(op_json);
  const Op op{op_json.begin().key(), op_json.begin().value(), owner};
  if (!spec.function) fail(op.name + ": only inside a coroutine");
  if (op.name == "raise" && where == Where::callback) raise_in_callback(op);
  invoke(op, spec, nullptr);
}

const Interpreter::Impl::Spec& Interpreter::Impl::start(const json& op) {
  time_.count_operations(1);  // every operation counts as it starts
  return parse(op);
}

// Runs a synchronous operation. What the loop raised is recorded as an `error` event; then,
// outside a coroutine (no chain), the block goes on; inside one the exception propagates, chained
// to the exception being handled as Python chains whatever is raised inside a handler.
void Interpreter::Impl::invoke(const Op& op, const Spec& spec, Chain* chain) {
  try {
    (this->*spec.function)(op);
  } catch (LoopError& e) {
    record({{"ev", "error"}, {"op", op.name}, {"type", e.type()}, {"message", e.what()}});
    if (!chain) return;
    detail::chain_to_handled(e, *chain);
    throw;
  } catch (const Blocked&) {
    record({{"ev", "blocked"}, {"op", op.name}});
  } catch (const json::exception& e) {
    fail(op.name + ": malformed arguments (" + e.what() + ")");
  } catch (const std::exception& e) {
    // Not the loop's error: the interpreter or the adapter failed (D6). Never swallowed.
    throw Fault{op.name + ": " + e.what()};
  }
}

// oracle: Interpreter._parse, same checks, same messages.
const Interpreter::Impl::Spec& Interpreter::Impl::parse(const json& op) const {
  if (!op.is_object() || op.size() != 1) fail("an operation must be a one-key object, not " + repr(op));
  const std::string& name = op.begin().key();
  const json& args = op.begin().value();
  const auto it = operations().find(name);
  if (it == operations().end()) fail("unknown operation '" + name + "'");
  if (!args.is_object()) fail(name + ": arguments must be an object, not " + repr(args));
  const Spec& spec = it->second;
  std::string missing, unknown;
  for (const auto& key : spec.required) {
    if (!args.contains(key)) missing += (missing.empty() ? "" : ", ") + key;
  }
  if (!missing.empty()) fail(name + ": missing argument(s) " + missing);
  for (const auto& [key, value] : args.items()) {  // sorted: json objects are
    const auto known = [&](const std::vector<std::string>& keys) {
      return std::find(keys.begin(), keys.end(), key) != keys.end();
    };
    if (!known(spec.required) && !known(spec.optional)) unknown += (unknown.empty() ? "" : ", ") + key;
  }
  if (!unknown.empty()) fail(name + ": unknown argument(s) " + unknown);
  return spec;
}

Block Interpreter::Impl::block(const Op& op, const char* key) const {
  const json& b = op.args.at(key);
  if (!b.is_array()) fail("a block must be a list of operations, not " + repr(b));
  return Block(op.owner, &b);  // shares the owner's ownership; copies nothing
}

Callback Interpreter::Impl::callback(Block block, std::string callback_name) {
  return Callback(
      [this, block = std::move(block)] {
        time_.count_callback();
        run_block(*block, block, Where::callback);
      },
      std::move(callback_name));
}

Callback Interpreter::Impl::named_callback(const Op& op) {
  return callback(block(op, "do"), op.args.contains("as") ? name(op, "as") : "callback");
}

// `in_thread` and `external`: the block runs on a new thread while this one waits. Whatever
// leaves it (Abort, a scenario error, a fault) is thrown again here.
void Interpreter::Impl::run_on_new_thread(Block block) {
  std::exception_ptr failure;
  std::thread thread([&] {
    try {
      run_block(*block, block);
    } catch (...) {
      failure = std::current_exception();
    }
  });
  thread.join();
  if (failure) std::rethrow_exception(failure);
}

void Interpreter::Impl::close_everything() {
  // What the loops report from here on (closing, releasing what the run left) is not judged.
  ended_ = true;
  const auto close = [](Loop& loop) {
    try {
      if (!loop.is_running()) loop.close();
    } catch (const LoopError&) {
      // Closing at the end is housekeeping, not part of the behaviour under test.
    }
  };
  for (auto& [name, loop] : loops_) close(*loop);
  for (auto& loop : unnamed_loops_) close(*loop);
  // Tasks and futures go while their loops still exist (closed: nothing queued keeps them).
  handles_.clear();
  timeouts_.clear();
  groups_.clear();
  scopes_.clear();
  futures_.clear();
  task_names_.clear();
  tasks_.clear();
  loops_.clear();
  unnamed_loops_.clear();
  for (auto& [name, socket] : sockets_) {
    if (!socket.closed) ::close(socket.fd);
  }
  sockets_.clear();
  watches_.clear();
}

// ---------------------------------------------------------------------------------------------
// Arguments and names

std::string Interpreter::Impl::name(const Op& op, const char* key) {
  const json& value = op.args.at(key);
  if (!value.is_string()) fail(op.name + ": " + key + " must be a name, not " + repr(value));
  return value.get<std::string>();
}

// NUM: a JSON number or "inf", "-inf", "nan" (oracle: _num).
double Interpreter::Impl::num(const Op& op, const char* key, bool allow_nan) {
  const json& v = op.args.at(key);
  double result;
  if (v.is_number()) {
    result = v.get<double>();
  } else if (v == "inf") {
    result = std::numeric_limits<double>::infinity();
  } else if (v == "-inf") {
    result = -std::numeric_limits<double>::infinity();
  } else if (v == "nan") {
    result = std::numeric_limits<double>::quiet_NaN();
  } else {
    fail(op.name + ": " + key + " must be a number, \"inf\", \"-inf\" or \"nan\", not " + repr(v));
  }
  if (!allow_nan && std::isnan(result)) fail(op.name + ": " + key + " must not be NaN");
  return result;
}

std::string Interpreter::Impl::loop_name(const Op& op) const {
  return op.args.contains("loop") ? name(op, "loop") : "main";
}

Loop& Interpreter::Impl::loop(const Op& op) { return *lookup(loops_, "loop", op, loop_name(op)); }

std::string Interpreter::Impl::name_of(const Loop* loop) const {
  for (const auto& [name, l] : loops_) {
    if (l.get() == loop) return name;
  }
  return {};
}

Interpreter::Impl::Socket& Interpreter::Impl::socket(const Op& op) {
  return lookup(sockets_, "socket", op, name(op, "fd"));
}

// D4: the fd operations of a loop never see a closed socket's number (it may name another file).
Interpreter::Impl::Socket& Interpreter::Impl::open_socket(const Op& op) {
  Socket& s = socket(op);
  if (s.closed) fail(op.name + ": socket '" + name(op, "fd") + "' is closed");
  return s;
}

void Interpreter::Impl::bind(const Op& op, std::shared_ptr<Handle> handle) {
  if (op.args.contains("as")) handles_[name(op, "as")] = std::move(handle);
}

void Interpreter::Impl::record_value(const Op& op, json value) {
  record({{"ev", op.name}, {"value", std::move(value)}});
}

// ---------------------------------------------------------------------------------------------
// Recording and the world

void Interpreter::Impl::op_record(const Op& op) { record({{"ev", "record"}, {"label", op.args.at("label")}}); }

namespace interpreter_detail {
bool raisable(const std::string& type) {
  static const std::set<std::string> names = {"Exception",    "ValueError",     "RuntimeError",
                                              "KeyboardInterrupt", "SystemExit", "CancelledError",
                                              "TimeoutError", "TypeError"};
  return names.count(type) > 0;
}
}  // namespace interpreter_detail

// Outside a callback's own block: the exception is the operation's, an `error` event.
void Interpreter::Impl::op_raise(const Op& op) {
  const std::string type = name(op, "type");
  if (!raisable(type)) fail("raise: unknown exception type '" + type + "'");
  throw LoopError(type, op.args.value("message", ""));
}

// Directly in a callback's block: the exception leaves the callback and meets the loop.
void Interpreter::Impl::raise_in_callback(const Op& op) {
  const std::string type = name(op, "type");
  if (!raisable(type)) fail("raise: unknown exception type '" + type + "'");
  std::optional<std::string> message;
  if (op.args.contains("message")) message = op.args.at("message").get<std::string>();
  {
    std::lock_guard lock(events_mutex_);
    raised_.emplace_back(type, message ? json::array({*message}) : json::array());
  }
  adapter_.raise_in_callback(type, message);
  throw Fault{"raise: the adapter's raise_in_callback returned"};
}

void Interpreter::Impl::op_burn(const Op& op) {
  const double seconds = num(op, "seconds", false);
  if (seconds < 0) fail("burn: seconds must not be negative");
  time_.burn(seconds);
}

// Counts (D1): the repeat itself as it starts (run_op); then for each index the operations of its
// copy of the body, before the copy is made and run.
Interpreter::Impl::Repeat Interpreter::Impl::repeat_of(const Op& op) const {
  const json& times = op.args.at("times");
  if (!times.is_number_integer() || (!times.is_number_unsigned() && times.get<std::int64_t>() < 0)) {
    fail("repeat: times must be an integer >= 0, not " + repr(times));
  }
  if (times.get<std::uint64_t>() > kMaxRepeatTimes) {
    fail("repeat: times must be at most " + std::to_string(kMaxRepeatTimes) + ", not " + repr(times));
  }
  Repeat r;
  r.placeholder = "{" + (op.args.contains("var") ? name(op, "var") : std::string("i")) + "}";
  r.body = block(op, "do").get();
  r.per_copy = count_operations(*r.body);
  // Copies of an empty body cost nothing and do nothing: skip them rather than loop. Same trace,
  // but nested repeats of empty bodies (1e5 x 1e5 iterations, no operation to count) end at once.
  r.times = r.per_copy == 0 ? 0 : times.get<std::uint64_t>();
  return r;
}

Block Interpreter::Impl::copy_of(const Repeat& r, std::uint64_t index) {
  time_.count_operations(r.per_copy);
  return std::make_shared<const json>(substitute(*r.body, r.placeholder, std::to_string(index)));
}

void Interpreter::Impl::op_repeat(const Op& op) {
  const Repeat r = repeat_of(op);
  for (std::uint64_t i = 0; i < r.times; ++i) {
    const Block copy = copy_of(r, i);
    run_block(*copy, copy);
  }
}

// Inside a coroutine the copies are coroutine code: they may await.
Body<void> Interpreter::Impl::op_repeat_async(const Op& op) {
  const Repeat r = repeat_of(op);
  for (std::uint64_t i = 0; i < r.times; ++i) co_await run_async_block(copy_of(r, i));
}

void Interpreter::Impl::op_in_thread(const Op& op) { run_on_new_thread(block(op, "do")); }

void Interpreter::Impl::op_external(const Op& op) {
  const double at = num(op, "at", false);
  time_.add_external(at, [this, b = block(op, "do")] { run_on_new_thread(b); });
}

// ---------------------------------------------------------------------------------------------
// Scheduling callbacks

void Interpreter::Impl::op_call_soon(const Op& op) {
  Loop& l = loop(op);
  bind(op, l.call_soon(named_callback(op)));
}

void Interpreter::Impl::op_call_soon_threadsafe(const Op& op) {
  Loop& l = loop(op);
  bind(op, l.call_soon_threadsafe(named_callback(op)));
}

void Interpreter::Impl::op_call_later(const Op& op) {
  Loop& l = loop(op);
  const double delay = num(op, "delay");
  bind(op, l.call_later(delay, named_callback(op)));
}

void Interpreter::Impl::op_call_at(const Op& op) {
  Loop& l = loop(op);
  const double when = num(op, "when");
  bind(op, l.call_at(when, named_callback(op)));
}

void Interpreter::Impl::op_cancel(const Op& op) { lookup(handles_, "handle", op, name(op, "handle"))->cancel(); }

void Interpreter::Impl::op_when(const Op& op) {
  const std::string handle = name(op, "handle");
  const double when = lookup(handles_, "handle", op, handle)->when();
  record({{"ev", "when"}, {"handle", handle}, {"value", when}});
}

// ---------------------------------------------------------------------------------------------
// Running and stopping

void Interpreter::Impl::op_run_forever(const Op& op) { loop(op).run_forever(); }

void Interpreter::Impl::op_run_until_complete(const Op& op) {
  Loop& l = loop(op);
  const auto& future = lookup(futures_, "future", op, name(op, "future"));
  record_value(op, l.run_until_complete(future));
}

void Interpreter::Impl::op_stop(const Op& op) { loop(op).stop(); }

void Interpreter::Impl::op_close(const Op& op) {
  loop(op).close();
  // A closed loop watches nothing any more (D4).
  const std::string closed = loop_name(op);
  std::erase_if(watches_, [&](const Watch& w) { return w.loop == closed; });
}

void Interpreter::Impl::op_is_running(const Op& op) { record_value(op, loop(op).is_running()); }

void Interpreter::Impl::op_is_closed(const Op& op) { record_value(op, loop(op).is_closed()); }

void Interpreter::Impl::op_time(const Op& op) { record_value(op, loop(op).time()); }

void Interpreter::Impl::op_new_loop(const Op& op) {
  const std::string loop = name(op, "name");
  check_free(loops_, "loop", op, loop);  // a live loop is never replaced (it may be running)
  loops_[loop] = adapter_.new_loop(time_);
  loop_order_.push_back(loop);
  prepare(*loops_[loop]);
}

void Interpreter::Impl::op_get_running_loop(const Op& op) {
  Loop* running = adapter_.running_loop();
  if (!running) throw LoopError("RuntimeError", "no running event loop");
  const std::string found = name_of(running);
  record_value(op, found.empty() ? json(nullptr) : json(found));
}

// ---------------------------------------------------------------------------------------------
// Futures

void Interpreter::Impl::op_new_future(const Op& op) {
  const std::string future = name(op, "name");
  check_free(futures_, "future", op, future);
  futures_[future] = loop(op).create_future();
}

void Interpreter::Impl::op_set_result(const Op& op) {
  const json& value = op.args.at("value");
  if (!(value.is_null() || value.is_string() || value.is_number() || value.is_boolean())) {
    fail("set_result: value must be a string, number, boolean or null");
  }
  future(op).set_result(value);
}

void Interpreter::Impl::op_add_done_callback(const Op& op) { future(op).add_done_callback(callback(block(op, "do"))); }

// What the operations that ask a future something record: {"ev": op, "future": f, "value": V}.
Future& Interpreter::Impl::future(const Op& op) { return *lookup(futures_, "future", op, name(op, "future")); }

void Interpreter::Impl::record_answer(const Op& op, json value) {
  record({{"ev", op.name}, {"future", name(op, "future")}, {"value", std::move(value)}});
}

void Interpreter::Impl::op_done(const Op& op) { record_answer(op, future(op).done()); }

void Interpreter::Impl::op_result(const Op& op) { record_answer(op, future(op).result()); }

// ---------------------------------------------------------------------------------------------
// I/O on socket pairs

void Interpreter::Impl::op_socketpair(const Op& op) {
  const json& names = op.args.at("names");
  if (!names.is_array() || names.size() != 2 || !names[0].is_string() || !names[1].is_string() ||
      names[0] == names[1]) {
    fail("socketpair: names must be a list of two different names");
  }
  for (const auto& n : names) check_free(sockets_, "socket", op, n.get<std::string>());
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) throw os_error(errno);
  sockets_[names[0].get<std::string>()] = Socket{sv[0]};
  sockets_[names[1].get<std::string>()] = Socket{sv[1]};
}

// D4: the interpreter's own record of what each loop watches, kept as the oracle keeps it.
void Interpreter::Impl::watch(const Op& op, bool reader) {
  Watch w{name(op, "fd"), loop_name(op), reader};
  if (std::find(watches_.begin(), watches_.end(), w) == watches_.end()) watches_.push_back(std::move(w));
}

void Interpreter::Impl::unwatch(const Op& op, bool reader) {
  const Watch w{name(op, "fd"), loop_name(op), reader};
  std::erase(watches_, w);
}

void Interpreter::Impl::op_add_reader(const Op& op) {
  const int fd = open_socket(op).fd;
  loop(op).add_reader(fd, callback(block(op, "do")));
  watch(op, true);
}

void Interpreter::Impl::op_add_writer(const Op& op) {
  const int fd = open_socket(op).fd;
  loop(op).add_writer(fd, callback(block(op, "do")));
  watch(op, false);
}

void Interpreter::Impl::op_remove_reader(const Op& op) {
  const int fd = open_socket(op).fd;
  const bool removed = loop(op).remove_reader(fd);
  unwatch(op, true);
  record({{"ev", "remove_reader"}, {"fd", name(op, "fd")}, {"value", removed}});
}

void Interpreter::Impl::op_remove_writer(const Op& op) {
  const int fd = open_socket(op).fd;
  const bool removed = loop(op).remove_writer(fd);
  unwatch(op, false);
  record({{"ev", "remove_writer"}, {"fd", name(op, "fd")}, {"value", removed}});
}

// socket.send: what fits is sent (a partial send records nothing); errno errors as CPython's.
void Interpreter::Impl::op_send(const Op& op) {
  Socket& s = socket(op);
  const json& data_json = op.args.at("data");
  if (!data_json.is_string()) fail("send: data must be a string");
  const std::string& data = data_json.get_ref<const std::string&>();
  if (std::any_of(data.begin(), data.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
    fail("send: data must be ASCII text");
  }
  if (s.closed) throw os_error(EBADF);  // what a closed Python socket object raises
  ssize_t n;
  do {
    n = ::send(s.fd, data.data(), data.size(), MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);  // PEP 475
  if (n < 0) throw os_error(errno);
}

// socket.recv: nothing there is data null; end of stream is ""; errno errors as CPython's.
void Interpreter::Impl::op_recv(const Op& op) {
  Socket& s = socket(op);
  std::int64_t size = kDefaultRecvSize;
  if (op.args.contains("size")) {
    const json& v = op.args.at("size");
    const bool positive = v.is_number_unsigned() ? v.get<std::uint64_t>() > 0
                          : v.is_number_integer() ? v.get<std::int64_t>() > 0
                                                  : false;
    if (!positive || v.get<std::uint64_t>() > static_cast<std::uint64_t>(kMaxRecvSize)) {
      fail("recv: size must be an integer from 1 to " + std::to_string(kMaxRecvSize));
    }
    size = v.get<std::int64_t>();
  }
  if (s.closed) throw os_error(EBADF);
  std::string buffer(static_cast<std::size_t>(size), '\0');
  ssize_t n;
  do {
    n = ::recv(s.fd, buffer.data(), buffer.size(), 0);
  } while (n < 0 && errno == EINTR);
  json data = nullptr;
  if (n >= 0) {
    data = decode_ascii(buffer.data(), static_cast<std::size_t>(n));
  } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
    throw os_error(errno);
  }
  record({{"ev", "recv"}, {"fd", name(op, "fd")}, {"data", std::move(data)}});
}

// socket.close: a second close does nothing; a socket a loop still watches is refused (D4).
void Interpreter::Impl::op_close_fd(const Op& op) {
  Socket& s = socket(op);
  if (s.closed) return;
  const std::string socket_name = name(op, "fd");
  for (const std::string& loop : loop_order_) {  // the oracle's order: loops as they were made
    for (const Watch& w : watches_) {
      if (w.socket == socket_name && w.loop == loop) {
        fail("close_fd: socket '" + socket_name + "' is still watched by loop '" + loop +
             "' (remove_reader/remove_writer first)");
      }
    }
  }
  ::close(s.fd);
  s.closed = true;
}

// ---------------------------------------------------------------------------------------------
// Futures: the rest of asyncio.Future

namespace interpreter_detail {
namespace {
// What makes an exception the interpreter raised one Python object, whatever copies of it cross
// the seam: a loop that hands it back (a TaskGroup re-raising the body's SystemExit) hands back
// the same object, and nothing is chained to itself (LoopError::same_object).
struct ScenarioException {};
}  // namespace

LoopError scenario_exception(const std::string& type, const json& args) {
  LoopError error = args.contains("message") ? LoopError(type, args.at("message").get<std::string>())
                                             : LoopError::with_args(type, json::array());
  error.set_native(std::make_exception_ptr(ScenarioException{}));
  return error;
}
}  // namespace interpreter_detail

void Interpreter::Impl::op_set_exception(const Op& op) {
  const std::string type = name(op, "type");
  // ops.SETTABLE: what `raise` may throw, and StopIteration, which a Future refuses (FUT-05).
  if (!raisable(type) && type != "StopIteration") fail("set_exception: unknown exception type '" + type + "'");
  future(op).set_exception(scenario_exception(type, op.args));
}

void Interpreter::Impl::op_cancel_future(const Op& op) {
  std::optional<std::string> message;
  if (op.args.contains("message")) message = op.args.at("message").get<std::string>();
  record_answer(op, future(op).cancel(message));
}

void Interpreter::Impl::op_cancelled(const Op& op) { record_answer(op, future(op).cancelled()); }

void Interpreter::Impl::op_exception(const Op& op) {
  const auto error = future(op).exception();
  record_answer(op, error ? describe(*error) : json(nullptr));
}

// ---------------------------------------------------------------------------------------------
// Python only

void Interpreter::Impl::op_python_only(const Op& op) {
  throw Fault{"operation '" + op.name + "' is Python-only; its feature should have made the scenario UNSUPPORTED"};
}

// ---------------------------------------------------------------------------------------------

Language Language::of(const std::string& version) {
  Language language;
  language.throw_chains = compare_versions(version, "3.9") >= 0;
  return language;
}

Interpreter::Interpreter(Adapter& adapter, const Scenario& scenario, Language language)
    : impl_(std::make_unique<Impl>(adapter, scenario, language)) {}

Interpreter::~Interpreter() = default;

Trace Interpreter::run() { return impl_->run(); }

}  // namespace aiospec::conformance
