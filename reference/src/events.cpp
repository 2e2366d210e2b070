// asyncio/events.py: Handle, TimerHandle, the context dict, the running loop.
#include "aiospec/ref/events.hpp"

#include <algorithm>
#include <functional>
#include <utility>

#include "aiospec/ref/base_events.hpp"
#include "aiospec/ref/exceptions.hpp"
#include "aiospec/ref/futures.hpp"
#include "aiospec/ref/tasks.hpp"

namespace aiospec::ref {

std::string format_callback_source(const Callback& callback, bool show_args) {
  // _format_callback: the qualname, then _format_args_and_kwargs (reprlib.repr of each
  // argument). No " at file:line": a C++ callable has no Python source.
  std::string out = callback.name.str() + "(";
  if (show_args && callback.future_arg != nullptr) out += reprlib_truncate(callback.future_arg->repr());
  return out + ")";
}

// ---- the context dict ---------------------------------------------------------------------

std::string context_value_repr(const ContextValue& value) {
  struct Repr {
    std::string operator()(const std::string& s) const { return python_repr(std::string_view(s)); }
    std::string operator()(std::int64_t i) const { return std::to_string(i); }
    std::string operator()(const std::exception_ptr& e) const { return e ? exception_repr(e) : "None"; }
    std::string operator()(const Handle* h) const { return h ? h->repr() : "None"; }
    std::string operator()(const FutureBase* f) const { return f ? f->repr() : "None"; }
    std::string operator()(const TaskBase* t) const { return t ? t->repr() : "None"; }
    std::string operator()(const std::shared_ptr<const ExceptionContext>& c) const { return c ? c->repr() : "None"; }
    std::string operator()(const SourceTraceback& tb) const { return traceback_repr(tb); }
    std::string operator()(const ContextRepr& r) const { return r.repr; }
  };
  return std::visit(Repr{}, value);
}

ExceptionContext::ExceptionContext(std::initializer_list<std::pair<std::string, ContextValue>> items) {
  for (const auto& [key, value] : items) set(key, value);
}

void ExceptionContext::set(const std::string& key, ContextValue value) {
  for (auto& item : items_) {
    if (item.first == key) {
      item.second = std::move(value);
      return;
    }
  }
  items_.emplace_back(key, std::move(value));
}

const ContextValue* ExceptionContext::get(const std::string& key) const {
  for (const auto& item : items_) {
    if (item.first == key) return &item.second;
  }
  return nullptr;
}

std::vector<std::string> ExceptionContext::sorted_keys() const {
  std::vector<std::string> keys;
  for (const auto& item : items_) keys.push_back(item.first);
  std::sort(keys.begin(), keys.end());  // str comparison: code points, as bytes of UTF-8
  return keys;
}

namespace {
template <class T>
T get_as(const ExceptionContext& c, const char* key) {
  const ContextValue* v = c.get(key);
  if (v == nullptr) return T{};
  const T* t = std::get_if<T>(v);
  return t ? *t : T{};
}
}  // namespace

std::optional<std::string> ExceptionContext::message() const {
  const ContextValue* v = get("message");
  if (v == nullptr) return std::nullopt;
  if (const auto* s = std::get_if<std::string>(v)) return *s;
  return context_value_repr(*v);
}
std::exception_ptr ExceptionContext::exception() const { return get_as<std::exception_ptr>(*this, "exception"); }
const Handle* ExceptionContext::handle() const { return get_as<const Handle*>(*this, "handle"); }
const FutureBase* ExceptionContext::future() const { return get_as<const FutureBase*>(*this, "future"); }
const TaskBase* ExceptionContext::task() const { return get_as<const TaskBase*>(*this, "task"); }

std::string ExceptionContext::repr() const {
  std::string out = "{";
  for (std::size_t i = 0; i < items_.size(); ++i) {
    out += (i ? ", " : "") + python_repr(std::string_view(items_[i].first)) + ": " + context_value_repr(items_[i].second);
  }
  return out + "}";
}

// ---- Handle -------------------------------------------------------------------------------

void Handle::record_creation(const std::source_location& where) {
  debug_ = std::make_unique<DebugRecord>(DebugRecord{extract_stack(where), std::nullopt});
}

const SourceTraceback& Handle::source_traceback() const {
  static const SourceTraceback none;
  return debug_ ? debug_->source_traceback : none;
}

void Handle::cancel() {
  if (!cancelled_) {
    cancelled_ = true;
    if (loop_->get_debug()) {
      if (!debug_) debug_ = std::make_unique<DebugRecord>();  // debug mode came on after the handle was made
      debug_->saved_repr = repr();
    }
    has_callback_ = false;  // self._callback = None
    if (!running_) drop_callback();
  }
}

void Handle::drop_callback() noexcept {
  // Destroyed from a local: a capture's destructor may call back into this handle's loop.
  [[maybe_unused]] Callback dropped = std::move(callback_);
}

std::vector<std::string> Handle::repr_info() const {
  std::vector<std::string> info{"Handle"};
  if (cancelled_) info.emplace_back("cancelled");
  if (has_callback_) info.push_back(format_callback_source(callback_, loop_->shows_callback_args()));
  if (!source_traceback().empty()) info.push_back(created_at(source_traceback()).substr(1));
  return info;
}

std::string Handle::repr() const {
  if (debug_ && debug_->saved_repr) return *debug_->saved_repr;
  std::string out = "<";
  const auto info = repr_info();
  for (std::size_t i = 0; i < info.size(); ++i) out += (i ? " " : "") + info[i];
  return out + ">";
}

void Handle::called_none() {
  try {
    throw std::bad_function_call();
  } catch (...) {
    callback_failed();
  }
}

void Handle::callback_failed() {
  try {
    throw;
  } catch (const SystemExit&) {
    throw;
  } catch (const KeyboardInterrupt&) {
    throw;
  } catch (const std::exception&) {
    // What Python formats is self._callback now: None when the callback cancelled its own handle
    // (a reader replacing itself), though the frame kept it running.
    const std::string cb = has_callback_ ? format_callback_source(callback_, loop_->shows_callback_args()) : "None()";
    ExceptionContext context{
        {"message", "Exception in callback " + cb}, {"exception", std::current_exception()}, {"handle", this}};
    if (!source_traceback().empty()) context.set("source_traceback", source_traceback());
    struct Handling {  // inside `except BaseException as exc:`
      EventLoop& loop;
      std::exception_ptr before;
      ~Handling() { loop.handling_ = std::move(before); }
    } handling{*loop_, std::exchange(loop_->handling_, std::current_exception())};
    loop_->call_exception_handler(context);
  }
}

TimerHandle::TimerHandle(double when, Callback&& cb, EventLoop* loop, bool debug, const std::source_location& where)
    : Handle(std::move(cb), loop, debug, where), when_(when) {}

std::vector<std::string> TimerHandle::repr_info() const {
  auto info = Handle::repr_info();
  info.insert(info.begin() + (cancelled() ? 2 : 1), "when=" + python_repr(when_));
  // Handle's info says "Handle": the class is TimerHandle.
  info[0] = "TimerHandle";
  return info;
}

void TimerHandle::cancel() {
  if (!cancelled()) loop_->timer_handle_cancelled(*this);
  Handle::cancel();
}

namespace {
thread_local EventLoop* running_loop = nullptr;
}  // namespace

EventLoop* get_running_loop() {
  if (running_loop == nullptr) throw RuntimeError("no running event loop");
  return running_loop;
}

EventLoop* running_loop_or_null() { return running_loop; }

void set_running_loop(EventLoop* loop) { running_loop = loop; }

}  // namespace aiospec::ref
