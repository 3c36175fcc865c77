"""Fused activations: a formula and its derivative in one pass each way.

:class:`~srnet.activations.ExpressionActivation` walks its program through the
primitive table's torch forms: one kernel launch per node forward, about two
per node backward.  The fused path runs the whole formula as one kernel:

* forward, one pass over x computes ``y = g(x)`` and, when a gradient will be
  needed, ``g'(x)`` beside it (forward-mode differentiation through the table:
  :data:`DERIVATIVES` gives each primitive's derivative rule, which follows
  autograd of the primitive's torch form, protected branches included);
* backward is ``grad_y * g'(x)``, one element-wise product; or, on CUDA and
  for CPU inputs of :data:`CPU_RECOMPUTE_MIN_BYTES` or more, the forward
  pass saves x and the backward is one kernel recomputing ``g'(x)`` times
  ``grad_y`` (the bytes GELU's backward moves).

Forward mode rounds a slope that cancels (``d(x**3) - d(x**3)``) to a
fraction of its terms, where autograd cancels the adjoints first: the two
paths agree to rounding of the terms, not always to the last bit.

Backends (:func:`backend`):

* ``"cpu"``: a numba kernel interpreting the program's op codes block by
  block (:mod:`srnet.activations._fused_cpu`), float32 and float64, on
  ``torch.get_num_threads()`` threads;
* ``"triton"``: on CUDA, a Triton kernel specialised on the program's op
  codes and constants as compile-time parameters
  (:mod:`srnet.activations._fused_triton`), when Triton is installed;
* None: no fused path (another device or dtype, a primitive no backend
  implements): the module walks the torch forms as before.

Under ``torch.compile`` the activation takes a third route,
:func:`forward_mode`: the same forward-mode rules written as a straight line
of torch operations inside an autograd function, which inductor fuses into
one kernel each way together with the neighbouring operations (no graph
break, no opaque call).

Second derivatives (``create_graph=True`` through the activation) are not
available on the fused path: the backward raises a one-line error naming
``fused=False``, which walks the torch forms and differentiates to any order.
Under ``torch.compile`` that error cannot be raised: inductor and aot_eager
raise PyTorch's own "does not support double backward", but
``backend="eager"`` returns second derivatives that miss the activation's
(PyTorch traces an autograd function's backward once, without its graph):
build the module with ``fused=False`` for those.
Under ``torch.func`` transforms the module walks the torch forms by itself.

No source text is generated or executed: the kernels interpret the op codes
(CPU) or are specialised by Triton on integer and float parameters (CUDA).
"""

from __future__ import annotations

import functools
import os
import threading
from dataclasses import dataclass

import numba
import numpy as np
import torch

from srnet.cgp.primitives import EXP_MAX, PRIMITIVE_CODES, PRIMITIVES, primitive, protection_eps

# ------------------------------------------------------------------ derivative rules

def _where_zero(mask, value):
    return torch.where(mask, torch.zeros_like(value), value)


def _chain(factor, slope):
    """``factor * slope``, the chain rule's product of a step's local
    derivative and its argument's slope, and 0 wherever either is exactly 0:
    where the factor is (tanh or sigmoid saturated, exp clipped), an
    argument's slope may have overflowed to inf (or be NaN from such a
    product), where autograd, which multiplies the finite factors from the
    output back, gets 0; and where the slope is, the factor may be inf (x
    times a saturated step at x = +-inf).  There the fused slope is the
    limit (1 for mish and swish at +inf), where autograd gets 1 or NaN
    depending on how the torch forms mask their gradients (mish: 1, swish:
    inf * 0 in sigmoid's backward, NaN)."""
    return _where_zero((factor == 0) | (slope == 0), factor * slope)


def _d_div(a, b, da, db, value):
    singular = b.abs() <= protection_eps(b.dtype)
    safe = torch.where(singular, torch.ones_like(b), b)
    return _where_zero(singular, _chain(1.0 / safe, da) + _chain(-(a / safe) / safe, db))


def _d_sqrt(a, b, da, db, value):
    zero = a == 0
    return _chain(_where_zero(zero, 0.5 * torch.sgn(a) / torch.where(zero, torch.ones_like(value), value)), da)


def _d_log(a, b, da, db, value):
    small = a.abs() <= protection_eps(a.dtype)
    return _chain(_where_zero(small, 1.0 / torch.where(small, torch.ones_like(a), a)), da)


def _d_exp(a, b, da, db, value):
    return _chain(_where_zero(~(a <= EXP_MAX), value), da)


#: Forward-mode derivative of each primitive: ``rule(a, b, da, db, value)`` is
#: d value / dx, given the arguments, their derivatives in x and the value.
#: Each rule is what autograd computes through the primitive's torch form
#: (:data:`srnet.cgp.primitives.PRIMITIVES`): zero where a protection fires
#: (div by ~0, log of ~0, exp clipped at 80), sqrt|a| with a zero slope at 0,
#: abs with a zero slope at 0.  Each local derivative multiplies its
#: argument's slope through :func:`_chain`, so a factor of exactly 0 gives a
#: slope of 0 (factors of +-1 are exact and need no guard).  The fused kernels
#: implement the same rules.
DERIVATIVES = {
    "add": lambda a, b, da, db, value: da + db,
    "sub": lambda a, b, da, db, value: da - db,
    "mul": lambda a, b, da, db, value: _chain(b, da) + _chain(a, db),
    "div": _d_div,
    "sqrt": _d_sqrt,
    "square": lambda a, b, da, db, value: _chain(2.0 * a, da),
    "log": _d_log,
    "sin": lambda a, b, da, db, value: _chain(torch.cos(a), da),
    "cos": lambda a, b, da, db, value: _chain(-torch.sin(a), da),
    "tan": lambda a, b, da, db, value: _chain(1.0 + value * value, da),
    "exp": _d_exp,
    "tanh": lambda a, b, da, db, value: _chain(1.0 - value * value, da),
    "sigmoid": lambda a, b, da, db, value: _chain(value * (1.0 - value), da),
    "abs": lambda a, b, da, db, value: _chain(torch.sgn(a), da),
    "neg": lambda a, b, da, db, value: -da,
    "cube": lambda a, b, da, db, value: _chain(3.0 * a * a, da),
}
assert set(DERIVATIVES) == {p.name for p in PRIMITIVES}, "every primitive needs a derivative rule"


# ------------------------------------------------------------------ the plan

@dataclass(frozen=True, eq=False)
class FusedPlan:
    """A one-variable program as the fused kernels read it.

    Values are addressed 0 (x), 1 .. len(constants) (the constants), then one
    address per step.  ``y = intercept + sum_j weights[j] * value[outputs[j]]``.
    """

    names: tuple[str, ...]
    args: tuple[tuple[int, int], ...]
    constants: tuple[float, ...]
    outputs: tuple[int, ...]
    weights: tuple[float, ...]
    intercept: float

    def __post_init__(self):
        if len(self.names) != len(self.args) or len(self.outputs) != len(self.weights) or not self.outputs:
            raise ValueError("malformed fused plan: one (a, b) per step and one weight per output are needed")
        unknown = sorted(set(self.names) - set(PRIMITIVE_CODES))
        if unknown:
            raise ValueError(f"malformed fused plan: unknown primitive {unknown[0]!r}")
        base = 1 + len(self.constants)
        for k, (a, b) in enumerate(self.args):
            if not (0 <= a < base + k and 0 <= b < base + k):
                raise ValueError(f"malformed fused plan: step {k} reads a value not computed before it")
        if any(not 0 <= o < base + len(self.names) for o in self.outputs):
            raise ValueError("malformed fused plan: an output address is out of range")

    @property
    def codes(self) -> tuple[int, ...]:
        """The steps' engine op codes (:data:`srnet.cgp.primitives.PRIMITIVE_CODES`)."""
        return tuple(PRIMITIVE_CODES[name] for name in self.names)

    def uses_x(self) -> bool:
        """Whether y depends on x (an output of nonzero weight reads x, directly or through steps)."""
        live = [True] + [False] * len(self.constants)
        for a, b in self.args:
            live.append(live[a] or live[b])
        return any(live[o] and w != 0.0 for o, w in zip(self.outputs, self.weights))

    @functools.cached_property
    def arrays(self) -> tuple:
        """The numba kernel's arguments, built once."""
        return (np.array(self.codes, dtype=np.int32),
                np.array(self.args, dtype=np.int32).reshape(-1, 2),
                np.array(self.constants, dtype=np.float64),
                np.array(self.outputs, dtype=np.int32),
                np.array(self.weights, dtype=np.float64),
                float(self.intercept))

    @functools.cached_property
    def cpu(self) -> bool:
        """Whether the numba kernel implements every step."""
        from srnet.activations import _fused_cpu

        return set(self.names) <= _fused_cpu.SUPPORTED

    @functools.cached_property
    def triton(self) -> bool:
        """Whether the Triton kernel can run (Triton installed) and implements every step."""
        from srnet.activations import _fused_triton

        return _fused_triton.available() and set(self.names) <= _fused_triton.SUPPORTED

    def __getstate__(self) -> dict:
        """The plan without what was cached about this machine: a pickled plan said Triton was there on a
        machine without it (and its CUDA forward failed), or lost the fused path on one with it."""
        return {name: value for name, value in self.__dict__.items() if name not in ("arrays", "cpu", "triton")}


def backend(plan: FusedPlan, x: torch.Tensor) -> str | None:
    """The fused backend that runs ``plan`` on ``x``: "cpu", "triton" or None (none does)."""
    if x.dtype not in (torch.float32, torch.float64):
        return None
    if x.device.type == "cpu":
        return "cpu" if plan.cpu else None
    if x.device.type == "cuda":
        return "triton" if plan.triton else None
    return None


# ------------------------------------------------------------------ evaluation

#: Below this many elements one thread does the work (starting threads costs more).
PARALLEL_MIN_ELEMENTS = 1 << 17


def evaluate(plan: FusedPlan, x: torch.Tensor, derivative: bool,
             kind: str | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``(g(x), g'(x))`` by the fused kernel (``g'`` None without ``derivative``),
    shaped like ``x``, no autograd.  ``kind`` forces a backend ("triton" on
    CPU tensors runs Triton's interpreter, under ``TRITON_INTERPRET=1``); by
    default :func:`backend` picks it, and a one-line ValueError says when
    none runs."""
    kind = _checked_kind(plan, x, kind)
    return _run(kind, plan, x, derivative)


def _checked_kind(plan: FusedPlan, x: torch.Tensor, kind: str | None) -> str:
    """``kind``, or :func:`backend`'s answer without one; a one-line ValueError where that kernel cannot run
    on ``x`` (a forced "cpu" on a float16 tensor was a KeyError, an unknown kind ran the CPU kernel)."""
    if kind not in (None, "cpu", "triton"):
        raise ValueError(f"unknown fused kernel {kind!r}: 'cpu', 'triton' or None (the one backend() picks)")
    chosen = backend(plan, x)
    runs = chosen is not None if kind is None else kind == chosen
    if kind == "triton" and not runs and x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64):
        from srnet.activations import _fused_triton  # Triton's interpreter runs its kernels on CPU tensors

        runs = plan.triton and _fused_triton.interpreting()
    kind = kind or chosen
    if not runs and kind == "triton":
        from srnet.activations import _fused_triton

        if not _fused_triton.available():  # (it read as if the formula's primitives were the problem)
            raise ValueError("no fused kernel 'triton': Triton is not installed (pip install 'srnet[gpu]')")
    if not runs:
        raise ValueError(f"no fused kernel{'' if kind is None else ' ' + repr(kind)} for {x.dtype} tensors on "
                         f"{x.device.type} with primitives {', '.join(sorted(set(plan.names))) or '(none)'}")
    return kind


def _run(kind: str, plan: FusedPlan, x: torch.Tensor, derivative: bool, value: bool = True,
         grad: torch.Tensor | None = None):
    """(y or None, dy or None): y = g(x) with ``value``, dy = g'(x) with
    ``derivative``, times ``grad`` when given (the backward pass from x)."""
    x = x.detach().resolve_neg()  # (a negative-bit view: its memory holds -x; numpy refused it, Triton read it)
    grad = None if grad is None else grad.resolve_neg()
    back = None  # a dense layout other than row-major (channels_last, a transpose): computed in it, kept
    if not x.is_contiguous():
        order = sorted(range(x.dim()), key=lambda d: -x.stride(d))
        if x.permute(order).is_contiguous():
            x, back = x.permute(order), [order.index(d) for d in range(x.dim())]
            grad = None if grad is None else grad.permute(order)
        else:
            x = x.contiguous()
    if grad is not None and not grad.is_contiguous():
        grad = grad.contiguous()
    y = torch.empty_like(x) if value else None
    dy = torch.empty_like(x) if derivative else None
    if kind == "triton":
        from srnet.activations import _fused_triton

        _fused_triton.run(plan, x, y, dy, grad)
    elif x.numel():
        from srnet.activations import _fused_cpu

        empty = _EMPTY[x.dtype]
        xs = x.numpy().reshape(-1)
        ys = empty if y is None else y.numpy().reshape(-1)
        dys = empty if dy is None else dy.numpy().reshape(-1)
        gs = empty if grad is None else grad.detach().numpy().reshape(-1)
        threads = min(torch.get_num_threads(), numba.config.NUMBA_NUM_THREADS)
        # numba's thread pool runs one parallel kernel at a time (its workqueue layer aborts the process on a
        # second) and not in a forked child of a process that used it (GNU OpenMP kills the child): a caller
        # that finds this kernel busy, or a forked child, runs the serial one (the engine's own parallel
        # evaluation is not behind this lock: nothing in srnet runs the two at once)
        if threads > 1 and xs.size >= PARALLEL_MIN_ELEMENTS and not _FORKED[0] \
                and _PARALLEL.acquire(blocking=False):
            from srnet.cgp._kernels import numba_thread_count  # (first: numba's pool start keeps torch's count)

            previous = numba_thread_count()
            try:
                numba.set_num_threads(threads)
                _fused_cpu.run_parallel(xs, *plan.arrays, ys, dys, gs)
            finally:
                numba.set_num_threads(previous)
                _PARALLEL.release()
        else:
            _fused_cpu.run_serial(xs, *plan.arrays, ys, dys, gs)
    if back is not None:
        y, dy = (None if t is None else t.permute(back) for t in (y, dy))
    return y, dy


#: Held while the parallel CPU kernel runs (see :func:`_run`).
_PARALLEL = threading.Lock()
#: Set in a forked child process, where the parent's OpenMP threads do not exist.
_FORKED = [False]
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: _FORKED.__setitem__(0, True))

_EMPTY = {torch.float32: np.empty(0, dtype=np.float32), torch.float64: np.empty(0, dtype=np.float64)}

#: On CPU, inputs of at least this many bytes are saved for the backward
#: pass, which recomputes g'(x) times the gradient in one kernel; smaller
#: ones save g'(x) from the forward pass (less work, one more tensor: cheap
#: while the allocator reuses memory, but beyond glibc's mmap threshold of
#: 32 MiB every tensor is fresh pages from the kernel).  On CUDA the
#: backward always recomputes: the kernels are memory-bound, and reading x
#: and the gradient moves the same bytes as GELU's backward.
CPU_RECOMPUTE_MIN_BYTES = 32 << 20

_SECOND_ORDER = ("second derivatives through a fused ExpressionActivation are not available; build it with "
                 "fused=False (or set activation.fused = False) to differentiate twice")


def functorch_active() -> bool:
    """Under torch.func transforms (grad, vmap, jacrev, ...), which the fused kernels do not support."""
    check = getattr(torch._C, "_are_functorch_transforms_active", None)
    return bool(check()) if check is not None else False


def _batched(t: torch.Tensor) -> bool:
    """A vmapped tensor (autograd's is_grads_batched uses the legacy vmap): no raw memory to read."""
    functorch = torch._C._functorch
    return bool(functorch.is_batchedtensor(t) or getattr(functorch, "is_legacy_batchedtensor", lambda _: False)(t))


class _Fused(torch.autograd.Function):
    """y = g(x) by the fused kernel; backward grad * g'(x), from g' saved by
    the forward pass or recomputed from x (:data:`CPU_RECOMPUTE_MIN_BYTES`)."""

    @staticmethod
    def forward(ctx, x, plan, kind):
        ctx.plan, ctx.kind = plan, kind
        ctx.recompute = kind == "triton" or x.numel() * x.element_size() >= CPU_RECOMPUTE_MIN_BYTES
        if ctx.recompute:
            y, _ = _run(kind, plan, x, derivative=False)
            ctx.save_for_backward(x)
        else:
            y, dy = _run(kind, plan, x, derivative=True)
            ctx.save_for_backward(dy)
        return y

    @staticmethod
    def backward(ctx, grad):
        if torch.is_grad_enabled():
            raise RuntimeError(_SECOND_ORDER)
        (saved,) = ctx.saved_tensors
        if ctx.recompute and (functorch_active() or _batched(grad)):
            # vmap of the backward (is_grads_batched, jacobian(vectorize=True)): no raw memory for a kernel
            return grad * forward_mode(ctx.plan, saved)[1], None, None
        if ctx.recompute:
            return _run(ctx.kind, ctx.plan, saved, derivative=True, value=False, grad=grad)[1], None, None
        return grad * saved, None, None


def fused_apply(plan: FusedPlan, x: torch.Tensor, kind: str | None = None) -> torch.Tensor:
    """``g(x)`` by the fused kernel (``kind``: :func:`backend`'s answer, when
    known), differentiable once (autograd)."""
    kind = _checked_kind(plan, x, kind)
    if torch.is_grad_enabled() and x.requires_grad:
        return _Fused.apply(x, plan, kind)
    return _run(kind, plan, x, derivative=False)[0]


# ------------------------------------------------------------------ the torch straight line

def forward_mode(plan: FusedPlan, x: torch.Tensor, derivative: bool = True):
    """``(g(x), g'(x))`` as a straight line of torch operations (the table's
    torch forms and :data:`DERIVATIVES`): what inductor fuses under
    ``torch.compile``, and the reference the kernels are tested against.
    Derivatives known to be 0 (constants) or 1 (x) are not materialised."""
    values = [x] + [torch.tensor(c, dtype=x.dtype, device=x.device) for c in plan.constants]
    ders: list = [1.0] + [None] * len(plan.constants)
    for name, (a, b) in zip(plan.names, plan.args):
        prim = primitive(name)
        va, vb = values[a], values[b]
        value = prim.torch(va, vb)
        values.append(value)
        if derivative:
            ders.append(_derivative(name, va, vb, ders[a], ders[b] if prim.arity == 2 else None, value))
    # y = intercept + w_1 * v_1 + ..., in the unfused walk's and the CPU kernel's order (the intercept first:
    # -0 + 0 is +0 there, and (c + t1) + t2 rounds otherwise than (t1 + t2) + c); a plain output is copied
    plain = len(plan.outputs) == 1 and plan.weights[0] == 1.0 and plan.intercept == 0.0
    y = None
    dy = None
    for o, w in zip(plan.outputs, plan.weights):
        term = values[o] if w == 1.0 else values[o] * w
        y = term if plain else (plan.intercept + term) if y is None else y + term
        if derivative and ders[o] is not None and w != 0.0:  # (0 * an overflowed slope is not NaN)
            d = ders[o] if w == 1.0 else ders[o] * w
            dy = d if dy is None else dy + d
    if y.shape != x.shape:  # a constant: a new tensor, as eagerly (compiled, an expanded view refused y.add_(1))
        y = y.expand_as(x).clone()
    if y is x:  # the identity: a new tensor, as eagerly (compiled, y.mul_(0) zeroed the caller's input)
        y = x.clone()
    if not derivative:
        return y, None
    if dy is None:
        dy = torch.zeros_like(x)
    elif not isinstance(dy, torch.Tensor):
        dy = torch.full_like(x, float(dy))
    return y, (dy if dy.shape == x.shape else dy.expand_as(x))


def _derivative(name, a, b, da, db, value):
    """A rule of :data:`DERIVATIVES`, with derivatives known to be 0 (None)
    or a constant (a Python float, 1.0 for x) folded away."""
    if da is None and db is None:
        return None
    if name in ("add", "sub"):
        if db is None:
            return da
        if da is None:
            return db if name == "add" else (-db)
        return da + db if name == "add" else da - db
    if name == "mul":
        left = None if da is None else _chain(b, da)
        right = None if db is None else _chain(a, db)
        return right if left is None else left if right is None else left + right
    return DERIVATIVES[name](a, b, 0.0 if da is None else da, 0.0 if db is None else db, value)


class _ForwardMode(torch.autograd.Function):
    """:func:`forward_mode` with the backward ``grad * g'(x)``: traced by
    dynamo as torch operations, so inductor fuses each way into one kernel."""

    @staticmethod
    def forward(ctx, x, plan):
        y, dy = forward_mode(plan, x, derivative=True)
        ctx.save_for_backward(dy)
        return y

    @staticmethod
    def backward(ctx, grad):
        (dy,) = ctx.saved_tensors
        return grad * dy, None


def forward_mode_apply(plan: FusedPlan, x: torch.Tensor) -> torch.Tensor:
    """``g(x)`` through :func:`forward_mode`, differentiable once."""
    if torch.is_grad_enabled() and x.requires_grad:
        return _ForwardMode.apply(x, plan)
    return forward_mode(plan, x, derivative=False)[0]


__all__ = ["DERIVATIVES", "FusedPlan", "backend", "evaluate", "forward_mode", "forward_mode_apply", "fused_apply"]
