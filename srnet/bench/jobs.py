"""What one batch job does: load, split, train, explain, measure.

:func:`run_job` runs one :class:`srnet.bench.suites.JobSpec` wherever it is
called (a Dask worker, usually) and returns the job's result payload, a
JSON-ready dict.  It never raises for the job's own errors: a failure is a
payload with ``status: "failed"`` and the error, so that one bad dataset does
not stop a batch.  Writing the payload is the client's business
(:mod:`srnet.bench.store`).

Per job kind:

* PMLB classification: drop rows with missing values (PMLB's default),
  subsample to ``max_rows`` training rows (seeded,
  stratified where every class has two rows), split 75/25 (same), standardise
  the features with the training rows' mean and standard deviation, train a
  softmax-headed MLP, explain it; metrics on the train and test rows.
* PMLB regression: the same split and scaling, the target standardised too,
  a regression MLP; metrics inside the training box and in that box widened by 50 % on each side
  (:func:`srnet.compare.compare`), plus SRNet's R^2 on the held-out rows.
* Nguyen: ``nguyen_rows`` points (``max_rows`` at most) of the formula's box (raw units), a
  regression MLP, the metrics as above.
* SRNet reference networks: the paper's trained network itself, on its own
  data and boxes (``adult``: a seeded split of PMLB's table).
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import platform
import socket
import subprocess
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from srnet.bench.suites import METHODS, JobSpec

BATCH_SIZE = 256  # train_mlp's mini-batch
#: Early stopping's patience, in optimiser steps (a tenth of the default
#: 2000), and in epochs at least: a small table makes one step per epoch,
#: and Adam's loss wavers over a few steps.
PATIENCE_STEPS = 200
MIN_PATIENCE = 10
MIN_EPOCHS, MAX_EPOCHS = 20, 2000
PACKAGES = ("srnet", "numpy", "torch", "numba", "sympy", "scikit-learn", "pandas", "pmlb", "dask", "distributed")


@dataclass
class Prepared:
    """A job's data, ready to train on and explain with."""

    X_train: np.ndarray
    y_train: np.ndarray | None
    X_test: np.ndarray | None
    y_test: np.ndarray | None
    feature_names: list[str]
    info: dict = field(default_factory=dict)
    boxes: dict | None = None
    module: object = None  # a given network (reference networks); None: train one


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def run_job(spec: JobSpec) -> dict:
    """Run one job and return its result payload (never raises for the job's errors).

    Returns
    -------
    dict
        ``job`` (identity, kind, source, task), ``status`` ("ok" or
        "failed"), ``error`` (None, or type, message and traceback tail),
        ``settings``, ``data``, ``network``, ``metrics``, ``formulas``,
        ``timings`` (seconds: warm_up (before a worker's first job: its data loaded once, torch set up, the
        kernels compiled or loaded), load, train,
        explain per explainer, total),
        ``versions``, ``host``, ``started_at``, ``finished_at``.
    """
    started = time.perf_counter()
    payload = {"job": spec.description(),
               "status": None, "error": None, "settings": spec.settings.to_dict(), "started_at": now()}
    timings: dict = {}
    try:
        timings["warm_up"] = _warm_up(spec)
        _one_thread()
        payload.update(_run(spec, timings))
        payload["status"] = "ok"
    except Exception as error:  # noqa: BLE001 - any failure of the job is recorded, not raised
        payload["status"] = "failed"
        payload["error"] = error_info(error)
    timings["total"] = time.perf_counter() - started
    payload.update(timings=timings, versions=versions(), host=host(), finished_at=now())
    return to_jsonable(payload)


def error_info(error: BaseException, max_lines: int = 25) -> dict:
    """Type, message and the last lines of the traceback of ``error``."""
    lines = "".join(traceback.format_exception(type(error), error, error.__traceback__)).splitlines()
    return {"type": type(error).__name__, "message": str(error)[:2000],
            "traceback": "\n".join(lines[-max_lines:])}


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = None
    found["srnet_commit"] = source_commit()
    return found


@functools.lru_cache(maxsize=1)
def source_commit() -> str | None:
    """The git commit of the srnet code running (``+changes`` when its srnet/ differs from it), or None outside a
    git checkout: every commit's srnet is version 0.1.0, so a batch resumed after a ``git pull`` mixed two codes'
    results under one version (the report names the commits when they differ)."""
    source = Path(__file__).resolve().parents[1]
    try:
        # srnet's own files tracked there (an installed copy inside a virtual environment inside some repository
        # is not that repository's code)
        tracked = subprocess.run(["git", "-C", str(source), "ls-files", "--error-unmatch", "__init__.py"],
                                 capture_output=True, timeout=10)
        commit = subprocess.run(["git", "-C", str(source), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                                text=True, timeout=10)
        if tracked.returncode != 0 or commit.returncode != 0:
            return None
        changed = subprocess.run(["git", "-C", str(source), "diff", "--quiet", "HEAD", "--", "."],
                                 capture_output=True, timeout=10).returncode == 1
    except (OSError, subprocess.SubprocessError):  # no git, or one that hangs
        return None
    return commit.stdout.strip() + ("+changes" if changed else "")


def host() -> dict:
    worker = None
    try:
        from distributed import get_worker

        worker = get_worker().address
    except (ImportError, ValueError):
        pass
    return {"hostname": socket.gethostname(), "pid": os.getpid(), "worker": worker}


def _one_thread() -> None:
    """One thread per job: the batch's parallelism is the workers'."""
    import numba
    import torch

    from srnet.cgp._kernels import numba_thread_count

    numba_thread_count()  # numba's pool started first: its start would set OpenMP's (torch's) count to numba's
    torch.set_num_threads(1)
    numba.set_num_threads(1)


#: Whether this worker process has warmed up (:func:`_warm_up`).
_warmed = False


def _warm_up(spec: JobSpec | None = None) -> float:
    """Once per worker process, before its first job: its data loaded once (the imports and first read of the
    loaders: pandas, pmlb, scikit-learn), a first training of a tiny network (torch's one-time set-up), the
    engine's kernels compiled or loaded from numba's cache, torch's L-BFGS set up; the seconds it took, 0 on
    later jobs.  Timed apart from the job, where a worker's first job took them (iris at --seconds 2 read 291 s,
    of which 8 explaining; which seed ran first on a fresh worker decided which one looked slow; counted in its
    loading and training, the first job trained 0.9 s where the next took 0.1, and loaded its table in 0.9 s,
    the next in 0.01)."""
    global _warmed
    if _warmed:
        return 0.0
    started = time.perf_counter()
    from srnet.formulas import warm_up_refinement
    from srnet.progress import warm_up_kernels
    from srnet.train import train_mlp

    _one_thread()  # (its imports)
    if spec is not None:
        try:
            prepare_data(spec)
        except Exception:  # noqa: BLE001 - the job's own load raises it again, timed and recorded as the job's
            pass
    tiny = np.linspace(-1, 1, 8)[:, None]
    train_mlp(tiny, tiny[:, 0], hidden=(2,), epochs=2, batch_size=4)
    warm_up_kernels(False)
    warm_up_refinement()
    _warmed = True
    return time.perf_counter() - started


def _run(spec: JobSpec, timings: dict) -> dict:
    started = time.perf_counter()
    data = prepare_data(spec)
    timings["load"] = time.perf_counter() - started
    started = time.perf_counter()
    if data.module is None:
        module, network = train_network(spec, data)
    else:
        module, network = data.module, {"trained": False}
    timings["train"] = time.perf_counter() - started
    started = time.perf_counter()
    metrics, formulas, explain_seconds = explain(spec, module, data)
    timings["explain"] = explain_seconds
    timings["explain_total"] = time.perf_counter() - started
    network.update(_network_quality(module, data, spec.task))
    return {"data": data.info, "network": network, "metrics": metrics, "formulas": formulas}


# ------------------------------------------------------------------ data


def prepare_data(spec: JobSpec) -> Prepared:
    """Load, subsample, split and scale the job's data (see the module docstring)."""
    if spec.kind == "pmlb":
        X, y, names, dropped, labels = load_pmlb(spec.source, spec.pmlb_cache, spec.task)
        prepared = split_rows(X, y, names, spec)
        prepared.info["rows_dropped_missing"] = dropped
        prepared.info["table_sha256"] = table_digest(X, y, names)
        if labels is not None:
            prepared.info["class_labels"] = labels
        _standardise(prepared, target=spec.task == "regression")
        return prepared
    if spec.kind == "nguyen":
        from srnet.benchmarks import get_benchmark

        bench = get_benchmark(spec.source)
        n_train = min(spec.settings.nguyen_rows, spec.settings.max_rows)  # --max-rows: training rows at most
        n_test = max(1, math.ceil(n_train * spec.settings.test_fraction / (1 - spec.settings.test_fraction)))
        X_train, y_train = bench.sample(n_train, random_state=[spec.seed, 0])
        X_test, y_test = bench.sample(n_test, random_state=[spec.seed, 1])
        info = {"rows": n_train + n_test, "features": bench.n_inputs, "train_rows": n_train, "test_rows": n_test,
                "truth": str(bench.expression()), "box": [list(b) for b in bench.box], "standardised": False}
        return Prepared(X_train, y_train, X_test, y_test, list(bench.variables), info,
                        boxes={"training": np.array(bench.box, dtype=np.float64)})
    if spec.kind == "gecco":
        return _reference_data(spec)
    raise ValueError(f"unknown job kind {spec.kind!r}")


def _reference_data(spec: JobSpec) -> Prepared:
    from srnet.reference import load_reference

    reference = load_reference(spec.source)
    if reference.task != spec.task:
        raise ValueError(f"reference network {reference.name} is a {reference.task} network, not {spec.task}")
    info = {"reference": reference.name, "widths": list(reference.widths), "standardised": False,
            "network_settings": reference.settings}
    if reference.task == "regression":
        info.update(rows=len(reference.X), features=reference.X.shape[1], train_rows=len(reference.X))
        return Prepared(reference.X, reference.y, None, None, reference.feature_names, info,
                        boxes=reference.boxes, module=reference.model)
    if reference.X is not None:
        prepared = Prepared(reference.X, reference.y, reference.X_test, reference.y_test,
                            reference.feature_names, info)
        info.update(rows=len(reference.X) + len(reference.X_test), features=reference.X.shape[1],
                    train_rows=len(reference.X), test_rows=len(reference.X_test), split="authors'")
    else:  # adult: no data shipped; a seeded split of PMLB's table
        X, y, names, dropped, labels = load_pmlb(reference.name, spec.pmlb_cache, spec.task)
        prepared = split_rows(X, y, names, spec)
        prepared.info.update(info, split="seeded, of PMLB's table", rows_dropped_missing=dropped,
                             class_labels=labels)
    prepared.module = reference.model
    return prepared


def table_digest(X, y, names) -> str:
    """SHA-256 of a table as a job reads it (columns' names, features, target): a resumed batch compares it with
    its results' (:func:`srnet.bench.runner.check_same_tables`)."""
    digest = hashlib.sha256("\x1f".join(map(str, names)).encode())
    digest.update(np.ascontiguousarray(X, dtype=np.float64).tobytes())
    digest.update(np.ascontiguousarray(y).astype(np.float64).tobytes())
    return digest.hexdigest()


def load_pmlb(name: str, pmlb_cache, task: str = "regression"):
    """A PMLB table through ``pmlb.fetch_data``, read from the cache folder (a
    worker downloads nothing: ``--download`` fills the cache before a batch).

    Returns
    -------
    X : ndarray (n_rows, n_features), float64
    y : ndarray (n_rows,)
        Regression: the target, float64.  Classification: class indices
        0..K-1 (int64), whatever the labels' encoding (-1/1, floats,
        strings, non-contiguous integers).
    feature_names : list of str
    dropped : int
        Rows with missing values dropped (as PMLB's own default does).
    class_labels : list or None
        Classification: the original label of each class index.
    """
    from srnet.data import PMLB_TARGET, check_matrix, check_task, check_vector, class_indices, fetch_pmlb_frame

    frame = fetch_pmlb_frame(name, pmlb_cache)
    complete = frame.dropna()
    if not len(complete):
        raise ValueError(f"every row of PMLB dataset {name!r} has a missing value")
    features = complete.drop(columns=PMLB_TARGET)
    X = check_matrix(features.to_numpy(), f"{name}'s features")
    target = complete[PMLB_TARGET].to_numpy()
    check_task(target, task, f"PMLB dataset {name!r}")
    if task == "classification":
        classes, y = class_indices(target)
        labels = [_plain(c) for c in classes]
    else:
        y, labels = check_vector(target, len(X), f"{name}'s target"), None
    return X, y, [str(c) for c in features.columns], int(len(frame) - len(complete)), labels


def split_rows(X, y, names, spec: JobSpec) -> Prepared:
    """At most ``max_rows`` training rows, then a seeded train/test split
    (stratified for classification where every class has two rows)."""
    settings = spec.settings
    classification = spec.task == "classification"
    # (the formulas read x0, x1, ... of the standardised columns: these name them)
    info = {"rows": int(len(X)), "features": int(X.shape[1]), "feature_names": [str(n) for n in names]}
    if classification:
        info["classes"] = int(len(np.unique(y)))
    keep = math.ceil(settings.max_rows / (1 - settings.test_fraction))
    stratified = classification
    if len(X) > keep:
        X, _, y, _, stratified = _split(X, y, keep, spec.seed, stratified)
        info["subsampled_to"] = keep
    X_train, X_test, y_train, y_test, stratified = _split(X, y, 1 - settings.test_fraction, spec.seed + 1,
                                                          stratified)
    info.update(train_rows=int(len(X_train)), test_rows=int(len(X_test)), stratified=bool(stratified))
    return Prepared(X_train, y_train, X_test, y_test, list(names), info)


def _split(X, y, train_size, seed: int, stratify: bool):
    from srnet.data import seeded_split

    return seeded_split(X, y, train_size=train_size, random_state=seed, stratify=y if stratify else None)


def _standardise(prepared: Prepared, *, target: bool) -> None:
    """Scale features (and a regression target) with the training rows' statistics, in place."""
    mean = prepared.X_train.mean(axis=0)
    scale = prepared.X_train.std(axis=0)
    scale[scale == 0] = 1.0
    prepared.X_train = (prepared.X_train - mean) / scale
    prepared.X_test = (prepared.X_test - mean) / scale
    prepared.info["standardised"] = {"features": True, "target": bool(target), "mean": mean.tolist(),
                                     "scale": scale.tolist()}
    if target:
        y_mean, y_scale = float(prepared.y_train.mean()), float(prepared.y_train.std()) or 1.0
        prepared.y_train = (prepared.y_train - y_mean) / y_scale
        prepared.y_test = (prepared.y_test - y_mean) / y_scale
        prepared.info["standardised"].update(target_mean=y_mean, target_scale=y_scale)


# --------------------------------------------------------------- network


def auto_epochs(n_rows: int, steps: int) -> int:
    """Epochs for about ``steps`` mini-batch steps, within [20, 2000]."""
    per_epoch = math.ceil(n_rows / BATCH_SIZE)
    return int(min(MAX_EPOCHS, max(MIN_EPOCHS, math.ceil(steps / per_epoch))))


def train_network(spec: JobSpec, data: Prepared):
    """Train the job's MLP; a classifier gets a softmax head (what srnet's probe recognises)."""
    from torch import nn

    from srnet.train import train_mlp

    settings = spec.settings
    epochs = settings.epochs or auto_epochs(len(data.X_train), settings.steps)
    fraction = settings.early_stopping or None
    patience = math.ceil(PATIENCE_STEPS / math.ceil(len(data.X_train) / BATCH_SIZE))
    module, record = train_mlp(data.X_train, data.y_train, hidden=tuple(settings.hidden),
                               activation=settings.activation, task=spec.task, epochs=int(epochs),
                               batch_size=BATCH_SIZE, random_state=spec.seed, validation_fraction=fraction,
                               patience=max(MIN_PATIENCE, patience))
    if spec.task == "classification":
        module = nn.Sequential(*module, nn.Softmax(dim=1)).eval()
        data.info["trained_classes"] = [_plain(c) for c in record.classes]
    network = {"trained": True, "widths": [data.X_train.shape[1], *settings.hidden,
                                           1 if record.classes is None else len(record.classes)],
               "activation": settings.activation, "optimizer": "adam", "lr": 0.01, "batch_size": BATCH_SIZE,
               "epochs": int(epochs), "epochs_run": record.epochs, "early_stopping": settings.early_stopping,
               "best_epoch": record.best_epoch, "final_loss": record.final_loss, "train_seconds": record.seconds}
    return module, network


def _network_quality(module, data: Prepared, task: str) -> dict:
    """The network against the true labels/targets, on train and test rows."""
    from srnet.explain import NetworkFunction
    from srnet.metrics import class_agreement, rmse_r2

    network = NetworkFunction(module)
    quality = {}
    for part, X, y in (("train", data.X_train, data.y_train), ("test", data.X_test, data.y_test)):
        if X is None or y is None:
            continue
        output = network(X)
        if task == "classification":
            classes = np.asarray(data.info.get("trained_classes", np.unique(data.y_train)), dtype=np.float64)
            predicted = classes[output.argmax(axis=1)] if len(classes) == output.shape[1] else output.argmax(axis=1)
            quality[f"{part}_accuracy"] = class_agreement(predicted, np.asarray(y, dtype=np.float64))
            # one class on every row: an explanation agrees 100 % with a constant (the report says so)
            quality[f"{part}_classes_answered"] = int(np.unique(output.argmax(axis=1)).size)
        else:
            quality[f"{part}_r2"] = rmse_r2(np.asarray(y, dtype=np.float64), output.reshape(len(X)))[1]
    return quality


# --------------------------------------------------------------- explain


def explainer_budget(settings) -> dict:
    """The formula searches' budget of a batch: its seconds or generations, one engine thread."""
    generations = None if settings.generations is None else int(settings.generations)
    return {"max_seconds": None if generations is not None else settings.seconds, "max_generations": generations,
            "n_threads": 1}


def make_explainers(spec: JobSpec) -> dict:
    """SRNet with the method's preset, then the batch's extra explainers
    (:func:`srnet.explain.make_explainers`, the batch's budget)."""
    from srnet.explain import factory

    budget = explainer_budget(spec.settings)
    return {"srnet": factory.make_explainer("srnet", **budget, srnet_params={"preset": METHODS[spec.method]}),
            **factory.make_explainers(spec.settings.explainers, **budget)}


def explain(spec: JobSpec, module, data: Prepared) -> tuple[dict, dict, dict]:
    """Fit every explainer through :func:`srnet.compare.compare`; SRNet's own figures too.

    Returns
    -------
    metrics : dict
        ``explainers``: explainer -> domain -> compare's metrics (rmse, r2,
        agreement, and their ``*_around``), ``size`` per explainer, and
        ``srnet``: SRNet's own figures (fitness, layer R^2, agreement on all
        train/test rows, complexity, generations, ...).
    formulas : dict of str
    seconds : dict
        Explainer -> seconds it took (fit and predictions).
    """
    from srnet.compare import compare
    from srnet.explain import NetworkFunction
    from srnet.metrics import class_agreement

    network = NetworkFunction(module)
    if network.task != spec.task:
        raise ValueError(f"the network is a {network.task} network but the job is {spec.task}")
    explainers = make_explainers(spec)
    settings = spec.settings
    if spec.task == "classification":
        comparison = compare(network, data.X_train, explainers, X_test=data.X_test, n_points=settings.n_points,
                             random_state=spec.seed)
    else:
        comparison = compare(network, data.X_train, explainers, boxes=data.boxes, n_points=settings.n_points,
                             random_state=spec.seed)
    if comparison.interrupted:  # Ctrl-C cut the searches short: an "ok" result of them was never redone on resume
        raise KeyboardInterrupt
    by_explainer: dict = {}
    seconds, sizes = {}, {}
    for record in comparison.records:
        name, domain = record["explainer"], record["domain"]
        by_explainer.setdefault(name, {})[domain] = {key: record[key] for key in
                                                     ("rmse", "r2", "agreement", "rmse_around", "r2_around",
                                                      "agreement_around")}
        seconds[name], sizes[name] = record["seconds"], record["size"]
    model = comparison.explainers["srnet"].model_
    report = model.report()
    srnet = {"fitness": model.fitness_, "output_r2": model.output_r2_, "output_rmse": model.output_rmse_,
             "layer_r2": list(model.layer_r2_), "layer_mse": list(model.layer_mse_),
             "complexity": report["complexity"], "generations": model.n_generations_,
             "evaluations": model.n_evaluations_, "search_seconds": model.search_seconds_,
             "stop_reason": model.stop_reason_, "preset": model.preset}
    if spec.task == "classification":
        srnet["agreement_train"] = model.agreement_
        if data.X_test is not None:
            srnet["agreement_test"] = class_agreement(model.predict(data.X_test), network(data.X_test))
    else:
        # on the training rows themselves, as summary.csv's srnet_output_r2 says: the model's own output_r2_ is
        # of every point it was fitted on, here the rows and the validation box's points (0.838 where the rows
        # alone gave 0.916, below the test rows' 0.926)
        srnet["output_rmse"], srnet["output_r2"] = _formula_against_network(model, network, data.X_train)
        if data.X_test is not None:
            srnet["output_r2_test"] = _formula_against_network(model, network, data.X_test)[1]
    formulas = {"srnet": report["expression"], "srnet_decision": report["decision"],
                "srnet_steps": report["formula_steps"],
                "srnet_layers": [layer["expression"] for layer in report["layers"]]}
    for name, explainer in comparison.explainers.items():
        expression = getattr(explainer, "expression_", None)  # pyoperon keeps its formula itself
        if expression is None:
            expression = getattr(getattr(explainer, "model_", None), "expression_", None)
        if name != "srnet" and expression is not None:
            formulas[name] = [str(e) for e in expression] if isinstance(expression, list) else str(expression)
    metrics = {"explainers": by_explainer, "size": sizes, "srnet": srnet,
               "srnet_programs": [layer["program"] for layer in report["layers"]],
               "srnet_settings": report["settings"]}
    return metrics, formulas, seconds


def _formula_against_network(model, network, X) -> tuple[float, float]:
    """(RMSE, R^2) of a regression formula against the network at the rows X."""
    from srnet.metrics import rmse_r2

    return rmse_r2(np.asarray(network(X)).reshape(len(X)), np.asarray(model.predict(X)).reshape(len(X)))


# ------------------------------------------------------------------ JSON


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    return value


def to_jsonable(value):
    """``value`` with numpy scalars/arrays, tuples and other objects turned
    into plain JSON types (strings as the last resort).  Non-finite floats
    stay: :meth:`srnet.bench.store.ResultStore.write` writes them as null."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)
