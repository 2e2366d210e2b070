// run_until_complete over a series of coroutines, collecting their results: each call runs the
// loop until its coroutine is done and returns the result (or raises what the coroutine
// raised), so the coroutines run one after another. In Python:
//
//   results = [loop.run_until_complete(square_later(n)) for n in (1, 2, 3)]
//
// Usage: run_series [select|poll]
#include <cstdio>
#include <string>
#include <vector>

#include "aiospec/ref/base_events.hpp"
#include "aiospec/ref/exceptions.hpp"
#include "aiospec/ref/tasks.hpp"

using aiospec::ref::Coroutine;
using aiospec::ref::EventLoop;
using aiospec::ref::sleep;
using aiospec::ref::ValueError;

constexpr double kDelay = 0.02;  // real seconds per coroutine

Coroutine<int> square_later(int n) {
  co_await sleep(kDelay);
  if (n < 0) throw ValueError("negative: " + std::to_string(n));
  co_return n * n;
}

// Each run_until_complete may have its own result type.
Coroutine<std::string> join(std::vector<int> values) {
  co_await sleep(0);  // one loop iteration, as asyncio.sleep(0)
  std::string text;
  for (int v : values) text += (text.empty() ? "" : ", ") + std::to_string(v);
  co_return "[" + text + "]";
}

int main(int argc, char** argv) {
  EventLoop loop(argc > 1 ? argv[1] : "poll");
  const double start = loop.time();

  std::vector<int> results;
  for (int n : {1, 2, 3, -4}) {
    try {
      results.push_back(loop.run_until_complete(square_later(n)));
      std::printf("square_later(%d) = %d\n", n, results.back());
    } catch (const ValueError& e) {  // the coroutine's exception, out of run_until_complete
      std::printf("square_later(%d) raised ValueError: %s\n", n, e.what());
    }
  }
  std::printf("collected %s\n", loop.run_until_complete(join(results)).c_str());
  // At least 4 x kDelay: one coroutine at a time. The exact figure is the machine's.
  std::printf("took %.2f s\n", loop.time() - start);
  loop.close();
}
