#include "aiospec/oracle/cpython.hpp"

#include <pybind11/embed.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <csignal>

namespace py = pybind11;

namespace aiospec::oracle {

namespace {

// The interpreter lives for the rest of the process: finalizing CPython while the asyncio module
// still holds threads and sockets is not worth the trouble for a command-line tool.
py::scoped_interpreter* interpreter = nullptr;

std::string python_message(const py::error_already_set& e) { return py::str(e.value()).cast<std::string>(); }

}  // namespace

CPython& CPython::instance() {
  static CPython cpython;
  return cpython;
}

CPython::CPython() {
  // The trace must not depend on where aiospec runs (issue: a heapq.py in the working directory
  // changed CPython's expected trace; a pyenv python3 first on PATH made the embedded CPython load
  // another installation's standard library). Hence: isolated, and told where its home is.
  PyConfig config;
  PyConfig_InitIsolatedConfig(&config);  // isolated, no environment, no user site, safe path
  config.install_signal_handlers = 0;    // Ctrl-C ends the tool, it is not a Python exception
  // ...but what Python's start-up does for SIGPIPE must still happen: a send to a closed peer is a
  // BrokenPipeError in a trace (io-0009), not a signal that kills the process.
  std::signal(SIGPIPE, SIG_IGN);
  PyConfig_SetBytesString(&config, &config.home, AIOSPEC_PYTHON_HOME);
  PyConfig_SetBytesString(&config, &config.program_name, AIOSPEC_PYTHON);
  interpreter = new py::scoped_interpreter(&config, 0, nullptr, /*add_program_dir_to_path=*/false);
  auto sys = py::module_::import("sys");
  auto path = sys.attr("path");
  path.attr("insert")(0, AIOSPEC_SOURCE_DIR "/tools");
  path.attr("insert")(0, AIOSPEC_SOURCE_DIR "/oracle");
}

std::string CPython::version() const {
  auto v = py::module_::import("sys").attr("version_info");
  return std::to_string(v.attr("major").cast<int>()) + "." + std::to_string(v.attr("minor").cast<int>()) + "." +
         std::to_string(v.attr("micro").cast<int>());
}

std::string CPython::prefix() const { return py::module_::import("sys").attr("prefix").cast<std::string>(); }

std::string CPython::minor_version() const { return version().substr(0, version().rfind('.')); }

std::map<std::string, std::string> CPython::patch_differences() const {
  auto sys = py::module_::import("sys");
  py::object found = py::module_::import("aiospec_oracle.patches")
                         .attr("differences")(sys.attr("version_info"), sys.attr("implementation").attr("name"));
  return found.cast<std::map<std::string, std::string>>();
}

std::map<std::string, std::string> CPython::patch_differences(const std::string& version,
                                                              const std::string& implementation) const {
  py::list parts;
  std::size_t at = 0;
  while (at <= version.size()) {
    const std::size_t dot = std::min(version.find('.', at), version.size());
    const std::string part = version.substr(at, dot - at);
    if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos) return {};  // "3.13.0rc1": none known
    parts.append(std::stoi(part));
    at = dot + 1;
  }
  py::object found = py::module_::import("aiospec_oracle.patches").attr("differences")(py::tuple(parts), implementation);
  return found.cast<std::map<std::string, std::string>>();
}

LoadedScenario CPython::load_scenario(const std::string& path) {
  try {
    auto loader = py::module_::import("aiospec_spec.loader");
    auto json = py::module_::import("json");
    py::object canonical = loader.attr("load")(path);
    LoadedScenario out;
    out.canonical = nlohmann::json::parse(json.attr("dumps")(canonical).cast<std::string>());
    out.path = path;
    auto slash = path.find_last_of('/');
    auto parent = slash == std::string::npos ? std::string() : path.substr(0, slash);
    out.area = parent.substr(parent.find_last_of('/') + 1);
    out.sha256 = py::module_::import("aiospec_oracle.trace").attr("scenario_sha256")(canonical).cast<std::string>();
    return out;
  } catch (const py::error_already_set& e) {
    throw LoadError(python_message(e));
  }
}

nlohmann::json CPython::run(const nlohmann::json& canonical) {
  try {
    auto api = py::module_::import("aiospec_oracle.api");
    std::string text = api.attr("run_scenario_json")(canonical.dump()).cast<std::string>();
    return nlohmann::json::parse(text);
  } catch (const py::error_already_set& e) {
    if (e.matches(py::module_::import("aiospec_oracle").attr("ScenarioError"))) throw InvalidScenario(python_message(e));
    throw std::runtime_error("the CPython oracle failed: " + python_message(e));
  }
}

}  // namespace aiospec::oracle
