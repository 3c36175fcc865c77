"""Review of the metrics and the comparison: oracle figures beside scikit-learn, and equal clocks."""

import math
import time

import numpy as np
import pytest
from torch import nn

from srnet.compare import compare
from srnet.explain import CGPDirectExplainer, NetworkFunction
from srnet.metrics import mse, rmse_r2


def test_a_column_varying_beside_a_large_constant_one_is_measured_not_called_constant():
    """Oracle: scikit-learn's variance-weighted R^2.  The constant test was in units of the largest column: a
    column varying in [0, 1] beside a constant 1e15 read as "a constant target", and a prediction of 0 for it
    scored R^2 1 (the pooled figure is -3.3)."""
    from sklearn.metrics import r2_score

    varying = np.random.default_rng(0).uniform(0, 1, 50)
    target = np.c_[np.full(50, 1e15), varying]
    predicted = np.c_[np.full(50, 1e15), np.zeros(50)]
    rmse, r2 = rmse_r2(target, predicted)
    assert r2 == pytest.approx(r2_score(target, predicted, multioutput="variance_weighted"), rel=1e-9)
    assert rmse == pytest.approx(math.sqrt(np.mean((predicted - target) ** 2)), rel=1e-12)
    # every column constant: each is matched within the rounding of its own size (0.5 missed by 1e-3 is a miss,
    # however large the other column), and an exact prediction is R^2 1
    constant = np.c_[np.full(50, 1e15), np.full(50, 0.5)]
    assert rmse_r2(constant, constant + [0.0, 1e-3])[1] == -math.inf
    assert rmse_r2(constant, constant)[1] == 1.0


@pytest.mark.parametrize("shape", [(0,), (3, 0)])
def test_a_metric_of_no_values_is_one_clear_line(shape):
    """numpy's "cannot reshape array of size 0" (or a zero-size reduction) was the message."""
    for metric in (rmse_r2, mse):
        with pytest.raises(ValueError, match="a metric of no values"):
            metric(np.zeros(shape), np.zeros(shape))


def test_the_engines_one_time_warm_up_is_charged_to_no_explainer(monkeypatch):
    """The kernels load once per process (1.5 s from numba's cache, a minute on a machine's first run): the first
    engine explainer's fit paid it inside its clock, and srnet, first by default, read seconds slower than
    cgp_direct beside it at the same budget.  Here the first warm-up takes 2 s more; neither explainer's seconds
    hold them."""
    from srnet.cgp import _kernels

    real, paid = _kernels.warm_up, []

    def slow_once(dtype=np.float64):
        if not paid:
            time.sleep(2.0)
        paid.append(dtype)
        real(dtype)

    monkeypatch.setattr(_kernels, "warm_up", slow_once)
    network = NetworkFunction(nn.Sequential(nn.Linear(2, 1)).double())
    X = np.random.default_rng(0).uniform(-1, 1, (40, 2))
    budget = dict(max_seconds=None, regressor_params=dict(max_generations=20, n_threads=1, simplify_seconds=0))
    result = compare(network, X, {"first": CGPDirectExplainer(**budget), "second": CGPDirectExplainer(**budget)},
                     n_points=10, random_state=0)
    seconds = {r["explainer"]: r["seconds"] for r in result.records}
    assert paid and seconds["first"] < 1.5, seconds


def test_an_abandoned_fit_leaves_the_column_symbols_of_the_last_fit_or_none(monkeypatch):
    """A fit abandoned while its formula was finished (a second Ctrl-C) kept feature_symbols_ of the refused
    data: beside the last fit's formula they named other columns, and without a last fit the estimator looked
    fitted to check_is_fitted, so predict raised AttributeError ('program_') instead of NotFittedError."""
    import pandas as pd
    from sklearn.exceptions import NotFittedError

    import srnet.estimators as estimators
    from srnet.estimators import CGPRegressor

    X = np.random.default_rng(0).uniform(-1, 1, (40, 2))
    fast = dict(max_generations=100, max_seconds=None, random_state=0, simplify_seconds=0)
    model = CGPRegressor(**fast).fit(pd.DataFrame(X, columns=["a", "b"]), 2 * X[:, 0] + 1)

    def abandoned(formulas, seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(estimators, "simplify_all", abandoned)
    with pytest.raises(KeyboardInterrupt):
        model.fit(pd.DataFrame(X, columns=["p", "q"]), np.sin(X[:, 1]))
    assert model.feature_symbols_ == {"a": "a", "b": "b"}
    fresh = CGPRegressor(**fast)
    with pytest.raises(KeyboardInterrupt):
        fresh.fit(pd.DataFrame(X, columns=["p", "q"]), np.sin(X[:, 1]))
    with pytest.raises(NotFittedError):
        fresh.predict(X)


def test_boxes_given_for_a_classifier_are_refused_not_ignored():
    from srnet.explain import LimeExplainer

    net = nn.Sequential(nn.Linear(2, 3), nn.Softmax(dim=1))
    X = np.random.default_rng(0).uniform(-1, 1, (40, 2))
    with pytest.raises(ValueError, match="boxes are for regression"):
        compare(NetworkFunction(net), X, {"lime": LimeExplainer()}, boxes={"test": np.array([[-3, 3], [-3, 3]])})


def test_a_bad_budget_is_refused_before_a_progress_bar_is_drawn(capsys):
    from srnet.estimators import CGPRegressor

    X = np.random.default_rng(0).uniform(-1, 1, (20, 1))
    with pytest.raises(ValueError, match="max_generations"):
        CGPRegressor(max_generations=0, progress=True).fit(X, X[:, 0])
    assert "CGPRegressor" not in capsys.readouterr().err


def test_compare_announces_a_slow_first_compilation_with_progress_on(monkeypatch, capsys):
    """Paying the warm-up before the explainers' clocks silenced SRNet's own "compiling ..." notice: a first run
    on a machine was a minute of silence after "fitting srnet ..."."""
    import srnet.progress as progress
    from srnet.cgp import _kernels

    monkeypatch.setattr(progress, "COMPILE_NOTICE_SECONDS", 0.05)
    monkeypatch.setattr(_kernels, "warm_up", lambda *args: time.sleep(0.5))
    network = NetworkFunction(nn.Sequential(nn.Linear(2, 1)).double())
    X = np.random.default_rng(0).uniform(-1, 1, (40, 2))
    budget = dict(max_seconds=None, regressor_params=dict(max_generations=5, n_threads=1, simplify_seconds=0))
    compare(network, X, {"cgp": CGPDirectExplainer(**budget)}, n_points=10, random_state=0, progress=True)
    assert "compiling srnet's kernels" in capsys.readouterr().err
