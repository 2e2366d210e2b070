#include "aiospec/conformance/scenario.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace aiospec::conformance {

Scenario Scenario::from_canonical(const nlohmann::json& canonical, std::string path, std::string area,
                                  std::string sha256) {
  Scenario s;
  s.id = canonical.at("id").get<std::string>();
  s.path = std::move(path);
  s.area = std::move(area);
  s.title = canonical.at("title").get<std::string>();
  s.level = canonical.at("level").get<std::string>();
  for (const auto& f : canonical.at("features")) s.features.insert(f.get<std::string>());
  if (canonical.contains("python")) {
    const auto& py = canonical.at("python");
    if (py.contains("min")) s.python_min = py.at("min").get<std::string>();
    if (py.contains("max")) s.python_max = py.at("max").get<std::string>();
  }
  if (canonical.contains("budget")) {
    const auto& b = canonical.at("budget");
    s.budget.iterations = b.value("iterations", s.budget.iterations);
    s.budget.callbacks = b.value("callbacks", s.budget.callbacks);
    s.budget.time = b.value("time", s.budget.time);
    s.budget.operations = b.value("operations", s.budget.operations);
    s.budget.events = b.value("events", s.budget.events);
  }
  s.program = canonical.at("program");
  s.canonical = canonical;
  s.sha256 = std::move(sha256);
  return s;
}

int compare_versions(const std::string& a, const std::string& b) {
  std::istringstream sa(a), sb(b);
  for (;;) {
    int x = -1, y = -1;
    char dot;
    bool ha = static_cast<bool>(sa >> x), hb = static_cast<bool>(sb >> y);
    if (!ha && !hb) return 0;
    if (x != y) return x < y ? -1 : 1;
    sa >> dot;
    sb >> dot;
  }
}

bool Scenario::applies_to(const std::string& version) const {
  // Ranges name minor versions: a patch release ("3.11.2") is in them as its minor is.
  const auto second_dot = version.find('.', version.find('.') + 1);
  const std::string minor = version.substr(0, second_dot);
  if (python_min && compare_versions(minor, *python_min) < 0) return false;
  if (python_max && compare_versions(minor, *python_max) > 0) return false;
  return true;
}

std::vector<Scenario> read_bundle(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read the scenario bundle (build it with `make`)");
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  if (doc.value("format", "") != "aiospec-bundle/1") throw std::runtime_error(path + ": not an aiospec-bundle/1 file");
  // version -> {feature: why} its runtime lacks.
  std::map<std::string, nlohmann::json> lacks;
  if (const auto oracles = doc.find("oracles"); oracles != doc.end()) {
    for (const auto& [version, runtime] : oracles->at("versions").items()) {
      lacks[version] = oracles->at("runtimes").at(runtime.get<std::string>()).at("lacks");
    }
  }
  std::vector<Scenario> scenarios;
  for (const auto& entry : doc.at("scenarios")) {
    Scenario s = Scenario::from_canonical(entry.at("scenario"), entry.at("path").get<std::string>(),
                                          entry.at("area").get<std::string>(), entry.at("sha256").get<std::string>());
    for (const auto& [version, lacked] : lacks) {
      // The first feature of the scenario's list the runtime lacks, as the oracle names it.
      for (const auto& feature : entry.at("scenario").value("features", nlohmann::json::array())) {
        if (const auto why = lacked.find(feature.get<std::string>()); why != lacked.end()) {
          s.no_oracle[version] = "needs " + feature.get<std::string>() + " (" + why->get<std::string>() + ")";
          break;
        }
      }
    }
    scenarios.push_back(std::move(s));
  }
  return scenarios;
}

}  // namespace aiospec::conformance
