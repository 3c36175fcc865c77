"""The losses X-Net trains on, with the per-sample derivatives its selection step needs.

Each loss takes the trees' outputs ``Z`` (n_samples, n_trees) and returns the
loss, and ``G`` and ``H``: the first and (diagonal) second derivative of the
loss with respect to each output at each sample, which
:func:`srnet.xnet.select.targets` turns into every neuron's target output.

* ``mse``: mean squared error over samples and outputs (regression);
* ``logistic``: binary cross-entropy of one logit (two classes);
* ``softmax``: cross-entropy of one logit per class.

The classification losses add :data:`LOGIT_PENALTY` times the mean squared
logit: separable data would otherwise let the loss fall towards 0 forever
by scaling the logits up, and Newton steps on saturated logits explode.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

LOSSES = ("mse", "logistic", "softmax")
CURVATURE_FLOOR = 1e-6  # keeps Newton steps finite where a logit has saturated
LOGIT_PENALTY = 1e-3


def loss_value(name: str, Z: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """The mean loss (a scalar tensor) of outputs ``Z`` against targets ``Y``.

    ``Y``: (n, n_trees) floats for ``mse``, (n, 1) 0/1 floats for
    ``logistic``, (n,) class indices for ``softmax``.
    """
    if name == "mse":
        return ((Z - Y) ** 2).mean()
    if name == "logistic":
        return F.binary_cross_entropy_with_logits(Z, Y) + LOGIT_PENALTY * (Z * Z).mean()
    if name == "softmax":
        return F.cross_entropy(Z, Y) + LOGIT_PENALTY * (Z * Z).mean()
    raise ValueError(f"unknown loss {name!r}; valid: {', '.join(LOSSES)}")


def derivatives(name: str, Z: torch.Tensor, Y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(G, H)``, each (n, n_trees): d loss / dZ and its diagonal second derivative."""
    n, m = Z.shape
    if name == "mse":
        G = 2.0 * (Z - Y) / (n * m)
        return G, torch.full_like(Z, 2.0 / (n * m))
    penalty = 2.0 * LOGIT_PENALTY / (n * m)
    if name == "logistic":
        p = torch.sigmoid(Z)
        return (p - Y) / n + penalty * Z, torch.clamp(p * (1 - p), min=CURVATURE_FLOOR) / n + penalty
    if name == "softmax":
        p = torch.softmax(Z, dim=1)
        onehot = F.one_hot(Y, m).to(Z.dtype)
        return (p - onehot) / n + penalty * Z, torch.clamp(p * (1 - p), min=CURVATURE_FLOOR) / n + penalty
    raise ValueError(f"unknown loss {name!r}; valid: {', '.join(LOSSES)}")
