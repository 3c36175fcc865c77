"""Tests that kill the surviving mutants of a mutation-testing sample of srnet/activations/fused.py.

Sample: mutmut 3.8.1, ``only_mutate = ["srnet/activations/fused.py"]``, 668 mutants, 25 drawn by
``random.Random(61).sample(sorted(names), 25)``, each run against tests/test_fused_activation.py and
tests/test_review_fused.py (``-k "not triton and not benchmark"``).  Five survived: two are equivalent on
the torch this project runs (``functorch_active`` and ``_batched`` with a fallback for a torch without the
hook they read), three are killed here.

Oracles: torch autograd through the unfused module (``fused=False``), torch.func on a plain torch function,
and the exact text of the one-line error.  No mocks.
"""

import pytest
import sympy
import torch

from srnet.activations import VARIABLE, ExpressionActivation
from srnet.activations.fused import FusedPlan, evaluate, forward_mode, functorch_active, fused_apply
from srnet.expr import Program

x = VARIABLE


def test_functorch_active_is_true_inside_torch_func_transforms_and_false_outside():
    """Kills ``x_functorch_active__mutmut_9`` (``check is not None and False``: always False).  The module
    then runs the fused kernels' autograd.Function under torch.func.grad / vmap, and a user's
    ``torch.func.grad(loss)(x)`` fails with "In order to use an autograd.Function with functorch transforms
    ... it must override the setup_context staticmethod" (vmap: "Cannot access data pointer")."""
    seen = []

    def probe(u):
        seen.append(functorch_active())
        return u.sin().sum()

    assert functorch_active() is False
    torch.func.grad(probe)(torch.ones(3))
    torch.func.vmap(probe)(torch.ones(2, 3))
    assert seen == [True, True]

    module = ExpressionActivation.from_sympy(sympy.sin(x) * x, check_range=None)
    unfused = ExpressionActivation.from_sympy(sympy.sin(x) * x, check_range=None, fused=False)
    t = torch.linspace(-2, 2, 9, dtype=torch.float64)
    assert not torch.overrides.has_torch_function((t,))  # the module would take the fused path
    a = t.clone().requires_grad_(True)
    (want,) = torch.autograd.grad(unfused(a).sum(), a)
    torch.testing.assert_close(torch.func.grad(lambda u: module(u).sum())(t), want, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(torch.func.vmap(module)(t[:, None]), unfused(t[:, None]).detach())


def test_a_plan_without_steps_is_named_none_in_the_error():
    """Kills ``x__checked_kind__mutmut_47`` (``'(none)'`` -> ``'XX(none)XX'``): forcing the fused kernel on
    a float16 tensor for a constant or identity formula (a plan with no primitives) says which primitives
    it has; the mutant printed "with primitives XX(none)XX"."""
    for plan in (FusedPlan((), (), (2.0,), (1,), (1.0,), 0.0), FusedPlan((), (), (), (0,), (1.0,), 0.0)):
        half = torch.zeros(3, dtype=torch.float16)
        tail = "for torch.float16 tensors on cpu with primitives (none)"
        for run, message in ((lambda: evaluate(plan, half, False), f"no fused kernel {tail}"),
                             (lambda: fused_apply(plan, half), f"no fused kernel {tail}"),
                             (lambda: evaluate(plan, half, True, kind="cpu"), f"no fused kernel 'cpu' {tail}")):
            with pytest.raises(ValueError) as raised:
                run()
            assert str(raised.value) == message


def test_a_mul_by_a_constant_keeps_the_sign_of_an_underflowed_zero_slope():
    """Kills ``x__derivative__mutmut_25`` (``name == "XXmulXX"``: mul by a constant through the full rule,
    which adds the constant side's slope ``+0.0``).  (x * 1e-200) * -1e-200 in float64: the slope
    1e-200 * -1e-200 underflows to -0.0, which autograd of the unfused walk, the CPU kernel and torch.compile
    all give; the mutant's straight line (the torch.compile route and the batched backward) added +0.0 and
    returned +0.0, flipping the sign of the gradient's zeros (torch.signbit, copysign, 1 / grad)."""
    program = Program(1, (1e-200, -1e-200), (("mul", 0, 1), ("mul", 3, 2)), (4,), [[1.0]], [0.0])
    fused = ExpressionActivation(program, check_range=None)
    unfused = ExpressionActivation(program, check_range=None, fused=False)
    t = torch.tensor([-2.0, 0.5, 3.0], dtype=torch.float64)
    a = t.clone().requires_grad_(True)
    (want,) = torch.autograd.grad(unfused(a).sum(), a)
    assert torch.equal(want, torch.zeros_like(t)) and torch.signbit(want).all()
    y, dy = forward_mode(fused._fused_plan, t)
    assert torch.equal(y, unfused(t).detach())
    assert torch.equal(dy, want) and torch.equal(torch.signbit(dy), torch.signbit(want))
    _, kernel_dy = evaluate(fused._fused_plan, t, derivative=True)
    assert torch.equal(torch.signbit(kernel_dy), torch.signbit(want))
