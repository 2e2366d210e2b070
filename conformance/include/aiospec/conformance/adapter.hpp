// The seam a loop author implements to run the conformance suite on their loop.
//
// The interpreter (interpreter.hpp) turns each scenario operation into one call below and records
// what the loop did. Implement these with your loop's own primitives, translate its errors into
// LoopError with Python's class name and message, and route its clock and its waits through the
// VirtualTime it is given, so that no test ever sleeps. See spec/INTERPRETING.md.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "aiospec/conformance/virtual_time.hpp"

namespace aiospec::conformance {

// A callback and the name asyncio would show for it, its __qualname__: the scenario's `as` name,
// or "callback" (spec/TRACE.md, "Reprs in messages"). A loop that prints callbacks in its reports
// ("Exception in callback h()") shows this name; any other loop may treat it as a plain function.
struct Callback : std::function<void()> {
  using std::function<void()>::function;
  Callback(std::function<void()> body, std::string callback_name)
      : std::function<void()>(std::move(body)), name(std::move(callback_name)) {}
  std::string name = "callback";
};
using Value = nlohmann::json;  // what a scenario can put in a future: string, number, bool, null

// An error the loop raised, named the way CPython would name it ("RuntimeError",
// "This event loop is already running"): both strings are compared with CPython's trace.
// `args` is the exception's args as JSON (CancelledError() has [], CancelledError('') has [""]);
// `context` and `cause` are __context__ and __cause__ (null when unset). The two-string
// constructor means one argument, the message.
class LoopError : public std::runtime_error {
 public:
  LoopError(std::string python_type, const std::string& message)
      : std::runtime_error(message), type_(std::move(python_type)), args_(nlohmann::json::array({message})) {}
  // An exception with exactly these args (a JSON array); what() is Python's str() of it.
  static LoopError with_args(std::string python_type, nlohmann::json args);

  const std::string& type() const noexcept { return type_; }
  const nlohmann::json& args() const noexcept { return args_; }
  const std::shared_ptr<const LoopError>& context() const noexcept { return context_; }
  const std::shared_ptr<const LoopError>& cause() const noexcept { return cause_; }
  void set_context(std::shared_ptr<const LoopError> context) { context_ = std::move(context); }
  void set_cause(std::shared_ptr<const LoopError> cause) { cause_ = std::move(cause); }

  // A BaseExceptionGroup (ExceptionGroup, BaseExceptionGroup): its members, in order. For a
  // group, args() holds only the message (Python's args[0]); describe() lists the members.
  bool is_group() const noexcept { return group_; }
  const std::vector<std::shared_ptr<const LoopError>>& exceptions() const noexcept { return exceptions_; }
  // Makes this a group of `members`; what() becomes BaseExceptionGroup.__str__ of it:
  // "message (2 sub-exceptions)".
  void set_exceptions(std::vector<std::shared_ptr<const LoopError>> members);

  // The loop's own exception object this one stands for, when the adapter translated it (null:
  // an exception of the interpreter's). Two LoopErrors for one object are the same Python
  // exception: Python chains an exception to the one being handled unless it is that very
  // object, so an adapter that translates should set it, and return the same object for it.
  const std::exception_ptr& native() const noexcept { return native_; }
  void set_native(std::exception_ptr native) { native_ = std::move(native); }
  bool same_object(const LoopError& other) const noexcept { return native_ && native_ == other.native_; }

 private:
  LoopError(std::string python_type, nlohmann::json args, const std::string& text)
      : std::runtime_error(text), type_(std::move(python_type)), args_(std::move(args)) {}
  std::string type_;
  nlohmann::json args_;
  std::shared_ptr<const LoopError> context_, cause_;
  bool group_ = false;
  std::vector<std::shared_ptr<const LoopError>> exceptions_;
  std::exception_ptr native_;
};

// The trace's description of an exception (spec/TRACE.md, "exceptions"): {"type", "args"} and,
// when set, "context" and "cause" as type names; a group adds "exceptions", its members described.
nlohmann::json describe(const LoopError& error);

// CPython's OSError for `errno_value`: the subclass PEP 3151 maps it to (BlockingIOError for
// EAGAIN, BrokenPipeError for EPIPE, ...; plain OSError otherwise) and the message
// "[Errno N] strerror(N)" (`[Errno 9] Bad file descriptor`). The one place errno is translated.
LoopError os_error(int errno_value);

// A fault of the harness (the interpreter or an adapter), not a behaviour of the loop: an
// exception that is not a LoopError out of an adapter call, or anything other than a scenario's
// `raise` reaching a loop's exception handler. Deliberately not a std::exception, so that it
// escapes callbacks and run_forever like Abort; Interpreter::run() turns it into InterpreterFault.
struct Fault {
  std::string message;
};

// What every Loop method of a feature throws until the adapter overrides it: the scenario that
// reached it is UNSUPPORTED ("needs futures: the adapter does not implement Loop::create_future"),
// so a minimal loop implements only what it has. Not a std::exception, for the same reason as Fault.
struct Unsupported {
  std::string feature;  // a name of spec/features.txt
  std::string method;   // "Loop::create_future"
};

// What Adapter::new_loop throws when this machine cannot make the loop at all: a backend the
// kernel refuses (io_uring under seccomp or kernel.io_uring_disabled), a library that failed to
// load. Every scenario is then UNSUPPORTED for that loop with `reason`, never FAIL, ERROR or a
// crash: the loop was not judged. Not a std::exception, for the same reason as Fault.
struct Unavailable {
  std::string reason;  // one line, naming what refused and what to use instead
};

class Handle {
 public:
  virtual ~Handle() = default;
  virtual void cancel() = 0;
  virtual double when() const = 0;  // timer handles only; a plain handle throws LoopError
};

// asyncio.Future (feature "futures"). result() and exception() throw LoopError: CancelledError
// when cancelled, InvalidStateError when pending, result() the exception when one was set.
class Future {
 public:
  virtual ~Future() = default;
  virtual void set_result(const Value& value) = 0;
  virtual Value result() const = 0;
  virtual bool done() const = 0;
  virtual void add_done_callback(Callback callback) = 0;
  // Future.set_exception(error); Future.cancel(msg) (nullopt: no message); Future.cancelled();
  // Future.exception(): nullopt when it finished with a result.
  virtual void set_exception(const LoopError& error);
  virtual bool cancel(const std::optional<std::string>& message);
  virtual bool cancelled() const;
  virtual std::optional<LoopError> exception() const;
};

// ---- Coroutines and tasks (feature "tasks") ------------------------------------------------

// One step of a coroutine: what coro.send(None) or coro.throw(exc) did.
struct Step {
  enum class Kind { yielded, returned, raised };
  Kind kind = Kind::returned;
  std::shared_ptr<Future> future;  // yielded: the future to wait for; nullptr is a bare yield (sleep(0))
  Value value;                     // returned
  std::exception_ptr exception;    // raised: a LoopError, or one of the suite's own (Abort, Fault, ...)
};

// A coroutine object, driven one step at a time. The interpreter's scenario coroutines implement
// it and the loop's tasks drive them; the loop's own coroutines (sleep, wait_for) implement it
// and the interpreter drives them (yield from). A coroutine that returned or raised is finished.
class Coroutine {
 public:
  virtual ~Coroutine() = default;
  virtual Step send() = 0;                            // the first step, and every resumption
  virtual Step throw_in(const LoopError& error) = 0;  // resume by raising `error` where it waits
};
using CoroutinePtr = std::unique_ptr<Coroutine>;

// asyncio.Task: a Future that drives a coroutine. cancel(message) is Task.cancel(msg).
class Task : public Future {
 public:
  virtual int cancelling() const;  // 3.11+
  virtual int uncancel();          // 3.11+
};

// What gather, shield and wait_for accept: a future or task of this loop, or a coroutine.
struct Awaitable {
  std::shared_ptr<Future> future;  // exactly one of the two is set
  CoroutinePtr coroutine;
};

// asyncio.wait's return_when.
enum class ReturnWhen { first_completed, first_exception, all_completed };

// The task factory loop.set_task_factory installs (feature "eager-tasks"): none (plain Tasks) or
// asyncio.eager_task_factory (3.12+).
enum class TaskFactory { none, eager };

// asyncio.Timeout, the object `async with asyncio.timeout_at(when)` enters (3.11+, feature
// "timeouts"). Neither enter nor exit suspends.
class Timeout {
 public:
  virtual ~Timeout() = default;
  // __aenter__: binds the current task (RuntimeError outside one, or when entered twice) and
  // schedules the expiry.
  virtual void enter() = 0;
  // __aexit__ with the exception leaving the block (nullopt: it ended normally or by return).
  // Returns what leaves the scope: nullopt for nothing, else the exception given (the same
  // object, possibly with a new __context__: 3.13's TimeoutError splice) or the TimeoutError
  // raised from it, with __cause__ and __context__ both the given exception, as `raise
  // TimeoutError from exc_val` inside __aexit__ sets them (the interpreter chains nothing here).
  // Only the loop's exceptions reach exit; the suite's own stops pass it by.
  virtual std::optional<LoopError> exit(std::optional<LoopError> error) = 0;
  virtual std::optional<double> when() const = 0;              // Timeout.when()
  virtual void reschedule(std::optional<double> when) = 0;      // Timeout.reschedule(when)
  virtual bool expired() const = 0;                             // Timeout.expired()
};

// asyncio.TaskGroup (3.11+, feature "task-groups").
class TaskGroup {
 public:
  virtual ~TaskGroup() = default;
  virtual void enter() = 0;                                          // __aenter__ (never suspends)
  // TaskGroup.create_task(coro, name=name): nullopt leaves asyncio's own name (Task-<n>).
  virtual std::shared_ptr<Task> create_task(CoroutinePtr coroutine, std::optional<std::string> name = std::nullopt) = 0;
  // __aexit__ with the exception leaving the block (nullopt: none): a coroutine that waits for
  // the children, then returns __aexit__'s value, null (None: the given exception, or none,
  // leaves the group as it is) or true (3.15's `return True`: nothing leaves), or raises what
  // leaves instead (the ExceptionGroup, a CancelledError, a bare SystemExit).
  virtual CoroutinePtr exit(std::optional<LoopError> error) = 0;
  // TaskGroup.cancel() (3.15+; AttributeError before): cancels the unfinished children and the
  // parent task. The default: not implemented (the scenario is UNSUPPORTED).
  virtual void cancel();
};

// ---- Exception handlers, logging, debug mode (features "exception-handler", "log-trace", "debug")

// What a loop's exception handler is called with, as the suite sees it: context['message'] as the
// loop wrote it (nullopt: no 'message' key), every key of the context, sorted, and
// context['exception'] translated (nullopt: no 'exception' key).
struct ExceptionContext {
  std::optional<std::string> message;
  std::vector<std::string> keys;
  std::optional<LoopError> exception;
};
// The handler the interpreter installs. It may throw what Adapter::raise_in_callback throws.
using ExceptionHandler = std::function<void(const ExceptionContext&)>;

// The context a scenario hands to call_exception_handler / default_exception_handler, in the
// order the keys go into the dict: message, exception, future, task, handle, then `keys` (string
// values) in the order written. An unset member is a key the context does not have.
struct ContextArgs {
  std::optional<std::string> message;
  std::optional<LoopError> exception;
  std::shared_ptr<Future> future;
  std::shared_ptr<Task> task;
  std::shared_ptr<Handle> handle;
  std::vector<std::pair<std::string, std::string>> keys;
};

// One record of the loop's `asyncio` logger: the level's name ("ERROR", "WARNING", "DEBUG"), the
// message as logging's getMessage() gives it (the default handler's whole layout, without the
// traceback), and the exception of its exc_info (nullopt: none).
struct LogRecord {
  std::string level;
  std::string message;
  std::optional<LoopError> exception;
};
using LogSink = std::function<void(const LogRecord&)>;

// One event loop under test. Callbacks handed to it may throw an exception that does not derive
// from std::exception (the suite's budget stop Abort, a Fault, a scenario error); such exceptions
// must escape run_forever and run_until_complete the way SystemExit escapes an asyncio loop.
// Every method reports the loop's own errors as LoopError; anything else it throws is a Fault of
// the adapter.
//
// The first group is every loop's core and must be implemented. Every other method belongs to a
// feature (named with it) and has a default that throws Unsupported: override the ones of the
// features your adapter declares.
class Loop {
 public:
  virtual ~Loop() = default;
  virtual std::shared_ptr<Handle> call_soon(Callback callback) = 0;
  virtual std::shared_ptr<Handle> call_later(double delay, Callback callback) = 0;
  virtual std::shared_ptr<Handle> call_at(double when, Callback callback) = 0;
  virtual double time() = 0;
  virtual void run_forever() = 0;
  virtual void stop() = 0;
  virtual void close() = 0;
  virtual bool is_running() const = 0;
  virtual bool is_closed() const = 0;

  // Feature "threads": loop.call_soon_threadsafe(callback), from any thread.
  virtual std::shared_ptr<Handle> call_soon_threadsafe(Callback callback);
  // Feature "futures": loop.create_future(); loop.run_until_complete(future).
  virtual std::shared_ptr<Future> create_future();
  virtual Value run_until_complete(const std::shared_ptr<Future>& future);
  // Feature "fd-io": add_reader/add_writer (replacing the fd's callback), remove_* (whether one was set).
  virtual void add_reader(int fd, Callback callback);
  virtual bool remove_reader(int fd);
  virtual void add_writer(int fd, Callback callback);
  virtual bool remove_writer(int fd);

  // Feature "tasks". loop.create_task(coro, name=name) (nullopt: asyncio's Task-<n>); asyncio.current_task() (the object create_task
  // returned for it, nullptr when no task runs, and an unknown task as a Task the interpreter
  // never saw); asyncio.sleep(delay, result); asyncio.gather(*children, return_exceptions) (its
  // result is a JSON array, returned exceptions as describe() objects); asyncio.shield(inner);
  // asyncio.wait_for(inner, timeout) (nullopt: None).
  virtual std::shared_ptr<Task> create_task(CoroutinePtr coroutine, std::optional<std::string> name = std::nullopt);
  virtual std::shared_ptr<Task> current_task();
  virtual CoroutinePtr sleep(double delay, const Value& result);
  virtual std::shared_ptr<Future> gather(std::vector<Awaitable> children, bool return_exceptions);
  virtual std::shared_ptr<Future> shield(Awaitable inner);
  virtual CoroutinePtr wait_for(Awaitable inner, std::optional<double> timeout);
  // asyncio.wait(futures, timeout=, return_when=): a coroutine whose value is
  // {"done": [i, ...], "pending": [j, ...]}, indices into `futures` in ascending order (the
  // interpreter passes distinct futures; an empty list is asyncio's ValueError).
  virtual CoroutinePtr wait(std::vector<std::shared_ptr<Future>> futures, std::optional<double> timeout,
                            ReturnWhen return_when);

  // Feature "timeouts": asyncio.timeout_at(when) (nullopt: None). The interpreter turns
  // timeout(delay) into timeout_at(loop.time() + delay), as asyncio.timeout does.
  virtual std::shared_ptr<Timeout> timeout_at(std::optional<double> when);
  // Feature "task-groups": a new asyncio.TaskGroup() (entered later, in the running task).
  virtual std::shared_ptr<TaskGroup> task_group();
  // Feature "eager-tasks": loop.set_task_factory(asyncio.eager_task_factory or None).
  virtual void set_task_factory(TaskFactory factory);
  // Feature "runner": asyncio.run(main, loop_factory=<this loop>) on this new, never-run loop:
  // RuntimeError when a loop is running in this thread; else main as the main task, run to
  // completion, the remaining tasks cancelled and awaited (CXL-12), async generators shut
  // down, the loop closed, and main's value returned or its exception raised (LIF-08).
  virtual Value run(CoroutinePtr main);
  // asyncio.run(main, loop_factory=<this loop>) of a plain value (`run: {value: V}`), which is no
  // awaitable: the RuntimeError inside a running loop as above; else asyncio.run's refusal
  // (ValueError "a coroutine was expected, got <repr(main)>" before 3.14, TypeError "An
  // asyncio.Future, a coroutine or an awaitable is required" from 3.14), after making and
  // closing the loop as that version's asyncio.run does (3.11+ make it first).
  virtual Value run_not_awaitable(const Value& main);

  // Feature "exception-handler". loop.set_exception_handler(handler) (an empty function: None,
  // the default handler); whether a custom handler is set (get_exception_handler() is not None);
  // loop.call_exception_handler(context); loop.default_exception_handler(context).
  virtual void set_exception_handler(ExceptionHandler handler);
  virtual bool has_exception_handler() const;
  virtual void call_exception_handler(const ContextArgs& context);
  virtual void default_exception_handler(const ContextArgs& context);
  // Feature "log-trace": every record the loop writes to its `asyncio` logger from now on goes to
  // `sink` as well (or instead: the suite does not care about stderr).
  virtual void set_log_sink(LogSink sink);
  // Feature "debug": loop.set_debug(enabled), loop.get_debug(), loop.slow_callback_duration = s.
  virtual void set_debug(bool enabled);
  virtual bool get_debug() const;
  virtual void set_slow_callback_duration(double seconds);

  // gc.collect(): what `drop` does after the interpreter let go of the future or task, so that
  // objects only reachable from each other (a pending task and the future only it awaits) are
  // freed, and reported, now. The default does nothing: right for a loop whose objects are freed
  // by reference counting alone.
  virtual void collect_garbage();
};

// The factory of loops for one implementation (and one backend of it).
class Adapter {
 public:
  virtual ~Adapter() = default;
  // Shown in reports and trace headers: "aiospec-reference/poll", "myloop-1.2/epoll".
  virtual std::string name() const = 0;
  // Names from spec/features.txt; a scenario needing any other is UNSUPPORTED.
  virtual std::set<std::string> features() const = 0;
  // A new loop whose time() is time.now() and whose selector waits through time.
  virtual std::unique_ptr<Loop> new_loop(VirtualTime& time) = 0;
  // The loop running in the calling thread, as one of the Loops made by new_loop, or nullptr.
  virtual Loop* running_loop() = 0;
  // Throws, from inside a scenario callback, what your loop treats as the Python exception
  // `type` (Exception, ValueError, RuntimeError, KeyboardInterrupt, SystemExit) with `message` as
  // its one argument (nullopt: no arguments, `raise ValueError`). KeyboardInterrupt and
  // SystemExit must escape run_forever mid-batch and come out of it as a LoopError of that type;
  // the others go to the loop's exception handler (ORD-08). A scenario's exception handler that
  // raises throws through here too.
  [[noreturn]] virtual void raise_in_callback(const std::string& type, const std::optional<std::string>& message) = 0;
};

}  // namespace aiospec::conformance
