"""JSON as srnet writes and reads it: results files, reports and saved documents.

Python's ``json`` writes ``NaN`` and ``Infinity``, which are not JSON (jq,
JavaScript and most other readers refuse the file).  A figure that is not
finite (the R^2 of a constant target, the RMSE of a formula that overflows)
is written as ``null`` instead, and NumPy scalars and arrays as plain numbers
and lists.

Reading, srnet's documents (programs, formulas, activations) are checked
field by field: a corrupt or hand-edited file is one ValueError line naming
the field, never a traceback or a silently wrong value.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np


def finite_or_none(value):
    """``value`` with every non-finite float replaced by None, NumPy scalars
    and arrays made plain, tuples made lists (in nested dicts and lists too)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, np.generic):
        value = _plain_scalar(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):  # keys plain too (np.int64(1) was a TypeError; JSON writes keys as text)
        return {_key(k): finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    return value


def _plain_scalar(value: np.generic):
    if not isinstance(value, np.floating):
        return value.item()
    number = float(value)  # (longdouble's item() is itself)
    if math.isinf(number) and np.isfinite(value):  # a longdouble beyond float64 was written null without a word
        raise ValueError(f"{value!r} is finite but beyond float64's range: JSON would hold it as null")
    return number


def _key(key):
    key = _plain_scalar(key) if isinstance(key, np.generic) else key
    return str(key) if isinstance(key, float) and not math.isfinite(key) else key


def dumps(value, **kwargs) -> str:
    """``json.dumps`` of :func:`finite_or_none` (value): always valid JSON."""
    return json.dumps(finite_or_none(value), allow_nan=False, **kwargs)


# ------------------------------------------------------------------ reading documents

def check_document(data, format: str, version: int, what: str) -> None:
    """A one-line ValueError unless ``data`` is a dict saved as ``format`` at ``version``."""
    if not isinstance(data, dict) or data.get("format") != format:
        # another srnet document (a program given as an activation) is named as such, not as "missing"
        found = data.get("format") if isinstance(data, dict) else None
        which = f"missing 'format': '{format}'" if found is None else f"its 'format' is {shown(found)}, not '{format}'"
        raise ValueError(f"not an srnet {what} ({which})")
    found = data.get("version")
    if type(found) is not int or found != version:  # True and 1.0 equal 1, but no srnet wrote them
        raise ValueError(f"unsupported {what} format version {data.get('version')!r}")


def parse_json(text: str, what: str):
    """``json.loads``, with a one-line ValueError naming ``what`` for corrupt text."""
    if not isinstance(text, (str, bytes, bytearray)):  # a parsed document given as the text: json's TypeError
        raise TypeError(f"{what} JSON must be text, got {type(text).__name__}"
                        + (" (a parsed document: from_dict)" if isinstance(text, dict) else ""))
    try:
        return json.loads(text)
    except RecursionError:  # "[[[[..." nested past Python's stack
        raise ValueError(f"{what} JSON is corrupt: nested too deeply") from None
    except ValueError as error:  # JSONDecodeError, and integers past Python's digit limit
        raise ValueError(f"{what} JSON is corrupt: {' '.join(str(error).split())}") from None


def malformed(problem: str, document: str = "program") -> ValueError:
    """The one-line error of a document that parsed but does not hold what it must."""
    return ValueError(f"malformed srnet {document}: {problem}")


def shown(value, limit: int = 60) -> str:
    """``repr(value)`` on one line, cut to ``limit`` characters."""
    text = " ".join(repr(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def as_sequence(value, name: str, document: str = "program") -> list | tuple:
    if not isinstance(value, (list, tuple)):
        raise malformed(f"{name} must be a list, got {shown(value)}", document)
    return value


def as_integer(value, name: str, document: str = "program") -> int:
    """An int (or NumPy integer) as a Python int; a bool or a float is refused."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise malformed(f"{name} must be an integer, got {shown(value)}", document)
    return int(value)


def as_real(value, name: str, document: str = "program") -> float:
    """An int or float (or NumPy one) as a Python float; a bool or a string is refused."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise malformed(f"{name} must be a number, got {shown(value)}", document)
    try:
        return float(value)
    except OverflowError:
        raise malformed(f"{name} is too large for a float: {shown(value)}", document) from None


#: The name prefix of a file being written by :func:`atomic_write_text` (a leftover one is a killed write).
TEMPORARY_PREFIX = ".tmp-"


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically and durably (temp file, fsync, rename, fsync the folder)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f"{TEMPORARY_PREFIX}{path.name}.", dir=path.parent)
    try:
        os.fchmod(handle, 0o644)  # mkstemp's 0600 would hide results from the rest of a team
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
