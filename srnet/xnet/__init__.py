"""X-Net (Li et al. 2024): networks whose neurons learn their own activation, trained to a formula.

* :mod:`srnet.xnet.tree`: neurons, trees, the five substitution rules, export to a Program;
* :mod:`srnet.xnet.forward`: the forward pass and sensitivities in torch;
* :mod:`srnet.xnet.losses`: the losses and their per-sample derivatives;
* :mod:`srnet.xnet.constants`: steps on the weights and biases;
* :mod:`srnet.xnet.select`: target outputs and the activation-selection step;
* :mod:`srnet.xnet.train`: the alternating training loop;
* :mod:`srnet.xnet.estimators`: :class:`XNetRegressor`, :class:`XNetClassifier`.
"""

from srnet.xnet.estimators import DEFAULT_FUNCTIONS, XNetClassifier, XNetRegressor
from srnet.xnet.tree import Node, describe, to_program

__all__ = ["DEFAULT_FUNCTIONS", "Node", "XNetClassifier", "XNetRegressor", "describe", "to_program"]
