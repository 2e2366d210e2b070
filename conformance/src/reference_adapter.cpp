#include "aiospec/conformance/reference_adapter.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include "aiospec/conformance/runner.hpp"
#include "aiospec/ref/clock.hpp"
#include "aiospec/ref/events.hpp"
#include "aiospec/ref/exceptions.hpp"
#include "aiospec/ref/format_helpers.hpp"
#include "aiospec/ref/futures.hpp"
#include "aiospec/ref/log.hpp"
#include "aiospec/ref/runners.hpp"
#include "aiospec/ref/selectors.hpp"
#include "aiospec/ref/taskgroups.hpp"
#include "aiospec/ref/tasks.hpp"
#include "aiospec/ref/timeouts.hpp"
#include "aiospec/ref/virtual_time.hpp"

namespace aiospec::conformance {

namespace {

// ---- Exceptions, both ways -------------------------------------------------------------------
// The reference loop raises ref::BaseException subclasses with CPython's class name and args;
// the suite speaks LoopError. Both carry __context__ and __cause__, translated along. Anything
// else (the suite's own Abort and Fault, a std::exception of the adapter) passes untouched.

Value to_json(const ref::Arg& arg) {
  struct ToJson {
    Value operator()(std::monostate) const { return nullptr; }
    Value operator()(bool b) const { return b; }
    Value operator()(std::int64_t i) const { return i; }
    Value operator()(double d) const { return d; }
    Value operator()(const std::string& s) const { return s; }
  };
  return std::visit(ToJson{}, arg);
}

ref::Arg to_arg(const Value& v) {
  if (v.is_null()) return std::monostate{};
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

constexpr int kMaxChain = 32;  // Python forbids cycles; a bound keeps a broken chain finite

// `native` holds a ref::BaseException (the LoopError remembers it: one Python object).
LoopError to_loop_error(const std::exception_ptr& native, int depth = 0) {
  const ref::BaseException& e = *ref::as_base_exception(native);
  Value args = Value::array();
  for (const auto& a : e.args()) args.push_back(to_json(a));
  LoopError out = LoopError::with_args(e.python_type(), std::move(args));
  out.set_native(native);
  if (depth < kMaxChain) {
    if (ref::as_base_exception(e.context())) {
      out.set_context(std::make_shared<LoopError>(to_loop_error(e.context(), depth + 1)));
    }
    if (ref::as_base_exception(e.cause())) {
      out.set_cause(std::make_shared<LoopError>(to_loop_error(e.cause(), depth + 1)));
    }
    if (const auto* group = dynamic_cast<const ref::BaseExceptionGroup*>(&e)) {
      std::vector<std::shared_ptr<const LoopError>> members;
      for (const auto& member : group->exceptions()) {
        if (!ref::as_base_exception(member)) std::rethrow_exception(member);  // a harness exception: not the loop's
        members.push_back(std::make_shared<LoopError>(to_loop_error(member, depth + 1)));
      }
      out.set_exceptions(std::move(members));  // what() becomes "msg (2 sub-exceptions)"
    }
  }
  return out;
}

// The reference loop's exception for `e`: the very object it was translated from, if any (with
// the context and cause the interpreter may have given it since), else a new one.
std::exception_ptr to_ref(const LoopError& e, int depth = 0) {
  std::exception_ptr out = e.native();
  if (!ref::as_base_exception(out) && e.is_group()) {
    // A group the interpreter made: its members translated, the class by name.
    std::vector<std::exception_ptr> members;
    for (const auto& member : e.exceptions()) members.push_back(to_ref(*member, depth + 1));
    std::string message = !e.args().empty() && e.args()[0].is_string() ? e.args()[0].get<std::string>() : "";
    out = e.type() == "ExceptionGroup"
              ? std::make_exception_ptr(ref::ExceptionGroup(std::move(message), std::move(members)))
              : std::make_exception_ptr(ref::BaseExceptionGroup(std::move(message), std::move(members)));
  }
  if (!ref::as_base_exception(out)) {
    ref::Args args;
    for (const auto& a : e.args()) args.push_back(to_arg(a));
    out = ref::make_exception(e.type(), std::move(args));
  }
  if (depth < kMaxChain) {
    auto* base = ref::as_base_exception(out);
    base->set_context(e.context() ? to_ref(*e.context(), depth + 1) : nullptr);
    base->set_cause(e.cause() ? to_ref(*e.cause(), depth + 1) : nullptr);
  }
  return out;
}

// A LoopError becomes the reference loop's exception; anything else stays what it is.
std::exception_ptr to_ref(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const LoopError& error) {
    return to_ref(error);
  } catch (...) {
    return e;
  }
}

// The suite's callback as the reference loop's: the same body, the name asyncio would show.
ref::Callback ref_callback(Callback callback) {
  std::string name = std::move(callback.name);
  return ref::Callback(std::function<void()>(std::move(static_cast<std::function<void()>&>(callback))), std::move(name));
}
ref::DoneCallback ref_done_callback(Callback callback) {
  std::string name = std::move(callback.name);
  return ref::DoneCallback([cb = std::move(callback)](ref::FutureBase&) { cb(); }, std::move(name));
}

// The translation layer: the body of every Handle, Future and Loop method below is one
// translated(...) call.
template <class F>
auto translated(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const ref::BaseException&) {
    throw to_loop_error(std::current_exception());
  }
}

// The loop's clock and its waits both belong to the scenario's VirtualTime.
class WorldClock final : public ref::Clock {
 public:
  explicit WorldClock(VirtualTime& time) : time_(time) {}
  double time() override { return time_.now(); }

 private:
  VirtualTime& time_;
};

class WorldKeeper final : public ref::TimeKeeper {
 public:
  explicit WorldKeeper(VirtualTime& time) : time_(time) {}
  void before_poll(std::optional<double> timeout) override { time_.before_poll(timeout); }
  bool let_time_pass(std::optional<double> deadline) override { return time_.let_time_pass(deadline); }

 private:
  VirtualTime& time_;
};

// The backend's selector; a backend this build has but the kernel refuses (io_uring under
// seccomp) is Unavailable: the scenario is UNSUPPORTED on this machine, with the kernel's reason.
std::unique_ptr<ref::Selector> selector_or_unavailable(const std::string& backend) {
  try {
    return ref::make_selector(backend);
  } catch (const ref::BackendUnavailable& e) {
    throw Unavailable{e.what()};  // names the backend and what refused it
  }
}

// What raise_in_callback throws: the reference loop's exception of that type.
template <class E>
struct Raised final : E {
  explicit Raised(ref::Args args) : E(std::move(args)) {}
};

struct RaisedException final : ref::Error {  // Python's plain Exception
  explicit RaisedException(ref::Args args) : ref::Error("Exception", std::move(args)) {}
};

// An exception of a context or a log record as the suite sees it: the loop's own translated
// (the same object each time), a LoopError as it is, any other std::exception by its what().
std::optional<LoopError> suite_exception(const std::exception_ptr& e) {
  if (!e) return std::nullopt;
  if (ref::as_base_exception(e)) return to_loop_error(e);
  try {
    std::rethrow_exception(e);
  } catch (const LoopError& error) {
    return error;
  } catch (const std::exception& other) {
    LoopError error("Exception", other.what());
    error.set_native(e);
    return error;
  } catch (...) {
    std::rethrow_exception(e);  // the suite's own stop: not the loop's to report
  }
}

// The loop's records, to the interpreter's sink (feature "log-trace"), or nowhere: the suite
// does not read stderr.
class SinkLogger final : public ref::Logger {
 public:
  explicit SinkLogger(LogSink sink) : sink_(std::move(sink)) {}
  void log(const ref::LogRecord& record) override {
    if (sink_) sink_(LogRecord{ref::level_name(record.level), record.message, suite_exception(record.exception)});
  }

 private:
  LogSink sink_;
};

class RefHandle final : public Handle {
 public:
  explicit RefHandle(ref::HandlePtr handle) : handle_(std::move(handle)) {}
  const ref::Handle* native() const { return handle_.get(); }
  void cancel() override { translated([&] { handle_->cancel(); }); }
  double when() const override {
    return translated([&] {
      const auto* timer = dynamic_cast<const ref::TimerHandle*>(handle_.get());
      if (!timer) throw ref::Error("AttributeError", std::string("'Handle' object has no attribute 'when'"));
      return timer->when();
    });
  }

 private:
  ref::HandlePtr handle_;
};

// ---- Futures and tasks --------------------------------------------------------------------------

// What every wrapper of a reference future gives back: the native future, for run_until_complete,
// for a task awaiting it, for gather's children.
class NativeFuture {
 public:
  virtual ~NativeFuture() = default;
  virtual std::shared_ptr<ref::FutureBase> native_base() const = 0;
};

// The Value of a native result: a Value as it is; gather's list as a JSON array with returned
// exceptions as describe() objects.
Value to_value(const Value& v) { return v; }
Value to_value(const std::vector<ref::Gathered<Value>>& results) {
  Value out = Value::array();
  for (const auto& r : results) {
    if (const auto* e = std::get_if<std::exception_ptr>(&r)) {
      if (!ref::as_base_exception(*e)) std::rethrow_exception(*e);  // a harness exception: not the loop's
      out.push_back(describe(to_loop_error(*e)));
    } else {
      out.push_back(std::get<0>(r));
    }
  }
  return out;
}
void from_value(const Value& v, Value& out) { out = v; }
void from_value(const Value& v, std::vector<ref::Gathered<Value>>& out) {
  out.clear();
  for (const auto& item : v.is_array() ? v : Value::array({v})) out.emplace_back(std::in_place_index<0>, item);
}

std::optional<LoopError> exception_of(const ref::FutureBase& f) {
  const auto exc = f.exception();
  if (!exc) return std::nullopt;
  if (ref::as_base_exception(exc)) return to_loop_error(exc);
  std::rethrow_exception(exc);  // the suite's own exception, stored by a task it escaped from
}

// asyncio.Future methods over a native future of result type T (Value, or gather's list).
template <class Native, class Base>
class FutureMethods : public Base, public NativeFuture {
 public:
  explicit FutureMethods(std::shared_ptr<Native> future) : future_(std::move(future)) {}

  void set_result(const Value& value) override {
    translated([&] {
      typename Native::result_type native;
      from_value(value, native);
      future_->set_result(std::move(native));
    });
  }
  Value result() const override { return translated([&] { return to_value(future_->result()); }); }
  bool done() const override { return translated([&] { return future_->done(); }); }
  void add_done_callback(Callback callback) override {
    translated([&] { future_->FutureBase::add_done_callback(ref_done_callback(std::move(callback))); });
  }
  void set_exception(const LoopError& error) override { translated([&] { future_->set_exception(to_ref(error)); }); }
  bool cancel(const std::optional<std::string>& message) override {
    return translated([&] { return future_->cancel(message); });
  }
  bool cancelled() const override { return translated([&] { return future_->cancelled(); }); }
  std::optional<LoopError> exception() const override { return translated([&] { return exception_of(*future_); }); }

  std::shared_ptr<ref::FutureBase> native_base() const override { return future_; }
  const std::shared_ptr<Native>& native() const { return future_; }

 protected:
  std::shared_ptr<Native> future_;
};

using RefFuture = FutureMethods<ref::Future<Value>, Future>;
using RefGatheringFuture = FutureMethods<ref::Future<std::vector<ref::Gathered<Value>>>, Future>;

class RefTask final : public FutureMethods<ref::Task<Value>, Task> {
 public:
  using FutureMethods::FutureMethods;
  int cancelling() const override { return translated([&] { return future_->cancelling(); }); }
  int uncancel() override { return translated([&] { return future_->uncancel(); }); }
};

// A future the interpreter only passes along (what a reference coroutine yields, of a result type
// that is not Value): yielded back up to a task, it is unwrapped again.
class PassedFuture final : public Future, public NativeFuture {
 public:
  explicit PassedFuture(std::shared_ptr<ref::FutureBase> future) : future_(std::move(future)) {}
  void set_result(const Value&) override { throw Fault{"set_result on a reference-loop internal future"}; }
  Value result() const override { throw Fault{"result() of a reference-loop internal future"}; }
  bool done() const override { return future_->done(); }
  void add_done_callback(Callback callback) override {
    translated([&] { future_->add_done_callback(ref_done_callback(std::move(callback))); });
  }
  bool cancel(const std::optional<std::string>& message) override {
    return translated([&] { return future_->cancel(message); });
  }
  bool cancelled() const override { return future_->cancelled(); }
  std::shared_ptr<ref::FutureBase> native_base() const override { return future_; }

 private:
  std::shared_ptr<ref::FutureBase> future_;
};

// The native future of one of the wrappers above.
std::shared_ptr<ref::FutureBase> native_of(const std::shared_ptr<Future>& future) {
  auto* native = dynamic_cast<NativeFuture*>(future.get());
  if (native == nullptr) throw Fault{"a future that is not the reference loop's"};
  return native->native_base();
}

std::shared_ptr<ref::Future<Value>> native_value_future(const std::shared_ptr<Future>& future) {
  auto native = std::dynamic_pointer_cast<ref::Future<Value>>(native_of(future));
  if (!native) throw Fault{"a reference-loop future whose result is not a Value"};
  return native;
}

// ---- Coroutines, both ways ----------------------------------------------------------------------

// The interpreter's coroutine as the reference loop drives it: steps translated, yielded
// wrappers unwrapped to their native futures.
class SuiteCoroutine final : public ref::AnyCoroutine<Value> {
 public:
  explicit SuiteCoroutine(CoroutinePtr coro) : coro_(std::move(coro)) {}

  ref::Step send() override { return step([&] { return coro_->send(); }); }
  ref::Step throw_(std::exception_ptr exception) override {
    if (!ref::as_base_exception(exception)) std::rethrow_exception(exception);  // the suite's own
    const LoopError error = to_loop_error(exception);
    return step([&] { return coro_->throw_in(error); });
  }
  Value result() override { return std::move(value_); }

 private:
  template <class F>
  ref::Step step(F&& f) {
    conformance::Step s;
    try {
      s = f();
    } catch (...) {
      return ref::Step::raised(to_ref(std::current_exception()));
    }
    switch (s.kind) {
      case conformance::Step::Kind::yielded:
        return ref::Step::yielded(s.future ? native_of(s.future) : nullptr);
      case conformance::Step::Kind::returned:
        value_ = std::move(s.value);
        return ref::Step::returned();
      case conformance::Step::Kind::raised:
        break;
    }
    return ref::Step::raised(to_ref(s.exception));
  }

  CoroutinePtr coro_;
  Value value_;
};

// A reference coroutine (sleep, wait_for) as the interpreter drives it (yield from).
class RefCoroutine final : public Coroutine {
 public:
  RefCoroutine(std::unique_ptr<ref::AnyCoroutine<Value>> coro, std::function<std::shared_ptr<Future>(std::shared_ptr<ref::FutureBase>)> wrap)
      : coro_(std::move(coro)), wrap_(std::move(wrap)) {}

  conformance::Step send() override { return step(coro_->send()); }
  conformance::Step throw_in(const LoopError& error) override { return step(coro_->throw_(to_ref(error))); }

  // `given` went in as the loop's exception `native` (TaskGroup.__aexit__'s argument): raised
  // again, it comes out as the interpreter's own object, which may have had no native one.
  void pass_through(std::exception_ptr native, LoopError given) {
    given_native_ = std::move(native);
    given_.emplace(std::move(given));
  }

 private:
  conformance::Step step(ref::Step s) {
    conformance::Step out;
    switch (s.kind) {
      case ref::Step::Kind::yielded:
        out.kind = conformance::Step::Kind::yielded;
        if (s.future) out.future = wrap_(std::move(s.future));
        return out;
      case ref::Step::Kind::returned:
        out.kind = conformance::Step::Kind::returned;
        out.value = translated([&] { return coro_->result(); });
        return out;
      case ref::Step::Kind::raised:
        break;
    }
    out.kind = conformance::Step::Kind::raised;
    if (given_ && s.exception == given_native_) {
      out.exception = std::make_exception_ptr(*given_);
    } else {
      out.exception = ref::as_base_exception(s.exception) ? std::make_exception_ptr(to_loop_error(s.exception))
                                                          : s.exception;
    }
    return out;
  }

  std::exception_ptr given_native_;
  std::optional<LoopError> given_;
  std::unique_ptr<ref::AnyCoroutine<Value>> coro_;
  std::function<std::shared_ptr<Future>(std::shared_ptr<ref::FutureBase>)> wrap_;
};

// ---- Timeout scopes (feature "timeouts") --------------------------------------------------------

class RefTimeout final : public Timeout {
 public:
  explicit RefTimeout(std::optional<double> when) : timeout_(std::make_unique<ref::Timeout>(when)) {}

  void enter() override { translated([&] { timeout_->enter(); }); }
  std::optional<LoopError> exit(std::optional<LoopError> error) override {
    const std::exception_ptr raised = error ? to_ref(*error) : nullptr;
    const ref::BaseException* base = ref::as_base_exception(raised);
    const std::exception_ptr context_before = base ? base->context() : nullptr;
    try {
      timeout_->exit(raised);
    } catch (const ref::BaseException&) {
      return to_loop_error(std::current_exception());  // TimeoutError from `raised`
    }
    if (!error) return std::nullopt;
    // The same exception goes on, with 3.13's TimeoutError spliced into its __context__ chain
    // (and into its members' chains, for a group).
    if (error->native()) return to_loop_error(raised);
    LoopError out = *error;
    if (base != nullptr && base->context() != context_before) {
      out.set_context(std::make_shared<LoopError>(to_loop_error(base->context())));
    }
    return out;
  }
  std::optional<double> when() const override { return translated([&] { return timeout_->when(); }); }
  void reschedule(std::optional<double> when) override { translated([&] { timeout_->reschedule(when); }); }
  bool expired() const override { return translated([&] { return timeout_->expired(); }); }

 private:
  std::unique_ptr<ref::Timeout> timeout_;
};

class RefLoop;

// ---- Task groups (feature "task-groups"): the class needs RefLoop's wrappers, below it. ---------

class RefTaskGroup final : public TaskGroup {
 public:
  explicit RefTaskGroup(RefLoop& loop) : loop_(loop), group_(std::make_shared<ref::TaskGroup>()) {}
  void enter() override { translated([&] { group_->enter(); }); }
  std::shared_ptr<Task> create_task(CoroutinePtr coroutine, std::optional<std::string> name) override;
  CoroutinePtr exit(std::optional<LoopError> error) override;
  void cancel() override;

 private:
  RefLoop& loop_;
  std::shared_ptr<ref::TaskGroup> group_;  // shared: its children's callbacks keep it alive
};

class RefLoop final : public Loop {
 public:
  // The references to the awaited future's wrapper an interpreter frame awaiting it holds (its
  // await's one shared_ptr, measured on exc-0013).
  static constexpr long kAwaitHolds = 1;
  RefLoop(ReferenceAdapter& adapter, VirtualTime& time, const std::string& backend,
          const ReferenceAdapter::LoopFactory& factory)
      : adapter_(adapter), clock_(time), keeper_(time) {
    translated([&] {
      const ref::Profile& profile = adapter.profile();
      // Interposed time: the loop as it runs anywhere, on time.monotonic() and a real wait;
      // otherwise on the world's clock, waiting through the VirtualSelector.
      std::unique_ptr<ref::Selector> selector = selector_or_unavailable(backend);
      ref::Clock* clock = &monotonic_;
      ref::VirtualSelector* virtual_selector = nullptr;
      if (!adapter.own_clock()) {
        auto wrapped = std::make_unique<ref::VirtualSelector>(std::move(selector), clock_, keeper_);
        virtual_selector = wrapped.get();
        selector = std::move(wrapped);
        clock = &clock_;
      }
      loop_ = factory ? factory(std::move(selector), *clock, profile)
                      : std::make_unique<ref::EventLoop>(std::move(selector), *clock, profile);
      if (virtual_selector) virtual_selector->attach(*loop_);
      // The interpreter installs the handler it wants at once (its fault net, or None for the
      // report areas) and the log sink when it traces the log; until then records go nowhere.
      loop_->set_logger(std::make_shared<SinkLogger>(nullptr));
    });
    adapter_.enroll(loop_.get(), this);
  }
  ~RefLoop() override {
    adapter_.withdraw(loop_.get());
    // What the loop reports while it dies must not reach the interpreter's handler or sink,
    // which may be gone by now (nothing is recorded after the program's last operation).
    loop_->set_exception_handler(nullptr);
    loop_->set_logger(std::make_shared<SinkLogger>(nullptr));
  }

  std::shared_ptr<Handle> call_soon(Callback cb) override {
    return wrap(translated([&] { return loop_->call_soon(ref_callback(std::move(cb))); }));
  }
  std::shared_ptr<Handle> call_soon_threadsafe(Callback cb) override {
    return wrap(translated([&] { return loop_->call_soon_threadsafe(ref_callback(std::move(cb))); }));
  }
  std::shared_ptr<Handle> call_later(double delay, Callback cb) override {
    return wrap(translated([&] { return loop_->call_later(delay, ref_callback(std::move(cb))); }));
  }
  std::shared_ptr<Handle> call_at(double when, Callback cb) override {
    return wrap(translated([&] { return loop_->call_at(when, ref_callback(std::move(cb))); }));
  }
  double time() override { return translated([&] { return loop_->time(); }); }
  void run_forever() override { translated([&] { loop_->run_forever(); }); }
  Value run_until_complete(const std::shared_ptr<Future>& future) override {
    auto native = native_value_future(future);
    return translated([&] { return loop_->run_until_complete(native); });
  }
  void stop() override { translated([&] { loop_->stop(); }); }
  void close() override { translated([&] { loop_->close(); }); }
  bool is_running() const override { return translated([&] { return loop_->is_running(); }); }
  bool is_closed() const override { return translated([&] { return loop_->is_closed(); }); }
  std::shared_ptr<Future> create_future() override {
    return wrap_value_future(translated([&] { return loop_->create_future<Value>(); }));
  }
  void add_reader(int fd, Callback cb) override { translated([&] { loop_->add_reader(fd, ref_callback(std::move(cb))); }); }
  bool remove_reader(int fd) override { return translated([&] { return loop_->remove_reader(fd); }); }
  void add_writer(int fd, Callback cb) override { translated([&] { loop_->add_writer(fd, ref_callback(std::move(cb))); }); }
  bool remove_writer(int fd) override { return translated([&] { return loop_->remove_writer(fd); }); }

  // ---- feature "tasks" ----
  std::shared_ptr<Task> create_task(CoroutinePtr coroutine, std::optional<std::string> name) override {
    auto native = translated([&] {
      return loop_->create_task<Value>(std::make_unique<SuiteCoroutine>(std::move(coroutine)), std::move(name));
    });
    return task_wrapper(native);
  }
  std::shared_ptr<Task> current_task() override {
    auto native = translated([&] { return ref::current_task(loop_.get()); });
    if (!native) return nullptr;
    auto task = std::dynamic_pointer_cast<ref::Task<Value>>(native);
    if (!task) throw Fault{"the current task is not a Task of Value"};
    return task_wrapper(task);
  }
  CoroutinePtr sleep(double delay, const Value& result) override {
    return coroutine(std::make_unique<ref::Coroutine<Value>>(ref::sleep<Value>(delay, result)));
  }
  std::shared_ptr<Future> gather(std::vector<Awaitable> children, bool return_exceptions) override {
    std::vector<ref::Awaitable<Value>> natives;
    for (auto& child : children) natives.push_back(native_awaitable(std::move(child)));
    auto outer = translated([&] { return ref::gather<Value>(std::move(natives), return_exceptions); });
    return wrapper_of<RefGatheringFuture>(outer);
  }
  std::shared_ptr<Future> shield(Awaitable inner) override {
    auto outer = translated([&] { return ref::shield<Value>(native_awaitable(std::move(inner))); });
    return wrap_value_future(std::move(outer));
  }
  CoroutinePtr wait_for(Awaitable inner, std::optional<double> timeout) override {
    return coroutine(std::make_unique<ref::Coroutine<Value>>(ref::wait_for<Value>(native_awaitable(std::move(inner)), timeout)));
  }
  CoroutinePtr wait(std::vector<std::shared_ptr<Future>> futures, std::optional<double> timeout,
                    ReturnWhen return_when) override {
    std::vector<std::shared_ptr<ref::FutureBase>> natives;
    for (const auto& f : futures) natives.push_back(native_of(f));
    const auto when = return_when == ReturnWhen::first_completed   ? ref::ReturnWhen::first_completed
                      : return_when == ReturnWhen::first_exception ? ref::ReturnWhen::first_exception
                                                                   : ref::ReturnWhen::all_completed;
    return coroutine(std::make_unique<ref::Coroutine<Value>>(wait_indices(std::move(natives), timeout, when)));
  }

  // ---- features "timeouts", "task-groups", "eager-tasks", "runner" ----
  std::shared_ptr<Timeout> timeout_at(std::optional<double> when) override {
    return std::make_shared<RefTimeout>(when);
  }
  std::shared_ptr<TaskGroup> task_group() override { return std::make_shared<RefTaskGroup>(*this); }
  void set_task_factory(TaskFactory factory) override {
    translated([&] {
      loop_->set_task_factory<Value>(factory == TaskFactory::eager ? ref::eager_task_factory<Value>()
                                                                   : ref::TaskFactory<Value>());
    });
  }
  Value run(CoroutinePtr main) override {
    std::unique_ptr<ref::AnyCoroutine<Value>> native = std::make_unique<SuiteCoroutine>(std::move(main));
    return translated([&] { return ref::run<Value>(std::move(native), *loop_); });
  }
  Value run_not_awaitable(const Value& main) override {
    return translated([&]() -> Value { ref::run_not_awaitable(to_arg(main), *loop_); });
  }

  // ---- features "exception-handler", "log-trace", "debug" ----
  void set_exception_handler(ExceptionHandler handler) override {
    if (!handler) {
      loop_->set_exception_handler(nullptr);
      return;
    }
    loop_->set_exception_handler([handler = std::move(handler)](ref::EventLoop&, const ref::ExceptionContext& context) {
      ExceptionContext seen;
      if (context.contains("message")) seen.message = context.message();
      seen.keys = context.sorted_keys();
      if (context.contains("exception")) seen.exception = suite_exception(context.exception());
      handler(seen);  // what it throws (a scenario's `raise`) is the loop's business from here
    });
  }
  bool has_exception_handler() const override { return static_cast<bool>(loop_->get_exception_handler()); }
  void call_exception_handler(const ContextArgs& args) override {
    const ref::ExceptionContext context = native_context(args);
    translated([&] { loop_->call_exception_handler(context); });
  }
  void default_exception_handler(const ContextArgs& args) override {
    const ref::ExceptionContext context = native_context(args);
    translated([&] { loop_->default_exception_handler(context); });
  }
  void set_log_sink(LogSink sink) override { loop_->set_logger(std::make_shared<SinkLogger>(std::move(sink))); }
  void set_debug(bool enabled) override { translated([&] { loop_->set_debug(enabled); }); }
  bool get_debug() const override { return loop_->get_debug(); }
  void set_slow_callback_duration(double seconds) override { loop_->set_slow_callback_duration(seconds); }

  // gc.collect() after a `drop`. The interpreter's references to a wrapper are its tables' (the
  // scenario's names) and its coroutine frames' (an await under way, kAwaitHolds each): a
  // wrapper held by nothing but the frames of the tasks waiting for its future is inside the
  // cycle CPython's collector sees, so its one reference to the native future counts as internal.
  void collect_garbage() override {
    translated([&] {
      std::map<const ref::FutureBase*, long> awaiting;  // future -> pending tasks waiting for it
      {
        const auto tasks = ref::all_tasks(loop_.get());  // let go before the counting
        for (const auto& task : tasks) {
          if (const ref::FutureBase* waited = task->waiting_for()) ++awaiting[waited];
        }
      }
      loop_->collect_garbage([&](const ref::FutureBase& f) -> long {
        const auto it = wrappers_.find(&f);
        if (it == wrappers_.end()) return 0;
        const long holders = it->second.use_count();
        const auto waiting = awaiting.find(&f);
        return holders > 0 && waiting != awaiting.end() && holders <= waiting->second * kAwaitHolds ? 1 : 0;
      });
    });
  }

  // For RefTaskGroup: the wrappers the interpreter sees.
  std::shared_ptr<Task> task_wrapper(const std::shared_ptr<ref::Task<Value>>& native) {
    return wrapper_of<RefTask>(native);
  }
  CoroutinePtr coroutine(std::unique_ptr<ref::AnyCoroutine<Value>> native) {
    return std::make_unique<RefCoroutine>(std::move(native), [this](std::shared_ptr<ref::FutureBase> f) {
      return wrap_any_future(std::move(f));
    });
  }

 private:
  // asyncio.wait's (done, pending) as indices into `natives`, ascending.
  static ref::Coroutine<Value> wait_indices(std::vector<std::shared_ptr<ref::FutureBase>> natives,
                                            std::optional<double> timeout, ref::ReturnWhen return_when) {
    const ref::WaitResult result = co_await ref::wait(natives, timeout, return_when);
    Value done = Value::array(), pending = Value::array();
    for (std::size_t i = 0; i < natives.size(); ++i) {
      const auto in = [&](const auto& some) { return std::find(some.begin(), some.end(), natives[i]) != some.end(); };
      if (in(result.done)) {
        done.push_back(i);
      } else if (in(result.pending)) {
        pending.push_back(i);
      }
    }
    Value out = Value::object();
    out["done"] = std::move(done);
    out["pending"] = std::move(pending);
    co_return out;
  }

  // One wrapper per native future: current_task() returns what create_task returned, shield()
  // of a done future returns that future.
  template <class Wrapper, class Native>
  std::shared_ptr<Wrapper> wrapper_of(const std::shared_ptr<Native>& native) {
    const ref::FutureBase* key = native.get();
    if (auto known = std::dynamic_pointer_cast<Wrapper>(wrappers_[key].lock())) return known;
    for (auto it = wrappers_.begin(); it != wrappers_.end();) {  // forget the wrappers nobody holds
      it = it->second.expired() && it->first != key ? wrappers_.erase(it) : std::next(it);
    }
    auto wrapper = std::make_shared<Wrapper>(native);
    wrappers_[key] = wrapper;
    return wrapper;
  }
  // A native Future<Value> as the interpreter sees it: its task wrapper if it is a task.
  std::shared_ptr<Future> wrap_value_future(std::shared_ptr<ref::Future<Value>> native) {
    if (auto task = std::dynamic_pointer_cast<ref::Task<Value>>(native)) return task_wrapper(task);
    return wrapper_of<RefFuture>(native);
  }
  std::shared_ptr<Future> wrap_any_future(std::shared_ptr<ref::FutureBase> native) {
    if (auto value = std::dynamic_pointer_cast<ref::Future<Value>>(native)) return wrap_value_future(std::move(value));
    return std::make_shared<PassedFuture>(std::move(native));
  }
  static ref::Awaitable<Value> native_awaitable(Awaitable awaitable) {
    if (awaitable.future) return ref::Awaitable<Value>(native_value_future(awaitable.future));
    if (!awaitable.coroutine) throw Fault{"an Awaitable with neither a future nor a coroutine"};
    return ref::Awaitable<Value>(
        std::unique_ptr<ref::AnyCoroutine<Value>>(std::make_unique<SuiteCoroutine>(std::move(awaitable.coroutine))));
  }

  static std::shared_ptr<Handle> wrap(ref::HandlePtr handle) { return std::make_shared<RefHandle>(std::move(handle)); }

  // The dict a scenario builds, in its order: message, exception, future, task, handle, keys.
  static ref::ExceptionContext native_context(const ContextArgs& args) {
    ref::ExceptionContext context;
    if (args.message) context.set("message", *args.message);
    if (args.exception) context.set("exception", to_ref(*args.exception));
    if (args.future) context.set("future", static_cast<const ref::FutureBase*>(native_of(args.future).get()));
    if (args.task) {
      auto native = std::dynamic_pointer_cast<ref::TaskBase>(native_of(args.task));
      if (!native) throw Fault{"a task that is not the reference loop's"};
      context.set("task", static_cast<const ref::TaskBase*>(native.get()));
    }
    if (args.handle) {
      const auto* handle = dynamic_cast<const RefHandle*>(args.handle.get());
      if (handle == nullptr) throw Fault{"a handle that is not the reference loop's"};
      context.set("handle", handle->native());
    }
    for (const auto& [key, value] : args.keys) context.set(key, value);
    return context;
  }

  ReferenceAdapter& adapter_;
  WorldClock clock_;
  WorldKeeper keeper_;
  ref::MonotonicClock monotonic_;
  std::map<const ref::FutureBase*, std::weak_ptr<Future>> wrappers_;
  std::unique_ptr<ref::EventLoop> loop_;  // last: it uses the clock and the keeper until it dies
};

std::shared_ptr<Task> RefTaskGroup::create_task(CoroutinePtr coroutine, std::optional<std::string> name) {
  auto native = translated([&] {
    return group_->create_task<Value>(
        std::unique_ptr<ref::AnyCoroutine<Value>>(std::make_unique<SuiteCoroutine>(std::move(coroutine))),
        std::move(name));
  });
  return loop_.task_wrapper(native);
}

namespace {
// `await tg.__aexit__(...)`: what __aexit__ returned (null for None, true), else what it raised.
ref::Coroutine<Value> group_exit(std::shared_ptr<ref::TaskGroup> group, std::exception_ptr exc) {
  const bool suppressed = co_await group->exit(std::move(exc));
  co_return suppressed ? Value(true) : Value(nullptr);
}
}  // namespace

// A scenario's group is always entered (its name is bound after __aenter__), so the group knows
// its loop's profile and refuses cancel() before 3.15 itself.
void RefTaskGroup::cancel() {
  translated([&] { group_->cancel(); });
}

CoroutinePtr RefTaskGroup::exit(std::optional<LoopError> error) {
  const std::exception_ptr exc = error ? to_ref(*error) : nullptr;
  auto coro = loop_.coroutine(std::make_unique<ref::Coroutine<Value>>(group_exit(group_, exc)));
  // Raised again (a SystemExit of the body, the body's CancelledError), it is the interpreter's.
  if (error) static_cast<RefCoroutine&>(*coro).pass_through(exc, *error);
  return coro;
}

}  // namespace

ReferenceAdapter::ReferenceAdapter(std::string backend, ref::Profile profile, std::string name, LoopFactory factory)
    : backend_(std::move(backend)),
      profile_(std::move(profile)),
      name_(name.empty() ? "aiospec-reference/" + backend_ : std::move(name)),
      factory_(std::move(factory)) {}

// The suite's default version (runner.hpp) and the reference loop's are one fact, stated twice
// only because neither library may include the other.
static_assert(ref::kDefaultVersion == std::string_view(kDefaultProfile));

ReferenceAdapter::ReferenceAdapter(std::string backend)
    : ReferenceAdapter(std::move(backend), ref::Profile::for_version(ref::kDefaultVersion)) {}

std::set<std::string> ReferenceAdapter::features() const {
  std::set<std::string> f = {"threads", "fd-io",        "select-trace",   "timer-heap-ties", "multiple-loops",
                             "futures", "running-loop", "float-specials", "exact-clock",     "tasks",
                             "timeouts", "task-groups", "eager-tasks", "runner", "exception-handler", "log-trace", "debug"};
  if (own_clock_) f.erase("select-trace");  // its waits are the kernel's, not VirtualTime's
  return f;
}

std::unique_ptr<Loop> ReferenceAdapter::new_loop(VirtualTime& time) {
  return std::make_unique<RefLoop>(*this, time, backend_, factory_);
}

void ReferenceAdapter::raise_in_callback(const std::string& type, const std::optional<std::string>& message) {
  ref::Args args;
  if (message) args.emplace_back(*message);
  if (type == "KeyboardInterrupt") throw Raised<ref::KeyboardInterrupt>(args);
  if (type == "SystemExit") throw Raised<ref::SystemExit>(args);
  if (type == "ValueError") throw Raised<ref::ValueError>(args);
  if (type == "RuntimeError") throw Raised<ref::RuntimeError>(args);
  if (type == "TypeError") throw Raised<ref::TypeError>(args);
  if (type == "TimeoutError") throw Raised<ref::TimeoutError>(args);
  if (type == "CancelledError") throw Raised<ref::CancelledError>(args);
  if (type == "Exception") throw RaisedException(args);
  throw Fault{"raise_in_callback: no exception type '" + type + "'"};
}

Loop* ReferenceAdapter::running_loop() {
  const auto it = wrappers_.find(ref::running_loop_or_null());
  return it == wrappers_.end() ? nullptr : it->second;
}

}  // namespace aiospec::conformance
