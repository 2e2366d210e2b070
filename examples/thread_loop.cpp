// A thread that runs its own event loop to completion (what asyncio.run does in a thread: a new
// loop, run_until_complete, close) and hands its result to the main thread's loop with
// call_soon_threadsafe, the only loop method another thread may call.
//
// Usage: thread_loop [select|poll]
#include <cstdio>
#include <string>
#include <thread>

#include "aiospec/ref/base_events.hpp"
#include "aiospec/ref/futures.hpp"
#include "aiospec/ref/tasks.hpp"

using aiospec::ref::Coroutine;
using aiospec::ref::EventLoop;
using aiospec::ref::sleep;

// Adds 1..n, sleeping 10 ms per number: a stand-in for work that waits.
Coroutine<long> sum_slowly(int n) {
  long sum = 0;
  for (int i = 1; i <= n; ++i) {
    co_await sleep(0.01);
    sum += i;
  }
  co_return sum;
}

int main(int argc, char** argv) {
  const std::string backend = argc > 1 ? argv[1] : "poll";
  EventLoop loop(backend);
  auto from_thread = loop.create_future<long>();

  std::printf("main: starting a thread with its own loop\n");
  std::thread worker([&] {
    // One loop per thread: sleep() and create_task find this thread's running loop.
    EventLoop own(backend);
    const long sum = own.run_until_complete(sum_slowly(5));
    std::printf("thread: its loop ran sum_slowly(5) to completion: %ld\n", sum);
    own.close();
    // A future is not thread-safe: the main loop sets it, in the main thread.
    loop.call_soon_threadsafe([&from_thread, sum] { from_thread->set_result(sum); });
  });

  const long sum = loop.run_until_complete(from_thread);
  worker.join();
  std::printf("main: got %ld from the thread's loop\n", sum);
  loop.close();
}
