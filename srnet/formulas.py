"""Whole-network formulas: candidates, refined constants, poles, a Pareto front.

A :class:`Formula` is a chain of programs from the network's inputs to its
outputs: the layer-wise explanation (one program per explained layer, each
reading the one before) or a direct symbolic regression of the network's
output (one program).  Either is plain data, evaluated by NumPy through the
primitive table, composed into sympy, refined in torch, saved as JSON.

:class:`srnet.extract.SRNet` gathers several candidates (the layer-wise
chain, direct formulas of several sizes, each also with refined constants),
measures each on a validation sample of the explanation domain, keeps the
Pareto front of (complexity, validation error) and selects one.
"""

from __future__ import annotations

import functools
import math
import time
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import sympy

from srnet.cgp.primitives import EXP_MAX, PROTECTION_EPS, primitive
from srnet.data import caller_outside_srnet
from srnet.expr.program import Program
from srnet.expr.symbolic import (
    complexity,
    printed,
    reduced_phases,
    residue_points,
    rewritten,
    round_constants,
    round_faithfully_together,
    shared_parts,
    simplify_all,
    standardised_form,
    time_limit,
    to_sympy,
    values_at,
)
from srnet.jsonio import check_document, malformed, shown
from srnet.metrics import class_agreement, class_divergence, rmse_r2, rmse_r2_per_output, softmax

#: Steps whose value is 0 exactly where their argument is: a pole of 1/sqrt|x| or log sqrt|x| is where x
#: crosses 0, which the never-negative sqrt|x| does not show (nor its median-relative minimum, at 2000 points)
_ZEROS_KEPT = frozenset(("sqrt", "abs", "square", "cube", "neg"))
#: Steps whose value is never 0 (for any finite argument), and those that are never 0 where their arguments
#: are not: a small exp(10x) in a denominator is no pole (its smallness is the formula's, printed as it is)
_NEVER_ZERO = frozenset(("exp", "sigmoid"))
_NONZERO_KEPT = _ZEROS_KEPT | {"mul", "div"}

#: An argument of div or log whose smallest magnitude in the domain is below
#: this fraction of its median magnitude nearly vanishes there: a likely pole
#: even without a sign change (1/x^2, log x^2).
TOUCHING_ZERO = 1e-3

#: "best" selection: a formula is faithful to the network when its validation
#: R^2 reaches this.  When one does, only formulas whose validation R^2 is
#: within R2_TOLERANCE of the most accurate one's are considered ...
FAITHFUL_R2 = 0.99
R2_TOLERANCE = 1e-2
#: ... and a more complex one is worth it when it divides the validation
#: MSE by 10 for at most this many more nodes.  15: the demo's 26-node
#: formula at R^2 0.99991 is preferred to a 9-node one at 0.997 (MSE / 32 for
#: 17 more nodes); a 2000-node layer-wise chain never wins for a few decades.
NODES_PER_DECADE = 15
#: ... until the chosen formula reaches this R^2: beyond four nines a person
#: gains little from more accuracy, so a decade of MSE is then worth only
#: NODES_PER_DECADE_BEYOND more nodes (a 32-node formula with a sin(x)^4/|x|
#: correction at R^2 0.999996 does not beat the demo's 25-node one at
#: 0.999985) -- unless the larger formula is the network's own function, exact
#: to rounding (R^2 >= EXACT_R2), which holds everywhere, far beyond the data.
ENOUGH_R2 = 0.9999
NODES_PER_DECADE_BEYOND = 5
EXACT_R2 = 1 - 1e-10
#: ... and when none is faithful, every formula is an approximation and
#: "best" is the most accurate one a person can read: at most this many nodes
#: (about one printed line; the simplest formula if none is that small).
#: Without it, a 32,000-node layer-wise chain at R^2 0.92 would beat a 28-node
#: formula at 0.80 on the paper's Pagie-1 network, and nobody reads the former.
READABLE_COMPLEXITY = 30
#: Classifiers: "best" is the simplest formula whose class agreement with the
#: network (validation rows and domain alike) is within this of the highest.
AGREEMENT_TOLERANCE = 0.01
#: "best", when no formula is faithful: a readable formula is chosen only if its validation R^2 is above this
#: share of the most faithful formula's (and above 0): a linear map at R^2 0.01 beside a 165-node formula at
#: 0.969 explains nothing of the network.
EXPLAINS_SHARE = 0.5
#: A formula with a pole inside the domain is chosen only when it beats every
#: pole-free one by more than this (validation R^2, or class agreement).
POLE_TOLERANCE = 0.05

SELECT_RULES = ("best", "accurate", "layerwise")

DISPLAY_DIGITS = 4


#: How long composing a chain's formula may take with sympy's automatic evaluation (milliseconds, usually).
COMPOSE_SECONDS = 10.0


@dataclass(frozen=True)
class Formula:
    """A chain of programs: program k reads program k-1's outputs.

    ``source`` says where it came from: ``"layerwise"`` or ``"direct-N"``
    (a direct search with N nodes at most), with ``"+refined"`` once its
    constants were tuned end-to-end against the network.
    """

    source: str
    programs: tuple[Program, ...]

    def __call__(self, X) -> np.ndarray:
        """Outputs (n_samples, n_targets) at the rows of X, by NumPy."""
        values = np.asarray(X, dtype=np.float64)
        with np.errstate(all="ignore"):
            for program in self.programs:
                values = program.combine(program.raw_outputs(values))
        return values

    @property
    def n_targets(self) -> int:
        return self.programs[-1].n_targets

    def expressions(self, symbols) -> list[sympy.Expr]:
        """One sympy expression per output, in ``symbols`` (the inputs).

        Built with sympy's automatic evaluation (x + x reads 2*x) for up to
        :data:`COMPOSE_SECONDS`.  A deep chain on which that evaluation stalls
        (its assumption queries can run for minutes) is built a program at a
        time on plain symbols, evaluated (so that a protected division by an
        expression that is exactly 0 still reads 1), then put together as is.
        """
        with time_limit(COMPOSE_SECONDS):
            values = list(symbols)
            for program in self.programs:
                values = to_sympy(program, values)
            return values
        values = list(symbols)  # the time ran out
        for program in self.programs:
            # numbers go in as they are, so that a protected division by a dead unit (exactly 0) reads 1
            placeholders = [v if v.is_number else sympy.Dummy(real=True) for v in values]
            built = to_sympy(program, placeholders)
            with sympy.evaluate(False):
                values = [e.xreplace({p: v for p, v in zip(placeholders, values) if not v.is_number})
                          for e in built]
        return values

    def to_dict(self) -> dict:
        return {"format": "srnet.formula", "version": 1, "source": self.source,
                "programs": [p.to_dict() for p in self.programs]}

    @classmethod
    def from_dict(cls, data: dict) -> "Formula":
        check_document(data, "srnet.formula", 1, "formula")
        for key in ("source", "programs"):
            if key not in data:
                raise malformed(f"no {key!r}", "formula")
        if not isinstance(data["source"], str):
            raise malformed(f"source must be a string, got {shown(data['source'])}", "formula")
        if not isinstance(data["programs"], list):
            raise malformed(f"programs must be a list of program documents, got {shown(data['programs'])}",
                            "formula")
        formula = cls(data["source"], tuple(Program.from_dict(p) for p in data["programs"]))
        if not formula.programs:  # would compute the identity
            raise malformed("no programs", "formula")
        for k, (before, after) in enumerate(zip(formula.programs, formula.programs[1:])):
            if after.n_inputs != before.n_targets:
                raise malformed(f"program {k + 2} reads {after.n_inputs} values but program {k + 1} computes "
                                f"{before.n_targets}", "formula")
        return formula


def off_front_note(candidates: list[dict], front: list[dict], selected_source: str) -> str:
    """Why the selected formula (candidate summaries, ``summary()``; its source ``selected_source``) is not on the
    ``front``: " (off the front: it has no pole in the domain)" where every formula at least as short and more
    faithful has a pole, " (off the front)" otherwise (``select="layerwise"``, or a pole-free formula beats it),
    and "" where it is on the front.  The one rule for the Pareto plot's key and the printed front."""
    if selected_source in {c["source"] for c in front}:
        return ""

    def error(c) -> float:  # (as selection weighs them; -inf in a report is None)
        value = (c["validation_agreement"] if c["validation_agreement"] is not None
                 else selection_figures(c["figures"])["r2"])
        return math.inf if value is None or math.isnan(value) else -value

    chosen = next(c for c in candidates if c["source"] == selected_source)
    better = [c for c in candidates if c["source"] != selected_source and c["complexity"] <= chosen["complexity"]
              and error(c) < error(chosen)]
    if better and not chosen["singularities"] and all(c["singularities"] for c in better):
        return " (off the front: it has no pole in the domain)"
    return " (off the front)"


def selection_figures(figures: dict) -> dict:
    """Of a candidate's figures per region, those selection reads: on the domain's validation sample
    (SRNet.fit's region "validation"), or on the domain where there is none (its rows, fitted on recorded
    activations without a network to probe).  The region "domain" proper is a sample selection never saw."""
    return figures.get("validation") or figures["domain"]


#: Display rounding may move a regression formula by this share of its own RMSE against the network.
ROUNDING_SHARE = 0.05


def readable_cap(decision, n_expressions: int) -> int:
    """The most nodes a person reads as one formula per formula read (:data:`READABLE_COMPLEXITY` each): one per
    output, or a two-class classifier's decision alone."""
    return READABLE_COMPLEXITY * (1 if decision is not None else max(1, n_expressions))


@dataclass
class Candidate:
    """A formula with what a person reads (its simplified expressions) and
    how faithful it is, per region."""

    formula: Formula
    expressions: list = field(repr=False)
    complexity: int
    figures: dict  # region -> {"rmse", "r2"[, "agreement"]}
    singularities: list
    #: A few domain points (symbol name -> values) that size a sum's intercept before display drops it as
    #: round-off (see round_constants); None: by the coefficients alone.
    points: dict | None = field(default=None, repr=False)
    #: A two-class classifier's logit difference y1 - y0, what decides its class (None otherwise): what a
    #: person reads, and what ``complexity`` counts (the logits -d/2, d/2 counted d twice).
    decision: object = field(default=None, repr=False)
    #: The expressions (then the decision, if any) as printed: rounded by :meth:`rounded`, once.
    shown: list | None = field(default=None, repr=False)
    #: Inputs a person reads in their search coordinate (input Symbol -> centre + scale*z, ``points`` holding
    #: z's values; :func:`srnet.coordinates.written_standardised`), None for none: ``expressions`` stay in the
    #: inputs' own units, what is printed reads z.
    written: dict | None = field(default=None, repr=False)

    @property
    def readable_cap(self) -> int:
        """The most nodes of a readable formula of this kind (:func:`readable_cap`)."""
        return readable_cap(self.decision, len(self.expressions))

    @property
    def validation(self) -> dict:
        """The figures selection reads (:func:`selection_figures`)."""
        return selection_figures(self.figures)

    @property
    def validation_rmse(self) -> float:
        return self.validation["rmse"]

    @property
    def validation_r2(self) -> float:
        return self.validation["r2"]

    @property
    def validation_agreement(self) -> float | None:
        """A classifier's agreement with the network's class: on the domain's
        validation sample and on the rows held out of every fit to validate on (SRNet's
        "validation-rows" region), weighted equally; the domain's alone
        without them (None for regression).

        Why the validation rows too: a classifier is read at its data, and a
        domain of jittered rows can leave the data's manifold, where a network
        often answers one class (on PMLB's Hill_Valley, a formula agreed on
        96 % of the domain and 59 % of the rows); the domain alone would
        select for that region.  Held out, because the rows a formula was
        fitted on favour formulas that learned them."""
        domain = self.validation.get("agreement")
        rows = self.figures.get("validation-rows")
        return domain if domain is None or rows is None else (domain + rows["agreement"]) / 2

    @property
    def error(self) -> tuple:
        """What "more accurate" means: validation RMSE; for classifiers,
        disagreement with the network's class first, the RMSE of the class
        probabilities next (see :func:`measure`): by the logits' RMSE, iris's
        front listed a 378-node formula whose probabilities fitted worse than
        the selected 42-node one's (R2 0.990 against 0.997) and agreed no more."""
        agreement = self.validation_agreement
        if agreement is None:
            return (self.validation_rmse,)
        return (1.0 - agreement, self.validation["probability_rmse"])

    def rounded(self, digits: int = DISPLAY_DIGITS) -> list:
        """The expressions, then the decision if any, with constants rounded to ``digits`` significant
        digits, or more where that rounding would move a formula at the domain points, all to as many as the
        most demanding needs (:func:`srnet.expr.symbolic.round_faithfully_together`): the formulas a person
        reads."""
        if digits == DISPLAY_DIGITS and self.shown is not None:
            return self.shown
        decision = [] if self.decision is None else [self.decision]
        tolerances = self._rounding_tolerances() + [0.0] * len(decision)
        # a two-class formula decides by the sign of d: its rounding is judged against d's size (several
        # logits decide by their differences, whatever their common size: those stay judged by their spread)
        by_size = self.decision is not None
        read = [*self.expressions, *decision]
        if self.written:
            read = [rewritten(e, self.written, self.points) for e in read]
        # all to one number of digits: a part the outputs share reads alike in each (and is named once)
        return round_faithfully_together(read, digits, self.points, tolerances, by_size=by_size)

    def _rounding_tolerances(self) -> list[float]:
        """Per expression, how far display rounding may move a regression formula anyway:
        :data:`ROUNDING_SHARE` of its RMSE against the network on the domain (its RMSE grows by that
        share at most, by ~share^2/2 typically).  0 for classifiers (judged by their classes) and before
        the formula is measured."""
        domain = self.figures.get("domain") if self.figures else None
        if domain is None or "agreement" in domain:
            return [0.0] * len(self.expressions)
        rmses = domain.get("rmse_per_output") or [domain["rmse"]] * len(self.expressions)
        return [ROUNDING_SHARE * r if np.isfinite(r) else 0.0 for r in rmses]

    def display(self, digits: int = DISPLAY_DIGITS) -> list[str]:
        """The expressions as printed (see :meth:`rounded`)."""
        return [printed(e, points=self.points) for e in self.rounded(digits)[:len(self.expressions)]]

    def display_decision(self, digits: int = DISPLAY_DIGITS) -> str | None:
        """A two-class classifier's logit difference, rounded as :meth:`display`; None otherwise."""
        return None if self.decision is None else printed(self.rounded(digits)[-1], points=self.points)

    def latex(self) -> list[str]:
        """The expressions as printed (see :meth:`rounded`), in LaTeX."""
        return [printed(e, latex=True, points=self.points) for e in self.rounded()[:len(self.expressions)]]

    def shared(self) -> dict | None:
        """What a person reads (a two-class decision d alone, else the formulas) with each part it repeats
        written once under a name (:func:`srnet.expr.symbolic.shared_parts`): ``{"expression": [...] or None,
        "decision": str or None, "parts": {"u1": text, ...}}``, or None where no part repeats."""
        read = self.rounded()
        decision = self.decision is not None
        # (a name no input has, printed or not: the domain points name every input)
        rewritten_read, named = shared_parts(read[-1:] if decision else read[:len(self.expressions)],
                                             taken=(self.points or {}).keys())
        if not named:
            return None
        points = _with_parts(self.points, named)
        return {"expression": None if decision else [printed(e, points=points) for e in rewritten_read],
                "decision": printed(rewritten_read[0], points=points) if decision else None,
                "parts": {str(name): printed(part, points=points) for name, part in named}}

    def summary(self, latex: bool = True) -> dict:
        """JSON-ready: source, complexity, figures per region (and a
        classifier's agreement as selection weighs it), formula text and
        LaTeX (as printed; None without ``latex``: sympy prints a 90-input,
        15-class candidate's LaTeX in 0.45 s), the same text with its
        repeated parts named (``shared``, :meth:`shared`), poles."""
        shown = self.rounded()[:len(self.expressions)]
        return {"source": self.formula.source, "complexity": self.complexity,
                "complexity_per_output": [complexity(e) for e in shown],
                "figures": self.figures, "validation_agreement": self.validation_agreement,
                "expression": self.display(), "decision": self.display_decision(),
                "latex": self.latex() if latex else None,
                "shared": self.shared(),
                "singularities": self.singularities,
                "formula": self.formula.to_dict()}


def _with_parts(points: dict | None, named: list) -> dict | None:
    """``points`` with the values of each named part (:func:`srnet.expr.symbolic.shared_parts`) under its name,
    so that the sums reading them are ordered by spread too; a part that cannot be computed is left out."""
    if not points:
        return points
    points, count = dict(points), min(len(values) for values in points.values())
    waiting = list(named)
    while waiting:  # a part may read another part's name: each once the names it reads have values
        ready = [(name, part) for name, part in waiting if all(s.name in points for s in part.free_symbols)]
        if not ready:
            break
        for name, part in ready:
            points[str(name)] = values_at(part, points, count)
        waiting = [item for item in waiting if item not in ready]
    return points


def measure(formula: Formula, regions: dict, *, classification: bool = False) -> dict:
    """Figures of ``formula`` per region: ``regions`` maps a name to (X, network output).

    A classifier's (``classification``: outputs are logits) add its class agreement and
    ``probability_rmse`` and ``probability_r2``, of the softmax probabilities; its ``rmse`` and ``r2``
    compare logits less each row's mean, the shift softmax ignores (a two-class formula is written as
    the logits -d/2, d/2, and a network's may read 0, z: logit 0 had R2 -inf beside class probabilities
    of R2 0.99), which a formula refined to the network's probabilities may still sharpen freely.

    With several outputs, ``r2_per_output`` stands beside the pooled ``r2``: the pooled figure weighs
    each output by its variance, so a poor output of small variance hides in it."""
    figures = {}
    for name, (X, target) in regions.items():
        predicted = formula(X)
        # a classifier's logits compared less each row's mean; its classes and probabilities from the logits
        # themselves (centred, a row with an infinite logit was all NaN: agreement 0.67 for 1.0)
        reference, compared = (_centred(target), _centred(predicted)) if classification else (target, predicted)
        rmse, r2 = rmse_r2(reference, compared)
        figures[name] = {"rmse": rmse, "r2": r2}
        reference = np.asarray(reference)
        if reference.ndim == 2 and reference.shape[1] > 1:
            per_output = rmse_r2_per_output(reference, compared)
            figures[name]["r2_per_output"] = [r2 for _, r2 in per_output]
            figures[name]["rmse_per_output"] = [rmse for rmse, _ in per_output]
        if classification:  # logits are free up to a shift per row: the probabilities are what compares
            figures[name]["agreement"] = class_agreement(predicted, target)
            probability_rmse, probability_r2 = rmse_r2(softmax(target), softmax(predicted))
            figures[name].update(probability_rmse=probability_rmse, probability_r2=probability_r2)
    return figures


def _centred(logits) -> np.ndarray:
    """Each row's logits less their mean: what softmax reads of them (the mean summed from shares, as logits
    of 1e308 overflow a plain sum; a row with an infinite logit as it is, NaN centred)."""
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim != 2:
        return logits
    with np.errstate(invalid="ignore"):
        mean = (logits / logits.shape[-1]).sum(axis=-1, keepdims=True)
    return logits - np.where(np.isfinite(mean), mean, 0.0)


def singularities(formula: Formula, X: np.ndarray, symbols=None) -> list[str]:
    """Poles a formula has inside the (connected) domain sampled by X.

    With the inputs' ``symbols``, each note writes the argument that reaches 0 as a formula (the inputs' for
    the first program, a later program's in ``h{k}_{j}``, the units of the layer before), where it is short
    enough to read; else, and without symbols, it names the program's step ("step 3": the program's own
    numbering, which a reader of the printed formula does not see).

    A protected primitive switches branch where its argument crosses zero:
    div's denominator (a pole), log's argument (log 0), tan's cos (a pole).
    A continuous argument that takes both signs on a connected domain
    crosses zero inside it, between the samples as well as on them.

    Only live steps are checked (see :func:`live_steps`): a step whose value
    reaches the formula's outputs with weight 0 only cannot put a pole in it.
    """
    found = []
    live = live_steps(formula)
    values_in = np.asarray(X, dtype=np.float64)
    fixed_in = [False] * formula.programs[0].n_inputs
    with np.errstate(all="ignore"):
        for k, program in enumerate(formula.programs):
            n = values_in.shape[0]
            values = [values_in[:, i] for i in range(program.n_inputs)]
            values += [np.full(n, c) for c in program.constants]
            zeros_of = list(range(len(values)))  # per value, the value that is 0 exactly where it is
            # per value, whether it can never be 0 (a nonzero constant, exp, products of such values)
            never_zero = [False] * program.n_inputs + [c != 0 for c in program.constants]
            # per value, whether it is one number by structure (constants, their functions, x - x, a dead
            # unit): sympy prints it as that number, and a protected step of it as its protected value
            # (x/(x - x) reads 1, as the model computes), so it is no pole however often it is 0
            fixed = list(fixed_in) + [True] * len(program.constants)
            for step, (name, a, b) in enumerate(program.steps):
                prim = primitive(name)
                zeros_of.append(zeros_of[a] if name in _ZEROS_KEPT else _zeros_of_product(name, a, b, values, zeros_of))
                never_zero.append(name in _NEVER_ZERO or (name in _NONZERO_KEPT and never_zero[a]
                                                          and (prim.arity == 1 or never_zero[b])))
                fixed.append(fixed[a] and (prim.arity == 1 or fixed[b]) or (name in ("sub", "div") and a == b)
                             or (name == "mul" and any(fixed[v] and not np.any(values[v]) for v in (a, b))))
                argument = source = None
                crosses, nears = "crosses 0", f"comes within {TOUCHING_ZERO:g} of its typical size to 0"
                guard = prim.guard
                # div and log: the protection fires near 0, a pole (or log 0) where the argument crosses 0
                pole = guard is not None and guard.where == "zero"
                read = (a, b)[guard.operand] if guard is not None else a
                if step not in live[k] or fixed[read] or (name == "div" and a == b):
                    pass  # its value is weighted 0 wherever it goes, or it is one number (x/x reads 1): no pole
                elif pole:
                    what, argument, source = guard.argument, values[read], values[zeros_of[read]]
                elif name == "tan":  # (the pole is where cos of the argument crosses 0)
                    what, argument = "argument of tan", np.cos(values[a])
                    crosses, nears = "reaches an odd multiple of pi/2", "comes close to an odd multiple of pi/2"
                layer = f"layer {k + 1}" if len(formula.programs) > 1 else ""
                where = f"{layer + ', ' if layer else ''}step {step + 1}"
                # the note's start, written only for a note (sympy per step would be quadratic in big programs)
                lead = None if argument is None else functools.partial(_note_lead, program, read, symbols, k, layer,
                                                                        where, what, name == "tan")
                # exact zeros (a binary or count input) fire the protection: even where the quotient has a
                # limit (2x/x), the protected value (1) need not be it, and the printed formula is undefined
                protected = int(np.sum(guard.fires(argument))) if pole and argument is not None else 0
                limits = None  # a removable singularity's quotient beside the zero, where the protection is off it
                if name == "div" and argument is not None and not _quotient_blows_up(values[a], argument):
                    # a removable singularity (x/x, sin(x)/x, x/sqrt|x|): it stays bounded, but where the
                    # denominator reaches 0 the protected value need not be the limit (2x/x gives 1, not 2)
                    # (reaching 0 is crossing it, or a value it is a power, |.| or multiple of crossing it: one
                    # that only comes near 0, as x on [1e-4, 3], keeps the protection off on the domain)
                    reaches = np.any(argument > 0) and np.any(argument < 0) or np.any(source > 0) and np.any(source < 0)
                    limits = _limits_off_protection(values[a], argument, source, guard.value) if reaches else None
                    argument = source = None
                if protected:  # zeros (a binary or count input) or nearly (2*exp(x0) below x0 = -23)
                    found.append(f"{lead()} is within {PROTECTION_EPS:g} of 0 at {protected} of {n} points, where "
                                 f"the protected {name} gives {guard.value:g} (the formula as printed is "
                                 f"undefined or far from it there)")
                elif limits is not None:
                    low, high = limits
                    tends = f"{low:.3g}" if f"{low:.3g}" == f"{high:.3g}" else f"{low:.3g} to {high:.3g}"
                    found.append(f"{lead()} reaches 0 inside the domain: the quotient reads {tends} beside those "
                                 f"zeros, but the protected {name} gives {guard.value:g} on them (the formula as "
                                 f"printed is undefined there, and the model is off it)")
                elif argument is not None and np.any(argument > 0) and np.any(argument < 0):
                    found.append(f"{lead()} {crosses} inside the domain")
                elif source is not None and np.any(source > 0) and np.any(source < 0):  # sqrt|x|, x^2 of an x that does
                    found.append(f"{lead()} reaches 0 inside the domain (where the value it is a power or |.| of "
                                 f"crosses 0)")
                elif argument is not None and not (pole and never_zero[read]) and _touches_zero(argument):
                    found.append(f"{lead()} {nears} inside the domain (a likely pole)")
                if guard is not None and guard.where == "cap" and step in live[k] and not fixed[read]:
                    # the printed exp is not capped: it is not the model there (a number's exp is printed capped)
                    capped = int(np.sum(guard.fires(values[read])))
                    if capped:
                        found.append(f"{where}: exp's argument exceeds {EXP_MAX:g} at {capped} of {n} points, "
                                     f"where the model caps it (the formula as printed grows on)")
                values.append(prim.numpy(values[a], values[b] if prim.arity == 2 else values[a]))
            outputs = np.column_stack([values[o] for o in program.outputs])
            values_in = program.combine(outputs)
            fixed_in = [all(fixed[o] for o, w in zip(program.outputs, program.weights[:, j]) if w != 0)
                        for j in range(program.n_targets)]
            if not np.all(np.isfinite(values_in)):
                found.append(f"{'layer ' + str(k + 1) + ': ' if len(formula.programs) > 1 else ''}"
                             f"non-finite values inside the domain")
                break
    return found


#: The longest argument a singularity note writes out (longer ones are named by their step).
_ARGUMENT_CHARACTERS = 80


def _note_lead(program: Program, value: int, symbols, k: int, layer: str, where: str, what: str,
               of_tan: bool = False) -> str:
    """How a singularity note begins: "the denominator of div, 0.9233*sin(x) - 4.487," (with symbols, where the
    argument is short enough to read), else "step 3: the denominator of div".  ``of_tan``: the value is tan's
    argument, written with the phase the printed formula gives it (tan(sin(x) + 4.416) prints as
    tan(sin(x) + 1.274): a note naming sin(x) + 4.416 named nothing a reader sees)."""
    text = None if symbols is None else _value_text(program, value, layer_symbols(symbols, k, program.n_inputs),
                                                    of_tan)
    if text is None:
        return f"{where}: the {what}"
    return f"{layer + ': ' if layer else ''}the {what}, {text},"


def layer_symbols(symbols, k: int, width: int) -> list:
    """The symbols program k of a formula reads: the inputs' (``symbols``), or the ``width`` units of layer k
    (h{k}_0, ...): the one naming of a layer's units, in formulas and in singularity notes."""
    return list(symbols) if k == 0 else [sympy.Symbol(f"h{k}_{j}", real=True) for j in range(width)]


def _value_text(program: Program, value: int, symbols, of_tan: bool = False) -> str | None:
    """Value ``value`` of ``program`` (its inputs, then constants, then steps) as a formula of ``symbols`` with
    constants at 4 digits, its periodic functions' phases reduced as the printed formula's are (``of_tan``: and
    its own, as tan's argument); None where it is too long to read in a note, or cannot be written."""
    n_sources = program.n_inputs + len(program.constants)
    steps = program.steps[: max(0, value - n_sources + 1)]
    try:
        part = Program(program.n_inputs, program.constants, steps, (value,), np.ones((1, 1)), np.zeros(1))
        expr = to_sympy(part, symbols)[0]
        if of_tan:  # tan's phase, reduced by multiples of pi (sympy writes tan(4.416 - x) as -tan(x - 4.416))
            factors = sympy.Mul.make_args(reduced_phases(sympy.tan(expr)))
            tans = [f for f in factors if isinstance(f, sympy.tan)]
            if len(tans) == 1 and all(f.is_Number for f in factors if f is not tans[0]):
                expr = tans[0].args[0]
        text = str(round_constants(reduced_phases(expr), 4))
    except (ValueError, RecursionError, TypeError, ArithmeticError):  # (FormulaTooLarge is a ValueError)
        return None
    return text if len(text) <= _ARGUMENT_CHARACTERS else None


def live_steps(formula: Formula) -> list[set[int]]:
    """Per program, the indices of the steps whose value can reach the
    formula's outputs.

    Walked from the last program to the first: a target column of the last
    program is live; a raw output is live when its weight row is nonzero in
    some live target column; a step is live when a live raw output or a live
    step reads it (a unary step reads its first argument only); an input is
    live when a live raw output or a live step reads it, and the previous
    program's target column of the same index is live exactly then.
    """
    live: list[set[int]] = [set() for _ in formula.programs]
    live_columns = np.ones(formula.n_targets, dtype=bool)
    for k in range(len(formula.programs) - 1, -1, -1):
        program = formula.programs[k]
        base = program.n_inputs + len(program.constants)
        used = np.any(program.weights[:, live_columns] != 0, axis=1)
        reached = {address for address, on in zip(program.outputs, used) if on}
        for step in range(len(program.steps) - 1, -1, -1):
            if base + step in reached:
                live[k].add(step)
                name, a, b = program.steps[step]
                reached.update((a, b)[: primitive(name).arity])
        live_columns = np.array([i in reached for i in range(program.n_inputs)], dtype=bool)
    return live


def _quotient_blows_up(numerator: np.ndarray, denominator: np.ndarray) -> bool:
    """Whether a / b is far larger where |b| is smallest (a pole) than it
    typically is; a quotient that stays bounded there (x/x, sin(x)/x) has
    only a removable singularity."""
    finite = np.isfinite(numerator) & np.isfinite(denominator)
    if finite.sum() < 2:
        return True
    a, b = numerator[finite], denominator[finite]
    size = np.abs(b)
    nearest = _nearest_to_zero(size)
    with np.errstate(all="ignore"):
        quotient = np.abs(a / np.where(size > 0, b, np.finfo(float).tiny))
    typical = float(np.median(quotient))
    return not float(np.max(quotient[nearest])) <= 10 * max(typical, 1e-300)


#: A removable singularity's protected value is the quotient's limit when it lies within this share of the
#: quotient's spread over the domain of the quotient beside the zero (sin(x)/x: 1 beside 0.99998).
LIMIT_TOLERANCE = 0.01
#: Samples whose divisor is within this share of its median magnitude are beside its zeros: where a quotient
#: read there is its limit (sin(x)/x at x = 0.83, the nearest of 30 rows on [-10, 10], read 0.89, not 1).
BESIDE_ZERO = 0.02


def _nearest_to_zero(size: np.ndarray) -> np.ndarray:
    """Indices of the 2 % of samples (one at least) whose ``size`` (a magnitude) is least: those beside a zero."""
    return np.argsort(size)[: max(1, len(size) // 50)]


def _limits_off_protection(numerator: np.ndarray, denominator: np.ndarray, zeros: np.ndarray, protected: float):
    """(least, largest) of a / b at the samples beside the zeros of b (:func:`_nearest_to_zero` of ``zeros``, the
    value that is 0 where b is, and within BESIDE_ZERO of its median magnitude: sqrt|x| is 0.1 of its median
    where x is 0.01 of its), where most of them differ from the protected value by more than LIMIT_TOLERANCE of
    the quotient's spread: the limits the quotient tends to there are not what the model computes (2x/x: 2,
    protected 1; 2xy/x: 2y, y in [-1, 1]; an explained network's formula read 0.829 at (0, 0) against its limit
    -0.159); None where the protected value is the limit (sin(x)/x), or where no sample lies beside a zero (too
    few rows to tell)."""
    finite = np.isfinite(numerator) & np.isfinite(denominator) & np.isfinite(zeros) & (denominator != 0)
    if finite.sum() < 2:
        return None
    quotient, size = numerator[finite] / denominator[finite], np.abs(zeros[finite])
    nearest = _nearest_to_zero(size)
    near = quotient[nearest[size[nearest] <= BESIDE_ZERO * float(np.median(size))]]
    if not near.size:
        return None
    slack = LIMIT_TOLERANCE * max(float(quotient.max() - quotient.min()), abs(protected), 1e-12)
    if np.mean(np.abs(near - protected) > slack) <= 0.5:
        return None
    return float(near.min()), float(near.max())


def _zeros_of_product(name: str, a: int, b: int, values: list, zeros_of: list) -> int:
    """The value that is 0 exactly where a step's value is (see :func:`singularities`): a product's, its factor's
    that reaches 0 where the other stays away from 0 on the domain ((sin(b)**2 + 3.81)*tanh(u)**2 is 0 where u
    is, and u crosses 0 where the product only touches it); else the step's own."""
    if name == "mul":
        if _away_from_zero(values[a]):
            return zeros_of[b]
        if _away_from_zero(values[b]):
            return zeros_of[a]
    return len(values)


def _away_from_zero(values: np.ndarray) -> bool:
    """Whether values stay away from 0 for their size: the smallest magnitude at least a tenth of the median."""
    size = np.abs(values[np.isfinite(values)])
    return bool(size.size) and float(size.min()) >= 0.1 * float(np.median(size)) > 0


def _touches_zero(argument: np.ndarray) -> bool:
    """An argument that keeps its sign but nearly vanishes (1/x^2, log x^2):
    its smallest magnitude is below TOUCHING_ZERO of its median magnitude."""
    size = np.abs(argument[np.isfinite(argument)])
    if not size.size:
        return False
    typical = float(np.median(size))
    return typical > 0 and float(size.min()) < TOUCHING_ZERO * typical


def _difference(formula: Formula) -> Formula:
    """``formula`` of two outputs as the one output y1 - y0 (its last program's weights and intercepts
    subtracted: the features they weigh appear once)."""
    last = formula.programs[-1]
    difference = replace(last, weights=last.weights[:, 1:2] - last.weights[:, 0:1],
                         intercept=last.intercept[1:2] - last.intercept[0:1])
    return replace(formula, programs=(*formula.programs[:-1], difference))


def candidate(formula: Formula, symbols, regions: dict, domain_points: np.ndarray, *, classification: bool,
              simplify_seconds: float, expressions=None, written: dict | None = None) -> Candidate:
    """Measure and simplify one formula (``expressions``: already simplified ones; ``written``: inputs printed
    in their search coordinate, see :attr:`Candidate.written`)."""
    # a two-class classifier's class is the sign of y1 - y0: a person reads that one formula, written from the
    # program with one output (w1 - w0, b1 - b0): y1 and y0 simplified apart wrote their shared sqrt(P) once
    # expanded and once not, and d carried both (52 nodes for 13.33*sqrt(P) - 45.72)
    decision = None
    started = time.perf_counter()
    if classification and formula.n_targets == 2:
        decision = (reduced_phases(simplify_all(_difference(formula).expressions(symbols), simplify_seconds)[0])
                    if expressions is None else expressions[1] - expressions[0])
    if expressions is None:  # (in what the decision left of the seconds: one budget per formula)
        left = max(0.0, simplify_seconds - (time.perf_counter() - started))
        # phases reduced as the printed form's are: the exact formula is then that form with every digit
        expressions = [reduced_phases(e) for e in simplify_all(formula.expressions(symbols), left)]
    replacements, points = standardised_form(written or {}, residue_points(symbols, domain_points))
    measured = Candidate(formula, expressions, 0, measure(formula, regions, classification=classification), [],
                         points, decision, written=replacements or None)
    shown = measured.rounded()  # the nodes counted are those printed (a weight of 1.0000000002 reads 1)
    size = complexity(shown[-1]) if decision is not None else sum(complexity(e) for e in shown)
    return replace(measured, complexity=size, singularities=singularities(formula, domain_points, symbols),
                   shown=shown)


def refine(formula: Formula, X_fit, Y_fit, X_valid, Y_valid, *, classification: bool = False,
           max_iterations: int = 200, deadline: float | None = None) -> Formula | None:
    """Tune every constant of ``formula`` (its programs' constants, weights
    and intercepts) end-to-end against the network by L-BFGS in float64,
    structure unchanged (a weight of exactly 0, such as the off-diagonal of
    a classifier's lift, stays 0: otherwise every input would leak into
    every term of the formula).

    What is matched: the network's outputs (MSE, each output by its own
    scale); for a classifier (``classification``, Y its logits), the
    network's class probabilities (the divergence of softmax(formula) from
    softmax(Y)): the class is what a classifier's formula is judged by, and
    least squares on logits spends the formula on rows whose class is not in
    doubt (a linear formula so refined is the logistic regression of the
    network's own probabilities; on PMLB networks it agrees with the network
    on more rows than the least-squares one).

    Returns the refined formula only when it lowers the validation error
    (RMSE; for a classifier, disagreement with the network's class first, RMSE
    next), else None.  ``deadline`` (a perf_counter time): no refinement
    after it, and L-BFGS stops there with the constants it has reached."""
    import torch

    # with gradients whatever the caller's mode: under torch.inference_mode() every refinement failed, unsaid
    with torch.inference_mode(False), torch.enable_grad():
        return _refine(formula, X_fit, Y_fit, X_valid, Y_valid, classification=classification,
                       max_iterations=max_iterations, deadline=deadline)


def _refine(formula: Formula, X_fit, Y_fit, X_valid, Y_valid, *, classification: bool, max_iterations: int,
            deadline: float | None) -> Formula | None:
    """:func:`refine`, with gradients on."""
    import torch

    from srnet.expr.torch_module import ProgramModule, torch_threads

    if deadline is not None and time.perf_counter() >= deadline:
        return None
    modules = torch.nn.ModuleList(ProgramModule(p, trainable_constants=True) for p in formula.programs)
    for module in modules:  # a weight that is exactly 0 is structure (a term absent): it stays 0
        absent = module.weights.detach() == 0
        if absent.any():
            module.weights.register_hook(lambda grad, absent=absent: grad.masked_fill(absent, 0.0))
    x_fit = torch.as_tensor(np.asarray(X_fit, dtype=np.float64))
    y_fit = torch.as_tensor(np.asarray(Y_fit, dtype=np.float64).reshape(len(X_fit), -1))
    # for a regression, the last layer works in units of each output's largest magnitude (a weight of 1e200
    # moves by steps of 1, and squared residuals beyond 1e154 do not overflow), each output counting by its
    # own spread
    unit = (torch.ones(y_fit.shape[1], dtype=y_fit.dtype) if classification
            else y_fit.abs().amax(dim=0).clamp_min(1e-300))
    with torch.no_grad():
        modules[-1].weights.div_(unit)
        modules[-1].intercept.div_(unit)
    y_fit = y_fit / unit
    scale = y_fit.var(dim=0).clamp_min(1e-300)

    def forward(x):
        for module in modules:
            x = module(x)
        return x

    optimiser = torch.optim.LBFGS(modules.parameters(), lr=1.0, max_iter=max_iterations,
                                  line_search_fn="strong_wolfe", tolerance_grad=1e-12, tolerance_change=1e-14)

    if classification:
        def objective(out):
            return class_divergence(y_fit, out)
    else:
        def objective(out):
            return (((out - y_fit) ** 2).mean(dim=0) / scale).sum()

    def closure():
        if deadline is not None and time.perf_counter() >= deadline:
            raise _OutOfTime
        optimiser.zero_grad()
        loss = objective(forward(x_fit))
        if torch.isfinite(loss):
            loss.backward()
        return loss

    try:
        with torch_threads(1):  # one thread: the same formula on every machine (L-BFGS amplifies a sum's rounding)
            optimiser.step(closure)
    except _OutOfTime:  # the constants reached so far: validation decides whether they are kept
        pass
    except (RuntimeError, IndexError):  # a non-finite step inside the line search (torch's strong-Wolfe search
        return None  # indexes an empty bracket when its first loss is inf): keep the formula as it was
    with torch.no_grad():
        modules[-1].weights.mul_(unit)
        modules[-1].intercept.mul_(unit)
    try:
        refined = replace(formula, source=formula.source + "+refined",
                          programs=tuple(m.to_program() for m in modules))
    except ValueError:  # non-finite constants
        return None
    return refined if _validation_error(refined, X_valid, Y_valid, classification) < _validation_error(
        formula, X_valid, Y_valid, classification) else None


class _OutOfTime(Exception):
    """Raised inside L-BFGS's closure at the refinement's deadline."""


#: Holds True once :func:`warm_up_refinement` has run in this process.
_REFINEMENT_WARM = []


def warm_up_refinement() -> float:
    """Refine a one-step formula once per process, and return the seconds it took: torch's first L-BFGS step
    (its autograd's set-up) takes ~0.7 s, which came out of the refinement's share of the budget (a 2 s
    explanation refined for 0.9 s of its 0.5)."""
    if _REFINEMENT_WARM:
        return 0.0
    started = time.perf_counter()
    X = np.linspace(0.1, 1.0, 8).reshape(-1, 1)
    one_step = Formula("warm-up", (Program(1, (1.5,), (("mul", 0, 1),), (2,), [[1.0]], [0.0]),))
    refine(one_step, X, 2 * X, X, 2 * X, max_iterations=2)
    _REFINEMENT_WARM.append(True)
    return time.perf_counter() - started


def _validation_error(formula: Formula, X, Y, classification: bool) -> tuple:
    """(RMSE,), or for a classifier (disagreement with the network's class, RMSE of the logits less each
    row's mean, as :func:`measure` reports it): smaller is better (the RMSE, not the MSE: it does not
    overflow for outputs beyond 1e154)."""
    predicted = formula(X)
    if not np.all(np.isfinite(predicted)):
        return (math.inf, math.inf)
    if not classification:
        return (rmse_r2(Y, predicted)[0],)
    return (1.0 - class_agreement(predicted, Y), rmse_r2(_centred(Y), _centred(predicted))[0])


#: Formulas whose outputs differ by at most this share of each output's largest magnitude at every point
#: compared are one formula (see :func:`distinct`).
SAME_FORMULA = 1e-6


def distinct(formulas: list[Formula], X) -> list[Formula]:
    """``formulas`` with each function once: of those that compute the same at the rows of X (within
    :data:`SAME_FORMULA`, non-finite where the other is), the one of fewest steps and weights
    (:func:`_structure_size`), the first of equals, in the place of the first found.

    Why: a direct search given a few seconds for a wide classifier often finds nothing beyond the
    least-squares map it starts from.  On PMLB's movement_libras (90 inputs, 15 classes, 10 s) up to three of
    the seven candidates computed that one linear formula (within 3e-9); each was refined in turn, then
    composed, simplified, rounded and printed (about 2 s apiece, after the budget), and listed as often.
    The smallest is kept: a layer-wise chain of a linear network computes the linear formula too (within
    2e-10), written in 35 nodes beside its 8."""
    kept, outputs = [], []
    for formula in formulas:
        values = formula(X)
        same = next((i for i, other in enumerate(outputs) if _same_values(values, other)), None)
        if same is None:
            kept.append(formula)
            outputs.append(values)
        elif _structure_size(formula) < _structure_size(kept[same]):
            kept[same] = formula
    return kept


def _structure_size(formula: Formula) -> tuple[int, int]:
    """(steps, nonzero weights) of a formula's programs: how long it prints, known without sympy."""
    return (sum(len(p.steps) for p in formula.programs),
            sum(int(np.count_nonzero(p.weights)) for p in formula.programs))


def _same_values(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two formulas' outputs are one: equal where either is not finite, within
    :data:`SAME_FORMULA` of each output's largest finite magnitude elsewhere."""
    finite = np.isfinite(a)
    if a.shape != b.shape or not np.array_equal(finite, np.isfinite(b)) \
            or not np.array_equal(a[~finite], b[~finite], equal_nan=True):
        return False
    a, b = np.where(finite, a, 0.0), np.where(finite, b, 0.0)
    with np.errstate(over="ignore"):  # 1e308 - -1e308: not one formula
        return bool(np.all(np.abs(a - b) <= SAME_FORMULA * np.max(np.abs(a), axis=0, initial=0.0)))


def most_promising_first(formulas: list[Formula], X_valid, Y_valid, *, classification: bool) -> list[Formula]:
    """``formulas``, most accurate first on the validation points (ties in their order): the order in which
    :func:`refine` is given the budget's last seconds.  In the order found, a classifier's layer-wise chain
    (largest, least accurate) took those seconds and the least-squares formula that refinement lifts most
    (crx: 0.979 of the network's classes) was never refined."""
    errors = [_validation_error(f, X_valid, Y_valid, classification) for f in formulas]
    return [formulas[i] for i in sorted(range(len(formulas)), key=errors.__getitem__)]


def pareto_front(candidates: list[Candidate]) -> list[Candidate]:
    """The non-dominated candidates by (complexity, validation error; see
    Candidate.error), simplest first: each is strictly more accurate than
    every simpler one."""
    ordered = sorted(candidates, key=lambda c: (c.complexity, _error(c)))
    front = []
    for c in ordered:
        if not front or _error(c) < _error(front[-1]):
            front.append(c)
    return front


def _error(c: Candidate) -> tuple:
    """``c.error`` with NaN as inf: no error at all is the worst one (a NaN first compared false with every
    later error, and the simplest candidate's NaN hid the whole front)."""
    return tuple(math.inf if math.isnan(e) else e for e in c.error)


def check_select(rule) -> None:
    """A one-line ValueError unless ``rule`` is a select rule or a complexity cap >= 1."""
    if isinstance(rule, (int, np.integer)) and not isinstance(rule, bool):
        if rule < 1:
            raise ValueError(f"a complexity cap must be >= 1, got {rule}")
    elif not isinstance(rule, str) or rule not in SELECT_RULES:
        raise ValueError(f"unknown select {rule!r}; valid: {', '.join(SELECT_RULES)} or a complexity cap (int)")


def _quality(c: Candidate) -> float:
    """Higher is better: class agreement for classifiers, else R^2 (validation)."""
    agreement = c.validation_agreement
    quality = c.validation_r2 if agreement is None else agreement
    return -math.inf if math.isnan(quality) else quality


def select(candidates: list[Candidate], rule="best") -> Candidate:
    """Pick one formula: a non-dominated one among those the rule judges
    (the pole-free ones when they are close to the best; under a cap, those
    within it), except for "layerwise".

    ``"best"``: when some formula is faithful (validation R^2 >=
    ``FAITHFUL_R2``), among formulas whose validation R^2 is within
    ``R2_TOLERANCE`` of the most accurate one's, start from the simplest and
    move to a more complex one whenever it divides the validation MSE by 10
    per ``NODES_PER_DECADE`` nodes added (``NODES_PER_DECADE_BEYOND`` once
    the chosen one's R^2 reaches ``ENOUGH_R2``, unless the larger one is
    exact, R^2 >= ``EXACT_R2``), or better (a 12-node exact formula
    beats a 10-node approximate one; a 2000-node one gaining a little over a
    17-node one does not); when none is, the most accurate formula of at
    most ``READABLE_COMPLEXITY`` nodes per output (an approximation either
    way: the readable one explains more; the simplest where none is that
    small) among those whose validation R^2 is above ``EXPLAINS_SHARE`` of
    the most faithful one's (and above 0), where any is; ``"accurate"``: the most accurate;
    ``"layerwise"``: the layer-wise chain (SRNet's own formula; its refined
    constants when refinement lowered the validation error); an int N:
    the most accurate with complexity <= N (the simplest if none is).
    Classifiers are judged by class agreement with the network, on the
    validation rows and the domain alike (see Candidate.validation_agreement):
    "best" is the simplest formula within ``AGREEMENT_TOLERANCE`` of the
    highest agreement.
    A formula with a pole inside the domain is passed over for pole-free
    ones unless it beats all of them by more than ``POLE_TOLERANCE`` (a
    network explained only by a formula with a narrow log spike is better
    served by it than by a poor pole-free one; the report names the pole).
    """
    check_select(rule)
    if not candidates:
        raise ValueError("no formula to select from")
    if rule == "layerwise":
        layerwise = [c for c in candidates if c.formula.source.startswith("layerwise")]
        if not layerwise:
            raise ValueError("select='layerwise' needs the layer-wise formula among the candidates")
        return min(layerwise, key=_error)
    if isinstance(rule, (int, np.integer)) and not isinstance(rule, bool):
        return _most_accurate_within(candidates, rule)
    pool = pareto_front(_pole_free_if_close(candidates))
    if rule == "accurate":
        return min(pool, key=_error)
    if pool[0].validation_agreement is not None:  # rule "best", for classifiers
        best_agreement = max(_quality(c) for c in pool)
        return next(c for c in pool if c.validation_agreement >= best_agreement - AGREEMENT_TOLERANCE)
    best_r2 = max(_quality(c) for c in pool)  # rule "best", for regression
    if not best_r2 >= FAITHFUL_R2:  # per output: a hidden layer's 10 units had 30 nodes in all, and the least
        # accurate formula (constants for units) won over the linear map
        # a readable formula that explains little beside the most faithful one is no explanation of the
        # network: an interrupted search left a linear map at R2 -0.065 (or 0.01), chosen over a 165-node
        # formula at 0.969; only those that explain at least EXPLAINS_SHARE of what it does, where any does
        enough = max(0.0, EXPLAINS_SHARE * best_r2)
        explaining = [c for c in candidates if c.validation_r2 > enough]
        return _most_accurate_within(explaining or candidates, candidates[0].readable_cap)
    good = [c for c in pool if c.validation_r2 >= best_r2 - R2_TOLERANCE]  # simplest first (a front)
    chosen = good[0]
    for c in good[1:]:
        decades = math.log10(max(chosen.validation_rmse, 1e-150) / max(c.validation_rmse, 1e-150)) * 2
        worth = (NODES_PER_DECADE if chosen.validation_r2 < ENOUGH_R2 or c.validation_r2 >= EXACT_R2
                 else NODES_PER_DECADE_BEYOND)
        if decades * worth >= c.complexity - chosen.complexity:
            chosen = c
    return chosen


def passed_over_for_a_pole(candidates: list[Candidate], cap: int, chosen: Candidate) -> Candidate | None:
    """The most accurate formula of at most ``cap`` nodes where :func:`select` took another (``chosen``) for
    having no pole in the domain: a user who asked for ``--complexity 23`` got a 15-node formula in silence
    while the front listed a more faithful one of 23 nodes (marked "pole in the domain")."""
    within = [c for c in candidates if c.complexity <= cap]
    if not within:
        return None
    best = min(within, key=lambda c: (_error(c), c.complexity))
    return best if best is not chosen and best.singularities and not chosen.singularities else None


def _pole_free_if_close(candidates: list[Candidate]) -> list[Candidate]:
    """The pole-free candidates, unless a formula with a pole beats them all
    by more than POLE_TOLERANCE (then all of them)."""
    pole_free = [c for c in candidates if not c.singularities]
    best_of_all = max(_quality(c) for c in candidates)
    close = pole_free and max(_quality(c) for c in pole_free) >= best_of_all - POLE_TOLERANCE
    return pole_free if close else candidates


def _most_accurate_within(candidates: list[Candidate], cap: int) -> Candidate:
    """The most accurate formula of at most ``cap`` nodes (poles judged among
    those: a pole-free linear formula must not win by default when every
    small formula of a log-shaped network has the log's pole); the simplest
    if none is that small."""
    within = [c for c in candidates if c.complexity <= cap]
    if not within:
        return min(pareto_front(_pole_free_if_close(candidates)), key=lambda c: c.complexity)
    return min(_pole_free_if_close(within), key=lambda c: (_error(c), c.complexity))


__all__ = ["Candidate", "ENOUGH_R2", "EXACT_R2", "FAITHFUL_R2", "Formula", "POLE_TOLERANCE", "R2_TOLERANCE",
           "READABLE_COMPLEXITY", "SELECT_RULES", "candidate", "check_select", "linear_formula", "live_steps",
           "measure", "pareto_front", "refine", "select", "singularities"]


#: Node budgets (CGP columns, one row) of the direct searches: a spread of
#: sizes, so the front has formulas from a few nodes to a few dozen.
DIRECT_SIZES = (4, 8, 16, 32)


def _linear_fit(X_fit, Y_fit, classification: bool):
    """(Y as fitted, binary, the linear formula of Y): a binary classifier's
    two logits as their difference (see :func:`direct_formulas`)."""
    Y = np.asarray(Y_fit, dtype=np.float64).reshape(len(X_fit), -1)
    binary = classification and Y.shape[1] == 2
    if binary:
        Y = Y[:, 1:] - Y[:, :1]
    return Y, binary, linear_formula(X_fit, Y)


def network_linear_formula(X_fit, Y_fit, *, classification: bool = False) -> Formula:
    """The network's outputs as one affine map of its inputs (a binary
    classifier's logits as -d/2, d/2): the first of :func:`direct_formulas`,
    and all of them a search stopped by Ctrl-C still has time for."""
    _, binary, linear = _linear_fit(X_fit, Y_fit, classification)
    return _as_logits(linear) if binary else linear


#: An input whose spread is below about this share of its size is constant to the linear formula (its ridge).
CONSTANT_INPUT_SPREAD = 1e-10


def linear_formula(X_fit, Y, *, binary=False) -> Formula:
    """The network's outputs as one affine map of its inputs, by least squares.

    The simplest global explanation, and a strong one for a classifier with
    many inputs: a tabular network's logits are often nearly linear in its
    inputs, and no small formula of a few inputs decides its class as well.
    A tiny ridge (relative to each input's spread) keeps collinear or
    constant inputs finite.  ``binary``: Y is the logit difference d, and the
    two logits are written -d/2 and d/2 (as in :func:`direct_formulas`).

    X is (n_samples, n_inputs); Y is (n_samples, n_outputs), or (n_samples,)
    for one output.  Other shapes, or fewer or more rows in Y than in X, are
    one-line ValueErrors.
    """
    X = np.asarray(X_fit, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if X.ndim != 2 or not X.shape[0]:
        raise ValueError(f"linear_formula needs X of shape (n_samples, n_inputs) with at least one row, "
                         f"got shape {X.shape}")
    if Y.ndim == 1:
        Y = Y[:, None]  # one output
    if Y.ndim != 2:
        raise ValueError(f"linear_formula needs Y of shape (n_samples,) or (n_samples, n_outputs), got shape {Y.shape}")
    if Y.shape[0] != X.shape[0]:
        raise ValueError(f"linear_formula needs one row of Y per row of X: X has {X.shape[0]} rows, Y has {Y.shape[0]}")
    if binary and Y.shape[1] != 1:
        raise ValueError(f"linear_formula(binary=True) needs the one logit difference per row, got {Y.shape[1]} "
                         f"outputs")
    mean_x, mean_y = X.mean(axis=0), Y.mean(axis=0)
    dX = X - mean_x
    gram = dX.T @ dX
    # relative to each input's own spread, and to its size: an input varying by less than ~1e-10 of its size
    # (rounding noise) gets no slope; 1e-6 of it shrank the slope of unix timestamps over an hour (a spread of
    # 6e-7 of their size) from 0.001 to 0.00027
    ridge = 1e-10 * np.diag(gram) + len(X) * (CONSTANT_INPUT_SPREAD * mean_x) ** 2 + 1e-300
    W = np.linalg.solve(gram + np.diag(ridge), dX.T @ (Y - mean_y))
    formula = Formula("linear", (Program(X.shape[1], (), (), tuple(range(X.shape[1])), W, mean_y - mean_x @ W),))
    return _as_logits(formula) if binary else formula


def _as_logits(difference: Formula) -> Formula:
    """A one-output linear formula of the logit difference d as the two logits -d/2, d/2."""
    (program,) = difference.programs
    W, b = program.weights, program.intercept
    return replace(difference, programs=(replace(program, weights=np.hstack([-W / 2, W / 2]),
                                                 intercept=np.concatenate([-b / 2, b / 2])),))


#: A classifier's direct searches read its linear logits and this many of its
#: inputs (those that move the logits most): a formula of a few dozen nodes
#: uses a handful of inputs anyway, and with a thousand inputs the search
#: would mostly mutate between unused ones.
LIFT_INPUTS = 10


def _lift(linear: Program, X) -> Program:
    """The inputs that move the linear logits most, then the logits: [x_S, x W + b]."""
    n = linear.n_inputs
    influence = np.abs(linear.weights).sum(axis=1) * np.asarray(X, dtype=np.float64).std(axis=0)
    kept = np.sort(np.argsort(-influence, kind="stable")[:LIFT_INPUTS])
    return Program(n, (), (), tuple(range(n)), np.hstack([np.eye(n)[:, kept], linear.weights]),
                   np.concatenate([np.zeros(len(kept)), linear.intercept]))


def _search_seconds(k: int, started: float, max_seconds: float) -> float:
    """The seconds left to direct search ``k``: until the end of the first k + 1
    shares of ``max_seconds`` (in proportion to DIRECT_SIZES), counted from
    ``started`` (a perf_counter time), not its own share from its own start.

    Each search's clock starts only once it is set up, and its last chunk
    may run past it: given its share alone, the four searches of clean1 (168
    inputs, a 1.875 s share) took 2.3-2.7 s (0.15 s loading kernels before
    the first search's clock; a last chunk of 16384 generations ran 0.46 s
    where the pace of the chunk before said 0.04 s).  Counted from the start,
    what one search overran comes out of the next, and only the last one's
    overrun is left."""
    end = started + max_seconds * sum(DIRECT_SIZES[:k + 1]) / sum(DIRECT_SIZES)
    return end - time.perf_counter()


def direct_formulas(X_fit, Y_fit, *, functions, n_constants, constant_pool, max_seconds=None, max_evaluations=None,
                    random_state, n_threads, classification=False, progress=None) -> list[Formula]:
    """Direct symbolic regression of the network's outputs: the linear
    formula (:func:`linear_formula`), then one (1+lambda) CGP search per size
    in DIRECT_SIZES, each output linearly scaled, the
    budget (seconds or evaluations) shared in proportion to the sizes (a
    4-node search converges long before a 32-node one).  Ctrl-C ends a search
    with its best so far and skips the rest.

    A seconds budget is one clock from the start (:func:`_search_seconds`):
    the linear fit, the searches' setup and overruns count against it, and a
    search that ends early leaves its time to the next.

    A binary classifier's class depends only on the difference of its two
    logits: that difference d is searched for, as one formula, and the
    logits are written -d/2 and d/2 (same class everywhere, half the search).
    A classifier's searches also read the linear formula's logits as inputs
    (each formula is the chain: inputs -> inputs and linear logits -> CGP):
    with tens of inputs a small formula of raw inputs rarely decides the
    class as well as the linear one, and from its logits a few nodes add
    what the network bends (on 19 PMLB tables, median test agreement with
    the network 0.83 -> 0.88-0.89; see data/results/pmlb_classification_160).
    """
    from srnet.cgp.evolve import DEFAULT_MUTATION, as_feature_rows, evolve, outputs_of
    from srnet.cgp.genome import GenomeSpec
    from srnet.estimators import linear_scaling

    started = time.perf_counter()
    Y, binary, linear = _linear_fit(X_fit, Y_fit, classification)
    Y_rows = np.ascontiguousarray(Y.T)
    formulas = [_as_logits(linear) if binary else linear]
    lift = _lift(linear.programs[0], X_fit) if classification else None
    X_rows = as_feature_rows(X_fit if lift is None else lift(X_fit))
    for k, size in enumerate(DIRECT_SIZES):
        share = size / sum(DIRECT_SIZES)
        seconds = None if max_seconds is None else _search_seconds(k, started, max_seconds)
        if seconds is not None and seconds <= 0:  # its share is spent: the next searches have the time left
            continue
        spec = GenomeSpec(n_inputs=X_rows.shape[0], n_outputs=Y.shape[1], n_rows=1, n_columns=size,
                          functions=functions, n_constants=n_constants, constant_pool=constant_pool)
        # point mutation (the engine's default): at equal time it found formulas with a higher
        # validation R^2 than single-active-gene mutation on 11 of 12 (network, size) pairs of
        # the paper's networks (validation boxes, 16 and 8 nodes, 4 s each)
        result = evolve(spec, X_rows, Y_rows, fitness="scaled", n_offspring=4, mutation=DEFAULT_MUTATION,
                        max_seconds=seconds,
                        max_evaluations=None if max_evaluations is None else max(1, int(max_evaluations * share)),
                        target_fitness=1e-14 * float(Y.var(axis=0).mean()), restart_after=None,
                        random_state=None if random_state is None else [random_state, k],
                        n_threads=n_threads, callback=None if progress is None else progress)
        a, b = linear_scaling(outputs_of(result.genome, X_rows).T, Y)
        weights, intercept = (np.array([[-a[0] / 2, a[0] / 2]]), np.array([-b[0] / 2, b[0] / 2])) if binary else (
            np.diag(a), b)
        program = Program.from_genome(result.genome, weights, intercept)
        formulas.append(Formula(f"direct-{size}", (program,) if lift is None else (lift, program)))
        if result.stop_reason in ("interrupted", "callback"):  # Ctrl-C, or the caller asked to finish
            break
    return formulas


def warn_of_constant_inputs(formulas, X: np.ndarray, symbols) -> None:
    """A warning where a formula reads an input that never varied in X: the search used it as a number (a column
    x2 = 7 fitted ``x0**2 + x1 - x2 + 7``, right on the data and off wherever x2 is not 7; an SRNet formula read
    a column always 2.5 as ``sin(x1)``, R2 -9.8 against its network where that input was 3)."""
    used = set().union(*(f.free_symbols for f in formulas))
    constant = [(symbol, X[0, j]) for j, symbol in enumerate(symbols)
                if symbol in used and np.all(X[:, j] == X[0, j])]
    if constant:
        listed = ", ".join(f"{symbol} (always {value:g})" for symbol, value in constant)
        warnings.warn(f"the formula reads {listed}, constant on every row fitted on: it is used there as a number, "
                      f"and the formula elsewhere changes with it; drop the column, or fit on rows where it varies",
                      UserWarning, stacklevel=caller_outside_srnet())
