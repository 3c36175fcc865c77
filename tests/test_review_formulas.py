"""Review of srnet.formulas and srnet.domain: structural zeros are no poles, a NaN error does not hide the Pareto front, a domain refuses settings its kind does not use."""

import math

import numpy as np
import pytest

from srnet.domain import Domain
from srnet.expr.program import Program
from srnet.expr.symbolic import evaluate_sympy, make_symbols
from srnet.formulas import Candidate, Formula, candidate, pareto_front, select, singularities

SYMBOLS = make_symbols(1)


def one(constants, steps, output, weight=1.0):
    """One program of one input x0: ``output`` through weight ``weight``."""
    return Formula("direct-8", (Program(1, tuple(constants), tuple(steps), (output,), [[weight]], [0.0]),))


def dead_then_inverse():
    """Layer 1 is a dead unit (h = 0 sin(x) + 0); layer 2 computes 1/h, which the model and the printed
    formula both read 1."""
    first = Program(1, (), (("sin", 0, 0),), (1,), [[0.0]], [0.0])
    second = Program(1, (1.0,), (("div", 1, 0),), (2,), [[1.0]], [0.0])
    return Formula("layerwise", (first, second))


STRUCTURAL = {
    "x/0": one((0.0,), [("div", 0, 1)], 2),
    "x/(c - c)": one((0.7,), [("sub", 1, 1), ("div", 0, 2)], 3),
    "x/(x - x)": one((), [("sub", 0, 0), ("div", 0, 1)], 2),
    "x/(0 x)": one((0.0,), [("mul", 1, 0), ("div", 0, 2)], 3),
    "x/x": one((), [("div", 0, 0)], 1),
    "x + log 0": one((0.0,), [("log", 1, 0), ("add", 0, 2)], 3),
    "x + exp(100)": one((100.0,), [("exp", 1, 0), ("add", 0, 2)], 3, weight=1e-30),
    "dead unit": dead_then_inverse(),
}


@pytest.mark.parametrize("name", list(STRUCTURAL))
@pytest.mark.parametrize("inputs", ["uniform", "binary"])
def test_a_protected_step_of_a_structural_number_is_no_pole(name, inputs):
    """x/(x - x), x/(c - c), a division by a dead unit...: sympy prints the protected value (1), which the
    model computes too, so the printed formula is defined everywhere; they were reported as "0 at 2000 of
    2000 points ... the formula as printed is undefined" and passed over by selection as poles."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (2000, 1)) if inputs == "uniform" else rng.integers(0, 2, (2000, 1)).astype(float)
    formula = STRUCTURAL[name]
    assert singularities(formula, X) == []
    shown = candidate(formula, SYMBOLS, {"domain": (X, formula(X))}, X, classification=False,
                      simplify_seconds=0)
    assert shown.singularities == []
    printed = np.asarray(evaluate_sympy(shown.expressions[0], SYMBOLS, X[:50]))
    np.testing.assert_allclose(printed, formula(X[:50])[:, 0], rtol=1e-12)  # the printed formula is the model


@pytest.mark.parametrize("formula, X", [
    # 0/x prints 0 but the protected model gives 1 where x is 0
    (one((0.0,), [("div", 1, 0)], 2), np.repeat([[0.0], [1.0]], 50, axis=0)),
    # an input that is 0 on the whole domain: x/x0 prints as such, undefined at every point
    (Formula("d", (Program(2, (), (("div", 0, 1),), (2,), [[1.0]], [0.0]),)),
     np.column_stack([np.linspace(-1, 1, 100), np.zeros(100)])),
    (one((), [("div", 0, 0), ("div", 1, 0)], 2), np.linspace(-1, 1, 101)[:, None]),  # (x/x) / x: 1/x
])
def test_zeros_that_are_no_structure_still_count(formula, X):
    assert singularities(formula, X)


def fake(complexity, rmse, r2):
    return Candidate(Formula("direct-8", ()), [], complexity, {"domain": {"rmse": rmse, "r2": r2}}, [])


def test_a_nan_error_does_not_hide_the_front():
    """NaN compared false with every later error: a NaN-error candidate first kept the front at that one
    formula, and select returned it for every rule."""
    nan, good, better = fake(3, math.nan, math.nan), fake(10, 0.1, 0.99), fake(20, 0.01, 0.9999)
    candidates = [nan, good, better]
    assert pareto_front(candidates) == [nan, good, better]  # the NaN formula is the simplest: still on the front
    assert select(candidates, "accurate") is better
    assert select(candidates) is better
    assert select(candidates, 15) is good
    assert select([good, nan], 5) is nan  # none within the cap: the simplest
    assert select([fake(10, math.nan, math.nan), fake(10, 0.5, 0.5)], 10).validation_rmse == 0.5


@pytest.mark.parametrize("kind, settings, match", [
    ("rows", dict(factor=3), "domain rows takes no factor"),
    ("auto", dict(factor=1.5), "domain auto takes no factor"),
    ("box", dict(factor=2, box=((0, 1),)), "domain box takes no factor"),
    ("widen", dict(factor=2, box=((0, 1),)), "domain widen takes no box"),
    ("widen", dict(factor=np.bool_(True)), "domain widen needs a finite factor"),
])
def test_a_domain_refuses_settings_its_kind_does_not_use(kind, settings, match):
    """Domain('rows', factor=3) silently ignored the factor; np.bool_ was a widening of 1."""
    with pytest.raises(ValueError, match=match):
        Domain(kind, **settings)
