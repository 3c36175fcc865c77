"""Review of srnet.explain: bad budgets of the peer searches, one explainer named as a string, and fits that fail."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from srnet.explain import (
    GplearnExplainer,
    LimeExplainer,
    MapleExplainer,
    PyoperonExplainer,
    check_explainers,
    make_explainers,
)
from srnet.metrics import softmax

X = np.random.default_rng(0).normal(size=(40, 2))


def line(X):
    return 2 * X[:, 0] - X[:, 1]


@pytest.mark.parametrize("params, message", [
    ({"max_seconds": "10"}, r"^max_seconds must be a number, got '10'$"),  # a TypeError of str / int
    ({"max_seconds": float("nan")}, r"^max_seconds must be a finite number"),  # "cannot convert float NaN"
    ({"max_seconds": -1.0}, r"^max_seconds must be > 0"),  # ran one second
    ({"max_seconds": None, "max_generations": "x"}, r"^max_generations must be a number"),  # int("x")
    ({"max_seconds": None, "max_generations": 2.5}, r"^max_generations must be a whole number"),  # 2 silently
    ({"n_threads": 0}, r"^n_threads must be > 0"),  # srnet refuses it, given the same --threads
])
def test_pyoperons_budgets_are_checked_in_one_line_as_the_other_searches_are(params, message):
    pytest.importorskip("pyoperon")
    with pytest.raises(ValueError, match=message):
        PyoperonExplainer(**params).fit(line, X, random_state=0)


@pytest.mark.parametrize("size, message", [
    (2.5, r"^population_size must be a whole number"),  # gplearn: "slice indices must be integers"
    ("10", r"^population_size must be a number"),  # gplearn: "'<' not supported between 'str' and 'int'"
    (0, r"^population_size must be > 0"),  # gplearn: "%d format: a real number is required"
])
def test_gplearns_population_size_is_checked_in_one_line(size, message):
    pytest.importorskip("gplearn")
    with pytest.raises(ValueError, match=message):
        GplearnExplainer(population_size=size, generations=1).fit(line, X, random_state=0)


def test_one_explainer_may_be_named_by_a_string():
    """Its letters were checked as names: "unknown explainer 'l'"."""
    assert check_explainers("lime") == ("lime",)
    assert check_explainers(["srnet", "lime", "srnet"]) == ("srnet", "lime")  # each once (measured once anyway)
    assert list(make_explainers("maple")) == ["maple"]
    with pytest.raises(ValueError, match=r"^unknown explainer 'lim'"):
        check_explainers("lim")


@pytest.mark.parametrize("explainer, random_state", [
    (LimeExplainer(kernel_width=0), 0),
    (MapleExplainer(forest="trees"), 0),
    (MapleExplainer(n_estimators=5), -1),  # a bad seed
])
def test_an_explainer_whose_fit_failed_is_not_fitted(explainer, random_state):
    """It passed for fitted, and predict met an AttributeError (no X_train_, no selected_features_)."""
    with pytest.raises(ValueError):
        explainer.fit(line, X, random_state=random_state)
    with pytest.raises(NotFittedError):
        explainer.predict(X[:2])


def test_a_failed_refit_keeps_the_explainer_that_was_fitted():
    """A regression MAPLE refitted as a classifier with a bad setting took the classifier's task and three
    outputs over its regression model: predict broadcast its one output into three equal 'class scores'."""
    maple = MapleExplainer(n_estimators=10).fit(line, X, random_state=0)
    before = maple.predict(X[:5])
    maple.set_params(forest="trees")
    with pytest.raises(ValueError, match="unknown forest"):
        maple.fit(lambda X: softmax(np.column_stack([X, -X[:, 0]])), X, task="classification", random_state=0)
    assert (maple.task_, maple.n_outputs_, maple.n_features_in_) == ("regression", 1, 2)
    np.testing.assert_array_equal(maple.predict(X[:5]), before)


@pytest.mark.parametrize("X, words", [
    (np.array([[1.0 + 2.0j, 0.5]] * 20), "complex"),
    (np.ma.masked_array(np.ones((20, 2)), mask=[[False, True]] + [[False, False]] * 19), "NaN/inf"),
])
def test_complex_or_masked_points_are_refused_not_cut_or_unmasked(X, words):
    """as_points read a complex X by its real part (a warning only) and a masked one by its hidden values."""
    from srnet.explain.base import as_points

    with pytest.raises(ValueError, match=words):
        as_points(X, "X_train")
