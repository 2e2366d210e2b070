// Throwaway: judges the Asio adapter in process, virtual time, over the bundle.
#include <iostream>

#include "aiospec/conformance/runner.hpp"
#include "aiospec/conformance/scenario.hpp"
#include "asio_adapter.hpp"

using namespace aiospec::conformance;
int main(int argc, char** argv) {
  const std::string bundle = argv[1], expected = argv[2];
  const std::string only = argc > 3 ? argv[3] : "";
  aiospec::asio_adapter::AsioAdapter adapter(aiospec::asio_adapter::TimeMode::virtual_time);
  std::map<std::string, int> counts;
  for (const auto& s : read_bundle(bundle)) {
    if (!only.empty() && s.id != only) continue;
    Outcome o = judge(adapter, s, expected, "3.12");
    counts[to_string(o.status)]++;
    if (o.status == Status::fail || o.status == Status::error) {
      std::cout << s.id << " " << s.path << " " << to_string(o.status) << ": " << o.reason << "\n";
      if (!only.empty()) std::cout << o.diff << "\n";
    }
  }
  for (auto& [k, v] : counts) std::cout << k << " " << v << "\n";
}
