// Two coroutines count under gather, each sleeping one "second" between numbers: they sleep at
// the same time, so three numbers each take three seconds in all, not six. In Python:
//
//   async def count(name, n):
//       for i in range(1, n + 1):
//           print(f"{name}: {i} at {elapsed():.0f} s"); await asyncio.sleep(1)
//   await asyncio.gather(count("A", 3), count("B", 3))
//
// Usage: gather_counters [select|poll]
#include <cstdio>
#include <string>
#include <variant>

#include "aiospec/ref/base_events.hpp"
#include "aiospec/ref/tasks.hpp"

using aiospec::ref::Coroutine;
using aiospec::ref::EventLoop;
using aiospec::ref::gather;
using aiospec::ref::get_running_loop;
using aiospec::ref::sleep;

// One tutorial second, scaled down to 30 ms of real time so that the program takes 0.09 s.
// Elapsed times are printed in these seconds, rounded, which keeps the output stable.
constexpr double kSecond = 0.03;

double elapsed(double start) { return (get_running_loop()->time() - start) / kSecond; }

// Returns the sum of its numbers, to show how gather hands results back.
Coroutine<int> count(std::string name, int n, double start) {
  int sum = 0;
  for (int i = 1; i <= n; ++i) {
    std::printf("%s: %d at %.0f s\n", name.c_str(), i, elapsed(start));
    sum += i;
    co_await sleep(kSecond);
  }
  co_return sum;
}

Coroutine<void> amain() {
  const double start = get_running_loop()->time();
  // gather wraps each coroutine in a task (A first, so A runs first in every round) and
  // finishes when both have. Its result is a list of variant<result, exception_ptr>, as
  // Python's list holds either with return_exceptions=True; here every element is a result.
  const auto results = co_await gather(count("A", 3, start), count("B", 3, start));
  std::printf("A returned %d, B returned %d\n", std::get<0>(results[0]), std::get<0>(results[1]));
  std::printf("both done after %.0f s, not 6: they slept at the same time\n", elapsed(start));
}

int main(int argc, char** argv) {
  EventLoop loop(argc > 1 ? argv[1] : "poll");
  loop.run_until_complete(amain());
  loop.close();
}
