"""Display rounding: the simple rationals a printed constant becomes, found without sympy's nsimplify
(which took a fifth of the display rounding of a 168-input classifier's formulas)."""
import math

import numpy as np
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from srnet.expr.symbolic import (
    DECIMAL_DENOMINATORS,
    SIMPLE_FRACTION_NUMERATOR,
    SIMPLE_NUMERATOR,
    _simple_rational,
    complexity,
    round_constants,
)


def nsimplify_reference(value: float, rounded: float, digits: int):
    """The rule as sympy's nsimplify applies it (the former implementation), a whole number taken however far
    the value lies within rounding."""
    if not 1 / 13 < abs(value) < 2 * SIMPLE_NUMERATOR or not math.isfinite(rounded):
        return None
    rational = sympy.nsimplify(rounded, tolerance=10 ** -(digits + 1) * abs(rounded), rational=True)
    close = rational != 0 and (rational.q == 1 or abs(float(rational) - value) <= 10 ** -(digits + 1) * abs(value))
    short = abs(rational.p) < (SIMPLE_NUMERATOR if rational.q == 1 else SIMPLE_FRACTION_NUMERATOR)
    return rational if close and rational.q <= 12 and rational.q not in DECIMAL_DENOMINATORS and short else None


@given(st.integers(-500, 500).filter(bool), st.sampled_from([1, 2, 4, 5, 8, 10]), st.integers(3, 10),
       st.floats(-0.4, 0.4))
@settings(max_examples=300, deadline=None)
def test_a_decimal_that_is_a_simple_rational_becomes_it_in_lowest_terms(p, q, digits, noise):
    """0.375 is 3/8 (and 0.5 reads 1/2) when the value lies within rounding of it; a fraction of a longer
    numerator stays a decimal (193.7, not 1937/10)."""
    value = p / q * (1 + noise * 10 ** -(digits + 1))
    rounded = float(f"{value:.{digits}g}")
    if not 1 / 13 < abs(value) or rounded != p / q:  # a decimal of more digits than shown
        return
    exact = sympy.Rational(p, q)
    short = (exact.q == 1 or abs(exact.p) < SIMPLE_FRACTION_NUMERATOR) and exact.q not in DECIMAL_DENOMINATORS
    assert _simple_rational(value, rounded, digits) == (exact if short else None)


def test_a_value_that_rounds_to_a_whole_number_is_printed_as_it():
    """1.00004 at 4 digits is 1: it was printed 1.0*x (two digits shown where four were asked for), 3.0002 as
    3.0, 125.956 as 126.0; a value that rounds to another decimal stays a decimal (248.1, not 2481/10)."""
    x = sympy.Symbol("x", real=True)
    assert _simple_rational(1.00004, 1.0, 4) == 1 and _simple_rational(-125.956, -126.0, 4) == -126
    assert str(round_constants(sympy.Float(1.00004) * x + 1, 4)) == "x + 1"
    assert str(round_constants(sympy.Float(3.0002) * x, 4)) == "3*x"
    assert str(round_constants(x ** sympy.Float(1.00004), 4)) == "x"
    assert str(round_constants(sympy.Float(248.1234) * x, 4)) == "248.1*x"
    assert str(round_constants(sympy.Float(2.50004) * x, 4)) == "2.5*x"
    assert str(round_constants(sympy.Float(193.70001) - x, 4)) == "193.7 - x"  # (it printed 1937/10 - x)
    assert str(round_constants(sympy.Float(0.37500001) * x, 4)) == "3*x/8"


def test_a_decimal_near_a_rational_stays_a_decimal():
    """9.91 is not 109/11 and 0.667 is not 2/3, however close: a reader sees the decimal."""
    assert _simple_rational(109 / 11, 9.91, 3) is None
    assert _simple_rational(2 / 3, 0.667, 3) is None
    assert _simple_rational(22 / 7, float(f"{22 / 7:.12g}"), 12) is None


def test_the_rule_is_the_one_nsimplify_applied():
    rng = np.random.default_rng(0)
    compared = rationals = 0
    for _ in range(3000):
        if rng.random() < 0.5:
            value = int(rng.integers(-200, 200)) / int(rng.integers(1, 30)) * (
                1 + rng.normal() * 10.0 ** -int(rng.integers(1, 12)))
        else:
            value = rng.normal() * 10 ** rng.uniform(-2, 7)
        for digits in (3, 4, 6, 8, 12):
            rounded = float(f"{value:.{digits}g}")
            expected = nsimplify_reference(value, rounded, digits)
            assert _simple_rational(value, rounded, digits) == expected, (value, digits)
            compared += 1
            rationals += expected is not None
    assert rationals > 1000  # both kinds of answer were compared


def test_no_rational_for_small_huge_or_non_finite_values():
    assert _simple_rational(1 / 14, 0.07143, 4) is None  # below 1/13: no simple rational is that small
    assert _simple_rational(3e7, 3e7, 4) is None  # numerator past SIMPLE_NUMERATOR
    assert _simple_rational(0.5, math.inf, 4) is None
    assert _simple_rational(7 / 13, 0.5385, 4) is None  # denominator past SIMPLE_DENOMINATOR


def test_a_coefficient_shared_by_terms_of_the_sum_is_factored_out_of_them():
    """A search's output weight, distributed by sympy over the sum it scales, printed six times over a diabetes
    network's formula: 24.14*bmi + 14.14*bp + 24.14*s5 - 14.14*sex - ... (26 nodes).  Each coefficient shared
    by two terms or more, up to sign, is written once: the same values in 24 nodes (14.14*(bp - sex) one more
    than apart, -sex being -1*sex, but a contrast of two inputs in plain sight)."""
    bmi, bp, s5, sex, s3, age = sympy.symbols("bmi bp s5 sex s3 age", real=True)
    w, v = 24.1393472354755, 14.1377776528479
    exact = w * bmi + v * bp + w * s5 - v * sex - w * sympy.tanh(s3) + w * sympy.sqrt(sympy.Abs(age + sex)) + 120.72
    shown = round_constants(exact, 4)
    assert str(shown) == "14.14*(bp - sex) + 24.14*(bmi + s5 - tanh(s3) + sqrt(Abs(age + sex))) + 120.7"
    assert complexity(shown) == complexity(exact) - 2
    b, p, s, x, t, a = np.random.default_rng(0).normal(size=(6, 50))  # the values, by NumPy
    oracle = 24.14 * b + 14.14 * p + 24.14 * s - 14.14 * x - 24.14 * np.tanh(t) + 24.14 * np.sqrt(np.abs(a + x)) + 120.7
    shown_values = sympy.lambdify((bmi, bp, s5, sex, s3, age), shown, "numpy")(b, p, s, x, t, a)
    np.testing.assert_allclose(shown_values, oracle, rtol=1e-4)  # (Float('24.14', 4) holds 24.1399...: 17 bits)
    # all of a group negative: the minus sign outside; a coefficient of one term, or of 1, stays where it is
    assert str(round_constants(-2.5 * bmi - 2.5 * sympy.sin(bp) + 3 * s5 + 1, 4)) == "3*s5 - 5*(bmi + sin(bp))/2 + 1"
    assert str(round_constants(2 * bmi - 2 * bp - 2 * s5 + 1, 4)) == "1 - 2*(-bmi + bp + s5)"  # most signs outside
    for unchanged in (2 * bmi + 3 * bp + 1, bmi - bp + 2, 3 * bmi, sympy.oo * bmi + sympy.oo * bp,
                      2 - sympy.oo * bmi - sympy.oo * bp):  # oo*(bmi + bp) was built as oo*nan
        assert round_constants(unchanged, 4) == unchanged


def test_a_factor_the_terms_of_a_shared_coefficient_share_is_written_once():
    """A three-output network's formula printed 3.095*(x0*x1 + x0*x2): two coefficients 3.0952 and 3.0948
    that rounding made one, over terms that also share x0.  It reads 3.095*x0*(x1 + x2), equal in value; a
    long sum is left as grouped."""
    x0, x1, x2 = sympy.symbols("x0 x1 x2", real=True)
    exact = -6.19 * x2 + 3.0952 * x0 * x1 + 3.0948 * x0 * x2 + 21.14
    shown = round_constants(exact, 4)
    assert str(shown) == "3.095*x0*(x1 + x2) - 6.19*x2 + 21.14"
    assert complexity(shown) < complexity(sympy.expand(shown))  # x0 once, not twice
    a, b, c = np.random.default_rng(1).normal(size=(3, 40))
    np.testing.assert_allclose(sympy.lambdify((x0, x1, x2), shown, "numpy")(a, b, c),
                               3.095 * a * (b + c) - 6.19 * c + 21.14, rtol=1e-4)
    # a contrast sharing x0: 2.5*x0*(x1 - x2), the values of the terms apart
    contrast = round_constants(2.5 * x0 * x1 - 2.5 * x0 * x2 + x2 ** 3, 4)
    assert str(contrast) == "5*x0*(x1 - x2)/2 + x2**3"
    np.testing.assert_allclose(sympy.lambdify((x0, x1, x2), contrast, "numpy")(a, b, c),
                               2.5 * a * b - 2.5 * a * c + c ** 3, rtol=1e-12)
    many = sympy.symbols("y0:60", real=True)
    long_sum = round_constants(sum(1.5 * x0 * y for y in many) + 1, 4)  # past SHARED_FACTOR_NODES: x0 stays in
    assert "x0*y0" in str(long_sum) and "x0*(" not in str(long_sum)


def test_tenths_and_fifths_stay_decimals_and_other_simple_fractions_do_not():
    """7/10 and 4*z/5 were printed for 0.7 and 0.8*z; x/2, 3*x/8 and 1/3 of a unit still read as fractions."""
    x = sympy.Symbol("x")
    assert str(round_constants(sympy.Float(0.7) * x + sympy.Float(0.8), 4)) == "0.7*x + 0.8"
    assert str(round_constants(sympy.Float(0.2) * x - sympy.Float(0.5), 4)) == "0.2*x - 1/2"
    assert str(round_constants(sympy.Float(0.375) * x, 4)) == "3*x/8"
