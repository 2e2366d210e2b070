"""wait, timeout scopes, task groups, eager tasks and asyncio.run in the oracle's interpreter
(issue 7, second part).  Operations with `since` are tested where the Python running the tests
has them."""

import asyncio
import sys
import unittest

from aiospec_oracle import ScenarioError, run_scenario
from aiospec_oracle.interpreter import describe, trace_value

from .support import events, raise_, record, task, until

TASKS = ['futures', 'tasks']
PY311 = sys.version_info >= (3, 11)
PY312 = sys.version_info >= (3, 12)


def sleep(delay):
    return {'sleep': {'delay': float(delay)}}


def lines(program, features=()):
    return events(program, TASKS + list(features))


class Wait(unittest.TestCase):

    def test_first_completed_names_in_of_order(self):
        out = lines([task([sleep(2)], 'a'), task([sleep(1)], 'b'),
                     task([{'wait': {'of': ['a', 'b'], 'return_when': 'FIRST_COMPLETED'}},
                           {'wait': {'of': ['b', 'a']}}], 'w'), until('w')])
        self.assertEqual(out[1], '{"t": 1.0, "ev": "wait", "value": {"done": ["b"], '
                                 '"pending": ["a"]}}')
        self.assertEqual(out[3], '{"t": 2.0, "ev": "wait", "value": {"done": ["b", "a"], '
                                 '"pending": []}}')

    def test_empty_raises_when_awaited(self):
        out = lines([task([{'wait': {'of': []}}]), until('t')])
        text = ('Set of Tasks/Futures is empty.' if PY311
                else 'Set of coroutines/Futures is empty.')
        self.assertEqual(out[0], '{"t": 0.0, "ev": "wait", "raised": {"args": ["%s"], '
                                 '"type": "ValueError"}}' % text)

    def test_timeout_leaves_pending(self):
        out = lines([{'new_future': {'name': 'f'}},
                     task([{'wait': {'of': ['f'], 'timeout': 0.5}}]), until('t')])
        self.assertEqual(out[0], '{"t": 0.5, "ev": "wait", "value": {"done": [], '
                                 '"pending": ["f"]}}')

    def test_names_must_be_distinct(self):
        with self.assertRaisesRegex(ScenarioError, 'more than once'):
            lines([{'new_future': {'name': 'f'}},
                   task([{'wait': {'of': ['f', 'f']}}]), until('t')])

    def test_trace_value_of_a_mapping(self):
        self.assertEqual(trace_value({'done': ['a'], 'pending': []}),
                         {'done': ['a'], 'pending': []})


@unittest.skipUnless(PY311, 'asyncio.timeout and TaskGroup are 3.11+')
class Scopes(unittest.TestCase):

    def test_timeout_expires_into_timeout_error(self):
        out = lines([task([{'timeout': {'delay': 1.0, 'as': 'to', 'do': [
                         {'deadline': {'timeout': 'to'}}, sleep(5), record('never')]}},
                     ]), until('t'), {'expired': {'timeout': 'to'}},
                     {'deadline': {'timeout': 'to'}}], ['timeouts'])
        # (3.11.0-3.11.2 raise the TimeoutError without `from`: no "cause" there.)
        out[2] = out[2].replace('"cause": "CancelledError", ', '')
        self.assertEqual(out, [
            '{"t": 0.0, "ev": "deadline", "timeout": "to", "value": 1.0}',
            '{"t": 1.0, "ev": "sleep", "raised": {"args": [], "type": "CancelledError"}}',
            '{"t": 1.0, "ev": "timeout", "raised": {"args": [], '
            '"context": "CancelledError", "type": "TimeoutError"}}',
            '{"t": 1.0, "ev": "error", "message": "", "op": "run_until_complete", '
            '"type": "TimeoutError"}',
            '{"t": 1.0, "ev": "expired", "timeout": "to", "value": true}',
            '{"t": 1.0, "ev": "deadline", "timeout": "to", "value": 1.0}'])

    def test_return_inside_a_scope_runs_the_exit(self):
        out = lines([task([{'timeout_at': {'when': None, 'do': [{'return': {'value': 3}}]}},
                           record('never')]), until('t')], ['timeouts'])
        self.assertEqual(out, ['{"t": 0.0, "ev": "timeout_at", "value": null}',
                               '{"t": 0.0, "ev": "run_until_complete", "value": 3}'])

    def test_reschedule_from_a_callback(self):
        out = lines([task([{'timeout': {'delay': None, 'as': 'to', 'do': [
                         {'call_later': {'delay': 1.0, 'do': [
                             {'reschedule': {'timeout': 'to', 'when': 2.0}}]}},
                         sleep(10)]}}]), until('t')], ['timeouts'])
        self.assertEqual(out[0], '{"t": 2.0, "ev": "sleep", "raised": {"args": [], '
                                 '"type": "CancelledError"}}')

    def test_task_group_describes_its_members(self):
        out = lines([task([{'task_group': {'as': 'g', 'do': [
                         {'create_task': {'group': 'g', 'as': 'a',
                                          'do': [sleep(1), raise_('ValueError', 'boom')]}},
                         {'create_task': {'group': 'g', 'as': 'b', 'do': [sleep(5)]}}]}}]),
                     until('t')], ['task-groups'])
        self.assertEqual(out[2], '{"t": 1.0, "ev": "task_group", "raised": {"args": '
                                 '["unhandled errors in a TaskGroup"], "exceptions": [{"args": '
                                 '["boom"], "type": "ValueError"}], "type": "ExceptionGroup"}}')
        self.assertEqual(out[:2], ['{"t": 1.0, "ev": "sleep", "value": null}',
                                   '{"t": 1.0, "ev": "sleep", "raised": {"args": [], '
                                   '"type": "CancelledError"}}'])

    def test_group_and_loop_exclude_each_other(self):
        with self.assertRaisesRegex(ScenarioError, "'group' and 'loop' exclude each other"):
            lines([task([{'task_group': {'as': 'g', 'do': [
                {'create_task': {'group': 'g', 'loop': 'main', 'do': []}}]}}]), until('t')],
                  ['task-groups'])

    def test_unknown_timeout(self):
        with self.assertRaisesRegex(ScenarioError, "expired: no timeout named 'x'"):
            lines([{'expired': {'timeout': 'x'}}], ['timeouts'])

    def test_describe_an_exception_group(self):
        group = ExceptionGroup('m', [ValueError(1), KeyError('k')])  # noqa: F821 (3.11+)
        self.assertEqual(describe(group), {
            'type': 'ExceptionGroup', 'args': ['m'],
            'exceptions': [{'type': 'ValueError', 'args': [1]},
                           {'type': 'KeyError', 'args': ['k']}]})


@unittest.skipUnless(PY312, 'eager tasks are 3.12+')
class Eager(unittest.TestCase):

    def test_current_task_in_the_eager_step_has_the_name(self):
        out = lines([task([{'set_task_factory': {'factory': 'eager'}},
                           task([{'current_task': {}}], 'child'),
                           {'done': {'future': 'child'}}], 'parent'), until('parent')],
                    ['eager-tasks'])
        self.assertEqual(out[:2], ['{"t": 0.0, "ev": "current_task", "value": "child"}',
                                   '{"t": 0.0, "ev": "done", "future": "child", "value": true}'])


class Run(unittest.TestCase):

    def test_value_and_closed_loop(self):
        out = lines([{'run': {'as': 'r', 'do': [sleep(1), {'return': {'value': 7}}]}},
                     {'is_closed': {'loop': 'r'}}, {'is_closed': {}}],
                    ['runner', 'multiple-loops'])
        self.assertEqual(out, ['{"t": 1.0, "ev": "sleep", "value": null}',
                               '{"t": 1.0, "ev": "run", "value": 7}',
                               '{"t": 1.0, "ev": "is_closed", "value": true}',
                               '{"t": 1.0, "ev": "is_closed", "value": false}'])

    def test_refused_in_a_running_loop(self):
        out = lines([{'call_soon': {'do': [{'run': {'do': []}}, {'stop': {}}]}},
                     {'run_forever': {}}], ['runner'])
        self.assertEqual(out, ['{"t": 0.0, "ev": "run", "raised": {"args": ["asyncio.run() '
                               'cannot be called from a running event loop"], '
                               '"type": "RuntimeError"}}'])

    def test_the_policy_is_restored(self):
        policy = asyncio.get_event_loop_policy()
        lines([{'run': {'do': [raise_('ValueError')]}}, {'get_event_loop': {}}],
              ['runner', 'policies'])
        self.assertIs(asyncio.get_event_loop_policy(), policy)

    def test_get_event_loop_after_run_is_main(self):
        out = lines([{'run': {'do': []}}, {'get_event_loop': {}}], ['runner', 'policies'])
        self.assertEqual(out[1], '{"t": 0.0, "ev": "get_event_loop", "value": "main"}')


if __name__ == '__main__':
    unittest.main()
