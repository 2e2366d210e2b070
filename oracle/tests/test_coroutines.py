"""Coroutine bodies, tasks and exceptions in the oracle's interpreter (issue 7)."""

import asyncio
import gc
import io
import sys
import unittest
from contextlib import redirect_stderr

from aiospec_oracle import ScenarioError, run_scenario
from aiospec_oracle.interpreter import (EXCEPTION_CLASSES, THROW_CHAINS, Interpreter, chain,
                                        describe, trace_value)
from aiospec_oracle import ops

from .support import events, raise_, record, scenario, task, until

TASKS = ['futures', 'tasks']


def try_(do, handlers=(), final=None):
    args = {'do': do}
    if handlers:
        args['except'] = [{'match': list(m), 'do': d} for m, d in handlers]
    if final is not None:
        args['finally'] = final
    return {'try': args}


class Describe(unittest.TestCase):

    def test_exc(self):
        self.assertEqual(describe(ValueError('x', 2, None, 1.5, True)),
                         {'type': 'ValueError', 'args': ['x', 2, None, 1.5, True]})
        self.assertEqual(describe(KeyError(('a',))), {'type': 'KeyError', 'args': ["('a',)"]})
        try:
            try:
                raise ValueError
            except ValueError as exc:
                raise RuntimeError('r') from exc
        except RuntimeError as exc:
            self.assertEqual(describe(exc), {'type': 'RuntimeError', 'args': ['r'],
                                             'context': 'ValueError', 'cause': 'ValueError'})
        self.assertEqual(describe(asyncio.CancelledError()), {'type': 'CancelledError',
                                                              'args': []})

    def test_trace_value(self):
        self.assertEqual(trace_value([1, [None, 'a'], ValueError('v')]),
                         [1, [None, 'a'], {'type': 'ValueError', 'args': ['v']}])

    def test_chain_cuts_cycles_like_cpython(self):
        a, b = ValueError('a'), TypeError('b')
        b.__context__ = a
        chain(a, b)                 # a appears while b (whose context is a) is handled
        self.assertIs(a.__context__, b)
        self.assertIsNone(b.__context__)
        chain(a, a)
        self.assertIs(a.__context__, b)


class ExceptionTable(unittest.TestCase):

    def test_classes(self):
        self.assertEqual(set(EXCEPTION_CLASSES), set(ops.EXCEPTION_TYPES))
        self.assertIs(EXCEPTION_CLASSES['CancelledError'], asyncio.CancelledError)
        self.assertIs(EXCEPTION_CLASSES['TimeoutError'], asyncio.TimeoutError)
        self.assertIs(EXCEPTION_CLASSES['InvalidStateError'], asyncio.InvalidStateError)
        self.assertTrue(set(ops.RAISABLE) <= set(EXCEPTION_CLASSES))

    def test_the_table_is_the_class_hierarchy(self):
        # Each name's class derives from each of its ancestors' in the table (TimeoutError is
        # an OSError from 3.11, which the table does not name: Exception is its parent).
        for name in ops.EXCEPTION_TYPES:
            for ancestor in ops.exception_ancestors(name):
                self.assertTrue(issubclass(EXCEPTION_CLASSES[name], EXCEPTION_CLASSES[ancestor]),
                                (name, ancestor))
        self.assertEqual(ops.exception_ancestors('TimeoutError'),
                         ['TimeoutError', 'Exception', 'BaseException'])

    def test_probe_matches_cpython(self):
        if sys.implementation.name == 'cpython':
            self.assertEqual(THROW_CHAINS, sys.version_info >= (3, 9))


class CoroutineOnly(unittest.TestCase):

    def test_refused_outside_a_coroutine_at_run_time(self):
        for op in ({'await': {'on': 'f'}}, {'sleep': {'delay': 0.0}}, {'return': {'value': 1}},
                   {'reraise': {}}, try_([record('x')])):
            name = next(iter(op))
            with self.subTest(op=name):
                with self.assertRaisesRegex(ScenarioError, '^%s: only inside a coroutine$'
                                            % name):
                    run_scenario(scenario([{'new_future': {'name': 'f'}}, op], TASKS))
                with self.assertRaisesRegex(ScenarioError, 'only inside a coroutine'):
                    run_scenario(scenario([{'call_soon': {'do': [op]}}, {'run_forever': {}}],
                                          TASKS))

    def test_a_callback_inside_a_coroutine_is_not_a_coroutine_body(self):
        with self.assertRaisesRegex(ScenarioError, 'sleep: only inside a coroutine'):
            run_scenario(scenario([task([{'call_soon': {'do': [{'sleep': {'delay': 0.0}}]}},
                                         {'sleep': {'delay': 0.0}}]), until('t')], TASKS))

    def test_every_coroutine_only_op_is_marked(self):
        self.assertEqual(ops.COROUTINE_ONLY, {'await', 'sleep', 'gather', 'shield', 'wait_for',
                                              'return', 'try', 'reraise', 'wait', 'timeout',
                                              'timeout_at', 'task_group'})


class Bodies(unittest.TestCase):

    def test_errors_propagate_in_a_coroutine_and_not_in_a_callback(self):
        self.assertEqual(events([
            {'new_future': {'name': 'f'}},
            {'set_exception': {'future': 'f', 'type': 'TypeError', 'message': 'no'}},
            task([{'result': {'future': 'f'}}, record('not-reached')]),
            {'call_soon': {'do': [{'result': {'future': 'f'}}, record('callback-goes-on'),
                                  {'stop': {}}]}},
            {'run_forever': {}},
            {'exception': {'future': 't'}},
        ], TASKS), [
            '{"t": 0.0, "ev": "error", "message": "no", "op": "result", "type": "TypeError"}',
            '{"t": 0.0, "ev": "error", "message": "no", "op": "result", "type": "TypeError"}',
            '{"t": 0.0, "ev": "record", "label": "callback-goes-on"}',
            '{"t": 0.0, "ev": "exception", "future": "t", "value": {"args": ["no"], '
            '"type": "TypeError"}}',
        ])

    def test_return_is_never_matched_and_runs_finally(self):
        lines = events([task([try_([{'return': {'value': 7}}],
                                   [(['BaseException'], [record('caught')])],
                                   [record('finally')])]), until('t')], TASKS)
        self.assertEqual(lines, ['{"t": 0.0, "ev": "record", "label": "finally"}',
                                 '{"t": 0.0, "ev": "run_until_complete", "value": 7}'])

    def test_handlers_in_order_first_match_wins(self):
        lines = events([task([try_([raise_('TimeoutError')],
                                   [(['ValueError'], [record('value')]),
                                    (['Exception'], [record('exception')]),
                                    (['TimeoutError'], [record('timeout')])])]),
                        until('t')], TASKS)
        self.assertEqual(lines[0], '{"t": 0.0, "ev": "record", "label": "exception"}')

    def test_cancelled_error_is_not_an_exception(self):
        lines = events([task([try_([try_([raise_('CancelledError')],
                                         [(['Exception'], [record('wrong')])])],
                                   [(['CancelledError'], [record('right')])])]),
                        until('t')], TASKS)
        self.assertEqual(lines[0], '{"t": 0.0, "ev": "record", "label": "right"}')

    def test_reraise_is_the_same_object(self):
        lines = events([task([try_([raise_('ValueError', 'v')],
                                   [(['ValueError'], [{'reraise': {}}])])]),
                        until('t'), {'exception': {'future': 't'}}], TASKS)
        self.assertEqual(lines[-1], '{"t": 0.0, "ev": "exception", "future": "t", "value": '
                                    '{"args": ["v"], "type": "ValueError"}}')

    def test_reraise_without_an_exception_is_a_scenario_error(self):
        with self.assertRaisesRegex(ScenarioError, 'reraise: only inside an except block'):
            run_scenario(scenario([task([{'reraise': {}}]), until('t')], TASKS))

    def test_awaitable_coroutine_and_gather_values(self):
        lines = events([task([
            {'gather': {'of': [{'coroutine': [{'return': {'value': 1}}]},
                               {'coroutine': [raise_('ValueError', 'x')]}],
                        'return_exceptions': True, 'as': 'g'}},
            {'await': {'on': {'coroutine': [{'return': {'value': None}}]}}},
        ]), until('t'), {'result': {'future': 'g'}}], TASKS)
        self.assertEqual(lines, [
            '{"t": 0.0, "ev": "gather", "value": [1, {"args": ["x"], "type": "ValueError"}]}',
            '{"t": 0.0, "ev": "await", "value": null}',
            '{"t": 0.0, "ev": "run_until_complete", "value": null}',
            '{"t": 0.0, "ev": "result", "future": "g", "value": [1, {"args": ["x"], '
            '"type": "ValueError"}]}'])

    def test_names_defined_by_tasks_gather_and_shield_are_defined_once(self):
        with self.assertRaisesRegex(ScenarioError, "create_task: future 't' is already defined"):
            run_scenario(scenario([task([]), task([])], TASKS))
        with self.assertRaisesRegex(ScenarioError, "gather: future 't' is already defined"):
            run_scenario(scenario([task([{'gather': {'of': [], 'as': 't'}}]), until('t')], TASKS))

    def test_context_of_a_cancellation_thrown_into_a_handler(self):
        lines = events([
            task([try_([raise_('ValueError')], [(['ValueError'], [
                try_([raise_('TypeError')], [(['TypeError'], [{'sleep': {'delay': 5.0}}])])])])]),
            {'call_soon': {'do': [{'cancel_future': {'future': 't'}}]}},
            until('t')], TASKS)
        # CPython 3.9+ chain it (the probe); PyPy 3.9 does too for a coroutine, though not for
        # the probe's plain generator; CPython 3.8 does not.
        chains = THROW_CHAINS or sys.implementation.name != 'cpython'
        context = ', "context": "TypeError"' if chains else ''
        self.assertEqual(lines[1], '{"t": 0.0, "ev": "sleep", "raised": {"args": []%s, '
                                   '"type": "CancelledError"}}' % context)


class EndOfRun(unittest.TestCase):

    def test_nothing_recorded_after_the_end_and_no_handler_fault(self):
        # The task is pending when the program ends: its coroutine is closed, its finally block
        # does not run, and the reports of the garbage collector are ignored.
        stderr = io.StringIO()
        with redirect_stderr(stderr):
            lines = events([
                task([try_([{'sleep': {'delay': 10.0}}], final=[record('finally')])]),
                task([raise_('ValueError')], 'failing'),
                {'call_soon': {'do': [{'stop': {}}]}},
                {'run_forever': {}},
                record('last'),
            ], TASKS)
            gc.collect()
        self.assertEqual(lines, ['{"t": 0.0, "ev": "record", "label": "last"}'])
        self.assertEqual(stderr.getvalue(), '')

    def test_budget_stop_runs_no_finally(self):
        trace = run_scenario(scenario([
            task([try_([{'sleep': {'delay': 0.0}}, record('a'), record('b')],
                       final=[record('finally')])]),
            until('t')], TASKS, budget={'events': 2}))
        self.assertEqual([e['ev'] for e in trace['events']],
                         ['sleep', 'record', 'budget_exceeded'])

    def test_fault_in_the_handler_during_the_run_is_still_a_fault(self):
        interp = Interpreter(scenario([record('x')]))
        interp._ended = False
        from aiospec_oracle.exceptions import OracleFault
        with self.assertRaises(OracleFault):
            interp._exception_handler(None, {'message': 'm', 'exception': ValueError()})
        interp._ended = True
        interp._exception_handler(None, {'message': 'm', 'exception': ValueError()})


if __name__ == '__main__':
    unittest.main()
