"""The scenario interpreter: runs a canonical program on CPython's asyncio.

A program is a list of operations.  In canonical form every operation is a
one-key object whose value is an object of arguments::

    {"call_soon": {"do": [{"record": {"label": "a"}}], "as": "h"}}

Operations run in order on the calling thread, outside any loop.  A BLOCK
(``do``) becomes a callback: a closure that counts itself against the
callback budget and then runs the block's operations in order.

An operation that raises records an ``error`` event and the block goes on
with its next operation.  Three things are not errors of the operation:

* ``WouldBlockForever`` out of a run operation: a ``blocked`` event; the
  program goes on;
* ``BudgetExceeded``: a final ``budget_exceeded`` event; the program stops;
* a malformed operation (unknown name, missing or unknown argument, name
  that is not bound at that moment, a loop/future/socket name defined a
  second time, a closed or still-watched socket where the language forbids
  it): the run stops with ``ScenarioError``.

Budgets (spec/README.md, "budget"): every operation counts against
``operations`` as it starts; a ``repeat`` also counts, before each copy of its
body runs, the number of operations that copy holds (nested blocks included);
every recorded event but ``budget_exceeded`` counts against ``events``.

The last two are ``Abort`` exceptions, which pass through asyncio's
callback machinery (see exceptions.py).

This module is the plain half: blocks, callbacks, names, loops (and `run`, asyncio.run on a new
one), futures, sockets.  The coroutine half (coroutine bodies, the await family, try, the
timeout and task-group scopes, the task operations) is coroutines.py, a mixin of Interpreter;
what both share is values.py.
"""

import asyncio
import contextlib
import contextvars
import copy
import errno
import inspect
import os
import socket
import threading
import warnings

from . import ops
from .exceptions import (Abort, BudgetExceeded, InvalidScenarioAbort,
                         LoopBlocked, OracleFailure, OracleFault, ScenarioError,
                         WouldBlockForever)
from .coroutines import _HANDLED_IN_THIS_RUN, Coroutines, _settle
from .handlers import Callback, Handlers
from .loop import virtual_loop
from .reprs import normalise
from .values import (FUTURE, HANDLE, LOOP, RAISABLE, SETTABLE, SOCKET, _fail, _num, _value,
                     describe, trace_value)
# Re-exported: tools and tests import these from here.
from .coroutines import THROW_CHAINS, chain  # noqa: F401
from .values import EXCEPTION_CLASSES  # noqa: F401
from .virtual_time import Budget, World

__all__ = ('Interpreter', 'run_program', 'OPERATIONS', 'SCENARIO_KEYS')


# Top-level keys of a canonical scenario: (required, optional).
SCENARIO_KEYS = (
    ('id', 'title', 'clauses', 'features', 'level', 'program'),
    ('python', 'description', 'budget'),
)

# Arguments of every operation: (required, optional), from the one operation
# table (ops.py, the operation language of spec/README.md).
OPERATIONS = {name: (op.required, op.optional) for name, op in ops.OPS.items()}

# Operations that exist only in scenarios that list their feature.
PYTHON_ONLY = {name: op.feature for name, op in ops.OPS.items() if op.python_only}

DEFAULT_RECV_SIZE = 4096

# Operations that may run anywhere and record their own outcome (value or raised) instead of an
# `error` event.
_OWN_OUTCOME = frozenset(('run',))

# asyncio.run(main, loop_factory=) exists from 3.12 on; before, asyncio.run makes its loop with
# the event loop policy's new_event_loop.
_RUN_HAS_LOOP_FACTORY = 'loop_factory' in inspect.signature(asyncio.run).parameters


class _OneLoopPolicy(asyncio.DefaultEventLoopPolicy):
    """The policy `run` installs for the length of asyncio.run before 3.12: its new_event_loop is
    the run's loop (made by the interpreter like every other)."""

    def __init__(self, loop):
        super().__init__()
        self._the_loop = loop

    def new_event_loop(self):
        return self._the_loop


def run_program(scenario, new_loop=None, clock=None):
    """Run ``scenario`` (canonical dict) and return its list of events
    (``Interpreter`` says what ``new_loop`` and ``clock`` are)."""
    return Interpreter(scenario, new_loop, clock).run()


def count_operations(block):
    """How many operations ``block`` holds, those of nested blocks included.

    Iterative, so that a deeply nested (malformed) program cannot exhaust
    the stack; an item that is not an operation counts as one.
    """
    count = 0
    pending = [block]
    while pending:
        items = pending.pop()
        if not isinstance(items, list):
            continue
        for item in items:
            count += 1
            if not isinstance(item, dict) or len(item) != 1:
                continue
            (name, args), = item.items()
            for _, sub, _ in ops.sub_blocks(name, args):
                pending.append(sub)
    return count


def substitute(value, placeholder, text):
    """A copy of ``value`` with ``placeholder`` replaced in every string: what `repeat` runs for
    each index (also used by tools that unroll a repeat, such as the fuzzer's minimiser)."""
    if isinstance(value, str):
        return value.replace(placeholder, text)
    if isinstance(value, list):
        return [substitute(v, placeholder, text) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, placeholder, text) for k, v in value.items()}
    return copy.deepcopy(value)


def _quiet(function, *args):
    """Call ``function`` with DeprecationWarnings silenced.

    get_event_loop() and the policy functions warn on some versions
    (3.10.0-3.10.8, 3.12+ for implicit loop creation, 3.14 for policies);
    a warning is not part of the observed behaviour, except in scenarios that list
    `warning-trace` (see Interpreter._policy_call).
    """
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        return function(*args)


class _Socket:
    """One end of a socketpair, by scenario name.

    The loop is given the fd number, as most programs do.  After close_fd
    the name stays bound to the closed socket: send/recv raise EBADF (as a
    closed socket object does), watching it is refused.  ``watchers`` maps
    each loop to the registrations ('reader', 'writer') the scenario made
    on it and did not undo.
    """

    def __init__(self, sock):
        self.sock = sock
        self.fd = sock.fileno()
        self.closed = False
        self.watchers = {}

    def check_open(self):
        if self.closed:
            raise OSError(errno.EBADF, os.strerror(errno.EBADF))


class Interpreter(Coroutines, Handlers):
    """Runs one scenario once.  Use a new instance for every run.

    ``new_loop(world)`` makes every loop of the run (default: the oracle's
    ``VirtualEventLoop``); ``clock`` is the world's clock (default: a
    ``VirtualClock``).  The Python loop host (host.py) passes others.
    """

    def __init__(self, scenario, new_loop=None, clock=None):
        self._check_scenario(scenario)
        self.scenario = scenario
        self.features = frozenset(scenario['features'])
        self._make_loop = new_loop if new_loop is not None else virtual_loop
        self.world = World(self._budget(scenario.get('budget')),
                           trace_selects='select-trace' in self.features,
                           clock=clock)
        self._clock = self.world.clock
        self._loops = {}        # name -> loop
        self._all_loops = []    # every loop created, for cleanup and names
        self._handles = {}      # name -> Handle / TimerHandle
        self._futures = {}      # name -> Future
        self._sockets = {}      # name -> _Socket
        self._all_sockets = []
        self._vars = {}         # name -> ContextVar
        self._timeouts = {}     # name -> asyncio.Timeout
        self._groups = {}       # name -> asyncio.TaskGroup
        self._creating = []     # (name, coroutine) of the create_task calls under way
        self._kept = []         # every task and future the run made: none is collected (and
                                # reported to an exception handler) before the run ends
        self._coroutines = []   # a values.Hold of every scenario coroutine object; those
                                # still alive are closed at the end
        self._ended = False     # the program's last operation is behind us
        self._fault = None      # the first report the fault net refused (see _exception_handler)
        self._dispatch = {name: getattr(self, '_op_' + name)
                          for name in OPERATIONS if name not in ops.COROUTINE_ONLY}
        self._coroutine_ops = {name: getattr(self, '_cop_' + name)
                               for name in ops.COROUTINE_ONLY | {'repeat'}}

    # -- scenario ------------------------------------------------------------

    @staticmethod
    def _check_scenario(scenario):
        if not isinstance(scenario, dict):
            raise ScenarioError('a scenario must be an object')
        required, optional = SCENARIO_KEYS
        missing = [k for k in required if k not in scenario]
        if missing:
            raise ScenarioError('scenario: missing key(s) %s' % ', '.join(missing))
        unknown = sorted(k for k in scenario if k not in required + optional)
        if unknown:
            raise ScenarioError('scenario: unknown key(s) %s' % ', '.join(unknown))
        if not isinstance(scenario['id'], str):
            raise ScenarioError('scenario: id must be a string')
        if not isinstance(scenario['features'], list):
            raise ScenarioError('scenario: features must be a list')
        if not isinstance(scenario['program'], list):
            raise ScenarioError('scenario: program must be a list')

    @staticmethod
    def _budget(spec):
        if spec is None:
            return Budget()
        if not isinstance(spec, dict):
            raise ScenarioError('budget must be an object')
        unknown = sorted(k for k in spec if k not in Budget.DEFAULTS)
        if unknown:
            raise ScenarioError('budget: unknown key(s) %s' % ', '.join(unknown))
        for key, value in spec.items():
            if (isinstance(value, bool) or not isinstance(value, (int, float))
                    or not value >= 0):
                raise ScenarioError('budget: %s must be a number >= 0' % key)
        return Budget(**spec)

    # -- the run -------------------------------------------------------------

    def run(self):
        """Run the program; return the events.

        The program runs in a fresh ``contextvars.Context`` under a fresh
        default event loop policy whose current loop is ``main``, so that
        nothing from an earlier run in the same process is visible.
        """
        saved_policy = _quiet(asyncio.get_event_loop_policy)
        _quiet(asyncio.set_event_loop_policy, None)
        del _HANDLED_IN_THIS_RUN[:]     # nothing an earlier run left behind (a run that stopped)
        self._start_reports()
        try:
            main = self._new_loop('main')
            _quiet(asyncio.set_event_loop, main)
            try:
                with self._warnings_traced():
                    contextvars.Context().run(self._run_block, self.scenario['program'])
            except BudgetExceeded as exc:
                self.world.record('budget_exceeded', limit=exc.limit)
            except InvalidScenarioAbort as exc:
                raise ScenarioError(exc.message) from None
            except OracleFault as exc:
                raise OracleFailure('oracle fault: ' + exc.message) from None
            if self._fault is not None:
                # Raised where it could not propagate: a __del__ (a finalizer's report).
                raise OracleFailure('oracle fault: ' + self._fault)
        finally:
            # Nothing is recorded from here on (a coroutine closed now or by the garbage
            # collector may run code), and the exception handler ignores what reaches it.
            self._ended = True
            self.world.closed = True
            try:
                self._cleanup()
            finally:
                self._end_reports()
                _quiet(asyncio.set_event_loop, None)
                _quiet(asyncio.set_event_loop_policy, saved_policy)
        return self.world.events

    @contextlib.contextmanager
    def _warnings_traced(self):
        """Feature `warning-trace`: every warning the program emits is a `warning` event (its
        class name and its text, normalised).  `always`, so that neither the filters of the
        host (-W, -X dev) nor the once-per-place registry decide what is recorded.  Elsewhere
        warnings are not part of the trace and go wherever the host sends them."""
        if 'warning-trace' not in self.features:
            yield
            return
        world = self.world

        def show(message, category, filename, lineno, file=None, line=None):
            world.record('warning', category=category.__name__, message=normalise(str(message)))

        with warnings.catch_warnings():
            warnings.simplefilter('always')
            warnings.showwarning = show
            yield

    def _policy_call(self, function, *args):
        """``function(*args)`` of the policy API, as a scenario operation: its warnings are what
        `warning-trace` records (3.14 deprecates the policies), else silenced as by _quiet."""
        if 'warning-trace' in self.features:
            return function(*args)
        return _quiet(function, *args)

    def _cleanup(self):
        """Close every scenario coroutine (a pending one gets GeneratorExit, for which no
        `finally` block of the scenario runs), then every loop still open, then every socket,
        silently."""
        for held in self._coroutines:
            coro = held()
            if coro is None:
                continue
            try:
                coro.close()
            except BaseException:
                pass
            del coro
        for loop in self._all_loops:
            if not loop.is_closed() and not loop.is_running():
                loop.close()
        for sock in self._all_sockets:
            sock.close()

    # -- blocks and operations -----------------------------------------------

    def _run_block(self, block, in_callback=False):
        if not isinstance(block, list):
            _fail('a block must be a list of operations, not %r' % (block,))
        for op in block:
            self._run_op(op, in_callback)

    def _run_op(self, op, in_callback=False):
        self.world.count_operations(1)
        name, args = self._parse(op)
        if name in ops.COROUTINE_ONLY:
            _fail('%s: only inside a coroutine' % name)
        if name == 'raise' and in_callback:
            # The point of `raise`: the exception leaves the callback and meets the loop.
            self._dispatch[name](name, args)
        self._invoke(name, args)

    def _invoke(self, name, args, in_coroutine=False):
        """Run a plain operation.  What it raises is recorded as an `error` event (a coroutine's
        `raise` records nothing); then, outside a coroutine, the block goes on, and inside one
        the exception propagates (a `try` may catch it)."""
        try:
            self._dispatch[name](name, args)
        except Abort:
            raise
        except WouldBlockForever:
            self.world.record('blocked', op=name)
        except (Exception, asyncio.CancelledError, KeyboardInterrupt, SystemExit) as exc:
            # KeyboardInterrupt and SystemExit come from a `raise` in a callback and escape
            # run_forever (ORD-08); the run operation records them like any other error.
            # CancelledError is a BaseException since 3.8; it is an
            # ordinary outcome of result() on a cancelled future.
            if in_coroutine:
                # Raised here and now: Python chained it natively with the exception the
                # coroutine handles (the interpreter frame of that `try` is in its except clause).
                _settle(exc)
            if not (in_coroutine and name == 'raise') and name not in _OWN_OUTCOME:
                self.world.record('error', op=name, type=type(exc).__name__,
                                  message=str(exc))
            if in_coroutine:
                raise

    def _parse(self, op):
        """Validate one canonical operation; return (name, arguments)."""
        if not isinstance(op, dict) or len(op) != 1:
            _fail('an operation must be a one-key object, not %r' % (op,))
        (name, args), = op.items()
        if name not in OPERATIONS:
            _fail('unknown operation %r' % (name,))
        if not isinstance(args, dict):
            _fail('%s: arguments must be an object, not %r' % (name, args))
        required, optional = OPERATIONS[name]
        missing = [k for k in required if k not in args]
        if missing:
            _fail('%s: missing argument(s) %s' % (name, ', '.join(missing)))
        unknown = sorted(k for k in args if k not in required + optional)
        if unknown:
            _fail('%s: unknown argument(s) %s' % (name, ', '.join(unknown)))
        feature = PYTHON_ONLY.get(name)
        if feature is not None and feature not in self.features:
            _fail('%s: needs feature %r in the scenario' % (name, feature))
        return name, args

    def _callback(self, block, name=None):
        """The callable scheduled for a BLOCK: a ``Callback`` named ``name`` (the handle's `as`),
        or ``callback``, as asyncio's reports show it (spec/TRACE.md, "Reprs in messages").

        It accepts and ignores arguments: done callbacks receive the
        future.
        """
        if not isinstance(block, list):
            _fail('a block must be a list of operations, not %r' % (block,))

        def run():
            self.world.count_callback()
            self._run_block(block, in_callback=True)
        return Callback('callback' if name is None else self._name('callback', 'as', name), run)

    def _scheduled(self, op, args):
        """What call_soon and friends schedule: the block's callback, or call_soon's `object`."""
        if 'object' in args:
            if 'do' in args:
                _fail("%s: exactly one of 'do' and 'object' is needed" % op)
            return self._callback_object(op, args['object'])
        if 'do' not in args:
            _fail('%s: missing argument(s) do' % op)
        return self._callback(args['do'], args.get('as'))

    def _run_on_thread(self, block, thread_name):
        """Run ``block`` on a new thread and wait for it.

        The thread has a fixed name because asyncio puts thread names in
        messages ("There is no current event loop in thread 'in_thread'.").
        An Abort raised on the thread is raised again here.
        """
        failure = []

        def target():
            try:
                self._run_block(block)
            except BaseException as exc:
                failure.append(exc)

        thread = threading.Thread(target=target, name=thread_name, daemon=True)
        thread.start()
        thread.join()
        if failure:
            raise failure[0]

    # -- names -----------------------------------------------------------------

    def _name(self, op, key, value):
        if not isinstance(value, str):
            _fail('%s: %s must be a name, not %r' % (op, key, value))
        return value

    def _lookup(self, table, kind, op, name):
        name = self._name(op, kind, name)
        try:
            return table[name]
        except KeyError:
            _fail("%s: no %s named '%s'" % (op, kind, name))

    def _unbound(self, table, kind, op, name):
        """``name`` for a new loop, future or socket; it must not be bound."""
        if name in table:
            _fail("%s: %s '%s' is already defined" % (op, kind, name))
        return name

    def _loop(self, op, args):
        name = args.get('loop')
        return self._lookup(self._loops, LOOP, op, 'main' if name is None else name)

    def _loop_name(self, loop):
        """The scenario's name for ``loop`` (the latest one given), or None."""
        for name, candidate in reversed(list(self._loops.items())):
            if candidate is loop:
                return name
        return None

    def _fd(self, op, args):
        return self._lookup(self._sockets, SOCKET, op, args['fd'])

    def _open_fd(self, op, args):
        """The socket named by ``fd``, which the operation needs open."""
        sock = self._fd(op, args)
        if sock.closed:
            _fail("%s: socket '%s' is closed" % (op, args['fd']))
        return sock

    def _new_loop(self, name):
        """A new loop of the run (``name`` None: one the scenario does not name)."""
        loop = self._make_loop(self.world)
        if not self._reports_traced():
            loop.set_exception_handler(self._exception_handler)
        self._all_loops.append(loop)
        if name is not None:
            self._loops[name] = loop
        return loop

    def _exception_handler(self, loop, context):
        # An exception from a `raise` operation is expected here: it is the point of ORD-08, and
        # what the handler does with it is not traced in these areas. Anything else means an
        # operation failed in a way the interpreter did not catch (spec/README.md, "Errors").
        # After the run ("Task was destroyed but it is pending", "exception was never
        # retrieved" from the garbage collector) nothing is judged: issue 8's handlers area.
        # The fault is also remembered: raised inside a finalizer it would only be printed.
        if self._ended or getattr(context.get('exception'), '_aiospec_raised', False):
            return
        fault = ('exception handler called: %s: %r'
                 % (context.get('message'), context.get('exception')))
        if self._fault is None:
            self._fault = fault
        raise OracleFault(fault)

    def _bind(self, op, args, handle):
        name = args.get('as')
        if name is not None:
            self._handles[self._name(op, 'as', name)] = handle   # handles may be rebound

    # -- recording and the world -----------------------------------------------

    def _op_raise(self, op, args):
        exc = self._exception_arg(op, args)
        exc._aiospec_raised = True
        raise exc

    def _op_record(self, op, args):
        self.world.record('record', label=args['label'])

    def _op_burn(self, op, args):
        seconds = _num(op, 'seconds', args['seconds'], allow_nan=False)
        if seconds < 0:
            _fail('burn: seconds must not be negative')
        self.world.advance_to(self.world.now + seconds)

    def _op_repeat(self, op, args):
        for copy in self._repeat_copies(op, args):
            self._run_block(copy)

    def _repeat_copies(self, op, args):
        """The copies of a repeat's body, each counted as it is made."""
        times = args['times']
        if isinstance(times, bool) or not isinstance(times, int) or times < 0:
            _fail('repeat: times must be an integer >= 0, not %r' % (times,))
        if times > ops.MAX_REPEAT_TIMES:
            _fail('repeat: times must be at most %d, not %r' % (ops.MAX_REPEAT_TIMES, times))
        var = args.get('var')
        placeholder = '{%s}' % ('i' if var is None else self._name(op, 'var', var))
        body = args['do']
        size = count_operations(body)
        if size == 0:
            # An empty body does nothing however often it runs, and counts nothing: without this
            # `repeat 100000 [repeat 100000 []]` would loop 10^10 times inside its budget.
            return
        for index in range(times):
            # The copy is counted when made: callbacks may keep it alive.
            self.world.count_operations(size)
            yield substitute(body, placeholder, str(index))

    def _op_in_thread(self, op, args):
        self._run_on_thread(args['do'], 'in_thread')

    def _op_external(self, op, args):
        at = _num(op, 'at', args['at'], allow_nan=False)
        block = args['do']
        self.world.add_external(
            at, lambda: self._run_on_thread(block, 'external'))

    # -- scheduling callbacks --------------------------------------------------

    def _op_call_soon(self, op, args):
        loop = self._loop(op, args)
        self._bind(op, args, loop.call_soon(self._scheduled(op, args)))

    def _op_call_soon_threadsafe(self, op, args):
        loop = self._loop(op, args)
        self._bind(op, args, loop.call_soon_threadsafe(self._callback(args['do'],
                                                                      args.get('as'))))

    def _op_call_later(self, op, args):
        loop = self._loop(op, args)
        delay = self._clock.loop_delay(_num(op, 'delay', args['delay']))
        self._bind(op, args, loop.call_later(delay, self._callback(args['do'], args.get('as'))))

    def _op_call_at(self, op, args):
        loop = self._loop(op, args)
        when = self._clock.loop_time(_num(op, 'when', args['when']))
        self._bind(op, args, loop.call_at(when, self._callback(args['do'], args.get('as'))))

    def _op_cancel(self, op, args):
        self._lookup(self._handles, HANDLE, op, args['handle']).cancel()

    def _op_when(self, op, args):
        handle = self._lookup(self._handles, HANDLE, op, args['handle'])
        self.world.record('when', handle=args['handle'],
                          value=self._clock.scenario_time(handle.when()))

    # -- running and stopping --------------------------------------------------

    @staticmethod
    def _run_loop(run, *args):
        """``run(*args)`` (run_forever, run_until_complete); a host's
        ``LoopBlocked`` becomes the ``WouldBlockForever`` the virtual
        selector raises."""
        try:
            return run(*args)
        except LoopBlocked:
            raise WouldBlockForever() from None

    def _op_run_forever(self, op, args):
        self._run_loop(self._loop(op, args).run_forever)

    def _op_run_until_complete(self, op, args):
        loop = self._loop(op, args)
        future = self._lookup(self._futures, FUTURE, op, args['future'])
        value = self._run_loop(loop.run_until_complete, future)
        self.world.record('run_until_complete', value=trace_value(value))

    def _op_stop(self, op, args):
        self._loop(op, args).stop()

    def _op_close(self, op, args):
        self._loop(op, args).close()     # a closed loop watches nothing (see _op_close_fd)

    def _op_is_running(self, op, args):
        self.world.record('is_running', value=self._loop(op, args).is_running())

    def _op_is_closed(self, op, args):
        self.world.record('is_closed', value=self._loop(op, args).is_closed())

    def _op_time(self, op, args):
        self.world.record('time', value=float(
            self._clock.scenario_time(self._loop(op, args).time())))

    def _op_new_loop(self, op, args):
        name = self._name(op, 'name', args['name'])
        self._new_loop(self._unbound(self._loops, LOOP, op, name))

    def _op_run(self, op, args):
        """asyncio.run(main) on a new loop of the run, made as new_loop makes one (so a host's
        loop factory makes it too): ``loop_factory`` on 3.12+, a policy whose new_event_loop
        gives that loop before (restored afterwards).  Records ``run`` with the value or what
        asyncio.run raised; a refused call closes the coroutine (no "never awaited" warning)."""
        name = args.get('as')
        if name is not None:
            name = self._unbound(self._loops, LOOP, op, self._name(op, 'as', name))
        if ('do' in args) == ('value' in args):
            _fail("run: exactly one of 'do' and 'value' is needed")
        if 'do' in args:
            main = self._new_coroutine(op, args['do'])
        else:
            main = _value(op, 'value', args['value'])   # no awaitable: asyncio.run refuses it
        loop = self._new_loop(name)
        try:
            value = self._run_loop(self._asyncio_run, main, loop)
        except (Abort, WouldBlockForever):
            raise
        except BaseException as exc:
            if inspect.iscoroutine(main):
                main.close()    # refused: never started; otherwise already finished
            self.world.record('run', raised=describe(exc))
            raise
        self.world.record('run', value=trace_value(value))

    @staticmethod
    def _asyncio_run(main, loop):
        if _RUN_HAS_LOOP_FACTORY:
            return asyncio.run(main, loop_factory=lambda: loop)
        saved = _quiet(asyncio.get_event_loop_policy)
        _quiet(asyncio.set_event_loop_policy, _OneLoopPolicy(loop))
        try:
            return asyncio.run(main)
        finally:
            _quiet(asyncio.set_event_loop_policy, saved)

    def _op_get_running_loop(self, op, args):
        loop = asyncio.get_running_loop()
        self.world.record('get_running_loop', value=self._loop_name(loop))

    # -- futures -----------------------------------------------------------------

    def _op_new_future(self, op, args):
        name = self._unbound(self._futures, FUTURE, op, self._name(op, 'name', args['name']))
        self._futures[name] = self._loop(op, args).create_future()

    def _op_set_result(self, op, args):
        value = _value(op, 'value', args['value'])
        self._lookup(self._futures, FUTURE, op, args['future']).set_result(value)

    def _op_add_done_callback(self, op, args):
        future = self._lookup(self._futures, FUTURE, op, args['future'])
        future.add_done_callback(self._callback(args['do']))

    def _op_done(self, op, args):
        future = self._lookup(self._futures, FUTURE, op, args['future'])
        self.world.record('done', future=args['future'], value=future.done())

    def _op_result(self, op, args):
        future = self._lookup(self._futures, FUTURE, op, args['future'])
        self.world.record('result', future=args['future'], value=trace_value(future.result()))

    def _exception_arg(self, op, args, classes=RAISABLE):
        """A new exception of the class ``type`` names, with ``message`` as its one argument."""
        exc_type = classes.get(args['type'])
        if exc_type is None:
            _fail('%s: unknown exception type %r' % (op, args['type']))
        message = args.get('message')
        if message is not None and not isinstance(message, str):
            _fail('%s: message must be a string' % op)
        return exc_type() if message is None else exc_type(message)

    def _op_set_exception(self, op, args):
        future = self._lookup(self._futures, FUTURE, op, args['future'])
        future.set_exception(self._exception_arg(op, args, SETTABLE))

    def _op_cancel_future(self, op, args):
        future = self._lookup(self._futures, FUTURE, op, args['future'])
        message = args.get('message')
        if message is not None and not isinstance(message, str):
            _fail('cancel_future: message must be a string')
        # Positional: Future.cancel(msg) exists from 3.9 on; 3.8 raises TypeError.
        value = future.cancel() if message is None else future.cancel(message)
        self.world.record('cancel_future', future=args['future'], value=value)

    def _op_cancelled(self, op, args):
        future = self._lookup(self._futures, FUTURE, op, args['future'])
        self.world.record('cancelled', future=args['future'], value=future.cancelled())

    def _op_exception(self, op, args):
        future = self._lookup(self._futures, FUTURE, op, args['future'])
        exc = future.exception()
        self.world.record('exception', future=args['future'],
                          value=None if exc is None else describe(exc))

    # -- I/O on socket pairs -----------------------------------------------------

    def _op_socketpair(self, op, args):
        names = args['names']
        if (not isinstance(names, list) or len(names) != 2
                or not all(isinstance(n, str) for n in names)
                or names[0] == names[1]):
            _fail('socketpair: names must be a list of two different names')
        for name in names:
            self._unbound(self._sockets, SOCKET, op, name)
        pair = socket.socketpair()
        for name, sock in zip(names, pair):
            sock.setblocking(False)
            self._all_sockets.append(sock)
            self._sockets[name] = _Socket(sock)

    def _watch(self, op, args, kind, add):
        """add_reader/add_writer (add=True) or remove_*; returns the call's value.

        The registration is noted only once the loop's call returned, so a
        call that raised (a closed loop) leaves nothing to undo.
        """
        sock = self._open_fd(op, args)
        loop = self._loop(op, args)
        if add:
            method = loop.add_reader if kind == 'reader' else loop.add_writer
            value = method(sock.fd, self._callback(args['do']))
            sock.watchers.setdefault(loop, set()).add(kind)
        else:
            method = loop.remove_reader if kind == 'reader' else loop.remove_writer
            value = method(sock.fd)
            sock.watchers.get(loop, set()).discard(kind)
        return value

    def _op_add_reader(self, op, args):
        self._watch(op, args, 'reader', True)

    def _op_add_writer(self, op, args):
        self._watch(op, args, 'writer', True)

    def _op_remove_reader(self, op, args):
        value = self._watch(op, args, 'reader', False)
        self.world.record('remove_reader', fd=args['fd'], value=value)

    def _op_remove_writer(self, op, args):
        value = self._watch(op, args, 'writer', False)
        self.world.record('remove_writer', fd=args['fd'], value=value)

    def _op_send(self, op, args):
        sock = self._fd(op, args)
        data = args['data']
        if not isinstance(data, str):
            _fail('send: data must be a string')
        try:
            payload = data.encode('ascii')
        except UnicodeEncodeError:
            _fail('send: data must be ASCII text')
        sock.check_open()
        sock.sock.send(payload)

    def _op_recv(self, op, args):
        sock = self._fd(op, args)
        size = args.get('size')
        if size is None:
            size = DEFAULT_RECV_SIZE
        if (isinstance(size, bool) or not isinstance(size, int) or size <= 0
                or size > ops.MAX_RECV_SIZE):
            _fail('recv: size must be an integer from 1 to %d' % ops.MAX_RECV_SIZE)
        sock.check_open()
        try:
            data = sock.sock.recv(size).decode('ascii', 'backslashreplace')
        except BlockingIOError:
            data = None
        self.world.record('recv', fd=args['fd'], data=data)

    def _op_close_fd(self, op, args):
        sock = self._fd(op, args)
        if sock.closed:
            return                       # as socket.close(): closing twice does nothing
        # A loop that still watches the number would poll whatever file gets it
        # next (epoll forgets a closed descriptor, select and poll do not).
        for loop in self._all_loops:
            if sock.watchers.get(loop) and not loop.is_closed():
                _fail("close_fd: socket '%s' is still watched by loop '%s' "
                      "(remove_reader/remove_writer first)"
                      % (args['fd'], self._loop_name(loop)))
        sock.closed = True
        sock.sock.close()

    # -- Python only ---------------------------------------------------------------

    def _var(self, op, args):
        name = self._name(op, 'var', args['var'])
        if name not in self._vars:
            self._vars[name] = contextvars.ContextVar(name)
        return self._vars[name]

    def _op_contextvar_set(self, op, args):
        self._var(op, args).set(args['value'])

    def _op_contextvar_get(self, op, args):
        value = self._var(op, args).get(None)
        self.world.record('contextvar_get', var=args['var'], value=value)

    def _op_set_event_loop(self, op, args):
        name = args['loop']
        loop = None if name is None else self._lookup(self._loops, LOOP, op, name)
        self._policy_call(asyncio.set_event_loop, loop)

    def _op_get_event_loop(self, op, args):
        loop = self._policy_call(asyncio.get_event_loop)
        self.world.record('get_event_loop', value=self._loop_name(loop))

    def _op_set_event_loop_policy(self, op, args):
        """asyncio.set_event_loop_policy(asyncio.DefaultEventLoopPolicy()): a policy with no
        current loop on which set_event_loop was never called, so that get_event_loop() in the
        main thread may make one (3.8-3.13).  The class is read from asyncio here, as a program
        does (3.14 warns on that too); the one instance overrides new_event_loop so that such a
        loop is a loop of the run (the scenario has no name for it)."""
        if args['policy'] != 'default':
            _fail("set_event_loop_policy: policy must be 'default', not %r" % (args['policy'],))
        base = self._policy_call(getattr, asyncio, 'DefaultEventLoopPolicy')
        interpreter = self

        class DefaultEventLoopPolicy(base):
            def new_event_loop(self):
                return interpreter._new_loop(None)

        self._policy_call(asyncio.set_event_loop_policy, DefaultEventLoopPolicy())

    def _op_get_event_loop_policy(self, op, args):
        self._policy_call(asyncio.get_event_loop_policy)   # the host's object: not recorded
