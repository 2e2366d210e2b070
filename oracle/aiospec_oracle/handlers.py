"""Exception handlers, the asyncio log and debug mode: issue 8's half of the interpreter.

``Handlers`` is a mixin of ``interpreter.Interpreter`` (like coroutines.Coroutines): the
operations of features exception-handler, debug and callback-checks, `drop`, and the two
observations these areas add to a trace (spec/TRACE.md):

* ``handler``: one event per call of a handler the scenario installed (`record` or `raise`);
* ``log``: one event per record of the logger ``asyncio`` (feature log-trace), captured by
  ``LogCapture`` for the length of the run.

Messages are normalised (reprs.py) before they are recorded.  A scenario that lists
exception-handler or log-trace runs its loops with CPython's default handler (the interpreter's
fault net, which refuses anything but a scenario `raise` reaching a handler, is not installed),
with the garbage collector off but for `drop`, so that every report happens where CPython's
refcounting or a `drop` makes it happen (EXC-08).
"""

import gc
import logging
import sys
import warnings

from . import ops
from .reprs import normalise
from .values import HANDLE, RAISABLE, _fail, describe, Hold

__all__ = ('Handlers', 'LogCapture', 'Callback')

# Logged at DEBUG by every selector loop's constructor, naming the host's selector class
# (EpollSelector, KqueueSelector): not the loop's behaviour (DBG-07), never traced.
_SELECTOR_LOG = 'Using selector: '


class Callback:
    """What a scenario's block is scheduled as: a callable object whose ``__qualname__`` is the
    name asyncio shows for it (``Exception in callback h()``, ``<Handle h()>``): the `as` name of
    the handle, or ``callback``.  An object rather than a function, so that asyncio finds no
    source file and shows no `` at file:line`` after it."""

    __slots__ = ('__qualname__', '_run')

    def __init__(self, name, run):
        self.__qualname__ = name
        self._run = run

    def __call__(self, *args):
        self._run()

    def __repr__(self):
        return '<callback %s>' % self.__qualname__


class LogCapture(logging.Handler):
    """Every record of logger ``asyncio`` as a ``log`` event (``record=False``: swallowed, so
    that a scenario listing exception-handler alone keeps stderr quiet).  ``install`` sets the
    logger to DEBUG without propagation; ``remove`` restores it."""

    def __init__(self, world, record):
        super().__init__(logging.DEBUG)
        self.world = world
        self.recording = record
        self._logger = logging.getLogger('asyncio')
        self._saved = None

    def install(self):
        logger = self._logger
        self._saved = (logger.level, logger.propagate, logger.disabled)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        logger.disabled = False
        logger.addHandler(self)

    def remove(self):
        logger = self._logger
        logger.removeHandler(self)
        logger.level, logger.propagate, logger.disabled = self._saved

    def emit(self, record):
        if not self.recording:
            return
        message = record.getMessage()
        if record.levelno == logging.DEBUG and message.startswith(_SELECTOR_LOG):
            return
        exc = record.exc_info[1] if record.exc_info else None
        self.world.record('log', level=record.levelname, message=normalise(message),
                          exception=None if exc is None else describe(exc))


async def _coro():
    """What call_soon's `object: coroutine` schedules (a coroutine object) and
    `object: coroutine-function` (the function)."""

_coro.__qualname__ = _coro.__name__ = 'coro'


class Handlers:
    """The operations of exception handlers and debug mode (a mixin: see the module doc)."""

    def _reports_traced(self):
        """Does this scenario observe reports (then the loops keep CPython's default handler)?"""
        return bool(self.features & {'exception-handler', 'log-trace'})

    def _start_reports(self):
        """Called when the run starts: the garbage collector off, the asyncio log captured."""
        self._gc_was_enabled = gc.isenabled()
        gc.disable()
        self._installed = {}        # id(handler callable) -> (callable, policy)
        self._log = None
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        if 'callback-checks' in self.features:
            # `object: coroutine-function` run outside debug mode makes a coroutine nobody
            # awaits: CPython's RuntimeWarning says so on stderr, which is not the trace.
            warnings.filterwarnings('ignore', "coroutine 'coro' was never awaited",
                                    RuntimeWarning)
        if 'warning-trace' not in self.features:
            # A task dropped before its first step, then freed with its loop's ready queue: its
            # coroutine never ran, and CPython says so on stderr, which is not the trace either.
            warnings.filterwarnings('ignore', "coroutine 'Coroutines._coroutine' was never awaited",
                                    RuntimeWarning)
        if self._reports_traced():
            self._log = LogCapture(self.world, 'log-trace' in self.features)
            self._log.install()

    def _end_reports(self):
        """Called when the run is over (nothing is recorded any more): what the end of the run
        releases is collected now, while the capture still swallows what it logs."""
        for loop in self._all_loops:
            loop.set_exception_handler(_silent)
        try:
            gc.collect()
        finally:
            if self._log is not None:
                self._log.remove()
            if self._warnings is not None:
                self._warnings.__exit__(None, None, None)
            if self._gc_was_enabled:
                gc.enable()

    # -- exception handlers ----------------------------------------------------------

    def _handler_policy(self, op, args):
        policy = args['handler']
        if policy not in ops.HANDLER_POLICIES:
            _fail("%s: handler must be 'record', 'raise' or null, not %r" % (op, policy))
        if policy != 'raise' and ('type' in args or 'message' in args):
            _fail('%s: type and message go with handler: raise' % op)
        if policy != 'record' and 'var' in args:
            _fail('%s: var goes with handler: record' % op)
        return policy

    def _op_set_exception_handler(self, op, args):
        loop = self._loop(op, args)
        policy = self._handler_policy(op, args)
        if policy is None:
            loop.set_exception_handler(None)
            return
        if policy == 'raise':
            spec = {'type': args.get('type', 'RuntimeError'),
                    'message': args.get('message', 'handler failed')}
            self._exception_arg(op, spec)       # checked now, made anew at every call
        world = self.world
        seen = {}
        if 'var' in args:
            if 'handler-context' not in self.features:
                _fail("%s: var needs feature 'handler-context' in the scenario" % op)
            var = self._var(op, args)

        def handler(loop, context):
            message = context.get('message')
            exc = context.get('exception')
            if 'var' in args:
                seen['contextvar'] = var.get(None)      # in the context the handler runs in
            world.record('handler', message=None if message is None else normalise(message),
                         keys=sorted(context),
                         exception=None if exc is None else describe(exc), **seen)
            if policy == 'raise':
                raise self._exception_arg(op, spec)
        self._installed[id(handler)] = (handler, policy)
        loop.set_exception_handler(handler)

    def _op_get_exception_handler(self, op, args):
        handler = self._loop(op, args).get_exception_handler()
        if handler is None:
            value = None
        else:
            entry = self._installed.get(id(handler))
            if entry is None or entry[0] is not handler:
                _fail('get_exception_handler: the loop returned a handler the scenario did '
                      'not install: %r' % (handler,))
            value = entry[1]
        self.world.record('get_exception_handler', value=value)

    def _context(self, op, args):
        """The context dict of call_exception_handler / default_exception_handler, keys in the
        order of spec/README.md: message, exception, future, task, handle, then `keys` sorted by
        name."""
        context = {}
        if 'message' in args:
            if not isinstance(args['message'], str):
                _fail('%s: message must be a string' % op)
            context['message'] = args['message']
        if 'exception' in args:
            spec = args['exception']
            if not isinstance(spec, dict) or 'type' not in spec \
                    or not set(spec) <= {'type', 'message'}:
                _fail('%s: exception must be {type, message?}' % op)
            context['exception'] = self._exception_arg(op, spec, RAISABLE)
        for key in ('future', 'task'):
            if key in args:
                context[key] = self._future_arg(op, key, args[key])
        if 'handle' in args:
            context['handle'] = self._lookup(self._handles, HANDLE, op, args['handle'])
        keys = args.get('keys', {})
        if not isinstance(keys, dict):
            _fail('%s: keys must be a mapping of names to strings' % op)
        for key in sorted(keys):
            if key in ops.CONTEXT_ARGS or not isinstance(keys[key], str):
                _fail('%s: keys: %r is not an extra key with a string value' % (op, key))
            context[key] = keys[key]
        return context

    def _op_call_exception_handler(self, op, args):
        self._loop(op, args).call_exception_handler(self._context(op, args))

    def _op_default_exception_handler(self, op, args):
        self._loop(op, args).default_exception_handler(self._context(op, args))

    def _op_drop(self, op, args):
        """Forget the future or task: its name, the keep-alive list, a task's coroutine (which
        the end of the run would close), and, where reports are traced, every coroutine that has
        run (values.Hold); then collect the garbage."""
        given = [key for key in ('future', 'task') if key in args]
        if len(given) != 1:
            _fail('drop: exactly one of future and task')
        name = args[given[0]]
        self._future_arg(op, given[0], name)
        future = self._futures.pop(name)
        self._kept[:] = [kept for kept in self._kept if kept is not future]
        get_coro = getattr(future, 'get_coro', None)
        if get_coro is not None:
            coro = get_coro()
            self._coroutines[:] = [c for c in self._coroutines if c() is not coro]
            del coro
        del future, get_coro
        for hold in self._coroutines:
            hold.let_go_if_started()
        gc.collect()

    def _future_arg(self, op, key, name):
        """The future (key 'future') or task (key 'task') a name argument names; messages name
        the kind by the argument, as the C++ interpreter's do."""
        future = self._lookup(self._futures, key, op, name)
        if key == 'task' and not hasattr(future, 'get_coro'):     # any loop's Task class
            _fail("%s: '%s' is not a task" % (op, name))
        return future

    # -- debug mode ----------------------------------------------------------------

    def _op_set_debug(self, op, args):
        enabled = args['enabled']
        if not isinstance(enabled, bool):
            _fail('set_debug: enabled must be true or false')
        self._loop(op, args).set_debug(enabled)

    def _op_get_debug(self, op, args):
        self.world.record('get_debug', value=self._loop(op, args).get_debug())

    def _op_coroutine_origin_depth(self, op, args):
        # DBG-06: a debug loop sets it to 10 while it runs and restores it after.
        self.world.record('coroutine_origin_depth', value=sys.get_coroutine_origin_tracking_depth())

    def _op_slow_callback_duration(self, op, args):
        seconds = args['seconds']
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            _fail('slow_callback_duration: seconds must be a number >= 0')
        self._loop(op, args).slow_callback_duration = float(seconds)

    def _callback_object(self, op, value):
        """call_soon's `object` (feature callback-checks): what it schedules instead of a block.
        A coroutine object is closed at the end of the run, like the scenario's own."""
        if 'callback-checks' not in self.features:
            _fail("%s: object needs feature 'callback-checks' in the scenario" % op)
        if value == 'coroutine':
            coro = _coro()
            self._coroutines.append(Hold(coro))
            return coro
        if value == 'coroutine-function':
            return _coro
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        _fail("%s: object must be 'coroutine', 'coroutine-function' or a number, not %r"
              % (op, value))


def _silent(loop, context):
    """The handler of every loop once the run is over: nothing is judged any more."""
