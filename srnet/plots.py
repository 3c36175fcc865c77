"""Pictures of an explanation: convergence, fitted layers, network vs formula.

Every function draws one figure to a file (PNG) with matplotlib's Agg
backend and returns the path, so it works on machines without a display.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def widen_box(box, factor: float = 0.5) -> np.ndarray:
    """A box widened by ``factor`` of its width on each side, (n_inputs, 2)."""
    box = np.asarray(box, dtype=np.float64)
    width = box[:, 1] - box[:, 0]
    return np.column_stack([box[:, 0] - factor * width, box[:, 1] + factor * width])


def data_box(X) -> np.ndarray:
    """The bounding box of the rows of X, (n_inputs, 2)."""
    X = np.asarray(X, dtype=np.float64)
    return np.column_stack([X.min(axis=0), X.max(axis=0)])


def _save(fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_convergence(history, path, title="search convergence") -> Path:
    """Best fitness against generations (log scale); history rows start
    ``(generation, ..., fitness)`` with fitness in the last column."""
    history = np.asarray(history, dtype=np.float64)
    fig, ax = plt.subplots(figsize=(6, 4))
    generations, fitness = history[:, 0], history[:, -1]
    ax.step(np.maximum(generations, 1), fitness, where="post", color="C0")
    ax.set_xscale("log")
    if np.all(fitness > 0):
        ax.set_yscale("log")
    ax.set_xlabel("generation")
    ax.set_ylabel("fitness (mean hidden MSE + output MSE)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_layer_fits(targets, approximations, names, path, max_points=2000) -> Path:
    """One scatter per layer: network activation (x) vs formula (y), all units."""
    n = len(targets)
    fig, axes = plt.subplots(1, n, figsize=(3.6 * n, 3.6), squeeze=False)
    rng = np.random.default_rng(0)
    for ax, target, approx, name in zip(axes[0], targets, approximations, names):
        t, a = np.ravel(target), np.ravel(approx)
        if t.size > max_points:
            keep = rng.choice(t.size, max_points, replace=False)
            t, a = t[keep], a[keep]
        ax.scatter(t, a, s=4, alpha=0.4)
        low, high = float(min(t.min(), a.min())), float(max(t.max(), a.max()))
        ax.plot([low, high], [low, high], color="k", lw=0.8)
        ax.set_title(name)
        ax.set_xlabel("network")
        ax.set_ylabel("formula")
    fig.suptitle("each layer: formula vs network")
    return _save(fig, path)


def plot_curves_1d(curves, train_box, wide_box, path, n_points=600, xlabel="x", title=None) -> Path:
    """1-D inputs: each function in ``curves`` (label -> f(X)) across the wide
    box, with the training range shaded."""
    x = np.linspace(wide_box[0][0], wide_box[0][1], n_points)
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.axvspan(train_box[0][0], train_box[0][1], color="0.9", label="training range")
    for (label, f), style in zip(curves.items(), ["-", "--", ":", "-.", (0, (3, 1, 1, 1))]):
        with np.errstate(all="ignore"):
            y = np.asarray(f(x[:, None]), dtype=np.float64).reshape(len(x), -1)[:, 0]
        ax.plot(x, y, linestyle=style, label=label)
    ax.set_xlabel(xlabel)
    ax.legend()
    ax.set_title(title or "network and explanations inside and outside the training range")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_surfaces_2d(surfaces, train_box, wide_box, path, n_points=60, labels=("x0", "x1"), title=None) -> Path:
    """2-D inputs: one heat map per function (label -> f(X)) over the wide box,
    training box outlined, on a shared colour scale."""
    g0 = np.linspace(wide_box[0][0], wide_box[0][1], n_points)
    g1 = np.linspace(wide_box[1][0], wide_box[1][1], n_points)
    A, B = np.meshgrid(g0, g1)
    grid = np.column_stack([A.ravel(), B.ravel()])
    values = {}
    for label, f in surfaces.items():
        with np.errstate(all="ignore"):
            values[label] = np.asarray(f(grid), dtype=np.float64).reshape(len(grid), -1)[:, 0].reshape(A.shape)
    finite = np.concatenate([v[np.isfinite(v)] for v in values.values()])
    low, high = (np.percentile(finite, [1, 99]) if finite.size else (0.0, 1.0))
    fig, axes = plt.subplots(1, len(values), figsize=(4.2 * len(values), 3.8), squeeze=False)
    for ax, (label, v) in zip(axes[0], values.items()):
        image = ax.pcolormesh(A, B, v, vmin=low, vmax=high, shading="auto", cmap="viridis")
        (x0, x1), (y0, y1) = train_box[0], train_box[1]
        ax.plot([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0], color="w", lw=1.2)
        ax.set_title(label)
        ax.set_xlabel(labels[0])
        ax.set_ylabel(labels[1])
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.85)
    fig.suptitle(title or "network and explanations (white: training box)")
    return _save(fig, path)


def plot_network_vs_formula(network, formula, X, path_stem, feature_names=None, box=None,
                            others=None) -> list[Path]:
    """For 1-D or 2-D inputs: the network and the formula (and any ``others``,
    label -> function) across the data's box widened by 50 % on each side."""
    train_box = data_box(X) if box is None else np.asarray(box, dtype=np.float64)
    wide = widen_box(train_box)
    names = feature_names or [f"x{j}" for j in range(train_box.shape[0])]
    curves = {"network": network, "formula": formula, **(others or {})}
    if train_box.shape[0] == 1:
        return [plot_curves_1d(curves, train_box, wide, f"{path_stem}.png", xlabel=names[0])]
    if train_box.shape[0] == 2:
        return [plot_surfaces_2d(curves, train_box, wide, f"{path_stem}.png", labels=names[:2])]
    return []
