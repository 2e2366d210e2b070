"""`aiospec report --loop` and `aiospec diff --loop` on loop hosts that need nothing but this build:
the C++ host (aiospec-host, also serving a mutant loop), and a Python host that misbehaves on
purpose (broken_host.py). The Python loop host of oracle/ is tested by the tests labelled `loops`.

* the C++ host's report is the in-process report, result for result;
* a bad SPEC, a missing interpreter, a missing interposition library, a host that cannot start:
  exit 2, one line;
* a host that crashes, raises, hangs, writes garbage, answers the wrong seq or a malformed trace:
  ERROR for that scenario with the reason, every other scenario as usual;
* expectation files: XFAIL, XPASS, unexpected failures, --update-expectations round trip.

Run by ctest (label `protocol`), which passes AIOSPEC_CLI and AIOSPEC_HOST.
"""

import json
import os
import pathlib
import re
import shlex
import subprocess
import sys
import tempfile
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[3]
CLI = os.environ.get("AIOSPEC_CLI")
HOST = os.environ.get("AIOSPEC_HOST")
BROKEN = pathlib.Path(__file__).with_name("broken_host.py")
VERSION = "3.12"
TARGET = "tmr-0004"       # spec/timers/equal-deadlines-3.yaml: where the Python host misbehaves


def aiospec(*args, timeout=120):
    return subprocess.run([CLI, *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def report(*args, json_path=None):
    extra = ["--json", json_path] if json_path else []
    return aiospec("report", "--python", VERSION, *args, *extra)


def results(path):
    doc = json.loads(pathlib.Path(path).read_text())
    return doc, {r["scenario"]: r for r in doc["results"]}


def broken(*options):
    # `exec`: /bin/sh -c would otherwise stay in between, and report a crash as exit status 139.
    return "cmd:exec " + " ".join(shlex.quote(a) for a in [sys.executable, str(BROKEN), *options, "--", HOST])


@unittest.skipUnless(CLI and HOST, "AIOSPEC_CLI / AIOSPEC_HOST are not set (ctest sets them)")
class CppHost(unittest.TestCase):
    def test_the_cpp_host_reports_exactly_what_the_in_process_reference_reports(self):
        with tempfile.TemporaryDirectory() as tmp:
            local = report("--backend", "poll", json_path=tmp + "/local.json")
            remote = report("--loop", "cmd:" + HOST, "--time", "virtual", json_path=tmp + "/remote.json")
            self.assertEqual(local.returncode, 0, local.stdout + local.stderr)
            self.assertEqual(remote.returncode, 0, remote.stdout + remote.stderr)
            a, _ = results(tmp + "/local.json")
            b, _ = results(tmp + "/remote.json")
        self.assertEqual(a["format"], "aiospec-report/2")
        self.assertEqual(b["format"], "aiospec-report/2")
        self.assertEqual([{k: v for k, v in r.items() if k != "backend"} for r in a["results"]], b["results"])
        for key in ("loop", "loop_version", "producer", "language", "language_version", "runtime", "time", "spec",
                    "interpreter", "cpython", "suite_revision", "scenarios", "runs", "seconds", "expectations"):
            self.assertIn(key, b["run_info"])
        self.assertEqual(b["run_info"]["loop"], "aiospec-reference/poll")
        self.assertEqual(b["run_info"]["time"], "virtual")
        self.assertEqual(b["run_info"]["cpython"], [VERSION])
        self.assertRegex(b["run_info"]["suite_revision"], r"^([0-9a-f]{4,}(\+dirty)?|unknown)$")
        self.assertIn("aiospec-reference/poll", remote.stdout.splitlines()[0])
        self.assertIn("virtual time", remote.stdout.splitlines()[0])

    def test_diff_with_a_host(self):
        same = aiospec("diff", "spec/timers/equal-deadlines-3.yaml", "--loop", "cmd:" + HOST)
        self.assertEqual(same.returncode, 0, same.stdout + same.stderr)
        self.assertIn("identical on aiospec-reference/poll (virtual time", same.stdout)
        mutant = aiospec("diff", "spec/timers/equal-deadlines-3.yaml", "--loop", "cmd:%s --mutant fifo-ties" % HOST,
                         "--no-color")
        self.assertEqual(mutant.returncode, 1, mutant.stdout + mutant.stderr)
        self.assertRegex(mutant.stdout, r'first divergence at event \d+, field "label"')
        self.assertIn("+++ actual (mutant/fifo-ties/poll)", mutant.stdout)


@unittest.skipUnless(CLI and HOST, "AIOSPEC_CLI / AIOSPEC_HOST are not set (ctest sets them)")
@unittest.skipUnless(CLI and HOST, "AIOSPEC_CLI / AIOSPEC_HOST are not set (ctest sets them)")
class RunOnAHost(unittest.TestCase):
    def test_run_prints_the_hosts_trace_as_the_in_process_run_does(self):
        scenario = str(ROOT / "spec" / "timers" / "equal-deadlines-3.yaml")
        local = subprocess.run([CLI, "run", scenario, "--backend", "poll"], capture_output=True, text=True)
        remote = subprocess.run([CLI, "run", scenario, "--loop", "cmd:" + HOST], capture_output=True, text=True)
        self.assertEqual(local.returncode, 0, local.stderr)
        self.assertEqual(remote.returncode, 0, remote.stderr)
        events = lambda text: json.loads(text)["events"]
        self.assertEqual(events(local.stdout), events(remote.stdout))
        self.assertEqual(json.loads(remote.stdout)["producer"], "aiospec-reference/poll")

    def test_a_host_that_cannot_start_is_one_line_and_exit_2(self):
        scenario = str(ROOT / "spec" / "timers" / "equal-deadlines-3.yaml")
        proc = subprocess.run([CLI, "run", scenario, "--loop", "python:no_such_module:factory"],
                              capture_output=True, text=True)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
        self.assertEqual(proc.stdout, "")


class OneLineErrors(unittest.TestCase):
    def assertOneLine(self, proc, pattern):
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        self.assertEqual(proc.stdout, "")
        lines = proc.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, proc.stderr)
        self.assertRegex(lines[0], pattern)

    def test_a_spec_that_is_none_of_the_three(self):
        for spec in ("uvloop", "python:uvloop", "python::f", "cmd:", "cpython"):
            with self.subTest(spec=spec):
                self.assertOneLine(report("--loop", spec), r"--loop")
                self.assertOneLine(aiospec("diff", "spec/timers/equal-deadlines-3.yaml", "--loop", spec), r"--loop")

    def test_an_interpreter_that_does_not_exist(self):
        self.assertOneLine(report("--loop", "python:asyncio:new_event_loop", "--time", "virtual",
                                  "--interpreter", "/nonexistent/python3"),
                           r"^aiospec report: no interpreter /nonexistent/python3 \(--interpreter\)$")
        self.assertOneLine(aiospec("diff", "spec/timers/equal-deadlines-3.yaml", "--loop",
                                   "python:asyncio:new_event_loop", "--time", "virtual",
                                   "--interpreter", "/nonexistent/python3"), r"no interpreter")

    def test_a_missing_interposition_library(self):
        lib = ROOT / "build"  # the path is baked in; only meaningful while the library is not built
        proc = report("--loop", "cmd:" + HOST, "--time", "interposed")
        if proc.returncode == 2 and "interposition library" in proc.stderr:
            self.assertOneLine(proc, r"^aiospec report: the interposition library /\S+libaiospec_interpose\.so is not built")
        else:
            # Built: the C++ host then says it runs in virtual time, not interposed as asked.
            self.assertOneLine(proc, r"host runs in virtual time, not interposed as asked")
        del lib

    def test_a_host_that_cannot_start_exits_2_with_its_own_line(self):
        self.assertOneLine(report("--loop", broken("--start", "exit")),
                           r"^aiospec report: broken_host.py: cannot start: no module named 'nosuchloop'$")

    def test_a_command_that_is_not_a_host(self):
        self.assertOneLine(report("--loop", "cmd:echo hello"),
                           r"^aiospec report: host wrote a line that is not JSON: hello")

    def test_options(self):
        self.assertOneLine(report("--loop", "cmd:" + HOST, "--time", "sideways"), r"--time")
        self.assertOneLine(report("--loop", "cmd:" + HOST, "--backend", "poll"), r"--backend is for --loop reference")
        self.assertOneLine(report("--loop", "cmd:" + HOST, "--runs", "0"), r"--runs")


@unittest.skipUnless(CLI and HOST, "AIOSPEC_CLI / AIOSPEC_HOST are not set (ctest sets them)")
class BrokenPythonHost(unittest.TestCase):
    FAULTS = {
        "crash": r"^host killed by signal SIGSEGV; its stderr ends: broken_host.py: crash on tmr-0004$",
        "raise": r"^host exited with status 1; its stderr ends: RuntimeError: the loop under test blew up$",
        "hang": r"^host did not answer within 1 s",
        "garbage": r"^host wrote a line that is not JSON: <html>not a trace</html>",
        "wrong-seq": r"^host answered seq \d+ to request \d+",
        "malformed-trace": r"^malformed answer: events\[0\] is not an event object",
    }

    def test_each_fault_costs_one_scenario_and_the_run_goes_on(self):
        with tempfile.TemporaryDirectory() as tmp:
            _, baseline = results_of(report("--backend", "poll", json_path=tmp + "/base.json"), tmp + "/base.json")
            for fault, pattern in self.FAULTS.items():
                with self.subTest(fault=fault):
                    path = "%s/%s.json" % (tmp, fault)
                    proc = report("--loop", broken("--fault", fault, "--on", TARGET), "--timeout", "1",
                                  json_path=path)
                    self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
                    _, got = results(path)
                    self.assertEqual(got[TARGET]["status"], "ERROR")
                    self.assertRegex(got[TARGET]["message"], pattern)
                    for sid, r in got.items():
                        if sid != TARGET:
                            self.assertEqual(r["status"], baseline[sid]["status"], sid)
                    self.assertIn("ERROR spec/timers/equal-deadlines-3.yaml (tmr-0004)", proc.stdout)


@unittest.skipUnless(CLI and HOST, "AIOSPEC_CLI / AIOSPEC_HOST are not set (ctest sets them)")
class RealTime(unittest.TestCase):
    """A host that says it runs in real time (broken_host.py imitating one): times compared within
    --tolerance, each scenario run --runs times (default 3), runs that disagree FLAKY."""

    def test_times_within_the_tolerance_pass_and_beyond_it_fail(self):
        with tempfile.TemporaryDirectory() as tmp:
            _, baseline = results_of(report("--backend", "poll", json_path=tmp + "/base.json"), tmp + "/base.json")
            close = report("--loop", broken("--claim-time", "real", "--jitter", "0.01"), "--time", "real",
                           json_path=tmp + "/close.json")
            self.assertEqual(close.returncode, 0, close.stdout + close.stderr)
            doc, got = results(tmp + "/close.json")
            self.assertEqual(doc["run_info"]["runs"], 3)
            self.assertEqual(doc["run_info"]["time"], "real")
            self.assertEqual({s: r["status"] for s, r in got.items()}, {s: r["status"] for s, r in baseline.items()})
            self.assertIn("flaky  xfail  xpass", close.stdout)
            # The default tolerance is 0.1 scenario seconds: a jitter of 0.05 passes it, not 0.02.
            far = report("--loop", broken("--claim-time", "real", "--jitter", "0.05"), "--time", "real",
                         "--runs", "1", "--tolerance", "0.02", json_path=tmp + "/far.json")
            self.assertEqual(far.returncode, 1, far.stdout + far.stderr)
            _, got = results(tmp + "/far.json")
            self.assertEqual(got[TARGET]["status"], "FAIL")
            self.assertRegex(got[TARGET]["divergence"], r'^first divergence at event 0, field "t": expected 1\.0, actual 1\.05')
            wide = report("--loop", broken("--claim-time", "real", "--jitter", "0.05"), "--time", "real",
                          "--runs", "1")
            self.assertEqual(wide.returncode, 0, wide.stdout + wide.stderr)

    def test_runs_that_disagree_are_flaky_never_pass(self):
        with tempfile.TemporaryDirectory() as tmp:
            proc = report("--loop", broken("--claim-time", "real", "--flaky", TARGET), "--time", "real",
                          json_path=tmp + "/r.json")
            self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
            _, got = results(tmp + "/r.json")
            self.assertEqual(got[TARGET]["status"], "FLAKY")
            self.assertRegex(got[TARGET]["message"], r"^runs disagree: FAIL, PASS, FAIL; FAIL: first divergence")
            self.assertIn("FLAKY spec/timers/equal-deadlines-3.yaml (tmr-0004)", proc.stdout)

    def test_diff_in_real_time_retries_and_says_which_attempt_matched(self):
        proc = aiospec("diff", "spec/timers/equal-deadlines-3.yaml", "--python", VERSION, "--time", "real",
                       "--loop", broken("--claim-time", "real", "--flaky", TARGET))
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertRegex(proc.stdout, r"identical on .*; attempt 2 of 3\)\n$")

    def test_diff_in_real_time_fails_when_every_attempt_differs(self):
        proc = aiospec("diff", "spec/timers/equal-deadlines-3.yaml", "--python", VERSION, "--time", "real",
                       "--loop", broken("--claim-time", "real", "--late", TARGET))
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertIn("(each of 3 attempts differed; the last is shown)", proc.stdout)
        self.assertIn("actual 2.25", proc.stdout)  # the third run: late by 1.25 s

    def test_runs_that_fail_alike_are_a_fail_whatever_the_clock_read(self):
        # Late by 0.75, 1.0, 1.25 s in the three runs: the same divergence, other clock values.
        with tempfile.TemporaryDirectory() as tmp:
            proc = report("--loop", broken("--claim-time", "real", "--late", TARGET), "--time", "real",
                          json_path=tmp + "/r.json")
            self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
            _, got = results(tmp + "/r.json")
            self.assertEqual(got[TARGET]["status"], "FAIL")
            self.assertRegex(got[TARGET]["divergence"], r'^first divergence at event 0, field "t": expected 1\.0, actual 1\.75')

    def test_a_host_in_another_time_mode_than_asked_is_refused(self):
        proc = report("--loop", broken("--claim-time", "real"), "--time", "virtual")
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        self.assertEqual(proc.stderr.strip(), "aiospec report: host runs in real time, not virtual as asked")


def results_of(proc, path):
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return results(path)


@unittest.skipUnless(CLI and HOST, "AIOSPEC_CLI / AIOSPEC_HOST are not set (ctest sets them)")
class Expectations(unittest.TestCase):
    MUTANT = property(lambda self: "cmd:%s --mutant fifo-ties" % HOST)

    def test_update_then_xfail_then_xpass(self):
        with tempfile.TemporaryDirectory() as tmp:
            exp = pathlib.Path(tmp, "mutant.yaml")
            first = report("--loop", self.MUTANT, json_path=tmp + "/1.json")
            self.assertEqual(first.returncode, 1, first.stdout + first.stderr)
            _, r1 = results(tmp + "/1.json")
            failing = sorted(s for s, r in r1.items() if r["status"] == "FAIL")
            self.assertTrue(failing)

            update = report("--loop", self.MUTANT, "--expectations", exp, "--update-expectations")
            self.assertIn("wrote %s (%d expectations)" % (exp, len(failing)), update.stdout)
            text = exp.read_text()
            self.assertIn('loop: "mutant/fifo-ties/poll"', text)
            self.assertEqual(text.count('reason: "TODO: explain"'), len(failing))
            check = subprocess.run([sys.executable, "-m", "aiospec_spec", "expectations", str(exp)], cwd=ROOT,
                                   capture_output=True, text=True, env=dict(os.environ, PYTHONPATH="tools:oracle"))
            self.assertEqual(check.returncode, 0, check.stderr)
            self.assertEqual(sorted(json.loads(check.stdout)["expectations"]), failing)

            # Every failure listed: XFAIL, exit 0.
            second = report("--loop", self.MUTANT, "--expectations", exp, json_path=tmp + "/2.json")
            self.assertEqual(second.returncode, 0, second.stdout + second.stderr)
            self.assertIn("xfail", second.stdout)
            _, r2 = results(tmp + "/2.json")
            for sid in failing:
                self.assertEqual((r2[sid]["status"], r2[sid]["expected"]), ("XFAIL", "FAIL"))

            # A reason written by hand survives an update; a listed scenario that passes is XPASS.
            passing = sorted(s for s, r in r1.items() if r["status"] == "PASS")[0]
            text = text.replace('reason: "TODO: explain"', 'reason: "FIFO ties, on purpose"', 1)
            text += '  %s:\n    status: FAIL\n    reason: "not really"\n' % passing
            exp.write_text(text)
            third = report("--loop", self.MUTANT, "--expectations", exp, json_path=tmp + "/3.json")
            self.assertEqual(third.returncode, 1, third.stdout + third.stderr)
            _, r3 = results(tmp + "/3.json")
            self.assertEqual(r3[passing]["status"], "XPASS")
            self.assertIn("XPASS %s" % r3[passing]["path"], third.stdout)
            report("--loop", self.MUTANT, "--expectations", exp, "--update-expectations")
            updated = exp.read_text()
            self.assertIn('reason: "FIFO ties, on purpose"', updated)
            self.assertNotIn(passing + ":", updated)

    def test_only_some_versions_failing_gives_a_cpython_list(self):
        with tempfile.TemporaryDirectory() as tmp:
            exp = pathlib.Path(tmp, "m.yaml")
            exp.write_text('loop: "mutant/fifo-ties/poll"\nexpectations: {}\n')
            versions = sorted({p.name[len("cpython-"):] for p in (ROOT / "conformance/expected").glob("cpython-*")},
                              key=lambda v: tuple(map(int, v.split("."))))
            args = [a for v in versions for a in ("--python", v)]
            proc = aiospec("report", "--loop", self.MUTANT, *args, "--expectations", exp, "--update-expectations",
                           "--json", tmp + "/r.json")
            self.assertIn("wrote", proc.stdout, proc.stderr)
            doc = json.loads(pathlib.Path(tmp, "r.json").read_text())
            by_id = {}
            for r in doc["results"]:
                by_id.setdefault(r["scenario"], {})[r["cpython"]] = r["status"]
            text = exp.read_text()
            for sid, statuses in by_id.items():
                judged = [v for v, s in statuses.items() if s in ("PASS", "FAIL")]
                failed = [v for v, s in statuses.items() if s == "FAIL"]
                if failed and len(failed) < len(judged):
                    self.assertRegex(text, r"%s:\n    status: FAIL\n    reason: .*\n    cpython: \[" % sid)

    def test_a_file_for_another_loop_and_a_malformed_file_are_exit_2(self):
        with tempfile.TemporaryDirectory() as tmp:
            exp = pathlib.Path(tmp, "other.yaml")
            exp.write_text("loop: uvloop\nexpectations: {}\n")
            proc = report("--loop", self.MUTANT, "--expectations", exp)
            self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
            self.assertIn("is the expectation file of uvloop, not of mutant/fifo-ties/poll", proc.stderr)
            exp.write_text("loop: uvloop\nexpectations:\n  ord-0008: {status: PASS, reason: x}\n")
            proc = report("--loop", self.MUTANT, "--expectations", exp)
            self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
            self.assertRegex(proc.stderr.strip(), r"^%s:3:\d+: status must be one of FAIL ERROR FLAKY"
                             % re.escape(str(exp)))
            self.assertEqual(len(proc.stderr.strip().splitlines()), 1)


if __name__ == "__main__":
    unittest.main()
