"""Programs as torch modules, table-driven (no code generation, no exec).

The module walks the program's steps through each primitive's torch form,
so it computes what the engine computes (protected semantics included), on
any device, differentiably, and under ``torch.compile``.
"""

from __future__ import annotations

import torch
from torch import nn

from srnet.cgp.primitives import primitive
from srnet.expr.program import Program


class ProgramModule(nn.Module):
    """``forward(x)`` = ``program(x)``: (batch, n_inputs) -> (batch, n_targets).

    The output weights and intercept are parameters (fine-tune them with any
    optimiser, then read them back with :meth:`to_program`); constants are a
    buffer, or parameters too with ``trainable_constants=True``; either way
    everything lives in the ``state_dict``.
    """

    def __init__(self, program: Program, dtype: torch.dtype = torch.float64, trainable_constants: bool = False):
        super().__init__()
        self.n_inputs = program.n_inputs
        self.steps = tuple((primitive(name).torch, primitive(name).arity, a, b) for name, a, b in program.steps)
        self._step_names = tuple(name for name, _, _ in program.steps)
        self.outputs = tuple(program.outputs)
        constants = torch.tensor(program.constants, dtype=dtype).reshape(-1)
        if trainable_constants:
            self.constants = nn.Parameter(constants)
        else:
            self.register_buffer("constants", constants)
        self.weights = nn.Parameter(torch.tensor(program.weights, dtype=dtype))
        self.intercept = nn.Parameter(torch.tensor(program.intercept, dtype=dtype))

    def raw_outputs(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2 or x.shape[1] != self.n_inputs:
            raise ValueError(f"expected input of shape (batch, {self.n_inputs}), got {tuple(x.shape)}")
        values = [x[:, i] for i in range(self.n_inputs)]
        values += [c.expand(x.shape[0]) for c in self.constants.to(x.dtype).unbind(0)]
        for fn, arity, a, b in self.steps:
            values.append(fn(values[a], values[b] if arity == 2 else values[a]))
        return torch.stack([values[o] for o in self.outputs], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.raw_outputs(x) @ self.weights.to(x.dtype) + self.intercept.to(x.dtype)

    def to_program(self) -> Program:
        """The program with the module's current (possibly trained) weights."""
        steps = tuple((name, a, b) for name, (_, _, a, b) in zip(self._step_names, self.steps))
        return Program(self.n_inputs, tuple(self.constants.detach().tolist()), steps, self.outputs,
                       self.weights.detach().cpu().numpy(), self.intercept.detach().cpu().numpy())
