"""Defects found by a review of the command line and its plots (each test fails on the code it was written
against, for the reason in its docstring).  Fast: no search runs, except the maple-only ``srnet compare``."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import srnet.plots as plots
from srnet import cli

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples"


@pytest.fixture
def figures(monkeypatch):
    """Every figure srnet.plots saves, kept open for inspection: (figure, path)."""
    kept = []
    save = plots.save_figure

    def keep(fig, path):
        kept.append((fig, Path(path)))
        fig.canvas.draw()  # before save_figure closes it: legends and limits as drawn
        return save(fig, path)

    monkeypatch.setattr(plots, "save_figure", keep)
    return kept


def _curves(ax):
    return [line for line in ax.get_lines() if not line.get_label().startswith("_")
            and line.get_label() not in ("explanation domain",)]


def test_network_vs_formula_covers_the_explanation_domain(figures, tmp_path):
    """plots.py:242-243: network_vs_formula.png spans the data's box widened 50 % on each side, whatever the
    explanation domain.  `srnet demo --domain widen:3` asks for a formula faithful on [-3, 3], but the curves
    stop at [-2, 2]: a third of the domain (and all of the region beyond it) is empty, with the domain's
    dashed edges drawn out in the blank.  The plot must show the network and the formula across the domain."""
    X = np.linspace(-1.0, 1.0, 50)[:, None]
    plots.plot_network_vs_formula(np.tanh, lambda Z: np.tanh(Z) + 0.01 * Z ** 3, X, tmp_path / "nvf",
                                  domain_box=[[-3.0, 3.0]])
    top = figures[-1][0].axes[0]
    drawn = [line.get_xdata() for line in _curves(top) if line.get_label() in ("network", "formula")]
    assert drawn, "no network/formula curve drawn"
    low, high = min(float(np.min(x)) for x in drawn), max(float(np.max(x)) for x in drawn)
    assert low <= -3.0 and high >= 3.0, f"curves span [{low}, {high}], the explanation domain [-3, 3]"


def test_network_vs_formula_shows_every_output(figures, tmp_path):
    """plots.py:115 (and :189 for 2-D): only column 0 of the network and of the formula is drawn.  A network
    of several outputs (or `srnet explain --layers 1 3`, a hidden layer of 8 units) is drawn as 'network'
    against 'formula' for its first output alone: here output 1 of the formula is wrong everywhere (0 against
    5 sin 3x) and the plot shows a perfect fit.  Every output must be drawn (or the plot must say which)."""
    X = np.linspace(-1.0, 1.0, 50)[:, None]

    def network(Z):
        return np.column_stack([np.tanh(Z[:, 0]), 5 * np.sin(3 * Z[:, 0])])

    def formula(Z):
        return np.column_stack([np.tanh(Z[:, 0]), np.zeros(len(Z))])

    plots.plot_network_vs_formula(network, formula, X, tmp_path / "nvf")
    fig = figures[-1][0]
    largest = max(float(np.nanmax(np.abs(line.get_ydata()))) for ax in fig.axes for line in _curves(ax))
    assert largest > 2.0, "output 1 (amplitude 5, and the formula's error on it) is drawn nowhere"


def test_legend_does_not_cover_curves(figures, tmp_path):
    """plots.py:144: `top.legend(fontsize=8)` goes inside the axes.  With the four explainers of `srnet compare`
    (e.g. `srnet compare ../shared/srnet_gecco/regression/kkk0 --explainers srnet,lime,maple,cgp_direct`,
    explainers.png) no corner is free and the legend box is drawn over a stretch of cgp_direct's curve,
    hiding where it leaves the network.  The legend must not hide data (place it outside the axes, as
    plot_fidelity does)."""
    def network(Z):
        return 1.65 * np.tanh(1.3 * Z[:, 0]) + 0.65

    def wanders(Z):  # leaves the network on both sides, as cgp_direct's formula did on kkk0
        x = Z[:, 0]
        left = 0.8 + 1.7 * np.cos(0.6 * (x + 4.7))
        right = 0.7 + 1.5 * np.cos(0.9 * (x - 1.6))
        return np.where(x < -1, left, np.where(x > 1.6, right, network(Z)))

    curves = {"network": network, "srnet": lambda Z: network(Z) + 0.02,
              "lime": lambda Z: network(Z) + 0.05 * np.sin(3 * Z[:, 0]), "maple": lambda Z: 0.65 + 1.3 * Z[:, 0],
              "cgp_direct": wanders}
    plots.plot_curves_1d(curves, np.array([[-1.0, 1.0]]), np.array([[-5.0, 5.0]]), tmp_path / "legend.png")
    top = figures[-1][0].axes[0]
    legend = top.get_legend()
    if legend is None:  # the legend moved outside the axes: nothing to cover
        return
    box = legend.get_window_extent()
    hidden = {}
    for line in _curves(top):
        points = top.transData.transform(np.column_stack([line.get_xdata(), line.get_ydata()]))
        inside = (points[:, 0] > box.x0) & (points[:, 0] < box.x1) & (points[:, 1] > box.y0) & (points[:, 1] < box.y1)
        if inside.any():
            hidden[line.get_label()] = int(inside.sum())
    assert not hidden, f"the legend covers points of {hidden}"


def test_compare_plot_names_the_inputs(figures, tmp_path):
    """compare.py:359-360 (write_comparison): plot_curves_1d / plot_surfaces_2d are called without the data's
    feature names, so explainers.png labels its axes 'x' (1-D) or 'x0', 'x1' (2-D) while every formula printed
    beside it reads 'speed' and 'angle'.  The axes must carry the column names."""
    torch.manual_seed(0)
    from srnet.networks import build_mlp

    network = build_mlp("mlp:2-4-1:tanh")
    torch.save(network.state_dict(), tmp_path / "net.pt")
    X = np.random.default_rng(0).uniform(-1, 1, (60, 2))
    with torch.no_grad():
        y = network(torch.tensor(X, dtype=torch.float32)).numpy()[:, 0]
    np.savetxt(tmp_path / "data.csv", np.column_stack([X, y]), delimiter=",", header="speed,angle,lift",
               comments="")
    status = cli.main(["compare", str(tmp_path / "net.pt"), "--arch", "mlp:2-4-1:tanh", "--data",
                       str(tmp_path / "data.csv"), "--target", "last", "--out", str(tmp_path / "out"),
                       "--explainers", "maple", "--points", "50", "--seconds", "1"])
    assert status == 0
    drawn = [fig for fig, path in figures if path.name == "explainers.png"]
    assert drawn, "no explainers.png drawn"
    labels = {(ax.get_xlabel(), ax.get_ylabel()) for ax in drawn[0].axes if ax.get_xlabel()}
    assert labels == {("speed", "angle")}, f"axes labelled {labels}"


def test_network_r2_is_printed_readably(tmp_path, capsys):
    """cli.py:298-299: `the network itself: r2 {value:.4f}` prints a far-off R2 in full: a network whose last
    layer is scaled wrongly prints an 80-digit number (`r2 -21573604413317372202598429144474806230892500707805
    394906053052249971051462656.0000`), while the warning under it, and _r2() elsewhere, read -2.157e+76.
    Print it with _r2 (four significant digits when far from [0, 1])."""
    weights = torch.load(EXAMPLES / "coulomb" / "network.pt", weights_only=True)
    weights = {name: value.clone() for name, value in weights.items()}
    weights["4.weight"] *= 1e38
    torch.save(weights, tmp_path / "scaled.pt")
    # --layers nosuch: refused right after the network's own fit is printed, before any search
    status = cli.main(["explain", str(tmp_path / "scaled.pt"), "--arch", "mlp:3-16-16-1:sigmoid", "--data",
                       str(EXAMPLES / "coulomb" / "data.csv"), "--target", "last", "--out", str(tmp_path / "out"),
                       "--seconds", "1", "--layers", "nosuch"])
    assert status == 2
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("the network itself"))
    assert len(line) < 60, f"unreadable: {line}"


def test_a_domain_in_a_message_reads_as_a_person_writes_it():
    from srnet.domain import as_domain

    X = np.array([[0.9023019999999999, -1.5], [2.097682, 1.5]])
    assert as_domain("widen:1.2").text(X) == "widen:1.2, box [0.7828, 2.217] x [-1.8, 1.8]"
    wide = np.tile(X, (1, 3))
    assert as_domain("rows").text(wide) == "rows"
    assert as_domain("widen:1").text(wide).endswith("x ... (6 inputs)")


def test_a_layer_explained_instead_of_the_output_is_named_in_its_figures(tmp_path, capsys):
    """With --layers stopping at a hidden layer, the figures lines said 'output R2' for that layer's fit."""
    status = cli.main(["explain", str(EXAMPLES / "sine" / "network.pt"), "--arch", "mlp:1-8-8-1:sigmoid", "--data",
                       str(EXAMPLES / "sine" / "data.csv"), "--target", "last", "--layers", "1", "3",
                       "--out", str(tmp_path / "out"), "--generations", "20", "--test-size", "0.25"])
    assert status == 0
    printed = capsys.readouterr().out
    figures = [line for line in printed.splitlines() if line.startswith(("selected formula", "on the"))]
    assert figures and all("layer '3' R2" in line and "output R2" not in line for line in figures), figures


def test_a_network_that_overflows_beyond_its_domain_is_drawn_not_refused(figures, tmp_path):
    """The plot spans the domain widened by 25 %, where fit only notes that the network overflows: the
    network's curve there is drawn (shaded red), where probe refused it and `srnet explain` exited 2."""
    from torch import nn

    from srnet.probe import probe

    network = nn.Sequential(nn.Linear(1, 1))  # float32: 1.5e38 x overflows beyond x = 2.27
    with torch.no_grad():
        network[0].weight.fill_(1.5e38)
        network[0].bias.zero_()
    X = np.linspace(0.0, 1.0, 20)[:, None]
    with pytest.raises(ValueError, match="non-finite"):
        probe(network, np.array([[3.0]]))
    assert np.isinf(probe(network, np.array([[3.0]]), finite=False)[-1]).all()
    paths = plots.plot_network_vs_formula(lambda Z: probe(network, Z, finite=False)[-1], lambda Z: 1.5e38 * Z,
                                          X, tmp_path / "nvf", domain_box=[[-1.0, 2.0]])
    fig = figures[-1][0]
    assert all(np.isfinite(fig.axes[0].get_ylim())) and len(paths) == 1
    assert any("not finite" in text.get_text() for legend in fig.legends for text in legend.get_texts())


def test_a_warning_during_a_command_is_one_line_naming_the_command(monkeypatch, capsys):
    """Python's display of a library warning added the file, line and source line of srnet's code (two lines
    a user cannot act on); the command line prints ``srnet COMMAND: warning: ...``, and after the command the
    display is Python's again."""
    import warnings

    def run(args):
        warnings.warn("no formula of <= 1 nodes was found;\n  select=1 took the simplest (5 nodes)", UserWarning)
        return 0

    monkeypatch.setattr(cli, "_demo", run)
    shown_before = warnings.showwarning
    assert cli.main(["demo"]) == 0
    err = capsys.readouterr().err
    assert err == "srnet demo: warning: no formula of <= 1 nodes was found; select=1 took the simplest (5 nodes)\n"
    assert warnings.showwarning is shown_before


def test_a_warning_during_a_search_lifts_the_progress_bar_off_its_line(monkeypatch):
    """A warning printed while a bar was drawn (``\\r``, no newline) was appended to the bar's line, and the bar's
    next redraw overwrote it; through tqdm the bar is cleared, the warning gets its own line, the bar is redrawn."""
    import io
    import warnings

    from srnet.progress import SearchProgress

    stream = io.StringIO()
    stream.isatty = lambda: True
    monkeypatch.setattr(sys, "stderr", stream)

    def run(args):
        with SearchProgress(True, "searching", 10.0, None) as progress:
            progress(1, 1.0, 0.5)
            progress.bar.refresh()
            warnings.warn("a domain far from the data", UserWarning)
            progress(2, 2.0, 0.25)
        return 0

    monkeypatch.setattr(cli, "_demo", run)
    assert cli.main(["demo"]) == 0
    lines = [part.split("\r")[-1] for part in stream.getvalue().split("\n")]
    assert "srnet demo: warning: a domain far from the data" in lines  # a line of its own, nothing before it
