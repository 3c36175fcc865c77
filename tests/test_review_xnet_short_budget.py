"""scikit-learn users' path (a report-only review of stop 73): an X-Net classifier of a short iteration budget, as
a cross-validation runs it, computes the formula it prints and is no worse than the class shares; and an estimator
of a time budget says it is not deterministic."""

import math

import numpy as np
import sympy

from srnet import XNetClassifier


def test_a_short_xnet_classifier_prints_the_formula_it_computes_and_beats_the_class_shares():
    """Unbounded, its constants grew to 1e18 (4.7e12*log|1.0e6*x2 + 1.0e18|): the formula's logits differed
    from decision_function's by 28.5, and its loss, 3.34, was worse than the class shares' ln 3."""
    rng = np.random.default_rng(1)
    n = 120
    X = np.c_[rng.uniform(0.5, 2, n), rng.normal(size=n), rng.normal(size=n), rng.integers(1990, 2020, n)]
    X = X.astype(float)
    y = 3 * np.exp(-0.1 * (X[:, 3] - 2000)) + X[:, 0] * X[:, 1] + X[:, 2]
    labels = np.digitize(y, np.quantile(y, [0.33, 0.66]))
    model = XNetClassifier(max_seconds=None, max_iterations=10, random_state=0, simplify_seconds=0).fit(X, labels)
    assert model.loss_ < math.log(3)
    symbols = [sympy.Symbol(f"x{j}", real=True) for j in range(X.shape[1])]
    logits = model.decision_function(X)
    for j, expression in enumerate(model.expression_):
        written = np.broadcast_to(np.asarray(sympy.lambdify(symbols, expression, "numpy")(*X.T), dtype=float), n)
        np.testing.assert_allclose(written, logits[:, j], rtol=1e-9, atol=1e-9)


def test_a_time_budget_is_tagged_non_deterministic_and_an_iteration_budget_is_not():
    """scikit-learn's check_fit_idempotent failed for CGPRegressor and XNetRegressor of a time budget, whose tags
    said they were deterministic."""
    from sklearn.utils import get_tags

    from srnet import CGPRegressor, XNetRegressor

    for estimator, counted in ((CGPRegressor, "max_generations"), (XNetRegressor, "max_iterations"),
                               (XNetClassifier, "max_iterations")):
        assert get_tags(estimator()).non_deterministic
        assert get_tags(estimator(max_seconds=2.0, **{counted: 10})).non_deterministic  # whichever ends first
        assert not get_tags(estimator(max_seconds=None, **{counted: 10})).non_deterministic


def test_a_search_that_found_no_forest_of_finite_loss_says_so():
    """One iteration on a 3-class set: for 19 of 30 seeds every forest left a function's domain, and the model,
    loss_ inf and probabilities 0.5/0.5, came back without a word."""
    import pytest

    rng = np.random.default_rng(1)
    n = 120
    X = np.c_[rng.uniform(0.5, 2, n), rng.normal(size=n), rng.normal(size=n), rng.integers(1990, 2020, n)]
    X = X.astype(float)
    labels = np.digitize(X[:, 0] * X[:, 1] + X[:, 2], [-0.5, 0.5])
    with pytest.warns(RuntimeWarning, match=r"^XNetClassifier found no forest of finite loss in 1 iteration\(s\) "
                                            r"\(each overflowed or left a function's domain\): its predictions mean "
                                            r"nothing; give it more max_iterations or max_seconds$"):
        model = XNetClassifier(max_seconds=None, max_iterations=1, random_state=0, simplify_seconds=0).fit(X, labels)
    assert not math.isfinite(model.loss_)
