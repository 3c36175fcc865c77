"""The coordinates SRNet searches its inputs in, and formulas put back in the inputs' own units.

Why: the engine's primitives and constant pool suit inputs of unit scale.  An input in the tens (an age,
[20, 80]) or thousands made ``sin(z0)*z1 + 0.5*z0**2`` a 1673-node formula of raw ``x0`` where the same network
on standardised inputs gave the 12-node law itself.  So an input that leaves [-10, 10], or whose spread is
under :data:`SMALL_SPREAD`, is searched as ``(x - centre) / scale``, its mean and standard deviation to three
significant digits (each left at 0 and 1 where it is near them: :data:`NEAR_UNIT`).  That is the
standardisation a network most often applies to its inputs, so the network's own law reads in short constants
(a power of ten for the scale left ``sin(0.578*z0)`` to find, and the search did not).  The other inputs are
searched as they are.

Every formula is written in the inputs' own units: :func:`in_input_units` puts the map into a formula's first
program as its first steps, so the formula, its JSON and its torch module read raw inputs.  Only what a person
reads of an input whose centre lies far from 0 for its spread (a Unix time) is written in its search coordinate
``z_t`` instead, defined beside the formula (:func:`written_standardised`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from srnet.cgp.primitives import primitive
from srnet.expr.program import Program
from srnet.formulas import Formula
from srnet.names import unused_name

#: An input whose values all lie within this bound is searched as it is (unless its spread is small).
UNIT_BOUND = 10.0
#: An input whose standard deviation is below this (and not 0) is rescaled.
SMALL_SPREAD = 0.05
#: A spread below this share of an input's largest value is float rounding, not a spread.
NOISE = 1e-12
#: An input moved keeps its scale where its standard deviation lies in this range, and its centre where its
#: mean is within one standard deviation of 0 (a standardised input with outliers beyond 10 stays as it is).
NEAR_UNIT = (0.5, 2.0)


#: An input whose centre lies this many of its scales from 0, or more, is printed as its search coordinate: in its
#: own units each constant beside it needs that many times the digits' precision (a Unix time t searched as
#: (t - 1700011000)/102000 printed 9.80392e-6*t - 16666.7745 where z_t reads z_t).
FAR_OFFSET = 100.0


@dataclass(frozen=True)
class InputMap:
    """Inputs searched as ``(x - centre) / scale``, column by column (centre 0 and scale 1: as they are)."""

    centre: np.ndarray
    scale: np.ndarray

    @property
    def moved(self) -> list[int]:
        """The columns the map changes."""
        return [j for j in range(len(self.centre)) if self.centre[j] != 0 or self.scale[j] != 1]

    @property
    def factor(self) -> np.ndarray:
        """``1 / scale``: the map multiplies by it (srnet's protected division returns 1 for a divisor of 1e-10
        or less, and an input of spread 1e-11 came back as a constant)."""
        return 1.0 / self.scale

    def apply(self, X) -> np.ndarray:
        """X (n_samples, n_features) in search coordinates: the very operations the formulas' first steps run."""
        X = np.asarray(X, dtype=np.float64)
        return (X - self.centre) * self.factor

    def to_dict(self) -> dict:
        return {"centre": [float(c) for c in self.centre], "scale": [float(s) for s in self.scale]}


def search_coordinates(X) -> InputMap | None:
    """The map of X's columns to search coordinates; None where every column is searched as it is."""
    X = np.asarray(X, dtype=np.float64)
    peak = np.max(np.abs(X), axis=0, initial=0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        spread, means = X.std(axis=0), X.mean(axis=0)
    huge = ~(np.isfinite(spread) & np.isfinite(means))  # 1e160 squared overflows: measured in units of the peak
    if huge.any():
        unit = peak[huge]
        spread[huge], means[huge] = (X[:, huge] / unit).std(axis=0) * unit, (X[:, huge] / unit).mean(axis=0) * unit
    # a constant column's float mean can be an ulp off, and its spread 1e-17 of rounding: no spread (it was taken
    # for a small one and divided out, reading 7e10 at 0.1 + 1e-6)
    spread[spread <= NOISE * peak] = 0.0
    centre, scale = np.zeros(X.shape[1]), np.ones(X.shape[1])
    for j in range(X.shape[1]):
        far = peak[j] > UNIT_BOUND
        if not far and not 0 < spread[j] < SMALL_SPREAD:
            continue
        mean = float(means[j])
        # near unit spread, or near zero: left so (a standardised input with outliers beyond 10 is no news)
        scale[j] = float(f"{spread[j]:.3g}") if spread[j] > 0 and not NEAR_UNIT[0] <= spread[j] <= NEAR_UNIT[1] else 1.0
        # the mean to three significant digits of the spread (1001.5 of spread 0.88, not 1000)
        decimals = 2 - int(np.floor(np.log10(spread[j]))) if spread[j] > 0 else 6 - int(np.floor(np.log10(abs(mean))))
        centre[j] = float(np.round(mean, decimals)) if abs(mean) > spread[j] else 0.0
    mapped = InputMap(centre, scale)
    return mapped if mapped.moved else None


def in_search_coordinates(X, mapping: InputMap | None) -> np.ndarray:
    """Rows of X's units in the coordinates the inputs were searched in (X itself where none moved)."""
    return X if mapping is None else mapping.apply(X)


def in_input_units(program: Program, mapping: InputMap | None) -> Program:
    """``program`` (reading search coordinates) as a program of the raw inputs: each moved input's
    ``(x - centre) * (1 / scale)`` computed by steps of its own before the program's, its constants after the
    program's own (so the program's addresses of inputs, constants and steps shift, and nothing else)."""
    if mapping is None:
        return program
    n, own = program.n_inputs, len(program.constants)
    moved = mapping.moved
    constants = list(program.constants)
    steps: list[tuple[str, int, int]] = []
    first_step = n + own + 2 * len(moved)  # the address of the first step
    address = list(range(n))  # where each input's search coordinate is
    for j in moved:
        constants += [float(mapping.centre[j]), float(mapping.factor[j])]
        centre_at, factor_at = n + len(constants) - 2, n + len(constants) - 1
        steps.append(("sub", j, centre_at))
        steps.append(("mul", first_step + len(steps) - 1, factor_at))
        address[j] = first_step + len(steps) - 1
    shift = 2 * len(moved) + len(steps)  # the program's own steps come after the new constants and steps

    def moved_address(a: int) -> int:
        return address[a] if a < n else a if a < n + own else a + shift

    for name, a, b in program.steps:
        steps.append((name, moved_address(a), moved_address(b) if primitive(name).arity == 2 else b))
    return Program(n, tuple(constants), tuple(steps), tuple(moved_address(o) for o in program.outputs),
                   program.weights, program.intercept)


def formula_in_input_units(formula: Formula, mapping: InputMap | None) -> Formula:
    """``formula`` (reading search coordinates) as a formula of the raw inputs (:func:`in_input_units`)."""
    if mapping is None:
        return formula
    return Formula(formula.source, (in_input_units(formula.programs[0], mapping),) + tuple(formula.programs[1:]))


def written_standardised(mapping: InputMap | None, symbols) -> dict:
    """The inputs a person reads in their search coordinate (centre at least :data:`FAR_OFFSET` scales from 0):
    input symbol -> (``z_<name>``, centre, scale), each z a real symbol no input has; empty when there are none."""
    if mapping is None:
        return {}
    taken = {symbol.name for symbol in symbols}
    written = {}
    for j in mapping.moved:
        centre, scale = float(mapping.centre[j]), float(mapping.scale[j])
        if abs(centre) < FAR_OFFSET * scale:
            continue
        written[symbols[j]] = (sympy.Symbol(z_name(symbols[j].name, taken), real=True), centre, scale)
    return written


def z_name(name: str, taken: set) -> str:
    """The name of input ``name``'s search coordinate, ``z_<name>``, made unlike every name in ``taken`` (with
    trailing underscores, :func:`srnet.names.unused_name`), which it joins."""
    return unused_name(f"z_{name}", taken)


def written_definitions(written: dict) -> dict[str, str]:
    """Each z of :func:`written_standardised` by name, with its definition as a person reads it
    (``{"z_t": "(t - 1700011000)/102000"}``): the ``standardised_symbols_`` printed beside the formulas."""
    return {z.name: map_text(x, centre, scale) for x, (z, centre, scale) in written.items()}


def map_text(symbol, centre: float, scale: float) -> str:
    """How an input was searched, as a person writes it: "(age - 51.8)/17.7", "(t + 3000)", "x/0.002"."""
    # the centre with every digit it has (1700000159.2 of a spread of 88.5 read 1.7e+09, 1.8 spreads off)
    shifted = str(symbol) if centre == 0 else \
        f"({symbol} {'-' if centre > 0 else '+'} {np.format_float_positional(abs(centre), trim='-')})"
    return shifted if scale == 1 else f"{shifted}/{scale:g}"
