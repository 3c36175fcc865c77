"""The primitive table: every backend column computes the same function."""

import math

import numpy as np
import pytest
import sympy
import torch
from _oracle import SPECIAL_VALUES, SUBNORMALS

from srnet.cgp.primitives import EXP_MAX, PAPER_FUNCTIONS, PRIMITIVES, PROTECTION_EPS, function_codes, primitive

rng = np.random.default_rng(7)
GRID = np.concatenate([SPECIAL_VALUES, -SPECIAL_VALUES, rng.standard_normal(500) * 5,
                       rng.uniform(-1e9, 1e9, 50), [np.inf, -np.inf, np.nan]])
A, B = np.meshgrid(GRID, GRID[::7])
A, B = A.ravel().copy(), B.ravel().copy()


def numba_values(prim, a, b):
    out = np.empty_like(a)
    prim.kernel(a, b, out)
    return out


@pytest.mark.parametrize("prim", PRIMITIVES, ids=lambda p: p.name)
def test_numba_kernel_matches_numpy_oracle(prim):
    got = numba_values(prim, A, B)
    want = prim.numpy(A, B)
    np.testing.assert_allclose(got, want, rtol=4e-16 * 8, atol=0, equal_nan=True)


with np.errstate(over="ignore"):
    A32, B32 = A.astype(np.float32), B.astype(np.float32)
#: float32 error allowed: the polynomial sin/cos are accurate to about 1e-7
#: absolute (a relative bound fails next to their roots), the rest to 2 ulp
_ABSOLUTE_ERROR32 = {"sin": 1.5e-7, "cos": 1.5e-7}


@pytest.mark.parametrize("prim", PRIMITIVES, ids=lambda p: p.name)
def test_float32_kernel_matches_the_oracle_rounded_to_float32(prim):
    """The search's float32 precision computes the same protected functions."""
    got = numba_values(prim, A32, B32)
    assert got.dtype == np.float32
    with np.errstate(all="ignore"):
        want = prim.numpy(A32.astype(np.float64), B32.astype(np.float64)).astype(np.float32)
    finite = np.isfinite(want)
    np.testing.assert_array_equal(got[~finite], want[~finite])  # inf, -inf and NaN where the oracle has them
    error = np.abs(got[finite].astype(np.float64) - want[finite])
    allowed = 2 * np.spacing(np.abs(want[finite])).astype(np.float64) + _ABSOLUTE_ERROR32.get(prim.name, 0.0)
    worst = np.argmax(error - allowed)
    assert np.all(error <= allowed), (f"{prim.name}({A32[finite][worst]}, {B32[finite][worst]}) = {got[finite][worst]}, "
                                      f"want {want[finite][worst]}")


@pytest.mark.parametrize("prim", PRIMITIVES, ids=lambda p: p.name)
def test_torch_form_matches_numpy_oracle(prim):
    got = prim.torch(torch.from_numpy(A), torch.from_numpy(B)).numpy()
    want = prim.numpy(A, B)
    np.testing.assert_allclose(got, want, rtol=1e-15, atol=1e-300, equal_nan=True)


@pytest.mark.parametrize("prim", PRIMITIVES, ids=lambda p: p.name)
def test_sympy_form_matches_where_no_protection_fires(prim):
    a, b = sympy.symbols("a b", real=True)
    expr = prim.sympy(a, b)
    checked = 0
    for x, y in zip(A[::41], B[::41]):
        if not (np.isfinite(x) and np.isfinite(y)) or abs(x) > 1e6 or abs(y) > 1e6:
            continue
        if prim.name == "div" and abs(y) <= PROTECTION_EPS or prim.name == "log" and abs(x) <= PROTECTION_EPS:
            continue
        if prim.name == "exp" and x > EXP_MAX:
            continue
        want = float(prim.numpy(np.array([x]), np.array([y]))[0])
        got = complex(expr.xreplace({a: sympy.Float(x, 30), b: sympy.Float(y, 30)}).evalf(25))
        if not math.isfinite(want):
            continue
        assert got.imag == 0
        assert got.real == pytest.approx(want, rel=1e-12, abs=1e-300)
        checked += 1
    assert checked > 20


#: zeros of both signs, subnormals and a few normals, in every pairing
EDGE = np.concatenate([[0.0, -0.0], SUBNORMALS, [1.0, -1.0, 2.0]])
EA, EB = (v.ravel().copy() for v in np.meshgrid(EDGE, EDGE))


@pytest.mark.parametrize("prim", PRIMITIVES, ids=lambda p: p.name)
def test_every_backend_agrees_on_subnormals_and_signed_zeros(prim):
    """No backend flushes subnormals, clamps at finfo.tiny or loses the sign
    of a zero: numba and torch give the oracle's value (a subnormal result to
    the last bit), and sympy's exact value rounds to it where no protection
    fires."""
    want = prim.numpy(EA, EB)
    backends = {"numba": numba_values(prim, EA, EB),
                "torch": prim.torch(torch.from_numpy(EA), torch.from_numpy(EB)).numpy()}
    zeros = want == 0
    for backend, got in backends.items():
        np.testing.assert_allclose(got, want, rtol=4e-16 * 8, atol=0, equal_nan=True,
                                   err_msg=f"{backend} {prim.name} at a={EA}, b={EB}")
        wrong_sign = np.flatnonzero(np.signbit(got[zeros]) != np.signbit(want[zeros]))
        assert wrong_sign.size == 0, (f"{backend} {prim.name}({EA[zeros][wrong_sign[0]]}, {EB[zeros][wrong_sign[0]]}) "
                                      f"= {got[zeros][wrong_sign[0]]}, want {want[zeros][wrong_sign[0]]}")
    a, b = sympy.symbols("a b", real=True)
    expr = prim.sympy(a, b)
    for x, y, value in zip(EA, EB, want):
        if prim.name == "div" and abs(y) <= PROTECTION_EPS or prim.name == "log" and abs(x) <= PROTECTION_EPS:
            continue
        exact = complex(expr.xreplace({a: sympy.Float(x, 30), b: sympy.Float(y, 30)}).evalf(25))
        assert exact.imag == 0 and exact.real == pytest.approx(value, rel=1e-12, abs=0), (prim.name, x, y)


def test_protected_cases_have_the_documented_values():
    div, log, sqrt, exp = (primitive(n) for n in ("div", "log", "sqrt", "exp"))
    zero = np.array([0.0, 1e-11, -1e-11])
    assert np.all(numba_values(div, np.array([5.0, 5.0, 5.0]), zero) == 1.0)
    assert np.all(numba_values(log, zero, zero) == 0.0)
    assert numba_values(sqrt, np.array([-4.0]), np.zeros(1))[0] == 2.0
    assert numba_values(exp, np.array([1000.0]), np.zeros(1))[0] == math.exp(EXP_MAX)
    # NaN is never swallowed by a protection test
    for prim in PRIMITIVES:
        assert np.isnan(numba_values(prim, np.array([np.nan]), np.array([np.nan]))[0]), prim.name


def test_torch_gradients_are_finite_at_protected_points():
    x = torch.tensor([0.0, -0.0, 5e-324, -1e-310, 1e-12, -3.0, 2.0], dtype=torch.float64, requires_grad=True)
    for name in ("div", "log", "sqrt", "exp"):
        prim = primitive(name)
        y = prim.torch(torch.ones_like(x), x) if name == "div" else prim.torch(x, x)
        (grad,) = torch.autograd.grad(y.sum(), x)
        assert torch.all(torch.isfinite(grad)), name


def test_default_set_is_the_papers_and_unknown_names_list_the_valid_ones():
    assert PAPER_FUNCTIONS == ("add", "sub", "mul", "div", "sqrt", "square", "log", "sin", "cos", "tan")
    assert [PRIMITIVES[c].name for c in function_codes("add, sin,cos")] == ["add", "sin", "cos"]
    with pytest.raises(ValueError, match=r"unknown primitive 'sine'.*valid primitives: add, sub"):
        function_codes(["add", "sine"])
    with pytest.raises(ValueError, match="repeats"):
        function_codes(["add", "add"])
    with pytest.raises(ValueError, match="empty"):
        function_codes([])


def test_torch_sqrt_gradient_is_zero_at_zero_and_finite_at_subnormals():
    x = torch.tensor([0.0, -0.0, 5e-324, -1e-310, 4.0], dtype=torch.float64, requires_grad=True)
    y = primitive("sqrt").torch(x, x)
    assert y.tolist() == [0.0, 0.0, math.sqrt(5e-324), math.sqrt(1e-310), 2.0]
    (grad,) = torch.autograd.grad(y.sum(), x)
    assert grad[0] == 0 and grad[1] == 0 and grad[4] == 0.25
    assert torch.all(torch.isfinite(grad)) and grad[2] > 0 and grad[3] < 0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_each_guard_fires_exactly_where_its_primitive_departs_from_the_plain_formula(dtype):
    """The guards (read by the pole check, the activations' warning and X-Net's admissible functions) state
    where each protection fires: exactly where the protected value differs from the unprotected one."""
    assert [p.name for p in PRIMITIVES if p.guard is not None] == ["div", "log", "exp"]
    eps32 = np.float32(PROTECTION_EPS)
    near = np.array([0.0, -0.0, PROTECTION_EPS, -PROTECTION_EPS, np.nextafter(PROTECTION_EPS, 1), eps32, -eps32,
                     2 * PROTECTION_EPS, 1e-3, EXP_MAX, np.nextafter(EXP_MAX, 100), EXP_MAX + 0.5, np.nan])
    values = near.astype(dtype)
    plain = {"div": lambda a, b: a / b, "log": lambda a, b: np.log(np.abs(a)), "exp": lambda a, b: np.exp(a)}
    for name, formula in plain.items():
        prim = primitive(name)
        guarded = values.astype(np.float64)
        args = [np.full_like(guarded, 3.0), np.full_like(guarded, 3.0)]
        args[prim.guard.operand] = guarded
        with np.errstate(all="ignore"):
            departs = ~(prim.numpy(*args) == formula(*args))
            departs &= ~np.isnan(guarded)
        assert prim.guard.fires(values).tolist() == departs.tolist(), name
        assert prim.guard.fires(torch.from_numpy(values)).tolist() == departs.tolist(), name
