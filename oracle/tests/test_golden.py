"""The fixture scenarios under data/ against their traces in data/expected/.

The expected traces were blessed on one interpreter; every other one must
reproduce them event for event (the fixtures are version-independent), and
every run must reproduce the previous one.
"""

import os
import unittest

from aiospec_oracle import run_scenario
from aiospec_oracle.bundle import load_trace
from aiospec_oracle.compare import first_divergence
from aiospec_oracle.trace import scenario_sha256

from .support import BUDGET_FIXTURES, EXPECTED, golden_names, load, pure_python_future

# Fixtures whose traces hold the C Future's messages (see support.pure_python_future).
C_FUTURE_MESSAGES = ('errors',)


class GoldenTests(unittest.TestCase):

    def test_every_fixture_has_an_expected_trace(self):
        ids = sorted(load(name)['id'] + '.json' for name in golden_names())
        self.assertEqual(ids, sorted(os.listdir(EXPECTED)))

    def test_fixtures_reproduce_their_traces_twice(self):
        for name in golden_names():
            with self.subTest(fixture=name):
                if name in C_FUTURE_MESSAGES and pure_python_future():
                    continue      # "Result is not ready." and "FINISHED: <Future ...>" here
                s = load(name)
                expected = load_trace(os.path.join(EXPECTED, s['id'] + '.json'))
                self.assertEqual(expected['scenario_sha256'], scenario_sha256(s))
                for _ in range(2):
                    actual = run_scenario(s)['events']
                    self.assertIsNone(first_divergence(expected['events'], actual))

    def test_budget_fixtures_end_in_budget_exceeded(self):
        limits = {'budget-callbacks': 'callbacks', 'budget-iterations': 'iterations',
                  'budget-time': 'time'}
        for name in BUDGET_FIXTURES:
            with self.subTest(fixture=name):
                events = run_scenario(load(name))['events']
                self.assertEqual(events[-1]['ev'], 'budget_exceeded')
                self.assertEqual(events[-1]['limit'], limits[name])
                self.assertNotIn('never', [e.get('label') for e in events])


if __name__ == '__main__':
    unittest.main()
