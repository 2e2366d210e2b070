// A worker that runs every 100 ms by rescheduling itself with call_later, and stops the loop
// after five ticks.  Usage: periodic_worker [select|poll]
#include <cstdio>
#include <functional>

#include "aiospec/ref/base_events.hpp"

using aiospec::ref::EventLoop;

int main(int argc, char** argv) {
  EventLoop loop(argc > 1 ? argv[1] : "poll");
  const double start = loop.time();
  int ticks = 0;

  // std::function can call itself through a reference captured before it is assigned.
  std::function<void()> tick;
  tick = [&] {
    ++ticks;
    std::printf("tick %d at +%.3fs\n", ticks, loop.time() - start);
    if (ticks == 5) {
      loop.stop();
    } else {
      loop.call_later(0.1, tick);
    }
  };

  loop.call_soon(tick);
  loop.run_forever();
  loop.close();
}
