"""The installed package, as a loop author uses it from their own repository.

A staged install (`cmake --install` of this build to a temporary prefix) is what every test here
builds against, never the source tree:

* examples/out-of-tree-loop, a fresh CMake project, configures with find_package(aiospec 0.1
  REQUIRED), builds with no Python, pybind11 or GoogleTest path on any compile line, and its
  `ctest -L conformance` passes (its two known differences XFAIL);
* aiospec_add_conformance() refuses an unknown backend, a missing expectation file and a CPython
  version without traces at configure time, naming the argument;
* a runner over a partial install (a trace missing, or one that is not the bundle's) refuses
  with one line, exit 2, and so does the build step that registers the tests;
* the pkg-config file gives the package's include and library paths;
* the runner's JSON report renders as matrix cells, as `aiospec report --json` does.

Run by ctest (label `package`), which passes AIOSPEC_BUILD (this build) and CMAKE.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[3]
BUILD = pathlib.Path(os.environ.get("AIOSPEC_BUILD", ROOT / "build"))
CMAKE = os.environ.get("CMAKE", "cmake")
EXAMPLE = ROOT / "examples" / "out-of-tree-loop"


def run(*args, cwd=None, env=None, timeout=600):
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=env)


class Package(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = pathlib.Path(tempfile.mkdtemp(prefix="aiospec-package-"))
        cls.prefix = cls.tmp / "stage"
        r = run(CMAKE, "--install", BUILD, "--prefix", cls.prefix)
        if r.returncode != 0:
            raise AssertionError("cmake --install failed:\n" + r.stdout + r.stderr)
        cls.example = cls.tmp / "example"
        cls.configured = cls.configure(EXAMPLE, cls.example, cls.prefix)
        cls.built = run(CMAKE, "--build", cls.example) if cls.configured.returncode == 0 else cls.configured

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @staticmethod
    def configure(source, build, prefix):
        # No Python at all in the loop author's project: not even a hint of where one is.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        return run(CMAKE, "-S", source, "-B", build, "-G", "Ninja", "-DCMAKE_BUILD_TYPE=RelWithDebInfo",
                   "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON", "-DCMAKE_PREFIX_PATH=%s" % prefix, env=env)

    def project(self, name, call):
        """A fresh project whose only content is one aiospec_add_conformance() call."""
        source = self.tmp / name
        source.mkdir()
        shutil.copy(EXAMPLE / "tiny_loop.hpp", source)
        shutil.copy(EXAMPLE / "tiny_loop.cpp", source)
        shutil.copy(EXAMPLE / "tiny_adapter.cpp", source)
        (source / "CMakeLists.txt").write_text(
            "cmake_minimum_required(VERSION 3.20)\nproject(p LANGUAGES CXX)\nset(CMAKE_CXX_STANDARD 20)\n"
            "find_package(aiospec 0.1 REQUIRED)\nenable_testing()\n" + call + "\n")
        return self.configure(source, self.tmp / (name + "-build"), self.prefix)

    def test_the_example_builds_without_python_and_passes_its_suite(self):
        self.assertEqual(self.configured.returncode, 0, self.configured.stdout + self.configured.stderr)
        self.assertEqual(self.built.returncode, 0, self.built.stdout + self.built.stderr)
        commands = json.loads((self.example / "compile_commands.json").read_text())
        self.assertTrue(commands)
        for entry in commands:
            line = entry["command"].lower()
            for word in ("python", "pybind11", "gtest"):
                self.assertNotIn(word, line, entry["command"])
        r = run("ctest", "-L", "conformance", "--output-on-failure", "-j", "2", cwd=self.example)
        self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr)
        self.assertIn("100% tests passed", r.stdout)
        self.assertRegex(r.stdout, r"tiny_loop_conformance/timers/tmr-0004/default/cpython-3\.12")
        # The labels are aiospec's own: an area and a version select what they say.
        r = run("ctest", "-N", "-L", "timers", "-L", "cpython-3.12", cwd=self.example)
        self.assertRegex(r.stdout, r"Total Tests: [1-9]")

    def test_the_reference_loop_links_from_the_package_on_every_backend(self):
        # aiospec::reference with what it was built with (liburing for io_uring, found by the
        # package's config as at build time): a loop on each backend runs a callback.
        source = self.tmp / "uses-reference"
        source.mkdir()
        (source / "CMakeLists.txt").write_text(
            "cmake_minimum_required(VERSION 3.20)\nproject(p LANGUAGES CXX)\nset(CMAKE_CXX_STANDARD 20)\n"
            "find_package(aiospec 0.1 REQUIRED)\nadd_executable(uses_reference main.cpp)\n"
            "target_link_libraries(uses_reference PRIVATE aiospec::reference)\n")
        (source / "main.cpp").write_text(r"""
#include <iostream>
#include "aiospec/ref/base_events.hpp"
int main() {
  for (const std::string& backend : aiospec::ref::available_backends()) {
    if (auto why = aiospec::ref::why_unavailable(backend)) {
      std::cout << backend << " unavailable: " << *why << "\n";
      continue;
    }
    aiospec::ref::EventLoop loop(backend);
    int ran = 0;
    loop.call_soon([&] { ++ran; loop.stop(); });
    loop.run_forever();
    loop.close();
    std::cout << backend << " ran " << ran << "\n";
  }
}
""")
        build = self.tmp / "uses-reference-build"
        r = self.configure(source, build, self.prefix)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = run(CMAKE, "--build", build)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        r = run(build / "uses_reference")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        for backend in ("select", "poll", "epoll"):
            self.assertIn(backend + " ran 1", r.stdout)
        cache = (BUILD / "CMakeCache.txt").read_text()
        if "AIOSPEC_REFERENCE_IO_URING:INTERNAL=ON" in cache:
            self.assertRegex(r.stdout, r"io_uring (ran 1|unavailable: .+)")

    def test_the_report_target_gives_the_table_and_the_json(self):
        self.assertEqual(self.built.returncode, 0, self.built.stdout + self.built.stderr)
        r = run(CMAKE, "--build", self.example, "--target", "tiny_loop_conformance_report")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("0 failed, 0 errors", r.stdout)
        self.assertIn("2 xfail, 0 xpass", r.stdout)
        doc = json.loads((self.example / "tiny_loop_conformance-report.json").read_text())
        self.assertEqual(doc["format"], "aiospec-report/2")
        statuses = {item["scenario"]: item["status"] for item in doc["results"]}
        self.assertEqual(statuses["ord-0008"], "XFAIL")
        self.assertEqual(statuses["tmr-0004"], "UNSUPPORTED")  # timer-heap-ties is not declared
        # The records are the matrix's cells: the page renders them as it renders aiospec report's.
        page = self.tmp / "matrix"
        env = dict(os.environ, PYTHONPATH=str(ROOT / "tools"))
        r = run(sys.executable, "-m", "aiospec_matrix", "--render",
                self.example / "tiny_loop_conformance-report.json", "--out", page, env=env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("tiny_loop", (page / "index.html").read_text())

    def test_an_unknown_backend_is_a_configure_error(self):
        r = self.project("unknown-backend",
                         "aiospec_add_conformance(TARGET t ADAPTER_SOURCES tiny_adapter.cpp tiny_loop.cpp BACKENDS pol)")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("aiospec_add_conformance: BACKENDS: unknown backend 'pol'", r.stderr)

    def test_a_missing_expectation_file_is_a_configure_error(self):
        r = self.project("no-expectations",
                         "aiospec_add_conformance(TARGET t ADAPTER_SOURCES tiny_adapter.cpp tiny_loop.cpp "
                         "EXPECTATIONS missing.yaml)")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("aiospec_add_conformance: EXPECTATIONS: no such file", r.stderr)
        self.assertIn("missing.yaml", r.stderr)

    def test_a_version_without_traces_is_a_configure_error(self):
        r = self.project("no-traces",
                         "aiospec_add_conformance(TARGET t ADAPTER_SOURCES tiny_adapter.cpp tiny_loop.cpp CPYTHON 3.7)")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("aiospec_add_conformance: CPYTHON: no traces for CPython 3.7", r.stderr)

    def partial(self, name, damage):
        """A copy of the staged install with one trace damaged, and the example's runner on it."""
        self.assertEqual(self.built.returncode, 0, self.built.stdout + self.built.stderr)
        prefix = self.tmp / name
        shutil.copytree(self.prefix, prefix, symlinks=True)
        trace = prefix / "share" / "aiospec" / "expected" / "cpython-3.12" / "tmr-0004.json"
        damage(trace)
        runner = self.example / "tiny_loop_conformance"
        share = prefix / "share" / "aiospec"
        return run(runner, "--bundle", share / "bundle.json", "--expected", share / "expected", "--check-install")

    def test_a_partial_install_is_refused_with_one_line(self):
        r = self.partial("missing-trace", lambda trace: trace.unlink())
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn("tmr-0004.json is missing (a partial install", r.stderr)

    def test_a_trace_of_another_bundle_is_refused_with_one_line(self):
        def other(trace):
            doc = json.loads(trace.read_text())
            doc["scenario_sha256"] = "0" * 64
            trace.write_text(json.dumps(doc))
        r = self.partial("other-trace", other)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
        self.assertIn("do not match the installed bundle", r.stderr)

    def test_the_runner_refuses_what_the_loop_has_not_with_one_line(self):
        self.assertEqual(self.built.returncode, 0, self.built.stdout + self.built.stderr)
        share = self.prefix / "share" / "aiospec"
        common = [self.example / "tiny_loop_conformance", "--bundle", share / "bundle.json",
                  "--expected", share / "expected"]
        for args, line in [
                (["--backend", "epoll", "--report"], "aiospec runner: tiny_loop has no backend 'epoll' (it has: default)"),
                (["--time", "interposed", "--report"],
                 "aiospec runner: tiny_loop does not run in interposed time (it runs in: virtual)"),
                (["--time", "real", "--report"], "aiospec runner: real time is judged by several runs"),
                (["--python", "3.7", "--report"], "aiospec runner: no traces for CPython 3.7")]:
            r = run(*common, *args)
            self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
            self.assertEqual(len(r.stderr.strip().splitlines()), 1, r.stderr)
            self.assertTrue(r.stderr.startswith(line), r.stderr)

    def test_pkg_config_gives_the_package(self):
        env = dict(os.environ, PKG_CONFIG_PATH=str(self.prefix / "lib" / "pkgconfig"))
        r = run("pkg-config", "--cflags", "--libs", "aiospec", env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("-laiospec_conformance", r.stdout)
        include = pathlib.Path(r.stdout.split("-I", 1)[1].split()[0]).resolve()
        self.assertTrue((include / "aiospec" / "conformance" / "adapter.hpp").exists(), r.stdout)


if __name__ == "__main__":
    unittest.main()
