"""Review of the sympy -> program converter, the routes to an activation and the activation search."""

from types import SimpleNamespace

import numpy as np
import pytest
import sympy
import torch
from torch import nn

from srnet.activations import ExpressionActivation, activation_from_layer, program_from_sympy, search_activation
from srnet.activations.scorer import ActivationScorer
from srnet.expr import Program

x = sympy.Symbol("x", real=True)


class TanhScorer(ActivationScorer):
    """A cheap fitness: the distance to 1.5*tanh on [-3, 3] (no training)."""

    def train(self, activation) -> float:
        points = torch.linspace(-3, 3, 101, dtype=torch.float64)
        with torch.no_grad():
            return float(((activation(points) - 1.5 * torch.tanh(points)) ** 2).mean())


# ------------------------------------------------------------ sympy -> program

@pytest.mark.parametrize("assumption", [{"positive": True}, {"nonnegative": True}, {"integer": True}])
def test_a_symbol_declared_narrower_than_the_reals_is_refused(assumption):
    # sympy simplifies on the assumption (sqrt(x**2) -> x with x positive): the activation gave -2 at x = -2
    narrow = sympy.Symbol("x", **assumption)
    with pytest.raises(ValueError, match="declared with"):
        ExpressionActivation.from_sympy(sympy.sqrt(narrow**2) + sympy.sin(narrow))
    with pytest.raises(ValueError, match="declared with"):
        program_from_sympy(sympy.Abs(narrow), [narrow])
    with pytest.raises(ValueError, match="declared with"):  # matched by name to a plain input
        program_from_sympy(sympy.Abs(narrow), [sympy.Symbol("x")])
    # real (or unspecified) symbols still convert, and |x| stays |x|
    for plain in (x, sympy.Symbol("x")):
        assert program_from_sympy(sympy.Abs(plain), [plain])(np.array([[-2.0]]))[0] == 2.0


def test_symbols_must_be_distinct_sympy_symbols():
    with pytest.raises(TypeError, match="sympy Symbols"):  # was AttributeError: 'str' object has no attribute 'name'
        program_from_sympy(x**2, ["x"])
    with pytest.raises(TypeError, match="sequence of sympy Symbols"):
        program_from_sympy(x**2, "x")
    with pytest.raises(ValueError, match="repeat x"):  # was a two-input program reading only its second input
        program_from_sympy(x**2, [x, x])


def test_plain_numbers_convert_and_booleans_are_refused():
    with pytest.raises(TypeError, match="boolean"):  # was "could not convert string to float: 'true'"
        program_from_sympy(True, [x])
    program = program_from_sympy(np.int64(2), [x])  # was "expected a sympy expression, got int64"
    assert program(np.array([[5.0]]))[0] == 2.0


# ------------------------------------------------------------ route 2

def _explainer(n_layers=2):
    h = sympy.symbols("h0 h1", real=True)
    programs, features = [], []
    for k in range(n_layers):
        expr = sympy.sin(h[0]) + (k + 1) * h[1] ** 2
        p = program_from_sympy(expr, h)
        programs.append(Program(2, p.constants, p.steps, p.outputs, np.ones((1, 3)), np.zeros(3)))
        features.append([expr])
    return SimpleNamespace(programs_=programs, layer_features_=features, layer_r2_=[0.9] * n_layers)


def test_layer_route_labels_the_layer_it_used():
    found = activation_from_layer(_explainer(), -1, normalize=False)
    assert found.details["layer"] == 1
    assert found.activation.label.startswith("route 2 (layer 1 feature 0)")  # was "layer -1"


def test_layer_route_names_a_network_that_is_not_an_explainer():
    network = nn.Sequential(nn.Linear(2, 3), nn.Tanh())
    with pytest.raises(ValueError, match="fitted srnet SRNet, got Sequential"):  # was "the explainer is not fitted"
        activation_from_layer(network, 0)


# ------------------------------------------------------------ route 3

def test_search_with_a_scorer_leaves_the_data_unread():
    # the data are unused with a scorer; X_train.shape of a list raised AttributeError after the whole search
    found = search_activation([[0.0], [1.0]], [0.0, 1.0], scorer=TanhScorer(), max_generations=2, max_seconds=None,
                              random_state=0)
    assert found.details["samples"] is None


def test_a_reused_scorer_gives_each_search_its_own_budget():
    scorer = TanhScorer()
    first = search_activation(scorer=scorer, max_evaluations=12, max_seconds=None, random_state=0)
    second = search_activation(scorer=scorer, max_evaluations=12, max_seconds=None, random_state=1)
    assert first.details["training_runs"] == 12 and first.details["generations"] > 0
    # it ran no generation before: its budget was counted as spent by the first search's runs
    assert second.details["stop_reason"] == "max_evaluations" and second.details["generations"] > 0
    assert second.details["training_runs"] == 12 and scorer.trained == 24
    assert first.details["cache_hits"] + second.details["cache_hits"] == scorer.hits
