// The C++ interpreter's one class, shared by its two halves: interpreter.cpp (the program,
// callbacks, futures, I/O) and interpreter_coroutines.cpp (coroutines, tasks and the scopes).
// Private to the conformance library.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "aiospec/conformance/adapter.hpp"
#include "aiospec/conformance/interpreter.hpp"
#include "aiospec/conformance/virtual_time.hpp"
#include "detail/body.hpp"

namespace aiospec::conformance {

namespace interpreter_detail {

// A list of operations and what keeps it alive (empty for the bundle's own program).
using Block = std::shared_ptr<const nlohmann::json>;

// A malformed scenario, carried out of the loops to run(). Not a std::exception (see
// interpreter.cpp).
struct ScenarioAbort {
  std::string message;
};

[[noreturn]] inline void fail(std::string message) { throw ScenarioAbort{std::move(message)}; }

// `return: V` on its way to the coroutine's root frame. Not a std::exception: `except` never
// matches it, `finally` still runs.
struct Return {
  Value value;
};

// Python's %r of a scenario value, near enough for messages about malformed input.
inline std::string repr(const nlohmann::json& value) {
  if (value.is_string()) return "'" + value.get<std::string>() + "'";
  return value.dump();
}

// ops.RAISABLE: what `raise` and `set_exception` may throw.
bool raisable(const std::string& type);

// The exception `raise` / `set_exception` make: args (message,), or () without a message.
LoopError scenario_exception(const std::string& type, const nlohmann::json& args);

}  // namespace interpreter_detail

class Interpreter::Impl {
  using json = nlohmann::json;
  using Block = interpreter_detail::Block;
  template <class T>
  using Body = detail::Body<T>;
  using Chain = detail::Chain;

 public:
  Impl(Adapter& adapter, const Scenario& scenario, Language language)
      : adapter_(adapter), scenario_(scenario), language_(language), time_(scenario.budget) {
    if (scenario_.features.count("select-trace")) {
      time_.observe_selects([this](std::optional<double> timeout) {
        record({{"ev", "select"}, {"timeout", timeout ? json(*timeout) : json(nullptr)}});
      });
    }
  }
  ~Impl() { close_everything(); }

  Trace run();

 private:
  // One operation being run: its name, its arguments, and the owner of the block it sits in.
  struct Op {
    const std::string& name;
    const json& args;
    const Block& owner;
  };
  using Function = void (Impl::*)(const Op&);
  using AsyncFunction = Body<void> (Impl::*)(const Op&);
  // An operation with no `function` exists only inside a coroutine body; inside one, an
  // operation with an `async_function` runs that instead (it may await).
  struct Spec {
    std::vector<std::string> required, optional;
    Function function;
    AsyncFunction async_function = nullptr;
  };
  static const std::map<std::string, Spec>& operations();

  // Where a block runs: the program (and threads), a callback's body, a coroutine's body.
  enum class Where { program, callback, coroutine };

  struct Socket {
    int fd;
    bool closed = false;  // keeps its name and number for errors; the number is never used again
  };
  // A registration the scenario made and has not undone (D4): close_fd refuses a watched socket.
  struct Watch {
    std::string socket, loop;
    bool reader;
    friend bool operator==(const Watch&, const Watch&) = default;
  };

  // ---- blocks, operations, callbacks, threads ----
  void run_block(const json& block, const Block& owner, Where where = Where::program);
  void run_op(const json& op, const Block& owner, Where where);
  const Spec& start(const json& op);  // counts the operation, then parses it
  const Spec& parse(const json& op) const;
  void invoke(const Op& op, const Spec& spec, Chain* chain);
  Block block(const Op& op, const char* key) const;
  Callback callback(Block block, std::string name = "callback");
  Callback named_callback(const Op& op);  // the `do` block, named by `as` (reprs.hpp)
  void run_on_new_thread(Block block);
  void record(json event);
  void close_everything();

  // ---- coroutines ----
  CoroutinePtr coroutine(Block body);
  Body<Value> run_coroutine(Block body);
  Body<void> run_async_block(Block block);
  Body<Value> await_future(std::shared_ptr<Future> future);
  Body<Value> yield_from(CoroutinePtr coroutine);
  Body<Value> inline_coroutine(Block body);
  Body<void> outcome(json event, Body<Value> awaited);
  static json event_of(const Op& op);
  Awaitable awaitable(const Op& op, const json& spec);
  Body<Value> awaiting(const Op& op, const json& spec);
  Loop& running();
  LoopError raised(const Op& op, const Chain& chain);
  std::shared_ptr<Task> task(const Op& op, const char* key = "future");
  void bind_future(const Op& op, std::shared_ptr<Future> future);
  std::string name_of(const Task* task) const;
  Body<Value> sleeping(const Op& op);
  Body<Value> gathering(const Op& op);
  Body<Value> shielding(const Op& op);
  Body<Value> waiting_for(const Op& op);
  Body<Value> waiting(const Op& op);
  Timeout& timeout(const Op& op);  // the timeout named by `timeout`
  Body<void> scope_statement(const Op& op, std::function<void()> enter,
                             std::function<Body<std::optional<LoopError>>(std::optional<LoopError>)> exit);
  template <class Table>
  void bind_scope(const Op& op, Table& table, const char* kind, typename Table::mapped_type scope);
  Body<std::optional<LoopError>> timeout_exit(std::shared_ptr<Timeout> scope, std::optional<LoopError> leaving);
  Body<std::optional<LoopError>> task_group_exit(std::shared_ptr<TaskGroup> group, std::optional<LoopError> leaving);
  Body<void> timeout_scope(const Op& op, std::optional<double> when);
  Value run_main(const Op& op);
  // ---- arguments and names ----
  static std::string name(const Op& op, const char* key);
  static double num(const Op& op, const char* key, bool allow_nan = true);
  template <class Table>
  static auto& lookup(Table& table, const char* kind, const Op& op, const std::string& name);
  template <class Table>
  static void check_free(const Table& table, const char* kind, const Op& op, const std::string& name);
  Loop& loop(const Op& op);
  std::string loop_name(const Op& op) const;
  std::string name_of(const Loop* loop) const;
  Socket& socket(const Op& op);
  Socket& open_socket(const Op& op);  // scenario error when closed
  void bind(const Op& op, std::shared_ptr<Handle> handle);
  void record_value(const Op& op, json value);
  Future& future(const Op& op);                   // the future named by `future`
  void record_answer(const Op& op, json value);  // {"ev": op, "future": ..., "value": value}

  // ---- recording and the world ----
  void op_record(const Op& op);
  void op_raise(const Op& op);
  [[noreturn]] void raise_in_callback(const Op& op);
  void op_burn(const Op& op);
  void op_repeat(const Op& op);
  struct Repeat {  // op_repeat's and op_repeat_async's checked arguments
    const json* body = nullptr;
    std::string placeholder;
    std::int64_t per_copy = 0;
    std::uint64_t times = 0;  // 0 when the body is empty
  };
  Repeat repeat_of(const Op& op) const;
  Block copy_of(const Repeat& r, std::uint64_t index);  // counts the copy's operations, then makes it
  void op_in_thread(const Op& op);
  void op_external(const Op& op);
  // ---- scheduling callbacks ----
  void op_call_soon(const Op& op);
  void op_call_soon_threadsafe(const Op& op);
  void op_call_later(const Op& op);
  void op_call_at(const Op& op);
  void op_cancel(const Op& op);
  void op_when(const Op& op);
  // ---- running and stopping ----
  void op_run_forever(const Op& op);
  void op_run_until_complete(const Op& op);
  void op_stop(const Op& op);
  void op_close(const Op& op);
  void op_is_running(const Op& op);
  void op_is_closed(const Op& op);
  void op_time(const Op& op);
  void op_new_loop(const Op& op);
  void op_get_running_loop(const Op& op);
  // ---- futures ----
  void op_new_future(const Op& op);
  void op_set_result(const Op& op);
  void op_add_done_callback(const Op& op);
  void op_done(const Op& op);
  void op_result(const Op& op);
  void op_set_exception(const Op& op);
  void op_cancel_future(const Op& op);
  void op_cancelled(const Op& op);
  void op_exception(const Op& op);
  // ---- coroutines and tasks ----
  void op_create_task(const Op& op);
  void op_current_task(const Op& op);
  void op_cancelling(const Op& op);
  void op_uncancel(const Op& op);
  Body<void> op_await(const Op& op);
  Body<void> op_sleep(const Op& op);
  Body<void> op_gather(const Op& op);
  Body<void> op_shield(const Op& op);
  Body<void> op_wait_for(const Op& op);
  Body<void> op_return(const Op& op);
  Body<void> op_try(const Op& op);
  Body<void> op_reraise(const Op& op);
  Body<void> op_repeat_async(const Op& op);
  Body<void> op_wait(const Op& op);
  Body<void> op_timeout(const Op& op);
  Body<void> op_timeout_at(const Op& op);
  void op_reschedule(const Op& op);
  void op_expired(const Op& op);
  void op_deadline(const Op& op);
  void op_cancel_task_group(const Op& op);
  Body<void> op_task_group(const Op& op);
  void op_set_task_factory(const Op& op);
  void op_run(const Op& op);
  Body<void> op_run_async(const Op& op);
  // ---- I/O on socket pairs ----
  void op_socketpair(const Op& op);
  void op_add_reader(const Op& op);
  void op_add_writer(const Op& op);
  void op_remove_reader(const Op& op);
  void op_remove_writer(const Op& op);
  void op_send(const Op& op);
  void op_recv(const Op& op);
  void op_close_fd(const Op& op);
  // ---- exception handlers, the asyncio log, debug mode (interpreter_handlers.cpp) ----
  void prepare(Loop& loop);  // every new loop, before the scenario sees it
  bool raised_by_scenario(const LoopError& error);
  bool reports_traced() const;  // the scenario lists exception-handler or log-trace
  ContextArgs context_args(const Op& op);
  void op_set_exception_handler(const Op& op);
  void op_get_exception_handler(const Op& op);
  void op_call_exception_handler(const Op& op);
  void op_default_exception_handler(const Op& op);
  void op_drop(const Op& op);
  void op_set_debug(const Op& op);
  void op_get_debug(const Op& op);
  void op_slow_callback_duration(const Op& op);
  // ---- Python only ----
  void op_python_only(const Op& op);

  void watch(const Op& op, bool reader);
  void unwatch(const Op& op, bool reader);

  Adapter& adapter_;
  const Scenario& scenario_;
  const Language language_;
  VirtualTime time_;
  std::mutex events_mutex_;
  std::vector<Event> events_;
  std::map<std::string, std::unique_ptr<Loop>> loops_;
  std::vector<std::string> loop_order_;  // loop names in the order the loops were made
  std::map<std::string, std::shared_ptr<Handle>> handles_;
  std::map<std::string, std::shared_ptr<Future>> futures_;  // tasks too: a Task is a Future
  // Every task made, alive until the end of the run, except where reports are traced: there a
  // task lives as long as CPython keeps it (a name holds it, `drop` lets go; EXC-08).
  std::vector<std::shared_ptr<Task>> tasks_;
  // Every task made: its name ("" when unnamed), while it lives (an address may be reused).
  std::map<const Task*, std::pair<std::weak_ptr<Task>, std::string>> task_names_;
  std::vector<std::string> creating_;                      // names of the create_tasks under way
  std::map<std::string, std::shared_ptr<Timeout>> timeouts_;
  std::map<std::string, std::shared_ptr<TaskGroup>> groups_;
  std::vector<std::shared_ptr<void>> scopes_;              // every timeout and group, alive until the end
  std::vector<std::unique_ptr<Loop>> unnamed_loops_;       // run's loops made without `as`
  std::map<std::string, Socket> sockets_;
  std::vector<Watch> watches_;  // in registration order
  std::map<const Loop*, std::string> installed_;  // the handler policy each loop was given last
  std::atomic<bool> ended_{false};  // the program's last operation is behind us: nothing is recorded
  std::vector<std::pair<std::string, nlohmann::json>> raised_;  // (type, args) of every `raise` in a callback
  std::string fault_;  // the first report the fault net refused: run() fails with it
};

// D3: using a name that is not bound at that moment.
template <class Table>
auto& Interpreter::Impl::lookup(Table& table, const char* kind, const Op& op, const std::string& name) {
  const auto it = table.find(name);
  if (it == table.end()) interpreter_detail::fail(op.name + ": no " + kind + " named '" + name + "'");
  return it->second;
}

// D3: defining a loop, future or socket name that is already bound.
template <class Table>
void Interpreter::Impl::check_free(const Table& table, const char* kind, const Op& op, const std::string& name) {
  if (table.count(name)) interpreter_detail::fail(op.name + ": " + kind + " '" + name + "' is already defined");
}

}  // namespace aiospec::conformance
