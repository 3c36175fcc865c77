"""Tests from a mutation-testing sample of ``srnet/activations/module.py``.

mutmut 3.8.1 generated 1023 mutants of the module; a random sample of 25
(``random.Random(59).sample(sorted(names), 25)``) was run against
tests/test_activations.py, tests/test_activations_edge_cases.py and
tests/test_leftovers_activations.py.  Each test below kills one surviving,
non-equivalent mutant (named in its docstring) and says what a user would see
go wrong.  Oracles: sympy, NumPy and torch's own functions; no mocks.
"""

import math
import warnings

import numpy as np
import pytest
import sympy
import torch

from srnet.activations import VARIABLE, DegenerateActivationError, ExpressionActivation
from srnet.cgp import Genome, GenomeSpec
from srnet.expr import Program

x = VARIABLE


def test_a_constant_sub_expression_of_a_genome_is_folded_once():
    """Kills ``_execution_plan__mutmut_33`` (the folded step's argument ``np.array([known[a]])`` ->
    ``np.array(None)``): a genome whose program holds a step of constants only, x**2 + sin(0.5), could not
    be built (TypeError "loop of ufunc does not support argument 0 of type NoneType"); the original runs only
    as a failing example of a slow hypothesis test (timed out in the sample run)."""
    spec = GenomeSpec(n_inputs=1, n_columns=8, functions=("add", "mul", "sin"))
    program = Program.from_genome(Genome.random(spec, 1))
    assert ("sin", 1, 0) in program.steps and program.constants == (0.5,)  # sin of the constant alone
    inputs = torch.linspace(-3, 3, 13, dtype=torch.float64)
    for fused in (True, False):
        module = ExpressionActivation(program, fused=fused)
        torch.testing.assert_close(module(inputs), inputs**2 + math.sin(0.5))


@pytest.mark.parametrize("number", [2, 2.5])
def test_a_python_number_is_a_constant_not_a_type_error(number):
    """Kills ``ExpressionActivation.from_sympy__mutmut_6`` (the sympify of an int or float skipped): a plain
    number, ``from_sympy(2.5)``, raised "expected a sympy expression, got float" instead of saying that a
    constant cannot be an activation, as ``from_sympy(sympy.Float(2.5))`` does."""
    with pytest.raises(DegenerateActivationError, match=r"has no variable: a constant cannot be an activation"):
        ExpressionActivation.from_sympy(number)


def test_from_genome_passes_the_constructor_keywords_on():
    """Kills ``ExpressionActivation.from_genome__mutmut_3`` (``**kwargs`` dropped): ``from_genome(genome,
    affine=..., label=..., check_range=None, fused=False)`` built a plain activation, silently without the
    affine wrapper or the label, and with the range check the caller switched off."""
    spec = GenomeSpec(n_inputs=1, n_columns=8, functions=("add", "mul", "sin"))
    genome = Genome.random(spec, 4)  # g(x) = 2*x*(x + 2) + 2
    affine = {"a": 2.0, "b": 0.5, "c": 0.25, "d": -1.0}
    module = ExpressionActivation.from_genome(genome, affine=affine, label="genome 3", check_range=None,
                                              fused=False)
    assert module.affine and module.label == "genome 3" and module.check_range is None and not module.fused
    assert {name: float(getattr(module, name).detach()) for name in "abcd"} == affine
    program = Program.from_genome(genome)
    inputs = np.linspace(-2, 2, 17)
    expected = 2.0 * program((0.5 * inputs + 0.25)[:, None]) - 1.0
    got = module(torch.tensor(inputs, dtype=torch.float64)).detach().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    u = 0.5 * inputs + 0.25
    np.testing.assert_allclose(got, 2.0 * (2 * u * (u + 2) + 2) - 1.0, rtol=1e-6, atol=1e-6)
    constant = Genome.random(spec, 3)  # g(x) = sin(0.5): refused by the default range check, kept when asked
    with pytest.raises(DegenerateActivationError, match="constant"):
        ExpressionActivation.from_genome(constant)
    assert ExpressionActivation.from_genome(constant, check_range=None).formula == "0.4794"


def test_a_removable_singularity_whose_limit_the_protection_gives_builds_silently():
    """Kills ``_limits__mutmut_7`` (the step either side of 0 where the limit is read doubled, ``max(1, |x|)``
    -> ``max(2, |x|)``): ``(x + 50 x**3)/x`` tends to 1 at x = 0, exactly the protected division's 1 there, yet
    it warned "differs from the formula from about x = 0 (1 where the formula is 1)"."""
    expr = (x + 50 * x**3) / x
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        module = ExpressionActivation.from_sympy(expr)
    inputs = torch.tensor([-0.5, -1e-3, 0.0, 1e-3, 0.5], dtype=torch.float64)
    torch.testing.assert_close(module(inputs), torch.where(inputs == 0, 1.0, 1 + 50 * inputs**2))


def test_a_small_jump_at_zero_is_not_read_as_a_limit():
    """Kills ``_limits__mutmut_67`` (the two sides' agreement tolerance ``1e-2 * max(1, |left|)`` ->
    ``max(2, |left|)``): 0.0075*|x|/x jumps by 0.015 at 0 and has no limit there, but the warning took the
    average of its sides as one and told the user "from about x = 0 (0.0075 where the formula is 0)", a value
    the formula never has, instead of the nearest point where the protection really changes it (x = -1e-12,
    where the formula is -0.0075)."""
    expr = sympy.Rational(3, 400) * sympy.Abs(x) / x
    with pytest.warns(UserWarning) as record:
        module = ExpressionActivation.from_sympy(expr, check_range=None)
    messages = [str(w.message) for w in record if "differs from the formula" in str(w.message)]
    assert len(messages) == 1
    assert "from about x = -1e-12 (0.0075 where the formula is -0.0075)" in messages[0]
    # the protected division: |x|/x is 1 within 1e-10 of 0, both sides
    inputs = torch.tensor([-1.0, -1e-12, 0.0, 1e-12, 1.0], dtype=torch.float64)
    expected = torch.tensor([-0.0075, 0.0075, 0.0075, 0.0075, 0.0075], dtype=torch.float64)
    torch.testing.assert_close(module(inputs), expected)
