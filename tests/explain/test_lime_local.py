"""LIME read as local linear models, on torch networks whose answers are known; and the shared input checks."""

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

from srnet.explain import LimeExplainer

WEIGHTS = [2.0, -0.5, 1.0]
BIAS = 0.3


def as_function(module: torch.nn.Module):
    """A torch network as the float64 array function the explainers query."""
    def predict(X):
        with torch.no_grad():
            return module(torch.as_tensor(X)).numpy()
    return predict


@pytest.fixture
def linear_network():
    layer = torch.nn.Linear(3, 1).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([WEIGHTS]))
        layer.bias.fill_(BIAS)
    return as_function(layer)


@pytest.fixture
def softmax_classifier():
    layer = torch.nn.Linear(2, 3).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[6.0, 0.0], [-6.0, 0.0], [0.0, 6.0]]))
        layer.bias.zero_()
    return as_function(torch.nn.Sequential(layer, torch.nn.Softmax(dim=1)))


def smooth(X):
    return np.sin(2 * X[:, 0]) + X[:, 1] ** 2


def training_points(n=200, seed=0):
    """Features on different scales and offsets, so that LIME's standardisation matters."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (n, 3)) * [1.0, 10.0, 0.1] + [0.0, 5.0, -2.0]


def test_linear_network_gives_its_exact_coefficients(linear_network):
    X_train = training_points()
    lime = LimeExplainer(num_samples=500, alpha=1e-10).fit(linear_network, X_train, random_state=0)
    intercept, coefs = lime.local_model(X_train[0])
    assert intercept == pytest.approx(BIAS, abs=1e-6)
    np.testing.assert_allclose(coefs, WEIGHTS, atol=1e-6)
    X = X_train[:5]
    np.testing.assert_allclose(lime.predict(X), linear_network(X)[:, 0], atol=1e-6)
    assert lime.size_ == 4


def test_alpha_is_the_ridge_penalty_of_the_local_fit(linear_network):
    X_train = training_points()
    shrunk = LimeExplainer(num_samples=500, alpha=100.0).fit(linear_network, X_train, random_state=0)
    coefs = shrunk.local_model(X_train[0])[1]
    assert np.all(np.abs(coefs) < np.abs(WEIGHTS) - 1e-3)


def test_raw_local_model_matches_lime_own_local_prediction():
    X_train = training_points()[:, :2]
    lime = LimeExplainer(num_samples=1000).fit(smooth, X_train, random_state=0)
    for x in X_train[:3]:
        intercept, coefs = lime.local_model(x)
        assert intercept + coefs @ x == pytest.approx(lime.lime_explanation(x).local_pred[0], abs=1e-10)


def test_predict_evaluates_each_points_own_local_model_independently_of_the_others():
    X_train = training_points()[:, :2]
    X = X_train[:4]
    lime = LimeExplainer(num_samples=500).fit(smooth, X_train, random_state=0)
    intercepts, coefs = lime.local_models(X)
    predictions = lime.predict(X)
    np.testing.assert_allclose(predictions, intercepts + np.sum(coefs * X, axis=1))
    np.testing.assert_array_equal(lime.predict(X[::-1]), predictions[::-1])
    other_seed = LimeExplainer(num_samples=500).fit(smooth, X_train, random_state=1).predict(X)
    assert not np.array_equal(other_seed, predictions)


def test_classification_agrees_with_a_softmax_classifier(softmax_classifier):
    rng = np.random.default_rng(0)
    X_train = rng.uniform(-1, 1, (300, 2))
    lime = LimeExplainer(num_samples=1000).fit(softmax_classifier, X_train, task="classification",
                                               random_state=0)
    X = rng.uniform(-1, 1, (30, 2))
    scores = lime.predict(X)
    assert scores.shape == (30, 3)
    assert np.mean(scores.argmax(axis=1) == softmax_classifier(X).argmax(axis=1)) >= 0.9
    intercept, coefs = lime.local_model(X[0])
    assert intercept.shape == (3,) and coefs.shape == (3, 2)
    # lime keeps only the last label's local prediction
    assert intercept[2] + coefs[2] @ X[0] == pytest.approx(lime.lime_explanation(X[0]).local_pred[0], abs=1e-10)
    assert lime.size_ == 9


def test_progress_bar_only_when_asked(capsys):
    X_train = training_points()[:, :2]
    LimeExplainer(num_samples=100, progress=True).fit(smooth, X_train, random_state=0).predict(X_train[:2])
    assert "LIME" in capsys.readouterr().err
    LimeExplainer(num_samples=100).fit(smooth, X_train, random_state=0).predict(X_train[:60])
    assert capsys.readouterr().err == ""


def probabilities(X):
    return np.full((len(X), 2), 0.5)


@pytest.mark.parametrize("network, X_train, task, message", [
    (smooth, np.zeros((0, 2)), "regression", r"X_train is empty"),
    (smooth, np.array([[0.0, np.nan]]), "regression", "X_train contains 1 NaN/inf value"),
    (smooth, np.zeros(4), "regression", r"X_train must be 2-D"),
    (smooth, np.zeros((4, 2)), "ranking", "unknown task 'ranking'"),
    (probabilities, np.zeros((4, 2)), "regression", r"returned 2 outputs \(shape \(4, 2\)\); explainers compare one regression output at a time"),
    (smooth, np.zeros((4, 2)), "classification", r"needs class probabilities of shape \(n, n_classes >= 2\)"),
    (lambda X: np.zeros(len(X) + 1), np.zeros((4, 2)), "regression", r"returned shape \(5,\) for 4 points"),
    (lambda X: np.full(len(X), np.inf), np.zeros((4, 2)), "regression", "the network returned NaN or inf"),
])
def test_bad_fit_inputs_are_named(network, X_train, task, message):
    with pytest.raises(ValueError, match=message):
        LimeExplainer().fit(network, X_train, task=task)


@pytest.mark.parametrize("settings, message", [
    (dict(num_samples=1), "num_samples must be >= 2, got 1"),
    (dict(num_samples=10.5), "num_samples must be a whole number, got 10.5"),
    (dict(kernel_width=0), "kernel_width must be > 0, got 0"),  # fitted, then NaN sample weights at predict
    (dict(kernel_width=-1.0), "kernel_width must be > 0, got -1.0"),
    (dict(alpha=float("nan")), "alpha must be a finite number, got nan"),
])
def test_bad_settings_are_refused_at_fit(settings, message):
    with pytest.raises(ValueError, match=message):
        LimeExplainer(**settings).fit(smooth, training_points())


def test_bad_query_points_are_named():
    X_train = training_points()[:, :2]
    with pytest.raises(NotFittedError):
        LimeExplainer().predict(X_train)
    lime = LimeExplainer(num_samples=100).fit(smooth, X_train)
    with pytest.raises(ValueError, match="X has 3 columns but the explainer was fitted on 2"):
        lime.predict(np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"X contains 1 NaN/inf value\b"):
        lime.predict(np.array([[np.inf, 0.0]]))
    with pytest.raises(ValueError, match="X_valid has 3 columns but X_train has 2"):
        LimeExplainer().fit(smooth, X_train, X_valid=np.zeros((2, 3)))


def test_a_network_that_changes_its_number_of_classes_is_caught():
    calls = []

    def shifting_classifier(X):
        calls.append(len(X))
        n_classes = 2 if len(calls) == 1 else 3
        return np.full((len(X), n_classes), 1.0 / n_classes)

    lime = LimeExplainer(num_samples=100).fit(shifting_classifier, np.zeros((4, 2)), task="classification")
    with pytest.raises(ValueError, match="returned 3 classes but the explainer was fitted on 2"):
        lime.predict(np.zeros((1, 2)))


def test_predict_at_and_around_uses_each_points_own_local_model(softmax_classifier):
    rng = np.random.default_rng(1)
    X_train = rng.uniform(-1, 1, (100, 2))
    lime = LimeExplainer(num_samples=300).fit(softmax_classifier, X_train, task="classification", random_state=0)
    X, nearby = X_train[:4], X_train[:4] + 0.05
    at, around = lime.predict_at_and_around(X, nearby)
    np.testing.assert_array_equal(at, lime.predict(X))
    intercepts, coefs = lime.local_models(X)
    np.testing.assert_allclose(around, intercepts + np.einsum("nmd,nd->nm", coefs, nearby))
    with pytest.raises(ValueError, match="3 points for 4 nearby"):
        lime.predict_at_and_around(X[:3], nearby)
