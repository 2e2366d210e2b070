// Prints loop.time() once a second for five seconds. Each callback schedules the next one with
// call_at on an absolute deadline (start + n), so the small lateness of each wake-up does not
// add up the way chained call_later(1.0) calls would.  Usage: clock_chain [select|poll]
#include <cstdio>
#include <functional>

#include "aiospec/ref/base_events.hpp"

using aiospec::ref::EventLoop;

int main(int argc, char** argv) {
  EventLoop loop(argc > 1 ? argv[1] : "poll");
  const double start = loop.time();
  int seconds = 0;

  std::function<void()> show = [&] {
    ++seconds;
    std::printf("loop.time() = %.6f  (+%.3f s)\n", loop.time(), loop.time() - start);
    if (seconds == 5) {
      loop.stop();
    } else {
      loop.call_at(start + seconds + 1, show);
    }
  };

  loop.call_at(start + 1, show);
  loop.run_forever();
  loop.close();
}
