"""X-Net edge cases found reviewing srnet.xnet (each test failed on the code before its fix)."""

import time

import numpy as np
import pytest
import torch

from srnet.xnet import XNetClassifier, XNetRegressor
from srnet.xnet.constants import gradient_steps, newton_steps
from srnet.xnet.forward import Plan
from srnet.xnet.tree import Node, leaf

FAST = dict(max_seconds=None, max_iterations=3, simplify_seconds=0, random_state=0)


@pytest.mark.parametrize("estimator, labels", [
    (XNetRegressor, lambda X: X[:, 0] * X[:, 1]),
    (XNetClassifier, lambda X: (X[:, 0] > 0).astype(int)),
])
def test_a_refit_that_fails_on_other_columns_leaves_the_last_fit_whole(estimator, labels):
    """validate_data(reset=True) ran before the refit was refused: n_features_in_ said 2 while program_ read 3,
    and the kept fit could no longer predict the X it was fitted on."""
    X = np.random.default_rng(0).uniform(-1, 1, (40, 3))
    model = estimator(**FAST).fit(X, labels(X))
    before = model.predict(X)
    with pytest.raises(ValueError, match="patience"):
        model.set_params(patience=0).fit(X[:, :2], labels(X))
    assert model.n_features_in_ == model.program_.n_inputs == 3
    np.testing.assert_array_equal(model.predict(X), before)


def test_a_nan_logit_never_chooses_its_class():
    """np.argmax picks the first NaN: logits (-11.4, NaN, -4.5) (a trained iris model at 1e200 * x) were
    predicted as the NaN class, though predict_proba gives no class and srnet.metrics never lets a
    non-finite score choose its class."""
    X = np.random.default_rng(0).uniform(-1, 1, (40, 2))
    y = np.repeat(["a", "b", "c"], [14, 13, 13])
    model = XNetClassifier(**FAST).fit(X, y)
    model._outputs = lambda X: np.array([[-11.4, np.nan, -4.5], [np.nan, 2.0, 1.0]])
    assert model.predict(X[:2]).tolist() == ["c", "b"]


def test_newton_steps_take_no_further_step_past_the_deadline():
    """gradient_steps stops at the deadline; newton_steps took every step that lowered the loss
    (10 Levenberg-Marquardt steps here with a deadline already passed)."""
    X = torch.tensor(np.random.default_rng(0).uniform(0.5, 2, (50, 2)))
    Y = (3 * torch.exp(0.7 * X[:, 0] + 0.3) * X[:, 1]).reshape(-1, 1)
    plan = Plan.of([Node("mul", [Node("exp", [leaf(0)]), leaf(1)])])
    steps = []
    linearize = plan.linearize
    plan.linearize = lambda *a, **k: (steps.append(1), linearize(*a, **k))[1]
    newton_steps(plan, X, Y, "mse", 1e-3, 50, 1e6, deadline=time.perf_counter() - 1.0)
    assert len(steps) <= 1


def test_gradient_steps_from_a_start_that_is_not_finite_keep_the_rate():
    """From a NaN loss every step 'raised' it: the rate was halved at each of them, and the next forest
    started from a rate near 0."""
    X = torch.tensor(np.random.default_rng(0).uniform(0.5, 2, (50, 1)))
    Y = torch.full((50, 1), float("nan"), dtype=X.dtype)
    plan = Plan.of([Node("exp", [leaf(0)])])
    assert gradient_steps(plan, X, Y, "mse", 0.01, 20, 1e6, 1.0) == 0.01


def test_selection_step_is_finite_in_float32():
    """Its divisions were clamped at 1e-300, which is 0 in float32: a constant row's fit and a
    zero-curvature target were NaN."""
    import torch

    from srnet.xnet.select import _fit, targets

    z = torch.ones(2, 5, dtype=torch.float32)
    target, _ = targets(z, torch.ones_like(z), torch.zeros_like(z), torch.ones_like(z), "gradient")
    assert torch.equal(target, z)
    w, b, error = _fit(torch.ones(1, 5), torch.arange(5.0)[None], torch.ones(1, 5))
    assert w.item() == 0.0 and b.item() == 2.0 and error.item() == 10.0
