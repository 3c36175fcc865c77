"""Leftovers of the activations and X-Net review: each test failed before its fix."""

import math
import warnings

import pytest
import sympy
import torch

from srnet.activations import VARIABLE, ExpressionActivation
from srnet.cgp.primitives import EXP_MAX

x = VARIABLE


@pytest.mark.parametrize("expr, where", [(sympy.exp(x), 80), (sympy.log(1 + sympy.exp(x)), 80), (2**x, 115),
                                         (sympy.exp(x / 100), 8000)])
def test_where_the_capped_exp_changes_the_activation_a_warning_says_from_where(expr, where):
    """from_sympy(exp(x)) computed exp(min(x, 80)) without a word: softplus log(1 + exp(x)) was 80 at x = 100
    (torch's softplus gives 100), exp(x) 5.5e34 where exp(100) is 2.7e43."""
    with pytest.warns(UserWarning, match=r"exp\(min\(a, 80\)\)") as caught:
        module = ExpressionActivation.from_sympy(expr)
    assert len(caught) == 1 and "protected=True" in str(caught[0].message)
    at = float(str(caught[0].message).split(" = ")[1].split(" ")[0])
    assert where <= at <= 1.3 * where
    if expr == sympy.log(1 + sympy.exp(x)):  # what the warning is about
        with torch.no_grad():
            got = float(module(torch.tensor([100.0], dtype=torch.float64))[0])
        assert got == pytest.approx(EXP_MAX) and not math.isclose(got, 100.0)


@pytest.mark.parametrize("expr", [sympy.exp(-x**2), sympy.exp(sympy.sin(x)), sympy.exp(-sympy.Abs(x)),
                                  x / (1 + sympy.exp(-x)), sympy.tanh(x),
                                  x * sympy.tanh(sympy.log(1 + sympy.exp(x)))])  # mish: the cap shows nowhere
def test_formulas_the_cap_cannot_change_and_protected_ones_are_built_silently(expr):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ExpressionActivation.from_sympy(expr)
        ExpressionActivation.from_sympy(sympy.log(1 + sympy.exp(x)), protected=True)
