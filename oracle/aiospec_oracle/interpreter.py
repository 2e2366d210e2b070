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
  that was never defined): the run stops with ``ScenarioError``.

The last two are ``Abort`` exceptions, which pass through asyncio's
callback machinery (see exceptions.py).
"""

import asyncio
import contextvars
import copy
import math
import socket
import threading
import warnings

from .exceptions import (Abort, BudgetExceeded, InvalidScenarioAbort,
                         OracleFault, ScenarioError, WouldBlockForever)
from .loop import VirtualEventLoop
from .virtual_time import Budget, World

__all__ = ('Interpreter', 'run_program', 'OPERATIONS', 'SCENARIO_KEYS')


# What `raise` may throw, by name.
RAISABLE = {
    'Exception': Exception,
    'ValueError': ValueError,
    'RuntimeError': RuntimeError,
    'KeyboardInterrupt': KeyboardInterrupt,
    'SystemExit': SystemExit,
}

# Top-level keys of a canonical scenario: (required, optional).
SCENARIO_KEYS = (
    ('id', 'title', 'clauses', 'features', 'level', 'program'),
    ('python', 'description', 'budget'),
)

# Arguments of every operation: (required, optional).  The table is the
# operation language of spec/README.md in canonical form.
OPERATIONS = {
    # recording and the world
    'record': (('label',), ()),
    'raise': (('type',), ('message',)),
    'burn': (('seconds',), ()),
    'repeat': (('times', 'do'), ('var',)),
    'in_thread': (('do',), ()),
    'external': (('at', 'do'), ()),
    # scheduling callbacks
    'call_soon': (('do',), ('as', 'loop')),
    'call_soon_threadsafe': (('do',), ('as', 'loop')),
    'call_later': (('delay', 'do'), ('as', 'loop')),
    'call_at': (('when', 'do'), ('as', 'loop')),
    'cancel': (('handle',), ()),
    'when': (('handle',), ()),
    # running and stopping
    'run_forever': ((), ('loop',)),
    'run_until_complete': (('future',), ('loop',)),
    'stop': ((), ('loop',)),
    'close': ((), ('loop',)),
    'is_running': ((), ('loop',)),
    'is_closed': ((), ('loop',)),
    'time': ((), ('loop',)),
    'new_loop': (('name',), ()),
    'get_running_loop': ((), ()),
    # futures
    'new_future': (('name',), ('loop',)),
    'set_result': (('future', 'value'), ()),
    'add_done_callback': (('future', 'do'), ()),
    'done': (('future',), ()),
    'result': (('future',), ()),
    # I/O on socket pairs
    'socketpair': (('names',), ()),
    'add_reader': (('fd', 'do'), ('loop',)),
    'add_writer': (('fd', 'do'), ('loop',)),
    'remove_reader': (('fd',), ('loop',)),
    'remove_writer': (('fd',), ('loop',)),
    'send': (('fd', 'data'), ()),
    'recv': (('fd',), ('size',)),
    'close_fd': (('fd',), ()),
    # Python only
    'contextvar_set': (('var', 'value'), ()),
    'contextvar_get': (('var',), ()),
    'set_event_loop': (('loop',), ()),
    'get_event_loop': ((), ()),
}

# Operations that exist only in scenarios that list their feature.
PYTHON_ONLY = {
    'contextvar_set': 'contextvars',
    'contextvar_get': 'contextvars',
    'set_event_loop': 'policies',
    'get_event_loop': 'policies',
}

NUM_STRINGS = {'inf': math.inf, '-inf': -math.inf, 'nan': math.nan}

DEFAULT_RECV_SIZE = 4096


def run_program(scenario):
    """Run ``scenario`` (canonical dict) and return its list of events."""
    return Interpreter(scenario).run()


def _fail(message):
    """Stop the run: the scenario is malformed."""
    raise InvalidScenarioAbort(message)


def _num(op, key, value, allow_nan=True):
    """A NUM argument as a float: a number or "inf", "-inf", "nan".

    Numbers are converted to float so that an integer in the scenario gives
    the same ``when``/``time`` values (rendered ``2.0``) as a float would.
    """
    if isinstance(value, str) and value in NUM_STRINGS:
        result = NUM_STRINGS[value]
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        result = float(value)
    else:
        _fail('%s: %s must be a number, "inf", "-inf" or "nan", not %r'
              % (op, key, value))
    if not allow_nan and math.isnan(result):
        _fail('%s: %s must not be NaN' % (op, key))
    return result


def _substitute(value, placeholder, text):
    """A copy of ``value`` with ``placeholder`` replaced in every string."""
    if isinstance(value, str):
        return value.replace(placeholder, text)
    if isinstance(value, list):
        return [_substitute(v, placeholder, text) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, placeholder, text) for k, v in value.items()}
    return copy.deepcopy(value)


def _quiet(function, *args):
    """Call ``function`` with DeprecationWarnings silenced.

    get_event_loop() and the policy functions warn on some versions
    (3.10.0-3.10.8, 3.12+ for implicit loop creation, 3.14 for policies);
    a warning is not part of the observed behaviour.
    """
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        return function(*args)


class Interpreter:
    """Runs one scenario once.  Use a new instance for every run."""

    def __init__(self, scenario):
        self._check_scenario(scenario)
        self.scenario = scenario
        self.features = frozenset(scenario['features'])
        self.world = World(self._budget(scenario.get('budget')),
                           trace_selects='select-trace' in self.features)
        self._loops = {}        # name -> loop
        self._all_loops = []    # every loop created, for cleanup and names
        self._handles = {}      # name -> Handle / TimerHandle
        self._futures = {}      # name -> Future
        self._sockets = {}      # name -> (socket, fd number)
        self._all_sockets = []
        self._vars = {}         # name -> ContextVar
        self._dispatch = {name: getattr(self, '_op_' + name)
                          for name in OPERATIONS}

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
        try:
            main = self._new_loop('main')
            _quiet(asyncio.set_event_loop, main)
            try:
                contextvars.Context().run(self._run_block, self.scenario['program'])
            except BudgetExceeded as exc:
                self.world.record('budget_exceeded', limit=exc.limit)
            except InvalidScenarioAbort as exc:
                raise ScenarioError(exc.message) from None
            except OracleFault as exc:
                raise RuntimeError('oracle fault: ' + exc.message) from None
        finally:
            self._cleanup()
            _quiet(asyncio.set_event_loop, None)
            _quiet(asyncio.set_event_loop_policy, saved_policy)
        return self.world.events

    def _cleanup(self):
        """Close every loop still open, then every socket, silently."""
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
        name, args = self._parse(op)
        if name == 'raise' and in_callback:
            # The point of `raise`: the exception leaves the callback and meets the loop.
            self._dispatch[name](name, args)
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
            self.world.record('error', op=name, type=type(exc).__name__,
                              message=str(exc))

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

    def _callback(self, block):
        """The callable scheduled for a BLOCK.

        It accepts and ignores arguments: done callbacks receive the
        future.
        """
        if not isinstance(block, list):
            _fail('a block must be a list of operations, not %r' % (block,))

        def callback(*args):
            self.world.count_callback()
            self._run_block(block, in_callback=True)
        return callback

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
            _fail('%s: no %s named %r' % (op, kind, name))

    def _loop(self, op, args):
        name = args.get('loop')
        return self._lookup(self._loops, 'loop', op, 'main' if name is None else name)

    def _loop_name(self, loop):
        """The scenario's name for ``loop`` (the latest one given), or None."""
        for name, candidate in reversed(list(self._loops.items())):
            if candidate is loop:
                return name
        return None

    def _fd(self, op, args):
        return self._lookup(self._sockets, 'fd', op, args['fd'])

    def _new_loop(self, name):
        loop = VirtualEventLoop(self.world)
        loop.set_exception_handler(self._exception_handler)
        self._all_loops.append(loop)
        self._loops[name] = loop
        return loop

    @staticmethod
    def _exception_handler(loop, context):
        # An exception from a `raise` operation is expected here: it is the point of ORD-08, and
        # what the handler does with it is not traced in these areas. Anything else means an
        # operation failed in a way the interpreter did not catch (spec/README.md, "Errors").
        if getattr(context.get('exception'), '_aiospec_raised', False):
            return
        raise OracleFault('exception handler called: %s: %r'
                          % (context.get('message'), context.get('exception')))

    def _bind(self, op, args, handle):
        name = args.get('as')
        if name is not None:
            self._handles[self._name(op, 'as', name)] = handle

    # -- recording and the world -----------------------------------------------

    def _op_raise(self, op, args):
        exc_type = RAISABLE.get(args['type'])
        if exc_type is None:
            _fail('raise: unknown exception type %r' % (args['type'],))
        message = args.get('message')
        exc = exc_type() if message is None else exc_type(message)
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
        times = args['times']
        if isinstance(times, bool) or not isinstance(times, int) or times < 0:
            _fail('repeat: times must be an integer >= 0, not %r' % (times,))
        var = args.get('var')
        placeholder = '{%s}' % ('i' if var is None else self._name(op, 'var', var))
        body = args['do']
        for index in range(times):
            self._run_block(_substitute(body, placeholder, str(index)))

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
        self._bind(op, args, loop.call_soon(self._callback(args['do'])))

    def _op_call_soon_threadsafe(self, op, args):
        loop = self._loop(op, args)
        self._bind(op, args, loop.call_soon_threadsafe(self._callback(args['do'])))

    def _op_call_later(self, op, args):
        loop = self._loop(op, args)
        delay = _num(op, 'delay', args['delay'])
        self._bind(op, args, loop.call_later(delay, self._callback(args['do'])))

    def _op_call_at(self, op, args):
        loop = self._loop(op, args)
        when = _num(op, 'when', args['when'])
        self._bind(op, args, loop.call_at(when, self._callback(args['do'])))

    def _op_cancel(self, op, args):
        self._lookup(self._handles, 'handle', op, args['handle']).cancel()

    def _op_when(self, op, args):
        handle = self._lookup(self._handles, 'handle', op, args['handle'])
        self.world.record('when', handle=args['handle'], value=handle.when())

    # -- running and stopping --------------------------------------------------

    def _op_run_forever(self, op, args):
        self._loop(op, args).run_forever()

    def _op_run_until_complete(self, op, args):
        loop = self._loop(op, args)
        future = self._lookup(self._futures, 'future', op, args['future'])
        value = loop.run_until_complete(future)
        self.world.record('run_until_complete', value=value)

    def _op_stop(self, op, args):
        self._loop(op, args).stop()

    def _op_close(self, op, args):
        self._loop(op, args).close()

    def _op_is_running(self, op, args):
        self.world.record('is_running', value=self._loop(op, args).is_running())

    def _op_is_closed(self, op, args):
        self.world.record('is_closed', value=self._loop(op, args).is_closed())

    def _op_time(self, op, args):
        self.world.record('time', value=float(self._loop(op, args).time()))

    def _op_new_loop(self, op, args):
        self._new_loop(self._name(op, 'name', args['name']))

    def _op_get_running_loop(self, op, args):
        loop = asyncio.get_running_loop()
        self.world.record('get_running_loop', value=self._loop_name(loop))

    # -- futures -----------------------------------------------------------------

    def _op_new_future(self, op, args):
        name = self._name(op, 'name', args['name'])
        self._futures[name] = self._loop(op, args).create_future()

    def _op_set_result(self, op, args):
        value = args['value']
        if not (value is None or isinstance(value, (str, int, float, bool))):
            _fail('set_result: value must be a string, number, boolean or null')
        self._lookup(self._futures, 'future', op, args['future']).set_result(value)

    def _op_add_done_callback(self, op, args):
        future = self._lookup(self._futures, 'future', op, args['future'])
        future.add_done_callback(self._callback(args['do']))

    def _op_done(self, op, args):
        future = self._lookup(self._futures, 'future', op, args['future'])
        self.world.record('done', future=args['future'], value=future.done())

    def _op_result(self, op, args):
        future = self._lookup(self._futures, 'future', op, args['future'])
        self.world.record('result', future=args['future'], value=future.result())

    # -- I/O on socket pairs -----------------------------------------------------

    def _op_socketpair(self, op, args):
        names = args['names']
        if (not isinstance(names, list) or len(names) != 2
                or not all(isinstance(n, str) for n in names)):
            _fail('socketpair: names must be a list of two names')
        pair = socket.socketpair()
        for name, sock in zip(names, pair):
            sock.setblocking(False)
            self._all_sockets.append(sock)
            # The loop is given the fd number, as most programs do: after
            # close_fd the number still names the (closed) descriptor, where
            # a socket object would answer fileno() == -1.
            self._sockets[name] = (sock, sock.fileno())

    def _op_add_reader(self, op, args):
        _, fd = self._fd(op, args)
        self._loop(op, args).add_reader(fd, self._callback(args['do']))

    def _op_add_writer(self, op, args):
        _, fd = self._fd(op, args)
        self._loop(op, args).add_writer(fd, self._callback(args['do']))

    def _op_remove_reader(self, op, args):
        _, fd = self._fd(op, args)
        value = self._loop(op, args).remove_reader(fd)
        self.world.record('remove_reader', fd=args['fd'], value=value)

    def _op_remove_writer(self, op, args):
        _, fd = self._fd(op, args)
        value = self._loop(op, args).remove_writer(fd)
        self.world.record('remove_writer', fd=args['fd'], value=value)

    def _op_send(self, op, args):
        sock, _ = self._fd(op, args)
        data = args['data']
        if not isinstance(data, str):
            _fail('send: data must be a string')
        try:
            payload = data.encode('ascii')
        except UnicodeEncodeError:
            _fail('send: data must be ASCII text')
        sock.send(payload)

    def _op_recv(self, op, args):
        sock, _ = self._fd(op, args)
        size = args.get('size')
        if size is None:
            size = DEFAULT_RECV_SIZE
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            _fail('recv: size must be a positive integer')
        try:
            data = sock.recv(size).decode('ascii', 'backslashreplace')
        except BlockingIOError:
            data = None
        self.world.record('recv', fd=args['fd'], data=data)

    def _op_close_fd(self, op, args):
        sock, _ = self._fd(op, args)
        sock.close()

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
        loop = None if name is None else self._lookup(self._loops, 'loop', op, name)
        _quiet(asyncio.set_event_loop, loop)

    def _op_get_event_loop(self, op, args):
        loop = _quiet(asyncio.get_event_loop)
        self.world.record('get_event_loop', value=self._loop_name(loop))
