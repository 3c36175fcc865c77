"""Programs as torch modules, table-driven (no code generation, no exec).

The module walks the program's steps through each primitive's torch form,
so it computes what the engine computes (protected semantics included), on
any device, differentiably, and under ``torch.compile``.  The walk itself
(:func:`torch_steps` and :func:`walk_steps`) also serves
:class:`srnet.activations.ExpressionActivation`.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from srnet.cgp.primitives import primitive
from srnet.expr.program import Program


@contextlib.contextmanager
def torch_threads(n: int):
    """torch's CPU threads set to ``n`` inside the block, restored after: small tensors gain nothing from more,
    and float64 sums split among threads round differently, so a result would depend on the machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def check_floating(x: torch.Tensor, who: str) -> None:
    """A one-line TypeError unless ``x`` is a floating-point tensor: the
    program's constants are cast to the input's dtype, so an integer input
    would truncate them (sin(x/2) at 1, 2, 3 gave 0, 0, 0); promoting it
    silently would pick a precision for the caller."""
    if not isinstance(x, torch.Tensor):  # a list or NumPy array: torch's modules take tensors only
        raise TypeError(f"{who} needs a torch.Tensor, got {type(x).__name__}; convert it first (torch.as_tensor)")
    if not x.is_floating_point():
        raise TypeError(f"{who} needs a floating-point input, got {x.dtype}; convert it first (e.g. x.float())")


class TorchForm:
    """A primitive's torch form, held by name: the table's forms are lambdas,
    which pickle cannot name, so a module holding them could not be
    ``torch.save``-d whole, pickled or sent to another process."""

    __slots__ = ("name", "_form")

    def __init__(self, name: str):
        self.name = name
        self._form = primitive(name).torch

    def __call__(self, a, b):
        return self._form(a, b)

    def __reduce__(self):
        return TorchForm, (self.name,)


def torch_steps(steps) -> tuple:
    """Program steps ``(name, a, b)`` as ``(torch form, a, b)`` for :func:`walk_steps`.

    A unary primitive gets its first address twice (the table's forms take
    two arguments and ignore the second), so the walk needs no arities.
    """
    plan = []
    for name, a, b in steps:
        prim = primitive(name)
        plan.append((TorchForm(name), a, b if prim.arity == 2 else a))
    return tuple(plan)


def walk_steps(values: list, steps) -> list:
    """Run ``steps`` (from :func:`torch_steps`) over ``values``, in place.

    ``values`` holds a tensor per address before the first step (inputs, then
    constants); each step appends ``fn(values[a], values[b])``.  A straight
    line of element-wise torch calls: differentiable, traceable by
    ``torch.jit.trace`` and fusable by ``torch.compile``.  Returns ``values``.
    """
    for fn, a, b in steps:
        values.append(fn(values[a], values[b]))
    return values


class ProgramModule(nn.Module):
    """``forward(x)`` = ``program(x)``: (batch, n_inputs) -> (batch, n_targets),
    for a floating-point x (another dtype is a TypeError).

    The output weights and intercept are parameters (fine-tune them with any
    optimiser, then read them back with :meth:`to_program`); constants are a
    buffer, or parameters too with ``trainable_constants=True``; either way
    everything lives in the ``state_dict``.
    """

    def __init__(self, program: Program, dtype: torch.dtype = torch.float64, trainable_constants: bool = False):
        if not isinstance(program, Program):  # (a string failed on its missing n_inputs)
            raise TypeError(f"ProgramModule takes a srnet.expr.Program, got {type(program).__name__} (a JSON document: "
                            f"Program.from_json)")
        if dtype not in (torch.float32, torch.float64):  # float16 held a constant of 7e4 as inf; int32 and
            # complex were torch's own errors and warnings deep inside
            raise TypeError(f"ProgramModule's dtype must be torch.float32 or torch.float64, got {dtype} "
                            f"(half-precision inputs are computed in float32 either way)")
        super().__init__()
        self.n_inputs = program.n_inputs
        self.steps = torch_steps(program.steps)
        self._program_steps = tuple(program.steps)
        self.outputs = tuple(program.outputs)
        constants = torch.tensor(program.constants, dtype=dtype).reshape(-1)
        if trainable_constants:
            self.constants = nn.Parameter(constants)
        else:
            self.register_buffer("constants", constants)
        self.weights = nn.Parameter(torch.tensor(program.weights, dtype=dtype))
        self.intercept = nn.Parameter(torch.tensor(program.intercept, dtype=dtype))

    def raw_outputs(self, x: torch.Tensor) -> torch.Tensor:
        check_floating(x, "ProgramModule")
        if x.dim() != 2 or x.shape[1] != self.n_inputs:
            raise ValueError(f"expected input of shape (batch, {self.n_inputs}), got {tuple(x.shape)}")
        values = [x[:, i] for i in range(self.n_inputs)]
        values += [c.expand(x.shape[0]) for c in self.constants.to(x.dtype).unbind(0)]
        walk_steps(values, self.steps)
        if not self.outputs:  # a constant program (its intercept alone)
            return x.new_zeros((x.shape[0], 0))
        return torch.stack([values[o] for o in self.outputs], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The program's value: its outputs times the weights, plus the intercept, where a weight of 0 adds
        nothing (as :meth:`srnet.expr.program.Program.combine`: not 0 * inf = NaN).  Half-precision inputs
        are computed in float32 and the result rounded back (in float16 the exp cap of 80 is no cap:
        softplus(12) was inf), as :class:`srnet.activations.ExpressionActivation` computes them."""
        check_floating(x, "ProgramModule")  # (a NumPy array failed in torch's .to(), on its NumPy dtype)
        given = x.dtype
        if given in (torch.float16, torch.bfloat16):
            x = x.float()
        weights = self.weights.to(x.dtype)
        raw = self.raw_outputs(x)[:, :, None]  # (batch, outputs, targets): the few of a formula
        # a weight of 0 masks its output's overflow, not its gradient: the term can still be trained on
        raw = torch.where((weights == 0) & ~torch.isfinite(raw), torch.zeros((), dtype=x.dtype, device=x.device),
                          raw)
        return ((raw * weights).sum(dim=1) + self.intercept.to(x.dtype)).to(given)

    def to_program(self) -> Program:
        """The program with the module's current (possibly trained) weights."""
        return Program(self.n_inputs, tuple(self.constants.detach().tolist()), self._program_steps, self.outputs,
                       self.weights.detach().cpu().numpy(), self.intercept.detach().cpu().numpy())
