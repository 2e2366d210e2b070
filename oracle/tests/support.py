"""Helpers shared by the oracle's tests."""

import json
import os
import sys

from aiospec_oracle import run_scenario
from aiospec_oracle.trace import render_event, scenario_sha256

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data')
EXPECTED = os.path.join(DATA, 'expected')
ORACLE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

def pure_python_future():
    """Whether asyncio.Future is the pure-Python class (PyPy, or CPython without _asyncio): its
    InvalidStateError messages differ from the C Future's, which the traces were blessed with."""
    import asyncio
    from asyncio import futures
    return asyncio.Future is getattr(futures, '_PyFuture', None)


# Operations that coroutine tests build programs from.
def task(body, name='t'):
    return {'create_task': {'as': name, 'do': body}}


def until(name):
    return {'run_until_complete': {'future': name}}


def raise_(kind, message=None):
    args = {'type': kind}
    if message is not None:
        args['message'] = message
    return {'raise': args}


# Fixtures that end in budget_exceeded: never blessed, checked in code.
BUDGET_FIXTURES = ('budget-callbacks', 'budget-iterations', 'budget-time')


def data_names():
    """The fixture scenarios under data/, by file name without .json."""
    return sorted(name[:-5] for name in os.listdir(DATA) if name.endswith('.json'))


def load(name):
    with open(os.path.join(DATA, name + '.json'), encoding='utf-8') as f:
        return json.load(f)


def scenario(program, features=(), **extra):
    """A canonical scenario around ``program``."""
    s = {'id': 'tst-0001', 'title': 'test', 'clauses': ['ORD-01'],
         'features': list(features), 'level': 'cpython'}
    s.update(extra)
    s['program'] = program
    return s


def events(program, features=(), **extra):
    """Run ``program``; return its events as rendered lines."""
    trace = run_scenario(scenario(program, features, **extra))
    return [render_event(e) for e in trace['events']]


def record(label):
    return {'record': {'label': label}}


STOP = {'stop': {}}


def bundle(names_or_scenarios):
    """A bundle (dict) of fixtures (by name) or of scenario dicts."""
    entries = []
    for item in names_or_scenarios:
        s = load(item) if isinstance(item, str) else item
        area = {'ord': 'ordering', 'tmr': 'timers', 'lif': 'lifecycle',
                'io': 'io'}.get(s['id'].split('-')[0], 'other')
        path = 'spec/%s/%s.yaml' % (area, item if isinstance(item, str) else s['id'])
        entries.append({'path': path, 'area': area,
                        'sha256': scenario_sha256(s), 'scenario': s})
    return {'format': 'aiospec-bundle/1', 'scenarios': entries}


def golden_names():
    return [n for n in data_names() if n not in BUDGET_FIXTURES]


def version():
    return sys.version_info[:2]
