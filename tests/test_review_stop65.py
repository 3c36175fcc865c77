"""A user's review of CGPRegressor (stop 65): a pandas Categorical column, two rows, formula(20)."""

import numpy as np
import pytest

from srnet import CGPRegressor
from srnet.xnet import XNetRegressor

X = np.random.default_rng(0).uniform(-2, 2, (150, 2))
Y = np.pi * X[:, 1] * np.sin(X[:, 0])


@pytest.mark.parametrize("make", [lambda: CGPRegressor(max_generations=10), lambda: XNetRegressor(max_iterations=2)])
def test_a_categorical_column_of_text_is_named(make):
    """It said "Cannot cast str dtype to float64", as no text column did."""
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(X, columns=["a", "b"]).assign(city=pandas.Categorical(["x", "y", "z"] * 50))
    with pytest.raises(ValueError, match=r"^X column 'city' holds text such as 'x'.*encode it first"):
        make().fit(frame, Y)


@pytest.mark.parametrize("make", [lambda: CGPRegressor(max_generations=10), lambda: XNetRegressor(max_iterations=2)])
def test_two_rows_are_refused_three_are_fitted(make):
    """a*f + b fits any two points with any formula: on two rows the fit said nothing and predicted 125.5
    where y was 1.1."""
    with pytest.raises(ValueError, match=r"^n_samples = 2: at least 3 samples are needed"):
        make().fit(X[:2], Y[:2])
    assert make().fit(X[:3], Y[:3]).predict(X[:3]).shape == (3,)


def test_formula_prints_no_more_digits_than_a_float_holds():
    model = CGPRegressor(max_generations=3000, random_state=0, constant_pool=(3.14159,)).fit(X, Y)
    assert str(model.formula(20)) == str(model.formula(15))
    assert "99999" not in str(model.formula(20)) and "00000" not in str(model.formula(20))


def test_a_formula_that_reads_a_constant_column_says_so():
    """A column x2 = 7 on every row was used as the number 7 (x0**2 + x1 - x2 + 7 is right on the data and off
    wherever x2 is not 7), in silence; a formula that does not read it says nothing."""
    import warnings

    rng = np.random.default_rng(0)
    X = np.c_[rng.normal(size=(100, 2)), np.full(100, 7.0)]
    y = X[:, 0] ** 2 + X[:, 1]
    with pytest.warns(UserWarning, match=r"the formula reads x2 \(always 7\), constant on every row fitted on") as seen:
        model = CGPRegressor(max_generations=2000, random_state=0).fit(X, y)
    assert "x2" in {s.name for s in model.expression_.free_symbols}
    assert seen[0].filename == __file__  # the user's line, not srnet's
    X[:, 2] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = CGPRegressor(max_generations=2000, random_state=0).fit(X, y)
    assert {s.name for s in model.expression_.free_symbols} == {"x0", "x1"}


def test_python_dash_m_srnet_is_the_srnet_command():
    """``python -m srnet`` said "No module named srnet.__main__"."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "srnet", "--version"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("srnet "), done.stderr[-500:]
