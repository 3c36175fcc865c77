"""Tests that kill survivors of a mutation-testing sample of ``srnet/estimators.py``.

Sample: mutmut 3.8.1 mutants of the module (``only_mutate = ["srnet/estimators.py",
"srnet/explain/formulas.py"]``), 12 of its 701 drawn with ``random.Random(58).sample(sorted(names), 12)``, each
run alone against tests/test_estimators.py (its scikit-learn check suite left out), tests/test_progress.py and
tests/test_review_xnet_estimators.py.  Ten were killed; of the two that survived, x_validate_data__mutmut_81
is equivalent (the "no_validation" sentinel, now offered to the NaN locator as y, fails its float conversion
and is skipped as before) and x_validate_regression__mutmut_52 is killed here.  Each test names the mutant it
kills and what a user would see go wrong.
"""

import numpy as np
import pytest

from srnet import CGPRegressor
from srnet.xnet import XNetRegressor

X = np.linspace(-1.0, 1.0, 30)[:, None]


@pytest.mark.parametrize("make", [lambda: CGPRegressor(max_generations=5, max_seconds=None),
                                  lambda: XNetRegressor(max_iterations=5, max_seconds=None)],
                         ids=["cgp", "xnet"])
@pytest.mark.parametrize("scale", [1e-162, 1e-200])
def test_a_tiny_target_is_refused_in_one_line_under_the_users_floating_point_errors(make, scale):
    """x_validate_regression__mutmut_52 (``np.errstate(under=None)`` around y's variance): a user who runs with
    ``np.seterr(all="raise")`` (a common way to hunt NaNs) and fits a target whose variance underflows got
    numpy's bare ``FloatingPointError: underflow encountered in multiply`` from inside the check instead of
    srnet's one line saying y's scale cannot be held and to rescale it; the check must judge the underflow
    itself, whatever the caller's error settings."""
    y = scale * (X[:, 0] ** 3 + X[:, 0])
    with np.errstate(all="raise"):
        with pytest.raises(ValueError, match=r"^y's scale \(\S+\) is outside what squared errors can hold in "
                                             r"float64; rescale y"):
            make().fit(X, y)
    assert np.geterr()["under"] == "ignore"  # numpy's default again: the estimator left the settings as found
