"""A trained torch network as the plain function explainers query.

Explainers see networks as ``predict(X) -> outputs`` on float64 arrays
(:mod:`srnet.explain.base`).  :class:`NetworkFunction` is that function for a
torch module, and keeps the module at hand for the explainers that need more
than answers (SRNet probes its layers).
"""

from __future__ import annotations

import numpy as np
from torch import nn

from srnet.probe import plan_layers, probe


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of (n, n_classes) logits, overflow-safe: a logit of +inf takes the row's
    probability (shared among such logits; inf - inf made the whole row NaN, which no class reads),
    one of -inf none; a row with a NaN logit, or no logit above -inf, is NaN (no class)."""
    logits = np.asarray(logits, dtype=np.float64)
    top = np.isposinf(logits)
    finite = np.where(np.isfinite(logits), logits, -np.inf)
    with np.errstate(invalid="ignore"):
        e = np.exp(finite - finite.max(axis=1, keepdims=True))
        probabilities = e / e.sum(axis=1, keepdims=True)
        probabilities = np.where(top.any(axis=1, keepdims=True), top / top.sum(axis=1, keepdims=True),
                                 probabilities)
    return np.where(np.isnan(logits).any(axis=1, keepdims=True), np.nan, probabilities)


class NetworkFunction:
    """``f(X)``: a regression network's output (n,), or a classifier's class
    probabilities (n, n_classes) (the softmax of the logits that
    :func:`srnet.probe.probe` records as its output layer)."""

    def __init__(self, module: nn.Module, layers=None):
        self.module = module
        self.layers = layers
        self.plan = plan_layers(module, layers)
        self.is_classifier = self.plan.is_classifier
        self.task = "classification" if self.is_classifier else "regression"

    def logits(self, X) -> np.ndarray:
        """The output layer (logits for a classifier), (n, n_outputs)."""
        return probe(self.module, X, [self.plan.names[-1]])[0]

    def __call__(self, X) -> np.ndarray:
        output = self.logits(X)
        if self.is_classifier:
            return softmax(output)
        return output[:, 0] if output.shape[1] == 1 else output
