#include "aiospec/oracle/cpython.hpp"

#include <pybind11/embed.h>

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
  interpreter = new py::scoped_interpreter();
  auto path = py::module_::import("sys").attr("path");
  path.attr("insert")(0, AIOSPEC_SOURCE_DIR "/tools");
  path.attr("insert")(0, AIOSPEC_SOURCE_DIR "/oracle");
}

std::string CPython::version() const {
  auto v = py::module_::import("sys").attr("version_info");
  return std::to_string(v.attr("major").cast<int>()) + "." + std::to_string(v.attr("minor").cast<int>()) + "." +
         std::to_string(v.attr("micro").cast<int>());
}

std::string CPython::minor_version() const { return version().substr(0, version().rfind('.')); }

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
    throw std::runtime_error("the CPython oracle failed: " + python_message(e));
  }
}

}  // namespace aiospec::oracle
