"""The virtual clock, the world and the selector that lets time pass."""

import unittest

from aiospec_oracle.exceptions import BudgetExceeded, WouldBlockForever
from aiospec_oracle.loop import VirtualEventLoop
from aiospec_oracle.virtual_time import (MAXIMUM_SELECT_TIMEOUT, Budget,
                                         VirtualSelector, World)

from .support import STOP, events, record


class WorldTests(unittest.TestCase):

    def test_clock_starts_at_zero_and_only_moves_forward(self):
        world = World()
        self.assertEqual(world.now, 0.0)
        self.assertIsInstance(world.now, float)
        world.advance_to(2)
        self.assertEqual(world.now, 2.0)
        self.assertIsInstance(world.now, float)
        world.advance_to(1.0)
        self.assertEqual(world.now, 2.0)
        with self.assertRaises(ValueError):
            world.advance_to(float('nan'))

    def test_time_budget_refuses_the_move(self):
        world = World(Budget(time=10))
        world.advance_to(10.0)
        with self.assertRaises(BudgetExceeded) as cm:
            world.advance_to(10.5)
        self.assertEqual(cm.exception.limit, 'time')
        self.assertEqual(world.now, 10.0)

    def test_counters(self):
        world = World(Budget(iterations=2, callbacks=1))
        world.count_iteration()
        world.count_iteration()
        with self.assertRaises(BudgetExceeded) as cm:
            world.count_iteration()
        self.assertEqual(cm.exception.limit, 'iterations')
        world.count_callback()
        with self.assertRaises(BudgetExceeded) as cm:
            world.count_callback()
        self.assertEqual(cm.exception.limit, 'callbacks')

    def test_budget_exceeded_escapes_callbacks(self):
        # Handle._run re-raises only SystemExit and KeyboardInterrupt.
        self.assertTrue(issubclass(BudgetExceeded, SystemExit))

    def test_defaults(self):
        budget = Budget()
        self.assertEqual((budget.iterations, budget.callbacks, budget.time),
                         (10000, 100000, 31536000.0))

    def test_externals_run_in_time_then_registration_order(self):
        world = World()
        ran = []
        world.add_external(2.0, lambda: ran.append('b'))
        world.add_external(1.0, lambda: ran.append('a'))
        world.add_external(2.0, lambda: ran.append('c'))
        self.assertEqual(world.next_external(), 1.0)
        world.run_due_externals()
        self.assertEqual(ran, [])
        world.advance_to(2.0)
        world.run_due_externals()
        self.assertEqual(ran, ['a', 'b', 'c'])
        self.assertIsNone(world.next_external())

    def test_record_stamps_the_current_time(self):
        world = World()
        world.advance_to(1.5)
        self.assertEqual(world.record('record', label='x'),
                         {'t': 1.5, 'ev': 'record', 'label': 'x'})


class VirtualSelectorTests(unittest.TestCase):
    """The selector directly under a VirtualEventLoop."""

    def setUp(self):
        self.world = World(trace_selects=True)
        self.loop = VirtualEventLoop(self.world)
        self.addCleanup(self.loop.close)

    def selects(self):
        return [(e['t'], e['timeout']) for e in self.world.events
                if e['ev'] == 'select']

    def test_loop_reads_the_virtual_clock(self):
        self.assertEqual(self.loop.time(), 0.0)
        self.world.advance_to(3.5)
        self.assertEqual(self.loop.time(), 3.5)
        self.assertEqual(self.loop._clock_resolution, 1e-9)
        self.assertIsInstance(self.loop._selector, VirtualSelector)
        self.assertFalse(self.loop.get_debug())

    def test_jumps_to_exactly_the_head_when(self):
        # 0.3 + (0.9 - 0.3) == 0.9000000000000001: the clock must not
        # be moved by adding the timeout.
        self.world.advance_to(0.3)
        fired = []
        self.loop.call_at(0.9, lambda: (fired.append(self.loop.time()), self.loop.stop()))
        self.loop.run_forever()
        self.assertEqual(fired, [0.9])
        self.assertEqual(self.selects(), [(0.3, 0.9 - 0.3)])

    def test_cap_of_one_day(self):
        self.assertEqual(MAXIMUM_SELECT_TIMEOUT, 86400)
        fired = []
        self.loop.call_later(3 * 86400.0, lambda: (fired.append(self.loop.time()),
                                                   self.loop.stop()))
        self.loop.run_forever()
        self.assertEqual(self.selects(), [(0.0, 86400.0), (86400.0, 86400.0),
                                          (172800.0, 86400.0)])
        self.assertEqual(fired, [259200.0])

    def test_nothing_to_wait_for_raises(self):
        with self.assertRaises(WouldBlockForever):
            self.loop.run_forever()
        self.assertFalse(self.loop.is_running())
        self.assertEqual(self.selects(), [(0.0, None)])

    def test_zero_timeout_never_moves_the_clock(self):
        self.loop.call_later(5.0, lambda: None)
        self.loop.call_soon(self.loop.stop)
        self.loop.run_forever()
        self.assertEqual(self.world.now, 0.0)
        self.assertEqual(self.selects(), [(0.0, 0.0)])

    def test_external_without_io_does_not_shorten_the_wait(self):
        # A real selector sleeping until the one-day cap is not woken by
        # something that makes nothing ready; the deadline is fixed when
        # select() is entered.
        self.world.add_external(100.0, lambda: self.world.record('record', label='x'))
        self.loop.call_later(3 * 86400.0, self.loop.stop)
        self.loop.run_forever()
        self.assertEqual(self.selects(), [(0.0, 86400.0), (86400.0, 86400.0),
                                          (172800.0, 86400.0)])
        self.assertEqual([e['t'] for e in self.world.events if e['ev'] == 'record'],
                         [100.0])

    def test_external_wakes_the_loop_through_the_self_pipe(self):
        ran = []
        self.world.add_external(
            2.0, lambda: self.loop.call_soon_threadsafe(
                lambda: (ran.append(self.loop.time()), self.loop.stop())))
        self.loop.run_forever()
        self.assertEqual(ran, [2.0])
        self.assertEqual(self.selects(), [(0.0, None)])

    def test_iteration_budget(self):
        world = World(Budget(iterations=3))
        loop = VirtualEventLoop(world)
        self.addCleanup(loop.close)
        loop.call_later(1e9, lambda: None)
        with self.assertRaises(BudgetExceeded) as cm:
            loop.run_forever()
        self.assertEqual(cm.exception.limit, 'iterations')
        self.assertEqual(world.now, 3 * 86400.0)
        self.assertFalse(loop.is_running())


class ThroughTheInterpreterTests(unittest.TestCase):
    """The same rules as the scenario language shows them."""

    def test_three_day_timer(self):
        self.assertEqual(events([
            {'call_later': {'delay': 259200.0, 'do': [record('fired'), STOP]}},
            {'run_forever': {}},
        ], ['select-trace']), [
            '{"t": 0.0, "ev": "select", "timeout": 86400.0}',
            '{"t": 86400.0, "ev": "select", "timeout": 86400.0}',
            '{"t": 172800.0, "ev": "select", "timeout": 86400.0}',
            '{"t": 259200.0, "ev": "record", "label": "fired"}',
        ])

    def test_select_events_only_with_the_feature(self):
        program = [{'call_later': {'delay': 1.0, 'do': [STOP]}}, {'run_forever': {}},
                   {'time': {}}]
        self.assertEqual(events(program), ['{"t": 1.0, "ev": "time", "value": 1.0}'])

    def test_non_dyadic_delays_accumulate_like_python_floats(self):
        self.assertEqual(events([
            {'call_later': {'delay': 0.1, 'do': [
                {'call_later': {'delay': 0.2, 'do': [{'time': {}}, STOP]}}]}},
            {'run_forever': {}},
        ]), ['{"t": 0.30000000000000004, "ev": "time", "value": 0.30000000000000004}'])

    def test_burn_moves_the_clock_inside_a_callback(self):
        self.assertEqual(events([
            {'call_soon': {'do': [{'time': {}}, {'burn': {'seconds': 0.25}}, {'time': {}}]}},
            {'call_later': {'delay': 0.0, 'do': [{'time': {}}, STOP]}},
            {'run_forever': {}},
        ]), [
            '{"t": 0.0, "ev": "time", "value": 0.0}',
            '{"t": 0.25, "ev": "time", "value": 0.25}',
            '{"t": 0.25, "ev": "time", "value": 0.25}',
        ])


if __name__ == '__main__':
    unittest.main()
