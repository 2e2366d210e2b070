"""Virtual time: the clock, the world around the loops, and the selector
that lets time pass instead of sleeping.

The real ``BaseEventLoop._run_once`` runs unchanged.  It asks the selector to
wait ``timeout`` seconds; ``VirtualSelector.select`` never sleeps, it moves
the shared virtual clock to the moment the wait would have ended and
returns what is ready then.  Everything else (the ready queue, the timer
heap, cancellation, stop) is CPython's own code, so CPython's behaviour is
what ends up in the trace.
"""

import heapq
import itertools
import math
import selectors

from asyncio import base_events

from . import ops
from .exceptions import BudgetExceeded, WouldBlockForever

__all__ = ('Budget', 'VirtualClock', 'World', 'VirtualSelector')


# The longest a loop ever waits in one select() call (TMR-06).  Read from
# CPython rather than copied, so that the cap the selector applies is by
# construction the one _run_once applied.
MAXIMUM_SELECT_TIMEOUT = base_events.MAXIMUM_SELECT_TIMEOUT


class Budget:
    """How far a scenario may go before it is stopped (spec/README.md).

    A limit is exceeded when a count would go above it: ``iterations``
    selector polls, ``callbacks`` scenario callbacks run, ``operations``
    operations started (and operations held by the copies ``repeat`` makes
    of its body), ``events`` events recorded, or a clock value above
    ``time`` virtual seconds.
    """

    DEFAULTS = {key: default for key, (default, _) in ops.BUDGETS.items()}

    def __init__(self, iterations=None, callbacks=None, time=None,
                 operations=None, events=None):
        d = self.DEFAULTS
        self.iterations = d['iterations'] if iterations is None else iterations
        self.callbacks = d['callbacks'] if callbacks is None else callbacks
        self.time = float(d['time'] if time is None else time)
        self.operations = d['operations'] if operations is None else operations
        self.events = d['events'] if events is None else events


class VirtualClock:
    """The oracle's clock: a float of virtual seconds, starting at 0.0.

    A clock is what ``World`` reads and moves; another one can take its
    place (the Python loop host's interposed and real clocks, host.py).  The
    interface: ``now`` (read and assigned, in scenario seconds) and three
    translations between scenario times and the times the loop itself sees,
    which are the identity here: ``loop_delay`` (a ``call_later`` delay),
    ``loop_time`` (a ``call_at`` deadline) and ``scenario_time`` (a value
    the loop returns: ``time()``, ``when()``).
    """

    def __init__(self):
        self.now = 0.0

    @staticmethod
    def loop_delay(delay):
        return delay

    @staticmethod
    def loop_time(when):
        return when

    @staticmethod
    def scenario_time(value):
        return value


class World:
    """Everything the loops of one scenario share.

    * ``now``: the clock (``clock``, a ``VirtualClock`` unless the caller
      gives another), starting at 0.0.  It only moves forward, through
      ``advance_to``, which also enforces the time budget (the clock never
      goes past it: the move that would is refused with
      ``BudgetExceeded('time')``).
    * the pending external events, ordered by (time, order of
      registration); each is a callable run by the first poll of any loop
      at or after its time.
    * the budget counters.
    * the trace: ``record`` appends one event stamped with ``now``.
    """

    def __init__(self, budget=None, trace_selects=False, clock=None):
        self.clock = clock if clock is not None else VirtualClock()
        self.events = []
        self.budget = budget if budget is not None else Budget()
        self.trace_selects = trace_selects
        self.iterations = 0
        self.callbacks = 0
        self.operations = 0
        self.recorded = 0       # events counted against the budget
        self.closed = False     # the run ended: record() keeps nothing more
        self._externals = []
        self._order = itertools.count()

    @property
    def now(self):
        return self.clock.now

    @now.setter
    def now(self, value):
        self.clock.now = value

    # -- trace -------------------------------------------------------------

    def record(self, ev, **fields):
        """Append the event ``ev`` at the current virtual time.

        Every event but ``budget_exceeded`` counts against the ``events``
        budget; the one that would go above it is not recorded.  Once the run has ended
        (``closed``) nothing is recorded.
        """
        if self.closed:
            return None
        if ev != 'budget_exceeded':
            self.recorded += 1
            if self.recorded > self.budget.events:
                raise BudgetExceeded('events')
        event = {'t': float(self.now), 'ev': ev}
        event.update(fields)
        self.events.append(event)
        return event

    # -- clock -------------------------------------------------------------

    def advance_to(self, when):
        """Move the clock to ``when`` (never backwards)."""
        when = float(when)
        if math.isnan(when):
            raise ValueError('the virtual clock cannot move to NaN')
        if when < self.now:
            return
        if when > self.budget.time:
            raise BudgetExceeded('time')
        self.now = when

    # -- budget ------------------------------------------------------------

    def count_iteration(self):
        self.iterations += 1
        if self.iterations > self.budget.iterations:
            raise BudgetExceeded('iterations')

    def count_operations(self, count):
        self.operations += count
        if self.operations > self.budget.operations:
            raise BudgetExceeded('operations')

    def count_callback(self):
        self.callbacks += 1
        if self.callbacks > self.budget.callbacks:
            raise BudgetExceeded('callbacks')

    # -- external events -----------------------------------------------------

    def add_external(self, at, action):
        """Schedule ``action()`` for the first poll at or after ``at``.

        Ties keep registration order: the heap key is (at, sequence number).
        """
        heapq.heappush(self._externals, (float(at), next(self._order), action))

    def next_external(self):
        """The time of the earliest pending external event, or None."""
        return self._externals[0][0] if self._externals else None

    def run_due_externals(self):
        """Run, in order, every external event whose time has come.

        An event is removed before it runs, so that a poll made from inside
        it (a loop run on the external thread) does not run it again; events
        it schedules for the current time run in this same call.
        """
        while self._externals and self._externals[0][0] <= self.now:
            _, _, action = heapq.heappop(self._externals)
            action()


class VirtualSelector(selectors.BaseSelector):
    """A selector that owns virtual time.

    Registration is delegated to a real ``selectors.DefaultSelector``, so
    socketpairs and the loop's self-pipe behave as they do for real;
    ``select`` only ever polls it with a zero timeout.

    ``select(timeout)``:

    1. record a ``select`` event (only with the ``select-trace`` feature)
       and count one loop iteration against the budget;
    2. run the external events that are due, then poll; if something is
       ready, or ``timeout == 0``, return it;
    3. otherwise fix the deadline of this wait, once: none when ``timeout``
       is None; exactly the head timer's ``when`` when ``timeout`` is below
       ``MAXIMUM_SELECT_TIMEOUT`` (``now + (when - now)`` need not equal
       ``when`` in floating point, and the loop must find its timer
       expired); exactly ``now + 86400`` when the loop capped its wait;
    4. let time pass: if the next external event comes no later than the
       deadline, move the clock to it, run the due events, poll, return
       what is ready or keep waiting (with the same deadline: an external
       event that makes nothing ready does not wake a real selector
       either); otherwise move the clock to the deadline, poll once and
       return what that gives, possibly nothing;
    5. with neither a deadline nor an external event to wait for, raise
       ``WouldBlockForever``.
    """

    def __init__(self, world, inner=None):
        self._world = world
        self._inner = inner if inner is not None else selectors.DefaultSelector()
        self._loop = None

    @property
    def inner(self):
        """The selector registrations are delegated to."""
        return self._inner

    def attach(self, loop):
        """Give the selector the loop whose timer heap it reads."""
        self._loop = loop

    # -- delegated ---------------------------------------------------------

    def register(self, fileobj, events, data=None):
        return self._inner.register(fileobj, events, data)

    def unregister(self, fileobj):
        return self._inner.unregister(fileobj)

    def modify(self, fileobj, events, data=None):
        return self._inner.modify(fileobj, events, data)

    def get_key(self, fileobj):
        return self._inner.get_key(fileobj)

    def get_map(self):
        return self._inner.get_map()

    def close(self):
        self._inner.close()

    # -- the wait ----------------------------------------------------------

    def select(self, timeout=None):
        world = self._world
        if world.trace_selects:
            world.record('select',
                         timeout=None if timeout is None else float(timeout))
        world.count_iteration()
        world.run_due_externals()
        if timeout is not None and math.isnan(timeout):
            # 3.13 rewrote the clamp in _run_once so that a NaN deadline
            # yields a NaN timeout (3.8-3.12 turn it into 0).  A real
            # selector rejects it; let the real one do so, with its own
            # exception and message.
            return self._inner.select(timeout)
        ready = self._inner.select(0)
        if ready or timeout == 0:
            return ready
        deadline = self._deadline(timeout)
        while True:
            nxt = world.next_external()
            if nxt is None and deadline is None:
                raise WouldBlockForever()
            if nxt is not None and (deadline is None or nxt <= deadline):
                world.advance_to(nxt)
                world.run_due_externals()
                ready = self._inner.select(0)
                if ready:
                    return ready
                continue
            world.advance_to(deadline)
            return self._inner.select(0)

    def _deadline(self, timeout):
        """The virtual time at which a wait of ``timeout`` ends (step 3)."""
        if timeout is None:
            return None
        if timeout >= MAXIMUM_SELECT_TIMEOUT:
            return self._world.now + MAXIMUM_SELECT_TIMEOUT
        scheduled = self._loop._scheduled if self._loop is not None else None
        if scheduled:
            # _run_once computed timeout from this very timer: it cleaned
            # the cancelled heads first and nothing ran since.
            return scheduled[0]._when
        # Only a caller other than _run_once gets here.
        return self._world.now + timeout
