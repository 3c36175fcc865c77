"""Tests that kill survivors of a mutation-testing sample of ``srnet/explain/base.py``.

Sample: mutmut 3.8.1 mutants of the module (``only_mutate = ["srnet/explain/base.py"]``, 261 generated), 10
drawn with ``random.Random(63).sample(sorted(names), 10)``, each run alone against
tests/explain/test_lime_local.py, tests/explain/test_maple.py, tests/test_explainers_edge_cases.py,
tests/test_review_explain.py and tests/test_review_python_api.py.  Each test names the mutant it kills and what
a user would see go wrong.
"""

import numpy as np
import pytest

from srnet.explain import LimeExplainer, make_explainer


def smooth(X):
    return np.sin(2 * X[:, 0]) + X[:, 1] ** 2


def points(n, seed=0):
    return np.random.default_rng(seed).uniform(-1, 1, (n, 2))


def test_bad_validation_points_are_named_x_valid():
    """xǁExplainerǁfit__mutmut_44 (``as_points(X_valid, None)``): validation points holding NaN, a ragged list
    or a 1-D array were refused as "None contains 1 NaN/inf value ...", naming no argument the caller gave;
    they are named X_valid, as the column check beside it names them."""
    X_train = points(50)
    X_valid = points(10, seed=1)
    X_valid[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"^X_valid contains 1 NaN/inf value\b"):
        LimeExplainer(num_samples=100).fit(smooth, X_train, X_valid=X_valid)
    with pytest.raises(ValueError, match=r"^X_valid must be 2-D"):
        LimeExplainer(num_samples=100).fit(smooth, X_train, X_valid=np.zeros(4))
    with pytest.raises(ValueError, match=r"^X_valid is empty"):
        LimeExplainer(num_samples=100).fit(smooth, X_train, X_valid=np.zeros((0, 2)))
    # the same points without the NaN are accepted, and (unpenalised) the fit answers the linear network exactly
    X_valid[3, 1] = 0.0
    lime = LimeExplainer(num_samples=200, alpha=1e-10).fit(lambda X: 2 * X[:, 0] - X[:, 1] + 0.5, X_train,
                                                            X_valid=X_valid, random_state=0)
    np.testing.assert_allclose(lime.predict(X_valid), 2 * X_valid[:, 0] - X_valid[:, 1] + 0.5, atol=1e-6)


def test_a_global_explainer_names_mismatched_nearby_points():
    """xǁExplainerǁpredict_at_and_around__mutmut_5 (``raise ValueError(None)``): a formula explainer (one model
    everywhere, the base class's predict_at_and_around) asked for 3 points and 4 nearby ones raised a ValueError
    whose message was "None"; it says how many of each it got, as the local surrogates do."""
    X = points(40)
    explainer = make_explainer("cgp_direct", max_seconds=None, max_generations=20).fit(smooth, X, random_state=0)
    with pytest.raises(ValueError, match=r"^3 points for 4 nearby points$"):
        explainer.predict_at_and_around(X[:3], X[:4] + 0.05)
    # matched lengths: one formula evaluated at both sets of points
    at, around = explainer.predict_at_and_around(X[:4], X[:4] + 0.05)
    np.testing.assert_array_equal(at, explainer.predict(X[:4]))
    np.testing.assert_array_equal(around, explainer.predict(X[:4] + 0.05))
