"""The Pyodide runtime of spec/oracles.yaml: finding it, saying why not, and its driver."""

import io
import shutil
import subprocess
import unittest
from unittest import mock

from aiospec_spec import bless

from .util import REPO

DRIVER = REPO / "oracle" / "pyodide" / "driver.mjs"
INSTALLED = (DRIVER.parent / "node_modules" / "pyodide-3.14").is_dir() and shutil.which("node")


class Discovery(unittest.TestCase):

    def test_the_versions_no_native_interpreter_has_go_to_pyodide(self):
        chosen, skipped = bless.by_runtime({})
        if not INSTALLED:
            self.skipTest("Node or oracle/pyodide/node_modules missing")
        self.assertEqual(skipped, [])
        self.assertEqual(sorted(chosen), [(3, 14), (3, 15)])
        command, version = chosen[(3, 14)]
        self.assertEqual(command[1:], [str(DRIVER), "3.14"])
        self.assertEqual(version[:2], (3, 14))

    def test_a_native_interpreter_of_the_version_wins(self):
        chosen, _ = bless.by_runtime({(3, 14): ("/usr/bin/python3.14", (3, 14, 0))})
        self.assertNotIn((3, 14), chosen)

    def test_without_node_the_versions_are_skipped_with_the_reason(self):
        with mock.patch.object(bless.shutil, "which", return_value=None):
            chosen, skipped = bless.by_runtime({})
        self.assertEqual(chosen, {})
        self.assertEqual(skipped, ["cpython-3.14: skipped: no node on PATH (bootstrap/install-deps installs nodejs)",
                                   "cpython-3.15: skipped: no node on PATH (bootstrap/install-deps installs nodejs)"])

    def test_without_the_package_the_version_is_skipped_with_the_reason(self):
        command, why = bless.pyodide(99)
        self.assertIsNone(command)
        self.assertRegex(why, r"^no Pyodide for 3\.99 in .*node_modules \(bootstrap/install-deps runs npm ci there\)$")

    def test_fresh_skips_a_version_it_cannot_run(self):
        args = mock.Mock(version="3.14", python=[], runtime=None, oracle=None, bundle=None, expected=None)
        out = io.StringIO()
        with mock.patch.object(bless.shutil, "which", return_value=None):
            self.assertEqual(bless.cmd_fresh(args, stream=out), bless.EXIT_SKIP)
        self.assertIn("fresh: skipped: cpython-3.14: no node on PATH", out.getvalue())


@unittest.skipUnless(shutil.which("node"), "no node")
class Driver(unittest.TestCase):

    def run_driver(self, *args):
        return subprocess.run(["node", str(DRIVER), *args], capture_output=True, text=True, timeout=120, cwd=REPO)

    def test_bad_usage_is_one_line_exit_2(self):
        proc = self.run_driver("3.14")
        self.assertEqual(proc.returncode, 2)
        self.assertEqual(proc.stderr, "aiospec pyodide: usage: driver.mjs X.Y -c CODE | -m MODULE [ARGS...]\n")

    def test_a_pyodide_that_cannot_start_is_one_line_exit_3(self):
        proc = self.run_driver("3.99", "-c", "pass")
        self.assertEqual(proc.returncode, 3)
        self.assertEqual(proc.stderr.count("\n"), 1)
        self.assertRegex(proc.stderr, r"^aiospec pyodide: no Pyodide for CPython 3\.99 in ")

    @unittest.skipUnless(INSTALLED, "oracle/pyodide/node_modules missing")
    def test_python_semantics_exit_status_streams_and_files(self):
        proc = self.run_driver("3.14", "-c", "import sys, asyncio.events as e; print(sys.platform, "
                               "e._get_running_loop(), type(e._event_loop_policy)); "
                               "print(open('spec/oracles.yaml').readline().strip()); sys.exit(5)")
        self.assertEqual(proc.returncode, 5, proc.stderr)
        self.assertEqual(proc.stdout.splitlines(), [
            "emscripten None <class 'NoneType'>",
            "# Which CPython judges each minor version, and what that runtime cannot run."])


if __name__ == "__main__":
    unittest.main()
