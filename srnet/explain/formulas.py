"""Global formulas behind the explainer interface: SRNet, direct CGP, gplearn.

* :class:`SRNetExplainer` explains the network layer by layer
  (:class:`srnet.extract.SRNet`) and composes one formula of its inputs;
  it needs the torch module, so ``predict`` must be a
  :class:`srnet.explain.network.NetworkFunction`.
* :class:`CGPDirectExplainer` regresses the network's output (a classifier's
  logits) on its inputs with :class:`srnet.estimators.CGPRegressor`,
  without looking inside.
* :class:`GplearnExplainer` does the same with gplearn, when installed.

For classifiers, formulas give logits; ``predict`` returns their softmax, so
every explainer answers in the network's own units (class probabilities).

Formulas are global, so they learn from every point the network labelled for
them: the training points and, when given, the validation points (the SRNet
paper fitted its formulas on both).
"""

from __future__ import annotations

import importlib.util

import numpy as np

from srnet.explain.base import Explainer
from srnet.explain.network import NetworkFunction, softmax
from srnet.expr.symbolic import complexity


def _learning_points(X_train, X_valid):
    return X_train if X_valid is None else np.vstack([X_train, X_valid])


def _network_targets(predict, X_train, task):
    """What a formula is fitted to: outputs, or a classifier's logits."""
    if task == "classification":
        if not isinstance(predict, NetworkFunction):
            raise ValueError("formula explainers fit a classifier's logits: pass a NetworkFunction")
        return predict.logits(X_train)
    return np.asarray(predict(X_train), dtype=np.float64).reshape(len(X_train))


class SRNetExplainer(Explainer):
    """SRNet's composed formula (see :class:`srnet.extract.SRNet`).

    Parameters
    ----------
    seconds : float, default 10.0
        Search budget.
    **srnet_params
        Passed to :class:`srnet.extract.SRNet` (preset, form, n_outputs, ...).
    """

    name = "srnet"

    def __init__(self, seconds=10.0, srnet_params=None):
        self.seconds = seconds
        self.srnet_params = srnet_params

    def _fit(self, predict, X_train, Y_train, X_valid, Y_valid, rng):
        from srnet.extract import SRNet

        if not isinstance(predict, NetworkFunction):
            raise ValueError("SRNet explains a torch network layer by layer: pass a NetworkFunction, "
                             "not a bare function")
        params = {"simplify_seconds": 2.0, **(self.srnet_params or {})}
        self.model_ = SRNet(max_seconds=self.seconds, random_state=int(rng.integers(2**31)), **params)
        self.model_.fit(predict.module, _learning_points(X_train, X_valid), layers=predict.layers)
        expressions = self.model_.expression_ if isinstance(self.model_.expression_, list) else [
            self.model_.expression_]
        self.size_ = sum(complexity(e) for e in expressions)

    def _predict(self, X):
        output = self.model_.predict_layers(X)[-1]
        return softmax(output) if self.task_ == "classification" else output


class CGPDirectExplainer(Explainer):
    """A direct CGP symbolic regression of the network's output on its inputs."""

    name = "cgp_direct"

    def __init__(self, seconds=10.0, regressor_params=None):
        self.seconds = seconds
        self.regressor_params = regressor_params

    def _fit(self, predict, X_train, Y_train, X_valid, Y_valid, rng):
        from srnet.estimators import CGPRegressor

        params = {"simplify_seconds": 2.0, **(self.regressor_params or {})}
        X = _learning_points(X_train, X_valid)
        targets = _network_targets(predict, X, self.task_).reshape(len(X), -1)
        # A network output that never changes (a saturated classifier's logit) is explained by its value:
        # there is no formula to search for, and the regressor rightly refuses a constant target.
        self.constant_ = np.all(targets == targets[:1], axis=0)
        self.values_ = targets[0].copy()
        self.model_ = None
        self.size_ = int(self.constant_.sum())
        if not self.constant_.all():
            varying = targets[:, ~self.constant_]
            self.model_ = CGPRegressor(max_seconds=self.seconds, random_state=int(rng.integers(2**31)), **params)
            self.model_.fit(X, varying[:, 0] if varying.shape[1] == 1 else varying)
            expressions = self.model_.expression_ if isinstance(self.model_.expression_, list) else [
                self.model_.expression_]
            self.size_ += sum(complexity(e) for e in expressions)

    def _predict(self, X):
        output = np.tile(self.values_, (len(X), 1))
        if self.model_ is not None:
            output[:, ~self.constant_] = self.model_.predict(X).reshape(len(X), -1)
        if self.task_ == "classification":
            return softmax(output)
        return output


def gplearn_available() -> bool:
    return importlib.util.find_spec("gplearn") is not None


class GplearnExplainer(Explainer):
    """gplearn's SymbolicRegressor on the network's output (one per logit for
    classifiers), with the engine's function set where gplearn has it."""

    name = "gplearn"

    def __init__(self, population_size=1000, generations=20, function_set=("add", "sub", "mul", "div", "sin",
                                                                             "cos", "log", "sqrt")):
        self.population_size = population_size
        self.generations = generations
        self.function_set = function_set

    def _fit(self, predict, X_train, Y_train, X_valid, Y_valid, rng):
        if not gplearn_available():
            raise ValueError("gplearn is not installed: pip install 'srnet[bench]'")
        from gplearn.genetic import SymbolicRegressor

        X = _learning_points(X_train, X_valid)
        targets = _network_targets(predict, X, self.task_).reshape(len(X), -1)
        self.models_ = []
        for column in targets.T:
            model = SymbolicRegressor(population_size=self.population_size, generations=self.generations,
                                      function_set=self.function_set, random_state=int(rng.integers(2**31)),
                                      n_jobs=1)
            self.models_.append(model.fit(X, column))
        self.size_ = sum(model._program.length_ for model in self.models_)

    def _predict(self, X):
        output = np.column_stack([model.predict(X) for model in self.models_])
        return softmax(output) if self.task_ == "classification" else output
