"""One summary of a figure over seeds, for every experiment script."""

from __future__ import annotations

import math
import statistics


def mean_std(values) -> tuple[float, float]:
    """Mean and sample standard deviation over seeds; None (not measured) is skipped, none measured is
    (nan, nan).  A seed whose figure is not finite (a diverged perplexity, a NaN ROC AUC, R^2 -inf) makes
    the mean that figure and the std nan: left out, the others' mean said a formula that diverged on two
    seeds of three beat GELU, or counted an unsolved problem as solved."""
    values = [float(v) for v in values if v is not None]
    if not values:
        return math.nan, math.nan
    bad = [v for v in values if not math.isfinite(v)]
    if bad:
        return bad[0], math.nan
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)
