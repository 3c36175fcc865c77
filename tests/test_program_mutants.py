"""Tests that kill survivors of a mutation-testing sample of ``srnet/expr/program.py``.

Sample: mutmut 3.8.1 mutants of the module (``only_mutate = ["srnet/bench/store.py",
"srnet/expr/program.py"]``), 12 of its 478 drawn with ``random.Random(62).sample(sorted(names), 12)``, each run
alone (MUTANT_UNDER_TEST, ``-n 0 -x``) against tests/test_program.py, tests/test_jsonio.py,
tests/test_review_expr.py, tests/test_expr_edge_cases.py, tests/test_backends.py, tests/test_genome.py and
tests/test_security.py: all 12 were killed.  A supplementary draw, the next 12 of the same seed
(``random.Random(62).sample(sorted(names), 24)[12:]``), left one survivor, killed here.  Each test names the
mutant it kills and what a user would see go wrong.
"""

import numpy as np
import pytest

from srnet.expr.program import Program


def _program(n_inputs, steps):
    """The last step's value, unscaled (weight 1, intercept 0)."""
    return Program(n_inputs, (), tuple(steps), (n_inputs + len(steps) - 1,), [[1.0]], [0.0])


@pytest.mark.parametrize("X, steps, expected", [
    # integer features (incomes in dollars): x**4 of 100 000 is 1e20, past int64 (it wrapped to 7.8e18)
    (np.array([[100_000], [3]]), [("square", 0, 0), ("square", 1, 0)], lambda X: X[:, 0] ** 4),
    # a float32 table (a torch network's inputs): 1e20**2 is 1e40, past float32 (it was inf)
    (np.array([[1e20], [3.0]], dtype=np.float32), [("square", 0, 0)], lambda X: X[:, 0] ** 2),
    # float32 rounding: x0 / x1 at (1, 1e-7) is 9999999.88 in float64 (it was 10000000.0)
    (np.array([[1.0, 1e-7]], dtype=np.float32), [("div", 0, 1)], lambda X: X[:, 0] / X[:, 1]),
    # booleans are the numbers 0 and 1: True + True is 2 (NumPy's boolean add is "or": it was 1)
    (np.array([[True, True], [True, False]]), [("add", 0, 1)], lambda X: X[:, 0] + X[:, 1]),
], ids=["int64-overflow", "float32-overflow", "float32-rounding", "bool-add"])
def test_numpy_evaluation_is_in_float64_whatever_the_dtype_of_x(X, steps, expected):
    """xǁProgramǁvalues__mutmut_10 (``np.asarray(X)`` without ``dtype=np.float64``): the program walked its
    steps in X's own dtype, so the same formula gave a user a wrapped-around integer, inf, a float32-rounded
    value or a logical "or" for int, float32 and bool tables, instead of what it gives on the same numbers in
    float64 (and in its torch and sympy forms)."""
    program = _program(X.shape[1], steps)
    oracle = expected(X.astype(np.float64))
    assert all(value.dtype == np.float64 for value in program.values(X))
    np.testing.assert_array_equal(program(X), oracle)
    np.testing.assert_array_equal(program(X), program(X.astype(np.float64)))
