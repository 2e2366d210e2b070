"""The operation language, run on CPython's loop."""

import asyncio
import threading
import unittest

from aiospec_oracle import ScenarioError, run_scenario, run_scenario_json
from aiospec_oracle.interpreter import OPERATIONS
from aiospec_oracle.trace import render_trace

from .support import STOP, events, pure_python_future, record, scenario, version


def nested_call_soon(depth, label):
    """A callback that schedules the next one, ``depth`` levels deep: the
    data form of a self-rescheduling callback."""
    block = [record(label)]
    for _ in range(depth):
        block = [record(label), {'call_soon': {'do': block}}]
    return block


class OrderingTests(unittest.TestCase):

    def test_fifo(self):
        self.assertEqual(events([
            {'call_soon': {'do': [record('a')]}},
            {'call_soon': {'do': [record('b')]}},
            {'call_soon': {'do': [record('c'), STOP]}},
            {'run_forever': {}},
        ]), [
            '{"t": 0.0, "ev": "record", "label": "a"}',
            '{"t": 0.0, "ev": "record", "label": "b"}',
            '{"t": 0.0, "ev": "record", "label": "c"}',
        ])

    def ties(self, n):
        lines = events([
            {'repeat': {'times': n, 'do': [
                {'call_later': {'delay': 1.0, 'do': [record('{i}')]}}]}},
            {'call_later': {'delay': 2.0, 'do': [STOP]}},
            {'run_forever': {}},
        ], ['timer-heap-ties'])
        return [int(line.split('"label": "')[1].split('"')[0]) for line in lines]

    def test_equal_deadlines_follow_the_heap(self):
        # spec inventory TMR-02, each with one later timer in the heap.
        self.assertEqual(self.ties(3), [0, 2, 1])
        self.assertEqual(self.ties(4), [0, 2, 1, 3])
        self.assertEqual(self.ties(5), [0, 2, 1, 3, 4])
        self.assertEqual(self.ties(10), [0, 2, 6, 5, 9, 8, 7, 1, 3, 4])

    def test_stop_lets_the_batch_finish(self):
        self.assertEqual(events([
            {'call_soon': {'do': [record('a'), STOP, record('b'),
                                  {'call_soon': {'do': [record('next-run')]}}]}},
            {'call_soon': {'do': [record('same-batch')]}},
            {'run_forever': {}},
            record('between'),
            {'call_soon': {'do': [STOP]}},
            {'run_forever': {}},
        ]), [
            '{"t": 0.0, "ev": "record", "label": "a"}',
            '{"t": 0.0, "ev": "record", "label": "b"}',
            '{"t": 0.0, "ev": "record", "label": "same-batch"}',
            '{"t": 0.0, "ev": "record", "label": "between"}',
            '{"t": 0.0, "ev": "record", "label": "next-run"}',
        ])

    def test_cancel_and_when(self):
        self.assertEqual(events([
            {'call_later': {'delay': 0.5, 'as': 't1', 'do': [record('late')]}},
            {'call_at': {'when': 2, 'as': 't2', 'do': [record('at-2'), STOP]}},
            {'when': {'handle': 't1'}},
            {'when': {'handle': 't2'}},
            {'call_soon': {'do': [{'cancel': {'handle': 't1'}}, record('cancelled-it')]}},
            {'run_forever': {}},
        ]), [
            '{"t": 0.0, "ev": "when", "handle": "t1", "value": 0.5}',
            '{"t": 0.0, "ev": "when", "handle": "t2", "value": 2.0}',
            '{"t": 0.0, "ev": "record", "label": "cancelled-it"}',
            '{"t": 2.0, "ev": "record", "label": "at-2"}',
        ])

    def test_repeat_substitutes_every_string(self):
        self.assertEqual(events([
            {'repeat': {'times': 2, 'var': 'n', 'do': [
                {'repeat': {'times': 2, 'do': [
                    {'call_soon': {'as': 'h{n}-{i}', 'do': [record('{n}.{i}')]}}]}}]}},
            {'cancel': {'handle': 'h1-0'}},
            {'call_soon': {'do': [STOP]}},
            {'run_forever': {}},
        ]), [
            '{"t": 0.0, "ev": "record", "label": "0.0"}',
            '{"t": 0.0, "ev": "record", "label": "0.1"}',
            '{"t": 0.0, "ev": "record", "label": "1.1"}',
        ])

    def test_repeat_does_not_change_the_scenario(self):
        s = scenario([{'repeat': {'times': 2, 'do': [record('{i}')]}}])
        before = repr(s)
        run_scenario(s)
        self.assertEqual(repr(s), before)


class WorldTests(unittest.TestCase):

    def test_blocked_run_is_abandoned_and_the_program_goes_on(self):
        self.assertEqual(events([
            {'call_soon': {'do': [record('ran')]}},
            {'run_forever': {}},
            record('after'),
            {'is_running': {}},
            {'new_future': {'name': 'f'}},
            {'run_until_complete': {'future': 'f'}},
            {'call_soon': {'do': [record('loop-still-usable'), STOP]}},
            {'run_forever': {}},
        ], ['futures']), [
            '{"t": 0.0, "ev": "record", "label": "ran"}',
            '{"t": 0.0, "ev": "blocked", "op": "run_forever"}',
            '{"t": 0.0, "ev": "record", "label": "after"}',
            '{"t": 0.0, "ev": "is_running", "value": false}',
            '{"t": 0.0, "ev": "blocked", "op": "run_until_complete"}',
            '{"t": 0.0, "ev": "record", "label": "loop-still-usable"}',
        ])

    def test_blocked_after_the_last_timer(self):
        self.assertEqual(events([
            {'call_later': {'delay': 1.5, 'do': [record('timer')]}},
            {'run_forever': {}},
            {'time': {}},
        ], ['select-trace']), [
            '{"t": 0.0, "ev": "select", "timeout": 1.5}',
            '{"t": 1.5, "ev": "record", "label": "timer"}',
            '{"t": 1.5, "ev": "select", "timeout": null}',
            '{"t": 1.5, "ev": "blocked", "op": "run_forever"}',
            '{"t": 1.5, "ev": "time", "value": 1.5}',
        ])

    def test_pending_external_is_not_blocked(self):
        self.assertEqual(events([
            {'external': {'at': 2.0, 'do': [
                {'call_soon_threadsafe': {'do': [record('woke'), STOP]}}]}},
            {'run_forever': {}},
            {'time': {}},
        ], ['threads', 'select-trace']), [
            '{"t": 0.0, "ev": "select", "timeout": null}',
            '{"t": 2.0, "ev": "record", "label": "woke"}',
            '{"t": 2.0, "ev": "time", "value": 2.0}',
        ])

    def test_externals_run_on_a_thread_in_order(self):
        self.assertEqual(events([
            {'external': {'at': 1.0, 'do': [record('second'), {'get_running_loop': {}}]}},
            {'external': {'at': 0.5, 'do': [record('first')]}},
            {'external': {'at': 1.0, 'do': [record('third')]}},
            {'call_later': {'delay': 3.0, 'do': [STOP]}},
            {'run_forever': {}},
        ], ['threads', 'running-loop']), [
            '{"t": 0.5, "ev": "record", "label": "first"}',
            '{"t": 1.0, "ev": "record", "label": "second"}',
            '{"t": 1.0, "ev": "error", "message": "no running event loop", '
            '"op": "get_running_loop", "type": "RuntimeError"}',
            '{"t": 1.0, "ev": "record", "label": "third"}',
        ])

    def test_external_in_the_past_runs_at_the_next_poll(self):
        self.assertEqual(events([
            {'burn': {'seconds': 5.0}},
            {'external': {'at': 1.0, 'do': [record('late')]}},
            {'call_soon': {'do': [record('soon'), STOP]}},
            {'run_forever': {}},
        ], ['threads']), [
            '{"t": 5.0, "ev": "record", "label": "late"}',
            '{"t": 5.0, "ev": "record", "label": "soon"}',
        ])

    def test_in_thread_waits_for_the_thread(self):
        seen = []
        original = threading.Thread.start

        def start(thread):
            seen.append(thread.name)
            original(thread)
        threading.Thread.start = start
        try:
            lines = events([
                {'in_thread': {'do': [
                    record('on-thread'),
                    {'call_soon_threadsafe': {'do': [record('from-thread'), STOP]}}]}},
                record('joined'),
                {'run_forever': {}},
            ], ['threads'])
        finally:
            threading.Thread.start = original
        self.assertEqual(seen, ['in_thread'])
        self.assertEqual(lines, [
            '{"t": 0.0, "ev": "record", "label": "on-thread"}',
            '{"t": 0.0, "ev": "record", "label": "joined"}',
            '{"t": 0.0, "ev": "record", "label": "from-thread"}',
        ])


class BudgetTests(unittest.TestCase):

    def test_self_rescheduling_callback_stops_at_the_callback_budget(self):
        lines = events([
            {'call_soon': {'do': nested_call_soon(50, 'again')}},
            {'run_forever': {}},
            record('never'),
        ], budget={'callbacks': 7})
        self.assertEqual(lines[:-1], ['{"t": 0.0, "ev": "record", "label": "again"}'] * 7)
        self.assertEqual(lines[-1],
                         '{"t": 0.0, "ev": "budget_exceeded", "limit": "callbacks"}')

    def test_level_triggered_reader_stops_at_the_callback_budget(self):
        lines = events([
            {'socketpair': {'names': ['a', 'b']}},
            {'send': {'fd': 'b', 'data': 'x'}},
            {'add_reader': {'fd': 'a', 'do': [record('readable')]}},
            {'run_forever': {}},
        ], ['fd-io'], budget={'callbacks': 3})
        self.assertEqual(lines, ['{"t": 0.0, "ev": "record", "label": "readable"}'] * 3
                         + ['{"t": 0.0, "ev": "budget_exceeded", "limit": "callbacks"}'])

    def test_far_timer_stops_at_the_time_budget(self):
        # One empty wake-up a day: 365 of them reach the default budget.
        self.assertEqual(events([
            {'call_later': {'delay': 'inf', 'do': []}},
            {'run_forever': {}},
            record('never'),
        ], ['float-specials']), [
            '{"t": 31536000.0, "ev": "budget_exceeded", "limit": "time"}'])

    def test_far_timer_stops_at_the_iteration_budget(self):
        self.assertEqual(events([
            {'call_later': {'delay': 1e9, 'do': []}},
            {'run_forever': {}},
        ], ['select-trace'], budget={'iterations': 2}), [
            '{"t": 0.0, "ev": "select", "timeout": 86400.0}',
            '{"t": 86400.0, "ev": "select", "timeout": 86400.0}',
            '{"t": 172800.0, "ev": "select", "timeout": 86400.0}',
            '{"t": 172800.0, "ev": "budget_exceeded", "limit": "iterations"}',
        ])

    def test_burn_past_the_time_budget(self):
        self.assertEqual(events([
            {'call_soon': {'do': [{'burn': {'seconds': 4.0}}, record('a'),
                                  {'burn': {'seconds': 4.0}}, record('never')]}},
            {'run_forever': {}},
        ], budget={'time': 6}), [
            '{"t": 4.0, "ev": "record", "label": "a"}',
            '{"t": 4.0, "ev": "budget_exceeded", "limit": "time"}',
        ])

    def test_budget_exceeded_on_a_thread_stops_the_program(self):
        self.assertEqual(events([
            {'in_thread': {'do': [{'burn': {'seconds': 10.0}}, record('never')]}},
            record('never'),
        ], ['threads'], budget={'time': 1}), [
            '{"t": 0.0, "ev": "budget_exceeded", "limit": "time"}'])

    def test_loops_are_closed_after_a_budget_stop(self):
        trace = run_scenario(scenario([
            {'call_later': {'delay': 1e9, 'do': []}}, {'run_forever': {}}],
            budget={'iterations': 1}))
        self.assertEqual(trace['events'][-1]['ev'], 'budget_exceeded')
        with self.assertRaises(RuntimeError):
            asyncio.get_running_loop()

    # -- operations and events (D1) ------------------------------------------------

    def test_operations_count_each_operation_as_it_starts(self):
        # Three operations fit in a budget of 3; the fourth is refused before it runs.
        self.assertEqual(events([record('a'), record('b'), record('c'), record('d')],
                                budget={'operations': 3}), [
            '{"t": 0.0, "ev": "record", "label": "a"}',
            '{"t": 0.0, "ev": "record", "label": "b"}',
            '{"t": 0.0, "ev": "record", "label": "c"}',
            '{"t": 0.0, "ev": "budget_exceeded", "limit": "operations"}'])

    def test_a_repeat_counts_each_copy_when_it_is_made(self):
        # repeat (1), copy 0 holds 2 (record + call_soon) + 1 (the nested record) = 3: 4 so far;
        # copy 0 runs its 2 top operations: 6; copy 1 would reach 9 > 8, refused before it runs.
        # Two copies in full: 1 + 2 * (3 + 2) = 11.
        body = [record('r{i}'), {'call_soon': {'do': [record('x')]}}]
        self.assertEqual(events([{'repeat': {'times': 5, 'do': body}}],
                                budget={'operations': 8}), [
            '{"t": 0.0, "ev": "record", "label": "r0"}',
            '{"t": 0.0, "ev": "budget_exceeded", "limit": "operations"}'])
        lines = events([{'repeat': {'times': 2, 'do': body}}], budget={'operations': 11})
        self.assertEqual(lines[-1], '{"t": 0.0, "ev": "record", "label": "r1"}')

    def test_operations_in_callbacks_count(self):
        lines = events([{'call_soon': {'do': [{'repeat': {'times': 1000, 'do': [record('x')]}}]}},
                        {'run_forever': {}}], budget={'operations': 100})
        self.assertEqual(lines[-1],
                         '{"t": 0.0, "ev": "budget_exceeded", "limit": "operations"}')
        # call_soon 1, run_forever 1, repeat 1, then each copy counts 1 and runs 1.
        self.assertEqual(len(lines) - 1, 48)

    def test_fan_out_is_bounded(self):
        fan = [{'repeat': {'times': 1000, 'do': [{'call_soon': {'do': [
            {'repeat': {'times': 1000, 'do': [{'call_soon': {'do': [record('leaf')]}}]}}]}}]}},
               {'run_forever': {}}]
        lines = events(fan)
        self.assertEqual(lines[-1],
                         '{"t": 0.0, "ev": "budget_exceeded", "limit": "operations"}')

    def test_empty_repeat_bodies_cost_nothing_and_take_no_time(self):
        # Counted by the rule, `repeat 100000 [repeat 100000 []]` is 2 operations per outer copy;
        # it must stop at the operations budget at once, not loop 10^10 times on empty bodies.
        import time
        start = time.monotonic()
        lines = events([{'repeat': {'times': 100000, 'do': [{'repeat': {'times': 100000, 'do': []}}]}}])
        self.assertLess(time.monotonic() - start, 5)
        self.assertEqual(lines, ['{"t": 0.0, "ev": "budget_exceeded", "limit": "operations"}'])

    def test_events_budget(self):
        self.assertEqual(events([record('a'), record('b'), record('c')],
                                budget={'events': 2}), [
            '{"t": 0.0, "ev": "record", "label": "a"}',
            '{"t": 0.0, "ev": "record", "label": "b"}',
            '{"t": 0.0, "ev": "budget_exceeded", "limit": "events"}'])
        # Select events count too.
        self.assertEqual(events([{'call_later': {'delay': 1, 'do': [STOP]}},
                                 {'run_forever': {}}, record('a')],
                                ['select-trace'], budget={'events': 1}), [
            '{"t": 0.0, "ev": "select", "timeout": 1.0}',
            '{"t": 1.0, "ev": "budget_exceeded", "limit": "events"}'])

    def test_default_budgets(self):
        from aiospec_oracle.virtual_time import Budget
        b = Budget()
        self.assertEqual((b.iterations, b.callbacks, b.time, b.operations, b.events),
                         (10000, 100000, 31536000.0, 100000, 10000))

    def test_repeat_times_is_capped(self):
        with self.assertRaises(ScenarioError) as cm:
            run_scenario(scenario([{'repeat': {'times': 10 ** 12, 'do': []}}]))
        self.assertIn('repeat: times must be at most 100000', str(cm.exception))


class IoTests(unittest.TestCase):

    def test_reader_before_writer_on_one_descriptor(self):
        self.assertEqual(events([
            {'socketpair': {'names': ['a', 'b']}},
            {'send': {'fd': 'b', 'data': 'ping'}},
            {'add_writer': {'fd': 'a', 'do': [record('writer'), {'remove_writer': {'fd': 'a'}}]}},
            {'add_reader': {'fd': 'a', 'do': [record('reader'), {'recv': {'fd': 'a'}},
                                              {'remove_reader': {'fd': 'a'}}]}},
            {'call_later': {'delay': 1.0, 'do': [STOP]}},
            {'run_forever': {}},
        ], ['fd-io']), [
            '{"t": 0.0, "ev": "record", "label": "reader"}',
            '{"t": 0.0, "ev": "recv", "data": "ping", "fd": "a"}',
            '{"t": 0.0, "ev": "remove_reader", "fd": "a", "value": true}',
            '{"t": 0.0, "ev": "record", "label": "writer"}',
            '{"t": 0.0, "ev": "remove_writer", "fd": "a", "value": true}',
        ])

    def test_recv(self):
        self.assertEqual(events([
            {'socketpair': {'names': ['a', 'b']}},
            {'recv': {'fd': 'a'}},
            {'send': {'fd': 'b', 'data': 'hello'}},
            {'recv': {'fd': 'a', 'size': 2}},
            {'recv': {'fd': 'a'}},
            {'close_fd': {'fd': 'b'}},
            {'recv': {'fd': 'a'}},
            {'remove_reader': {'fd': 'a'}},
        ], ['fd-io']), [
            '{"t": 0.0, "ev": "recv", "data": null, "fd": "a"}',
            '{"t": 0.0, "ev": "recv", "data": "he", "fd": "a"}',
            '{"t": 0.0, "ev": "recv", "data": "llo", "fd": "a"}',
            '{"t": 0.0, "ev": "recv", "data": "", "fd": "a"}',
            '{"t": 0.0, "ev": "remove_reader", "fd": "a", "value": false}',
        ])

    def test_data_arriving_from_an_external_wakes_the_reader(self):
        self.assertEqual(events([
            {'socketpair': {'names': ['a', 'b']}},
            {'add_reader': {'fd': 'a', 'do': [{'recv': {'fd': 'a'}}, STOP]}},
            {'external': {'at': 1.25, 'do': [{'send': {'fd': 'b', 'data': 'late'}}]}},
            {'run_forever': {}},
        ], ['fd-io', 'threads', 'select-trace']), [
            '{"t": 0.0, "ev": "select", "timeout": null}',
            '{"t": 1.25, "ev": "recv", "data": "late", "fd": "a"}',
        ])


class ErrorTests(unittest.TestCase):

    def error(self, op, type_, message, t=0.0):
        return ('{"t": %r, "ev": "error", "message": "%s", "op": "%s", "type": "%s"}'
                % (t, message, op, type_))

    def test_errors_are_recorded_and_the_block_goes_on(self):
        self.assertEqual(events([
            {'get_running_loop': {}},
            {'new_future': {'name': 'f'}},
            {'result': {'future': 'f'}},
            {'set_result': {'future': 'f', 'value': 'v'}},
            {'set_result': {'future': 'f', 'value': 2}},
            {'result': {'future': 'f'}},
            {'call_soon': {'as': 'h', 'do': [{'when': {'handle': 'h'}}, {'close': {}},
                                             record('still-here'), STOP]}},
            {'run_forever': {}},
            {'close': {}},
            {'close': {}},
            {'run_forever': {}},
            {'call_later': {'delay': 1, 'do': []}},
            {'time': {}},
        ], ['futures', 'running-loop']), [
            self.error('get_running_loop', 'RuntimeError', 'no running event loop'),
            self.error('result', 'InvalidStateError', 'Result is not ready.'
                       if pure_python_future() else 'Result is not set.'),
            self.error('set_result', 'InvalidStateError', "FINISHED: <Future finished "
                       "result='v'>" if pure_python_future() else 'invalid state'),
            '{"t": 0.0, "ev": "result", "future": "f", "value": "v"}',
            self.error('when', 'AttributeError', "'Handle' object has no attribute 'when'"),
            self.error('close', 'RuntimeError', 'Cannot close a running event loop'),
            '{"t": 0.0, "ev": "record", "label": "still-here"}',
            self.error('run_forever', 'RuntimeError', 'Event loop is closed'),
            self.error('call_later', 'RuntimeError', 'Event loop is closed'),
            '{"t": 0.0, "ev": "time", "value": 0.0}',
        ])

    def test_run_inside_a_callback(self):
        self.assertEqual(events([
            {'new_loop': {'name': 'other'}},
            {'call_soon': {'do': [{'run_forever': {'loop': 'other'}}, STOP]}},
            {'run_forever': {}},
        ], ['multiple-loops']), [
            self.error('run_forever', 'RuntimeError',
                       'Cannot run the event loop while another loop is running'),
        ])

    def test_future_of_another_loop(self):
        lines = events([
            {'new_loop': {'name': 'other'}},
            {'new_future': {'name': 'f', 'loop': 'other'}},
            {'run_until_complete': {'future': 'f'}},
        ], ['multiple-loops', 'futures'])
        self.assertEqual(len(lines), 1)
        self.assertIn('"op": "run_until_complete", "type": "ValueError"', lines[0])

    def test_nan_deadline(self):
        lines = events([
            {'call_at': {'when': 'nan', 'do': [record('nan-timer'), STOP]}},
            {'run_forever': {}},
        ], ['float-specials', 'select-trace'])
        if version() >= (3, 13):
            # 3.13's clamp passes NaN through; the real selector rejects it.
            self.assertEqual(lines, [
                '{"t": 0.0, "ev": "select", "timeout": "nan"}',
                self.error('run_forever', 'ValueError', 'cannot convert float NaN to integer'),
            ])
        else:
            self.assertEqual(lines, [
                '{"t": 0.0, "ev": "select", "timeout": 0.0}',
                '{"t": 0.0, "ev": "record", "label": "nan-timer"}',
            ])

    def test_infinite_deadlines(self):
        self.assertEqual(events([
            {'call_at': {'when': '-inf', 'as': 'past', 'do': [record('past'), STOP]}},
            {'call_later': {'delay': 'inf', 'as': 'never', 'do': [record('never')]}},
            {'when': {'handle': 'past'}},
            {'when': {'handle': 'never'}},
            {'run_forever': {}},
        ], ['float-specials']), [
            '{"t": 0.0, "ev": "when", "handle": "past", "value": "-inf"}',
            '{"t": 0.0, "ev": "when", "handle": "never", "value": "inf"}',
            '{"t": 0.0, "ev": "record", "label": "past"}',
        ])


class FutureAndLoopTests(unittest.TestCase):

    def test_run_until_complete(self):
        self.assertEqual(events([
            {'new_future': {'name': 'f'}},
            {'add_done_callback': {'future': 'f', 'do': [record('done-cb')]}},
            {'call_later': {'delay': 1.5, 'do': [{'set_result': {'future': 'f', 'value': 42}}]}},
            {'run_until_complete': {'future': 'f'}},
            {'done': {'future': 'f'}},
        ], ['futures']), [
            '{"t": 1.5, "ev": "record", "label": "done-cb"}',
            '{"t": 1.5, "ev": "run_until_complete", "value": 42}',
            '{"t": 1.5, "ev": "done", "future": "f", "value": true}',
        ])

    def test_loops_share_the_clock(self):
        self.assertEqual(events([
            {'new_loop': {'name': 'other'}},
            {'call_later': {'loop': 'other', 'delay': 2.0, 'do': [
                {'get_running_loop': {}}, {'stop': {'loop': 'other'}}]}},
            {'run_forever': {'loop': 'other'}},
            {'time': {}},
            {'is_closed': {'loop': 'other'}},
        ], ['multiple-loops', 'running-loop']), [
            '{"t": 2.0, "ev": "get_running_loop", "value": "other"}',
            '{"t": 2.0, "ev": "time", "value": 2.0}',
            '{"t": 2.0, "ev": "is_closed", "value": false}',
        ])

    def test_python_only_operations(self):
        self.assertEqual(events([
            {'get_event_loop': {}},
            {'in_thread': {'do': [{'get_event_loop': {}}]}},
            {'contextvar_set': {'var': 'v', 'value': 'outer'}},
            {'call_soon': {'do': [{'contextvar_set': {'var': 'v', 'value': 'cb'}},
                                  {'contextvar_get': {'var': 'v'}}]}},
            {'contextvar_set': {'var': 'v', 'value': 'changed'}},
            {'call_soon': {'do': [{'contextvar_get': {'var': 'v'}}, STOP]}},
            {'run_forever': {}},
            {'contextvar_get': {'var': 'v'}},
            {'contextvar_get': {'var': 'unset'}},
            {'set_event_loop': {'loop': None}},
            {'get_event_loop': {}},
        ], ['contextvars', 'policies', 'threads']), [
            '{"t": 0.0, "ev": "get_event_loop", "value": "main"}',
            '{"t": 0.0, "ev": "error", "message": "There is no current event loop in '
            'thread \'in_thread\'.", "op": "get_event_loop", "type": "RuntimeError"}',
            '{"t": 0.0, "ev": "contextvar_get", "value": "cb", "var": "v"}',
            '{"t": 0.0, "ev": "contextvar_get", "value": "changed", "var": "v"}',
            '{"t": 0.0, "ev": "contextvar_get", "value": "changed", "var": "v"}',
            '{"t": 0.0, "ev": "contextvar_get", "value": null, "var": "unset"}',
            '{"t": 0.0, "ev": "error", "message": "There is no current event loop in '
            'thread \'MainThread\'.", "op": "get_event_loop", "type": "RuntimeError"}',
        ])

    def test_a_run_leaves_no_loop_behind(self):
        policy = asyncio.get_event_loop_policy()
        run_scenario(scenario([{'get_event_loop': {}}], ['policies']))
        self.assertIs(asyncio.get_event_loop_policy(), policy)

    def test_a_fresh_policy_and_its_implicit_loop_are_undone(self):
        policy = asyncio.get_event_loop_policy()
        program = [{'set_event_loop_policy': {'policy': 'default'}}, {'get_event_loop': {}}]
        lines = events(program, ['policies'])
        if version() >= (3, 14):
            self.assertIn('"type": "RuntimeError"', lines[0])
        else:
            self.assertEqual(lines, ['{"t": 0.0, "ev": "get_event_loop", "value": null}'])
        self.assertIs(asyncio.get_event_loop_policy(), policy)

    def test_warnings_are_traced_only_with_warning_trace(self):
        program = [{'set_event_loop_policy': {'policy': 'default'}}, {'get_event_loop': {}}]
        warned = [line for line in events(program, ['policies', 'warning-trace'])
                  if '"ev": "warning"' in line]
        if (3, 12) <= version() < (3, 14):
            self.assertEqual(warned, ['{"t": 0.0, "ev": "warning", "category": '
                                      '"DeprecationWarning", "message": "There is no current '
                                      'event loop"}'])
        self.assertFalse([line for line in events(program, ['policies'])
                          if '"ev": "warning"' in line])

    def test_run_of_a_plain_value(self):
        text = ('a coroutine was expected, got 1' if version() < (3, 14)
                else 'An asyncio.Future, a coroutine or an awaitable is required')
        kind = 'ValueError' if version() < (3, 14) else 'TypeError'
        self.assertEqual(events([{'run': {'value': 1, 'as': 'r'}}, {'is_closed': {'loop': 'r'}}],
                                ['runner']), [
            '{"t": 0.0, "ev": "run", "raised": {"args": ["%s"], "type": "%s"}}' % (text, kind),
            '{"t": 0.0, "ev": "is_closed", "value": %s}'
            % ('true' if version() >= (3, 11) else 'false')])


class MalformedTests(unittest.TestCase):

    def assertMalformed(self, program, features=(), message=None, **extra):
        with self.assertRaises(ScenarioError) as cm:
            run_scenario(scenario(program, features, **extra))
        if message is not None:
            self.assertIn(message, str(cm.exception))

    def test_operations(self):
        self.assertMalformed([{'no_such_op': {}}], message='unknown operation')
        self.assertMalformed([{'record': 'a'}], message='arguments must be an object')
        self.assertMalformed([{'record': {}}], message='missing argument(s) label')
        self.assertMalformed([{'record': {'label': 'a', 'x': 1}}],
                             message='unknown argument(s) x')
        self.assertMalformed([{'record': {'label': 'a'}, 'stop': {}}],
                             message='one-key object')
        self.assertMalformed([{'call_soon': {'do': 'x'}}], message='block')

    def test_names(self):
        self.assertMalformed([{'cancel': {'handle': 'nope'}}], message="no handle named 'nope'")
        self.assertMalformed([{'run_forever': {'loop': 'nope'}}], message="no loop named")

    def test_name_messages(self):
        # D3: one message form per kind, the same in the C++ interpreter.
        cases = [
            ([{'cancel': {'handle': 'h'}}], (), "cancel: no handle named 'h'"),
            ([{'when': {'handle': 'h'}}], (), "when: no handle named 'h'"),
            ([{'done': {'future': 'f'}}], ['futures'], "done: no future named 'f'"),
            ([{'stop': {'loop': 'l'}}], (), "stop: no loop named 'l'"),
            ([{'recv': {'fd': 'a'}}], ['fd-io'], "recv: no socket named 'a'"),
            ([{'new_loop': {'name': 'main'}}], ['multiple-loops'],
             "new_loop: loop 'main' is already defined"),
            ([{'new_loop': {'name': 'l'}}, {'new_loop': {'name': 'l'}}], ['multiple-loops'],
             "new_loop: loop 'l' is already defined"),
            ([{'new_future': {'name': 'f'}}, {'new_future': {'name': 'f'}}], ['futures'],
             "new_future: future 'f' is already defined"),
            ([{'socketpair': {'names': ['a', 'b']}}, {'socketpair': {'names': ['c', 'b']}}],
             ['fd-io'], "socketpair: socket 'b' is already defined"),
        ]
        for program, features, message in cases:
            with self.subTest(message=message):
                with self.assertRaises(ScenarioError) as cm:
                    run_scenario(scenario(program, features))
                self.assertEqual(str(cm.exception), message)

    def test_a_failed_call_binds_no_handle(self):
        with self.assertRaises(ScenarioError) as cm:
            run_scenario(scenario([{'close': {}},
                                   {'call_soon': {'do': [], 'as': 'h'}},
                                   {'cancel': {'handle': 'h'}}]))
        self.assertEqual(str(cm.exception), "cancel: no handle named 'h'")

    def test_handles_may_be_rebound(self):
        self.assertEqual(events([{'call_soon': {'do': [record('a')], 'as': 'h'}},
                                 {'call_soon': {'do': [record('b')], 'as': 'h'}},
                                 {'cancel': {'handle': 'h'}}, STOP, {'run_forever': {}}]),
                         ['{"t": 0.0, "ev": "record", "label": "a"}'])

    def test_malformed_inside_a_callback_stops_the_run(self):
        self.assertMalformed([{'call_soon': {'do': [{'cancel': {'handle': 'nope'}}]}},
                              {'run_forever': {}}], message="no handle named 'nope'")

    def test_arguments(self):
        self.assertMalformed([{'call_later': {'delay': 'soon', 'do': []}}],
                             message='must be a number')
        self.assertMalformed([{'burn': {'seconds': -1}}], message='negative')
        self.assertMalformed([{'external': {'at': 'nan', 'do': []}}], message='NaN')
        self.assertMalformed([{'repeat': {'times': 1.5, 'do': []}}], message='times')
        self.assertMalformed([{'socketpair': {'names': ['a']}}], ['fd-io'])

    def test_python_only_operations_need_their_feature(self):
        self.assertMalformed([{'get_event_loop': {}}], message="feature 'policies'")
        self.assertMalformed([{'contextvar_get': {'var': 'v'}}], message="feature 'contextvars'")

    def test_scenario_keys(self):
        s = scenario([])
        s['surprise'] = 1
        with self.assertRaises(ScenarioError):
            run_scenario(s)
        s = scenario([])
        del s['title']
        with self.assertRaises(ScenarioError):
            run_scenario(s)
        with self.assertRaises(ScenarioError):
            run_scenario(scenario([], budget={'ticks': 3}))

    def test_every_operation_is_dispatched(self):
        from aiospec_oracle.interpreter import Interpreter
        from aiospec_oracle import ops
        for name in OPERATIONS:
            # Coroutine-only operations are coroutine methods (_cop_*), the others plain ones.
            prefix = '_cop_' if name in ops.COROUTINE_ONLY else '_op_'
            self.assertTrue(callable(getattr(Interpreter, prefix + name)), name)


class DeterminismTests(unittest.TestCase):

    def test_run_scenario_json(self):
        import json
        s = scenario([{'call_later': {'delay': 0.1, 'do': [{'time': {}}, STOP]}},
                      {'run_forever': {}}])
        text = run_scenario_json(json.dumps(s))
        self.assertEqual(text, render_trace(run_scenario(s)))
        self.assertIn('{"t": 0.1, "ev": "time", "value": 0.1}', text)



class ClosedSocketTests(unittest.TestCase):
    """D4: a closed socket keeps its name."""

    EBADF = '"type": "OSError"}'

    def test_send_and_recv_on_a_closed_socket(self):
        lines = events([{'socketpair': {'names': ['a', 'b']}}, {'close_fd': {'fd': 'a'}},
                        {'send': {'fd': 'a', 'data': 'x'}}, {'recv': {'fd': 'a'}},
                        {'close_fd': {'fd': 'a'}}, record('end')], ['fd-io'])
        self.assertEqual(lines, [
            '{"t": 0.0, "ev": "error", "message": "[Errno 9] Bad file descriptor", '
            '"op": "send", ' + self.EBADF,
            '{"t": 0.0, "ev": "error", "message": "[Errno 9] Bad file descriptor", '
            '"op": "recv", ' + self.EBADF,
            '{"t": 0.0, "ev": "record", "label": "end"}'])

    def test_watching_a_closed_socket_is_refused(self):
        for op in ('add_reader', 'add_writer', 'remove_reader', 'remove_writer'):
            args = {'fd': 'a', 'do': []} if op.startswith('add') else {'fd': 'a'}
            with self.subTest(op=op):
                with self.assertRaises(ScenarioError) as cm:
                    run_scenario(scenario([{'socketpair': {'names': ['a', 'b']}},
                                           {'close_fd': {'fd': 'a'}}, {op: args}], ['fd-io']))
                self.assertEqual(str(cm.exception), "%s: socket 'a' is closed" % op)

    def test_closing_a_watched_socket_is_refused(self):
        with self.assertRaises(ScenarioError) as cm:
            run_scenario(scenario([{'socketpair': {'names': ['a', 'b']}},
                                   {'add_reader': {'fd': 'a', 'do': []}},
                                   {'close_fd': {'fd': 'a'}}], ['fd-io']))
        self.assertEqual(str(cm.exception), "close_fd: socket 'a' is still watched by loop "
                                            "'main' (remove_reader/remove_writer first)")
        with self.assertRaises(ScenarioError) as cm:
            run_scenario(scenario([{'new_loop': {'name': 'l2'}},
                                   {'socketpair': {'names': ['a', 'b']}},
                                   {'add_writer': {'fd': 'a', 'do': [], 'loop': 'l2'}},
                                   {'remove_reader': {'fd': 'a', 'loop': 'l2'}},
                                   {'close_fd': {'fd': 'a'}}], ['fd-io', 'multiple-loops']))
        self.assertIn("still watched by loop 'l2'", str(cm.exception))

    def test_closing_after_undoing_the_registrations(self):
        for undo in ([{'remove_reader': {'fd': 'a'}}, {'remove_writer': {'fd': 'a'}}],
                     [{'close': {}}]):
            with self.subTest(undo=undo):
                lines = events([{'socketpair': {'names': ['a', 'b']}},
                                {'add_reader': {'fd': 'a', 'do': []}},
                                {'add_writer': {'fd': 'a', 'do': []}}] + undo +
                               [{'close_fd': {'fd': 'a'}}, record('closed')], ['fd-io'])
                self.assertEqual(lines[-1], '{"t": 0.0, "ev": "record", "label": "closed"}')

    def test_a_failed_add_reader_is_not_a_registration(self):
        lines = events([{'socketpair': {'names': ['a', 'b']}}, {'close': {}},
                        {'add_reader': {'fd': 'a', 'do': []}},
                        {'close_fd': {'fd': 'a'}}, record('closed')], ['fd-io'])
        self.assertEqual(lines, [
            '{"t": 0.0, "ev": "error", "message": "Event loop is closed", '
            '"op": "add_reader", "type": "RuntimeError"}',
            '{"t": 0.0, "ev": "record", "label": "closed"}'])


class OperationTableTests(unittest.TestCase):

    def test_tables_come_from_ops(self):
        from aiospec_oracle import ops
        from aiospec_oracle.interpreter import PYTHON_ONLY, RAISABLE
        self.assertEqual(set(OPERATIONS), set(ops.OPS))
        self.assertEqual(OPERATIONS['raise'], (('type',), ('message',)))
        self.assertEqual(PYTHON_ONLY, {'contextvar_set': 'contextvars',
                                       'contextvar_get': 'contextvars',
                                       'set_event_loop': 'policies',
                                       'get_event_loop': 'policies',
                                       'set_event_loop_policy': 'policies',
                                       'get_event_loop_policy': 'policies',
                                       'coroutine_origin_depth': 'coroutine-origin'})
        self.assertIs(RAISABLE['SystemExit'], SystemExit)


if __name__ == '__main__':
    unittest.main()
