"""X-Net's losses against autograd: the first and (diagonal) second derivatives that the selection step
turns into every neuron's target, and that the Levenberg-Marquardt steps build their curvature from, are
those of the loss the search reports (srnet.xnet.losses).  Oracle: torch.autograd on loss_value."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from srnet.xnet.losses import CURVATURE_FLOOR, LOGIT_PENALTY, LOSSES, derivatives, loss_value


def _case(name, n, m, seed, scale):
    rng = np.random.default_rng(seed)
    Z = torch.tensor(scale * rng.normal(size=(n, m)), dtype=torch.float64)
    if name == "mse":
        Y = torch.tensor(rng.normal(size=(n, m)), dtype=torch.float64)
    elif name == "logistic":
        Y = torch.tensor(rng.integers(0, 2, (n, 1)), dtype=torch.float64)
    else:
        Y = torch.tensor(rng.integers(0, m, n))
    return Z, Y


def _oracle(name, Z, Y):
    """Autograd's gradient of the mean loss, and the diagonal of its Hessian, each (n, m)."""
    flat = Z.reshape(-1).clone().requires_grad_(True)

    def loss(z):
        return loss_value(name, z.reshape(Z.shape), Y)

    (gradient,) = torch.autograd.grad(loss(flat), flat)
    hessian = torch.autograd.functional.hessian(loss, flat.detach())
    return gradient.reshape(Z.shape), torch.diagonal(hessian).reshape(Z.shape)


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(LOSSES), n=st.integers(1, 12), m=st.integers(2, 4), seed=st.integers(0, 2**32 - 1),
       scale=st.sampled_from([0.1, 1.0, 5.0]))
def test_the_derivatives_are_autograds_of_the_loss_reported(name, n, m, seed, scale):
    m = 1 if name == "logistic" else m  # one logit for two classes
    Z, Y = _case(name, n, m, seed, scale)
    G, H = derivatives(name, Z, Y)
    gradient, curvature = _oracle(name, Z, Y)
    torch.testing.assert_close(G, gradient, rtol=1e-10, atol=1e-14)
    # the curvature is floored where a logit has saturated (p (1 - p) below CURVATURE_FLOOR), nowhere else
    n, m = Z.shape
    if name != "mse":
        penalty = 2 * LOGIT_PENALTY / (n * m)
        floored = (curvature - penalty) * n < CURVATURE_FLOOR
        curvature = torch.where(floored, CURVATURE_FLOOR / n + penalty, curvature)
    torch.testing.assert_close(H, curvature, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", ["logistic", "softmax"])
def test_a_saturated_logit_keeps_a_finite_positive_curvature_and_the_penalty_pulls_it_back(name):
    """p (1 - p) is 0 in float64 at a logit of 40: the floor keeps Newton steps finite, and the logit penalty
    (LOGIT_PENALTY x the mean square logit) is what still pulls a correctly saturated logit towards 0."""
    Z = torch.tensor([[40.0, -40.0]] if name == "softmax" else [[40.0]], dtype=torch.float64)
    Y = torch.tensor([0]) if name == "softmax" else torch.tensor([[1.0]], dtype=torch.float64)
    G, H = derivatives(name, Z, Y)
    m = Z.shape[1]
    penalty = 2 * LOGIT_PENALTY / m
    assert torch.all(H >= CURVATURE_FLOOR + penalty - 1e-18) and torch.isfinite(H).all()
    assert G[0, 0] > 0  # right and saturated: only the penalty acts, towards 0
    torch.testing.assert_close(G[0, 0], torch.tensor(penalty * 40.0, dtype=torch.float64), rtol=1e-6, atol=0)


def test_an_unknown_loss_is_named():
    Z = torch.zeros(2, 1, dtype=torch.float64)
    for call in (loss_value, derivatives):
        with pytest.raises(ValueError, match="unknown loss 'hinge'; valid: mse, logistic, softmax"):
            call("hinge", Z, Z)
