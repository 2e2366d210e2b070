"""Behaviour that differs between patch releases of one CPython minor version.

The expected traces of a minor version are blessed with the newest patch release this project's
machines have (3.11.7, ...); an interpreter of an older patch release of that minor version (the
Debian CPython the build embeds is 3.11.2) differs from them where its asyncio changed later.
The checks that run such an interpreter against the traces (oracle/tests/loops_host.py, the
embedded oracle's test) list these as known differences, from this one table.
"""

__all__ = ('PATCH_DIFFERENCES', 'differences')

# (first, last) patch releases affected, why, the scenario ids that show it.
PATCH_DIFFERENCES = (
    ((3, 11, 0), (3, 11, 2),
     'an expired timeout raises TimeoutError without a cause (timeouts.py gained '
     '`raise TimeoutError from exc_val` in 3.11.3)',
     ('cxl-0033', 'cxl-0035', 'cxl-0036', 'cxl-0038', 'cxl-0039', 'cxl-0040', 'cxl-0044',
      'cxl-0045')),
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
                out[sid] = 'CPython %d.%d.%d-%d.%d.%d: %s' % (first + last + (why,))
    return out
