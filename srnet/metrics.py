"""The project's single metric functions: how close an explanation is to its network.

Every figure srnet reports about fidelity comes from here: :func:`rmse_r2`
and :func:`mse` for outputs, :func:`class_agreement` for a classifier's classes
(and :func:`softmax`, which turns its logits into the class probabilities
whose :func:`rmse_r2` is a classifier's fidelity figure).  This module
needs only numpy, so the engine (``srnet.extract``), the comparison
(``srnet.compare``), the command line and the batch runs can all use it
without importing each other.
"""

from __future__ import annotations

import math

import numpy as np

#: A constant target is matched when the RMSE is within this share of its magnitude (rounding, not a fit).
CONSTANT_MATCH = 1e-12
#: A target is constant when its spread is within this share of its magnitude: rounding of its mean (a few
#: ulps), not a variation (1e-12 called a target varying by 1700 ulps constant, and a mirror image of it R^2 1).
CONSTANT_SPREAD = 64 * np.finfo(np.float64).eps


def rmse_r2(target: np.ndarray, predicted: np.ndarray) -> tuple[float, float]:
    """RMSE and R^2 of ``predicted`` against ``target`` (rows = samples, one
    or more columns): a non-finite prediction or target gives inf and -inf, never NaN;
    a constant target (spread within :data:`CONSTANT_SPREAD` of its size) gives
    R^2 1 when matched within rounding (:data:`CONSTANT_MATCH` of its size:
    LIME's 1e-16 off a constant network of 0.7 scored -inf beside an exact
    formula's 1), else -inf.

    With several columns (a layer's units, a network's outputs) both are
    pooled: R^2 is the share of the columns' total variance explained
    (as scikit-learn's ``multioutput="variance_weighted"``, except that a
    constant column's error still counts: scikit-learn drops it), so a nearly
    constant unit of a layer does not swamp the figure; a column of small
    variance counts for little in it.  Raises ValueError when the shapes differ
    (broadcasting an (n,) prediction against an (n, 2) target is no metric).
    """
    target, predicted = _paired(target, predicted)
    if not np.all(np.isfinite(target)):  # no figure measures a match to inf or NaN
        return math.inf, -math.inf
    # each sum of squares in units of its own largest term (beyond 1e154 squares pass float64's range; below
    # 1e-154 they vanish): the residuals' in theirs (a residual of 1e-200 beside a constant column of 1, squared in
    # the target's units, was 0, and the prediction "exact"), the deviations' in theirs
    with np.errstate(over="ignore", invalid="ignore"):
        difference = predicted - target
        finite = bool(np.all(np.isfinite(difference)))
        scale = (float(np.max(np.abs(difference))) if finite else 0.0) or 1.0
        residual = difference / scale
        sse = float(np.sum(residual * residual)) if finite else math.inf
    # constant and matched are judged column by column, each in units of its own size: in the largest column's,
    # a column varying in [0, 1] beside a constant 1e15 was "constant", and a prediction of 0 for it scored R^2 1
    own = _own_sizes(target)
    deviation = target - target.mean(axis=0)
    varying = _varying(deviation, own)
    # a constant column's deviations are its mean's rounding, no variance (a constant 1e200's, 1.7e184, swamped a
    # column varying by 1e18 beside it, and a prediction of 0 for that column scored R^2 1)
    deviation = np.where(varying, deviation, 0.0)
    spread = float(np.max(np.abs(deviation))) or 1.0
    centred = deviation / spread
    sst = float(np.sum(centred * centred))
    rmse = scale * math.sqrt(sse / target.size) if math.isfinite(sse) else math.inf
    with np.errstate(over="ignore", invalid="ignore"):
        miss = np.sqrt(np.mean((difference / own) ** 2, axis=0))
    if sse == 0:  # an exact prediction
        r2 = 1.0
    elif varying.any():  # the mean of a constant need not be exact
        # 1 - SSE/SST, each in its own units (a column of 1e-200 beside 1 has no SST in them); a ratio beyond
        # float64 is R^2 -inf
        # (sst >= 1: the largest centred deviation is 1 where a column varies)
        ratio = math.sqrt(sse / sst) * (scale / spread) if math.isfinite(sse) else math.inf
        r2 = 1.0 - ratio * ratio if ratio < 1e150 else -math.inf
    else:  # a constant target: matched within rounding or not at all
        r2 = 1.0 if np.all(miss <= CONSTANT_MATCH) else -math.inf
    return rmse, r2


def _own_sizes(target: np.ndarray) -> np.ndarray:
    """Each column's largest magnitude (1 for a column of zeros): the unit it is judged constant or matched in."""
    own = np.max(np.abs(target), axis=0)
    return np.where(own > 0, own, 1.0)


def _varying(deviation: np.ndarray, own: np.ndarray) -> np.ndarray:
    """Per column whose deviations from its mean are ``deviation``, whether it varies beyond
    :data:`CONSTANT_SPREAD` of its own size ``own`` (:func:`_own_sizes`)."""
    with np.errstate(over="ignore", invalid="ignore"):
        spread = np.sqrt(np.mean((deviation / own) ** 2, axis=0))
    return spread > CONSTANT_SPREAD


def is_constant(target) -> bool:
    """Whether no column of ``target`` (finite values) varies beyond rounding (:data:`CONSTANT_SPREAD` of its own
    size): where R^2 has no variance to explain, and :func:`rmse_r2` gives 1 for a match and -inf otherwise."""
    target = np.asarray(target, dtype=np.float64)
    target = target.reshape(len(target), -1)
    return not _varying(target - target.mean(axis=0), _own_sizes(target)).any()


#: Below this R^2 against the network on the domain (a classifier: class agreement), a formula follows the
#: network only loosely: SRNet.fit warns of its selected one (a 50-input network's formula of R2 0.44 was chosen
#: in silence), and ``srnet explain`` prints its own line, with what the front offers instead (and offers a
#: shorter formula only from this figure on).
LOOSE_BELOW = 0.9
#: How SRNet.fit's warning of a loose formula begins (the command line leaves it to its own line).
LOOSE_WARNING = "the selected formula follows the network only loosely on the domain"


def loose_figure(domain: dict | None, classification: bool) -> float | None:
    """The figure of a formula's domain figures that :data:`LOOSE_BELOW` is read against (a classifier's class
    agreement, else R^2); None where there is none (no domain measured, or not finite)."""
    return None if domain is None else domain.get("agreement" if classification else "r2")


def loose_outputs(domain: dict | None) -> list[tuple[int, float]]:
    """(output, R^2) of each output of a regression formula of several outputs whose own R^2 on the domain is
    below :data:`LOOSE_BELOW`: the pooled R^2 weighs outputs by their variance, and an output of small variance,
    fitted worse than a straight line (0.79), stood behind a pooled 0.994 in silence.  An infinite R^2 is left
    to the pooled figure (a prediction that is not finite makes it -inf too; a constant output, judged by
    rounding, reads -inf for a miss of 1e-9)."""
    own = (domain or {}).get("r2_per_output") or []
    return [(j, r2) for j, r2 in enumerate(own) if r2 is not None and math.isfinite(r2) and r2 < LOOSE_BELOW]


def loose_outputs_text(loose: list[tuple[int, float]], pooled: float) -> str:
    """``loose`` (:func:`loose_outputs`) as srnet's warnings name them (y1, as the formulas' lines do), beside the
    pooled figure, and what to do."""
    named = [f"y{j} (R2 {format_r2(r2)})" for j, r2 in loose]
    which = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
    return (f"for {which}, which the pooled R2 {format_r2(pooled)} hides (it weighs outputs by their variance); "
            f"read {'those outputs' if len(loose) > 1 else 'that output'} as a sketch")


#: A network whose spread on the domain is below this share of its spread on the rows barely varies there.
QUIET_SHARE = 0.1


def quiet_network_text(domain: dict | None, rows: dict | None) -> str:
    """"; the network varies little on the domain ..." where its spread there (from a region's figures: RMSE /
    sqrt(1 - R2), the target's standard deviation) is below :data:`QUIET_SHARE` of its spread on the rows, with
    the RMSE there: a domain where the network barely moves (a slice at a = 0 of a network of a*sin(b)) read R2
    -6.3 for a formula 0.009 off it, and the warning said only to search longer; else ""."""
    def spread(figures):
        if not figures or not all(math.isfinite(figures.get(key, math.nan)) for key in ("rmse", "r2")):
            return None
        return figures["rmse"] / math.sqrt(1.0 - figures["r2"]) if figures["r2"] < 1.0 else None

    on_domain, on_rows = spread(domain), spread(rows)
    if on_domain is None or not on_rows or on_domain >= QUIET_SHARE * on_rows:
        return ""
    return (f"; the network varies little on the domain (its spread {on_domain:.3g} against {on_rows:.3g} on the "
            f"rows), where R2 weighs small misses: the formula's RMSE there is {domain['rmse']:.3g}")


def rmse_r2_per_output(target: np.ndarray, predicted: np.ndarray) -> list[tuple[float, float]]:
    """:func:`rmse_r2` of each column of ``target`` (n, m) against the same column of ``predicted``: each output's
    own figures, which the pooled ones weigh by the outputs' variance."""
    target, predicted = _paired(target, predicted)
    return [rmse_r2(target[:, j], predicted[:, j]) for j in range(target.shape[1])]


def fidelity_text(value: float, classification: bool) -> str:
    """A formula's figure against the network as srnet says it: "class agreement 95.6 %" or "R2 0.998560"."""
    return f"class agreement {100 * value:.1f} %" if classification else f"R2 {format_r2(value)}"


def format_r2(value) -> str:
    """An R^2 as srnet prints it (command line, plots): six decimals near [0, 1], where they tell 0.99 from
    0.9999; a far-off one in four significant digits (-4120665.815867 read as a wall of digits, and -3e297
    as a 300-digit plot title); None (JSON's null) as "not finite"."""
    if value is None:
        return "not finite"
    return f"{value:.6f}" if -10 < value <= 1 else f"{value:.4g}"


def mse(target: np.ndarray, predicted: np.ndarray) -> float:
    """Mean squared error of ``predicted`` against ``target`` (same number of
    rows; any columns); a non-finite prediction gives inf, never NaN."""
    target, predicted = _paired(target, predicted)
    with np.errstate(over="ignore", invalid="ignore"):
        value = float(np.mean((predicted - target) ** 2))
    return value if math.isfinite(value) else math.inf


def _paired(target, predicted) -> tuple[np.ndarray, np.ndarray]:
    """Both as (n_samples, n_columns) arrays of the same shape (a 1-D array is one column)."""
    target, predicted = np.asarray(target, dtype=np.float64), np.asarray(predicted, dtype=np.float64)
    if target.ndim == 0 or predicted.ndim == 0:
        raise ValueError("a metric needs arrays of samples, got a scalar")
    if not (target.size and predicted.size):  # numpy's own words were of a reshape or a reduction
        raise ValueError(f"a metric of no values: shapes {target.shape} and {predicted.shape}")
    target = target.reshape(len(target), -1)
    predicted = predicted.reshape(len(predicted), -1)
    if target.shape != predicted.shape:
        raise ValueError(f"a metric needs predictions shaped like the target: got {predicted.shape} against "
                         f"{target.shape}")
    return target, predicted


def _classes(values, axis: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    """The class of each sample, and whether it has one: a score that is not finite (NaN, an overflow)
    never chooses its class, and a sample with no finite score chooses none (its arg-max, 0, agreed with
    every network that picked class 0)."""
    values = np.asarray(values)
    if values.ndim == 1:
        return values, np.ones(values.shape, dtype=bool)
    if values.ndim == 2:
        finite = np.isfinite(values)
        return np.where(finite, values, -np.inf).argmax(axis=axis), finite.any(axis=axis)
    raise ValueError(f"{name} must be 1-D class labels or 2-D class scores; got shape {values.shape}")


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (n, n_classes) logits, overflow-safe: a logit of +inf takes the row's
    probability (shared among such logits; inf - inf made the whole row NaN, which no class reads),
    one of -inf none; a row with a NaN logit, or no logit above -inf, is NaN (no class)."""
    logits = np.asarray(logits, dtype=np.float64)
    top = np.isposinf(logits)
    finite = np.where(np.isfinite(logits), logits, -np.inf)
    with np.errstate(invalid="ignore"):
        e = np.exp(finite - finite.max(axis=1, keepdims=True))
        probabilities = e / e.sum(axis=1, keepdims=True)
        probabilities = np.where(top.any(axis=1, keepdims=True), top / top.sum(axis=1, keepdims=True),
                                 probabilities)
    return np.where(np.isnan(logits).any(axis=1, keepdims=True), np.nan, probabilities)


def class_divergence(teacher_logits, student_logits):
    """Mean KL(softmax(teacher) || softmax(student)), in nats, over every row
    (or position), the class scores on the last axis: how far one classifier's
    class probabilities are from another's.  Torch tensors, differentiable in
    both (a loss for matching a network's classes: srnet.formulas.refine,
    srnet.activations.mlp_block.distil_block)."""
    teacher = teacher_logits.log_softmax(dim=-1)
    return (teacher.exp() * (teacher - student_logits.log_softmax(dim=-1))).sum(dim=-1).mean()


def class_agreement(predicted, reference, *, axis: int = 1) -> float:
    """The fraction of samples on which two classifiers choose the same class.

    Parameters
    ----------
    predicted, reference : array-like
        Each either 1-D class labels (n_samples,), or 2-D class scores
        (probabilities or logits) whose arg-max along ``axis`` is the class
        (a non-finite score counts as -inf: the class a formula's NaN or
        overflow would pick is no choice at all, as in ``SRNet.predict_class``;
        a sample with no finite score agrees with nothing).
    axis : {1, 0}, default=1
        The class axis of 2-D scores: 1 when rows are samples, 0 when columns
        are (srnet's feature-rows layout, (n_classes, n_samples)).

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValueError
        When the two hold different numbers of samples, or none, or scores of
        different numbers of classes.
    """
    shapes = [np.shape(predicted), np.shape(reference)]
    if all(len(shape) == 2 for shape in shapes) and shapes[0][axis] != shapes[1][axis]:
        # argmaxes over 2 and 3 classes compare class 2 with nothing, silently
        raise ValueError(f"class agreement needs scores of as many classes; got {shapes[0][axis]} and "
                         f"{shapes[1][axis]}")
    (first, chose_first), (second, chose_second) = (_classes(predicted, axis, "predicted"),
                                                    _classes(reference, axis, "reference"))
    if first.shape != second.shape:
        raise ValueError(f"class agreement needs as many predictions as reference classes; got "
                         f"{first.shape[0]} and {second.shape[0]}")
    if not first.size:
        raise ValueError("class agreement of no samples")
    return float(np.mean((first == second) & chose_first & chose_second))
