"""Estimators' formulas of inputs far from 0 for their spread (a year): simplified, and read, as the input's
search coordinate z (``standardised_symbols_``), as SRNet's are; ``expression_`` puts z back."""

from types import SimpleNamespace

import numpy as np
import pytest
import sympy

from srnet import CGPRegressor
from srnet.coordinates import InputMap, in_input_units
from srnet.estimators import program_formulas
from srnet.expr.program import Program

YEARS = np.random.default_rng(0).uniform(1990, 2020, (200, 1))
CENTRE, SCALE = 2006.19, 9.04


def _sextic() -> Program:
    """0.5*(z**6 + z) + 2 of z = (year - 2006.19)/9.04, as a program of the year itself."""
    in_z = Program(1, (), (("mul", 0, 0), ("mul", 1, 1), ("mul", 2, 1), ("add", 3, 0)), (4,),
                   np.array([[0.5]]), np.array([2.0]))
    return in_input_units(in_z, InputMap(np.array([CENTRE]), np.array([SCALE])))


def _values(expr, names_values: dict) -> np.ndarray:
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    return sympy.lambdify(symbols, expr, "numpy")(*(names_values[s.name] for s in symbols))


def test_a_polynomial_of_a_year_is_simplified_in_its_search_coordinate():
    """Simplified in z, the polynomial reads 0.5*z_x0**6 + 0.5*z_x0 + 2 where in the year's own units it read
    0.0553*x0 + 0.5*(0.1106*x0 - 221.9)**6 - 109; expression_ (z put back) agrees with the program to
    round-off."""
    program = _sextic()
    estimator = SimpleNamespace()
    (expression,) = program_formulas(estimator, program, YEARS, 2.0, interrupted=False,
                                     mapping=InputMap(np.array([CENTRE]), np.array([SCALE])))
    exact = program.combine(program.raw_outputs(YEARS))[:, 0]
    assert {s.name for s in expression.free_symbols} == {"x0"}
    assert np.max(np.abs(_values(expression, {"x0": YEARS[:, 0]}) - exact)) <= 1e-9 * np.std(exact)
    assert estimator.standardised_symbols_ == {"z_x0": "(x0 - 2006.19)/9.04"}
    assert [str(f) for f in estimator._written_formulas] == ["0.5*z_x0**6 + 0.5*z_x0 + 2"]  # what formula() reads


def test_an_input_near_zero_for_its_spread_is_read_as_itself():
    estimator = SimpleNamespace()
    ages = np.random.default_rng(1).uniform(20, 80, (100, 1))
    program = in_input_units(Program(1, (), (("mul", 0, 0),), (1,), np.array([[2.0]]), np.array([1.0])),
                             InputMap(np.array([50.0]), np.array([17.0])))
    (expression,) = program_formulas(estimator, program, ages, 2.0, interrupted=False,
                                     mapping=InputMap(np.array([50.0]), np.array([17.0])))
    assert estimator.standardised_symbols_ == {} and estimator._written_formulas is None
    assert {s.name for s in expression.free_symbols} == {"x0"}


@pytest.mark.parametrize("names", [None, ["year"]])
def test_a_fitted_regressor_reads_a_year_as_z(names):
    """End to end: CGPRegressor on 3*exp(-0.14*(year - 2000)) + ... prints z_year (or z_x0), defined in
    standardised_symbols_; expression_ (the year itself) is what predict computes."""
    pandas = pytest.importorskip("pandas")
    y = ((YEARS[:, 0] - 2005) / 9) ** 2
    X = YEARS if names is None else pandas.DataFrame(YEARS, columns=names)
    model = CGPRegressor(max_generations=300, random_state=0).fit(X, y)
    x, z = ("x0", "z_x0") if names is None else ("year", "z_year")
    assert set(model.standardised_symbols_) == {z} and model.standardised_symbols_[z].startswith(f"({x} - ")
    assert {s.name for s in model.formula().free_symbols} == {z}
    assert {s.name for s in model.expression_.free_symbols} == {x}
    predicted = model.predict(X)
    assert np.max(np.abs(_values(model.expression_, {x: YEARS[:, 0]}) - predicted)) <= 1e-8 * np.std(predicted)


def test_the_comparison_writes_z_in_the_features_names_and_defines_it():
    """compare's formulas read z_year (never the name of another column) and say what it is."""
    from srnet.compare import _definitions_text, _formula_text
    from srnet.explain.formulas import _read

    x0, x1 = sympy.symbols("x0 x1", real=True)
    X = np.column_stack([YEARS[:, 0], np.linspace(-1, 1, len(YEARS))])
    explainer = SimpleNamespace(formulas_=[1 + sympy.Float(1.2e122) * sympy.exp(-0.14 * x0) + x1])
    _read(explainer, X)
    assert explainer.standardised_symbols_ == {"z_x0": "(x0 - 2006.19)/9.04"}
    assert _formula_text(explainer, ["year", "dose"]) == ["dose + 1 + 1.26*exp(-1.2656*z_year)"]
    assert _definitions_text(explainer, ["year", "dose"]) == "z_year = (year - 2006.19)/9.04"
    # a column already named z_year: the year's z is another name
    assert _formula_text(explainer, ["year", "z_year"]) == ["z_year + 1 + 1.26*exp(-1.2656*z_year_)"]
    assert _definitions_text(explainer, ["year", "z_year"]) == "z_year_ = (year - 2006.19)/9.04"
    assert _definitions_text(SimpleNamespace(), ["year", "dose"]) is None  # LIME, MAPLE: no formula


def test_the_comparison_table_defines_z_once():
    from srnet.compare import Comparison

    record = {"domain": "interpolation", "rmse": 0.1, "r2": 0.99, "agreement": None, "rmse_around": 0.1,
              "agreement_around": None, "seconds": 1.0, "size": 5, "formula": ["1.26*exp(-1.27*z_year)"],
              "standardised_symbols": "z_year = (year - 2006.19)/9.04"}
    records = [{**record, "explainer": "srnet"}, {**record, "explainer": "xnet"},
               {**record, "explainer": "lime", "formula": None, "standardised_symbols": None}]
    table = Comparison("regression", records, {}, {}, {}, {}).table()
    assert table.count("z_year = (year - 2006.19)/9.04") == 1 and "xnet: 1.26*exp(-1.27*z_year)" in table
