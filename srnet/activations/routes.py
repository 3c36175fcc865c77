"""Routes from data or an explanation to an activation function.

Every route ends in :class:`FoundActivation`: the activation, the formula it
came from (before collapsing) and what the route measured.  Each states its
assumptions; degenerate results (constant, not finite, or with a pole or a
jump on the range checked: :func:`~srnet.activations.check_activation`)
raise :class:`~srnet.activations.DegenerateActivationError`; they are never
replaced by the identity.

1. :func:`activation_from_data` (the neuro-symbolic study's route): symbolic
   regression of a dataset's labels, then every input replaced by x.
2. From an explanation of a trained network:
   :func:`activation_from_layer` collapses the one-output chromosome f_k of
   a layer (``SRNet(form="paper")``) the same way;
   :func:`activation_from_neurons` fits one one-input chromosome g so that
   every neuron's output is ~ g(its pre-activation).
3. By search: :func:`srnet.activations.search.search_activation`.
"""

from __future__ import annotations

import numbers
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import sympy

from srnet.activations.module import ExpressionActivation, affine_values, warn_of_poles
from srnet.activations.programs import (
    CHECK_RANGE,
    check_activation,
    check_nonlinear,
    check_protected_points,
    check_range_bounds,
    collapse_inputs,
    formula_text,
    simplify_program,
    standardise_program,
    too_large_to_print,
)
from srnet.cgp.primitives import PAPER_FUNCTIONS
from srnet.data import check_budget, check_flag, check_matrix, check_vector, random_generator
from srnet.estimators import CGPRegressor
from srnet.expr.program import Program
from srnet.expr.symbolic import fold_constants, make_symbols, raw_sympy, to_sympy


@dataclass
class FoundActivation:
    """An activation and where it came from.

    Attributes
    ----------
    activation : ExpressionActivation
    route : str
        ``"data"``, ``"layer"``, ``"neurons"`` or ``"search"``.
    source : str
        The formula the route found, before it was collapsed to one variable
        and standardised; route 1's is the search's raw output, without the
        weight and intercept fitted to the labels (``sin(x0)*cos(x1)`` for
        ``2*sin(x0)*cos(x1)``).
    seconds : float
        Wall time of the route.
    details : dict
        Route-specific figures (fitness, generations, evaluations, ...).
    """

    activation: ExpressionActivation
    route: str
    source: str
    seconds: float
    details: dict = field(default_factory=dict)

    @property
    def formula(self) -> str:
        return self.activation.formula

    def to_dict(self) -> dict:
        return {"route": self.route, "formula": self.formula, "source": self.source, "seconds": self.seconds,
                "nodes": self.activation.n_nodes, "details": self.details, "activation": self.activation.to_dict()}


def make_activation(program: Program, *, normalize: bool, simplify: bool = True, affine=False,
                    check_range=CHECK_RANGE, label: str | None = None, warn: bool = True) -> ExpressionActivation:
    """Check a one-variable program, simplify it, optionally standardise it,
    and wrap it.

    The degeneracy check runs on the formula as found (before standardising),
    so a constant formula is reported as such; simplifying keeps only a
    shorter program with the same values (:func:`simplify_program`).  A
    protected value at a point the formula does not tend to is refused too
    (:func:`check_protected_points`): a route's formula keeps none.  A
    singular point beyond ``check_range`` is warned of, as
    :meth:`ExpressionActivation.from_sympy` warns (``x + 1/(x - 7)`` was
    built in silence by this route); ``warn=False`` for a search's candidates.
    """
    check_flag("normalize", normalize)
    check_flag("simplify", simplify)
    if check_range is not None:
        check_activation(program, check_range)
    # a line found by a route is no activation, range check or not (check_range=None standardised 4*x + 9 into
    # the identity, in silence)
    checked_on = CHECK_RANGE if check_range is None else check_range
    check_nonlinear(program, checked_on)
    # (after the line's check: x*x/x is a line, but for its protected 1 at 0; without a range, on the default one)
    check_protected_points(program, checked_on)
    if simplify:
        program = simplify_program(program, checked_on)
    if normalize:
        program = standardise_program(program)
    activation = ExpressionActivation(program, affine=affine, check_range=check_range, label=label)
    if warn and check_range is not None:
        warn_of_poles(activation)
    return activation


def subsample_rows(n: int, max_samples: int | None, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of at most ``max_samples`` of ``n`` rows (all when None or n is small)."""
    max_samples = check_budget("max_samples", max_samples, allow_none=True, integer=True)
    if max_samples is not None and max_samples < 2 <= n:  # (1 read "n_samples = 1" beside 50 rows given)
        raise ValueError(f"max_samples must be at least 2 (rows a formula is fitted on), got {max_samples}")
    if max_samples is None or n <= max_samples:
        return np.arange(n)
    return np.sort(rng.choice(n, max_samples, replace=False))


def _check_arguments(max_seconds, max_generations, check_range, affine=False) -> None:
    """Before the search: both budgets, naming only these routes' own (the search's own message lists
    max_evaluations), the range the found formula is checked on and its affine wrapper (checked after the
    search, a bad one wasted the whole budget)."""
    if check_range is not None:
        check_range_bounds(check_range)
    affine_values(affine)
    check_budget("max_seconds", max_seconds, allow_none=True)
    check_budget("max_generations", max_generations, allow_none=True, integer=True)
    if max_seconds is None and max_generations is None:
        raise ValueError("give a budget: max_seconds or max_generations (both are None)")


def activation_from_data(X, y, *, max_seconds: float = 30.0, max_generations: int | None = None,
                         max_samples: int | None = 2000, functions=PAPER_FUNCTIONS, n_columns: int = 30,
                         n_offspring: int = 4, normalize: bool = True, affine=False, check_range=CHECK_RANGE,
                         random_state=None, n_threads: int | None = None) -> FoundActivation:
    """Route 1: a formula of the labels, with every input replaced by x.

    :class:`~srnet.CGPRegressor` fits ``y ~ a * f(x_1..x_d) + b`` (for 0/1
    labels this is symbolic classification by least squares) on at most
    ``max_samples`` random rows; the activation is the raw formula
    ``f(x, ..., x)`` (a and b only fit the labels' scale).

    Assumptions: the features are standardised (so one scale of x suits
    them all), and the shape of f along the diagonal x_1 = ... = x_d is what
    matters.  A formula whose features cancel there is rejected.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    max_seconds, max_generations : budgets of the CGP search (first reached stops it)
    max_samples : int or None, default=2000
    functions, n_columns, n_offspring : the CGP search space (see CGPRegressor)
    normalize : bool, default=True
        Standardise g to zero mean, unit variance for x ~ N(0, 1).
    affine : bool, default=False
        Give the activation the learnable wrapper a*g(b*x + c) + d.
    check_range : (float, float), default=(-5, 5)
    random_state : int or None
        Reproduces the formula under a generation budget (``max_seconds=None, max_generations=N``); under a
        seconds budget the generations reached, and so the formula, depend on the machine's speed and load
        (the same call gave a formula once and ``DegenerateActivationError`` the next time).
    n_threads : int or None
    """
    started = time.perf_counter()
    _check_arguments(max_seconds, max_generations, check_range, affine)
    X = check_matrix(X)
    y = check_vector(y, X.shape[0])
    rows = subsample_rows(X.shape[0], max_samples, random_generator(random_state))
    model = CGPRegressor(functions=functions, n_columns=n_columns, n_offspring=n_offspring,
                         max_seconds=max_seconds, max_generations=max_generations, simplify_seconds=0,
                         random_state=random_state, n_threads=n_threads)
    model.fit(X[rows], y[rows])
    raw = collapse_inputs(model.program_, output=0)
    source = raw_text(model.program_)
    activation = make_activation(raw, normalize=normalize, affine=affine, check_range=check_range,
                                 label=f"route 1 (labels): f = {source}")
    details = {"fitness": float(model.fitness_), "generations": int(model.n_generations_),
               "samples": len(rows), "n_features": int(X.shape[1])}
    return FoundActivation(activation, "data", source, time.perf_counter() - started, details)


def raw_formula(program: Program, symbols=None) -> sympy.Expr:
    """The first raw output of ``program`` (before its output map) as sympy."""
    symbols = make_symbols(program.n_inputs) if symbols is None else symbols
    return fold_constants(raw_sympy(program, symbols)[0])


def raw_text(program: Program, symbols=None) -> str:
    """:func:`raw_formula` as text, or its size when it writes out past MAX_PRINTED_NODES (see
    :func:`srnet.activations.programs.formula_text`: shared sub-expressions double every few steps)."""
    first = Program(program.n_inputs, program.constants, program.steps, program.outputs[:1], [[1.0]], [0.0])
    large = too_large_to_print(first)
    return large if large is not None else str(raw_formula(program, symbols))


def activation_from_layer(explainer, layer: int, *, feature: int | None = None, normalize: bool = True,
                          affine=False, check_range=CHECK_RANGE) -> FoundActivation:
    """Route 2a: a layer's hidden feature f_k, with every input replaced by x.

    ``explainer`` is a fitted :class:`srnet.extract.SRNet`; with
    ``form="paper"`` each layer k has one feature f_k and every unit is
    ``w_kj * f_k(h_{k-1}) + b_kj``, so f_k is the layer's shared shape.  Its
    inputs are the previous layer's units (the network inputs for k = 0, in
    their own units: where SRNet searched some of them centred and scaled,
    ``explainer.input_map_``, layer 0's feature reads that map too); the
    same diagonal assumption as :func:`activation_from_data` applies.

    Parameters
    ----------
    explainer : SRNet
        Fitted; ``explainer.programs_[layer]`` is used.
    layer : int
        Index into the explained layers (0 = first hidden layer).
    feature : int or None
        Which output of the layer's chromosome (needed when it has several,
        as in the default ``form="multi"``).
    """
    started = time.perf_counter()
    programs = getattr(explainer, "programs_", None)
    if programs is None:
        if not hasattr(explainer, "fit"):  # a torch network was told "not fitted", as if an SRNet
            raise ValueError(f"explainer must be a fitted srnet SRNet, got {type(explainer).__name__}; for a trained "
                             "network's own neurons use neuron_pairs and activation_from_neurons")
        raise ValueError("the explainer is not fitted (no programs_); fit SRNet(form='paper') first")
    if not isinstance(layer, numbers.Integral) or isinstance(layer, bool):  # "0" and 0.0 were TypeErrors, True layer 1
        raise ValueError(f"layer must be a whole number (an index into the explained layers), got {layer!r}")
    if not -len(programs) <= layer < len(programs):
        raise ValueError(f"layer={layer} but the explainer has {len(programs)} explained layers")
    program = programs[layer]
    m = len(program.outputs)
    if feature is not None and (not isinstance(feature, numbers.Integral) or isinstance(feature, bool)):
        raise ValueError(f"feature must be a whole number (an index into layer {layer}'s features), got {feature!r}")
    if feature is not None and not 0 <= feature < m:
        raise ValueError(f"feature={feature} but layer {layer}'s chromosome has {m} features")
    if feature is None:
        if m != 1:
            raise ValueError(f"layer {layer}'s chromosome has {m} features; pick one with feature=j, or explain "
                             "the network with SRNet(form='paper') (one feature per layer)")
        feature = 0
    raw = collapse_inputs(program, output=feature)
    features = getattr(explainer, "layer_features_", None)
    source = str(features[layer][feature]) if features is not None else raw_text(program)
    index = int(layer % len(programs))  # the label said "layer -1" where the details said layer 1
    activation = make_activation(raw, normalize=normalize, affine=affine, check_range=check_range,
                                 label=f"route 2 (layer {index} feature {feature}): f = {source}")
    details = {"layer": index, "feature": int(feature),
               "layer_r2": float(explainer.layer_r2_[layer]) if hasattr(explainer, "layer_r2_") else None}
    return FoundActivation(activation, "layer", source, time.perf_counter() - started, details)


def neuron_pairs(model, X, pre: str, post: str) -> tuple[np.ndarray, np.ndarray]:
    """Pre-activations and activations of one layer of ``model`` on ``X``.

    ``pre`` and ``post`` are module names (``model.named_modules()``): the
    Linear layer and the activation after it, e.g. ``"0"`` and ``"1"`` for
    ``Sequential(Linear, ReLU, ...)``.  Returns two (n_samples, width) arrays.
    """
    from srnet.probe import probe

    order = [name for name, _ in model.named_modules()] if hasattr(model, "named_modules") else []
    if pre in order and post in order and order.index(post) < order.index(pre):  # (the pairs came back swapped)
        raise ValueError(f"'{post}' comes before '{pre}' in the model: pass the Linear layer first and the "
                         f"activation after it, neuron_pairs(model, X, {post!r}, {pre!r})")
    before, after = probe(model, X, layers=[pre, post])
    if before.shape != after.shape:
        raise ValueError(f"'{pre}' has width {before.shape[1]} but '{post}' has {after.shape[1]}: "
                         "pick a Linear layer and the element-wise activation right after it")
    return before, after


def activation_from_neurons(pre, post, *, max_seconds: float = 10.0, max_generations: int | None = None,
                            max_samples: int | None = 4000, functions=PAPER_FUNCTIONS, n_columns: int = 20,
                            n_offspring: int = 4, normalize: bool = False, affine=False,
                            check_range=CHECK_RANGE, random_state=None, n_threads=None) -> FoundActivation:
    """Route 2b: one one-input formula g with every neuron's output ~ g(its pre-activation).

    All (pre-activation, output) pairs of a layer are pooled, subsampled to
    ``max_samples`` and fitted by :class:`~srnet.CGPRegressor` (one input).
    The activation keeps the fitted scale (``normalize=False``), so g
    approximates the network's own activation; the details give the fit's R^2.

    Parameters
    ----------
    pre, post : array-like of shape (n_samples, width)
        Pre-activations and outputs of the same units (see :func:`neuron_pairs`).
    """
    started = time.perf_counter()
    _check_arguments(max_seconds, max_generations, check_range, affine)
    pre = check_matrix(pre, "pre")
    post = check_matrix(post, "post")
    if pre.shape != post.shape:
        raise ValueError(f"pre has shape {pre.shape} but post has {post.shape}; they must be the same units")
    z, h = pre.reshape(-1), post.reshape(-1)
    if np.ptp(h) == 0:
        raise ValueError("every neuron output is the same value: there is no activation shape to fit")
    rows = subsample_rows(z.size, max_samples, random_generator(random_state))
    model = CGPRegressor(functions=functions, n_columns=n_columns, n_offspring=n_offspring,
                         max_seconds=max_seconds, max_generations=max_generations, simplify_seconds=0,
                         random_state=random_state, n_threads=n_threads)
    model.fit(z[rows, None], h[rows])
    program = model.program_
    source = str(to_sympy(program, (sympy.Symbol("z", real=True),))[0])
    activation = make_activation(program, normalize=normalize, affine=affine, check_range=check_range,
                                 label=f"route 2 (neurons): h ~ {source}")
    details = {"r2": float(model.score(z[:, None], h)), "generations": int(model.n_generations_),
               "samples": len(rows), "pre_range": [float(z.min()), float(z.max())]}
    formula = formula_text(program)
    if not _warn_if_wild_beyond(model, z, h, activation.check_range, formula):  # (a wild one turns as well)
        _warn_if_turns_beyond(model, z, h, activation.check_range, formula)
    return FoundActivation(activation, "neurons", source, time.perf_counter() - started, details)


#: Beyond the pre-activations seen, a neurons' formula that leaves the outputs' seen span widened by this many
#: times its width on the checked range is warned of.
WILD_SPANS = 2.0


def _warn_if_wild_beyond(model, z: np.ndarray, h: np.ndarray, check_range, formula: str) -> bool:
    """Warn where the formula fitted to the neurons on their pre-activations (``z`` in [low, high]) leaves the
    outputs' span (``h``) by more than WILD_SPANS of its width on the part of ``check_range`` beyond them: a
    ReLU layer's formula 0.006074*z*(z + cos(z) + 2)**4 + 0.07012, fitted on [-2.05, 2.19], read 85.5 at 5
    and was returned without a word (ReLU(5) = 5).  Returns whether it warned."""
    low, high = float(z.min()), float(z.max())
    beyond = np.concatenate([np.linspace(check_range[0], low, 50) if check_range[0] < low else [],
                             np.linspace(high, check_range[1], 50) if check_range[1] > high else []])
    if not beyond.size:
        return False
    with np.errstate(all="ignore"):
        values = np.asarray(model.predict(beyond[:, None]), dtype=np.float64)
    span = float(np.ptp(h))
    wild = ~np.isfinite(values) | (values > h.max() + WILD_SPANS * span) | (values < h.min() - WILD_SPANS * span)
    if wild.any():
        worst = int(np.argmax(np.where(np.isfinite(values), np.abs(values), np.inf)))
        warnings.warn(f"the neurons' formula g(x) = {formula} was fitted on pre-activations in [{low:.4g}, "
                      f"{high:.4g}], where the neurons output [{h.min():.4g}, {h.max():.4g}]; beyond them, on the "
                      f"range [{check_range[0]:g}, {check_range[1]:g}] it is checked on, it reads "
                      f"{values[worst]:.4g} at {beyond[worst]:.4g}: an extrapolation; fit on data that reach that "
                      f"range, or check it on the one seen", UserWarning, stacklevel=3)
    return bool(wild.any())


#: A formula of monotone neurons that falls back (or rises back) by more than this share of the outputs' span
#: beyond the pre-activations seen is warned of.
TURN_SHARE = 0.05


def _warn_if_turns_beyond(model, z: np.ndarray, h: np.ndarray, check_range, formula: str) -> None:
    """Warn where the neurons' outputs rise (or fall) with their pre-activations on all the range seen but the
    formula turns back beyond it, on ``check_range``: an untrained tanh layer's pre-activations in [-2.1, 2.0]
    gave 1.021*sin(sin(x)) at R2 0.999, which reads -0.70 at x = 4 where tanh reads 0.999, without a word (its
    values stay within the span, so :func:`_warn_if_wild_beyond` is silent)."""
    order = np.argsort(z, kind="stable")
    steps = np.diff(h[order])
    span = float(np.ptp(h))
    slack = 1e-6 * span
    rising, falling = bool(np.all(steps >= -slack)), bool(np.all(steps <= slack))
    if rising == falling:  # neither (a GELU's dip, noise) or flat
        return
    low, high = float(z.min()), float(z.max())
    grid = np.linspace(min(check_range[0], low), max(check_range[1], high), 801)
    with np.errstate(all="ignore"):
        values = np.asarray(model.predict(grid[:, None]), dtype=np.float64)
    up = values if rising else -values  # rising, walking out of the range seen
    turns = []
    for outward, moves_up in ((np.flatnonzero(grid >= high), True), (np.flatnonzero(grid <= low)[::-1], False)):
        u = up[outward] if moves_up else -up[outward]  # (leftwards a rising formula keeps falling)
        back = np.maximum.accumulate(u) - u  # how far it falls back from its farthest so far
        turns += [float(grid[outward[i]]) for i in np.flatnonzero(back > TURN_SHARE * span)[:1]]
    if turns:
        at = min(turns, key=abs)
        way = "rise" if rising else "fall"
        warnings.warn(f"the neurons' outputs {way} with their pre-activations on all the range seen, [{low:.4g}, "
                      f"{high:.4g}], but the formula g(x) = {formula} turns back beyond it (by x = {at:.4g}, on "
                      f"the range [{check_range[0]:g}, {check_range[1]:g}] it is checked on): what it does there is "
                      f"not from the neurons (right for SiLU or GELU, not for tanh); if they will see pre-activations "
                      f"there, fit on pre-activations that reach them", UserWarning, stacklevel=3)


__all__ = ["FoundActivation", "activation_from_data", "activation_from_layer", "activation_from_neurons",
           "make_activation", "neuron_pairs"]
