"""Tests that kill survivors of mutmut 3.8.1 runs over the code changed in stop 63: srnet/coordinates.py
(written_standardised, map_text), srnet/domain.py (interval_text), srnet/bench/report.py (headline,
_one_class_datasets, _one_class_line, _run_line) and srnet/expr/symbolic.py (rewritten, standardised_form).

Each pass ran one module's mutants of those functions (``-n 0 -x``) against its tests: test_coordinates.py and
test_coordinates_mutants.py; test_domain.py and test_domain_mutants.py; tests/bench/test_bench_report.py and
test_report_mutants.py; test_coordinates.py for symbolic.py.  Equivalent survivors, left alive:
x_map_text__mutmut_10 (``centre >= 0``: a centre of 0 is handled before, as the bare symbol),
x_interval_text__mutmut_16 (``0 < width <= size``: width == size gives log10(1) + 3 = 3 digits, raised to 4).
x_written_standardised__mutmut_12 (``while name not in taken``) loops for ever on any written input: a timeout
(mutmut's CPU limit), not a passing test.
Each test names the mutant(s) it kills.
"""

import numpy as np
import pytest
import sympy

from srnet.bench.report import _run_line
from srnet.coordinates import InputMap, map_text, written_standardised
from srnet.domain import interval_text
from srnet.expr.symbolic import ROUND_OFF, rewritten, standardised_form

# --- srnet/coordinates.py ---------------------------------------------------------------------------------------


def test_two_written_inputs_never_share_a_search_coordinate():
    """x_written_standardised__mutmut_16 (``taken.add(None)``: a z name given out is not taken): x's z_x is an
    input's name, so x is written z_x_; x_ then took z_x_ too, and two inputs read as one symbol."""
    x, x_, z_x = sympy.symbols("x x_ z_x", real=True)
    mapping = InputMap(np.array([1000.0, 2000.0, 0.0]), np.array([1.0, 1.0, 1.0]))
    written = written_standardised(mapping, [x, x_, z_x])
    assert {key: value[0].name for key, value in written.items()} == {x: "z_x_", x_: "z_x__"}


@pytest.mark.parametrize("centre, text", [(0.5, "(age - 0.5)/2"), (1.0, "(age - 1)/2"), (-0.5, "(age + 0.5)/2")])
def test_a_centre_below_one_is_subtracted_as_any_positive_centre(centre, text):
    """x_map_text__mutmut_11 (``centre > 1``): a centre of 0.5 or 1 read "(age + 0.5)", the input shifted the
    wrong way."""
    assert map_text(sympy.Symbol("age"), centre, 2.0) == text


# --- srnet/domain.py ----------------------------------------------------------------------------------------------


def test_a_box_wider_than_its_bounds_keeps_four_digits():
    """x_interval_text__mutmut_12 (5 digits where the width is not below the bounds): [-1.23456, 1.23456] read
    [-1.2346, 1.2346], a digit more than any other box."""
    assert interval_text(-1.23456, 1.23456) == "[-1.235, 1.235]"
    assert interval_text(2.34567, 2.34567) == "[2.346, 2.346]"  # no width: 4 digits too


def test_a_box_narrower_than_one_gets_the_digits_that_tell_its_bounds_apart():
    """x_interval_text__mutmut_14 (``1 < width``: a width of 1 or less took 4 digits): [100.25, 100.75] read
    [100.2, 100.8]; 6 digits tell the two ends apart to 3 digits of the width (log10(100.75/0.5) = 2.3)."""
    assert interval_text(100.25, 100.75) == "[100.25, 100.75]"
    assert interval_text(100.25, 101.25) == "[100.25, 101.25]"  # a width of exactly 1: ceil(log10(101.25)) + 3


# --- srnet/bench/report.py ----------------------------------------------------------------------------------------


def test_a_run_with_no_unfinished_job_does_not_say_so():
    """x__run_line__mutmut_28 (``unfinished >= 0``): a run that finished every job read ", 0 unfinished"."""
    run = {"started_at": "2024-05-01T10:00:00", "ok": 3, "failed": 1, "wall_seconds": 12.4, "unfinished": 0}
    assert _run_line(run) == "- run started 2024-05-01T10:00:00: 3 ok, 1 failed in 12 s wall"


def test_a_run_with_one_unfinished_job_says_so():
    """x__run_line__mutmut_29 (``unfinished > 1``): a run stopped with one job left did not say it."""
    run = {"started_at": "2024-05-01T10:00:00", "ok": 3, "failed": 0, "wall_seconds": 7.6, "unfinished": 1}
    assert _run_line(run) == "- run started 2024-05-01T10:00:00: 3 ok, 0 failed, 1 unfinished in 8 s wall"


# --- srnet/expr/symbolic.py -----------------------------------------------------------------------------------------


def _written_at(centre: float, scale: float, t: float, z: float):
    """``t`` searched as z = (t - centre)/scale, the replacements standardised_form writes, and points where
    t and z hold the given values (z need not be (t - centre)/scale: that is how far the two forms part)."""
    t_symbol, z_symbol = sympy.symbols("t z", real=True)
    replacements, _ = standardised_form({t_symbol: (z_symbol, centre, scale)}, None)
    return t_symbol, z_symbol, replacements, {"t": np.array([t]), "z": np.array([z])}


def test_a_rewriting_without_points_is_taken_as_it_is():
    """x_rewritten__mutmut_3 (``points is None and new == expr``): without points to check it at, the rewriting
    raised AttributeError ('NoneType' object has no attribute 'values')."""
    t, z, replacements, _ = _written_at(1.7e9, 88.5, 0.0, 0.0)
    assert rewritten(sympy.sin(t), replacements, None) == sympy.sin(sympy.Float(1.7e9) + sympy.Float(88.5) * z)
    assert rewritten(sympy.sin(z), replacements, None) == sympy.sin(z)  # nothing to replace


def test_a_rewriting_off_by_exactly_the_round_off_is_taken_and_by_more_is_not():
    """x_rewritten__mutmut_55 (``<`` for ``<=``) and x_rewritten__mutmut_18 (``max(2.0, ...)``: twice the
    round-off allowed where the centre is within a scale of 0).  t -> 0.5 + 2z (centre/scale 0.25: the
    tolerance is ROUND_OFF = 1000 ulps of 1, exactly) at t = 1: a z 1000 ulps of 1 off is accepted, 1500 not.
    Every float here is exact (0.5 + 2z and the differences are sums of powers of two)."""
    assert ROUND_OFF == 1000 * 2.0 ** -52
    for ulps, taken in ((1000, True), (1500, False)):
        t, z, replacements, points = _written_at(0.5, 2.0, 1.0, 0.25 + ulps * 2.0 ** -53)
        expected = sympy.Float(0.5) + sympy.Float(2.0) * z if taken else t
        assert rewritten(t, replacements, points) == expected, ulps


def test_the_round_off_is_relative_to_the_formula_s_own_size_below_one():
    """x_rewritten__mutmut_43 (``initial=1.0``) and _61 (``max(size, 1.0)``): a formula of size 1e-3 was allowed
    the round-off of a formula of size 1; x_rewritten__mutmut_56 (``tolerance / size``): 1000 times it.
    t -> 2^-11 + 2^-10 z at t = 2^-10: a z that puts it 2000 ulps of 2^-10 off (twice the tolerance) is
    refused (2000 ulps of 2^-10 against a tolerance of 1000); at t = 2^10 (size 1024, t -> 2^9 + 2^10 z) one
    500 ulps of 2^10 off is accepted (half the tolerance there; _56 allowed 1000 ulps of 2^-62)."""
    t, z, replacements, points = _written_at(2.0 ** -11, 2.0 ** -10, 2.0 ** -10, 0.5 + 2000 * 2.0 ** -52)
    assert rewritten(t, replacements, points) == t
    t, z, replacements, points = _written_at(2.0 ** 9, 2.0 ** 10, 2.0 ** 10, 0.5 + 500 * 2.0 ** -52)
    assert rewritten(t, replacements, points) == sympy.Float(2.0 ** 9) + sympy.Float(2.0 ** 10) * z


def test_a_formula_undefined_at_every_point_is_rewritten_without_error():
    """x_rewritten__mutmut_39 (``initial=None``) and _41 (no initial): log(t) at negative t has no finite value;
    its size, the largest of none, raised ValueError (zero-size array to reduction operation maximum)."""
    t, z, replacements, points = _written_at(-1000.0, 1.0, -1000.0, 0.0)
    assert rewritten(sympy.log(t), replacements, points) == sympy.log(sympy.Float(-1000.0) + sympy.Float(1.0) * z)


def test_the_search_coordinate_s_points_are_float64_whatever_the_inputs_dtype():
    """x_standardised_form__mutmut_13 (``dtype=None``) and _15 (no dtype): float32 points gave float32 z
    (NumPy 2 keeps an array's float32 against a Python float): 1001.25 read z = 0.41666666 not 0.4166666666666667."""
    t, z = sympy.symbols("t z", real=True)
    _, points = standardised_form({t: (z, 1000.0, 3.0)}, {"t": np.array([1000.5, 1001.25], dtype=np.float32)})
    assert points["z"].dtype == np.float64
    np.testing.assert_array_equal(points["z"], (np.array([1000.5, 1001.25]) - 1000.0) / 3.0)
