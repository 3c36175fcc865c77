"""Tests that kill survivors of a mutation-testing sample of ``srnet/activations/programs.py``.

Sample: mutmut 3.8.1 mutants of the module (``only_mutate = ["srnet/activations/programs.py"]``),
25 drawn with ``random.Random(58).sample(sorted(names), 25)``, run against tests/test_activations.py,
tests/test_leftovers_activations.py and tests/test_review_activation_routes.py.  Each test names the
mutant it kills and what a user would see go wrong.
"""

import numpy as np
import pytest
import sympy

from srnet.activations.from_sympy import program_from_sympy
from srnet.activations.programs import (
    DegenerateActivationError,
    check_activation,
    collapse_inputs,
    simplify_program,
    standardise_program,
)
from srnet.expr.program import Program

x0, x1, x2 = sympy.symbols("x0 x1 x2")


def test_simplify_reads_the_formula_with_protected_semantics():
    """x_simplify_program__mutmut_14 (protected=False): sympy writes log|tan x**2| as log(tan(x)**2), which
    the unprotected converter refuses (tan(x)**2 is not known nonnegative), so collapsing left x - x behind
    for good: the activation kept 5 steps instead of 3."""
    program = collapse_inputs(program_from_sympy(sympy.log(sympy.tan(x0) ** 2) + x1 - x2, [x0, x1, x2],
                                                 protected=True))
    assert program.n_steps > 3
    simpler = simplify_program(program)
    assert [name for name, _, _ in simpler.steps] == ["tan", "square", "log"]
    values = np.linspace(-1.4, 1.4, 281) + 1e-3  # clear of tan's poles and of 0
    assert np.allclose(simpler(values[:, None]), np.log(np.tan(values) ** 2), rtol=1e-12, atol=1e-12)


def test_simplify_keeps_the_original_when_the_shorter_form_computes_other_values():
    """x_simplify_program__mutmut_71 (the candidate always kept): x / x**3 + x - x (collapsed from
    x0 / x1**3 + x1 - x2) computes the protected 1 where |x**3| <= 1e-10, but sympy's shorter x**(-2) is
    1/x**2 there (1e8 at x = 1e-4): simplifying would change the activation's values near 0."""
    program = collapse_inputs(program_from_sympy(x0 / x1**3 + x1 - x2, [x0, x1, x2]))
    assert program_from_sympy(x0**-2, [x0]).n_steps < program.n_steps  # a shorter candidate exists
    assert simplify_program(program) is program
    near_zero = np.array([[1e-4], [-2e-4], [0.5]])
    expected = np.array([1.0, 1.0, 0.5 / 0.5**3])  # the engine's protected division
    assert np.allclose(simplify_program(program)(near_zero), expected, rtol=1e-12)


def test_a_large_offset_does_not_hide_a_constant():
    """x_check_activation__mutmut_36 (threshold 1e-9 / mean instead of 1e-9 * mean): 1e8 + 1e-3*sin(x)
    varies by 1e-11 of its size (float32 cannot even tell its values apart) and is rejected as constant;
    the mutant accepted it as an activation."""
    program = program_from_sympy(1e8 + 1e-3 * sympy.sin(x0), [x0])
    values = program(np.linspace(-5, 5, 101)[:, None])
    assert np.unique(values.astype(np.float32)).size == 1  # the oracle: constant as a network computes it
    with pytest.raises(DegenerateActivationError, match="constant"):
        check_activation(program)


def test_several_targets_are_refused_with_the_way_out():
    """x_check_one_variable__mutmut_14 (message upper-cased): the error for a two-target program must name
    the call that fixes it, collapse_inputs(program, output=j), as the user types it."""
    two_targets = Program(1, (), (("sin", 0, 0),), (1,), [[1.0, 2.0]], [0.0, 0.0])
    with pytest.raises(ValueError, match=r"2 targets.*collapse_inputs\(program, output=j\) keeps raw output j"):
        check_activation(two_targets)


def test_a_tiny_but_varying_formula_is_standardised():
    """x_standardise_program__mutmut_22 (floor max(2.0, |mean|)): 1.5e-9 * x has std 1.5e-9 > 1e-9 under
    N(0, 1) and is standardised to unit std; the mutant rejected it as constant."""
    program = program_from_sympy(1.5e-9 * x0, [x0])
    scaled = standardise_program(program)
    z = np.random.default_rng(0).standard_normal(200_000)
    out = scaled(z[:, None])
    assert abs(out.mean()) < 0.02 and abs(out.std() - 1.0) < 0.02
    assert np.allclose(out / z, out[0] / z[0], rtol=1e-6)  # still a line through 0: only the scale changed

