"""Build MLPs from a short spec and load trained ones without unpickling code.

An architecture string names the layer widths and activations of an MLP,
``mlp:3-16-16-1:sigmoid`` or, for a classifier with a softmax head,
``mlp:14-100-100-2:sigmoid:softmax``.  :func:`build_mlp` turns the parsed spec
into a module in one of two layouts:

``"sequential"``
    ``nn.Sequential(Linear, act, Linear, act, ..., Linear[, out_act])``;
    state_dict keys ``0.weight``, ``2.weight``, ...
``"paper"``
    the SRNet paper's layout (Luo et al., GECCO 2022): blocks ``fc1 .. fcN``,
    hidden blocks ``Sequential(Linear, act)`` (keys ``fcK.0.weight``), the last
    a plain ``Linear`` (keys ``fcN.weight``) or, with an output activation,
    ``Sequential(Linear, out_act)`` (keys ``fcN.0.weight``).  It is built as an
    ``nn.Sequential`` with named children, so ``model.fc1`` works, the paper's
    state_dicts load, and the module can be scripted.

:func:`load_network` reads TorchScript files, or state_dicts through
``torch.load(..., weights_only=True)`` (never arbitrary pickles), inferring the
layout and, when the spec omits them, the widths from the tensor names and
shapes.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import numbers
import pickle
import re
import sys
import warnings
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

ACTIVATIONS = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "identity": nn.Identity,
}
OUTPUT_ACTIVATIONS = {**ACTIVATIONS, "softmax": lambda: nn.Softmax(dim=1)}
#: The head of a binary classifier of one output, its class-1 logit z (trained with BCEWithLogitsLoss; a
#: sigmoid head's weights too, the sigmoid left out): built as the two logits (0, z) and a softmax, the
#: classifier srnet explains (sigmoid(z) = softmax((0, z))[1]).
BINARY_LOGIT = "logit"
LAYOUTS = ("sequential", "paper")

_EXAMPLE = "'mlp:3-16-16-1:sigmoid' or 'mlp:14-100-100-2:sigmoid:softmax'"
_PAPER_KEY = re.compile(r"fc(\d+)(\.0)?\.(weight|bias)")
_SEQUENTIAL_KEY = re.compile(r"(\d+)\.(weight|bias)")


@dataclass(frozen=True)
class MLPSpec:
    """Layer widths and activations of an MLP.

    Attributes
    ----------
    widths : tuple of int, or None
        ``(n_inputs, hidden_1, ..., n_outputs)``; None when they are to be
        read from a state_dict's shapes.
    activation : str
        Hidden activation, a key of ``ACTIVATIONS``.
    output_activation : str or None
        Applied after the last Linear (a key of ``OUTPUT_ACTIVATIONS``), or
        None for a linear output; ``"logit"`` (:data:`BINARY_LOGIT`): a
        binary classifier whose one output is its class-1 logit.
    """

    widths: tuple[int, ...] | None
    activation: str
    output_activation: str | None = None

    def __post_init__(self):
        if self.widths is not None and not all(isinstance(w, numbers.Integral) and not isinstance(w, bool)
                                               for w in self.widths):  # True read as 1, 2.5 a torch traceback
            raise ValueError(f"layer widths must be whole numbers, got {self.widths}")
        if self.widths is not None and (len(self.widths) < 2 or min(self.widths) < 1):
            raise ValueError(f"layer widths {self.widths} need an input and an output width, all positive")
        if self.activation in (*OUTPUT_ACTIVATIONS, BINARY_LOGIT) and self.activation not in ACTIVATIONS:
            # 'mlp:4-1:logit' read the head as an unknown hidden activation
            outputs = 1 if self.activation == BINARY_LOGIT else 3
            raise ValueError(f"'{self.activation}' is an output head: name the hidden activation before it, like "
                             f"'mlp:4-8-{outputs}:tanh:{self.activation}' (no hidden layer: "
                             f"'mlp:4-{outputs}:identity:{self.activation}')")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation '{self.activation}'; choose from {', '.join(ACTIVATIONS)}")
        if self.output_activation is not None and self.output_activation not in (*OUTPUT_ACTIVATIONS, BINARY_LOGIT):
            raise ValueError(
                f"unknown output activation '{self.output_activation}'; "
                f"choose from {', '.join(OUTPUT_ACTIVATIONS)} or {BINARY_LOGIT}"
            )
        if self.output_activation == BINARY_LOGIT and self.widths is not None and self.widths[-1] != 1:
            raise ValueError(f"':{BINARY_LOGIT}' is the head of a binary classifier of one output (its class-1 "
                             f"logit); this network has {self.widths[-1]} (with one logit per class, use ':softmax')")
        if self.output_activation == "softmax" and self.widths is not None and self.widths[-1] < 2:
            # a softmax of one output is the constant 1: every formula would "agree" with it
            raise ValueError(f"a softmax head needs at least 2 outputs; this network has {self.widths[-1]} "
                             f"(drop ':softmax' for a one-output network)")

    def __str__(self) -> str:
        parts = ["mlp"]
        if self.widths is not None:
            parts.append("-".join(map(str, self.widths)))
        parts.append(self.activation)
        if self.output_activation is not None:
            parts.append(self.output_activation)
        return ":".join(parts)


def parse_architecture(text: str) -> MLPSpec:
    """Parse ``mlp:<widths>:<activation>[:<output activation>]``.

    Parameters
    ----------
    text : str
        E.g. ``"mlp:3-4-4-1:sigmoid"``, ``"mlp:14-100-100-2:sigmoid:softmax"``,
        or without widths (``"mlp:sigmoid"``) to take them from the weights.
        An output activation ``identity`` means none.

    Returns
    -------
    MLPSpec

    Raises
    ------
    ValueError
        For anything else, with an example of the format.
    """
    if not isinstance(text, str):
        raise TypeError(f"architecture must be a string like {_EXAMPLE}; got {type(text).__name__}")
    parts = [part.strip() for part in text.strip().lower().split(":")]  # "mlp: 2-4-1 : sigmoid" too
    if parts[0] != "mlp" or len(parts) < 2:
        raise ValueError(f"architecture '{text}' must look like {_EXAMPLE}")
    rest = parts[1:]
    # widths start with a digit; a field with a '-' is meant as widths too (no activation has one): 'a-b' and
    # '-3-16-1' were reported as unknown activations
    widths = _parse_widths(rest.pop(0), text) if rest[0][:1].isdigit() or "-" in rest[0] else None
    if not rest or len(rest) > 2:
        raise ValueError(
            f"architecture '{text}' must name one hidden activation and at most one output "
            f"activation, like {_EXAMPLE}"
        )
    output_activation = rest[1] if len(rest) == 2 else None
    return MLPSpec(widths, rest[0], None if output_activation == "identity" else output_activation)


#: The widest layer an architecture string may name: one of 10**7 units already holds 10**7 weights per input.
MAX_WIDTH = 10**7


def _parse_widths(field: str, text: str) -> tuple[int, ...]:
    try:
        if "_" in field:  # int() reads 3_2 as 32
            raise ValueError
        widths = tuple(int(width) for width in field.split("-"))
    except ValueError:
        raise ValueError(
            f"layer widths '{field}' in '{text}' must be integers joined by '-', like 3-16-16-1"
        ) from None
    if max(widths) > MAX_WIDTH:  # 99999999999999999999 failed in torch.empty, with C++ frames
        raise ValueError(f"layer width {max(widths):,} in '{text}' is more than a network holds (at most "
                         f"{MAX_WIDTH:,})")
    return widths


def build_mlp(spec: MLPSpec | str, *, layout: str = "sequential", biases=None) -> nn.Module:
    """A freshly initialised float32 MLP.

    Parameters
    ----------
    spec : MLPSpec or str
        Architecture, with widths.
    layout : {"sequential", "paper"}, default="sequential"
        Module layout; see the module docstring.
    biases : sequence of bool, optional
        Per Linear, whether it has a bias (default: all do).

    Returns
    -------
    nn.Sequential
        Initialised by torch's default (global RNG) initialisers.
    """
    if isinstance(spec, str):
        spec = parse_architecture(spec)
    if spec.widths is None:
        raise ValueError(f"architecture '{spec}' gives no layer widths; write them like {_EXAMPLE}")
    if spec.output_activation == BINARY_LOGIT:
        return _as_two_logits(build_mlp(_one_output(spec), layout=layout, biases=biases))
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout '{layout}'; choose from {', '.join(LAYOUTS)}")
    biases = [True] * (len(spec.widths) - 1) if biases is None else list(biases)
    if len(biases) != len(spec.widths) - 1:  # zip stopped at the shorter list: a layer went missing silently
        raise ValueError(f"{len(biases)} bias flags for the {len(spec.widths) - 1} Linear layers of '{spec}'")
    linears = [nn.Linear(n_in, n_out, bias=bool(bias))
               for n_in, n_out, bias in zip(spec.widths[:-1], spec.widths[1:], biases)]
    head = OUTPUT_ACTIVATIONS[spec.output_activation]() if spec.output_activation else None
    if layout == "sequential":
        modules = []
        for linear in linears[:-1]:
            modules += [linear, ACTIVATIONS[spec.activation]()]
        modules.append(linears[-1])
        return nn.Sequential(*modules, *([head] if head else []))
    blocks = OrderedDict(
        (f"fc{k}", nn.Sequential(linear, ACTIVATIONS[spec.activation]()))
        for k, linear in enumerate(linears[:-1], start=1)
    )
    blocks[f"fc{len(linears)}"] = nn.Sequential(linears[-1], head) if head else linears[-1]
    return nn.Sequential(blocks)


def _one_output(spec: MLPSpec) -> MLPSpec:
    """A ``:logit`` network as its weights hold it: one linear output."""
    return MLPSpec(spec.widths, spec.activation, None)


def two_logits(last: nn.Linear) -> nn.Sequential:
    """The Linear of one logit z as the two logits (0, z) and a softmax: the class probabilities of a binary
    classifier, sigmoid(z) = softmax((0, z))[1], in the form srnet explains classifiers."""
    pair = nn.Linear(last.in_features, 2, bias=last.bias is not None, dtype=last.weight.dtype)
    with torch.no_grad():
        pair.weight.copy_(torch.cat([torch.zeros_like(last.weight), last.weight]))
        if last.bias is not None:
            pair.bias.copy_(torch.cat([torch.zeros_like(last.bias), last.bias]))
    return nn.Sequential(pair, nn.Softmax(dim=1))


def binary_classifier(model: nn.Module) -> nn.Sequential:
    """A binary classifier of one output, its class-1 logit z (trained with ``BCEWithLogitsLoss``), as the
    classifier srnet explains: ``model``, then the two logits (0, z) and a softmax (whose class-1 probability
    is sigmoid(z)).  A ``nn.Sequential`` ending in ``nn.Sigmoid`` (trained with ``BCELoss``) is taken without
    it.  The modules keep their names under ``model.`` (``model.0``, ...); ``model`` itself is not changed.

    >>> explained = SRNet().fit(binary_classifier(net), X)  # doctest: +SKIP

    Raises
    ------
    ValueError
        When ``model`` does not give one output per row.
    """
    model = as_network(model)
    if isinstance(model, nn.Sequential) and len(model) > 1 and isinstance(model[-1], nn.Sigmoid):
        model = model[:-1]
    first = next((m for m in model.modules() if isinstance(m, nn.Linear)), None)
    if first is None:
        raise ValueError(f"srnet explains networks built from nn.Linear layers; this {type(model).__name__} has none")
    with in_eval_mode(model), torch.no_grad():  # (its training flags, and BatchNorm's statistics, left as they are)
        out = model(torch.zeros(2, first.in_features, dtype=first.weight.dtype))
    if not isinstance(out, torch.Tensor) or out.ndim != 2 or out.shape[1] != 1:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"binary_classifier wraps a network of one output per row (its class-1 logit); this one "
                         f"gives {shape} for 2 rows (a network with a logit per class ends in nn.Softmax instead)")
    logits = nn.Linear(1, 2, bias=False, dtype=first.weight.dtype)
    with torch.no_grad():
        logits.weight.copy_(torch.tensor([[0.0], [1.0]]))
    logits.requires_grad_(False)
    return nn.Sequential(OrderedDict(model=model, logits=logits, softmax=nn.Softmax(dim=1)))


def _as_two_logits(model: nn.Sequential) -> nn.Sequential:
    """``model`` (either layout, its last child the one-logit Linear) with that Linear as :func:`two_logits`:
    the pair of logits under the Linear's own name, the softmax after it (a child "softmax"), so that the layer
    explained is named as the user's state_dict names it ('2', not '2.0', which their network has not)."""
    name, last = list(model.named_children())[-1]
    pair, softmax = two_logits(last)
    setattr(model, name, pair)
    model.add_module("softmax", softmax)
    return model


def load_network(path, architecture: MLPSpec | str | None = None) -> nn.Module:
    """Load a trained network from a TorchScript file or a state_dict file.

    Parameters
    ----------
    path : path-like
        A TorchScript archive (``torch.jit.save``) or a state_dict
        (``torch.save(model.state_dict(), path)``) in either layout.
    architecture : MLPSpec or str, optional
        Required for state_dicts, ignored for TorchScript (which carries its
        own structure).  Widths may be omitted (``"mlp:sigmoid"``) to read them
        from the weight shapes.

    Returns
    -------
    nn.Module
        In eval mode, on the CPU, in the dtype of the stored weights.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ValueError
        An unreadable file, a pickled model rather than a state_dict, a
        missing architecture, or an architecture that does not fit the weights.
    """
    path = Path(path)
    if path.is_dir():  # (it was "no such network file", of a path that exists)
        raise IsADirectoryError(f"'{path}' is a folder, not a network file")
    if not path.is_file():
        raise FileNotFoundError(f"no such network file: '{path}'")
    if path.stat().st_size == 0:  # (it was "neither a torch.save archive, a pickle nor a TorchScript file")
        raise ValueError(f"'{path}' is empty (0 bytes): was it saved, or copied, in full?")
    other = _OTHER_FORMATS.get(path.suffix.lower())
    if other is not None:  # (it was "damaged, or another format")
        raise ValueError(f"'{path}' is {other}, which srnet does not read: save the network from PyTorch as its "
                         f"state_dict (torch.save, with --arch) or as TorchScript (torch.jit.save)")
    if _is_torchscript(path):
        if architecture is not None:  # ignored, it was still recorded in the report as the network's
            raise ValueError(f"'{path.name}' is a TorchScript archive, which carries its own architecture: "
                             f"drop --arch ({architecture}); TorchScript runs the code it holds, so load it only "
                             f"from a source you trust")
        _check_checksums(path)
        try:
            model = torch.jit.load(str(path), map_location="cpu").eval()
        except RuntimeError as error:
            raise ValueError(f"cannot read '{path}' as a TorchScript file: {_first_line(error)}") from None
        _check_storages(path, model)
        _check_finite(path, model.state_dict())
        return model
    state_dict = read_state_dict(path)
    _check_finite(path, state_dict)
    if architecture is None:
        raise ValueError(
            f"'{path}' holds a state_dict, which needs an architecture such as "
            f"'mlp:3-16-16-1:sigmoid' (or 'mlp:sigmoid' to read the widths from the weights)"
        )
    spec = parse_architecture(architecture) if isinstance(architecture, str) else architecture
    return network_from_state_dict(state_dict, spec)


#: Network files of other formats, by suffix, named where srnet refuses them.
_OTHER_FORMATS = {".onnx": "an ONNX model", ".safetensors": "a safetensors file", ".h5": "a Keras (HDF5) model",
                  ".keras": "a Keras model", ".pb": "a TensorFlow graph", ".tflite": "a TensorFlow Lite model"}

#: The weights' dtypes srnet reads (network_from_state_dict refuses others; _check_finite reads their values).
READABLE_DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def _check_finite(path: Path, tensors: dict) -> None:
    """A one-line ValueError naming the first tensor that holds inf or NaN: an inf weight was explained as
    it was, behind a warning that blamed --arch, and a NaN one failed later, at a layer's outputs."""
    for name, tensor in tensors.items():
        # (sparse and float8 tensors have no isfinite, meta ones no values: network_from_state_dict refuses each
        # in a line of its own)
        if tensor.layout != torch.strided or tensor.dtype not in READABLE_DTYPES or tensor.is_meta:
            continue
        if not bool(torch.isfinite(tensor).all()):
            bad = tensor[~torch.isfinite(tensor)]
            kinds = " and ".join(kind for kind, count in (("NaN", int(bad.isnan().sum())),
                                                          ("inf", int(bad.isinf().sum()))) if count)
            raise ValueError(f"'{path}': tensor '{name}' holds {bad.numel()} non-finite value(s) ({kinds}): "
                             f"diverged in training, or damaged? srnet explains networks with finite weights")


def _is_torchscript(path: Path) -> bool:
    """TorchScript archives hold compiled code under ``<archive>/code/``.

    ``is_zipfile`` only finds the end record, so a damaged central directory
    fails in ``ZipFile``: a ValueError naming the file, like other unreadable files.
    """
    if not zipfile.is_zipfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            return any("/code/" in name for name in archive.namelist())
    except (zipfile.BadZipFile, OSError) as error:
        raise ValueError(f"cannot read '{path}' as a PyTorch file: {_first_line(error)}") from None


def _check_checksums(path: Path) -> None:
    """A one-line ValueError when a member of a zip archive (torch.save's and TorchScript's format) fails its
    checksum: torch reads its archives without checking them, so flipped bytes in a tensor loaded as other
    weights, silently.  Files of torch's legacy format are not archives, and pass.  The archive's listing, read
    here anyway, also names a torch.export package (torch.load called it a corrupted checkpoint)."""
    if not zipfile.is_zipfile(path):
        return
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError) as error:
        raise ValueError(f"cannot read '{path}' as a PyTorch file: {_first_line(error)}") from None
    if any(name.endswith("/archive_format") for name in names) and any("/models/" in name for name in names):
        # torch.export.save's package: torch.load called it "corrupted"
        raise ValueError(f"'{path}' is a torch.export program, which srnet does not read: save the model's "
                         f"state_dict (with --arch) or torch.jit.save(torch.jit.script(model), 'net.pt')")
    if damaged is not None:
        raise ValueError(f"cannot read '{path}': its member '{damaged}' is damaged (checksum mismatch)")


def _check_storages(path: Path, model) -> None:
    """A one-line ValueError when a TorchScript archive's tensor records hold fewer bytes than its tensors:
    torch.jit.load fills the rest from uninitialised memory without a word (torch.load checks each record's
    size; a rewritten archive passes its checksums)."""
    with zipfile.ZipFile(path) as archive:
        stored = sum(info.file_size for info in archive.infolist() if "/data/" in info.filename)
    storages = {tensor.untyped_storage().data_ptr(): tensor.untyped_storage().nbytes()
                for tensor in model.state_dict().values()}  # one storage shared by several tensors, once
    if sum(storages.values()) > stored:
        raise ValueError(f"cannot read '{path}' as a TorchScript file: its tensors need {sum(storages.values())} "
                         f"bytes but it stores {stored} (damaged, or cut short)")


def read_state_dict(path) -> dict[str, torch.Tensor]:
    """Read a state_dict with ``weights_only=True``, explaining each failure.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    dict of str to Tensor
    """
    _check_checksums(path)
    try:
        with warnings.catch_warnings():  # a plain pickle: torch warns of its protocol, then refuses it
            warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
            loaded = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as error:  # a corrupt file can fail anywhere inside the unpickler
        text = str(error).lower()
        # refused by the weights-only unpickler: a torch.save of an object ("unsupported global"), a plain
        # pickle (it starts with the pickle protocol byte 0x80), or bytes that are neither (damaged)
        refused = isinstance(error, pickle.UnpicklingError) and "weights only load failed" in text
        pickled = _starts_like_a_pickle(path)
        if refused and ("unsupported global" in text or pickled):
            if _names_scikit_learn(path):  # it has no state_dict: the advice below was a dead end for it
                raise ValueError(f"'{path}' holds a pickled scikit-learn model, which srnet will not unpickle "
                                 f"because that can run arbitrary code; an MLPRegressor or MLPClassifier (or a "
                                 f"Pipeline ending in one) is explained from Python, where you load it: "
                                 f"srnet.SRNet().fit(model, X)") from None
            raise ValueError(
                f"'{path}' holds a pickled Python object (a whole model?), which srnet will not "
                f"unpickle because that can run arbitrary code; save model.state_dict() with "
                f"torch.save, or a TorchScript file with torch.jit.save"
            ) from None
        if refused or not (pickled or zipfile.is_zipfile(path)):
            raise ValueError(f"cannot read '{path}' as a PyTorch file: neither a torch.save archive, a pickle "
                             f"nor a TorchScript file (damaged, or another format)") from None
        raise ValueError(f"cannot read '{path}' as a PyTorch file: {_first_line(error)}") from None
    if isinstance(loaded, dict) and not loaded:  # ("unrecognised state_dict keys []")
        raise ValueError(f"'{path}' holds an empty dict: no weights (was the model's state_dict saved?)")
    if not isinstance(loaded, dict) or not all(
        isinstance(key, str) and isinstance(value, torch.Tensor) for key, value in loaded.items()
    ):
        described = (
            f"a dict with keys {list(loaded)[:5]}" if isinstance(loaded, dict) else type(loaded).__name__
        )
        # a training checkpoint ({'model': state_dict, 'epoch': 3, ...}): say which entry holds the weights
        inside = [key for key, value in loaded.items() if isinstance(value, dict) and value and all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in value.items())] if isinstance(
            loaded, dict) else []
        hint = (f" (a training checkpoint? its entry {inside[0]!r} holds a state_dict: save that alone, "
                f"torch.save(checkpoint[{inside[0]!r}], 'net.pt'))" if len(inside) == 1 else
                f" (a training checkpoint? its entries {', '.join(map(repr, inside))} hold state_dicts: save the "
                f"network's alone, torch.save(checkpoint[{inside[0]!r}], 'net.pt'))" if inside else "")
        raise ValueError(f"'{path}' holds {described}, not a state_dict of named tensors{hint}")
    return dict(loaded)


def _names_scikit_learn(path, head: int = 1 << 16) -> bool:
    """Whether a pickle's first bytes name a scikit-learn class (its GLOBAL opcodes hold module names as text):
    read as bytes, never unpickled."""
    try:
        with open(path, "rb") as file:
            return b"sklearn." in file.read(head)
    except OSError:
        return False


def _starts_like_a_pickle(path) -> bool:
    with open(path, "rb") as file:
        return file.read(1) == b"\x80"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def network_from_state_dict(state_dict: dict[str, torch.Tensor], spec: MLPSpec) -> nn.Module:
    """Build the MLP that ``state_dict`` belongs to and load it.

    The layout comes from the tensor names, and the widths from the weight
    shapes when ``spec.widths`` is None.

    Parameters
    ----------
    state_dict : dict of str to Tensor
    spec : MLPSpec

    Returns
    -------
    nn.Module
        In eval mode, in the dtype of the weights.

    Raises
    ------
    ValueError
        Naming the first tensor that the architecture does not match.
    """
    state_dict = without_wrapper_prefix(state_dict)
    layout, weights = linear_weights(state_dict)
    for key, tensor in state_dict.items():
        if tensor.is_meta:  # saved from a model built on the meta device: shapes without values
            raise ValueError(f"tensor '{key}' is on the meta device: it holds no values (save a model that was "
                             f"materialised, e.g. after .to_empty() and loading real weights)")
        if not tensor.is_floating_point():  # an MLP's weights are floats; the model cannot take another dtype
            raise ValueError(f"tensor '{key}' is {tensor.dtype}, not floating point: not the weights of an MLP")
        if tensor.dtype not in READABLE_DTYPES:  # float8 loaded,
            # then every probe failed: "not implemented for 'Float8_e4m3fn'"
            raise ValueError(f"tensor '{key}' is {tensor.dtype}: srnet reads float16, bfloat16, float32 or float64 "
                             f"weights (convert them with .float() before saving)")
        if tensor.layout != torch.strided:
            raise ValueError(f"tensor '{key}' is {tensor.layout}, not dense: save the weights dense (.to_dense())")
    binary = spec.output_activation == BINARY_LOGIT
    spec = _one_output(spec) if binary else spec  # the weights hold the one logit; made two once loaded
    if layout == "paper":
        _check_paper_head(weights, spec)
    if spec.widths is None:
        for (before_key, before), (key, weight) in zip(weights, weights[1:]):
            if weight.shape[1] != before.shape[0]:  # else the message named widths the user never gave
                raise ValueError(f"the weights do not chain: '{before_key}' gives {before.shape[0]} outputs but "
                                 f"'{key}' takes {weight.shape[1]} inputs")
        spec = MLPSpec(widths_from_weights(weights), spec.activation, spec.output_activation)
    # a Linear saved without a bias (bias=False) is built without one
    biases = [key[: -len("weight")] + "bias" in state_dict for key, _ in weights]
    n_layers = len(spec.widths) - 1  # a count that differs is named by the shape check, tensor by tensor
    biases = biases[:n_layers] + [True] * (n_layers - len(biases))
    with torch.device("meta"):  # shapes checked on a network without storage: a typo in a width (3-4000000000-1)
        declared = build_mlp(spec, layout=layout, biases=biases).state_dict()  # would have allocated gigabytes
    _check_shapes(declared, state_dict, spec, weights)
    model = build_mlp(spec, layout=layout, biases=biases)
    # the widest of the weights' dtypes (a float64 layer after a bfloat16 one was rounded to bfloat16)
    model.to(functools.reduce(torch.promote_types, (tensor.dtype for tensor in state_dict.values())))
    model.load_state_dict(state_dict)
    if binary:
        if spec.widths[-1] != 1:
            raise ValueError(f"':{BINARY_LOGIT}' is the head of a binary classifier of one output (its class-1 "
                             f"logit); these weights give {spec.widths[-1]} outputs (use ':softmax')")
        model = _as_two_logits(model)
    return model.eval()


def linear_weights(state_dict) -> tuple[str, list[tuple[str, torch.Tensor]]]:
    """The layout of an MLP's ``state_dict`` (``"paper"`` or ``"sequential"``,
    see :func:`build_mlp`), and its Linear weights ``(name, tensor)`` in
    forward order; a ValueError for keys of neither layout, or without a 2-D weight."""
    keys = list(state_dict)
    for layout, pattern in (("paper", _PAPER_KEY), ("sequential", _SEQUENTIAL_KEY)):
        matches = [pattern.fullmatch(key) for key in keys]
        if keys and all(matches):
            weights = sorted(
                (int(match.group(1)), key) for match, key in zip(matches, keys) if key.endswith("weight")
            )
            if not weights or any(state_dict[key].ndim != 2 for _, key in weights):
                break  # an MLP has at least one Linear, and its weights are matrices
            return layout, [(key, state_dict[key]) for _, key in weights]
    # name the keys that fit neither layout (an extra 'extra' beside valid '0.weight', ... was named by those)
    strange = [key for key in keys if not (_PAPER_KEY.fullmatch(key) or _SEQUENTIAL_KEY.fullmatch(key))] or keys
    raise ValueError(
        f"unrecognised state_dict keys {strange[:4]}: srnet loads MLPs (2-D Linear weights) saved as nn.Sequential "
        f"('0.weight', '2.weight', ...) or in the SRNet paper's layout ('fc1.0.weight', ..., 'fcN.weight'); "
        f"{_AS_TORCHSCRIPT}"
    )


#: What to do with a network whose state_dict is not an MLP's: TorchScript keeps its modules (BatchNorm,
#: Dropout, a class of the user's own), and srnet reads their order from it.
_AS_TORCHSCRIPT = ("for other networks (BatchNorm, Dropout, a class of your own) save "
                   "torch.jit.save(torch.jit.script(model), 'net.pt') and drop --arch")

#: Prefixes that wrappers add to every key: nn.DataParallel / DistributedDataParallel, torch.compile.
_WRAPPER_PREFIXES = ("module.", "_orig_mod.")


def without_wrapper_prefix(state_dict: dict) -> dict:
    """``state_dict`` without the prefix a wrapper put on every key (``module.0.weight`` of a DataParallel
    model, ``_orig_mod.0.weight`` of a compiled one: they were "unrecognised")."""
    for prefix in _WRAPPER_PREFIXES:
        if state_dict and all(key.startswith(prefix) for key in state_dict):
            return without_wrapper_prefix({key[len(prefix):]: value for key, value in state_dict.items()})
    return state_dict


def _check_paper_head(weights, spec: MLPSpec) -> None:
    """In the paper layout the last block's keys tell whether an output activation follows."""
    last = weights[-1][0]
    if last.endswith(".0.weight") and spec.output_activation is None:
        raise ValueError(
            f"the weights end in a block ('{last}': an output activation follows the last Linear) "
            f"but architecture '{spec}' has none; add it, e.g. '{spec}:softmax'"
        )
    if not last.endswith(".0.weight") and spec.output_activation is not None:
        raise ValueError(
            f"the weights end in a plain Linear ('{last}') but architecture '{spec}' "
            f"has output activation '{spec.output_activation}'"
        )


def _check_shapes(expected: dict, found: dict, spec: MLPSpec, weights) -> None:
    """Name the first tensor on which the architecture and the file disagree (``weights``: the file's Linear
    weights in forward order, as :func:`linear_weights` gives them)."""
    for key, tensor in expected.items():
        if key not in found:
            plain = key.replace(".0.", ".")
            hint = ""
            if plain == weights[-1][0]:  # the paper's plain last Linear, where the architecture has another block
                hint = (f" (the file's {len(weights)} Linear layers end in '{plain}'; the architecture has "
                        f"{len(spec.widths) - 1})")
            elif spacing := _spacing(weights):  # Sequential(Linear, Tanh, Dropout, Linear) numbers its Linears 0, 3
                hint = (f" (its Linear layers are modules {', '.join(k.split('.')[0] for k, _ in weights)}: "
                        f"{spacing}; {_AS_TORCHSCRIPT})")
            elif plain != key and plain in found:
                hint = (f" (it has '{plain}': a module of its own whose forward applies the activations as "
                        f"functions, F.relu(self.fc1(x)), which srnet cannot see in a state_dict; save it with "
                        f"torch.jit.save(torch.jit.script(model)), or build it from nn.Linear and activation modules)")
            raise ValueError(
                f"architecture '{spec}' needs tensor '{key}' {tuple(tensor.shape)}, which the file lacks{hint}"
            )
        if found[key].shape != tensor.shape:
            raise ValueError(
                f"architecture '{spec}' does not match the weights: tensor '{key}' is "
                f"{tuple(found[key].shape)} in the file but {tuple(tensor.shape)} in the architecture"
            )
    for key, tensor in found.items():
        if key not in expected:
            raise ValueError(
                f"the file has tensor '{key}' {tuple(tensor.shape)}, which architecture '{spec}' lacks"
            )


def _spacing(weights) -> str:
    """What a Sequential's Linear layers numbered otherwise than 0, 2, 4, ... (Linear, activation, Linear, ...)
    have around them, as a message; "" where they are so numbered (or not a Sequential's)."""
    indices = [key.split(".")[0] for key, _ in weights]
    if not all(index.isdigit() for index in indices):
        return ""
    indices = [int(index) for index in indices]
    gaps = [b - a for a, b in zip(indices, indices[1:])]
    found = ["a module without weights before the first (such as nn.Flatten)"] if indices[0] > 0 else []
    if any(gap > 2 for gap in gaps):
        found.append("more than an activation between two of them (such as nn.Dropout)")
    if any(gap == 1 for gap in gaps):
        found.append("two of them with no activation between")
    return ", and ".join(found)


def widths_from_weights(weights) -> tuple[int, ...]:
    """``(n_inputs, *layer outputs)`` from the Linear weights in forward order."""
    return (int(weights[0][1].shape[1]), *(int(weight.shape[0]) for _, weight in weights))


# ------------------------------------------------------------ other networks

_SKLEARN_ACTIVATIONS = {"identity": nn.Identity, "logistic": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}
_SCALERS = ("StandardScaler", "MinMaxScaler", "MaxAbsScaler")
ACCEPTED = (
    "a torch module (nn.Module), a TorchScript module, a state_dict with its architecture "
    "(srnet.networks.network_from_state_dict, or --arch on the command line), or a fitted scikit-learn "
    "MLPRegressor/MLPClassifier (alone or after a scaler in a Pipeline); for activations recorded "
    "elsewhere use SRNet.fit_activations(X, activations)"
)


class Scale(nn.Module):
    """Element-wise ``((x - shift) / divisor) * factor + offset``, with fixed
    (buffer) vectors: a standardisation or a min-max scaling inside a network.

    srnet folds it into the next linear map (it is never a layer of its own).
    """

    def __init__(self, shift=0.0, divisor=1.0, factor=1.0, offset=0.0, *, dtype=torch.float64):
        super().__init__()
        for name, value in (("shift", shift), ("divisor", divisor), ("factor", factor), ("offset", offset)):
            self.register_buffer(name, torch.as_tensor(value, dtype=dtype).reshape(-1).clone())

    def forward(self, x):
        return (x - self.shift) / self.divisor * self.factor + self.offset


class Exp(nn.Module):
    """``exp(x)``: the output of a Poisson ``MLPRegressor``."""

    def forward(self, x):
        return torch.exp(x)


@contextlib.contextmanager
def in_eval_mode(model: nn.Module):
    """Run the block with ``model`` in eval mode, and give every module its own training flag back however the
    block ends (a probe in training mode would update BatchNorm's running statistics and draw Dropout's random
    numbers; one that left the caller's model in eval mode changed its next training)."""
    training = {module: module.training for module in model.modules()}
    model.eval()
    try:
        yield model
    finally:
        for module, flag in training.items():
            module.training = flag


def as_network(model) -> nn.Module:
    """``model`` as a torch module srnet can probe.

    Torch and TorchScript modules are returned as they are (a bare Linear
    as a Sequential of it; ``torch.compile(module)`` as the module it
    compiled); a fitted
    scikit-learn MLP (or a Pipeline of scalers and one) is converted by
    :func:`from_sklearn`.

    Raises
    ------
    TypeError
        For anything else, in one line naming what is accepted.
    """
    if isinstance(model, nn.Linear):  # a bare Linear is a network of one layer, named "0" (as in a Sequential)
        return nn.Sequential(model)
    if isinstance(model, torch.jit.TopLevelTracedModule):
        return _reloaded(model)
    dynamo = sys.modules.get("torch._dynamo.eval_frame")  # (loaded by torch.compile: without it, no wrapper)
    if dynamo is not None and isinstance(model, dynamo.OptimizedModule):  # torch.compile's wrapper of a module
        # the module it wraps: its layers were named '_orig_mod.1', its own names refused, and every probe of the
        # wrapper recompiled (9 s to plan the layers); the same numbers, eager
        return as_network(model._orig_mod)
    if getattr(model, "_compiled_call_impl", None) is not None:  # model.compile(), in place (torch >= 2.2)
        # probed through its compiled call, every new batch size recompiled (6 s for a probe of a 17-weight
        # network): the same module, eager, in a shallow copy (its layers and weights shared; the user's stays
        # compiled)
        eager = copy.copy(model)
        eager._compiled_call_impl = None
        return eager
    if isinstance(model, nn.Module):
        return model
    if _sklearn_kind(model) is not None:
        return from_sklearn(model)
    if isinstance(model, dict) and model and all(isinstance(v, torch.Tensor) for v in model.values()):
        raise TypeError(
            "got a state_dict, which needs its architecture: build the network with "
            "srnet.networks.network_from_state_dict(state_dict, parse_architecture('mlp:3-16-1:sigmoid'))"
        )
    if isinstance(model, (str, Path)):
        raise TypeError(f"got a path ({str(model)!r}); load it with srnet.networks.load_network(path, "
                        f"architecture) first. srnet explains {ACCEPTED}")
    raise TypeError(f"srnet cannot explain a {type(model).__name__}; it explains {ACCEPTED}")


def _reloaded(traced) -> nn.Module:
    """A ``torch.jit.trace`` result as TorchScript loads it back: the submodules of a traced module cannot be
    called ("Trace submodules cannot be called"), so its layers could not be probed in order, and srnet said
    so of a plain chain; saved and loaded (in memory), the same code runs them one by one."""
    from srnet.probe import in_training_mode  # (srnet.probe reads this module)

    buffer = io.BytesIO()
    with warnings.catch_warnings():  # torch's own deprecation notes of jit.save and jit.load: srnet's doing
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(traced, buffer)
        buffer.seek(0)
        reloaded = torch.jit.load(buffer)
    training = in_training_mode(reloaded)
    if training:  # the trace holds training behaviour (a batch's statistics, dropout); eval() does not change it
        raise ValueError(f"this module was traced in training mode, and its module '{training[0]}' computes as in "
                         f"training inside the trace (model.eval() does not change a trace): call model.eval() "
                         f"before torch.jit.trace, or pass the module itself")
    return reloaded


def _sklearn_kind(model) -> str | None:
    """"mlp" or "pipeline" for scikit-learn objects srnet converts, else None."""
    module = type(model).__module__
    if module.startswith("sklearn.neural_network") and type(model).__name__ in ("MLPRegressor", "MLPClassifier"):
        return "mlp"
    if module.startswith("sklearn.pipeline") and type(model).__name__ == "Pipeline":
        return "pipeline"
    return None


def from_sklearn(estimator) -> nn.Sequential:
    """The float64 torch network that computes what a fitted scikit-learn MLP computes.

    Blocks ``fc1 .. fcN`` as in the paper layout: ``Sequential(Linear,
    activation)`` per hidden layer (identity, logistic, tanh or relu), then
    the output layer.  ``MLPRegressor``: a plain Linear, whose output is
    ``predict``.  ``MLPClassifier``, multiclass: ``Sequential(Linear,
    Softmax)``, whose output is ``predict_proba`` and whose logits srnet
    explains.  Binary: the logistic output ``sigmoid(z)`` written exactly as
    the two-class softmax of the logits ``(0, z)`` (scikit-learn's
    ``predict_proba`` columns), so the classifier path (logits, class
    agreement) applies; multilabel: ``Sequential(Linear, Sigmoid)``; Poisson regression:
    ``Sequential(Linear, Exp)``.

    A ``Pipeline`` of ``StandardScaler``/``MinMaxScaler``/``MaxAbsScaler``
    steps (or ``"passthrough"``) ending in such an MLP becomes the same
    network with a :class:`Scale` module in front (``scaler``), which srnet
    folds into the first linear map: formulas are in the raw features.

    Raises
    ------
    ValueError
        An unfitted estimator, an unknown activation or pipeline step.
    """
    if _sklearn_kind(estimator) == "pipeline":
        steps = [step for _, step in estimator.steps if step is not None and step != "passthrough"]
        if not steps or _sklearn_kind(steps[-1]) != "mlp":
            raise ValueError("a scikit-learn Pipeline must end in an MLPRegressor or MLPClassifier")
        blocks = OrderedDict()
        for k, step in enumerate(steps[:-1]):
            blocks["scaler" if len(steps) == 2 else f"scaler{k + 1}"] = _scaler_module(step)
        blocks.update(from_sklearn(steps[-1]).named_children())
        return nn.Sequential(blocks).eval()
    if _sklearn_kind(estimator) != "mlp":
        raise TypeError(f"from_sklearn converts fitted MLPRegressor/MLPClassifier; got {type(estimator).__name__}")
    if not hasattr(estimator, "coefs_"):
        raise ValueError(f"this {type(estimator).__name__} is not fitted yet; call fit before explaining it")
    labels = getattr(estimator, "classes_", None)
    if labels is not None and len(labels) < 2:  # (scikit-learn fits one; srnet said "1 class labels for 2 outputs")
        raise ValueError(f"this {type(estimator).__name__} was fitted on one class ({labels.tolist()[0]!r}): it always "
                         f"answers it, and there is nothing to explain")
    if estimator.activation not in _SKLEARN_ACTIVATIONS:
        raise ValueError(f"unknown scikit-learn activation {estimator.activation!r}")
    linears = []
    for weight, bias in zip(estimator.coefs_, estimator.intercepts_):
        linear = nn.Linear(weight.shape[0], weight.shape[1], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.as_tensor(weight.T, dtype=torch.float64))
            linear.bias.copy_(torch.as_tensor(bias, dtype=torch.float64))
        linears.append(linear)
    blocks = OrderedDict(
        (f"fc{k}", nn.Sequential(linear, _SKLEARN_ACTIVATIONS[estimator.activation]()))
        for k, linear in enumerate(linears[:-1], start=1)
    )
    last, name, out = linears[-1], f"fc{len(linears)}", estimator.out_activation_
    if out == "identity":
        blocks[name] = last
    elif out == "softmax":
        blocks[name] = nn.Sequential(last, nn.Softmax(dim=1))
    elif out == "logistic" and last.out_features == 1:  # binary: sigmoid(z) = softmax((0, z))[1]
        blocks[name] = two_logits(last)
    elif out == "logistic":
        blocks[name] = nn.Sequential(last, nn.Sigmoid())
    elif out == "exp":  # MLPRegressor(loss="poisson")
        blocks[name] = nn.Sequential(last, Exp())
    else:
        raise ValueError(f"unknown scikit-learn output activation {out!r}")
    return nn.Sequential(blocks).eval()


def _scaler_module(step) -> Scale:
    kind = type(step).__name__
    if kind not in _SCALERS or not type(step).__module__.startswith("sklearn.preprocessing"):
        raise ValueError(f"srnet converts Pipelines of {', '.join(_SCALERS)} steps and one MLP; got {kind}")
    if not hasattr(step, "scale_") and not hasattr(step, "mean_"):
        raise ValueError(f"this {kind} is not fitted yet")
    if kind == "StandardScaler":  # (x - mean_) / scale_, either part optional
        # with_mean=False still fits mean_ (for its variance) but does not subtract it
        return Scale(shift=step.mean_ if step.with_mean and step.mean_ is not None else 0.0,
                     divisor=step.scale_ if step.with_std and step.scale_ is not None else 1.0)
    if kind == "MinMaxScaler":  # x * scale_ + min_
        if getattr(step, "clip", False):
            raise ValueError("srnet does not convert MinMaxScaler(clip=True): a formula of the network would "
                             "not clip its inputs; refit the Pipeline with clip=False")
        return Scale(factor=step.scale_, offset=step.min_)
    return Scale(divisor=step.scale_)  # MaxAbsScaler: x / scale_
