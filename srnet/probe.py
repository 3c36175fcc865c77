"""Record what each layer of a trained network computes.

:func:`probe` runs ``X`` through a network in batches and returns the output
of each chosen layer as a float64 matrix; those matrices are what the
symbolic regression explains, layer by layer.

Which layers, by default (:func:`plan_layers`)
----------------------------------------------
The network's *chain* is its top-level children, in registration order,
which is assumed to be the order ``forward`` runs them (true for
``nn.Sequential`` and for the SRNet paper's networks; a wrapper with a single
child is looked through).  A child's output is recorded when the next child
starts with an ``nn.Linear`` (so it is a hidden representation), and the
last child's output is recorded as the network output.  Hence:

* ``Sequential(Linear, Sigmoid, Linear, Sigmoid, Linear)`` records the two
  ``Sigmoid`` outputs and the last ``Linear``: ``["1", "3", "4"]``;
* the paper's ``fc1 = Sequential(Linear, Sigmoid)``, ``fc2 = ...``,
  ``fc3 = Linear`` records ``["fc1", "fc2", "fc3"]``.

The softmax rule: a classifier's probabilities are a fixed squashing of its
logits, and the logits are the part worth explaining.  When the chain ends
in ``Softmax`` or ``LogSoftmax`` (as the last child, or as the last module
inside the last child), the network counts as a classifier and the output
recorded is the module feeding that softmax: ``"fc3.0"`` for the paper's
``fc3 = Sequential(Linear, Softmax)``, ``"4"`` for
``Sequential(Linear, Sigmoid, ..., Linear, Softmax)`` with the last Linear at
index 4.  Naming layers explicitly records exactly those modules.

Hooks and TorchScript
---------------------
Ordinary modules are recorded with forward hooks held by
:class:`LayerRecorder`, which removes them however the forward pass ends.
TorchScript modules take no hooks, so :func:`probe` runs their children in
order itself and checks, on the first batch, that doing so reproduces the
module's own output.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from srnet.data import check_matrix

_SOFTMAX_KINDS = ("Softmax", "LogSoftmax")


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
        Whether the network ends in a softmax (see the module docstring).
    output : str
        The layer explained as the network output: the last module, or for a
        classifier the module feeding its softmax (the logits).
    """

    names: tuple[str, ...]
    widths: tuple[int, ...]
    n_features: int
    is_classifier: bool
    output: str

    def __str__(self) -> str:
        kind = "classifier (softmax skipped; logits explained)" if self.is_classifier else "network"
        lines = [f"{kind} with {self.n_features} inputs"]
        for name, width in zip(self.names, self.widths):
            role = ("logits" if self.is_classifier else "output") if name == self.output else "hidden"
            lines.append(f"  {name:<16} width {width:<5} {role}")
        return "\n".join(lines)


def plan_layers(model: nn.Module, layers=None) -> LayerPlan:
    """Decide which layers :func:`probe` records, with their widths.

    Parameters
    ----------
    model : nn.Module
        An MLP built from ``nn.Linear`` layers (TorchScript allowed).
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
    """
    modules = [(name, module) for name, module in model.named_modules() if name]
    linears = [module for _, module in modules if _is_linear(module)]
    if not linears:
        raise ValueError(f"srnet probes networks built from nn.Linear layers; {_kind(model)} has none")
    default, output, is_classifier = _default_layers(model)
    if layers is None:
        names = default
    else:
        if isinstance(layers, str):
            layers = [layers]
        if not layers:
            raise ValueError("layers is empty; name at least one module, or pass None for the defaults")
        known = [name for name, _ in modules]
        for name in layers:
            if name not in known:
                raise ValueError(f"unknown layer '{name}'; valid names: {', '.join(known)}")
        names = [name for name in known if name in set(layers)]
    n_features = int(linears[0].weight.shape[1])
    return LayerPlan(
        names=tuple(names),
        widths=tuple(_output_width(modules, name, n_features) for name in names),
        n_features=n_features,
        is_classifier=is_classifier,
        output=output,
    )


def _kind(module: nn.Module) -> str:
    """The class name of a module, also for TorchScript modules."""
    if isinstance(module, torch.jit.ScriptModule):
        return module.original_name
    return type(module).__name__


def _is_linear(module: nn.Module) -> bool:
    return isinstance(module, nn.Linear) or _kind(module) == "Linear"


def _is_softmax(module: nn.Module) -> bool:
    return _kind(module) in _SOFTMAX_KINDS


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _default_layers(model: nn.Module) -> tuple[list[str], str, bool]:
    """Default layer names, the output layer, and whether a softmax was skipped."""
    prefix, chain = "", list(model.named_children())
    while len(chain) == 1 and list(chain[0][1].children()):
        prefix = _join(prefix, chain[0][0])
        chain = list(chain[0][1].named_children())
    if not chain:
        raise ValueError(f"{_kind(model)} has no submodules to record")
    if _is_softmax(chain[-1][1]) and len(chain) > 1:
        chain = chain[:-1]
        output, is_classifier = _join(prefix, chain[-1][0]), True
    else:
        logits = _logits_inside(_join(prefix, chain[-1][0]), chain[-1][1])
        output, is_classifier = logits or _join(prefix, chain[-1][0]), logits is not None
    hidden = [
        _join(prefix, name)
        for (name, _), (_, following) in zip(chain[:-1], chain[1:])
        if _starts_with_linear(following)
    ]
    return [*hidden, output], output, is_classifier


def _logits_inside(name: str, module: nn.Module) -> str | None:
    """The module feeding a softmax that ends ``module``, or None without one."""
    children = list(module.named_children())
    if not children:
        return None
    if _is_softmax(children[-1][1]):
        return _join(name, children[-2][0]) if len(children) > 1 else None
    return _logits_inside(_join(name, children[-1][0]), children[-1][1])


def _starts_with_linear(module: nn.Module) -> bool:
    """Whether the first leaf module (in forward order) is a Linear."""
    leaf = next(m for m in module.modules() if not list(m.children()))
    return _is_linear(leaf)


def _output_width(modules: list[tuple[str, nn.Module]], name: str, n_features: int) -> int:
    """The out_features of the last Linear at or before the end of ``name``'s subtree."""
    last = max(i for i, (other, _) in enumerate(modules) if other == name or other.startswith(name + "."))
    widths = [int(module.weight.shape[0]) for _, module in modules[: last + 1] if _is_linear(module)]
    return widths[-1] if widths else n_features


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

    def _hook(self, name: str):
        def record(module, inputs, output):
            self._outputs[name].append(output)

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
                what = "did not run" if not outputs else f"ran {len(outputs)} times"
                raise ValueError(f"layer '{name}' {what} in one forward pass; srnet records each layer once")
        return {name: outputs.pop() for name, outputs in self._outputs.items()}


def probe(model: nn.Module, X, layers=None, batch_size: int = 4096) -> list[np.ndarray]:
    """Run ``X`` through ``model`` and return each chosen layer's output.

    The model runs in eval mode under ``torch.no_grad()`` on its own device,
    with inputs cast to its parameter dtype; the training flags of all its
    modules are restored afterwards.

    Parameters
    ----------
    model : nn.Module
        An MLP of ``nn.Linear`` layers, or a TorchScript module whose
        children run in order.
    X : array-like of shape (n_samples, n_features)
    layers : sequence of str, optional
        Module names; default: see :func:`plan_layers`.
    batch_size : int, default=4096
        Rows per forward pass.

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
    plan = plan_layers(model, layers)
    X = check_matrix(X)
    if X.shape[1] != plan.n_features:
        raise ValueError(
            f"X has {X.shape[1]} columns but the network's first layer expects {plan.n_features}"
        )
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}")
    parameter = next(model.parameters())
    batches = (
        torch.from_numpy(X[start : start + batch_size]).to(parameter.device, parameter.dtype)
        for start in range(0, X.shape[0], batch_size)
    )
    training = {module: module.training for module in model.modules()}
    model.eval()
    try:
        with torch.no_grad():
            if isinstance(model, torch.jit.ScriptModule):
                recorded = _probe_scripted(model, batches, plan.names)
            else:
                recorded = _probe_hooked(model, batches, plan.names)
    finally:
        for module, flag in training.items():
            module.training = flag
    arrays = [np.concatenate(recorded[name]) for name in plan.names]
    for name, array in zip(plan.names, arrays):
        bad_rows = int((~np.isfinite(array)).any(axis=1).sum())
        if bad_rows:
            raise ValueError(
                f"the network produced non-finite outputs at layer '{name}' "
                f"for {bad_rows} of {array.shape[0]} rows"
            )
    return arrays


def _probe_hooked(model, batches, names) -> dict[str, list[np.ndarray]]:
    recorded = {name: [] for name in names}
    with LayerRecorder(model, names) as recorder:
        for batch in batches:
            model(batch)
            for name, output in recorder.pop_batch().items():
                recorded[name].append(_to_numpy(name, output))
    return recorded


def _probe_scripted(model, batches, names) -> dict[str, list[np.ndarray]]:
    """Run a TorchScript module's children in order, recording ``names``."""
    recorded = {name: [] for name in names}
    for index, batch in enumerate(batches):
        outputs: dict[str, torch.Tensor] = {}
        try:
            final = _run_children(model, batch, "", set(names), outputs)
        except RuntimeError as error:
            raise _undecomposable(model, f"running its children in order failed ({error})") from None
        if index == 0 and not torch.allclose(final, model(batch), rtol=1e-5, atol=1e-6, equal_nan=True):
            raise _undecomposable(model, "running its children in order does not reproduce its output")
        for name in names:
            recorded[name].append(_to_numpy(name, outputs[name]))
    return recorded


def _run_children(module, x, name: str, wanted: set[str], outputs: dict) -> torch.Tensor:
    """Apply ``module`` to ``x``, descending into children where a wanted name lies below."""
    children = list(module.named_children())
    if children and (not name or any(other.startswith(name + ".") for other in wanted)):
        for child_name, child in children:
            x = _run_children(child, x, _join(name, child_name), wanted, outputs)
    else:
        x = module(x)
    if name in wanted:
        outputs[name] = x
    return x


def _undecomposable(model, reason: str) -> ValueError:
    return ValueError(
        f"cannot probe TorchScript module {_kind(model)}: {reason}; TorchScript takes no hooks, so "
        f"srnet can only probe scripted modules whose children run in order, such as nn.Sequential "
        f"(or load the network from a state_dict)"
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
