"""The SRNet estimator: probe a trained network, explain each layer, compose.

``SRNet().fit(model, X)`` records every explained layer's activations with
:func:`srnet.probe.probe`, evolves one CGP chromosome per layer with
:class:`srnet.layers.LayerwiseSearch`, refits each layer's linear map on all
rows, and composes the layers into one formula of the network's inputs.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import sys
import time
import warnings

import numpy as np
import sympy
import torch
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from srnet.cgp import _kernels
from srnet.cgp.driver import FinishOnInterrupt, run
from srnet.cgp.evolve import as_feature_rows, check_mutation, check_offspring, choose_islands, seed_from
from srnet.cgp.genome import DEFAULT_CONSTANT_POOL
from srnet.cgp.islands import Islands, island_seed
from srnet.cgp.primitives import ARITIES
from srnet.coordinates import (
    formula_in_input_units,
    in_input_units,
    in_search_coordinates,
    search_coordinates,
    written_definitions,
    written_standardised,
)
from srnet.data import (
    MIN_ROWS,
    caller_outside_srnet,
    check_budget,
    check_flag,
    check_matrix,
    check_rows,
    check_varies,
    counted,
    nonfinite_count,
)
from srnet.domain import MAX_CATEGORIES, as_domain, categories, sample_rows_box
from srnet.expr.symbolic import (
    complexity,
    fold_constants,
    linear_combination,
    make_symbols,
    printed,
    raw_sympy,
    residue_points,
    rewritten,
    round_faithfully,
    simplify,
    standardised_form,
    to_sympy,
)
from srnet.formulas import (
    DISPLAY_DIGITS,
    Formula,
    candidate,
    check_select,
    direct_formulas,
    distinct,
    layer_symbols,
    most_promising_first,
    network_linear_formula,
    pareto_front,
    passed_over_for_a_pole,
    refine,
    select,
    warm_up_refinement,
    warn_of_constant_inputs,
)
from srnet.jsonio import finite_or_none
from srnet.layers import FORMS, PRESETS, SELECTIONS, LayerwiseSearch, fit_layer_programs, make_specs, paper_fitness
from srnet.metrics import (
    LOOSE_BELOW,
    LOOSE_WARNING,
    class_agreement,
    fidelity_text,
    loose_figure,
    loose_outputs,
    loose_outputs_text,
    mse,
    quiet_network_text,
    rmse_r2,
    rmse_r2_per_output,
)
from srnet.names import check_columns, feature_symbols, frame_columns, input_names, name_list
from srnet.networks import as_network
from srnet.probe import in_training_mode, plan_layers, probe
from srnet.progress import SearchProgress, warm_up_kernels

#: Activations beyond this magnitude (or below its inverse, and not 0) have squares that overflow (or
#: underflow to 0) in float64: no figure of a formula against them means anything.
SQUARABLE = 1e150


def _check_squarable(values: np.ndarray, what: str, advice: str = "rescale that input (e.g. standardise it)",
                     *, targets: bool = False) -> None:
    """Values whose squares fit in float64: beyond SQUARABLE, least squares and every figure overflow (numpy's
    warnings, and a front of meaningless formulas).  ``targets`` (values formulas are fitted to): a scale
    below 1/SQUARABLE is refused too, since every squared error rounds to 0 and any formula scores R2 1."""
    peak = float(np.max(np.abs(values))) if values.size else 0.0
    if peak > SQUARABLE or (targets and 0 < peak < 1 / SQUARABLE):
        raise ValueError(f"{what} {'are of scale' if targets else 'reaches'} {peak:.3g}, beyond what squared "
                         f"errors can hold in float64 (every formula would score {'inf, or R2 1' if targets else 'inf'}"
                         f"); {advice}")


#: Points the constant refinement fits on (a random subset of the fit sample).
REFINE_POINTS = 1000
#: With a time budget, the searches get all but this share of it; the rest is for fitting the layers' weights
#: and refining the candidates' constants (refinement stops at the budget's end; sympy comes after).  With
#: the searches given all of it, 10 s of budget took 13.4-15.0 s on the paper's networks (1-2.4 s of them
#: refining), where pyoperon and gplearn take 10.6-11.6 s: the comparisons at equal time were not.
FINISH_SHARE = 0.25
#: ``simplify_seconds="auto"``: sympy's time for the formulas shown, at most (half of a shorter budget).
AUTO_SIMPLIFY_SECONDS = 5.0
#: Generations between the meetings of the layer-wise search's islands, where
#: the driver's clock and callback see them (a few milliseconds).
ISLANDS_MEET_EVERY = 25
#: A classifier probed on its domain holds this share of its rows (at most
#: HELD_OUT_MAX, and only when that is at least HELD_OUT_MIN) out of every
#: fit, to select its formula on (with the domain): the rows are where its
#: class is read, and the rows it was fitted on would favour formulas that
#: learned them (100 % on the fitted rows of a 150-row table, 70 % on its test
#: rows).  Fewer than HELD_OUT_MIN rows judge agreement too coarsely, and cost
#: a small table too much of its fit: on PMLB's tables of under 200 rows,
#: holding a fifth out lowered test agreement by 2.5 points on average.
HELD_OUT_SHARE = 0.2
HELD_OUT_MIN = 40
HELD_OUT_MAX = 1000
#: direct_budget="auto": the share of the budget for direct searches of the network's output.  Regression:
#: the selected formula came from a direct search on 12 of the paper's 12 networks, and with 0.75 instead
#: of 0.25 (10 s, side by side) its R^2 on the training box rose on 7 (median 0.907 -> 0.958; feynman2
#: 0.70 -> 0.90, feynman5 0.72 -> 0.96) and fell on 1.  Classifiers keep 0.25, with which the PMLB suite
#: was measured (the layer-wise chain's projections serve many inputs).
DIRECT_BUDGET_REGRESSION = 0.75
DIRECT_BUDGET_CLASSIFIER = 0.25

_PRESET_KEYS = ("form", "n_rows", "n_columns", "levels_back", "functions", "n_offspring", "mutation",
                "mutation_rate", "selection")



def held_out_rows(n: int, run_seed: int) -> tuple[np.ndarray | None, np.ndarray]:
    """(validation rows, fitted rows), seeded: HELD_OUT_SHARE of n rows
    (rounded down, at most HELD_OUT_MAX), or (None, all rows) when that is
    fewer than HELD_OUT_MIN (under 200 rows)."""
    n_held = min(HELD_OUT_MAX, int(HELD_OUT_SHARE * n))
    if n_held < HELD_OUT_MIN:
        return None, np.arange(n)
    order = np.random.default_rng([run_seed, 5]).permutation(n)
    return np.sort(order[:n_held]), np.sort(order[n_held:])


def searched_rows(X: np.ndarray, fitted: np.ndarray, size: int, rng) -> np.ndarray:
    """``size`` of the ``fitted`` rows to search on (all of them if fewer), sorted: each input's smallest and
    largest row, then a random draw.  The final linear maps are fitted on every row, where a formula chosen on
    a random draw could overflow on an outlier it never saw (``exp`` of a row at 1e3): the fit failed at its
    end, its whole budget lost."""
    if len(fitted) <= size:
        return fitted
    values = X[fitted]
    extremes = np.unique(np.concatenate([np.argmin(values, axis=0), np.argmax(values, axis=0)]))
    extremes = fitted[extremes[: size // 2]]
    rest = np.setdiff1d(fitted, extremes)
    return np.sort(np.concatenate([extremes, rng.choice(rest, size - len(extremes), replace=False)]))


def closer_formula(pareto: list[dict], classification: bool) -> tuple[int, float] | None:
    """(complexity, figure on the domain) of the front's most faithful pole-free formula that is not loose, or
    None: what to offer beside a loose selected formula (a search cut short headlined a linear map of R2 0.16
    beside a 604-node formula of 0.988, and advised a longer search)."""
    figures = [(loose_figure(entry["figures"].get("domain"), classification), entry)
               for entry in pareto if not entry["singularities"]]
    close = [(figure, entry) for figure, entry in figures if figure is not None and figure >= LOOSE_BELOW]
    if not close:
        return None
    figure, best = max(close, key=lambda pair: pair[0])
    return best["complexity"], figure


def _warn_if_loose(figures: dict, classification: bool, pareto: list[dict], singular: bool) -> None:
    """Warn when the selected formula's figure on the domain is below :data:`srnet.metrics.LOOSE_BELOW`, with its
    rows' figure where that is loose too (a 20-row linnerud network's formula of domain R2 0.64 had R2 -0.69 on
    the rows, worse than a constant, and the warning quoted the domain's alone), its pole if it has one, and the
    front's closer formula where there is one (a 12-row network's formula of R2 -1e4, a pole inside the domain,
    was told that a longer search may do better)."""
    fit = loose_figure(figures.get("domain"), classification)
    rows = loose_figure(figures.get("rows"), classification)
    on_rows = f"; {fidelity_text(rows, classification)} on the rows" if rows is not None and rows < LOOSE_BELOW else ""
    if fit is not None and fit < LOOSE_BELOW:
        pole = "it has a pole inside the domain (singularities_); " if singular else ""
        closer = closer_formula(pareto, classification)
        advice = ("pareto_ holds the best formula of each size, and a longer search (max_seconds) may do better"
                  if closer is None else f"pareto_ holds a pole-free one of {closer[0]} nodes at "
                  f"{fidelity_text(closer[1], classification)} on the domain: select={closer[0]}")
        quiet = "" if classification else quiet_network_text(figures.get("domain"), figures.get("rows"))
        warnings.warn(f"{LOOSE_WARNING} ({fidelity_text(fit, classification)}{on_rows}{quiet}): read it as a "
                      f"sketch; {pole}{advice}", UserWarning, stacklevel=caller_outside_srnet())
    elif fit is not None and not classification and (loose := loose_outputs(figures.get("domain"))):
        warnings.warn(f"{LOOSE_WARNING} {loose_outputs_text(loose, fit)}; each output's R2 is in r2_per_output of "
                      f"the figures (pareto_ holds the best formula of each size: select=N)",
                      UserWarning, stacklevel=caller_outside_srnet())


@contextlib.contextmanager
def without_loose_warning():
    """srnet's own fits (an explainer in a comparison, a transformer block's explanation) are judged by their
    figures where they are used: the loose-formula warning, whose advice the user cannot act on there, is left
    out of them."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=LOOSE_WARNING)
        yield


#: Fewest points of the domain selection judges the candidates on, however few the rows (within
#: ``max_samples``): labels are free, and a validation sample as small as 12 rows selected a formula with a
#: pole, its validation R^2 0.70 where the domain's 2000 points gave -10130 (a pole-free one had 0.77 there).
#: The search's sample stays as many as the rows (it sets the search's speed).
MIN_DOMAIN_POINTS = 500

#: Points of the domain the candidate formulas are checked for poles on (see
#: :func:`srnet.formulas.singularities`), however few the rows.
POLE_POINTS = 2000
#: Points of the domain (at least; as many as the rows searched when more) that its reported figures are
#: measured on: a sample of their own, which neither the search nor selection saw.  Reported on the
#: validation sample that selected the formula, a classifier's domain agreement read 1.4-2.6 points above
#: what 20000 fresh points of the domain gave (iris: 98.0 % printed, 95.4 % there), and in steps of 1/150.
REPORT_POINTS = 2000


class SRNet(BaseEstimator):
    """Explain a trained network with one symbolic formula per layer.

    Parameters
    ----------
    preset : {"default", "paper"}, default="default"
        Search settings used for every parameter left as None below.
        ``"paper"``: the SRNet paper's (5x5 grid, full levels-back, its ten
        functions, lambda=199, point mutation 0.4, 5000 generations, one
        output per layer).  ``"default"``: srnet's, tuned for speed and
        fidelity (multi-output chromosomes, 1x20 grid, lambda=32, the
        paper's functions and tanh: :data:`srnet.layers.DEFAULT_FUNCTIONS`).
    form : {"multi", "paper"} or None
        ``"paper"``: h_k ~ f_k(h_{k-1}) w_k + b_k; ``"multi"``:
        h_k ~ [F_k(h_{k-1}), 1] W_k with ``n_outputs`` outputs per chromosome.
    n_outputs : int or list of int, default=3
        Outputs m of each layer's chromosome in the multi form.
    n_rows, n_columns, levels_back, functions, n_offspring, mutation, mutation_rate
        CGP grid and evolution strategy (None: from the preset).
    selection : {"drift", "paper"} or None
        ``"paper"``: the paper's rule (each layer picks among offspring only;
        the parent is replaced only by a strictly better genome); ``"drift"``
        (the default preset's): the parent's chromosome competes in each
        layer's pick and ties are accepted (neutral drift).  See
        :mod:`srnet.layers`.
    n_constants : int, default=1
    constant_pool : tuple of float, default=(1, 2, 3, 0.5)
    max_generations, max_seconds : int, float or None
        Budget; None for both uses the preset's (default: 30 s; paper: 5000
        generations).  Each must be > 0.  With islands (see ``n_threads``)
        the generations are each island's, and ``n_evaluations_`` sums them
        over the islands.  The seconds are the fit's from the start of the
        search: the searches get all but :data:`FINISH_SHARE` (1/4) of them,
        fitting the layers' weights and refining constants the rest
        (refinement stops at the budget's end); the one-time kernel
        compilation (``compile_seconds_``) and writing the formulas out
        (composing them in sympy, simplifying for up to
        ``simplify_seconds``, rounding and printing: a second or two, more
        for classifiers of many inputs and classes) come on top.  Each
        part's time is reported (``report()``'s ``*_seconds``).
        Ctrl-C (KeyboardInterrupt) during the search stops it and keeps the
        best explanation so far (``stop_reason_ == "interrupted"``).  X needs
        at least :data:`srnet.data.MIN_ROWS` (10) rows.
    max_samples : int, default=2000
        Larger data are subsampled for the search; the final linear maps and
        all reported figures use every row.  With a domain beyond the rows,
        half the search sample is drawn from the domain, the validation sample
        has as many points (at least ``MIN_DOMAIN_POINTS``, 500, within
        ``max_samples``, however few the rows), and the domain's figures are
        measured on a sample of at least ``REPORT_POINTS`` (2000) more, as are
        those beyond a box.
    domain : str, srnet.domain.Domain, sequence of (low, high) or None
        Where the formula must be faithful (see :mod:`srnet.domain`):
        ``"rows"``, ``"widen:F"``, ``"box:..."`` or (low, high) pairs,
        ``"jitter:S"``; None means ``"auto"`` (the data's box widened 1.2-fold
        for up to 4 inputs or for inputs that vary independently, else the
        rows jittered by 0.1 std).  Domain
        points are labelled by probing the network: the search sees them,
        selection uses a separate validation sample of the domain (the region
        "validation"), and every figure is reported per region (rows, the
        domain on a sample neither the search nor selection saw, beyond a
        box).  A
        classifier of at least 200 rows also holds a fifth of them out of
        every fit (``HELD_OUT_SHARE``), reported as the region
        "validation-rows", and selection weighs them as much as the domain.
        :meth:`fit_activations` has no network to probe: it uses the rows.
    direct_budget : float in [0, 1) or "auto", default="auto"
        Share of the budget spent on direct symbolic regression of the
        network's output (several sizes), whose formulas join the layer-wise
        one as candidates (0: the layer-wise formula only).  With a
        generation budget, the direct searches get this share of the
        evaluations.  "auto": ``DIRECT_BUDGET_REGRESSION`` (0.75) for a
        regression network, ``DIRECT_BUDGET_CLASSIFIER`` (0.25) for a
        classifier (why: see those constants).
    refine : bool, default=True
        Tune every constant of each candidate end-to-end against the network
        (L-BFGS in torch); kept only where it lowers the validation error.
    select : {"best", "accurate", "layerwise"} or int, default="best"
        Which formula of the Pareto front becomes ``expression_`` and
        ``predict``: a faithful formula as simple as its accuracy allows, or
        when none is faithful the most accurate readable one
        (:func:`srnet.formulas.select`); the most accurate; the layer-wise
        chain (the SRNet paper's formula); or the most accurate of at most N
        nodes.
    teacher_forcing : bool, default=False
        Feed layer k the network's true layer k-1 (per-layer diagnosis)
        instead of its approximation (composable formulas).  The formula's
        own figures (``layer_r2_``, ``output_r2_``, ``fitness_``, ...) always
        describe what :meth:`predict` computes, the layers chained; the
        teacher-forced ones are ``teacher_forced_layer_mse_`` and
        ``teacher_forced_layer_r2_``.
    ridge : float, default=1e-8
        Relative ridge of the per-layer least squares.
    simplify_seconds : float or "auto", default="auto"
        Time for sympy to simplify every formula shown, in all (half for the
        layer-wise composition, half shared by the other candidates).
        "auto": 5 s, or half of ``max_seconds`` where that is less (a 2 s
        budget took 6 s with 5 s of sympy after it).  The
        search with ``max_generations`` is reproducible; a simplification
        cut off by this limit on a busy machine can change a formula's
        printed size and so, rarely, which one is selected: 0 makes the
        selection exact across machines (formulas are then shown unsimplified).
    random_state : int or None
    n_threads : int or None
        Threads of the search (None: numba's, every core).  On small data
        (too little work per generation to share out) each thread evolves
        a population of its own, and the best moves between them every
        2000 generations (islands, :mod:`srnet.cgp.islands`); on large data
        the threads share every generation's evaluation.  With a generation
        budget and ``n_threads=None``, one population: the formula is then
        the same on every machine.
    progress : bool, default=False
        Show a progress bar during the search.

    Attributes
    ----------
    layer_expressions_ : list of list of sympy.Expr
        Per explained layer, one expression per unit, in that layer's inputs
        (``x0..`` for the first, ``h{k}_{j}`` for later ones).
    layer_features_ : list of list of sympy.Expr
        Per layer, the chromosome's outputs F_k (the shared hidden semantics).
    expression_ : sympy.Expr or list of sympy.Expr
        The selected whole-network formula of the output(s) in the network
        inputs: exactly what :meth:`predict` computes.
    layerwise_expression_ : sympy.Expr or list of sympy.Expr
        The layer-wise chain composed into one formula (what
        :meth:`predict_layers` ends with).
    formula_ : srnet.formulas.Formula
        The selected formula as data (JSON, torch through its programs).
    pareto_ : list of dict
        The Pareto front of candidate formulas by (complexity, validation
        error: RMSE on the domain's validation sample; for classifiers 1 - validation_agreement
        first), simplest first: source, complexity, figures per region,
        ``validation_agreement`` (classifiers), formula text (constants to 4
        digits), poles found in the domain; ``latex`` for the selected
        formula and ``readable_`` (None for the others: sympy's LaTeX of a
        wide classifier's candidate takes about half a second).
    readable_ : dict or None
        When the selected formula is longer than a person reads
        (``READABLE_COMPLEXITY`` nodes per formula read: each output, or a
        two-class decision), the summary of the one that cap selects if that
        one is short enough (the formula ``select=readable_["complexity"]``
        selects too); else None.
    classes_ : ndarray or None
        A scikit-learn classifier's class labels (what :meth:`predict_class`
        returns); None for other networks (it returns output indices).
    feature_names_in_ : ndarray of str
        The inputs' names (a DataFrame's columns, else the model's or
        ``feature_names``), when known: a DataFrame given to ``predict``
        must have these columns, in this order.
    feature_names_ : list of str
        The symbol each input is read by in the formulas (x0, x1, ... when
        unnamed; a name that would read ambiguously made a symbol).
    feature_symbols_ : dict or None
        Each named input's own name -> its symbol (None when unnamed).
    regions_ : dict
        The selected formula's figures per region (rows, domain, beyond a
        box, a classifier's validation-rows; "validation": the domain's
        sample that selected it, which reads optimistic).
    domain_ : dict
        The explanation domain as used: ``kind``, ``factor``, ``box`` (the
        bounds, for boxes), and ``note``: why a region has no figures (the
        network is NaN/inf beyond the box), else None.
    programs_ : list of srnet.expr.Program
        Each explained layer's program (the first reads X's own units).
    input_map_ : srnet.coordinates.InputMap or None
        The inputs far from unit scale (beyond +-10, or of a spread under
        0.05) were searched as ``(x - centre) / scale`` (their mean and
        standard deviation): srnet's functions and constants suit inputs of
        unit scale (an input in [20, 80] made a 12-node law a formula of
        1,673 nodes).  Every formula, program and figure reads X's own units;
        None when every input was searched as given.
    simplify_seconds_ : float
        The time sympy had to simplify the formulas shown (``simplify_seconds``, "auto" resolved).
    standardised_symbols_ : dict
        Inputs whose centre lies 100 scales or more from 0 (a Unix time) are
        written in the printed formulas (``pareto_``, ``selected_``, the
        report's texts) as their search coordinate, ``z_t`` ->
        ``"(t - 1700011000)/102000"``: in the input's own units every
        constant beside it needs many more digits.  ``expression_``,
        ``formula_`` and ``predict`` read the inputs' own units.  Empty when
        none.
    layer_mse_, layer_r2_ : list of float
        Each layer's formula chained from the inputs (what predict_layers
        computes) against the network's layer, on all rows.
    teacher_forced_layer_mse_, teacher_forced_layer_r2_ : list of float or None
        With ``teacher_forcing``: each layer's formula fed the network's own
        previous layer.  None otherwise.
    fitness_ : float
        The paper's fitness of the chained formulas: mean hidden-layer MSE +
        output MSE (all rows).
    output_r2_, output_rmse_ : float
        The formula (predict) against the network's output; a classifier's
        against its class probabilities (the softmax of the formula's
        logits: logits are free up to a shift per row, and their R^2 says
        little; ``regions_["rows"]`` has both).
    is_classifier_ : bool
    agreement_ : float or None
        Classifiers: share of rows where the formula's argmax equals the
        network's predicted class.
    history_ : ndarray of shape (k, 4)
        ``(generation, evaluations, seconds, search fitness)`` at the start,
        at each improvement and at the end (as :class:`srnet.CGPRegressor`'s).
    n_islands_ : int
        Populations the layer-wise search ran side by side (see ``n_threads``).
    """

    def __init__(self, *, preset="default", form=None, n_outputs=3, n_rows=None, n_columns=None, levels_back=None,
                 functions=None, n_constants=1, constant_pool=DEFAULT_CONSTANT_POOL, n_offspring=None,
                 mutation=None, mutation_rate=None, selection=None, max_generations=None, max_seconds=None,
                 max_samples=2000, domain=None, direct_budget="auto", refine=True, select="best",
                 teacher_forcing=False, ridge=1e-8, simplify_seconds="auto", random_state=None, n_threads=None,
                 progress=False):
        self.preset = preset
        self.form = form
        self.n_outputs = n_outputs
        self.n_rows = n_rows
        self.n_columns = n_columns
        self.levels_back = levels_back
        self.functions = functions
        self.n_constants = n_constants
        self.constant_pool = constant_pool
        self.n_offspring = n_offspring
        self.mutation = mutation
        self.mutation_rate = mutation_rate
        self.selection = selection
        self.max_generations = max_generations
        self.max_seconds = max_seconds
        self.max_samples = max_samples
        self.domain = domain
        self.direct_budget = direct_budget
        self.refine = refine
        self.select = select
        self.teacher_forcing = teacher_forcing
        self.ridge = ridge
        self.simplify_seconds = simplify_seconds
        self.random_state = random_state
        self.n_threads = n_threads
        self.progress = progress

    # ------------------------------------------------------------------ fit

    def settings(self) -> dict:
        """The search settings in effect: the preset, overridden by parameters.

        A budget given here (``max_seconds`` or ``max_generations``) replaces
        the preset's budget as a whole.
        """
        if self.preset not in PRESETS:
            raise ValueError(f"unknown preset {self.preset!r}; valid: {', '.join(PRESETS)}")
        settings = dict(PRESETS[self.preset])
        for key in _PRESET_KEYS:
            if getattr(self, key) is not None:
                settings[key] = getattr(self, key)
        if self.max_seconds is not None or self.max_generations is not None:
            settings["max_seconds"] = self.max_seconds
            settings["max_generations"] = self.max_generations
        return settings

    def fit(self, model, X, y=None, *, layers=None, feature_names=None, classes=None, callback=None):
        """Probe ``model`` on ``X`` and explain every recorded layer.

        Parameters
        ----------
        model : torch.nn.Module or fitted scikit-learn MLP
            A trained network (see :func:`srnet.probe.plan_layers` for which
            layers are explained by default; softmax heads are explained
            through their logits; :func:`srnet.networks.as_network` for what
            is accepted).
        X : array-like of shape (n_samples, n_features)
        y : None
            Refused with one line: the explanation is of the network's own
            outputs, which it labels itself (scikit-learn's habit,
            ``fit(model, X, y)``, met a bare TypeError).
        layers : list of str or None
            Module names to explain instead of the default layers.
        feature_names : list of str or None
            Names of the inputs in the formulas (default: a DataFrame's
            columns, else x0, x1, ...); made unambiguous symbols by
            :func:`srnet.names.feature_symbols` (``feature_symbols_``:
            original name -> symbol).
        classes : array-like or None
            Classifiers: the label of each output, in order, which
            :meth:`predict_class` returns (default: a scikit-learn
            classifier's ``classes_``, else the outputs' indices).
        callback : callable or None
            Called with a :class:`srnet.cgp.Progress` after each generation
            (with islands, after every :data:`ISLANDS_MEET_EVERY`) of the
            layer-wise search; returning True stops it, and the direct
            searches are then skipped (the network's least-squares linear
            formula stands in for them), as after Ctrl-C.
        """
        if y is not None:
            raise TypeError("SRNet.fit(model, X) takes no y: it explains the network's own outputs on X, which the "
                            "network labels itself (to see how the network fits a target, score it yourself, or "
                            "run srnet explain with --target)")
        model_names = getattr(model, "feature_names_in_", None)  # a scikit-learn model fitted on a DataFrame
        columns = getattr(X, "columns", None)
        input_names(X, model)  # X's columns in another order than the model's: fed scrambled, named wrongly
        for known, whose in ((frame_columns(X), "X's columns"), (model_names, "the model's features")):
            _check_renaming(name_list(feature_names), known, whose)
        if feature_names is None and columns is None:
            feature_names = model_names
        self._checked_settings()  # every parameter, before any probing or searching
        model_labels = getattr(model, "classes_", None)  # a scikit-learn classifier's, for predict_class
        original, model = model, as_network(model)
        given = X  # a DataFrame's columns name the features (fit_activations reads them)
        X = check_matrix(X)
        check_rows(X)
        _check_squarable(X, "X")
        if layers is not None and not isinstance(layers, str):
            with contextlib.suppress(TypeError):  # (plan_layers names what layers must be)
                layers = list(layers)  # read twice, by plan_layers and probe: a generator was empty the second time
        plan = plan_layers(model, layers)
        training = in_training_mode(model)
        if training:  # (a Dropout network in train mode scored R^2 0.38 against the formula reported at 0.994)
            shown_modules = ", ".join(f"'{name}'" for name in training[:3]) + (", ..." if len(training) > 3 else "")
            modules = f"module {shown_modules} computes" if len(training) == 1 else f"modules {shown_modules} compute"
            warnings.warn(f"the network is in training mode ({modules} otherwise there); srnet "
                          f"explains it in eval mode, as model.eval() runs it: call model.eval() before comparing "
                          f"the formula with it", UserWarning, stacklevel=2)
        domain = as_domain(self.domain).resolved(X)
        box = domain.bounds(X)
        if box is not None:
            _check_squarable(np.asarray(box), "the explanation domain",
                             "choose a smaller widen factor" if domain.kind == "widen" else "choose a smaller box")
        n_rows = min(len(X), self.max_samples)
        # one seed for the whole fit: drawn again in fit_activations, random_state=None (or a Generator) held out
        # other rows than the domain's jitter had left out, and copies of the validation rows were searched on
        run_seed = seed_from(self.random_state)
        rng = np.random.default_rng([run_seed, 2])
        activations = probe(model, X, layers)  # (first: X of the wrong width is named as such)
        if layers is None and len(plan.names) == 1 and plan.linears > 1 and isinstance(original, torch.nn.Module):
            # (a forward calling F.relu or torch.tanh between its Linears has no activation module to end a layer:
            # its layer-wise explanation became a direct formula without a word)
            warnings.warn(f"srnet sees no layer boundary in the network (its forward runs {plan.linears} Linear "
                          f"modules joined by no activation module: it calls functions such as F.relu itself, or "
                          f"none), so it explains the output directly from the inputs; to explain it layer by "
                          f"layer, write the activations as modules (nn.ReLU())", UserWarning, stacklevel=2)
        self._check_activations(X, activations)  # before the domain's: the rows' range is no domain's fault
        if domain.kind != "box":  # (a box's points vary whatever the rows)
            check_varies(X, "explain", "give rows that vary, or a box domain: domain=[(low, high), ...], on the "
                                       "command line --domain box:L,H;...")
        samples, skipped = {}, None
        if domain.kind != "rows":
            # search (within the rows' budget) and validation samples of the domain, and the region beyond a box;
            # a classifier's held-out rows (fit_activations draws the same) are no centres of the searched jitter:
            # 18 % of its points were copies of them moved by 0.1 std, and their agreement read optimistic
            held, fitted = held_out_rows(len(X), run_seed) if plan.is_classifier else (None, None)
            centres = X[fitted] if held is not None and domain.kind == "jitter" else X
            # the search's sample, selection's ("validation"), and the domain's figures' own, which neither sees
            regions = {"fit": domain.sample(centres, n_rows, rng), "validation": domain.sample(X, n_rows, rng)}
            extra = min(MIN_DOMAIN_POINTS, self.max_samples) - n_rows
            if extra > 0:  # (from a stream of their own: the draws after these stay those of larger data)
                regions["validation"] = np.vstack([regions["validation"],
                                                   domain.sample(X, extra, np.random.default_rng([run_seed, 10]))])
            regions["domain"] = domain.sample(X, max(n_rows, REPORT_POINTS), np.random.default_rng([run_seed, 8]))
            if box is None:  # a jitter's points, as far out as its S says (a box's bounds were checked above): a
                # jitter of 1e155 std failed after the whole search, "invalid program: weights ... are not finite"
                for points in (regions["fit"], regions["validation"], regions["domain"]):
                    _check_squarable(points, "the explanation domain", "choose a smaller jitter")
            # as many points as the domain's figures have, from a stream of their own (on the rows' 600 points a
            # "beyond" R2 read 0.8186 where 20000 points gave 0.795)
            beyond = domain.sample_beyond(X, max(n_rows, REPORT_POINTS), np.random.default_rng([run_seed, 9]))
            if beyond is not None:
                regions["beyond"] = beyond
            for name, points in regions.items():
                try:
                    there = probe(model, points, layers, rows="points sampled there")
                    # the domain's activations are fitted and measured as the rows' are: checked as fit_activations
                    # checks those (an exp network of 1e147 on the rows and 1e177 on the widened box passed, and
                    # its formula scored R2 -2e49 on the rows, with overflow warnings)
                    for k, layer in enumerate(there):
                        _check_squarable(layer, f"layer {k + 1}'s activations", "choose a smaller domain", targets=True)
                    samples[name] = (points, there)
                except ValueError as error:  # the probe refuses non-finite activations, the check unsquarable ones
                    if name == "beyond":  # only a figure is lost: say so, and report the domain itself
                        skipped = (f"no figures beyond the domain: the network returns NaN/inf, or values too "
                                   f"large to square, there ({error})")
                        continue
                    raise ValueError(f"the network returns NaN/inf, or values too large to square, on its "
                                     f"explanation domain {domain.text(X)} ({error}); choose a domain where it is "
                                     f"defined (domain= / --domain)") from None
            # where candidates are checked for poles: formulas only, no network, so as many points as it takes
            # (on a validation sample of 50 points, 1/(x - 0.5) looked removable in 2 runs of 5)
            samples["poles"] = (domain.sample(X, max(n_rows, POLE_POINTS), rng), None)
        if classes is None and plan.is_classifier:  # (explained up to a hidden layer, its outputs are not classes)
            classes = model_labels
        # (a DataFrame's text columns name the inputs, as fit_activations reads them: the note said x0 beside a
        # formula in 'speed')
        named = feature_names if feature_names is not None else frame_columns(given)
        names = [str(n) for n in named] if named is not None else [f"x{j}" for j in range(X.shape[1])]
        apart = [] if box is None else [j for j, (low, high) in enumerate(np.asarray(box, dtype=np.float64))
                                        if high < X[:, j].min() or low > X[:, j].max()]
        if apart:  # (the demo's box:5,6 printed "domain -220" for the rows without a word)
            missed = (f"the domain box misses the data's range of {', '.join(str(names[j]) for j in apart)}: "
                      f"every row lies outside it, and the rows' figures judge the formula where it was not fitted")
            skipped = missed if skipped is None else f"{skipped}; {missed}"
        kept = sorted(categories(X)) if domain.kind in ("widen", "jitter") else []
        if kept:  # (widen:3 of a grid of whole numbers 0..9 was the rows' own points, without a word)
            shown = ", ".join(str(names[j]) for j in kept[:4]) + (", ..." if len(kept) > 4 else "")
            which = ("every input takes" if len(kept) == X.shape[1] else
                     f"{counted(len(kept), 'input')} ({shown}) {'takes' if len(kept) == 1 else 'take'}")
            read = (f"{which} at most {MAX_CATEGORIES} whole numbers or two values, read as categories: the domain "
                    f"keeps {'it on its' if len(kept) == 1 else 'them on their'} own values")
            skipped = read if skipped is None else f"{skipped}; {read}"
        return self.fit_activations(given, activations, classification=plan.is_classifier, classes=classes,
                                    feature_names=feature_names, callback=callback, domain_samples=samples,
                                    layer_names=list(plan.names), _run_seed=run_seed,
                                    _domain={**domain.describe(X), "note": skipped})

    def _direct_share(self, classification: bool) -> float:
        """The share of the budget the direct searches get (``direct_budget`` checked, "auto" resolved)."""
        direct_budget = self.direct_budget
        if isinstance(direct_budget, str):
            if direct_budget != "auto":
                raise ValueError(f"direct_budget is a share of the budget in [0, 1) or 'auto', got {direct_budget!r}")
            direct_budget = DIRECT_BUDGET_CLASSIFIER if classification else DIRECT_BUDGET_REGRESSION
        direct_share = 0.0 if self.teacher_forcing else check_budget("direct_budget", direct_budget,
                                                                     positive=False)
        if direct_share >= 1:
            raise ValueError(f"direct_budget is a share of the budget in [0, 1), got {direct_share}")
        return direct_share

    def fit_activations(self, X, activations, *, classification=False, feature_names=None, callback=None,
                        domain_samples=None, classes=None, layer_names=None, _run_seed=None, _domain=None):
        """Explain recorded activations (one (n, width) array per layer, the
        network output last) of a network whose inputs were ``X``.

        ``domain_samples`` (set by :meth:`fit`): ``{"fit" | "validation" |
        "domain" | "beyond": (points, activations per layer)}``, the network
        probed on its explanation domain (searched on, selected on, reported
        on, and beyond a box), and ``"poles": (points, None)``, where the
        formulas are checked for poles.  Without it the domain is the rows.
        ``classes``: the labels :meth:`predict_class` returns (a scikit-learn
        classifier's ``classes_``; None: the outputs' indices).
        ``layer_names``: one per recorded layer (:meth:`fit` gives the
        modules' names; default layer1, layer2, ...).
        """
        started = time.perf_counter()
        columns = frame_columns(X)
        _check_renaming(name_list(feature_names), columns, "X's columns")  # (as fit does)
        if feature_names is None:
            feature_names = columns
        # the inputs' names (a DataFrame's text columns, else the model's or feature_names=): a DataFrame's
        # columns are checked against them at predict (feature_names_in_, as scikit-learn names it); a numbered
        # frame names none (feature_names= there made predict refuse the very frame fit was given)
        names_in = columns if hasattr(X, "columns") else feature_names
        symbols = None
        feature_names = name_list(feature_names)
        if feature_names is not None:
            symbols = dict(zip(feature_names, feature_symbols(feature_names)))
            feature_names = feature_symbols(feature_names)
        X = check_matrix(X)
        _check_squarable(X, "X")
        targets = self._check_activations(X, activations)
        check_rows(X)
        settings = self._checked_settings()
        if _domain is None:  # called directly, on recorded activations: no network to probe on a domain
            domain = as_domain(self.domain)  # (a bad one is refused here as by fit; it was never read)
            if domain.kind not in ("auto", "rows"):
                warnings.warn(f"fit_activations explains the rows it is given: domain={self.domain!r} is used by fit, "
                              f"which probes the network there", UserWarning, stacklevel=2)
        run_seed = seed_from(self.random_state) if _run_seed is None else _run_seed  # fit's own, when it calls
        if layer_names is not None and len(layer_names) != len(targets):
            raise ValueError(f"{len(layer_names)} layer names for {len(targets)} recorded layers")
        if classification and targets[-1].shape[0] < 2:  # argmax of one column: 100 % agreement, always
            raise ValueError("classification needs one output (logit) per class, at least 2; for a network "
                             "with one logit, pass classification=False, or its logits as two columns (0, z) (fit "
                             "takes such a network as srnet.networks.binary_classifier(model))")
        feature_names = list(feature_names) if feature_names is not None else [f"x{j}" for j in range(X.shape[1])]
        if len(feature_names) != X.shape[1]:
            raise ValueError(f"{len(feature_names)} feature names for {counted(X.shape[1], 'column')} of X")
        if classes is not None and not classification:
            raise ValueError("classes= names a classifier's outputs; this network is not one (no softmax head); "
                             "if its outputs are class logits (trained with CrossEntropyLoss), fit "
                             "nn.Sequential(model, nn.Softmax(dim=1))")
        classes = None if classes is None else np.asarray(classes).reshape(-1)
        if classes is not None and len(classes) != targets[-1].shape[0]:
            raise ValueError(f"{len(classes)} class labels for the network's {targets[-1].shape[0]} outputs")
        if classes is not None and len(set(classes.tolist())) < len(classes):  # predict_class could not tell them
            twice = next(label for j, label in enumerate(classes.tolist()) if label in classes.tolist()[:j])
            raise ValueError(f"class labels must be distinct, one per output: {twice!r} labels two of them")
        direct_share = self._direct_share(classification)
        # every check passed; a refit refused above leaves the previous fit whole (its names beside another
        # fit's programs made predict refuse the data it was fitted on), and so does one that fails from here
        # on (a callback raising, a second Ctrl-C, a layer not finite on the data): its names beside the old
        # formula fed that formula another fit's columns
        previous = dict(self.__dict__)
        try:
            return self._fit_checked(X, targets, settings, run_seed, classification, feature_names, symbols,
                                     names_in, classes, layer_names, direct_share, callback, domain_samples,
                                     _domain, started)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(previous)
            raise

    def _fit_checked(self, X, targets, settings, run_seed, classification, feature_names, symbols, names_in,
                     classes, layer_names, direct_share, callback, domain_samples, _domain, started):
        """fit_activations once its arguments are checked: sets every fitted attribute."""
        if names_in is not None:
            self.feature_names_in_ = np.array([str(c) for c in names_in], dtype=object)
        elif hasattr(self, "feature_names_in_"):  # a refit on an array: no names to check
            del self.feature_names_in_
        self.feature_symbols_ = symbols
        self.layer_names_ = ([str(name) for name in layer_names] if layer_names is not None
                             else [f"layer{k + 1}" for k in range(len(targets))])
        self.n_features_in_ = X.shape[1]
        self.feature_names_ = feature_names
        self.is_classifier_ = bool(classification)
        self.classes_ = classes
        self.domain_ = _domain if _domain is not None else {"kind": "rows", "factor": None, "box": None, "note": None}
        # what this fit ran with, for report(): the parameters may be set to others after it
        self.fitted_with_ = {
            "seed": self.random_state if isinstance(self.random_state, (int, np.integer)) else None,
            "preset": self.preset, "select": self.select, "teacher_forcing": self.teacher_forcing,
            "settings": {k: (list(v) if isinstance(v, tuple) else v) for k, v in settings.items()}}
        # sympy's time for the formulas shown: "auto" keeps it within half a short budget
        self.simplify_seconds_ = float(self.simplify_seconds) if self.simplify_seconds != "auto" else \
            AUTO_SIMPLIFY_SECONDS if settings["max_seconds"] is None else \
            min(AUTO_SIMPLIFY_SECONDS, settings["max_seconds"] / 2)

        domain_samples = domain_samples or {}
        # inputs far from unit scale are searched in coordinates of their own; formulas come back in X's units
        self.input_map_ = search_coordinates(X)
        search_size = self.max_samples // 2 if "fit" in domain_samples else self.max_samples
        held, fitted = held_out_rows(X.shape[0], run_seed) if classification and "fit" in domain_samples else (
            None, np.arange(X.shape[0]))
        rows = searched_rows(X, fitted, search_size, np.random.default_rng([run_seed, 1]))
        search_X, search_targets = X[rows], [t[:, rows] for t in targets]
        fit_X, fit_targets = X[fitted], [t[:, fitted] for t in targets]  # where the final linear maps are fitted
        if "fit" in domain_samples:
            points, layers_there = domain_samples["fit"]
            there = [as_feature_rows(a) for a in layers_there]
            search_X = np.vstack([search_X, points[:search_size]])
            search_targets = [np.hstack([t, d[:, :search_size]]) for t, d in zip(search_targets, there)]
            fit_X = np.vstack([fit_X, points])
            fit_targets = [np.hstack([t, d]) for t, d in zip(fit_targets, there)]
        search_X, fit_X = (in_search_coordinates(rows, self.input_map_) for rows in (search_X, fit_X))
        specs = make_specs(X.shape[1], [t.shape[0] for t in targets], form=settings["form"], n_outputs=self.n_outputs,
                           n_rows=settings["n_rows"], n_columns=settings["n_columns"],
                           levels_back=settings["levels_back"], functions=settings["functions"],
                           n_constants=self.n_constants, constant_pool=self.constant_pool)
        threads = _kernels.thread_count(self.n_threads)  # as evolve() counts them
        total_seconds = settings["max_seconds"]
        search_seconds = None if total_seconds is None else total_seconds * (1 - FINISH_SHARE)
        if total_seconds is not None:  # the layer-wise search gets what the direct searches do not
            settings["max_seconds"] = search_seconds * (1 - direct_share)
        # once per process: not search time
        self.compile_seconds_ = warm_up_kernels(self.progress) + (warm_up_refinement() if self.refine else 0.0)
        search_rows = as_feature_rows(search_X)
        search_targets = [np.ascontiguousarray(t) for t in search_targets]
        # a generation budget promises the same formula on every machine: the machine's
        # thread count then decides no islands unless n_threads is given (as in evolve)
        reproducible = self.n_threads is None and settings["max_generations"] is not None
        self.n_islands_ = choose_islands(None, None if reproducible else threads, settings["n_offspring"] + 1,
                                         search_rows.shape[1])

        def population(seed, population_threads):
            return LayerwiseSearch(specs, search_rows, search_targets, n_offspring=settings["n_offspring"],
                                   mutation=settings["mutation"], mutation_rate=settings["mutation_rate"],
                                   ridge=self.ridge, teacher_forcing=self.teacher_forcing, run_seed=seed,
                                   n_threads=population_threads, selection=settings["selection"])

        if self.n_islands_ == 1:
            search = population(run_seed, threads)
        else:  # small data: each thread evolves a population of its own
            search = Islands([population(island_seed(run_seed, i), 1) for i in range(self.n_islands_)],
                             n_threads=threads, meet_every=ISLANDS_MEET_EVERY)
        with (SearchProgress(self.progress, "srnet", settings["max_seconds"], settings["max_generations"]) as bar,
              _kernels.engine_threads(threads)):  # numba threads, and single-threaded BLAS inside the kernels
            budget_end = None if total_seconds is None else time.perf_counter() + total_seconds
            outcome = run(search, max_generations=settings["max_generations"], max_seconds=settings["max_seconds"],
                          target_fitness=0.0, callback=bar.following(callback))
        self.stop_reason_ = outcome.stop_reason
        if self.stop_reason_ == "interrupted":  # said under --quiet too: the wait that follows is no hang
            print(f"interrupted after {search.generation} generations: composing the best explanation so far from "
                  f"the layer-wise chain and a linear map (the direct searches, where short formulas mostly come "
                  f"from, are skipped; Ctrl-C again quits at once)", file=sys.stderr, flush=True)
        elif self.progress:  # seconds more (8-20 s on iris): not a silence after the bar
            print("the direct searches, refining constants, then composing the layers and choosing the formula...",
                  file=sys.stderr, flush=True)
        self.search_seconds_ = outcome.seconds
        self.search_fitness_ = search.fitness
        self.search_rows_ = len(rows)
        self.setup_seconds_ = time.perf_counter() - started - self.compile_seconds_ - self.search_seconds_
        self.history_ = outcome.history
        self.n_generations_ = search.generation
        self.n_evaluations_ = search.evaluations
        self.genomes_ = search.best
        # after the search, a first Ctrl-C skips what is optional (direct searches, refinement, sympy's
        # simplification) and still delivers the explanation
        with FinishOnInterrupt("interrupted: finishing the explanation without the remaining direct searches, "
                               "refinement and simplification (Ctrl-C again quits at once)",
                               requested=self.stop_reason_ == "interrupted") as finishing:
            composing = time.perf_counter()
            search_programs, _, _ = fit_layer_programs(self.genomes_, as_feature_rows(fit_X), fit_targets,
                                                       self.ridge, self.teacher_forcing)
            # the first layer's program reads X's own units (the genomes, the search coordinates)
            self.programs_ = [in_input_units(search_programs[0], self.input_map_), *search_programs[1:]]
            self.teacher_forced_layer_mse_ = self.teacher_forced_layer_r2_ = None
            if self.teacher_forcing:  # each layer fed the network's own previous layer, on the rows
                inputs = [X] + [t.T for t in targets[:-1]]
                forced = [p.combine(p.raw_outputs(x)).T for p, x in zip(self.programs_, inputs)]
                self.teacher_forced_layer_mse_ = [mse(t, a) for t, a in zip(targets, forced)]
                self.teacher_forced_layer_r2_ = [rmse_r2(t.T, a.T)[1] for t, a in zip(targets, forced)]
            # the layer-wise formula's own figures: the layers chained from the rows
            approximations = [a.T for a in self.predict_layers(X)]
            self.layer_mse_ = [mse(t, a) for t, a in zip(targets, approximations)]
            self.layer_r2_ = [rmse_r2(t.T, a.T)[1] for t, a in zip(targets, approximations)]
            self.fitness_ = paper_fitness(self.layer_mse_)
            self.compose_seconds_ = time.perf_counter() - composing  # and the sympy part, after refinement
            self._select_formula(X, targets[-1].T, fit_X, fit_targets[-1].T, domain_samples, classification,
                                 layerwise=Formula("layerwise", tuple(search_programs)),
                                 direct_seconds=None if search_seconds is None else search_seconds * direct_share,
                                 # a generation budget caps the direct searches' evaluations too (seconds alone
                                 # would let them outrun it, and an evaluation count is reproducible)
                                 direct_evaluations=(None if settings["max_generations"] is None or not direct_share
                                                     else int(search.evaluations * direct_share / (1 - direct_share))),
                                 run_seed=run_seed, threads=None if reproducible else threads, settings=settings,
                                 finishing=finishing, deadline=budget_end,
                                 held_out=None if held is None else (X[held], targets[-1][:, held].T))
        if finishing.requested:  # a Ctrl-C after the search: finished without the optional steps, and said so
            self.stop_reason_ = "interrupted"
        self.wall_seconds_ = time.perf_counter() - started
        return self

    def _checked_settings(self) -> dict:
        """settings() with every budget and size checked (one line per problem)."""
        settings = self.settings()
        settings["max_seconds"] = check_budget("max_seconds", settings["max_seconds"], allow_none=True)
        settings["max_generations"] = check_budget("max_generations", settings["max_generations"],
                                                   allow_none=True, integer=True)
        settings["n_offspring"] = check_offspring(settings["n_offspring"])
        check_mutation(settings["mutation"], settings["mutation_rate"])  # (a KeyError deep in the search)
        check_budget("max_samples", self.max_samples, integer=True, minimum=MIN_ROWS)
        if not (isinstance(self.simplify_seconds, str) and self.simplify_seconds == "auto"):
            check_budget("simplify_seconds", self.simplify_seconds, positive=False)
        check_budget("ridge", self.ridge, positive=False)
        check_budget("n_threads", self.n_threads, allow_none=True, integer=True)
        check_select(self.select)
        for name, value, valid in (("form", settings["form"], FORMS), ("selection", settings["selection"], SELECTIONS)):
            if value not in valid:  # (they were refused only after the probing and the domain's sampling)
                raise ValueError(f"unknown {name} {value!r}; valid: {', '.join(valid)}")
        for name in ("refine", "teacher_forcing"):  # refine="no" read as True
            check_flag(name, getattr(self, name))
        counts = self.n_outputs if isinstance(self.n_outputs, (list, tuple)) else [self.n_outputs]
        if not counts or not all(isinstance(m, numbers.Integral) and not isinstance(m, bool) and m >= 1
                                 for m in counts):  # 2.5 was a TypeError traceback
            raise ValueError(f"n_outputs must be a whole number >= 1, or a list of one per explained layer; "
                             f"got {self.n_outputs!r}")
        return settings

    def _check_activations(self, X, activations) -> list[np.ndarray]:
        if not isinstance(activations, (list, tuple)) or not activations:
            raise ValueError("activations must be a non-empty list of (n_samples, width) arrays, one per layer")
        targets = []
        for k, layer in enumerate(activations):
            if isinstance(layer, torch.Tensor):  # recorded with autograd on, or on a GPU
                layer = layer.detach().to("cpu", torch.float64).numpy()
            try:
                layer = np.asarray(layer, dtype=np.float64)
            except (TypeError, ValueError) as error:
                raise ValueError(f"layer {k + 1}'s activations are not an array of numbers ({error})") from None
            if layer.ndim == 1:
                layer = layer[:, None]
            if layer.ndim != 2 or layer.shape[0] != X.shape[0]:
                raise ValueError(f"layer {k + 1}'s activations have shape {layer.shape}; expected "
                                 f"({X.shape[0]}, width) to match the {X.shape[0]} rows of X")
            bad = ~np.isfinite(layer)
            if bad.any():
                raise ValueError(f"layer {k + 1}'s activations contain {nonfinite_count(int(bad.sum()))}")
            _check_squarable(layer, f"layer {k + 1}'s activations", "rescale the network's inputs or outputs",
                             targets=True)
            targets.append(as_feature_rows(layer))
        return targets

    # -------------------------------------------------------------- formulas

    def _symbols(self, k: int):
        """Symbols of the inputs of explained layer k (0-based)."""
        if k == 0:
            return self.input_symbols_
        return tuple(layer_symbols(self.input_symbols_, k, self.programs_[k - 1].n_targets))

    def _select_formula(self, X, output, fit_X, fit_output, domain_samples, classification, *, layerwise,
                        direct_seconds, direct_evaluations, run_seed, threads, settings, finishing, deadline=None,
                        held_out=None):
        """Gather whole-network formulas (the layer-wise chain, direct ones),
        refine their constants, keep the Pareto front and select one.

        ``layerwise``: the layer-wise chain as searched (in fit_X's search coordinates, as the direct searches'
        formulas are until refined).  ``held_out``: a classifier's rows held out of every fit, (X, output),
        a region of their own ("validation-rows") that selection weighs as
        much as the domain.  ``finishing``: the :class:`FinishOnInterrupt`
        after the search; once it is requested, the optional steps are skipped.
        ``deadline`` (a perf_counter time, or None): the budget's end, where
        refinement stops."""
        started = time.perf_counter()
        regions = {"rows": (X, output)}
        for name in ("validation", "domain", "beyond"):
            if name in domain_samples:
                points, layers_there = domain_samples[name]
                regions[name] = (points, layers_there[-1])
        if "domain" not in regions:  # no network to probe: the rows are the domain
            regions["domain"] = regions["rows"]
        # selection's sample of the domain (Candidate.validation_*); the domain's figures are another sample's
        valid_X, valid_output = regions.get("validation", regions["domain"])
        if held_out is not None:
            # refinements are validated on the validation rows as much as on the domain, as selection
            # weighs them (Candidate.validation_agreement): as many of each
            regions["validation-rows"] = held_out
            count = min(len(valid_X), len(held_out[0]))
            points = np.random.default_rng([run_seed, 4]).permutation(len(valid_X))[:count]
            rows = np.random.default_rng([run_seed, 6]).permutation(len(held_out[0]))[:count]
            valid_X = np.vstack([valid_X[points], held_out[0][rows]])
            valid_output = np.vstack([valid_output[points], held_out[1][rows]])
        # poles are looked for on many points: the domain's, or between the rows when they are the domain
        domain_X = (domain_samples["poles"][0] if "poles" in domain_samples
                    else sample_rows_box(X, POLE_POINTS, np.random.default_rng([run_seed, 7])))
        # searched and refined in the search coordinates (fit_X's), measured and written in X's units
        formulas = [] if self.teacher_forcing else [layerwise]
        direct = bool(direct_seconds or direct_evaluations)  # direct_budget=0: the layer-wise chain alone
        # finishing.requested: the search was interrupted, or a Ctrl-C came since (FinishOnInterrupt); then
        # there is no time for searches, and least squares is instant.  So too when the callback stopped the
        # search (the direct searches ran on for their whole share without asking it again)
        if (finishing.requested or self.stop_reason_ == "callback") and direct and not self.teacher_forcing:
            formulas.append(network_linear_formula(fit_X, fit_output, classification=classification))
        elif direct:
            began = time.perf_counter()
            # a bar of its own: the layer-wise bar stops at its share of the budget (a demo's read 100 % of 3.8 s,
            # then the terminal was silent for the 11 s of these searches)
            with SearchProgress(bool(self.progress) and direct_seconds is not None, "srnet direct", direct_seconds,
                                None) as bar:
                def following(progress) -> bool:
                    bar(progress.generation, time.perf_counter() - began, progress.fitness)
                    return finishing.requested

                formulas += direct_formulas(fit_X, fit_output, functions=settings["functions"],
                                            n_constants=self.n_constants, constant_pool=self.constant_pool,
                                            max_seconds=direct_seconds, max_evaluations=direct_evaluations,
                                            random_state=run_seed, n_threads=threads, classification=classification,
                                            progress=following)
        self.direct_seconds_ = time.perf_counter() - started
        refining = time.perf_counter()
        # a formula found twice (a direct search that kept the linear map) is refined, composed and listed once
        formulas = distinct(formulas, in_search_coordinates(
            np.vstack([points for points, _ in regions.values()] + [domain_X]), self.input_map_))
        if self.refine and not finishing.requested:
            sample = np.random.default_rng([run_seed, 3]).permutation(len(fit_X))[:REFINE_POINTS]
            search_valid_X = in_search_coordinates(valid_X, self.input_map_)
            in_turn = most_promising_first(formulas, search_valid_X, valid_output, classification=classification)
            formulas += [f for f in (refine(f, fit_X[sample], fit_output[sample], search_valid_X, valid_output,
                                            classification=classification, deadline=deadline)
                                     for f in in_turn) if f is not None]
        formulas = [formula_in_input_units(f, self.input_map_) for f in formulas]
        self.refine_seconds_ = time.perf_counter() - refining
        # the layer-wise chain in sympy after refinement: the budget's last seconds refine constants, sympy
        # comes after them (composed first, a 90-input, 15-class chain took 2.35 s of the 2.5 s left after
        # the searches of a 10 s budget, and refinement, which lifts a classifier's formula most, had 0.14 s)
        composing = time.perf_counter()
        self._compose(X, finishing)
        composed = time.perf_counter() - composing
        self.compose_seconds_ += composed
        # the other half of simplify_seconds, shared by every expression of every candidate
        seconds = 0 if finishing.requested else self.simplify_seconds_ / 2 / max(1, sum(f.n_targets for f in formulas))
        candidates = [candidate(f, self.input_symbols_, regions, domain_X, classification=classification,
                                simplify_seconds=seconds,
                                expressions=self._layerwise_list() if f.source == "layerwise" else None,
                                written=self._written)
                      for f in formulas]
        if not candidates:  # teacher forcing: the chained layers are the only formula
            self.formula_ = self.selected_ = self.readable_ = None
            self.pareto_, self.candidates_ = [], []
            self.expression_ = None
            self.regions_ = {}
            figures = {"rmse": math.sqrt(self.layer_mse_[-1]), "r2": self.layer_r2_[-1]}
            predicted = self.predict_layers(X)[-1]
        else:
            chosen = select(candidates, self.select)
            cap = self.select if not isinstance(self.select, (str, bool)) else None  # (check_select: a whole number)
            if cap is not None and chosen.complexity > cap:  # select=N takes the simplest when none is that small
                warnings.warn(f"no formula of <= {cap} nodes was found; select={cap} took the simplest "
                              f"({chosen.complexity} nodes)", UserWarning, stacklevel=3)
            passed = None if cap is None else passed_over_for_a_pole(candidates, cap, chosen)
            if passed is not None:
                def judged(c):  # (as select ranks them: on the validation sample)
                    return fidelity_text(c.validation_agreement if classification else c.validation_r2,
                                         classification)

                warnings.warn(f"select={cap}: the most faithful formula of <= {cap} nodes ({passed.complexity} "
                              f"nodes, {judged(passed)}) has a pole in the domain ({passed.singularities[0]}); "
                              f"the most faithful without one is selected ({chosen.complexity} nodes, "
                              f"{judged(chosen)})", UserWarning, stacklevel=3)
            self.formula_ = chosen.formula
            # each rounds and prints its formulas once; LaTeX only for the formulas the report shows
            self.candidates_ = [c.summary(latex=False) for c in candidates]
            summary_of = {id(c): summary for c, summary in zip(candidates, self.candidates_)}
            self.pareto_ = [summary_of[id(c)] for c in pareto_front(candidates)]
            self.selected_ = summary_of[id(chosen)]
            # per formula a person reads (a class's logit, or a two-class decision): an iris formula of 225 nodes
            # had a 42-node one at 93.8 % beside it, 14 per class, and no line said so (30 counted all three)
            cap = chosen.readable_cap
            readable = select(candidates, cap) if chosen.complexity > cap else None
            self.readable_ = summary_of[id(readable)] if readable is not None and readable.complexity <= cap else None
            for reported in [chosen] + ([readable] if self.readable_ is not None else []):
                summary_of[id(reported)]["latex"] = reported.latex()
            self.expression_ = chosen.expressions[0] if len(chosen.expressions) == 1 else chosen.expressions
            self.regions_ = chosen.figures
            _warn_if_loose(chosen.figures, classification, self.pareto_, bool(chosen.singularities))
            # (constant on the rows and on the domain: a box that gives the column a width was fitted across it)
            warn_of_constant_inputs(chosen.expressions, np.vstack([X, domain_X]), self.input_symbols_)
            figures = chosen.figures["rows"]
            predicted = self.formula_(X)
        # a classifier's: of its class probabilities, as printed (its logits' R2, free up to a shift per row,
        # read -0.59 in report.json for an iris formula of class-probability R2 0.9995)
        probability = "probability_" if classification and "probability_r2" in figures else ""
        self.output_rmse_, self.output_r2_ = figures[f"{probability}rmse"], figures[f"{probability}r2"]
        self.agreement_ = class_agreement(predicted, output) if classification else None
        self.select_seconds_ = time.perf_counter() - started - composed

    def _layerwise_list(self):
        e = self.layerwise_expression_
        return list(e) if isinstance(e, list) else [e]

    def _compose(self, X, finishing=None):
        self.input_symbols_ = make_symbols(X.shape[1], self.feature_names_)  # real, no sign assumed from X
        # where the first layer's features are read when printed: terms that nearly cancel (a standardised
        # year, 0.1134*year - 227.4) lose their difference to rounding each constant alone
        self._input_points = residue_points(self.input_symbols_, X)
        # what a person reads of an input far from 0 for its spread: its search coordinate, defined beside
        self._written = written_standardised(self.input_map_, self.input_symbols_)
        self.standardised_symbols_ = written_definitions(self._written)
        self.layer_features_ = []
        self.layer_expressions_ = []
        self.formula_steps_ = []
        previous_units = None  # layer k-1's units as affine maps of its feature symbols
        for k, program in enumerate(self.programs_):
            symbols = self._symbols(k)
            raw = [simplify(fold_constants(f), 0) for f in raw_sympy(program, symbols)]
            self.layer_features_.append(raw)
            self.layer_expressions_.append(to_sympy(program, symbols))
            # the previous layer's units put in through the primitive table, not substituted into the printed
            # features: a dead unit (exactly 0) made log|h| or x/h zoo where the program computes 0 or 1
            staged = (raw if previous_units is None or self.teacher_forcing
                      else [simplify(fold_constants(f), 0) for f in raw_sympy(program, previous_units)])
            if previous_units is not None and self.teacher_forcing:
                # the features read the previous layer's units by name (the network's own units in the search):
                # each unit a step of its own, chained as predict_layers chains them (no step defined them)
                self.formula_steps_ += list(zip(symbols, previous_units))
            is_output = k == len(self.programs_) - 1
            if is_output and len(program.outputs) == 1 and program.n_targets == 1:
                # one feature, one output: y = w f + b reads best written out
                self.formula_steps_.append((sympy.Symbol("y"), simplify(
                    fold_constants(program.weights[0, 0] * staged[0] + program.intercept[0]), 0)))
                break
            names = [sympy.Symbol(f"f{k + 1}_{i}", real=True) for i in range(len(raw))]
            self.formula_steps_ += list(zip(names, staged))
            previous_units = [fold_constants(linear_combination(names, program.weights[:, j], program.intercept[j]))
                              for j in range(program.n_targets)]
            if is_output:
                single = len(previous_units) == 1
                outputs = [sympy.Symbol("y" if single else f"y{j}") for j in range(len(previous_units))]
                self.formula_steps_ += list(zip(outputs, previous_units))
        composed = None
        if not self.teacher_forcing:
            composed = Formula("layerwise", tuple(self.programs_)).expressions(self.input_symbols_)
            # half of simplify_seconds for the layer-wise formula, half for the other candidates
            composed = [simplify(e, 0 if finishing is not None and finishing.requested
                                 else self.simplify_seconds_ / 2 / len(composed)) for e in composed]
        self.layerwise_expression_ = None if composed is None else (
            composed[0] if len(composed) == 1 else composed)

    # ------------------------------------------------------------ prediction

    def _checked_input(self, X) -> np.ndarray:
        """X as a checked float matrix of the fitted width; a DataFrame's
        columns must be the ones fitted on, in the same order (the formula
        reads inputs by position: reordered columns gave wrong numbers)."""
        check_columns(getattr(X, "columns", None), getattr(self, "feature_names_in_", None),
                      "those SRNet was fitted on")
        X = check_matrix(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {counted(X.shape[1], 'column')} but SRNet was fitted on {self.n_features_in_}")
        return X

    def predict_layers(self, X) -> list[np.ndarray]:
        """Each explained layer's approximation (n_samples, width), chained
        from X exactly as the composed formula computes it."""
        check_is_fitted(self, "programs_")
        rows = as_feature_rows(in_search_coordinates(self._checked_input(X), self.input_map_))  # as the genomes do
        out = []
        for genome, program in zip(self.genomes_, self.programs_):
            F = _kernels.evaluate_outputs(genome.nodes, genome.outputs, genome.constant_values(), ARITIES, rows)
            with np.errstate(over="ignore", invalid="ignore"):
                rows = np.ascontiguousarray(program.weights.T @ F + program.intercept[:, None])
            out.append(rows.T.copy())
        return out

    def predict(self, X) -> np.ndarray:
        """The selected formula (``expression_``) at each row: (n,) for one
        output, else (n, n_outputs).  With teacher forcing, the layers chained.
        For a classifier these are its logits (the layer before the softmax,
        as the formulas are written): :meth:`predict_class` gives classes,
        ``srnet.metrics.softmax(predict(X))`` probabilities."""
        check_is_fitted(self, "programs_")
        if self.formula_ is None:
            output = self.predict_layers(X)[-1]
        else:
            output = self.formula_(self._checked_input(X))
        return output[:, 0] if output.shape[1] == 1 else output

    def predict_class(self, X) -> np.ndarray:
        """Classifiers: the class whose formula (logit) is largest: a
        scikit-learn classifier's label (``classes_``), else the output's index."""
        check_is_fitted(self, "programs_")
        if not self.is_classifier_:
            raise ValueError("predict_class needs a classification network (one with a softmax head)")
        output = self.predict(X)
        finite = np.isfinite(output)
        index = np.where(finite, output, -np.inf).argmax(axis=1)  # as class_agreement reads scores
        lost = int(np.sum(~finite.any(axis=1)))
        if lost:  # a label must be given; say that it is a guess
            warnings.warn(f"the formula has no finite logit on {lost} of {len(output)} rows (an overflow or "
                          "a NaN input): they get the first class", RuntimeWarning, stacklevel=2)
        labels = getattr(self, "classes_", None)
        return index if labels is None else labels[index]

    def fidelity(self, model, X) -> dict:
        """How faithful the selected formula is to ``model`` at the rows of X (rows it was not fitted on, say:
        where fidelity drops), as ``srnet explain --test-size`` reports it: ``{"r2": ..., "rmse": ...}`` of the
        formula against the explained layer's output, or for a classifier ``{"agreement": ...}``, the share of
        rows where both give the same class.  With several outputs, ``"r2_per_output"`` and ``"rmse_per_output"``
        stand beside the pooled figures, which weigh outputs by their variance.  ``model`` is the network the
        explanation was fitted to (as ``fit`` takes it)."""
        check_is_fitted(self, "programs_")
        # the model first: scikit-learn's score(X, y) order read y as X and advised reshaping it
        network = as_network(model)
        rows = self._checked_input(X)
        input_names(X, model)  # a DataFrame's columns in another order than a scikit-learn model's
        try:
            output = probe(network, rows, self.layer_names_)[-1]
        except ValueError as error:
            if not str(error).startswith("unknown layer"):
                raise
            raise ValueError(f"{error}: is it the network this explanation was fitted to?") from None
        predicted = self.predict(rows).reshape(len(output), -1)
        if output.shape != predicted.shape:
            raise ValueError(f"the model's explained layer has {output.shape[1]} outputs where the formula has "
                             f"{predicted.shape[1]}: is it the network this explanation was fitted to?")
        if self.is_classifier_:
            return {"agreement": class_agreement(predicted, output)}
        rmse, r2 = rmse_r2(output, predicted)
        if output.shape[1] == 1:
            return {"r2": r2, "rmse": rmse}
        # several outputs: each one's own figures beside the pooled ones, which weigh outputs by their variance
        own = rmse_r2_per_output(output, predicted)
        return {"r2": r2, "rmse": rmse, "r2_per_output": [r for _, r in own], "rmse_per_output": [r for r, _ in own]}

    def score(self, model, X) -> float:
        """:meth:`fidelity` as one number: R^2 of the formula against ``model``'s explained layer at the rows
        of X, or for a classifier the class agreement."""
        return self.fidelity(model, X)["agreement" if self.is_classifier_ else "r2"]

    # ---------------------------------------------------------------- report

    def report(self) -> dict:
        """Everything worth keeping about the fit, as JSON-ready data."""
        check_is_fitted(self, "programs_")
        layers = []
        for k, (program, features) in enumerate(zip(self.programs_, self.layer_features_)):
            points = getattr(self, "_input_points", None) if k == 0 else None  # (later layers' inputs: units)
            written = getattr(self, "_written", None)  # (a fit pickled before it was kept: none)
            if k == 0 and written:  # a far-offset input read as its search coordinate, as the formulas
                replacements, points = standardised_form(written, points)
                features = [rewritten(f, replacements, points) for f in features]
            # (exact: "program"; each sum reads its terms by their spread at the points, as the formulas do)
            rounded = [round_faithfully(f, DISPLAY_DIGITS, points) for f in features]
            text = ", ".join(printed(f, points=points) for f in rounded)
            layers.append({
                "index": k + 1,
                "name": self.layer_names_[k],
                "width": program.n_targets,
                "expression": f"[{text}]",
                # (the text's rounding and order: round_constants alone could read a constant differently)
                "latex": r"\left[" + ", ".join(printed(f, latex=True, points=points) for f in rounded) + r"\right]",
                "mse": self.layer_mse_[k],
                "r2": self.layer_r2_[k],
                "complexity": sum(complexity(f) for f in features),
                "program": program.to_dict(),
            })
        expressions = self.expression_ if isinstance(self.expression_, list) else [self.expression_]
        layerwise = self._layerwise_list() if self.layerwise_expression_ is not None else None

        def one_or_list(values):
            return values[0] if len(values) == 1 else values

        selected = self.formula_ is not None
        points = getattr(self, "_input_points", None)  # (the exact formulas' sums read by spread too, as printed)
        return finite_or_none({
            "layers": layers,
            "expression": one_or_list(self.selected_["expression"]) if selected else None,
            "expression_exact": one_or_list([printed(e, points=points) for e in expressions]) if selected else None,
            "latex": self.selected_["latex"] if selected else None,  # as "expression" is printed
            "complexity": self.selected_["complexity"] if selected else None,
            "complexity_per_output": self.selected_["complexity_per_output"] if selected else None,
            "decision": self.selected_["decision"] if selected else None,
            # the same text with each part it repeats written once, under a name (None: none repeats)
            "shared": self.selected_["shared"] if selected else None,
            "formula_source": self.formula_.source if selected else None,
            "formula": self.formula_.to_dict() if selected else None,
            "singularities": self.selected_["singularities"] if selected else None,
            "readable": self.readable_,  # each summary with its exact program (formula), a JSON dict
            "domain": self.domain_,
            "regions": self.regions_,
            "select": self.fitted_with_["select"],
            "pareto": self.pareto_,
            "candidates": self.candidates_,
            "layerwise_expression": None if layerwise is None else one_or_list([printed(e, points=points)
                                                                                for e in layerwise]),
            "layerwise_complexity": None if layerwise is None else sum(complexity(e) for e in layerwise),
            "formula_steps": [f"{name} = {printed(expr)}" for name, expr in self.formula_steps_],
            "fitness": self.fitness_,
            "output_r2": self.output_r2_,
            "output_rmse": self.output_rmse_,
            "agreement": self.agreement_,
            "is_classifier": self.is_classifier_,
            # the class each output (logit) is of, in order: y0, y1, ... (None: the outputs' indices)
            "classes": None if getattr(self, "classes_", None) is None else self.classes_.tolist(),
            # the inputs' own names (a renamed one is read in the formulas by its symbol in feature_symbols)
            "feature_names": (self.feature_names_ if self.feature_symbols_ is None
                              else list(self.feature_symbols_)),
            "feature_symbols": self.feature_symbols_,  # name -> the symbol the formulas use (None: x0, x1, ...)
            "inputs_assumed_positive": [s.name for s in self.input_symbols_ if s.is_positive],
            # inputs searched as (x - centre) / scale (None: as given); every formula above reads X's units
            "search_coordinates": None if self.input_map_ is None else self.input_map_.to_dict(),
            # the printed formulas (expression, pareto, layers) write these inputs so: z_t is (t - centre)/scale
            "standardised_symbols": getattr(self, "standardised_symbols_", None) or None,
            "generations": self.n_generations_,
            "evaluations": self.n_evaluations_,
            "islands": self.n_islands_,
            "search_fitness": self.search_fitness_,
            "search_rows": self.search_rows_,
            "compile_seconds": self.compile_seconds_,
            "setup_seconds": self.setup_seconds_,
            "search_seconds": self.search_seconds_,
            "compose_seconds": self.compose_seconds_,
            "direct_seconds": self.direct_seconds_,
            "refine_seconds": self.refine_seconds_,
            "select_seconds": self.select_seconds_,
            "wall_seconds": self.wall_seconds_,
            "stop_reason": self.stop_reason_,
            "interrupted": self.stop_reason_ == "interrupted",
            # the convergence plot's data: (generation, evaluations, seconds, search fitness) at the start, at
            # each improvement and at the end
            "history": np.asarray(self.history_, dtype=np.float64).tolist(),
            # the parameters the fit ran with (an integer random_state reproduces the run; None or a Generator
            # cannot be written down), not those set since
            "seed": self.fitted_with_["seed"],
            "preset": self.fitted_with_["preset"],
            "settings": self.fitted_with_["settings"],
            "teacher_forcing": self.fitted_with_["teacher_forcing"],
            "teacher_forced_layer_mse": self.teacher_forced_layer_mse_,
            "teacher_forced_layer_r2": self.teacher_forced_layer_r2_,
        })


def _check_renaming(names, known, whose: str) -> None:
    """``feature_names`` may rename the inputs, not reorder their names: ``["b", "a"]`` for a model fitted on
    columns a, b printed the model's a as b, without a word (a DataFrame in that order is refused).  Other
    names are a renaming (x1, x2 read x0, x1), and a count that differs is refused later, as such."""
    if names is None or known is None or len(names) != len(known):
        return
    known = [str(name) for name in known]
    if sorted(names) == sorted(known) and names != known:
        j = next(j for j, (name, other) in enumerate(zip(names, known)) if name != other)
        raise ValueError(f"feature_names names input {j} {names[j]!r}, input {known.index(names[j])}'s name in "
                         f"{whose}: they are its names in another order; name the inputs in the order given")


__all__ = ["SRNet"]
