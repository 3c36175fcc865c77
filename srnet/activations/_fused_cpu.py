"""The fused CPU kernel of :mod:`srnet.activations.fused`: a program and its
derivative over a float32 or float64 array in one pass (numba).

The kernel interprets the program's op codes (the primitive table's engine
codes) block by block, as the engine's evaluator does: each step runs as a
tight loop over a block of elements held in L1/L2, so every primitive
vectorises, and the dispatch costs one branch per step per block.  With
``derivative`` it carries forward-mode derivatives ``dv/dx`` beside the
values (the rules of :data:`srnet.activations.fused.DERIVATIVES`, which follow
autograd of the primitives' torch forms, protected branches included).

Where the engine's scalar primitives vectorise (add ... cube, protected div,
sqrt|a|, log|a|, and :mod:`srnet.cgp._vecmath`'s sin and cos) they are called
as they are; exp, tanh and sigmoid get branch-free float32 versions here
(Cephes' expf and tanhf), as numba calls libm one element at a time for them
(in float64 they are libm's), and tan is sin/cos of one shared reduction.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from srnet.cgp import _vecmath, primitives  # first: srnet.cgp._cache places the kernels' cache
from srnet.cgp._vecmath import JIT_OPTIONS as _JIT
from srnet.cgp._vecmath import _bits_float32, log_normal, named
from srnet.cgp.primitives import EXP_MAX, PRIMITIVE_CODES, PROTECTION_EPS, PROTECTION_EPS_FLOAT32

# ------------------------------------------------------------------ codes

ADD, SUB, MUL, DIV = (PRIMITIVE_CODES[n] for n in ("add", "sub", "mul", "div"))
SQRT, SQUARE, LOG, SIN, COS, TAN = (PRIMITIVE_CODES[n] for n in ("sqrt", "square", "log", "sin", "cos", "tan"))
EXP, TANH, SIGMOID, ABS, NEG, CUBE = (PRIMITIVE_CODES[n] for n in ("exp", "tanh", "sigmoid", "abs", "neg", "cube"))

#: The primitives both fused kernels implement (this one and :mod:`srnet.activations._fused_triton`, which
#: reads it from here): a program using another one has no fused path.
SUPPORTED = frozenset(("add", "sub", "mul", "div", "sqrt", "square", "log", "sin", "cos", "tan", "exp", "tanh",
                       "sigmoid", "abs", "neg", "cube"))

#: Elements per block: a row of each value and derivative stays in L1/L2.
BLOCK = 1024
#: Elements per parallel chunk (several blocks: the threads' share of work).
CHUNK = 1 << 15

# ------------------------------------------------------------------ float32 maths

_f32 = np.float32
_ONE32, _HALF32, _TWO32, _ZERO32 = _f32(1.0), _f32(0.5), _f32(2.0), _f32(0.0)
_LOG2E32 = _f32(1.44269504088896341)
_EXP_C1, _EXP_C2 = _f32(0.693359375), _f32(-2.12194440e-4)  # ln 2 in two parts (Cephes expf)
_EXP_P0, _EXP_P1, _EXP_P2 = _f32(1.9875691500e-4), _f32(1.3981999507e-3), _f32(8.3334519073e-3)
_EXP_P3, _EXP_P4, _EXP_P5 = _f32(4.1665795894e-2), _f32(1.6666665459e-1), _f32(5.0000001201e-1)
_EXP_HI32, _EXP_LO32 = _f32(88.7228317), _f32(-103.972076)  # overflow to inf above, 0 below
_TANH_SMALL = _f32(0.625)
_TANH_P0, _TANH_P1, _TANH_P2 = _f32(-5.70498872745e-3), _f32(2.06390887954e-2), _f32(-5.37397155531e-2)
_TANH_P3, _TANH_P4 = _f32(1.33314422036e-1), _f32(-3.33332819422e-1)
_TANH_BIG = _f32(10.0)  # tanh rounds to 1 in float32 beyond 9.01
_INF32 = _f32(np.inf)
_I127 = np.int32(127)
_I23 = np.int32(23)
_I64 = np.int32(64)


@njit(inline="always", **_JIT)
def _exp32(x):
    """exp(x) in float32 for any x (inf above 88.7, subnormals then 0 below
    -103.97, where expf rounds to 0: the polynomial at the clamp would give
    the smallest subnormal), within 2 ulp of expf; NaN stays NaN.
    Branch-free: vectorises."""
    big = x > _EXP_HI32
    t = min(max(x, _EXP_LO32), _EXP_HI32)
    n = np.floor(t * _LOG2E32 + _HALF32)
    r = (t - n * _EXP_C1) - n * _EXP_C2
    rr = r * r
    p = ((((((_EXP_P0 * r + _EXP_P1) * r + _EXP_P2) * r + _EXP_P3) * r + _EXP_P4) * r + _EXP_P5) * rr + r) + _ONE32
    k = np.int32(n)
    # 2**k in two factors, so that k down to -150 (subnormal results) is exact
    low = k < -_I64
    k1 = k + _I64 if low else k
    s1 = _bits_float32((k1 + _I127) << _I23)
    s2 = _bits_float32((_I127 - _I64) << _I23) if low else _ONE32
    y = p * s1 * s2
    y = _INF32 if big else y
    y = _ZERO32 if x < _EXP_LO32 else y
    return y if x == x else x


@njit(inline="always", **_JIT)
def _tanh32(x):
    """tanh(x) in float32 (Cephes tanhf), within 2 ulp; branch-free."""
    ax = abs(x)
    z = x * x
    small = ((((_TANH_P0 * z + _TANH_P1) * z + _TANH_P2) * z + _TANH_P3) * z + _TANH_P4) * z * x + x
    e = _exp32(_TWO32 * min(ax, _TANH_BIG))
    large = _ONE32 - _TWO32 / (e + _ONE32)
    large = -large if x < _ZERO32 else large
    r = small if ax < _TANH_SMALL else large
    return r if x == x and x != _ZERO32 else x  # NaN stays NaN, -0 stays -0 (poly * z * x + x gave +0)


@njit(inline="always", **_JIT)
def _sigmoid32(x):
    """1 / (1 + exp(-x)) in float32, without overflow either side."""
    e = _exp32(-abs(x))
    r = _ONE32 / (_ONE32 + e)
    return r if x >= _ZERO32 else e * r


@njit(inline="always", **_JIT)
def _exp64(x):
    return math.exp(x)


@njit(inline="always", **_JIT)
def _tanh64(x):
    return math.tanh(x)


@njit(inline="always", **_JIT)
def _sigmoid64(x):
    return primitives._sigmoid(x, x)


def _sincos_pair(four_over_pi, dp1, dp2, dp3, sin_poly, cos_poly, name):
    """(sin x, cos x) for |x| within the exact reduction of
    :mod:`srnet.cgp._vecmath` (Cephes' sin/cos, or sinf/cosf in float32):
    its reduction and polynomials, both results from one reduction (two
    calls of ``_sincos_even`` compute everything twice)."""
    zero, half, one, two, eight = (type(dp1)(v) for v in (0.0, 0.5, 1.0, 2.0, 8.0))
    eighth, four, six = type(dp1)(0.125), type(dp1)(4.0), type(dp1)(6.0)

    def pair(x):
        ax = abs(x)
        octant = np.floor(ax * four_over_pi)
        octant = octant + (octant - two * np.floor(octant * half))  # round up to even
        z = ((ax - octant * dp1) - octant * dp2) - octant * dp3
        zz = z * z
        s = z + z * zz * sin_poly(zz)
        c = one - half * zz + zz * zz * cos_poly(zz)
        q = octant - eight * np.floor(octant * eighth)  # sin|x|: quadrant 0, 2, 4 or 6
        swap = q == two or q == six
        sin_abs = c if swap else s
        sin_abs = -sin_abs if q >= four else sin_abs
        qc = q + two  # cos|x| = sin(|x| + pi/2)
        qc = qc - eight * np.floor(qc * eighth)
        cos = s if swap else c
        cos = -cos if qc >= four else cos
        sin = -sin_abs if x < zero else (x if x == zero else sin_abs)  # odd; sin(+-0) = +-0
        return sin, cos

    return njit(inline="always", **_JIT)(named(pair, name))


_V = _vecmath


@njit(inline="always", **_JIT)
def _sin_poly32(zz):
    return (_V._S0_32 * zz + _V._S1_32) * zz + _V._S2_32


@njit(inline="always", **_JIT)
def _cos_poly32(zz):
    return (_V._C0_32 * zz + _V._C1_32) * zz + _V._C2_32


@njit(inline="always", **_JIT)
def _sin_poly64(zz):
    return ((((_V._S0 * zz + _V._S1) * zz + _V._S2) * zz + _V._S3) * zz + _V._S4) * zz + _V._S5


@njit(inline="always", **_JIT)
def _cos_poly64(zz):
    return ((((_V._C0 * zz + _V._C1) * zz + _V._C2) * zz + _V._C3) * zz + _V._C4) * zz + _V._C5


_sincos_pair32 = _sincos_pair(_V._FOUR_OVER_PI32, _V._DP1_32, _V._DP2_32, _V._DP3_32, _sin_poly32, _cos_poly32,
                              "_sincos_pair32")
_sincos_pair64 = _sincos_pair(np.float64(_V._FOUR_OVER_PI), np.float64(_V._DP1), np.float64(_V._DP2),
                              np.float64(_V._DP3), _sin_poly64, _cos_poly64, "_sincos_pair64")


# ------------------------------------------------------------------ precision-generic maths
# Chosen by the argument's type while numba compiles (as in _vecmath); the
# float32 and float64 kernels below are inlined into the loops.

def exp(x):
    """exp(x) for float32 (:func:`_exp32`) or float64 (libm), from numba code."""
    return math.exp(x)


def tanh(x):
    return math.tanh(x)


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def sincos_pair(x):
    """(sin x, cos x) from one argument reduction, float32 or float64 (see :func:`_sincos_pair`)."""
    return math.sin(x), math.cos(x)


def sincos_limit(x):
    """Where those kernels' argument reduction stops being exact (libm beyond)."""
    return _vecmath.SINCOS_EXACT_LIMIT


@njit(inline="always", **_JIT)
def _sincos_limit32(x):
    return _vecmath.SINCOS_EXACT_LIMIT32


@njit(inline="always", **_JIT)
def _sincos_limit64(x):
    return _vecmath.SINCOS_EXACT_LIMIT


_vecmath.by_precision(exp, _exp32, _exp64)
_vecmath.by_precision(tanh, _tanh32, _tanh64)
_vecmath.by_precision(sigmoid, _sigmoid32, _sigmoid64)
_vecmath.by_precision(sincos_pair, _sincos_pair32, _sincos_pair64)
_vecmath.by_precision(sincos_limit, _sincos_limit32, _sincos_limit64)


# ------------------------------------------------------------------ the kernel
# Rows are addressed by index into one 2-d workspace (slicing a row per
# step costs more than the step itself on a block of a thousand elements).

@njit(inline="always", **_JIT)
def _chain(factor, slope, zero):
    """``factor * slope`` (a step's local derivative times its argument's
    slope), and 0 where either is exactly 0: the argument's slope may have
    overflowed to inf, or the factor be inf on a saturated step's slope of
    0 (:func:`srnet.activations.fused._chain`)."""
    return zero if factor == zero or slope == zero else factor * slope


@njit(**_JIT)
def _step(code, vals, ders, ia, ib, ro, n, live):
    """vals[ro] = primitive ``code`` (vals[ia], vals[ib]) over n elements (the
    engine's protected semantics) and, unless ``live`` is 0, ders[ro] = its
    derivative in x from the arguments' (forward mode; the rules of
    :data:`srnet.activations.fused.DERIVATIVES`, i.e. autograd of the
    primitive's torch form).  ``live``: 0 no derivative, else which
    arguments depend on x (1: a, 2: b, 3: both; unary steps: a)."""
    derivative = live != 0
    one = vals.dtype.type(1.0)
    zero = vals.dtype.type(0.0)
    half = vals.dtype.type(0.5)
    two = vals.dtype.type(2.0)
    three = vals.dtype.type(3.0)
    eps = vals.dtype.type(PROTECTION_EPS)
    if eps > PROTECTION_EPS:  # float32(1e-10) is above it: the largest float32 below (see PROTECTION_EPS_FLOAT32)
        eps = vals.dtype.type(PROTECTION_EPS_FLOAT32)
    # binary steps: ``live`` says which arguments depend on x (1: a, 2: b,
    # 3: both); a constant's slope is not multiplied in (no 0 * inf = NaN
    # where the other factor overflowed; autograd never forms that product)
    if code == ADD:
        for i in range(n):
            vals[ro, i] = vals[ia, i] + vals[ib, i]
        if live == 3:
            for i in range(n):
                ders[ro, i] = ders[ia, i] + ders[ib, i]
        elif live != 0:
            r = ia if live == 1 else ib
            for i in range(n):
                ders[ro, i] = ders[r, i]
    elif code == SUB:
        for i in range(n):
            vals[ro, i] = vals[ia, i] - vals[ib, i]
        if live == 3:
            for i in range(n):
                ders[ro, i] = ders[ia, i] - ders[ib, i]
        elif live == 1:
            for i in range(n):
                ders[ro, i] = ders[ia, i]
        elif live == 2:
            for i in range(n):
                ders[ro, i] = -ders[ib, i]
    elif code == MUL:
        for i in range(n):
            vals[ro, i] = vals[ia, i] * vals[ib, i]
        if live == 3:
            for i in range(n):
                ders[ro, i] = _chain(vals[ib, i], ders[ia, i], zero) + _chain(vals[ia, i], ders[ib, i], zero)
        elif live == 1:
            for i in range(n):
                ders[ro, i] = _chain(vals[ib, i], ders[ia, i], zero)
        elif live == 2:
            for i in range(n):
                ders[ro, i] = _chain(vals[ia, i], ders[ib, i], zero)
    elif code == DIV:
        for i in range(n):
            b = vals[ib, i]
            vals[ro, i] = one if abs(b) <= eps else vals[ia, i] / b
        if live != 0:
            for i in range(n):
                b = vals[ib, i]
                if live == 3:
                    g = _chain(one / b, ders[ia, i], zero) + _chain(-(vals[ia, i] / b) / b, ders[ib, i], zero)
                elif live == 1:
                    g = _chain(one / b, ders[ia, i], zero)
                else:
                    g = _chain(-(vals[ia, i] / b) / b, ders[ib, i], zero)
                ders[ro, i] = zero if abs(b) <= eps else g
    elif code == SQRT:
        for i in range(n):
            vals[ro, i] = math.sqrt(abs(vals[ia, i]))
        if derivative:
            for i in range(n):
                a = vals[ia, i]
                f = half / vals[ro, i]
                f = -f if a < zero else f
                ders[ro, i] = _chain(zero if a == zero else f, ders[ia, i], zero)
    elif code == SQUARE:
        for i in range(n):
            a = vals[ia, i]
            vals[ro, i] = a * a
        if derivative:
            for i in range(n):
                ders[ro, i] = _chain(two * vals[ia, i], ders[ia, i], zero)
    elif code == LOG:
        # the engine's protected log|a| (primitives._log), its threshold in
        # the array's precision, as torch compares a float32 tensor with 1e-10
        inf = vals.dtype.type(np.inf)
        for i in range(n):
            a = abs(vals[ia, i])
            r = log_normal(a)
            r = a if a == inf else r
            r = zero if a <= eps else r
            vals[ro, i] = r if a == a else a
        if derivative:
            for i in range(n):
                a = vals[ia, i]
                ders[ro, i] = _chain(zero if abs(a) <= eps else one / a, ders[ia, i], zero)
    elif code == SIN or code == COS or code == TAN:
        _trig_step(code, vals, ders, ia, ro, n, derivative)
    elif code == EXP:
        top = vals.dtype.type(EXP_MAX)
        for i in range(n):
            a = vals[ia, i]
            vals[ro, i] = exp(top if a > top else a)
        if derivative:
            for i in range(n):
                ders[ro, i] = _chain(vals[ro, i] if vals[ia, i] <= top else zero, ders[ia, i], zero)
    elif code == TANH:
        for i in range(n):
            vals[ro, i] = tanh(vals[ia, i])
        if derivative:
            for i in range(n):
                t = vals[ro, i]
                ders[ro, i] = _chain(one - t * t, ders[ia, i], zero)
    elif code == SIGMOID:
        for i in range(n):
            vals[ro, i] = sigmoid(vals[ia, i])
        if derivative:
            for i in range(n):
                s = vals[ro, i]
                ders[ro, i] = _chain(s * (one - s), ders[ia, i], zero)
    elif code == ABS:
        for i in range(n):
            vals[ro, i] = abs(vals[ia, i])
        if derivative:
            for i in range(n):
                a = vals[ia, i]
                # sign(a), 0 at 0 and at NaN (as torch.sgn, the table's rule)
                ders[ro, i] = _chain(-one if a < zero else (one if a > zero else zero), ders[ia, i], zero)
    elif code == NEG:
        for i in range(n):
            vals[ro, i] = -vals[ia, i]
        if derivative:
            for i in range(n):
                ders[ro, i] = -ders[ia, i]
    elif code == CUBE:
        for i in range(n):
            a = vals[ia, i]
            vals[ro, i] = a * a * a
        if derivative:
            for i in range(n):
                a = vals[ia, i]
                ders[ro, i] = _chain(three * a * a, ders[ia, i], zero)

@njit(**_JIT)
def _trig_step(code, vals, ders, ia, ro, n, derivative):
    """sin, cos and tan and their derivatives (the engine's vector sin and
    cos, :func:`srnet.cgp._vecmath.vsin`; libm beyond their exact range)."""
    one = vals.dtype.type(1.0)
    zero = vals.dtype.type(0.0)
    limit = sincos_limit(one)
    outside = False
    for i in range(n):
        outside |= not (abs(vals[ia, i]) <= limit)
    if code == SIN and derivative:
        for i in range(n):
            s, c = sincos_pair(vals[ia, i])
            vals[ro, i] = s
            ders[ro, i] = _chain(c, ders[ia, i], zero)
    elif code == SIN:
        for i in range(n):
            vals[ro, i] = sincos_pair(vals[ia, i])[0]
    elif code == COS and derivative:
        for i in range(n):
            s, c = sincos_pair(vals[ia, i])
            vals[ro, i] = c
            ders[ro, i] = _chain(-s, ders[ia, i], zero)
    elif code == COS:
        for i in range(n):
            vals[ro, i] = sincos_pair(vals[ia, i])[1]
    else:
        for i in range(n):
            s, c = sincos_pair(vals[ia, i])
            vals[ro, i] = s / c
        if derivative:
            for i in range(n):
                t = vals[ro, i]
                ders[ro, i] = _chain(one + t * t, ders[ia, i], zero)
    if outside:  # rare: |x| beyond the exact reduction, inf or NaN
        for i in range(n):
            x = vals[ia, i]
            if not (abs(x) <= limit):
                s = math.sin(x)
                c = math.cos(x)
                vals[ro, i] = s if code == SIN else (c if code == COS else s / c)
                if derivative:
                    g = c if code == SIN else (-s if code == COS else one + (s / c) * (s / c))
                    ders[ro, i] = _chain(g, ders[ia, i], zero)


@njit(**_JIT)
def _run_range(x, codes, args, constants, outputs, weights, intercept, y, dy, grad, start, stop):
    """y[start:stop] = g(x[start:stop]) (unless y is empty) and dy = g'(x)
    (unless dy is empty), times grad (unless grad is empty: the backward
    pass from x, ``grad * g'(x)``)."""
    n_steps = codes.size
    n_sources = 1 + constants.size
    n_rows = n_sources + n_steps
    scratch = np.empty(BLOCK, dtype=x.dtype)
    derivative = dy.size > 0
    # which values depend on x, and per step which arguments do (see _step)
    live = np.zeros(n_rows, dtype=np.bool_)
    live[0] = True
    modes = np.zeros(max(n_steps, 1), dtype=np.int64)
    for k in range(n_steps):
        a, b = args[k, 0], args[k, 1]
        live[n_sources + k] = live[a] or live[b]
        if derivative:
            modes[k] = (1 if live[a] else 0) + (2 if live[b] else 0)
    dtype = x.dtype
    vals = np.empty((n_rows, BLOCK), dtype=dtype)
    ders = np.empty((n_rows if derivative else 1, BLOCK), dtype=dtype)  # (unused row without derivative)
    for c in range(constants.size):
        vals[1 + c, :] = constants[c]
    if derivative:
        ders[0, :] = 1.0
        for c in range(constants.size):
            ders[1 + c, :] = 0.0
    c0 = dtype.type(intercept)
    for begin in range(start, stop, BLOCK):
        n = min(BLOCK, stop - begin)
        # views of the block: an index like x[begin + i] could be negative as
        # far as LLVM knows, and its wraparound check stops vectorisation
        xb = x[begin:begin + n]
        for i in range(n):
            vals[0, i] = xb[i]
        for k in range(n_steps):
            _step(codes[k], vals, ders, args[k, 0], args[k, 1], n_sources + k, n, modes[k])
            if derivative and modes[k] == 0:  # a step of constants alone (never after folding): flat
                for i in range(n):
                    ders[n_sources + k, i] = 0.0
        if y.size:
            _output_map(vals, outputs, weights, c0, y[begin:begin + n], scratch, n, False)
        if derivative:
            dyb = dy[begin:begin + n]
            _output_map(ders, outputs, weights, dtype.type(0.0), dyb, scratch, n, True)
            if grad.size:
                gb = grad[begin:begin + n]
                for i in range(n):
                    dyb[i] = gb[i] * dyb[i]


@njit(**_JIT)
def _output_map(rows, outputs, weights, intercept, out, scratch, n, slopes):
    """out[:n] = intercept + sum_j weights[j] * rows[outputs[j], :n], each
    product rounded as torch rounds it (through ``scratch``: a multiply-add
    would turn x - |x| at x = -1e200 into a rounding error instead of 0); a
    plain output (one, weight 1, no intercept) is copied (-0 stays -0).
    With ``slopes`` (the derivative's map), an output of weight 0 adds
    nothing (not 0 * inf = NaN where its slope overflowed)."""
    o = outputs[0]
    w = rows.dtype.type(weights[0])
    if outputs.size == 1 and w == 1.0 and intercept == 0.0:
        for i in range(n):
            out[i] = rows[o, i]
        return
    for i in range(n):
        out[i] = intercept
    first = True
    for j in range(outputs.size):
        o = outputs[j]
        w = rows.dtype.type(weights[j])
        if slopes and w == 0.0:
            continue
        for i in range(n):
            scratch[i] = rows[o, i] * w
        if first:
            for i in range(n):
                out[i] = intercept + scratch[i]
        else:
            for i in range(n):
                out[i] = out[i] + scratch[i]
        first = False


@njit(**_JIT)
def run_serial(x, codes, args, constants, outputs, weights, intercept, y, dy, grad):
    """On one thread, over all of x: y = g(x) unless y is empty; dy = g'(x)
    unless dy is empty, times grad unless grad is empty."""
    _run_range(x, codes, args, constants, outputs, weights, intercept, y, dy, grad, 0, x.size)


def _run_chunks(x, codes, args, constants, outputs, weights, intercept, y, dy, grad):
    n_chunks = (x.size + CHUNK - 1) // CHUNK
    for chunk in prange(n_chunks):
        start = chunk * CHUNK
        _run_range(x, codes, args, constants, outputs, weights, intercept, y, dy, grad, start,
                   min(x.size, start + CHUNK))


#: :func:`run_serial` on numba's threads, in chunks of CHUNK elements.
run_parallel = njit(parallel=True, **_JIT)(named(_run_chunks, "run_parallel"))
