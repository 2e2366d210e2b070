"""Loop factories for the host's tests (``--loop tests.host_factories:NAME``, PYTHONPATH=oracle).

Importing this module imports asyncio, so it is imported only by the host, after --pure-python
has done its work.
"""

import asyncio
import os
import sys
import time


def noisy(selector=None):
    """A SelectorEventLoop whose creation prints to stdout, through Python and through fd 1:
    the protocol stream must not see either."""
    print('noisy loop: print() to stdout')
    sys.stdout.flush()
    os.write(1, b'noisy loop: os.write(1)\n')
    return asyncio.SelectorEventLoop(selector)


def failing(selector=None):
    raise RuntimeError('this factory always fails')


class _RealtimeLoop(asyncio.SelectorEventLoop):
    def time(self):
        return time.time()       # CLOCK_REALTIME: not interposed


def realtime():
    """A loop whose clock is not the monotonic clock: interposition has no effect on it."""
    return _RealtimeLoop()


def checked_pure(selector=None):
    """Refuses to make a loop unless the C accelerator is blocked and Future is pure Python."""
    from asyncio import futures
    if sys.modules.get('_asyncio', 'missing') is not None:
        raise RuntimeError('_asyncio is not blocked')
    if asyncio.Future is not futures._PyFuture:
        raise RuntimeError('asyncio.Future is %r' % (asyncio.Future,))
    return asyncio.SelectorEventLoop(selector)
