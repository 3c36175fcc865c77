"""Expressions as torch activation functions.

:class:`ExpressionActivation` applies a one-variable :class:`~srnet.expr.Program`
element-wise, computing what the engine computes (protected division, log|a|,
sqrt|a|, exp clipped at 80), differentiably, on any device.  No source text is
generated or executed.

Two paths, the same numbers (float32 rounding aside; input-gradients at +-inf below):

* fused (the default, ``fused=True``): the whole formula runs as one kernel
  forward, which also computes the derivative g'(x) in forward mode through
  the primitive table, and the backward is one product ``grad * g'(x)``
  (:mod:`srnet.activations.fused`: numba on CPU, Triton on CUDA when it is
  installed).  Under ``torch.compile`` the same forward-mode formula is a
  straight line of torch operations, which inductor fuses into the
  network's kernels (no graph break).  Second derivatives need ``fused=False``;
* unfused (``fused=False``, or where no fused kernel runs: another device or
  dtype, ``torch.jit.trace``, ``torch.func`` transforms): the module walks
  the program's steps through the primitive table's torch forms, one
  operation per node, and autograd differentiates them (to any order).

The input-gradients of the two paths agree on finite inputs; at x = +-inf they may differ: the fused
derivative drops a term whose factor is exactly 0 (:func:`srnet.activations.fused._chain`), so SiLU
``x/(1 + exp(-x))`` has the slope 1 at +inf and 0 at -inf, where autograd's chain rule multiplies inf by 0 and
gives NaN.  Masking every torch form's backward to match would slow the unfused path down for inputs no
finite pre-activation is.

Saved as JSON (the program plus the affine parameters), never pickled.

TorchScript: ``torch.jit.script`` cannot compile the formula (a program of
Python callables) and raises one line saying so; ``torch.jit.trace(network,
example)`` records the operations instead and matches eager mode, for inputs
of the example's dtype and device (the constants are cast to that dtype when
tracing).

Compiling: ``torch.compile(network)`` inlines the activations into the
network's graph (``fullgraph=True`` holds).  Each formula is compiled with
its constants, so compiling many formulas in one process -- activation modules
on their own, or whole models that differ only in their activation, as a
benchmark or a search might -- makes one dynamo cache entry per formula for the
shared ``forward`` (a model's, or the activation's); beyond
``torch._dynamo.config.recompile_limit`` (8 by default) dynamo falls back to
eager for the rest of the process, so raise that limit first.
"""

from __future__ import annotations

import copy
import json
import math
import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import sympy
import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from srnet.activations.from_sympy import program_from_sympy
from srnet.activations.fused import FusedPlan, backend, forward_mode_apply, functorch_active, fused_apply
from srnet.activations.programs import (
    CHECK_RANGE,
    POLE_REACH,
    VARIABLE,
    DegenerateActivationError,
    check_activation,
    check_finite_activation,
    check_one_variable,
    check_range_bounds,
    formula_text,
    merge_outputs,
    poles_beyond,
)
from srnet.cgp.genome import Genome
from srnet.cgp.primitives import PRIMITIVES, primitive
from srnet.data import check_flag
from srnet.expr.program import Program
from srnet.expr.symbolic import fold_constants, time_limit, to_sympy, values_at
from srnet.expr.torch_module import check_floating, torch_steps, walk_steps
from srnet.jsonio import as_real, as_sequence, atomic_write_text, check_document, malformed, parse_json, shown

FORMAT = "srnet.activation"
FORMAT_VERSION = 1
_AFFINE = ("a", "b", "c", "d")
_AFFINE_INIT = {"a": 1.0, "b": 1.0, "c": 0.0, "d": 0.0}


def _execution_plan(program: Program):
    """Steps with constant sub-expressions evaluated once (float64, NumPy
    forms), constants compacted: (constants, steps ``(name, a, b)``, outputs)
    over the value list ``[x, constants..., steps...]`` (a unary step reads
    ``a`` twice)."""
    n_const = len(program.constants)
    known = {1 + k: float(c) for k, c in enumerate(program.constants)}  # address -> constant value
    where = {0: ("x", 0)}
    constants: list[float] = []
    steps: list[tuple] = []

    def constant_ref(value: float):
        constants.append(value)
        return ("c", len(constants) - 1)

    for k, (name, a, b) in enumerate(program.steps):
        prim = primitive(name)
        args = (a, b)[: prim.arity]
        address = 1 + n_const + k
        if all(arg in known for arg in args):
            with np.errstate(all="ignore"):
                va = np.array([known[a]])
                known[address] = float(prim.numpy(va, np.array([known[b]]) if prim.arity == 2 else va)[0])
            continue
        refs = []
        for arg in args:
            if arg not in where:
                where[arg] = constant_ref(known[arg])
            refs.append(where[arg])
        steps.append((name, refs[0], refs[1] if prim.arity == 2 else refs[0]))
        where[address] = ("s", len(steps) - 1)
    outputs = []
    for o in program.outputs:
        if o not in where:
            where[o] = constant_ref(known[o])
        outputs.append(where[o])

    def index(ref):  # value list: [x, constants..., steps...]
        kind, i = ref
        return 0 if kind == "x" else 1 + i if kind == "c" else 1 + len(constants) + i

    return (tuple(constants), tuple((name, index(a), index(b)) for name, a, b in steps),
            tuple(index(o) for o in outputs))


# ------------------------------------------------------------------ module

class ExpressionActivation(nn.Module):
    """An element-wise activation ``g(x)`` given by a one-variable formula.

    ``forward(x) = g(x)``, or with ``affine``: ``a * g(b * x + c) + d`` with
    learnable scalars a, b, c, d (initialised 1, 1, 0, 0 unless given), for
    a floating-point x (an integer or bool input is a TypeError: the
    constants, cast to its dtype, would be truncated).

    Parameters
    ----------
    program : Program
        One input, one target (see :func:`collapse_inputs` for formulas of
        several variables).
    affine : bool or mapping, default=False
        Add the learnable affine wrapper; a mapping ``{"a": .., "b": ..,
        "c": .., "d": ..}`` gives its initial values.
    check_range : (float, float) or None, default=(-5, 5)
        Reject a formula that is constant, not finite, beyond float32, or
        has a pole, jump or wildly singular slope on this range
        (:class:`DegenerateActivationError`, see :func:`check_activation`:
        mild singular slopes pass, ``sqrt|x|``, and ``log|x|``, which the
        protection bounds at log(1e-10)); None skips the check.
    label : str or None
        Free text kept with the activation (where it came from).
    fused : bool, default=True
        Run the formula as one fused kernel each way where one exists (see
        the module docstring); False walks the torch forms node by node
        (needed for second derivatives).  A runtime choice, not saved in JSON.

    Attributes
    ----------
    program : Program
        The formula, exactly as saved in JSON.
    constants, out_weights, out_intercept : Tensor (buffers)
        The formula's numbers: the execution plan's constants and output map,
        exact float64 (cast to the input's dtype when used).  They follow the
        module's device but not its dtype (:meth:`_apply`), and are not part of
        the state_dict: the formula is fixed when the module is built, as
        GELU's is, so a GELU network's weights load into the same network with
        a found activation and back (a state_dict saved with these numbers, as
        srnet saved them before, loads where they are this formula's, and is
        refused where they are another's: :meth:`_load_from_state_dict`).  The formula itself
        travels as JSON (:meth:`to_json`).
    a, b, c, d : nn.Parameter or None
        The affine parameters (float32 scalars), None without ``affine``.
    fused : bool
        Whether the fused path is used (may be changed at any time).
    """

    _uses_x = True  # (set per formula in __init__; a module pickled before that walks as it did)

    def __init__(self, program: Program, *, affine: bool | Mapping[str, float] = False,
                 check_range=CHECK_RANGE, label: str | None = None, fused: bool = True):
        super().__init__()
        check_one_variable(program)
        if check_range is not None:
            check_range = check_range_bounds(check_range)
            check_activation(program, check_range)
        if label is not None and not isinstance(label, str):  # JSON would keep it, and loading refuse it
            raise ValueError(f"label must be a string or None, got {label!r}")
        program = merge_outputs(program)
        self.program = program
        self.check_range = check_range
        self.label = label
        constants, steps, self._outputs = _execution_plan(program)
        self._steps = torch_steps(steps)
        self._n_constants = len(constants)
        weights = program.weights[:, 0]
        self._plain = bool(len(self._outputs) == 1 and weights[0] == 1.0 and program.intercept[0] == 0.0)
        self._fused_plan = FusedPlan(tuple(name for name, _, _ in steps), tuple((a, b) for _, a, b in steps),
                                     constants, self._outputs, tuple(float(w) for w in weights),
                                     float(program.intercept[0]))
        self._uses_x = self._fused_plan.uses_x()
        self.fused = fused
        for name, values in self._numbers().items():  # (not saved: a GELU network's state_dict loads)
            self.register_buffer(name, torch.tensor(values, dtype=torch.float64), persistent=False)
        initial = affine_values(affine)
        self._initial_affine = initial  # (reset_parameters' values)
        for name in _AFFINE:
            value = None if initial is None else nn.Parameter(torch.tensor(initial[name], dtype=torch.float32))
            self.register_parameter(name, value)
        self._formula = None

    def reset_parameters(self) -> None:
        """The affine scalars back to their values at construction, and the formula's numbers to the formula's,
        in place: what ``module.to_empty(device=...)`` leaves uninitialised after a model was built on the meta
        device (its a, b, c, d held 9.2e26), as ``nn.Linear.reset_parameters`` does for its weights."""
        with torch.no_grad():
            initial = getattr(self, "_initial_affine", None)
            if initial is not None and self.a is not None:
                for name in _AFFINE:
                    getattr(self, name).fill_(initial[name])
            for name, values in self._numbers().items():
                getattr(self, name).copy_(torch.tensor(values, dtype=torch.float64))

    def __setattr__(self, name, value):
        if name == "fused":  # activation.fused = "no" was true: the fused path ran
            value = check_flag("fused", value)
        super().__setattr__(name, value)

    # ------------------------------------------------------------ builders

    @classmethod
    def from_sympy(cls, expr, variable: sympy.Symbol | None = None, *, protected: bool = False,
                   **kwargs) -> ExpressionActivation:
        """An activation from a one-variable sympy expression.

        ``variable`` defaults to the expression's only free symbol.  See
        :mod:`srnet.activations.from_sympy` for the supported forms and
        ``protected``; other keywords go to the constructor.

        The activation computes the engine's protected primitives, as every
        srnet formula does: ``exp(a)`` is ``exp(min(a, 80))`` (EXP_MAX: it
        never overflows, even in float32), so ``exp(x)`` stops growing at
        x = 80 and ``log(1 + exp(x))`` is 80, not x, beyond it; ``a/b`` is 1
        and ``log|a|`` is 0 where b or a is within 1e-10 of 0, so
        ``(1 - cos(x))/x`` is 1 at x = 0, where it tends to 0.  Where the
        activation so differs from the formula a warning says where, unless
        ``protected=True`` asks for the protected semantics.  The comparison
        is on a grid (out to +-1e6, and near 0): a protection that fires at
        one point off it, such as x = 0.123 in ``(1 - cos(x - 0.123))/(x -
        0.123)``, goes unseen.

        A pole beyond ``check_range`` (``1/(x - 7)``, ``x/(x**2 - 36)``), where pre-activations that wander out
        of the range would meet it, is warned of with its places, up to |x| = 1e4
        (:func:`~srnet.activations.programs.poles_beyond`); ``check_range=None`` checks nothing and warns of none.
        """
        if isinstance(expr, str):
            raise TypeError("give a sympy expression, not a string: srnet does not parse text")
        expr = sympy.sympify(expr) if isinstance(expr, (int, float)) else expr
        if not isinstance(expr, sympy.Expr):
            raise TypeError(f"expected a sympy expression, got {type(expr).__name__}")
        free = sorted(expr.free_symbols, key=str)
        if variable is None:
            if not free and expr.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):  # (x + nan is nan: no variable)
                raise ValueError(f"the expression is {expr}, which is not a finite real number")
            if not free:
                raise DegenerateActivationError(f"{expr} has no variable: a constant cannot be an activation")
            if len(free) > 1:
                raise ValueError(f"{expr} has {len(free)} variables ({', '.join(map(str, free))}), but an "
                                 "activation is a function of one; substitute one variable for all of them "
                                 "(srnet.activations.collapse_variables) or pass variable=")
            variable = free[0]
        else:
            if not isinstance(variable, sympy.Symbol):
                raise TypeError(f"variable must be a sympy Symbol, got {variable!r}")
            # the same name with other assumptions (x0 of a fitted formula is real) is the same variable
            expr = expr.xreplace({s: variable for s in free if s.name == variable.name and s != variable})
            free = sorted(expr.free_symbols, key=str)
        if any(s != variable for s in free):
            others = ", ".join(str(s) for s in free if s != variable)
            raise ValueError(f"{expr} depends on {others} besides the variable {variable}; an activation "
                             "is a function of one variable")
        program = program_from_sympy(expr, [variable], protected=protected)
        activation = cls(program, **kwargs)
        # warned of once it is built: 1/x was advised protected=True, then refused for its pole either way
        if not protected:
            _warn_of_protection(expr, variable, program)
        if activation.check_range is not None:
            warn_of_poles(activation)
        return activation

    @classmethod
    def from_genome(cls, genome: Genome, weights=None, intercept=None, **kwargs) -> ExpressionActivation:
        """An activation from a one-input CGP genome (and an optional output map)."""
        if not isinstance(genome, Genome):  # "x" was "'str' object has no attribute 'spec'"
            raise TypeError(f"expected an srnet.cgp.Genome, got {type(genome).__name__}")
        return cls(Program.from_genome(genome, weights, intercept), **kwargs)

    # -------------------------------------------------------- the numbers

    def _numbers(self) -> dict:
        """The formula's numbers by buffer name, from the fused plan: the one
        source both paths compute from."""
        plan = self._fused_plan
        return {"constants": plan.constants, "out_weights": plan.weights, "out_intercept": plan.intercept}

    def _exact_numbers(self) -> None:
        """Set the buffers to the formula's exact float64 numbers, on the device they are on."""
        for name, values in self._numbers().items():
            setattr(self, name, torch.tensor(values, dtype=torch.float64, device=getattr(self, name).device))

    def _apply(self, fn, recurse=True):
        # .to(device) moves the buffers; a dtype cast (.half(), .to(torch.bfloat16))
        # would round the formula's numbers for good (1/3 is 0.3340 after a round
        # trip through bfloat16) and the walk would no longer compute the fused
        # plan's formula: the buffers get the exact numbers back.
        super()._apply(fn, recurse)
        self._exact_numbers()
        return self

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        # The formula (steps and numbers) is fixed when the module is built, from
        # its program; a state_dict restores the affine parameters.  One saved
        # with the formula's numbers (as srnet saved them before) must hold this
        # formula's (at any precision it was saved in): another formula's were
        # loaded once and reached the unfused walk alone, which then computed
        # neither the fused plan's function nor the program's (JSON, sympy()).
        numbers = self._numbers()
        for name, values in numbers.items():
            saved = state_dict.get(prefix + name)
            if isinstance(saved, torch.Tensor) and not torch.equal(
                    saved.detach().cpu(), torch.tensor(values, dtype=torch.float64).to(saved.dtype)):
                error_msgs.append(f"{prefix + name} holds another formula's numbers; this activation computes "
                                  f"g(x) = {self.formula} (build the other formula's activation from its JSON)")
                return
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)
        # this formula's own numbers, as saved before: nothing unexpected
        unexpected_keys[:] = [key for key in unexpected_keys if key not in {prefix + name for name in numbers}]

    # ------------------------------------------------------------- forward

    def g(self, x: torch.Tensor) -> torch.Tensor:
        """The formula alone, without the affine wrapper (the unfused walk through the torch forms)."""
        check_floating(x, "ExpressionActivation")
        _check_layout(x)
        if x.dtype in _HALF_DTYPES:
            return self.g(x.float()).to(x.dtype)
        values = [x]
        if self._n_constants:
            c = self.constants.to(dtype=x.dtype)
            values += [c[i] for i in range(c.shape[0])]
        walk_steps(values, self._steps)
        if self._plain:
            out = values[self._outputs[0]]
        else:
            w = self.out_weights.to(dtype=x.dtype)
            out = self.out_intercept.to(dtype=x.dtype) + values[self._outputs[0]] * w[0]
            for j in range(1, len(self._outputs)):
                out = out + values[self._outputs[j]] * w[j]
        if not self._uses_x:
            # a constant formula: a new tensor of x's shape (not a stride-0 view) with a slope of exactly 0 in
            # x, as the fused path gives (walked, it had no grad_fn: backward() failed, x.grad stayed None)
            return torch.where(torch.ones((), dtype=torch.bool, device=x.device), out, x)
        if torch.jit.is_tracing():  # a traced graph may not branch on shapes; expanding is a no-op view
            return out.expand_as(x)
        if out is x:  # g(x) = x: a new tensor, as the fused path and torch's activations return
            return x.clone()
        return out if out.shape == x.shape else out.expand_as(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_floating(x, "ExpressionActivation")
        _check_layout(x)
        if x.dtype in _HALF_DTYPES:
            return self.forward(x.float()).to(x.dtype)
        if _compiling():
            if self.fused:
                # the formula and its derivative as one straight line of torch
                # operations (forward mode): inductor fuses each way into one kernel
                return self._apply_affine(x, lambda u: forward_mode_apply(self._fused_plan, u))
            if torch.is_grad_enabled() and not _exporting():
                # Under torch.compile, have the backward recompute everything from x
                # (one fused kernel reading x and the output gradient) instead of
                # letting the partitioner save intermediates: saved boolean masks of
                # the protected ops make inductor's CPU kernels many times slower.
                return checkpoint(self._apply_affine, x, use_reentrant=False, preserve_rng_state=False)
            return self._apply_affine(x)
        if self.fused and not torch.jit.is_tracing() and not functorch_active() and _plain(x):
            kind = backend(self._fused_plan, x)
            if kind is not None:
                # decided on u = b*x + c: a tangent may come from the affine parameters (or x)
                return self._apply_affine(x, lambda u: self.g(u) if _dual(u) else fused_apply(self._fused_plan,
                                                                                              u, kind))
        return self._apply_affine(x)

    def __prepare_scriptable__(self):
        # torch.jit.script asks every submodule for this before compiling: the
        # formula's steps are Python callables from the primitive table, which
        # TorchScript cannot compile, so say what works instead of failing deep
        # inside the compiler.
        raise TypeError("ExpressionActivation cannot be compiled by torch.jit.script (its formula is a "
                        "program of Python callables); use torch.jit.trace(network, example_input) with an "
                        "example of the dtype and device it will run on, or torch.compile")

    def _apply_affine(self, x: torch.Tensor, g=None) -> torch.Tensor:
        g = self.g if g is None else g
        if self.a is None:
            return g(x)
        return self.a * g(self.b * x + self.c) + self.d

    # -------------------------------------------------------------- formula

    @property
    def affine(self) -> bool:
        return self.a is not None

    @property
    def n_nodes(self) -> int:
        """Primitive applications in the formula (the program's steps)."""
        return self.program.n_steps

    def sympy(self, variable: sympy.Symbol = VARIABLE) -> sympy.Expr:
        """The activation as a sympy expression (the affine parameters included)."""
        g = to_sympy(self.program, (variable,))[0]
        if self.a is None:
            return g
        a, b, c, d = (sympy.Float(float(getattr(self, name).detach())) for name in _AFFINE)
        return fold_constants(a * g.xreplace({variable: b * variable + c}) + d)

    @property
    def formula(self) -> str:
        """The formula g(x) as text, floats to 4 significant digits, or more where those would move it on
        ``check_range`` (else [-5, 5]), without terms too small to move it there (``sin(x) + 1e-6*x`` reads
        ``sin(x)``; the program computes them): log(|cos((1.565469*x + 0.326)**3)| + 1/2) printed 1.565 read
        -0.037 at x = 4.5, where the activation computes -0.450."""
        if self._formula is None:
            self._formula = formula_text(self.program, span=self.check_range or CHECK_RANGE)
        return self._formula

    def extra_repr(self) -> str:
        text = f"g(x) = {self.formula}"
        if self.a is not None:
            values = ", ".join(f"{name}={float(getattr(self, name).detach()):.4g}" for name in _AFFINE)
            text = f"a*g(b*x + c) + d, {text}, {values}"
        return text

    # ----------------------------------------------------------------- json

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "formula": self.formula,  # for readers; ignored when loading
            "program": self.program.to_dict(),
            "affine": None if self.a is None else {name: float(getattr(self, name).detach()) for name in _AFFINE},
            # the affine parameters' dtype: after .double() they hold float64 values a float32 would round
            "affine_dtype": None if self.a is None else str(self.a.dtype).removeprefix("torch."),
            "check_range": None if self.check_range is None else list(self.check_range),
            "label": self.label,
        }

    @classmethod
    def from_dict(cls, data: dict) -> ExpressionActivation:
        """Rebuild an activation from :meth:`to_dict` output, validating it."""
        if isinstance(data, (str, bytes, bytearray)):  # (it read "missing 'format'" of the text)
            raise TypeError("from_dict takes the dict to_dict returns; for JSON text use "
                            "ExpressionActivation.from_json(text), for a file ExpressionActivation.load(path)")
        check_document(data, FORMAT, FORMAT_VERSION, "activation")
        if "program" not in data:
            raise ValueError("malformed srnet activation: no 'program'")
        try:
            program = Program.from_dict(data["program"])
        except ValueError as error:
            raise ValueError(f"activation JSON: {error}") from None
        check_range = _check_range_from_json(data.get("check_range", CHECK_RANGE))
        _check_file_program(program, check_range)
        if check_range is None:  # (a hand-edited null let a tan step's poles in without a word)
            low, high = NULL_RANGE_CHECK
            warnings.warn(f"the activation's file asks for no check of its formula (check_range null): "
                          f"{formula_text(program)} was checked for finite values on [{low:g}, {high:g}] only, not "
                          f"for poles or jumps; ExpressionActivation(activation.program) checks it on "
                          f"[{CHECK_RANGE[0]:g}, {CHECK_RANGE[1]:g}]",
                          UserWarning, stacklevel=2)
        module = cls(program, affine=_affine_from_json(data.get("affine")), check_range=check_range,
                     label=_label_from_json(data.get("label")))
        dtype = data.get("affine_dtype")
        if dtype is not None and module.a is not None:
            if not isinstance(dtype, str) or dtype not in _AFFINE_DTYPES:
                raise malformed(f"affine_dtype must be one of {', '.join(_AFFINE_DTYPES)}, got {shown(dtype)}",
                                "activation")
            for name in _AFFINE:
                parameter = getattr(module, name)
                parameter.data = torch.tensor(data["affine"][name], dtype=_AFFINE_DTYPES[dtype])
                if not torch.isfinite(parameter.data):  # 1e6 in float16 loaded as inf, every output inf
                    raise malformed(f"affine parameter {name} = {data['affine'][name]:g} is beyond {dtype}",
                                    "activation")
        written = data.get("formula")
        # edited by hand: loaded silently as the old one (an older file prints its floats plainly)
        # (each text built only where the one before it differs: each is a sympy build of the formula)
        if isinstance(written, str) and written != module.formula and written != formula_text(program) \
                and written != formula_text(program, plain_floats=True):
            warnings.warn(f"the activation file's formula reads {shown(written)}, but its program computes "
                          f"{module.formula}: srnet loads the program (the formula is written for readers; to "
                          f"change the activation, build it with ExpressionActivation.from_sympy)", UserWarning,
                          stacklevel=2)
        return module

    def to_json(self) -> str:
        try:  # refused here, not when the file is loaded back (save wrote what load refused)
            _check_file_program(self.program, self.check_range)
        except ValueError as error:
            raise ValueError(f"cannot save this activation, its file would be refused on loading: "
                             f"{str(error).removeprefix('malformed srnet activation: ')}") from None
        data = self.to_dict()
        bad = [name for name, value in (data["affine"] or {}).items() if not math.isfinite(value)]
        if bad:  # NaN is not JSON, and a diverged activation is nothing to keep
            raise ValueError(f"affine parameter {bad[0]} is {data['affine'][bad[0]]}: training diverged; "
                             f"nothing to save")
        return json.dumps(data, allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> ExpressionActivation:
        return cls.from_dict(parse_json(text, "activation"))

    def save(self, path) -> None:
        if Path(path).is_dir():  # the rename's error named the temporary file, which the user never made
            raise IsADirectoryError(f"cannot save the activation as '{path}': it is a folder")
        atomic_write_text(path, self.to_json() + "\n")

    @classmethod
    def load(cls, path) -> ExpressionActivation:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except UnicodeDecodeError as error:  # named neither the file nor what it is not
            raise ValueError(f"'{path}' is not an activation file (not UTF-8 text: {error.reason} at byte "
                             f"{error.start})") from None
        return cls.from_json(text)

    def clone(self) -> ExpressionActivation:
        """An independent copy (own affine parameters, without their gradients), on the same device.  Copied,
        not rebuilt through :meth:`from_dict`, whose checks are a file's: an activation built with
        ``check_range=None``, or larger than a file may hold, was refused its own copy."""
        clone = copy.deepcopy(self)
        for parameter in clone.parameters():
            parameter.grad = None
        return clone


#: Where :meth:`ExpressionActivation.from_sympy` compares the activation with its formula: the exp cap only
#: shows far out (softplus at 100, exp(x/100) at 8000), the protected division and log near 0 (a divisor x**2
#: is within 1e-10 of 0 for |x| <= 1e-5).
CAP_CHECK_POINTS = np.concatenate([-np.logspace(6, -3, 300), np.linspace(-10, 10, 201), np.logspace(-3, 6, 300)])
NEAR_ZERO_POINTS = np.array([-5e-6, -1e-6, -1e-9, -1e-12, 0.0, 1e-12, 1e-9, 1e-6, 5e-6])
#: The primitives whose protection changes a finite value (div, log, exp), in the table's order.
_GUARDED = tuple(p.name for p in PRIMITIVES if p.guard is not None)
#: Steps either side of a point where the formula is undefined (0/0), to read the value it tends to there;
#: where it does not settle at these, the closer ones: x/sqrt|x| moves 0.02 between 1e-4 and 1e-3 (its slope
#: is unbounded at 0), read as no limit, and its protected 1 at 0 (the limit is 0) built silently.
_LIMIT_STEPS = (1e-4, 1e-3)
_CLOSER_LIMIT_STEPS = (1e-8, 1e-6)
#: Significant digits the formula's values near 0 are computed to (sympy's evalf), and the seconds that may
#: take: in float64, (exp(x) - 1)/x read 1.0000889 at x = -1e-12 (exp(x) - 1 loses all but 4 digits there),
#: and the activation's exact 1 was warned of as "1 where the formula is 1".
_PRECISE_DIGITS = 30
_PRECISE_SECONDS = 2.0


def _warn_of_protection(expr: sympy.Expr, variable: sympy.Symbol, program: Program) -> None:
    """Warn where the program, whose div, log and exp are protected, differs from the plain formula: softplus
    log(1 + exp(x)) gave 80 at x = 100, and (1 - cos(x))/x gave 1 at x = 0, where it tends to 0, silently
    (a zero pre-activation is common: zero inputs, zero padding).  Compared by value where the formula is
    finite, and where it is undefined (0/0) with the value it tends to from both sides: mish or SiLU, whose
    capped exp changes nothing a float shows, and sin(x)/x, whose protected 1 at 0 is its limit, build
    silently."""
    if not any(step in _GUARDED for step, _, _ in program.steps):
        return
    points = np.concatenate([CAP_CHECK_POINTS, NEAR_ZERO_POINTS])
    with np.errstate(all="ignore"):
        plain = _plain_values(expr, variable, points)
        near = slice(len(CAP_CHECK_POINTS), None)
        plain[near] = _precise_values(expr, variable, points[near], plain[near])
        computed = program(points[:, None])
        reference = np.array(plain, dtype=np.float64)  # (a copy)
        undefined = ~np.isfinite(plain)
        if undefined.any():  # (0/0): the value the formula tends to there, read only where it is needed
            reference[undefined] = _limits(expr, variable, points[undefined])
    differs = np.isfinite(reference) & ~(np.abs(computed - reference) <= 1e-6 * np.maximum(1.0, np.abs(reference)))
    # only where a protection fires: elsewhere a difference is rounding (exp(sin(x**2)) at x = 4e5, where x**2
    # carries no digit of the sine's argument, was warned of as "1.8 where the formula is 1.8", naming no primitive)
    firing = _guards_firing(program, points)
    differs &= np.any(list(firing.values()), axis=0)  # (a guarded step there is: else no call)
    if differs.any():
        where = np.flatnonzero(differs)
        i = int(where[np.argmin(np.abs(points[where]))])  # the difference nearest 0
        at = points[i]
        fired = [name for name in _GUARDED if name in firing and firing[name][i]]
        which = " and ".join(primitive(name).guard.computes for name in fired)  # (one fires there at least)
        warnings.warn(f"srnet computes {which} (its protected primitives never fail): this activation differs "
                      f"from the formula from about {variable} = {at:.4g} ({computed[i]:.4g} where the formula is "
                      f"{reference[i]:.4g}); pass protected=True to accept the engine's protected semantics",
                      UserWarning, stacklevel=3)


#: Singular points named by the warning of :func:`warn_of_poles`, nearest 0 first (1/cos(x/4) has hundreds).
_SHOWN_POLES = 4


def warn_of_poles(activation: ExpressionActivation) -> None:
    """Warn of poles beyond the range the constructor checked: 1/x was refused while 1/(x - 7) and
    x/(x**2 - 36) built silently, as if poles were caught everywhere, and a hidden layer's pre-activations often
    pass 5."""
    poles = poles_beyond(activation.program, activation.check_range)
    if not poles:
        return
    places = [f"x = {at:.6g}" for at, _ in poles[:_SHOWN_POLES]]
    more = len(poles) - len(places)
    if more:
        places.append(f"{more} more up to |x| = {POLE_REACH:g}")
    shown_places = " and ".join([", ".join(places[:-1]), places[-1]] if len(places) > 1 else places)
    arguments = " and ".join(dict.fromkeys(
        f"the {argument} reaches " + ("an odd multiple of pi/2" if argument == "argument of tan" else "0")
        for _, argument in poles))
    low, high = activation.check_range
    # "singular", not "a pole": the guarded step blows up there, g itself may stay bounded (tanh(1/(x - 7)))
    warnings.warn(f"g(x) = {activation.formula} is singular at {shown_places} "
                  f"({arguments} there), beyond the range [{low:g}, {high:g}] it was checked on: keep "
                  f"pre-activations inside that range (normalise the layer's inputs) or choose a formula without "
                  f"singular points", UserWarning, stacklevel=3)


def _guards_firing(program: Program, points: np.ndarray) -> dict[str, np.ndarray]:
    """Per protected primitive of the program (its guard in the primitive table), where at ``points`` its
    protection fires: (n,) bool, any of its steps."""
    with np.errstate(all="ignore"):
        values = program.values(np.asarray(points, dtype=np.float64)[:, None])
    firing: dict[str, np.ndarray] = {}
    for name, a, b in program.steps:
        if (guard := primitive(name).guard) is not None:
            fires = np.asarray(guard.fires(values[(a, b)[guard.operand]]), dtype=bool).reshape(-1)
            firing[name] = firing[name] | fires if name in firing else fires
    return firing


def _plain_values(expr: sympy.Expr, variable: sympy.Symbol, points: np.ndarray) -> np.ndarray:
    return values_at(expr, {variable.name: points}, len(points))


def _precise_values(expr: sympy.Expr, variable: sympy.Symbol, points: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The formula's values at ``points`` computed to :data:`_PRECISE_DIGITS` digits (NaN where it is undefined),
    as far as :data:`_PRECISE_SECONDS` allow; ``values`` (float64's) elsewhere."""
    out = np.array(values, dtype=np.float64)
    with time_limit(_PRECISE_SECONDS):
        for i, point in enumerate(points):
            value = expr.xreplace({variable: sympy.Rational(float(point))}).evalf(_PRECISE_DIGITS)
            out[i] = float(value) if value.is_extended_real and value.is_finite else math.nan
    return out


def _limits(expr: sympy.Expr, variable: sympy.Symbol, points: np.ndarray) -> np.ndarray:
    """The value the formula tends to at each point, where it settles from both sides (NaN elsewhere: a pole,
    log|x| at 0), read :data:`_LIMIT_STEPS` away, else :data:`_CLOSER_LIMIT_STEPS` away."""
    limits = _limits_at(expr, variable, points, _LIMIT_STEPS)
    unsettled = np.isnan(limits)
    if unsettled.any():
        limits[unsettled] = _limits_at(expr, variable, points[unsettled], _CLOSER_LIMIT_STEPS)
    return limits


def _limits_at(expr: sympy.Expr, variable: sympy.Symbol, points: np.ndarray, steps) -> np.ndarray:
    """:func:`_limits` read ``steps`` (near, far) away from each point."""
    near, far = (np.maximum(1.0, np.abs(points)) * step for step in steps)
    left, right = _plain_values(expr, variable, points - near), _plain_values(expr, variable, points + near)
    settled = np.ones(len(points), dtype=bool)
    for side, sign in ((left, -1), (right, 1)):
        farther = _plain_values(expr, variable, points + sign * far)
        settled &= np.isfinite(side) & (np.abs(side - farther) <= 1e-2 * np.maximum(1.0, np.abs(side)))
    settled &= np.abs(left - right) <= 1e-2 * np.maximum(1.0, np.abs(left))
    return np.where(settled, 0.5 * (left + right), np.nan)


def _check_layout(x: torch.Tensor) -> None:
    """One line for a sparse (or strided nested) tensor, which neither path computes on (the fused one failed
    with "unsupported memory format option Contiguous", the walk somewhere inside a step)."""
    if (x.layout not in (torch.strided, torch.jagged)) or (x.is_nested and x.layout == torch.strided):
        kind = "a nested tensor of layout torch.strided" if x.is_nested else f"a tensor of layout {x.layout}"
        raise TypeError(f"ExpressionActivation needs a dense tensor, got {kind}; convert it first (e.g. "
                        f"x.to_dense(), or a nested tensor of layout torch.jagged)")


def _plain(x: torch.Tensor) -> bool:
    """A tensor the fused kernels can read: not a subclass (FakeTensor, a nested tensor) nor under a dispatch
    mode (make_fx, FakeTensorMode), where the kernels' raw memory would be empty or refused."""
    return (type(x) in (torch.Tensor, nn.Parameter) and not torch.overrides.has_torch_function((x,))
            and torch._C._len_torch_dispatch_stack() == 0)


def _dual(x: torch.Tensor) -> bool:
    """Whether ``x`` carries a forward-mode tangent (torch.autograd.forward_ad),
    which the fused kernels' autograd function would drop."""
    from torch.autograd import forward_ad

    return forward_ad.unpack_dual(x).tangent is not None


def _exporting() -> bool:
    """Under torch.export, whose strict mode refuses the checkpoint's tags."""
    check = getattr(torch.compiler, "is_exporting", None)
    return bool(check()) if check is not None else False


def _compiling() -> bool:
    check = getattr(torch.compiler, "is_compiling", None)  # torch >= 2.3
    return bool(check()) if check is not None else False


def _check_range_from_json(value) -> tuple[float, float] | None:
    """``check_range`` as :meth:`ExpressionActivation.to_dict` writes it: null
    or [low, high], two numbers (checked as Program.from_dict checks numbers:
    nothing coerced, a one-line "malformed srnet activation" otherwise)."""
    if value is None:
        return None
    pair = as_sequence(value, "check_range", "activation")
    if len(pair) != 2:
        raise malformed(f"check_range must be [low, high], got {shown(value)}", "activation")
    low, high = (as_real(v, f"check_range's {end}", "activation") for end, v in zip(("low", "high"), pair))
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise malformed(f"check_range must be two finite numbers low < high, got {shown(value)}", "activation")
    return low, high


def _label_from_json(value) -> str | None:
    """``label``: null or a string (what the activation is called in tables and plots)."""
    if value is not None and not isinstance(value, str):
        raise malformed(f"label must be a string or null, got {shown(value)}", "activation")
    return value


#: Where an activation file whose check_range is null is still checked for finite values (in float64 and
#: float32): a hostile 1e308*sin(x) is inf there, and a formula saved unchecked on purpose is finite near 0.
NULL_RANGE_CHECK = (-1.0, 1.0)


def _check_file_program(program: Program, check_range) -> None:
    """What an activation file may hold, checked on saving and on loading: at most :data:`MAX_FILE_SIZE` steps,
    constants and outputs (its check holds 16,003 values per entry: a 52 KB file took 800 MB), and finite values
    on :data:`NULL_RANGE_CHECK` when it asks for no range check (it is still no file's to switch off finiteness)."""
    size = len(program.steps) + len(program.constants) + len(program.outputs)
    if size > MAX_FILE_SIZE:
        raise malformed(f"the program has {size} steps, constants and outputs; an activation file holds at most "
                        f"{MAX_FILE_SIZE}", "activation")
    if check_range is None:
        check_finite_activation(program, NULL_RANGE_CHECK)

#: Inputs computed in float32 and rounded back, as torch computes its own activations of half-precision
#: tensors: in float16, exp's cap of 80 is no cap (65504 is reached at x ~ 11: softplus(12) was inf and
#: mish's gradient NaN), and in bfloat16 the formula's constants lose their digits (8.955 -> 8.9375).
_HALF_DTYPES = (torch.float16, torch.bfloat16)

#: Steps, constants and outputs of an activation read from a file (found ones have tens; the check evaluates each
#: on 16,003 points, so a small hostile file could ask for gigabytes).
MAX_FILE_SIZE = 2000

_AFFINE_DTYPES = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16,
                  "bfloat16": torch.bfloat16}


def _affine_from_json(value) -> dict | bool:
    """``affine`` as :meth:`ExpressionActivation.to_dict` writes it: null (no
    affine wrapper) or an object of the numbers a, b, c, d."""
    if value is None:
        return False
    if not isinstance(value, dict) or set(value) != set(_AFFINE):
        raise malformed(f"affine must be null or an object of the numbers a, b, c, d, got {shown(value)}",
                         "activation")
    return {name: as_real(value[name], f"affine parameter {name}", "activation") for name in _AFFINE}


def affine_values(affine) -> dict | None:
    if affine is False or affine is None:
        return None
    if affine is True:
        return dict(_AFFINE_INIT)
    if not isinstance(affine, Mapping):
        raise TypeError(f"affine must be a bool or a mapping of a, b, c, d; got {type(affine).__name__}")
    if set(affine) != set(_AFFINE):
        raise ValueError(f"affine values need exactly the keys a, b, c, d; got {sorted(affine)}")
    values = {}
    for name in _AFFINE:
        try:
            values[name] = float(affine[name])
        except (TypeError, ValueError):
            raise ValueError(f"affine parameter {name} must be a number, got {affine[name]!r}") from None
        if not math.isfinite(values[name]):
            raise ValueError(f"affine parameter {name} is not finite ({values[name]})")
        with np.errstate(over="ignore"):  # (in NumPy: under torch.device("meta"), a tensor's .item() fails)
            in_float32 = float(np.float32(values[name]))
        if not math.isfinite(in_float32):  # the parameters' dtype
            raise ValueError(f"affine parameter {name} = {values[name]:g} is beyond float32 (the parameters' dtype)")
    return values


__all__ = ["ExpressionActivation"]
