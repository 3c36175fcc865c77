"""JSON as strict parsers read it: srnet's reports and results files.

Python's ``json`` writes ``NaN`` and ``Infinity``, which are not JSON (jq,
JavaScript and most other readers refuse the file).  A figure that is not
finite (the R^2 of a constant target, the RMSE of a formula that overflows)
is written as ``null`` instead, and NumPy scalars and arrays as plain numbers
and lists.
"""

from __future__ import annotations

import json
import math

import numpy as np


def finite_or_none(value):
    """``value`` with every non-finite float replaced by None, NumPy scalars
    and arrays made plain, tuples made lists (in nested dicts and lists too)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    return value


def dumps(value, **kwargs) -> str:
    """``json.dumps`` of :func:`finite_or_none` (value): always valid JSON."""
    return json.dumps(finite_or_none(value), allow_nan=False, **kwargs)
