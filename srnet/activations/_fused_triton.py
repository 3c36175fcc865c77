"""The fused CUDA kernel of :mod:`srnet.activations.fused`: a Triton kernel
specialised on the program's op codes and constants.

The program enters the kernel as compile-time parameters (tuples of integer
op codes and addresses, float constants and output weights): Triton unrolls
the steps and resolves each step's primitive while compiling, so one formula
is one straight-line kernel computing ``g(x)`` and, with ``DERIVATIVE``,
``g'(x)`` in forward mode (the rules of
:data:`srnet.activations.fused.DERIVATIVES`).  Nothing is generated as text:
the kernel below is the only source, and Triton compiles one specialisation
per formula (cached, like any Triton kernel).

Triton is optional (``pip install srnet[gpu]``); :func:`available` says
whether it can run here.  Under ``TRITON_INTERPRET=1`` the same kernel runs
on CPU tensors through Triton's interpreter (how the tests check it without
a GPU); libdevice is not available there, so tanh and tan are computed from
exp, sin and cos (Cephes' tanhf), on the GPU they are libdevice's.
"""

from __future__ import annotations

import contextlib
import functools
import os

import torch

from srnet.activations._fused_cpu import SUPPORTED  # noqa: F401 - the one list of what the kernels implement
from srnet.cgp.primitives import EXP_MAX, PRIMITIVE_CODES, PROTECTION_EPS, PROTECTION_EPS_FLOAT32

BLOCK = 1024


def interpreting() -> bool:
    """Whether Triton runs its interpreter (``TRITON_INTERPRET=1``)."""
    return os.environ.get("TRITON_INTERPRET", "0") not in ("", "0")


try:
    import triton
    import triton.language as tl
    from triton.language.extra import libdevice
except ImportError:  # optional: pip install 'srnet[gpu]'
    triton = None


def available() -> bool:
    """Whether Triton is installed (the kernel runs on CUDA tensors, or on CPU tensors under its interpreter)."""
    return triton is not None


if triton is not None:
    # Triton kernels read module globals only when they are constexpr
    ADD, SUB, MUL, DIV = (tl.constexpr(PRIMITIVE_CODES[n]) for n in ("add", "sub", "mul", "div"))
    SQRT, SQUARE, LOG, SIN = (tl.constexpr(PRIMITIVE_CODES[n]) for n in ("sqrt", "square", "log", "sin"))
    COS, TAN, EXP, TANH = (tl.constexpr(PRIMITIVE_CODES[n]) for n in ("cos", "tan", "exp", "tanh"))
    SIGMOID, ABS, NEG, CUBE = (tl.constexpr(PRIMITIVE_CODES[n]) for n in ("sigmoid", "abs", "neg", "cube"))
    EPS = tl.constexpr(PROTECTION_EPS)
    EPS32 = tl.constexpr(PROTECTION_EPS_FLOAT32)
    TOP = tl.constexpr(EXP_MAX)

    @triton.jit
    def _constant(value: tl.constexpr, like):
        return tl.full(like.shape, value, like.dtype)

    @triton.jit
    def _eps(like):
        """PROTECTION_EPS in ``like``'s dtype, with float64's verdict (see PROTECTION_EPS_FLOAT32)."""
        if like.dtype == tl.float32:
            e = _constant(EPS32, like)
        else:
            e = _constant(EPS, like)
        return e

    @triton.jit
    def _div(a, b):
        """a / b rounded as IEEE division (Triton's float32 '/' is approximate)."""
        if a.dtype == tl.float32:
            r = tl.div_rn(a, b)
        else:
            r = a / b
        return r

    @triton.jit
    def _sqrt(a):
        if a.dtype == tl.float32:
            r = tl.sqrt_rn(a)
        else:
            r = tl.sqrt(a)
        return r

    @triton.jit
    def _exp(a, LIBDEVICE: tl.constexpr):
        if LIBDEVICE:
            r = libdevice.exp(a)  # Triton's own float32 exp is ex2.approx: 5e-6 relative error at 80
        else:
            r = tl.exp(a)
        return r

    @triton.jit
    def _tanh(a, LIBDEVICE: tl.constexpr):
        if LIBDEVICE:
            r = libdevice.tanh(a)
        else:  # Cephes tanhf: a polynomial near 0, 1 - 2 / (exp(2|a|) + 1) beyond
            z = a * a
            small = ((((-5.70498872745e-3 * z + 2.06390887954e-2) * z - 5.37397155531e-2) * z
                      + 1.33314422036e-1) * z - 3.33332819422e-1) * z * a + a
            e = tl.exp(2.0 * tl.minimum(tl.abs(a), 20.0))
            large = 1.0 - _div(_constant(2.0, a), e + 1.0)
            large = tl.where(a < 0, -large, large)
            r = tl.where(tl.abs(a) < 0.625, small, large)
            r = tl.where((a != a) | (a == 0), a, r)  # NaN stays NaN, -0 stays -0 (poly * z * a + a gave +0)
        return r

    @triton.jit
    def _chain(factor, slope):
        """factor * slope, 0 where either is exactly 0 (an overflowed slope
        through a saturated step, or an infinite factor on a saturated
        step's slope of 0; srnet.activations.fused._chain)."""
        return tl.where((factor == 0) | (slope == 0), _constant(0.0, factor), factor * slope)

    @triton.jit
    def _step(code: tl.constexpr, a, b, da, db, LA: tl.constexpr, LB: tl.constexpr, LIBDEVICE: tl.constexpr):
        """(value, derivative) of one primitive (the engine's protected semantics;
        the derivative rules of srnet.activations.fused.DERIVATIVES)."""
        zero = _constant(0.0, a)
        one = _constant(1.0, a)
        # binary steps: LA, LB say which arguments depend on x; a constant's
        # slope is not multiplied in (no 0 * inf = NaN, as in autograd)
        if code == ADD:
            v = a + b
            if LA and LB:
                d = da + db
            elif LA:
                d = da
            else:
                d = db
        elif code == SUB:
            v = a - b
            if LA and LB:
                d = da - db
            elif LA:
                d = da
            else:
                d = -db
        elif code == MUL:
            v = a * b
            if LA and LB:
                d = _chain(b, da) + _chain(a, db)
            elif LA:
                d = _chain(b, da)
            else:
                d = _chain(a, db)
        elif code == DIV:
            singular = tl.abs(b) <= _eps(b)  # in the tensor's dtype: a float32 EPS widened wrongly
            safe = tl.where(singular, one, b)
            q = _div(a, safe)
            v = tl.where(singular, one, q)
            if LA and LB:
                g = _chain(_div(one, safe), da) + _chain(-_div(q, safe), db)
            elif LA:
                g = _chain(_div(one, safe), da)
            else:
                g = _chain(-_div(q, safe), db)
            d = tl.where(singular, zero, g)
        elif code == SQRT:
            v = _sqrt(tl.abs(a))
            f = _div(_constant(0.5, a), tl.where(a == 0, one, v))
            d = _chain(tl.where(a == 0, zero, tl.where(a < 0, -f, f)), da)
        elif code == SQUARE:
            v = a * a
            d = _chain(2.0 * a, da)
        elif code == LOG:
            small = tl.abs(a) <= _eps(a)
            v = tl.where(small, zero, tl.log(tl.where(small, one, tl.abs(a))))
            d = _chain(tl.where(small, zero, _div(one, tl.where(small, one, a))), da)
        elif code == SIN:
            v = tl.sin(a)
            d = _chain(tl.cos(a), da)
        elif code == COS:
            v = tl.cos(a)
            d = _chain(-tl.sin(a), da)
        elif code == TAN:
            if LIBDEVICE:
                v = libdevice.tan(a)
            else:
                v = _div(tl.sin(a), tl.cos(a))
            d = _chain(1.0 + v * v, da)
        elif code == EXP:
            v = _exp(tl.where(a > TOP, _constant(TOP, a), a), LIBDEVICE)
            d = _chain(tl.where(a <= TOP, v, zero), da)
        elif code == TANH:
            v = _tanh(a, LIBDEVICE)
            d = _chain(1.0 - v * v, da)
        elif code == SIGMOID:
            e = _exp(-tl.abs(a), LIBDEVICE)
            r = _div(one, 1.0 + e)
            v = tl.where(a >= 0, r, e * r)
            d = _chain(v * (1.0 - v), da)
        elif code == ABS:
            v = tl.abs(a)
            d = _chain(tl.where(a < 0, -one, tl.where(a > 0, one, zero)), da)  # 0 at 0 and NaN, as torch.sgn
        elif code == NEG:  # times -1, not Triton's -a (0 - a): neg(+0) is -0, as torch gives it
            v = a * -1.0
            d = da * -1.0
        else:  # CUBE
            v = a * a * a
            d = _chain(3.0 * a * a, da)
        return v, d

    @triton.jit
    def _weighted(value, weight: tl.constexpr):
        if weight == 1.0:
            r = value
        else:
            r = value * weight
        return r

    @triton.jit
    def _add_weighted(total, slope, weight: tl.constexpr, FIRST: tl.constexpr):
        if weight == 0.0:
            r = total
        elif FIRST:
            r = _weighted(slope, weight)
        else:
            r = total + _weighted(slope, weight)
        return r

    @triton.jit(do_not_specialize=["n"])  # one compiled kernel for every size
    def fused_kernel(x_ptr, y_ptr, dy_ptr, grad_ptr, n, CODES: tl.constexpr, ARG_A: tl.constexpr,
                     ARG_B: tl.constexpr, CONSTANTS: tl.constexpr, OUTPUTS: tl.constexpr, WEIGHTS: tl.constexpr,
                     LIVE_A: tl.constexpr, LIVE_B: tl.constexpr, INTERCEPT: tl.constexpr, VALUE: tl.constexpr,
                     DERIVATIVE: tl.constexpr, SCALED: tl.constexpr, LIBDEVICE: tl.constexpr,
                     BLOCK: tl.constexpr):
        """y = g(x) (with VALUE), dy = g'(x) (with DERIVATIVE), times the
        gradient at grad_ptr (with SCALED: the backward pass from x)."""
        offsets = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
        mask = offsets < n
        x = tl.load(x_ptr + offsets, mask=mask, other=0.0)
        values = (x,)
        slopes = (_constant(1.0, x),)
        for c in tl.static_range(len(CONSTANTS)):
            values = values + (_constant(CONSTANTS[c], x),)
            slopes = slopes + (_constant(0.0, x),)
        for k in tl.static_range(len(CODES)):
            v, d = _step(CODES[k], values[ARG_A[k]], values[ARG_B[k]], slopes[ARG_A[k]], slopes[ARG_B[k]],
                         LIVE_A[k], LIVE_B[k], LIBDEVICE)
            values = values + (v,)
            slopes = slopes + (d,)
        if VALUE:  # intercept + w_1 * v_1 + ..., in the CPU kernel's order (-0 + 0 is +0); a plain output copied
            if len(OUTPUTS) == 1 and WEIGHTS[0] == 1.0 and INTERCEPT == 0.0:
                y = values[OUTPUTS[0]]
            else:
                y = _constant(INTERCEPT, x) + _weighted(values[OUTPUTS[0]], WEIGHTS[0])
                for j in tl.static_range(1, len(OUTPUTS)):
                    y = y + _weighted(values[OUTPUTS[j]], WEIGHTS[j])
            tl.store(y_ptr + offsets, y, mask=mask)
        if DERIVATIVE:  # an output of weight 0 adds nothing (not 0 * an overflowed slope)
            dy = _constant(0.0, x)
            for j in tl.static_range(len(OUTPUTS)):
                dy = _add_weighted(dy, slopes[OUTPUTS[j]], WEIGHTS[j], j == 0)
            if SCALED:
                dy = tl.load(grad_ptr + offsets, mask=mask, other=0.0) * dy
            tl.store(dy_ptr + offsets, dy, mask=mask)


@functools.lru_cache(maxsize=1024)
def launch_arguments(plan, value: bool, derivative: bool, scaled: bool) -> dict:
    """The kernel's compile-time parameters for ``plan`` (cached: a launch
    should cost Triton's dispatch only).  Do not modify the dict."""
    live = [True] + [False] * len(plan.constants)  # which values depend on x
    for a, b in plan.args:
        live.append(live[a] or live[b])
    return dict(CODES=plan.codes, ARG_A=tuple(a for a, _ in plan.args), ARG_B=tuple(b for _, b in plan.args),
                CONSTANTS=tuple(float(c) for c in plan.constants), OUTPUTS=tuple(plan.outputs),
                WEIGHTS=tuple(float(w) for w in plan.weights),
                LIVE_A=tuple(live[a] for a, _ in plan.args), LIVE_B=tuple(live[b] for _, b in plan.args),
                INTERCEPT=float(plan.intercept), VALUE=bool(value), DERIVATIVE=bool(derivative),
                SCALED=bool(scaled), LIBDEVICE=not interpreting(), BLOCK=BLOCK)


#: How the kernel is compiled: no multiply-add contraction, so that w1*v1 + w2*v2 rounds each product as torch
#: and the CPU kernel do (contracted, 0.1*x - 0.1*|x| came out as the rounding error of 0.1*x, not 0).
COMPILE_OPTIONS = {"enable_fp_fusion": False}


#: Compiled kernels by (plan, value, derivative, scaled, dtype, device, 16-byte aligned pointers):
#: launched directly, without Triton's per-call argument binding and cache
#: lookup (tens of microseconds, as long as the kernel at 1M elements).
_COMPILED: dict = {}
_COMPILED_MAX = 4096
_FAST = [True]  # cleared for good if a direct launch ever fails


def run(plan, x: torch.Tensor, y: torch.Tensor | None, dy: torch.Tensor | None,
        grad: torch.Tensor | None = None) -> None:
    """y = g(x) unless y is None; dy = g'(x) unless dy is None, times grad
    unless grad is None; contiguous tensors of one shape."""
    if triton is None:
        raise RuntimeError("Triton is not installed (pip install 'srnet[gpu]')")
    n = x.numel()
    if not n:
        return
    grid = ((n + BLOCK - 1) // BLOCK, 1, 1)  # three axes: a compiled kernel's launcher reads grid[1], grid[2]
    constants = launch_arguments(plan, y is not None, dy is not None, grad is not None)
    pointers = (x, x if y is None else y, x if dy is None else dy, x if grad is None else grad)  # x: untouched
    with torch.cuda.device(x.device) if x.is_cuda else contextlib.nullcontext():
        if interpreting() or not x.is_cuda:
            fused_kernel[grid](*pointers, n, **constants, **COMPILE_OPTIONS)
            return
        key = (plan, y is not None, dy is not None, grad is not None, x.dtype, x.device.index, n >= 2**31,
               tuple(p.data_ptr() % 16 == 0 for p in pointers))  # (n's type, i32 or i64, is in the signature)
        compiled = _COMPILED.get(key) if _FAST[0] else None
        if compiled is not None:
            try:
                compiled[grid](*pointers, n, *(constants[name] for name in fused_kernel.arg_names[5:]))
                return
            except Exception:  # noqa: BLE001 - a Triton whose launcher differs: the documented way from now on
                _FAST[0] = False
                _COMPILED.clear()
        compiled = fused_kernel[grid](*pointers, n, **constants, **COMPILE_OPTIONS)
        if _FAST[0] and hasattr(compiled, "function"):
            if len(_COMPILED) >= _COMPILED_MAX:  # keyed by plan: a long search makes a new plan per formula
                _COMPILED.clear()
            _COMPILED[key] = compiled
