#include "aiospec/conformance/interpreter.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <exception>
#include <limits>
#include <stdexcept>
#include <thread>

namespace aiospec::conformance {

namespace {

// NUM in the operation language: a JSON number or "inf", "-inf", "nan".
double num(const nlohmann::json& v) {
  if (v.is_number()) return v.get<double>();
  const auto& s = v.get_ref<const std::string&>();
  if (s == "inf") return std::numeric_limits<double>::infinity();
  if (s == "-inf") return -std::numeric_limits<double>::infinity();
  return std::numeric_limits<double>::quiet_NaN();
}

// repeat: every "{var}" in every string of the body becomes the index, before that copy runs.
nlohmann::json substitute(const nlohmann::json& v, const std::string& placeholder, const std::string& index) {
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    for (std::size_t at = s.find(placeholder); at != std::string::npos; at = s.find(placeholder, at + index.size())) {
      s.replace(at, placeholder.size(), index);
    }
    return s;
  }
  if (v.is_array() || v.is_object()) {
    nlohmann::json out = v;
    for (auto& item : out) item = substitute(item, placeholder, index);
    return out;
  }
  return v;
}

const std::set<std::string>& python_only_ops() {
  static const std::set<std::string> ops = {"contextvar_set", "contextvar_get", "set_event_loop", "get_event_loop"};
  return ops;
}

}  // namespace

std::vector<std::string> missing_features(const Adapter& adapter, const Scenario& scenario) {
  std::set<std::string> have = adapter.features();
  std::vector<std::string> missing;
  for (const auto& f : scenario.features) {
    if (!have.count(f)) missing.push_back(f);
  }
  return missing;
}

Interpreter::Interpreter(Adapter& adapter, const Scenario& scenario)
    : adapter_(adapter), scenario_(scenario), time_(scenario.budget) {
  if (scenario_.features.count("select-trace")) {
    time_.observe_selects([this](std::optional<double> timeout) {
      record({{"ev", "select"}, {"timeout", timeout ? nlohmann::json(*timeout) : nlohmann::json(nullptr)}});
    });
  }
}

Interpreter::~Interpreter() { close_everything(); }

Trace Interpreter::run() {
  loops_["main"] = adapter_.new_loop(time_);
  try {
    run_block(scenario_.program);
  } catch (const Abort& abort) {
    record({{"ev", "budget_exceeded"}, {"limit", abort.limit}});
  }
  close_everything();
  return Trace{scenario_.id, adapter_.name(), events_};
}

void Interpreter::record(nlohmann::json event) {
  std::lock_guard lock(events_mutex_);
  event["t"] = time_.now();
  events_.push_back(std::move(event));
}

void Interpreter::run_block(const nlohmann::json& block, bool in_callback) {
  for (const auto& op : block) run_op(op, in_callback);
}

void Interpreter::run_op(const nlohmann::json& op, bool in_callback) {
  // Not a structured binding of *op.items().begin(): that binds to a temporary proxy.
  const std::string& name = op.begin().key();
  const nlohmann::json& args = op.begin().value();
  if (name == "raise" && in_callback) {
    // The point of `raise`: the exception leaves the callback and meets the loop.
    adapter_.raise_in_callback(args.at("type").get<std::string>(), args.value("message", ""));
  }
  try {
    dispatch(name, args);
  } catch (const LoopError& e) {
    record({{"ev", "error"}, {"op", name}, {"type", e.type()}, {"message", e.what()}});
  }
}

Callback Interpreter::make_callback(const nlohmann::json& block) {
  return [this, block] {
    time_.count_callback();
    run_block(block, true);
  };
}

void Interpreter::run_on_new_thread(const nlohmann::json& block) {
  std::exception_ptr failure;
  std::thread thread([&] {
    try {
      run_block(block);
    } catch (...) {
      failure = std::current_exception();
    }
  });
  thread.join();
  if (failure) std::rethrow_exception(failure);
}

Loop& Interpreter::loop_for(const nlohmann::json& args) {
  std::string name = args.value("loop", "main");
  auto it = loops_.find(name);
  if (it == loops_.end()) throw std::runtime_error("scenario uses unknown loop '" + name + "'");
  return *it->second;
}

std::string Interpreter::name_of(const Loop* loop) const {
  for (const auto& [name, l] : loops_) {
    if (l.get() == loop) return name;
  }
  return "?";
}

int Interpreter::fd_for(const nlohmann::json& args) const {
  std::string name = args.at("fd").get<std::string>();
  auto it = fds_.find(name);
  if (it == fds_.end()) throw std::runtime_error("scenario uses unknown socket '" + name + "'");
  return it->second;
}

void Interpreter::dispatch(const std::string& op, const nlohmann::json& a) {
  auto value_event = [&](nlohmann::json value) { record({{"ev", op}, {"value", std::move(value)}}); };
  auto remember = [&](std::shared_ptr<Handle> h) {
    if (a.contains("as")) handles_[a.at("as").get<std::string>()] = std::move(h);
  };
  auto run_loop = [&](auto&& body) {
    try {
      body();
    } catch (const Blocked&) {
      record({{"ev", "blocked"}, {"op", op}});
    }
  };

  // Recording and the world
  if (op == "record") return record({{"ev", "record"}, {"label", a.at("label")}});
  if (op == "burn") return time_.burn(num(a.at("seconds")));
  if (op == "raise") throw LoopError(a.at("type").get<std::string>(), a.value("message", ""));  // outside a callback
  if (op == "repeat") {
    std::string placeholder = "{" + a.value("var", "i") + "}";
    for (std::int64_t i = 0; i < a.at("times").get<std::int64_t>(); ++i) {
      run_block(substitute(a.at("do"), placeholder, std::to_string(i)));
    }
    return;
  }
  if (op == "in_thread") return run_on_new_thread(a.at("do"));
  if (op == "external") {
    return time_.add_external(num(a.at("at")), [this, block = a.at("do")] { run_on_new_thread(block); });
  }

  // Scheduling callbacks
  if (op == "call_soon") return remember(loop_for(a).call_soon(make_callback(a.at("do"))));
  if (op == "call_soon_threadsafe") return remember(loop_for(a).call_soon_threadsafe(make_callback(a.at("do"))));
  if (op == "call_later") return remember(loop_for(a).call_later(num(a.at("delay")), make_callback(a.at("do"))));
  if (op == "call_at") return remember(loop_for(a).call_at(num(a.at("when")), make_callback(a.at("do"))));
  if (op == "cancel") return handles_.at(a.at("handle").get<std::string>())->cancel();
  if (op == "when") {
    const auto& name = a.at("handle");
    return record({{"ev", "when"}, {"handle", name}, {"value", handles_.at(name.get<std::string>())->when()}});
  }

  // Running and stopping
  if (op == "run_forever") return run_loop([&] { loop_for(a).run_forever(); });
  if (op == "run_until_complete") {
    return run_loop([&] {
      value_event(loop_for(a).run_until_complete(futures_.at(a.at("future").get<std::string>())));
    });
  }
  if (op == "stop") return loop_for(a).stop();
  if (op == "close") return loop_for(a).close();
  if (op == "is_running") return value_event(loop_for(a).is_running());
  if (op == "is_closed") return value_event(loop_for(a).is_closed());
  if (op == "time") return value_event(loop_for(a).time());
  if (op == "new_loop") {
    loops_[a.at("name").get<std::string>()] = adapter_.new_loop(time_);
    return;
  }
  if (op == "get_running_loop") {
    Loop* running = adapter_.running_loop();
    if (!running) throw LoopError("RuntimeError", "no running event loop");
    return value_event(name_of(running));
  }

  // Futures
  if (op == "new_future") {
    futures_[a.at("name").get<std::string>()] = loop_for(a).create_future();
    return;
  }
  auto future = [&]() -> Future& { return *futures_.at(a.at("future").get<std::string>()); };
  if (op == "set_result") return future().set_result(a.at("value"));
  if (op == "add_done_callback") return future().add_done_callback(make_callback(a.at("do")));
  if (op == "done" || op == "result") {
    nlohmann::json value = op == "done" ? nlohmann::json(future().done()) : future().result();
    return record({{"ev", op}, {"future", a.at("future")}, {"value", std::move(value)}});
  }

  // I/O on socket pairs
  if (op == "socketpair") {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) {
      throw std::runtime_error("socketpair failed");
    }
    fds_[a.at("names")[0].get<std::string>()] = sv[0];
    fds_[a.at("names")[1].get<std::string>()] = sv[1];
    return;
  }
  if (op == "add_reader") return loop_for(a).add_reader(fd_for(a), make_callback(a.at("do")));
  if (op == "add_writer") return loop_for(a).add_writer(fd_for(a), make_callback(a.at("do")));
  if (op == "remove_reader" || op == "remove_writer") {
    bool removed = op == "remove_reader" ? loop_for(a).remove_reader(fd_for(a)) : loop_for(a).remove_writer(fd_for(a));
    return record({{"ev", op}, {"fd", a.at("fd")}, {"value", removed}});
  }
  if (op == "send") {
    std::string data = a.at("data").get<std::string>();
    if (::send(fd_for(a), data.data(), data.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(data.size())) {
      throw std::runtime_error("send on socket '" + a.at("fd").get<std::string>() + "' did not send everything");
    }
    return;
  }
  if (op == "recv") {
    std::string buffer(a.value("size", 4096), '\0');
    ssize_t n = ::recv(fd_for(a), buffer.data(), buffer.size(), 0);
    nlohmann::json data = nullptr;
    if (n >= 0) {
      data = buffer.substr(0, static_cast<std::size_t>(n));
    } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
      throw std::runtime_error("recv on socket '" + a.at("fd").get<std::string>() + "' failed");
    }
    return record({{"ev", "recv"}, {"fd", a.at("fd")}, {"data", std::move(data)}});
  }
  if (op == "close_fd") {
    int& fd = fds_.at(a.at("fd").get<std::string>());
    if (fd >= 0) ::close(fd);
    fd = -1;
    return;
  }

  if (python_only_ops().count(op)) {
    throw std::logic_error("operation '" + op + "' is Python-only; its feature should have made the scenario UNSUPPORTED");
  }
  throw std::logic_error("unknown operation '" + op + "' (the bundle was not validated?)");
}

void Interpreter::close_everything() {
  for (auto& [name, loop] : loops_) {
    try {
      if (!loop->is_running()) loop->close();
    } catch (const LoopError&) {
      // Closing at the end is housekeeping, not part of the behaviour under test.
    }
  }
  loops_.clear();
  handles_.clear();
  futures_.clear();
  for (auto& [name, fd] : fds_) {
    if (fd >= 0) ::close(fd);
  }
  fds_.clear();
}

}  // namespace aiospec::conformance
