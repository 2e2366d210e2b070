// One loop host process (spec/PROTOCOL.md) seen from the harness: started in its own process
// group with pipes on stdin/stdout and stderr kept in an unlinked temporary file, the handshake,
// then one request at a time, each within a wall-clock limit. Every way a host can misbehave
// comes out as a HostFailure whose message is the reason of PROTOCOL.md's table; the caller then
// kills the host (remote_loop.hpp restarts it).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "aiospec/conformance/protocol.hpp"

namespace aiospec::conformance {

// How to start a host and what to accept from it.
struct HostCommand {
  std::vector<std::string> argv;                             // argv[0] is looked up on PATH
  std::vector<std::pair<std::string, std::string>> env;      // set on top of the harness's own
  std::string time = "auto";                                 // the mode asked for; auto accepts any
  double timeout = 20.0;                                     // seconds, per scenario and per handshake
  std::size_t max_line = std::size_t(64) << 20;              // a longer line is garbage, not an answer
};

class HostFailure : public std::runtime_error {
 public:
  HostFailure(const std::string& reason, std::string stderr_line)
      : std::runtime_error(reason), stderr_line_(std::move(stderr_line)) {}
  // The last line the host wrote on stderr ("" if none): what a failed start reports alone.
  const std::string& stderr_line() const { return stderr_line_; }

 private:
  std::string stderr_line_;
};

class HostProcess {
 public:
  // Starts the host and shakes hands; throws HostFailure (the host is then already killed).
  explicit HostProcess(const HostCommand& command);
  // Asks the host to stop, gives it a moment, then kills its process group whatever it did.
  ~HostProcess();
  HostProcess(const HostProcess&) = delete;
  HostProcess& operator=(const HostProcess&) = delete;

  const protocol::Implementation& implementation() const { return implementation_; }

  // One run request and its answer, within command.timeout. Throws HostFailure; the process is
  // of no further use after that (kill it: destroy this object).
  protocol::Answer run(std::int64_t seq, const nlohmann::json& scenario, const std::string& cpython);

  // SIGKILL to the whole process group, and the host reaped. Idempotent.
  void kill();

 private:
  using Clock = std::chrono::steady_clock;

  void spawn();
  void send(const std::string& line, Clock::time_point deadline);
  std::string receive(Clock::time_point deadline);
  [[noreturn]] void gone(Clock::time_point deadline);  // stdout closed / stdin broken: why
  [[noreturn]] void fail(const std::string& reason);   // kill, then throw with the stderr line
  bool wait_for_exit(Clock::time_point deadline);
  std::string last_stderr_line() const;
  std::string limit_text() const;

  HostCommand command_;
  protocol::Implementation implementation_;
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int stdin_ = -1, stdout_ = -1, stderr_ = -1;
  int status_ = 0;  // waitpid status, once reaped
  bool reaped_ = false;
  bool group_killed_ = false;  // once: after that the group id may name someone else's group
  std::string buffer_;       // what was read from stdout beyond the last line returned
  std::size_t scanned_ = 0;  // how much of buffer_ is known to hold no '\n'
};

// "SIGSEGV" for SIGSEGV; "signal 77" for a number without a name.
std::string signal_name(int signal);

}  // namespace aiospec::conformance
