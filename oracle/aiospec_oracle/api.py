"""The oracle's entry points for other programs.

The C++ conformance library embeds CPython and calls ``run_scenario_json``;
Python callers use ``run_scenario``.  Both take a canonical scenario (the
loader's output, spec/README.md) and run it once.
"""

import json

from .interpreter import run_program
from .trace import make_trace, render_trace

__all__ = ('run_scenario', 'run_scenario_json')


def run_scenario(scenario):
    """Run a canonical scenario (a dict) once; return its trace as a dict.

    The trace has the header fields of spec/TRACE.md and ``events``, a
    list of event dicts.  Raises ``ScenarioError`` if the scenario is
    malformed.
    """
    return make_trace(scenario, run_program(scenario))


def run_scenario_json(text):
    """Run a canonical scenario given as JSON text; return the text of its
    trace file (rendered as spec/TRACE.md says, trailing newline included).
    """
    return render_trace(run_scenario(json.loads(text)))
