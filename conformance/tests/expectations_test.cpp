// The package's reader of expectation files (expectations.hpp) agrees with the spec tools' YAML
// reader on every file in conformance/expectations/, and refuses malformed ones with one line
// FILE:LINE:COL.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>

#include "aiospec/conformance/expectations.hpp"

namespace aiospec::conformance {
namespace {

std::string python_reader(const std::string& path) {
  const std::string command = "cd '" AIOSPEC_SOURCE_DIR "' && PYTHONPATH=tools:oracle '" AIOSPEC_PYTHON
                              "' -m aiospec_spec expectations '" + path + "'";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  std::string out;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe.get())) > 0;) out.append(buffer, n);
  return out;
}

nlohmann::json as_json(const ExpectationFile& file) {
  nlohmann::json entries = nlohmann::json::object();
  for (const auto& [id, e] : file.entries) {
    nlohmann::json j = {{"status", e.status}, {"reason", e.reason}};
    if (!e.upstream.empty()) j["upstream"] = e.upstream;
    if (!e.cpython.empty()) j["cpython"] = e.cpython;
    if (!e.time.empty()) j["time"] = e.time;
    entries[id] = j;
  }
  return {{"loop", file.loop}, {"expectations", entries}};
}

TEST(Expectations, BothReadersAgreeOnEveryCommittedFile) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(AIOSPEC_SOURCE_DIR "/conformance/expectations")) {
    if (entry.path().extension() != ".yaml") continue;
    ++files;
    const std::string path = entry.path().string();
    EXPECT_EQ(as_json(read_expectation_file(path)), nlohmann::json::parse(python_reader(path))) << path;
  }
  EXPECT_GE(files, 5);
}

std::string refusal(const std::string& text) {
  try {
    parse_expectations(text, "x.yaml");
  } catch (const ExpectationError& e) {
    return e.what();
  }
  return "accepted";
}

TEST(Expectations, MalformedFilesAreRefusedWithTheirLocation) {
  EXPECT_EQ(refusal("loop: a\nexpectations:\n  tmr-0001:\n    status: FAILED\n    reason: r\n"),
            "x.yaml:4:13: status is FAIL, ERROR or FLAKY, not 'FAILED'");
  EXPECT_EQ(refusal("loop: a\nexpectations:\n  tmr-1:\n"), "x.yaml:3:3: 'tmr-1' is not a scenario id");
  EXPECT_EQ(refusal("loop: a\nexpectations:\n  tmr-0001:\n    status: FAIL\n    why: r\n"),
            "x.yaml:5:5: unknown key 'why' (status, reason, upstream, cpython, time)");
  EXPECT_EQ(refusal("loop: a\nexpectations:\n  tmr-0001:\n    status: FAIL\n    reason: \"r\n"),
            "x.yaml:5:13: unterminated double-quoted string");
  EXPECT_EQ(refusal("loop: a\nexpectations:\n  tmr-0001:\n    status: FAIL\n    reason: r\n    cpython: []\n"),
            "x.yaml:6:14: an empty cpython list");
  EXPECT_EQ(refusal("expectations: {}\n"), "x.yaml:1:1: the key 'loop' is missing");
  EXPECT_EQ(refusal("loop: a\nexpectations:\n  tmr-0001:\n    status: FAIL\n"),
            "x.yaml: tmr-0001: an entry needs status and reason");
}

TEST(Expectations, QuotedAndPlainScalarsAndComments) {
  const auto file = parse_expectations(
      "# a comment\nloop: 'it''s'   # trailing\nexpectations:\n  ord-0008:\n    status: ERROR\n"
      "    reason: \"a \\\"quoted\\\" reason\"\n    upstream: https://example.org/1\n    cpython: [\"3.8\", '3.9']\n"
      "    time: real\n",
      "x.yaml");
  EXPECT_EQ(file.loop, "it's");
  const auto& e = file.entries.at("ord-0008");
  EXPECT_EQ(e.reason, "a \"quoted\" reason");
  EXPECT_EQ(e.upstream, "https://example.org/1");
  EXPECT_EQ(e.cpython, (std::vector<std::string>{"3.8", "3.9"}));
  EXPECT_EQ(e.time, "real");
}

}  // namespace
}  // namespace aiospec::conformance
