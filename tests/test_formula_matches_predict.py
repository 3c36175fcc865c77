"""The formula a user reads computes what ``predict`` computes, on every real
input where predict is finite: also outside the sign of the training data
(issue 11, defect 3: positive training inputs must not make ``Abs`` vanish)."""

import numpy as np
import pytest
import sympy
import torch
from _oracle import protection_fired, stable_rows
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from torch import nn

from srnet.estimators import CGPRegressor
from srnet.extract import SRNet

SIGN_SENSITIVE = ("add", "sub", "mul", "div", "square", "abs", "sin")  # log and sqrt always join


def lambdified(symbols, expr):
    return sympy.lambdify(list(symbols), expr, "numpy")


def both_signs(rng, n_rows, n_cols):
    """Inputs of either sign over several magnitudes, zeros included."""
    X = rng.standard_normal((n_rows, n_cols)) * rng.choice([0.3, 1.0, 4.0], size=(n_rows, n_cols))
    X[rng.random((n_rows, n_cols)) < 0.05] = 0.0
    return X


def assert_formula_equals_predict(formula_values, predicted, rows, context):
    """Equal to a relative 1e-6 wherever predict is finite (and the row is
    neither at a protected point nor ill-conditioned)."""
    predicted = np.asarray(predicted, dtype=np.float64)
    got = np.broadcast_to(np.asarray(formula_values), predicted.shape)
    check = rows & np.isfinite(predicted)
    assume(check.sum() > 0)  # a program whose protection fires on every row (log 0) leaves nothing to compare
    scale = np.maximum(1.0, np.abs(predicted[check]))
    real = np.abs(np.imag(got[check])) <= 1e-9 * scale
    close = np.abs(np.real(got[check]) - predicted[check]) <= 1e-6 * scale
    bad = np.flatnonzero(~(real & close))
    assert bad.size == 0, (f"{context}: at {bad.size} of {check.sum()} rows the formula differs from predict, "
                           f"e.g. formula {got[check][bad[0]]} vs predict {predicted[check][bad[0]]}")


def test_positive_training_data_do_not_make_the_formula_forget_negative_inputs():
    """The issue's example: y = x + log(x) on [0.5, 4], read at x = -2."""
    X = np.linspace(0.5, 4, 60)[:, None]
    y = X[:, 0] + np.log(X[:, 0])
    model = CGPRegressor(functions=("add", "log"), n_columns=4, n_constants=0, max_generations=3000,
                         max_seconds=None, simplify_seconds=0, random_state=0).fit(X, y)
    assert model.score(X, y) == pytest.approx(1.0)
    (x0,) = sorted(model.expression_.free_symbols, key=str)
    assert not x0.is_positive and x0.is_real
    assert model.expression_.has(sympy.Abs)
    formula = lambdified([x0], model.expression_)
    outside = np.array([-2.0, -0.5, -4.0])
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(formula(outside), model.predict(outside[:, None]), rtol=1e-12)
    value = complex(model.expression_.xreplace({x0: sympy.Float(-2.0)}).evalf())
    assert value.imag == 0 and value.real == pytest.approx(float(model.predict([[-2.0]])[0]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n_inputs=st.integers(1, 2),
       functions=st.lists(st.sampled_from(SIGN_SENSITIVE), min_size=3, max_size=6, unique=True),
       simplify_seconds=st.sampled_from([0.0, 1.0]))
def test_cgp_regressor_formula_equals_predict_on_both_signs(seed, n_inputs, functions, simplify_seconds):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.2, 5.0, (40, n_inputs))  # positive training data
    y = np.log(X[:, 0]) + np.sqrt(X[:, -1]) * X[:, 0] + rng.normal(0, 0.1, 40)
    model = CGPRegressor(functions=tuple(functions) + ("log", "sqrt"), n_columns=12, max_generations=20,
                         max_seconds=None, simplify_seconds=simplify_seconds, random_state=seed).fit(X, y)
    symbols = sorted(model.expression_.free_symbols, key=lambda s: int(s.name[1:]))
    Z = both_signs(rng, 200, n_inputs)
    program = model.program_
    rows = stable_rows(program, Z) & ~protection_fired(program, Z)
    columns = [Z[:, int(s.name[1:])] for s in symbols]
    with np.errstate(all="ignore"):
        values = lambdified(symbols, model.expression_)(*[c.astype(complex) for c in columns])
        predicted = model.predict(Z)
    assert_formula_equals_predict(values, predicted, rows, model.expression_)
    assert all(s.is_positive is not True for s in symbols)


def _tiny_network(seed, n_inputs):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(n_inputs, 3), nn.Sigmoid(), nn.Linear(3, 1)).double()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n_inputs=st.integers(1, 2))
def test_srnet_composed_formula_equals_predict_on_both_signs(seed, n_inputs):
    rng = np.random.default_rng(seed)
    X = rng.uniform(0.5, 4.0, (60, n_inputs))  # positive training data
    model = SRNet(functions=("add", "sub", "mul", "div", "sqrt", "log"), max_generations=20, max_seconds=None,
                  simplify_seconds=0, random_state=seed % 2**31, n_threads=1).fit(_tiny_network(seed, n_inputs), X)
    Z = both_signs(rng, 200, n_inputs)
    # rows where a program of the chain that predict evaluates (the selected
    # formula's, else the layer-wise one) hits a protected point, or is
    # ill-conditioned, are not comparable
    selected = getattr(model, "formula_", None)
    rows = np.ones(len(Z), dtype=bool)
    values = Z
    with np.errstate(all="ignore"):
        for program in model.programs_ if selected is None else selected.programs:
            rows &= stable_rows(program, values) & ~protection_fired(program, values)
            values = program.raw_outputs(values) @ program.weights + program.intercept
    formula = lambdified(model.input_symbols_, model.expression_)
    with np.errstate(all="ignore"):
        values = formula(*Z.astype(complex).T)
        predicted = model.predict(Z)
        # and rows where the formula itself is singular or ill-conditioned (a
        # protected point of whichever formula was selected)
        for moved in (Z * (1 + 1e-9), Z * (1 - 1e-9)):
            nearby = formula(*moved.astype(complex).T)
            rows &= np.isfinite(nearby) & (np.abs(nearby - values) <= 1e-6 * np.maximum(1.0, np.abs(values)))
    assert_formula_equals_predict(values, predicted, rows, model.expression_)
    assert all(s.is_positive is not True for s in model.input_symbols_)
    assert model.report().get("inputs_assumed_positive", []) == []
