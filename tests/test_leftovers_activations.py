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


@pytest.mark.parametrize("expr, value", [((1 - sympy.cos(x)) / x, 0.0), ((x - sympy.sin(x)) / x**2, 0.0),
                                         (sympy.log(sympy.Abs(x)), -27.63)])
def test_where_a_protected_division_or_log_changes_the_activation_a_warning_says_so(expr, value):
    """(x - sin(x))/x**2, which tends to 0 at x = 0, was 1 there (and for |x| <= 1e-5) without a word: a zero
    pre-activation is common. sin(x)/x, whose limit is the protected 1, builds silently."""
    with pytest.warns(UserWarning, match=r"^srnet computes (a/b as 1 where \|b\||log\|a\| as 0 where \|a\|) <= "
                                         r"1e-10 .*from about x = -?[01]e?-?[0-9]* \(") as caught:
        module = ExpressionActivation.from_sympy(expr)
    assert len(caught) == 1 and f"where the formula is {value:.4g})" in str(caught[0].message)
    with torch.no_grad():
        assert float(module(torch.tensor([0.0], dtype=torch.float64))[0]) != pytest.approx(value)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ExpressionActivation.from_sympy(sympy.sin(x) / x)
        ExpressionActivation.from_sympy(expr, protected=True)
