#include "loop_spec.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

namespace aiospec::cli {

namespace {

bool executable(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// A bare name is looked up on PATH, as the shell would; a path must exist.
std::string resolve(const std::string& program) {
  if (program.find('/') != std::string::npos) return executable(program) ? program : "";
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (executable(candidate)) return candidate;
  }
  return "";
}

std::string interposition_library() { return AIOSPEC_INTERPOSE_LIB; }

void require_library(const std::string& why) {
  if (::access(interposition_library().c_str(), R_OK) != 0) {
    throw LoopSpecError("the interposition library " + interposition_library() + " is not built (" + why +
                        "; build the target aiospec_interpose)");
  }
}

}  // namespace

bool is_reference(const LoopOptions& options) { return options.spec == "reference"; }

void validate(const LoopOptions& o) {
  if (o.time != "auto" && o.time != "virtual" && o.time != "interposed" && o.time != "real") {
    throw LoopSpecError("--time is auto, virtual, interposed or real, not '" + o.time + "'");
  }
  if (!(o.timeout > 0)) throw LoopSpecError("--timeout must be a positive number of seconds");
  if (o.runs && *o.runs < 1) throw LoopSpecError("--runs must be at least 1");
  if (o.scale && !(*o.scale > 0)) throw LoopSpecError("--scale must be a positive factor");
  if (!(o.tolerance >= 0)) throw LoopSpecError("--tolerance must be a number of seconds >= 0");
  const bool python = o.spec.rfind("python:", 0) == 0, command = o.spec.rfind("cmd:", 0) == 0;
  if (!is_reference(o) && !python && !command) {
    throw LoopSpecError("--loop is reference, python:MODULE:FACTORY or cmd:COMMAND, not '" + o.spec + "'");
  }
  if (python) {
    const std::string target = o.spec.substr(7);
    const auto colon = target.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == target.size() ||
        target.find(':', colon + 1) != std::string::npos) {
      throw LoopSpecError("--loop python: takes MODULE:FACTORY (python:uvloop:new_event_loop), not '" + o.spec + "'");
    }
  }
  if (command && o.spec.size() == 4) throw LoopSpecError("--loop cmd: needs a command (cmd:build/conformance/aiospec-host)");
  if (is_reference(o) && o.time != "auto" && o.time != "virtual") {
    throw LoopSpecError("the in-process reference loop runs in virtual time only");
  }
  if (!python && o.pure_python) throw LoopSpecError("--pure-python is for --loop python:MODULE:FACTORY");
  if (!python && !o.interpreter.empty()) throw LoopSpecError("--interpreter is for --loop python:MODULE:FACTORY");
}

std::string interpreter_of(const LoopOptions& o) {
  if (o.spec.rfind("python:", 0) != 0) return "";
  return o.interpreter.empty() ? std::string(AIOSPEC_PYTHON) : o.interpreter;
}

conformance::HostCommand host_command(const LoopOptions& o) {
  validate(o);
  conformance::HostCommand command;
  command.time = o.time;
  command.timeout = o.timeout;
  command.env.emplace_back("AIOSPEC_INTERPOSE_LIB", interposition_library());
  if (o.spec.rfind("python:", 0) == 0) {
    const std::string interpreter = interpreter_of(o);
    const std::string found = resolve(interpreter);
    if (found.empty()) throw LoopSpecError("no interpreter " + interpreter + " (--interpreter)");
    command.argv = {found, "-m", "aiospec_oracle", "host", "--loop", o.spec.substr(7), "--time", o.time};
    if (o.pure_python) command.argv.push_back("--pure-python");
    if (o.scale) {
      std::ostringstream s;
      s.precision(17);
      s << *o.scale;
      command.argv.insert(command.argv.end(), {"--scale", s.str()});
    }
    command.env.emplace_back("PYTHONPATH", std::string(AIOSPEC_SOURCE_DIR) + "/oracle");
    // auto may become interposed (the host decides after importing the factory): preloaded then too.
    if (o.time == "auto" || o.time == "interposed") {
      require_library("--time " + o.time + " preloads it into the Python host");
      command.env.emplace_back("LD_PRELOAD", interposition_library());
    }
  } else {
    command.argv = {"/bin/sh", "-c", o.spec.substr(4)};
    // A host made with the package's host main takes its time mode from here (loop_description.hpp).
    if (o.time != "auto") command.env.emplace_back("AIOSPEC_TIME", o.time);
    if (o.scale) {
      std::ostringstream s;
      s.precision(17);
      s << *o.scale;
      command.env.emplace_back("AIOSPEC_SCALE", s.str());
    }
    if (o.time == "interposed") {
      require_library("--time interposed preloads it into the host");
      command.env.emplace_back("LD_PRELOAD", interposition_library());
    }
  }
  return command;
}

}  // namespace aiospec::cli
