"""The `aiospec` binary as a user meets it: exit codes 0 / 1 / 2 and one-line errors.

Run by ctest (label `cli`), which passes the binary in AIOSPEC_CLI.
"""

import os
import pathlib
import re
import subprocess
import unittest
from concurrent.futures import ThreadPoolExecutor

ROOT = pathlib.Path(__file__).resolve().parents[3]
CLI = os.environ.get("AIOSPEC_CLI")
BAD = sorted((ROOT / "tools/tests/bad").glob("*.yaml"))
SCENARIOS = sorted((ROOT / "spec").glob("*/*.yaml"))


def aiospec(*args):
    return subprocess.run([CLI, *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=120)


def expectation(path):
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: "), path
    return first[len("# expect: "):]


@unittest.skipUnless(CLI, "AIOSPEC_CLI is not set (ctest sets it)")
class BadInput(unittest.TestCase):
    def test_every_malformed_scenario_is_one_line_with_its_location_and_exit_2(self):
        self.assertGreaterEqual(len(BAD), 10)
        for path in BAD:
            for command in ("diff", "lint"):
                with self.subTest(path=path.name, command=command):
                    proc = aiospec(command, path.relative_to(ROOT))
                    self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
                    errors = [line for line in proc.stderr.splitlines() + proc.stdout.splitlines()
                              if re.search(expectation(path), line)]
                    self.assertTrue(errors, "no line matches %r in:\n%s%s" % (expectation(path), proc.stdout, proc.stderr))
                    if command == "diff":
                        self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)

    def test_a_missing_file_a_bad_backend_and_no_arguments_are_bad_input(self):
        self.assertEqual(aiospec("diff", "spec/no/such.yaml").returncode, 2)
        self.assertEqual(aiospec("diff", SCENARIOS[0].relative_to(ROOT), "--backend", "kqueue").returncode, 2)
        self.assertEqual(aiospec("diff").returncode, 2)
        self.assertEqual(aiospec().returncode, 2)
        self.assertEqual(aiospec("frobnicate").returncode, 2)


@unittest.skipUnless(CLI, "AIOSPEC_CLI is not set (ctest sets it)")
class Diff(unittest.TestCase):
    def test_every_scenario_is_identical_on_every_backend(self):
        self.assertGreaterEqual(len(SCENARIOS), 40)

        def one(path):
            return path, aiospec("diff", path.relative_to(ROOT), "--backend", "all", "--no-color")

        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            for path, proc in pool.map(one, SCENARIOS):
                with self.subTest(path=path.name):
                    self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
                    self.assertRegex(proc.stdout, r"identical on|UNSUPPORTED|SKIP")

    def test_a_difference_names_the_first_divergence_then_diffs_and_exits_1(self):
        proc = aiospec("diff", "spec/timers/equal-deadlines-3.yaml", "--mutant", "fifo-ties", "--no-color")
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        lines = proc.stdout.splitlines()
        self.assertRegex(lines[0], r'first divergence at event \d+, field "label": expected "tie-2", actual "tie-1"')
        self.assertTrue(lines[1].startswith("--- expected (cpython-3."), lines[1])
        self.assertTrue(lines[2].startswith("+++ actual (mutant/fifo-ties/poll)"), lines[2])
        self.assertNotIn("\033[", proc.stdout)

    def test_colour_only_when_asked_or_on_a_terminal(self):
        proc = aiospec("diff", "spec/timers/equal-deadlines-3.yaml", "--mutant", "fifo-ties", "--color")
        self.assertIn("\033[31m", proc.stdout)


if __name__ == "__main__":
    unittest.main()
