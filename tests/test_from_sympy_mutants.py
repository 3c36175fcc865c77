"""Tests that kill the surviving mutants of a mutmut run on srnet/activations/from_sympy.py (25 of its 732
mutants sampled with random.Random(57), run against tests/test_activations.py and
tests/test_leftovers_activations.py: 18 killed, 7 survived, none equivalent; each test below failed on the
mutant named in its docstring and passes on the code).  Oracles: numpy on the same formula written by hand."""

import numpy as np
import pytest
import sympy

from srnet.activations import program_from_sympy
from srnet.expr import Program

x = sympy.Symbol("x", real=True)
y = sympy.Symbol("y", real=True)
XS = np.linspace(-3.0, 3.0, 13)


def run(program, values=XS):
    return program(np.asarray(values, dtype=np.float64).reshape(-1, 1))


def test_a_repeated_symbol_is_refused():
    """Kills x_program_from_sympy__mutmut_34 (a name counts as repeated only above two uses): [x, x] built a
    two-input program that reads only its second input instead of naming the mistake."""
    with pytest.raises(ValueError, match="symbols repeat x: each input needs its own name"):
        program_from_sympy(sympy.sin(x), [x, x])
    with pytest.raises(ValueError, match="symbols repeat x"):
        program_from_sympy(x + y, [x, y, sympy.Symbol("x", real=True)])


def test_log_of_a_possibly_negative_argument_is_refused_by_default():
    """Kills x_program_from_sympy__mutmut_1 (protected defaults to True): program_from_sympy(log(x), [x]) then
    silently computed log|x|, which is not log(x) for x < 0."""
    with pytest.raises(ValueError, match="protected=True"):
        program_from_sympy(sympy.log(x), [x])
    with pytest.raises(ValueError, match="protected=True"):
        program_from_sympy(sympy.sqrt(x - 1), [x])
    protected = program_from_sympy(sympy.log(x), [x], protected=True)
    np.testing.assert_allclose(run(protected, [-2.0, 3.0]), np.log([2.0, 3.0]), rtol=1e-15)


def test_a_string_is_refused_with_a_message_saying_why():
    """Kills x_program_from_sympy__mutmut_2 (the TypeError carried no message): the user who passed the text
    "x*sin(x)" was told nothing about giving a sympy expression instead."""
    with pytest.raises(TypeError, match="give a sympy expression, not a string: srnet does not parse text"):
        program_from_sympy("x*sin(x)", [x])


def test_a_variable_exponent_on_a_non_positive_base_names_the_supported_form():
    """Kills xǁ_Builderǁ_pow__mutmut_96 (the message's tail became "XX(b**t ...)XX"): the error for x**x must
    end by saying how b**t is converted."""
    with pytest.raises(ValueError) as caught:
        program_from_sympy(x**x, [x])
    assert str(caught.value).endswith("needs a positive numeric base (b**t is converted as exp(t*log(b)))")


def test_a_denominator_of_several_factors_is_their_product():
    """Kills xǁ_Builderǁ_mul__mutmut_56 (the denominator factors were joined by the unknown primitive
    "XXmulXX"): x/((x + 5)*(x**2 + 1)) raised "no primitive for a XXmulXX b" instead of converting."""
    expr = x / ((x + 5) * (x**2 + 1))
    assert len(sympy.Mul.make_args(expr)) == 3  # sympy keeps the two denominator factors apart
    np.testing.assert_allclose(run(program_from_sympy(expr, [x])), XS / ((XS + 5) * (XS**2 + 1)), rtol=1e-12)
    three = sympy.sin(x) / (x**2 + 1) / (x**2 + 2) / (x + 5)
    np.testing.assert_allclose(run(program_from_sympy(three, [x])),
                               np.sin(XS) / (XS**2 + 1) / (XS**2 + 2) / (XS + 5), rtol=1e-12)


def test_an_unknown_variable_is_named_in_the_error():
    """Kills x_program_from_sympy__mutmut_54 (each unknown symbol was shown as "None"): the error for sin(x*z)
    over [x] must name z, the variable that is not an input."""
    z = sympy.Symbol("z", real=True)
    with pytest.raises(ValueError, match=r"uses z, which are not among the program's inputs \(x\)"):
        program_from_sympy(sympy.sin(x * z), [x])
    with pytest.raises(ValueError, match=r"uses y, z, which are not among"):
        program_from_sympy(y + z + x, [x])


def test_a_unary_step_s_unused_second_address_is_zero():
    """Kills x_program_from_sympy__mutmut_82 (the unused second address of a unary step became 1): the program
    of sin(x) must be the same Program as the one written by hand (or built from a genome), ("sin", 0, 0),
    not ("sin", 0, 1), an address that points at the step itself, and its JSON must say so."""
    program = program_from_sympy(sympy.sin(x), [x])
    assert program.steps == (("sin", 0, 0),)
    assert program == Program(1, (), (("sin", 0, 0),), (1,), [[1.0]], [0.0])
    nested = program_from_sympy(sympy.exp(sympy.cos(x)), [x])
    assert [b for _, _, b in nested.steps] == [0, 0]
