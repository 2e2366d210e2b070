"""The event loop under observation: CPython's own, on a virtual clock."""

import asyncio

from . import platform
from .virtual_time import VirtualSelector

__all__ = ('VirtualEventLoop', 'virtual_loop')


class VirtualEventLoop(asyncio.SelectorEventLoop):
    """``asyncio.SelectorEventLoop`` reading the world's virtual clock.

    Only ``time()`` is overridden.  ``_run_once``, the timer heap, stop,
    close and I/O dispatch are inherited untouched: they are what the
    oracle observes.  Two settings are pinned after ``__init__`` so that
    the host does not leak into the trace:

    * ``_clock_resolution = 1e-9`` (the Linux monotonic resolution), since
      "expired" means ``when < time() + _clock_resolution`` (ORD-07);
    * debug mode off, whatever PYTHONASYNCIODEBUG or ``-X dev`` say, since
      debug mode adds thread checks and slow-callback logging.

    Where the interpreter has no sockets (CPython for WebAssembly), the
    selector delegates to ``platform.MemorySelector`` instead of the real
    one, and the self-pipe is its in-memory pair: ``_make_self_pipe`` is
    CPython's own, on that pair.
    """

    def __init__(self, world):
        self._world = world
        selector = VirtualSelector(world, None if platform.NATIVE else platform.MemorySelector())
        super().__init__(selector)
        self._clock_resolution = 1e-9
        self.set_debug(False)
        selector.attach(self)

    def _make_self_pipe(self):
        if platform.NATIVE:
            return super()._make_self_pipe()
        # BaseSelectorEventLoop._make_self_pipe, on the in-memory pair.
        self._ssock, self._csock = self._selector.inner.self_pipe()
        self._ssock.setblocking(False)
        self._csock.setblocking(False)
        self._internal_fds += 1
        self._add_reader(self._ssock.fileno(), self._read_from_self)

    def time(self):
        return self._world.now


def virtual_loop(world):
    """The oracle's ``new_loop``: a ``VirtualEventLoop`` on ``world``."""
    return VirtualEventLoop(world)
