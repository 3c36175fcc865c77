"""Tests that kill surviving mutants of srnet/formulas.py (mutmut): each one pins a behaviour the rest of the
suite left loose -- the exact error lines of a formula document, which tolerance display rounding gets,
the keys of a candidate's summary, the pole checks on known formulas, the live steps of a program, the
selection rules on hand-built candidates, and the least-squares oracle of the linear formula.
"""

import math

import numpy as np
import pytest
import sympy

from srnet.expr.program import Program
from srnet.formulas import (
    FAITHFUL_R2,
    POLE_TOLERANCE,
    R2_TOLERANCE,
    Candidate,
    Formula,
    linear_formula,
    select,
    singularities,
)

# ------------------------------------------------------------------ helpers


def one(steps, constants=(), outputs=None, weights=((1.0,),), intercept=(0.0,), n_inputs=1, source="direct-4"):
    """A one-program formula."""
    outputs = (n_inputs + len(constants) + len(steps) - 1,) if outputs is None else outputs
    return Formula(source, (Program(n_inputs, tuple(constants), tuple(steps), tuple(outputs),
                                    np.array(weights, dtype=float), np.array(intercept, dtype=float)),))


def regression(complexity, rmse, *, source="direct-8", poles=False, r2=None):
    """A regression candidate with only what selection reads (R^2 of a unit-variance target by default)."""
    r2 = (1.0 - rmse * rmse if math.isfinite(rmse) else -math.inf) if r2 is None else r2
    return Candidate(Formula(source, ()), [], complexity, {"domain": {"rmse": rmse, "r2": r2}},
                     ["step 1: the denominator of div crosses 0 inside the domain"] if poles else [])


# ------------------------------------------------------- formula documents


def test_a_formula_document_s_errors_name_the_formula_document():
    """malformed(..., "formula"): the line says which document is broken (a program's says "program")."""
    document = Formula("layerwise", (Program(1, (), (), (0,), [[1.0]], [0.0]),)).to_dict()
    with pytest.raises(ValueError) as excinfo:
        Formula.from_dict({**document, "programs": []})
    assert str(excinfo.value) == "malformed srnet formula: no programs"
    wide = Program(3, (), (("add", 0, 2),), (3,), [[1.0]], [0.0]).to_dict()
    with pytest.raises(ValueError) as excinfo:
        Formula.from_dict({**document, "programs": [document["programs"][0], wide]})
    assert str(excinfo.value) == "malformed srnet formula: program 2 reads 3 values but program 1 computes 1"


# ------------------------------------------------------------- display rounding

X_POINTS = {"x": np.linspace(0, 1, 16), "y": np.linspace(1, 2, 16)}
XY = sympy.symbols("x y", real=True)
NEAR_CANCELLING = sympy.Float(0.65677) * XY[0] + sympy.Float(0.682975) * XY[1] - sympy.Float(1.16242)


def shown_with(figures, *, decision=None, expressions=(NEAR_CANCELLING,)):
    return Candidate(Formula("direct-4", ()), list(expressions), 5, figures, [], X_POINTS, decision)


def test_a_formula_far_from_its_network_may_be_rounded_by_a_share_of_its_own_error():
    """RMSE 0.2: rounding may move it by 0.01, and 4 digits do (the exact formula needs 5: 0.68297)."""
    far = shown_with({"domain": {"rmse": 0.2, "r2": 0.5}})
    assert far._rounding_tolerances() == [pytest.approx(0.01)]
    assert far.display() == ["0.683*y + 0.6568*x - 1.162"]  # (y's term spreads a little more at the points)
    exact = shown_with({"domain": {"rmse": 0.0, "r2": 1.0}})
    assert exact._rounding_tolerances() == [0.0] and "0.68297*y" in exact.display()[0]


def test_rounding_tolerances_per_output_and_where_none_applies():
    two = (NEAR_CANCELLING, NEAR_CANCELLING)
    per_output = shown_with({"domain": {"rmse": 0.3, "r2": 0.5, "rmse_per_output": [0.2, 0.4]}}, expressions=two)
    assert per_output._rounding_tolerances() == [pytest.approx(0.01), pytest.approx(0.02)]
    pooled = shown_with({"domain": {"rmse": 0.3, "r2": 0.5}}, expressions=two)
    assert pooled._rounding_tolerances() == [pytest.approx(0.015)] * 2
    # a non-finite RMSE gives no licence to round
    assert shown_with({"domain": {"rmse": math.inf, "r2": -math.inf}})._rounding_tolerances() == [0.0]
    nan = shown_with({"domain": {"rmse": 0.3, "r2": 0.5, "rmse_per_output": [math.nan, 0.2]}}, expressions=two)
    assert nan._rounding_tolerances() == [0.0, pytest.approx(0.01)]
    # a classifier is judged by its classes: no tolerance; nor before it is measured
    classes = shown_with({"domain": {"rmse": 0.3, "r2": 0.5, "agreement": 0.9}})
    assert classes._rounding_tolerances() == [0.0]
    assert shown_with({})._rounding_tolerances() == [0.0]
    assert shown_with(None)._rounding_tolerances() == [0.0]
    assert shown_with({"rows": {"rmse": 0.3, "r2": 0.5}})._rounding_tolerances() == [0.0]


def test_a_classifier_s_decision_is_rounded_faithfully_with_no_tolerance():
    """The decision y1 - y0 is what decides the class: its digits that cancel are kept."""
    year = sympy.Symbol("year", real=True)
    decision = sympy.Float(0.12345678) * year - sympy.Float(248.12346)
    c = Candidate(Formula("direct-4", ()), [year, -year], 3, {"domain": {"rmse": 5.0, "r2": 0.0, "agreement": 0.8}},
                  [], {"year": np.linspace(2000, 2020, 16)}, decision)
    years = np.linspace(2000, 2020, 16)
    printed = sympy.lambdify(year, sympy.sympify(c.display_decision(), locals={"year": year}))(years)
    exact = 0.12345678 * years - 248.12346
    assert np.max(np.abs(printed - exact)) <= 1e-3 * np.std(exact)  # 4 digits (0.1235*year - 248.1) are not
    assert c.display() == ["year", "-year"]


def test_the_rounded_expressions_are_computed_once_for_display_and_anew_for_other_digits():
    c = shown_with({"domain": {"rmse": 0.0, "r2": 1.0}})
    sentinel = [sympy.Symbol("printed")]
    stored = Candidate(c.formula, c.expressions, c.complexity, c.figures, [], c.points, None, sentinel)
    assert stored.rounded() is sentinel and stored.display() == ["printed"]
    assert stored.rounded(2) != sentinel and str(stored.rounded(2)[0]).count(".") == 3


# ------------------------------------------------------------------ summary


def test_a_summary_holds_every_figure_a_report_prints():
    x = sympy.Symbol("x0", real=True)
    formula = one((("sin", 0, 0),))
    figures = {"domain": {"rmse": 0.25, "r2": 0.75}}
    poles = ["step 1: something"]
    c = Candidate(formula, [sympy.sin(x) + 2 * x], 6, figures, poles, None, None)
    assert c.summary() == {"source": "direct-4", "complexity": 6, "complexity_per_output": [6],
                           "figures": figures, "validation_agreement": None,
                           "expression": ["2*x0 + sin(x0)"], "decision": None,
                           "latex": [r"2 x_{0} + \sin{\left(x_{0} \right)}"], "singularities": poles,
                           "shared": None, "formula": formula.to_dict()}


def test_selection_helpers_are_importable():
    assert select([regression(3, 0.1)], "best").complexity == 3


# ------------------------------------------------------------- poles on known formulas

SPANNING = np.linspace(-1, 1, 101)[:, None] + 0.003  # 0 lies between two samples, on none


def test_a_denominator_that_comes_near_0_from_one_side_is_a_likely_pole_unless_it_cannot_be_0():
    """1/x on (0, 2] never changes sign but nearly vanishes; 1/(1.0 exp(10x)) and 1/exp(5x)^2 do as well and can
    never be 0 (products and powers of exp and nonzero constants): their smallness is the formula's."""
    near = np.linspace(1e-6, 2, 200)[:, None]
    inverse = one((("div", 1, 0),), constants=(1.0,))
    assert singularities(inverse, near) == ["step 1: the denominator of div comes within 0.001 of its typical size "
                                            "to 0 inside the domain (a likely pole)"]
    scaled_exp = one((("mul", 0, 2), ("exp", 3, 0), ("mul", 4, 1), ("div", 1, 5)), constants=(1.0, 10.0))
    np.testing.assert_allclose(scaled_exp(SPANNING)[:, 0], np.exp(-10 * SPANNING[:, 0]), rtol=1e-12)
    assert singularities(scaled_exp, SPANNING) == []
    squared_exp = one((("mul", 0, 2), ("exp", 3, 0), ("square", 4, 0), ("div", 1, 5)), constants=(1.0, 5.0))
    assert singularities(squared_exp, SPANNING) == []
    # the same product with an input that may be 0 is not exempt: x+2 on [-1, 1] is never 0, but mul keeps
    # only the never-zero of its arguments
    with_input = one((("mul", 0, 2), ("exp", 3, 0), ("add", 0, 2), ("mul", 4, 5), ("div", 1, 6)),
                     constants=(1.0, 10.0))
    assert singularities(with_input, SPANNING) == ["step 5: the denominator of div comes within 0.001 of its "
                                                   "typical size to 0 inside the domain (a likely pole)"]


def test_tan_s_pole_is_named_and_a_pole_behind_sqrt_is_found_for_values_below_1():
    assert singularities(unary_formula("tan"), 2 * SPANNING) == [
        "step 1: the argument of tan reaches an odd multiple of pi/2 inside the domain"]
    X = np.random.default_rng(0).uniform(-0.9, 0.9, (2000, 1))  # |x| < 1: sqrt|x| below 1 on both sides of 0
    formula = one((("sqrt", 0, 0), ("div", 1, 2)), constants=(1.0,))
    assert singularities(formula, X) == ["step 2: the denominator of div reaches 0 inside the domain (where the "
                                         "value it is a power or |.| of crosses 0)"]


def unary_formula(name):
    return one(((name, 0, 0),))


def test_a_denominator_at_exactly_the_protection_threshold_fires_the_protection():
    """The protected div answers 1 where |b| <= PROTECTION_EPS: those points are counted."""
    from srnet.cgp.primitives import PROTECTION_EPS, primitive

    b = np.r_[np.full(5, PROTECTION_EPS), np.linspace(0.5, 2, 45)]
    assert np.all(primitive("div").numpy(np.full(50, 3.0), b)[:5] == 1.0)
    X = np.column_stack([b, np.linspace(1, 2, 50)])
    quotient = one((("div", 1, 0),), n_inputs=2)
    assert singularities(quotient, X) == ["step 1: the denominator of div is within 1e-10 of 0 at 5 of 50 points, where the "
                                          "protected div gives 1 (the formula as printed is undefined or far from it there)"]


# --------------------------------------------------------- removable or not: the quotient test


def test_a_quotient_blows_up_where_it_is_far_larger_near_the_zero_of_its_denominator():
    from srnet.formulas import _quotient_blows_up

    b = np.linspace(-1, 1, 101) + 0.003
    assert not _quotient_blows_up(b.copy(), b)  # x/x
    assert _quotient_blows_up(np.ones_like(b), b)  # 1/x
    # non-finite points are left out: a NaN numerator at the point nearest 0 does not make x/x a pole
    nan_near_zero = b.copy()
    nan_near_zero[np.argmin(np.abs(b))] = np.nan
    assert not _quotient_blows_up(nan_near_zero, b)
    # only the points nearest the zero of b count: a large quotient far from it is no pole
    far = b.copy()
    far[-1] = 100 * b[-1]
    assert not _quotient_blows_up(far, b)
    # an exact zero in b is read as the smallest positive number: 0/0 is 0, not NaN
    zero = np.linspace(-1, 1, 101)
    assert zero[50] == 0.0 and not _quotient_blows_up(zero.copy(), zero)
    assert _quotient_blows_up(np.ones(101), zero)


def test_a_quotient_test_needs_two_finite_points():
    from srnet.formulas import _quotient_blows_up

    assert _quotient_blows_up(np.array([1.0, np.nan]), np.array([1.0, 2.0]))  # one point: assume a pole
    assert not _quotient_blows_up(np.array([1.0, 2.0]), np.array([1.0, 2.0]))  # two: 1, 1
    assert not _quotient_blows_up(np.array([1.0, 2.0, np.inf]), np.array([1.0, 2.0, 3.0]))


def test_the_quotient_test_reads_the_nearest_two_percent_and_ten_times_the_median():
    from srnet.formulas import _quotient_blows_up

    # 60 points: the single nearest point is the 2 %; the second nearest's large quotient is not read
    b = np.r_[0.01, 0.02, np.linspace(0.5, 1, 58)]
    a = b.copy()
    a[1] = 100 * b[1]
    assert not _quotient_blows_up(a, b)
    # 100 points: the two nearest are read
    b = np.r_[0.01, 0.02, np.linspace(0.5, 1, 98)]
    a = b.copy()
    a[1] = 100 * b[1]
    assert _quotient_blows_up(a, b)
    # exactly ten times the median is bounded; the median is 2 here, so 10 is well within 20
    b = np.r_[0.5, np.ones(59)]
    assert not _quotient_blows_up(np.r_[5.0, np.ones(59)], b)  # quotient 10, median 1
    assert _quotient_blows_up(np.r_[5.5, np.ones(59)], b)  # 11
    assert not _quotient_blows_up(np.r_[5.0, np.full(59, 2.0)], b)  # 10 against a median of 2
    # a small typical quotient: 1e-3 near the zero is 100 times a median of 1e-5
    assert _quotient_blows_up(np.r_[1e-3 * 0.5, np.full(59, 1e-5)], b)


def test_touching_zero_is_below_a_thousandth_of_the_median_magnitude():
    from srnet.formulas import _touches_zero

    assert not _touches_zero(np.array([np.nan, np.inf]))  # nothing finite: nothing to say
    assert not _touches_zero(np.r_[1e-3, np.ones(9)])  # exactly a thousandth: not below
    assert _touches_zero(np.r_[0.99e-3, np.ones(9)])
    assert _touches_zero(np.r_[0.05, np.full(9, 100.0)])  # 0.05 < 0.1 = 1e-3 * 100
    assert not _touches_zero(np.r_[0.2, np.full(9, 100.0)])
    assert not _touches_zero(np.zeros(5))


# ------------------------------------------------------------------ selection on its boundaries


def classes(complexity, agreement):
    return Candidate(Formula("direct-8", ()), [], complexity,
                     {"domain": {"rmse": 1.0 - agreement, "r2": agreement, "agreement": agreement,
                                 "probability_rmse": 1.0 - agreement}}, [])


def test_select_s_default_rule_is_best_and_its_errors_are_exact_lines():
    small, large = regression(5, 0.05), regression(60, 0.049)  # R^2 0.9975 and 0.9976: "best" is the simpler
    assert select([small, large]) is select([small, large], "best") is small
    assert select([small, large], "accurate") is large
    with pytest.raises(ValueError) as excinfo:
        select([small], "fastest")
    assert str(excinfo.value) == ("unknown select 'fastest'; valid: best, accurate, layerwise or a complexity cap "
                                  "(int)")
    with pytest.raises(ValueError) as excinfo:
        select([], "best")
    assert str(excinfo.value) == "no formula to select from"
    with pytest.raises(ValueError) as excinfo:
        select([small], "layerwise")
    assert str(excinfo.value) == "select='layerwise' needs the layer-wise formula among the candidates"


def test_a_classifier_exactly_at_the_agreement_tolerance_is_within_it():
    from srnet.formulas import AGREEMENT_TOLERANCE

    top = classes(40, 0.75)
    edge = classes(10, 0.75 - AGREEMENT_TOLERANCE)  # the same float the rule computes
    assert select([edge, top], "best") is edge
    assert select([classes(10, np.nextafter(0.75 - AGREEMENT_TOLERANCE, 0)), top], "best") is top


def test_a_formula_exactly_at_the_r2_tolerance_is_among_the_good_ones():
    edge = regression(5, 0.1, r2=0.999 - R2_TOLERANCE)
    top = regression(100, 0.0999, r2=0.999)  # a hair more accurate, 95 nodes more: not worth it
    assert select([edge, top], "best") is edge
    below = regression(5, 0.1, r2=np.nextafter(0.999 - R2_TOLERANCE, 0))
    assert select([below, top], "best") is top


def test_faithful_starts_at_exactly_faithful_r2():
    """R^2 exactly FAITHFUL_R2 is faithful: the simplest good formula, not the most accurate readable one."""
    faithful_big = regression(100, 0.1, r2=FAITHFUL_R2)
    crude = regression(5, 0.5, r2=0.5)
    assert select([crude, faithful_big], "best") is faithful_big
    below = regression(100, 0.1, r2=np.nextafter(FAITHFUL_R2, 0))
    assert select([crude, below], "best") is crude  # nothing faithful: the most accurate readable one


def test_four_nines_and_exact_are_inclusive_thresholds():
    from srnet.formulas import ENOUGH_R2, EXACT_R2

    # chosen exactly at ENOUGH_R2: a decade of MSE is worth only NODES_PER_DECADE_BEYOND = 5 nodes
    at_enough = regression(10, 1e-2, r2=ENOUGH_R2)
    better = regression(30, 1e-3, r2=0.99995)  # two decades of MSE for 20 more nodes: 10 < 20
    assert select([at_enough, better], "best") is at_enough
    below_enough = regression(10, 1e-2, r2=np.nextafter(ENOUGH_R2, 0))
    assert select([below_enough, better], "best") is better  # 30 >= 20
    # a larger formula exactly at EXACT_R2 is exact: NODES_PER_DECADE = 15 again
    chosen = regression(10, 1e-2, r2=0.99995)
    exact = regression(30, 1e-3, r2=EXACT_R2)
    assert select([chosen, exact], "best") is exact
    assert select([chosen, regression(30, 1e-3, r2=np.nextafter(EXACT_R2, 0))], "best") is chosen


def test_a_pole_free_formula_exactly_pole_tolerance_behind_is_close_enough():
    pole = regression(10, 0.1, r2=0.9, poles=True)
    pole_free = regression(10, 0.3, r2=0.9 - POLE_TOLERANCE)
    assert select([pole, pole_free], "accurate") is pole_free
    assert select([pole, regression(10, 0.3, r2=np.nextafter(0.9 - POLE_TOLERANCE, 0))], "accurate") is pole


# ------------------------------------------------------------------ the linear formula


def least_squares(X, Y):
    design = np.column_stack([X, np.ones(len(X))])
    return design @ np.linalg.lstsq(design, Y, rcond=None)[0]


def test_the_linear_formula_does_not_depend_on_the_units_of_an_input():
    """The ridge is relative to each input's spread: an input in micro-units (spread 1e-6) is fitted as well."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(200, 3))
    Y = X @ [1.0, -2.0, 0.5] + 0.3 * np.sin(X[:, 0]) + 1.0
    for scale in ([1.0, 1.0, 1.0], [1e-6, 1.0, 1.0], [1e-6, 1e-6, 1e-6], [1e6, 1.0, 1e-3]):
        scaled = X * scale
        np.testing.assert_allclose(linear_formula(scaled, Y)(scaled)[:, 0], least_squares(scaled, Y),
                                   rtol=1e-8, atol=1e-8)


def test_the_linear_formula_of_float32_inputs_is_solved_in_float64():
    rng = np.random.default_rng(4)
    X32 = (rng.normal(size=(300, 2)) + [1000.0, -300.0]).astype(np.float32)
    Y = X32.astype(np.float64) @ [0.5, 2.0] + 0.01 * rng.normal(size=300)
    single, double = linear_formula(X32, Y), linear_formula(X32.astype(np.float64), Y)
    np.testing.assert_allclose(single.programs[0].weights, double.programs[0].weights, rtol=1e-12, atol=0)
    np.testing.assert_allclose(single.programs[0].intercept, double.programs[0].intercept, rtol=1e-12, atol=0)


def test_the_network_s_linear_formula():
    from srnet.formulas import network_linear_formula

    rng = np.random.default_rng(5)
    X = rng.normal(size=(150, 3))
    Y = np.column_stack([X @ [1.0, 2.0, -1.0] + 0.5, np.cos(X[:, 1])])
    # regression: the least-squares affine map of every output (two outputs are not two logits)
    regression_formula = network_linear_formula(X, Y)
    assert regression_formula.source == "linear" and regression_formula.n_targets == 2
    np.testing.assert_allclose(regression_formula(X), least_squares(X, Y), rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(network_linear_formula(X, Y[:, 0])(X)[:, 0], least_squares(X, Y[:, 0]), rtol=1e-8,
                               atol=1e-8)
    # a binary classifier: the difference of its float32 logits, taken in float64, as -d/2 and d/2
    logits32 = np.column_stack([0.1 + 0.01 * X[:, 0], 1000.0 + X @ [0.3, -0.2, 0.1]]).astype(np.float32)
    d = logits32[:, 1].astype(np.float64) - logits32[:, 0].astype(np.float64)
    binary = network_linear_formula(X, logits32, classification=True)
    expected = least_squares(X, d)
    np.testing.assert_allclose(binary(X), np.column_stack([-expected / 2, expected / 2]), rtol=1e-12, atol=1e-9)
    # three classes: each logit its own affine map
    three = np.column_stack([Y, -Y[:, 0]])
    np.testing.assert_allclose(network_linear_formula(X, three, classification=True)(X), least_squares(X, three),
                               rtol=1e-8, atol=1e-8)


def test_a_lift_keeps_the_inputs_whose_weight_times_spread_is_largest_the_first_on_ties():
    from srnet.formulas import LIFT_INPUTS, _lift

    n = 12
    X = np.random.default_rng(6).normal(size=(50, 1)) * np.arange(1, n + 1)  # input i spreads (i + 1) times
    linear = Program(n, (), (), tuple(range(n)), np.ones((n, 1)), np.zeros(1))
    kept = [int(np.flatnonzero(col)[0]) for col in _lift(linear, X).weights[:, :LIFT_INPUTS].T]
    assert kept == list(range(2, n))  # the two of least spread go
    # ties (equal spreads, weights 0, 1, 2): the first inputs of each influence are kept
    influence = [1.0, 0.0, 0.0, 0.0, 0.0, 2.0, 1.0, 1.0, 0.0, 1.0, 2.0, 1.0, 1.0, 2.0, 2.0, 2.0, 1.0, 2.0, 2.0, 1.0]
    n = len(influence)
    same = np.repeat(np.random.default_rng(7).normal(size=(40, 1)), n, axis=1)
    linear = Program(n, (), (), tuple(range(n)), np.array(influence)[:, None], np.zeros(1))
    lift = _lift(linear, same)
    kept = [int(np.flatnonzero(col)[0]) for col in lift.weights[:, :LIFT_INPUTS].T]
    twos = [i for i, w in enumerate(influence) if w == 2.0]
    ones = [i for i, w in enumerate(influence) if w == 1.0]
    assert kept == sorted(twos + ones[: LIFT_INPUTS - len(twos)])
    # then the logits themselves
    np.testing.assert_allclose(lift(same)[:, -1], same @ np.array(influence), rtol=1e-12)


# ------------------------------------------------------------------ candidates and composed expressions


def test_a_candidate_is_measured_as_what_it_is_and_keeps_what_it_printed():
    from srnet.formulas import candidate

    x = sympy.symbols("x0:1", real=True)
    X = np.linspace(-2, 2, 40)[:, None]
    identity = one((("sin", 0, 0), ("square", 1, 0), ("cos", 0, 0), ("square", 3, 0), ("add", 2, 4)))
    np.testing.assert_allclose(identity(X), 1.0, rtol=1e-12)
    c = candidate(identity, x, {"domain": (X, np.ones((40, 1)))}, X, classification=False, simplify_seconds=0)
    assert c.shown is not None and c.shown == c.rounded() and c.display() == [str(c.shown[0])]
    assert c.expressions[0].has(sympy.sin)  # no time to simplify: sin^2 + cos^2 as composed
    assert c.complexity == sum(len(list(sympy.preorder_traversal(e))) for e in c.shown)
    assert "agreement" not in c.figures["domain"] and c.singularities == []
    two = Formula("direct-4", (Program(1, (), (("sin", 0, 0),), (0, 1), [[1.0, 0.0], [0.0, 1.0]], [0.0, 0.0]),))
    logits = np.column_stack([X[:, 0], np.sin(X[:, 0])])
    c = candidate(two, x, {"domain": (X, logits[:, ::-1])}, X, classification=True, simplify_seconds=0)
    want = np.mean(logits.argmax(axis=1) == logits[:, ::-1].argmax(axis=1))
    assert c.figures["domain"]["agreement"] == pytest.approx(want) and c.validation_agreement < 0.5


class _Expired(BaseException):
    pass


def test_a_chain_whose_composition_times_out_is_put_together_as_is(monkeypatch):
    """The fall-back: each program built on real placeholders, then the placeholders replaced unevaluated."""
    import srnet.formulas as formulas

    composing, real_to_sympy = [False], formulas.to_sympy

    def to_sympy(*args):
        if composing[0]:
            raise _Expired
        return real_to_sympy(*args)

    class expired_at_once:
        def __init__(self, seconds):
            pass

        def __enter__(self):
            composing[0] = True
            return self

        def __exit__(self, kind, *rest):
            composing[0] = False
            return kind is _Expired

    first = Program(2, (), (("add", 0, 1),), (2,), [[1.0]], [0.0])
    second = Program(1, (), (("square", 0, 0), ("log", 1, 0), ("add", 0, 0)), (2, 3), [[1.0], [1.0]], [0.0])
    chain = Formula("layerwise", (first, second))
    x = sympy.symbols("x0:2", real=True)
    assert [str(e) for e in chain.expressions(x)] == ["2*x0 + 2*x1 + log((x0 + x1)**2)"]
    monkeypatch.setattr(formulas, "to_sympy", to_sympy)
    monkeypatch.setattr(formulas, "time_limit", expired_at_once)
    (built,) = chain.expressions(x)
    assert str(built) == "2*(x0 + x1) + log((x0 + x1)**2)"  # not distributed, and a real square needs no |.|
    assert built.free_symbols == set(x)
    X = np.random.default_rng(8).normal(size=(20, 2))
    np.testing.assert_allclose(sympy.lambdify(x, built)(*X.T), chain(X)[:, 0], rtol=1e-12)
    # a division by a dead unit (exactly 0) still reads the protected 1
    dead = Formula("layerwise", (Program(2, (0.0,), (("mul", 0, 2),), (3, 0), [[1.0, 0.0], [0.0, 1.0]], [0.0, 0.0]),
                                 Program(2, (), (("div", 1, 0),), (2,), [[1.0]], [0.0])))
    assert dead.expressions(x) == [1]


# ------------------------------------------------------------------ direct searches


def recorded_direct_formulas(monkeypatch, X, Y, stop_reason=None, **options):
    import importlib
    from dataclasses import replace

    from srnet.cgp.genome import DEFAULT_CONSTANT_POOL
    from srnet.formulas import direct_formulas

    engine = importlib.import_module("srnet.cgp.evolve")
    calls, real_evolve = [], engine.evolve

    def recording_evolve(spec, X_rows, Y_rows, **kwargs):
        calls.append((spec, kwargs))
        result = real_evolve(spec, X_rows, Y_rows, **kwargs)
        return result if stop_reason is None else replace(result, stop_reason=stop_reason)

    monkeypatch.setattr(engine, "evolve", recording_evolve)
    settings = dict(functions=("add", "mul", "sin"), n_constants=2, constant_pool=(1.0, 2.0, 3.0),
                    max_evaluations=200, random_state=5, n_threads=1)
    assert set(options) <= {"functions", "n_constants", "constant_pool", "max_evaluations", "max_seconds",
                            "random_state", "n_threads", "progress", "classification"}
    settings.update(options)
    return direct_formulas(X, Y, **settings), calls, DEFAULT_CONSTANT_POOL


def test_each_direct_search_is_the_one_row_search_of_its_size_with_the_caller_s_settings(monkeypatch):
    from srnet.cgp.evolve import DEFAULT_MUTATION
    from srnet.formulas import DIRECT_SIZES

    rng = np.random.default_rng(9)
    X = rng.normal(size=(40, 2))
    Y = np.column_stack([np.sin(X[:, 0]) + 3.0, 10 * X[:, 1] * X[:, 0]])  # two outputs of unequal spread and mean
    formulas, calls, _ = recorded_direct_formulas(monkeypatch, X, Y)
    assert [f.source for f in formulas] == ["linear"] + [f"direct-{size}" for size in DIRECT_SIZES]
    for f in formulas:  # regression: one program of the inputs, one column per output
        assert len(f.programs) == 1 and f.n_targets == 2 and f(X).shape == (40, 2)
    total = sum(DIRECT_SIZES)
    for k, (size, (spec, kwargs)) in enumerate(zip(DIRECT_SIZES, calls)):
        assert (spec.n_inputs, spec.n_outputs, spec.n_rows, spec.n_columns) == (2, 2, 1, size)
        assert (spec.functions, spec.n_constants, spec.constant_pool) == (("add", "mul", "sin"), 2, (1.0, 2.0, 3.0))
        assert kwargs["fitness"] == "scaled" and kwargs["n_offspring"] == 4 and kwargs["mutation"] == DEFAULT_MUTATION
        assert kwargs["max_evaluations"] == max(1, int(200 * size / total)) and kwargs["max_seconds"] is None
        assert kwargs["target_fitness"] == pytest.approx(1e-14 * float(np.mean(Y.var(axis=0))), rel=1e-12, abs=0)
        assert kwargs["restart_after"] is None and kwargs["random_state"] == [5, k]
        assert kwargs["n_threads"] == 1 and kwargs["callback"] is None
    # each search's formula is linearly scaled onto the outputs: never worse than the constant mean
    for f in formulas[1:]:
        assert np.all(np.mean((f(X) - Y) ** 2, axis=0) <= Y.var(axis=0) * (1 + 1e-9))


def test_a_seconds_budget_is_shared_by_size_and_a_tiny_evaluation_budget_gives_each_search_one(monkeypatch):
    from srnet.formulas import DIRECT_SIZES

    X = np.random.default_rng(10).normal(size=(30, 1))
    _, calls, _ = recorded_direct_formulas(monkeypatch, X, np.sin(X), max_evaluations=None, max_seconds=0.6,
                                           random_state=None)
    # each search runs to the end of its share of one clock (the exact shares: tests/test_leftovers_budget.py)
    ends = np.cumsum(DIRECT_SIZES) / sum(DIRECT_SIZES) * 0.6
    for end, (_, kwargs) in zip(ends, calls):
        assert 0 < kwargs["max_seconds"] <= end
        assert kwargs["max_evaluations"] is None and kwargs["random_state"] is None
    _, calls, _ = recorded_direct_formulas(monkeypatch, X, np.sin(X), max_evaluations=1)
    assert [kwargs["max_evaluations"] for _, kwargs in calls] == [1] * len(DIRECT_SIZES)


@pytest.mark.parametrize("stop_reason", ["interrupted", "callback"])
def test_an_interrupted_or_finished_search_ends_the_direct_searches_with_what_it_has(monkeypatch, stop_reason):
    X = np.random.default_rng(11).normal(size=(30, 1))
    formulas, calls, _ = recorded_direct_formulas(monkeypatch, X, np.sin(X), stop_reason=stop_reason)
    assert len(calls) == 1 and [f.source for f in formulas] == ["linear", "direct-4"]


def test_a_progress_callback_reaches_every_search_and_can_end_them(monkeypatch):
    X = np.random.default_rng(12).normal(size=(30, 1))
    seen = []

    def progress(report):
        seen.append(report)
        return True  # the caller asks to finish

    formulas, calls, _ = recorded_direct_formulas(monkeypatch, X, np.sin(X), progress=progress)
    assert calls[0][1]["callback"] is progress and seen
    assert [f.source for f in formulas] == ["linear", "direct-4"]


# ------------------------------------------------------------------ refinement


def test_refinement_weighs_each_output_by_its_own_scale():
    """y0 = 1000 sin(x), y1 = 0.001 sin(2x), one shared frequency c in sin(c x): each output counts by its own
    variance, so c settles between 1 and 2 where the two relative errors balance (oracle: the normalised loss
    over a grid of c, each output's weight and intercept by least squares), not at y0's 1."""
    from srnet.formulas import refine

    def formula(c):
        return Formula("direct-4", (Program(1, (c,), (("mul", 0, 1), ("sin", 2, 0)), (3,), [[1.0, 1e-6]],
                                            [0.0, 0.0]),))

    def target(X):
        return np.column_stack([1000 * np.sin(X[:, 0]), 0.001 * np.sin(2 * X[:, 0])])

    rng = np.random.default_rng(0)
    X, X_valid = rng.uniform(-2, 2, (200, 1)), rng.uniform(-2, 2, (100, 1))
    Y = target(X)

    def loss(c):
        design = np.column_stack([np.sin(c * X[:, 0]), np.ones(len(X))])
        return sum(np.linalg.lstsq(design, Y[:, j], rcond=None)[1][0] / len(X) / Y[:, j].var() for j in range(2))

    grid = np.arange(1.0, 2.0, 1e-4)
    best = grid[np.argmin([loss(c) for c in grid])]
    assert 1.3 < best < 1.9
    refined = refine(formula(1.5), X, Y, X_valid, target(X_valid))
    assert refined is not None and refined.programs[0].constants[0] == pytest.approx(best, abs=2e-4)


def test_linear_formula_of_timestamps_is_the_least_squares_slope():
    """Unix timestamps over one hour vary by 2e-7 of their size: far above rounding, but the ridge's size
    term (1e-12 of the squared mean) shrank their slope to 0.00027 of 0.001."""
    t = 1.7e9 + np.random.default_rng(0).uniform(0, 3600, 500)
    formula = linear_formula(t[:, None], 0.001 * (t - 1.7e9))
    assert formula.programs[0].weights[0, 0] == pytest.approx(0.001, rel=1e-6)
    assert np.max(np.abs(formula(t[:, None])[:, 0] - 0.001 * (t - 1.7e9))) < 1e-3
