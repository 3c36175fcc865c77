"""MAPLE against functions whose local models are known, and against a slow oracle of its weights."""

import numpy as np
import pytest

from srnet.explain import MapleExplainer


def piecewise_linear(X):
    """2 x0 left of 0, -3 x0 + 1 right of it; x1 is irrelevant."""
    return np.where(X[:, 0] < 0, 2 * X[:, 0], -3 * X[:, 0] + 1)


def linear(X):
    return 1.5 + X @ np.array([2.0, -0.7, 0.25])


def smooth(X):
    return np.sin(2 * X[:, 0]) + X[:, 1] ** 2 + 0.5 * X[:, 0] * X[:, 2]


def softmax_linear(X):
    """Three classes split by linear scores: probabilities of shape (n, 3)."""
    scores = X @ np.array([[4.0, -4.0, 0.0], [1.0, 1.0, -3.0]])
    exp = np.exp(scores - scores.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def uniform(n, d, seed):
    return np.random.default_rng(seed).uniform(-1, 1, (n, d))


def test_piecewise_linear_gives_each_piece_its_slope():
    # With two features, max_features=0.5 lets the irrelevant x1 take half the
    # splits; its end cuts leave leaves wide in x0, so neighbourhoods straddle
    # the kink and blend the slopes.  Letting each split see both keeps them apart.
    maple = MapleExplainer(max_features=1.0).fit(piecewise_linear, uniform(1000, 2, 0), random_state=0)
    for x, (intercept, slope) in [([-0.6, 0.3], (0.0, 2.0)), ([-0.4, -0.7], (0.0, 2.0)),
                                  ([0.6, -0.2], (1.0, -3.0)), ([0.45, 0.5], (1.0, -3.0))]:
        coefs = maple.explain(x)["coefs"]
        np.testing.assert_allclose(coefs, [intercept, slope, 0.0], atol=0.05)
    assert maple.feature_ranking_[0] == 0


@pytest.mark.parametrize("forest", ["random_forest", "gradient_boosting"])
def test_linear_function_is_reproduced_exactly(forest):
    maple = MapleExplainer(forest=forest, n_estimators=50).fit(linear, uniform(400, 3, 1), random_state=0)
    X = uniform(200, 3, 2)
    np.testing.assert_allclose(maple.predict(X), linear(X), atol=1e-6)
    assert len(maple.selected_features_) == 3
    intercepts, coefs = maple.local_models(X[:3])
    np.testing.assert_allclose(intercepts, 1.5, atol=1e-6)
    np.testing.assert_allclose(coefs, np.tile([2.0, -0.7, 0.25], (3, 1)), atol=1e-6)


def test_predicts_smooth_function_at_least_about_as_well_as_its_forest():
    maple = MapleExplainer().fit(smooth, uniform(1000, 3, 3), random_state=0)
    X = uniform(500, 3, 4)
    forest_rmse = np.sqrt(np.mean((maple.supporting_forests_[0].predict(X) - smooth(X)) ** 2))
    maple_rmse = np.sqrt(np.mean((maple.predict(X) - smooth(X)) ** 2))
    assert maple_rmse <= 1.1 * forest_rmse


def test_weights_match_the_papers_definition_tree_by_tree():
    maple = MapleExplainer(n_estimators=20).fit(smooth, uniform(300, 3, 5), random_state=0)
    x = uniform(1, 3, 6)
    trees = maple.supporting_forests_[0].estimators_
    expected = np.zeros(len(maple.X_train_))
    for tree in trees:
        same_leaf = tree.apply(maple.X_train_) == tree.apply(x)[0]
        expected += same_leaf / same_leaf.sum()
    weights = maple.explain(x[0])["weights"]
    np.testing.assert_allclose(weights, expected / len(trees), atol=1e-12)
    assert weights.sum() == pytest.approx(1.0)


def test_local_moments_are_the_weighted_moments_of_the_training_points():
    """The local distribution's means and covariances around each point, against numpy's weighted sums over all
    training points (the products run over each point's neighbours alone)."""
    maple = MapleExplainer(n_estimators=20).fit(softmax_linear, uniform(300, 2, 4), task="classification",
                                                random_state=0)
    X = uniform(7, 2, 5)
    features = np.array([1, 0])
    mean_z, mean_y, cov_zz, cov_zy = maple._local_moments(X, features)
    W = maple._local_weights(X).toarray()
    Z, Y = (maple.X_train_ - maple._mean)[:, features], maple._Y_train
    for i, w in enumerate(W):
        np.testing.assert_allclose(mean_z[i], w @ Z, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(mean_y[i], w @ Y, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(cov_zz[i], np.cov(Z.T, aweights=w, bias=True), rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(cov_zy[i], (Z - w @ Z).T @ (w[:, None] * (Y - w @ Y)), rtol=1e-10, atol=1e-13)


def test_explanation_coefficients_give_its_prediction():
    maple = MapleExplainer(n_estimators=50).fit(smooth, uniform(400, 3, 7), random_state=0)
    x = np.array([0.2, -0.5, 0.7])
    explanation = maple.explain(x)
    assert explanation["coefs"].shape == (4,)
    assert explanation["coefs"] @ np.r_[1.0, x] == pytest.approx(explanation["prediction"])
    assert explanation["prediction"] == pytest.approx(maple.predict(x[None])[0])
    unselected = np.setdiff1d(np.arange(3), maple.selected_features_)
    assert np.all(explanation["coefs"][1 + unselected] == 0)
    assert maple.size_ == len(maple.selected_features_) + 1


def test_feature_selection_keeps_the_relevant_feature_first():
    def first_feature_only(X):
        return np.tanh(3 * X[:, 0])

    maple = MapleExplainer(n_estimators=50).fit(first_feature_only, uniform(500, 4, 8), random_state=0)
    assert maple.feature_ranking_[0] == 0
    assert maple.validation_mse_.shape == (4,)
    assert len(maple.selected_features_) == np.argmin(maple.validation_mse_) + 1


@pytest.mark.parametrize("forest", ["random_forest", "gradient_boosting"])
def test_classification_agrees_with_the_network(forest):
    X_train, X = uniform(600, 2, 9), uniform(300, 2, 10)
    maple = MapleExplainer(forest=forest, n_estimators=50).fit(softmax_linear, X_train, task="classification",
                                                               random_state=0)
    scores = maple.predict(X)
    assert scores.shape == (300, 3)
    assert np.mean(scores.argmax(axis=1) == softmax_linear(X).argmax(axis=1)) >= 0.9
    explanation = maple.explain(X[0])
    assert explanation["coefs"].shape == (3, 3)
    np.testing.assert_allclose(explanation["prediction"], scores[0])


def test_given_validation_points_keep_every_training_point():
    X_train, X_valid = uniform(200, 3, 11), uniform(50, 3, 12)
    maple = MapleExplainer(n_estimators=20).fit(smooth, X_train, X_valid=X_valid, random_state=0)
    np.testing.assert_array_equal(maple.X_train_, X_train)
    held_out = MapleExplainer(n_estimators=20, valid_fraction=0.25).fit(smooth, X_train, random_state=0)
    assert len(held_out.X_train_) == 150


def test_same_seed_same_explainer():
    X_train, X = uniform(300, 3, 13), uniform(20, 3, 14)
    first = MapleExplainer(n_estimators=30).fit(smooth, X_train, random_state=42).predict(X)
    again = MapleExplainer(n_estimators=30).fit(smooth, X_train, random_state=42).predict(X)
    other = MapleExplainer(n_estimators=30).fit(smooth, X_train, random_state=43).predict(X)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("params, X_train, message", [
    ({"forest": "extra_trees"}, uniform(50, 2, 0), "unknown forest 'extra_trees'"),
    ({"alpha": -1.0}, uniform(50, 2, 0), "alpha must be >= 0"),
    ({"alpha": float("nan")}, uniform(50, 2, 0), "alpha must be a finite number"),  # trained, predicted NaN
    ({"valid_fraction": 1.5}, uniform(50, 2, 0), r"valid_fraction must be in \(0, 1\)"),
    ({}, uniform(1, 2, 0), "X_train has 1 row: an explainer learns from 2 rows or more"),  # (every explainer's)
    ({"valid_fraction": 0.9}, uniform(2, 2, 0), "2 of its 2 rows, leaving none to learn from"),
])
def test_bad_parameters_are_named(params, X_train, message):
    with pytest.raises(ValueError, match=message):
        MapleExplainer(**params).fit(piecewise_linear, X_train)


def test_alpha_zero_with_a_constant_feature_gives_the_least_squares_fit():
    """alpha=0 is allowed, but a constant (or collinear) feature made every local system singular: LinAlgError."""
    X = np.column_stack([uniform(80, 1, 3)[:, 0], np.ones(80)])
    maple = MapleExplainer(n_estimators=20, alpha=0).fit(lambda Z: 2 * Z[:, 0] - 1, X, random_state=0)
    np.testing.assert_allclose(maple.predict(X[:10]), 2 * X[:10, 0] - 1, atol=1e-8)


@pytest.mark.parametrize("n_features, n_outputs, collinear", [(1, 1, False), (6, 1, False), (40, 3, False),
                                                               (6, 2, True)])
def test_the_nested_ridge_terms_are_a_solve_per_k_of_the_leading_block(n_features, n_outputs, collinear):
    """The feature selection's local predictions for every k at once (one Cholesky factor per point) are, for each
    k, np.linalg's solve of the leading k x k system; a singular system (alpha=0, a repeated feature) the
    least-squares solution of least norm, as before."""
    from srnet.explain.maple import _nested_ridge_terms

    rng = np.random.default_rng(n_features)
    Z = rng.normal(size=(7, 60, n_features))
    if collinear:
        Z[:, :, 3] = Z[:, :, 1]
    A = np.einsum("nij,nik->njk", Z, Z) / 60 + (0.0 if collinear else 1e-8) * np.eye(n_features)
    B, offsets = rng.normal(size=(7, n_features, n_outputs)), rng.normal(size=(7, n_features))
    solve = np.linalg.pinv if collinear else np.linalg.inv
    expected = np.stack([np.einsum("nk,nko->no", offsets[:, :k], solve(A[:, :k, :k]) @ B[:, :k])
                         for k in range(1, n_features + 1)], axis=1)
    np.testing.assert_allclose(_nested_ridge_terms(A, B, offsets), expected, rtol=1e-9, atol=1e-9)
