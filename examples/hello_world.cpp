// A future set by one task and awaited by another: the asyncio documentation's
// create_future example. In Python:
//
//   async def set_after(fut, delay, value):
//       await asyncio.sleep(delay); fut.set_result(value)
//   async def main():
//       fut = loop.create_future()
//       loop.create_task(set_after(fut, 0.05, "... world"))
//       print("hello ..."); print(await fut)
//
// Usage: hello_world [select|poll]
#include <cstdio>
#include <memory>
#include <string>

#include "aiospec/ref/base_events.hpp"
#include "aiospec/ref/futures.hpp"
#include "aiospec/ref/tasks.hpp"

using aiospec::ref::Coroutine;
using aiospec::ref::EventLoop;
using aiospec::ref::Future;
using aiospec::ref::get_running_loop;
using aiospec::ref::sleep;

Coroutine<void> set_after(std::shared_ptr<Future<std::string>> fut, double delay, std::string value) {
  co_await sleep(delay);
  fut->set_result(std::move(value));
}

Coroutine<void> amain() {
  EventLoop& loop = *get_running_loop();
  auto fut = loop.create_future<std::string>();
  // Kept in a variable as Python's documentation asks of create_task's result; the task does
  // not run before amain suspends at `co_await fut`.
  auto setter = loop.create_task(set_after(fut, 0.05, "... world"));
  std::printf("hello ...\n");
  const std::string world = co_await fut;
  std::printf("%s\n", world.c_str());
  co_await setter;  // it has finished by now; awaiting it does not suspend
}

int main(int argc, char** argv) {
  EventLoop loop(argc > 1 ? argv[1] : "poll");
  loop.run_until_complete(amain());
  loop.close();
}
