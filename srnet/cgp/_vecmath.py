"""Vectorisable float64 sin, cos and log for numba loops.

Why: numba calls libm's scalar ``sin``/``cos``/``log`` one element at a time
(10-17 ns each here), and those three dominate the cost of evaluating a
genome.  The functions below are branch-free polynomial kernels (Cephes'
sin/cos, fdlibm's log) that LLVM turns into AVX2 code, about 2 ns per element,
with errors within 2 ulp of libm.  Arguments outside the range where the
argument reduction is exact (|x| > 1e8 for sin/cos) fall back to libm, so the
results are accurate everywhere, not just on typical inputs.

All functions here are loops over whole arrays: ``kernel(a, out)`` writes
``out[i] = f(a[i])`` for every ``i``.
"""

import math

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

# The engine's numba options, shared by every kernel module.
# error_model="numpy" lets divisions vectorise (no ZeroDivisionError checks);
# "contract" allows fused multiply-adds, which only make results more exact.
JIT_OPTIONS = dict(fastmath={"contract"}, error_model="numpy", cache=True)
_JIT = JIT_OPTIONS


@intrinsic
def _float_bits(typingctx, x):
    """Reinterpret a float64 as its int64 bit pattern (vectorisable bitcast)."""
    sig = types.int64(types.float64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.int64))

    return sig, codegen


@intrinsic
def _bits_float(typingctx, x):
    """Reinterpret an int64 bit pattern as a float64 (vectorisable bitcast)."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return sig, codegen


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
def _sincos_even(x, quarter_turns):
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


@njit(**_JIT)
def vsin(a, out):
    """out[:] = sin(a) (libm for |a| > SINCOS_EXACT_LIMIT, NaN and inf)."""
    outside = False
    for i in range(a.size):
        x = a[i]
        r = _sincos_even(x, 0.0)
        out[i] = -r if x < 0.0 else r
        outside |= not (abs(x) <= SINCOS_EXACT_LIMIT)
    if outside:
        for i in range(a.size):
            if not (abs(a[i]) <= SINCOS_EXACT_LIMIT):
                out[i] = math.sin(a[i])


@njit(**_JIT)
def vcos(a, out):
    """out[:] = cos(a) (libm for |a| > SINCOS_EXACT_LIMIT, NaN and inf)."""
    outside = False
    for i in range(a.size):
        x = a[i]
        out[i] = _sincos_even(x, 1.0)
        outside |= not (abs(x) <= SINCOS_EXACT_LIMIT)
    if outside:
        for i in range(a.size):
            if not (abs(a[i]) <= SINCOS_EXACT_LIMIT):
                out[i] = math.cos(a[i])


# fdlibm e_log.c
_LG1, _LG2, _LG3 = 6.666666666666735130e-01, 3.999999999940941908e-01, 2.857142874366239149e-01
_LG4, _LG5, _LG6 = 2.222219843214978396e-01, 1.818357216161805012e-01, 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
_LN2_HI, _LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10
_SQRT2 = 1.4142135623730951
_TWO52 = 4503599627370496.0
_TWO52_BITS = 0x4330000000000000


@njit(inline="always", **_JIT)
def log_normal(x):
    """log(x) for a positive, finite, normal float64 x."""
    bits = _float_bits(x)
    biased_exponent = (bits >> 52) & 0x7FF
    mantissa = _bits_float((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)  # in [1, 2)
    high = mantissa > _SQRT2
    mantissa = mantissa * 0.5 if high else mantissa
    biased_exponent = biased_exponent + 1 if high else biased_exponent
    # int -> float through the 2**52 trick (no packed int64 conversion on AVX2)
    k = _bits_float(biased_exponent | _TWO52_BITS) - _TWO52 - 1023.0
    f = mantissa - 1.0
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    half_f2 = 0.5 * f * f
    return k * _LN2_HI - ((half_f2 - (s * (half_f2 + t2 + t1) + k * _LN2_LO)) - f)
