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
class EveryScenarioEndsAndSaysWhy(unittest.TestCase):
    """The inputs of issue 5, sections 1 and 2, through the C++ commands a user runs: each ends
    within 10 s, exit 1 (a budget stop) or 2 (bad input), with one line naming the file or the
    budget; never a traceback, a signal or a hang."""

    RUNAWAY = {
        "ten-billion-operations": ("- repeat: {times: 100000, do: [{repeat: {times: 100000, do: [{call_soon: []}]}}]}\n",
                                      "operations budget"),
        "fan-out-1000-cubed": ("""\
            - repeat: {times: 1000, do: [{call_soon: [{repeat: {times: 1000, do: [
                {call_soon: [{repeat: {times: 1000, do: [{call_soon: [{record: leaf}]}]}}]}]}}]}]}
            - run_forever:
            """, "operations budget"),
        "records-in-one-callback": ("""\
            - call_soon: [{repeat: {times: 100000, do: [{record: r}]}}, {stop: }]
            - run_forever:
            """, "events budget"),
        "burn-1e300": ("- call_soon: [{burn: 1e300}]\n- run_forever:\n", "time budget"),
    }

    REFUSED_AT_RUN = {
        # The handle is never bound: the call that would bind it raised (the loop is closed).
        "handle-of-a-failed-call": ("""\
            - close:
            - call_soon: {do: [], as: h}
            - cancel: h
            """, "cancel: no handle named 'h'"),
        "close-fd-still-watched": ("""\
            - socketpair: [a, b]
            - add_reader: {fd: a, do: []}
            - close_fd: a
            """, "close_fd: socket 'a' is still watched by loop 'main'"),
    }

    def run_both(self, path):
        results = []
        for command in (["diff", path, "--backend", "all"], ["run", path]):
            proc = subprocess.run([CLI, *map(str, command)], cwd=ROOT, capture_output=True, text=True, timeout=10)
            self.assertNotIn("Traceback", proc.stdout + proc.stderr)
            self.assertGreaterEqual(proc.returncode, 0, "killed by a signal")
            results.append(proc)
        return results

    def test_runaway_scenarios_stop_at_a_budget_exit_1(self):
        for name, (program, budget) in self.RUNAWAY.items():
            with self.subTest(name), tempfile.TemporaryDirectory() as tmp:
                path = scenario_file(tmp, program)
                diff, run = self.run_both(path)
                self.assertEqual(diff.returncode, 1, diff.stdout + diff.stderr)
                self.assertIn(budget, diff.stdout)
                self.assertEqual(run.returncode, 1, run.stdout + run.stderr)

    def test_scenarios_refused_at_run_time_exit_2_in_one_line(self):
        for name, (program, message) in self.REFUSED_AT_RUN.items():
            with self.subTest(name), tempfile.TemporaryDirectory() as tmp:
                features = "fd-io" if "socketpair" in program else ""
                path = scenario_file(tmp, program).read_text().replace("features: []", "features: [%s]" % features)
                pathlib.Path(tmp, "timers/s.yaml").write_text(path)
                for proc in self.run_both(pathlib.Path(tmp, "timers/s.yaml")):
                    self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
                    lines = [l for l in (proc.stdout + proc.stderr).splitlines() if message in l]
                    self.assertEqual(len(lines), 1, proc.stdout + proc.stderr)

    def test_unloadable_files_exit_2_in_one_line_naming_the_file(self):
        good = SCENARIO.read_bytes()
        inputs = {
            "fifty-megabytes": good + b"# " + b"x" * (50 * 1024 * 1024) + b"\n",
            "trillion-times": good.replace(b"times: 3", b"times: 1000000000000", 1),
            "nul-byte": good.replace(b"tie-", b"t\x00ie-", 1),
            "esc-byte": good.replace(b"tie-", b"t\x1bie-", 1),
            "lone-surrogate": good.replace(b"tie-{i}", b'"\\ud800{i}"', 1),
            "recv-beyond-int": good.replace(b"features: []", b"features: [fd-io]").replace(
                b"program:", b"program:\n  - socketpair: [a, b]\n  - recv: {fd: a, size: 4294967298}", 1),
            "external-at-nan": good.replace(b"features: []", b"features: [threads, float-specials]").replace(
                b"program:", b"program:\n  - external: {at: nan, do: []}", 1),
            "new-loop-reused": good.replace(b"features: []", b"features: [multiple-loops]").replace(
                b"program:", b"program:\n  - new_loop: other\n  - new_loop: other", 1),
        }
        for name, data in inputs.items():
            with self.subTest(name), tempfile.TemporaryDirectory() as tmp:
                path = pathlib.Path(tmp, "timers", name + ".yaml")
                path.parent.mkdir()
                path.write_bytes(data)
                for command in ("diff", "run", "lint"):
                    proc = subprocess.run([CLI, command, str(path)], cwd=ROOT, capture_output=True, text=True,
                                          timeout=10, errors="replace")
                    self.assertEqual(proc.returncode, 2, "%s %s: %s%s" % (command, name, proc.stdout, proc.stderr))
                    lines = [l for l in (proc.stdout + proc.stderr).splitlines() if name + ".yaml:" in l]
                    self.assertTrue(lines, "%s %s: %s%s" % (command, name, proc.stdout, proc.stderr))
                    self.assertNotIn("Traceback", proc.stdout + proc.stderr)

    def test_an_empty_directory_is_not_a_clean_lint(self):
        with tempfile.TemporaryDirectory() as tmp:
            proc = aiospec("lint", tmp)
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)


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
