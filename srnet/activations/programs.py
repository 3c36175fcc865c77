"""One-variable programs as activation candidates: check, collapse, simplify, scale.

Helpers shared by every route to an activation:

* :func:`collapse_inputs` (and :func:`collapse_variables` for sympy):
  substitute one variable x for every input (the formula's shape along the
  diagonal x_1 = ... = x_d = x becomes the activation);
* :func:`check_activation`: reject constant, non-finite or singular formulas
  (:class:`DegenerateActivationError`, never replaced by the identity);
* :func:`simplify_program`: drop what collapsing leaves behind (x - x, ...),
  keeping the function's values;
* :func:`standardise_program`: rescale a formula to zero mean and unit
  standard deviation under a standard normal input (the usual scale of a
  pre-activation), by changing its output map only.
"""

from __future__ import annotations

import math

import numpy as np
import sympy
import torch

from srnet.activations.from_sympy import program_from_sympy
from srnet.cgp.primitives import primitive
from srnet.expr.program import Program
from srnet.expr.symbolic import RESIDUE_POINTS, FormulaTooLarge, round_constants, round_faithfully, to_sympy
from srnet.expr.torch_module import ProgramModule

#: Range on which formulas are checked by default (standardised pre-activations
#: rarely leave it).
CHECK_RANGE = (-5.0, 5.0)
_CHECK_POINTS = 2001  # coarse grid of the check; it is refined _REFINE-fold
_REFINE = 8
#: Offsets (in steps) of the three grids the singular-slope check reads: a third of a step apart, off round numbers
_GRID_OFFSETS = (1 / math.pi, 1 / math.pi + 1 / 3, 1 / math.pi + 2 / 3)
_SPECIAL_POINTS = (0.0, 1e-12, -1e-12)
#: How many times a suspected jump is zoomed into, each time _REFINE-fold finer (8**400: from any range float64
#: holds down to its resolution), and the points of each zoom on either side of it.
_MAX_ZOOMS = 400
_ZOOM_POINTS = 64
#: A steep stretch of the check's grid narrower than this share of its range is zoomed into for waves that pile
#: up without end (sin(1/x)), :data:`_WAVE_ZOOMS` times, each _REFINE-fold narrower, and judged so when every zoom
#: shows :data:`_PILED_EXTREMES` local extremes or more.
_LOCAL_SHARE = 0.25
#: Steep points of the check's grid further apart than this share of its range belong to two stretches.
_STRETCH_GAP = 0.03
_WAVE_ZOOMS = 6
_PILED_EXTREMES = 8
_FLOAT32_MAX = float(np.finfo(np.float32).max)

VARIABLE = sympy.Symbol("x", real=True)


class DegenerateActivationError(ValueError):
    """A formula that cannot serve as an activation (constant, not finite, singular)."""


# ----------------------------------------------------------------- helpers

#: A formula that writes out to more nodes than this is named by its size (see :func:`formula_text`).
MAX_PRINTED_NODES = 2000


def written_nodes(program: Program) -> int:
    """The nodes of the formula written out as a tree: a step read by several others is written once per
    read, so a program of shared sub-expressions doubles every few steps (counted here in one pass)."""
    size = [1] * (program.n_inputs + len(program.constants))
    for name, a, b in program.steps:
        size.append(1 + size[a] + (size[b] if primitive(name).arity == 2 else 0))
    return sum(size[address] for address in program.outputs)


def too_large_to_print(program: Program) -> str | None:
    """What stands for ``program``'s formula when it writes out past MAX_PRINTED_NODES; None if it does not."""
    nodes = written_nodes(program)
    if nodes > MAX_PRINTED_NODES:
        # (a chain of 1990 squarings has a 600-digit count: its order of magnitude reads as well)
        count = f"{nodes:,}" if nodes < 10**12 else f"about 10^{len(str(nodes)) - 1}"
        return f"<a formula of {len(program.steps)} steps, {count} nodes written out: too large to print>"
    return None


#: Where in each of its equal parts of the range :func:`formula_text` checks a rounding (a share of the part,
#: 1 - 1/golden ratio: off the round numbers a pole or a zero sits on).
OFF_GRID = 0.381966


def formula_text(program: Program, digits: int = 4, *, plain_floats: bool = False, span=None) -> str:
    """The formula in ``x``, constants at ``digits`` significant digits (with ``span``, a range (low, high):
    more where those move the formula there, and without terms too small to move it, as srnet's explanations
    print theirs, :func:`~srnet.expr.symbolic.round_faithfully`); a formula too large to read
    (written out past MAX_PRINTED_NODES: 48 steps of shared sub-expressions printed 0.9 MB in 17 s, in repr,
    save and every error message) or nested too deeply for sympy's printer (about 200 steps: a RecursionError)
    is named by its size instead.  ``plain_floats``: every float at ``digits`` digits, whole or not
    (3.0*x*sin(x)), as activation files written before their formulas were read as srnet's others print;
    loading still recognises that text as the file's own."""
    large = too_large_to_print(program)
    if large is not None:
        return large
    try:
        expr = to_sympy(program, (VARIABLE,))[0]
        if plain_floats:
            return str(expr.xreplace({f: sympy.Float(float(f), digits) for f in expr.atoms(sympy.Float)}))
        # read as srnet's formulas are: 3.0*x*sin(x) is 3*x*sin(x), 0.5*x is x/2 (round_constants)
        if span is None:
            return str(round_constants(expr, digits))
        # as many points as it reads, off round numbers (a pole at 1/3 on a grid point printed 1.23456/(x -
        # 0.333333333333333), no rounding faithful beside the value there); quiet where the formula overflows
        low, high = span
        points = low + (high - low) * (np.arange(RESIDUE_POINTS) + OFF_GRID) / RESIDUE_POINTS
        with np.errstate(all="ignore"):
            return str(round_faithfully(expr, digits, {VARIABLE.name: points}))
    except RecursionError:  # sympy's printer
        return f"<a formula of {len(program.steps)} steps, nested too deeply to print>"
    except FormulaTooLarge as error:  # building the formula: nested too deeply, or of too high a degree
        return f"<a formula of {len(program.steps)} steps: {error}>"


def merge_outputs(program: Program) -> Program:
    """``program`` with each output address listed once, its weights summed, and outputs of weight 0 left out
    (a constant if all are): the same function, and one that every path computes alike (the fused derivative
    summed w1 * slope + w2 * slope, NaN where the slope overflowed and autograd's (w1 + w2) * slope was inf;
    an output of weight 0 that overflows adds nothing, as in :meth:`srnet.expr.program.Program.combine`)."""
    merged: dict[int, np.ndarray] = {}
    for address, row in zip(program.outputs, program.weights):
        merged[address] = merged[address] + row if address in merged else np.array(row, dtype=np.float64)
    kept = {address: row for address, row in merged.items() if np.any(row != 0)}
    if not kept:  # a constant: its intercept, read from a constant 0 (0 * an output that overflows was NaN)
        return Program(program.n_inputs, (0.0,), (), (program.n_inputs,), np.zeros_like(program.weights[:1]),
                       program.intercept)
    if tuple(kept) == tuple(program.outputs):
        return program
    return Program(program.n_inputs, program.constants, program.steps, tuple(kept), np.array(list(kept.values())),
                   program.intercept)


def check_one_variable(program: Program) -> None:
    if isinstance(program, sympy.Basic):  # ExpressionActivation(sympy.sin(x)): "got sin"
        raise TypeError(f"expected an srnet.expr.Program, got the sympy expression {program}; build it with "
                        f"ExpressionActivation.from_sympy")
    if not isinstance(program, Program):
        raise TypeError(f"expected an srnet.expr.Program, got {type(program).__name__}")
    if program.n_inputs != 1:
        raise ValueError(f"the program has {program.n_inputs} inputs, but an activation is a function of one "
                         "variable; substitute x for every input with srnet.activations.collapse_inputs(program)")
    if program.n_targets != 1:
        raise ValueError(f"the program has {program.n_targets} targets; an activation needs exactly one "
                         "(collapse_inputs(program, output=j) keeps raw output j)")


def check_range_bounds(value, name: str = "check_range") -> tuple[float, float]:
    """``(low, high)`` of a range (the parameter ``name``), or one line saying what it must be."""
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        low = high = math.nan
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"{name} must be two finite numbers (low, high) with low < high, or None; "
                         f"got {value!r}")
    if not math.isfinite(high - low):  # (-1e308, 1e308): its grid was NaN, and the formula was blamed
        raise ValueError(f"{name} {value!r} is wider than float64 holds (high - low overflows)")
    return low, high


def check_activation(program: Program, value_range=CHECK_RANGE) -> None:
    """Raise :class:`DegenerateActivationError` unless ``program`` (one input,
    one target) is a usable activation on ``value_range``.

    The formula is evaluated (NumPy, the engine's semantics) on 16001 evenly
    spaced points of the range plus 0 and +-1e-12 (where the protections
    fire).  Rejected: a value that is not finite or beyond float32, or not
    finite when computed in float32 (``x**60/(x**60 + 1)``: a step overflows
    there); a constant; a pole, a jump or a wildly singular slope inside the
    range (``1/(x + 0.5)``, ``tan(x)``, ``x/|x|``): its steepest secant grows
    more than 4-fold when the step shrinks 8-fold, to over 100 times its
    typical slope, on each of three grids a third of a step apart, and
    keeps growing when zoomed into (a smooth bend a wide range's grid cannot
    resolve settles: tanh on [-1e6, 1e6] passes).  Such a formula is not
    finite, or not trainable, there even when no grid point falls on the
    singular point itself.  Mild singular slopes pass, wherever
    they lie (``sqrt|x|``; ``log|x|``, whose slope grows as 1/|x| and which
    the protection bounds below by log(1e-10)), but not waves that pile up
    without end (``sin(1/x)``, ``x*sin(1/x)``: :func:`_waves_pile_up`; ``sin(log|x|)``, on a log scale:
    :func:`_waves_on_log_scale`).
    """
    check_one_variable(program)
    low, high = check_range_bounds(value_range, "value_range")
    grid = np.linspace(low, high, (_CHECK_POINTS - 1) * _REFINE + 1)
    x, g = _check_finite(program, grid, low, high)
    span = f"[{low:g}, {high:g}]"
    spread = float(np.std(g))
    if not spread > 1e-9 * max(1.0, float(np.abs(g).mean())):
        raise DegenerateActivationError(
            f"the formula g(x) = {formula_text(program)} is constant on {span} (std {spread:.3g}); "
            "a constant activation is rejected (it is never replaced by the identity)")
    # Slopes on grids offset from round numbers (a protected value at one
    # isolated point, such as div(x*x, x) = 1 at x = 0, is harmless), as
    # secants over one step and over _REFINE steps from every point: near a
    # pole or a jump, the steepest secant grows _REFINE-fold or more with the
    # resolution wherever the grid falls; near log|x| 3- to 6-fold, by how
    # close a grid point falls to the singular point (so log|x - 1| passed and
    # log|x + 1| did not): on three grids a third of a step apart, one always
    # falls far enough for under 3.5-fold, so a formula is rejected when all
    # three say so; near sqrt|x| about sqrt(_REFINE)-fold; elsewhere it barely changes.
    n = (_CHECK_POINTS - 1) * _REFINE + 1
    step = (high - low) / n
    # on the grid alone: the special points' values (1e6 for 1/sqrt|x| at 1e-12) made the typical slope
    # thousands of times steeper, and 1/sqrt|x|'s pole passed as a mild slope
    typical = float(np.std(g[:grid.size])) / float(np.std(grid))
    verdicts = []
    for offset in _GRID_OFFSETS:
        shifted = low + (np.arange(n) + offset) * step
        on_grid = program(shifted[:, None])
        bad = ~np.isfinite(on_grid) | (np.abs(on_grid) > _FLOAT32_MAX)
        if bad.any():
            raise DegenerateActivationError(
                f"the formula g(x) = {formula_text(program)} is not finite in float32 on {span} "
                f"(g({shifted[bad][0]:.6g}) = {on_grid[bad][0]:.3g}); it cannot be an activation")
        fine_slopes = np.abs(np.diff(on_grid)) / step
        wide_slopes = np.abs(on_grid[_REFINE:] - on_grid[:-_REFINE]) / (_REFINE * step)
        k = int(np.argmax(fine_slopes))
        fine, where = float(fine_slopes[k]), float(0.5 * (shifted[k] + shifted[k + 1]))
        coarse = float(np.max(wide_slopes))
        verdicts.append((fine > 4 * coarse and fine > 100 * typical, fine, coarse, where, shifted, fine_slopes))
    _, fine, coarse, where, shifted, fine_slopes = verdicts[0]
    if all(singular for singular, *_ in verdicts) and _steepens_on(program, where, step, fine):
        raise DegenerateActivationError(
            f"the formula g(x) = {formula_text(program)} has a pole, a jump or a singular slope near "
            f"x = {where:.4g} (its steepest secant on {span} grows from {coarse:.3g} to {fine:.3g} when the "
            f"step shrinks {_REFINE}-fold); it cannot be trained as an activation")
    piled = _waves_pile_up(program, shifted, fine_slopes, high - low)  # (x*sin(1/x): mild slopes, endless waves)
    if piled is not None:
        raise DegenerateActivationError(
            f"the formula g(x) = {formula_text(program)} has a pole, a jump or a singular slope near "
            f"x = {piled:.4g} (waves pile up there without end, {_PILED_EXTREMES}+ local extremes in every "
            f"window down to {_REFINE}**{_WAVE_ZOOMS} times narrower); it cannot be trained as an activation")
    piled = _waves_on_log_scale(program, low, high)  # (sin(log|x|): its waves pile up at 0 on a log scale)
    if piled is not None:
        raise DegenerateActivationError(
            f"the formula g(x) = {formula_text(program)} has a pole, a jump or a singular slope near "
            f"x = {piled:.4g} (waves pile up there without end, {_PILED_EXTREMES}+ local extremes as x nears it "
            f"from {_LOG_COUNTED:g} to {_LOG_REACH[0]:g} away); it cannot be trained as an activation")


#: How near a zero of a guarded argument :func:`_waves_on_log_scale` looks (times max(1, |x|)): from where the
#: protections fire (1e-10) out to a tenth, its waves counted within the first number of these.
_LOG_REACH = (1e-10, 0.1)
_LOG_COUNTED = 1e-3
#: Of the range of values the formula takes there, the least rise or fall counted as a wave: (exp(x) - 1)/x
#: wobbles by 1e-6 near 0 as float64 cancels, a wave of sin(log|x|) spans 2, and x**2*sin(1/x)'s (a bounded
#: slope) are under 1e-6 within 1e-3 of 0, where its range out to 0.1 is 0.01.
_WAVE_TOLERANCE = 1e-3


def _waves_on_log_scale(program: Program, low: float, high: float) -> float | None:
    """A zero of a guarded argument (log's, a divisor) inside [low, high] where the formula's waves pile up on
    a logarithmic scale, or None.  sin(log|x|) has an extreme at every e**pi-fold step towards 0 and a slope
    ~ 1/|x| there (1e8 at x = 1e-8), yet on a linear grid, however zoomed, a window shows only a few of them:
    :func:`_waves_pile_up` passed it.  Here the formula is read at log-spaced distances from each zero (see
    :data:`_LOG_REACH`), on both sides, and its rises and falls of at least :data:`_WAVE_TOLERANCE` of its
    range there are counted within :data:`_LOG_COUNTED` of the zero: waves that keep their size as they
    near it (an unbounded slope), not those that shrink with it (x*cos(log|x|), x**2*sin(1/x))."""
    reads = [read for _, read, _ in _zero_guards(program)]
    if not reads:
        return None
    with np.errstate(all="ignore"):
        points, _ = _zeros(program, np.array(reads))
        for point in np.unique(points[(points >= low) & (points <= high)]):
            distances = max(1.0, abs(point)) * np.logspace(np.log10(_LOG_REACH[0]), np.log10(_LOG_REACH[1]),
                                                           _CHECK_POINTS)
            sides = [program((point + side * distances)[:, None]) for side in (-1.0, 1.0)]
            if not all(np.all(np.isfinite(g)) for g in sides):
                return round(float(point), 12)
            tolerance = _WAVE_TOLERANCE * float(np.ptp(np.concatenate(sides)))
            counted = distances <= max(1.0, abs(point)) * _LOG_COUNTED
            turns = sum(_turns(g[counted], tolerance) for g in sides)
            if turns >= _PILED_EXTREMES:
                return round(float(point), 12)  # (|x|'s zero is found 3e-21 from 0)
    return None


def _turns(values: np.ndarray, tolerance: float) -> int:
    """How many times ``values`` turn (a rise, then a fall, or the reverse), a move counted once it goes more
    than ``tolerance`` beyond the last extreme (a zigzag count: rounding's wobbles are no turns)."""
    turns, direction, extreme = 0, 0, float(values[0])
    for value in values[1:].tolist():
        if direction >= 0 and value > extreme + (tolerance if direction == 0 else 0.0):
            direction, extreme = 1, value
        elif direction <= 0 and value < extreme - (tolerance if direction == 0 else 0.0):
            direction, extreme = -1, value
        elif direction > 0 and value < extreme - tolerance:
            turns, direction, extreme = turns + 1, -1, value
        elif direction < 0 and value > extreme + tolerance:
            turns, direction, extreme = turns + 1, 1, value
    return turns


#: How far a protected value may stand from the value the formula takes beside its point, as a share of the
#: formula's range on the checked range (:func:`check_protected_points`).
_JUMP_SHARE = 1e-3


def check_protected_points(program: Program, value_range=CHECK_RANGE) -> None:
    """Raise :class:`DegenerateActivationError` where a protection fires at a point inside ``value_range`` and
    gives a value the formula does not take beside it: the search routes found
    ``1.955*sin((1.414*x/sqrt|x| - sqrt|x|)*cos(cos(x))) + 0.3655``, 1.371 at x = 0 where it reads 0.3655 on both
    sides (the protected division's 1 at 0/0), and a pre-activation of exactly 0 (zero inputs, padding) is
    common.  :func:`check_activation` lets such a point pass (it is no pole: its slopes stay mild), as a formula
    the user builds on purpose with ``protected=True`` may keep it; a route's formula may not.

    At each zero of a guarded argument inside the range where the guard fires, the formula is read on both
    sides (:func:`_settled_reading`); where both readings settle to the same value, within :data:`_JUMP_SHARE`
    of the formula's range, the protected value must be within that share of them.  A pole or an endless
    slope (log|x|) does not settle and is left to :func:`check_activation`; sin(x)/x's 1 at 0 is its limit.
    """
    low, high = check_range_bounds(value_range, "value_range")
    guarded = _zero_guards(program)
    if not guarded:
        return
    with np.errstate(all="ignore"):
        points, which = _zeros(program, np.array([read for _, read, _ in guarded]))
        inside = (points >= low) & (points <= high)
        points, which = points[inside], which[inside]
        if not points.size:
            return
        share = _JUMP_SHARE * float(np.ptp(program(np.linspace(low, high, _CHECK_POINTS)[:, None])))
        for point, j in zip(points, which):
            _, read, guard = guarded[j]
            # the guard fires at the zero found, or at it rounded ((x - 7)/sqrt|x - 7| only at 7.0 itself;
            # |x|'s zero is found 3e-21 from 0)
            tried = np.array([round(float(point), 12), float(point)])
            fired = guard.fires(_at(program, tried, np.full(2, read))[0])
            if not fired.any():
                continue
            point = float(tried[np.argmax(fired)])
            sides = [_settled_reading(program, point, side, read, guard, share) for side in (-1.0, 1.0)]
            if None in sides or not abs(sides[0][0] - sides[1][0]) <= share:
                continue  # unsettled, or a jump between the sides (check_activation's)
            value, beside = float(program(np.array([[point]]))[0]), 0.5 * (sides[0][0] + sides[1][0])
            if not abs(value - beside) <= share:
                raise DegenerateActivationError(
                    f"the formula g(x) = {formula_text(program)} gives {value:.4g} at x = {point:.4g}, where it "
                    f"reads {round(beside, 12):.4g} on both sides ({max(sides[0][1], sides[1][1]):.0e} away): the "
                    f"{guard.argument} is 0 there and srnet's protected value stands in; it cannot be an activation")


def _settled_reading(program: Program, point: float, side: float, read: int, guard, share: float):
    """(value, distance) of the formula read on one ``side`` of ``point`` at the nearest of :data:`_APPROACH`'s
    distances (times max(1, |point|)) where the guard of the argument at address ``read`` does not fire, when
    the 10-fold farther reading is within ``share`` of it; None where the formula does not settle there."""
    distances = max(1.0, abs(point)) * _APPROACH
    near = point + side * distances
    unfired = np.flatnonzero(~guard.fires(_at(program, near, np.full(len(near), read))[0]))
    nearest = unfired.max(initial=-1)
    if nearest < 1:
        return None
    values = program(near[:, None])
    if not abs(values[nearest] - values[nearest - 1]) <= share:
        return None
    return float(values[nearest]), float(distances[nearest])


def check_finite_activation(program: Program, value_range=CHECK_RANGE) -> None:
    """Raise :class:`DegenerateActivationError` unless ``program`` is finite in float64 and in float32 on
    ``value_range``: the least an activation read from a file must be, whatever check it asks for (a file whose
    check_range is null loaded 1e308*sin(x), inf on every input in float32)."""
    check_one_variable(program)
    low, high = check_range_bounds(value_range, "value_range")
    try:
        _check_finite(program, np.linspace(low, high, _CHECK_POINTS), low, high)
    except DegenerateActivationError as error:
        raise DegenerateActivationError(f"{error} (checked there for finite values, whatever check the "
                                        f"activation asks for)") from None


#: How far :func:`poles_beyond` looks: |x| up to POLE_REACH, on a grid log-spaced in |x| (0.5 % apart: 0.03 at
#: x = 7, 46 at 1e4) with a denser stretch near 0, where pre-activations mostly lie.
POLE_REACH = 1e4
_POLE_GRID = np.unique(np.concatenate([-np.logspace(np.log10(POLE_REACH), -3, 3500), np.linspace(-20, 20, 801),
                                       np.logspace(-3, np.log10(POLE_REACH), 3500)]))
#: Halvings of a bracket and golden-section steps: from a grid step (46 at most) down to float64's resolution.
_POLE_ITERATIONS = 80
#: A minimum of |argument| on the grid is refined when it is under _DIP of its deeper neighbour's, and
#: reaches 0 when it comes out under _TOUCHING of it ((x - 7)**2).
_DIP = 0.25
_TOUCHING = 1e-6
#: Distances (times max(1, |x|)) from which a zero of a guarded argument is approached.  A pole's value grows
#: over _BLOWUP-fold at each of the last two 10-fold steps closer (10-fold for a simple pole, 3.2-fold for
#: 1/sqrt|x - 7|), where sin(x - 7)/(x - 7) stays put and log|c*(x - 7)| (a mild singular slope, which
#: check_activation accepts) cannot grow 2.5-fold twice in a row, whatever c.  The nearest distance read is
#: the nearest where the protection does not fire yet: at 7e-6 from 7, (x - 7)**2 is below 1e-10 and the
#: protected 1/(x - 7)**2 reads 1.
_APPROACH = 10.0 ** -np.arange(1, 9)
_BLOWUP = 2.5


def _zero_guards(program: Program) -> list[tuple[int, int, object]]:
    """(address, address of the guarded argument, guard) of each step whose protection fires where an argument
    nears 0 (div's divisor, log's argument)."""
    first_step = program.n_inputs + len(program.constants)
    return [(first_step + k, (a, b)[guard.operand], guard) for k, (name, a, b) in enumerate(program.steps)
            if (guard := primitive(name).guard) is not None and guard.where == "zero"]


def poles_beyond(program: Program, value_range) -> list[tuple[float, str]]:
    """The poles of ``program`` (one input) outside ``value_range`` and within |x| <= POLE_REACH, nearest 0
    first, each with the argument that reaches 0 there as the primitive table names it ("denominator of div"):
    points where a protected primitive's guarded argument reaches 0 and the primitive's value blows up.

    Found numerically on the program that runs, not by sympy (``solve``, ``singularities``), which takes
    unbounded time that cannot be interrupted in-process, gives up on transcendental denominators
    (``exp(x) - 1000``) and reads the plain formula rather than the protected program: every guarded argument
    on a fixed grid, its sign changes bisected and the minima of its magnitude refined (golden section) to see
    whether they reach 0 ((x - 7)**2 keeps its sign), then the blow-up test (:data:`_APPROACH`).  It costs a
    fixed number of evaluations of the program, of all its guarded arguments at once, whatever the formula.
    Poles closer together than the grid's step may show as one; a zero so flat that the protection fires a
    hundredth of max(1, |x|) away from it (1/(x - 7)**6), or an argument that is 0 on a whole stretch, shows
    none.  tan has no guard: its poles are where its argument crosses an odd multiple of pi/2 (``tan(x/4)``
    at x = 2*pi, built in silence before), found by bisection too, and named "argument of tan"; each of them
    is singular (tan blows up there).
    """
    low, high = value_range
    found: dict[float, str] = {}
    guarded = _zero_guards(program)
    with np.errstate(all="ignore"):
        if guarded:
            points, which = _zeros(program, np.array([read for _, read, _ in guarded]))
            beyond = ((points < low) | (points > high)) & (np.abs(points) <= POLE_REACH)
            points, which = points[beyond], which[beyond]
            poles = _blows_up(program, points, which, guarded)
            for point, j in zip(points[poles], which[poles]):
                found.setdefault(float(f"{point:.9g}"), guarded[j][2].argument)
        for point in _tan_poles(program):
            if (point < low or point > high) and abs(point) <= POLE_REACH:
                found.setdefault(float(f"{point:.9g}"), "argument of tan")
    return sorted(found.items(), key=lambda item: (abs(item[0]), item[0]))


def _tan_poles(program: Program) -> np.ndarray:
    """Where the argument of a tan step crosses an odd multiple of pi/2 on :data:`_POLE_GRID`'s span (its
    first one between two grid points), bisected to float64's resolution."""
    reads = np.array([a for name, a, _ in program.steps if name == "tan"], dtype=np.int64)
    if not reads.size:
        return np.empty(0)
    x = _POLE_GRID
    v = np.asarray(program.values(x[:, None]))[reads]
    turns = np.floor((v - math.pi / 2) / math.pi)  # which odd multiple of pi/2 lies below each value
    which, left = np.nonzero(np.isfinite(turns[:, :-1]) & np.isfinite(turns[:, 1:]) & (turns[:, :-1] != turns[:, 1:]))
    if not which.size:
        return np.empty(0)
    # the first odd multiple crossed: above the left value where the argument rises, else at or below it
    rising = turns[which, left + 1] > turns[which, left]
    target = math.pi / 2 + math.pi * np.where(rising, turns[which, left] + 1, turns[which, left])
    lo, hi, addresses = x[left], x[left + 1], reads[which]
    start = np.sign(v[which, left] - target)
    for _ in range(_POLE_ITERATIONS):
        middle = lo + 0.5 * (hi - lo)
        same = np.sign(_at(program, middle, addresses)[0] - target) == start
        lo, hi = np.where(same, middle, lo), np.where(same, hi, middle)
    return lo + 0.5 * (hi - lo)


def _at(program: Program, points: np.ndarray, *addresses: np.ndarray) -> list[np.ndarray]:
    """Per array of ``addresses``, the program's value at ``addresses[i]`` for the input ``points[i]`` (one
    evaluation of the program: its cost is mostly per step, whatever the number of points)."""
    values = np.asarray(program.values(points[:, None]))
    return [values[where, np.arange(len(points))] for where in addresses]


def _zeros(program: Program, reads: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the program's values at ``reads`` reach 0 on :data:`_POLE_GRID`'s span, and the index into
    ``reads`` of each: their sign changes, bisected, and the minima of their magnitude that reach 0, refined
    by golden section, side by side."""
    x = _POLE_GRID
    v = np.asarray(program.values(x[:, None]))[reads]
    which, left = np.nonzero(np.sign(v[:, :-1]) * np.sign(v[:, 1:]) < 0)
    # minima of |v| that keep its sign (a crossing is bisected) and are deep enough to be a touch of 0: sampled
    # anywhere near one, a quadratic's is under a ninth of its deeper neighbour's (cos(x) + 1.5's is not)
    size, sign = np.abs(v), np.sign(v)
    inner, before, after = size[:, 1:-1], size[:, :-2], size[:, 2:]
    dips, i = np.nonzero((inner <= before) & (inner <= after) & (inner < _DIP * np.maximum(before, after))
                         & (sign[:, :-2] * sign[:, 1:-1] >= 0) & (sign[:, 1:-1] * sign[:, 2:] >= 0))
    lo, hi, start = x[left], x[left + 1], sign[which, left]
    a, b, ratio = x[i], x[i + 2], (math.sqrt(5) - 1) / 2
    addresses = np.concatenate([reads[which], reads[dips], reads[dips]])
    for _ in range(_POLE_ITERATIONS):
        middle, c, d = lo + 0.5 * (hi - lo), b - ratio * (b - a), a + ratio * (b - a)
        at_middle, at_c, at_d = np.split(_at(program, np.concatenate([middle, c, d]), addresses)[0],
                                         [len(middle), len(middle) + len(c)])
        same = np.sign(at_middle) == start
        lo, hi = np.where(same, middle, lo), np.where(same, hi, middle)
        nearer = np.abs(at_c) < np.abs(at_d)
        a, b = np.where(nearer, a, c), np.where(nearer, d, b)
    lowest = a + 0.5 * (b - a)
    reaches = np.abs(_at(program, lowest, reads[dips])[0]) <= _TOUCHING * np.maximum(size[dips, i], size[dips, i + 2])
    return np.concatenate([lo + 0.5 * (hi - lo), lowest[reaches]]), np.concatenate([which, dips[reaches]])


def _blows_up(program: Program, points: np.ndarray, which: np.ndarray, guarded) -> np.ndarray:
    """Whether the guarded step ``guarded[which[i]]`` (its address, its argument's address, its guard) blows
    up at ``points[i]``, a zero of its argument: see :data:`_APPROACH`."""
    n, m = len(points), len(_APPROACH)
    around, kinds = np.repeat(points, m), np.repeat(which, m)
    offsets = (np.maximum(1.0, np.abs(points))[:, None] * _APPROACH).ravel()
    steps, reads = (np.array([entry[column] for entry in guarded])[kinds] for column in (0, 1))
    fired, size = np.zeros(n * m, dtype=bool), np.zeros(n * m)
    for sign in (-1, 1):
        argument, value = _at(program, around + sign * offsets, reads, steps)
        for j, (_, _, guard) in enumerate(guarded):
            fired[kinds == j] |= guard.fires(argument[kinds == j])
        size = np.maximum(size, np.abs(value))
    fired, size = fired.reshape(n, m), size.reshape(n, m)
    nearest = np.maximum(np.where(fired, -1, np.arange(m)).max(axis=1, initial=-1), 2)
    rows = np.arange(n)
    near, middle, far = (size[rows, nearest - step] for step in range(3))
    return ~fired[rows, nearest] & (near > _BLOWUP * middle) & (middle > _BLOWUP * far)


def _check_finite(program: Program, grid: np.ndarray, low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
    """The checks of finiteness of :func:`check_activation` on ``grid`` plus the special points; returns the
    points and the formula's values there."""
    specials = np.array([p for p in _SPECIAL_POINTS if low <= p <= high])
    x = np.concatenate([grid, specials])
    g = program(x[:, None])
    span = f"[{low:g}, {high:g}]"
    bad = ~np.isfinite(g)
    if bad.any():
        raise DegenerateActivationError(
            f"the formula g(x) = {formula_text(program)} is not finite on {span} "
            f"(g({x[bad][0]:.6g}) = {g[bad][0]}); it cannot be an activation")
    peak = np.abs(g).max()
    if peak > _FLOAT32_MAX:  # the value itself (before an intermediate step's overflow, below)
        where = x[np.argmax(np.abs(g))]
        raise DegenerateActivationError(
            f"the formula g(x) = {formula_text(program)} overflows float32 on {span} "
            f"(|g({where:.6g})| = {peak:.3g}); it cannot be an activation")
    # float32, as networks run it (an intermediate such as x**60 overflows there), on the CPU whatever
    # torch's default device (under torch.set_default_device("meta") no activation could be built)
    with torch.no_grad(), torch.device("cpu"):
        single = ProgramModule(program, dtype=torch.float32)(torch.as_tensor(x[:, None], dtype=torch.float32))
    bad = ~torch.isfinite(single[:, 0]).numpy()
    if bad.any():
        raise DegenerateActivationError(
            f"the formula g(x) = {formula_text(program)} is not finite in float32 on {span} "
            f"(g({x[bad][0]:.6g}) = {float(single[bad.argmax(), 0])}: a step overflows float32); it cannot "
            f"be an activation")
    return x, g


def check_nonlinear(program: Program, value_range=CHECK_RANGE) -> None:
    """Raise :class:`DegenerateActivationError` when ``program`` is a straight line on ``value_range``: a
    network whose activations are linear is linear (its layers collapse into one), so a route that found a
    line found no activation (standardised, ``4*x + 9`` became the identity ``1.0*x``).  The constructor
    accepts lines: an identity activation is a baseline users build on purpose."""
    low, high = check_range_bounds(value_range, "value_range")
    x = np.linspace(low, high, 1001)
    g = program(x[:, None])
    if not np.all(np.isfinite(g)):
        return
    # on all but the 1 % of points farthest from a first fit: x*x/x is x but for the protected 1 at x = 0, and
    # simplifying makes it x; within the round-off of the values' size (x + 1e8)
    kept = np.argsort(np.abs(g - np.polynomial.polynomial.Polynomial.fit(x, g, 1)(x)))[: int(0.99 * x.size)]
    off = np.max(np.abs(g[kept] - np.polynomial.polynomial.Polynomial.fit(x[kept], g[kept], 1)(x[kept])))
    if off <= 1e-9 * float(np.ptp(g[kept])) + 1e-12 * float(np.max(np.abs(g))) + 1e-300:
        raise DegenerateActivationError(
            f"the formula g(x) = {formula_text(program)} is a straight line on [{low:g}, {high:g}]: a network "
            f"with it would be linear; a linear activation is rejected, as a constant one is")


def _steepens_on(program: Program, where: float, step: float, slope: float) -> bool:
    """Whether the steepest secant near ``where`` (``slope`` on the grid of ``step``) keeps growing as the step
    shrinks _REFINE-fold at a time, down to float64's resolution: a pole's or a jump's does; a smooth bend the
    grid cannot resolve settles (tanh on [-1e6, 1e6]: 2/125 on the grid, 1 once resolved; sin on the same
    range), and it is no singularity."""
    width, settled = _REFINE * step, 0
    for _ in range(_MAX_ZOOMS):
        x = where + np.linspace(-width, width, 2 * _ZOOM_POINTS + 1)
        spacing = np.diff(x)
        if not np.all(spacing > 0):  # float64 resolves no finer here: the verdict stands
            return True
        g = program(x[:, None])
        if not np.all(np.isfinite(g)):
            return True
        slopes = np.abs(np.diff(g)) / spacing
        k = int(np.argmax(slopes))
        # settled: under 2-fold on two zooms in a row (a resolved slope barely changes; a jump's grows 8-fold,
        # a pole's 64-fold; once is not enough: an oscillation the zoom cannot resolve yet has random secants)
        settled = settled + 1 if slopes[k] < 2 * slope else 0
        if settled == 2:
            return False
        slope, where, width = float(slopes[k]), float(0.5 * (x[k] + x[k + 1])), width / _REFINE
    return True


def _waves_pile_up(program: Program, x: np.ndarray, slopes: np.ndarray, span: float) -> float | None:
    """Where the formula's waves pile up without end (sin(1/x) at 0, its slope ~ 1/x**2), or None.  The grid's
    steepest secant falls at random among waves it cannot resolve, and zoomed into, one wave is resolved and its
    secant settles: :func:`_steepens_on` read sin(1/x) as a smooth bend.  Here each steep stretch of the grid
    (secants ``slopes`` between the points ``x`` above 1/_REFINE of the steepest; stretches apart by more than
    :data:`_STRETCH_GAP` of the range are two), when it is a small part of the range (steep everywhere: a
    smooth function on a range too wide for the grid, sin on [-1e6, 1e6]), is zoomed into about its middle,
    each zoom _REFINE-fold narrower: a smooth function, however steep or wavy, shows a few local extremes once a
    window is narrow enough; piled-up waves show many in every window.  (One spot alone was looked at before,
    from the first steep point to the last: two stretches, sin(1/(x - 1)) + sin(1/(x + 1)), or one beside
    another steep term, x*sin(1/x) + x**3, made it as wide as the range, and they passed.)"""
    if not slopes.max() > 0:  # flat wherever the grid falls (exp(-x**2) on [-1e12, 1e12])
        return None
    steep = x[:-1][slopes > slopes.max() / _REFINE]
    breaks = np.flatnonzero(np.diff(steep) > _STRETCH_GAP * span) + 1
    for stretch in np.split(steep, breaks):
        if stretch[-1] - stretch[0] > _LOCAL_SHARE * span:
            continue
        middle = 0.5 * (stretch[0] + stretch[-1])
        piled = _zoom_for_waves(program, middle, max(0.5 * (stretch[-1] - stretch[0]), _REFINE * (x[1] - x[0])))
        if piled is not None:
            return piled
    return None


def _zoom_for_waves(program: Program, middle: float, half: float) -> float | None:
    """:func:`_waves_pile_up`'s zooms into one steep stretch (``middle`` +- ``half``): where the waves pile up,
    or None.  Each zoom is centred where the window's local extremes crowd (their median): centred between
    its first and last steep secant, a zoom into x*sin(1/x) + tanh(x) drifted to x = -0.0079 and lost the
    waves at 0."""
    for _ in range(_WAVE_ZOOMS):
        window = np.linspace(middle - half, middle + half, _CHECK_POINTS)
        g = program(window[:, None])
        if not np.all(np.isfinite(g)):
            return middle
        rises = np.sign(np.diff(g))
        moving = rises != 0
        turns = window[:-1][moving][1:][rises[moving][1:] != rises[moving][:-1]]  # the local extremes
        if turns.size < _PILED_EXTREMES:
            return None
        middle, half = float(np.median(turns)), half / _REFINE  # where they crowd
    return middle


def collapse_inputs(program: Program, output: int | None = None) -> Program:
    """``program`` with every input replaced by the one variable x.

    Assumption: what becomes the activation is the formula's shape along the
    diagonal x_1 = ... = x_d = x.  Features that enter antisymmetrically
    (``x3 - x5``) cancel there, and the result may be constant: check it.

    Parameters
    ----------
    program : Program
    output : int or None, default=None
        None keeps the program's output map (it must have one target);
        an index j keeps raw output j alone (weight 1, intercept 0), as for
        one feature f_k of a layer's chromosome.
    """
    if not isinstance(program, Program):
        raise TypeError(f"expected an srnet.expr.Program, got {type(program).__name__}")
    n = program.n_inputs
    if n < 1:
        raise ValueError("the program has no inputs: there is no variable to collapse onto")

    def remap(address: int) -> int:
        return 0 if address < n else address - (n - 1)

    steps = tuple((name, remap(a), remap(b) if primitive(name).arity == 2 else 0) for name, a, b in program.steps)
    if output is None:
        if program.n_targets != 1:
            raise ValueError(f"the program maps its {len(program.outputs)} raw outputs to {program.n_targets} "
                             f"targets, and an activation is one function; pick one raw output with output=j "
                             f"(0 <= j < {len(program.outputs)})")
        outputs, weights, intercept = tuple(map(remap, program.outputs)), program.weights, program.intercept
    else:
        # (1.0 was a TypeError from tuple indexing, and True read as output 1)
        if isinstance(output, bool) or not isinstance(output, (int, np.integer)):
            raise TypeError(f"output must be a whole number (a raw output's index) or None, got {output!r}")
        if not 0 <= output < len(program.outputs):
            raise ValueError(f"output={output} but the program has {len(program.outputs)} raw outputs")
        outputs, weights, intercept = (remap(program.outputs[output]),), [[1.0]], [0.0]
    return Program(1, program.constants, steps, outputs, weights, intercept)


def simplify_program(program: Program, value_range=CHECK_RANGE) -> Program:
    """A shorter program for the same one-variable function, or ``program``.

    The formula goes through sympy (whose automatic simplification drops what
    collapsing inputs leaves behind: ``x - x``, ``sin(x)/sin(x)``, repeated
    terms) and back through :func:`program_from_sympy`; the result is kept
    only if it has fewer steps and computes the same values (to 1e-9) on
    8001 points of ``value_range`` placed off round numbers, where protections
    at isolated points (0/0 = 1) cannot tell the two apart.
    """
    check_one_variable(program)
    try:
        candidate = program_from_sympy(to_sympy(program, (VARIABLE,))[0], [VARIABLE], protected=True)
    except ValueError:  # a form the converter does not know: keep the original
        return program
    if candidate.n_steps >= program.n_steps:
        return program
    low, high = (float(v) for v in value_range)
    x = low + (np.arange(8001) + 1 / math.e) * (high - low) / 8001
    before, after = program(x[:, None]), candidate(x[:, None])
    scale = max(1.0, float(np.nanmax(np.abs(np.where(np.isfinite(before), before, np.nan)), initial=1.0)))
    same = (np.isfinite(before) == np.isfinite(after)).all() and np.allclose(
        before[np.isfinite(before)], after[np.isfinite(after)], rtol=1e-9, atol=1e-9 * scale)
    return candidate if same else program


#: The normal moments of :func:`standardise_program`: a trapezoid rule on [-NORMAL_REACH, NORMAL_REACH], step
#: NORMAL_STEP.  An equal-probability grid of 2001 normal quantiles left out the tails beyond |x| = 3.3, where
#: growing formulas have much of their variance: exp(2x) came out with std 1.56, x**5 1.11, exp(x) 1.02.  The
#: rule is exact to ~1e-7 for kinks (|x|, relu) and smooth growth alike; beyond 12 the normal's weight is
#: below 1e-32.
NORMAL_REACH, NORMAL_STEP = 12.0, 5e-4
#: A formula whose spread on |x| <= NORMAL_TYPICAL (99.7 % of N(0, 1)) is below FLAT_SHARE of its standard
#: deviation is refused, as flat once standardised: exp(x**2) (6.6e-24 there) and exp(4x) (5.3e-4); exp(3x)
#: keeps 0.036, exp(2x) 0.39, x**9 0.16.
NORMAL_TYPICAL, FLAT_SHARE = 3.0, 1e-3


def _normal_points() -> tuple[np.ndarray, np.ndarray]:
    """Points and weights (summing to 1) whose weighted sums are expectations over x ~ N(0, 1)."""
    x = np.linspace(-NORMAL_REACH, NORMAL_REACH, int(round(2 * NORMAL_REACH / NORMAL_STEP)) + 1)
    weights = np.exp(-x * x / 2)
    weights[[0, -1]] /= 2  # (the trapezoid's ends)
    return x, weights / weights.sum()


def standardise_program(program: Program) -> Program:
    """``(g - mean) / std`` with mean and std of g(x) for x ~ N(0, 1) (see :data:`NORMAL_REACH`).

    Only the output map changes (the formula keeps its shape); a formula
    that is constant or not finite there raises :class:`DegenerateActivationError`.
    """
    check_one_variable(program)
    x, weights = _normal_points()
    g = np.asarray(program(x[:, None]), dtype=np.float64).reshape(-1)
    with np.errstate(over="ignore", invalid="ignore"):
        mean = float(weights @ g)
        std = math.sqrt(float(weights @ (g - mean) ** 2))
    if not (np.all(np.isfinite(g)) and math.isfinite(std)):
        raise DegenerateActivationError(f"the formula g(x) = {formula_text(program)} is not finite "
                                        "for standard normal inputs")
    typical = np.abs(x) <= NORMAL_TYPICAL
    share = weights[typical] / weights[typical].sum()
    spread = math.sqrt(float(share @ (g[typical] - share @ g[typical]) ** 2))
    if not spread >= FLAT_SHARE * std:
        # exp(x**2) (its exp capped at 80) has its variance under N(0, 1) from |x| > 8.9 alone: scaled by it, the
        # activation was flat (std 2e-19) on every input a network sees
        raise DegenerateActivationError(f"the formula g(x) = {formula_text(program)} draws its variance under "
                                        f"N(0, 1) from |x| > {NORMAL_TYPICAL:g} almost alone: standardised, its "
                                        f"spread where inputs lie would be {spread / std:.2g}")
    if not std > 1e-9 * max(1.0, abs(mean)):
        raise DegenerateActivationError(f"the formula g(x) = {formula_text(program)} is constant for "
                                        "standard normal inputs; it cannot be standardised")
    intercept = (program.intercept - mean) / std
    intercept[np.abs(intercept) < 1e-12] = 0.0  # round-off of an already centred formula
    return Program(1, program.constants, program.steps, program.outputs, program.weights / std, intercept)


#: The American spelling, kept for existing callers; srnet spells it standardise.
standardize_program = standardise_program


def collapse_variables(expr: sympy.Expr, variable: sympy.Symbol = VARIABLE) -> sympy.Expr:
    """``expr`` with every free symbol replaced by ``variable`` (see :func:`collapse_inputs`)."""
    return expr.xreplace({s: variable for s in expr.free_symbols})


__all__ = ["CHECK_RANGE", "VARIABLE", "DegenerateActivationError", "check_activation", "check_finite_activation",
           "check_nonlinear", "check_one_variable", "collapse_inputs", "collapse_variables", "formula_text",
           "poles_beyond", "simplify_program", "standardise_program", "standardize_program"]
