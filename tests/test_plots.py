"""Plots: labels of the Pareto plot are grouped by where they land on the axes, not in data units,
and a shared label says which point is which."""

import math

import matplotlib.pyplot as plt
import pytest

from srnet.plots import label_groups, pareto_label


def _axes(ylim):
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(10, 1000)
    ax.set_ylim(*ylim)
    return fig, ax


def test_points_whose_labels_would_overlap_share_one_and_others_keep_their_own():
    points = [(150, 0.01, "a"), (210, 0.01, "b"), (150, 0.012, "c"), (900, 0.01, "d")]
    fig, narrow = _axes((0.008, 0.07))  # under a decade high: 0.01 and 0.012 are far apart
    assert label_groups(narrow, points) == [(150, 0.01, ["a", "b"]), (150, 0.012, ["c"]), (900, 0.01, ["d"])]
    plt.close(fig)
    fig, wide = _axes((1e-8, 1.0))  # eight decades: the same two errors land on one spot
    assert label_groups(wide, points) == [(150, 0.01, ["a", "b", "c"]), (900, 0.01, ["d"])]
    plt.close(fig)


def test_a_shared_label_names_each_points_size_when_they_differ():
    sizes = {"direct-8": 18, "direct-16": 25, "direct-4": 10, "direct-4+refined": 10, "linear": 5}
    assert pareto_label(["direct-8", "direct-16"], sizes, set()) == "direct-8: 18, direct-16: 25"
    assert pareto_label(["direct-4", "direct-4+refined"], sizes, set()) == "direct-4 (+refined)"
    assert pareto_label(["direct-4", "direct-4+refined"], sizes, {"direct-4"}) == "direct-4 (pole), direct-4+refined"
    assert pareto_label(["direct-8", "linear"], sizes, {"linear"}) == "direct-8: 18, linear (pole): 5"
    assert pareto_label(["linear"], sizes, set()) == "linear"


def test_a_node_count_axis_always_has_numbers():
    """11 to 19 nodes on a log axis had no tick at all: the axis title sat under a blank axis."""
    from srnet.plots import node_count_axis

    fig, ax = plt.subplots()
    ax.plot([11, 19], [0.5, 0.9], "o")
    node_count_axis(ax, [11, 19])
    fig.canvas.draw()
    assert ax.get_xscale() == "linear" and [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    fig2, wide = plt.subplots()
    wide.plot([5, 600], [0.5, 0.9], "o")
    node_count_axis(wide, [5, 600])
    fig2.canvas.draw()
    labels = [t.get_text() for t in wide.get_xticklabels() if t.get_text()]
    assert wide.get_xscale() == "log" and "10" in labels and "100" in labels  # numbers, not 10^1
    plt.close(fig)
    plt.close(fig2)


def test_the_fidelity_bars_say_where_there_is_no_bar_to_see(tmp_path, monkeypatch):
    """On the log axis an exact formula's RMSE of 0, an overflow's inf and a missing figure left no bar:
    they looked like missing data, or like nothing at all."""
    import srnet.plots as plots

    shown = {}

    def keep(fig, path):
        shown["texts"] = [t.get_text() for t in fig.axes[0].texts]
        shown["bars"] = len(fig.axes[0].patches)
        # (regression: a dot per figure, its value beside it; an inf a red triangle at the top edge)
        shown["dots"] = sorted(float(y) for c in fig.axes[0].collections for _, y in c.get_offsets())
        plt.close(fig)
        return path

    monkeypatch.setattr(plots, "save_figure", keep)
    records = [dict(explainer=e, domain=d, rmse=v, agreement=None) for e, d, v in (
        ("srnet", "interpolation", 0.0), ("srnet", "extrapolation", float("inf")),
        ("lime", "interpolation", 0.1), ("lime", "extrapolation", 0.2),
        ("maple", "interpolation", None), ("maple", "extrapolation", 0.05))]
    plots.plot_fidelity(records, tmp_path / "fidelity.png")
    assert shown == {"texts": ["0 (exact)", "0.1", "none", "inf (overflow)", "0.2", "0.05"], "bars": 0,
                     "dots": [0.05, 0.1, 0.2, 1.0]}  # (1.0: the inf's triangle, at the top of the axis)
    # no bar at all (every formula exact): no log axis to fail on
    plots.plot_fidelity([dict(explainer="srnet", domain="interpolation", rmse=0.0, agreement=None)],
                        tmp_path / "exact.png")
    assert shown == {"texts": ["0 (exact)"], "bars": 0, "dots": []}


def test_a_formula_not_finite_on_the_domain_is_drawn_above_every_other_and_says_so(tmp_path, monkeypatch):
    """R^2 -inf was drawn at 1 - R^2 = 1: below a formula at R^2 -0.5, with nothing saying why."""
    import srnet.plots as plots

    shown = {}

    def keep(fig, path):
        ax = fig.axes[0]
        shown["texts"] = [t.get_text() for t in ax.texts]
        shown["points"] = [tuple(c.get_offsets()[0]) for c in ax.collections if len(c.get_offsets())]
        plt.close(fig)
        return path

    monkeypatch.setattr(plots, "save_figure", keep)

    def summary(source, size, r2):
        return {"source": source, "complexity": size, "validation_agreement": None, "singularities": [],
                "figures": {"domain": {"r2": r2}}}

    candidates = [summary("direct-4", 9, -0.5), summary("direct-16", 17, -math.inf), summary("layerwise", 40, None),
                  summary("direct-8", 12, 0.99)]
    plots.plot_pareto(candidates, [candidates[0], candidates[3]], "direct-8", tmp_path / "pareto.png")
    errors = {size: error for size, error in shown["points"]}
    assert errors[17] == errors[40] > errors[9] > errors[12] and errors[9] == pytest.approx(1.5)
    assert sorted(t for t in shown["texts"] if "not finite" in t) == ["direct-16 (not finite)", "layerwise (not finite)"]


def test_a_blow_up_outside_the_box_does_not_hide_the_error_inside_it(tmp_path, monkeypatch):
    """The difference map's linear zone was a thousandth of the largest difference: a formula 0.3 off
    everywhere in the box (the network's spread ~1) and 8000 off outside it showed near white inside."""
    import numpy as np

    import srnet.plots as plots

    norms = []

    def keep(fig, path):
        norms.extend(c.norm for ax in fig.axes for c in ax.collections if hasattr(c.norm, "linthresh"))
        plt.close(fig)
        return path

    monkeypatch.setattr(plots, "save_figure", keep)
    box, wide = np.array([[-1.0, 1.0], [-1.0, 1.0]]), np.array([[-2.0, 2.0], [-2.0, 2.0]])

    def network(X):
        return np.tanh(X[:, 0] + X[:, 1])

    def formula(X):
        return network(X) + 0.3 + 8000.0 * (X[:, 0] > 1.8)

    plots.plot_surfaces_2d({"network": network, "formula": formula}, box, wide, tmp_path / "s.png")
    assert norms and all(norm(0.3) >= 0.65 for norm in norms)  # a third of the spread is clearly red


def test_the_2d_plot_outlines_the_explanation_domain_as_the_1d_plot_does(tmp_path, monkeypatch):
    """The 1-D plot marked the explanation domain's edges; the 2-D one drew the training box alone."""
    import numpy as np

    import srnet.plots as plots

    dotted = []

    def keep(fig, path):
        dotted.extend(line.get_xydata() for ax in fig.axes for line in ax.lines if line.get_linestyle() == ":")
        plt.close(fig)
        return path

    monkeypatch.setattr(plots, "save_figure", keep)
    X = np.random.default_rng(0).uniform(-1, 1, (50, 2))
    domain = [[-1.5, 1.2], [-0.5, 0.8]]
    plots.plot_network_vs_formula(lambda Z: Z[:, 0], lambda Z: Z[:, 0] + 0.1, X, tmp_path / "p", domain_box=domain)
    assert len(dotted) == 3  # network and formula maps, and the difference map
    for corners in dotted:
        np.testing.assert_allclose(corners.min(axis=0), [-1.5, -0.5])
        np.testing.assert_allclose(corners.max(axis=0), [1.2, 0.8])


def test_every_explainer_gets_a_curve_however_many(tmp_path, monkeypatch):
    """Curves were zipped with five line styles: a fifth explainer (the sixth curve) was dropped from the plot
    and its legend without a word."""
    import numpy as np

    import srnet.plots as plots

    labels = []

    def keep(fig, path):
        labels.append([[line.get_label() for line in ax.lines if not line.get_label().startswith("_")]
                       for ax in fig.axes])
        plt.close(fig)
        return path

    monkeypatch.setattr(plots, "save_figure", keep)
    curves = {"network": np.sin, **{f"e{k}": (lambda x, k=k: np.sin(x) + 0.01 * k) for k in range(7)}}
    plots.plot_curves_1d({label: (lambda X, f=f: f(X[:, 0])) for label, f in curves.items()},
                         np.array([[-1.0, 1.0]]), np.array([[-2.0, 2.0]]), tmp_path / "c.png")
    top, bottom = labels[0][:2]
    assert [label.split(" (")[0] for label in top] == list(curves)
    assert bottom == [f"e{k}" for k in range(7)]


def test_points_where_a_formula_is_not_finite_are_drawn_and_counted_not_dropped(tmp_path, monkeypatch):
    """A layer's formula NaN/inf on 60 of 200 points showed a perfect fit of the rest, zero error below; a 1-D
    curve that became inf simply stopped, its legend saying only 'leaves this view'."""
    import numpy as np

    import srnet.plots as plots

    seen = []

    def keep(fig, path):
        legends = [ax.get_legend() for ax in fig.axes] + list(fig.legends)  # the axes' and the figure's
        seen.append(([ax.get_title() for ax in fig.axes], [t.get_text() for legend in legends if legend
                                                           for t in legend.get_texts()],
                     sum(len(c.get_offsets()) for ax in fig.axes for c in ax.collections
                         if c.get_facecolor().size and tuple(c.get_facecolor()[0][:3]) == (1.0, 0.0, 0.0))))
        plt.close(fig)
        return path

    monkeypatch.setattr(plots, "save_figure", keep)
    t = np.linspace(-1, 1, 200)[:, None]
    a = t.copy()
    a[t[:, 0] > 0.5] = np.nan
    a[t[:, 0] < -0.9] = np.inf
    plots.plot_layer_fits([t], [a], ["fc"], tmp_path / "l.png", labels={"fc": "module 'fc', Linear"})
    titles, _, red = seen[-1]
    missing = int((~np.isfinite(a)).sum())
    assert any(title.startswith("layer 1 (module 'fc', Linear, 1 unit)") for title in titles)
    assert any(f"{missing} of 200 values not finite" in title for title in titles) and red == 2 * missing
    plots.plot_curves_1d({"network": np.sin, "formula": lambda X: np.where(X > 1.5, np.inf, np.sin(X))},
                         [(-1, 1)], [(-3, 3)], tmp_path / "c.png")
    _, legend, _ = seen[-1]
    assert "formula (not finite where shaded red)" in legend  # and not "leaves this view": it does not


def test_the_convergence_plot_keeps_generation_0_and_a_fitness_of_0(tmp_path, monkeypatch):
    """Generation 0 was drawn at 1 (under generation 1's step), one row drew nothing, and a fitness reaching 0
    turned the whole axis linear."""

    import srnet.plots as plots

    seen = []

    def keep(fig, path):
        ax = fig.axes[0]
        seen.append((ax.get_xscale(), ax.get_yscale(), ax.get_xlim(), ax.get_ylim(), ax.lines[0].get_xdata()))
        plt.close(fig)
        return path

    monkeypatch.setattr(plots, "save_figure", keep)
    plots.plot_convergence([[0, 8, 0.1, 0.5], [1, 40, 0.2, 0.1], [30, 900, 1.0, 1e-3], [200, 6000, 3.0, 0.0]],
                           tmp_path / "c.png")
    xscale, yscale, xlim, ylim, x = seen[-1]
    assert xscale == "symlog" and yscale == "symlog" and xlim[0] == 0 and ylim[0] == 0
    assert list(x) == [0, 1, 30, 200]
    plots.plot_convergence([[0, 8, 0.1, 0.5]], tmp_path / "one.png")
    assert seen[-1][1] == "log" and seen[-1][2][1] > 0 and len(seen[-1][4]) == 1


def test_a_difference_map_has_a_tick_per_decade_and_a_hidden_unit_is_titled_so(tmp_path, monkeypatch):
    """The symlog colour bar had ticks at +-0.01 and +-max only (an error of 0.05 and one of 2 read alike); a
    hidden layer's unit 6 was titled "output y6", and the boxes' key was dropped from its title."""
    import numpy as np

    import srnet.plots as plots

    seen = []

    def keep(fig, path):
        bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
        seen.append((fig.get_suptitle(), [float(t) for t in bars[-1].get_yticks()],
                     [t.get_text() for ax in fig.axes for t in ax.texts]))
        plt.close(fig)
        return path

    monkeypatch.setattr(plots, "save_figure", keep)
    X = np.random.default_rng(0).uniform(-1, 1, (50, 2))

    def network(Z):
        return np.column_stack([np.sin(3 * Z[:, 0]) + Z[:, 1], Z[:, 0] * Z[:, 1]])

    plots.plot_network_vs_formula(network, lambda Z: network(Z) + 0.3 * Z[:, :1] ** 3, X, tmp_path / "n",
                                  domain_box=[(-1.2, 1.2), (-1.2, 1.2)], layer="body.1")
    title, ticks, texts = seen[0]
    assert title.startswith("layer 'body.1', unit y0 (of 2): network and formula\n(dashed: training box; dotted: "
                            "explanation domain)")
    positive = sorted(t for t in ticks if t > 0)
    assert len(positive) >= 3 and all(b / a >= 2.5 for a, b in zip(positive, positive[1:]))  # decades between
    assert any("each minus the network" in text for text in texts)  # the empty panel says how to read them


def test_network_vs_formula_names_the_formula_and_its_figures_in_the_title(tmp_path, monkeypatch):
    """Its title named neither the formula shown nor the figures printed for it ("network and explanations inside
    and outside the training range"): a reader could not place the printed R^2 on the picture."""
    import numpy as np

    import srnet.plots as plots

    titles = []

    def keep(fig, path):
        titles.append(fig.get_suptitle() or fig.axes[0].get_title())
        plt.close(fig)
        return path

    monkeypatch.setattr(plots, "save_figure", keep)
    X = np.linspace(-1, 1, 50)[:, None]
    plots.plot_network_vs_formula(np.sin, lambda Z: Z - Z ** 3 / 6, X, tmp_path / "nvf",
                                  description="direct-8, 7 nodes; R2 against the network: rows 0.9999")
    assert titles == ["network and formula\n(direct-8, 7 nodes; R2 against the network: rows 0.9999)"]


def test_the_fidelity_values_of_one_explainer_never_overlap(tmp_path, monkeypatch):
    """Both domains' values were written right of their dots: with equal RMSEs (a formula as good outside its
    data as inside) the first label ran under the second dot and read 0.0063 for 0.00635."""
    import srnet.plots as plots

    boxes = []

    def keep(fig, path):
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        boxes.extend((t.get_text(), t.get_window_extent(renderer)) for t in fig.axes[0].texts)
        dots = [fig.axes[0].transData.transform(c.get_offsets()[0]) for c in fig.axes[0].collections]
        boxes.append(("dots", dots))
        plt.close(fig)
        return path

    monkeypatch.setattr(plots, "save_figure", keep)
    records = [dict(explainer="srnet", domain=d, rmse=v, agreement=None)
               for d, v in (("interpolation", 0.00635), ("extrapolation", 0.00633))]
    plots.plot_fidelity(records, tmp_path / "f.png")
    (first, left), (second, right), (_, dots) = boxes
    assert (first, second) == ("0.00635", "0.00633")
    assert not left.overlaps(right)
    assert left.x1 < dots[0][0] < dots[1][0] < right.x0  # each label on its own side, clear of both dots


def test_the_fidelity_legend_counts_each_domain_s_points(tmp_path, monkeypatch):
    """With 38 test rows one row is 2.6 % of disagreement: the legend said nothing of how many."""
    import srnet.plots as plots

    legends = []

    def keep(fig, path):
        legends.append([t.get_text() for t in fig.legends[0].get_texts()])
        plt.close(fig)
        return path

    monkeypatch.setattr(plots, "save_figure", keep)
    records = [dict(explainer="srnet", domain=d, rmse=None, agreement=a) for d, a in (("train", 0.99), ("test", 0.97))]
    plots.plot_fidelity(records, tmp_path / "f.png", counts={"train": 112, "test": 38})
    plots.plot_fidelity([dict(r, agreement=None, rmse=0.1) for r in records], tmp_path / "g.png")
    assert legends == [["train (112 rows)", "test (38 rows)"], ["train", "test"]]


def test_difference_maps_draw_a_labelled_line_where_the_error_passes_each_decade(tmp_path, monkeypatch):
    """On the symlog colours an error of 0.06 and one of 0.32 read alike ("saturated"): lines of |difference| at
    0.01, 0.1, 1 say which is which."""
    import numpy as np
    from matplotlib.contour import ContourSet

    import srnet.plots as plots

    seen = {}

    def keep(fig, path):
        for ax in fig.axes:
            contours = [c for c in ax.get_children() if isinstance(c, ContourSet)]
            if contours:
                seen[ax.get_title()] = (list(contours[0].levels), sorted(t.get_text() for t in ax.texts))
        plt.close(fig)
        return path

    monkeypatch.setattr(plots, "save_figure", keep)
    net = lambda Z: np.sin(Z[:, 0]) * np.cos(Z[:, 1])  # noqa: E731
    plots.plot_surfaces_2d({"network": net, "poor": lambda Z: net(Z) + 0.32 * Z[:, 0] * Z[:, 1]},
                           np.array([[-1, 1], [-1, 1]]), np.array([[-2, 2], [-2, 2]]), tmp_path / "s.png")
    levels, labels = next(value for title, value in seen.items() if title.startswith("poor - network\nRMSE "))
    assert levels == [0.01, 0.1, 1.0]  # (|difference| reaches 1.28 at the corners; the white zone ends at 0.005)
    assert {"0.01", "0.1", "1"} <= set(labels)
