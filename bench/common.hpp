// What the reference cases and the libuv cases share: the sizes of the work, and the socketpair.
// Both sides of every pair do the same amount of work per benchmark iteration, on real time and
// real descriptors, and report it with SetItemsProcessed so that ratios.py compares ns per item.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace aiospec::bench {

inline constexpr int kCallbacks = 1000;   // call_soon_batch: callbacks per iteration
inline constexpr int kTimers = 1000;      // timers_fire, timer_cancel_churn: timers per iteration
inline constexpr int kRoundTrips = 1000;  // socketpair_pingpong: one-byte round trips per iteration

// idle_pingpong: the same ping-pong, kIdleRoundTrips per iteration, while N idle sockets are also
// registered as readers (N is the benchmark's argument). Each idle socket is one end of its own
// socketpair, the other end unregistered and never written to: N = 1024 is 1024 socketpairs,
// 2048 descriptors, 1024 of them registered. No idle reader may ever run.
inline constexpr int kIdleRoundTrips = 250;
inline constexpr int kIdleSockets[] = {1, 64, 1024};

// many_ready: kManyReadyPairs socketpairs, each ping-ponging its own byte, kManyReadyTrips round
// trips per pair per iteration. The pairs move in lockstep, so every loop iteration has
// kManyReadyPairs ready descriptors (all the servers, then all the clients).
inline constexpr int kManyReadyPairs = 64;
inline constexpr int kManyReadyTrips = 20;

// timer_compaction: kCompactionTimers timers per iteration, all due; all but every
// kCompactionKeepEvery-th are cancelled before the loop runs (90%), the rest (10%) fire.
inline constexpr int kCompactionTimers = 100000;
inline constexpr int kCompactionKeepEvery = 10;
inline constexpr int kCompactionFired = kCompactionTimers / kCompactionKeepEvery;

// threadsafe_producers: kProducerThreads threads each post kPostsPerThread callbacks per iteration.
inline constexpr int kProducerThreads = 4;
inline constexpr int kPostsPerThread = 2500;

// timers_fire spreads its deadlines one microsecond apart; timer_cancel_churn puts them an hour
// out, so that nothing can fire while they are being cancelled.
inline constexpr double kTimerSpacingSeconds = 1e-6;
inline constexpr double kFarFutureSeconds = 3600.0;
inline constexpr std::uint64_t kFarFutureMilliseconds = 3600 * 1000;

// A non-blocking AF_UNIX stream socketpair, closed on destruction. Both loops get the same kind
// of descriptors and the callbacks make the same raw recv/send calls on them.
class SocketPair {
 public:
  SocketPair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
      throw std::system_error(errno, std::generic_category(), "socketpair");
    }
    client = fds[0];
    server = fds[1];
  }
  ~SocketPair() {
    ::close(client);
    ::close(server);
  }
  SocketPair(const SocketPair&) = delete;
  SocketPair& operator=(const SocketPair&) = delete;

  int client = -1;
  int server = -1;
};

// One byte each way. A short or failed transfer means the benchmark is broken, not slow: the
// callers turn `false` into SkipWithError.
inline bool send_byte(int fd) {
  const char byte = 'x';
  return ::send(fd, &byte, 1, MSG_NOSIGNAL) == 1;
}
inline bool recv_byte(int fd) {
  char byte;
  return ::recv(fd, &byte, 1, 0) == 1;
}

}  // namespace aiospec::bench
