"""The Python loop host speaks spec/PROTOCOL.md: handshake, run, skipped, errored, stop, end of
input, protected stdout, start-up failures in one line.  Pure protocol tests: the running
interpreter's own asyncio in virtual time, no preloaded library (the loops are in loops_host.py).
"""

import json
import os
import platform
import subprocess
import sys
import unittest

from aiospec_oracle import run_scenario
from aiospec_oracle.host import seconds_to_ns
from aiospec_oracle.trace import render_event

from .support import ORACLE_ROOT, load, record, scenario, STOP

HOST = [sys.executable, '-m', 'aiospec_oracle', 'host']


def _env(**extra):
    env = dict(os.environ)
    env['PYTHONPATH'] = ORACLE_ROOT
    for key in ('LD_PRELOAD', 'AIOSPEC_INTERPOSE_LIB'):
        env.pop(key, None)
    env.update(extra)
    return env


def converse(lines, args=('--loop', 'asyncio:SelectorEventLoop'), env=None, timeout=60):
    """Send ``lines`` (objects or raw strings) to a new host; return (status, answers, stdout
    lines, stderr)."""
    text = ''.join((line if isinstance(line, str) else json.dumps(line)) + '\n' for line in lines)
    done = subprocess.run(HOST + list(args), input=text, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, env=env or _env(),
                          timeout=timeout)
    out = done.stdout.splitlines()
    return done.returncode, [json.loads(line) for line in out], out, done.stderr


START = {'cmd': 'start', 'version': 1}


def run_request(seq, s):
    return {'cmd': 'run', 'seq': seq, 'scenario': s, 'cpython': '3.11'}


class HandshakeTests(unittest.TestCase):
    def test_handshake_fields(self):
        status, answers, _, _ = converse([START])
        self.assertEqual(status, 0)
        hello, = answers
        self.assertEqual(hello['version'], 1)
        impl = hello['implementation']
        runtime = 'pypy' if platform.python_implementation() == 'PyPy' else 'cpython'
        self.assertEqual(impl['name'], runtime + '-asyncio')
        self.assertEqual(impl['version'], platform.python_version())
        self.assertEqual(impl['language'], 'python')
        self.assertEqual(impl['language_version'], platform.python_version())
        self.assertEqual(impl['runtime'], runtime)
        self.assertEqual(impl['time'], 'virtual')        # auto picks virtual for asyncio
        self.assertIs(impl['versioned'], False)
        self.assertEqual(impl['producer'], '%s-asyncio-%s' % (runtime, platform.python_version()))
        self.assertIn('select-trace', impl['features'])
        self.assertIn('threads', impl['features'])

    def test_a_wrong_protocol_version_is_errored(self):
        _, answers, _, _ = converse([{'cmd': 'start', 'version': 2}])
        self.assertEqual(answers[0]['errored']['kind'], 'failed')
        self.assertIn('version', answers[0]['errored']['message'])

    def test_real_mode_declares_its_features(self):
        _, answers, _, _ = converse([START], ('--loop', 'asyncio:SelectorEventLoop',
                                              '--time', 'real'))
        impl = answers[0]['implementation']
        self.assertEqual(impl['time'], 'real')
        self.assertNotIn('select-trace', impl['features'])
        self.assertNotIn('exact-clock', impl['features'])


class RunTests(unittest.TestCase):
    def test_traces_are_the_oracles(self):
        fixtures = ['fifo', 'errors', 'blocked', 'two-loops', 'external-threadsafe',
                    'budget-time']
        requests = [START] + [run_request(i, load(name)) for i, name in enumerate(fixtures)]
        requests.append({'cmd': 'stop'})
        status, answers, lines, _ = converse(requests)
        self.assertEqual(status, 0)
        self.assertEqual(len(answers), 1 + len(fixtures))
        for i, name in enumerate(fixtures):
            answer = answers[1 + i]
            self.assertEqual(answer['seq'], i)
            expected = run_scenario(load(name))['events']
            # Exactly what a trace file holds, in the same rendering ("inf" strings included).
            self.assertEqual(lines[1 + i].split('"events": [', 1)[1][:-3],
                             ', '.join(render_event(e) for e in expected), name)
            self.assertTrue(answer['trace']['producer'].endswith(platform.python_version()))

    def test_non_finite_values_travel_as_strings(self):
        s = scenario([{'call_later': {'delay': 'inf', 'do': [], 'as': 'h'}},
                      {'when': {'handle': 'h'}}], features=['float-specials'])
        _, answers, _, _ = converse([START, run_request(1, s)])
        self.assertEqual(answers[1]['trace']['events'][0]['value'], 'inf')

    def test_invalid_scenario(self):
        s = scenario([{'cancel': {'handle': 'nope'}}])
        _, answers, _, _ = converse([START, run_request(3, s)])
        self.assertEqual(answers[1], {'seq': 3, 'errored': {
            'kind': 'invalid_scenario', 'message': "cancel: no handle named 'nope'"}})

    def test_a_feature_the_host_lacks_is_skipped(self):
        s = scenario([record('a')], features=['no-such-feature'])
        _, answers, _, _ = converse([START, run_request(4, s)])
        self.assertEqual(answers[1]['seq'], 4)
        self.assertIn('no-such-feature', answers[1]['skipped']['reason'])

    def test_a_failing_factory_at_run_time_is_errored_failed(self):
        # auto mode probes the factory at start-up; a factory that fails there cannot start.
        status, answers, _, err = converse([START], ('--loop', 'tests.host_factories:failing'))
        self.assertEqual((status, answers), (2, []))
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertIn('this factory always fails', err)

    def test_unknown_commands_and_garbage_are_errored_not_fatal(self):
        s = scenario([record('a'), STOP])
        status, answers, _, _ = converse([START, {'cmd': 'frobnicate', 'seq': 9}, 'not json',
                                          '[1, 2]', run_request(5, s)])
        self.assertEqual(status, 0)
        self.assertEqual(answers[1], {'seq': 9, 'errored': {
            'kind': 'failed', 'message': "unknown command 'frobnicate'"}})
        self.assertEqual(answers[2]['errored']['kind'], 'failed')
        self.assertIn('not JSON', answers[2]['errored']['message'])
        self.assertEqual(answers[3]['errored']['kind'], 'failed')
        self.assertEqual(answers[4]['seq'], 5)
        self.assertEqual(answers[4]['trace']['events'][0]['label'], 'a')

    def test_stop_ends_without_answer_and_eof_too(self):
        status, answers, _, _ = converse([START, {'cmd': 'stop'}, START])
        self.assertEqual((status, len(answers)), (0, 1))
        status, answers, _, _ = converse([])
        self.assertEqual((status, answers), (0, []))

    def test_stdout_is_protected(self):
        s = scenario([record('a'), STOP])
        status, answers, lines, err = converse(
            [START, run_request(1, s)], ('--loop', 'tests.host_factories:noisy'))
        self.assertEqual(status, 0)
        self.assertEqual(len(lines), 2)          # every line is an answer
        self.assertEqual(answers[1]['trace']['events'][0]['label'], 'a')
        self.assertIn('noisy loop: print() to stdout', err)
        self.assertIn('noisy loop: os.write(1)', err)


class StartFailureTests(unittest.TestCase):
    def assert_cannot_start(self, args, words, env=None):
        status, answers, _, err = converse([START], args, env=env)
        self.assertEqual(status, 2)
        self.assertEqual(answers, [])
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        for word in words:
            self.assertIn(word, err)

    def test_unimportable_factory(self):
        self.assert_cannot_start(('--loop', 'no_such_module_xyz:new_event_loop'),
                                 ['cannot import', 'no_such_module_xyz'])

    def test_missing_attribute(self):
        self.assert_cannot_start(('--loop', 'asyncio:NoSuchLoop'), ['NoSuchLoop'])

    def test_malformed_loop_spec(self):
        self.assert_cannot_start(('--loop', 'asyncio'), ['MODULE:FACTORY'])

    def test_bad_option(self):
        self.assert_cannot_start(('--loop', 'asyncio:SelectorEventLoop', '--time', 'warp'),
                                 ['--time'])
        self.assert_cannot_start(('--loop', 'asyncio:SelectorEventLoop', '--scale', '0'),
                                 ['--scale'])

    def test_virtual_time_for_a_loop_that_cannot_take_it(self):
        self.assert_cannot_start(('--loop', 'tests.host_factories:realtime', '--time', 'virtual'),
                                 ['--time virtual'])

    def test_interposed_without_the_library(self):
        self.assert_cannot_start(('--loop', 'asyncio:SelectorEventLoop', '--time', 'interposed'),
                                 ['not preloaded'])


class PurePythonTests(unittest.TestCase):
    @unittest.skipIf(platform.python_implementation() == 'PyPy', 'PyPy has no _asyncio')
    def test_pure_python_blocks_the_accelerator(self):
        s = load('errors')
        status, answers, _, err = converse(
            [START, run_request(1, s)],
            ('--loop', 'tests.host_factories:checked_pure', '--pure-python'))
        self.assertEqual(status, 0, err)
        self.assertTrue(answers[0]['implementation']['name'].endswith('-pure'))
        # The pure-Python Future's own message (the C one says "Result is not set.").
        messages = [e.get('message') for e in answers[1]['trace']['events']]
        self.assertIn('Result is not ready.', messages)

    @unittest.skipIf(platform.python_implementation() == 'PyPy', 'PyPy has no _asyncio')
    def test_pure_python_name(self):
        _, answers, _, _ = converse([START], ('--loop', 'asyncio:SelectorEventLoop',
                                              '--pure-python'))
        self.assertEqual(answers[0]['implementation']['name'], 'cpython-asyncio-pure')


class ClockConversionTests(unittest.TestCase):
    def test_seconds_to_ns_reaches_the_time(self):
        for seconds in (0.1, 0.3, 0.30000000000000004, 1.000000001, 2.5, 1e-9, 86400.0,
                        0.1 + 0.2, 1e6 + 0.1):
            ns = seconds_to_ns(seconds)
            self.assertGreaterEqual(ns / 1e9, seconds)
            self.assertLess((ns - 1) / 1e9, seconds)
        self.assertEqual(seconds_to_ns(0.1), 100000000)
        self.assertEqual(seconds_to_ns(-1.0), 0)
        self.assertEqual(seconds_to_ns(float('inf')), 2 ** 63 - 1)


if __name__ == '__main__':
    unittest.main()
