"""Behaviour that differs between patch releases of one CPython minor version.

The expected traces of a minor version are pinned to the patch release that blessed them (their
``producer``: cpython-3.11.7, cpython-3.12.1, ...); an interpreter of another patch release of
that minor version differs from them where its asyncio changed in between: the Debian CPython the
build embeds (3.11.2, older), and the Pyodide builds that check the WebAssembly oracle against
the native traces (3.12.7, 3.13.2, newer). The checks that run such an interpreter against the
traces (oracle/tests/loops_host.py, the embedded oracle's test, `check --known-patch-differences`)
list these as known differences, from this one table; each names the CPython change.
"""

__all__ = ('PATCH_DIFFERENCES', 'differences')

# (first, last) patch releases affected, why, the scenario ids that show it.
PATCH_DIFFERENCES = (
    ((3, 11, 0), (3, 11, 2),
     'an expired timeout raises TimeoutError without a cause (timeouts.py gained '
     '`raise TimeoutError from exc_val` in 3.11.3)',
     ('cxl-0033', 'cxl-0035', 'cxl-0036', 'cxl-0038', 'cxl-0039', 'cxl-0040', 'cxl-0044',
      'cxl-0045')),
    ((3, 12, 2), (3, 12, 99),
     'Future.set_exception(StopIteration) stores a RuntimeError (its __cause__ the StopIteration) '
     'instead of raising TypeError (gh-112182, backported to 3.12.2)',
     ('fut-0011',)),
    ((3, 13, 2), (3, 13, 99),
     'TaskGroup.create_task always adds the done callback, also for an eager task already done '
     '(gh-128550/gh-128588, 3.13.2): the group waits for it one iteration',
     ('tsk-0039',)),
)


def differences(version, implementation='cpython'):
    """{scenario id: reason} for a CPython ``version`` (major, minor, micro)."""
    out = {}
    if implementation != 'cpython':
        return out
    version = tuple(version)[:3]
    for first, last, why, ids in PATCH_DIFFERENCES:
        if first <= version <= last:
            for sid in ids:
                span = ('%d.%d.%d and later' % first if last[2] >= 99
                        else '%d.%d.%d-%d.%d.%d' % (first + last))
                out[sid] = 'CPython %s: %s' % (span, why)
    return out
