"""Explanation domains: where a formula of a network must be faithful.

A network can be queried anywhere, so an explainer of a network is not bound
to the rows it was given: it can label as many points as it likes, wherever
the user will use the formula.  A :class:`Domain` says where that is and
draws points there; :class:`srnet.extract.SRNet` labels them by probing the
network, searches on one sample, selects and reports on another.

Forms (``parse_domain`` reads each from a string, for the command line):

=====================  =========================================================
``"rows"``             the given rows only (what the SRNet paper fits)
``"widen:F"``          the data's box, each range widened F-fold about its centre
                       (a categorical input on its own values)
``"box:L,H;L,H;..."``  an explicit box, one ``low,high`` pair per input
``"jitter:S"``         the rows moved by S x each input's standard deviation
                       (a LIME-like neighbourhood, for many or categorical inputs:
                       a categorical input takes another of its values with
                       probability S, never one between them)
``"auto"``             ``widen:1.2`` for at most 4 inputs, or for more when they
                       vary independently (see :func:`independent_inputs`);
                       else ``jitter:0.1``
=====================  =========================================================

Why ``auto``: a formula that holds only on the sample is not an explanation
of the network; just beyond the data is where users extrapolate first, and
where a formula fitted to the rows alone blows up (a saturating sigmoid
explained by a polynomial).  A box is the natural neighbourhood for a few
inputs; with many, most of a box is far from any data (off the data's
manifold, where the network was never trained), so the rows are jittered
instead, unless the inputs vary independently of each other (physics tables,
designed experiments, inputs sampled each on its own range): then every
combination of their values is as plausible as the rows, and the box stays
the domain.  20 % wider keeps the domain close to what the network has seen.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass

import numpy as np

from srnet.data import counted, data_box, number_cell, widen_box

#: Inputs up to which "auto" uses a widened box (beyond: jittered rows).
AUTO_BOX_MAX_INPUTS = 4
AUTO_WIDEN = 1.2
AUTO_JITTER = 0.1
#: Over AUTO_BOX_MAX_INPUTS inputs, "auto" still widens the box when the inputs vary independently: with each
#: input replaced by its rank (scaled to [0, 1]), the median distance from a point of the unit box to its nearest
#: row is at most this many times the median distance from a row to its nearest other row.  Independent inputs
#: give 0.94-1.07 (uniform, Gaussian, or a dense box inside a sparse one; 100-5000 rows of 5-20 inputs), inputs
#: sharing a Gaussian factor (correlation 0.5) 1.16-1.39, rows near a plane 2.4-13 (see independent_inputs).
INDEPENDENT_RATIO = 1.1
#: ... judged on at least this many distinct rows (fewer cannot tell: 20 rows sharing a factor gave 0.94).
INDEPENDENCE_MIN_ROWS = 100
#: The region "beyond" a box domain: outside it, inside its box widened this much again.
BEYOND_WIDEN = 1.5

KINDS = ("rows", "widen", "box", "jitter", "auto")
#: A jitter scale (in standard deviations of each input) beyond which the points are no neighbourhood of the
#: rows: a warning says so.
JITTER_FAR = 5.0


@dataclass(frozen=True)
class Domain:
    """Where to be faithful: ``kind`` in KINDS, with its parameter.

    ``factor`` (widen: > 0, usually >= 1; jitter: the scale, >= 0) and
    ``box`` (an (n_inputs, 2) sequence of (low, high)) are used by their kind.
    """

    kind: str = "auto"
    factor: float | None = None
    box: tuple[tuple[float, float], ...] | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown domain {self.kind!r}; valid: {', '.join(KINDS)}")
        if self.factor is not None and self.kind not in ("widen", "jitter"):  # (it was silently ignored)
            raise ValueError(f"domain {self.kind} takes no factor (widen and jitter do), got {self.factor!r}")
        if self.box is not None and self.kind != "box":
            raise ValueError(f"domain {self.kind} takes no box (give kind 'box' for one)")
        if self.kind in ("widen", "jitter"):
            factor = self.factor
            try:  # 10**400 overflowed float(), 1j was a TypeError: one line each
                value = None if factor is None or isinstance(factor, (bool, np.bool_)) else float(factor)
            except (TypeError, ValueError, OverflowError):
                value = None
            if value is None or not math.isfinite(value) or (value <= 0 if self.kind == "widen" else value < 0):
                rule = "> 0" if self.kind == "widen" else ">= 0"
                raise ValueError(f"domain {self.kind} needs a finite factor {rule}, got {factor!r}")
            object.__setattr__(self, "factor", float(factor))  # a plain float: describe() stays JSON-ready
            if self.kind == "jitter" and value > JITTER_FAR:  # (jitter:1e9 put every point on the network's
                # saturated plateaus, and its figures read as a perfect fit of a neighbourhood)
                warnings.warn(f"domain jitter:{value:g} moves the rows by {value:g} standard deviations of each input, "
                              f"far from the data (a neighbourhood is about 0.1 to 1); for a wide region, give "
                              f"widen:F or a box", UserWarning, stacklevel=3)
        if self.kind == "box":
            if self.box is None or not len(self.box):
                raise ValueError("the domain box needs one (low, high) pair per input")
            box = check_box(self.box, len(self.box), "domain")
            if np.all(box[:, 0] == box[:, 1]):  # one point: the network is a constant there, every R^2 -inf
                raise ValueError("the domain box is a single point (low == high on every input); give a range "
                                 "to at least one input")
            object.__setattr__(self, "box", tuple((float(lo), float(hi)) for lo, hi in box))

    def resolved(self, X: np.ndarray) -> "Domain":
        """``auto`` made concrete for data X; a box checked against X's width."""
        if self.kind == "auto":
            if X.shape[1] <= AUTO_BOX_MAX_INPUTS or independent_inputs(X):
                return Domain("widen", AUTO_WIDEN)
            return Domain("jitter", AUTO_JITTER)
        if self.kind == "box" and len(self.box) != X.shape[1]:
            raise ValueError(f"the domain box has {counted(len(self.box), '(low, high) pair')}, one per input, but "
                             f"the data have {counted(X.shape[1], 'input')}")
        return self

    def bounds(self, X: np.ndarray) -> np.ndarray | None:
        """The domain's box as an (n_inputs, 2) array; None for rows and jitter."""
        domain = self.resolved(X)
        if domain.kind == "box":
            return np.asarray(domain.box)
        if domain.kind == "widen":
            box = widen(data_box(X), domain.factor)
            wide = _first_infinite(box)
            if wide is not None:
                raise ValueError(f"domain widen:{domain.factor:g} widens input {wide} of the data "
                                 f"([{X[:, wide].min():g}, {X[:, wide].max():g}]) past the largest float; "
                                 f"choose a smaller factor or an explicit box")
            for column, values in _kept_categories(domain, X).items():  # drawn among their values: their range
                box[column] = values[0], values[-1]
            return box
        return None

    def sample(self, X: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` points of the domain (the rows themselves, resampled, for ``rows``)."""
        domain = self.resolved(X)
        if domain.kind == "rows":
            return X[rng.integers(0, len(X), n)]
        if domain.kind == "jitter":
            centres = X[rng.integers(0, len(X), n)]
            with np.errstate(over="ignore", invalid="ignore"):  # rows near +-1e308: their spread overflows
                spread = X.std(axis=0)
                # a scale of 0 keeps the rows as they are, however wide they spread (0 x inf was NaN: refused)
                step = domain.factor * spread if domain.factor else np.zeros_like(spread)
                points = centres + rng.normal(size=(n, X.shape[1])) * step
            if not np.all(np.isfinite(points)):  # else the network would seem to return NaN/inf there
                raise ValueError(f"domain jitter:{domain.factor:g} moves the rows past the largest float; "
                                 f"use a smaller scale (in standard deviations of each input)")
            # a categorical input takes another of its own values with probability S, never one between them
            for column, values in categories(X).items():
                if len(values) < 2:  # a constant input has no other value
                    points[:, column] = centres[:, column]
                    continue
                switch = rng.random(n) < min(1.0, domain.factor)
                other = rng.integers(0, len(values) - 1, n)  # any value but the centre's own
                other += other >= np.searchsorted(values, centres[:, column])
                points[:, column] = np.where(switch, values[other], centres[:, column])
            return points
        return _on_own_values(sample_box(domain.bounds(X), n, rng), _kept_categories(domain, X), rng)

    def beyond(self, X: np.ndarray) -> np.ndarray | None:
        """The outer box of the region just beyond a box domain: the box
        widened BEYOND_WIDEN-fold (the region is what lies outside the domain
        inside it: :meth:`sample_beyond`).  None for other kinds, and None
        when the widened box is not finite (a box near the largest float has
        no "beyond") or adds nothing: every input constant or, in a widened
        box, categorical (kept on its own values, never beyond them)."""
        region = self._beyond_region(X)
        return None if region is None else region[1]

    def sample_beyond(self, X: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray | None:
        """``n`` points beyond a box domain: uniform in :meth:`beyond`'s box,
        outside the domain's own box (a third of the wider box for one input:
        points drawn in the whole of it were mostly the domain again).  None
        where :meth:`beyond` is None."""
        region = self._beyond_region(X)
        if region is None:
            return None
        inner, outer, own, measured = region
        kept, count = [np.empty((0, X.shape[1]))], 0  # n = 0: no points (numpy's own error before)
        while count < n:  # rejection: at least 1 - 1/1.5 of the outer box lies outside the inner one
            points = _on_own_values(sample_box(outer, 2 * n, rng), own, rng)
            within = (points >= inner[:, 0]) & (points <= inner[:, 1])
            outside = points[~np.all(within[:, measured], axis=1)]
            kept.append(outside)
            count += len(outside)
        return np.vstack(kept)[:n]

    def _beyond_region(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict, np.ndarray] | None:
        """(inner box, outer box, the inputs kept on their own values, the inputs measured) of the region
        beyond the domain, or None where it has none.  One rule for beyond and sample_beyond: a widened box of
        categorical inputs alone had a beyond() box where sample_beyond found nothing beyond it."""
        domain = self.resolved(X)
        inner = domain.bounds(X)
        outer = _beyond_box(inner)
        if outer is None:
            return None
        # a widened box keeps categorical inputs on their values: "beyond" is then beyond the other inputs
        own = _kept_categories(domain, X)
        measured = np.ones(X.shape[1], dtype=bool)
        measured[list(own)] = False
        if not measured.any() or np.array_equal(outer[measured], inner[measured]):
            return None
        return inner, outer, own, measured

    def describe(self, X: np.ndarray) -> dict:
        """JSON-ready: the kind, its parameter and, for boxes, the bounds."""
        domain = self.resolved(X)
        box = domain.bounds(X)
        return {"kind": domain.kind, "factor": domain.factor,
                "box": None if box is None else box.tolist()}

    def text(self, X: np.ndarray, shown: int = 4) -> str:
        """As a message reads it (see :func:`description_text`)."""
        return description_text(self.describe(X), shown)


def description_text(described: dict, shown: int = 4) -> str:
    """A :meth:`Domain.describe` (or an SRNet's ``domain_``) as a message reads it: ``widen:1.2, box
    [0.9023, 2.098] x [...]`` (a box the user gave: ``box [0, 1] x [...]``, its kind not said twice), the
    bounds at 4 significant digits, the first ``shown`` inputs' (a raw dict of 16-digit bounds before)."""
    kind = described["kind"] + ("" if described["factor"] is None else f":{described['factor']:g}")
    box = described["box"]
    if box is None:
        return kind
    intervals = " x ".join(interval_text(low, high) for low, high in box[:shown])
    ranges = f"box {intervals}" + (f" x ... ({len(box)} inputs)" if len(box) > shown else "")
    return ranges if described["kind"] == "box" else f"{kind}, {ranges}"


def interval_text(low: float, high: float) -> str:
    """``[low, high]`` at 4 significant digits, or as many more as tell the two apart to 3 digits of the width
    (a Unix time's box read [1.7e+09, 1.7e+09])."""
    size, width = max(abs(low), abs(high)), high - low
    digits = 4 if not 0 < width < size else max(4, math.ceil(math.log10(size / width)) + 3)
    return f"[{low:.{digits}g}, {high:.{digits}g}]"


#: An input with at most this many distinct values, all whole numbers, is categorical; so is one of two values
#: (a flag, standardised or not) repeated over the rows (jitter: see Domain.sample).
MAX_CATEGORIES = 10


def categories(X: np.ndarray) -> dict[int, np.ndarray]:
    """Input index -> its distinct values, for the inputs that take at most
    MAX_CATEGORIES distinct whole numbers (0/1 flags, one-hot codes, small
    counts), or two values of any kind over four rows or more: a flag
    scaled and shifted (a standardised 0/1 flag reads -0.8 and 1.25; srnet
    bench standardises PMLB's inputs), which a network trained on it never
    saw at 0.27 either.  More values that are not whole numbers stay a range:
    0, 0.1, ..., 0.9 is as likely a grid of a measured input (a designed
    experiment) as a standardised count, and a grid's box is its domain."""
    found = {}
    for column in range(X.shape[1]):
        values = np.unique(X[:, column])
        whole = values.size <= MAX_CATEGORIES and np.all(values == np.round(values))
        if whole or (values.size == 2 and len(X) >= 4):
            found[column] = values
    return found


def independent_inputs(X: np.ndarray, *, rows: int = 1000, probes: int = 200) -> bool:
    """Whether the inputs vary independently of each other, so that a box of the data is no farther from it
    than its rows are from each other, however many inputs there are (INDEPENDENT_RATIO).  Each input is
    replaced by its rank, so that its own spread (uniform, Gaussian, skewed) does not count, only how the inputs
    go together; up to ``rows`` distinct rows and ``probes`` points of the unit box are compared, drawn with a
    fixed seed (the same rows, the same answer).  Rows with a discrete input (one that varies over at most
    MAX_CATEGORIES values) never count as independent: a box of codes is mostly combinations the network never
    saw; nor do fewer than INDEPENDENCE_MIN_ROWS rows."""
    X = np.asarray(X, dtype=np.float64)
    rng = np.random.default_rng(0)
    if len(X) > rows:
        X = X[rng.choice(len(X), rows, replace=False)]
    X = np.unique(X, axis=0)
    X = X[:, np.ptp(X, axis=0) > 0] if len(X) else X
    if len(X) < INDEPENDENCE_MIN_ROWS or X.shape[1] == 0:
        return False
    if any(np.unique(column).size <= MAX_CATEGORIES for column in X.T):
        return False
    ranks = (np.argsort(np.argsort(X, axis=0), axis=0) + 0.5) / len(X)
    norms = (ranks * ranks).sum(axis=1)

    def nearest(A):  # the squared distance from each point of A to its nearest row
        return np.maximum((A * A).sum(axis=1)[:, None] + norms[None, :] - 2 * A @ ranks.T, 0.0)

    # probe rows drawn at random: np.unique sorted the rows, and the first ones all lie at one edge of input 0,
    # where rows are farther apart
    chosen = rng.choice(len(ranks), min(probes, len(ranks)), replace=False)
    among = nearest(ranks[chosen])
    among[np.arange(len(chosen)), chosen] = np.inf  # a row's nearest other row
    row_gap = np.sqrt(np.median(among.min(axis=1)))
    box_gap = np.sqrt(np.median(nearest(rng.random((probes, ranks.shape[1]))).min(axis=1)))
    return bool(box_gap <= INDEPENDENT_RATIO * row_gap)


def _kept_categories(domain: "Domain", X: np.ndarray) -> dict[int, np.ndarray]:
    """The categorical inputs a box domain keeps on their own values (see :func:`categories`): a widened
    box's, as jittered rows and pole points keep them (a 0/1 flag took 0.27 or 1.04 at every point); none of
    a box the user gave, which is sampled as written."""
    return categories(X) if domain.kind == "widen" else {}


def _on_own_values(points: np.ndarray, own: dict[int, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """``points`` with each input of ``own`` (input index -> its values) drawn among its values."""
    for column, values in own.items():
        points[:, column] = values[rng.integers(0, len(values), len(points))]
    return points


def _beyond_box(box: np.ndarray | None) -> np.ndarray | None:
    """``box`` widened BEYOND_WIDEN-fold (see :meth:`Domain.beyond`), or None."""
    if box is None:
        return None
    wider = widen(box, BEYOND_WIDEN)
    if _first_infinite(wider) is not None or np.array_equal(wider, box):
        return None
    return wider


def widen(box: np.ndarray, factor: float) -> np.ndarray:
    """Each (low, high) range scaled ``factor``-fold about its centre; a
    zero-width range (a constant input) stays a point.  Bounds past the
    largest float come back as +-inf (see :func:`_first_infinite`)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return widen_box(box, (factor - 1) / 2)


def _first_infinite(box: np.ndarray) -> int | None:
    """The first input whose range is not finite (a bound or the width
    high - low is inf or NaN), or None: such a range cannot be sampled."""
    box = np.asarray(box, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        bad = ~(np.isfinite(box).all(axis=1) & np.isfinite(box[:, 1] - box[:, 0]))
    return int(np.flatnonzero(bad)[0]) if bad.any() else None


def check_box(box, n_features: int, name: str) -> np.ndarray:
    """A box as an (n_features, 2) array of finite ranges, low <= high, of
    finite width (one line naming the problem otherwise).

    A range with low == high is a valid, degenerate range: an input held at
    one value (what :meth:`Domain.describe` reports for a constant input);
    sampling gives that value and widening keeps it a point.
    """
    try:
        box = np.asarray(box, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"the {name} box must be (low, high) number pairs, got {box!r}") from None
    if box.shape != (n_features, 2):
        raise ValueError(f"the {name} box has shape {box.shape}; expected ({n_features}, 2): one (low, high) "
                         f"per input")
    if not np.all(np.isfinite(box)):
        raise ValueError(f"the {name} box has non-finite bounds (NaN or inf)")
    inverted = np.flatnonzero(box[:, 1] < box[:, 0])
    if inverted.size:
        i = int(inverted[0])
        raise ValueError(f"the {name} box is inverted along input {i} (low > high): "
                         f"[{box[i, 0]:g}, {box[i, 1]:g}]")
    wide = _first_infinite(box)
    if wide is not None:
        raise ValueError(f"the {name} box is too wide along input {wide}: high - low of "
                         f"[{box[wide, 0]:g}, {box[wide, 1]:g}] overflows a float; use a narrower range")
    return box


def sample_box(box: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points drawn uniformly in an (n_inputs, 2) box."""
    return rng.uniform(box[:, 0], box[:, 1], size=(n, box.shape[0]))


def sample_rows_box(X: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points of the rows' bounding box, each categorical input on its
    own values: between the rows, where a formula read on the rows alone
    (domain ``rows``) is still checked for poles (on 20 rows, 1/(x - 0.5)
    looked removable in half of the draws).  Rows whose box is wider than
    the largest float (values near +-1e308) are resampled as they are."""
    box = data_box(X)
    if _first_infinite(box) is not None:
        return X[rng.integers(0, len(X), n)]
    points = sample_box(box, n, rng)
    for column, values in categories(X).items():
        points[:, column] = values[rng.integers(0, len(values), n)]
    return points


def as_domain(value) -> Domain:
    """A Domain from a Domain, None ("auto"), a string (see the module), or a
    sequence of (low, high) pairs (a box)."""
    if value is None:
        return Domain("auto")
    if isinstance(value, Domain):
        return value
    if isinstance(value, str):
        return parse_domain(value)
    if isinstance(value, (tuple, list)) and any(isinstance(pair, str) for pair in value):  # ("rows",): a box of
        raise ValueError(f"domain must be one string such as 'rows' or 'widen:1.2' ({', '.join(KINDS)}), or a box "
                         f"of (low, high) pairs; got {value!r}")  # ('r', 'o', 'w', 's') pairs, it said
    try:
        return Domain("box", box=tuple(tuple(pair) for pair in value))
    except TypeError:
        # (-1, 1) is one pair, not a sequence of them: "(low, high) pairs; got (-1, 1)" read as a contradiction
        pair = isinstance(value, (tuple, list)) and len(value) == 2 and all(isinstance(v, numbers.Real) for v in value)
        hint = f"; a box of one input is a list of one pair: [{tuple(value)!r}]" if pair else ""
        raise ValueError(f"domain must be a string ({', '.join(KINDS)}), a Domain or a sequence of (low, high) "
                         f"pairs, one per input; got {value!r}{hint}") from None


def parse_domain(text: str) -> Domain:
    """``rows``, ``auto``, ``widen:F``, ``jitter:S`` or ``box:L,H;L,H;...``."""
    # numbers read as files write them (number_cell: widen:1_5 was a 15-fold widening, Python's float of "1_5")
    kind, colon, argument = text.strip().partition(":")
    kind = kind.strip().lower()
    if kind in ("rows", "auto"):
        if colon:  # ("rows:" too)
            raise ValueError(f"domain {kind} takes no argument, got {text!r}")
        return Domain(kind)
    if kind in ("widen", "jitter"):
        try:
            return Domain(kind, number_cell(argument.strip()))
        except ValueError as error:
            if "domain" in str(error):
                raise
            raise ValueError(f"domain {kind} needs a number, as in {kind}:1.5; got {text!r}") from None
    if kind == "box":
        parts = argument.split(";")
        if parts[-1].strip() == "":  # a closing ';' is fine ("box:1,2;"); an empty pair between two is not
            parts = parts[:-1]
        try:
            pairs = tuple(tuple(number_cell(v.strip()) for v in part.split(",")) for part in parts)
        except ValueError:
            raise ValueError(f"domain box needs numbers, as in box:-1,1;0,2; got {text!r}") from None
        if any(len(pair) != 2 for pair in pairs):
            raise ValueError(f"domain box needs low,high pairs separated by ';', as in box:-1,1;0,2; got {text!r}")
        return Domain("box", box=pairs)
    raise ValueError(f"unknown domain {text!r}; valid: rows, auto, widen:F, jitter:S, box:L,H;L,H;...")


__all__ = ["AUTO_BOX_MAX_INPUTS", "BEYOND_WIDEN", "Domain", "INDEPENDENT_RATIO", "KINDS", "as_domain", "check_box",
           "description_text", "independent_inputs", "parse_domain", "sample_box", "widen"]
