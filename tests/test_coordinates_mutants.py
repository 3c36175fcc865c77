"""Exact checks of srnet.coordinates that its mutants (mutmut) showed were missing: the bounds of each rule
(UNIT_BOUND, SMALL_SPREAD, NEAR_UNIT, "within one standard deviation of 0"), the digits the centre is rounded
to, inputs of any dtype, and the exact program :func:`in_input_units` writes."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from srnet.coordinates import InputMap, formula_in_input_units, in_input_units, search_coordinates
from srnet.expr.program import Program
from srnet.formulas import Formula


def column(*values) -> np.ndarray:
    return np.array(values, dtype=np.float64)[:, None]


def test_a_column_reaching_ten_exactly_is_searched_as_it_is():
    assert np.array([-10.0, 10.0]).std() == 10.0  # spread 10: only its bound could move it
    assert search_coordinates(column(-10.0, 10.0, -10.0, 10.0)) is None
    beyond = search_coordinates(column(-10.5, 10.5))  # just beyond: moved, divided by its spread, not shifted
    assert beyond.centre.tolist() == [0.0] and beyond.scale.tolist() == [10.5]
    assert search_coordinates(column(0.0, 10.25)).scale.tolist() == [5.12]  # the bound is 10, not 11


def test_a_spread_of_exactly_small_spread_is_not_small():
    assert np.array([0.0, 0.1]).std() == 0.05
    assert search_coordinates(column(0.0, 0.1)) is None
    tiny = search_coordinates(column(0.0, 0.09))  # just under 0.05 (0.045): rescaled
    assert tiny.scale.tolist() == [0.045]


@pytest.mark.parametrize("values, spread", [((100.5, 101.5), 0.5), ((98.0, 102.0), 2.0)])
def test_a_spread_on_either_end_of_near_unit_keeps_its_scale(values, spread):
    assert np.array(values).std() == spread
    mapping = search_coordinates(column(*values))
    assert mapping.scale.tolist() == [1.0] and mapping.centre.tolist() == [float(np.mean(values))]


@pytest.mark.parametrize("values, scale", [((100.75, 101.25), 0.25), ((97.5, 102.5), 2.5)])
def test_a_spread_outside_near_unit_is_divided_out(values, scale):
    assert search_coordinates(column(*values)).scale.tolist() == [scale]


def test_a_mean_of_exactly_one_spread_is_within_one_spread_of_zero():
    X = column(0.0, 0.02)  # tiny spread 0.01 and mean 0.01: rescaled, not shifted
    assert X.mean() == X.std() == 0.01
    mapping = search_coordinates(X)
    assert mapping.centre.tolist() == [0.0] and mapping.scale.tolist() == [0.01]
    assert search_coordinates(column(0.001, 0.021)).centre.tolist() == [0.011]  # mean 0.011 > spread 0.01


def test_the_centre_keeps_three_significant_digits_of_the_spread():
    # spread 0.02 (under 1): four decimals; spread 30 (two digits before the point): one decimal
    assert search_coordinates(column(15.21456, 15.25456)).centre.tolist() == [15.2346]
    assert search_coordinates(column(93.456789, 153.456789)).centre.tolist() == [123.5]
    assert search_coordinates(column(1000.35456, 1002.11456)).centre.tolist() == [1001.235]  # spread 0.88


@pytest.mark.parametrize("value, centre", [(123.456789, 123.4568), (-123.456789, -123.4568), (20.123456789, 20.12346),
                                           (-31415.926535, -31415.93)])
def test_a_constant_far_off_is_shifted_by_its_value_to_seven_significant_digits(value, centre):
    X = np.full((4, 1), value)
    assert X.std() == 0  # a true constant (no rounding in its mean)
    mapping = search_coordinates(X)
    assert mapping.centre.tolist() == [centre] and mapping.scale.tolist() == [1.0]


def test_numbers_of_any_dtype_are_read_as_float64():
    rows = [[20, 0.5, 0.003], [80, -0.5, 0.001], [50, 0.25, 0.002]]
    expected = search_coordinates(np.array(rows, dtype=np.float64))
    for X in (np.array(rows, dtype=object), rows):
        mapping = search_coordinates(X)
        np.testing.assert_array_equal(mapping.centre, expected.centre)
        np.testing.assert_array_equal(mapping.scale, expected.scale)
        Z = mapping.apply(X)
        assert Z.dtype == np.float64
        np.testing.assert_array_equal(Z, expected.apply(np.array(rows, dtype=np.float64)))


def test_moved_lists_the_columns_whose_centre_or_scale_is_not_the_identity():
    mapping = InputMap(np.array([0.0, 5.0, 0.0, -2.0]), np.array([1.0, 1.0, 2.0, 0.5]))
    assert mapping.moved == [1, 2, 3]
    assert InputMap(np.zeros(3), np.ones(3)).moved == []
    assert mapping.to_dict() == {"centre": [0.0, 5.0, 0.0, -2.0], "scale": [1.0, 1.0, 2.0, 0.5]}
    assert all(type(v) is float for v in mapping.to_dict()["centre"] + mapping.to_dict()["scale"])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-1e4, 1e4, allow_nan=False), min_size=2, max_size=30))
def test_a_moved_column_reads_as_a_column_of_unit_scale(values):
    X = column(*values)
    mapping = search_coordinates(X)
    far, spread = np.max(np.abs(X)) > 10, X.std()
    assume(spread == 0 or spread > 1e-9 * np.max(np.abs(X)))  # not rounding noise (the last test below)
    if mapping is None:  # left as it is: within the bound, of no small spread
        assert not far and (spread == 0 or spread >= 0.05)
        return
    Z = mapping.apply(X)
    assert far or 0 < spread < 0.05
    if spread > 0 and not 0.5 <= spread <= 2:  # divided by its spread to three digits
        assert abs(Z.std() - 1) < 0.01
    else:  # a constant, or near unit spread: only shifted
        assert mapping.scale[0] == 1.0


def test_the_raw_program_is_the_map_s_steps_then_the_program_s_own():
    """Each moved input: a step subtracting its centre, a step reading that and the constant after the centre
    (its scale); then the program's own steps, whose addresses alone shift (a unary step's unused second address
    stays as it was)."""
    search = Program(2, (0.5,), (("sin", 0, 0), ("mul", 3, 1), ("add", 4, 2)), (5, 1, 2), [[2.0], [3.0], [1.0]],
                     [0.25])
    X = np.column_stack([np.linspace(20.0, 80.0, 7), np.linspace(-6.0, 0.0, 7)])
    one_map, both_map = InputMap(np.array([50.0, 0.0]), np.array([10.0, 1.0])), InputMap(np.array([50.0, -3.0]),
                                                                                             np.array([10.0, 1.0]))
    one, both = in_input_units(search, one_map), in_input_units(search, both_map)
    assert one.n_inputs == 2 and len(one.constants) == 3 and one.constants[:2] == (0.5, 50.0)
    assert one.steps[0] == ("sub", 0, 3) and one.steps[1][1:] == (5, 4)
    assert one.steps[2:] == (("sin", 6, 0), ("mul", 7, 1), ("add", 8, 2))
    assert one.outputs == (9, 1, 2)
    assert both.n_inputs == 2 and len(both.constants) == 5 and both.constants[:2] + both.constants[3:4] == (0.5, 50.0, -3.0)
    assert both.steps[0] == ("sub", 0, 3) and both.steps[1][1:] == (7, 4)
    assert both.steps[2] == ("sub", 1, 5) and both.steps[3][1:] == (9, 6)
    assert both.steps[4:] == (("sin", 8, 0), ("mul", 11, 10), ("add", 12, 2))
    assert both.outputs == (13, 10, 2)
    for raw, mapping, address in ((one, one_map, {0: 6}), (both, both_map, {0: 8, 1: 10})):
        values = raw.values(X)
        for j, at in address.items():  # the search coordinate, bit for bit as the map computes it
            np.testing.assert_array_equal(values[at], mapping.apply(X)[:, j])
        np.testing.assert_array_equal(raw.weights, search.weights)
        np.testing.assert_array_equal(raw.intercept, search.intercept)
        np.testing.assert_array_equal(raw.raw_outputs(X), search.raw_outputs(mapping.apply(X)))


def test_a_formula_keeps_its_source_and_later_programs():
    first = Program(1, (), (("square", 0, 0),), (1,), [[1.0, 2.0]], [0.0, 0.0])
    second = Program(2, (), (("add", 0, 1),), (2,), [[1.0]], [0.0])
    formula = Formula("direct-8+refined", (first, second))
    assert formula_in_input_units(formula, None) is formula
    raw = formula_in_input_units(formula, InputMap(np.array([40.0]), np.array([20.0])))
    assert raw.source == "direct-8+refined" and raw.programs[1] is second
    assert raw.programs[0] == in_input_units(first, InputMap(np.array([40.0]), np.array([20.0])))
    X = column(20.0, 40.0, 80.0)
    np.testing.assert_array_equal(raw(X), [[3.0], [0.0], [12.0]])  # 3 ((x - 40) / 20)^2


@pytest.mark.parametrize("value", [0.1, 500.1])
def test_a_constant_column_is_never_divided_by_rounding_noise(value):
    """Found by mutation testing: such a column was divided by its spread of float rounding, and the raw formula
    read 7e10 at 0.1 + 1e-6."""
    X = np.full((3, 1), value)  # X.std() is 1.39e-17 (0.1) or 5.68e-14 (500.1), not 0
    mapping = search_coordinates(X)
    assert mapping is None or (mapping.scale[0] == 1.0 and mapping.apply(X)[0, 0] == 0.0)
