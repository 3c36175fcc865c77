"""Leftovers of the review of srnet.domain and srnet.extract: the region beyond a widened box of categorical
inputs, and formula steps that define every symbol they use."""

import numpy as np
import pytest
import torch
from torch import nn

from srnet.domain import Domain
from srnet.expr.symbolic import evaluate_sympy
from srnet.extract import SRNet

QUICK = dict(max_seconds=None, simplify_seconds=0, random_state=0, n_threads=1, progress=False)


@pytest.mark.parametrize("X", [
    np.column_stack([np.full(20, 2.5), np.arange(20) % 2]),  # a constant input and a flag
    np.column_stack([np.arange(20) % 2, np.arange(20) % 3]),  # flags alone
])
def test_a_widened_box_of_categorical_inputs_has_no_beyond_box(X):
    """Every input stays on its values (or its one value): nothing lies beyond the domain, so beyond() is None
    as sample_beyond is (it was the flags' ranges widened 1.5-fold, a box no point is ever drawn in)."""
    domain = Domain("widen", 1.5)
    assert domain.beyond(X) is None
    assert domain.sample_beyond(X, 10, np.random.default_rng(0)) is None


def test_a_widened_box_with_a_measured_input_beside_a_flag_still_has_a_beyond_box():
    X = np.column_stack([np.linspace(-1, 1, 20), np.arange(20) % 2])
    domain = Domain("widen", 1.2)
    outer, inner = domain.beyond(X), domain.bounds(X)
    np.testing.assert_allclose(outer[0], [-1.8, 1.8])
    np.testing.assert_allclose(inner[1], [0, 1])
    points = domain.sample_beyond(X, 200, np.random.default_rng(0))
    assert np.all(np.isin(points[:, 1], [0, 1])) and np.all(np.abs(points[:, 0]) > 1.2)


def test_srnet_reports_no_region_beyond_a_network_of_flags():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    X = np.column_stack([np.arange(40) % 2, np.arange(40) % 3]).astype(float)
    model = SRNet(max_generations=2, domain="widen:1.2", **QUICK).fit(net, X)
    assert set(model.regions_) == {"rows", "validation", "domain"}
    assert "beyond" not in model.report()["regions"]


def _two_hidden_layer_network():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 1))


@pytest.mark.parametrize("teacher_forcing", [False, True])
def test_every_symbol_of_a_formula_step_is_an_input_or_a_step_before_it(teacher_forcing):
    """With teacher forcing, layer 2's features read h1_0, h1_1, ... which no step defined: the steps could not
    be followed.  Followed from the inputs, they compute the chained layers (predict_layers)."""
    X = np.random.default_rng(0).uniform(-1, 1, (60, 2))
    model = SRNet(teacher_forcing=teacher_forcing, max_generations=3, **QUICK).fit(_two_hidden_layer_network(), X)
    defined = list(model.input_symbols_)
    rows = X[:8]
    values = list(rows.T)
    for name, expression in model.formula_steps_:
        assert expression.free_symbols <= set(defined), (name, expression.free_symbols - set(defined))
        values.append(np.asarray(evaluate_sympy(expression, defined, np.column_stack(values))))
        defined.append(name)
    assert str(defined[-1]) == "y"
    np.testing.assert_allclose(values[-1], model.predict_layers(rows)[-1][:, 0], rtol=1e-6, atol=1e-8)
    steps = model.report()["formula_steps"]
    if teacher_forcing:  # the previous layers' units are steps of their own
        assert any(step.startswith("h1_0 = ") for step in steps) and any(step.startswith("h2_0 = ") for step in steps)
