// The adapter that puts tiny_loop under aiospec: the core Loop methods (adapter.hpp) in terms of
// tiny's own, its errors named as CPython names them, its clock and its wait given to the
// suite's VirtualTime. Every other feature keeps the seam's default: UNSUPPORTED.
#include <aiospec/conformance/adapter.hpp>
#include <aiospec/conformance/loop_description.hpp>

#include <iostream>

#include "tiny_loop.hpp"

namespace {

using namespace aiospec::conformance;

// What a scenario raises in a callback: tiny reports a std::exception and goes on; SystemExit and
// KeyboardInterrupt must end run_forever, so they are not std::exceptions.
struct Escaping {
  LoopError error;
};

template <typename F>
auto translated(F&& f) {
  try {
    return f();
  } catch (const tiny::Error& e) {
    throw LoopError("RuntimeError", e.what());
  } catch (const Escaping& e) {
    throw LoopError(e.error);
  }
}

class TinyHandle final : public Handle {
 public:
  explicit TinyHandle(std::shared_ptr<tiny::Handle> h) : h_(std::move(h)) {}
  void cancel() override { h_->cancelled = true; }
  double when() const override {
    if (!h_->timer) throw LoopError("AttributeError", "'Handle' object has no attribute 'when'");
    return h_->when;
  }

 private:
  std::shared_ptr<tiny::Handle> h_;
};

class TinyLoop final : public Loop {
 public:
  explicit TinyLoop(VirtualTime& time)
      : loop_([&time] { return time.now(); },
              // The virtual time rule (virtual_time.hpp) for a loop with no descriptors: nothing
              // can become ready, so a wait lasts its whole timeout.
              [&time](std::optional<double> timeout) {
                time.before_poll(timeout);
                if (timeout && *timeout == 0) return;
                const std::optional<double> deadline = timeout ? std::optional(time.now() + *timeout) : std::nullopt;
                while (!time.let_time_pass(deadline)) {
                }
              }) {
    loop_.report = [](const std::exception& e) { std::cerr << "tiny_loop: exception in callback: " << e.what() << "\n"; };
  }

  std::shared_ptr<Handle> call_soon(Callback cb) override {
    return translated([&] { return std::make_shared<TinyHandle>(loop_.call_soon(std::move(cb))); });
  }
  std::shared_ptr<Handle> call_later(double delay, Callback cb) override {
    return translated([&] { return std::make_shared<TinyHandle>(loop_.call_later(delay, std::move(cb))); });
  }
  std::shared_ptr<Handle> call_at(double when, Callback cb) override {
    return translated([&] { return std::make_shared<TinyHandle>(loop_.call_at(when, std::move(cb))); });
  }
  double time() override { return loop_.time(); }
  void run_forever() override {
    // asyncio.get_running_loop(): this loop while it runs in this thread.
    Loop* outer = running;
    if (!loop_.is_running() && !loop_.is_closed()) running = this;
    struct Restore {
      Loop* outer;
      ~Restore() { running = outer; }
    } restore{outer};
    translated([&] { loop_.run_forever(); });
  }
  static thread_local Loop* running;
  void stop() override { loop_.stop(); }
  void close() override { translated([&] { loop_.close(); }); }
  bool is_running() const override { return loop_.is_running(); }
  bool is_closed() const override { return loop_.is_closed(); }

 private:
  tiny::Loop loop_;
};

thread_local Loop* TinyLoop::running = nullptr;

class TinyAdapter final : public Adapter {
 public:
  std::string name() const override { return "tiny_loop"; }
  std::set<std::string> features() const override { return {"running-loop", "exact-clock"}; }
  std::unique_ptr<Loop> new_loop(VirtualTime& time) override { return std::make_unique<TinyLoop>(time); }
  Loop* running_loop() override { return TinyLoop::running; }
  [[noreturn]] void raise_in_callback(const std::string& type, const std::optional<std::string>& message) override {
    LoopError error = message ? LoopError(type, *message) : LoopError::with_args(type, nlohmann::json::array());
    if (type == "SystemExit" || type == "KeyboardInterrupt") throw Escaping{error};
    throw error;  // a std::exception: tiny reports it and goes on
  }
};

}  // namespace

LoopDescription aiospec::conformance::describe_loop() {
  LoopDescription d;
  d.name = "tiny_loop";
  d.version = "1.0";
  d.make_adapter = [](const AdapterRequest&) { return std::make_unique<TinyAdapter>(); };
  return d;
}
