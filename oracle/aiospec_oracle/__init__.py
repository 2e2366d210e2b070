"""aiospec_oracle: CPython's asyncio event loop as the judge of aiospec.

A scenario (spec/README.md) runs on the real ``asyncio.SelectorEventLoop``
with a virtual clock; what happens is recorded as a trace (spec/TRACE.md)
that other loops must reproduce.  Standard library only; CPython 3.8-3.13.
"""

from .api import run_scenario, run_scenario_json
from .exceptions import ScenarioError
from .trace import render_trace, scenario_sha256

__all__ = ('run_scenario', 'run_scenario_json', 'render_trace',
           'scenario_sha256', 'ScenarioError')
