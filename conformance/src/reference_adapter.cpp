#include "aiospec/conformance/reference_adapter.hpp"

#include <string_view>

#include "aiospec/conformance/runner.hpp"
#include "aiospec/ref/clock.hpp"
#include "aiospec/ref/events.hpp"
#include "aiospec/ref/exceptions.hpp"
#include "aiospec/ref/futures.hpp"
#include "aiospec/ref/selectors.hpp"
#include "aiospec/ref/virtual_time.hpp"

namespace aiospec::conformance {

namespace {

// The translation layer: the body of every Handle, Future and Loop method below is one
// translated(...) call. The reference loop raises ref::Error with CPython's class name, and
// SystemExit/KeyboardInterrupt out of run_forever; the suite speaks LoopError. Anything else
// (a std::exception of the adapter or the loop) passes on untranslated, and the interpreter
// reports it as a fault; the suite's own non-std exceptions pass through unchanged.
template <class F>
auto translated(F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const ref::Error& e) {
    throw LoopError(e.python_type(), e.what());
  } catch (const ref::KeyboardInterrupt& e) {
    throw LoopError("KeyboardInterrupt", e.what());
  } catch (const ref::SystemExit& e) {
    throw LoopError("SystemExit", e.what());
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

// What raise_in_callback throws carries this tag, so the exception handler can tell a scenario's
// `raise` from anything else that reaches it.
struct RaisedTag {};

template <class E>
struct Raised final : E, RaisedTag {
  explicit Raised(std::string message) : E(std::move(message)) {}
};

struct RaisedException final : ref::Error, RaisedTag {  // Python's plain Exception
  explicit RaisedException(std::string message) : ref::Error("Exception", std::move(message)) {}
};

// The loops' exception handler. A `raise` is the point of ORD-08 and what the handler then does
// is not traced in these areas; anything else means an operation failed in a way nothing caught.
void accept_only_raised(ref::EventLoop&, const ref::ExceptionContext& context) {
  std::string what = "the loop's exception handler was called: " + context.message;
  if (context.exception) {
    try {
      std::rethrow_exception(context.exception);
    } catch (const RaisedTag&) {
      return;
    } catch (const std::exception& e) {
      what += std::string(": ") + e.what();
    } catch (...) {
      what += ": an exception that is not a std::exception";
    }
  }
  throw Fault{what};
}

class RefHandle final : public Handle {
 public:
  explicit RefHandle(ref::HandlePtr handle) : handle_(std::move(handle)) {}
  void cancel() override { translated([&] { handle_->cancel(); }); }
  double when() const override {
    return translated([&] {
      auto timer = std::dynamic_pointer_cast<ref::TimerHandle>(handle_);
      if (!timer) throw ref::Error("AttributeError", "'Handle' object has no attribute 'when'");
      return timer->when();
    });
  }

 private:
  ref::HandlePtr handle_;
};

class RefFuture final : public Future {
 public:
  explicit RefFuture(std::shared_ptr<ref::Future<Value>> future) : future_(std::move(future)) {}
  void set_result(const Value& value) override { translated([&] { future_->set_result(value); }); }
  Value result() const override { return translated([&] { return future_->result(); }); }
  bool done() const override { return translated([&] { return future_->done(); }); }
  void add_done_callback(Callback callback) override {
    translated([&] {
      future_->add_done_callback([callback = std::move(callback)](ref::Future<Value>&) { callback(); });
    });
  }
  const std::shared_ptr<ref::Future<Value>>& native() const { return future_; }

 private:
  std::shared_ptr<ref::Future<Value>> future_;
};

class RefLoop final : public Loop {
 public:
  RefLoop(ReferenceAdapter& adapter, VirtualTime& time, const std::string& backend,
          const ReferenceAdapter::LoopFactory& factory)
      : adapter_(adapter), clock_(time), keeper_(time) {
    translated([&] {
      auto selector = std::make_unique<ref::VirtualSelector>(ref::make_selector(backend), clock_, keeper_);
      auto* virtual_selector = selector.get();
      const ref::Profile& profile = adapter.profile();
      loop_ = factory ? factory(std::move(selector), clock_, profile)
                      : std::make_unique<ref::EventLoop>(std::move(selector), clock_, profile);
      virtual_selector->attach(*loop_);
      // As the oracle's handler: a `raise` silently, anything else a fault.
      loop_->set_exception_handler(accept_only_raised);
    });
    adapter_.enroll(loop_.get(), this);
  }
  ~RefLoop() override { adapter_.withdraw(loop_.get()); }

  std::shared_ptr<Handle> call_soon(Callback cb) override {
    return wrap(translated([&] { return loop_->call_soon(std::move(cb)); }));
  }
  std::shared_ptr<Handle> call_soon_threadsafe(Callback cb) override {
    return wrap(translated([&] { return loop_->call_soon_threadsafe(std::move(cb)); }));
  }
  std::shared_ptr<Handle> call_later(double delay, Callback cb) override {
    return wrap(translated([&] { return loop_->call_later(delay, std::move(cb)); }));
  }
  std::shared_ptr<Handle> call_at(double when, Callback cb) override {
    return wrap(translated([&] { return loop_->call_at(when, std::move(cb)); }));
  }
  double time() override { return translated([&] { return loop_->time(); }); }
  void run_forever() override { translated([&] { loop_->run_forever(); }); }
  Value run_until_complete(const std::shared_ptr<Future>& future) override {
    return translated([&] {
      auto native = std::dynamic_pointer_cast<RefFuture>(future);
      if (!native) throw ref::TypeError("a future of another implementation");
      return loop_->run_until_complete(native->native());
    });
  }
  void stop() override { translated([&] { loop_->stop(); }); }
  void close() override { translated([&] { loop_->close(); }); }
  bool is_running() const override { return translated([&] { return loop_->is_running(); }); }
  bool is_closed() const override { return translated([&] { return loop_->is_closed(); }); }
  std::shared_ptr<Future> create_future() override {
    return std::make_shared<RefFuture>(translated([&] { return loop_->create_future<Value>(); }));
  }
  void add_reader(int fd, Callback cb) override { translated([&] { loop_->add_reader(fd, std::move(cb)); }); }
  bool remove_reader(int fd) override { return translated([&] { return loop_->remove_reader(fd); }); }
  void add_writer(int fd, Callback cb) override { translated([&] { loop_->add_writer(fd, std::move(cb)); }); }
  bool remove_writer(int fd) override { return translated([&] { return loop_->remove_writer(fd); }); }

 private:
  static std::shared_ptr<Handle> wrap(ref::HandlePtr handle) { return std::make_shared<RefHandle>(std::move(handle)); }

  ReferenceAdapter& adapter_;
  WorldClock clock_;
  WorldKeeper keeper_;
  std::unique_ptr<ref::EventLoop> loop_;  // last: it uses the clock and the keeper until it dies
};

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
  return {"threads",        "fd-io",   "select-trace", "timer-heap-ties", "multiple-loops",
          "futures",        "running-loop", "float-specials", "exact-clock"};
}

std::unique_ptr<Loop> ReferenceAdapter::new_loop(VirtualTime& time) {
  return std::make_unique<RefLoop>(*this, time, backend_, factory_);
}

void ReferenceAdapter::raise_in_callback(const std::string& type, const std::string& message) {
  if (type == "KeyboardInterrupt") throw Raised<ref::KeyboardInterrupt>(message);
  if (type == "SystemExit") throw Raised<ref::SystemExit>(message);
  if (type == "ValueError") throw Raised<ref::ValueError>(message);
  if (type == "RuntimeError") throw Raised<ref::RuntimeError>(message);
  if (type == "Exception") throw RaisedException(message);
  throw Fault{"raise_in_callback: no exception type '" + type + "'"};
}

Loop* ReferenceAdapter::running_loop() {
  const auto it = wrappers_.find(ref::running_loop_or_null());
  return it == wrappers_.end() ? nullptr : it->second;
}

}  // namespace aiospec::conformance
