// The Adapter, and the error policy every C trampoline of UvLoop goes through.
#include "libuv_adapter.hpp"

#include <iostream>

namespace aiospec::libuv {

// ---- what a callback's exception does (asyncio's Handle._run) --------------------------------

void UvLoop::invoke(const Callback& callback) noexcept {
  try {
    callback();
  } catch (const LoopError& error) {
    // SystemExit and KeyboardInterrupt leave the loop; every other Python exception (CancelledError
    // included, a BaseException too) goes to the exception handler and the batch goes on.
    if (error.type() == "SystemExit" || error.type() == "KeyboardInterrupt") {
      escape(std::current_exception());
    } else {
      report(error, callback.name);
    }
  } catch (...) {
    // ExitRequest, the suite's Abort/Blocked/Fault, an adapter bug: all leave run_forever.
    escape(std::current_exception());
  }
}

void UvLoop::escape(std::exception_ptr error) noexcept {
  if (!escaping_) escaping_ = std::move(error);  // the first one wins; the rest of the run is skipped
  uv_stop(&uv_);
}

// The default exception handler: asyncio logs "Exception in callback ..." on its logger, which
// writes to stderr; the suite does not read stderr (no feature "log-trace").
void UvLoop::report(const LoopError& error, const std::string& callback_name) noexcept {
  try {
    std::cerr << "Exception in callback " << callback_name << "()\n" << error.type() << ": " << error.what() << "\n";
  } catch (...) {  // a full stderr must not end the run
  }
}

void UvLoop::rethrow_escaped() {
  const std::exception_ptr error = std::exchange(escaping_, nullptr);
  try {
    std::rethrow_exception(error);
  } catch (const ExitRequest& request) {
    throw request.error;  // SystemExit / KeyboardInterrupt as the suite names them
  }
}

// ---- the adapter ------------------------------------------------------------------------------

namespace {
int minor_of(const std::string& cpython) {  // "3.12" -> 12; anything else: the newest behaviour
  const auto dot = cpython.find('.');
  try {
    return dot == std::string::npos ? 99 : std::stoi(cpython.substr(dot + 1));
  } catch (const std::exception&) {
    return 99;
  }
}
}  // namespace

LibuvAdapter::LibuvAdapter(const std::string& cpython) : cpython_minor_(minor_of(cpython)) {}

std::string LibuvAdapter::name() const { return std::string("libuv-") + uv_version_string() + "/epoll"; }

// What the loop's API offers (spec/features.txt). Not: select-trace (libuv does not report its
// waits), tasks and what builds on them (libuv has no coroutines; writing asyncio's Task here would
// judge that code, not libuv), exception-handler / log-trace / debug (no handler API, no logger),
// and the Python-only features.
std::set<std::string> LibuvAdapter::features() const {
  return {"threads",      "fd-io",        "timer-heap-ties", "multiple-loops",
          "futures",      "running-loop", "float-specials",  "exact-clock"};
}

std::unique_ptr<conformance::Loop> LibuvAdapter::new_loop(conformance::VirtualTime&) {
  // libuv reads CLOCK_MONOTONIC and waits in epoll_wait: the preloaded library answers both from
  // the scenario's clock in interposed time, the kernel in real time; there is no clock to hand it.
  return std::make_unique<UvLoop>(cpython_minor_);
}

void LibuvAdapter::raise_in_callback(const std::string& type, const std::optional<std::string>& message) {
  const Value args = message ? Value::array({*message}) : Value::array();
  if (type == "SystemExit" || type == "KeyboardInterrupt") throw ExitRequest{LoopError::with_args(type, args)};
  throw LoopError::with_args(type, args);
}

}  // namespace aiospec::libuv
