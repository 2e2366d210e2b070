// Running a helper program to completion and keeping what it wrote: the Python spec tools (the
// expectation reader) and git (the suite revision). Not for loop hosts: those speak the protocol
// (conformance/host_process.hpp).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace aiospec::cli {

struct Captured {
  int status = -1;  // exit status; -1 when it could not start or was killed by a signal
  std::string out, err;
};

// argv[0] is looked up on PATH; `env` is set on top of this process's environment.
Captured capture(const std::vector<std::string>& argv, const std::vector<std::pair<std::string, std::string>>& env = {});

}  // namespace aiospec::cli
