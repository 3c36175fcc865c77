"""Feature names as unambiguous formula symbols.

A formula printed as text must read back one way: ``sepal-length * 2`` reads
as a subtraction, ``2x`` as a product, and a feature called ``sin``, ``E`` or
``I`` reads as sympy's sine, Euler's number or the imaginary unit.
:func:`feature_symbols` maps each name to a symbol that is a Python
identifier, is not a name sympy defines, is not a Python built-in (``min``, ``sum``), does not look like srnet's own
symbols (``h1_0``, ``f1_0``, ``y``, ``y0``, ``d``, ``F``) and is unique.  Names that
already qualify are kept as they are.
"""

from __future__ import annotations

import builtins
import keyword
import re

import sympy

#: srnet's own symbols: layer units, layer features, outputs, and the printed ``d = y1 - y0`` and ``F = ...``.
_OWN_SYMBOLS = re.compile(r"(h\d+_\d+|f\d+_\d+|y\d*|d|F)")


def _taken(name: str) -> bool:
    # Python's built-ins too: sympify reads max*min as the functions (a formula that does not read back)
    return (keyword.iskeyword(name) or hasattr(sympy, name) or hasattr(builtins, name)
            or bool(_OWN_SYMBOLS.fullmatch(name)))


def feature_symbols(names) -> list[str]:
    """One symbol name per feature name, in order (see the module docstring).

    ``sepal-length`` -> ``sepal_length``, ``petal width (cm)`` ->
    ``petal_width_cm``, ``2x`` -> ``x2x``, ``0`` -> ``x0``,
    ``sin`` -> ``sin_``, ``E`` -> ``E_``; an empty name becomes ``x{j}``.
    """
    symbols: list[str] = []
    used: set[str] = set()
    for j, name in enumerate(names):
        symbol = re.sub(r"\W+", "_", str(name), flags=re.ASCII).strip("_")
        if not symbol:
            symbol = f"x{j}"
        elif symbol[0].isdigit():
            symbol = f"x{symbol}"
        while _taken(symbol):
            symbol += "_"
        base, k = symbol, 2
        while symbol in used:
            symbol, k = f"{base}_{k}", k + 1
        used.add(symbol)
        symbols.append(symbol)
    return symbols


__all__ = ["feature_symbols"]
