// A future whose result is set by a callback 0.5 s later; run_until_complete runs the loop
// until then and returns the result.  Usage: delayed_future [select|poll]
#include <cstdio>
#include <string>

#include "aiospec/ref/base_events.hpp"
#include "aiospec/ref/futures.hpp"

using aiospec::ref::EventLoop;
using aiospec::ref::Future;

int main(int argc, char** argv) {
  EventLoop loop(argc > 1 ? argv[1] : "poll");
  const double start = loop.time();

  auto answer = loop.create_future<std::string>();
  answer->add_done_callback([&](Future<std::string>& f) {
    std::printf("done callback sees: %s\n", f.result().c_str());
  });
  loop.call_later(0.5, [answer] { answer->set_result("forty-two"); });

  const std::string result = loop.run_until_complete(answer);
  std::printf("run_until_complete returned %s after %.2fs\n", result.c_str(), loop.time() - start);
  loop.close();
}
