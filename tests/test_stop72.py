"""Stop 72's mends from a review of the activation user's path."""

import warnings

import pytest
import sympy

from srnet.activations import VARIABLE as x
from srnet.activations import ExpressionActivation


@pytest.mark.parametrize("expr", [sympy.exp(sympy.sin(x**2)), sympy.log(1 + x**2) * sympy.sin(x**2),
                                  sympy.exp(sympy.cos(x**3))])
def test_no_protection_warning_where_no_protection_fires(expr):
    """exp(sin(x**2)) was warned of as "srnet computes its protected primitives (...): differs from the formula
    from about x = 4.353e+05 (1.8 where the formula is 1.8)": float64 rounding of an ill-conditioned formula far
    out, where no primitive's protection fires."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ExpressionActivation.from_sympy(expr, check_range=None)


def test_the_protection_warning_still_names_the_primitive_that_fires():
    with pytest.warns(UserWarning, match=r"exp\(a\) as exp\(min\(a, 80\)\).*from about x = 80.6 \(80 where"):
        ExpressionActivation.from_sympy(sympy.log(1 + sympy.exp(x)), check_range=None)
