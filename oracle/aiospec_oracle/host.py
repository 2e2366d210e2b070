"""The Python loop host: spec/PROTOCOL.md (``aiospec-host/1``) for any Python loop.

    python3 -m aiospec_oracle host --loop MODULE:FACTORY
        [--time auto|virtual|interposed|real] [--pure-python] [--scale F]

The oracle's interpreter runs every scenario it is sent, unchanged in meaning, on loops made by
``MODULE:FACTORY``; only the clock and the way loops are made differ, by time mode:

virtual
    For loops built on ``asyncio.BaseEventLoop`` with a selector (``asyncio:SelectorEventLoop``,
    with or without the C accelerator, on CPython or PyPy): exactly the oracle's mechanism.  The
    factory is called with a ``VirtualSelector``; the loop's ``time()`` reads the world's clock,
    ``_clock_resolution`` is pinned to 1e-9 and debug mode is off.
interposed
    The loop is used unmodified (``uvloop:new_event_loop``).  ``libaiospec_interpose.so``,
    preloaded, answers the monotonic clocks from its virtual clock and applies the oracle's wait
    rule inside epoll_wait/poll/select (conformance/interpose/README.md).  The world's clock
    reads and sets the library's clock (ns; reset to 0 for every scenario); the library asks the
    host, through hooks, for the next external event, to run the due ones, whether a move of the
    clock is within the time budget, and tells it when a wait would block forever.
    A hook runs inside the loop's wait, where nothing can be raised through the loop.  When the
    run must end (a budget, a malformed operation in an external block, a wait that would block
    forever) the hook schedules, through the loop's public thread-safe API
    (``call_soon_threadsafe``), a callback that raises an ``Abort`` (a ``SystemExit``, which
    every loop lets out of ``run_forever``: ORD-08), and returns; the library polls once more,
    finds the loop's wake-up descriptor ready and returns, and the loop runs that callback
    first: nothing else is ready (the wait was about to block) and the clock did not move.
    ``LoopBlocked`` is turned back into ``WouldBlockForever`` by the run operation, which
    records ``blocked`` as the oracle does.  Start-up checks that the library is preloaded and
    enabled, that ``time.monotonic()`` follows its clock and that a loop made by the factory
    reads it and waits through it (a ``call_later`` is reached without real time passing); if
    not: one line on stderr and exit 2, never a silent fallback to real time.
real
    The loop runs in real time, unmodified: every time of the scenario is multiplied by
    ``--scale`` (default 0.05) on the way in and divided back on the way out (``t``, ``time``,
    ``when``); ``burn`` sleeps; external events run at their real time from a timer thread; the
    time budget is enforced by that thread.  A wait that would block forever cannot be seen; a
    loop still running ``REAL_HORIZON`` real seconds after the last external event, with none
    pending, is recorded as ``blocked`` at that moment.  The declared exception to
    determinism (the harness compares ``t`` with a tolerance and runs each scenario N times).

Protocol details: requests are read from stdin, one JSON object a line; answers are written to a
duplicate of the original fd 1, and fd 1 itself is redirected to stderr, so that a loop or a
scenario that prints cannot corrupt the stream.  A host that cannot start writes one line on
stderr and exits 2.
"""

import argparse
import ctypes
import importlib
import json
import math
import os
import platform
import signal
import sys
import threading
import time

__all__ = ('main',)

PROG = 'python -m aiospec_oracle host'
PROTOCOL_VERSION = 1
MODES = ('auto', 'virtual', 'interposed', 'real')
DEFAULT_SCALE = 0.05

# spec/features.txt, relative to this package (oracle/aiospec_oracle/ -> spec/): the one list of
# features. A Python loop has asyncio's whole API, so the host claims every feature but those
# its time mode cannot give.
FEATURES_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), 'spec', 'features.txt')
EXCLUDED = {'virtual': (), 'interposed': ('select-trace',),
            'real': ('select-trace', 'exact-clock')}

# Real time: a loop still running this many real seconds after the last external event (or
# the start) while none is pending is taken to wait forever (``blocked``, at that time).
REAL_HORIZON = 10.0

NS = 1000000000
INT64_MAX = 2 ** 63 - 1


class StartError(Exception):
    """The host cannot start: one line on stderr, exit 2."""


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message):
        raise StartError(message)


def _one_line(text):
    return ' '.join(str(text).split())


def _features():
    try:
        with open(FEATURES_FILE, encoding='utf-8') as f:
            names = [line.split()[0] for line in f
                     if line.strip() and not line.lstrip().startswith('#')]
    except OSError as exc:
        raise StartError('cannot read the feature list %s: %s' % (FEATURES_FILE, exc.strerror)) from None
    return names


# -- the interposed clock ---------------------------------------------------------------------

def seconds_to_ns(seconds):
    """The smallest whole ns whose value in seconds (ns / 1e9) is >= ``seconds``: moving the
    library's clock there makes ``World.now >= seconds`` hold, so an external event at that
    time is due (round-to-nearest could stop one ulp short and the wait would never end)."""
    if math.isnan(seconds):
        raise ValueError('the virtual clock cannot move to NaN')
    if seconds <= 0:
        return 0
    if seconds >= INT64_MAX / NS:
        return INT64_MAX
    ns = int(math.ceil(seconds * NS))
    while ns / NS < seconds:
        ns += 1
    while ns > 0 and (ns - 1) / NS >= seconds:
        ns -= 1
    return ns


class _Hooks(ctypes.Structure):
    pass


_BEGIN = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
_NEXT = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(ctypes.c_int64))
_RUN = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
_ADVANCE = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int64)
_BLOCKED = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
_Hooks._fields_ = [('context', ctypes.c_void_p), ('begin_wait', _BEGIN), ('next_external', _NEXT),
                   ('run_externals', _RUN), ('advance', _ADVANCE), ('blocked', _BLOCKED)]


class Interposition:
    """The control API of the preloaded libaiospec_interpose.so (aiospec/interpose.h)."""

    def __init__(self):
        lib_path = os.environ.get('AIOSPEC_INTERPOSE_LIB', '')
        preload = os.environ.get('LD_PRELOAD', '')
        try:
            lib = ctypes.CDLL(None)
            lib.aiospec_interpose_api_version
        except (OSError, AttributeError):
            raise StartError('interposed time: libaiospec_interpose.so is not preloaded into '
                             'this process (LD_PRELOAD=%r, AIOSPEC_INTERPOSE_LIB=%r)'
                             % (preload, lib_path)) from None
        lib.aiospec_interpose_api_version.restype = ctypes.c_int
        lib.aiospec_interpose_enable.argtypes = [ctypes.c_int]
        lib.aiospec_interpose_enabled.restype = ctypes.c_int
        lib.aiospec_interpose_set_clock_ns.argtypes = [ctypes.c_int64]
        lib.aiospec_interpose_get_clock_ns.restype = ctypes.c_int64
        lib.aiospec_interpose_set_hooks.argtypes = [ctypes.POINTER(_Hooks)]
        lib.aiospec_interpose_wait_count.restype = ctypes.c_uint64
        lib.aiospec_interpose_clock_count.restype = ctypes.c_uint64
        version = lib.aiospec_interpose_api_version()
        if version != 1:
            raise StartError('interposed time: the preloaded library speaks control API %d, '
                             'not 1' % version)
        self.lib = lib
        self.state = None          # the _InterposedRun of the scenario running
        self._hooks = _Hooks(None, _BEGIN(self._begin_wait), _NEXT(self._next_external),
                             _RUN(self._run_externals), _ADVANCE(self._advance),
                             _BLOCKED(self._blocked))
        lib.aiospec_interpose_set_hooks(ctypes.byref(self._hooks))

    def enable(self, on):
        self.lib.aiospec_interpose_enable(1 if on else 0)
        if bool(self.lib.aiospec_interpose_enabled()) != bool(on):
            raise StartError('interposed time: the library does not take enable(%d)' % on)

    def set_ns(self, ns):
        self.lib.aiospec_interpose_set_clock_ns(ns)

    def get_ns(self):
        return self.lib.aiospec_interpose_get_clock_ns()

    def waits(self):
        return self.lib.aiospec_interpose_wait_count()

    # The hooks: never let an exception out into C (ctypes would print and ignore it).

    def _begin_wait(self, context):
        state = self.state
        if state is not None:
            state.begin_wait()

    def _next_external(self, context, at):
        state = self.state
        if state is None:
            return 0
        nxt = state.next_external()
        if nxt is None:
            return 0
        at[0] = nxt
        return 1

    def _run_externals(self, context):
        state = self.state
        if state is not None:
            state.run_externals()

    def _advance(self, context, to_ns):
        state = self.state
        return 0 if state is None else state.advance(to_ns)

    def _blocked(self, context):
        state = self.state
        if state is not None:
            state.blocked()


class InterposedClock:
    """The world's clock in interposed mode: the library's, in seconds (ns / 1e9).

    Scenario time is loop time here, as in the oracle: the three translations of a clock
    (virtual_time.VirtualClock, which this module cannot import before --pure-python has
    blocked _asyncio) are the identity.
    """

    def __init__(self, interposition):
        self._ip = interposition
        interposition.set_ns(0)

    @property
    def now(self):
        return self._ip.get_ns() / NS

    @now.setter
    def now(self, value):
        self._ip.set_ns(seconds_to_ns(value))

    loop_delay = loop_time = scenario_time = staticmethod(lambda value: value)


class _InterposedRun:
    """The host's side of the library's rule for one scenario (see the module docstring)."""

    def __init__(self, asyncio, exceptions):
        self.asyncio = asyncio
        self.exc = exceptions
        self.world = None
        self.pending = 0          # LoopBlocked callbacks scheduled and not run yet
        self.ended = None         # the Abort that ends the run, once there is one
        self.woken = set()        # the loops that were given it

    def _schedule(self, loop, exc, blocked):
        def raiser():
            if blocked:
                self.pending -= 1
            raise exc
        if blocked:
            self.pending += 1
        try:
            loop.call_soon_threadsafe(raiser)
        except BaseException:
            if blocked:
                self.pending -= 1

    def _abort(self, exc):
        """Make the loop waiting on this thread end its run_forever with ``exc``.

        ``LoopBlocked`` ends one run operation (it is recorded as ``blocked`` and the program
        goes on).  Any other Abort ends the program: from then on the hooks do nothing (no
        iteration counted, no external event, the clock refused), and every loop that waits
        again on the way out is given the same exception once: a loop may run its ready
        handles before it stops (uvloop does), and the exception may come out of a loop run on
        an external thread into the hook of the loop that ran that event.
        """
        if not isinstance(exc, self.exc.Abort):
            exc = self.exc.OracleFault('%s in a hook: %s' % (type(exc).__name__, exc))
        loop = self.asyncio._get_running_loop()
        if isinstance(exc, self.exc.LoopBlocked):
            if loop is not None and self.ended is None:
                self._schedule(loop, exc, True)
            return
        if self.ended is None:
            self.ended = exc
        if loop is not None and loop not in self.woken:
            self.woken.add(loop)
            self._schedule(loop, self.ended, False)

    def begin_wait(self):
        world = self.world
        if world is None or self.pending or self.ended is not None:
            return
        try:
            world.count_iteration()
            world.run_due_externals()
        except BaseException as exc:
            self._abort(exc)

    def next_external(self):
        world = self.world
        if world is None or self.pending or self.ended is not None:
            return None
        nxt = world.next_external()
        if nxt is None:
            return None
        try:
            return seconds_to_ns(nxt)
        except ValueError:
            return None

    def run_externals(self):
        world = self.world
        if world is None or self.ended is not None:
            return
        try:
            world.run_due_externals()
        except BaseException as exc:
            self._abort(exc)

    def advance(self, to_ns):
        world = self.world
        if world is None:
            return 0
        if self.ended is not None:
            self._abort(self.ended)      # wakes this loop if it was not given the end yet
            return 1
        if to_ns / NS > world.budget.time:
            self._abort(self.exc.BudgetExceeded('time'))
            return 1
        return 0

    def blocked(self):
        if self.world is None:
            return
        self._abort(self.ended if self.ended is not None else self.exc.LoopBlocked())


# -- the real clock --------------------------------------------------------------------------

class RealClock:
    """The world's clock in real mode: real seconds since the run began, divided by ``scale``.
    Setting it (``burn``) sleeps until then."""

    def __init__(self, scale):
        self.scale = scale
        self.origin = time.monotonic()

    @property
    def now(self):
        return (time.monotonic() - self.origin) / self.scale

    @now.setter
    def now(self, value):
        delay = self.origin + value * self.scale - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def loop_delay(self, delay):
        return delay * self.scale

    def loop_time(self, when):
        return self.origin + when * self.scale

    def scenario_time(self, value):
        return (value - self.origin) / self.scale


class _RealRun:
    """Real mode: external events at their real time and the time budget, from a timer
    thread that never touches a loop except through call_soon_threadsafe."""

    def __init__(self, asyncio, exceptions, clock):
        self.asyncio = asyncio
        self.exc = exceptions
        self.clock = clock
        self.world = None
        self.loops = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._timer, name='aiospec-real-timer', daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.done.set()
        self.thread.join()

    def _abort_all(self, exc):
        def raiser():
            raise exc
        woken = False
        for loop in list(self.loops):
            try:
                if loop.is_running():
                    loop.call_soon_threadsafe(raiser)
                    woken = True
            except BaseException:
                pass
        return woken

    def _timer(self):
        quiet_since = time.monotonic()
        while not self.done.is_set():
            world = self.world
            if world is None:
                self.done.wait(0.001)
                continue
            now = world.now
            if now > world.budget.time:
                self._abort_all(self.exc.BudgetExceeded('time'))
                return
            nxt = world.next_external()
            if nxt is not None and nxt <= now:
                try:
                    world.run_due_externals()
                except BaseException as exc:
                    self._abort_all(exc if isinstance(exc, self.exc.Abort)
                                    else self.exc.OracleFault(str(exc)))
                    return
                quiet_since = time.monotonic()
                continue
            if nxt is None and time.monotonic() - quiet_since >= REAL_HORIZON:
                # Nothing will ever happen from outside: take a loop still running after
                # REAL_HORIZON real seconds for one that would block forever.
                if self._abort_all(self.exc.LoopBlocked()):
                    quiet_since = time.monotonic()
            horizon = world.budget.time if nxt is None else min(nxt, world.budget.time)
            wait = max(0.0, (horizon - now) * self.clock.scale)
            self.done.wait(min(wait, 0.01))


# -- the host --------------------------------------------------------------------------------

class Host:
    def __init__(self, args, out):
        self.args = args
        self.out = out
        self.pure = args.pure_python
        if self.pure:
            if 'asyncio' in sys.modules:
                raise StartError('--pure-python: asyncio was imported before the accelerator '
                                 'could be blocked')
            sys.modules['_asyncio'] = None
        import asyncio
        from asyncio import futures, tasks
        if self.pure:
            if (futures.Future is not getattr(futures, '_PyFuture', None)
                    or asyncio.Future is not futures.Future
                    or tasks.Task is not getattr(tasks, '_PyTask', None)):
                raise StartError('--pure-python: asyncio.Future is not the pure-Python class '
                                 '(%r)' % (asyncio.Future,))
        from . import exceptions, interpreter, trace, virtual_time
        self.asyncio = asyncio
        self.exceptions = exceptions
        self.interpreter = interpreter
        self.trace = trace
        self.virtual_time = virtual_time
        self.factory, self.module = self._factory(args.loop)
        self.runtime = 'pypy' if platform.python_implementation() == 'PyPy' else 'cpython'
        self.interposition = None
        self.mode = self._mode(args.time)
        if self.mode == 'interposed':
            self.interposition = Interposition()
            self._probe_interposition()
        top = self.module.__name__.split('.')[0]
        if top == 'asyncio':
            self.name = self.runtime + '-asyncio' + ('-pure' if self.pure else '')
            self.version = platform.python_version()
        else:
            self.name = top + ('-pure' if self.pure else '')
            root = sys.modules.get(top, self.module)
            self.version = str(getattr(root, '__version__', getattr(self.module, '__version__',
                                                                    'unknown')))
        self.producer = '%s-%s' % (self.name, self.version)
        self.features = [f for f in _features() if f not in EXCLUDED[self.mode]]

    # -- start-up ------------------------------------------------------------------------

    @staticmethod
    def _factory(spec):
        module_name, sep, attr = spec.partition(':')
        if not sep or not module_name or not attr:
            raise StartError('--loop %r: expected MODULE:FACTORY' % spec)
        try:
            module = importlib.import_module(module_name)
        except BaseException as exc:
            raise StartError('--loop %s: cannot import %s: %s: %s'
                             % (spec, module_name, type(exc).__name__, _one_line(exc))) from None
        target = module
        try:
            for part in attr.split('.'):
                target = getattr(target, part)
        except AttributeError:
            raise StartError('--loop %s: %s has no attribute %r'
                             % (spec, module_name, attr)) from None
        if not callable(target):
            raise StartError('--loop %s: %s.%s is not callable' % (spec, module_name, attr))
        return target, module

    def _virtual_capable(self):
        """Does the factory take a selector and give a selector BaseEventLoop on it?"""
        vt = self.virtual_time
        selector = vt.VirtualSelector(vt.World())
        try:
            loop = self.factory(selector)
        except TypeError:
            selector.close()
            return False, 'the factory takes no selector'
        except BaseException as exc:
            selector.close()
            raise StartError('--loop %s: the factory failed: %s: %s'
                             % (self.args.loop, type(exc).__name__, _one_line(exc))) from None
        try:
            ok = (isinstance(loop, self.asyncio.BaseEventLoop)
                  and getattr(loop, '_selector', None) is selector)
        finally:
            try:
                loop.close()
            except BaseException:
                pass
        return ok, None if ok else 'the loop is not a selector BaseEventLoop on that selector'

    def _mode(self, requested):
        if requested == 'virtual':
            ok, why = self._virtual_capable()
            if not ok:
                raise StartError('--time virtual: %s cannot run on the virtual selector (%s)'
                                 % (self.args.loop, why))
            return 'virtual'
        if requested == 'auto':
            ok, _ = self._virtual_capable()
            return 'virtual' if ok else 'interposed'
        return requested

    def _new_raw_loop(self):
        try:
            return self.factory()
        except BaseException as exc:
            raise StartError('--loop %s: the factory failed: %s: %s'
                             % (self.args.loop, type(exc).__name__, _one_line(exc))) from None

    def _probe_interposition(self):
        """Interposition must really work for this loop, or the host refuses to start."""
        ip = self.interposition
        saved_ns = ip.get_ns()
        ip.enable(True)
        loop = None
        watchdog = _Watchdog()
        try:
            ip.set_ns(1234500000000)
            if time.monotonic() != 1234.5:
                raise StartError('interposed time: time.monotonic() does not follow the '
                                 'library\'s clock (%r, not 1234.5): the clock is read without '
                                 'clock_gettime (static libc, raw syscall or vDSO only)'
                                 % time.monotonic())
            ip.set_ns(100 * NS)
            loop = self._new_raw_loop()
            loop.set_debug(False)
            ip.set_ns(200 * NS)
            now = loop.time()
            if not 199.99 <= now <= 200.0:
                raise StartError('interposed time: %s: loop.time() does not follow the '
                                 'library\'s clock (%r, not 200.0)' % (self.args.loop, now))
            waits = ip.waits()
            started = time.time()
            loop.call_later(7.25, loop.stop)
            watchdog.arm(3.0)
            try:
                loop.run_forever()
            except _Watchdog.Fired:
                raise StartError('interposed time: %s: a call_later(7.25) took more than 3 real '
                                 'seconds: the loop does not wait through the library'
                                 % self.args.loop) from None
            finally:
                watchdog.disarm()
            elapsed = time.time() - started
            now = loop.time()
            if ip.waits() == waits or not 207.25 <= now < 207.3 or elapsed > 2.0:
                raise StartError('interposed time: %s: the loop does not wait through the '
                                 'library (waits %d -> %d, loop.time() %r after call_later(7.25) '
                                 'at 200.0, %.3f real seconds)'
                                 % (self.args.loop, waits, ip.waits(), now, elapsed))
        finally:
            if loop is not None:
                try:
                    loop.close()
                except BaseException:
                    pass
            ip.enable(False)
            ip.set_ns(saved_ns)

    def handshake(self):
        return {'version': PROTOCOL_VERSION, 'implementation': {
            'name': self.name, 'version': self.version, 'language': 'python',
            'language_version': platform.python_version(), 'runtime': self.runtime,
            'time': self.mode, 'features': self.features, 'versioned': False,
            'producer': self.producer}}

    # -- loops -----------------------------------------------------------------------------

    def _virtual_loop(self, world):
        selector = self.virtual_time.VirtualSelector(world)
        loop = self.factory(selector)
        loop.time = lambda: world.now       # what VirtualEventLoop.time() does
        loop._clock_resolution = 1e-9
        loop.set_debug(False)
        selector.attach(loop)
        return loop

    def _plain_loop(self, world):
        loop = self.factory()
        loop.set_debug(False)
        return loop

    # -- running -----------------------------------------------------------------------------

    def run(self, scenario):
        """The events of one run of ``scenario``."""
        interp = self.interpreter
        if self.mode == 'virtual':
            return interp.Interpreter(scenario, self._virtual_loop).run()
        if self.mode == 'interposed':
            ip = self.interposition
            state = _InterposedRun(self.asyncio, self.exceptions)
            clock = InterposedClock(ip)

            def new_loop(world):
                state.world = world
                return self._plain_loop(world)
            runner = interp.Interpreter(scenario, new_loop, clock)
            state.world = runner.world
            ip.state = state
            ip.enable(True)
            try:
                return runner.run()
            finally:
                ip.enable(False)
                ip.state = None
        clock = RealClock(self.args.scale)
        state = _RealRun(self.asyncio, self.exceptions, clock)

        def real_loop(world):
            loop = self._plain_loop(world)
            if not state.loops:
                # Scenario time 0 is when the main loop exists: nothing can happen before, and
                # making a loop takes a good part of a millisecond (0.015 s at scale 0.05).
                clock.origin = time.monotonic()
            state.loops.append(loop)
            return loop
        runner = interp.Interpreter(scenario, real_loop, clock)
        state.world = runner.world
        state.start()
        try:
            return runner.run()
        finally:
            state.stop()

    def answer(self, request):
        """The answer (a JSON text) to one request, or None for stop."""
        if not isinstance(request, dict):
            return self._errored(None, 'failed', 'a request must be a JSON object')
        cmd = request.get('cmd')
        seq = request.get('seq')
        if cmd == 'start':
            if request.get('version') != PROTOCOL_VERSION:
                return self._errored(seq, 'failed', 'protocol version %r: this host speaks %d'
                                     % (request.get('version'), PROTOCOL_VERSION))
            return json.dumps(self.handshake())
        if cmd == 'stop':
            return None
        if cmd != 'run':
            return self._errored(seq, 'failed', 'unknown command %r' % (cmd,))
        scenario = request.get('scenario')
        if not isinstance(scenario, dict):
            return self._errored(seq, 'invalid_scenario', 'run: scenario must be an object')
        features = scenario.get('features')
        if isinstance(features, list):
            missing = [f for f in features if f not in self.features]
            if missing:
                return self._line(seq, 'skipped', {'reason': 'needs feature(s) %s in %s time'
                                                   % (', '.join(map(str, missing)), self.mode)})
        try:
            events = self.run(scenario)
        except self.exceptions.ScenarioError as exc:
            return self._errored(seq, 'invalid_scenario', _one_line(exc))
        except BaseException as exc:
            return self._errored(seq, 'failed', '%s: %s' % (type(exc).__name__, _one_line(exc)))
        render = self.trace.render_event
        return '{"seq": %s, "trace": {"producer": %s, "events": [%s]}}' % (
            json.dumps(seq), json.dumps(self.producer), ', '.join(render(e) for e in events))

    @staticmethod
    def _line(seq, key, value):
        return json.dumps({'seq': seq, key: value})

    def _errored(self, seq, kind, message):
        return self._line(seq, 'errored', {'kind': kind, 'message': message})

    def serve(self, stdin):
        for raw in stdin:
            line = raw.strip()
            if not line:
                continue
            try:
                request = json.loads(line)
            except ValueError as exc:
                text = self._errored(None, 'failed', 'request is not JSON: %s' % _one_line(exc))
            else:
                text = self.answer(request)
                if text is None:
                    return 0
            self.out.write(text + '\n')
            self.out.flush()
        return 0


class _Watchdog:
    """A real-time alarm (SIGALRM, main thread) for the start-up probe only."""

    class Fired(BaseException):
        pass

    def __init__(self):
        self.saved = None

    def arm(self, seconds):
        if threading.current_thread() is not threading.main_thread():
            return

        def fire(signum, frame):
            raise _Watchdog.Fired()
        self.saved = signal.signal(signal.SIGALRM, fire)
        signal.setitimer(signal.ITIMER_REAL, seconds)

    def disarm(self):
        if self.saved is None:
            return
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.saved)
        self.saved = None


def _protect_stdout():
    """The protocol's stream: a duplicate of fd 1; fd 1 (and sys.stdout) then go to stderr."""
    sys.stdout.flush()
    fd = os.dup(1)
    os.dup2(2, 1)
    out = os.fdopen(fd, 'w', encoding='utf-8', newline='\n')
    sys.stdout = sys.stderr
    return out


def _parser():
    parser = _ArgumentParser(prog=PROG, description='The loop host of spec/PROTOCOL.md.')
    parser.add_argument('--loop', required=True, metavar='MODULE:FACTORY')
    parser.add_argument('--time', choices=MODES, default='auto')
    parser.add_argument('--pure-python', action='store_true')
    parser.add_argument('--scale', type=float, default=DEFAULT_SCALE)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = _parser().parse_args(argv)
        if not (args.scale > 0 and math.isfinite(args.scale)):
            raise StartError('--scale must be a positive number, not %r' % args.scale)
        out = _protect_stdout()
        host = Host(args, out)
    except StartError as exc:
        print('%s: %s' % (PROG, _one_line(exc)), file=sys.stderr)
        return 2
    except SystemExit:
        raise
    except BaseException as exc:
        print('%s: cannot start: %s: %s' % (PROG, type(exc).__name__, _one_line(exc)),
              file=sys.stderr)
        return 2
    try:
        return host.serve(sys.stdin)
    except KeyboardInterrupt:
        return 0
    finally:
        try:
            out.flush()
        except (OSError, ValueError):
            pass
