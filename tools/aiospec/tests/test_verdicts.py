"""What `aiospec` concludes, and that nothing around it can change that.

* The embedded CPython is sealed: a heapq.py in the working directory, another CPython first on
  PATH, PYTHONPATH/PYTHONHOME pointing elsewhere change nothing (issue 5, section 4).
* Exit codes say what happened: 0 identical, 1 different (a budget stop included), 2 bad input,
  3 a loop or the oracle failed (section 6); a budget stop is never "identical" (section 1).
* No verdict from stale data: a trace blessed from another version of the scenario is STALE, and
  a bundle older than spec/ is refused with one line naming the command (section 5).

Run by ctest (label `cli`), which passes the binary in AIOSPEC_CLI.
"""

import glob
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import textwrap
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[3]
CLI = os.environ.get("AIOSPEC_CLI")
SCENARIO = ROOT / "spec/timers/equal-deadlines-3.yaml"


def aiospec(*args, cwd=ROOT, env=None):
    return subprocess.run([CLI, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env=env)


def scenario_file(directory, program, extra=""):
    path = pathlib.Path(directory) / "timers" / "s.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent("""\
        id: tmr-9001
        title: a scenario written by the test
        clauses: [TMR-01]
        features: []
        level: cpython
        %sprogram:
        """) % extra + textwrap.indent(textwrap.dedent(program), "  "))
    return path


@unittest.skipUnless(CLI, "AIOSPEC_CLI is not set (ctest sets it)")
class SealedOracle(unittest.TestCase):
    def test_a_heapq_py_in_the_working_directory_changes_nothing(self):
        with tempfile.TemporaryDirectory() as tmp:
            for module in ("heapq", "selectors", "asyncio", "json", "yaml"):
                pathlib.Path(tmp, module + ".py").write_text("raise SystemExit('local %s.py imported')\n" % module)
            proc = aiospec("diff", SCENARIO, cwd=tmp)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("identical", proc.stdout)

    def test_another_python_first_on_path_and_python_variables_change_nothing(self):
        others = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/*/bin")))
        with tempfile.TemporaryDirectory() as tmp:
            fake = pathlib.Path(tmp, "python3")       # a python3 that is not a Python at all
            fake.write_text("#!/bin/sh\nexit 42\n")
            fake.chmod(0o755)
            env = dict(os.environ, PATH=os.pathsep.join([tmp] + others + [os.environ.get("PATH", "")]),
                       PYTHONPATH=tmp, PYTHONHOME="/nonexistent", PYTHONSTARTUP=str(fake),
                       PYTHONASYNCIODEBUG="1", PYTHONDEVMODE="1", PYTHONSAFEPATH="")
            pathlib.Path(tmp, "heapq.py").write_text("raise SystemExit('PYTHONPATH heapq.py imported')\n")
            proc = aiospec("diff", SCENARIO, env=env)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("identical", proc.stdout)


@unittest.skipUnless(CLI, "AIOSPEC_CLI is not set (ctest sets it)")
class ExitCodes(unittest.TestCase):
    def test_a_budget_stop_is_never_identical(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = scenario_file(tmp, """\
                - call_soon: [{burn: 1e300}]
                - run_forever:
                """)
            proc = aiospec("diff", path)
            self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
            self.assertNotIn("identical", proc.stdout)
            self.assertIn("budget", proc.stdout)
            run = aiospec("run", path)
            self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
            self.assertIn("budget", run.stderr)

    def test_usage_errors_are_exit_2_in_one_line(self):
        for args in (["report", "--backend", "bogus"], ["diff", SCENARIO, "--backend", "bogus"],
                     ["report", "--python", "2.7"], ["run", SCENARIO, "--loop", "nope"], ["frobnicate"]):
            with self.subTest(args=args):
                proc = aiospec(*args)
                self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
                self.assertLessEqual(len(proc.stdout.splitlines()), 0, proc.stdout)

    def test_version(self):
        proc = aiospec("--version")
        self.assertEqual(proc.returncode, 0)
        self.assertRegex(proc.stdout, r"^aiospec \d+\.\d+\.\d+ ")


@unittest.skipUnless(CLI, "AIOSPEC_CLI is not set (ctest sets it)")
class NoVerdictFromStaleData(unittest.TestCase):
    def test_a_trace_blessed_from_another_version_of_the_scenario_is_stale_not_fail(self):
        with tempfile.TemporaryDirectory() as tmp:
            expected = pathlib.Path(tmp, "expected")
            shutil.copytree(ROOT / "conformance/expected/cpython-3.12", expected / "cpython-3.12")
            trace = expected / "cpython-3.12/tmr-0004.json"
            text = trace.read_text()
            data = json.loads(text)
            trace.write_text(text.replace(data["scenario_sha256"], "0" * 64).replace('"tie-2"', '"renamed"'))
            proc = aiospec("report", "--expected", expected, "--backend", "poll")
            self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
            self.assertIn("STALE spec/timers/equal-deadlines-3.yaml (tmr-0004)", proc.stdout)
            self.assertNotIn("FAIL spec/timers/equal-deadlines-3.yaml", proc.stdout)


if __name__ == "__main__":
    unittest.main()
