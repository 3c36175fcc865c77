"""Pictures of an explanation: convergence, fitted layers, network vs formula.

Every function draws one figure to a file (PNG) with matplotlib's Agg
backend and returns the path, so it works on machines without a display.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.lines  # noqa: E402
import matplotlib.patches  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402

from srnet.data import data_box, widen_box  # noqa: E402
from srnet.formulas import off_front_note, selection_figures  # noqa: E402
from srnet.metrics import _classes, class_agreement, format_r2, rmse_r2  # noqa: E402
from srnet.names import class_name  # noqa: E402


def save_figure(fig, path) -> Path:
    """Write ``fig`` as a PNG (folders made as needed) and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def plot_convergence(history, path, title="search convergence") -> Path:
    """Best fitness against generations (log scale); history rows start
    ``(generation, ..., fitness)`` with fitness in the last column."""
    history = np.asarray(history, dtype=np.float64).reshape(-1, max(np.shape(history)[-1:] or (2,)))
    fig, ax = plt.subplots(figsize=(6, 4))
    generations, fitness = history[:, 0], history[:, -1]
    # marked points joined by lines: the history is sampled (islands meet every few generations), and steps
    # drawn flat to the next sample claimed no progress until it; one row (a single generation) is a mark;
    # generation 0 sits at the origin of a scale linear up to 1 and logarithmic beyond
    ax.plot(generations, fitness, color="C0", marker="o", markersize=3)
    ax.margins(y=0.08)  # (a first mark at the top edge was cut in half)
    ax.set_xscale("symlog", linthresh=1.0)
    ax.set_xlim(0, 1.5 * max(1.0, float(np.nanmax(generations, initial=0.0))))  # room for the last mark
    positive = fitness[np.isfinite(fitness) & (fitness > 0)]
    if positive.size and np.all(fitness[np.isfinite(fitness)] >= 0):
        if np.any(fitness == 0):  # a fitness of 0 reached: linear down to it, the log scale above
            ax.set_yscale("symlog", linthresh=float(positive.min()))
            ax.set_ylim(bottom=0)
        else:
            ax.set_yscale("log")
    ax.set_xlabel("generation")
    ax.set_ylabel("search fitness (mean hidden MSE + output MSE,\non the search rows, as the progress bar)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def _points_drawn(target: np.ndarray, approx: np.ndarray, max_points: int, rng) -> np.ndarray:
    """Indices of ``max_points`` of the points to draw: the worst twentieth (not finite first) always among them
    (a random sample left out the one point that made R^2 -inf, and the panels showed a perfect fit under it),
    the rest at random."""
    with np.errstate(invalid="ignore", over="ignore"):
        miss = np.abs(approx - target)
    worst = np.argsort(np.where(np.isnan(miss), np.inf, miss), kind="stable")[-(max_points // 20):]
    rest = np.setdiff1d(np.arange(target.size), worst)
    return np.concatenate([worst, rng.choice(rest, max_points - worst.size, replace=False)])


def _cross_not_finite(panels, network_values: np.ndarray, finite: np.ndarray) -> None:
    """A red cross on each panel's top edge, at the network's value, where the formula is not finite (the
    finite points alone showed a perfect fit)."""
    for panel in panels:
        panel.scatter(network_values[~finite], np.ones(np.count_nonzero(~finite)), s=16, marker="x", color="red",
                      clip_on=False, transform=panel.get_xaxis_transform())


def plot_layer_fits(targets, approximations, names, path, max_points=2000, labels=None,
                    selected_in: str | None = None) -> Path:
    """Per explained layer (all units but those one constant and matched exactly): the formula against the network
    (top), and the error formula - network against the network (bottom),
    which shows what a parity plot hides at R^2 near 1.  ``labels``: each
    layer's modules and their classes (:func:`srnet.probe.layer_labels`), in the titles; ``selected_in``:
    the file that draws the selected whole-network formula, named in the title (it named
    network_vs_formula where none was written)."""
    n = len(targets)
    fig, axes = plt.subplots(2, n, figsize=(3.8 * n, 6.4), squeeze=False, constrained_layout=True)
    rng = np.random.default_rng(0)
    widths = []
    for k, (target, approx, name) in enumerate(zip(targets, approximations, names)):
        target, approx, shown, left_out = _without_fixed_units(target, approx)
        t, a = np.ravel(target), np.ravel(approx)
        units = len(shown)
        widths.append(units)
        unit = np.tile(np.arange(units), t.size // units)  # each value's unit (rows of (n, units), raveled)
        rmse, r2 = rmse_r2(target, approx)
        missing, values = int((~np.isfinite(a)).sum()), a.size  # counted on every value, not on the sample drawn
        if t.size > max_points:
            keep = _points_drawn(t, a, max_points, rng)
            t, a, unit = t[keep], a[keep], unit[keep]
        top, bottom = axes[0, k], axes[1, k]
        # one colour per unit (up to 10): pooled in one colour, a unit fitted badly could not be told apart
        colours = matplotlib.colormaps["tab10"](unit % 10) if 1 < units <= 10 else "C0"  # (pooled: one colour)
        top.scatter(t, a, s=4, alpha=0.4, c=colours)
        if 1 < units <= 10:  # which colour is which unit (orange meant unit 1 here and the errors there)
            top.legend(handles=[matplotlib.lines.Line2D([], [], ls="", marker="o", ms=4, color=f"C{u % 10}",
                                                        label=f"unit {j}") for u, j in enumerate(shown)],
                       fontsize=6, ncols=2, loc="upper left", handletextpad=0.1, columnspacing=0.6, framealpha=0.6)
        finite = np.isfinite(a)
        low = float(min(t.min(), a[finite].min())) if finite.any() else float(t.min())
        high = float(max(t.max(), a[finite].max())) if finite.any() else float(t.max())
        top.plot([low, high], [low, high], color="k", lw=0.8)
        # a formula not finite at some points: drawn as red crosses on the top edge, and counted (the finite
        # points alone showed a perfect fit, with no error below)
        note = f"; {missing} of {values} values not finite (red, top edge)" if missing else ""
        # R^2 as the command line prints it: a far-off one in 4 digits (-3e300 as .6f was a 300-digit title
        # running over the next panel's)
        # the layer's modules and their classes: module '1' of an nn.Sequential says nothing alone
        module = (labels or {}).get(name, f"module '{name}'")
        width = units + left_out
        dropped = (f"\n{left_out} constant unit{'s' * (left_out != 1)}, matched exactly, not drawn nor counted"
                   if left_out else "")
        top.set_title(f"layer {k + 1} ({module}, {width} unit{'s' * (width != 1)})\n"
                      f"R\u00b2 {format_r2(r2)}, RMSE {rmse:.3g}{note}{dropped}", fontsize=9)
        top.set_xlabel("network")
        top.set_ylabel("formula")
        bottom.scatter(t, a - t, s=4, alpha=0.4, c=colours)
        if not finite.all():
            _cross_not_finite((top, bottom), t, finite)
            bottom.set_xlim(top.get_xlim())  # the network's whole range, the points not finite included
        bottom.axhline(0, color="k", lw=0.8)
        bottom.set_xlabel("network")
        bottom.set_ylabel("formula - network")
    # (a layer of over 10 units is drawn in one colour: the title said "colours: units" beside it; one of a
    # single unit needs none)
    notes = ["" if not any(1 < w <= 10 for w in widths) else "colours: units" if max(widths) <= 10
             else "colours: units, in layers of up to 10"]
    notes.append(f"the selected whole-network formula is drawn in {selected_in}" if selected_in else "")
    notes = "; ".join(note for note in notes if note)
    fig.suptitle("each layer's formula against the network: the layer-wise chain, all units, chained from the "
                 "inputs" + (f"\n({notes})" if notes else ""), fontsize=10)
    return save_figure(fig, path)


def _without_fixed_units(target, approx):
    """``(target, approx, units shown, count left out)`` of a layer, (n, units) float64, without the units that are
    one constant in the network and exactly that in the formula: a two-class classifier's logit 0 beside its
    logit, drawn as a unit at (0, 0), halved the layer's MSE in the title.  A layer of such units only is kept."""
    target = np.asarray(target, dtype=np.float64).reshape(len(target), -1)
    approx = np.asarray(approx, dtype=np.float64).reshape(target.shape)
    fixed = np.all(target == target[:1], axis=0) & np.all(approx == target, axis=0)
    if not fixed.any() or fixed.all():
        return target, approx, list(range(target.shape[1])), 0
    return target[:, ~fixed], approx[:, ~fixed], np.flatnonzero(~fixed).tolist(), int(fixed.sum())


LINE_STYLES = ("-", "--", ":", "-.", (0, (3, 1, 1, 1)), (0, (5, 1)))
#: A curve's colour by its name, the same in every plot (by the order given, MAPLE was red in one run and green
#: in the next); other names take the colours left, in order.
CURVE_COLOURS = {"formula": "C0", "srnet": "C0", "lime": "C1", "maple": "C2", "cgp_direct": "C3", "gplearn": "C4",
                 "pyoperon": "C5", "xnet": "C6", "true function": "C9"}


def curve_colours(labels) -> dict:
    """``{label: colour}``: :data:`CURVE_COLOURS`' for its names, the cycle's unused one (C8) and then the others
    again (each curve also has its own line style) for the rest."""
    # the cycle's unused olive first, then the others again (not its grey, near the network's grey band)
    spare = iter(["C8"] + [f"C{k}" for k in range(10) if k not in (7, 8)] * len(labels))
    return {label: CURVE_COLOURS.get(label) or next(spare) for label in labels}


def plot_curves_1d(curves, train_box, wide_box, path, n_points=600, xlabel="x", title=None,
                   domain_box=None, output=0) -> Path:
    """1-D inputs: each function in ``curves`` (label -> f(X), its column ``output``) across the wide
    box, with the training range shaded and the explanation domain's edges
    dashed (``domain_box``, where the formula was asked to be faithful) (top), and each function's
    difference from the network on a symmetric log scale (bottom), so a
    formula that blows up outside the data shows instead of leaving the
    picture.  The top panel's scale follows the network (a curve that leaves
    it says so in the legend)."""
    x = np.linspace(wide_box[0][0], wide_box[0][1], n_points)
    values = {}
    for label, f in curves.items():
        with np.errstate(all="ignore"):
            values[label] = np.asarray(f(x[:, None]), dtype=np.float64).reshape(len(x), -1)[:, output]
    reference = values.get("network")
    # a network that overflows beyond the domain: the scales read its finite values
    finite_reference = None if reference is None else reference[np.isfinite(reference)]
    has_difference = reference is not None and len(values) > 1
    fig, axes = plt.subplots(2 if has_difference else 1, 1, figsize=(7, 6.4 if has_difference else 4),
                             sharex=True, squeeze=False, constrained_layout=True)
    top = axes[0, 0]
    top.axvspan(train_box[0][0], train_box[0][1], color="0.9", label="training range")
    domain_edges = [] if domain_box is None else [float(v) for v in np.asarray(domain_box, dtype=float)[0]]
    for k, edge in enumerate(domain_edges):
        top.axvline(edge, color="0.5", lw=0.9, ls="--", label="explanation domain" if k == 0 else None)
    low = high = None
    if finite_reference is not None and finite_reference.size:
        low, high = float(finite_reference.min()), float(finite_reference.max())
        # a constant network: a view of its scale (1e-12 wide, its axis read "1e-12+1" and the formula a wall)
        margin = 0.5 * max(high - low, 1e-3 * max(1.0, abs(high), abs(low)))
        low, high = low - margin, high + margin
    # one style per curve, cycled: zipped with five styles, a sixth curve (a fifth explainer) was dropped unsaid
    styles = [LINE_STYLES[k % len(LINE_STYLES)] for k in range(len(values))]
    colours = curve_colours([label for label in values if label != "network"])
    for (label, y), style in zip(values.items(), styles):
        broken = ~np.isfinite(y)  # where a curve is NaN/inf it simply stopped: shaded and said so
        leaves = low is not None and bool(np.any(~broken & ((y < low) | (y > high))))
        for panel in axes[:, 0] if broken.any() else ():
            panel.fill_between(x, 0, 1, where=broken, color="red", alpha=0.15,
                               transform=panel.get_xaxis_transform(), lw=0)
        # the network a wide grey band under the others: drawn as one of them, a faithful curve hid it
        look = (dict(color="k", lw=4, alpha=0.3, zorder=1.5) if label == "network" else
                dict(linestyle=style, color=colours[label], zorder=2))
        top.plot(x, y, **look, label=label + (" (not finite where shaded red)" if broken.any() else "")
                 + (" (leaves this view)" if leaves else ""))
    if low is not None:
        top.set_ylim(low, high)
    # below the panels: inside, no corner was free of curves, and the box hid where one left the network
    handles, labels = top.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 3), fontsize=8)
    top.set_title(title or "network and explanations inside and outside the training range")
    top.grid(alpha=0.3)
    if has_difference:
        bottom = axes[1, 0]
        bottom.axvspan(train_box[0][0], train_box[0][1], color="0.9")
        for edge in domain_edges:
            bottom.axvline(edge, color="0.5", lw=0.9, ls="--")
        scale = max(float(np.std(finite_reference)) if finite_reference.size else 0.0, 1e-12)
        for (label, y), style in zip(values.items(), styles):
            if label != "network":  # same colour and style as above
                with np.errstate(all="ignore"):
                    bottom.plot(x, y - reference, linestyle=style, color=colours[label], label=label)
        bottom.axhline(0, color="k", lw=0.8)
        threshold = float(f"{1e-2 * scale:.1g}")  # a round number: it is a tick label
        bottom.set_yscale("symlog", linthresh=threshold)
        # the linear zone's edges (so a reader sees how small the errors near 0 are), then decades
        # from ten times the zone out, so the labels around 0 stay apart
        decades = [t for t in bottom.get_yticks() if abs(t) >= 10 * threshold]
        bottom.set_yticks(sorted(decades + [-threshold, 0.0, threshold]))
        bottom.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda t, _: f"{t:.2g}"))
        bottom.set_ylabel(f"each curve - network\n(linear within ±{threshold:.2g}, log beyond)")
        bottom.grid(alpha=0.3)
        bottom.set_xlabel(xlabel)
    else:
        top.set_xlabel(xlabel)
    return save_figure(fig, path)


def _outline(ax, box, **style) -> None:
    """The rectangle of a box's first two inputs ((low, high) each), drawn on ``ax`` in ``style``."""
    (x0, x1), (y0, y1) = np.asarray(box, dtype=np.float64)[:2]
    ax.plot([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0], **style)


def _rmse_text(differences: np.ndarray) -> str:
    """The root mean square of the finite ``differences`` as a title prints it (:func:`_not_finite_text` says
    how many are not: "inf" alone hid the error everywhere else on the map)."""
    differences = np.asarray(differences, dtype=np.float64).ravel()
    finite = differences[np.isfinite(differences)]
    if finite.size == 0:
        return "none" if differences.size == 0 else "not finite anywhere"
    return f"{rmse_r2(np.zeros(finite.size), finite)[0]:.3g}"  # (srnet's one RMSE)


def _not_finite_text(differences: np.ndarray, inside: np.ndarray) -> str:
    """A title's last line where some ``differences`` are not finite: "(of the finite ones; not finite on 8.3 % of
    the map, 1 % of the box)", the box being where ``inside``; nothing where all are finite."""
    bad = ~np.isfinite(np.asarray(differences, dtype=np.float64))
    if not bad.any() or bad.all():  # (none at all: the RMSE itself says "not finite anywhere")
        return ""
    box = f", {100 * bad[inside].mean():.3g} % of the box" if bad[inside].any() else ""
    return f"\n(of the finite ones; not finite on {100 * bad.mean():.3g} % of the map{box})"


def plot_surfaces_2d(surfaces, train_box, wide_box, path, n_points=60, labels=("x0", "x1"), title=None,
                     domain_box=None, output=0) -> Path:
    """2-D inputs: one heat map per function (label -> f(X), its column ``output``) over the wide box
    on the first function's (the network's) range (values beyond it in the over/under colours, NaN
    or inf in magenta), the training box outlined (and ``domain_box``, the
    explanation domain, dotted); below, each function minus the first (the
    network) on a symmetric log scale, so that a blow-up outside the box shows."""
    from matplotlib.colors import SymLogNorm

    g0 = np.linspace(wide_box[0][0], wide_box[0][1], n_points)
    g1 = np.linspace(wide_box[1][0], wide_box[1][1], n_points)
    A, B = np.meshgrid(g0, g1)
    grid = np.column_stack([A.ravel(), B.ravel()])
    values = {}
    for label, f in surfaces.items():
        with np.errstate(all="ignore"):
            values[label] = np.asarray(f(grid), dtype=np.float64).reshape(len(grid), -1)[:, output].reshape(A.shape)
    reference_label, reference = next(iter(values.items()))
    finite = reference[np.isfinite(reference)]
    # the reference's whole range: over and under then flag only functions that leave it (its own 1-99 % range
    # painted its panel red and black at its edges, which read as faults of the network)
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    n = len(values)
    fig, axes = plt.subplots(2, n, figsize=(4.0 * n, 7.4), squeeze=False, layout="constrained")
    values_map = plt.get_cmap("viridis").with_extremes(over="red", under="black", bad="magenta")
    with np.errstate(all="ignore"):
        differences = {label: v - reference for label, v in values.items()}
    spread = np.concatenate([np.abs(d[np.isfinite(d)]) for d in differences.values()] + [np.zeros(1)])
    limit = max(float(spread.max()), 1e-12)
    # the linear zone is sized by the network's spread, as the 1-D plot's: sized by the largest difference,
    # one blow-up outside the box would push an error of a third of the spread inside it to near white
    scale = max(float(np.std(finite)) if finite.size else 0.0, 1e-12)
    threshold = min(float(f"{1e-2 * scale:.1g}"), limit / 10)
    norm = SymLogNorm(linthresh=threshold, vmin=-limit, vmax=limit)
    difference_map = plt.get_cmap("RdBu_r").with_extremes(bad="magenta")
    (x0, x1), (y0, y1) = train_box[0], train_box[1]
    for k, (label, v) in enumerate(values.items()):
        top, bottom = axes[0][k], axes[1][k]
        image = top.pcolormesh(A, B, v, vmin=low, vmax=high, shading="auto", cmap=values_map)
        top.set_title(label)
        if k:
            diff_image = bottom.pcolormesh(A, B, differences[label], norm=norm, shading="auto", cmap=difference_map)
            # contours of |difference| at each decade, labelled: on the symlog colours an error of 0.06 and one of
            # 0.32 read alike (both "saturated"); the lines say where the error passes 0.1, 1, ...
            size = np.ma.masked_invalid(np.abs(differences[label]))
            levels = [10.0**k for k in range(-12, 13) if threshold < 10.0**k < float(size.max() or 0.0)]
            if levels:
                lines = bottom.contour(A, B, size, levels=levels, colors="k", linewidths=0.6, alpha=0.7)
                bottom.clabel(lines, fmt=lambda v: f"{v:g}", fontsize=7)
            # the error as a number: on the symlog colours two explainers of R2 0.99 and 0.81 looked alike
            inside = (A >= x0) & (A <= x1) & (B >= y0) & (B <= y1)
            bottom.set_title(f"{label} - {reference_label}\nRMSE {_rmse_text(differences[label][inside])} in the "
                             f"dashed box, {_rmse_text(differences[label])} on the map"
                             f"{_not_finite_text(differences[label], inside)}", fontsize=9)
        else:
            bottom.axis("off")
        for ax in (top, bottom) if k else (top,):
            _outline(ax, train_box, color="white" if ax is top else "k", lw=1.5, ls="--")
            if domain_box is not None:
                _outline(ax, domain_box, color="white" if ax is top else "k", lw=1.2, ls=":")
            ax.set_xlabel(labels[0])
            ax.set_ylabel(labels[1])
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.85, extend="both",
                 label=f"value (the {reference_label}'s range)\nred above it, black below, magenta NaN/inf")
    if n > 1:
        # a tick per decade between the linear zone and the largest difference (at most four a side): with
        # ticks at +-0.01 and +-limit only, an error of 0.05 and one of 2 read alike, "saturated"
        decades = [threshold * 10.0**k for k in range(1, 40) if threshold * 10.0**k < limit / 3]  # (not crowding it)
        decades = decades[::-(-len(decades) // 4)] if decades else []
        ticks = [-limit, *(-d for d in reversed(decades)), -threshold, 0.0, threshold, *decades, limit]
        bar = fig.colorbar(diff_image, ax=axes[1].tolist(), shrink=0.85, ticks=ticks,
                           label=f"difference from {reference_label} (symlog)")
        bar.ax.set_yticklabels([f"{t:.2g}" for t in ticks])
        # the reference's own difference is 0: its panel says how to read the others'
        axes[1][0].text(0.5, 0.5, f"below: each minus the {reference_label}\n(red: above it, blue: below)\n"
                                  f"white within ±{threshold:.2g},\nlogarithmic beyond;\nlines: |difference| at "
                                  f"each decade",
                        ha="center", va="center", transform=axes[1][0].transAxes, fontsize=10, color="0.25")
    key = "dashed: training box" + ("; dotted: explanation domain" if domain_box is not None else "")
    fig.suptitle(f"{title}\n({key})" if title else f"network and explanations ({key})")  # (on one line, a long
    # title widened the figure past its panels)
    return save_figure(fig, path)


def plot_inputs(curves, train_box, wide_box, path, feature_names=None, **options) -> Path:
    """Functions of 1 input as curves (:func:`plot_curves_1d`), of 2 as surfaces (:func:`plot_surfaces_2d`),
    their axes named by ``feature_names`` (default x0, x1); ``options`` go to either."""
    names = feature_names or [f"x{j}" for j in range(train_box.shape[0])]
    if train_box.shape[0] == 1:
        return plot_curves_1d(curves, train_box, wide_box, path, xlabel=names[0], **options)
    return plot_surfaces_2d(curves, train_box, wide_box, path, labels=names[:2], **options)


#: Outputs drawn by :func:`plot_network_vs_formula`, one file each, when there are several.
MAX_OUTPUT_PLOTS = 8


def plot_network_vs_formula(network, formula, X, path_stem, feature_names=None, box=None,
                            others=None, domain_box=None, layer: str | None = None,
                            description: str | None = None) -> list[Path]:
    """For 1-D or 2-D inputs: the network and the formula (and any ``others``,
    label -> function) across the data's box widened by 50 % on each side,
    and at least the explanation domain widened by 25 % (``domain_box``: its
    edges are drawn too; the report's "beyond" region); several outputs (a
    hidden layer, ``--layers``) one file each, ``<stem>_y<j>.png``, the first
    MAX_OUTPUT_PLOTS of them (only the first was drawn, a wrong second one
    unseen).  ``layer``: the module explained, when it is not the network's output (its units are titled
    so, not "output y6"); ``description``: the formula's source, size and figures, in the title (or one such text
    per output).  Of 3
    inputs or more, the formula against the network at the rows and in the domain's box
    (:func:`plot_parity`)."""
    train_box = data_box(X) if box is None else np.asarray(box, dtype=np.float64)
    wide = widen_box(train_box)
    if domain_box is not None:
        around = widen_box(np.asarray(domain_box, dtype=np.float64), 0.25)
        wide = np.column_stack([np.minimum(wide[:, 0], around[:, 0]), np.maximum(wide[:, 1], around[:, 1])])
    curves = {"network": network, "formula": formula, **(others or {})}
    with np.errstate(all="ignore"):
        n_outputs = np.asarray(network(train_box.mean(axis=1)[None, :]), dtype=np.float64).reshape(1, -1).shape[1]
    paths = []
    for j in range(min(n_outputs, MAX_OUTPUT_PLOTS)):
        path = f"{path_stem}.png" if n_outputs == 1 else f"{path_stem}_y{j}.png"
        what = "output" if layer is None else f"layer '{layer}', unit"
        title = "network and formula" if n_outputs == 1 else (
            f"{what} y{j} (of {n_outputs}" + (f"; the first {MAX_OUTPUT_PLOTS} drawn" if n_outputs > MAX_OUTPUT_PLOTS
                                              else "") + "): network and formula")
        text = description[j] if isinstance(description, (list, tuple)) else description
        title = f"{title}\n({text})" if text else (None if n_outputs == 1 else title)
        if train_box.shape[0] in (1, 2):
            paths.append(plot_inputs(curves, train_box, wide, path, feature_names, domain_box=domain_box, output=j,
                                     title=title))
        else:
            paths.append(plot_parity(network, formula, X, path, domain_box=domain_box, output=j,
                                     title=title or "network and formula"))
    return paths


#: Points of the explanation domain's box drawn by :func:`plot_parity`.
PARITY_DOMAIN_POINTS = 2000


def plot_parity(network, formula, X, path, domain_box=None, output: int = 0, title="network and formula",
                seed: int = 0, max_points: int = PARITY_DOMAIN_POINTS) -> Path:
    """Of 3 inputs or more, where no curve or surface can be drawn: the formula against the network (top) and
    the error formula - network against the network (bottom, what a parity plot hides at R^2 near 1), at the
    rows and, given ``domain_box``, at points drawn uniformly in it, each set with its R^2 (a regression of
    3+ inputs had no picture of the selected formula at all).  A formula not finite at a point is drawn as a
    red cross on the top edge and counted.  Each set's R^2 and counts are of all its points; at most
    ``max_points`` of it are drawn (:func:`_points_drawn`).  Other curves (a benchmark's true function) are
    drawn only of 1-2 inputs (:func:`plot_network_vs_formula`)."""
    sets = {"rows": np.asarray(X, dtype=np.float64)}
    if domain_box is not None:
        box = np.asarray(domain_box, dtype=np.float64)
        # not the report's own sample of the domain: its R^2 differs from the title's by the sampling's spread,
        # and the legend says so (two figures for one region, unexplained, read as a contradiction)
        points = np.random.default_rng(seed).uniform(box[:, 0], box[:, 1], size=(PARITY_DOMAIN_POINTS, box.shape[0]))
        sets["domain box, a sample of its own"] = points
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.4, 7.2), sharex=True, constrained_layout=True)
    low, high = math.inf, -math.inf
    for k, (name, points) in enumerate(reversed(sets.items())):  # the rows drawn last, over the domain's
        with np.errstate(all="ignore"):
            t = np.asarray(network(points), dtype=np.float64).reshape(len(points), -1)[:, output]
            a = np.asarray(formula(points), dtype=np.float64).reshape(len(points), -1)[:, output]
        shown = np.isfinite(t)  # (beyond the data the network may overflow: no point to compare there)
        t, a = t[shown], a[shown]
        finite = np.isfinite(a)
        _, r2 = rmse_r2(t, a) if len(t) else (math.nan, math.nan)
        colour = "tab:orange" if name != "rows" else "tab:blue"
        label = f"{name} ({len(t)} points): R\u00b2 {format_r2(r2)}" + (
            f", {np.count_nonzero(~finite)} not finite (red, top edge)" if not finite.all() else "")
        if len(t) > max_points:
            keep = _points_drawn(t, a, max_points, np.random.default_rng(seed))
            t, a, finite = t[keep], a[keep], finite[keep]
        top.scatter(t[finite], a[finite], s=5, alpha=0.4, color=colour, label=label)
        bottom.scatter(t[finite], a[finite] - t[finite], s=5, alpha=0.4, color=colour)
        if not finite.all():
            _cross_not_finite((top, bottom), t, finite)
        values = np.concatenate([t, a[finite]])
        if values.size:
            low, high = min(low, float(values.min())), max(high, float(values.max()))
    if math.isfinite(low):
        top.plot([low, high], [low, high], color="k", lw=0.8, label="formula = network")
    bottom.axhline(0, color="k", lw=0.8)
    top.set_ylabel("formula")
    bottom.set_ylabel("formula - network")
    bottom.set_xlabel("network")
    top.legend(fontsize=8, loc="upper left")
    top.set_title(title, fontsize=10)
    return save_figure(fig, path)


def plot_fidelity(records, path, title="fidelity to the network", counts: dict | None = None) -> Path:
    """Dots per explainer and domain: RMSE (regression) or disagreement with the network's class
    (classification), each on a log axis, lower is better: agreements of 100, 97.3 and 93.8 % drawn on a
    linear axis up to 1 looked alike; as disagreements of 0, 2.7 and 6.2 % they do not.  ``counts``: the
    points (rows) of each domain, in the legend (with 38 test rows, one row is 2.6 %)."""
    domains = list(dict.fromkeys(r["domain"] for r in records))
    names = list(dict.fromkeys(r["explainer"] for r in records))
    classification = records[0]["agreement"] is not None
    # an explainer's dots close together, explainers well apart: the right label of one and the left label of the
    # next (LIME's 0.457 beside MAPLE's 0.441) overlapped where their values were close
    fig, ax = plt.subplots(figsize=(2.6 + 1.7 * len(names), 4), layout="constrained")
    width = 0.5 / len(domains)
    any_dot, heights = False, []
    for d, domain in enumerate(domains):
        found = [next(r for r in records if r["explainer"] == name and r["domain"] == domain) for name in names]
        values = [(None if r["agreement"] is None else 1.0 - r["agreement"]) if classification else r["rmse"]
                  for r in found]
        positions = np.arange(len(names)) + d * width
        drawn = [value is not None and math.isfinite(value) and value > 0 for value in values]
        shown = [v for v, ok in zip(values, drawn) if ok]
        # a dot per figure, its value beside it: on a log axis a bar's length runs from an arbitrary floor (LIME's
        # 7.9 % looked 2.5 times srnet's 0.9 %, not 9 times)
        ax.scatter(positions[drawn], shown, s=36, color=f"C{d}", zorder=3, label=domain)
        any_dot = any_dot or any(drawn)
        heights += shown
        for x, value, ok in zip(positions, values, drawn):  # no dot to see on a log axis (0) or at all: say so
            if not ok:
                text = "none" if value is None or math.isnan(value) else (
                    "inf (overflow)" if math.isinf(value) else
                    "agrees on every row" if classification else f"{value:g} (exact)")
                ax.text(x, 0.02, text, transform=ax.get_xaxis_transform(), rotation=90, ha="center", va="bottom",
                        fontsize=8, color="crimson")
                if value is not None and math.isinf(value):  # the worst of all, at the top (no mark read as best)
                    ax.scatter([x], [1.0], marker="^", s=60, color="crimson", clip_on=False, zorder=3,
                               transform=ax.get_xaxis_transform())
            else:  # the first domain's value on its left: two equal RMSEs' labels overlapped; a classifier's is the
                # figure people quote, its agreement (99.96 %, not a rounded 100.0 %)
                agreement = 100 * (1 - value)
                text = (f"{agreement:.1f} %" if agreement < 99.95 else f"{agreement:.4g} %") if classification \
                    else f"{value:.3g}"
                ax.annotate(text, (x, value), xytext=(-5 if d == 0 else 5, 0), textcoords="offset points",
                            va="center", ha="right" if d == 0 else "left", fontsize=7)
    ax.set_xticks(np.arange(len(names)) + width * (len(domains) - 1) / 2, names)
    ax.set_xlim(-0.5, len(names) - 0.5 + width * (len(domains) - 1))  # every slot shown, dots or notes
    if any_dot:
        ax.set_ylabel("share of rows whose class differs from the network's\n(log scale, lower is better; "
                      "beside each dot: the agreement)"
                      if classification else "RMSE against the network at the points\n(log scale; lower is better)")
        ax.set_yscale("log")
        if not classification:  # room above and below the dots for their values
            ax.set_ylim(min(heights) / 3, max(heights) * 3)
        if classification:  # shares as percentages, with room above the dots
            from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

            ax.set_ylim(min(heights) / 3, min(1.0, max(heights)) * 4)
            ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            # each tick its own digits (one count for the axis printed 0.1 % as "0%"); none past 100 %
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:g} %" if v <= 1 else ""))
            ax.yaxis.set_minor_formatter(NullFormatter())
    else:  # every figure is 0, inf or missing: nothing a log axis can show (the notes say which)
        ax.set_ylabel("disagreement with the network's class" if classification else "RMSE against the network")
        ax.set_ylim(0, 1)
    from matplotlib.patches import Patch  # (a domain with no dot drawn would have no colour in the legend)

    unit = "rows" if classification else "points"
    fig.legend(handles=[Patch(color=f"C{d}", label=domain if domain not in (counts or {}) else
                              f"{domain} ({counts[domain]} {unit})") for d, domain in enumerate(domains)],
               loc="outside right upper", title="domain", fontsize=8)  # inside, it covered dots near 1
    ax.set_title(title)
    return save_figure(fig, path)


#: Panels per row of a decision-boundary map.
PANELS_PER_ROW = 4


def plot_decision_boundaries(classifiers, X, features, path, fixed=None, n_points=40,
                             feature_names=None, class_labels=None, domain_box=None) -> Path:
    """Predicted class over a grid of two inputs (the others fixed at the
    training median, their values in the title), one panel per classifier (label -> f(X) -> scores).
    ``class_labels``: each output's class label, in the legend (it read "class 0" beside a run that printed
    setosa); default the output indices.  Each later panel's title gives the share of the map where its class
    differs from the first panel's, and the share of the rows ``X`` (a slice at the median lies mostly off
    the data where inputs are correlated).  The rows are dots filled with the first panel's class at their own
    row (a setosa row drawn black on the slice's versicolor read as the network calling it versicolor).  With
    ``domain_box`` (per input (low, high): where the formula was asked to agree), the map spans it widened by
    25 % and outlines it, dotted, beside the rows' box, dashed: on the rows' box alone the map never showed
    where the formula was weakest, past them."""
    X = np.asarray(X, dtype=np.float64)
    i, j = features
    at = "at their median" if fixed is None else "at the values given"
    fixed = np.median(X, axis=0) if fixed is None else np.asarray(fixed, dtype=np.float64)
    rows_box = data_box(X[:, [i, j]])
    box = rows_box
    if domain_box is not None:
        domain_box = np.asarray(domain_box, dtype=np.float64)[[i, j]]
        around = widen_box(domain_box, 0.25)
        box = np.column_stack([np.minimum(box[:, 0], around[:, 0]), np.maximum(box[:, 1], around[:, 1])])
    g0, g1 = np.linspace(*box[0], n_points), np.linspace(*box[1], n_points)
    A, B = np.meshgrid(g0, g1)
    grid = np.tile(fixed, (A.size, 1))
    grid[:, i], grid[:, j] = A.ravel(), B.ravel()
    # constrained: the figure's title printed over the panels' titles; at most PANELS_PER_ROW a row (eight
    # panels in one row made a 3661-pixel-wide strip, read at a tenth of its size)
    columns = min(len(classifiers), PANELS_PER_ROW)
    rows = -(-len(classifiers) // columns)
    fig, grid_axes = plt.subplots(rows, columns, figsize=(3.8 * columns, 3.9 * rows + 0.4), squeeze=False,
                                  layout="constrained")
    for unused in grid_axes.ravel()[len(classifiers):]:
        unused.set_visible(False)
    names = feature_names or [f"x{k}" for k in range(X.shape[1])]
    # where no score is finite there is no class (as class_agreement counts it): magenta, not the arg-max of
    # NaN scores, which numpy reads as the first NaN's class (a formula's NaN region was painted class 0)
    cmap = matplotlib.colormaps["tab10"].with_extremes(bad="magenta")
    seen, no_class, reference, differs_anywhere = set(), False, None, False
    for ax, (label, f) in zip(grid_axes.ravel(), classifiers.items()):
        classes, chosen = _classes(np.asarray(f(grid), dtype=np.float64), 1, label)
        seen.update(int(c) for c in np.unique(classes[chosen]))
        no_class = no_class or not chosen.all()
        # colour c % 10, as the legend names them (classes 10 and up were painted class 9's "over" colour, while
        # the legend gave class 10 class 0's blue)
        ax.pcolormesh(A, B, np.ma.masked_array(classes % 10, ~chosen).reshape(A.shape), shading="auto", cmap=cmap,
                      vmin=0, vmax=9, alpha=0.8)
        if reference is None:  # the first panel (the network): the others are read against it
            reference = (classes, chosen, np.asarray(f(X), dtype=np.float64))
            row_classes, row_chosen = _classes(reference[2], 1, label)
            seen.update(int(c) for c in np.unique(row_classes[row_chosen]))
            no_class = no_class or not row_chosen.all()
            dots = np.ma.masked_array(row_classes % 10, ~row_chosen)
        ax.scatter(X[:, i], X[:, j], s=9, c=dots, cmap=cmap, vmin=0, vmax=9, edgecolors="k", linewidths=0.4,
                   plotnonfinite=True)
        for edges, style in [(rows_box, "--")] + ([(domain_box, ":")] if domain_box is not None else []):
            _outline(ax, edges, color="k", lw=1.0, ls=style)
        ax.set_xlabel(names[i])
        ax.set_ylabel(names[j])
        if ax is grid_axes.ravel()[0]:
            ax.set_title(label)
            continue
        # where the class differs from the first panel's, hatched (compared by eye across panels, it was missed)
        differs = (chosen != reference[1]) | (chosen & (classes != reference[0]))  # (no class in both: alike)
        if differs.any():
            differs_anywhere = True
            ax.contourf(A, B, differs.reshape(A.shape).astype(float), levels=[0.5, 1.5], colors="none",
                        hatches=["xxxx"])
        # and on the rows themselves: with correlated inputs most of a slice at the median lies off the data (a
        # breast-cancer map differed on 70.8 %, the rows on 1.6 %: read alone, the map said the formula failed)
        rows_differ = 1.0 - class_agreement(np.asarray(f(X), dtype=np.float64), reference[2])
        ax.set_title(f"{label}\nits class differs on {100 * differs.mean():.1f} % of this map\n"
                     f"and on {100 * rows_differ:.1f} % of the rows (dots)")
    # which colour is which class (the network's output index), under the panels
    named = None if class_labels is None else list(class_labels)
    handles = [matplotlib.patches.Patch(color=cmap(c % 10), alpha=0.8, label=f"class {c}" if named is None
                                        or c >= len(named) else f"{class_name(named[c])} (output {c})")
               for c in sorted(seen)]
    handles += [matplotlib.patches.Patch(color="magenta", alpha=0.8, label="no class (no finite score)")] * no_class
    first = next(iter(classifiers), "")
    handles += [matplotlib.patches.Patch(facecolor="none", hatch="xxxx", label=f"class differs from the {first}'s")
                ] * differs_anywhere
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 10), fontsize=8)
    # a slice: with correlated inputs most of it lies off the data (the rows' figure in each title is the data's)
    fig.suptitle(f"predicted class{_slice_text(names, fixed, (i, j), at)}\ndots: the rows, in the {first}'s class at "
                 f"each; dashed: the rows' box" + ("; dotted: the explanation domain" if domain_box is not None
                                                  else ""))
    return save_figure(fig, path)


#: The most inputs held fixed that a decision map's title names one by one (more are counted).
NAMED_FIXED = 4


def _slice_text(names, fixed, drawn, at: str = "at their median") -> str:
    """Where a decision map's slice lies: ``", other inputs at their median: a = 4.35, b = 5.8"`` (``at``: how
    they were fixed; a caller's own values are not a median); nothing with no other input (a two-input map said
    its other inputs were at their median)."""
    others = [k for k in range(len(names)) if k not in drawn]
    if not others:
        return ""
    if len(others) > NAMED_FIXED:
        return f", the {len(others)} other inputs {at}"
    return f", other inputs {at}: " + ", ".join(f"{names[k]} = {fixed[k]:.3g}" for k in others)


#: Points whose labels would overlap share one: closer than this fraction of
#: the axes' width and height (the width of a short label).
LABEL_SPAN = (0.15, 0.05)


def label_groups(ax, points) -> list[tuple[float, float, list[str]]]:
    """Group labelled points ``(x, y, name)`` whose labels would overlap on
    ``ax`` (scales and limits set): nearness is measured in axes fractions,
    so a plot spanning less than a decade merges what one spanning ten
    keeps apart.  Returns ``(x, y, names)`` per label, at its first point."""
    to_axes = ax.transData + ax.transAxes.inverted()
    groups = []  # (x, y, names, position in axes fractions)
    for x, y, name in points:
        where = to_axes.transform((x, y))
        near = [g for g in groups if all(abs(g[3][k] - where[k]) < LABEL_SPAN[k] for k in (0, 1))]
        if near:
            near[0][2].append(name)
        else:
            groups.append((x, y, [name], where))
    return [(x, y, names) for x, y, names, _ in groups]


def node_count_axis(ax, sizes) -> None:
    """An x axis of formula sizes (nodes) that always has readable numbers:
    logarithmic when they span a decade or more, with node counts as numbers
    (20, 50, 100, not 2x10^1) and minor ticks labelled at 2 and 5 only so that
    labels do not run into each other; linear when they span less (11 to 19
    nodes holds no log tick at all)."""
    sizes = [s for s in sizes if s > 0]
    if sizes and max(sizes) < 10 * min(sizes):
        if max(sizes) - min(sizes) < 4:  # one size: too few whole numbers in reach, and ticks went 16.2 .. 17.8
            middle = (max(sizes) + min(sizes)) / 2
            ax.set_xlim(middle - 2.5, middle + 2.5)
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        return
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.FuncFormatter(
        lambda v, _: f"{v:g}" if round(v / 10 ** np.floor(np.log10(v))) in (2, 5) else ""))


def pareto_label(sources, sizes, with_poles) -> str:
    """One label for candidates whose labels would overlap: a formula and its
    refined constants as ``"direct-4 (+refined)"``; candidates of different
    sizes with each one's node count (``"direct-8: 18, direct-16: 25"``), so
    that a reader can tell which point is which; ``(pole)`` after any with a
    singularity in the domain."""
    names = [name + (" (pole)" if name in with_poles else "") for name in sources]
    bases = {name.removesuffix("+refined") for name in sources}
    if len(sources) == 2 and len(bases) == 1 and not with_poles.intersection(sources):
        return f"{bases.pop()} (+refined)"
    if len({sizes[name] for name in sources}) == 1:
        return ", ".join(names)
    return ", ".join(f"{name}: {sizes[source]}" for name, source in zip(names, sources))


def plot_pareto(candidates, front, selected_source, path,
                title="formulas of the network: size against fidelity") -> Path:
    """Every candidate formula by complexity (nodes) and validation error:
    1 - R^2 on the domain (log scales, so near-perfect fits stay apart), or
    for classifiers the share of points whose class the formula does not
    agree on, in % (a linear axis from 0: most formulas agree on every
    point, and a log axis floored at 1e-16 drew 14 empty decades), as
    selection weighs them.  ``front`` (SRNet's ``pareto_``, the front
    selection worked on) is joined; the selected formula is starred, each
    point labelled."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    classifier = candidates[0]["validation_agreement"] is not None

    def raw_error(c) -> float:
        value = c["validation_agreement"] if classifier else selection_figures(c["figures"])["r2"]
        if value is None:  # None: -inf in a report (JSON)
            return math.inf
        return 100.0 * (1.0 - value) if classifier else 1.0 - value

    # a formula that is not finite on the domain (R^2 -inf) is drawn above every other, not at 1 (below a
    # formula at R^2 -0.5), and its label says so
    finite_errors = [e for e in map(raw_error, candidates) if np.isfinite(e)]
    ceiling = (100.0 if classifier else 10 * max([max(e, 1e-16) for e in finite_errors] + [1.0]))

    def error(c) -> float:
        value = raw_error(c)
        if not np.isfinite(value):
            return ceiling
        return value if classifier else max(value, 1e-16)

    not_finite = {c["source"] for c in candidates if not np.isfinite(raw_error(c))}
    points = sorted((c["complexity"], error(c), c["source"], bool(c["singularities"])) for c in candidates)
    ax.plot([c["complexity"] for c in front], [error(c) for c in front], "-", color="0.6", zorder=1,
            label="Pareto front")
    for size, error, source, poles in points:
        chosen = source == selected_source
        ax.scatter(size, error, marker="*" if chosen else ("x" if poles else "o"), s=160 if chosen else 36,
                   color="tab:red" if chosen else "tab:blue", zorder=2)
    node_count_axis(ax, [size for size, *_ in points])
    if classifier:
        top = max(error for _, error, _, _ in points)
        ax.set_ylim(-0.05 * max(top, 1.0), 1.15 * max(top, 1.0))
    else:
        errors = {error for _, error, _, _ in points}
        if len(errors) == 1:  # one error (a single candidate): matplotlib warned of singular limits on the terminal
            ax.set_ylim(min(errors) / 10, min(errors) * 10)
        ax.set_yscale("log")
    ax.autoscale_view(scaley=not classifier)
    sizes = {source: size for size, _, source, _ in points}
    with_poles = {source for _, _, source, poles in points if poles}
    stacked: dict[int, int] = {}  # labels at one height go up in turn, so that neighbours do not print over
    to_axes = ax.transData + ax.transAxes.inverted()
    for size, error, sources in label_groups(ax, [(size, error, source) for size, error, source, _ in points]):
        label = pareto_label(sources, sizes, with_poles)
        if not_finite.intersection(sources):
            label += " (not finite)"
        level = round(20 * to_axes.transform((size, error))[1])
        turn = stacked.get(level, 0)
        stacked[level] = turn + 1
        # a label raised above a neighbour's gets a thin leader to its own point (it read as the next point's)
        ax.annotate(label, (size, error), textcoords="offset points", xytext=(6, 4 + 11 * (turn % 3)),
                    fontsize=8, arrowprops=dict(arrowstyle="-", lw=0.5, color="0.5", shrinkA=0, shrinkB=2)
                    if turn % 3 else None)
    ax.set_xlabel("complexity (nodes of the formula as printed)")
    # where selection measured them, as the printed front says: fit's validation sample of the domain, or (fitted
    # on recorded activations, without a network to probe) the rows
    where = "the domain's validation sample" if "validation" in candidates[0]["figures"] else "the rows"
    if not classifier:
        measure = f"1 - R\u00b2 against the network\n({where})"
    elif "validation-rows" in candidates[0]["figures"]:
        measure = f"points whose class differs from the network's, %\n(validation rows and {where} alike)"
    else:
        measure = f"points whose class differs from the network's, %\n({where})"
    ax.set_ylabel(measure)
    ax.scatter([], [], marker="o", s=36, color="tab:blue", label="a formula")
    if with_poles:  # (the crosses had no key)
        ax.scatter([], [], marker="x", s=36, color="tab:blue", label="a formula with a pole in the domain")
    off_front = off_front_note(candidates, front, selected_source)
    # (a star off the line read as a slip: selection passes over a formula with a pole unless it is far better)
    ax.scatter([], [], marker="*", s=160, color="tab:red", label="selected" + off_front)
    ax.legend(loc="best", fontsize=8)
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    return save_figure(fig, path)
