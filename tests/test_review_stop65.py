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
