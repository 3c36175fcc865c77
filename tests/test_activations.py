"""ExpressionActivation: the formula, its gradient, JSON, training, devices,
and clear errors for bad input.

Oracles: sympy (the exact formula and its exact derivative) wherever no
protection fires, and the NumPy program (the engine's protected semantics)
everywhere, protected points included.
"""

import json
import math

import numpy as np
import pytest
import sympy
import torch
import torch.nn.functional as F
from _oracle import SPECIAL_VALUES, protection_fired, stable_rows
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from srnet.activations import (
    VARIABLE,
    DegenerateActivationError,
    ExpressionActivation,
    check_activation,
    collapse_inputs,
    collapse_variables,
    light_network,
    program_from_sympy,
    simplify_program,
    train_binary,
)
from srnet.activations.programs import standardise_program  # not yet exported by srnet.activations under this spelling
from srnet.cgp import Genome, GenomeSpec
from srnet.cgp.primitives import EXP_MAX, PRIMITIVE_CODES, PRIMITIVES
from srnet.expr import Program

x = VARIABLE
ALL = tuple(sorted(PRIMITIVE_CODES))
SWISH = x / (1 + sympy.exp(-x))
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")

one_input_specs = st.builds(GenomeSpec, n_inputs=st.just(1), n_outputs=st.just(1), n_rows=st.just(1),
                            n_columns=st.integers(2, 8),
                            functions=st.lists(st.sampled_from(ALL), min_size=2, max_size=8, unique=True).map(tuple),
                            n_constants=st.integers(0, 2))


def points(rng, n):
    """Normal values mixed with the special ones (0, +-1e-12, negatives, large)."""
    values = rng.standard_normal(n) * rng.choice([0.1, 1.0, 10.0], size=n)
    mask = rng.random(n) < 0.4
    values[mask] = rng.choice(SPECIAL_VALUES, size=mask.sum())
    return values


def value_and_grad(module, values, dtype=torch.float64):
    values = np.asarray(values, dtype=np.float64)
    t = torch.tensor(values, dtype=dtype, requires_grad=True)
    y = module(t)
    if not y.requires_grad:  # a formula without x (allowed when the check is off): flat
        return y.detach().numpy(), np.zeros_like(values)
    (grad,) = torch.autograd.grad(y.sum(), t)
    return y.detach().numpy(), grad.numpy()


def exact(expr, value, digits=30):
    number = complex(expr.xreplace({x: sympy.Float(float(value), 40)}).evalf(digits))
    return number.real if abs(number.imag) <= 1e-12 * max(1.0, abs(number.real)) else math.nan


def same(a, b, rtol=1e-9):
    return (a == b) | (np.isnan(a) & np.isnan(b)) | (np.isfinite(a) & np.isfinite(b)
                                                     & np.isclose(a, b, rtol=rtol, atol=1e-12))


def step_names(expr):
    return [name for name, _, _ in program_from_sympy(expr, [x]).steps]


# ------------------------------------------------- values and gradients

@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=one_input_specs, seed=st.integers(0, 2**32))
def test_output_and_gradient_match_sympy_and_the_engine(spec, seed):
    program = Program.from_genome(Genome.random(spec, seed))
    module = ExpressionActivation(program, check_range=None)  # raw semantics, degenerate formulas too
    rng = np.random.default_rng(seed)
    values = points(rng, 16)
    values = values[np.abs(values) < 1e6]  # sympy's exact arithmetic on 1e200 is needlessly slow
    got, grad = value_and_grad(module, values)
    X = values[:, None]
    # the engine's protected semantics everywhere (protected points included)
    stable = stable_rows(program, X)
    assert np.all(same(got[stable], program(X)[stable])), program.steps
    assert not np.any(np.isnan(grad) & np.isfinite(got)), "a finite output must get a non-NaN gradient"
    # the exact formula and its derivative where no protection fires
    expr = module.sympy()
    derivative = sympy.diff(expr, x)
    keep = stable & ~protection_fired(program, X) & np.isfinite(got) & (np.abs(got) < 1e12)
    for value, out, slope in zip(values[keep], got[keep], grad[keep]):
        assert math.isclose(exact(expr, value), out, rel_tol=1e-7, abs_tol=1e-9), (expr, value)
        want = exact(derivative, value)
        nearby = exact(derivative, value * (1 + 1e-10) + 1e-12)
        if not (math.isfinite(want) and abs(want) < 1e12 and math.isclose(want, nearby, rel_tol=1e-6)):
            continue  # a kink or an ill-conditioned point: chaos, not a bug
        # autograd sums terms of size ~|out / value| (the chain rule through a quotient or a
        # power), so where those cancel (Abs(x)/x near 0: two 1e10 terms, slope 0) its slope
        # carries their rounding: allow one part in 1e12 of that scale
        roundoff = 1e-12 * abs(out) / max(abs(value), 1e-150)
        assert math.isclose(slope, want, rel_tol=1e-6, abs_tol=max(1e-8, roundoff)), (expr, derivative, value)


@pytest.mark.parametrize("expr, point, value, slope", [
    (1 / x, 0.0, 1.0, 0.0),                         # div by ~0 -> 1, flat
    (1 / x, 1e-12, 1.0, 0.0),
    (1 / x, -1e-12, 1.0, 0.0),
    (sympy.log(sympy.Abs(x)), 0.0, 0.0, 0.0),       # log|a| -> 0 near 0
    (sympy.log(sympy.Abs(x)), -1e-12, 0.0, 0.0),
    (sympy.log(sympy.Abs(x)), -2.0, math.log(2.0), -0.5),
    (sympy.sqrt(sympy.Abs(x)), 0.0, 0.0, 0.0),      # sqrt|a|: finite gradient at 0
    (sympy.sqrt(sympy.Abs(x)), -4.0, 2.0, -0.25),
    (sympy.exp(x) / 1e30, 100.0, math.exp(EXP_MAX) / 1e30, 0.0),  # exp clipped at 80
])
def test_protected_points_follow_the_engine(expr, point, value, slope):
    module = ExpressionActivation.from_sympy(expr, check_range=None)
    got, grad = value_and_grad(module, [point])
    assert got[0] == pytest.approx(value, rel=1e-12, abs=1e-300)
    assert grad[0] == pytest.approx(slope, rel=1e-9, abs=1e-12)
    assert got[0] == pytest.approx(module.program(np.array([[point]]))[0], rel=1e-12, abs=1e-300)


def test_every_primitive_converts_from_its_own_sympy_form():
    values = np.concatenate([np.linspace(-4, 4, 41), [0.0, 1e-12, -1e-12, 90.0]])
    u = sympy.sin(x) + 2  # a second argument that is never ~0
    for prim in PRIMITIVES:
        expr = prim.sympy(x, u) if prim.arity == 2 else prim.sympy(x, x)
        module = ExpressionActivation.from_sympy(expr, check_range=None)
        with torch.no_grad():
            got = module(torch.tensor(values, dtype=torch.float64)).numpy()
        want = prim.numpy(values, np.sin(values) + 2) if prim.arity == 2 else prim.numpy(values, values)
        assert np.allclose(got, want, rtol=1e-12, atol=1e-12), prim.name


def test_sympy_forms_map_to_the_primitives_themselves():
    assert step_names(1 / (1 + sympy.exp(-x))) == ["sigmoid"]
    assert step_names(sympy.sqrt(sympy.Abs(x))) == ["sqrt"]
    assert step_names(sympy.log(sympy.Abs(x))) == ["log"]
    assert step_names(x**3) == ["cube"]
    assert step_names(x**5) == ["square", "square", "mul"]
    assert step_names(x * sympy.sin(x) + sympy.sin(x)).count("sin") == 1  # shared sub-expression
    program = program_from_sympy(3 * sympy.tanh(x) - 2, [x])  # scale and offset go to the output map
    assert [s[0] for s in program.steps] == ["tanh"]
    assert program.weights[0, 0] == 3 and program.intercept[0] == -2


def test_float32_and_float64_keep_their_dtype():
    module = ExpressionActivation.from_sympy(SWISH + 0.5 * sympy.cos(x))
    for dtype in (torch.float32, torch.float64):
        out = module(torch.linspace(-3, 3, 11, dtype=dtype))
        assert out.dtype == dtype and out.shape == (11,)
    batch = torch.randn(4, 5, 6)
    assert module(batch).shape == batch.shape


# --------------------------------------------------------------- JSON

def test_json_round_trip_reproduces_outputs_exactly(tmp_path):
    module = ExpressionActivation.from_sympy(sympy.tanh(x) * sympy.sqrt(sympy.Abs(x)) + sympy.pi / (1 + x**2),
                                             affine=True, label="test")
    with torch.no_grad():  # as if trained
        for name, value in zip("abcd", (1.5, -0.75, 0.1, 0.3)):
            getattr(module, name).fill_(value)
    path = tmp_path / "activation.json"
    module.save(path)
    loaded = ExpressionActivation.load(path)
    inputs = torch.tensor(np.concatenate([np.linspace(-6, 6, 101), SPECIAL_VALUES[:10]]), dtype=torch.float32)
    with torch.no_grad():
        assert torch.equal(module(inputs), loaded(inputs))
        assert torch.equal(module(inputs.double()), loaded(inputs.double()))
    assert loaded.program == module.program and loaded.label == "test"
    assert json.loads(path.read_text())["affine"] == {"a": 1.5, "b": -0.75, "c": pytest.approx(0.1), "d":
                                                      pytest.approx(0.3)}
    assert loaded.to_dict() == module.to_dict()


def test_repr_shows_the_formula():
    module = ExpressionActivation.from_sympy(SWISH)
    assert "x/(1 + exp(-x))" in repr(module)
    assert "a*g(b*x + c) + d" in repr(ExpressionActivation.from_sympy(SWISH, affine=True))
    assert "ExpressionActivation(g(x) = x/(1 + exp(-x)))" in repr(light_network(3, module))


def test_sympy_of_an_affine_activation_matches_its_output():
    module = ExpressionActivation.from_sympy(sympy.sin(x) + x, affine={"a": 2.0, "b": 0.5, "c": -1.0, "d": 3.0})
    f = sympy.lambdify(x, module.sympy(), "numpy")
    values = np.linspace(-3, 3, 13)
    with torch.no_grad():
        assert np.allclose(module(torch.tensor(values)).numpy(), f(values), rtol=1e-6)


def test_state_dict_holds_the_affine_parameters_alone():
    module = ExpressionActivation.from_sympy(sympy.sin(x + 2) * 3 + x, affine=True)
    assert set(module.state_dict()) == {"a", "b", "c", "d"}
    twin = ExpressionActivation.from_dict(module.to_dict())
    with torch.no_grad():
        module.a.fill_(2.5)
    twin.load_state_dict(module.state_dict())
    assert float(twin.a.detach()) == 2.5


def test_a_gelu_network_s_weights_load_into_the_network_with_a_found_activation_and_back():
    """The formula's numbers were saved as buffers: a GELU network's state_dict was refused (missing
    "1.constants", ...), and the other way round, where an activation holds no state in PyTorch."""
    torch.manual_seed(0)
    gelu = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.GELU(), torch.nn.Linear(4, 1))
    found = torch.nn.Sequential(torch.nn.Linear(3, 4), ExpressionActivation.from_sympy(x * sympy.tanh(x) + 0.1),
                                torch.nn.Linear(4, 1))
    found.load_state_dict(gelu.state_dict())
    assert torch.equal(found[0].weight, gelu[0].weight)
    gelu.load_state_dict(found.state_dict())


def both_paths(module, inputs):
    """The module's output fused and unfused (its ``fused`` setting kept)."""
    kept = module.fused
    try:
        outputs = []
        for fused in (True, False):
            module.fused = fused
            with torch.no_grad():
                outputs.append(module(inputs))
        return outputs
    finally:
        module.fused = kept


def test_a_state_dict_of_another_formula_is_refused_and_the_paths_keep_agreeing():
    """The buffers used to take another formula's constants, which only the
    unfused walk reads: the two paths computed different functions."""
    first = ExpressionActivation.from_sympy(sympy.sin(x / 3) + x / 7, affine=True)
    second = ExpressionActivation.from_sympy(sympy.sin(x / 5) + x / 7, affine=True)
    inputs = torch.linspace(-4, 4, 9, dtype=torch.float64)
    before = both_paths(second, inputs)

    def saved_with_numbers(module):  # as srnet saved it before: the formula's numbers beside the affine parameters
        return {**module.state_dict(), **{name: getattr(module, name) for name in
                                          ("constants", "out_weights", "out_intercept")}}

    with pytest.raises(RuntimeError, match="constants holds another formula's numbers; this activation computes "
                                           r"g\(x\) = 0.1429\*x \+ sin\(0.2\*x\)"):
        second.load_state_dict(saved_with_numbers(first))
    for got, want in zip(both_paths(second, inputs), before):
        assert torch.equal(got, want)
    # the same formula's state loads (the affine parameters), also saved in half precision
    twin = ExpressionActivation.from_sympy(sympy.sin(x / 3) + x / 7, affine=True)
    with torch.no_grad():
        first.a.fill_(2.5)
    state = {name: value.half() if name in ("constants", "out_weights") else value
             for name, value in saved_with_numbers(first).items()}
    twin.load_state_dict(state)
    assert float(twin.a.detach()) == 2.5 and twin.constants.dtype == torch.float64
    fused, unfused = both_paths(twin, inputs)
    assert torch.equal(fused, both_paths(first, inputs)[0]) and torch.allclose(fused, unfused, rtol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_inputs_are_computed_in_float32_and_rounded_back(dtype):
    """In float16 exp's cap of 80 was no cap (65504 is passed at x ~ 11): softplus(12) was inf and mish's
    gradient NaN, where torch's own F.softplus and F.mish are finite; in bfloat16 the constants lost their
    digits (8.955 -> 8.9375)."""
    softplus = ExpressionActivation.from_sympy(sympy.log(1 + sympy.exp(x)))
    mish = ExpressionActivation.from_sympy(x * sympy.tanh(sympy.log(1 + sympy.exp(x))))
    wave = ExpressionActivation.from_sympy(sympy.Float(8.955) * sympy.cos(sympy.cos(sympy.sin(x))) - 6.181)
    inputs = torch.tensor([-3.0, 0.5, 4.0, 12.0, 20.0])
    for module in (softplus, mish, wave):
        for path in (module, module.g):
            low = inputs.to(dtype).requires_grad_(True)
            out = path(low)
            assert out.dtype == dtype
            assert torch.equal(out, path(inputs).to(dtype))  # float32's answer, rounded once
            (grad,) = torch.autograd.grad(out.sum(), low)
            assert grad.dtype == dtype and torch.isfinite(grad).all()
    assert torch.equal(softplus(inputs.to(dtype)), F.softplus(inputs).to(dtype))


def test_a_dtype_round_trip_keeps_the_formula_s_exact_numbers():
    """.bfloat16() used to round the constant buffers (1/3 to 0.3340) for
    good, which only the unfused walk reads."""
    module = ExpressionActivation.from_sympy(sympy.sin(x / 3) + x * 0.1234567891)
    reference = ExpressionActivation.from_sympy(sympy.sin(x / 3) + x * 0.1234567891)
    inputs = torch.linspace(-4, 4, 9)
    module.bfloat16()
    assert module.constants.dtype == torch.float64
    assert torch.allclose(*both_paths(module, inputs.bfloat16()), rtol=1e-2)  # in bfloat16, the torch forms
    module.float()
    for got, want in zip(both_paths(module, inputs), both_paths(reference, inputs)):
        assert torch.equal(got, want)
    assert all(torch.equal(module.state_dict()[name], value) for name, value in reference.state_dict().items())


# --------------------------------------------------------- bad input

def test_a_unary_step_s_unused_second_address_is_never_read():
    """Program.from_dict accepts any second address on a unary step (only the
    addresses a step reads are checked); to_sympy read it all the same, so
    repr() and to_json() of such an activation raised IndexError."""
    document = {"format": "srnet.activation", "version": 1, "affine": None, "check_range": [-5, 5], "label": None,
                "program": {"format": "srnet.program", "version": 1, "n_inputs": 1, "constants": [],
                            "steps": [["sin", 0, 7]], "outputs": [1], "weights": [[1.0]], "intercept": [0.0]}}
    module = ExpressionActivation.from_json(json.dumps(document))
    assert "g(x) = sin(x)" in repr(module) and module.sympy() == sympy.sin(x)
    assert ExpressionActivation.from_json(module.to_json()).program == module.program
    with torch.no_grad():
        assert torch.equal(module(torch.tensor([0.5])), torch.sin(torch.tensor([0.5])))


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.bool])
@pytest.mark.parametrize("fused", [True, False])
def test_a_non_floating_input_is_a_type_error(dtype, fused):
    """sin(x/2) at tensor([1, 2, 3]) gave zeros: the constant 1/2, cast to int64, was 0."""
    module = ExpressionActivation.from_sympy(sympy.sin(x / 2), fused=fused)
    inputs = torch.tensor([1, 2, 3]).to(dtype)
    for call in (module, module.g):
        with pytest.raises(TypeError, match=f"ExpressionActivation needs a floating-point input, got {dtype}"):
            call(inputs)


AFFINE = {"a": 1.5, "b": -0.75, "c": 0.1, "d": 0}


@pytest.mark.parametrize("field, value, message", [
    ("check_range", [1, 2, 3], "check_range must be [low, high], got [1, 2, 3]"),
    ("check_range", 5, "check_range must be a list, got 5"),
    ("check_range", "ab", "check_range must be a list, got 'ab'"),
    ("check_range", {"a": 1, "b": 2}, "check_range must be a list, got {'a': 1, 'b': 2}"),
    ("check_range", [0, 10**400], "check_range's high is too large for a float: 1000"),
    ("check_range", ["-5", "5"], "check_range's low must be a number, got '-5'"),
    ("check_range", [False, True], "check_range's low must be a number, got False"),
    ("check_range", [5, 1], r"check_range must be two finite numbers low < high, got [5, 1]"),
    ("check_range", [1, 1], r"check_range must be two finite numbers low < high, got [1, 1]"),
    ("label", 3, "label must be a string or null, got 3"),
    ("affine", {**AFFINE, "a": "1e3"}, "affine parameter a must be a number, got '1e3'"),
    ("affine", {**AFFINE, "a": True}, "affine parameter a must be a number, got True"),
    ("affine", {**AFFINE, "d": 10**400}, "affine parameter d is too large for a float: 1000"),
    ("affine", {}, "affine must be null or an object of the numbers a, b, c, d, got {}"),
    ("affine", {"a": 1.0}, "affine must be null or an object of the numbers a, b, c, d, got {'a': 1.0}"),
    ("affine", True, "affine must be null or an object of the numbers a, b, c, d, got True"),
    ("affine", [1, 1, 0, 0], "affine must be null or an object of the numbers a, b, c, d, got [1, 1, 0, 0]"),
    ("affine_dtype", ["float64"], "affine_dtype must be one of"),  # unhashable: a TypeError traceback
    ("affine_dtype", "int8", "affine_dtype must be one of"),
])
def test_malformed_check_range_or_affine_in_json_is_a_one_line_error(field, value, message):
    """These gave vague errors (naming a value_range the JSON does not have),
    OverflowError tracebacks, or were coerced ("-5" to -5.0, [false, true] to
    (0, 1), {} to no affine wrapper, a number as a label)."""
    data = ExpressionActivation.from_sympy(SWISH, affine=AFFINE).to_dict()
    data[field] = value
    with pytest.raises(ValueError) as excinfo:
        ExpressionActivation.from_json(json.dumps(data))
    assert str(excinfo.value).startswith(f"malformed srnet activation: {message}") and "\n" not in str(excinfo.value)


def test_check_range_and_affine_in_json_may_be_null_integers_or_absent():
    data = ExpressionActivation.from_sympy(SWISH).to_dict()
    loaded = ExpressionActivation.from_dict({**data, "check_range": [-3, 3], "affine": {"a": 2, "b": 1, "c": 0, "d": 0}})
    assert loaded.check_range == (-3.0, 3.0) and float(loaded.a.detach()) == 2.0
    loaded = ExpressionActivation.from_dict({**data, "check_range": None, "affine": None})
    assert loaded.check_range is None and not loaded.affine
    data.pop("check_range")
    data.pop("affine")
    assert ExpressionActivation.from_dict(data).check_range == (-5.0, 5.0)


def test_unknown_primitive_in_json_is_a_clear_error():
    data = ExpressionActivation.from_sympy(SWISH).to_dict()
    data["program"]["steps"][0][0] = "erf"
    with pytest.raises(ValueError, match="unknown primitive 'erf'; valid primitives: add"):
        ExpressionActivation.from_dict(data)
    with pytest.raises(ValueError, match="corrupt"):
        ExpressionActivation.from_json("{not json")
    with pytest.raises(ValueError, match="not an srnet activation"):
        ExpressionActivation.from_dict({"format": "srnet.program"})
    data = ExpressionActivation.from_sympy(SWISH).to_dict()
    data["affine"] = {"a": 1.0, "b": 1.0}
    with pytest.raises(ValueError, match="a, b, c, d"):
        ExpressionActivation.from_dict(data)


def test_two_variables_where_one_is_required():
    y = sympy.Symbol("y")
    with pytest.raises(ValueError, match=r"2 variables \(x, y\).*one"):
        ExpressionActivation.from_sympy(x * sympy.sin(y))
    with pytest.raises(ValueError, match="depends on y besides the variable x"):
        ExpressionActivation.from_sympy(x * sympy.sin(y), variable=x)
    # a fitted formula's x0 is real; the user's Symbol("x0") is the same variable (it "depended on x0
    # besides the variable x0"), and a variable that is no symbol says so
    real_x0, plain_x0 = sympy.Symbol("x0", real=True), sympy.Symbol("x0")
    made = ExpressionActivation.from_sympy(real_x0 * sympy.sin(real_x0), variable=plain_x0)
    assert torch.allclose(made(torch.tensor([0.5, 2.0])), torch.tensor([0.5, 2.0]) * torch.sin(torch.tensor([0.5, 2.0])))
    with pytest.raises(TypeError, match="variable must be a sympy Symbol, got 'x'"):
        ExpressionActivation.from_sympy(x * sympy.sin(x), variable="x")


@pytest.mark.parametrize("check_range", [(5, -5), "ab", (1, 2, 3), 5, (0, float("inf"))])
def test_a_bad_check_range_is_named_in_one_line(check_range):
    with pytest.raises(ValueError, match=r"^check_range must be two finite numbers \(low, high\) with low < high"):
        ExpressionActivation.from_sympy(x * sympy.sin(x), check_range=check_range)


def test_a_label_that_is_no_string_is_refused_where_it_is_given_not_when_loaded():
    with pytest.raises(ValueError, match="label must be a string or None, got 5"):
        ExpressionActivation.from_sympy(x * sympy.sin(x), label=5)
    spec = GenomeSpec(n_inputs=2, n_columns=5, functions=("add", "mul"))
    with pytest.raises(ValueError, match="2 inputs.*collapse_inputs"):
        ExpressionActivation.from_genome(Genome.random(spec, 0))
    data = ExpressionActivation.from_sympy(SWISH).to_dict()
    data["program"]["n_inputs"] = 2
    with pytest.raises(ValueError, match="2 inputs"):
        ExpressionActivation.from_dict(data)


@pytest.mark.parametrize("expr, message", [
    (sympy.Integer(3), "constant"),
    (sympy.sin(x) ** 2 + sympy.cos(x) ** 2, "constant"),
    (x - x + 2, "constant"),
    (x**64, r"overflows float32 on \[-5, 5\] \(\|g\(-5\)\| = 5\.42e\+44\)"),  # the value itself
    (sympy.log(1 + x**80), "not finite in float32 .*a step overflows float32"),  # a step, not the value
    (x**1024, "not finite"),
    (1 / (x + 0.5), r"pole, a jump or a singular slope near x = -0\.(49|5)"),
    (sympy.tan(x), "pole"),
    (x / sympy.Abs(x), "jump"),
    # a pole at a special point of the check (0, +-1e-12: g = 1e6 there made the typical slope steep)
    (1 / sympy.sqrt(sympy.Abs(x)), r"pole, a jump or a singular slope near x = -?0\.000"),
])
def test_degenerate_formulas_are_rejected_never_replaced(expr, message):
    with pytest.raises(DegenerateActivationError, match=message):
        ExpressionActivation.from_sympy(expr)


def test_a_route_that_found_a_straight_line_found_no_activation():
    """Standardised, 4*x + 9 became g(x) = 1.0*x: a network of it is linear. The routes and the search refuse
    lines as they refuse constants; the constructor still builds one (an identity baseline is deliberate)."""
    from srnet.activations.routes import make_activation
    from srnet.activations.scorer import ActivationScorer

    class Untrained(ActivationScorer):
        def train(self, activation):
            return 0.0

    for line in (4 * x + 9, x, -x / 3):
        with pytest.raises(DegenerateActivationError, match=r"is a straight line on \[-5, 5\]: a network with it "
                                                            r"would be linear"):
            make_activation(program_from_sympy(line, [x]), normalize=True)
        assert Untrained().fitness(program_from_sympy(line, [x])) == math.inf
        ExpressionActivation.from_sympy(line)
    assert make_activation(program_from_sympy(x + 1e-3 * x**2, [x]), normalize=False).n_nodes > 1  # a bend
    # x*x/x is x but for the protected 1 at x = 0 (simplified, it became the identity); x + 1e8 within round-off
    for line in (Program(1, (), (("mul", 0, 0), ("div", 1, 0)), (2,), [[1.0]], [0.0]), program_from_sympy(x + 1e8, [x])):
        with pytest.raises(DegenerateActivationError, match="is a straight line"):
            make_activation(line, normalize=True)
    make_activation(program_from_sympy((x + sympy.Abs(x)) / 2, [x]), normalize=True)  # ReLU bends at one point


@pytest.mark.parametrize("shift", [0.0, 0.1, -0.3, 0.7, 1.0, -1.0, 1.5, 2.0, -2.5, 3.3, -4.2])
def test_a_singular_point_gets_one_verdict_wherever_the_check_grid_falls(shift):
    """log|x - a| (slope ~ 1/|x - a|, bounded by the protection) passed or failed by where the check's grid fell
    (log|x - 1| passed, log|x + 1| failed); on three grids a third of a step apart it always passes, while a
    pole or a jump at a is always refused."""
    for mild in (sympy.log(sympy.Abs(x - shift)), x + sympy.log(sympy.Abs(x - shift))):
        ExpressionActivation.from_sympy(mild)
    for singular in (1 / (x - shift - 0.01), (x - shift) / sympy.Abs(x - shift)):
        with pytest.raises(DegenerateActivationError, match="pole, a jump or a singular slope"):
            ExpressionActivation.from_sympy(singular)


@pytest.mark.parametrize("width", [1e3, 1e6, 1e12])
def test_a_wide_check_range_tells_a_smooth_bend_from_a_jump(width):
    """On [-1e6, 1e6] the check's grid (step 125) saw tanh's bend (slope 1) and sin's waves as jumps: tanh was
    "singular near x = 39.79". Zoomed in, a smooth bend's steepest secant settles; a jump's grows on."""
    for smooth in (sympy.tanh(x), sympy.sin(x), sympy.exp(-x**2), x * sympy.tanh(x)):
        ExpressionActivation.from_sympy(smooth, check_range=(-width, width))
    for singular in (x / sympy.Abs(x), (x - 1) / sympy.Abs(x - 1), sympy.tan(x)):
        with pytest.raises(DegenerateActivationError, match="pole, a jump or a singular slope"):
            ExpressionActivation.from_sympy(singular, check_range=(-width, width))


@pytest.mark.parametrize("shift", [0.0, 0.3, -2.2])
def test_waves_that_pile_up_without_end_are_refused_and_a_wave_packet_is_not(shift):
    """sin(1/x) passed the check: the grid's steepest secant fell at random among waves it could not resolve,
    and the zoom into it resolved one wave, which settled as a smooth bend.  Its slope grows as 1/x**2 with its
    sign flipping without end: no activation.  x*sin(1/x) too (mild slopes, endless waves); a wave packet, steep
    sin(200 x) and x**2*sin(1/x) (bounded slope) are no singularity."""
    for piled in (sympy.sin(1 / (x - shift)), (x - shift) * sympy.cos(1 / (x - shift))):
        with pytest.raises(DegenerateActivationError, match=r"pole, a jump or a singular slope near x = (\S+) "
                                                            r"\(waves pile up there") as caught:
            ExpressionActivation.from_sympy(piled)
        assert abs(float(caught.value.args[0].split("near x = ")[1].split(" ")[0]) - shift) < 1e-3
    for smooth in (sympy.sin(1000 * x) * sympy.exp(-10000 * x**2), sympy.sin(200 * x), x**2 * sympy.sin(1 / x),
                   sympy.tanh(100 * x)):
        ExpressionActivation.from_sympy(smooth)


@pytest.mark.parametrize("piled, near", [
    (sympy.sin(1 / (x - 1)) + sympy.sin(1 / (x + 1)), (-1.0, 1.0)),
    (x * sympy.sin(1 / (x - 2)) + x * sympy.sin(1 / (x + 2)), (-2.0, 2.0)),
    (x * sympy.sin(1 / x) + x**3, (0.0,)),
    (x * sympy.sin(1 / x) + sympy.tanh(x), (0.0,))])
def test_waves_that_pile_up_beside_other_steep_stretches_are_refused(piled, near):
    """The check looked at one spot, from the grid's first steep point to its last: two points where waves
    pile up, or one beside another steep term (x**3 at the ends of [-5, 5]), made it as wide as the range, and
    these passed.  Each steep stretch is looked at; and each zoom follows where the extremes crowd (one that
    followed the steep secants drifted off x*sin(1/x) + tanh(x)'s waves at 0)."""
    with pytest.raises(DegenerateActivationError, match=r"near x = (\S+) \(waves pile up there") as caught:
        ExpressionActivation.from_sympy(piled)
    where = float(caught.value.args[0].split("near x = ")[1].split(" ")[0])
    assert min(abs(where - point) for point in near) < 1e-3


def test_a_check_range_wider_than_float64_is_refused_not_blamed_on_the_formula():
    """(-1e308, 1e308): high - low overflows, the grid was NaN, and tanh was "not finite ... (g(nan) = nan)"."""
    with pytest.raises(ValueError, match=r"^check_range \[-1e\+308, 1e\+308\] is wider than float64 holds"):
        ExpressionActivation.from_sympy(sympy.tanh(x), check_range=[-1e308, 1e308])


def test_a_non_finite_formula_in_json_is_rejected():
    program = Program(1, (), tuple(("square", k, 0) for k in range(10)), (10,), [[1.0]], [0.0])  # x**1024
    payload = ExpressionActivation(program, check_range=None).to_dict()
    payload["check_range"] = [-5.0, 5.0]
    with pytest.raises(DegenerateActivationError, match="not finite"):
        ExpressionActivation.from_dict(payload)


def test_a_file_that_asks_for_no_check_is_still_checked_for_finite_values():
    """A file whose check_range was null loaded 1e308*sin(x): inf on every input in float32. Finite formulas
    saved without a check (1/x, whose pole the full check refuses) still load."""
    payload = ExpressionActivation.from_sympy(sympy.sin(x)).to_dict()
    payload["check_range"] = None
    payload["program"]["weights"] = [[1e308]]
    with pytest.raises(DegenerateActivationError, match=r"1\.0e\+308\*sin\(x\) overflows float32 on \[-1, 1\]"):
        ExpressionActivation.from_dict(payload)
    payload = ExpressionActivation(program_from_sympy((x + 3)**1024, [x]), check_range=None).to_dict()
    with pytest.raises(DegenerateActivationError, match=r"not finite .*\(checked there for finite values, whatever "
                                                        r"check the activation asks for\)$"):
        ExpressionActivation.from_dict(payload)
    # saved unchecked on purpose, finite near 0 where it is checked: x**60 overflows float32 beyond 4.4 only
    ExpressionActivation.from_dict(ExpressionActivation.from_sympy(x**60, check_range=None).to_dict())
    loaded = ExpressionActivation.from_dict(ExpressionActivation.from_sympy(1 / x, check_range=None).to_dict())
    assert loaded.check_range is None and str(loaded.sympy()) == "1/x"


def test_unsupported_sympy_is_a_clear_error():
    with pytest.raises(ValueError, match=r"'erf' in erf\(x\) has no primitive.*supported: .*tanh"):
        ExpressionActivation.from_sympy(sympy.erf(x))
    with pytest.raises(ValueError, match="'Max'"):
        ExpressionActivation.from_sympy(sympy.Max(x, 0))
    with pytest.raises(ValueError, match="exponent 1/3"):
        ExpressionActivation.from_sympy(sympy.cbrt(x))
    with pytest.raises(TypeError, match="not a string"):
        ExpressionActivation.from_sympy("x*sigmoid(x)")
    with pytest.raises(ValueError, match=r"integer power 1e\+300 is beyond srnet's 1024") as excinfo:
        ExpressionActivation.from_sympy(x ** (10**300), check_range=None)  # recursed to a RecursionError
    assert "\n" not in str(excinfo.value)
    assert ExpressionActivation.from_sympy(x ** 1024, check_range=None).program.steps  # the largest: built


def test_log_and_sqrt_of_possibly_negative_arguments():
    with pytest.raises(ValueError, match=r"log\(x\) is not real where x < 0.*Abs\(x\).*protected=True"):
        ExpressionActivation.from_sympy(sympy.log(x))
    with pytest.raises(ValueError, match="sqrt"):
        ExpressionActivation.from_sympy(sympy.sqrt(x))
    protected = ExpressionActivation.from_sympy(sympy.log(x), protected=True, check_range=None)
    explicit = ExpressionActivation.from_sympy(sympy.log(sympy.Abs(x)), check_range=None)
    assert protected.program == explicit.program
    softplus = ExpressionActivation.from_sympy(sympy.log(1 + sympy.exp(x)))  # provably positive: accepted
    grid = torch.linspace(-5, 5, 11)
    with torch.no_grad():
        assert torch.allclose(softplus(grid), torch.nn.functional.softplus(grid))


# ---------------------------------------------------- collapse, scale

def test_collapse_substitutes_x_for_every_input():
    x0, x1, x2 = sympy.symbols("x0 x1 x2")
    program = program_from_sympy(x0 * sympy.sin(x1) + 2 * x2, [x0, x1, x2])
    collapsed = collapse_inputs(program)
    values = np.linspace(-2, 2, 9)
    assert np.allclose(collapsed(values[:, None]), values * np.sin(values) + 2 * values)
    assert collapse_variables(x0 * sympy.sin(x1)) == x * sympy.sin(x)
    with pytest.raises(DegenerateActivationError, match="constant"):
        check_activation(collapse_inputs(program_from_sympy(x0 - x1, [x0, x1])))


def test_simplify_drops_what_collapsing_leaves_and_keeps_the_values():
    x0, x1, x2 = sympy.symbols("x0 x1 x2")
    program = collapse_inputs(program_from_sympy(sympy.sin(x0 - x1) + sympy.sin(sympy.sin(x2)) * x0 / x1, [x0, x1, x2]))
    simpler = simplify_program(program)  # sin(x - x) + sin(sin(x)) * x / x  ->  sin(sin(x))
    assert [name for name, _, _ in simpler.steps] == ["sin", "sin"]
    values = np.linspace(-5, 5, 1001)[:, None] + 1e-3
    assert np.allclose(simpler(values), program(values), rtol=1e-12, atol=1e-12)
    # not shorter or not the same function: the original is kept
    swish = program_from_sympy(SWISH, [x])
    assert simplify_program(swish) is swish


def test_nested_roots_and_float_exponents():
    assert step_names(sympy.Abs(x) ** sympy.Rational(3, 4)) == ["sqrt", "sqrt", "cube"]
    assert step_names(sympy.Abs(x) ** sympy.Float(0.5)) == ["sqrt"]
    values = np.array([[0.3], [2.0], [5.0]])
    program = program_from_sympy((x**2 + 1) ** sympy.Rational(-5, 8), [x])
    assert np.allclose(program(values), (values[:, 0] ** 2 + 1) ** -0.625, rtol=1e-12)


def test_standardise_gives_zero_mean_unit_std_under_a_normal_input():
    program = standardise_program(program_from_sympy(5 * sympy.tanh(2 * x) + x**2 + 3, [x]))
    values = np.random.default_rng(0).standard_normal(200_000)
    g = program(values[:, None])
    assert abs(g.mean()) < 0.02 and abs(g.std() - 1) < 0.02


# ------------------------------------------------------- training

def test_a_network_with_an_expression_activation_trains():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((256, 2))
    y = (X[:, 0] ** 2 + X[:, 1] ** 2 < 1.2).astype(np.float64)  # a circle: not linearly separable
    activation = ExpressionActivation.from_sympy(SWISH, affine=True)
    torch.manual_seed(0)
    model = light_network(2, activation, hidden=(16, 16))
    _, losses = train_binary(model, X, y, epochs=40, lr=1e-2, batch_size=64, random_state=0)
    assert losses[-1] < 0.6 * losses[0]
    first, second = model[1], model[3]
    assert first is not second and first.a is not second.a  # each layer its own parameters
    assert float(first.b.detach()) != 1.0  # the affine wrapper learned


def test_compiles_in_one_graph_with_the_same_numbers():
    module = ExpressionActivation.from_sympy(SWISH * sympy.cos(x) / (1 + x**2) + sympy.sqrt(sympy.Abs(x)),
                                             affine=True)
    compiled = torch.compile(module, backend="aot_eager", fullgraph=True)
    values = np.concatenate([np.linspace(-5, 5, 51), [0.0, 1e-12]])
    got, grad = value_and_grad(compiled, values, torch.float32)
    want, want_grad = value_and_grad(module, values, torch.float32)
    assert np.allclose(got, want, rtol=1e-6, atol=1e-6)
    assert np.allclose(grad, want_grad, rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------- CUDA

@needs_cuda
def test_cuda_matches_cpu():
    module = ExpressionActivation.from_sympy(SWISH + sympy.log(sympy.Abs(x)) / (x - 1), affine=True,
                                             check_range=None)  # protected points on purpose
    values = np.concatenate([np.linspace(-5, 5, 1001), [0.0, 1e-12, -1e-12, 1.0]])
    cpu, cpu_grad = value_and_grad(module, values)
    cuda = module.clone().cuda()
    t = torch.tensor(values, dtype=torch.float64, device="cuda", requires_grad=True)
    y = cuda(t)
    (grad,) = torch.autograd.grad(y.sum(), t)
    assert np.allclose(y.detach().cpu().numpy(), cpu, rtol=1e-12, atol=1e-12)
    assert np.allclose(grad.cpu().numpy(), cpu_grad, rtol=1e-10, atol=1e-10)


@needs_cuda
def test_cuda_compiled_and_training():
    module = ExpressionActivation.from_sympy(SWISH).cuda()
    compiled = torch.compile(module)
    t = torch.linspace(-5, 5, 4096, device="cuda")
    assert torch.allclose(compiled(t), module(t), atol=1e-6)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((512, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.float64)
    torch.manual_seed(0)
    model = light_network(2, module, hidden=(16, 16))
    _, losses = train_binary(model, X, y, epochs=30, lr=1e-2, batch_size=128, device="cuda")
    assert losses[-1] < 0.8 * losses[0]
    assert next(model.parameters()).is_cuda and model[1].constants.is_cuda


@pytest.mark.slow
def test_inductor_compiled_forward_and_backward_match_eager():
    module = ExpressionActivation.from_sympy(sympy.log(sympy.Abs(x)) * sympy.tanh(x) + 1 / (x - 1), affine=True,
                                             check_range=None)  # protected points on purpose
    compiled = torch.compile(module)
    values = np.concatenate([np.linspace(-5, 5, 1001), [0.0, 1e-12, -1e-12, 1.0]])
    got, grad = value_and_grad(compiled, values, torch.float32)
    want, want_grad = value_and_grad(module, values, torch.float32)
    assert np.allclose(got, want, rtol=1e-5, atol=1e-5)
    assert np.allclose(grad, want_grad, rtol=1e-4, atol=1e-4)


# ------------------------------------------------------------ from a review

@pytest.mark.parametrize("expr", [VARIABLE * sympy.exp(VARIABLE) / (sympy.exp(VARIABLE) + 1),
                                  sympy.simplify(VARIABLE / (1 + sympy.exp(-VARIABLE))),
                                  VARIABLE * sympy.exp(2 * VARIABLE) / (sympy.exp(2 * VARIABLE) + 1)])
def test_logistic_quotients_stay_exact_beyond_the_exp_cap(expr):
    """exp(u)/(exp(u) + 1) became sigmoid(-u) times the capped exp(u): SiLU gave 2e-7 at x = 100."""
    module = ExpressionActivation.from_sympy(expr)
    x = torch.tensor([3.0, 85.0, 100.0], dtype=torch.float64)
    want = x * torch.sigmoid(x * (2 if expr.has(sympy.exp(2 * VARIABLE)) else 1))
    torch.testing.assert_close(module(x), want)
    assert "exp" not in [name for name, _, _ in module.program.steps]


def test_a_network_of_found_activations_pickles_and_saves_whole(tmp_path):
    """The primitive table's torch forms are lambdas: torch.save(model) raised PicklingError."""
    import pickle

    from srnet.expr import ProgramModule

    network = torch.nn.Sequential(torch.nn.Linear(2, 3), ExpressionActivation.from_sympy(sympy.sin(VARIABLE) + VARIABLE),
                                  torch.nn.Linear(3, 1))
    torch.save(network, tmp_path / "whole.pt")
    again = torch.load(tmp_path / "whole.pt", weights_only=False)  # our own file, written just now
    x = torch.randn(5, 2)
    torch.testing.assert_close(again(x), network(x))
    module = ProgramModule(Program(1, (), (("sin", 0, 0),), (1,), [[2.0]], [0.5]))
    ones = torch.ones(3, 1, dtype=torch.float64)
    torch.testing.assert_close(pickle.loads(pickle.dumps(module))(ones), module(ones))


@pytest.mark.parametrize("affine", [False, True])
def test_forward_mode_autodiff_goes_through_the_activation(affine):
    """A dual input took the fused path, whose autograd function dropped the tangent (None)."""
    from torch.autograd import forward_ad

    module = ExpressionActivation.from_sympy(sympy.sin(VARIABLE) + VARIABLE, affine=affine)
    with forward_ad.dual_level():
        out = module(forward_ad.make_dual(torch.tensor([0.0, 1.0]), torch.ones(2)))
        tangent = forward_ad.unpack_dual(out).tangent
    torch.testing.assert_close(tangent, 1 + torch.cos(torch.tensor([0.0, 1.0])))


def test_a_formula_that_overflows_in_float32_is_rejected():
    with pytest.raises(DegenerateActivationError, match="is not finite in float32 on"):
        ExpressionActivation.from_sympy(VARIABLE**60 / (VARIABLE**60 + 1))


def test_json_keeps_float64_affine_parameters_and_refuses_nan():
    module = ExpressionActivation.from_sympy(sympy.sin(VARIABLE) + VARIABLE, affine=True).double()
    with torch.no_grad():
        module.a.fill_(1 / 3)
    again = ExpressionActivation.from_json(module.to_json())
    assert again.a.dtype == torch.float64 and again.a.item() == 1 / 3 and module.clone().a.item() == 1 / 3
    assert ExpressionActivation.from_json(ExpressionActivation.from_sympy(VARIABLE, affine=True).to_json()
                                          ).a.dtype == torch.float32
    with torch.no_grad():
        module.b.fill_(float("nan"))
    with pytest.raises(ValueError, match="affine parameter b is nan: training diverged"):
        module.to_json()


def test_a_formula_of_make_symbols_converts_with_plain_symbols_of_the_same_name():
    """make_symbols gives real symbols; program_from_sympy with a plain x0 said "uses x0, which are not among
    the program's inputs (x0)"."""
    import sympy

    from srnet.activations import program_from_sympy
    from srnet.activations.study_models import resolve_device
    from srnet.expr.symbolic import make_symbols

    x0 = make_symbols(1, ["x0"])[0]
    program = program_from_sympy(x0**2 + 1, [sympy.Symbol("x0")])
    assert program(np.array([[3.0]])).tolist() == [10.0]
    with pytest.raises(ValueError, match="^device must name a torch device"):
        resolve_device("bogus")


def test_clone_copies_what_the_constructor_accepted_and_save_refuses_what_load_would(tmp_path):
    """clone() rebuilt through from_dict, whose checks are a file's: an activation built with check_range=None
    (finite in float64, beyond float32) or of more steps than a file holds was refused its own copy, and save()
    wrote files that load() then refused."""
    big = ExpressionActivation.from_sympy(sympy.exp(VARIABLE / 10) * 1e39, check_range=None, protected=True)
    long = ExpressionActivation.from_sympy(sum(sympy.sin(k * VARIABLE + 1) / k for k in range(1, 400)),
                                           check_range=None, protected=True)
    x = torch.linspace(-2, 2, 9, dtype=torch.float64)
    for module in (big, long):
        again = module.clone()
        assert again.program == module.program and again.check_range is None
        torch.testing.assert_close(again(x), module(x), rtol=0, atol=0)
    with pytest.raises(ValueError, match=r"^cannot save this activation, its file would be refused on loading: "
                                         r"the formula g\(x\) = .* overflows float32 on \[-1, 1\]"):
        big.to_json()
    with pytest.raises(ValueError, match=r"^cannot save this activation, its file would be refused on loading: "
                                         r"the program has \d+ steps, constants and outputs; an activation file "
                                         r"holds at most 2000$"):
        long.save(tmp_path / "long.json")
    assert not (tmp_path / "long.json").exists()
    trained = ExpressionActivation.from_sympy(sympy.sin(VARIABLE), affine=True)
    trained(x.float()).sum().backward()
    twin = trained.clone()
    assert trained.a.grad is not None and twin.a.grad is None and twin.a is not trained.a
    with torch.no_grad():
        twin.a.fill_(2.0)
    assert trained.a.item() == 1.0
