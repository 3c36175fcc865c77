"""Review of X-Net as a user meets it (the estimators and the ``xnet`` explainer): defects found, each pinned."""

import numpy as np
import pytest
import torch

from srnet.estimators import CGPRegressor
from srnet.explain import make_explainer
from srnet.xnet import XNetRegressor


def test_a_recovered_product_is_printed_as_it_is_not_hidden_by_the_biases_a_gradient_leaves():
    """formula() printed (0.6151*x1 + 5.727e-7)*(1.626*sin(x0 + 1.309e-6) - 6.64e-7) + ... for a fit of
    R2 0.99999999997 of sin(x0)*x1 + exp(0.3*x2): the biases of 1e-6 kept sympy from merging 0.6151*1.626."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, (120, 3))
    y = np.sin(X[:, 0]) * X[:, 1] + np.exp(0.3 * X[:, 2])
    model = XNetRegressor(max_seconds=None, max_iterations=120, random_state=3).fit(X, y)
    assert model.score(X, y) > 0.999999
    shown = str(model.formula())
    assert shown.startswith("x1*sin(x0) + ") and "e-" not in shown, shown


@pytest.mark.parametrize("estimator", [XNetRegressor(max_seconds=None, max_iterations=2),
                                       CGPRegressor(max_generations=2)], ids=["xnet", "cgp"])
def test_a_constant_column_of_several_targets_is_named(estimator):
    """Of a 2-D y with one constant column, 'y is constant' named nothing a user could find: y varied."""
    X = np.random.default_rng(0).uniform(-1, 1, (30, 2))
    with pytest.raises(ValueError, match=r"^y's column 1 is constant: there is no formula"):
        estimator.fit(X, np.column_stack([X[:, 0], np.ones(30)]))
    with pytest.raises(ValueError, match=r"^y's columns 0, 2 are constant"):
        estimator.fit(X, np.column_stack([np.zeros(30), X[:, 0], np.ones(30)]))
    with pytest.raises(ValueError, match=r"^y is constant"):
        estimator.fit(X, np.ones(30))


@pytest.mark.parametrize("name", ["xnet", "gplearn", "cgp_direct", "srnet"])
def test_the_explainers_budget_is_refused_by_the_name_the_user_gave(name):
    """make_explainer('xnet', max_generations=0) was refused at fit as 'max_iterations must be > 0', X-Net's
    own name, and without a budget as 'give a budget: max_seconds or max_iterations'; gplearn took
    max_generations=-2 silently.  Now every explainer's generations are checked where they are given."""
    if name == "gplearn":
        pytest.importorskip("gplearn")  # (the bench extra; CI has the test extra only)
    for bad in (0, -2, 1.5):
        with pytest.raises(ValueError, match=r"^max_generations must be"):
            make_explainer(name, max_seconds=1, max_generations=bad)


def test_the_xnet_explainer_s_generations_are_x_net_s_iterations():
    torch.manual_seed(0)
    network = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    X = np.random.default_rng(0).uniform(-1, 1, (60, 2))
    explainer = make_explainer("xnet", max_seconds=None, max_generations=3).fit(network, X)
    assert explainer.model_.max_iterations == 3 and explainer.model_.max_seconds is None


def test_inputs_near_the_largest_float_fit_without_numpy_warnings():
    """X * 1e308 fitted right (R2 0.99995) with numpy's 'invalid value encountered in reduce' from scikit-learn's
    finiteness check beside it."""
    import warnings

    X = np.random.default_rng(0).uniform(-1, 1, (50, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for estimator in (XNetRegressor(max_seconds=None, max_iterations=2, random_state=0),
                          CGPRegressor(max_generations=2, random_state=0, n_threads=1)):
            estimator.fit(X * 1e308, X[:, 0] * 2 + X[:, 1])
