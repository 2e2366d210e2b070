"""A fixed-seed loader fuzz run: every mutated scenario loads or is refused in one-line errors."""

import io
import tempfile
import time
import unittest

from aiospec_spec import loader_fuzz
from aiospec_spec.errors import Diagnostic, LoadError


class LoaderFuzz(unittest.TestCase):

    def test_fixed_seed_run(self):
        out = io.StringIO()
        with tempfile.TemporaryDirectory() as tmp:
            start = time.monotonic()
            findings = loader_fuzz.run(seed=5, count=2000, out_dir=tmp, stream=out)
            elapsed = time.monotonic() - start
        self.assertEqual(findings, 0, out.getvalue())
        self.assertRegex(out.getvalue(), r"2000 inputs in .* \(\d+ inputs/s\): \d+ loaded, "
                                         r"\d+ refused, 0 findings")
        self.assertLess(elapsed, 60.0)     # about 7 s on an idle machine

    def test_the_checker_catches_dishonest_outcomes(self):
        self.assertIsNone(loader_fuzz._problem(
            LoadError([Diagnostic("f.yaml", 1, 2, (), "bad")]), "f.yaml"))
        for outcome in (KeyError("x"), LoadError([]),
                        LoadError([Diagnostic("g.yaml", 1, 2, (), "bad")]),
                        LoadError([Diagnostic("f.yaml", 1, 2, (), "two\nlines")]),
                        LoadError([Diagnostic("f.yaml", 1, 2, (), "a \ud800")]),
                        LoadError([Diagnostic("f.yaml", 1, 1, (), "internal loader error: X")])):
            with self.subTest(outcome=repr(outcome)):
                self.assertIsNotNone(loader_fuzz._problem(outcome, "f.yaml"))

    def test_findings_are_written_for_reproduction(self):
        out = io.StringIO()
        with tempfile.TemporaryDirectory() as tmp:
            original = loader_fuzz.load_text
            loader_fuzz.load_text = lambda *a: (_ for _ in ()).throw(ValueError("boom"))
            try:
                findings = loader_fuzz.run(seed=1, count=3, out_dir=tmp, stream=out)
            finally:
                loader_fuzz.load_text = original
            self.assertEqual(findings, 3)
            self.assertIn("raised ValueError: boom", out.getvalue())
            import os
            self.assertEqual(len(os.listdir(tmp)), 3)


if __name__ == "__main__":
    unittest.main()
