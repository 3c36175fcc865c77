"""The networks, training loop and metrics of the activation study.

Models (binary classification, one logit out):

* :func:`heavy_network`: d -> 200 -> 100 -> 1 with BatchNorm, ReLU and
  dropout 0.3 after each hidden Linear;
* :func:`light_network`: d -> 64 -> 32 -> 1 with any activation (a name of
  :data:`srnet.networks.ACTIVATIONS` or a module, copied per layer: an
  :class:`~srnet.activations.ExpressionActivation` found by a route makes a
  "Hybrid" network).

Data: :func:`one_vs_rest` turns labels into 0/1 (the most frequent class
against the rest when there are more than two classes), :func:`split` makes
a stratified train/test split, :func:`standardise` scales with training
statistics.  Metrics: accuracy, ROC AUC, parameters, and the efficiency
``E = AUC / log10(parameters)`` (:func:`efficiency`).
"""

from __future__ import annotations

import copy
import math
import time

import numpy as np
import torch
from torch import nn

from srnet.data import check_binary_labels, check_budget, check_matrix
from srnet.networks import ACTIVATIONS
from srnet.train import TrainingDiverged, fit_network

# ------------------------------------------------------------------ devices

def resolve_device(device="auto") -> torch.device:
    """``"auto"``: CUDA when available, else CPU; anything else as given, if this machine has it."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    from srnet.train import torch_device

    # one line for a name torch does not know, or a device this machine lacks (a torch.device("cuda") too: it was
    # returned as given, and the first .to() raised torch's AssertionError)
    return torch_device(str(device) if isinstance(device, torch.device) else device)


# ------------------------------------------------------------------- models

def activation_module(activation) -> nn.Module:
    """A fresh module: a name of :data:`srnet.networks.ACTIVATIONS`, or a
    copy of a module (each layer its own, with its own affine parameters)."""
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation '{activation}'; choose from {', '.join(ACTIVATIONS)} "
                             "or pass a module")
        return ACTIVATIONS[activation]()
    if isinstance(activation, nn.Module):
        return copy.deepcopy(activation)  # each layer its own copy (own affine parameters, if any)
    raise TypeError(f"activation must be a name or an nn.Module, got {type(activation).__name__}")


def _widths(n_features, n_outputs, hidden) -> tuple[int, int, list[int]]:
    """The layer widths as ints, else one line (a width of 0 built a network of empty layers)."""
    n_features = check_budget("n_features", n_features, integer=True)
    n_outputs = check_budget("n_outputs", n_outputs, integer=True)
    if isinstance(hidden, (str, bytes)) or not hasattr(hidden, "__iter__"):
        raise ValueError(f"hidden must be a sequence of layer widths such as (64, 32), got {hidden!r}")
    return n_features, n_outputs, [check_budget("hidden width", size, integer=True) for size in hidden]


def heavy_network(n_features: int, n_outputs: int = 1, *, hidden=(200, 100), dropout: float = 0.3) -> nn.Sequential:
    """The study's large baseline: Linear -> BatchNorm -> ReLU -> Dropout per hidden layer."""
    n_features, n_outputs, hidden = _widths(n_features, n_outputs, hidden)
    layers, width = [], n_features
    for size in hidden:
        layers += [nn.Linear(width, size), nn.BatchNorm1d(size), nn.ReLU(), nn.Dropout(dropout)]
        width = size
    return nn.Sequential(*layers, nn.Linear(width, n_outputs))


def light_network(n_features: int, activation="relu", n_outputs: int = 1, *, hidden=(64, 32)) -> nn.Sequential:
    """The study's small network: Linear -> activation per hidden layer."""
    n_features, n_outputs, hidden = _widths(n_features, n_outputs, hidden)
    layers, width = [], n_features
    for size in hidden:
        layers += [nn.Linear(width, size), activation_module(activation)]
        width = size
    return nn.Sequential(*layers, nn.Linear(width, n_outputs))


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters (BatchNorm's running statistics are buffers, not counted)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def efficiency(auc: float, n_parameters: int) -> float:
    """``E = AUC / log10(parameters)``: accuracy bought per order of magnitude of size."""
    if n_parameters <= 1:
        raise ValueError(f"efficiency needs more than one parameter, got {n_parameters}")
    return float(auc) / math.log10(n_parameters)


# --------------------------------------------------------------------- data

def one_vs_rest(y) -> tuple[np.ndarray, float]:
    """0/1 labels: for two classes the larger label is 1; for more, the most
    frequent class is 1 and every other class 0 (ties: the smallest label).
    Returns ``(labels, positive class)``."""
    y = np.asarray(y).reshape(-1)
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):  # NaN was taken as the positive class, every row 0
        raise ValueError(f"labels must be finite: {int(np.sum(~np.isfinite(y)))} of {y.size} are NaN or inf")
    classes, counts = np.unique(y, return_counts=True)
    if classes.size < 2:
        raise ValueError(f"one class only ({classes.tolist()}): nothing to classify")
    positive = classes[-1] if classes.size == 2 else classes[np.argmax(counts)]
    return (y == positive).astype(np.float64), positive.item()


def split(X, y, *, test_size: float = 0.2, random_state: int = 0):
    """Stratified train/test split: ``X_train, X_test, y_train, y_test``."""
    from sklearn.model_selection import train_test_split

    return train_test_split(X, y, test_size=test_size, random_state=random_state, stratify=y)


def standardise(X_train, *others):
    """Scale every array with the training mean and std (a constant column is
    centred, not scaled).  Returns the scaled training array, then the others."""
    X_train = np.asarray(X_train, dtype=np.float64)
    mean = X_train.mean(axis=0)
    std = X_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return tuple((np.asarray(X, dtype=np.float64) - mean) / std for X in (X_train, *others))


#: The American spelling, kept for existing callers; srnet spells it standardise.
standardize = standardise


# ----------------------------------------------------------------- training

def train_binary(model: nn.Module, X, y, *, epochs: int = 15, lr: float = 1e-3, batch_size: int = 1024,
                 device="cpu", random_state: int = 0) -> tuple[nn.Module, list[float]]:
    """Adam on the binary cross-entropy of the model's logit; returns the model
    (in eval mode, on ``device``) and the mean training loss of each epoch.

    Raises ValueError in one line when X holds NaN/inf or the loss stops
    being finite (training stops at that batch, before its step).

    ``random_state`` seeds the shuffling and the dropout masks (the global
    torch RNG is left as it was); seed the initial weights when building the
    model (:func:`seeded`).
    """
    device = resolve_device(device)
    model = model.to(device)
    inputs = torch.as_tensor(check_matrix(X, "X"), dtype=torch.float32, device=device)  # NaN trained silently
    targets = torch.as_tensor(check_binary_labels(np.asarray(y, dtype=np.float64)), dtype=torch.float32,
                              device=device).reshape(-1, 1)
    # a batch of 1 breaks BatchNorm: a remainder of one row is skipped
    # a NaN loss went on training (NaN weights) and the study reported the accuracy of NaN logits
    losses = fit_network(model, inputs, targets, nn.BCEWithLogitsLoss(), epochs=epochs, batch_size=batch_size,
                         lr=lr, random_state=random_state, skip_single_row_batches=True, stop_on_nonfinite=True)
    if losses and not math.isfinite(losses[-1]):
        raise TrainingDiverged(f"training diverged (the loss is not finite at epoch {len(losses)}); lower lr "
                               f"(got {lr:g}) or check the activation")
    return model, losses


@torch.no_grad()
def predict_logits(model: nn.Module, X, *, device=None, batch_size: int = 8192) -> np.ndarray:
    """The model's logits on X (eval mode), as a float64 vector."""
    device = next(model.parameters()).device if device is None else resolve_device(device)
    batch_size = check_budget("batch_size", batch_size, integer=True)  # 0 was range()'s error
    model.eval()
    inputs = torch.as_tensor(np.asarray(X), dtype=torch.float32)
    out = [model(inputs[i : i + batch_size].to(device)).reshape(-1).double().cpu()
           for i in range(0, inputs.shape[0], batch_size)]
    return torch.cat(out).numpy()


def evaluate_binary(model: nn.Module, X, y) -> dict:
    """Accuracy (logit > 0) and ROC AUC on (X, y); both NaN for non-finite logits, the AUC NaN for test rows of
    one class (it ranks nothing: scikit-learn warned and gave NaN)."""
    from sklearn.metrics import roc_auc_score

    logits = predict_logits(model, X)
    y = np.asarray(y).reshape(-1)
    if not np.all(np.isfinite(logits)):  # NaN > 0 is False: NaN logits scored as an accuracy of every negative
        return {"accuracy": math.nan, "roc_auc": math.nan}
    accuracy = float(np.mean((logits > 0) == (y > 0.5)))
    auc = float(roc_auc_score(y, logits)) if np.unique(y > 0.5).size == 2 else math.nan
    return {"accuracy": accuracy, "roc_auc": auc}


def fit_and_score(model: nn.Module, data, *, epochs: int = 15, lr: float = 1e-3, batch_size: int = 1024,
                  device="cpu", random_state: int = 0) -> dict:
    """Train on ``data = (X_train, y_train, X_test, y_test)`` and report
    accuracy, ROC AUC, parameters, efficiency, seconds, final loss and
    whether training diverged (then accuracy, AUC and efficiency are NaN: an
    activation that diverges is a result of a study, not the end of it)."""
    X_train, y_train, X_test, y_test = data
    started = time.perf_counter()
    try:
        model, losses = train_binary(model, X_train, y_train, epochs=epochs, lr=lr, batch_size=batch_size,
                                     device=device, random_state=random_state)
    except TrainingDiverged:
        return {"accuracy": math.nan, "roc_auc": math.nan, "parameters": count_parameters(model),
                "efficiency": math.nan, "seconds": time.perf_counter() - started, "final_loss": math.nan,
                "diverged": True}
    scores = evaluate_binary(model, X_test, y_test)
    n_parameters = count_parameters(model)
    auc = scores["roc_auc"]
    return {**scores, "parameters": n_parameters,
            "efficiency": efficiency(auc, n_parameters) if math.isfinite(auc) else math.nan,
            "seconds": time.perf_counter() - started, "final_loss": losses[-1] if losses else math.nan,
            "diverged": False}


def seeded(builder, seed: int, *args, **kwargs) -> nn.Module:
    """``builder(*args, **kwargs)`` with torch's RNG seeded for the initial
    weights, leaving the global RNG as it was."""
    seed = check_budget("seed", seed, integer=True, positive=False)  # 1.5 seeded 1
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return builder(*args, **kwargs)


__all__ = ["count_parameters", "efficiency", "evaluate_binary", "fit_and_score", "heavy_network", "light_network",
           "one_vs_rest", "predict_logits", "resolve_device", "seeded", "split", "standardise", "standardize",
           "train_binary"]
