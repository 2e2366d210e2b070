"""aiospec_oracle: CPython's asyncio event loop as the judge of aiospec.

A scenario (spec/README.md) runs on the real ``asyncio.SelectorEventLoop``
with a virtual clock; what happens is recorded as a trace (spec/TRACE.md)
that other loops must reproduce.  Standard library only; CPython 3.8-3.13.

Importing the package imports nothing of asyncio: the names below are
loaded on first use (PEP 562), so that ``python -m aiospec_oracle host
--pure-python`` can block the C accelerator before asyncio is imported.
"""

import importlib

__all__ = ('run_scenario', 'run_scenario_json', 'render_trace',
           'scenario_sha256', 'ScenarioError')

_LAZY = {
    'run_scenario': 'api',
    'run_scenario_json': 'api',
    'ScenarioError': 'exceptions',
    'render_trace': 'trace',
    'scenario_sha256': 'trace',
}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError('module %r has no attribute %r' % (__name__, name))
    value = getattr(importlib.import_module('.' + module, __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + list(__all__))
