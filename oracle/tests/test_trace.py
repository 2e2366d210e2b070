"""Rendering, hashing and comparison of traces (spec/TRACE.md)."""

import hashlib
import json
import sys
import unittest

from aiospec_oracle.compare import first_divergence
from aiospec_oracle.trace import (make_trace, producer, render_event,
                                  render_trace, render_value, scenario_sha256)

from .support import scenario


class RenderValueTests(unittest.TestCase):

    def test_floats_are_shortest_round_trip_in_repr_layout(self):
        cases = [
            (1e-09, '1e-09'), (86400.0, '86400.0'), (0.1, '0.1'), (0.5, '0.5'),
            (1.0, '1.0'), (0.0, '0.0'), (-0.0, '-0.0'), (1e16, '1e+16'),
            (1e15, '1000000000000000.0'), (0.0001, '0.0001'), (0.00001, '1e-05'),
            (0.1 + 0.2, '0.30000000000000004'), (259200.0, '259200.0'),
        ]
        for value, text in cases:
            with self.subTest(value=value):
                self.assertEqual(render_value(value), text)
                self.assertEqual(float(text), value)

    def test_non_finite_floats_are_num_strings(self):
        self.assertEqual(render_value(float('inf')), '"inf"')
        self.assertEqual(render_value(float('-inf')), '"-inf"')
        self.assertEqual(render_value(float('nan')), '"nan"')

    def test_scalars(self):
        self.assertEqual(render_value(None), 'null')
        self.assertEqual(render_value(True), 'true')
        self.assertEqual(render_value(False), 'false')
        self.assertEqual(render_value(42), '42')
        self.assertEqual(render_value(-7), '-7')
        self.assertEqual(render_value('tie-1'), '"tie-1"')

    def test_strings_escape_non_ascii(self):
        self.assertEqual(render_value('caf\u00e9 "q"\n'), '"caf\\u00e9 \\"q\\"\\n"')
        self.assertEqual(render_value('\U0001F600'), '"\\ud83d\\ude00"')


class RenderEventTests(unittest.TestCase):

    def test_t_then_ev_then_sorted_keys(self):
        event = {'type': 'RuntimeError', 'message': 'm', 'ev': 'error',
                 'op': 'run_forever', 't': 0.5}
        self.assertEqual(
            render_event(event),
            '{"t": 0.5, "ev": "error", "message": "m", "op": "run_forever", '
            '"type": "RuntimeError"}')

    def test_t_is_always_a_float(self):
        self.assertEqual(render_event({'t': 0, 'ev': 'record', 'label': 'a'}),
                         '{"t": 0.0, "ev": "record", "label": "a"}')

    def test_values_keep_their_type(self):
        self.assertEqual(
            render_event({'t': 1e-09, 'ev': 'result', 'future': 'f', 'value': 1}),
            '{"t": 1e-09, "ev": "result", "future": "f", "value": 1}')
        self.assertEqual(
            render_event({'t': 86400.0, 'ev': 'select', 'timeout': None}),
            '{"t": 86400.0, "ev": "select", "timeout": null}')


class RenderTraceTests(unittest.TestCase):

    def test_file_layout(self):
        trace = {
            'format': 'aiospec-trace/1', 'scenario': 'tmr-0003',
            'scenario_sha256': 'abc', 'producer': 'cpython-3.11.7',
            'regenerate': 'make bless',
            'events': [{'t': 0.0, 'ev': 'record', 'label': 'tie-0'},
                       {'t': 1.0, 'ev': 'record', 'label': 'tie-2'}],
        }
        self.assertEqual(render_trace(trace), (
            '{\n'
            '  "format": "aiospec-trace/1",\n'
            '  "scenario": "tmr-0003",\n'
            '  "scenario_sha256": "abc",\n'
            '  "producer": "cpython-3.11.7",\n'
            '  "regenerate": "make bless",\n'
            '  "events": [\n'
            '    {"t": 0.0, "ev": "record", "label": "tie-0"},\n'
            '    {"t": 1.0, "ev": "record", "label": "tie-2"}\n'
            '  ]\n'
            '}\n'))
        self.assertEqual(json.loads(render_trace(trace)), trace)

    def test_no_events(self):
        trace = make_trace(scenario([]), [])
        text = render_trace(trace)
        self.assertIn('  "events": []\n}\n', text)
        self.assertEqual(json.loads(text)['events'], [])

    def test_header(self):
        s = scenario([])
        trace = make_trace(s, [])
        self.assertEqual(trace['format'], 'aiospec-trace/1')
        self.assertEqual(trace['scenario'], 'tst-0001')
        self.assertEqual(trace['scenario_sha256'], scenario_sha256(s))
        self.assertEqual(trace['regenerate'], 'make bless')
        self.assertEqual(producer(), 'cpython-%d.%d.%d' % sys.version_info[:3])


class ScenarioHashTests(unittest.TestCase):

    def test_definition(self):
        s = {'program': [{'record': {'label': 'caf\u00e9'}}], 'id': 'x-0001'}
        text = json.dumps(s, sort_keys=True, separators=(',', ':'))
        self.assertEqual(scenario_sha256(s),
                         hashlib.sha256(text.encode()).hexdigest())

    def test_key_order_does_not_matter(self):
        a = {'id': 'x', 'program': [{'call_soon': {'do': [], 'as': 'h'}}]}
        b = {'program': [{'call_soon': {'as': 'h', 'do': []}}], 'id': 'x'}
        self.assertEqual(scenario_sha256(a), scenario_sha256(b))

    def test_known_value(self):
        # Pinned so that the loader's implementation can be checked against it.
        self.assertEqual(
            scenario_sha256({'id': 'ord-0001', 'program': [{'run_forever': {}}]}),
            hashlib.sha256(
                b'{"id":"ord-0001","program":[{"run_forever":{}}]}').hexdigest())


class FirstDivergenceTests(unittest.TestCase):

    def ev(self, label, t=1.0):
        return {'t': t, 'ev': 'record', 'label': label}

    def test_equal(self):
        self.assertIsNone(first_divergence([self.ev('a')], [self.ev('a')]))
        self.assertIsNone(first_divergence([], []))

    def test_int_and_float_t_are_equal(self):
        self.assertIsNone(first_divergence([{'t': 1, 'ev': 'x'}], [{'t': 1.0, 'ev': 'x'}]))

    def test_field(self):
        self.assertEqual(
            first_divergence([self.ev('tie-0'), self.ev('tie-2')],
                             [self.ev('tie-0'), self.ev('tie-1')]),
            'first divergence at event 1, field "label": '
            'expected "tie-2", actual "tie-1"')

    def test_time_field_comes_first(self):
        self.assertEqual(
            first_divergence([self.ev('a', 1.0)], [self.ev('b', 1e-09)]),
            'first divergence at event 0, field "t": expected 1.0, actual 1e-09')

    def test_absent_field(self):
        self.assertEqual(
            first_divergence([{'t': 0.0, 'ev': 'select', 'timeout': None}],
                             [{'t': 0.0, 'ev': 'select'}]),
            'first divergence at event 0, field "timeout": '
            'expected null, actual absent')

    def test_missing_and_extra(self):
        self.assertEqual(
            first_divergence([self.ev('a'), self.ev('b')], [self.ev('a')]),
            'first divergence at event 1: missing event '
            '{"t": 1.0, "ev": "record", "label": "b"}')
        self.assertEqual(
            first_divergence([], [self.ev('a')]),
            'first divergence at event 0: extra event '
            '{"t": 1.0, "ev": "record", "label": "a"}')


if __name__ == '__main__':
    unittest.main()


class ProducerTests(unittest.TestCase):
    """The producer names the exact release, a pre-release with its tag."""

    def test_final_and_pre_releases(self):
        from types import SimpleNamespace
        from unittest import mock

        from aiospec_oracle import trace
        for info, expected in (((3, 14, 2, 'final', 0), 'cpython-3.14.2'),
                               ((3, 15, 0, 'candidate', 1), 'cpython-3.15.0rc1'),
                               ((3, 15, 0, 'alpha', 7), 'cpython-3.15.0a7')):
            version = SimpleNamespace(major=info[0], minor=info[1], micro=info[2],
                                      releaselevel=info[3], serial=info[4])
            with mock.patch.object(trace, 'sys', SimpleNamespace(version_info=version)):
                self.assertEqual(trace.producer(), expected)
