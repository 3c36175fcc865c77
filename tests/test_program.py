"""Programs: JSON round trips, validation, torch export, sympy export."""

import json
import time

import numpy as np
import pytest
import sympy
import torch

from srnet.cgp import Genome, GenomeSpec
from srnet.expr import Program, ProgramModule, complexity, latex, make_symbols, round_constants, simplify, to_sympy
from srnet.expr.symbolic import _real_valued, evaluate_sympy, is_equivalent, tidy_constants


@pytest.fixture
def program():
    spec = GenomeSpec(n_inputs=2, n_outputs=2, n_columns=12, n_constants=2)
    genome = Genome.random(spec, 11)
    return Program.from_genome(genome, weights=[[2.0, 0.5], [-1.0, 3.0]], intercept=[0.25, -4.0])


def test_json_round_trip_reproduces_outputs_exactly(program):
    again = Program.from_json(program.to_json())
    assert again == program
    X = np.random.default_rng(0).normal(size=(50, 2))
    np.testing.assert_array_equal(again(X), program(X))


def test_corrupt_or_foreign_json_gives_clear_errors(program):
    with pytest.raises(ValueError, match="corrupt"):
        Program.from_json(program.to_json()[:-5])
    with pytest.raises(ValueError, match="^program JSON is corrupt: nested too deeply$"):
        Program.from_json("[" * 100_000)  # a RecursionError
    with pytest.raises(ValueError, match="^program JSON is corrupt: Exceeds the limit"):
        Program.from_json('{"a": ' + "9" * 5000 + "}")  # int's digit limit, not naming the program
    with pytest.raises(ValueError, match="not an srnet program"):
        Program.from_json(json.dumps({"steps": []}))
    data = program.to_dict()
    data["steps"] = [["sine", 0, 0]]
    with pytest.raises(ValueError, match="unknown primitive 'sine'"):
        Program.from_dict(data)
    data = program.to_dict()
    data["outputs"] = [999]
    with pytest.raises(ValueError, match="output address"):
        Program.from_dict(data)
    data = program.to_dict()
    data["steps"] = [["add", 0, 5]]
    with pytest.raises(ValueError, match="not computed before it"):
        Program.from_dict(data)



def small_document():
    """y = sin(x0 + 1.5) + 2 x1 + 0.5: 2 inputs, a constant, two steps, two raw outputs, one target."""
    return Program(2, (1.5,), (("add", 0, 2), ("sin", 3, 0)), (4, 1), [[1.0], [2.0]], [0.5]).to_dict()


def edited(path, value):
    """small_document() with the field at ``path`` (keys and indices) set to ``value``, or deleted."""
    data = json.loads(json.dumps(small_document()))
    *parents, last = path
    target = data
    for key in parents:
        target = target[key]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return data


DELETE = object()


@pytest.mark.parametrize("path, value, match", [
    (("n_inputs",), 2.9, "n_inputs must be an integer, got 2.9"),
    (("n_inputs",), 2.0, "n_inputs must be an integer, got 2.0"),  # integral floats are refused too
    (("n_inputs",), True, "n_inputs must be an integer, got True"),
    (("n_inputs",), "2", "n_inputs must be an integer, got '2'"),
    (("n_inputs",), None, "n_inputs must be an integer, got None"),
    (("n_inputs",), DELETE, "no 'n_inputs'"),
    (("steps", 0, 1), 0.7, "step 0's first address must be an integer, got 0.7"),
    (("steps", 1, 1), 3.0, "step 1's first address must be an integer, got 3.0"),
    (("steps", 0, 2), 2.2, "step 0's second address must be an integer, got 2.2"),
    (("steps", 0, 2), False, "step 0's second address must be an integer, got False"),
    (("steps", 0), ["add", 0], r"step 0 must be \[name, address, address\], got \['add', 0\]"),
    (("steps", 0), "add", r"step 0 must be \[name, address, address\]"),
    (("steps", 0, 0), 3, "step 0's primitive name must be a string, got 3"),
    (("steps",), None, "steps must be a list, got None"),
    (("outputs", 1), 1.0, "output 1 must be an integer, got 1.0"),
    (("outputs",), 4, "outputs must be a list, got 4"),
    (("constants", 0), "1.5", "constant 0 must be a number, got '1.5'"),
    (("constants", 0), True, "constant 0 must be a number, got True"),
    (("constants", 0), 10 ** 400, "constant 0 is too large for a float"),
    (("intercept",), [[0.5]], r"intercept must be 1-D .* got shape \(1, 1\)"),
    (("intercept",), 0.5, "intercept must be a flat list of numbers, got 0.5"),
    (("intercept",), ["0.5"], "intercept must hold numbers only"),
    (("weights",), [1.0, 2.0], r"weights must be 2-D .* got shape \(2,\)"),
    (("weights",), [[[1.0]], [[2.0]]], r"weights must be 2-D .* got shape \(2, 1, 1\)"),
    (("weights",), [[1.0], [2.0, 3.0]], "weights must be a list of rows of numbers of equal length"),
    (("weights",), [["1.0"], ["x"]], "weights must hold numbers only"),
    (("weights",), [[True], [False]], "weights must hold numbers only"),
    (("weights",), "abc", "weights must be a list of rows of numbers, got 'abc'"),
])
def test_a_malformed_program_document_is_one_clear_line(path, value, match):
    with pytest.raises(ValueError, match="^malformed srnet program: " + match) as excinfo:
        Program.from_dict(edited(path, value))
    assert "\n" not in str(excinfo.value) and len(str(excinfo.value)) < 200


def test_a_well_formed_program_document_round_trips_with_numpy_scalars_too():
    data = small_document()
    program = Program.from_dict(data)
    assert program.to_dict() == data and Program.from_json(json.dumps(data)) == program
    assert isinstance(program.n_inputs, int) and all(isinstance(a, int) for _, a, _ in program.steps)
    numpy_typed = {**data, "n_inputs": np.int64(2), "constants": [np.float32(1.5)],
                   "outputs": [np.int32(4), np.int64(1)], "weights": np.array([[1.0], [2.0]]),
                   "intercept": [np.float64(0.5)]}
    assert Program.from_dict(numpy_typed) == program
    # integer weights and intercepts are numbers like any other
    assert Program.from_dict({**data, "weights": [[1], [2]], "intercept": [0]}).weights.dtype == np.float64
    with pytest.raises(ValueError, match="^malformed srnet program: weights must hold numbers only, got "
                                         "\\[\\['x', 'x', 'x'") as excinfo:
        Program.from_dict({**data, "weights": [["x"] * 500, ["y"] * 500]})  # a long value is cut, on one line
    assert len(str(excinfo.value)) < 200

def test_an_output_of_weight_zero_adds_nothing_even_where_it_overflows():
    """Two targets, each its own output (a diagonal map, as CGPRegressor fits): where output 1 overflows, target 0
    is still its own formula's value (0 * inf made it NaN), in NumPy, in torch and in CGPRegressor.predict."""
    from srnet import CGPRegressor

    program = Program(1, (), (("square", 0, 0),), (0, 1), [[3.0, 0.0], [0.0, 2.0]], [1.0, 0.5])
    X = np.array([[1.0], [1e200], [-1e200]])
    expected = np.column_stack([3 * X[:, 0] + 1, [2.5, np.inf, np.inf]])
    np.testing.assert_allclose(program(X), expected)
    np.testing.assert_allclose(ProgramModule(program)(torch.tensor(X)).detach().numpy(), expected)
    rng = np.random.default_rng(0)
    X_fit = rng.uniform(-1, 1, (60, 2))
    model = CGPRegressor(functions=("add", "mul", "square"), max_generations=3000, random_state=0,
                         simplify_seconds=0).fit(X_fit, np.column_stack([3 * X_fit[:, 0] + 1, X_fit[:, 1] ** 2]))
    far = np.array([[1.0, 0.0], [1.0, 1e200]])
    assert not np.isfinite(model.predict(far)[1, 1])  # target 1 overflows there ...
    assert np.isfinite(model.predict(far)[:, 0]).all()  # ... and target 0 does not care


@pytest.mark.parametrize("steps", [(("exp", 1, 0), ("mul", 0, 2)),                   # exp(100) x
                                   (("exp", 1, 0), ("exp", 2, 0), ("mul", 0, 3))])  # exp(exp(100)) x
def test_exp_of_a_number_above_the_cap_is_printed_capped(steps):
    """The model computes exp(min(a, 80)); with a number for a the cap always fires, and the printed formula
    read exp(100) (5e13 times the model) or exp(exp(100)) (a number with 1e43 digits)."""
    program = Program(1, (100.0,), steps, (1 + len(steps),), [[1.0]], [0.0])
    x0, = make_symbols(1)
    formula = to_sympy(program, [x0])[0]
    X = np.array([[1.0], [-2.5]])
    np.testing.assert_allclose([float(formula.subs(x0, v)) for v in X[:, 0]], program(X), rtol=1e-12)


def test_wrong_input_width_is_an_error(program):
    with pytest.raises(ValueError, match=r"shape \(n_samples, 2\)"):
        program(np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"\(batch, 2\)"):
        ProgramModule(program)(torch.zeros(3, 3))


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.bool])
def test_a_non_floating_input_is_a_type_error(dtype):
    """The constants and weights were cast to the input's integer dtype and truncated."""
    module = ProgramModule(Program(1, (0.5,), (("mul", 0, 1), ("sin", 2, 0)), (3,), [[2.5]], [0.3]))
    with pytest.raises(TypeError, match=f"ProgramModule needs a floating-point input, got {dtype}; convert it"):
        module(torch.ones(3, 1, dtype=dtype))


def test_torch_module_matches_numpy_and_its_weights_train():
    # y = 3 sin(x) + 1 from a program computing sin(x), weights starting at 1, 0
    program = Program(1, (), (("sin", 0, 0),), (1,), [[1.0]], [0.0])
    module = ProgramModule(program)
    x = torch.linspace(-3, 3, 64, dtype=torch.float64).unsqueeze(1)
    np.testing.assert_allclose(module(x).detach().numpy()[:, 0], program(x.numpy()), rtol=1e-14)
    target = 3 * torch.sin(x) + 1
    optimiser = torch.optim.Adam(module.parameters(), lr=0.05)
    for _ in range(400):
        optimiser.zero_grad()
        loss = ((module(x) - target) ** 2).mean()
        loss.backward()
        optimiser.step()
    trained = module.to_program()
    assert trained.weights[0, 0] == pytest.approx(3.0, abs=1e-3)
    assert trained.intercept[0] == pytest.approx(1.0, abs=1e-3)
    assert set(module.state_dict()) == {"constants", "weights", "intercept"}


def test_sympy_export_composes_and_prints(program):
    x0, x1 = make_symbols(2)
    exprs = to_sympy(program, (x0, x1))
    X = np.random.default_rng(3).uniform(0.5, 2.0, size=(5, 2))
    for t, expr in enumerate(exprs):
        for row, want in zip(X, program(X)[:, t]):
            got = float(expr.xreplace({x0: row[0], x1: row[1]}).evalf())
            assert got == pytest.approx(want, rel=1e-9, abs=1e-9)
    assert latex(sympy.Float(0.123456789) * x0) == "0.1235 x_{0}"
    assert complexity(x0 + sympy.sin(x1)) == 4


def test_round_constants_and_equivalence():
    x = sympy.Symbol("x", real=True)
    approx = 0.50000001 * x**2 + 1.9999999 * x
    assert round_constants(approx) == x**2 / 2 + 2 * x
    assert is_equivalent(approx, x * (x + 4) / 2)
    assert not is_equivalent(0.51 * x**2, x**2 / 2)


@pytest.mark.parametrize("scale", [3e-6, 1.0, 4.2e7])
def test_round_constants_is_relative_to_the_formulas_own_scale(scale):
    """Weights of 3e-6 (a network of inputs in the thousands) were rounded to 0 by an absolute tolerance."""
    x = sympy.Symbol("x", real=True)
    shown = round_constants(sympy.Float(1.234567 * scale) * x + sympy.Float(4.3e-10 * scale))
    assert shown == sympy.Float(float(f"{1.234567 * scale:.3g}"), 3) * x  # the 4.3e-10-relative residue goes
    doubled = round_constants(sympy.Float(2.00001 * scale) * x)
    assert float(doubled / x) == pytest.approx(2 * scale, rel=1e-3) and (scale != 1.0 or doubled == 2 * x)
    small = round_constants(sympy.Float(0.5 * scale) * x + sympy.Float(1e-6 * scale))
    assert len(small.atoms(sympy.Float, sympy.Rational) - {sympy.Integer(1)}) == 2  # kept: 2e-6 of the largest


def test_simplify_simplifies_and_respects_its_deadline():
    x, y = sympy.symbols("x y", real=True)
    messy = (x**2 - 1) / (x - 1) + sympy.sin(x) ** 2 + sympy.cos(x) ** 2
    assert simplify(messy, max_seconds=10) == x + 2
    # the cheap path (no time) returns an equivalent form
    assert sympy.simplify(simplify(messy, max_seconds=0) - (x + 2)) == 0
    # with time for cancelling only, the fraction is cancelled
    assert simplify((x**2 - 1) / (x - 1), max_seconds=10) == x + 1
    # sympy.simplify needs minutes on this; the deadline cuts it off
    slow = sum(sympy.sin(k * x + y) ** 2 * sympy.cos(x - k * y) / (1 + sympy.tan(x * y + k)) for k in range(1, 7))
    start = time.perf_counter()
    result = simplify(slow, max_seconds=0.5)
    assert time.perf_counter() - start < 3.0
    assert result.free_symbols == {x, y}


def test_simplify_keeps_its_deadline_when_cancelling_fractions_takes_minutes():
    # a classifier's lifted formula: ratios of products of 6-input linear maps with float coefficients;
    # sympy.cancel ran for minutes on one (PMLB mux6) while the deadline only covered sympy.simplify
    xs = sympy.symbols("x0:6", real=True)
    rng = np.random.default_rng(0)

    def linear():
        return sum(sympy.Float(rng.normal(), 15) * x for x in xs) + sympy.Float(rng.normal(), 15)

    slow = linear() * linear() / (linear() * linear() + linear()) + linear() ** 2 / (linear() - linear() * linear())
    start = time.perf_counter()
    result = simplify(slow, max_seconds=1.0)
    assert time.perf_counter() - start < 5.0
    assert result.free_symbols == set(xs)


def test_a_program_built_from_lists_and_numpy_scalars_equals_its_json_round_trip():
    built = Program(np.int64(1), [np.float32(0.5)], [["mul", np.int64(0), 1]], [np.int32(2)], [[1.0]], [0.0])
    assert built.constants == (0.5,) and built.steps == (("mul", 0, 1),) and built.outputs == (2,)
    assert Program.from_json(built.to_json()) == built


@pytest.mark.parametrize("fields", [
    (2.9, (), (("add", 0, 1),), (2,)),        # n_inputs
    (2, (), (("add", 0, 1.7),), (2,)),        # an address (was read as 1)
    (2, (), (("add", 0, 1),), (np.float64(2.0),)),  # an output
])
def test_a_program_refuses_fractional_addresses_rather_than_truncating_them(fields):
    n_inputs, constants, steps, outputs = fields
    with pytest.raises(ValueError, match="invalid program: .* cannot be interpreted as an integer"):
        Program(n_inputs, constants, steps, outputs, [[1.0]], [0.0])


def test_simplify_keeps_a_formula_real_valued_as_written():
    """sympy rewrote sqrt(|x|)*|tan x| as |sqrt(x)*tan x|: equal in complex arithmetic, NaN in NumPy for x < 0."""
    program = Program(1, (), (("tan", 0, 0), ("mul", 0, 1), ("mul", 1, 2), ("sqrt", 3, 0)), (4,), [[1.0]], [0.0])
    symbols = make_symbols(1)
    simplified = simplify(to_sympy(program, symbols)[0], max_seconds=10)
    X = np.array([[-1.0], [-0.3], [0.5], [2.0]])
    values = sympy.lambdify(symbols, simplified, "numpy")(X[:, 0])
    np.testing.assert_allclose(values, program(X), rtol=1e-12)
    x = symbols[0]
    assert _real_valued(sympy.sqrt(sympy.Abs(x)) + sympy.log(x**2 + 1) + x ** -2)
    assert not _real_valued(sympy.sqrt(x)) and not _real_valued(sympy.log(x)) and not _real_valued(x ** 1.5)


def test_simplify_never_trades_a_finite_formula_for_an_infinite_one():
    """x/(sin(x)**2 + cos(x)**2 - 1) is zoo*x on paper; the program's protected division gives x there, and
    predict() 2.5 everywhere where the printed formula read zoo*x0 (3 nodes)."""
    x = make_symbols(1)[0]
    expr = 2 * x / (sympy.sin(x) ** 2 + sympy.cos(x) ** 2 - 1) + sympy.Rational(1, 2)
    simplified = simplify(expr, max_seconds=10)
    assert not simplified.has(sympy.zoo, sympy.nan, sympy.oo) and simplified.has(x)


def test_a_constant_program_runs_in_torch_as_in_numpy():
    program = Program(2, (), (), (), np.zeros((0, 1)), [2.0])  # no outputs: its intercept alone
    X = np.array([[1.0, 2.0], [3.0, -4.0]])
    assert ProgramModule(program)(torch.as_tensor(X)).detach().numpy().ravel().tolist() == program(X).tolist() == [2.0] * 2


def test_tidy_constants_drops_noise_and_keeps_full_precision():

    x = sympy.Symbol("x", real=True)
    noisy = sympy.Float(1.0) * sympy.log(x**2 + 1) + sympy.Float(2.220446049250313e-16)
    assert tidy_constants(noisy) == sympy.log(x**2 + 1)  # CGPRegressor printed 1.0*log(...) + 2.22e-16
    kept = sympy.Float(0.123456789012345) * x + sympy.Float(3.0000000001)
    assert tidy_constants(kept) == kept  # real constants stay at full precision
    # a large intercept is not an integer within 1e-12 of itself: 1e12 + 0.1145 lost its 0.1145 (X-Net's y ~ 1e12)
    offset = x + sympy.Float(1000000000000.1145)
    assert tidy_constants(offset) == offset
    assert tidy_constants(x + sympy.Float(3.0000000000000004)) == x + 3


def test_only_a_sums_residue_is_zeroed_never_a_small_constant_that_matters():
    """A float small beside the formula's largest is not residue: 0.0002 in exp(-0.0002*sqft) beside a price
    of 450000 decides the formula, as 0.43 does inside 1e14*sin(x + 0.43); only a sum's float term tiny beside
    the sum's own coefficients goes."""

    x, sqft = sympy.symbols("x sqft", real=True)
    price = sympy.Float(120000.0) + sympy.Float(450000.0) / (1 + sympy.Float(1.6487) * sympy.exp(
        sympy.Float(-0.0002) * sqft))
    assert round_constants(price) == 120000 + 450000 / (1 + sympy.Float(1.65, 3) * sympy.exp(
        sympy.Float(-0.0002, 3) * sqft))
    wave = sympy.Float(1e14) * sympy.sin(x + sympy.Float(0.4278))
    assert tidy_constants(wave) == 10**14 * sympy.sin(x + sympy.Float(0.4278))
    assert tidy_constants(sympy.Float(4e13) * sympy.sin(2 * x + sympy.Float(1.5))).has(sympy.Float(1.5))
    inner = sympy.sin(sympy.Float(3e-6) * x + sympy.Float(4e-19)) + 1  # residue inside a function's sum too
    assert round_constants(inner) == sympy.sin(sympy.Float(3e-6, 3) * x) + 1


def test_a_phase_beside_a_large_frequency_is_not_residue():
    """Inside sin, cos, tan, exp or tanh an intercept moves the value by its own size, however large the rest
    of the sum: sin(2.5e12*x + 1.37) was printed sin(2.5e12*x), another wave (a GHz signal in SI units alike),
    and rounded once more the phase the first rounding reduced went too."""
    from srnet.expr.symbolic import round_faithfully, tidy_constants

    x, t = sympy.symbols("x t", real=True)
    points = {"x": np.linspace(0.1, 1, 50)}
    wave = sympy.sin(sympy.Float(2.5e12) * x + sympy.Float(1.37))
    assert tidy_constants(wave, points=points).has(sympy.Float(1.37))
    assert str(round_faithfully(wave, 4, points)) == "sin(2.5e+12*x + 1.37)"
    assert str(round_constants(sympy.sin(sympy.Float(6.283e9) * t + sympy.Float(1.0)), 4)) == "sin(6.283e+9*t + 1)"
    twice = round_constants(round_constants(sympy.sin(sympy.Float(1e9) * x + 16), 4, points), 4, points)
    assert str(twice) == "-sin(1.0e+9*x + 0.292)"
    for shifted in (sympy.tanh, sympy.cos, sympy.tan):  # (sympy writes exp(a + 0.25) as 1.284*exp(a) itself)
        assert round_constants(shifted(sympy.Float(1e10) * x + sympy.Float(0.25)), 4).has(sympy.Rational(1, 4))
    # a residue that is tiny itself still goes there, and a sum outside those functions is judged as before
    assert str(round_constants(sympy.exp(sympy.Float(3e-6) * x + sympy.Float(4e-19)), 4)) == "exp(3.0e-6*x)"
    assert str(round_constants(sympy.log(sympy.Float(2.5e12) * x + sympy.Float(1.37)), 4)) == "log(2.5e+12*x)"


def test_a_formula_no_rounding_keeps_close_is_printed_exact():
    """Where 4, 6, 8 and 12 digits all move the formula by more than 1e-3 of its spread, the exact formula is
    printed, not the last rounding tried: sin(x + 1641913388.37779) at 12 digits moved 3e-3 of its spread,
    and log|x + 1e-12| lost its 1e-12 and was -inf at x = 0."""
    from srnet.expr.symbolic import round_faithfully

    x = sympy.Symbol("x", real=True)
    far = sympy.sin(x + sympy.Float(1641913388.37779))
    assert round_faithfully(far, 4, {"x": np.linspace(-3, 3, 16)}) == far
    near_pole = sympy.log(sympy.Abs(x + sympy.Float(1e-12)))
    # its 1e-12 is kept, rounded: where x is 0 it is all of its sum (judged point by point)
    assert str(round_faithfully(near_pole, 4, {"x": np.linspace(0, 1, 16)})) == "log(Abs(x + 1.0e-12))"
    assert str(round_faithfully(sympy.sin(x + sympy.Float(1.234567)), 4, {"x": np.linspace(-3, 3, 16)})) == \
        "sin(x + 1.235)"  # where 4 digits stay close, 4 digits


def test_for_reading_a_constant_that_moves_the_formula_by_nothing_goes_and_one_that_moves_it_stays():
    """A gradient leaves biases of 1e-6 that are no round-off residue (1e-9): X-Net printed
    (0.6151*x1 + 5.727e-7)*(1.626*sin(x0 + 1.309e-6) - 6.64e-7) for the x1*sin(x0) it is to 1e-6, and a term
    2.469e-12*(...)**2 beside a constant.  They go for reading where the formula without them stays within
    1e-5 of its spread at the points; a constant of the same size that the formula's variation is made of stays."""
    from srnet.expr.symbolic import round_faithfully

    x0, x1, x2 = sympy.symbols("x0 x1 x2", real=True)
    grid = np.linspace(-2, 2, 16)
    points = {"x0": grid, "x1": np.roll(grid, 5), "x2": np.roll(grid, 11)}
    hidden = (sympy.Float(0.6151) * x1 + sympy.Float(5.727e-7)) * (
        sympy.Float(1.626) * sympy.sin(x0 + sympy.Float(1.309e-6)) - sympy.Float(6.64e-7))
    assert str(round_faithfully(hidden, 4, points)) == "x1*sin(x0)"
    beside_a_constant = x1 * x2 + sympy.Float(0.7467) * sympy.sin(x0) * (
        sympy.Float(3.029) - sympy.Float(2.469e-12) * (sympy.Float(0.02651) * sympy.sin(x0) + sympy.Float(0.001423)) ** 2)
    assert str(round_faithfully(beside_a_constant, 4, points)) == "x1*x2 + 2.262*sin(x0)"
    # the same 5e-5 beside x1 of 1 to 2 looks negligible in its sum, but it is all the formula's variation
    away = {"x0": grid, "x1": np.linspace(1, 2, 16)}
    variation = x0 * (x1 + sympy.Float(5e-5)) - x0 * x1
    assert round_faithfully(variation, 4, away).has(sympy.Float(5e-5, 4))
    np.testing.assert_allclose(float(round_faithfully(variation, 4, away).subs({x0: 1.0, x1: 1.5})), 5e-5, rtol=1e-3)
    # inside a log or a divisor a tiny constant is what keeps the formula finite where the points may not look:
    # log|x0 + 3e-7| printed log|x0|, -inf at a training row x0 = 0 between the 16 points checked
    for near_pole in (sympy.log(sympy.Abs(x0 + sympy.Float(3e-7))), x1 + 1 / (x0 + sympy.Float(3e-7))):
        assert round_faithfully(near_pole, 4, points).has(sympy.Float(3e-7, 4)), near_pole
    # a two-class decision keeps its sign at every point (by_size): the term moves d by 2e-7 of 0.25, and its sign
    d = (x0 + sympy.Float(5e-7) * x1) ** 2 - sympy.Rational(1, 4)
    edge = {"x0": np.r_[np.linspace(0.3, 1, 15), 0.4999998], "x1": np.r_[np.linspace(1, 2, 15), 1.0]}
    assert round_faithfully(d, 4, edge, by_size=True).has(sympy.Float(5e-7, 4))


def test_an_intercept_is_residue_only_when_tiny_beside_the_sums_values_where_the_formula_is_read():
    """Inputs in SI units: 1.2e19*x + 0.5 for charges x ~ 1e-19.  Beside the coefficient 1.2e19 the
    0.5 looked like residue and was dropped, so CGPRegressor's expression_ differed from predict by 0.5."""
    from srnet.estimators import CGPRegressor

    x = sympy.Symbol("x", real=True)
    charges = {"x": np.linspace(1e-19, 3e-19, 40)}
    law = sympy.Float(1.2e19) * x + sympy.Float(0.5)
    assert tidy_constants(law, points=charges).has(sympy.Float(0.5)) and round_constants(law, 3, charges).has(sympy.Rational(1, 2))
    assert str(round_constants(law)) == "1.2e+19*x"  # without points: by the coefficients alone
    residue = sympy.Float(3e-6) * x + sympy.Float(4e-19)  # on inputs of order 1 the residue still goes
    assert str(round_constants(residue, 3, {"x": np.linspace(-1, 1, 40)})) == "3.0e-6*x"
    assert str(round_constants(residue, 3, {"x": np.zeros(16)})) == "3.0e-6*x"  # a flag that is 0 there: no say
    assert tidy_constants(sympy.sin(x) + sympy.Float(1e-20), points={"y": np.ones(3)}).has(sympy.Float(1e-20))

    rng = np.random.default_rng(0)
    X = rng.uniform(1e-19, 3e-19, (200, 1))
    model = CGPRegressor(max_generations=50, random_state=0, n_threads=1).fit(X, 1.2e19 * X[:, 0] + 0.5)
    (symbol,) = model.expression_.free_symbols
    shown = [float(model.expression_.subs(symbol, float(v))) for v in X[:5, 0]]
    np.testing.assert_allclose(shown, model.predict(X[:5]), rtol=1e-9)


def test_rounding_a_zero_constant():
    """A network whose output is exactly 0 gives the formula 0.0 (nsimplify's tolerance was 0: ZeroDivisionError)."""
    x = sympy.Symbol("x", real=True)
    assert round_constants(sympy.Float(0.0)) == 0
    assert round_constants(sympy.Float(0.0) * x + sympy.Float(2.5)) == sympy.Rational(5, 2)


@pytest.mark.parametrize("name, constant, value", [("div", 1.6e-19, 1.0), ("log", 1e-12, 0.0)])
def test_a_constant_within_the_protection_is_protected_in_the_formula_too(name, constant, value):
    """div(x, 1.6e-19) printed as 6.25e18*x where the program gives 1; x + log(1e-12) as x - 27.63."""
    x = make_symbols(1)[0]
    steps = ((name, 1, 0),) if name == "div" else ((name, 1, 0), ("add", 0, 2))
    program = Program(1, (constant,), steps if name == "log" else (("div", 0, 1),), (len(steps) + 1,),
                      [[1.0]], [0.0])
    X = np.linspace(1, 5, 5)[:, None]
    outputs = program.raw_outputs(X) @ program.weights + program.intercept
    formula = to_sympy(program, [x])[0]
    np.testing.assert_allclose([float(formula.subs(x, v)) for v in X[:, 0]], outputs[:, 0])
    if name == "div":
        assert not formula.free_symbols and float(formula) == value


def test_a_constant_program_round_trips_through_json():
    """Its (0, 1) weights were written as [] and read back as 1-D: refused."""
    constant = Program(1, (), (), (), np.zeros((0, 1)), [3.0])
    again = Program.from_json(constant.to_json())
    assert again.to_dict() == constant.to_dict()
    X = np.ones((4, 1))
    np.testing.assert_array_equal(again.raw_outputs(X) @ again.weights + again.intercept, [[3.0]] * 4)


def test_values_at_is_sympy_s_value_at_each_point():
    """The rounding and residue checks evaluated formulas point by point through sympy's evalf: minutes on a
    classifier's formula with tanh, and a ZeroDivisionError where a term divides by 0 at a point."""
    from srnet.expr.symbolic import evaluate_sympy, round_faithfully, values_at

    x, y = sympy.symbols("x y", real=True)
    columns = {"x": np.array([-2.0, -0.5, 0.0, 0.5, 3.0, 7.25]), "y": np.array([1.0, 2.0, 3.0, 4.0, 5.0, -1.5])}
    points = np.column_stack([columns["x"], columns["y"]])
    for expr in (3 * sympy.tanh(x) + sympy.log(sympy.Abs(x)), sympy.sqrt(x) + y, sympy.pi * x**2 / y,
                 sympy.exp(x) * sympy.cos(y) - sympy.tan(x / y), sympy.sin(x) ** sympy.Rational(1, 3),
                 sympy.sinh(x) + sympy.Float(0.25), sympy.Integer(2), 1 / x + y):
        want = np.array(evaluate_sympy(expr, (x, y), points), dtype=float)
        want[~np.isfinite(want)] = np.nan
        np.testing.assert_allclose(values_at(expr, columns, len(points)), want, rtol=1e-12, equal_nan=True,
                                   err_msg=str(expr))
    pole = sympy.Float(1.23456789) / x + sympy.Float(2.5) * y  # 1/x at x = 0 among the points
    assert str(round_faithfully(pole, 4, columns)) == "5*y/2 + 1.235/x"


def _stalling_formula():
    """A 170-node formula of feynman2's layer-wise chain (srnet compare, 10 s): sympy.powsimp of it ran for
    minutes, asking whether tanh(tan(...)**2) is real (as_real_imag -> Mod -> gcd -> expand)."""
    x0, x1, x2, x3, x4 = make_symbols(5)
    a = 0.0276401295049054 * x2 * ((-x1 + x2 / x3 - x4) / sympy.sqrt(sympy.Abs(x2)) - sympy.sqrt(sympy.Abs(x0))) / x3
    u = sympy.tanh(sympy.tan(a + 1.07180031140941) ** 2)
    v = sympy.tanh(sympy.tan(-a - 1.07180031140941) ** 2)
    tail = sympy.log(sympy.sqrt(sympy.Abs(sympy.cos(1.21184735329281 * v - 1.47597213707836)
                                          - 1.21184735329281 * v + 1.47597213707836)))
    head = sympy.tanh(sympy.sin(0.365816089135661 * u + 0.620716914659792)
                      - sympy.cos(sympy.sin((1.47597213707836 - 1.21184735329281 * u) ** 2)))
    return 54.3761623520842 + 39.8299837799173 * head / tail, (x0, x1, x2, x3, x4)


def test_simplify_keeps_its_deadline_where_combining_powers_stalls(monkeypatch):
    """The in-process clean-up had no deadline: a comparison run stood still for hours on this formula."""
    import threading

    import srnet.expr.symbolic as symbolic
    monkeypatch.setattr(symbolic, "IN_PROCESS_SECONDS", 0.3)
    expr, symbols = _stalling_formula()
    done = {}
    worker = threading.Thread(target=lambda: done.setdefault("result", simplify(expr, max_seconds=0.5)), daemon=True)
    start = time.perf_counter()
    worker.start()  # in a thread: the deadline must hold in Dask's worker threads too, not only the main one
    worker.join(60)
    assert "result" in done and time.perf_counter() - start < 10
    X = np.random.default_rng(0).uniform(1, 5, size=(20, 5))
    f = sympy.lambdify(symbols, expr, "numpy")
    np.testing.assert_allclose(sympy.lambdify(symbols, done["result"], "numpy")(*X.T), f(*X.T), rtol=1e-9)


def test_a_time_limit_interrupts_python_work_and_never_fires_after_its_block():
    from srnet.expr.symbolic import time_limit
    start = time.perf_counter()
    with time_limit(0.2) as limit:
        while True:
            sum(range(1000))
    assert limit.expired and 0.15 < time.perf_counter() - start < 5
    with time_limit(5) as outer:  # nested: the inner limit's deadline stops the inner block only
        with time_limit(0.1) as inner:
            while True:
                sum(range(1000))
        assert inner.expired
    assert not outer.expired
    with time_limit(0.2) as outer:  # and the outer one's passes through the inner block
        with time_limit(5) as inner:
            while True:
                sum(range(1000))
    assert outer.expired and not inner.expired
    with time_limit(0.05):
        total = sum(range(100))
    deadline = time.perf_counter() + 0.3
    while time.perf_counter() < deadline:  # the timer would have fired here: it must have been cancelled
        total += sum(range(100))
    assert total > 4950


def test_a_time_limit_waits_out_a_finaliser_then_stops_the_block():
    """Raised inside a __del__ (or a weakref or garbage-collection callback) the stop is "ignored": printed as
    "Exception ignored in ..." (once a suite in CI's log), and a weakref callback cut short."""
    import sys

    from srnet.expr.symbolic import time_limit

    class Slow:
        def __del__(self):
            end = time.perf_counter() + 0.3
            while time.perf_counter() < end:
                pass

    ignored, previous = [], sys.unraisablehook
    sys.unraisablehook = ignored.append
    try:
        with time_limit(0.1) as limit:
            Slow()  # its finaliser runs now, across the deadline
            while True:
                sum(range(1000))
    finally:
        sys.unraisablehook = previous
    assert limit.expired and not ignored


def test_a_composition_that_stalls_is_written_as_built_with_the_same_values(monkeypatch):
    import srnet.formulas as formulas
    monkeypatch.setattr(formulas, "COMPOSE_SECONDS", 0.0)  # every composition "stalls"
    spec = GenomeSpec(n_inputs=2, n_outputs=2, n_columns=12, n_constants=2)
    symbols = make_symbols(2)
    X = np.random.default_rng(1).normal(size=(30, 2))
    for seed in (3, 28):  # 28's second layer divides by -tan(sin f) + tan(sin f): exactly 0, so protected: 1
        first = Program.from_genome(Genome.random(spec, seed), weights=[[2.0, 0.5], [-1.0, 3.0]],
                                    intercept=[0.25, -4.0])
        second = Program.from_genome(Genome.random(spec, seed + 100), weights=[[1.5], [-0.5]], intercept=[1.0])
        formula = formulas.Formula("layerwise", (first, second))
        expr = formula.expressions(symbols)[0]
        values = np.broadcast_to(sympy.lambdify(symbols, expr, "numpy")(*X.T), (30,))
        np.testing.assert_allclose(values, formula(X)[:, 0], rtol=1e-9, atol=1e-12)


def test_a_program_modules_zero_weight_can_still_be_trained():
    """torch.where on the product made d(loss)/dw 0 wherever w == 0: the term could never turn on."""
    program = Program(1, (), (("sin", 0, 0), ("square", 0, 0)), (1, 2), [[1.0], [0.0]], [0.0])
    module = ProgramModule(program)
    x = torch.linspace(-2, 2, 50, dtype=torch.float64)[:, None]
    loss = ((module(x)[:, 0] - x[:, 0] ** 2) ** 2).mean()
    loss.backward()
    residual = torch.sin(x[:, 0]) - x[:, 0] ** 2
    expected = (2 * residual * x[:, 0] ** 2).mean()
    assert float(module.weights.grad[1, 0]) == pytest.approx(float(expected), rel=1e-12) and expected != 0
    overflow = Program(1, (), (("exp", 0, 0), ("exp", 1, 0)), (0, 2), [[1.0], [0.0]], [0.0])  # 0 * exp(exp(x))
    values = ProgramModule(overflow)(torch.tensor([[500.0]], dtype=torch.float64))
    assert values.tolist() == [[500.0]]


def test_a_program_module_computes_half_precision_in_float32():
    """softplus(12) was inf in float16 (the exp cap of 80 is no cap there)."""
    program = Program(1, (1.0,), (("exp", 0, 0), ("add", 2, 1), ("log", 3, 0)), (4,), [[1.0]], [0.0])
    module = ProgramModule(program)
    for dtype in (torch.float16, torch.bfloat16):
        out = module(torch.tensor([[12.0], [50.0]], dtype=dtype))
        assert out.dtype == dtype and torch.isfinite(out).all() and out[1, 0].item() == pytest.approx(50, rel=1e-2)


def test_rounding_that_stalls_is_put_together_as_built_with_the_same_values(monkeypatch):
    """Rounding a feynman2 formula's constants stood still for minutes in Abs(tanh(...)) (is it real?)."""
    import srnet.expr.symbolic as symbolic
    x0, x1 = make_symbols(2)
    expr = 1.23456789 * sympy.log(sympy.Abs(sympy.tanh(sympy.tan(0.987654321 * x0) ** 2) + x1)) - 0.5000001 * x1
    expected = round_constants(expr, 4)
    monkeypatch.setattr(symbolic, "IN_PROCESS_SECONDS", 0.0)  # every rebuild "stalls"
    monkeypatch.setattr(symbolic, "REBUILD_SECONDS_PER_NODE", 0.0)
    stalled = round_constants(expr, 4)
    X = np.random.default_rng(0).uniform(0.1, 1, (20, 2))
    np.testing.assert_allclose(evaluate_sympy(stalled, (x0, x1), X), evaluate_sympy(expected, (x0, x1), X),
                               rtol=1e-12)


def test_a_time_limit_fires_again_when_its_first_stop_is_swallowed():
    """Raised inside a weakref callback (a garbage collection), the stop was ignored and the block ran on."""
    import threading

    from srnet.expr.symbolic import SympyTimeout, time_limit
    outcome = {}

    def run():
        swallowed = []
        with time_limit(0.1) as limit:
            while True:
                try:
                    while True:
                        sum(range(1000))
                except SympyTimeout:
                    if swallowed:
                        raise
                    swallowed.append(1)  # as an 'Exception ignored in' callback swallows it
        outcome.update(expired=limit.expired, swallowed=len(swallowed))

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(10)
    assert outcome == {"expired": True, "swallowed": 1}


def _squaring_chain(k: int) -> Program:
    """2*x squared k times: a program of k + 1 steps whose formula is (2x)**(2**k)."""
    return Program.from_dict({"format": "srnet.program", "version": 1, "n_inputs": 1, "constants": [],
                              "steps": [["add", 0, 0]] + [["mul", j, j] for j in range(1, k + 1)],
                              "outputs": [k + 1], "weights": [[1.0]], "intercept": [0.0]})


def test_a_program_whose_formula_sympy_cannot_build_is_refused_in_one_line():
    """A 927-byte document squaring 2*x forty times asked sympy for 2**(2**40) exactly (it never returned); a
    chain of 3000 sines was a RecursionError; symbols given as strings failed deep inside sympy."""
    import sympy

    from srnet.expr import make_symbols, to_sympy

    x = make_symbols(1)
    assert to_sympy(_squaring_chain(16), x)[0] == (2 * x[0]) ** 65536  # the largest degree written
    with pytest.raises(ValueError, match=r"^the program's formula reaches polynomial degree over 65536 \(step 17\)"):
        to_sympy(_squaring_chain(40), x)
    deep = Program(1, (), tuple(("sin", j, 0) for j in range(3000)), (3000,), np.ones((1, 1)), np.zeros(1))
    with pytest.raises(ValueError, match=r"^the program's 3000 steps nest too deeply for a sympy formula"):
        to_sympy(deep, x)
    assert to_sympy(Program(1, (), tuple(("sin", j, 0) for j in range(50)), (50,), np.ones((1, 1)), np.zeros(1)),
                    x)[0].count(sympy.sin) == 50
    with pytest.raises(TypeError, match=r"^symbols must be sympy expressions \(srnet.expr.make_symbols\); got str$"):
        to_sympy(_squaring_chain(1), ["a"])


@pytest.mark.parametrize("function", [complexity, simplify, latex, round_constants,
                                      lambda text: is_equivalent(text, sympy.Symbol("x"))])
def test_formula_functions_refuse_text_and_never_parse_it(function):
    """complexity("__import__('os')...") answered 1, and simplify("x+1") failed deep inside sympy."""
    with pytest.raises(TypeError, match=r"takes a sympy expression, got str \(srnet parses no formula text"):
        function("__import__('os').system('echo hi')")
    assert complexity(2.5) == 1 and simplify(3) == 3  # a number is an expression


def test_program_module_refuses_what_is_not_a_program_or_a_tensor(program):
    with pytest.raises(TypeError, match=r"^ProgramModule takes a srnet.expr.Program, got str"):
        ProgramModule("x0 + 1")
    with pytest.raises(TypeError, match=r"^ProgramModule needs a torch.Tensor, got ndarray"):
        ProgramModule(program)(np.ones((2, 2)))


def test_from_json_of_a_parsed_document_points_to_from_dict(program):
    with pytest.raises(TypeError, match=r"^program JSON must be text, got dict \(a parsed document: from_dict\)$"):
        Program.from_json(program.to_dict())


def test_a_monomial_negligible_at_the_points_is_dropped_as_residue():
    """Expanding (6.241e-8*h + 0.8543)**2 left 3.895e-15*h**2 in a printed classifier's formula (1e-15 of its
    sum): at the points it is read at, it is nothing. Terms of functions, and terms without points, stay."""
    h, w, x = sympy.symbols("h w x", real=True)
    points = {"h": np.linspace(-3, 3, 40), "w": np.linspace(-3, 3, 40), "x": np.linspace(-1, 0, 40)}
    argument = sympy.Float(3.89453e-15) * h**2 + sympy.Float(5.79646) * h + sympy.Float(5.28541) * w**2 + 9
    assert str(round_constants(sympy.sqrt(sympy.Abs(argument)), 4, points)) == "sqrt(Abs(5.796*h + 5.285*w**2 + 9))"
    assert round_constants(argument, 4).has(h**2)  # no points: kept
    assert round_constants(sympy.Float(1e-15) * sympy.exp(40 * x) + x, 4, points).has(sympy.exp)  # a function's
    assert round_constants(sympy.Float(1e-6) * x**3 + x, 4, points).has(x**3)  # 1e-6 of its sum: it matters
    # inside a shifted function, only a term tiny itself goes (it moves the argument by its own size)
    assert round_constants(sympy.sin(sympy.Float(2.5e12) * x + sympy.Float(1e-4) * x**2), 4, points).has(x**2)


def test_a_term_that_varies_is_no_residue_beside_a_large_intercept():
    """X-Net fitted y = 1e12 + 0.5*x0 - 0.25*x1 (predict R2 1.0), and its expression_ read 1000000000000: each
    varying term was below 1e-12 of the sum beside the intercept, and went as residue.  A term is residue only
    when its variation is also negligible beside the rest's: the formula keeps what predict computes (values
    by NumPy); an expansion's residue beside terms that vary still goes."""
    x0, x1 = sympy.symbols("x0 x1", real=True)
    X = np.random.default_rng(0).uniform(-1, 1, (50, 2))
    points = {"x0": X[:, 0], "x1": X[:, 1]}
    tidied = tidy_constants(sympy.Float(0.5) * x0 - sympy.Float(0.25) * x1 + sympy.Float(1e12), points=points)
    values = sympy.lambdify((x0, x1), tidied, "numpy")(X[:, 0], X[:, 1])
    np.testing.assert_allclose(values - 1e12, 0.5 * X[:, 0] - 0.25 * X[:, 1], atol=1e-3)
    assert tidy_constants(sympy.Float(1e-9) * x0 + sympy.Float(1e4), points=points).has(x0)  # the only variation
    residue = sympy.Float(3.9e-15) * x0**2 + sympy.Float(0.85) * x0 + 2
    assert str(tidy_constants(residue, points=points)) == "0.85*x0 + 2"
def test_a_program_document_s_errors_name_the_fields_and_stay_one_short_line():
    """A 5000-letter primitive name was echoed whole; a second intercept read "weights have shape (1, 1),
    expected (1, 2)", naming the field that was right."""
    document = {"format": "srnet.program", "version": 1, "n_inputs": 1, "constants": [],
                "steps": [["x" * 5000, 0, 0]], "outputs": [1], "weights": [[1.0]], "intercept": [0.0]}
    with pytest.raises(ValueError, match=r"^unknown primitive 'x+\.\.\.; valid primitives: add, ") as error:
        Program.from_dict(document)
    assert len(str(error.value)) < 300
    document.update(steps=[["sin", 0, 0]], intercept=[0.0, 1.0])
    with pytest.raises(ValueError, match=r"a row per output \(1\), a column per intercept \(2\)"):
        Program.from_dict(document)
