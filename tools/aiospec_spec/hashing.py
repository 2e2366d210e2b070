"""scenario_sha256: one definition for the whole project, owned by the oracle.

The oracle writes the hash into every trace header and lint compares it, so both must use the
same function: it is imported from oracle/aiospec_oracle/trace.py (PYTHONPATH=tools:oracle).
The fallback below (same formula as TRACE.md) only exists for when the oracle package is not
on the path; tests check that the two agree whenever both are importable.
"""

import hashlib
import json


def _fallback_scenario_sha256(canonical):
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


try:
    from aiospec_oracle.trace import scenario_sha256  # noqa: F401
    SOURCE = "aiospec_oracle.trace"
except ImportError:
    scenario_sha256 = _fallback_scenario_sha256
    SOURCE = "fallback"
