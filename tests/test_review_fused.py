"""Review of the fused activation path: defects found and fixed (each test failed before its fix).

Oracle: the unfused module (the primitive table's torch forms, autograd), bit for bit where the two paths
compute the same sums in the same order.
"""

import json
import os
import subprocess
import sys

import pytest
import sympy
import torch

from srnet.activations import VARIABLE, ExpressionActivation
from srnet.activations.fused import FusedPlan, evaluate, forward_mode, fused_apply
from srnet.expr import Program

x = VARIABLE
ZEROS = [0.0, -0.0, 1.5, -2.0]
#: Output maps that are not a plain copy: a weight other than 1, several outputs, an intercept.
SIGNED_ZERO_FORMULAS = [-x, 2 * x, -2 * x, 0.5 * x**3, 3 * x - 2 * sympy.Abs(x)]


def activation(expr, **kwargs):
    return ExpressionActivation.from_sympy(expr, check_range=None, **kwargs)


def same_bits(got: torch.Tensor, want: torch.Tensor) -> bool:
    return torch.equal(got, want) and torch.equal(torch.signbit(got), torch.signbit(want))


# ------------------------------------------------------------ the output map's order and sign of zero

@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("expr", SIGNED_ZERO_FORMULAS, ids=str)
def test_the_straight_line_sums_the_output_map_as_the_unfused_walk(expr, dtype):
    """forward_mode (what torch.compile runs) left the intercept out when it was 0 and added it last:
    2*x at -0.0 was -0.0 compiled and +0.0 eagerly (0 + 2*(-0))."""
    t = torch.tensor(ZEROS, dtype=dtype)
    want = activation(expr, fused=False)(t)
    plan = activation(expr)._fused_plan
    assert same_bits(forward_mode(plan, t)[0], want)
    assert same_bits(forward_mode(plan, t, derivative=False)[0], want)
    assert same_bits(evaluate(plan, t, derivative=False)[0], want)  # the CPU kernel


def test_the_straight_line_adds_the_intercept_first():
    """intercept + t1 + t2 rounds otherwise than t1 + t2 + intercept: 1 + 1e8 - 1e8 is 0 in float32."""
    plan = FusedPlan((), (), (), (0, 0), (1.0, -1.0), 1.0)  # not merged: the two outputs cancel
    t = torch.tensor([1e8], dtype=torch.float32)
    want = (torch.tensor(1.0) + t) - t
    assert want.item() == 0.0
    assert forward_mode(plan, t)[0].item() == want.item() == evaluate(plan, t, derivative=False)[0].item()


# ------------------------------------------------------------ constant formulas

CONSTANT = Program(1, (2.0,), (("exp", 1, 1),), (2,), [[1.0]], [0.5])


@pytest.mark.parametrize("affine", [False, True])
def test_a_constant_formula_has_a_zero_slope_on_the_unfused_walk_too(affine):
    """Walked, g(x) = exp(2) + 0.5 had no grad_fn: backward() failed, and x (or b, c) got no gradient
    where the fused path gives 0; and its output was a stride-0 view that refused in-place ops."""
    fused, unfused = (ExpressionActivation(CONSTANT, check_range=None, fused=f, affine=affine) for f in (True, False))
    for shape in [(4,), (2, 3), ()]:
        t = torch.randn(shape, dtype=torch.float64, requires_grad=True)
        want = torch.full(shape, torch.exp(torch.tensor(2.0, dtype=torch.float64)).item() + 0.5, dtype=torch.float64)
        for module in (fused, unfused):
            y = module(t)
            assert torch.allclose(y, want)
            inputs = [t] + ([module.b, module.c] if affine else [])
            grads = torch.autograd.grad(y.sum(), inputs)
            assert all(torch.equal(g, torch.zeros_like(g)) for g in grads)
            y.detach().add_(1.0)  # a tensor of its own
            assert module(t.detach()).stride() == torch.empty(shape).stride()


def test_a_compiled_constant_formula_returns_a_tensor_of_its_own():
    """Compiled, the straight line returned y.expand_as(x): a stride-0 view (y.add_(1) raised)."""
    plan = ExpressionActivation(CONSTANT, check_range=None)._fused_plan
    t = torch.randn(3, 2)
    y, dy = forward_mode(plan, t)
    assert y.stride() == t.stride() and torch.equal(dy, torch.zeros_like(t))
    y.add_(1.0)
    module = ExpressionActivation(CONSTANT, check_range=None)
    torch._dynamo.reset()
    compiled = torch.compile(module, fullgraph=True, backend="aot_eager")
    y = compiled(t)
    y.add_(1.0)
    unfused = ExpressionActivation(CONSTANT, check_range=None, fused=False)
    torch._dynamo.reset()
    leaf = t.clone().requires_grad_(True)
    y = torch.compile(unfused, fullgraph=True, backend="aot_eager")(leaf)  # (its checkpoint refused the plan's lock)
    (grad,) = torch.autograd.grad(y.sum(), leaf)
    assert torch.equal(grad, torch.zeros_like(t))


# ------------------------------------------------------------ bad input: one line

@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta state")  # building the inputs
@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors is in prototype stage")
@pytest.mark.parametrize("fused", [True, False])
def test_a_sparse_or_strided_nested_input_is_one_clear_error(fused):
    """The fused path raised "unsupported memory format option Contiguous" (COO) or "Sparse CSR tensors
    do not have is_contiguous"; the walk failed inside a step, and a strided nested tensor on an internal error."""
    module = activation(sympy.sin(x) * 2, fused=fused)
    for bad in (torch.randn(3).to_sparse(), torch.randn(2, 2).to_sparse_csr(),
                torch.nested.nested_tensor([torch.randn(2), torch.randn(3)])):
        with pytest.raises(TypeError, match="needs a dense tensor"):
            module(bad)
    jagged = torch.nested.nested_tensor([torch.randn(2), torch.randn(3)], layout=torch.jagged)
    assert module(jagged).is_nested  # jagged tensors compute (the walk)


def test_a_forced_kernel_that_cannot_run_is_one_clear_error():
    """evaluate(kind="cpu") of a float16 tensor was a KeyError, an unknown kind ran the CPU kernel,
    and a plan with an unknown primitive a KeyError only when its codes were read."""
    plan = activation(sympy.sin(x) + x)._fused_plan
    for t, kind in ((torch.randn(3).half(), "cpu"), (torch.arange(3), "cpu"), (torch.randn(3).half(), "triton")):
        with pytest.raises(ValueError, match="no fused kernel"):
            evaluate(plan, t, True, kind=kind)
        with pytest.raises(ValueError, match="no fused kernel"):
            fused_apply(plan, t, kind)
    with pytest.raises(ValueError, match="unknown fused kernel"):
        evaluate(plan, torch.randn(3), True, kind="cuda")
    with pytest.raises(ValueError, match="unknown primitive 'bogus'"):
        FusedPlan(("bogus",), ((0, 0),), (), (1,), (1.0,), 0.0)


def test_a_negative_bit_view_computes_on_its_values():
    """numpy() refused a tensor with the negative bit set (the fused path raised where the walk computed)."""
    module, unfused = activation(sympy.sin(x) + x), activation(sympy.sin(x) + x, fused=False)
    view = torch._neg_view(torch.tensor([1.0, 2.0]))
    assert view.is_neg()
    assert torch.equal(module(view), unfused(view))
    leaf = torch.tensor([1.0, 2.0], requires_grad=True)
    grad_out = torch._neg_view(torch.tensor([1.0, 3.0]))
    (got,) = torch.autograd.grad(module(leaf), leaf, grad_out)
    (want,) = torch.autograd.grad(unfused(leaf), leaf, grad_out)
    assert torch.allclose(got, want)


# ------------------------------------------------------------ the Triton kernel, under its interpreter

_TRITON = """
import json, sys
import sympy
import torch
from srnet.activations import VARIABLE as x, ExpressionActivation
from srnet.activations.fused import FusedPlan, evaluate
exprs = [-x, 2 * x, -2 * x, 0.5 * x**3, 3 * x - 2 * sympy.Abs(x)]
out = {}
for dtype in (torch.float32, torch.float64):
    t = torch.tensor([0.0, -0.0, 1.5, -2.0], dtype=dtype)
    for e in exprs:
        plan = ExpressionActivation.from_sympy(e, check_range=None)._fused_plan
        got = evaluate(plan, t, True, kind="triton")[0]
        want = evaluate(plan, t, True, kind="cpu")[0]
        out[f"{e} {dtype}"] = torch.equal(got, want) and torch.equal(got.signbit(), want.signbit())
    plan = FusedPlan(("mul", "sin", "div"), ((0, 1), (0, 0), (0, 1)), (0.7,), (2, 3, 4), (1 / 3, 0.3, 0.11), 0.1)
    t = torch.tensor([0.5, -1.25, 3.0, 1e-20, 0.0], dtype=dtype)
    out[f"intercept first {dtype}"] = torch.equal(evaluate(plan, t, True, kind="triton")[0],
                                                  evaluate(plan, t, True, kind="cpu")[0])
view = torch._neg_view(torch.tensor([1.0, 2.0]))
plan = ExpressionActivation.from_sympy(sympy.sin(x) + x, check_range=None)._fused_plan
out["negative view"] = torch.equal(evaluate(plan, view, True, kind="triton")[0],
                                   evaluate(plan, view.resolve_neg(), True, kind="cpu")[0])
print(json.dumps(out))
"""


@pytest.mark.slow
def test_the_triton_kernel_sums_the_output_map_as_the_cpu_kernel():
    """The Triton kernel added the intercept last, and not at all when 0 (2*x at -0.0: -0.0, the CPU
    kernel and the walk +0.0), and read a negative-bit view's memory (sin(-x) - x as sin(x) + x)."""
    pytest.importorskip("triton")
    done = subprocess.run([sys.executable, "-c", _TRITON], env=dict(os.environ, TRITON_INTERPRET="1"),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert all(results.values()), {name: ok for name, ok in results.items() if not ok}
