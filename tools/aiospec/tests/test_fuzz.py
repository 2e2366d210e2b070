"""`aiospec fuzz` end to end: its arguments, and a known divergence (a mutant loop) found,
minimised, written as a scenario the loader accepts and `aiospec diff` reproduces.

Run by ctest (`fuzz/mutant`, label `fuzz`), which passes the binary in AIOSPEC_CLI.
"""

import os
import pathlib
import subprocess
import sys
import tempfile
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[3]
CLI = os.environ.get("AIOSPEC_CLI")
sys.path[:0] = [str(ROOT / "tools"), str(ROOT / "oracle")]


def aiospec(*args, timeout=300):
    return subprocess.run([CLI, *map(str, args)], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@unittest.skipUnless(CLI, "AIOSPEC_CLI is not set (ctest sets it)")
class Arguments(unittest.TestCase):
    def test_bad_arguments_exit_2_with_one_message(self):
        for args in ([], ["--seed", "1"], ["--count", "3"], ["--seed", "x", "--count", "1"],
                     ["--seed", "1", "--count", "-1"], ["--seed", "1", "--count", "1", "--backend", "bogus"],
                     ["--seed", "1", "--count", "1", "--mutant", "nope"], ["--seed", "1", "--count", "1", "--what"],
                     ["--seed", "1", "--count", "1", "--max-ops", "0"], ["--seed", "1", "--count"]):
            with self.subTest(args=args):
                proc = aiospec("fuzz", *args)
                self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
                self.assertTrue(proc.stderr.startswith("aiospec fuzz: "), proc.stderr)
                self.assertNotIn("Traceback", proc.stderr)

    def test_zero_programs_is_a_clean_run_with_a_summary(self):
        proc = aiospec("fuzz", "--seed", "1", "--count", "0")
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("programs 0", proc.stdout)

    def test_a_program_is_reproducible_by_its_index(self):
        whole = aiospec("fuzz", "--seed", "5", "--count", "3", "--quiet")
        one = aiospec("fuzz", "--seed", "5", "--start", "2", "--count", "1", "--quiet")
        self.assertIn(whole.returncode, (0, 1))
        self.assertIn(one.returncode, (0, 1))


@unittest.skipUnless(CLI, "AIOSPEC_CLI is not set (ctest sets it)")
class KnownDivergence(unittest.TestCase):
    """fifo-ties runs equal-deadline timers FIFO; CPython's heap does not: the fuzzer must see it."""

    def test_the_fifo_ties_mutant_is_found_minimised_and_reproduced(self):
        from aiospec_spec import loader

        with tempfile.TemporaryDirectory() as out:
            proc = aiospec("fuzz", "--seed", "1", "--count", "200", "--mutant", "fifo-ties", "--out", out,
                           "--max-tests", "400", "--per-kind", "2")
            self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
            self.assertIn("DIVERGENCE", proc.stdout)
            files = sorted(pathlib.Path(out).glob("fuzz-1-*.yaml"))
            self.assertTrue(files, proc.stdout)
            mutant_only = []
            for path in files:
                with self.subTest(file=path.name):
                    text = path.read_text()
                    self.assertTrue(text.startswith("# Found by `aiospec fuzz --seed 1`: program "), text)
                    self.assertIn("first divergence" if "interpreter failed" not in text else "failed", text)
                    canonical = loader.load(path)           # the loader accepts it as it is
                    self.assertEqual(canonical["program"] != [], True)
                    on_mutant = aiospec("diff", path, "--mutant", "fifo-ties")
                    self.assertNotEqual(on_mutant.returncode, 0, on_mutant.stdout + on_mutant.stderr)
                    on_reference = aiospec("diff", path)
                    if on_reference.returncode == 0:
                        mutant_only.append((path, canonical))
            # At least one finding is the mutant's own, and it was minimised to a handful of operations.
            self.assertTrue(mutant_only, proc.stdout)
            from aiospec_spec import fuzzgen
            self.assertLessEqual(min(fuzzgen.size(c) for _, c in mutant_only), 12, proc.stdout)


@unittest.skipUnless(CLI, "AIOSPEC_CLI is not set (ctest sets it)")
class EveryMutant(unittest.TestCase):
    """The generator has teeth: each mutant loop (one asyncio rule broken) is caught."""

    def test_each_mutant_is_caught_within_300_programs(self):
        known = aiospec("fuzz", "--seed", "1", "--count", "1", "--mutant", "?").stderr
        names = known.split("known:")[1].split("\n")[0].split()
        self.assertGreaterEqual(len(names), 5, known)
        for name in names:
            with self.subTest(mutant=name), tempfile.TemporaryDirectory() as out:
                proc = aiospec("fuzz", "--seed", "3", "--count", "300", "--mutant", name, "--max-tests", "0",
                               "--stop-after", "1", "--quiet", "--out", out)
                self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
                self.assertIn("divergences 1 ", proc.stdout)


if __name__ == "__main__":
    unittest.main()
