"""One summary of a figure over seeds, for every experiment script."""

from __future__ import annotations

import math
import statistics


def mean_std(values) -> tuple[float, float]:
    """Mean and sample standard deviation over seeds; None (not measured) is skipped, none measured is
    (nan, nan), one seed has std nan.  A seed whose figure is not finite (a diverged perplexity, a NaN ROC
    AUC, R^2 -inf) makes the mean that figure and the std nan: left out, the others' mean said a formula
    that diverged on two seeds of three beat GELU, or counted an unsolved problem as solved."""
    values = [float(v) for v in values if v is not None]
    if not values:
        return math.nan, math.nan
    bad = [v for v in values if not math.isfinite(v)]
    if bad:
        return bad[0], math.nan
    # one seed has no spread: nan ("-"), not 0 (a "± 0.0000" made one seed's win read as beyond the noise)
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else math.nan)


def shown_std(std, spec: str) -> str:
    """A std as a table prints it: "-" where there is none (one seed, or a seed that diverged)."""
    return "-" if std is None or not math.isfinite(std) else format(std, spec)
