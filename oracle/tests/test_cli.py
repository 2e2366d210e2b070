"""python -m aiospec_oracle run | bless | check."""

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

from aiospec_oracle import cli
from aiospec_oracle.trace import producer

from .support import ORACLE_ROOT, STOP, bundle, load, record, scenario

MINOR = '%d.%d' % sys.version_info[:2]
NEXT_MINOR = '%d.%d' % (sys.version_info[0], sys.version_info[1] + 1)


class CliTestCase(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='aiospec-oracle-test-')
        self.addCleanup(shutil.rmtree, self.dir)

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, 'w') as f:
            f.write(data if isinstance(data, str) else json.dumps(data))
        return path

    def main(self, *argv):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = cli.main(list(argv))
            except SystemExit as exc:      # argparse
                status = exc.code
        return status, out.getvalue(), err.getvalue()


class RunTests(CliTestCase):

    def test_run_a_scenario_file(self):
        path = self.write('s.json', load('fifo'))
        status, out, err = self.main('run', path)
        self.assertEqual((status, err), (0, ''))
        trace = json.loads(out)
        self.assertEqual(trace['scenario'], 'ord-9001')
        self.assertEqual(trace['producer'], producer())
        self.assertEqual([e['label'] for e in trace['events']], ['a', 'b', 'c'])
        self.assertTrue(out.endswith(']\n}\n'))

    def test_run_from_a_bundle(self):
        path = self.write('b.json', bundle(['fifo', 'equal-deadlines-3']))
        status, out, _ = self.main('run', path, '--id', 'tmr-9002')
        self.assertEqual(status, 0)
        self.assertEqual([e['label'] for e in json.loads(out)['events']],
                         ['tie-0', 'tie-2', 'tie-1'])
        status, _, err = self.main('run', path)
        self.assertEqual(status, 2)
        self.assertIn('--id', err)
        status, _, err = self.main('run', path, '--id', 'ord-0404')
        self.assertEqual(status, 2)
        self.assertIn(path, err)

    def test_malformed_input_exits_2_naming_the_file(self):
        cases = {
            'not-json.json': '{"id": ',
            'no-id.json': '{"program": []}',
            'bad-op.json': json.dumps(scenario([{'nope': {}}])),
        }
        for name, text in cases.items():
            with self.subTest(name=name):
                path = self.write(name, text)
                status, out, err = self.main('run', path)
                self.assertEqual(status, 2)
                self.assertEqual(out, '')
                self.assertIn(path, err)
                self.assertEqual(len(err.strip().splitlines()), 1)
        status, _, err = self.main('run', os.path.join(self.dir, 'missing.json'))
        self.assertEqual(status, 2)
        self.assertIn('missing.json', err)

    def test_bad_bundle_sha_exits_2(self):
        data = bundle(['fifo'])
        data['scenarios'][0]['sha256'] = '0' * 64
        path = self.write('b.json', data)
        status, _, err = self.main('bless', '--bundle', path, '--out', self.dir)
        self.assertEqual(status, 2)
        self.assertIn('sha256', err)

    def test_module_entry_point_and_stdin(self):
        env = dict(os.environ, PYTHONPATH=ORACLE_ROOT)
        result = subprocess.run(
            [sys.executable, '-m', 'aiospec_oracle', 'run', '-'],
            input=json.dumps(load('three-day-timer')), env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn('{"t": 259200.0, "ev": "record", "label": "fired"}', result.stdout)

    def test_budget_stop_prints_the_trace_and_exits_1(self):
        path = self.write('s.json', scenario([record('a'), record('b')], budget={'events': 1}))
        status, out, err = self.main('run', path)
        self.assertEqual(status, 1)
        self.assertEqual(json.loads(out)['events'][-1],
                         {'t': 0.0, 'ev': 'budget_exceeded', 'limit': 'events'})
        self.assertRegex(err, r'^python -m aiospec_oracle: \S+s\.json \(tst-0001\): '
                              r'budget exceeded \(events\)\n$')

    def test_invalid_scenario_exits_2(self):
        path = self.write('s.json', scenario([{'cancel': {'handle': 'h'}}]))
        status, out, err = self.main('run', path)
        self.assertEqual((status, out), (2, ''))
        self.assertIn("cancel: no handle named 'h'", err)
        self.assertEqual(err.count('\n'), 1)

    def test_oracle_failure_exits_3_in_one_line(self):
        from aiospec_oracle.exceptions import OracleFailure
        path = self.write('s.json', scenario([record('a')]))
        for exc in (OracleFailure('oracle fault: exception handler called: x\ny'),
                    KeyError('surprise')):
            with self.subTest(exc=type(exc).__name__):
                with mock.patch.object(cli, 'run_scenario', side_effect=exc):
                    status, out, err = self.main('run', path)
                self.assertEqual((status, out), (3, ''))
                self.assertTrue(err.startswith('python -m aiospec_oracle: the oracle failed: '),
                                err)
                self.assertEqual(err.count('\n'), 1, err)


class BlessTests(CliTestCase):

    def setUp(self):
        super().setUp()
        self.out = os.path.join(self.dir, 'expected')

    def bless(self, data):
        return self.main('bless', '--bundle', self.write('bundle.json', data),
                         '--out', self.out)

    def test_new_unchanged_changed_removed(self):
        fifo = load('fifo')
        ties = load('equal-deadlines-3')
        status, out, _ = self.bless(bundle([fifo, ties]))
        self.assertEqual(status, 0)
        self.assertEqual(sorted(os.listdir(self.out)), ['ord-9001.json', 'tmr-9002.json'])
        self.assertIn('new      ord-9001', out)
        self.assertIn('2 new, 0 changed, 0 removed, 0 unchanged', out)

        # Same events, other producer: the file is left alone.
        path = os.path.join(self.out, 'ord-9001.json')
        with open(path) as f:
            text = f.read().replace(producer(), 'cpython-3.99.0')
        with open(path, 'w') as f:
            f.write(text)
        status, out, _ = self.bless(bundle([fifo, ties]))
        self.assertEqual(out.count('\n'), 1)
        self.assertIn('0 new, 0 changed, 0 removed, 2 unchanged', out)
        with open(path) as f:
            self.assertEqual(f.read(), text)

        # A changed scenario rewrites its trace; a dropped one is removed.
        fifo['program'].insert(0, record('first'))
        status, out, _ = self.bless(bundle([fifo]))
        self.assertEqual(status, 0)
        self.assertIn('changed  ord-9001', out)
        self.assertIn('removed  tmr-9002', out)
        self.assertEqual(os.listdir(self.out), ['ord-9001.json'])
        with open(path) as f:
            self.assertIn('"label": "first"', f.read())

    def test_only_applicable_scenarios(self):
        later = scenario([record('x')], id='tst-0002', python={'min': NEXT_MINOR})
        here = scenario([record('x')], id='tst-0003',
                        python={'min': '3.8', 'max': MINOR})
        status, out, _ = self.bless(bundle([later, here]))
        self.assertEqual(status, 0)
        self.assertEqual(os.listdir(self.out), ['tst-0003.json'])
        self.assertIn('1 scenario(s) not applicable', out)

    def test_refuses_budget_exceeded(self):
        status, out, err = self.bless(bundle(['fifo', 'budget-time']))
        self.assertEqual(status, 1)
        self.assertIn('spec/timers/budget-time.yaml (tmr-9004): budget exceeded (time)', err)
        self.assertFalse(os.path.exists(self.out))

    def test_refuses_nondeterminism(self):
        real = cli.run_scenario
        calls = []

        def flaky(s):
            trace = real(s)
            calls.append(1)
            if len(calls) % 2 == 0:
                trace['events'].append({'t': 0.0, 'ev': 'record', 'label': 'extra'})
            return trace
        with mock.patch.object(cli, 'run_scenario', flaky):
            status, _, err = self.bless(bundle(['fifo']))
        self.assertEqual(status, 1)
        self.assertIn('spec/ordering/fifo.yaml (ord-9001): not deterministic', err)
        self.assertIn('extra event', err)

    def test_refuses_invalid_scenario(self):
        status, _, err = self.bless(bundle([scenario([{'cancel': {'handle': 'h'}}])]))
        self.assertEqual(status, 1)
        self.assertIn('(tst-0001): invalid scenario', err)


class PinnedPatchTests(CliTestCase):
    """A trace another patch release of this minor produced is not replaced silently."""

    def setUp(self):
        super().setUp()
        self.out = os.path.join(self.dir, 'expected')
        self.other = 'cpython-%d.%d.%d' % (sys.version_info[0], sys.version_info[1],
                                           sys.version_info[2] + 1)
        self.assertEqual(self.main('bless', '--bundle', self.write('b.json', bundle(['fifo'])),
                                   '--out', self.out)[0], 0)
        self.path = os.path.join(self.out, 'ord-9001.json')
        with open(self.path) as f:
            text = f.read()
        # As if that other patch release had blessed it, and behaved otherwise.
        self.committed = text.replace(producer(), self.other).replace('"label": "a"', '"label": "z"', 1)
        self.assertNotEqual(self.committed, text)
        with open(self.path, 'w') as f:
            f.write(self.committed)

    def bless(self, *extra):
        return self.main('bless', '--bundle', os.path.join(self.dir, 'b.json'), '--out', self.out,
                         *extra)

    def test_refused_with_what_changed(self):
        status, out, err = self.bless()
        self.assertEqual(status, 1)
        self.assertIn('patch-level change: ord-9001 (spec/ordering/fifo.yaml): %s -> %s: '
                      'first divergence at event' % (self.other, producer()), err)
        self.assertIn('bless refused: 1 trace(s) of another patch release would change', err)
        with open(self.path) as f:
            self.assertEqual(f.read(), self.committed)

    def test_replaced_when_allowed(self):
        status, out, err = self.bless('--allow-patch-change')
        self.assertEqual(status, 0, err)
        self.assertIn('changed  ord-9001', out)
        with open(self.path) as f:
            self.assertIn('"producer": "%s"' % producer(), f.read())


class NoOracleTests(CliTestCase):
    """Scenarios needing what this runtime lacks (the bundle's oracle table) are not run."""

    def data(self):
        lacking = scenario([record('x')], id='tst-0005', features=['threads'])
        data = bundle(['fifo', lacking])
        data['oracles'] = {'runtimes': {'native': {'description': 'a test runtime',
                                                   'lacks': {'threads': 'none here'}}},
                           'versions': {}}
        return data

    def test_bless_and_check_skip_them_and_say_why(self):
        out_dir = os.path.join(self.dir, 'expected')
        path = self.write('b.json', self.data())
        status, out, err = self.main('bless', '--bundle', path, '--out', out_dir)
        self.assertEqual(status, 0, err)
        self.assertEqual(os.listdir(out_dir), ['ord-9001.json'])
        self.assertIn('1 without an oracle here (needs threads: 1)', out)
        status, out, _ = self.main('check', '--bundle', path, '--expected', out_dir)
        self.assertEqual(status, 0, out)
        self.assertIn('1 passed, 0 failed, 1 without an oracle here (needs threads: 1)', out)

    def test_a_malformed_table_is_one_line(self):
        data = self.data()
        data['oracles'] = {'runtimes': {'native': {'lacks': 'threads'}}}
        status, _, err = self.main('check', '--bundle', self.write('b.json', data),
                                   '--expected', self.dir)
        self.assertEqual(status, 2)
        self.assertEqual(err.count('\n'), 1)
        self.assertIn('oracles: expected', err)


class CheckTests(CliTestCase):

    def setUp(self):
        super().setUp()
        self.out = os.path.join(self.dir, 'expected')

    def check(self, data):
        return self.main('check', '--bundle', self.write('bundle.json', data),
                         '--expected', self.out)

    def bless(self, data):
        status, _, err = self.main('bless', '--bundle', self.write('bundle.json', data),
                                   '--out', self.out)
        self.assertEqual(status, 0, err)

    def test_fresh(self):
        data = bundle(['fifo', 'three-day-timer', 'reader-before-writer'])
        self.bless(data)
        status, out, _ = self.check(data)
        self.assertEqual((status, out), (0, '3 passed, 0 failed\n'))

    def test_skipped(self):
        later = scenario([record('x')], id='tst-0002', python={'min': NEXT_MINOR})
        data = bundle(['fifo', later])
        self.bless(data)
        status, out, _ = self.check(data)
        self.assertEqual((status, out), (0, '1 passed, 0 failed, 1 skipped\n'))

    def test_divergence(self):
        self.bless(bundle(['equal-deadlines-3']))
        path = os.path.join(self.out, 'tmr-9002.json')
        with open(path) as f:
            text = f.read()
        with open(path, 'w') as f:
            f.write(text.replace('"tie-2"', '"tie-X"'))
        status, out, _ = self.check(bundle(['equal-deadlines-3']))
        self.assertEqual(status, 1)
        self.assertEqual(out.splitlines(), [
            'FAIL tmr-9002 (spec/timers/equal-deadlines-3.yaml): run 1: first divergence '
            'at event 1, field "label": expected "tie-X", actual "tie-2"',
            '0 passed, 1 failed',
        ])

    def test_missing_stale_and_changed(self):
        self.bless(bundle(['fifo', 'equal-deadlines-3', 'three-day-timer']))
        os.remove(os.path.join(self.out, 'ord-9001.json'))
        changed = load('three-day-timer')
        changed['program'].append(record('more'))
        status, out, _ = self.check(bundle(['fifo', changed]))
        lines = out.splitlines()
        self.assertEqual(status, 1)
        self.assertTrue(lines[0].startswith('FAIL ord-9001 (spec/ordering/fifo.yaml): '
                                            'no expected trace'), lines)
        self.assertTrue(lines[1].startswith('FAIL tmr-9001 (spec/timers/tmr-9001.yaml): '
                                            'the scenario changed since its trace was '
                                            'blessed'), lines)
        self.assertTrue(lines[2].startswith('FAIL tmr-9002: stale trace'), lines)
        self.assertEqual(lines[3], '0 passed, 3 failed')

    def test_malformed_expected_trace_exits_2(self):
        self.bless(bundle(['fifo']))
        path = os.path.join(self.out, 'ord-9001.json')
        with open(path, 'w') as f:
            f.write('{"format": "something-else"}')
        status, _, err = self.check(bundle(['fifo']))
        self.assertEqual(status, 2)
        self.assertIn(path, err)


if __name__ == '__main__':
    unittest.main()
