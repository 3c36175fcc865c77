"""Activations as a researcher derives and uses them (a report-only review): standardised formulas have unit
variance for growing formulas too, a NaN formula is named as such, and formulas print as srnet's others do."""

import numpy as np
import pytest
import sympy
from numpy.polynomial.hermite_e import hermegauss

from srnet.activations import ExpressionActivation
from srnet.activations.from_sympy import program_from_sympy
from srnet.activations.programs import standardise_program

x = sympy.Symbol("x", real=True)


@pytest.mark.parametrize("expr", [x**2, sympy.exp(x), x**5, sympy.exp(2 * x), sympy.tanh(x), x * sympy.tanh(x)])
def test_a_standardised_formula_has_zero_mean_and_unit_variance_under_a_standard_normal(expr):
    """The moments came from 2001 normal quantiles, which leave out the tails beyond |x| = 3.3: exp(2x) came out
    with a standard deviation of 1.56, x**5 1.11, exp(x) 1.02.  Checked by Gauss-Hermite quadrature (exact for
    polynomials of degree < 300, and for these smooth formulas to float64's precision)."""
    program = standardise_program(program_from_sympy(expr, [x]))
    nodes, weights = hermegauss(150)
    weights = weights / weights.sum()
    g = np.asarray(program(nodes[:, None]), dtype=np.float64).reshape(-1)
    mean = weights @ g
    assert abs(mean) < 1e-9 and abs(np.sqrt(weights @ (g - mean) ** 2) - 1) < 1e-9


def test_a_kink_is_standardised_by_its_exact_moments():
    """|x| (where quadrature converges slowly): E|x| = sqrt(2/pi), Var|x| = 1 - 2/pi."""
    program = standardise_program(program_from_sympy(sympy.Abs(x), [x]))
    points = np.linspace(-3, 3, 13)
    expected = (np.abs(points) - np.sqrt(2 / np.pi)) / np.sqrt(1 - 2 / np.pi)
    np.testing.assert_allclose(np.asarray(program(points[:, None])).reshape(-1), expected, atol=1e-6)


@pytest.mark.parametrize("expr", [x + sympy.nan, sympy.Float("nan") * x, float("nan"), -sympy.oo, sympy.zoo])
def test_a_formula_that_is_nan_or_infinite_is_named_so_not_a_constant(expr):
    """x + nan is nan in sympy, with no variable left: it was refused as 'a constant cannot be an activation'."""
    with pytest.raises(ValueError, match=r"^the expression is (nan|-oo|zoo), which is not a finite real number$"):
        ExpressionActivation.from_sympy(expr)


def test_an_activation_s_formula_is_printed_as_srnet_prints_formulas():
    """3*x*sin(x) printed 3.0*x*sin(x): a whole number as a float, where srnet's formulas print 3."""
    assert ExpressionActivation.from_sympy(3 * x * sympy.sin(x)).formula == "3*x*sin(x)"
    assert ExpressionActivation.from_sympy(x * sympy.tanh(x) / 2 + 2).formula == "x*tanh(x)/2 + 2"
    assert ExpressionActivation.from_sympy(1.64123456 * sympy.sin(2 * x)).formula == "1.641*sin(2*x)"


@pytest.mark.parametrize("expr, spread", [(sympy.exp(x**2), "6.6e-24"), (sympy.exp(4 * x), "0.00053")])
def test_a_formula_whose_variance_lies_far_out_is_refused_as_flat_once_standardised(expr, spread):
    """exp(x**2) has no finite variance under N(0, 1) (its exp capped at 80, it lives beyond |x| = 8.9): it was
    standardised to 2.5e-26*exp(x**2) - 1.1e-9, flat (std 2e-19) on every input a network sees."""
    from srnet.activations.programs import DegenerateActivationError

    with pytest.raises(DegenerateActivationError, match=rf"draws its variance under N\(0, 1\) from \|x\| > 3 almost "
                                                        rf"alone: standardised, its spread where inputs lie would be "
                                                        rf"{spread}$"):
        standardise_program(program_from_sympy(expr, [x]))
    standardise_program(program_from_sympy(sympy.exp(3 * x), [x]))  # 0.036 of its spread there: kept
