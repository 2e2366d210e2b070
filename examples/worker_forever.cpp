// A worker coroutine that sleeps and reports in an endless loop, run by run_forever until a
// timer stops the loop; then the still-pending task is cancelled and run to its end, so the
// worker sees CancelledError at the sleep it was waiting in. In Python:
//
//   async def worker():
//       while True:
//           await asyncio.sleep(PERIOD); print("worker: report", n)
//   task = loop.create_task(worker()); loop.call_later(STOP, loop.stop); loop.run_forever()
//
// Usage: worker_forever [select|poll]
#include <cstdio>

#include "aiospec/ref/base_events.hpp"
#include "aiospec/ref/exceptions.hpp"
#include "aiospec/ref/tasks.hpp"

using aiospec::ref::CancelledError;
using aiospec::ref::Coroutine;
using aiospec::ref::EventLoop;
using aiospec::ref::sleep;

// Real seconds, kept short so that the whole program takes well under 0.1 s.
constexpr double kPeriod = 0.02;
constexpr double kStopAfter = 0.07;

// `reports` lives in main, which outlives the task: a coroutine must not refer to anything
// that may die while it is suspended.
Coroutine<void> worker(int& reports) {
  try {
    while (true) {
      co_await sleep(kPeriod);
      std::printf("worker: report %d\n", ++reports);
    }
  } catch (const CancelledError&) {
    std::printf("worker: cancelled while sleeping, cleaning up\n");
    throw;  // a task is cancelled only if the CancelledError comes out of it
  }
}

int main(int argc, char** argv) {
  EventLoop loop(argc > 1 ? argv[1] : "poll");
  int reports = 0;

  auto task = loop.create_task(worker(reports), "worker");
  loop.call_later(kStopAfter, [&] { loop.stop(); });
  loop.run_forever();
  // How many reports fit before the stop depends on the machine's timing: not part of the
  // checked output.
  std::printf("loop stopped after %d reports, the worker task %s\n", reports,
              task->done() ? "finished" : "still pending");

  // stop() leaves tasks where they are. Cancel the worker and let it run its except clause.
  task->cancel();
  try {
    loop.run_until_complete(task);
  } catch (const CancelledError&) {
    std::printf("run_until_complete raised CancelledError, task cancelled: %s\n", task->cancelled() ? "yes" : "no");
  }
  loop.close();
}
