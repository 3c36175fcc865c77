"""The primitive table: the one place where a CGP function is defined.

Every backend derives from this table:

* ``kernel``  numba array kernel ``kernel(a, b, out)`` used by the engine,
* ``numpy``   the plain NumPy form, the oracle the kernels are tested against
  and the backend of the NumPy export,
* ``sympy``   the exact mathematical form used for formulas,
* ``torch``   the differentiable form used by torch exports and activations,
* ``scalar``  the numba scalar body ``scalar(a, b)`` the array kernels apply
  element by element (sin and cos: libm's, which the vector kernels match
  within 2 ulp away from the functions' zeros: see :mod:`srnet.cgp._vecmath`),
  compiled as a CUDA device function by the GPU evaluator (:mod:`srnet.cgp.gpu`).

All primitives take two arguments; unary primitives ignore the second one, so
that a genome node always has two connection genes (standard CGP).

Protected semantics (identical in numba, NumPy and torch):

* ``div(a, b)``  = 1 where ``|b| <= PROTECTION_EPS`` (a division by ~0),
* ``log(a)``     = log|a|, and 0 where ``|a| <= PROTECTION_EPS``,
* ``sqrt(a)``    = sqrt|a|,
* ``exp(a)``     = exp(min(a, EXP_MAX)), so exp never overflows, even in float32,
* ``square``, ``cube`` and ``tan`` are not clipped: an overflow gives inf, and
  a non-finite output makes an individual's fitness infinite (never a crash).

NaN propagates through every primitive (each protection test is written so
that NaN fails it).  The sympy forms are the exact mathematics: they agree
with the protected forms wherever no protection fires (``log(Abs(a))`` and
``sqrt(Abs(a))`` spell out the absolute value, so they agree everywhere).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Callable

import numpy as np
import sympy
import torch
from numba import njit

from srnet.cgp import (
    _cache,  # noqa: F401  (first: places the numba cache before any kernel is defined)
    _vecmath,
)

PROTECTION_EPS = 1e-10
#: PROTECTION_EPS as float32 values are compared with it: the largest float32 <= 1e-10.  float32(1e-10) is
#: 1.0000000133e-10, above it: at that one value float32 backends (torch, NumPy, the fused kernels) took the
#: protected branch where float64 and the engine's float32 search (which compares in float64) did not.
PROTECTION_EPS_FLOAT32 = float(np.float32(PROTECTION_EPS) if float(np.float32(PROTECTION_EPS)) <= PROTECTION_EPS
                               else np.nextafter(np.float32(PROTECTION_EPS), np.float32(0)))
EXP_MAX = 80.0


def protection_eps(dtype) -> float:
    """PROTECTION_EPS for values of ``dtype`` (a NumPy or torch dtype): the same verdict |b| <= 1e-10 as
    float64 gives, for every value of that dtype."""
    if isinstance(dtype, torch.dtype):
        return PROTECTION_EPS_FLOAT32 if dtype == torch.float32 else PROTECTION_EPS
    return PROTECTION_EPS_FLOAT32 if np.dtype(dtype) == np.float32 else PROTECTION_EPS

_JIT = _vecmath.JIT_OPTIONS


@dataclass(frozen=True)
class Guard:
    """Where a primitive's protection makes it differ from its sympy form (the module docstring's rules),
    stated once for every check that reads them: the poles a formula has in a domain
    (:func:`srnet.formulas.singularities`), the warning of an activation built from a formula, the functions
    X-Net may give a neuron.

    The primitive's argument ``operand`` (0: a, 1: b) fires it ``where`` that argument is within
    PROTECTION_EPS of 0 (``"zero"``: div's divisor, log's argument; the primitive then gives ``value``) or
    above EXP_MAX (``"cap"``: exp's argument).  ``argument`` names that argument and ``computes`` says what
    the primitive computes, as messages write them.
    """

    operand: int
    where: str
    argument: str
    computes: str
    value: float = math.nan

    def fires(self, values):
        """Where the protection fires, element by element, on ``values`` of the guarded argument (a NumPy array
        or a torch tensor; NaN never fires it)."""
        if self.where == "zero":
            return abs(values) <= protection_eps(values.dtype)
        return values > EXP_MAX


@dataclass(frozen=True)
class Primitive:
    """One CGP function and all its backends (see the module docstring); ``guard``: where its protection
    fires (None: it has none that changes a finite value)."""

    name: str
    arity: int
    kernel: Callable
    numpy: Callable
    sympy: Callable
    torch: Callable
    guard: Guard | None = None
    scalar: Callable | None = None

    def __repr__(self) -> str:
        return f"Primitive({self.name!r}, arity={self.arity})"


def _elementwise(name: str, scalar):
    """Numba array kernel applying a scalar ``f(a, b)`` element by element."""

    def kernel(a, b, out):
        for i in range(out.size):
            out[i] = scalar(a[i], b[i])

    return njit(**_JIT)(_vecmath.named(kernel, f"kernel_{name}"))


def _unary_array(name: str, vector_fn):
    """Numba array kernel for a unary vector routine ``vector_fn(a, out)``."""

    def kernel(a, b, out):
        vector_fn(a, out)

    return njit(**_JIT)(_vecmath.named(kernel, f"kernel_{name}"))


# --- scalar numba bodies (inlined into the element-wise loops) --------------

@njit(**_JIT)
def _add(a, b):
    return a + b


@njit(**_JIT)
def _sub(a, b):
    return a - b


@njit(**_JIT)
def _mul(a, b):
    return a * b


@njit(**_JIT)
def _div(a, b):
    return 1.0 if abs(b) <= PROTECTION_EPS else a / b


@njit(**_JIT)
def _sqrt(a, b):
    return math.sqrt(abs(a))


@njit(**_JIT)
def _square(a, b):
    return a * a


@njit(**_JIT)
def _log(a, b):
    x = abs(a)
    r = _vecmath.log_normal(x)
    r = x if x == math.inf else r
    r = 0.0 if x <= PROTECTION_EPS else r
    return r if x == x else x


@njit(**_JIT)
def _tan(a, b):
    return math.tan(a)


@njit(**_JIT)
def _sin(a, b):
    return math.sin(a)


@njit(**_JIT)
def _cos(a, b):
    return math.cos(a)


@njit(**_JIT)
def _exp(a, b):
    # a conditional, not min(a, EXP_MAX): numba's CUDA target has no min of float32 and float64
    return math.exp(a if a < EXP_MAX else EXP_MAX) if a == a else a


@njit(**_JIT)
def _tanh(a, b):
    return math.tanh(a)


@njit(**_JIT)
def _sigmoid(a, b):
    # the two branches keep exp's argument <= 0: no overflow either way
    if a >= 0.0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


@njit(**_JIT)
def _abs(a, b):
    return abs(a)


@njit(**_JIT)
def _neg(a, b):
    return -a


@njit(**_JIT)
def _cube(a, b):
    return a * a * a


# --- NumPy oracle forms -----------------------------------------------------

def _np_div(a, b):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(np.abs(b) <= protection_eps(np.result_type(b)), 1.0, a / np.where(b == 0, 1.0, b))


def _np_log(a, b):
    x = np.abs(a)
    with np.errstate(divide="ignore", invalid="ignore"):
        eps = protection_eps(x.dtype)
        return np.where(x <= eps, 0.0, np.log(np.where(x <= eps, 1.0, x)))


def _np_exp(a, b):
    with np.errstate(over="ignore"):
        return np.exp(np.minimum(a, EXP_MAX))


def _np_sigmoid(a, b):
    with np.errstate(over="ignore"):
        e = np.exp(-np.abs(a))
        return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _np(fn):
    """Wrap a NumPy ufunc-style expression so overflow warnings stay quiet."""

    def wrapped(a, b):
        with np.errstate(over="ignore", invalid="ignore"):
            return fn(a, b)

    return wrapped


# --- sympy forms: exact maths; where an argument is a number within the
#     protection (0, or a constant such as 1.6e-19) the protection always
#     fires, so its value is exact there too ---------------------------------

def _protected_everywhere(value) -> bool:
    return value == 0 or (value.is_number and value.is_real is not False and abs(float(value)) <= PROTECTION_EPS)


def _sympy_div(a, b):
    return sympy.Integer(1) if _protected_everywhere(b) else a / b


def _sympy_log(a, b):
    return sympy.Integer(0) if _protected_everywhere(a) else sympy.log(sympy.Abs(a))


def _sympy_exp(a, b):
    """exp(a), and exp(EXP_MAX) where a is a number above it: the cap always fires there (exp(exp(exp(3)))
    printed as 2e+229520860 where the model computes exp(80))."""
    if a.is_number and a.is_extended_real and bool(a > EXP_MAX):
        return sympy.exp(sympy.Float(EXP_MAX))
    return sympy.exp(a)


# --- torch forms (safe gradients: the unused branch of a where never sees a
#     singular value, so it cannot leak NaN into the backward pass) ----------

def _t_div(a, b):
    singular = b.abs() <= protection_eps(b.dtype)
    return torch.where(singular, torch.ones_like(a * b), a / torch.where(singular, torch.ones_like(b), b))


def _t_sqrt(a, b):
    # sqrt|a| bit for bit as NumPy (subnormals included: no clamp), exact 0 at
    # +-0 with a zero (not NaN) gradient there, since the sqrt branch never
    # sees 0; at the smallest subnormal the gradient is still finite (~1e161)
    x = a.abs()
    zero = x == 0
    return torch.where(zero, torch.zeros_like(x), torch.sqrt(torch.where(zero, torch.ones_like(x), x)))


def _t_log(a, b):
    x = a.abs()
    small = x <= protection_eps(x.dtype)
    return torch.where(small, torch.zeros_like(x), torch.log(torch.where(small, torch.ones_like(x), x)))


def _t_exp(a, b):
    return torch.exp(a.clamp_max(EXP_MAX))


_DIV_GUARD = Guard(1, "zero", "denominator of div", f"a/b as 1 where |b| <= {PROTECTION_EPS:g}", 1.0)
_LOG_GUARD = Guard(0, "zero", "argument of log", f"log|a| as 0 where |a| <= {PROTECTION_EPS:g}", 0.0)
_EXP_GUARD = Guard(0, "cap", "argument of exp", f"exp(a) as exp(min(a, {EXP_MAX:g}))")

PRIMITIVES: tuple[Primitive, ...] = (
    Primitive("add", 2, _elementwise("add", _add), _np(lambda a, b: a + b), lambda a, b: a + b, torch.add,
              scalar=_add),
    Primitive("sub", 2, _elementwise("sub", _sub), _np(lambda a, b: a - b), lambda a, b: a - b, torch.sub,
              scalar=_sub),
    Primitive("mul", 2, _elementwise("mul", _mul), _np(lambda a, b: a * b), lambda a, b: a * b, torch.mul,
              scalar=_mul),
    Primitive("div", 2, _elementwise("div", _div), _np_div, _sympy_div, _t_div, _DIV_GUARD, scalar=_div),
    Primitive("sqrt", 1, _elementwise("sqrt", _sqrt), _np(lambda a, b: np.sqrt(np.abs(a))),
              lambda a, b: sympy.sqrt(sympy.Abs(a)), _t_sqrt, scalar=_sqrt),
    Primitive("square", 1, _elementwise("square", _square), _np(lambda a, b: a * a), lambda a, b: a**2,
              lambda a, b: a * a, scalar=_square),
    Primitive("log", 1, _elementwise("log", _log), _np_log, _sympy_log, _t_log, _LOG_GUARD, scalar=_log),
    Primitive("sin", 1, _unary_array("sin", _vecmath.vsin), _np(lambda a, b: np.sin(a)), lambda a, b: sympy.sin(a),
              lambda a, b: torch.sin(a), scalar=_sin),
    Primitive("cos", 1, _unary_array("cos", _vecmath.vcos), _np(lambda a, b: np.cos(a)), lambda a, b: sympy.cos(a),
              lambda a, b: torch.cos(a), scalar=_cos),
    Primitive("tan", 1, _elementwise("tan", _tan), _np(lambda a, b: np.tan(a)), lambda a, b: sympy.tan(a),
              lambda a, b: torch.tan(a), scalar=_tan),
    Primitive("exp", 1, _elementwise("exp", _exp), _np_exp, _sympy_exp, _t_exp, _EXP_GUARD, scalar=_exp),
    Primitive("tanh", 1, _elementwise("tanh", _tanh), _np(lambda a, b: np.tanh(a)), lambda a, b: sympy.tanh(a),
              lambda a, b: torch.tanh(a), scalar=_tanh),
    Primitive("sigmoid", 1, _elementwise("sigmoid", _sigmoid), _np_sigmoid, lambda a, b: 1 / (1 + sympy.exp(-a)),
              lambda a, b: torch.sigmoid(a), scalar=_sigmoid),
    Primitive("abs", 1, _elementwise("abs", _abs), _np(lambda a, b: np.abs(a)), lambda a, b: sympy.Abs(a),
              lambda a, b: a.abs(), scalar=_abs),
    Primitive("neg", 1, _elementwise("neg", _neg), _np(lambda a, b: -a), lambda a, b: -a, lambda a, b: -a,
              scalar=_neg),
    Primitive("cube", 1, _elementwise("cube", _cube), _np(lambda a, b: a * a * a), lambda a, b: a**3,
              lambda a, b: a * a * a, scalar=_cube),
)

PRIMITIVE_CODES: dict[str, int] = {p.name: code for code, p in enumerate(PRIMITIVES)}

ARITIES = np.array([p.arity for p in PRIMITIVES], dtype=np.int32)

#: The SRNet paper's function set (Luo et al., GECCO 2022).
PAPER_FUNCTIONS: tuple[str, ...] = ("add", "sub", "mul", "div", "sqrt", "square", "log", "sin", "cos", "tan")


def primitive(name: str) -> Primitive:
    """The primitive called ``name``; an unknown name lists the valid ones."""
    try:
        return PRIMITIVES[PRIMITIVE_CODES[name]]
    except KeyError:
        valid = ", ".join(PRIMITIVE_CODES)
        given = repr(name) if len(repr(name)) <= 60 else repr(name)[:57] + "..."  # (a file's 5000-letter name)
        raise ValueError(f"unknown primitive {given}; valid primitives: {valid}") from None


def function_names(functions) -> tuple[str, ...]:
    """A function set as primitive names, checked: the one reading of ``functions`` for every engine.

    ``functions`` is a sequence of primitive names, or one comma-separated
    string such as ``"add,sub,mul,sin"``.  Empty, repeated or unknown names
    are errors, and so is a set: its order changes from run to run (string
    hashing), and with it the search a seed gives.
    """
    if isinstance(functions, str):
        functions = [n.strip() for n in functions.split(",") if n.strip()]
    if isinstance(functions, (set, frozenset, dict)):
        raise ValueError(f"functions must be in an order (a list or tuple, or 'add,mul,sin'), not a "
                         f"{type(functions).__name__}: its order changes from run to run, and so would the search")
    names = list(functions) if isinstance(functions, Iterable) else None
    if names is None or not all(isinstance(n, str) for n in names):
        raise ValueError(f"functions must be primitive names (a list, or 'add,mul,sin'), got {functions!r}")
    if not names:
        raise ValueError("functions is empty; give at least one primitive")
    if len(set(names)) != len(names):
        raise ValueError(f"functions repeats a primitive: {names}")
    return tuple(primitive(n).name for n in names)  # an unknown name lists the valid ones


def function_codes(functions) -> np.ndarray:
    """Engine codes (int32 array) of a function set (see :func:`function_names`)."""
    return np.array([PRIMITIVE_CODES[n] for n in function_names(functions)], dtype=np.int32)
