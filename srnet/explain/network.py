"""A trained torch network as the plain function explainers query.

Explainers see networks as ``predict(X) -> outputs`` on float64 arrays
(:mod:`srnet.explain.base`).  :class:`NetworkFunction` is that function for a
torch module, and keeps the module at hand for the explainers that need more
than answers (SRNet probes its layers).
"""

from __future__ import annotations

import numpy as np
from torch import nn

from srnet.metrics import softmax
from srnet.probe import plan_layers, probe


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
