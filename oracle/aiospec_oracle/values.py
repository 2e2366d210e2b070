"""What both halves of the interpreter share: the exception classes the scenario language names,
argument conversion (VALUE, NUM), the scenario-error stop, and how a trace describes values and
exceptions (EXC)."""

import asyncio
import builtins
import math
import weakref

from . import ops
from .exceptions import InvalidScenarioAbort

# The exception classes the scenario language names (ops.EXCEPTION_TYPES): builtins, and
# asyncio's own for CancelledError, InvalidStateError and TimeoutError (asyncio.TimeoutError is
# builtins.TimeoutError from 3.11 on).  Read from the asyncio in use, so that the pure-Python
# asyncio of the loop host (host.py, --pure-python) gives its own classes.
_ASYNCIO_CLASSES = ('CancelledError', 'InvalidStateError', 'TimeoutError')


class _BaseExceptionGroup(BaseException):
    """BaseExceptionGroup before 3.11: matchable by name, raised by nothing."""


class _ExceptionGroup(_BaseExceptionGroup, Exception):
    """ExceptionGroup before 3.11: matchable by name, raised by nothing."""


_BEFORE_311 = {'BaseExceptionGroup': _BaseExceptionGroup, 'ExceptionGroup': _ExceptionGroup}
EXCEPTION_CLASSES = {name: getattr(asyncio if name in _ASYNCIO_CLASSES else builtins, name,
                                   None) or _BEFORE_311[name]
                     for name in ops.EXCEPTION_TYPES}
_GROUP = EXCEPTION_CLASSES['BaseExceptionGroup']

# What `raise` may throw and `set_exception` may set, by name.
RAISABLE = {name: EXCEPTION_CLASSES[name] for name in ops.RAISABLE}
SETTABLE = dict(RAISABLE, StopIteration=StopIteration)

# The kind of name each table holds, as messages write it.
HANDLE, FUTURE, LOOP, SOCKET = 'handle', 'future', 'loop', 'socket'
TIMEOUT, GROUP = ops.TIMEOUT, ops.GROUP

NUM_STRINGS = {'inf': math.inf, '-inf': -math.inf, 'nan': math.nan}


def _fail(message):
    """Stop the run: the scenario is malformed."""
    raise InvalidScenarioAbort(message)


def _value(op, key, value):
    """A VALUE argument: a string, number, boolean or null."""
    if not (value is None or isinstance(value, (str, int, float, bool))):
        _fail('%s: %s must be a string, number, boolean or null' % (op, key))
    return value


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


def _scalar(value):
    return value if value is None or isinstance(value, (bool, int, float, str)) else repr(value)


def describe(exc):
    """EXC, the trace's description of an exception (spec/TRACE.md, "Exceptions"):
    ``{"type", "args"}`` plus ``"context"`` / ``"cause"`` (type names, one level) when set; an
    exception group's ``args`` hold only its message, and ``exceptions`` its members, each
    described the same way."""
    out = {'type': type(exc).__name__}
    if isinstance(exc, _GROUP):
        out['args'] = [_scalar(exc.message)]
        out['exceptions'] = [describe(member) for member in exc.exceptions]
    else:
        out['args'] = [_scalar(a) for a in exc.args]
    if exc.__context__ is not None:
        out['context'] = type(exc.__context__).__name__
    if exc.__cause__ is not None:
        out['cause'] = type(exc.__cause__).__name__
    return out


def trace_value(value):
    """A value as a trace holds it: scalars as they are, lists (a gather's result) item by
    item, mappings (wait's {done, pending}) key by key, exceptions (gather with
    return_exceptions) as EXC, anything else as its repr."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [trace_value(v) for v in value]
    if isinstance(value, dict):
        return {k: trace_value(v) for k, v in value.items()}
    if isinstance(value, BaseException):
        return describe(value)
    return repr(value)


class Hold:
    """The run's reference to a scenario coroutine object, which the end of the run closes if it
    is still alive; calling it gives the coroutine, or None once collected.

    Strong, unless `weak_once_started` (where reports are traced): then it turns weak at the
    first `drop` after the coroutine has run. From then on its awaiter or its task holds it, so it
    lives as long as CPython keeps it (EXC-08): a task waiting inside a nested coroutine is
    collected with it once the scenario lets go of the task. A coroutine that never ran stays
    held to the end and is closed silently, not warned about as never awaited."""

    __slots__ = ('_strong', '_weak')

    def __init__(self, coro, weak_once_started=False):
        self._strong = coro
        self._weak = weakref.ref(coro) if weak_once_started else None

    def __call__(self):
        return self._strong if self._strong is not None else self._weak()

    def let_go_if_started(self):
        if self._weak is not None and self._strong is not None and self._strong.started:
            self._strong = None
