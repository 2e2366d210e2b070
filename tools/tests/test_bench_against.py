"""bench/against.py: one revision's loop_bench against this tree's, case by case. On synthetic
Google Benchmark JSON (the build and the runs are exercised by `make bench-against`)."""

import importlib.util
import unittest

from .util import REPO

_spec = importlib.util.spec_from_file_location("bench_against", REPO / "bench" / "against.py")
against = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(against)


def document(*runs):
    return {"benchmarks": [{"name": name, "run_name": name, "run_type": "iteration",
                            "items_per_second": 1e9 / ns} for name, ns in runs]}


class Compare(unittest.TestCase):
    def test_medians_ratio_and_per_round_spread_for_cases_on_both_sides(self):
        then, now = {}, {}
        for t, n in [(100, 50), (120, 60), (80, 60)]:
            against.samples_of(document(("BM_a/reference/real_time", t), ("BM_gone/real_time", 1)), then)
            against.samples_of(document(("BM_a/reference/real_time", n), ("BM_new/real_time", 1)), now)
        (name, t, n, ratio, (lo, hi)), = against.compare(then, now)
        self.assertEqual(name, "BM_a/reference/real_time")
        self.assertAlmostEqual(t, 100)
        self.assertAlmostEqual(n, 60)
        self.assertAlmostEqual(ratio, 0.6)
        self.assertAlmostEqual(lo, 0.5)
        self.assertAlmostEqual(hi, 0.75)

    def test_failed_and_aggregate_runs_are_not_samples(self):
        samples = {}
        against.samples_of({"benchmarks": [
            {"name": "BM_x", "run_name": "BM_x", "error_occurred": True, "error_message": "unavailable: x"},
            {"name": "BM_y_median", "run_name": "BM_y", "run_type": "aggregate", "items_per_second": 1e9}]}, samples)
        self.assertEqual(samples, {})

    def test_rendered_table_names_the_revision(self):
        lines = against.render("ba8240b", [("BM_a/reference/real_time", 100.0, 60.0, 0.6, (0.5, 0.75))], 3)
        self.assertIn("now/ba8240b", lines[0])
        self.assertEqual(lines[2].split(), ["BM_a/reference", "100.0", "60.0", "0.60", "0.50..0.75"])


if __name__ == "__main__":
    unittest.main()
