"""The fused path of ExpressionActivation: one kernel each way, the same
numbers as walking the torch forms.

Oracles: the unfused module (autograd through the primitive table's torch
forms, protected branches included) for values and gradients, float32 and
float64; torch.autograd.gradcheck in float64; the engine's NumPy program for
values.  The Triton kernel runs under Triton's interpreter on CPU tensors
(skipped without Triton) and is compiled for sm_90 without a GPU; CUDA tests
skip without a device.
"""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import sympy
import torch
from _oracle import SPECIAL_VALUES, stable_rows, within_float32_range
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from srnet.activations import VARIABLE, ExpressionActivation, light_network, train_binary
from srnet.activations import fused as fused_module
from srnet.activations.fused import DERIVATIVES, FusedPlan, backend, evaluate, forward_mode
from srnet.cgp import Genome, GenomeSpec
from srnet.cgp.primitives import EXP_MAX, PRIMITIVE_CODES, PRIMITIVES
from srnet.expr import Program

x = VARIABLE
ALL = tuple(sorted(PRIMITIVE_CODES))
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")

#: Formulas covering every primitive, protected points inside [-6, 6] on purpose.
FORMULAS = [
    x / (1 + sympy.exp(-x)),                                                   # swish: sigmoid, mul
    x * sympy.cos(x) / (1 + x**2) + sympy.sqrt(sympy.Abs(x)) * sympy.tanh(x),  # rational
    sympy.log(sympy.Abs(x)) * sympy.tanh(x) + 1 / (x - 1),                     # log|x| and div by 0 at 1
    1.5 * sympy.sin(2 * x + sympy.sin(2 * x)) - 0.25,                          # output map, constants
    sympy.tan(x / 4) + x**3 / 50 - sympy.Abs(x) + sympy.exp(x) / 1e30,        # tan, cube, abs, exp
    -sympy.cos(sympy.cos(sympy.sin(x))) + sympy.exp(-x**2),                    # neg, square
    sympy.exp(x * 30) / 1e30,                                                  # exp clipped at 80 for x > 8/3
    sympy.sqrt(sympy.Abs(x - 2)) - sympy.log(sympy.Abs(x + 3)),               # kinks at 2 and -3
]
GRID = np.concatenate([np.linspace(-6, 6, 2401), [0.0, -0.0, 1.0, 2.0, -3.0, 1e-12, -1e-12, 1e-10, -1e-10,
                                                  1 + 1e-11, 8 / 3, 2.6, 2.7, 85.0, -85.0, 1e3, -1e4]])


def activation(expr, **kwargs):
    return ExpressionActivation.from_sympy(expr, check_range=None, **kwargs)


def value_and_grad(module, values, dtype):
    t = torch.tensor(np.asarray(values, dtype=np.float64), dtype=dtype, requires_grad=True)
    y = module(t)
    if not y.requires_grad:  # the unfused walk of a formula without x: flat
        return y.detach().numpy().astype(np.float64), np.zeros(len(values)), y
    (grad,) = torch.autograd.grad(y.sum(), t)
    return y.detach().numpy().astype(np.float64), grad.numpy().astype(np.float64), y


def assert_same(got, want, rtol, atol, what):
    same = (got == want) | (np.isnan(got) & np.isnan(want)) | np.isclose(got, want, rtol=rtol, atol=atol)
    assert same.all(), f"{what}: {np.flatnonzero(~same)[:5]} got {got[~same][:5]} want {want[~same][:5]}"


# ------------------------------------------------- the two paths agree

@pytest.mark.parametrize("dtype, rtol, atol", [(torch.float64, 1e-12, 1e-12), (torch.float32, 2e-5, 2e-5)])
@pytest.mark.parametrize("expr", FORMULAS, ids=range(len(FORMULAS)))
def test_fused_matches_unfused_values_and_gradients(expr, dtype, rtol, atol):
    fused = activation(expr)
    unfused = activation(expr, fused=False)
    assert backend(fused._fused_plan, torch.zeros(1, dtype=dtype)) == "cpu"
    got, grad, y = value_and_grad(fused, GRID, dtype)
    assert y.grad_fn is not None and "Fused" in type(y.grad_fn).__name__  # the fused kernel ran
    want, want_grad, _ = value_and_grad(unfused, GRID, dtype)
    assert_same(got, want, rtol, atol, "values")
    # the slope relative to its size: large slopes (near a pole) round in float32
    assert_same(grad, want_grad, rtol, atol * max(1.0, np.nanmax(np.abs(want_grad[np.isfinite(want_grad)]))),
                "gradients")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_protected_points_have_the_unfused_values_and_slopes_exactly(dtype):
    cases = [(1 / x, [0.0, 1e-12, -1e-12, 1e-10]),
             (sympy.log(sympy.Abs(x)), [0.0, -1e-12, 1e-10, -2.0]),
             (sympy.sqrt(sympy.Abs(x)), [0.0, -0.0, -4.0, 5e-324 if dtype == torch.float64 else 1e-45]),
             (sympy.exp(x) / 1e30, [EXP_MAX, EXP_MAX + 1e-3, 100.0, -100.0]),
             (sympy.Abs(x), [0.0, -1.0, 1.0, math.nan])]  # |x|'s slope at NaN: 0, as torch.sgn (the kernels: 1)
    for expr, points in cases:
        got, grad, _ = value_and_grad(activation(expr), points, dtype)
        want, want_grad, _ = value_and_grad(activation(expr, fused=False), points, dtype)
        assert_same(got, want, 1e-6, 0, str(expr))
        assert_same(grad, want_grad, 1e-6, 0, f"slope of {expr}")


def test_float32_exp_underflows_to_zero_where_torch_does():
    """Below ln(2**-150) expf rounds to 0; the kernel's polynomial at its
    clamp gave the smallest subnormal, 1.4e-45, for every x down to -inf."""
    points = [-103.0, -103.97, -103.9721, -104.0, -1000.0, -math.inf]
    got, _, _ = value_and_grad(activation(sympy.exp(x)), points, torch.float32)
    assert np.array_equal(got, torch.exp(torch.tensor(points, dtype=torch.float32)).double().numpy())
    assert np.array_equal(got[2:], np.zeros(4))


one_input_specs = st.builds(GenomeSpec, n_inputs=st.just(1), n_outputs=st.integers(1, 2), n_rows=st.just(1),
                            n_columns=st.integers(2, 10),
                            functions=st.lists(st.sampled_from(ALL), min_size=2, max_size=8, unique=True).map(tuple),
                            n_constants=st.integers(0, 2))


def slope_scale(plan, values):
    """Per point, the largest |weight * d value_k / dx| over the program's
    values: forward mode rounds each slope to a fraction of it, so a slope
    that cancels (d(x**3) - d(x**3) at x = 1e8) is only known to that much
    (reverse mode cancels the adjoints first and may do better or worse)."""
    t = torch.tensor(values, dtype=torch.float64)
    top = max(1.0, max(abs(w) for w in plan.weights))
    scale = np.ones(len(values))
    for k in range(1, 1 + len(plan.constants) + len(plan.names)):
        single = FusedPlan(plan.names, plan.args, plan.constants, (k,), (1.0,), 0.0)
        slope = np.abs(evaluate(single, t, derivative=True)[1].numpy())
        scale = np.fmax(scale, np.where(np.isfinite(slope), slope, 0.0) * top)
    return scale


@pytest.mark.filterwarnings("ignore:invalid value encountered in subtract:RuntimeWarning")  # inf - inf, masked
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=one_input_specs, seed=st.integers(0, 2**32), weights=st.lists(st.floats(-3, 3), min_size=2, max_size=2))
def test_random_programs_fused_and_unfused_agree(spec, seed, weights):
    genome = Genome.random(spec, seed)
    program = Program.from_genome(genome, np.array(weights[: spec.n_outputs])[:, None], [0.5])
    fused, unfused = ExpressionActivation(program, check_range=None), ExpressionActivation(program, check_range=None,
                                                                                           fused=False)
    rng = np.random.default_rng(seed)
    values = rng.standard_normal(64) * rng.choice([0.1, 1.0, 10.0], size=64)
    values[:12] = rng.choice(SPECIAL_VALUES, size=12)
    X = values[:, None]
    # values: the two paths agree on every row where a few ulps do not change the outcome
    got, grad, _ = value_and_grad(fused, values, torch.float64)
    want, want_grad, _ = value_and_grad(unfused, values, torch.float64)
    keep = stable_rows(program, X)
    assert_same(got[keep], want[keep], 1e-10, 1e-12, str(program.steps))
    # slopes, to rounding: a slope whose terms cancel is only known to a
    # fraction of them, in either mode (unfused, 1/b - a/b**2 at a = b = 2e-10
    # is 0 +- 2e-6; fused, d(x**3) - d(x**3) at x = 1e8 is 0 +- 4); rows whose
    # unfused slope moves when x moves by 1e-12 (chaos) are left out
    # (tests/test_activations.py holds the fused slopes to sympy's exact ones)
    scale = slope_scale(fused._fused_plan, values)
    moved = [value_and_grad(unfused, values * (1 + s * 1e-12), torch.float64)[1] for s in (-1, 1)]
    steady = np.all([np.isclose(m, want_grad, rtol=1e-6, atol=1e-5) for m in moved], axis=0)
    finite = keep & steady & np.isfinite(want) & np.isfinite(want_grad) & (np.abs(want_grad) < 1e6)
    assert np.all(np.abs(grad - want_grad)[finite] <= 1e-6 * np.abs(want_grad[finite]) + 1e-5 + 1e-13 * scale[finite]), \
        f"slopes of {program.steps}"
    assert not np.any(np.isnan(grad) & np.isfinite(got) & ~np.isnan(want_grad)), program.steps
    # float32: values as close as float32 rounding allows; slopes never much
    # further from the float64 slope than the unfused float32 slope is, or
    # than float32 rounding of the terms allows (sin(x)/x near 0 cancels)
    got32, grad32, _ = value_and_grad(fused, values, torch.float32)
    want32, want_grad32, _ = value_and_grad(unfused, values, torch.float32)
    keep &= stable_rows(program, X, rtol=1e-4, jitter=3e-7) & within_float32_range(program, X)
    keep &= np.abs(values) < 1e37
    assert_same(got32[keep], want32[keep], 1e-4, 1e-6, str(program.steps))
    finite = keep & np.isfinite(want32) & np.isfinite(want_grad) & np.isfinite(want_grad32) & (np.abs(want_grad) < 1e6)
    error = np.abs(grad32 - want_grad)[finite]
    unfused_error = np.abs(want_grad32 - want_grad)[finite]
    assert np.all(error <= 4 * unfused_error + 1e-3 * np.abs(want_grad[finite]) + 5e-5 + 1e-6 * scale[finite]), \
        f"float32 slopes of {program.steps}"


#: exp(x)**3 into a step that saturates: past x = 29.6 the slope of exp(x)**3
#: overflows float32 while the last step's local derivative is exactly 0.
SATURATING = {last: Program(1, (), (("exp", 0, 0), ("cube", 1, 0)) + steps, (2 + len(steps),), [[1.0]], [0.0])
              for last, steps in (("tanh", (("tanh", 2, 0),)), ("sigmoid", (("sigmoid", 2, 0),)),
                                  ("exp", (("neg", 2, 0), ("exp", 3, 0))))}
SATURATED_POINTS = [-1.0, 0.0, 1.0, 29.0, 30.0, 81.0, 100.0]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("last", sorted(SATURATING))
def test_a_step_with_a_zero_local_derivative_has_a_zero_slope_not_nan(last, dtype):
    """Autograd multiplies the finite local derivatives from the output back
    (0 * 3e26 = 0); forward mode carried the overflowed slope of exp(x)**3
    into the saturated step (0 * inf = NaN) until a factor of exactly 0 gave 0."""
    program = SATURATING[last]
    _, want, _ = value_and_grad(ExpressionActivation(program, check_range=None, fused=False), SATURATED_POINTS, dtype)
    assert np.isfinite(want).all() and (want[-4:] == 0).all()
    _, grad, _ = value_and_grad(ExpressionActivation(program, check_range=None), SATURATED_POINTS, dtype)
    plan = ExpressionActivation(program, check_range=None)._fused_plan
    line = forward_mode(plan, torch.tensor(SATURATED_POINTS, dtype=dtype))[1].numpy()
    for got, what in ((grad, "kernel"), (line, "torch straight line")):
        assert_same(got.astype(np.float64), want, 1e-6, 0, f"{what}, {last}, {dtype}")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_an_infinite_factor_on_a_slope_a_clipped_step_zeroed_gives_autograds_zero(dtype):
    """mish at x = inf: x times the slope of tanh(softplus(x)), which the clipped exp made exactly 0.
    Autograd gets 0 there (the clip masks the gradient) and a slope of 1 in all; the fused paths got
    inf * 0 = NaN."""
    mish = x * sympy.tanh(sympy.log(1 + sympy.exp(x)))
    points = [-5.0, 0.5, 12.0, 100.0, math.inf]  # (at -inf mish is -inf * 0: NaN, its slope moot)
    _, want, _ = value_and_grad(ExpressionActivation.from_sympy(mish, fused=False), points, dtype)
    assert want[-1] == 1.0
    _, grad, _ = value_and_grad(ExpressionActivation.from_sympy(mish), points, dtype)
    plan = ExpressionActivation.from_sympy(mish)._fused_plan
    line = forward_mode(plan, torch.tensor(points, dtype=dtype))[1].numpy()
    for got, what in ((grad, "kernel"), (line, "torch straight line")):
        assert_same(got.astype(np.float64), want, 1e-6, 0, f"{what}, {dtype}")
    # swish at inf: the fused slope is the limit, 1, where autograd gets inf * 0 = NaN in sigmoid's backward
    swish = ExpressionActivation.from_sympy(x / (1 + sympy.exp(-x)))
    _, grad, _ = value_and_grad(swish, [math.inf], dtype)
    assert grad[0] == 1.0 and np.isnan(value_and_grad(ExpressionActivation.from_sympy(
        x / (1 + sympy.exp(-x)), fused=False), [math.inf], dtype)[1][0])


def test_every_primitive_derivative_rule_is_autograd_of_its_torch_form():
    values = torch.tensor(np.concatenate([np.linspace(-4, 4, 81), [0.0, 1e-12, -1e-12, 90.0, 80.0]]),
                          dtype=torch.float64)
    for prim in PRIMITIVES:
        a = values.clone().requires_grad_(True)
        b = torch.sin(a) + 2.5  # a second argument depending on x, never ~0
        value = prim.torch(a, b if prim.arity == 2 else a)
        (want,) = torch.autograd.grad(value.sum(), a)
        with torch.no_grad():
            av, bv = a.detach(), b.detach()
            db = torch.cos(av) if prim.arity == 2 else torch.zeros_like(av)
            rule = DERIVATIVES[prim.name](av, bv if prim.arity == 2 else av, torch.ones_like(av), db, value.detach())
        assert torch.allclose(rule, want, rtol=1e-12, atol=1e-12, equal_nan=True), prim.name


def test_the_torch_straight_line_matches_the_kernel():
    t = torch.tensor(GRID, dtype=torch.float64)
    for expr in FORMULAS:
        plan = activation(expr)._fused_plan
        y, dy = evaluate(plan, t, derivative=True)
        y_line, dy_line = forward_mode(plan, t)
        assert torch.allclose(y, y_line, rtol=1e-12, atol=1e-12, equal_nan=True), expr
        assert torch.allclose(dy, dy_line, rtol=1e-10, atol=1e-10, equal_nan=True), expr


def test_gradcheck_in_float64():
    for expr in FORMULAS[:4] + [FORMULAS[5]]:
        module = activation(expr, affine={"a": 1.3, "b": 0.7, "c": 0.2, "d": -0.1}).double()
        points = torch.tensor([-2.7, -1.3, -0.4, 0.35, 1.7, 2.9], dtype=torch.float64, requires_grad=True)
        assert torch.autograd.gradcheck(module, (points,)), expr


# ------------------------------------------------------ shapes, dtypes

def test_shapes_layouts_and_dtypes_without_a_fused_kernel():
    module = activation(FORMULAS[1])
    unfused = activation(FORMULAS[1], fused=False)
    batch = torch.randn(6, 5, 4)
    with torch.no_grad():
        assert torch.equal(module(batch), module(batch.contiguous()))
        strided = batch.transpose(0, 2)  # not contiguous
        assert torch.allclose(module(strided), unfused(strided), rtol=1e-6, atol=1e-6)
        assert module(strided).shape == strided.shape
        assert module(torch.empty(0, 3)).shape == (0, 3)
        assert module(torch.tensor(0.5)).shape == ()
        half = torch.linspace(-2, 2, 9, dtype=torch.bfloat16)  # no fused kernel: the torch forms, same dtype
        assert backend(module._fused_plan, half) is None
        assert module(half).dtype == torch.bfloat16
        assert torch.allclose(module(half).float(), unfused(half).float())


def test_the_backward_from_x_gives_the_saved_slope_numbers(monkeypatch):
    """Large inputs are saved and the slope recomputed in the backward pass
    (fused.CPU_RECOMPUTE_MIN_BYTES): the same numbers as saving g'(x)."""
    t = torch.tensor(GRID, dtype=torch.float32)
    for expr in FORMULAS:
        module = activation(expr, affine={"a": 1.2, "b": 0.9, "c": 0.1, "d": 0.0})
        results = []
        for threshold in (1 << 62, 0):
            monkeypatch.setattr(fused_module, "CPU_RECOMPUTE_MIN_BYTES", threshold)
            a = t.clone().requires_grad_(True)
            y = module(a)
            grads = torch.autograd.grad((y * torch.cos(a.detach())).sum(), [a, module.b])
            results.append((y.detach(), *grads))
        for got, want in zip(*results):
            assert torch.equal(got, want), expr


def test_several_threads_give_the_one_thread_numbers():
    module = activation(FORMULAS[1])
    t = torch.randn(fused_module.PARALLEL_MIN_ELEMENTS + 12345, dtype=torch.float32) * 3
    previous = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        y1, dy1 = evaluate(module._fused_plan, t, derivative=True)
        torch.set_num_threads(2)
        y2, dy2 = evaluate(module._fused_plan, t, derivative=True)
    finally:
        torch.set_num_threads(previous)
    assert torch.equal(y1, y2) and torch.equal(dy1, dy2)


# ------------------------------------------------ autograd and training

def test_second_derivatives_need_the_unfused_path():
    t = torch.linspace(-2, 2, 7, dtype=torch.float64, requires_grad=True)
    module = activation(sympy.sin(x) * x)
    with pytest.raises(RuntimeError, match="second derivatives.*fused=False"):  # never a silent zero
        torch.autograd.grad(module(t).sum(), t, create_graph=True)
    module.fused = False
    (grad,) = torch.autograd.grad(module(t).sum(), t, create_graph=True)
    (second,) = torch.autograd.grad(grad.sum(), t)
    v = t.detach()
    assert torch.allclose(second, 2 * torch.cos(v) - v * torch.sin(v))


def test_a_network_trains_on_the_fused_path():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((256, 2))
    y = (X[:, 0] ** 2 + X[:, 1] ** 2 < 1.2).astype(np.float64)
    act = activation(x / (1 + sympy.exp(-x)), affine=True)
    torch.manual_seed(0)
    model = light_network(2, act, hidden=(16, 16))
    out = model(torch.tensor(X[:4], dtype=torch.float32))
    names = []
    stack = [out.grad_fn]
    while stack:  # the fused autograd node is in the graph
        node = stack.pop()
        if node is not None:
            names.append(type(node).__name__)
            stack += [n for n, _ in node.next_functions]
    assert any("Fused" in name for name in names)
    _, losses = train_binary(model, X, y, epochs=40, lr=1e-2, batch_size=64, random_state=0)
    assert losses[-1] < 0.6 * losses[0]
    assert float(model[1].b.detach()) != 1.0  # the affine wrapper learned through the fused kernel


def test_json_round_trip_keeps_fused_numbers(tmp_path):
    module = activation(FORMULAS[2], affine={"a": 1.5, "b": -0.75, "c": 0.1, "d": 0.3}, label="fused")
    path = tmp_path / "activation.json"
    module.save(path)
    loaded = ExpressionActivation.load(path)
    assert loaded.fused and "fused" not in json.loads(path.read_text())  # a runtime choice, not saved
    inputs = torch.tensor(GRID, dtype=torch.float32)
    with torch.no_grad():
        assert torch.equal(module(inputs), loaded(inputs))
    clone = module.clone()
    module.fused = False
    assert not module.clone().fused and clone.fused


def test_compiles_in_one_graph_fused():
    module = activation(FORMULAS[1], affine=True)
    network = torch.nn.Sequential(torch.nn.Linear(3, 8), module, torch.nn.Linear(8, 1))
    compiled = torch.compile(network, backend="aot_eager", fullgraph=True)  # a graph break would raise
    inputs = torch.randn(32, 3)
    want = network(inputs)
    got = compiled(inputs)
    assert torch.allclose(got, want, rtol=1e-5, atol=1e-6)
    got.sum().backward()
    grads = [p.grad.clone() for p in network.parameters()]
    network.zero_grad()
    want.sum().backward()
    for g, w in zip(grads, (p.grad for p in network.parameters())):
        assert torch.allclose(g, w, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_inductor_compiles_a_network_of_found_activations_without_graph_breaks():
    torch._dynamo.reset()
    network = light_network(4, activation(FORMULAS[2]), hidden=(16, 8))
    compiled = torch.compile(network, fullgraph=True)
    inputs = torch.randn(64, 4)
    got = compiled(inputs)
    assert torch.allclose(got, network(inputs), rtol=1e-4, atol=1e-5)
    got.sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in network.parameters())


# ------------------------------------------------------------ bad input

def test_bad_input_is_a_clear_error():
    plan = activation(FORMULAS[0])._fused_plan
    with pytest.raises(ValueError, match="no fused kernel for torch.int64 tensors on cpu"):
        evaluate(plan, torch.arange(3), derivative=False)
    with pytest.raises(ValueError, match="step 0 reads a value not computed before it"):
        FusedPlan(("sin",), ((1, 1),), (), (1,), (1.0,), 0.0)
    with pytest.raises(ValueError, match="one weight per output"):
        FusedPlan(("sin",), ((0, 0),), (), (1,), (), 0.0)


def test_asking_for_triton_where_it_is_not_installed_says_so(monkeypatch):
    """It read "no fused kernel 'triton' for torch.float32 tensors on cpu with primitives div, sin", as if the
    formula were the problem."""
    from srnet.activations import _fused_triton

    monkeypatch.setattr(_fused_triton, "triton", None)
    monkeypatch.setenv("TRITON_INTERPRET", "1")
    plan = activation(FORMULAS[0])._fused_plan
    with pytest.raises(ValueError, match=r"^no fused kernel 'triton': Triton is not installed"):
        evaluate(plan, torch.linspace(-1, 1, 5), derivative=False, kind="triton")


# -------------------------------------------------------------- Triton

# Triton's interpreter patches triton.language in the process that runs it
# (and needs TRITON_INTERPRET set before triton is imported): it runs in a
# child process, so that the compiler in this one stays untouched.
_INTERPRETED = """
import json, sys
import numpy as np, sympy, torch
from srnet.activations import VARIABLE as x, ExpressionActivation
from srnet.activations.fused import evaluate, fused_apply
formulas = [sympy.sympify(text, locals={"x": x}) for text in json.loads(sys.argv[1])]
grid = torch.tensor(json.loads(sys.argv[2]), dtype=torch.float64)
worst = {}
for dtype in (torch.float32, torch.float64):
    t = grid.to(dtype)
    errors = []
    for expr in formulas:
        plan = ExpressionActivation.from_sympy(expr, check_range=None)._fused_plan
        y, dy = evaluate(plan, t, derivative=True, kind="triton")
        want, want_dy = evaluate(plan, t, derivative=True, kind="cpu")
        scale = 1 + want_dy.abs()
        errors.append(max(float(((y - want).abs() / (1 + want.abs())).nan_to_num(0).max()),
                          float(((dy - want_dy).abs() / scale).nan_to_num(0).max()),
                          float((y.isnan() != want.isnan()).sum() + (dy.isnan() != want_dy.isnan()).sum())))
    a = t.clone().requires_grad_(True)  # through autograd, as the module runs it on CUDA
    (grad,) = torch.autograd.grad(fused_apply(plan, a, "triton").sum(), a)
    errors.append(float(((grad - want_dy).abs() / scale).nan_to_num(0).max()))
    worst[str(dtype)] = errors
print(json.dumps(worst))
"""


@pytest.mark.slow
def test_triton_kernel_matches_the_cpu_kernel_under_the_interpreter():
    pytest.importorskip("triton")
    env = dict(os.environ, TRITON_INTERPRET="1")
    texts = [str(expr) for expr in FORMULAS]
    done = subprocess.run([sys.executable, "-c", _INTERPRETED, json.dumps(texts), json.dumps(GRID[::8].tolist())],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    worst = json.loads(done.stdout.strip().splitlines()[-1])
    assert max(worst["torch.float32"]) < 2e-5, worst
    assert max(worst["torch.float64"]) < 1e-7, worst  # the interpreter's tanh is Cephes' float polynomial


_INTERPRETED_SLOPES = """
import json, sys
import torch
from srnet.activations import ExpressionActivation
from srnet.activations.fused import evaluate
from srnet.expr import Program
points = json.loads(sys.argv[2])
slopes = {}
for name, data in json.loads(sys.argv[1]).items():
    plan = ExpressionActivation(Program.from_dict(data), check_range=None)._fused_plan
    for dtype in (torch.float32, torch.float64):
        slopes[f"{name} {dtype}"] = evaluate(plan, torch.tensor(points, dtype=dtype), True, kind="triton")[1].tolist()
print(json.dumps(slopes))
"""


@pytest.mark.slow
def test_triton_float64_protection_threshold_is_the_cpu_one():
    """The float64 kernel compared with EPS rounded to float32 (1.0000000134e-10): 1/x^2 at x = 1e-5
    (x^2 = 1.0000000000000002e-10) was protected (1) on the GPU and 1e10 everywhere else."""
    pytest.importorskip("triton")
    programs = {"inverse square": Program(1, (1.0,), (("square", 0, 0), ("div", 1, 2)), (3,), [[1.0]], [0.0])
                .to_dict(), "log square": Program(1, (), (("square", 0, 0), ("log", 1, 0)), (2,), [[1.0]], [0.0])
                .to_dict()}
    values = _INTERPRETED_SLOPES.replace('kind="triton")[1]', 'kind="triton")[0]')
    done = subprocess.run([sys.executable, "-c", values, json.dumps(programs), json.dumps([1e-5, -1e-5])],
                          env=dict(os.environ, TRITON_INTERPRET="1"), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["inverse square torch.float64"] == pytest.approx([1e10, 1e10], rel=1e-12)
    assert got["log square torch.float64"] == pytest.approx([np.log(1e-10)] * 2, rel=1e-12)


@pytest.mark.slow
def test_triton_kernel_gives_a_zero_slope_through_a_zero_local_derivative():
    """The kernel's rules as the CPU kernel's: 0, not NaN, through a saturated step."""
    pytest.importorskip("triton")
    programs = {name: program.to_dict() for name, program in SATURATING.items()}
    done = subprocess.run([sys.executable, "-c", _INTERPRETED_SLOPES, json.dumps(programs),
                           json.dumps(SATURATED_POINTS)], env=dict(os.environ, TRITON_INTERPRET="1"),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    slopes = json.loads(done.stdout.strip().splitlines()[-1])
    for name, program in SATURATING.items():
        for dtype in (torch.float32, torch.float64):
            plan = ExpressionActivation(program, check_range=None)._fused_plan
            want = evaluate(plan, torch.tensor(SATURATED_POINTS, dtype=dtype), derivative=True)[1].double().numpy()
            assert_same(np.array(slopes[f"{name} {dtype}"]), want, 2e-5, 0, f"{name}, {dtype}")  # exact zeros


def test_triton_kernel_compiles_for_an_h100_without_a_gpu():
    """The real compiler (down to PTX and ptxas), not the interpreter: it
    rejects what the interpreter lets through (e.g. a tuple growing inside a
    runtime branch)."""
    pytest.importorskip("triton")
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    from srnet.activations import _fused_triton

    if _fused_triton.interpreting():
        pytest.skip("TRITON_INTERPRET is set")
    every = sum((getattr(sympy, f)(x) for f in ("sin", "cos", "tan", "exp", "tanh")), x / (x + 2))
    every += sympy.log(sympy.Abs(x)) + sympy.sqrt(sympy.Abs(x)) + x**2 + x**3 - sympy.Abs(x) / (1 + sympy.exp(-x))
    plan = activation(every)._fused_plan
    assert {"sigmoid", "neg", "cube", "square", "abs", "sub"} <= set(plan.names) or len(set(plan.names)) >= 12
    # the forward pass, the backward pass from x, and both at once
    for dtype, value, derivative, scaled in (("fp32", True, False, False), ("fp32", False, True, True),
                                             ("fp64", True, True, False)):
        constants = dict(_fused_triton.launch_arguments(plan, value, derivative, scaled), LIBDEVICE=True)
        signature = {"x_ptr": f"*{dtype}", "y_ptr": f"*{dtype}", "dy_ptr": f"*{dtype}", "grad_ptr": f"*{dtype}",
                     "n": "i32", **{name: "constexpr" for name in constants}}
        try:
            kernel = triton.compile(ASTSource(fn=_fused_triton.fused_kernel, signature=signature,
                                              constexprs=constants), target=GPUTarget("cuda", 90, 32),
                                    options=_fused_triton.COMPILE_OPTIONS)
        except (FileNotFoundError, PermissionError) as error:  # no ptxas in this Triton build
            pytest.skip(f"Triton's CUDA toolchain is missing: {error}")
        assert "ptx" in kernel.asm and ".entry" in kernel.asm["ptx"]


# ----------------------------------------------------------------- CUDA

@needs_cuda
def test_cuda_fused_matches_cpu_and_trains():
    module = activation(FORMULAS[2], affine=True)
    values = np.concatenate([np.linspace(-5, 5, 1001), [0.0, 1e-12, -1e-12, 1.0]])
    cpu, cpu_grad, _ = value_and_grad(module, values, torch.float64)
    cuda = module.clone().cuda()
    t = torch.tensor(values, dtype=torch.float64, device="cuda", requires_grad=True)
    y = cuda(t)
    assert backend(cuda._fused_plan, t) == ("triton" if fused_module.FusedPlan.triton.func(cuda._fused_plan)
                                             else None)
    (grad,) = torch.autograd.grad(y.sum(), t)
    assert np.allclose(y.detach().cpu().numpy(), cpu, rtol=1e-10, atol=1e-10)
    assert np.allclose(grad.cpu().numpy(), cpu_grad, rtol=1e-8, atol=1e-8)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((512, 2))
    labels = (X[:, 0] * X[:, 1] > 0).astype(np.float64)
    torch.manual_seed(0)
    model = light_network(2, activation(x / (1 + sympy.exp(-x))), hidden=(16, 16))
    _, losses = train_binary(model, X, labels, epochs=30, lr=1e-2, batch_size=128, device="cuda")
    assert losses[-1] < 0.8 * losses[0] and math.isfinite(losses[-1])


@needs_cuda
def test_cuda_direct_launches_match_triton_dispatch():
    pytest.importorskip("triton")
    from srnet.activations import _fused_triton

    module = activation(FORMULAS[1]).cuda()
    t = torch.linspace(-5, 5, 100_003, device="cuda", requires_grad=True)  # a size no block divides
    results = []
    for fast in (False, True, True):  # Triton's dispatch, then the cached kernels launched directly
        _fused_triton._FAST[0] = fast
        y = module(t)
        (grad,) = torch.autograd.grad(y.sum(), t)
        results.append((y.detach(), grad))
    assert _fused_triton._FAST[0] and _fused_triton._COMPILED, "direct launches failed: Triton's dispatch is used"
    for y, grad in results[1:]:
        assert torch.equal(y, results[0][0]) and torch.equal(grad, results[0][1])


# ------------------------------------------------------------ benchmark

def test_benchmark_report_has_the_issue_keys_and_ratios_to_the_fastest_gelu(experiment_script, tmp_path):
    bench = experiment_script("bench_activation")
    provenance = experiment_script("_provenance")
    act = bench.ExpressionActivation.from_sympy(bench.FORMULAS["swish"][0])
    kernels = {size: {"gelu": 2.0, "gelu|compiled": 1.0 if size > 65536 else 4.0, "swish": 3.0}
               for size in bench.SIZES}
    training = {"light": {"gelu|eager": 1.0, "gelu|compiled": 2.0, "swish|eager": 1.5, "swish|compiled": 2.0},
                "transformer": {"gelu|eager": 2.0, "gelu|compiled": 2.0, "swish|eager": 2.2, "swish|compiled": 3.0}}
    report = bench.build_report(torch.device("cpu"), {"swish": act}, kernels, training)
    path = provenance.write_results(tmp_path / "bench.json", report)
    results = provenance.read_results(path)
    assert set(results) == {"device", "formulas", "details"}
    (row,) = results["formulas"]
    assert set(row) == {"formula", "nodes", "ratio_vs_fastest_gelu", "train_step_ratio_vs_gelu"}
    assert row["nodes"] == 2 and row["formula"] == act.formula
    # eager GELU (2.0) is the fastest at 64k, compiled (1.0) beyond
    assert row["ratio_vs_fastest_gelu"] == {"65536": 1.5, "1048576": 3.0, "16777216": 3.0}
    # the worse network per mode: eager max(1.5, 1.1), compiled max(1.0, 1.5)
    assert row["train_step_ratio_vs_gelu"] == {"eager": 1.5, "compiled": 1.5}


def test_benchmark_formulas_are_fifteen_of_at_most_fourteen_nodes(experiment_script):
    bench = experiment_script("bench_activation")
    sizes = []
    for name, (formula, by_hand) in bench.FORMULAS.items():
        act = formula() if callable(formula) else bench.ExpressionActivation.from_sympy(formula)
        sizes.append(act.n_nodes)
        t = torch.linspace(-4, 4, 101)
        with torch.no_grad():  # the hand-written twin is the same function
            assert torch.allclose(act(t), by_hand(t), rtol=1e-3, atol=1e-3), name
    assert len(sizes) == 15 and max(sizes) == 14 and min(sizes) == 1


def test_a_dense_layout_is_kept_and_the_identity_is_a_new_tensor():
    """channels_last came back row-major (the next conv paid a conversion); the unfused g(x) = x returned its input
    itself (an in-place op on the output changed the caller's tensor)."""
    module, unfused = activation(sympy.sin(x) / (x + 2)), activation(sympy.sin(x) / (x + 2), fused=False)
    for layout in (torch.randn(2, 3, 4, 5).to(memory_format=torch.channels_last), torch.randn(5, 4).t()):
        fused_in = layout.clone(memory_format=torch.preserve_format).requires_grad_(True)
        walked_in = layout.clone(memory_format=torch.preserve_format).requires_grad_(True)
        y, z = module(fused_in), unfused(walked_in)
        assert y.stride() == z.stride() == layout.stride() and torch.allclose(y, z, atol=1e-6)
        g = torch.randn_like(y)
        y.backward(g), z.backward(g)
        assert fused_in.grad.stride() == layout.stride() and torch.allclose(fused_in.grad, walked_in.grad, atol=1e-5)
    identity, data = activation(x, fused=False), torch.zeros(3)
    identity(data).add_(1)
    assert torch.equal(data, torch.zeros(3))


def test_traced_fake_and_dual_tensors_take_the_unfused_path():
    """make_fx traced the fused kernel as empty_like (its graph returned uninitialised memory), FakeTensor and
    nested tensors were refused by .numpy(), and a tangent on the affine parameters was dropped."""
    from torch.func import functional_call
    from torch.fx.experimental.proxy_tensor import make_fx

    module = activation(sympy.sin(x) * x)
    t = torch.linspace(-2, 2, 7)
    for mode in ("real", "fake"):
        assert torch.allclose(make_fx(module, tracing_mode=mode)(torch.randn(7))(t), torch.sin(t) * t)
    nested = torch.nested.nested_tensor([torch.randn(3), torch.randn(5)], layout=torch.jagged)
    assert torch.allclose(module(nested).values(), torch.sin(nested.values()) * nested.values())
    affine = ExpressionActivation.from_sympy(sympy.sin(x), check_range=None, affine=dict(a=1.0, b=1.0, c=0.0, d=0.0))
    with torch.autograd.forward_ad.dual_level():
        b = torch.autograd.forward_ad.make_dual(torch.tensor(1.0), torch.tensor(1.0))
        tangent = torch.autograd.forward_ad.unpack_dual(functional_call(affine, {"b": b}, (t,))).tangent
    assert torch.allclose(tangent, torch.cos(t) * t)  # d sin(b t) / db at b = 1


def test_an_activation_builds_and_exports_wherever_torch_puts_tensors():
    """With torch's default device 'meta' no activation could be built (the float32 check called .numpy() on
    it); torch.export in strict mode refused the unfused path's checkpoint; a list input was an AttributeError."""
    torch.set_default_device("meta")
    try:
        module = activation(sympy.sin(x) * x, fused=False)
    finally:
        torch.set_default_device(None)  # ("cpu" left a device mode on: every later module took the unfused path)
    network = torch.nn.Sequential(torch.nn.Linear(3, 2), module)
    exported = torch.export.export(network, (torch.randn(4, 3),), strict=True)
    inputs = torch.randn(4, 3)
    with torch.no_grad():
        assert torch.allclose(exported.module()(inputs), network(inputs))
    with pytest.raises(TypeError, match=r"^ExpressionActivation needs a torch.Tensor, got list"):
        module([1.0, 2.0])


def test_torch_func_transforms_take_the_unfused_path():
    module = activation(sympy.sin(x) * x)
    t = torch.linspace(-2, 2, 9, dtype=torch.float64)
    grad = torch.func.grad(lambda u: module(u).sum())(t)
    assert torch.allclose(grad, torch.sin(t) + t * torch.cos(t))
    jacobian = torch.func.vmap(torch.func.grad(lambda u: module(u)))(t)
    assert torch.allclose(jacobian, grad)


@pytest.mark.parametrize("dtype, big", [(torch.float64, 1e200), (torch.float32, 1e20)])
def test_an_output_listed_twice_has_autograds_slope_where_it_overflows(dtype, big):
    """-2 x^3 + 0.5 x^3 through one node twice: the fused map summed -2 * inf + 0.5 * inf = NaN, autograd
    (-2 + 0.5) * inf = -inf."""
    program = Program(1, (), (("cube", 0, 0),), (1, 1), [[-2.0], [0.5]], [0.0])
    slopes = []
    for fused in (True, False):
        x = torch.tensor([big, 1.0], dtype=dtype, requires_grad=True)
        y = ExpressionActivation(program, check_range=None, fused=fused)(x)
        slopes.append(torch.autograd.grad(y.sum(), x)[0])
    assert slopes[0][0].item() == -math.inf and torch.equal(slopes[0], slopes[1])
    assert slopes[0][1].item() == pytest.approx(-4.5)


@pytest.mark.parametrize("dtype, big", [(torch.float64, 1e200), (torch.float32, 1e20)])
def test_an_output_of_weight_zero_adds_nothing_where_it_overflows(dtype, big):
    """3x + 1 with x^4 listed at weight 0: where x^4 overflows, both paths give 3x + 1 and slope 3 (the fused map
    added 0 * inf = NaN), as the formula reads and as Program.combine computes."""
    program = Program(1, (), (("square", 0, 0), ("square", 1, 0)), (0, 2), [[3.0], [0.0]], [1.0])
    for fused in (True, False):
        x = torch.tensor([big, 1.0], dtype=dtype, requires_grad=True)
        y = ExpressionActivation(program, check_range=None, fused=fused)(x)
        slope = torch.autograd.grad(y.sum(), x)[0]
        assert torch.equal(y.detach(), 3 * x.detach() + 1) and torch.equal(slope, torch.full_like(slope, 3.0))


def test_a_formula_too_deep_to_print_still_prints_saves_and_is_refused_by_name(tmp_path):
    import inspect

    from srnet.activations import DegenerateActivationError

    # 300 frames above this one, as Python's default limit leaves a plain run (pytest-xdist's workers raise it)
    depth = len(inspect.stack())
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + 300)
    try:
        _deep_formulas(tmp_path, DegenerateActivationError)
    finally:
        sys.setrecursionlimit(limit)


def _deep_formulas(tmp_path, DegenerateActivationError):
    chain = Program(1, (), tuple(("sin", k, 0) for k in range(200)), (200,), [[1.0]], [0.0])
    activation = ExpressionActivation(chain, check_range=None)
    assert "200 steps" in repr(activation)  # sympy's printer recursed past Python's limit
    activation.save(tmp_path / "deep.json")
    loaded = ExpressionActivation.load(tmp_path / "deep.json")
    x = torch.linspace(-3, 3, 7, dtype=torch.float64)
    assert torch.equal(loaded(x), activation(x))
    steps = tuple(("sin", k, 0) for k in range(200)) + (("mul", 200, 0),) + tuple(("cube", 201 + k, 0)
                                                                               for k in range(8))
    with pytest.raises(DegenerateActivationError, match="209 steps"):  # was a RecursionError
        ExpressionActivation(Program(1, (), steps, (len(steps),), [[1.0]], [0.0]))


def test_a_batched_backward_on_the_recompute_path_matches_the_saved_slope(monkeypatch):
    """vmap over the backward (is_grads_batched, jacobian(vectorize=True)) handed a BatchedTensor's memory to
    the kernel: 'Batching rule not implemented' on inputs of 32 MiB and more."""
    module = activation(sympy.sin(x) * x)
    t = torch.linspace(-3, 3, 7, dtype=torch.float64)
    cotangents = torch.randn(2, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    results = []
    for threshold in (1 << 62, 0):
        monkeypatch.setattr(fused_module, "CPU_RECOMPUTE_MIN_BYTES", threshold)
        a = t.clone().requires_grad_(True)
        results.append(torch.autograd.grad(module(a), a, cotangents, is_grads_batched=True)[0])
    torch.testing.assert_close(results[1], results[0], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(results[0], cotangents * (torch.cos(t) * t + torch.sin(t)), rtol=1e-12, atol=1e-12)


def test_a_pickled_plan_asks_this_machine_what_it_can_run():
    """The cached answers (Triton present, arrays) travelled with a pickle to machines where they were false."""
    import pickle
    plan = activation(sympy.sin(x) * x)._fused_plan
    assert plan.cpu in (True, False) and "cpu" in plan.__dict__
    again = pickle.loads(pickle.dumps(plan))
    assert again.names == plan.names and again.args == plan.args and again.outputs == plan.outputs
    assert not {"cpu", "triton", "arrays"} & set(again.__dict__) and again.cpu == plan.cpu


def test_the_straight_line_identity_is_a_new_tensor():
    """Under torch.compile the identity returned the input itself: y.mul_(0) zeroed the caller's tensor."""
    plan = activation(x)._fused_plan
    t = torch.linspace(-1, 1, 5)
    y, _ = forward_mode(plan, t, derivative=False)
    assert y is not t and torch.equal(y, t)


def test_float32_tanh_keeps_the_sign_of_zero():
    """tanh(-0.0) was +0.0 in the float32 kernel (poly * z * x + x); torch gives -0.0."""
    t = torch.tensor([-0.0, 0.0], dtype=torch.float32)
    y = activation(sympy.tanh(x))(t)
    assert torch.equal(torch.signbit(y), torch.signbit(torch.tanh(t)))
