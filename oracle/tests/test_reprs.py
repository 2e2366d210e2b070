"""The normaliser of handler and log messages against spec/normalisation.json, the vectors the
C++ normaliser runs too."""

import json
import unittest
from pathlib import Path

from aiospec_oracle.reprs import normalise

VECTORS = Path(__file__).resolve().parents[2] / 'spec' / 'normalisation.json'


class Vectors(unittest.TestCase):

    def setUp(self):
        self.cases = json.loads(VECTORS.read_text(encoding='utf-8'))['cases']

    def test_enough_cases_from_both_ends_of_the_range(self):
        self.assertGreaterEqual(len(self.cases), 30)
        for version in ('3.8', '3.13'):
            self.assertTrue(any(('CPython %s' % version) in c['why'] for c in self.cases))

    def test_every_case(self):
        for case in self.cases:
            with self.subTest(why=case['why'], raw=case['raw'][:60]):
                self.assertEqual(sorted(case), ['normalised', 'raw', 'why'])
                self.assertEqual(normalise(case['raw']), case['normalised'])

    def test_idempotent(self):
        for case in self.cases:
            with self.subTest(raw=case['raw'][:60]):
                self.assertEqual(normalise(case['normalised']), case['normalised'])

    def test_no_host_detail_survives(self):
        for case in self.cases:
            with self.subTest(raw=case['raw'][:60]):
                text = case['normalised']
                self.assertNotRegex(text, r'0x[0-9a-f]')
                self.assertNotIn('.py:', text)
                self.assertNotIn('File "', text)


class Rules(unittest.TestCase):

    def test_none_stays_none(self):
        self.assertIsNone(normalise(None))

    def test_innermost_first(self):
        self.assertEqual(normalise('<Handle cb(<Future finished result=1>)>'),
                         '<Handle cb(<Future finished>)>')

    def test_an_unclosed_bracket_is_text(self):
        self.assertEqual(normalise('a <Task pending name=\'t\' coro=<x()'),
                         'a <Task pending name=\'t\' coro=<x()')


if __name__ == '__main__':
    unittest.main()
