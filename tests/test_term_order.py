"""Sums printed with their terms largest spread first (srnet.expr.symbolic.by_spread, printed(points=...)):
what moves a formula most is what a person reads first, numbers last."""

import numpy as np
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from srnet.expr.symbolic import SPREAD_ORDER_MAX_NODES, by_spread, printed, values_at
from srnet.formulas import Candidate, _with_parts

x, y, z = sympy.symbols("x y z", real=True)
RNG = np.random.default_rng(0)
POINTS = {"x": RNG.uniform(-1, 1, 16), "y": RNG.uniform(-10, 10, 16), "z": RNG.uniform(1, 3, 16)}


def test_the_widest_term_comes_first_and_the_number_last():
    expr = 0.5 * x + 0.3 * y + 2.0  # y spreads about 30x more than x at the points
    assert printed(expr) == "0.5*x + 0.3*y + 2.0"  # sympy's order, without points
    assert printed(expr, points=POINTS) == "0.3*y + 0.5*x + 2.0"
    # sympy put a number between two terms: it goes last
    assert printed(3 * sympy.sin(x) - 0.5 + y / z, points=POINTS) == "y/z + 3*sin(x) - 0.5"


def test_nested_sums_are_ordered_each_by_its_own_terms():
    expr = sympy.sin(0.01 * x + 2 * y) * 4 + 1
    assert printed(expr, points=POINTS) == "4*sin(2*y + 0.01*x) + 1"


def test_latex_is_ordered_as_the_text():
    text = printed(0.5 * x + 0.3 * y + 2.0, latex=True, points=POINTS)
    assert text.index("y") < text.index("x")


def test_a_sum_reading_a_symbol_without_values_keeps_sympys_order():
    u = sympy.Symbol("u1", real=True)
    assert printed(0.5 * x + 0.3 * u + 2.0, points=POINTS) == printed(0.5 * x + 0.3 * u + 2.0)


def test_a_formula_past_the_cap_is_printed_as_sympy_orders_it():
    big = sum(sympy.Float(k + 1) * sympy.sin(x + k) for k in range(SPREAD_ORDER_MAX_NODES // 4))
    assert printed(0.1 * x + big, points=POINTS) == printed(0.1 * x + big)


def test_an_undefined_term_is_read_first():
    # log|x - 2| is defined at every point; 1/(x - x) would be NaN: its spread is unknown, so it is not hidden last
    expr = 0.5 * y + sympy.log(sympy.Abs(z - z + x - 5)) + sympy.sqrt(x - 2)
    assert printed(expr, points=POINTS).startswith("sqrt(x - 2)")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-100, 100, allow_nan=False).filter(lambda c: abs(c) > 1e-3), min_size=3, max_size=3),
       st.floats(-100, 100, allow_nan=False))
def test_the_ordered_formula_is_the_same_formula_and_reads_by_spread(weights, intercept):
    terms = [weights[0] * x, weights[1] * y ** 2, weights[2] * sympy.cos(z)]
    expr = sympy.Add(*terms) + intercept
    ordered = by_spread(expr, POINTS)
    np.testing.assert_allclose(values_at(ordered, POINTS, 16), values_at(expr, POINTS, 16), rtol=1e-12, atol=1e-9)
    spreads = [float(np.std(values_at(t, POINTS, 16))) for t in ordered.args if not t.is_number]
    assert spreads == sorted(spreads, reverse=True)
    assert all(not t.is_number for t in ordered.args[:len(spreads)])  # a number is the last term, if any


def test_named_parts_get_values_so_the_sums_reading_them_are_ordered():
    u1, u2 = sympy.symbols("u1 u2", real=True)
    named = [(u2, 5 * u1 + 1), (u1, x + y)]  # u2 reads u1: u1 first
    points = _with_parts(POINTS, named)
    np.testing.assert_allclose(points["u1"], POINTS["x"] + POINTS["y"])
    np.testing.assert_allclose(points["u2"], 5 * (POINTS["x"] + POINTS["y"]) + 1)
    assert _with_parts(None, named) is None


def test_a_candidate_displays_its_terms_by_spread():
    candidate = Candidate(formula=None, expressions=[0.5 * x + 0.3 * y + 2.0], complexity=7, figures={},
                          singularities=[], points=POINTS)
    assert candidate.display() == ["0.3*y + x/2 + 2"]  # (display rounding writes 0.5 as 1/2)
    assert candidate.latex()[0].index("y") < candidate.latex()[0].index("x")


def test_ordering_that_runs_out_of_time_prints_in_stored_order_at_once_from_then_on(monkeypatch):
    """Ordering by spread runs under the printer's time limit and memo, as sympy's ordering does: past the limit
    the formula is printed in stored order, and the next print does not wait again (a candidate is printed as text,
    as LaTeX and in the summary)."""
    import srnet.expr.symbolic as symbolic

    calls = []

    def stalls(expr, points):
        calls.append(expr)
        while True:
            pass

    monkeypatch.setattr(symbolic, "by_spread", stalls)
    monkeypatch.setattr(symbolic, "PRINT_SECONDS", 0.05)
    monkeypatch.setattr(symbolic, "_SLOW_TO_ORDER", {})
    expr = 0.5 * x + 0.3 * y + 2.0
    assert printed(expr, points=POINTS) == sympy.sstr(expr, order="none")
    assert printed(expr, points=POINTS, latex=True) == sympy.latex(expr, order="none") and len(calls) == 1


def test_terms_past_float64s_squares_are_still_ordered_and_warn_of_nothing():
    """np.std of values near 1e160 overflowed: a RuntimeWarning, and every such term tied at an infinite spread."""
    import warnings

    points = {"x": np.linspace(-1, 1, 16), "y": np.linspace(-10, 10, 16)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert printed(1e160 * x + 1e170 * y, points=points) == "1.0e+170*y + 1.0e+160*x"


def test_products_read_as_sympy_orders_them_and_a_piecewise_prints():
    """order="none" throughout turned exp(x0)*cos(x1) round; a Piecewise's condition pairs took no evaluate=False."""
    points = {"x": POINTS["x"], "y": POINTS["y"], "z": POINTS["z"]}
    for expr in (sympy.exp(x) * sympy.cos(y), z * sympy.exp(x) * sympy.cos(y)):
        assert printed(expr, points=points) == printed(expr)
        assert printed(expr, latex=True, points=points) == printed(expr, latex=True)
    assert printed(z * sympy.exp(x) * (0.1 * x + y), points=points) == "z*(y + 0.1*x)*exp(x)"
    piecewise = sympy.Piecewise((x + y, x > 0), (y, True))
    assert printed(piecewise, points=points) == printed(piecewise)


def test_report_jsons_exact_formulas_read_by_spread_as_the_printed_ones():
    """expression_exact and layerwise_expression kept sympy's order beside an "expression" read by spread."""
    import torch

    from srnet import SRNet

    torch.manual_seed(0)
    X = np.random.default_rng(0).uniform(-1, 1, size=(80, 2)) * np.array([1.0, 10.0])
    net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)).double()
    model = SRNet(max_seconds=None, max_generations=5, random_state=0, simplify_seconds=0, direct_budget=0).fit(net, X)
    report = model.report()
    points = model._input_points
    assert report["expression_exact"] == printed(model.expression_, points=points)
    layerwise = model._layerwise_list()
    assert report["layerwise_expression"] == printed(layerwise[0], points=points)


def test_layer_latex_reads_the_constants_and_order_of_the_layer_text():
    """report.json's layer LaTeX was rounded by round_constants, in sympy's order, beside a text rounded
    faithfully at the points and read by spread: the two could disagree in a constant and in order."""
    import re

    import torch

    from srnet import SRNet

    torch.manual_seed(0)
    X = np.random.default_rng(0).uniform(-1, 1, size=(80, 2)) * np.array([1.0, 10.0])
    net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)).double()
    model = SRNet(max_seconds=None, max_generations=40, random_state=1, simplify_seconds=0, direct_budget=0).fit(net, X)
    layer = model.report()["layers"][0]  # [tanh(x1 - 1.5574)**2, x1, tanh(x1)]; its LaTeX read 1.557
    numbers = re.compile(r"\d+\.\d+")
    assert numbers.findall(layer["latex"]) == numbers.findall(layer["expression"])
    inputs = re.compile(r"x_?\{?([01])")
    assert inputs.findall(layer["latex"]) == inputs.findall(layer["expression"])
