// The adapter seam's own code: LoopError with args, the trace's description of an exception, and
// the defaults of the methods that belong to a feature, which an adapter that does not declare
// the feature never sees called.
#include "aiospec/conformance/adapter.hpp"

#include <string>

namespace aiospec::conformance {

namespace {

using json = nlohmann::json;

// Python's str() of one argument and repr() of one element of a tuple, for the JSON scalars a
// scenario's exceptions carry.
std::string python_str(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "None";
  if (v.is_boolean()) return v.get<bool>() ? "True" : "False";
  return v.dump();
}

std::string python_repr(const json& v) {
  if (v.is_string()) return "'" + v.get<std::string>() + "'";
  return python_str(v);
}

// BaseException.__str__: '' for no args, str(arg) for one, str(args) for more.
std::string str_of_args(const json& args) {
  if (args.empty()) return "";
  if (args.size() == 1) return python_str(args[0]);
  std::string out = "(";
  for (std::size_t i = 0; i < args.size(); ++i) out += (i ? ", " : "") + python_repr(args[i]);
  return out + ")";
}

[[noreturn]] void not_implemented(const char* method, const char* feature) {
  throw Unsupported{feature, method};
}

}  // namespace

LoopError LoopError::with_args(std::string python_type, json args) {
  if (!args.is_array()) args = json::array({args});
  std::string text = str_of_args(args);
  return LoopError(std::move(python_type), std::move(args), text);
}

void LoopError::set_exceptions(std::vector<std::shared_ptr<const LoopError>> members) {
  group_ = true;
  exceptions_ = std::move(members);
  const std::string message = args_.empty() ? "" : python_str(args_[0]);
  const std::size_t n = exceptions_.size();
  static_cast<std::runtime_error&>(*this) =
      std::runtime_error(message + " (" + std::to_string(n) + " sub-exception" + (n == 1 ? "" : "s") + ")");
}

json describe(const LoopError& error) {
  json out = {{"type", error.type()}, {"args", error.args()}};
  if (error.context()) out["context"] = error.context()->type();
  if (error.cause()) out["cause"] = error.cause()->type();
  if (error.is_group()) {
    json members = json::array();
    for (const auto& member : error.exceptions()) members.push_back(describe(*member));
    out["exceptions"] = std::move(members);
  }
  return out;
}

void Future::set_exception(const LoopError&) { not_implemented("Future::set_exception", "futures"); }
bool Future::cancel(const std::optional<std::string>&) { not_implemented("Future::cancel", "futures"); }
bool Future::cancelled() const { not_implemented("Future::cancelled", "futures"); }
std::optional<LoopError> Future::exception() const { not_implemented("Future::exception", "futures"); }

int Task::cancelling() const { not_implemented("Task::cancelling", "tasks"); }
int Task::uncancel() { not_implemented("Task::uncancel", "tasks"); }

std::shared_ptr<Handle> Loop::call_soon_threadsafe(Callback) { not_implemented("Loop::call_soon_threadsafe", "threads"); }
std::shared_ptr<Future> Loop::create_future() { not_implemented("Loop::create_future", "futures"); }
Value Loop::run_until_complete(const std::shared_ptr<Future>&) { not_implemented("Loop::run_until_complete", "futures"); }
void Loop::add_reader(int, Callback) { not_implemented("Loop::add_reader", "fd-io"); }
bool Loop::remove_reader(int) { not_implemented("Loop::remove_reader", "fd-io"); }
void Loop::add_writer(int, Callback) { not_implemented("Loop::add_writer", "fd-io"); }
bool Loop::remove_writer(int) { not_implemented("Loop::remove_writer", "fd-io"); }

std::shared_ptr<Task> Loop::create_task(CoroutinePtr, std::optional<std::string>) { not_implemented("Loop::create_task", "tasks"); }
std::shared_ptr<Task> Loop::current_task() { not_implemented("Loop::current_task", "tasks"); }
CoroutinePtr Loop::sleep(double, const Value&) { not_implemented("Loop::sleep", "tasks"); }
std::shared_ptr<Future> Loop::gather(std::vector<Awaitable>, bool) { not_implemented("Loop::gather", "tasks"); }
std::shared_ptr<Future> Loop::shield(Awaitable) { not_implemented("Loop::shield", "tasks"); }
CoroutinePtr Loop::wait_for(Awaitable, std::optional<double>) { not_implemented("Loop::wait_for", "tasks"); }
CoroutinePtr Loop::wait(std::vector<std::shared_ptr<Future>>, std::optional<double>, ReturnWhen) {
  not_implemented("Loop::wait", "tasks");
}
std::shared_ptr<Timeout> Loop::timeout_at(std::optional<double>) { not_implemented("Loop::timeout_at", "timeouts"); }
std::shared_ptr<TaskGroup> Loop::task_group() { not_implemented("Loop::task_group", "task-groups"); }
void TaskGroup::cancel() { not_implemented("TaskGroup::cancel", "task-groups"); }
void Loop::set_task_factory(TaskFactory) { not_implemented("Loop::set_task_factory", "eager-tasks"); }
Value Loop::run(CoroutinePtr) { not_implemented("Loop::run", "runner"); }
Value Loop::run_not_awaitable(const Value&) { not_implemented("Loop::run_not_awaitable", "runner"); }

void Loop::set_exception_handler(ExceptionHandler) { not_implemented("Loop::set_exception_handler", "exception-handler"); }
bool Loop::has_exception_handler() const { not_implemented("Loop::get_exception_handler", "exception-handler"); }
void Loop::call_exception_handler(const ContextArgs&) {
  not_implemented("Loop::call_exception_handler", "exception-handler");
}
void Loop::default_exception_handler(const ContextArgs&) {
  not_implemented("Loop::default_exception_handler", "exception-handler");
}
void Loop::set_log_sink(LogSink) { not_implemented("Loop::set_log_sink", "log-trace"); }
void Loop::set_debug(bool) { not_implemented("Loop::set_debug", "debug"); }
bool Loop::get_debug() const { not_implemented("Loop::get_debug", "debug"); }
void Loop::set_slow_callback_duration(double) { not_implemented("Loop::slow_callback_duration", "debug"); }
void Loop::collect_garbage() {}

}  // namespace aiospec::conformance
