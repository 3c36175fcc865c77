"""Vectorisable sin, cos and log for numba loops, in float64 and float32.

Why: numba calls libm's scalar ``sin``/``cos``/``log`` one element at a time
(10-17 ns each here), and those three dominate the cost of evaluating a
genome.  The functions below are branch-free polynomial kernels (Cephes'
sin/cos, fdlibm's log; Cephes' sinf/cosf and musl's logf in float32) that
LLVM turns into AVX2 code, about 2 ns per element in float64 and half that
in float32 (twice the lanes, shorter polynomials), with errors within 2 ulp
of libm away from the zeros of sin and cos (near a multiple of pi/2, the
three-part reduction of pi/4 leaves an absolute error of about 1e-16 |x|,
many ulp of a result near 0).  Arguments outside the range where the argument reduction is exact
(|x| > 1e8 for float64 sin/cos, 8192 for float32) fall back to libm, so the
results are accurate everywhere, not just on typical inputs.

``vsin``, ``vcos`` and ``log_normal`` pick the float64 or float32 kernel from
their argument's type when numba compiles the caller, so one engine source
serves both precisions.  Array functions are loops over whole arrays:
``kernel(a, out)`` writes ``out[i] = f(a[i])`` for every ``i``.
"""

import inspect
import math

import numpy as np
from numba import njit, types
from numba.extending import intrinsic, overload

from srnet.cgp import _cache  # noqa: F401  (first: places the numba cache before any kernel is defined)

# The engine's numba options, shared by every kernel module.
# error_model="numpy" lets divisions vectorise (no ZeroDivisionError checks);
# "contract" allows fused multiply-adds, which only make results more exact.
# nogil: islands (srnet.cgp.islands) run kernels on several Python threads at once.
JIT_OPTIONS = dict(fastmath={"contract"}, error_model="numpy", cache=True, nogil=True)
_JIT = JIT_OPTIONS


def named(function, name: str):
    """``function`` renamed: numba names compiled code and cache files after
    the qualified name, and two kernels made by one factory under one name
    would be confused once loaded from the cache (one kernel running
    another's code)."""
    function.__name__ = function.__qualname__ = name
    return function


def _bitcast(name: str, source, target):
    """An intrinsic reinterpreting a ``source`` value's bits as ``target``
    (a vectorisable bitcast: no memory round trip, no conversion)."""

    def cast(typingctx, x):
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], context.get_value_type(target))

        return target(source), codegen

    return intrinsic(named(cast, name))


_float64_bits = _bitcast("_float64_bits", types.float64, types.int64)
_bits_float64 = _bitcast("_bits_float64", types.int64, types.float64)
_float32_bits = _bitcast("_float32_bits", types.float32, types.int32)
_bits_float32 = _bitcast("_bits_float32", types.int32, types.float32)


# Cephes sin.c: pi/4 split in three parts so that y * DP1 is exact for the
# octant counts y reached below SINCOS_EXACT_LIMIT.
_FOUR_OVER_PI = 1.27323954473516268615
_DP1 = 7.85398125648498535156e-1
_DP2 = 3.77489470793079817668e-8
_DP3 = 2.69515142907905952645e-15
_S0, _S1, _S2 = 1.58962301576546568060e-10, -2.50507477628578072866e-8, 2.75573136213857245213e-6
_S3, _S4, _S5 = -1.98412698295895385996e-4, 8.33333333332211858878e-3, -1.66666666666666307295e-1
_C0, _C1, _C2 = -1.13585365213876817300e-11, 2.08757008419747316778e-9, -2.75573141792967388112e-7
_C3, _C4, _C5 = 2.48015872888517045348e-5, -1.38888888888730564116e-3, 4.16666666666665929218e-2
SINCOS_EXACT_LIMIT = 1.0e8


@njit(inline="always", **_JIT)
def _sincos_even64(x, quarter_turns):
    """sin(|x| + quarter_turns * pi/2) for |x| <= SINCOS_EXACT_LIMIT.

    All integer work is done in floats: AVX2 has no packed int64<->float64
    conversion, and an integer octant would stop LLVM from vectorising.
    """
    ax = abs(x)
    octant = np.floor(ax * _FOUR_OVER_PI)
    octant = octant + (octant - 2.0 * np.floor(octant * 0.5))  # round up to even
    q = octant + 2.0 * quarter_turns
    q = q - 8.0 * np.floor(q * 0.125)  # one of 0, 2, 4, 6
    z = ((ax - octant * _DP1) - octant * _DP2) - octant * _DP3
    zz = z * z
    s = z + z * zz * (((((_S0 * zz + _S1) * zz + _S2) * zz + _S3) * zz + _S4) * zz + _S5)
    c = 1.0 - 0.5 * zz + zz * zz * (((((_C0 * zz + _C1) * zz + _C2) * zz + _C3) * zz + _C4) * zz + _C5)
    r = c if (q == 2.0 or q == 6.0) else s
    return -r if q >= 4.0 else r


def _sincos_array(name: str, sincos_even, quarter_turns, odd: bool, libm, limit):
    """Array sin (``quarter_turns`` 0, ``odd``) or cos (1, even) over
    ``sincos_even``; ``libm`` (math.sin or math.cos) beyond ``limit``, NaN and inf."""
    zero = quarter_turns - quarter_turns  # a zero of the kernel's precision

    def kernel(a, out):
        outside = False
        for i in range(a.size):
            x = a[i]
            r = sincos_even(x, quarter_turns)
            # sin is odd: -sin|x| below 0, and sin(+-0) is +-0 (the sign of zero kept, as in libm)
            out[i] = (-r if x < zero else (x if x == zero else r)) if odd else r
            outside |= not (abs(x) <= limit)
        if outside:
            for i in range(a.size):
                if not (abs(a[i]) <= limit):
                    out[i] = libm(a[i])

    return njit(**_JIT)(named(kernel, name))


_vsin64 = _sincos_array("_vsin64", _sincos_even64, 0.0, True, math.sin, SINCOS_EXACT_LIMIT)
_vcos64 = _sincos_array("_vcos64", _sincos_even64, 1.0, False, math.cos, SINCOS_EXACT_LIMIT)


# fdlibm e_log.c
_LG1, _LG2, _LG3 = 6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01
_LG4, _LG5, _LG6 = 2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
_LN2_HI, _LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10
_SQRT2 = 1.4142135623730951
_TWO52 = 4503599627370496.0
_TWO52_BITS = 0x4330000000000000


@njit(inline="always", **_JIT)
def _log_normal64(x):
    """log(x) for a positive, finite, normal float64 x."""
    bits = _float64_bits(x)
    biased_exponent = (bits >> 52) & 0x7FF
    mantissa = _bits_float64((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)  # in [1, 2)
    high = mantissa > _SQRT2
    mantissa = mantissa * 0.5 if high else mantissa
    biased_exponent = biased_exponent + 1 if high else biased_exponent
    # int -> float through the 2**52 trick (no packed int64 conversion on AVX2)
    k = _bits_float64(biased_exponent | _TWO52_BITS) - _TWO52 - 1023.0
    f = mantissa - 1.0
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    half_f2 = 0.5 * f * f
    return k * _LN2_HI - ((half_f2 - (s * (half_f2 + t2 + t1) + k * _LN2_LO)) - f)


# --------------------------------------------------------------------------
# float32: every constant is a float32, so that no operation widens to float64
# --------------------------------------------------------------------------

_f32 = np.float32
_ZERO32, _HALF32, _ONE32, _TWO32, _FOUR32, _SIX32, _EIGHT32 = (_f32(v) for v in (0, 0.5, 1, 2, 4, 6, 8))
_EIGHTH32 = _f32(0.125)


# Cephes sinf.c: pi/4 in three parts, exact for octant counts below 8192 * 4/pi.
_FOUR_OVER_PI32 = _f32(1.27323954473516)
_DP1_32, _DP2_32, _DP3_32 = _f32(0.78515625), _f32(2.4187564849853515625e-4), _f32(3.77489497744594108e-8)
_S0_32, _S1_32, _S2_32 = _f32(-1.9515295891e-4), _f32(8.3321608736e-3), _f32(-1.6666654611e-1)
_C0_32, _C1_32, _C2_32 = _f32(2.443315711809948e-5), _f32(-1.388731625493765e-3), _f32(4.166664568298827e-2)
SINCOS_EXACT_LIMIT32 = _f32(8192.0)


@njit(inline="always", **_JIT)
def _sincos_even32(x, quarter_turns):
    """float32 sin(|x| + quarter_turns * pi/2) for |x| <= SINCOS_EXACT_LIMIT32."""
    ax = abs(x)
    octant = np.floor(ax * _FOUR_OVER_PI32)
    octant = octant + (octant - _TWO32 * np.floor(octant * _HALF32))  # round up to even
    q = octant + _TWO32 * quarter_turns
    q = q - _EIGHT32 * np.floor(q * _EIGHTH32)  # one of 0, 2, 4, 6
    z = ((ax - octant * _DP1_32) - octant * _DP2_32) - octant * _DP3_32
    zz = z * z
    s = z + z * zz * ((_S0_32 * zz + _S1_32) * zz + _S2_32)
    c = _ONE32 - _HALF32 * zz + zz * zz * ((_C0_32 * zz + _C1_32) * zz + _C2_32)
    r = c if (q == _TWO32 or q == _SIX32) else s
    return -r if q >= _FOUR32 else r


_vsin32 = _sincos_array("_vsin32", _sincos_even32, _ZERO32, True, math.sin, SINCOS_EXACT_LIMIT32)
_vcos32 = _sincos_array("_vcos32", _sincos_even32, _ONE32, False, math.cos, SINCOS_EXACT_LIMIT32)


# musl logf.c: mantissa reduced to [sqrt(2)/2, sqrt(2)), minimax polynomial.
_LN2_HI32, _LN2_LO32 = _f32(6.9313812256e-01), _f32(9.0580006145e-06)
_LG1_32, _LG2_32, _LG3_32, _LG4_32 = _f32(0.66666662693), _f32(0.40000972152), _f32(0.28498786688), _f32(0.24279078841)
_ONE_BITS32 = np.int32(0x3F800000)
_SQRT_HALF_BITS32 = np.int32(0x3F3504F3)
_MANTISSA_MASK32 = np.int32(0x007FFFFF)
_EXPONENT_SHIFT32 = np.int32(23)
_EXPONENT_BIAS32 = np.int32(0x7F)


@njit(inline="always", **_JIT)
def _log_normal32(x):
    """log(x) for a positive, finite, normal float32 x (packed int32 <-> float32
    conversions exist on AVX2, so no float trick is needed here)."""
    bits = _float32_bits(x) + (_ONE_BITS32 - _SQRT_HALF_BITS32)
    k = (bits >> _EXPONENT_SHIFT32) - _EXPONENT_BIAS32
    f = _bits_float32((bits & _MANTISSA_MASK32) + _SQRT_HALF_BITS32) - _ONE32
    s = f / (_TWO32 + f)
    z = s * s
    w = z * z
    r = z * (_LG1_32 + w * _LG3_32) + w * (_LG2_32 + w * _LG4_32)
    half_f2 = _HALF32 * f * f
    dk = _f32(k)
    return s * (half_f2 + r) + dk * _LN2_LO32 - half_f2 + f + dk * _LN2_HI32


# --------------------------------------------------------------------------
# the precision-generic entry points
# --------------------------------------------------------------------------

def _is_float32(numba_type) -> bool:
    """Whether a numba scalar or array type holds float32 values."""
    return getattr(numba_type, "dtype", numba_type) == types.float32


def vsin(a, out):
    """out[:] = sin(a), float64 or float32 (from numba code; see the module doc)."""
    (_vsin32 if a.dtype == np.float32 else _vsin64)(a, out)


def vcos(a, out):
    """out[:] = cos(a), float64 or float32 (from numba code; see the module doc)."""
    (_vcos32 if a.dtype == np.float32 else _vcos64)(a, out)


def log_normal(x):
    """log(x) for a positive, finite, normal float64 or float32 x."""
    return (_log_normal32 if isinstance(x, np.float32) else _log_normal64)(x)


def by_precision(generic, kernel32, kernel64, **options) -> None:
    """Make numba compile calls of ``generic`` into ``kernel32`` when its first
    argument holds float32 values, else ``kernel64``, chosen while compiling
    (``options``: numba's ``overload`` options, e.g. ``inline="always"``).
    ``generic`` stays the plain-Python reference of the same maths, and takes
    ``(x)`` (a scalar) or ``(a, out)`` (arrays): numba's inliner needs the
    implementation's own signature, so both are spelled out."""

    def pick(numba_type):
        return kernel32 if _is_float32(numba_type) else kernel64

    if list(inspect.signature(generic).parameters) == ["x"]:
        @overload(generic, jit_options=_JIT, **options)
        def _typed(x):
            kernel = pick(x)
            return lambda x: kernel(x)
    else:
        @overload(generic, jit_options=_JIT, **options)
        def _typed(a, out):
            kernel = pick(a)
            return lambda a, out: kernel(a, out)


by_precision(vsin, _vsin32, _vsin64)
by_precision(vcos, _vcos32, _vcos64)
by_precision(log_normal, _log_normal32, _log_normal64, inline="always")
