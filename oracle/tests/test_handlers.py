"""Exception handlers, the asyncio log and debug mode in the oracle (handlers.py): what a run
leaves behind, when the fault net is off, names, drop."""

import gc
import logging
import unittest

from aiospec_oracle.exceptions import OracleFailure, ScenarioError
from aiospec_oracle.interpreter import run_program

from .support import raise_, scenario, task

BAD = {'call_soon': {'as': 'bad', 'do': [raise_('ValueError', 'boom')]}}
STOP = {'call_soon': {'do': [{'stop': {}}]}}
RUN = {'run_forever': {}}


def events(program, features=()):
    return [{k: v for k, v in e.items() if k != 't'} for e in
            run_program(scenario(program, features))]


class WhatARunLeaves(unittest.TestCase):

    def test_gc_and_logger_restored(self):
        logger = logging.getLogger('asyncio')
        before = (gc.isenabled(), logger.level, logger.propagate, list(logger.handlers))
        events([BAD, STOP, RUN], ['log-trace'])
        self.assertEqual((gc.isenabled(), logger.level, logger.propagate, list(logger.handlers)),
                         before)

    def test_the_selector_line_is_not_traced(self):
        self.assertEqual(events([{'record': {'label': 'a'}}], ['log-trace']),
                         [{'ev': 'record', 'label': 'a'}])

    def test_nothing_after_the_last_operation(self):
        # The failed future is released when the run ends: its report is not recorded.
        program = [{'new_future': {'name': 'f'}},
                   {'set_exception': {'future': 'f', 'type': 'ValueError'}}]
        self.assertEqual(events(program, ['futures', 'log-trace']), [])


class FaultNet(unittest.TestCase):

    def test_without_the_features_a_report_that_is_no_raise_is_a_fault(self):
        program = [{'call_exception_handler': {'message': 'm'}}]
        with self.assertRaises(OracleFailure):
            # The feature check is the loader's: the interpreter runs what it is given.
            run_program(scenario(program, ['futures']))

    def test_with_log_trace_the_default_handler_logs(self):
        out = events([BAD, STOP, RUN], ['log-trace'])
        self.assertEqual(out[0]['ev'], 'log')
        self.assertEqual(out[0]['message'], 'Exception in callback bad()\nhandle: <Handle bad()>')


class Names(unittest.TestCase):

    def test_unnamed_callbacks_are_callback(self):
        program = [{'set_exception_handler': {'handler': 'record'}},
                   {'call_soon': {'do': [raise_('ValueError')]}}, STOP, RUN]
        out = events(program, ['exception-handler'])
        self.assertEqual(out[0]['message'], 'Exception in callback callback()')

    def test_tasks_carry_the_scenario_name(self):
        program = [task([raise_('ValueError')], 'worker'), STOP, RUN,
                   {'drop': {'task': 'worker'}}]
        out = events(program, ['tasks', 'log-trace'])
        self.assertEqual(out[-1]['message'],
                         "Task exception was never retrieved\nfuture: <Task finished name='worker'>")


class Drop(unittest.TestCase):

    def test_a_dropped_name_is_unbound(self):
        program = [{'new_future': {'name': 'f'}}, {'drop': {'future': 'f'}}, {'done': {'future': 'f'}}]
        with self.assertRaisesRegex(ScenarioError, "done: no future named 'f'"):
            run_program(scenario(program, ['futures']))

    def test_drop_task_of_a_future(self):
        program = [{'new_future': {'name': 'f'}}, {'drop': {'task': 'f'}}]
        with self.assertRaisesRegex(ScenarioError, "drop: 'f' is not a task"):
            run_program(scenario(program, ['futures', 'tasks']))

    def test_exactly_one(self):
        with self.assertRaisesRegex(ScenarioError, 'drop: exactly one of future and task'):
            run_program(scenario([{'drop': {}}], ['futures']))


class Handlers(unittest.TestCase):

    def test_type_only_with_raise(self):
        program = [{'set_exception_handler': {'handler': 'record', 'type': 'ValueError'}}]
        with self.assertRaisesRegex(ScenarioError, 'type and message go with handler: raise'):
            run_program(scenario(program, ['exception-handler']))

    def test_context_key_order(self):
        program = [{'set_exception_handler': {'handler': 'raise'}},
                   {'call_exception_handler': {'message': 'm', 'keys': {'b': '2', 'a': '1'}}}]
        out = events(program, ['exception-handler', 'log-trace'])
        # The dict repr shows the insertion order: message first, then keys sorted by name.
        self.assertIn("context: {'message': 'm', 'a': '1', 'b': '2'}", out[1]['message'])


if __name__ == '__main__':
    unittest.main()
