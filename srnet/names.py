"""Feature names as unambiguous formula symbols.

A formula printed as text must read back one way: ``sepal-length * 2`` reads
as a subtraction, ``2x`` as a product, and a feature called ``sin``, ``E`` or
``I`` reads as sympy's sine, Euler's number or the imaginary unit.
:func:`feature_symbols` maps each name to a symbol that is a Python
identifier (letters of any script: ``β`` stays ``β``), is not a name sympy
defines, is not a Python built-in (``min``, ``sum``), does not look like
srnet's own symbols (``h1_0``, ``f1_0``, ``y``, ``y0``, ``d``, ``F``) and is
unique.  Names that already qualify are kept as they are.
"""

from __future__ import annotations

import builtins
import keyword
import re
import unicodedata

import sympy

from srnet.jsonio import shown

#: srnet's own symbols: layer units, layer features, outputs, and the printed ``d = y1 - y0`` and ``F = ...``.
_OWN_SYMBOLS = re.compile(r"(h\d+_\d+|f\d+_\d+|y\d*|d|F)")


def _taken(name: str) -> bool:
    # Python's built-ins too: sympify reads max*min as the functions (a formula that does not read back)
    return (keyword.iskeyword(name) or hasattr(sympy, name) or hasattr(builtins, name)
            or bool(_OWN_SYMBOLS.fullmatch(name)))


def _identifier(symbol: str) -> str:
    return f"x{symbol}" if symbol and symbol[0].isdigit() else symbol


def name_list(names) -> list[str] | None:
    """``names`` (one per input) as a list of text, or None; a TypeError for one text: ``"ab"`` named two
    inputs ``a`` and ``b``."""
    if names is None:
        return None
    if isinstance(names, (str, bytes)):
        raise TypeError(f"feature_names must be a list of names, one per input; got the text {names!r}")
    return _distinct([str(name) for name in names], "feature_names")


def _distinct(names: list[str], what: str) -> list[str]:
    """``names``, refused in one line when two are equal: the formula reads them ``a`` and ``a_2`` and nothing
    says which column is which (``feature_symbols_``, name -> symbol, kept one of them)."""
    seen: dict[str, int] = {}
    for j, name in enumerate(names):
        if name in seen:
            raise ValueError(f"{what} must be distinct: {name!r} names inputs {seen[name]} and {j}")
        seen[name] = j
    return names


def frame_columns(X):
    """A DataFrame's column names when all are text (they name the inputs, as scikit-learn reads them), None
    for an array or a numbered frame; a frame mixing text and other names is refused in one line (scikit-learn's
    own refusal is a paragraph)."""
    columns = getattr(X, "columns", None)
    if columns is None:
        return None
    text = [isinstance(c, str) for c in columns]
    if any(text) and not all(text):
        raise ValueError("X's columns mix text and other names (e.g. 'a' and 1); name every column with "
                         "text (X.columns = X.columns.astype(str)), or none")
    if not all(text):
        return None  # numbered: x0, x1, ... as for an array
    _distinct(list(columns), "X's columns")
    return columns


def feature_symbols(names) -> list[str]:
    """One symbol name per feature name, in order (see the module docstring).

    ``sepal-length`` -> ``sepal_length``, ``petal width (cm)`` ->
    ``petal_width_cm``, ``2x`` -> ``x2x``, ``0`` -> ``x0``,
    ``sin`` -> ``sin_``, ``E`` -> ``E_``; an empty name becomes ``x{j}``.
    A renamed feature never takes a name another feature has: ``["a b",
    "a_b"]`` -> ``["a_b_2", "a_b"]`` (the column ``a_b`` read as ``a b``).
    """
    names = [str(name) for name in names]
    candidates = [_candidate(name, j) for j, name in enumerate(names)]
    # the names that qualify as they are keep them (the first of equal names), whatever comes before them
    kept = {name: j for j, name in reversed(list(enumerate(names))) if candidates[j] == name}
    used = set(kept)
    symbols: list[str] = []
    for j, (name, symbol) in enumerate(zip(names, candidates)):
        if kept.get(name) == j:
            symbols.append(name)
            continue
        base, k = symbol, 2
        while symbol in used:
            symbol, k = f"{base}_{k}", k + 1
            if _taken(symbol):  # h1, h1 -> h1, h1_2 was srnet's own unit 2 of layer 1: h1_2_
                symbol += "_"
        used.add(symbol)
        symbols.append(symbol)
    return symbols


def _candidate(name: str, j: int) -> str:
    """``name`` as an identifier that is not taken (before uniqueness)."""
    # letters of any script stay (a column "β" reads as β, not x1); NFKC as Python reads identifiers
    symbol = _identifier(re.sub(r"\W+", "_", unicodedata.normalize("NFKC", name)).strip("_"))
    if symbol and not symbol.isidentifier():  # a character Python takes in no name
        symbol = _identifier(re.sub(r"\W+", "_", name, flags=re.ASCII).strip("_"))
    if not symbol:
        symbol = f"x{j}"
    while _taken(symbol):
        symbol += "_"
    return symbol


def unused_name(name: str, taken: set) -> str:
    """``name``, with trailing underscores until it is unlike every name in ``taken``, which it then joins: the
    names srnet gives its own symbols beside the inputs' (z_year, u1)."""
    while name in taken:
        name += "_"
    taken.add(name)
    return name


def label_text(label) -> str:
    """A class label as text: 1, not 1.0 (a whole number, as a CSV's float column holds it), True and setosa as
    they are.  One way for ``--classes`` (which names labels so), the lines that list a target's labels and
    :func:`class_name`."""
    import numbers

    whole = isinstance(label, numbers.Real) and not isinstance(label, bool) and float(label).is_integer()
    return str(int(label) if whole else label).strip()


def class_name(label) -> str:
    """A class label as printed, "class 1" (a whole number, 1.0 or 1) or "class setosa": one way for the
    explanation's lines and its decision map's legend (which read "1.0 (output 0)" beside "class 1")."""
    return f"class {label_text(label)}"


def check_columns(columns, expected, whose: str, fix: str | None = None) -> None:
    """A DataFrame's ``columns`` must be ``expected`` (when both are known),
    in that order: formulas and networks read inputs by position."""
    if columns is None or expected is None:
        return
    columns, expected = [str(c) for c in columns], [str(n) for n in expected]
    if columns != expected:
        same = sorted(columns) == sorted(expected)
        fix = fix or ("reorder them" if same else "pass the same features")
        raise ValueError(f"X's columns {'are in another order than' if same else 'differ from'} {whose} "
                         f"({shown(expected)}); {fix}")


def input_names(X, model) -> list[str] | None:
    """The inputs' names: a DataFrame's text columns (checked against a scikit-learn model's
    ``feature_names_in_``, order included), else the model's; None when neither names them.  One check for
    ``SRNet.fit``, the explainers and ``compare`` (MAPLE explained a frame in another column order in silence
    where SRNet refused it)."""
    columns = frame_columns(X)
    expected = getattr(model, "feature_names_in_", None)
    check_columns(columns, expected, "the features the model was fitted on", "pass X[model.feature_names_in_]")
    names = columns if columns is not None else expected
    return None if names is None else [str(name) for name in names]


__all__ = ["check_columns", "class_name", "feature_symbols", "input_names", "name_list"]
