"""Exceptions of the oracle.

Two families:

* ``ScenarioError`` is an ordinary exception: the scenario itself is wrong
  (unknown operation, missing argument, name never defined).  It reaches the
  caller of ``run_scenario``; no trace is produced.

* ``Abort`` and its subclasses end a run from wherever they are raised.  They
  derive from ``SystemExit`` on purpose: ``asyncio.events.Handle._run`` hands
  every other ``BaseException`` raised by a callback to the loop's exception
  handler and carries on with the batch, and ``call_exception_handler``
  re-raises only ``SystemExit`` and ``KeyboardInterrupt``.  A budget exceeded
  inside a scenario callback must stop the loop, not be logged, so it has to
  look like ``SystemExit`` to CPython.  The interpreter catches them at the
  top of the program; they never leave the package.

``WouldBlockForever`` is raised only by ``VirtualSelector.select``, which is
called by ``_run_once`` outside any handle, so it propagates out of
``run_forever`` whatever its base class; it is an ordinary ``Exception`` so
that nothing needs special care to let it through.
"""

__all__ = (
    'ScenarioError',
    'WouldBlockForever',
    'Abort',
    'BudgetExceeded',
    'InvalidScenarioAbort',
    'OracleFault',
    'OracleFailure',
    'LoopBlocked',
    'Return',
)


class ScenarioError(Exception):
    """The scenario is malformed; it cannot be run."""


class WouldBlockForever(Exception):
    """A loop waited in its selector with nothing ready, no timer and no
    pending external event: a real loop would hang here."""

    def __init__(self):
        super().__init__('the loop would block forever')


class Abort(SystemExit):
    """End the run now, through run_forever and the ready queue (see the
    module docstring for why this is a SystemExit)."""


class BudgetExceeded(Abort):
    """The scenario went past one of its budgets.

    ``limit`` is the name of that budget: 'iterations', 'callbacks',
    'time', 'operations' or 'events'.
    """

    def __init__(self, limit):
        super().__init__('budget exceeded: %s' % limit)
        self.limit = limit


class InvalidScenarioAbort(Abort):
    """A ScenarioError found while the program runs, possibly deep inside a
    callback; turned back into a ScenarioError at the top."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class OracleFault(Abort):
    """Something reached a loop's exception handler.  Scenario callbacks
    catch everything they raise, so this is a bug in the oracle and the run
    must not produce a trace."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class OracleFailure(RuntimeError):
    """What the caller of the interpreter sees of an ``OracleFault``: the
    run failed in the oracle itself (no trace; ``run`` exits 3).  A
    RuntimeError, so that callers catching that keep working."""


class LoopBlocked(Abort):
    """Raised out of ``run_forever`` by a callback a host schedules when the
    loop's wait would block forever and the wait itself cannot raise
    (interposed time: the wait is a system call, host.py).  The run
    operations turn it into ``WouldBlockForever``.  The oracle never raises
    it."""

    def __init__(self):
        super().__init__('the loop would block forever')


class Return(BaseException):
    """The scenario's `return` inside a coroutine body: unwinds the body (its `finally` blocks
    run) up to the coroutine, which returns ``value``.  A BaseException that is neither an
    Exception nor an Abort, so that `except` never matches it (interpreter.py)."""

    def __init__(self, value):
        super().__init__()
        self.value = value
