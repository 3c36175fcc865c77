"""Explain one MLP block of a transformer and put the formula in its place.

The SymTorch recipe, with srnet's search:

1. probe the block: record its input and output at every token
   (:func:`probe_module`);
2. reduce both to a few principal directions (:func:`principal_directions`,
   PCA by SVD): the input scores are whitened, ``z = (x - m_in) C_in^T / s``,
   the output scores ``u = (y - m_out) C_out^T``;
3. explain the reduced map ``z -> u`` with :class:`srnet.SRNet`
   (``fit_activations``: the block's output scores as the one explained
   layer, so the candidates are its multi-output chromosome with a
   least-squares map, direct searches of several sizes, each refined by
   L-BFGS; the Pareto front's selected formula is used);
4. :class:`ExplainedBlock` computes ``m_out + f(z) C_out`` with the formula's
   programs in torch, and :func:`replace_module` puts it in the block's
   place;
5. optionally, :func:`distil_block` tunes every constant of that replacement
   (the formula's constants, weights and intercepts, and both sides'
   directions) so that the model with the formula in place predicts what the
   model with its block predicts, structure unchanged.  A block's principal
   directions are the ones that carry its variance, not the ones the rest of
   the model reads: a formula that matches the reduced map can still move the
   model's predictions more than the block's mean output does.

:func:`explain_block` returns a :class:`BlockExplanation` with the figures
that say where fidelity is lost: the output PCA's ceiling, the formula
against the reduced target, the replacement against the block's output, and
the best linear map of the same directions as a baseline.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch import nn

from srnet.data import check_budget, check_matrix, random_generator
from srnet.expr.symbolic import complexity, make_symbols, round_constants, simplify_all
from srnet.expr.torch_module import ProgramModule
from srnet.formulas import DISPLAY_DIGITS, Formula, linear_formula
from srnet.metrics import class_divergence, rmse_r2
from srnet.networks import in_eval_mode

# --------------------------------------------------------------------- probe

@torch.no_grad()
def probe_module(model: nn.Module, module: nn.Module, inputs: torch.Tensor, *, batch_size: int = 64,
                 max_rows: int | None = None, random_state: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The input and output of ``module`` (a submodule of ``model``) at
    every position, as float64 rows ``(n, width_in)`` and ``(n, width_out)``,
    while ``model`` runs on ``inputs`` in batches; ``max_rows`` keeps a
    seeded random subset of the rows.  The model's training flags are restored afterwards."""
    batch_size = check_budget("batch_size", batch_size, integer=True)
    max_rows = check_budget("max_rows", max_rows, allow_none=True, integer=True)  # -1 was numpy's error, 2.5 two
    recorded_in, recorded_out = [], []

    def record(_module, args, output):
        recorded_in.append(args[0].detach().reshape(-1, args[0].shape[-1]).double().cpu())
        recorded_out.append(output.detach().reshape(-1, output.shape[-1]).double().cpu())

    device = next(model.parameters()).device
    handle = module.register_forward_hook(record)
    try:  # the caller's model is left in the mode it came in (it stayed in eval mode)
        with in_eval_mode(model), torch.no_grad():
            for first in range(0, inputs.shape[0], batch_size):
                model(inputs[first : first + batch_size].to(device))
    finally:
        handle.remove()
    if not recorded_in:
        raise ValueError("the module was not called: is it a submodule of the model, and are there inputs?")
    X, Y = torch.cat(recorded_in).numpy(), torch.cat(recorded_out).numpy()
    if max_rows is not None and X.shape[0] > max_rows:
        rows = np.sort(random_generator(random_state).choice(X.shape[0], int(max_rows), replace=False))
        X, Y = X[rows], Y[rows]
    return X, Y


# ----------------------------------------------------------------------- PCA

def _transform(X, mean, components, scale):
    """Scores of rows: the one formula of :meth:`Reduction.transform`, for NumPy arrays and torch tensors."""
    return (X - mean) @ components.T / scale


def _inverse(Z, mean, components, scale):
    """Rows of scores: the one formula of :meth:`Reduction.inverse`, for NumPy arrays and torch tensors."""
    return mean + (Z * scale) @ components


@dataclass(frozen=True)
class Reduction:
    """The top principal directions of some rows.

    ``transform(X) = (X - mean) @ components.T / scale``; ``inverse`` maps
    scores back.  ``scale`` is the score's standard deviation (whitened) or
    ones; ``explained`` is the share of the total variance each direction holds;
    ``bounds`` (n_components, 2), the scores' least and greatest on the rows the
    directions came from (None: unknown), where :class:`ExplainedBlock` holds a
    formula's inputs (a distilled block keeps its formula's, as first reduced).
    """

    mean: np.ndarray
    components: np.ndarray
    scale: np.ndarray
    explained: np.ndarray
    bounds: np.ndarray | None = None

    @property
    def n_components(self) -> int:
        return self.components.shape[0]

    def transform(self, X) -> np.ndarray:
        return _transform(np.asarray(X, dtype=np.float64), self.mean, self.components, self.scale)

    def inverse(self, Z) -> np.ndarray:
        return _inverse(np.asarray(Z, dtype=np.float64), self.mean, self.components, self.scale)

    def module(self, *, trainable: bool = False) -> ReductionModule:
        """The same reduction in torch (buffers, or parameters, that follow the model's device)."""
        return ReductionModule(self, trainable=trainable)


#: How far past its rows' extremes a score is held (times 1 + |bound|): a few float32 steps.
BOUNDS_MARGIN = 1e-5


class ReductionModule(nn.Module):
    """A :class:`Reduction` in torch: the same :meth:`transform` and
    :meth:`inverse` on tensors of any leading shape, in the input's dtype.

    With ``trainable=True`` the mean and the directions are parameters (for
    :func:`distil_block`); otherwise buffers.  :meth:`to_reduction` reads them back.
    """

    def __init__(self, reduction: Reduction, *, trainable: bool = False):
        super().__init__()
        self.explained = np.asarray(reduction.explained)
        for name in ("mean", "components", "scale"):
            value = torch.as_tensor(np.asarray(getattr(reduction, name)), dtype=torch.float32)
            if trainable and name != "scale":
                setattr(self, name, nn.Parameter(value))
            else:
                self.register_buffer(name, value)
        self.bounds = None if reduction.bounds is None else np.asarray(reduction.bounds, dtype=np.float64)

    def to_reduction(self) -> Reduction:
        """The reduction with the module's current (possibly tuned) mean and directions."""
        mean, components, scale = (getattr(self, name).detach().double().cpu().numpy()
                                   for name in ("mean", "components", "scale"))
        return Reduction(mean, components, scale, self.explained, self.bounds)

    def within_bounds(self, z: torch.Tensor) -> torch.Tensor:
        """Scores ``z`` (..., n_components) held within :attr:`Reduction.bounds` (unchanged without them)."""
        if self.bounds is None:
            return z
        # a little wider than the rows' extremes, so that no row of the fit is moved by its float32 rounding
        margin = BOUNDS_MARGIN * (1.0 + np.abs(self.bounds))
        low, high = (torch.as_tensor(self.bounds[:, k] + side * margin[:, k], dtype=z.dtype, device=z.device)
                     for k, side in ((0, -1.0), (1, 1.0)))
        return torch.maximum(torch.minimum(z, high), low)

    def _buffers_as(self, x: torch.Tensor):
        return tuple(b.to(x.dtype) for b in (self.mean, self.components, self.scale))

    def transform(self, x: torch.Tensor) -> torch.Tensor:
        return _transform(x, *self._buffers_as(x))

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        return _inverse(z, *self._buffers_as(z))

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` seen through the directions: ``inverse(transform(x))``."""
        return self.inverse(self.transform(x))


def principal_directions(X, n_components: int, *, whiten: bool = False, name: str = "n_components") -> Reduction:
    """PCA of the rows of X by SVD: the ``n_components`` directions of largest variance (``name``: the
    caller's name for that number, as its messages say it)."""
    X = check_matrix(X, "X")
    n_components = check_budget(name, n_components, integer=True)
    if n_components > min(X.shape):
        raise ValueError(f"{name} = {n_components} exceeds min(rows, columns) = {min(X.shape)}")
    mean = X.mean(axis=0)
    _, singular, vt = np.linalg.svd(X - mean, full_matrices=False)
    variance = singular**2 / max(1, X.shape[0] - 1)
    total = variance.sum()
    components = vt[:n_components]
    # a deterministic sign: each direction's largest coordinate is positive
    signs = np.sign(components[np.arange(n_components), np.abs(components).argmax(axis=1)])
    components = components * np.where(signs == 0, 1.0, signs)[:, None]
    scale = np.sqrt(variance[:n_components]) if whiten else np.ones(n_components)
    scale = np.where(scale > 0, scale, 1.0)
    explained = variance[:n_components] / total if total > 0 else np.zeros(n_components)
    scores = _transform(X, mean, components, scale)
    return Reduction(mean, components, scale, explained, np.column_stack([scores.min(axis=0), scores.max(axis=0)]))


# -------------------------------------------------------------------- module

class ExplainedBlock(nn.Module):
    """``x -> out.inverse(f(in.transform(x)))``: a formula ``f`` of a few
    principal input scores, lifted back to the block's width.  Each score is
    held within the range it had on the rows the formula was fitted on
    (:attr:`Reduction.bounds`): a formula is unknown beyond them (a pole at
    z0 = -1.98, just past the rows' -1.73, sent 30 of 1200 new rows to 35
    where the block gives at most 4.6).

    Works on any leading shape ``(..., width_in)``; the formula runs in the
    input's dtype through the programs' torch forms (no generated code).
    With ``trainable=True`` every constant (the programs' constants, weights
    and intercepts, both reductions' means and directions) is a parameter that
    requires a gradient; otherwise none does.  :meth:`frozen` reads the
    current constants back into a plain block.
    """

    def __init__(self, reduction_in: Reduction, reduction_out: Reduction, formula: Formula, *,
                 trainable: bool = False):
        super().__init__()
        self.reduction_in = reduction_in.module(trainable=trainable)
        self.reduction_out = reduction_out.module(trainable=trainable)
        self.programs = nn.ModuleList(ProgramModule(p, dtype=torch.float32, trainable_constants=trainable)
                                      for p in formula.programs)
        for parameter in self.programs.parameters():
            parameter.requires_grad_(trainable)
        self.formula = formula

    def frozen(self, source: str | None = None) -> ExplainedBlock:
        """A non-trainable block with this block's current constants (``source`` renames its formula)."""
        formula = Formula(source or self.formula.source, tuple(p.to_program() for p in self.programs))
        block = ExplainedBlock(self.reduction_in.to_reduction(), self.reduction_out.to_reduction(), formula)
        return block.to(next(self.programs.parameters()).device)

    def reduced(self, z: torch.Tensor) -> torch.Tensor:
        """The formula on scores ``(n, n_in)`` -> ``(n, n_out)``, each held within its bounds."""
        z = self.reduction_in.within_bounds(z)
        for program in self.programs:
            z = program(z)
        return z

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = x.shape
        y = self.reduction_out.inverse(self.reduced(self.reduction_in.transform(x.reshape(-1, shape[-1]))))
        return y.reshape(*shape[:-1], y.shape[-1])


class ProjectedBlock(nn.Module):
    """The true block seen through principal directions: its input projected
    onto ``reduction_in``'s directions, its output onto ``reduction_out``'s
    (``out.project(block(in.project(x)))``): the most any formula of those
    directions can reach."""

    def __init__(self, block: nn.Module, reduction_in: Reduction, reduction_out: Reduction):
        super().__init__()
        self.block = block
        self.reduction_in, self.reduction_out = reduction_in.module(), reduction_out.module()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.reduction_out.project(self.block(self.reduction_in.project(x)))


class AffineBlock(nn.Module):
    """``x -> b + x A``: a block replaced by a linear map (or a constant, A = 0)."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray):
        super().__init__()
        self.register_buffer("weight", torch.as_tensor(np.asarray(weight), dtype=torch.float32))
        self.register_buffer("bias", torch.as_tensor(np.asarray(bias), dtype=torch.float32))

    def forward(self, x):
        return self.bias.to(x.dtype) + x @ self.weight.to(x.dtype)


def replace_module(model: nn.Module, name: str, module: nn.Module) -> nn.Module:
    """A deep copy of ``model`` whose submodule ``name`` (e.g. ``"blocks.1.mlp"``) is ``module``; ``model`` itself
    is left as it was: use the returned copy."""
    names = dict(model.named_modules())
    if name not in names or not name:
        raise ValueError(f"the model has no submodule '{name}'")
    copied = copy.deepcopy(model)
    parent_name, _, child = name.rpartition(".")
    parent = copied.get_submodule(parent_name) if parent_name else copied
    device = next(model.parameters()).device
    setattr(parent, child, module.to(device))
    return copied


# ---------------------------------------------------------------- explaining

@dataclass
class BlockExplanation:
    """What :func:`explain_block` found and measured (on the probe rows).

    Attributes
    ----------
    module : ExplainedBlock
        The formula in the block's form: ``replace_module(model, name, module)``
        returns a copy of the model with it in place (the model is left as it was).
    formulas : list of str
        The selected formula of each output score ``u_j``, in ``z0, z1, ...``.
    r2_block : float
        The replacement against the block's output (all ``width`` columns).
    r2_reduced : float
        The formula against the output scores ``u``.
    r2_ceiling : float
        The output's own projection onto its directions against the output:
        the most any function of the scores can reach.
    r2_linear : float
        The best affine map of the same input scores, lifted the same way
        (a baseline for ``r2_block``).
    linear : ExplainedBlock
        That linear replacement (srnet's linear formula of the same scores).
    mean : AffineBlock
        The block replaced by its mean output.
    explained_in, explained_out : list of float
        Variance share of each kept direction.
    complexity : int
        Nodes of the selected formula (simplified).
    pareto : list of dict
        SRNet's Pareto front.
    seconds : float
    """

    module: ExplainedBlock
    formulas: list
    r2_block: float
    r2_reduced: float
    r2_ceiling: float
    r2_linear: float
    linear: ExplainedBlock
    mean: AffineBlock
    explained_in: list
    explained_out: list
    complexity: int
    pareto: list = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {"formulas": self.formulas, "r2_block": self.r2_block, "r2_reduced": self.r2_reduced,
                "r2_ceiling": self.r2_ceiling, "r2_linear": self.r2_linear, "explained_in": self.explained_in,
                "explained_out": self.explained_out, "complexity": self.complexity,
                "source": self.module.formula.source, "formula": self.module.formula.to_dict(),
                "pareto": [{"source": entry["source"], "complexity": entry["complexity"],
                            "r2": entry["figures"]["rows"]["r2"], "expression": entry["expression"]}
                           for entry in self.pareto],
                "seconds": self.seconds}


def explain_block(inputs, outputs, *, n_inputs: int = 4, n_outputs: int = 4, max_seconds: float = 60.0,
                  max_samples: int = 2000, n_features: int = 4, random_state: int = 0, n_threads=None,
                  **srnet_params) -> BlockExplanation:
    """Explain a block from its probed rows (:func:`probe_module`).

    Parameters
    ----------
    inputs, outputs : arrays (n, width_in), (n, width_out)
    n_inputs, n_outputs : int, default=4
        Principal directions kept on each side.
    max_seconds, max_samples, random_state, n_threads
        SRNet's budget, search rows, seed and threads.
    n_features : int, default=4
        Outputs of the explaining chromosome (SRNet's ``n_outputs``).
    srnet_params
        Other :class:`srnet.SRNet` parameters; ``select`` defaults to
        ``"accurate"`` here (the formula replaces the block: fidelity first).
    """
    from srnet.extract import SRNet, without_loose_warning

    started = time.perf_counter()
    X, Y = check_matrix(inputs, "inputs"), check_matrix(outputs, "outputs")
    if X.shape[0] != Y.shape[0]:
        raise ValueError(f"inputs have {X.shape[0]} rows but outputs have {Y.shape[0]}")
    reduction_in = principal_directions(X, n_inputs, whiten=True, name="n_inputs")  # (the user's names)
    reduction_out = principal_directions(Y, n_outputs, name="n_outputs")
    Z, U = reduction_in.transform(X), reduction_out.transform(Y)
    # the formula goes in the model's place, where fidelity is the point: the most accurate formula of the
    # front unless the caller asks otherwise ("best" would trade a 0.75 R^2 chain for a readable 0.45 one)
    srnet_params = {"select": "accurate", **srnet_params}
    model = SRNet(n_outputs=n_features, max_seconds=max_seconds, max_samples=max_samples, random_state=random_state,
                  n_threads=n_threads, **srnet_params)
    with without_loose_warning():  # (the block's replacement is measured by its R^2 and the perplexity)
        model.fit_activations(Z, [U], feature_names=[f"z{j}" for j in range(n_inputs)])
    module = ExplainedBlock(reduction_in, reduction_out, model.formula_)
    with torch.no_grad():
        replaced = module(torch.as_tensor(X, dtype=torch.float32)).double().numpy()
    # the best affine map of the same scores (srnet's linear formula), lifted the same way, for comparison
    linear = ExplainedBlock(reduction_in, reduction_out, linear_formula(Z, U))
    with torch.no_grad():
        linear_rows = linear(torch.as_tensor(X, dtype=torch.float32)).double().numpy()
    mean = AffineBlock(np.zeros((X.shape[1], Y.shape[1])), Y.mean(axis=0))
    expressions = model.expression_ if isinstance(model.expression_, list) else [model.expression_]
    return BlockExplanation(
        module=module,
        formulas=list(model.selected_["expression"]) if model.selected_ else [str(e) for e in expressions],
        r2_block=rmse_r2(Y, replaced)[1],
        r2_reduced=rmse_r2(U, model.formula_(Z))[1],
        r2_ceiling=rmse_r2(Y, reduction_out.inverse(U))[1],
        r2_linear=rmse_r2(Y, linear_rows)[1],
        linear=linear, mean=mean,
        explained_in=[float(v) for v in reduction_in.explained],
        explained_out=[float(v) for v in reduction_out.explained],
        complexity=int(model.selected_["complexity"]) if model.selected_ else -1,
        pareto=list(model.pareto_),
        seconds=time.perf_counter() - started)


# -------------------------------------------------------------- distilling

@dataclass
class Distillation:
    """What :func:`distil_block` did.

    Attributes
    ----------
    module : ExplainedBlock
        The tuned replacement, or the given one unchanged when tuning did not
        lower the validation divergence (``kept`` False).
    kl_before, kl_after : float
        Mean divergence per token (nats) of the model with the replacement
        from the model with its block, on the validation windows, before and
        after tuning (the tuned figure, whether kept or not).
    formulas : list of str
        The tuned formula of each output score, constants rounded for reading.
    complexity : int
        Its nodes (simplified).
    steps, seconds : int, float
    """

    module: ExplainedBlock
    kept: bool
    kl_before: float
    kl_after: float
    formulas: list
    complexity: int
    steps: int
    seconds: float

    def to_dict(self) -> dict:
        return {"kept": self.kept, "kl_before": self.kl_before, "kl_after": self.kl_after,
                "formulas": self.formulas, "complexity": self.complexity, "steps": self.steps,
                "seconds": self.seconds, "source": self.module.formula.source,
                "formula": self.module.formula.to_dict(),
                "reduction_in": _reduction_dict(self.module.reduction_in.to_reduction()),
                "reduction_out": _reduction_dict(self.module.reduction_out.to_reduction())}


def _reduction_dict(reduction: Reduction) -> dict:
    bounds = None if reduction.bounds is None else np.asarray(reduction.bounds).tolist()
    return {**{name: np.asarray(getattr(reduction, name)).tolist() for name in ("mean", "components", "scale")},
            "bounds": bounds}


@torch.no_grad()
def _mean_divergence(model: nn.Module, replaced: nn.Module, windows: torch.Tensor, batch_size: int) -> float:
    device = next(model.parameters()).device
    total, count = 0.0, 0
    for first in range(0, windows.shape[0], batch_size):
        x = windows[first : first + batch_size].to(device)
        total += float(class_divergence(model(x), replaced(x))) * x.shape[0]
        count += x.shape[0]
    return total / count


def _display(formula: Formula, simplify_seconds: float) -> tuple[list, int]:
    """The formula's outputs as a person reads them (simplified, constants rounded) and their nodes."""
    symbols = make_symbols(formula.programs[0].n_inputs, [f"z{j}" for j in range(formula.programs[0].n_inputs)])
    expressions = simplify_all(formula.expressions(symbols), simplify_seconds)
    return ([str(round_constants(e, DISPLAY_DIGITS)) for e in expressions],
            sum(complexity(e) for e in expressions))


def distil_block(model: nn.Module, name: str, block: ExplainedBlock, inputs: torch.Tensor,
                 validation: torch.Tensor, *, steps: int = 2000, lr: float = 3e-3, batch_size: int = 32,
                 max_seconds: float | None = None, random_state: int = 0,
                 simplify_seconds: float = 5.0) -> Distillation:
    """Tune every constant of ``block`` in ``model``'s submodule ``name`` so
    that the model with ``block`` in place predicts what the model predicts.

    The model's outputs are read as logits over their last dimension (a
    language model's next-token scores); the loss is the divergence
    KL(model || model with ``block``) per position on batches of the windows
    ``inputs``, minimised by Adam.  Tuned: the formula's constants, weights
    and intercepts and both sides' means and directions; the formula's
    structure is unchanged.  Kept only if the divergence on ``validation``
    (windows not trained on) falls; ``model`` is left untouched.

    Why: the block's principal directions carry its variance, but the rest of
    the model may read other ones; matching the model's predictions instead of
    the block's output puts the formula's few directions where they matter.
    """
    steps = check_budget("steps", steps, integer=True)
    lr = check_budget("lr", lr)
    batch_size = check_budget("batch_size", batch_size, integer=True)
    random_state = check_budget("random_state", random_state, integer=True, positive=False)  # 1.5: torch's error
    if max_seconds is not None:
        max_seconds = check_budget("max_seconds", max_seconds)
    if inputs.shape[0] == 0 or validation.shape[0] == 0:
        raise ValueError("distil_block needs training and validation windows, got none")
    started = time.perf_counter()
    # tuned unbounded (a row held at a bound has no gradient through its score), bounded again once frozen below
    student = ExplainedBlock(replace(block.reduction_in.to_reduction(), bounds=None),
                             block.reduction_out.to_reduction(), block.formula, trainable=True)
    replaced = replace_module(model, name, student)
    for parameter in replaced.parameters():
        parameter.requires_grad_(False)
    tuned = [p for p in student.parameters()]
    for parameter in tuned:
        parameter.requires_grad_(True)
    with in_eval_mode(model):  # the caller's model is left in the mode it came in (it stayed in eval mode)
        replaced.eval()
        before = _mean_divergence(model, replace_module(model, name, block), validation, batch_size)
        optimizer = torch.optim.Adam(tuned, lr=lr)
        generator = torch.Generator().manual_seed(random_state)
        device = next(model.parameters()).device
        done = 0  # steps taken (a first loss that is not finite takes none: 1 was reported)
        for _ in range(steps):
            rows = torch.randint(0, inputs.shape[0], (batch_size,), generator=generator)
            x = inputs[rows].to(device)
            with torch.no_grad():
                teacher = model(x)
            loss = class_divergence(teacher, replaced(x))
            if not torch.isfinite(loss):
                break
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            done += 1
            if max_seconds is not None and time.perf_counter() - started >= max_seconds:
                break
        tuned_block = student.frozen(f"{block.formula.source}+distilled")
        tuned_block.reduction_in.bounds = block.reduction_in.bounds  # (the formula's rows, as first reduced)
        after = _mean_divergence(model, replace_module(model, name, tuned_block), validation, batch_size)
    after = after if math.isfinite(after) else math.inf  # a diverged tuning
    kept = after < before
    module = tuned_block if kept else block
    formulas, size = _display(module.formula, simplify_seconds)
    return Distillation(module, kept, before, after, formulas, size, done,
                        time.perf_counter() - started)


__all__ = ["AffineBlock", "BlockExplanation", "Distillation", "ExplainedBlock", "ProjectedBlock", "Reduction",
           "ReductionModule", "distil_block", "explain_block", "principal_directions", "probe_module",
           "replace_module"]
