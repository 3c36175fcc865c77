"""gplearn as a peer explainer: within the others' wall budget, its formula read and shown."""

import time

import numpy as np
import pytest
import sympy
import torch
from torch import nn

pytest.importorskip("gplearn")

from srnet.explain import make_explainer  # noqa: E402
from srnet.explain.network import NetworkFunction  # noqa: E402


def test_gplearn_keeps_the_budget_and_its_formula_is_what_it_predicts():
    """It ran its 20 generations of 1000 whatever --seconds (9.6 s against 1 s), and its formula was never
    shown or saved; it now grows a generation at a time within the budget, and formulas_ is its program."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    X = np.random.default_rng(0).uniform(-1, 1, (200, 2))
    explainer = make_explainer("gplearn", max_seconds=0.5)
    started = time.perf_counter()
    explainer.fit(NetworkFunction(net), X, random_state=0)
    model = explainer.models_[0]
    assert 1 <= model.generations < 20 and time.perf_counter() - started < 10
    formula, = explainer.formulas_
    symbols = sorted(formula.free_symbols, key=str)
    at = sympy.lambdify(symbols, formula)(*(X[:, int(s.name[1:])] for s in symbols))
    np.testing.assert_allclose(np.broadcast_to(at, len(X)), model.predict(X), rtol=1e-9, atol=1e-9)
    unbounded = make_explainer("gplearn", max_seconds=None)  # generations alone
    unbounded.generations = 2
    unbounded.fit(NetworkFunction(net), X, random_state=0)
    assert unbounded.models_[0].generations == 2
