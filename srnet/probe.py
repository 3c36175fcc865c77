"""Record what each layer of a trained network computes.

:func:`probe` runs ``X`` through a network in batches and returns the output
of each chosen layer as a float64 matrix; those matrices are what the
symbolic regression explains, layer by layer.

Which layers, by default (:func:`plan_layers`)
----------------------------------------------
The network's *chain* is its leaf modules (those without children), in
the order ``forward`` first runs them, read from one forward pass with hooks
(Linears declared before their activations, or kept in two ModuleLists, run
interleaved); a leaf ``forward`` never runs (a spare head) is no part of it.
TorchScript modules take no hooks: theirs is the registration order (that of
``nn.Sequential``, nested or not, and of the SRNet paper's networks).  Each
leaf is an ``nn.Linear``, a softmax, an *affine* module found by trying it
on a few inputs (a standardisation, a scaling, ``nn.Identity``,
``nn.Dropout`` or ``nn.BatchNorm1d`` in eval mode, any other affine map),
or a nonlinearity.  Affine modules belong to the neighbouring linear map:
they never make a layer of their own, so the first
explained layer's inputs are the raw features.  A nonlinearity's output is
recorded when a linear map (an ``nn.Linear`` or a non-element-wise affine
map) follows before the next nonlinearity, and the last leaf's output is
recorded as the network output.  Each recorded layer is named by the widest
module path that holds only that layer's modules and ends where it ends:

* ``Sequential(Linear, Sigmoid, Linear, Sigmoid, Linear)`` records the two
  ``Sigmoid`` outputs and the last ``Linear``: ``["1", "3", "4"]``;
* the paper's ``fc1 = Sequential(Linear, Sigmoid)``, ``fc2 = ...``,
  ``fc3 = Linear`` records ``["fc1", "fc2", "fc3"]``;
* ``body = Sequential(Linear, Tanh, Linear, Tanh)``, ``head = Linear``
  records ``["body.1", "body.3", "head"]``;
* ``Sequential(Standardise, Linear, Tanh, Dropout, Linear)`` records
  ``["2", "4"]``: the standardisation and the dropout are folded.

The softmax rule: a classifier's probabilities are a fixed squashing of its
logits, and the logits are the part worth explaining.  When the chain ends
in ``Softmax`` or ``LogSoftmax``, the network counts as a classifier and the
output recorded is the module feeding that softmax: ``"fc3.0"`` for the
paper's ``fc3 = Sequential(Linear, Softmax)``, ``"4"`` for
``Sequential(Linear, Sigmoid, ..., Linear, Softmax)`` with the last Linear at
index 4.  Naming layers explicitly records exactly those modules.

Hooks and TorchScript
---------------------
Ordinary modules are recorded with forward hooks held by
:class:`LayerRecorder`, which removes them however the forward pass ends.
TorchScript modules take no hooks, so :func:`probe` runs their children in
order itself and checks, on the first batch, that doing so reproduces the
module's own output; asked for its output alone (a direct formula), it
records what the module's forward returns, whatever that forward does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from srnet.data import check_matrix, counted
from srnet.networks import as_network, in_eval_mode

_SOFTMAX_KINDS = ("Softmax", "LogSoftmax")
# Known nonlinearities, not tried for affinity (anything else is tried).
_NONLINEAR_KINDS = ("Sigmoid", "Tanh", "ReLU", "GELU", "SiLU", "ELU", "LeakyReLU", "Softplus", "Mish")


@dataclass(frozen=True)
class LayerPlan:
    """The layers a probe records, and what the network looks like.

    Attributes
    ----------
    names : tuple of str
        Module names (as in ``model.named_modules()``), in forward order.
    widths : tuple of int
        Output width of each recorded layer, from the Linear layers' shapes.
    n_features : int
        Input width of the first Linear layer.
    is_classifier : bool
        Whether the explained output is a classifier's logits: the network
        ends in a softmax (see the module docstring) and the last explained
        layer is the one feeding it.  Explaining a classifier only up to a
        hidden layer explains hidden units, not class scores.
    output : str
        The layer explained as the network output: the last module, or for a
        classifier the module feeding its softmax (the logits).
    folded : tuple of str
        Affine modules other than ``nn.Linear`` (standardisations, Identity,
        Dropout, BatchNorm in eval mode, ...): part of the neighbouring
        linear map, so never a layer of their own by default.
    """

    names: tuple[str, ...]
    widths: tuple[int, ...]
    n_features: int
    is_classifier: bool
    output: str
    folded: tuple[str, ...] = ()
    #: per recorded layer, the leaf module run right after it (None after the last leaf): the module
    #: that must run on the layer's output when the layers feed one another (no skip connection)
    fed: tuple[str | None, ...] = ()
    #: per recorded layer but the last, the modules that compute the next recorded layer from its output: the
    #: leaves run between them, then the next layer's module (checked on a first batch to reproduce it)
    steps: tuple[tuple[str, ...], ...] = ()
    #: the Linear modules forward runs (one layer among several of them: no activation module between)
    linears: int = 0

    def __str__(self) -> str:
        kind = "classifier (softmax skipped; logits explained)" if self.is_classifier else "network"
        lines = [f"{kind} with {self.n_features} inputs"]
        for name, width in zip(self.names, self.widths):
            role = ("logits" if self.is_classifier else "output") if name == self.output else "hidden"
            lines.append(f"  {name:<16} width {width:<5} {role}")
        if self.folded:
            lines.append(f"  folded into the neighbouring linear maps: {', '.join(self.folded)}")
        return "\n".join(lines)


def plan_layers(model: nn.Module, layers=None) -> LayerPlan:
    """Decide which layers :func:`probe` records, with their widths.

    Parameters
    ----------
    model : nn.Module or fitted scikit-learn MLP
        An MLP built from ``nn.Linear`` layers (TorchScript allowed); see
        :func:`srnet.networks.as_network` for the other objects accepted.
    layers : sequence of str, optional
        Module names from ``model.named_modules()``; default: the hidden
        blocks and the output, as the module docstring describes.

    Returns
    -------
    LayerPlan

    Raises
    ------
    ValueError
        For an unknown layer name (listing the valid ones), or a model without
        Linear layers or submodules.
    TypeError
        For an object that is not a network (naming what is accepted).
    """
    model = as_network(model)
    modules = [(name, module) for name, module in model.named_modules() if name]
    n_features, ordered, widths = _run_order(model, _linears(model))
    leaves = _classify_leaves(model, n_features, ordered, widths)
    default, output, is_classifier = _default_layers(model, leaves)
    if is_classifier:
        _check_softmax(dict(model.named_modules())[leaves[-1].name], leaves[-1])
    if layers is None:
        names = default
    else:
        if isinstance(layers, str):
            layers = [layers]
        try:  # a NumPy array or a pandas Index of names too (their truth value was ambiguous in "not layers")
            layers = [str(name) if isinstance(name, str) else name for name in layers]
        except TypeError:
            raise ValueError(f"layers must be a module name or a list of them (strings such as "
                             f"{modules[0][0] if modules else '0'!r}); got {layers!r}") from None
        if not layers:
            raise ValueError("layers is empty; name at least one module, or pass None for the defaults")
        known = [name for name, _ in modules]
        for name in layers:
            if not isinstance(name, str):  # 0 for '0' was "unknown layer '0'; valid names: 0, 1, 2"
                raise ValueError(f"layer names are module names, strings such as {known[0]!r}; got {name!r} "
                                 f"({type(name).__name__})")
            if name not in known:
                raise ValueError(f"unknown layer '{name}'; valid names: {', '.join(known)}")
        # in the order forward gives their outputs (their last leaf's place in the chain): by their first leaf, a
        # container ran "before" its first block, and ["encoder.block1", "encoder"] was explained backwards
        last = {name: max(_inside(leaves, name), default=len(leaves) + known.index(name)) for name in set(layers)}
        names = sorted(set(layers), key=lambda name: (last[name], known.index(name)))
    return LayerPlan(
        names=tuple(names),
        widths=tuple(_output_width(leaves, name, n_features) for name in names),
        n_features=n_features,
        is_classifier=is_classifier and names[-1] == output,
        output=output,
        # (a recorded module is a layer, not folded: an Identity ending the chain is the output it records)
        folded=tuple(leaf.name for leaf in leaves if leaf.role in ("diagonal", "affine") and leaf.name not in names),
        # the last layer explained feeds none explained (a direct formula of the output: layers=[output]),
        # but a classifier's logits must be what its softmax runs on (softmax(fc(h) / T) or softmax(fc(h) +
        # prior) were explained through fc's values, 97 % agreement reported against 75 % true)
        fed=tuple(_next_leaf(leaves, name) for name in names[:-1])
        + ((leaves[-1].name,) if is_classifier and names[-1] == output else (None,)),
        steps=tuple(_steps_between(leaves, before, after) for before, after in zip(names, names[1:])),
        linears=sum(_is_linear(module) for _, module in ordered),
    )


def _inside(leaves: list[_Leaf], name: str) -> list[int]:
    """The positions in ``leaves`` of module ``name``'s leaves (itself, or those under it)."""
    return [i for i, leaf in enumerate(leaves) if leaf.name == name or leaf.name.startswith(name + ".")]


def _next_leaf(leaves: list[_Leaf], name: str) -> str | None:
    """The leaf run right after the last leaf of ``name``'s subtree (None when it is the last)."""
    inside = _inside(leaves, name)
    return leaves[inside[-1] + 1].name if inside and inside[-1] + 1 < len(leaves) else None


def _steps_between(leaves: list[_Leaf], before: str, after: str) -> tuple[str, ...]:
    """The modules that compute layer ``after`` from layer ``before``'s output when the layers feed one another:
    the leaves run between their subtrees, then ``after`` itself (a named block runs its own forward);
    () where the subtrees are not one after the other."""
    first, second = _inside(leaves, before), _inside(leaves, after)
    if not first or not second or first[-1] >= second[0]:
        return ()
    return (*(leaf.name for leaf in leaves[first[-1] + 1 : second[0]]), after)


@dataclass(frozen=True)
class _Leaf:
    """A module without children, in the order forward runs them (TorchScript's: registration order).

    ``role``: "linear" (an nn.Linear), "affine" (another affine map, such as
    a whitening matrix), "diagonal" (an element-wise affine map: Identity,
    Dropout or BatchNorm in eval mode, a standardisation, a scaling),
    "softmax", or "other" (a nonlinearity).  ``width``: its output width,
    None where unknown.
    """

    name: str
    kind: str
    role: str
    width: int | None


def _leaf_modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """(name, module) of every leaf in registration order: a module without children, or a Linear even with
    children (weight_norm and spectral_norm parametrize it with some), and nothing that lies under a Linear."""
    leaves, linears = [], []
    for name, module in model.named_modules():
        if not name or any(name.startswith(linear + ".") for linear in linears):
            continue
        if _is_linear(module):
            linears.append(name)
        elif list(module.children()):
            continue
        leaves.append((name, module))
    return leaves


def _run_order(model: nn.Module, linears: list) -> tuple[int, list[tuple[str, nn.Module]], dict[str, int]]:
    """(the network's input width, its leaves in the order forward first runs them, those it never runs left out,
    and the width of each leaf's output in that pass).

    Declared order is not run order in common code: Linears declared first and activations after, Linears and
    activations in two ModuleLists (a container named as a layer, "did not run"), a head declared before the
    body.  The order is read from one forward pass of two rows of zeros, in eval mode, tried at each Linear's
    input width (the first that runs is the network's); a network that runs at none of them, or takes no
    hooks (TorchScript), keeps the declared order and its first Linear's width, and no widths are measured.

    The widths: tried alone on rows of the width that reaches them, modules that reshape (Unflatten, a Conv1d,
    Flatten) kept the width before them: Linear(3, 6), Unflatten, Conv1d(kernel 3), Flatten, Tanh listed the
    Tanh as 6 units wide where the network gives 4.  A leaf whose output is no table (n, width) has none."""
    declared = _leaf_modules(model)
    fallback = int(linears[0].weight.shape[1]), declared, {}
    order: list[str] = []
    widths: dict[str, int | None] = {}

    def enter(name):
        def hook(module, args):
            if name not in order:
                order.append(name)
        return hook

    def leave(name):
        def hook(module, args, output):
            widths[name] = int(output.shape[1]) if isinstance(output, torch.Tensor) and output.ndim == 2 else None
        return hook

    handles = []
    try:
        for name, module in declared:
            handles += [module.register_forward_pre_hook(enter(name)), module.register_forward_hook(leave(name))]
    except (AttributeError, RuntimeError):  # TorchScript modules take no hooks
        for handle in handles:
            handle.remove()
        return fallback
    parameter = _input_parameter(model)
    try:
        for width in dict.fromkeys(int(linear.weight.shape[1]) for linear in linears):
            order.clear()
            widths.clear()
            try:
                with in_eval_mode(model), torch.no_grad():
                    model(torch.zeros(2, width, dtype=parameter.dtype, device=parameter.device))
            except Exception:  # noqa: BLE001 - not this width (probe() says why a network cannot run at all)
                continue
            ran = dict(declared)
            if not any(_is_linear(ran[name]) for name in order):  # its children's hooks do not fire (traced)
                return fallback
            return width, [(name, ran[name]) for name in order], {k: v for k, v in widths.items() if v is not None}
    finally:
        for handle in handles:
            handle.remove()
    return fallback


def _classify_leaves(model: nn.Module, n_features: int, ordered: list[tuple[str, nn.Module]],
                     widths: dict[str, int]) -> list[_Leaf]:
    """Every leaf module of ``ordered`` (in run order) with its role, found by trying it (in eval mode,
    without gradients) on a few inputs of the width that reaches it, and its output's width (``widths``: as
    measured in the network's forward pass, where it was; see :func:`_run_order`)."""
    leaves, width = [], n_features
    with in_eval_mode(model), torch.no_grad():
        for name, module in ordered:
            if _is_linear(module):
                role, width = "linear", int(module.weight.shape[0])
            elif _is_softmax(module):
                role = "softmax"
            else:
                role, out_width = _affine_role(module, width, model)
                width = out_width if out_width is not None else width
            leaves.append(_Leaf(name, _kind(module), role, widths.get(name, width)))
    return leaves


#: Most values of the unit vectors tried on a module at once (float64): its output for them all at once held
#: width**2 values, and several copies of them (24 GB for a Dropout in front of 25,000 inputs).
_BASIS_VALUES = 2**22


def _affine_role(module: nn.Module, width: int | None, model: nn.Module) -> tuple[str, int | None]:
    """("diagonal" | "affine" | "other", output width) of a non-Linear leaf.

    The module is applied to the origin, the unit vectors and random points
    (of both signs, spread over a few units); it is affine when its values at
    the random points are those of the affine map through the first ones,
    within the rounding of the network's dtype.  The unit vectors are tried a
    slice at a time (at most :data:`_BASIS_VALUES` values), so memory stays
    bounded for wide layers.
    """
    if width is None or _kind(module) in _NONLINEAR_KINDS:
        return "other", None
    parameter = _input_parameter(model)
    dtype = parameter.dtype if parameter.dtype.is_floating_point else torch.float64

    def run(points: torch.Tensor) -> torch.Tensor | None:
        try:
            values = module(points.to(parameter.device, dtype))
        except Exception:  # noqa: BLE001 - a module that cannot run alone is simply not folded
            return None
        if not isinstance(values, torch.Tensor) or values.ndim != 2 or values.shape[0] != points.shape[0]:
            return None
        return values.detach().to("cpu", torch.float64)

    generator = torch.Generator().manual_seed(0)
    random = 3 * torch.randn(8, width, generator=generator, dtype=torch.float64)
    head = run(torch.cat([torch.zeros(1, width, dtype=torch.float64), random]))
    if head is None:
        return "other", None
    n_out = head.shape[1]
    if not torch.isfinite(head).all():
        return "other", n_out
    offset = head[0]
    predicted = offset.expand(len(random), n_out).clone()
    diagonal, largest = n_out == width, float(head.abs().max())
    step = max(1, _BASIS_VALUES // max(width, n_out))
    for first in range(0, width, step):
        rows = torch.arange(min(step, width - first))
        unit = torch.zeros(len(rows), width, dtype=torch.float64)
        unit[rows, first + rows] = 1.0
        values = run(unit)
        if values is None or values.shape[1] != n_out or not torch.isfinite(values).all():
            return "other", n_out
        largest = max(largest, float(values.abs().max()))
        matrix = values - offset
        predicted += random[:, first : first + len(rows)] @ matrix
        if diagonal:
            matrix[rows, first + rows] = 0.0
            diagonal = not bool(matrix.any())
    # within the rounding of the network's dtype (bfloat16 rounds at 4e-3: a fixed 1e-4 folded nothing there)
    tolerance = (1e-9 if dtype == torch.float64 else max(1e-4, 4 * torch.finfo(dtype).eps)) * (1.0 + largest)
    if float((head[1:] - predicted).abs().max()) > tolerance:
        return "other", n_out
    return ("diagonal" if diagonal else "affine"), n_out


def _input_parameter(model: nn.Module) -> torch.Tensor:
    """The parameter whose dtype and device the inputs are given: the first Linear's weight (a learned float64
    input scale declared before float32 Linears made float64 inputs, which the Linears refused), else the
    first parameter."""
    for _, module in model.named_modules():
        if _is_linear(module):
            return module.weight
    return next(model.parameters())


def _kind(module: nn.Module) -> str:
    """The class name of a module, also for TorchScript modules."""
    if isinstance(module, torch.jit.ScriptModule):
        return module.original_name
    return type(module).__name__


#: Modules that compute otherwise in training mode (random dropping; the batch's own statistics).
_TRAINING_KINDS = ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout",
                   "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm", "InstanceNorm1d", "InstanceNorm2d",
                   "InstanceNorm3d")


def in_training_mode(model) -> list[str]:
    """The modules of ``model`` left in training mode that compute otherwise there (Dropout, BatchNorm, ...):
    srnet probes in eval mode, so its formula is the network as ``model.eval()`` runs it, not as given."""
    return [name or _kind(module) for name, module in model.named_modules()
            if module.training and _kind(module) in _TRAINING_KINDS
            and (not _kind(module).startswith("InstanceNorm") or getattr(module, "track_running_stats", False))]


def layer_labels(model, layers) -> dict[str, str]:
    """How explanations name each explained layer (module names of ``model``, as ``plan_layers`` gives them): the
    modules forward runs from the layer before (the input, for the first) through this one, with their classes.
    Module '2' of ``nn.Sequential(Linear, LayerNorm, Tanh, Linear)`` read "module '2', Tanh", which said neither
    that the layer is Linear '0' nor the LayerNorm between them; now "modules '0' to '2', Linear+LayerNorm+Tanh".
    A block read by its name, "module 'fc1', Linear+Sigmoid" (the paper's fc1 = Sequential(Linear, Sigmoid))."""
    model = as_network(model)
    _, ordered, _ = _run_order(model, _linears(model))
    leaves = [_Leaf(name, _kind(module), "", None) for name, module in ordered]
    labels, start = {}, 0
    for name in layers:
        inside = _inside(leaves, name)
        if not inside:  # a module forward never runs, or one not in the model: its name alone
            labels[name] = f"module '{name}'"
            continue
        # (a layer run before the one explained before it, past a skip connection: its own modules)
        first = start if start <= inside[0] else inside[0]
        run = leaves[first: inside[-1] + 1]
        start = inside[-1] + 1
        kinds = "+".join(leaf.kind for leaf in run[:4]) + ("+..." if len(run) > 4 else "")
        within = first == inside[0] and len(run) == len(inside)  # the run is the layer's own modules alone
        labels[name] = f"module '{name}', {kinds}" if within else f"modules '{run[0].name}' to '{name}', {kinds}"
    return labels


def _linears(model: nn.Module) -> list[nn.Module]:
    """The Linear submodules of ``model``; a ValueError where it has none (no network srnet can probe)."""
    linears = [module for name, module in model.named_modules() if name and _is_linear(module)]
    if not linears:
        raise ValueError(f"srnet probes networks built from nn.Linear layers; {_kind(model)} has none")
    return linears


def _is_linear(module: nn.Module) -> bool:
    return isinstance(module, nn.Linear) or _kind(module) == "Linear"


def _is_softmax(module: nn.Module) -> bool:
    return _kind(module) in _SOFTMAX_KINDS


def _check_softmax(module: nn.Module, leaf: _Leaf) -> None:
    """A softmax head must make class probabilities of each row: over the
    last axis, of 2 classes or more (over the batch it mixes rows, and of one
    output it is always 1: agreement 100 % whatever the formula)."""
    dim = getattr(module, "dim", None)
    if dim not in (None, -1, 1):
        raise ValueError(f"the softmax head '{leaf.name}' normalises over dim={dim}, not over each row's outputs "
                         f"(dim=-1): srnet explains classifiers whose softmax makes each row's class probabilities")
    if leaf.width == 1:
        raise ValueError(f"the softmax head '{leaf.name}' has one output, which is always 1: nothing to explain "
                         f"(a two-class network has two outputs, or one logit without softmax)")


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _default_layers(model: nn.Module, leaves: list[_Leaf]) -> tuple[list[str], str, bool]:
    """Default layer names, the output layer, and whether a softmax was skipped.

    A leaf ends a layer when it is a nonlinearity and the next nonlinearity
    is reached through a linear map (a Linear or another non-element-wise
    affine map, with any element-wise affine modules around it): those affine
    modules belong to that linear map, never to a layer of their own.
    """
    if not leaves:
        raise ValueError(f"{_kind(model)} has no submodules to record")
    is_classifier = leaves[-1].role == "softmax" and len(leaves) > 1
    chain = leaves[:-1] if is_classifier else leaves
    ends = []
    for index, leaf in enumerate(chain[:-1]):
        if leaf.role in ("other", "softmax"):
            following = []
            for later in chain[index + 1 :]:
                if later.role in ("other", "softmax"):
                    break
                following.append(later.role)
            if "linear" in following or "affine" in following:
                ends.append(index)
    ends.append(len(chain) - 1)
    names, start = [], 0
    for end in ends:
        names.append(_block_name(leaves, start, end))
        start = end + 1
    return names, names[-1], is_classifier


def _block_name(leaves: list[_Leaf], start: int, end: int) -> str:
    """The widest module whose leaves all lie in ``leaves[start..end]`` and
    end with ``leaves[end]`` (``fc1`` rather than ``fc1.1``)."""
    path = leaves[end].name.split(".")
    for depth in range(1, len(path) + 1):
        candidate = ".".join(path[:depth])
        inside = _inside(leaves, candidate)
        # (its leaves one run: in run order a ModuleList of activations has the Linears' between its own)
        if inside and inside[0] >= start and inside == list(range(inside[0], end + 1)):
            return candidate
    return leaves[end].name


def _output_width(leaves: list[_Leaf], name: str, n_features: int) -> int:
    """The output width of the last leaf at or before the end of ``name``'s subtree."""
    inside = _inside(leaves, name)
    width = leaves[inside[-1]].width if inside else None
    return n_features if width is None else width


class LayerRecorder:
    """Forward hooks that record chosen modules' outputs, as a context manager.

    The hooks are removed on leaving the ``with`` block, however it is left,
    so a failed forward pass never leaves a model carrying srnet's hooks.

    Parameters
    ----------
    model : nn.Module
        Not a TorchScript module (those take no hooks).
    names : sequence of str
        Module names from ``model.named_modules()``.

    Examples
    --------
    >>> with LayerRecorder(model, ["fc1", "fc2"]) as recorder:  # doctest: +SKIP
    ...     model(x)
    ...     outputs = recorder.pop_batch()
    """

    def __init__(self, model: nn.Module, names):
        self.model = model
        self.names = tuple(names)
        self._outputs: dict[str, list[torch.Tensor]] = {name: [] for name in self.names}
        self._handles: list[torch.utils.hooks.RemovableHandle] = []

    def __enter__(self) -> "LayerRecorder":
        modules = dict(self.model.named_modules())
        try:
            for name in self.names:
                self._handles.append(modules[name].register_forward_hook(self._hook(name)))
        except BaseException:
            self._remove()
            raise
        return self

    def __exit__(self, *exc_info) -> bool:
        self._remove()
        return False

    def _remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    @contextlib.contextmanager
    def paused(self):
        """Record nothing inside the block (srnet running the modules itself, to check the network's chain)."""
        self._remove()
        try:
            yield
        finally:
            self.__enter__()

    def _hook(self, name: str):
        def record(module, inputs, output):
            # a copy: a later in-place module (ReLU(inplace=True), h += ...) would rewrite what was recorded
            self._outputs[name].append(output.detach().clone() if isinstance(output, torch.Tensor) else output)

        return record

    def pop_batch(self) -> dict[str, torch.Tensor]:
        """The outputs of one forward pass, by name; clears them.

        Raises
        ------
        ValueError
            When a layer did not run, or ran more than once, in that pass.
        """
        for name, outputs in self._outputs.items():
            if len(outputs) != 1:
                if not outputs:
                    raise ValueError(f"layer '{name}' did not run in a forward pass: a module declared but not used "
                                     f"by forward (a spare head?); name the layers forward runs, its output last "
                                     f"(layers=[...])")
                raise ValueError(
                    f"module '{name}' ran {len(outputs)} times in one forward pass: one module shared by several "
                    f"layers (such as one self.act = nn.Tanh() called after each Linear)? srnet records each layer "
                    f"once: give each layer its own module, call the function in forward (torch.tanh), or explain "
                    f"the output alone (layers=[its output Linear]) for a direct formula")
        return {name: outputs.pop() for name, outputs in self._outputs.items()}


def probe(model: nn.Module, X, layers=None, batch_size: int = 4096, *, finite: bool = True,
          rows: str = "rows") -> list[np.ndarray]:
    """Run ``X`` through ``model`` and return each chosen layer's output.

    The model runs in eval mode under ``torch.no_grad()`` on its own device,
    with inputs cast to its parameter dtype; the training flags of all its
    modules are restored afterwards.

    Parameters
    ----------
    model : nn.Module
        An MLP of ``nn.Linear`` layers, or a TorchScript module whose
        children run in order (any one, for its output alone), or a fitted scikit-learn MLP (see
        :func:`srnet.networks.as_network`).
    X : array-like of shape (n_samples, n_features)
    layers : sequence of str, optional
        Module names; default: see :func:`plan_layers`.
    batch_size : int, default=4096
        Rows per forward pass.
    finite : bool, default=True
        Refuse non-finite layer outputs (what is explained must be finite);
        False returns them (a plot beyond the domain shows where the network
        overflows).
    rows : str, default="rows"
        What ``X``'s rows are, as the non-finite message counts them
        ("points of the domain": sampled points are no rows of the user's).

    Returns
    -------
    list of ndarray of shape (n_samples, width), dtype float64
        One per layer, in forward order.

    Raises
    ------
    ValueError
        Bad ``X`` (empty, NaN/inf, wrong number of columns), unknown layers,
        a non-finite layer output, or a TorchScript module that cannot be
        decomposed into its children.
    """
    model = as_network(model)
    plan = plan_layers(model, layers)
    X = check_matrix(X)
    if X.shape[1] != plan.n_features:
        if accepts_width(model, X.shape[1]):  # the data fit the network, not its first Linear
            runs = f"takes {plan.n_features} inputs, yet it runs on {X.shape[1]}"
            widened = ("a module before its first Linear changes the width (srnet's formulas read the Linear "
                       "layers' inputs)")
            if isinstance(model, torch.jit.ScriptModule):  # (eager modules are read in the order they run)
                raise _undecomposable(model, f"its first declared layer {runs}: its layers are not declared in the "
                                             f"order forward runs them, or {widened}")
            raise ValueError(f"cannot probe {_kind(model)}: its first Linear layer {runs}: {widened}")
        raise ValueError(
            f"X has {counted(X.shape[1], 'column')} but the network's first layer expects {plan.n_features}"
        )
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
    parameter = _input_parameter(model)
    if parameter.is_meta:  # its outputs hold no values: a RuntimeError deep inside the output checks
        raise ValueError(f"{_kind(model)} is on the meta device: its weights hold no values (load real weights, "
                         f"e.g. with .to_empty() then load_state_dict, before probing it)")
    narrow = parameter.dtype.is_floating_point and torch.finfo(parameter.dtype).max < np.finfo(np.float64).max
    largest = max(float(X.max()), -float(X.min())) if finite and narrow and X.size else 0.0  # (no |X| copy)
    if narrow and largest > torch.finfo(parameter.dtype).max:
        # cast to the network's dtype, such values became inf: the network ran on other inputs than X holds
        raise ValueError(f"X holds values up to {largest:.3g}, beyond the largest {parameter.dtype} "
                         f"({torch.finfo(parameter.dtype).max:.4g}) of the network's weights; scale X, or convert "
                         f"the network to a wider dtype (model.double(), before saving it for srnet explain)")
    batches = (  # copies: an in-place first module (clamp_, ReLU(inplace=True)) must not write into X
        torch.tensor(X[start : start + batch_size], dtype=parameter.dtype, device=parameter.device)
        for start in range(0, X.shape[0], batch_size)
    )
    with in_eval_mode(model), torch.no_grad():
        if isinstance(model, torch.jit.ScriptModule):
            # its output alone (a direct formula): what the whole forward returns, a chain or not
            whole = plan.names == (plan.output,) and not plan.is_classifier
            recorded = _probe_scripted(model, batches, plan.names, whole=whole)
        else:
            output = plan.output if not plan.is_classifier and plan.output in plan.names else None
            recorded = _probe_hooked(model, batches, plan.names, output, dict(zip(plan.names, plan.fed)),
                                     dict(zip(plan.names, plan.steps)))
    arrays = [np.concatenate(recorded[name]) for name in plan.names]
    for name, array in zip(plan.names, arrays if finite else ()):
        bad_rows = int((~np.isfinite(array)).any(axis=1).sum())
        if bad_rows:
            raise ValueError(
                f"the network produced non-finite outputs at layer '{name}' "
                f"for {bad_rows} of {array.shape[0]} {rows}"
            )
    return arrays


def accepts_width(model, width: int) -> bool:
    """Whether ``model`` runs on one row of ``width`` inputs (its first declared
    Linear need not be the first it runs: a module that declares its output
    layer first).  Tried in eval mode, on the model's device; its training flags are restored (a try in
    training mode would update BatchNorm's running statistics and draw Dropout's random numbers)."""
    parameter = _input_parameter(model)
    try:
        with in_eval_mode(model), torch.no_grad():
            model(torch.zeros(1, width, dtype=parameter.dtype, device=parameter.device))
    except Exception:  # any failure: not this width
        return False
    return True


def _probe_hooked(model, batches, names, output=None, fed=None, steps=None) -> dict[str, list[np.ndarray]]:
    """Record ``names`` by hooks.  ``output``: the layer explained as the
    network's output, checked on the first batch to be what the network
    returns (a forward that rescales or applies a functional softmax after
    its last module returns something no recorded layer computes).  ``fed``:
    layer -> the module declared after it, checked on the first batch to run
    on that layer's output (a skip connection feeds it something else, and a
    layer explained from the one before would describe another network).
    ``steps``: layer -> the modules that compute the next layer from it,
    checked on the first batch to reproduce it (a skip that joins later than
    the module right after, out(h + drop(f(h))), passed the check of ``fed``)."""
    recorded = {name: [] for name in names}
    inputs: dict[str, torch.Tensor] = {}
    modules = dict(model.named_modules())
    watched = {after for after in (fed or {}).values() if after is not None}

    def remember(after):
        def hook(module, args):
            if after not in inputs and args and isinstance(args[0], torch.Tensor):
                inputs[after] = args[0].detach().clone()
        return hook

    ran: set[str] = set()  # the modules of the steps that ran in the first pass (one declared, unused, is no step)

    def note(name):
        def hook(module, args):
            ran.add(name)
        return hook

    handles = [modules[after].register_forward_pre_hook(remember(after)) for after in watched]
    handles += [modules[step].register_forward_pre_hook(note(step))
                for step in {step for chain in (steps or {}).values() for step in chain[:-1]}]
    try:
        with LayerRecorder(model, names) as recorder:
            for index, batch in enumerate(batches):
                try:
                    final = model(batch)
                except (RuntimeError, TypeError) as error:  # its forward fails on these rows (a shape it assumes,
                    # a module returning a tuple, such as nn.LSTM, to the next one, ...): say where
                    raise _failed_on_data(model, error, _where_failed(model, batch)) from None
                outputs = recorder.pop_batch()
                if index == 0:
                    for handle in handles:
                        handle.remove()
                    _check_fed(model, modules, outputs, fed or {}, inputs)
                    with recorder.paused():  # (the steps run the next layers' modules again)
                        _check_steps(model, modules, outputs, steps or {}, ran)
                    _check_output(model, outputs, output, final)
                for name, value in outputs.items():
                    recorded[name].append(_to_numpy(name, value))
    finally:
        for handle in handles:
            handle.remove()
    return recorded


def _check_fed(model, modules: dict, outputs: dict, fed: dict, inputs: dict) -> None:
    """Each recorded layer's output is the input of the module declared after it (``modules``: name ->
    module), where that one ran."""
    for name, after in fed.items():
        if after is None or after not in inputs or not isinstance(outputs.get(name), torch.Tensor):
            continue
        mine, theirs = outputs[name], inputs[after]
        if mine.numel() == theirs.numel() and torch.allclose(mine.reshape(theirs.shape).double(), theirs.double(),
                                                             rtol=1e-5, atol=1e-6, equal_nan=True):
            continue
        if after in modules and _is_softmax(modules[after]):
            raise ValueError(
                f"in {_kind(model)}, the softmax '{after}' does not run on the output of '{name}', the layer "
                f"explained as the logits: its forward changes them in between (a temperature, an added prior, "
                f"...); srnet explains the modules it can see: make that step a module, or explain the logits "
                f"without it (layers=[...] up to '{name}')")
        raise _not_fed(model, f"module '{after}' (run after layer '{name}') does not run on that layer's "
                                  f"output")


def _check_steps(model, modules: dict, outputs: dict, steps: dict, ran: set) -> None:
    """Each recorded layer's modules after it (``steps``: layer -> module names, the next layer's last) compute
    the next recorded layer from its output: what SRNet's layer-wise formula assumes.  Of the modules between
    the two layers, those that ran (``ran``) are run: one declared and never called is no step."""
    names = list(outputs)
    for name, following in zip(names, names[1:]):
        chain = tuple(step for step in steps.get(name, ())[:-1] if step in ran) + steps.get(name, ())[-1:]
        if not chain or not all(isinstance(outputs[n], torch.Tensor) for n in (name, following)):
            continue
        x = outputs[name].clone()  # (an in-place module would rewrite the recorded output)
        try:
            for step in chain:
                x = modules[step](x)
        except Exception:  # noqa: BLE001 - a module that cannot run on the layer's output is not fed by it
            x = None
        want = outputs[following]
        if isinstance(x, torch.Tensor) and x.shape == want.shape and torch.allclose(
                x.double(), want.double(), rtol=1e-5, atol=1e-6, equal_nan=True):
            continue
        raise _not_fed(model, f"layer '{following}' is not what the modules after layer '{name}' "
                              f"({', '.join(chain)}) compute from that layer's output")


def _not_fed(model, what: str) -> ValueError:
    return ValueError(
        f"in {_kind(model)}, {what}: a skip connection (h + f(h)), or a forward that combines layers; srnet "
        f"explains each layer from the one before, so name layers that feed one another (layers=[...]: a "
        f"residual block as one module), or only the output module for a direct formula")


def _check_output(model, outputs: dict, output, final) -> None:
    """The layer explained as the output is what the network returns (of a tuple or list, its first tensor; a
    dict is refused: which of its values is the output is the user's to say)."""
    if isinstance(final, Mapping):  # {"y": 10 * o + 3, "features": h}: passed unchecked, o explained (R2 -0.91)
        keys = ", ".join(repr(key) for key in list(final)[:4]) + (", ..." if len(final) > 4 else "")
        raise ValueError(f"{_kind(model)} returns a {type(final).__name__} ({keys}): srnet explains a network that "
                         f"returns its output; wrap it in a module whose forward returns the value to explain "
                         f"(e.g. model(x)['y'])")
    container = type(final).__name__ if isinstance(final, (tuple, list)) else None
    if container:  # (output, auxiliary, ...): a forward returning (10 * o, o) passed unchecked
        final = next((item for item in final if isinstance(item, (torch.Tensor, np.ndarray))), None)
    if isinstance(final, np.ndarray) and final.dtype.kind in "biuf":  # a forward answering in NumPy (10 * o + 5
        final = torch.as_tensor(final)  # of its last Linear o) passed unchecked, and its Linear was explained
    if output is None or not isinstance(final, torch.Tensor):
        return
    last = outputs[output]
    if last.shape != final.shape and last.numel() == final.numel():
        last = last.reshape(final.shape)
    # in float64: a forward may cast after its last module (.double(), .float())
    if last.shape != final.shape or not torch.allclose(last.double(), final.double(), rtol=1e-5,
                                                       atol=1e-6, equal_nan=True):
        if container:  # ((features, y): the first tensor is srnet's reading, not necessarily the user's output)
            raise ValueError(
                f"{_kind(model)} returns a {container} whose first tensor, which "
                f"srnet reads as the output, is not what its last module '{output}' computes: wrap it in a module "
                f"whose forward returns the output alone, or make any step after '{output}' a module")
        raise ValueError(
            f"{_kind(model)} returns something other than its last module '{output}' computes: "
            f"its forward does more after it (a rescaling, a functional softmax, ...); srnet explains "
            f"the modules it can see: make that step a module (nn.Softmax for class scores) or "
            f"explain the network without it")


def _probe_scripted(model, batches, names, *, whole: bool = False) -> dict[str, list[np.ndarray]]:
    """Run a TorchScript module's children in order, recording ``names``; ``whole``: ``names`` is its output
    module alone, recorded as what its forward returns (a network that is no chain, fc2(tanh(fc1(x))) written
    in its forward, was refused even for a direct formula of its output)."""
    recorded = {name: [] for name in names}
    for index, batch in enumerate(batches):
        if whole:
            recorded[names[0]].append(_to_numpy(names[0], _scripted_output(model, batch)))
            continue
        outputs: dict[str, torch.Tensor] = {}
        try:
            final = _run_children(model, batch, "", set(names), outputs)
        except RuntimeError as error:
            raise _undecomposable(model, f"running its children in order failed ({_last_line(error)})") from None
        if index == 0:
            output = _scripted_output(model, batch)
            if output.shape != final.shape:  # (allclose raised a traceback on a reshaped output)
                raise _undecomposable(model, f"its forward returns shape {tuple(output.shape)} where running its "
                                             f"children in order gives {tuple(final.shape)}")
            if not torch.allclose(final, output, rtol=1e-5, atol=1e-6, equal_nan=True):
                raise _undecomposable(model, "running its children in order does not reproduce its output")
        for name in names:
            recorded[name].append(_to_numpy(name, outputs[name]))
    return recorded


def _scripted_output(model, batch) -> torch.Tensor:
    """What a TorchScript module's forward returns for ``batch``, or one line saying why it cannot be read."""
    try:
        output = model(batch)
    except torch.jit.Error as error:  # raised inside its forward (not a RuntimeError: a traceback)
        raise _failed_on_data(model, error) from None
    except (RuntimeError, TypeError) as error:  # forward(x, y), or another signature
        raise _undecomposable(model, "its forward does not run on one (n, inputs) tensor "
                                     f"({' '.join(str(error).split())[:200]})") from None
    if not isinstance(output, torch.Tensor):
        raise _undecomposable(model, f"its forward returns {type(output).__name__}, not one tensor")
    return output


def _last_line(error: BaseException) -> str:
    """The words of an error raised inside TorchScript: its message's last line (the rest is the interpreter's
    traceback, 15 lines inside what srnet prints as one)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def _run_children(module, x, name: str, wanted: set[str], outputs: dict) -> torch.Tensor:
    """Apply ``module`` to ``x``, descending into children where a wanted name lies below."""
    children = list(module.named_children())
    if children and (not name or any(other.startswith(name + ".") for other in wanted)):
        for child_name, child in children:
            x = _run_children(child, x, _join(name, child_name), wanted, outputs)
    else:
        x = module(x)
    if name in wanted:
        outputs[name] = x.clone()  # a later in-place child would rewrite it
    return x


def _failed_on_data(model, error: Exception, where: str = "") -> ValueError:
    """One line for a network whose own forward raised on the data's rows: the error's last line (a
    TorchScript error's first lines are its interpreter's preamble); ``where``: in which module (see
    :func:`_where_failed`)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    if isinstance(error, torch.jit.Error):  # "builtins.RuntimeError: boom" last
        what = (lines[-1] if lines else type(error).__name__).removeprefix("builtins.")
    else:
        what = f"{type(error).__name__}: {lines[0] if lines else ''}"
    return ValueError(f"{_kind(model)} failed on the data's rows: {what[:300]}{where}")


def _where_failed(model: nn.Module, batch: torch.Tensor) -> str:
    """"; it failed in module 'name' (Kind)" for the leaf module that was running when ``model(batch)`` raised, with the
    leaf before it when that one returned no tensor (nn.LSTM's (output, state) tuple); "" when no leaf was
    running (the forward's own code failed) or the failure does not repeat."""
    trace = {"running": None, "last": None}

    def enter(name):
        def hook(module, args):
            trace["running"] = name
        return hook

    def leave(name):
        def hook(module, args, output):
            trace["running"], trace["last"] = None, (name, module, output)
        return hook

    leaves = _leaf_modules(model)
    handles = [module.register_forward_pre_hook(enter(name)) for name, module in leaves]
    handles += [module.register_forward_hook(leave(name)) for name, module in leaves]
    try:
        model(batch)
    except Exception:  # noqa: BLE001 - the failure being located
        pass
    finally:
        for handle in handles:
            handle.remove()
    if trace["running"] is None:
        return ""
    running = dict(leaves)[trace["running"]]
    where = f"; it failed in module '{trace['running']}' ({_kind(running)})"
    if trace["last"] is not None and not isinstance(trace["last"][2], torch.Tensor):
        name, module, output = trace["last"]
        where += (f", after module '{name}' ({_kind(module)}) returned a {type(output).__name__}, not one tensor "
                  f"(srnet reads networks of Linear layers and activations, each passing one tensor on)")
    return where


def _undecomposable(model, reason: str) -> ValueError:
    leaves = _leaf_modules(model)
    last = leaves[-1][0] if leaves else "its last module"
    return ValueError(
        f"cannot probe TorchScript module {_kind(model)}: {reason}; TorchScript takes no hooks, so "
        f"srnet can only probe scripted modules whose children run in order, such as nn.Sequential: write a "
        f"step its forward does itself (an input normalisation (x - mean) / std) as a module of its own in the "
        f"sequence and script that; a network that is no chain (a residual sum) has no layer-by-layer probe, "
        f"but its output has a direct formula: layers=['{last}'] (--layers {last})"
    )


def _to_numpy(name: str, output) -> np.ndarray:
    """A layer output as a float64 (n, width) array."""
    if not isinstance(output, torch.Tensor):
        raise ValueError(f"layer '{name}' returned {type(output).__name__}; srnet records tensor outputs")
    if output.ndim == 1:
        output = output.unsqueeze(1)
    if output.ndim != 2:
        raise ValueError(
            f"layer '{name}' produced shape {tuple(output.shape)}; srnet records (n, width) outputs"
        )
    return output.detach().to("cpu", torch.float64).numpy()
