"""Train small MLPs to explain: the networks srnet's own tests and demos open up.

:func:`train_mlp` fits an MLP built by :func:`srnet.networks.build_mlp` with
Adam, on ``X`` and ``y`` exactly as given: nothing is standardised, because
the formulas srnet extracts should be in the user's own units.  Sigmoid
networks train best on inputs of order one; scale beforehand if yours are not
(the SRNet paper's networks were trained on raw inputs).

:func:`fit_network` is the minibatch loop itself, shared by :func:`train_mlp`,
the activation study (:func:`srnet.activations.study_models.train_binary`) and
the activation search (:func:`srnet.activations.search_activation`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from srnet.data import TASKS, check_budget, check_matrix, check_vector, class_indices, label_array, seeded_split
from srnet.networks import MLPSpec, build_mlp


class TrainingDiverged(ValueError):
    """The training loss stopped being finite (lower the learning rate, rescale the target, or change the
    activation): raised by :func:`train_mlp` and the activation study's training."""


@dataclass(frozen=True)
class TrainingRecord:
    """What :func:`train_mlp` reports about the fit.

    Attributes
    ----------
    final_loss : float
        On the rows trained on (all of them, less the ``validation_fraction``
        held out for early stopping) after the last epoch, in eval mode: the
        MSE (regression) or the mean cross-entropy (classification).
    accuracy : float or None
        Training accuracy of the arg-max class, on the same rows; None for regression.
    classes : ndarray of shape (n_classes,) or None
        The label of each output unit, sorted; None for regression.
    epochs : int
        Epochs run (fewer than asked when early stopping ended the run).
    seconds : float
        Wall time of the training loop.
    best_epoch : int or None
        With early stopping: the epoch (1-based) whose weights were kept, the
        one with the least validation loss; None without.
    """

    final_loss: float
    accuracy: float | None
    classes: np.ndarray | None
    epochs: int
    seconds: float
    best_epoch: int | None = None


def fit_network(model: nn.Module, X, y, loss, *, epochs: int, batch_size: int, lr: float, random_state: int = 0,
                device=None, skip_single_row_batches: bool = False, stop_on_nonfinite: bool = False,
                validation=None, patience: int = 10, history: dict | None = None) -> list[float]:
    """Train ``model`` with Adam on shuffled minibatches of ``(X, y)``.

    Parameters
    ----------
    model : nn.Module
        Moved to ``device`` when one is given; left in eval mode.
    X, y : tensors or arrays
        Inputs and targets, one row each per sample, as tensors of the
        model's floating dtype (float32 for most) on ``device``; integer
        tensors (class indices) keep theirs.
    loss : callable
        ``loss(model(X[rows]), y[rows])``, a mean over the rows.
    epochs, batch_size, lr : int, int, float
        Passes over the data, rows per step (the last batch may be smaller),
        Adam's learning rate.
    random_state : int, default=0
        Seeds the shuffling (its own generator) and, inside the loop, torch's
        global RNG (dropout masks), which is restored afterwards: same seed,
        same run.  Seed the initial weights when building the model.
    device : str, torch.device or None
        None keeps the model and tensors where they are.
    skip_single_row_batches : bool, default=False
        Skip a last batch of one row (BatchNorm cannot train on it).
    stop_on_nonfinite : bool, default=False
        Stop at the first batch whose loss is not finite (checked before its
        step); the returned list then ends with ``inf``.
    validation : (X, y) or None
        Early stopping: after each epoch the loss on these rows (not trained
        on); training stops after ``patience`` epochs without a lower one,
        and the model keeps the weights of the epoch with the least (also when a later batch
        diverges or training is interrupted).
    patience : int, default=10
    history : dict or None
        With ``validation``, filled with ``validation_loss`` (one per epoch)
        and ``best_epoch`` (1-based).

    Returns
    -------
    list of float
        The mean training loss of each epoch (over the rows it trained on,
        divided by all rows).
    """
    # epochs=0 or a negative batch size returned an untrained network with a loss of 0; 1.5 was a traceback
    epochs = check_budget("epochs", epochs, integer=True)
    batch_size = check_budget("batch_size", batch_size, integer=True)
    lr = check_budget("lr", lr)
    # 1.5 was truncated, True taken as 1, None a TypeError and 2**64 torch's overflow
    random_state = check_budget("random_state", random_state, integer=True, positive=False)
    patience = check_budget("patience", patience, integer=True)  # checked without validation rows too
    if device is not None:
        device = torch_device(device)
        model = model.to(device)
    dtype = next((p.dtype for p in model.parameters() if p.dtype.is_floating_point), torch.float32)
    inputs = _as_tensor(X, device, dtype)
    targets = _as_tensor(y, device, dtype)
    if inputs.shape[0] != targets.shape[0]:
        raise ValueError(f"X has {inputs.shape[0]} rows but y has {targets.shape[0]}")
    n = inputs.shape[0]
    if n == 0:  # the epoch's mean loss was a ZeroDivisionError
        raise ValueError("X has no rows to train on")
    _check_target_shape(model, inputs, targets)
    if validation is not None:
        valid_inputs, valid_targets = _as_tensor(validation[0], device, dtype), _as_tensor(validation[1], device, dtype)
        if valid_inputs.shape[0] != valid_targets.shape[0] or valid_inputs.shape[0] < 1:
            raise ValueError(f"validation has {valid_inputs.shape[0]} rows of X and {valid_targets.shape[0]} of y")
        _check_target_shape(model, valid_inputs, valid_targets, "validation y")
    best_loss, best_state, since_best = math.inf, None, 0
    history = {} if history is None else history
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    shuffler = torch.Generator().manual_seed(int(random_state))
    losses = []
    model.train()
    where = inputs.device
    cuda = [where.index if where.index is not None else torch.cuda.current_device()] if where.type == "cuda" else []
    try:
        with torch.random.fork_rng(devices=cuda):
            torch.manual_seed(int(random_state))  # dropout masks: same seed, same run
            for _ in range(epochs):
                order = torch.randperm(n, generator=shuffler).to(where)
                total = torch.zeros((), device=where)
                diverged = False
                for first in range(0, n, batch_size):
                    rows = order[first : first + batch_size]
                    if skip_single_row_batches and rows.numel() < 2 and first > 0:
                        continue
                    optimizer.zero_grad()
                    value = loss(model(inputs[rows]), targets[rows])
                    if stop_on_nonfinite and not torch.isfinite(value):
                        diverged = True
                        break
                    value.backward()
                    optimizer.step()
                    total += value.detach() * rows.numel()
                if diverged:
                    losses.append(math.inf)
                    break
                losses.append(float(total) / n)
                if validation is None:
                    continue
                model.eval()
                with torch.no_grad():
                    valid_loss = float(loss(model(valid_inputs), valid_targets))
                model.train()
                history.setdefault("validation_loss", []).append(valid_loss)
                if valid_loss < best_loss:
                    best_loss, since_best, history["best_epoch"] = valid_loss, 0, len(losses)
                    best_state = {name: value.detach().clone() for name, value in model.state_dict().items()}
                else:
                    since_best += 1
                    if since_best >= patience:
                        break
    finally:  # a divergence or a Ctrl-C after a best epoch keeps that epoch's weights, in eval mode
        if best_state is not None:
            model.load_state_dict(best_state)
        model.eval()
    return losses


def _check_target_shape(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, name: str = "y") -> None:
    """Floating targets must have the model's output shape per row: a 1-D y against (n, 1) outputs
    broadcast to (n, n) in the MSE, and the network learnt y's mean (loss 9.15 where 0 was reachable);
    a validation y so shaped kept the weights of a wrong validation loss."""
    if not targets.dtype.is_floating_point:
        return
    was_training = model.training
    model.eval()
    with torch.no_grad():
        per_row = tuple(model(inputs[:1]).shape[1:])
    model.train(was_training)
    if tuple(targets.shape[1:]) != per_row:
        raise ValueError(f"{name} has shape {tuple(targets.shape)} but the model gives {per_row or 'a scalar'} "
                         f"per row; reshape {name} to ({targets.shape[0]}, {', '.join(map(str, per_row))})")


def _as_tensor(values, device, dtype) -> torch.Tensor:
    if isinstance(values, torch.Tensor):  # a float64 tensor (torch.tensor of a NumPy array) met a float32 model
        return values.to(device=device, dtype=dtype if values.dtype.is_floating_point else values.dtype)
    # (a copy: torch warns of a NumPy array that is not writable, as pandas' .to_numpy() and srnet's checks give)
    return torch.tensor(np.asarray(values), dtype=dtype, device=device)


def torch_device(device) -> torch.device:
    """``device`` (a name such as "cpu" or "cuda:0", or a torch.device) as a torch.device this torch can use,
    else one line (torch's own errors are an AssertionError or a list of every device type it knows)."""
    try:
        checked = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must name a torch device such as 'cpu' or 'cuda'; got {device!r}") from None
    if checked.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r}: this torch has no CUDA device (use 'cpu')")
    try:  # mps, xpu, cuda:5 on a machine with one GPU: torch knows the type but cannot use the device
        torch.empty(0, device=checked)
    except (RuntimeError, AssertionError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        # its first sentence: the line goes on for a kilobyte ("... If you are a Facebook employee ...", then
        # every backend the operator has)
        first = first.split(". ")[0].rstrip(".")
        raise ValueError(f"device {device!r} is not available here: {first} (use 'cpu')") from None
    return checked


def train_mlp(
    X,
    y,
    *,
    hidden=(16, 16),
    activation: str = "sigmoid",
    task: str = "regression",
    epochs: int = 1000,
    lr: float = 0.01,
    batch_size: int = 256,
    random_state: int = 0,
    device="cpu",
    layout: str = "sequential",
    validation_fraction: float | None = None,
    patience: int = 10,
) -> tuple[nn.Module, TrainingRecord]:
    """Train a float32 MLP with Adam.

    Regression minimises the MSE between the network's outputs and ``y``;
    classification minimises the cross-entropy of the network's outputs,
    which are logits: the module ends with a Linear layer, and turning logits
    into probabilities (softmax) is the caller's business.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Regression targets, or class labels of any sortable type.
    hidden : sequence of int, default=(16, 16)
        Hidden layer widths; empty for a linear model.
    activation : str, default="sigmoid"
        Hidden activation, a key of :data:`srnet.networks.ACTIVATIONS`.
    task : {"regression", "classification"}, default="regression"
    epochs : int, default=1000
        Passes over the data, each in shuffled mini-batches.
    lr : float, default=0.01
        Adam's learning rate.
    batch_size : int, default=256
        Rows per step (the whole set when smaller).
    random_state : int, default=0
        Seeds the initial weights and the shuffling; the global torch RNG is
        left as it was.  Same seed, same network, on the CPU.
    device : str or torch.device, default="cpu"
    layout : {"sequential", "paper"}, default="sequential"
        See :func:`srnet.networks.build_mlp`.
    validation_fraction : float or None, default=None
        Early stopping: hold out this share of the rows (stratified by class
        when every class has two rows), stop after ``patience`` epochs
        without a lower loss on them, and keep the weights of the best epoch
        (as practitioners train: a network run to a fixed step count on a
        small noisy table memorises it, 100 % on its training rows and near
        chance on new ones).  None: train on every row for ``epochs``.
    patience : int, default=10
        Epochs without a better validation loss before stopping.

    Returns
    -------
    model : nn.Module
        In eval mode, on ``device``.
    record : TrainingRecord

    Notes
    -----
    Networks this small gain nothing from torch's intra-op threads and lose
    much to them on a busy machine: ``torch.set_num_threads(1)`` trains the
    1-8-8-1 network of the tests on 200 points in under a second.
    """
    X = check_matrix(X)
    if task not in TASKS:
        raise ValueError(f"unknown task '{task}'; choose from {', '.join(TASKS)}")
    # the project's one rule for budgets: refuses booleans as counts and a NaN or infinite lr (a NaN network)
    epochs = check_budget("epochs", epochs, integer=True)
    device = torch_device(device)  # one line for a device this torch cannot use
    batch_size = check_budget("batch_size", batch_size, integer=True)
    random_state = check_budget("random_state", random_state, integer=True, positive=False)
    patience = check_budget("patience", patience, integer=True)  # checked without validation rows too
    lr = check_budget("lr", lr)
    if task == "regression":
        targets, classes = _regression_targets(y, X.shape[0]), None
        _check_float32("y", targets)
        n_outputs, loss_function = targets.shape[1], nn.MSELoss()
        targets = torch.tensor(targets, dtype=torch.float32, device=device)  # (a copy: see _as_tensor)
    else:
        classes, indices = _class_indices(y, X.shape[0])
        n_outputs, loss_function = len(classes), nn.CrossEntropyLoss()
        targets = torch.tensor(indices, dtype=torch.long, device=device)
    _check_float32("X", X)
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Iterable):  # 16 for (16,): a TypeError
        raise ValueError(f"hidden must be a sequence of layer widths such as (16, 16), got {hidden!r}")
    spec = MLPSpec((X.shape[1], *hidden, n_outputs), activation)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(random_state)
        model = build_mlp(spec, layout=layout).to(device)
    inputs = torch.tensor(X, dtype=torch.float32, device=device)
    train_rows, valid_rows = _validation_split(X.shape[0], validation_fraction, None if classes is None else indices,
                                               random_state)
    validation = None if valid_rows is None else (inputs[valid_rows], targets[valid_rows])
    history = {}
    start = time.perf_counter()
    losses = fit_network(model, inputs[train_rows], targets[train_rows], loss_function, epochs=epochs,
                         batch_size=batch_size, lr=lr, random_state=random_state, validation=validation,
                         patience=patience, history=history, stop_on_nonfinite=True)
    seconds = time.perf_counter() - start
    with torch.no_grad():  # on the rows trained on: the validation rows only stopped the training
        outputs = model(inputs[train_rows])
        final_loss = float(loss_function(outputs, targets[train_rows]))
        accuracy = (None if classes is None
                    else float((outputs.argmax(dim=1) == targets[train_rows]).float().mean()))
    diverged = not losses or not math.isfinite(losses[-1])
    if (diverged and history.get("best_epoch") is None) or not math.isfinite(final_loss):  # NaN weights: no network
        raise TrainingDiverged(f"training diverged (the loss is not finite at epoch {len(losses)}); lower lr "
                               f"(got {lr:g})" + ("" if classes is not None else " or rescale y"))
    return model, TrainingRecord(final_loss, accuracy, classes, len(losses), seconds, history.get("best_epoch"))


def _check_float32(name: str, values: np.ndarray) -> None:
    """The network trains in float32: values beyond its range would become inf, and squared errors of
    values beyond 1e19 overflow it (a loss of inf from the first step)."""
    largest = float(np.max(np.abs(values))) if values.size else 0.0
    if largest > 1e18:
        raise ValueError(f"{name} holds values up to {largest:.3g}, beyond what a float32 network trains on "
                         f"(its squared errors overflow); rescale {name} (e.g. standardise it)")


def held_out_rows(n_rows: int, fraction: float) -> int:
    """How many of ``n_rows`` training rows early stopping holds out at ``fraction``: the one rule the training
    (below) and a batch's check of its settings before any job (:mod:`srnet.bench.suites`) apply."""
    return int(round(fraction * n_rows))


def _validation_split(n_rows: int, fraction, labels, random_state: int):
    """Row indices to train on and to stop early on (all rows and None without ``fraction``)."""
    everything = torch.arange(n_rows)
    if fraction is None:
        return everything, None
    fraction = check_budget("validation_fraction", fraction)
    if not fraction < 1:
        raise ValueError(f"validation_fraction must be < 1, got {fraction}")
    n_valid = held_out_rows(n_rows, fraction)
    if n_valid < 1 or n_rows - n_valid < 1:
        raise ValueError(f"validation_fraction={fraction} of {n_rows} rows leaves no row to train on or to validate "
                         f"on")
    # scikit-learn's random_state stops below 2**32; train_mlp's goes to 2**63 - 1
    train, valid, _ = seeded_split(np.arange(n_rows), train_size=n_rows - n_valid, random_state=random_state % 2**32,
                                   stratify=labels)
    return torch.as_tensor(np.sort(train)), torch.as_tensor(np.sort(valid))


def _regression_targets(y, n_samples: int) -> np.ndarray:
    """Targets as (n_samples, n_outputs) float64."""
    if np.ndim(y) == 2 and np.shape(y)[1] > 1:
        targets = check_matrix(y, "y")
        if targets.shape[0] != n_samples:
            raise ValueError(f"y has {targets.shape[0]} rows but X has {n_samples}")
        return targets
    return check_vector(y, n_samples)[:, None]


def _class_indices(y, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted class labels, and each sample's index into them."""
    labels = label_array(y)
    if labels.ndim == 2 and labels.shape[1] == 1:  # a one-column table of text labels was refused, of numbers not
        labels = labels[:, 0]
    if labels.dtype.kind in "biuf":
        check_vector(labels, n_samples)
        labels = labels.reshape(-1)
    elif labels.ndim != 1 or labels.shape[0] != n_samples:
        raise ValueError(f"y must hold one label per row of X ({n_samples}); got shape {labels.shape}")
    classes, indices = class_indices(labels)
    if len(classes) < 2:
        raise ValueError(f"classification needs at least 2 classes; y has only {classes.tolist()}")
    return classes, indices
