// Echo over a socketpair: a reader on one end sends back whatever arrives; a reader on the
// other end prints the echo and sends the next message until there are none left.
// Usage: socketpair_echo [select|poll]
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "aiospec/ref/base_events.hpp"

using aiospec::ref::EventLoop;

int main(int argc, char** argv) {
  EventLoop loop(argc > 1 ? argv[1] : "poll");
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) != 0) return 1;
  const int client = fds[0], server = fds[1];
  const std::vector<std::string> messages = {"hello", "event", "loop"};
  std::size_t next = 0;
  char buffer[256];

  loop.add_reader(server, [&] {  // the echo server
    const auto n = ::recv(server, buffer, sizeof buffer, 0);
    if (n > 0) ::send(server, buffer, static_cast<std::size_t>(n), 0);
  });

  loop.add_reader(client, [&] {  // the client: print the echo, send the next message
    const auto n = ::recv(client, buffer, sizeof buffer, 0);
    if (n <= 0) return;
    std::printf("echo: %.*s\n", static_cast<int>(n), buffer);
    if (++next < messages.size()) {
      ::send(client, messages[next].data(), messages[next].size(), 0);
    } else {
      loop.remove_reader(client);
      loop.remove_reader(server);
      loop.stop();
    }
  });

  ::send(client, messages[0].data(), messages[0].size(), 0);
  loop.run_forever();
  loop.close();
  ::close(client);
  ::close(server);
}
