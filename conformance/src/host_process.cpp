#include "aiospec/conformance/host_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>

extern char** environ;

namespace aiospec::conformance {

namespace {

using Clock = std::chrono::steady_clock;

// Milliseconds left until `deadline`, rounded up so that poll() never wakes just before it.
int millis_left(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : left > 1000000 ? 1000000 : static_cast<int>(left);
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

// A host that dies while we write to it must cost one scenario, not the harness: writes to a
// closed pipe fail with EPIPE instead of killing us. (Children get SIGPIPE back: see spawn().)
void ignore_sigpipe() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    sigaction(SIGPIPE, nullptr, &current);
    if (current.sa_handler == SIG_DFL) std::signal(SIGPIPE, SIG_IGN);
  });
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

std::string signal_name(int signal) {
  if (const char* abbrev = sigabbrev_np(signal)) return std::string("SIG") + abbrev;
  return "signal " + std::to_string(signal);
}

HostProcess::HostProcess(const HostCommand& command) : command_(command) {
  ignore_sigpipe();
  spawn();
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(command_.timeout));
  try {
    send(protocol::line(protocol::start_request()), deadline);
    implementation_ = protocol::parse_handshake(protocol::parse_line(receive(deadline)));
  } catch (const protocol::Violation& e) {
    fail(e.what());
  }
  if (command_.time != "auto" && implementation_.time != command_.time) {
    fail("host runs in " + implementation_.time + " time, not " + command_.time + " as asked");
  }
}

HostProcess::~HostProcess() {
  if (!reaped_ && stdin_ >= 0) {
    // Polite first (the protocol's stop), briefly: a host that ignores it is killed below anyway.
    const std::string stop = protocol::line(protocol::stop_request());
    [[maybe_unused]] ssize_t ignored = ::write(stdin_, stop.data(), stop.size());
    close_fd(stdin_);
    wait_for_exit(Clock::now() + std::chrono::milliseconds(500));
  }
  kill();  // also whatever the host left behind in its process group
  close_fd(stdin_);
  close_fd(stdout_);
  close_fd(stderr_);
  close_fd(pidfd_);
}

void HostProcess::spawn() {
  if (command_.argv.empty()) throw HostFailure("no host command", "");
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
    throw HostFailure(std::string("cannot make pipes for the host: ") + std::strerror(errno), "");
  }
  // stderr goes to a file nobody else can see; it outlives the host, so a crash's last line can
  // be quoted after the process is gone.
  const char* tmpdir = std::getenv("TMPDIR");
  std::string path = std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/aiospec-host-stderr-XXXXXX";
  stderr_ = ::mkostemp(path.data(), O_CLOEXEC);
  if (stderr_ < 0) {
    const std::string why = std::strerror(errno);
    for (int fd : {in[0], in[1], out[0], out[1]}) ::close(fd);
    throw HostFailure("cannot make a file for the host's stderr in " + path + ": " + why, "");
  }
  ::unlink(path.c_str());

  std::map<std::string, std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    const auto eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (const auto& [k, v] : command_.env) env[k] = v;
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp, argv;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = command_.argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, stderr_, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group, so that one SIGKILL reaches whatever the host started; SIGPIPE back
  // to its default (we ignore it, and ignored signals are inherited); no signal blocked.
  sigset_t defaults, none;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigemptyset(&none);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  const int rc = ::posix_spawnp(&pid_, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(in[0]);
  ::close(out[1]);
  stdin_ = in[1];
  stdout_ = out[0];
  if (rc != 0) {
    pid_ = -1;
    reaped_ = true;
    throw HostFailure("cannot start " + command_.argv[0] + ": " + std::strerror(rc), "");
  }
  ::fcntl(stdin_, F_SETFL, O_NONBLOCK);
  ::fcntl(stdout_, F_SETFL, O_NONBLOCK);
  // A pollable handle on the process, so that waiting for its exit is a poll() with a deadline.
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
}

protocol::Answer HostProcess::run(std::int64_t seq, const nlohmann::json& scenario, const std::string& cpython) {
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(command_.timeout));
  try {
    send(protocol::line(protocol::run_request(seq, scenario, cpython)), deadline);
    return protocol::parse_answer(protocol::parse_line(receive(deadline)), seq);
  } catch (const protocol::Violation& e) {
    fail(e.what());
  }
}

std::string HostProcess::limit_text() const {
  return "host did not answer within " + seconds_text(command_.timeout) + " s";
}

void HostProcess::send(const std::string& line, Clock::time_point deadline) {
  std::size_t written = 0;
  while (written < line.size()) {
    const ssize_t n = ::write(stdin_, line.data() + written, line.size() - written);
    if (n > 0) {
      written += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    // The host is gone, or closed its stdin: what it wrote before says more than the broken
    // pipe, so go on to read its stdout (receive() reports the exit when nothing is there).
    if (n < 0 && errno == EPIPE) return;
    if (n < 0 && errno != EAGAIN) fail(std::string("cannot write to the host: ") + std::strerror(errno));
    // The pipe is full: the host is not reading. Wait for room, or for the limit.
    pollfd p{stdin_, POLLOUT, 0};
    const int ready = ::poll(&p, 1, millis_left(deadline));
    if (ready == 0 && Clock::now() >= deadline) fail(limit_text());
    if (ready > 0 && (p.revents & (POLLERR | POLLHUP))) return;
  }
}

std::string HostProcess::receive(Clock::time_point deadline) {
  for (;;) {
    // Only what arrived since the last look is searched: a long line costs linear time.
    if (const auto nl = buffer_.find('\n', scanned_); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      scanned_ = 0;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
    if (buffer_.size() > command_.max_line) {
      fail("host wrote a line that is not JSON: " + protocol::excerpt(buffer_) + " (longer than " +
           std::to_string(command_.max_line) + " bytes)");
    }
    pollfd p{stdout_, POLLIN, 0};
    const int ready = ::poll(&p, 1, millis_left(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      if (Clock::now() >= deadline) fail(limit_text());
      continue;
    }
    char chunk[65536];
    const ssize_t n = ::read(stdout_, chunk, sizeof chunk);
    if (n > 0) {
      scanned_ = buffer_.size();
      buffer_.append(chunk, static_cast<std::size_t>(n));
    } else if (n == 0) {
      gone(deadline);
    } else if (errno != EAGAIN && errno != EINTR) {
      fail(std::string("cannot read from the host: ") + std::strerror(errno));
    }
  }
}

bool HostProcess::wait_for_exit(Clock::time_point deadline) {
  if (reaped_) return true;
  for (;;) {
    const pid_t r = ::waitpid(pid_, &status_, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      return true;
    }
    if (r < 0 && errno != EINTR) {  // not our child any more: nothing to wait for
      reaped_ = true;
      status_ = 0;
      return true;
    }
    if (Clock::now() >= deadline) return false;
    if (pidfd_ >= 0) {
      pollfd p{pidfd_, POLLIN, 0};
      ::poll(&p, 1, millis_left(deadline));
    } else {
      // No pidfd (kernel < 5.3): check again in 10 ms, still bounded by the deadline.
      ::poll(nullptr, 0, std::min(10, millis_left(deadline)));
    }
  }
}

void HostProcess::gone(Clock::time_point deadline) {
  if (!wait_for_exit(deadline)) fail(limit_text() + " (it closed its stdout but did not exit)");
  std::string reason = WIFSIGNALED(status_) ? "host killed by signal " + signal_name(WTERMSIG(status_))
                                            : "host exited with status " + std::to_string(WEXITSTATUS(status_));
  fail(reason);
}

void HostProcess::fail(const std::string& reason) {
  kill();
  const std::string last = last_stderr_line();
  // Closed here too: a failing constructor runs no destructor.
  close_fd(stdout_);
  close_fd(stderr_);
  close_fd(pidfd_);
  throw HostFailure(last.empty() ? reason : reason + "; its stderr ends: " + last, last);
}

void HostProcess::kill() {
  if (pid_ > 0 && !reaped_) {
    ::kill(-pid_, SIGKILL);
    while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
  } else if (pid_ > 0 && !group_killed_) {
    ::kill(-pid_, SIGKILL);  // the host is gone; what it started may not be (ESRCH otherwise)
  }
  group_killed_ = true;
  close_fd(stdin_);
}

std::string HostProcess::last_stderr_line() const {
  struct stat st {};
  if (stderr_ < 0 || ::fstat(stderr_, &st) != 0 || st.st_size == 0) return "";
  const off_t size = st.st_size;
  const off_t from = size > 4096 ? size - 4096 : 0;
  std::string tail(static_cast<std::size_t>(size - from), '\0');
  const ssize_t n = ::pread(stderr_, tail.data(), tail.size(), from);
  if (n <= 0) return "";
  tail.resize(static_cast<std::size_t>(n));
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r' || tail.back() == ' ')) tail.pop_back();
  const auto nl = tail.rfind('\n');
  return protocol::excerpt(nl == std::string::npos ? tail : tail.substr(nl + 1), 300);
}

}  // namespace aiospec::conformance
