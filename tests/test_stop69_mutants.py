"""Tests that kill the mutants mutmut 3.8.1 left alive in the functions stop 69 added or changed (by_spread,
_orderable, printed's points branch, _with_parts, _without_fixed_units, _slice_text, _rmse_text,
ReductionModule.within_bounds, principal_directions' bounds, cli._size_of, _XNetBase._split).

Equivalent mutants (not killed on purpose):

- by_spread_3 (``min(..., default=None)``) and _6 (``default=1``): with no points, ``count`` is read only in ``if count
  and all(s.name in points ...)``, false either way (a sum with no free symbols is a number, returned before).
- by_spread_8 (numbers' spread -2.0 for -1.0): only the order of the keys matters, both below every spread (>= 0).
- by_spread_9 (``np.errstate(all=None)`` around values_at): values_at holds its own ``errstate(all="ignore")``.
- _without_fixed_units_11 (``reshape(len(target), -2)``): NumPy 2.4 reads any negative size as -1.
- _XNetBase._split_40 and _42 (``np.array(valid)`` without dtype=int): an empty list returns (None, None) before it
  is used, a non-empty one holds Python ints (int64 either way).
"""

import time
import warnings

import numpy as np
import sympy
import torch

from srnet.activations.mlp_block import principal_directions
from srnet.expr.symbolic import SPREAD_ORDER_MAX_NODES, by_spread, complexity, printed
from srnet.formulas import _with_parts
from srnet.plots import NAMED_FIXED, _rmse_text, _slice_text, _without_fixed_units
from srnet.xnet.estimators import _XNetBase

x, y = sympy.symbols("x y", real=True)
RNG = np.random.default_rng(0)
POINTS = {"x": RNG.uniform(-1, 1, 16), "y": RNG.uniform(-10, 10, 16)}


def _text(expr) -> str:
    return sympy.sstr(expr, order="none")


def test_a_term_undefined_at_every_point_is_read_first_even_after_sympys_order():
    """by_spread: a term without one finite value has an infinite spread, first; NaN would keep sympy's order
    (y before it) and warn of an empty slice."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert printed(y + sympy.sqrt(x - 2), points=POINTS) == "sqrt(x - 2) + y"


def test_no_points_leave_the_formula_in_sympys_order():
    """by_spread with an empty ``points``: every sum keeps sympy's order (min() of no values raised)."""
    assert _text(by_spread(x + 2 * y, {})) == "x + 2*y"


def test_a_product_built_unevaluated_is_not_evaluated_by_the_ordering():
    """by_spread rebuilds a node around its ordered sums unevaluated: evaluating 2*(x + 3*y) distributes the 2
    and loses the order (2*x + 6*y)."""
    assert _text(by_spread(sympy.Mul(2, x + 3 * y, evaluate=False), POINTS)) == "2*(3*y + x)"


def test_a_sum_with_abs_is_not_given_to_sympy_to_order():
    """by_spread/_orderable: a sum holding Abs keeps its stored terms (sympy's ordering of powers of Abs ran for
    minutes); where its terms cannot all be valued (u has no values) that order is printed."""
    u = sympy.Symbol("u", real=True)
    expr = 1 + u + x + x ** 2 * sympy.Abs(y)
    assert expr.args == (1, u, x, x ** 2 * sympy.Abs(y))  # (sympy would order it u + x**2*Abs(y) + x + 1)
    assert printed(expr, points=POINTS) == "1 + u + x + x**2*Abs(y)"


def test_a_number_is_left_as_it_is():
    """by_spread returns a number (here a sum of two) itself, printed as sympy prints it (log(2) + pi), as it is
    without points."""
    number = sympy.pi + sympy.log(2)
    assert by_spread(number, POINTS) is number
    assert printed(x * number + y, points=POINTS) == "y + x*(log(2) + pi)"


def test_a_formula_of_exactly_the_cap_is_ordered():
    """printed: a formula of SPREAD_ORDER_MAX_NODES nodes is still ordered by spread (the cap is inclusive)."""
    expr = (0.5 * x + 0.3 * y + 2.0 + 1e-7 * sympy.cos(x)
            + sum(sympy.Float(1e-6 * (k + 1)) * sympy.sin(x + k) for k in range(65)))
    assert complexity(expr) == SPREAD_ORDER_MAX_NODES
    assert printed(expr).startswith("0.5*x + ")  # (sympy's order)
    assert printed(expr, points=POINTS).startswith("0.3*y + 0.5*x + ")


def test_the_ordering_has_its_time_per_node(monkeypatch):
    """printed(points=): ordering may take PRINT_SECONDS plus PRINT_SECONDS_PER_NODE per node (an ordering of
    0.3 s fits 0.05 s + 8 nodes x 0.2 s; minus the nodes' share, or divided by the size, it timed out)."""
    import srnet.expr.symbolic as symbolic

    def slow(expr, points):
        start = time.perf_counter()
        while time.perf_counter() - start < 0.3:  # (busy: the time limit interrupts Python code)
            pass
        return by_spread(expr, points)

    monkeypatch.setattr(symbolic, "by_spread", slow)
    monkeypatch.setattr(symbolic, "PRINT_SECONDS", 0.05)
    monkeypatch.setattr(symbolic, "PRINT_SECONDS_PER_NODE", 0.2)
    expr = 0.5 * x + 0.3 * y + 2.0
    assert complexity(expr) == 8
    assert printed(expr, points=POINTS) == "0.3*y + 0.5*x + 2.0"


def test_latex_with_points_is_latex():
    """printed(latex=True, points=): LaTeX of the ordered formula, not its text."""
    assert printed(0.5 * x + 0.3 * y + 2.0, latex=True, points=POINTS) == "0.3 y + 0.5 x + 2.0"


def test_a_plain_number_prints_as_str():
    """printed of a value that is not a sympy object: str() of that value."""
    assert printed(2.5) == "2.5"
    assert printed(2.5, latex=True) == "2.5"


def test_parts_that_cannot_be_valued_leave_the_others_and_the_points():
    """_with_parts: a part reading a name without values is left out; the points and the parts that can be
    valued are still returned (not None)."""
    u1, u2, v = sympy.symbols("u1 u2 v", real=True)
    points = _with_parts(POINTS, [(u1, x + y), (u2, v * x)])
    assert set(points) == {"x", "y", "u1"}
    np.testing.assert_allclose(points["u1"], POINTS["x"] + POINTS["y"])


def test_a_float32_map_is_read_in_float64():
    """_rmse_text: differences in float32 are squared in float64 (3e19 squared overflows float32: "inf")."""
    assert _rmse_text(np.array([3e19, -3e19], dtype=np.float32)) == "3e+19"


def test_an_rmse_that_overflows_does_not_warn():
    """_rmse_text: squares past float64's range neither warn nor read inf: the RMSE of 1e200 and 1 is 7.07e+199."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _rmse_text(np.array([1e200, 1.0])) == f"{1e200 / np.sqrt(2):.3g}" == "7.07e+199"


def test_four_inputs_held_fixed_are_named_one_by_one():
    """_slice_text: NAMED_FIXED (4) other inputs are named with their values; five are counted."""
    assert NAMED_FIXED == 4
    assert _slice_text(list("abcde"), [1.0, 2.0, 3.0, 4.0, 5.0], (0,)) == \
        ", other inputs at their median: b = 2, c = 3, d = 4, e = 5"
    assert _slice_text(list("abcdef"), [1.0] * 6, (0,)) == ", the 5 other inputs at their median"


def test_a_layer_given_as_integers_comes_back_as_float64():
    """_without_fixed_units: target and approx are read as float64, whatever their dtype."""
    target, approx, shown, left = _without_fixed_units([[1, 0], [2, 0], [3, 0]], [[1, 0], [2, 0], [4, 0]])
    assert target.dtype == np.float64 and approx.dtype == np.float64
    assert (shown, left) == ([0], 1)
    np.testing.assert_array_equal(approx, [[1.0], [2.0], [4.0]])


def test_a_flat_layer_is_read_as_one_unit():
    """_without_fixed_units: a 1-D target and approx are one unit each, (n, 1) (approx reshaped as the target)."""
    target, approx, shown, left = _without_fixed_units(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.5]))
    assert target.shape == approx.shape == (3, 1)
    assert (shown, left) == ([0], 0)


def test_the_bounds_follow_the_scores_device():
    """ReductionModule.within_bounds: the bounds are made on the scores' device (a CPU bound beside scores on
    another device raised); the meta device stands in for a GPU."""
    X = np.random.default_rng(0).normal(size=(20, 3))
    module = principal_directions(X, 2).module()
    held = module.within_bounds(torch.zeros(4, 2, device="meta"))
    assert held.device.type == "meta" and held.shape == (4, 2)


def test_principal_directions_keep_their_explained_variance_beside_the_bounds():
    """principal_directions: the Reduction carries each direction's share of the variance and the scores'
    range on the rows."""
    X = np.random.default_rng(1).normal(size=(50, 3)) * [3.0, 1.0, 0.5]
    reduction = principal_directions(X, 2)
    singular = np.linalg.svd(X - X.mean(axis=0), compute_uv=False)
    np.testing.assert_allclose(reduction.explained, singular[:2] ** 2 / np.sum(singular ** 2))
    scores = (X - X.mean(axis=0)) @ np.asarray(reduction.components).T
    np.testing.assert_allclose(reduction.bounds, np.column_stack([scores.min(axis=0), scores.max(axis=0)]))


def test_a_classifier_holds_out_down_to_two_rows_to_train_on():
    """_XNetBase._split: with classes, 2 rows are enough to train on (a regressor needs MIN_SAMPLES): 3 rows of
    classes 0, 1, 1 at fraction 0.5 hold out one row of class 1 and keep 2."""
    rows, valid = _XNetBase._split(3, 0.5, np.array([0, 1, 1]), np.random.default_rng(0))
    assert len(rows) == 2 and len(valid) == 1
    assert sorted(np.concatenate([rows, valid]).tolist()) == [0, 1, 2]
    assert 0 in rows.tolist()  # (class 0 has one row: it is kept to train on)


def test_a_classifier_split_that_holds_out_nothing_is_none():
    """_XNetBase._split: when no class has a row to hold out (fraction 0.2 of classes of 2), there is no
    validation set (None), not an empty one."""
    assert _XNetBase._split(4, 0.2, np.array([0, 0, 1, 1]), np.random.default_rng(0)) == (None, None)
