"""Expression edge cases found reviewing srnet.expr and srnet.formulas (each test failed on the code before its fix)."""

import numpy as np
import pytest
import sympy

import srnet.formulas as formulas
from srnet.expr.program import Program
from srnet.expr.symbolic import make_symbols, to_sympy
from srnet.formulas import Formula, singularities


def _value(expr, symbols, row):
    return complex(expr.xreplace(dict(zip(symbols, (sympy.Float(v) for v in row)))).evalf())


def test_a_stalled_composition_still_protects_a_division_by_a_dead_unit(monkeypatch):
    """Formula.expressions' fallback (composition past COMPOSE_SECONDS) substituted the previous layer's
    values unevaluated: a dead unit (exactly 0) read as x0/0 where the program's protected div gives 1."""
    # layer 1: h0 = x0, h1 = 0 (a dead unit); layer 2: div(h0, h1), protected: 1 everywhere
    first = Program(1, (), (), (0,), [[1.0, 0.0]], [0.0, 0.0])
    second = Program(2, (), (("div", 0, 1),), (2,), [[1.0]], [0.0])
    formula = Formula("layerwise", (first, second))
    symbols = make_symbols(1)
    assert formula.expressions(symbols) == [1]  # built with evaluation, it reads 1

    class Stalls:  # a time limit that has always run out (the block stops at its first step)
        def __init__(self, seconds):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return True

    calls = []

    def stalling_to_sympy(program, values):
        calls.append(program)
        if len(calls) == 1:
            raise RuntimeError("stands for the time limit firing")
        return to_sympy(program, values)

    monkeypatch.setattr(formulas, "time_limit", Stalls)
    monkeypatch.setattr(formulas, "to_sympy", stalling_to_sympy)
    (expr,) = formula.expressions(symbols)
    np.testing.assert_allclose(formula(np.array([[2.0]]))[:, 0], [1.0])
    assert _value(expr, symbols, [2.0]) == 1


def test_integer_valued_constants_beyond_float_precision_compute_what_the_program_computes():
    """raw_sympy made every integer-valued constant an exact sympy Integer, so constant arithmetic past 2**53
    was exact in the formula and rounded in the program: (1e16 + 1) - 1e16 - 1 is -1 in float64, 0 in the
    formula, whose protected division then printed 1 where the program computes -x."""
    program = Program(1, (1e16, 1.0), (("add", 1, 2), ("sub", 3, 1), ("sub", 4, 2), ("div", 0, 5)), (6,),
                      [[1.0]], [0.0])
    symbols = make_symbols(1)
    (expr,) = to_sympy(program, symbols)
    X = np.array([[3.0], [-0.5]])
    expected = program(X)
    np.testing.assert_allclose([_value(expr, symbols, row).real for row in X], expected, rtol=1e-12)


def test_a_never_vanishing_exponential_is_not_reported_as_a_pole():
    """x/exp(10x) and log(exp(10x)) are smooth on [-1, 1] (exp never vanishes, and its protection fires at no
    sample), yet they were reported as 'a likely pole', which makes selection pass them over."""
    X = np.random.default_rng(0).uniform(-1, 1, (2000, 1))
    quotient = Program(1, (10.0,), (("mul", 0, 1), ("exp", 2, 0), ("div", 0, 3)), (4,), [[1.0]], [0.0])
    logarithm = Program(1, (10.0,), (("mul", 0, 1), ("exp", 2, 0), ("log", 3, 0)), (4,), [[1.0]], [0.0])
    assert singularities(Formula("direct-4", (quotient,)), X) == []
    assert singularities(Formula("direct-4", (logarithm,)), X) == []


def test_documents_of_a_bool_or_float_version_or_no_targets_are_refused():
    import json

    good = Program(1, (), (("sin", 0, 0),), (1,), [[1.0]], [0.0]).to_dict()
    assert Program.from_dict(json.loads(json.dumps(good))) is not None
    for version in (True, 1.0):
        with pytest.raises(ValueError, match="version"):
            Program.from_dict({**good, "version": version})
    with pytest.raises(ValueError, match="no targets"):
        Program.from_dict({**good, "weights": [[]], "intercept": []})


def test_a_logit_difference_far_from_zero_prints_at_four_digits():
    """A two-class decision d = 0.004035*cos(x) + 2.985 kept 8 digits (rounding judged against d's spread,
    0.003); judged against its size it prints at 4 digits, and its sign -- the class -- cannot change."""
    from srnet.expr.symbolic import round_faithfully

    x = make_symbols(1)[0]
    d = sympy.Float(0.0040348507123) * sympy.cos(x) + sympy.Float(2.9852854123)
    points = {"x0": np.linspace(-3, 3, 16)}
    assert str(round_faithfully(d, 4, points, by_size=True)) == "0.004035*cos(x0) + 2.985"
    assert str(round_faithfully(d, 4, points)) != "0.004035*cos(x0) + 2.985"  # by its spread: more digits


def test_exact_fractions_of_integer_constants_stay_exact():
    """Folding steps of numbers in float64 printed div(1, 3) * x as 0.333333333333333*x0 (it was x0/3)."""
    x = make_symbols(1)[0]
    third = Program(1, (1.0, 3.0), (("div", 1, 2), ("mul", 0, 3)), (4,), [[1.0]], [0.0])
    assert to_sympy(third, [x]) == [x / 3]
