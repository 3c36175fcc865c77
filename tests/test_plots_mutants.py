"""Tests asked for by mutation testing of srnet/plots.py (mutmut 3): each pins something a plot says or shows (a
number in a title, the points drawn, a colour that means a class, a scale or limit, a label, the file written)
that a surviving mutant changed and no other test noticed.  Figures are read from their matplotlib objects (the
``drawn`` fixture of conftest.py keeps them instead of writing PNGs) and checked against values computed here."""

import math

import matplotlib.colors
import numpy as np
import pytest
from matplotlib.contour import ContourSet

import srnet.plots as plots


def _rgb(colour):
    return tuple(np.round(matplotlib.colors.to_rgba(colour)[:3], 6))


# ---------------------------------------------------------------------------------------------------- _points_drawn


def test_the_points_drawn_are_distinct_and_begin_with_the_worst_twentieth():
    """Kills `approx + target` (the largest values, not the largest errors), `max_points // 21` and a sample drawn
    with replacement (a point drawn twice, another left out)."""
    rng = np.random.default_rng(1)
    target = np.linspace(-1.0, 1.0, 1000)
    error = rng.permutation(np.linspace(0.0, 1.0, 1000))
    keep = plots._points_drawn(target, target + error, 200, np.random.default_rng(0))
    assert keep.size == 200 and np.unique(keep).size == 200
    assert set(keep[:10].tolist()) == set(np.argsort(error)[-10:].tolist())  # 200 // 20 worst, first


# ---------------------------------------------------------------------------------------- _cross_not_finite


def test_a_red_cross_sits_on_the_top_edge_of_each_panel(drawn):
    """Kills the crosses drawn at the data value 1 (transform dropped) instead of on the top edge."""
    t = np.linspace(-5.0, 5.0, 50)[:, None]
    a = t.copy()
    a[::7] = np.nan
    plots.plot_layer_fits([t], [a], ["fc"], "l.png")
    fig = drawn["l.png"]
    crosses = [(ax, c) for ax in fig.axes for c in ax.collections
               if len(c.get_offsets()) and _rgb(c.get_facecolor()[0]) == _rgb("red")]
    assert len(crosses) == 2
    for ax, c in crosses:
        xs = np.asarray(c.get_offsets())[:, 0]
        np.testing.assert_allclose(np.sort(xs), np.sort(t[::7, 0]))
        top = c.get_offset_transform().transform(np.column_stack([xs, np.ones_like(xs)]))[:, 1]
        np.testing.assert_allclose(top, ax.bbox.y1)


# --------------------------------------------------------------------------------------------- decision boundaries


def _three_classes(Z):
    return np.column_stack([Z[:, 0], Z[:, 1], -Z[:, 0] - Z[:, 1]])


def _only_1_and_2(Z):  # never class 0; NaN scores (no class) where x0 > 0.6
    with np.errstate(invalid="ignore"):
        scores = np.column_stack([np.full(len(Z), -9.0), Z[:, 1], -Z[:, 1]])
    scores[Z[:, 0] > 0.6] = np.nan
    return scores


def test_each_class_is_painted_in_its_legend_colour_and_no_class_in_magenta(drawn):
    """Kills the colour map (cmap None), its limits (vmin/vmax None or 1) and the 'bad' colour changed: a panel
    without class 0 was painted in colours the legend gives other classes."""
    X = np.random.default_rng(0).uniform(-1, 1, size=(200, 2))
    plots.plot_decision_boundaries({"network": _three_classes, "formula": _only_1_and_2}, X, (0, 1), "d.png",
                                   n_points=25)
    fig = drawn["d.png"]
    colour_of = {t.get_text(): _rgb(h.get_facecolor()) for t, h in zip(fig.legends[0].get_texts(),
                                                                        fig.legends[0].legend_handles)}
    assert colour_of["no class (no finite score)"] == _rgb("magenta")
    A, B = np.meshgrid(*(np.linspace(*plots.data_box(X)[k], 25) for k in (0, 1)))
    grid = np.column_stack([A.ravel(), B.ravel()])
    for ax, f in zip(fig.axes[:2], (_three_classes, _only_1_and_2)):
        mesh = ax.collections[0]
        painted = [tuple(np.round(c[:3], 6)) for c in mesh.to_rgba(np.ma.ravel(mesh.get_array()))]
        with np.errstate(invalid="ignore"):
            scores = f(grid)
        none = ~np.isfinite(scores).any(axis=1)
        classes = np.argmax(np.where(np.isnan(scores), -np.inf, scores), axis=1)
        for k, colour in enumerate(painted):
            assert colour == (colour_of["no class (no finite score)"] if none[k] else
                              colour_of[f"class {classes[k]}"])


def test_a_decision_map_fixes_the_other_inputs_where_told_and_keeps_its_grid_exact(drawn):
    """Kills `fixed` ignored (always the median) or dropped, whole-number `fixed` truncating the grid to integers,
    the default of 40 points a side, the axes' names, the first panel's title and a second row of panels."""
    X = np.random.default_rng(0).uniform(-1, 1, size=(200, 3))

    def network(Z):  # class 0 where x0 + x2 > 1.5
        return np.column_stack([Z[:, 0] + Z[:, 2] - 1.5, np.zeros(len(Z))])

    def formula(Z):  # class 0 where x0 + x2 > 1.6
        return np.column_stack([Z[:, 0] + Z[:, 2] - 1.6, np.zeros(len(Z))])

    plots.plot_decision_boundaries({"network": network, "formula": formula}, X, (0, 1), "d.png", fixed=[0, 0, 2],
                                   feature_names=["a", "b", "c"])
    fig = drawn["d.png"]
    panels = [ax for ax in fig.axes if ax.collections]
    assert len(fig.axes) == len(panels) == 2
    A, B = np.meshgrid(*(np.linspace(*plots.data_box(X[:, [0, 1]])[k], 40) for k in (0, 1)))
    grid = np.column_stack([A.ravel(), B.ravel(), np.full(A.size, 2.0)])
    expected = np.argmax(network(grid), axis=1)
    assert 0.2 < expected.mean() < 0.8  # (at the median of x2, near 0, the map would be one class)
    np.testing.assert_array_equal(np.ma.ravel(panels[0].collections[0].get_array()), expected)
    differs = 100 * np.mean(np.argmax(formula(grid), axis=1) != expected)
    rows = 100 * np.mean(np.argmax(formula(X), axis=1) != np.argmax(network(X), axis=1))
    assert differs > 0
    assert panels[0].get_title() == "network"
    assert panels[1].get_title() == (f"formula\nits class differs on {differs:.1f} % of this map\n"
                                     f"and on {rows:.1f} % of the rows (dots)")
    assert [(ax.get_xlabel(), ax.get_ylabel()) for ax in panels] == [("a", "b")] * 2


def test_the_hatching_covers_exactly_where_the_class_differs_and_hides_nothing(drawn):
    """Kills the hatch's levels, hatches or transparent face changed or dropped and its coordinates dropped: the
    hatched region was elsewhere, missing, or painted over the map."""
    X = np.random.default_rng(0).uniform(-1, 1, size=(200, 2))

    def shifted(Z):
        return _three_classes(Z) + np.array([0.4, 0.0, 0.0])

    plots.plot_decision_boundaries({"network": _three_classes, "shifted": shifted}, X, (0, 1), "d.png",
                                   n_points=30)
    ax = drawn["d.png"].axes[1]
    hatch = [c for c in ax.get_children() if isinstance(c, ContourSet)]
    assert len(hatch) == 1
    (cs,) = hatch
    assert list(cs.levels) == [0.5, 1.5] and list(cs.hatches) == ["xxxx"]
    assert np.all(np.asarray(cs.get_facecolor())[:, 3] == 0)  # a hatch over the map, not a fill hiding it
    A, B = np.meshgrid(*(np.linspace(*plots.data_box(X)[k], 30) for k in (0, 1)))
    grid = np.column_stack([A.ravel(), B.ravel()])
    differs = np.argmax(shifted(grid), axis=1) != np.argmax(_three_classes(grid), axis=1)
    inside = np.zeros(len(grid), dtype=bool)
    for path in cs.get_paths():
        if len(path.vertices):
            inside |= path.contains_points(grid, radius=1e-9)
    # cells whose eight neighbours agree with them: away from a boundary the contour's edge cannot pass
    cells = np.pad(differs.reshape(A.shape), 1, mode="edge")
    same = [cells[1 + dr:cells.shape[0] - 1 + dr, 1 + dc:cells.shape[1] - 1 + dc] == cells[1:-1, 1:-1]
            for dr in (-1, 0, 1) for dc in (-1, 0, 1)]
    away = np.logical_and.reduce(same).ravel()
    assert away.sum() > 0.5 * len(grid) and differs[away].any()
    np.testing.assert_array_equal(inside[away], differs[away])  # cells away from a boundary: hatched iff differs


def test_the_decision_map_s_legend_matches_its_hatch_and_names_classes_beyond_the_labels_given(drawn):
    """Kills the hatch's legend entry filled or without its hatch, `c > len(named)` (class 2 of two labels read
    past their end) and the figure's title changed."""
    X = np.random.default_rng(0).uniform(-1, 1, size=(100, 2))

    def shifted(Z):
        return _three_classes(Z) + np.array([0.4, 0.0, 0.0])

    plots.plot_decision_boundaries({"network": _three_classes, "shifted": shifted}, X, (0, 1), "d.png",
                                   n_points=20, class_labels=["a", "b"])
    fig = drawn["d.png"]
    (cs,) = [c for c in fig.axes[1].get_children() if isinstance(c, ContourSet)]
    entries = dict(zip([t.get_text() for t in fig.legends[0].get_texts()], fig.legends[0].legend_handles))
    assert list(entries) == ["class a (output 0)", "class b (output 1)", "class 2",
                             "class differs from the network's"]
    hatch = entries["class differs from the network's"]
    assert hatch.get_hatch() == cs.hatches[0] and hatch.get_facecolor()[3] == 0
    # (two inputs: no other input to hold at its median; the stop-69 review)
    assert fig.get_suptitle() == ("predicted class\ndots: the rows, in the network's class at each; dashed: the "
                                  "rows' box")


# ------------------------------------------------------------------------------------------------------ parity


def test_a_parity_plot_draws_the_output_asked_for_in_its_colours_under_its_default_title(drawn):
    """Kills the default title changed, column `output` read from a flattened array, and the colours that tell
    the rows (blue) from the domain's own sample (orange) lost or swapped."""
    X = np.random.default_rng(0).uniform(-1, 1, size=(60, 3))

    def network(Z):
        return np.column_stack([Z.sum(axis=1), Z[:, 0] * Z[:, 1]])

    def formula(Z):
        return network(Z) + 0.01

    plots.plot_parity(network, formula, X, "p.png", domain_box=[(-1, 1)] * 3, output=1)
    top = drawn["p.png"].axes[0]
    assert top.get_title() == "network and formula"
    by_label = {t.get_text().split(" (")[0]: None for t in top.get_legend().get_texts()}
    assert "rows" in by_label
    rows = [c for c in top.collections if len(c.get_offsets()) == 60]
    domain = [c for c in top.collections if len(c.get_offsets()) == plots.PARITY_DOMAIN_POINTS]
    assert len(rows) == len(domain) == 1
    np.testing.assert_allclose(np.sort(rows[0].get_offsets()[:, 0]), np.sort(network(X)[:, 1]))
    assert _rgb(rows[0].get_facecolor()[0]) == _rgb("tab:blue")
    assert _rgb(domain[0].get_facecolor()[0]) == _rgb("tab:orange")
    below = {len(c.get_offsets()): _rgb(c.get_facecolor()[0]) for c in drawn["p.png"].axes[1].collections}
    assert below == {60: _rgb("tab:blue"), plots.PARITY_DOMAIN_POINTS: _rgb("tab:orange")}  # as above


def test_a_parity_plot_s_legend_line_and_labels_say_what_is_drawn(drawn):
    """Kills the legend's "not finite" note added where every value is finite (or "XXXX"), the identity line's
    label or its y values dropped, the zero line moved to 1, the panels' axis labels and the bottom panel's
    colours lost."""
    X = np.random.default_rng(0).uniform(-1, 1, size=(60, 3))
    t = X.sum(axis=1)
    a = t + 0.1 * X[:, 0] ** 2
    plots.plot_parity(lambda Z: Z.sum(axis=1), lambda Z: Z.sum(axis=1) + 0.1 * Z[:, 0] ** 2, X, "p.png")
    top, bottom = drawn["p.png"].axes[:2]
    r2 = 1 - np.sum((a - t) ** 2) / np.sum((t - t.mean()) ** 2)
    assert [x.get_text() for x in top.get_legend().get_texts()] == [f"rows (60 points): R\u00b2 {r2:.6f}",
                                                                    "formula = network"]
    (line,) = top.lines
    low, high = min(t.min(), a.min()), max(t.max(), a.max())
    np.testing.assert_allclose(line.get_xdata(), [low, high])
    np.testing.assert_allclose(line.get_ydata(), [low, high])
    (zero,) = bottom.lines
    np.testing.assert_allclose(zero.get_ydata(), [0, 0])
    assert (top.get_ylabel(), bottom.get_ylabel(), bottom.get_xlabel()) == ("formula", "formula - network", "network")
    (errors,) = bottom.collections
    np.testing.assert_allclose(errors.get_offsets()[:, 1], a - t)
    assert _rgb(errors.get_facecolor()[0]) == _rgb("tab:blue")


def test_a_parity_plot_s_sample_is_the_same_in_every_run(drawn):
    """Kills the sample's seed dropped: each run drew other points."""
    X = np.random.default_rng(0).uniform(-1, 1, size=(300, 3))
    points = []
    for _ in range(2):
        plots.plot_parity(lambda Z: Z.sum(axis=1), lambda Z: Z.sum(axis=1) ** 1.0 + 0.1 * Z[:, 0], X, "p.png",
                          max_points=100)
        points.append(np.asarray(drawn["p.png"].axes[0].collections[0].get_offsets()))
    np.testing.assert_array_equal(*points)


def test_a_parity_plot_crosses_and_counts_the_rows_where_the_formula_is_not_finite(drawn):
    """Kills the crosses drawn only where every value is finite (`if finite.all()`)."""
    X = np.random.default_rng(0).uniform(-1, 1, size=(60, 3))

    def formula(Z):
        with np.errstate(invalid="ignore", divide="ignore"):
            return Z.sum(axis=1) + np.log(Z[:, 0] + 0.8)  # NaN where x0 < -0.8

    plots.plot_parity(lambda Z: Z.sum(axis=1), formula, X, "p.png")
    missing = int(np.count_nonzero(X[:, 0] < -0.8))
    assert missing
    fig = drawn["p.png"]
    top = fig.axes[0]
    assert top.get_legend().get_texts()[0].get_text() == (f"rows (60 points): R\u00b2 -inf, {missing} not finite "
                                                          "(red, top edge)")
    crosses = [len(c.get_offsets()) for ax in fig.axes[:2] for c in ax.collections
               if len(c.get_offsets()) and _rgb(c.get_facecolor()[0]) == _rgb("red")]
    assert crosses == [missing, missing]


# ---------------------------------------------------------------------------------------------------- fidelity


def _fidelity(drawn, records, **options):
    plots.plot_fidelity(records, "f.png", **options)
    return drawn["f.png"], drawn["f.png"].axes[0]


def test_the_rmse_dots_sit_in_their_slots_on_a_log_axis_that_holds_every_domain_s(drawn):
    """Kills the slot width (1.5 for 0.5: a second domain's dot in the next explainer's slot), the ticks and limits
    moved off the slots, the limits read from the last domain only (`heights = shown`) or left to autoscale,
    the value labels' offsets read in data units, the inf's triangle turned into a dot, the notes moved off the
    axes, and the default title, axis label and legend title changed."""
    from matplotlib.markers import MarkerStyle

    rmse = {("a", "inside"): 0.01, ("a", "outside"): 0.5, ("b", "inside"): 0.0, ("b", "outside"): 2.0,
            ("c", "inside"): math.inf, ("c", "outside"): 0.2}
    records = [dict(explainer=e, domain=d, rmse=v, agreement=None) for (e, d), v in rmse.items()]
    fig, ax = _fidelity(drawn, records)
    assert ax.get_title() == "fidelity to the network"
    assert ax.get_ylabel() == "RMSE against the network at the points\n(log scale; lower is better)"
    assert fig.legends[0].get_title().get_text() == "domain"
    np.testing.assert_allclose(ax.get_ylim(), [0.01 / 3, 2.0 * 3])
    dots = {(round(float(x), 9), float(y)) for c in ax.collections if c.get_offset_transform() is ax.transData
            for x, y in c.get_offsets()}
    assert dots == {(0.0, 0.01), (0.25, 0.5), (1.25, 2.0), (2.25, 0.2)}  # slot k + 0.25 * domain (two domains)
    np.testing.assert_allclose(ax.get_xticks(), [0.125, 1.125, 2.125])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    np.testing.assert_allclose(ax.get_xlim(), [-0.5, 2.75])
    (triangle,) = [c for c in ax.collections if c.get_offset_transform() is not ax.transData]
    np.testing.assert_allclose(triangle.get_offsets(), [[2.0, 1.0]])  # c inside: at the top of the axis
    top_edge = triangle.get_offset_transform().transform([[2.0, 1.0]])[0, 1]
    assert top_edge == pytest.approx(ax.bbox.y1)  # not at an RMSE of 1
    marker = MarkerStyle("^")
    np.testing.assert_allclose(triangle.get_paths()[0].vertices,
                               marker.get_path().transformed(marker.get_transform()).vertices)
    labels = {t.get_text(): t for t in ax.texts if hasattr(t, "xyann")}
    assert set(labels) == {"0.01", "0.5", "2", "0.2"}
    for text, label in labels.items():
        assert label.anncoords == "offset points"
        assert (label.xyann[0] < 0) == (text == "0.01")  # the first domain's on the left, the second's right
    notes = [t for t in ax.texts if not hasattr(t, "xyann")]
    assert sorted(t.get_text() for t in notes) == ["0 (exact)", "inf (overflow)"]
    for t in notes:  # at the slot's foot, whatever the data's scale
        foot = t.get_transform().transform(t.get_position())[1]
        assert ax.bbox.y0 <= foot <= ax.bbox.y0 + 0.05 * ax.bbox.height


def test_the_disagreement_bars_say_the_agreement_on_a_log_axis_of_percentages(drawn):
    """Kills the bar's label computed as 100 / (1 - d) or dropped or always in 4 digits, a None agreement read as a
    number, the classification label and limits changed, the ticks at 1, 2 and 5 and their percentages."""
    agreements = {("srnet", "train"): 1.0, ("srnet", "test"): 0.9996, ("lime", "train"): 0.9731, ("lime", "test"): None}
    records = [dict(explainer=e, domain=d, rmse=None, agreement=v) for (e, d), v in agreements.items()]
    fig, ax = _fidelity(drawn, records, counts={"train": 100, "test": 38})
    assert sorted(t.get_text() for t in ax.texts) == ["97.3 %", "99.96 %", "agrees on every row", "none"]
    assert ax.get_ylabel() == ("share of rows whose class differs from the network's\n(log scale, lower is better; "
                               "beside each dot: the agreement)")
    assert ax.get_yscale() == "log"
    heights = [1 - 0.9731, 1 - 0.9996]
    np.testing.assert_allclose(ax.get_ylim(), [min(heights) / 3, max(heights) * 4])
    heights = [pytest.approx(h) for h in heights]
    ticks = [t for t in ax.yaxis.get_major_locator().tick_values(*ax.get_ylim())
             if ax.get_ylim()[0] <= t <= ax.get_ylim()[1]]
    np.testing.assert_allclose(ticks, [2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 1e-1])
    formatter = ax.yaxis.get_major_formatter()
    assert [formatter(v, 0) for v in (0.01, 0.5, 1.0, 2.0)] == ["1 %", "50 %", "100 %", ""]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["train (100 rows)", "test (38 rows)"]
    for label in (t for t in ax.texts if t.get_text().endswith(" %")):  # beside its dot, as a regression's RMSE
        assert label.anncoords == "offset points" and label.xyann[1] == 0 and abs(label.xyann[0]) == 5 \
            and label.xy[1] in heights
    fig, _ = _fidelity(drawn, [dict(r, rmse=0.1, agreement=None) for r in records], counts={"train": 100})
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["train (100 points)", "test"]


def test_a_fidelity_plot_without_a_figure_to_draw_says_so_on_a_plain_axis(drawn):
    """Kills the plain axis's label (the classification one for a regression, or lowercased) and limits."""
    _, ax = _fidelity(drawn, [dict(explainer="srnet", domain="inside", rmse=0.0, agreement=None)])
    assert ax.get_ylabel() == "RMSE against the network" and tuple(ax.get_ylim()) == (0, 1)
    _, ax = _fidelity(drawn, [dict(explainer="srnet", domain="inside", rmse=None, agreement=1.0)])
    assert ax.get_ylabel() == "disagreement with the network's class" and tuple(ax.get_ylim()) == (0, 1)


# ------------------------------------------------------------------------------ convergence, save_figure, helpers


def test_the_convergence_plot_s_scales_limits_and_labels(drawn):
    """Kills the default title and the axis labels changed, the x axis's linear zone and its upper limit (1.5 x the
    last generation, at least 1.5) changed, a single history row given flat misread (`shape[+1:]`) or drawn
    without its mark, the width read from the rows' count (`shape[-2:]`), the y axis's linear zone not ending at
    the least positive fitness, and a log axis for a fitness that goes negative (`positive.size or ...`)."""
    plots.plot_convergence([[0, 8, 0.5], [10, 40, 0.1], [200, 900, 1e-3]], "c.png")
    ax = drawn["c.png"].axes[0]
    assert ax.get_title() == "search convergence" and ax.get_xlabel() == "generation"
    assert ax.get_ylabel() == "search fitness (mean hidden MSE + output MSE,\non the search rows, as the progress bar)"
    assert ax.get_xscale() == "symlog" and ax.xaxis.get_transform().linthresh == 1.0
    assert ax.get_yscale() == "log"
    np.testing.assert_allclose(ax.get_xlim(), [0, 300])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0.5, 0.1, 1e-3])
    plots.plot_convergence([0, 5, 0.3], "one.png")  # one row, given flat
    ax = drawn["one.png"].axes[0]
    assert list(ax.lines[0].get_xdata()) == [0] and list(ax.lines[0].get_ydata()) == [0.3]
    assert ax.lines[0].get_marker() == "o"  # one row: a mark, or nothing would show
    np.testing.assert_allclose(ax.get_xlim(), [0, 1.5])
    rows = [[g, 0, f] for g, f in ((0, 0.5), (1, 0.2), (2, 0.1), (5, 1e-3), (9, 0.0))]  # more rows than columns
    plots.plot_convergence(rows, "zero.png")
    ax = drawn["zero.png"].axes[0]
    assert list(ax.lines[0].get_xdata()) == [0, 1, 2, 5, 9]
    assert ax.get_yscale() == "symlog" and ax.yaxis.get_transform().linthresh == 1e-3  # linear below the least
    plots.plot_convergence([[0, 1, 0.5], [5, 2, -0.25]], "negative.png")
    assert drawn["negative.png"].axes[0].get_yscale() == "linear"


def test_a_figure_is_written_into_new_folders_and_closed(tmp_path):
    """Kills `mkdir(parents=False)` (or unset) and `plt.close(None)`, which closed the current figure instead."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    other = plt.figure()  # the current figure, not the one saved
    path = plots.save_figure(fig, tmp_path / "a" / "b" / "c.png")
    assert path == tmp_path / "a" / "b" / "c.png" and path.stat().st_size > 0
    assert not plt.fignum_exists(fig.number) and plt.fignum_exists(other.number)
    plt.close(other)


def test_curves_of_other_names_take_the_spare_colours_olive_first_never_grey():
    """Kills the spare colours read from the wrong list (grey C7, or C9 left out)."""
    colours = plots.curve_colours(["formula", "lime", *"abcdefghij"])
    assert colours["formula"] == "C0" and colours["lime"] == "C1"
    assert [colours[k] for k in "abcdefghij"] == ["C8", "C0", "C1", "C2", "C3", "C4", "C5", "C6", "C9", "C0"]


def test_a_node_count_axis_of_one_size_spans_five_nodes_and_labels_only_2_and_5_between_decades():
    """Kills the one-size limits (lower edge dropped), the threshold of a narrow range (`<= 4`), the sizes kept
    (0 left out, 1 kept), the decade's bound (log from 10 x the smallest), whole-number ticks and the minor
    labels' rule (2 and 5 of each decade, and no others)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([17, 17], [0.1, 0.2], "o")
    plots.node_count_axis(ax, [17, 17])
    np.testing.assert_allclose(ax.get_xlim(), [14.5, 19.5])
    fig2, span4 = plt.subplots()
    span4.plot([10, 14], [0.1, 0.2], "o")
    before = span4.get_xlim()
    plots.node_count_axis(span4, [10, 14])
    assert span4.get_xlim() == before  # four nodes apart: whole-number ticks in reach, no limits forced
    fig3, wide = plt.subplots()
    wide.plot([5, 600], [0.1, 0.2], "o")
    plots.node_count_axis(wide, [5, 600])
    minor = wide.xaxis.get_minor_formatter()
    assert [minor(v, 0) for v in (20, 30, 50, 70, 200, 500)] == ["20", "", "50", "", "200", "500"]
    for f in (fig, fig2, fig3):
        plt.close(f)
    for sizes, scale in (([0, 5], "linear"), ([1, 5], "linear"), ([3, 30], "log"), ([11, 14], "linear")):
        fig, ax = plt.subplots()
        ax.plot(sizes, [0.1, 0.2], "o")
        before = ax.get_xlim()
        plots.node_count_axis(ax, sizes)
        assert ax.get_xscale() == scale  # a decade or more: log (0 nodes left out)
        if sizes == [0, 5]:
            np.testing.assert_allclose(ax.get_xlim(), [2.5, 7.5])  # one size left: five nodes around it
        elif sizes == [1, 5]:
            assert ax.get_xlim() == before
        if scale == "linear":
            ticks = ax.xaxis.get_major_locator()()
            assert len(ticks) and all(float(t).is_integer() for t in ticks)  # whole nodes
        plt.close(fig)


def test_plot_inputs_names_the_single_input_on_the_x_axis(drawn):
    """Kills plot_inputs dropping the feature's name (the axis read "x")."""
    plots.plot_inputs({"network": np.sin, "formula": lambda X: np.sin(X) + 0.1}, np.array([[-1.0, 1.0]]),
                      np.array([[-2.0, 2.0]]), "i.png", feature_names=["time"])
    assert drawn["i.png"].axes[1].get_xlabel() == "time"


# ------------------------------------------------------------------------------------------------- layer fits


def test_each_layer_s_panels_title_line_colours_and_errors(drawn):
    """Kills a third row of panels, a 1-D layer counted as 2 units (or a 2-D one as 1), the units' colours lost or
    given to a one-unit layer (`1 <= units`, its errors then not orange), the identity line's ends or y values
    changed, the errors drawn as formula + network, the zero line at 1, the axis labels and the figure's
    title changed."""
    t1 = np.linspace(-1.0, 1.0, 50)
    a1 = t1 + 0.1 * t1 ** 2 - 0.3  # below the network at its lowest: the line starts at the formula's minimum
    t2 = np.column_stack([np.linspace(0, 1, 30), np.linspace(1, 3, 30)])
    a2 = 1.1 * t2
    plots.plot_layer_fits([t1, t2], [a1, a2], ["a", "b"], "l.png")
    fig = drawn["l.png"]
    assert len(fig.axes) == 4
    (top1, top2), (bottom1, bottom2) = np.asarray(fig.axes).reshape(2, 2)
    layers = ((top1, bottom1, t1, a1, "layer 1 (module 'a', 1 unit)"), (top2, bottom2, t2, a2,
                                                                        "layer 2 (module 'b', 2 units)"))
    for top, bottom, t, a, head in layers:
        r2 = 1 - np.sum((a - t) ** 2) / np.sum((t - t.mean(axis=0)) ** 2)  # pooled over units, as printed
        rmse = np.sqrt(np.mean((a - t) ** 2))
        assert top.get_title() == f"{head}\nR\u00b2 {r2:.6f}, RMSE {rmse:.3g}"
        (line,) = top.lines
        ends = [min(t.min(), a.min()), max(t.max(), a.max())]
        np.testing.assert_allclose(line.get_xdata(), ends)
        np.testing.assert_allclose(line.get_ydata(), ends)
        np.testing.assert_allclose(bottom.collections[0].get_offsets()[:, 1], np.ravel(a) - np.ravel(t))
        np.testing.assert_allclose(bottom.lines[0].get_ydata(), [0, 0])
        assert (top.get_xlabel(), top.get_ylabel()) == ("network", "formula")
        assert (bottom.get_xlabel(), bottom.get_ylabel()) == ("network", "formula - network")
    assert _rgb(bottom1.collections[0].get_facecolor()[0]) == _rgb("C0")  # one unit: one colour, above and below
    tab10 = [tuple(plots.matplotlib.colormaps["tab10"](k)[:3]) for k in [0, 1] * 30]
    for panel in (top2, bottom2):  # each unit its colour, above and below
        assert [tuple(c[:3]) for c in panel.collections[0].get_facecolor()] == tab10
    assert fig.get_suptitle() == ("each layer's formula against the network: the layer-wise chain, all units, "
                                  "chained from the inputs\n(colours: units)")


def test_the_colour_note_follows_the_widths_of_the_layers(drawn):
    """Kills the unit colours given to a layer of 11 (or refused one of 10), a 1-D layer counted as 2 units, the
    note's limits (`2 < w`, `w < 10`, `<= 11`) and an empty note drawn as "()"."""
    def note(*widths):  # (a width of 0: a layer given as a 1-D array, one unit)
        layers = [np.tile(np.linspace(0, 1, 4)[:, None], (1, w)) + np.arange(w) if w else np.linspace(0, 1, 4)
                  for w in widths]
        plots.plot_layer_fits(layers, layers, [str(k) for k in range(len(widths))], "l.png")
        return drawn["l.png"].get_suptitle().partition("inputs")[2], drawn["l.png"]

    assert note(2)[0] == "\n(colours: units)"
    assert note(10)[0] == "\n(colours: units)"
    assert note(11, 2)[0] == "\n(colours: units, in layers of up to 10)"
    assert note(1)[0] == note(0)[0] == note(0, 1)[0] == ""
    text, fig = note(11)
    assert text == ""  # over 10 units: one colour, nothing to say
    assert len({tuple(c) for c in fig.axes[0].collections[0].get_facecolor()}) == 1
    assert len({tuple(c) for c in note(10)[1].axes[0].collections[0].get_facecolor()}) == 10


def test_a_layer_whose_formula_is_not_finite_keeps_the_network_s_range_in_both_panels(drawn):
    """Kills the line's ends read from the formula's (empty) finite values, and the error panel's x range not set
    to the top one's, which holds the network's values where the formula is not finite."""
    t = np.linspace(-2.0, 3.0, 20)
    plots.plot_layer_fits([t], [np.full(20, np.nan)], ["a"], "l.png")
    (line,) = drawn["l.png"].axes[0].lines
    np.testing.assert_allclose(line.get_xdata(), [-2.0, 3.0])
    a = t.copy()
    a[[0, -1]] = np.nan  # not finite at the network's extremes
    plots.plot_layer_fits([t], [a], ["a"], "l.png")
    top, bottom = drawn["l.png"].axes
    assert bottom.get_xlim() == top.get_xlim() and top.get_xlim()[0] <= -2.0 and top.get_xlim()[1] >= 3.0


def test_the_sample_of_a_large_layer_is_the_same_in_every_run(drawn):
    """Kills the sample's seed (0) dropped: each run drew other points."""
    t = np.linspace(-1.0, 1.0, 500)
    drawn_points = []
    for _ in range(2):
        plots.plot_layer_fits([t], [t + 0.01 * np.sin(40 * t)], ["a"], "l.png", max_points=100)
        drawn_points.append(np.asarray(drawn["l.png"].axes[0].collections[0].get_offsets()))
    np.testing.assert_array_equal(*drawn_points)


# ------------------------------------------------------------------------------------------------------ pareto


def _candidate(source, size, r2=None, agreement=None, poles=(), figures=None):
    return {"source": source, "complexity": size, "validation_agreement": agreement, "singularities": list(poles),
            "figures": figures or {"domain": {"r2": r2}}}


def _marks(ax):
    """(size, error) -> (marker path's vertices, colour) of each candidate's mark."""
    return {tuple(float(f"{v:.9g}") for v in c.get_offsets()[0]): (c.get_paths()[0].vertices,
                                                                   _rgb(c.get_facecolor()[0]))
            for c in ax.collections if len(c.get_offsets())}


def _marker(name):
    from matplotlib.markers import MarkerStyle

    style = MarkerStyle(name)
    return style.get_path().transformed(style.get_transform()).vertices


def test_a_classifier_s_pareto_plot_draws_disagreement_in_percent_from_0(drawn):
    """Kills every change to a classifier's errors (100 x (1 - agreement)), its ceiling of 100 % for a formula
    without a figure, its linear limits (-5 % to 115 % of the largest, at least of 1), the selected formula's
    star, the poles' cross and their colours, the front's line and legend, the axis labels and default title."""
    figures = {"validation": {}, "validation-rows": {}}
    candidates = [_candidate("a", 5, agreement=0.8, poles=["x=1"], figures=figures),
                  _candidate("b", 9, agreement=1.0, figures={"validation": {}}),
                  _candidate("c", 20, agreement=None, figures={"validation": {}})]
    plots.plot_pareto(candidates, candidates[:2], "b", "p.png")
    ax = drawn["p.png"].axes[0]
    marks = _marks(ax)
    assert set(marks) == {(5.0, 20.0), (9.0, 0.0), (20.0, 100.0)}
    np.testing.assert_allclose(marks[(9.0, 0.0)][0], _marker("*"))
    np.testing.assert_allclose(marks[(5.0, 20.0)][0], _marker("x"))
    np.testing.assert_allclose(marks[(20.0, 100.0)][0], _marker("o"))
    assert [marks[k][1] for k in ((9.0, 0.0), (5.0, 20.0), (20.0, 100.0))] == [_rgb("tab:red"), _rgb("tab:blue"),
                                                                                 _rgb("tab:blue")]
    assert ax.get_yscale() == "linear"
    np.testing.assert_allclose(ax.get_ylim(), [-5.0, 115.0])
    (front,) = ax.lines
    assert list(front.get_xdata()) == [5, 9]
    np.testing.assert_allclose(front.get_ydata(), [20.0, 0.0])
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["Pareto front", "a formula",
                                                          "a formula with a pole in the domain", "selected"]
    np.testing.assert_allclose(legend.legend_handles[-1].get_paths()[0].vertices, _marker("*"))
    assert _rgb(legend.legend_handles[-1].get_facecolor()[0]) == _rgb("tab:red")
    assert ax.get_ylabel() == ("points whose class differs from the network's, %\n(validation rows and the domain's "
                               "validation sample alike)")
    assert ax.get_xlabel() == "complexity (nodes of the formula as printed)"
    assert ax.get_title() == "formulas of the network: size against fidelity"
    plots.plot_pareto(candidates[1:], candidates[1:], "b", "p.png")  # no validation rows: the rows named alone
    ax = drawn["p.png"].axes[0]
    assert ax.get_ylabel() == "points whose class differs from the network's, %\n(the domain's validation sample)"
    np.testing.assert_allclose(ax.get_ylim(), [-5.0, 115.0])
    plots.plot_pareto(candidates[::2], candidates[::2], "a", "p.png")  # no formula at 0: the axis still starts below
    np.testing.assert_allclose(drawn["p.png"].axes[0].get_ylim(), [-5.0, 115.0])
    close = [_candidate("d", 4, agreement=0.995), _candidate("e", 8, agreement=1.0)]
    plots.plot_pareto(close, close, "e", "p.png")  # all under 1 %: the axis spans 0 to 1 %, not less
    np.testing.assert_allclose(drawn["p.png"].axes[0].get_ylim(), [-0.05, 1.15])


def test_a_regression_s_pareto_plot_floors_an_exact_formula_and_puts_one_not_finite_ten_times_above(drawn):
    """Kills the not-finite ceiling (10 x the largest finite error, at least 10) changed and the floor of 1e-16
    for an exact formula (R^2 1) dropped, which left it off the log axis."""
    candidates = [_candidate("a", 5, r2=-0.5), _candidate("b", 9, r2=1.0), _candidate("c", 20, r2=None)]
    plots.plot_pareto(candidates, candidates, "b", "p.png")
    assert set(_marks(drawn["p.png"].axes[0])) == {(5.0, 1.5), (9.0, 1e-16), (20.0, 15.0)}
    candidates[0] = _candidate("a", 5, r2=0.5)
    plots.plot_pareto(candidates, candidates, "b", "p.png")
    assert set(_marks(drawn["p.png"].axes[0])) == {(5.0, 0.5), (9.0, 1e-16), (20.0, 10.0)}


def test_labels_at_one_height_go_up_in_turn_each_raised_one_with_a_leader(drawn):
    """Kills the labels' offsets read in data units, their turns (counted from 1, downwards, not per height, or
    not in a cycle of three) and the leader drawn on every label, none, or on the fourth."""
    candidates = [_candidate(name, size, r2=0.9) for name, size in (("p", 3), ("q", 30), ("r", 300), ("s", 3000))]
    plots.plot_pareto(candidates, candidates, "p", "p.png")
    labels = sorted(drawn["p.png"].axes[0].texts, key=lambda t: t.xy[0])
    assert [t.get_text() for t in labels] == ["p", "q", "r", "s"]
    assert all(t.anncoords == "offset points" for t in labels)
    heights = [t.xyann[1] for t in labels]
    assert heights[0] < heights[1] < heights[2] and heights[3] == heights[0]  # the fourth starts again
    assert [t.arrow_patch is not None for t in labels] == [False, True, True, False]
    apart = [_candidate(name, size, r2=r2) for name, size, r2 in (("p", 3, 0.9), ("q", 30, 0.99), ("r", 300, 0.999))]
    plots.plot_pareto(apart, apart, "p", "p.png")  # each at its own height: none raised
    assert [t.arrow_patch for t in drawn["p.png"].axes[0].texts] == [None, None, None]


# ----------------------------------------------------------------------------------------- network vs formula


def _x_range(fig):
    lines = [line for line in fig.axes[0].lines if line.get_label().split(" (")[0] in ("network", "formula")]
    return min(float(np.min(line.get_xdata())) for line in lines), max(float(np.max(line.get_xdata()))
                                                                        for line in lines)


def test_network_vs_formula_spans_the_widened_data_box_and_the_domain_widened_by_a_quarter(drawn):
    """Kills the `box` given ignored, the domain widened by half (not a quarter) and the lower edge read from the
    upper one's column."""
    X = np.linspace(-1.0, 1.0, 20)[:, None]
    plots.plot_network_vs_formula(np.tanh, lambda Z: np.tanh(Z) + 0.01, X, "n", domain_box=[[-4.0, 4.0]])
    np.testing.assert_allclose(_x_range(drawn["n.png"]), [-6.0, 6.0])  # 8 wide, 2 on each side
    plots.plot_network_vs_formula(np.tanh, lambda Z: np.tanh(Z) + 0.01, X, "n", domain_box=[[-0.5, 0.5]])
    np.testing.assert_allclose(_x_range(drawn["n.png"]), [-2.0, 2.0])  # the data's box widened by half wins
    plots.plot_network_vs_formula(np.tanh, lambda Z: np.tanh(Z) + 0.01, X, "n", box=[[0.0, 2.0]])
    np.testing.assert_allclose(_x_range(drawn["n.png"]), [-1.0, 3.0])
    (span,) = [p for p in drawn["n.png"].axes[0].patches if p.get_label() == "training range"]
    np.testing.assert_allclose([span.get_x(), span.get_x() + span.get_width()], [0.0, 2.0])


def test_each_output_has_its_own_file_title_and_axis_name(drawn):
    """Kills one file name for every output, the outputs' titles ("output y0 (of 2)"), the note of outputs left
    undrawn past MAX_OUTPUT_PLOTS (or given at exactly that many), the feature's name dropped and the formula's
    label changed."""
    X = np.linspace(-1.0, 1.0, 20)[:, None]

    def outputs(k):
        return lambda Z: np.column_stack([np.sin(Z[:, 0] + j) for j in range(k)])

    paths = plots.plot_network_vs_formula(outputs(2), outputs(2), X, "n", feature_names=["time"])
    assert [p.name for p in paths] == ["n_y0.png", "n_y1.png"]
    for j in (0, 1):
        fig = drawn[f"n_y{j}.png"]
        assert fig.axes[0].get_title() == f"output y{j} (of 2): network and formula"
        assert fig.axes[1].get_xlabel() == "time"
        assert [t.get_text() for t in fig.legends[0].get_texts()][-2:] == ["network", "formula"]
    many = plots.MAX_OUTPUT_PLOTS
    paths = plots.plot_network_vs_formula(outputs(many + 1), outputs(many + 1), X, "m")
    assert len(paths) == many
    assert drawn["m_y0.png"].axes[0].get_title() == (f"output y0 (of {many + 1}; the first {many} drawn): network "
                                                     "and formula")
    plots.plot_network_vs_formula(outputs(many), outputs(many), X, "k")
    assert drawn["k_y0.png"].axes[0].get_title() == f"output y0 (of {many}): network and formula"


def test_network_vs_formula_of_three_inputs_draws_each_output_s_parity_under_a_title(drawn):
    """Kills the output's column not passed to the parity plot and its default title changed."""
    X = np.random.default_rng(0).uniform(-1, 1, size=(40, 3))

    def network(Z):
        return np.column_stack([Z.sum(axis=1), Z[:, 0] * Z[:, 1]])

    plots.plot_network_vs_formula(network, lambda Z: network(Z) + 0.01, X, "n")
    top = drawn["n_y1.png"].axes[0]
    np.testing.assert_allclose(np.sort(top.collections[0].get_offsets()[:, 0]), np.sort(network(X)[:, 1]))
    plots.plot_network_vs_formula(lambda Z: Z.sum(axis=1), lambda Z: Z.sum(axis=1) + 0.01, X, "one")
    assert drawn["one.png"].axes[0].get_title() == "network and formula"


# ------------------------------------------------------------------------------------------------- 1-D curves


def _curves_fig(drawn, curves, train=(-1.0, 1.0), wide=(-3.0, 3.0), **options):
    plots.plot_curves_1d(curves, np.array([train]), np.array([wide]), "c.png", **options)
    return drawn["c.png"]


def _lines(ax):
    return {line.get_label().split(" (")[0]: line for line in ax.lines if not line.get_label().startswith("_")}


def test_the_curves_panels_spans_edges_and_legend_say_where_each_curve_is(drawn):
    """Kills the training range's span (zero width, or unnamed), the domain's edges drawn at 0, on neither panel
    or named more than once, the network's black band, each curve's style and colour (and its x values) below
    not those above, a legend whose labels are not their curves', the zero line at 1, the y limits (the
    network's range and half its spread again on each side), the error axis's decade ticks and labels, and the
    default title and x label."""
    curves = {"network": lambda X: np.tanh(X[:, 0]), "lime": lambda X: np.tanh(X[:, 0]) + 0.05,
              "formula": lambda X: X[:, 0] - X[:, 0] ** 3 / 3}  # (lime first: not the colour cycle's order)
    fig = _curves_fig(drawn, curves, domain_box=[(-2.0, 1.5)])
    top, bottom = fig.axes
    x = np.linspace(-3.0, 3.0, 600)
    for ax in (top, bottom):
        (span,) = ax.patches
        np.testing.assert_allclose([span.get_x(), span.get_x() + span.get_width()], [-1.0, 1.0])
        dashed = sorted(float(line.get_xdata()[0]) for line in ax.lines if line.get_linestyle() == "--"
                        and np.ptp(line.get_xdata()) == 0)
        assert dashed == [-2.0, 1.5]
    legend = fig.legends[0]
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts.count("training range") == 1 and texts.count("explanation domain") == 1
    above, below = _lines(top), _lines(bottom)
    assert _rgb(above["network"].get_color()) == _rgb("k")
    for label in ("formula", "lime"):
        handle = legend.legend_handles[[t.split(" (")[0] for t in texts].index(label)]
        assert _rgb(handle.get_color()) == _rgb(above[label].get_color())
        assert below[label].get_linestyle() == above[label].get_linestyle()
        assert _rgb(below[label].get_color()) == _rgb(above[label].get_color())
        np.testing.assert_allclose(below[label].get_xdata(), x)
    assert above["formula"].get_linestyle() != above["lime"].get_linestyle()
    zero = [line for line in bottom.lines if line.get_label().startswith("_") and np.ptp(line.get_ydata()) == 0
            and np.ptp(line.get_xdata()) > 0]
    assert [list(line.get_ydata()) for line in zero] == [[0, 0]]
    low, high = np.tanh(-3.0), np.tanh(3.0)
    np.testing.assert_allclose(top.get_ylim(), [low - (high - low) / 2, high + (high - low) / 2])
    threshold = bottom.yaxis.get_transform().linthresh
    assert any(abs(t) >= 10 * threshold for t in bottom.get_yticks())  # the formula's error reaches 6 at the edges
    assert bottom.yaxis.get_major_formatter()(threshold, 0) == f"{threshold:.2g}"
    assert top.get_title() == "network and explanations inside and outside the training range"
    assert bottom.get_xlabel() == "x"


def test_a_constant_network_is_viewed_at_a_thousandth_of_its_size(drawn):
    """Kills the view's margin for a constant network (a thousandth of its size, at least of 1) changed."""
    top = _curves_fig(drawn, {"network": lambda X: np.full(len(X), 0.5), "formula": lambda X: 0.5 + 0 * X[:, 0]},
                      ).axes[0]
    np.testing.assert_allclose(top.get_ylim(), [0.5 - 0.0005, 0.5 + 0.0005])
    top = _curves_fig(drawn, {"network": lambda X: np.full(len(X), 5.0), "formula": lambda X: 5 + 0 * X[:, 0]}).axes[0]
    np.testing.assert_allclose(top.get_ylim(), [5 - 0.0025, 5 + 0.0025])


def test_the_curves_panels_are_one_or_two_as_there_is_a_difference_to_draw(drawn):
    """Kills a difference panel for a network drawn alone (or none for a network and one curve), and the plot of
    curves without a network (no scale to follow), which failed or drew an empty panel."""
    assert len(_curves_fig(drawn, {"network": np.sin}).axes) == 1
    assert len(_curves_fig(drawn, {"network": np.sin, "formula": np.cos}).axes) == 2
    fig = _curves_fig(drawn, {"formula": np.sin, "lime": np.cos})
    assert len(fig.axes) == 1 and fig.axes[0].get_xlabel() == "x"
    # a network nowhere finite: no scale to read, still drawn
    fig = _curves_fig(drawn, {"network": lambda X: np.full(len(X), np.inf), "formula": np.sin})
    assert len(fig.axes) == 2 and "nan" not in fig.axes[1].get_ylabel()


def test_where_a_curve_is_not_finite_it_is_shaded_red_across_each_panel_and_only_there(drawn):
    """Kills the red shading dropped, drawn everywhere, drawn for curves that are finite, of zero height, off
    the axes' height, or not red."""
    fig = _curves_fig(drawn, {"network": np.sin, "formula": lambda X: np.where(X > 1.5, np.nan, np.sin(X))})
    x = np.linspace(-3.0, 3.0, 600)
    for ax in fig.axes:
        shaded = [c for c in ax.collections if len(c.get_paths())]
        assert len(shaded) == 1
        (c,) = shaded
        assert _rgb(c.get_facecolor()[0]) == _rgb("red")
        vertices = np.concatenate([p.vertices for p in c.get_paths()])
        assert vertices[:, 0].min() >= x[x > 1.5].min() - 1e-9 and vertices[:, 0].max() == pytest.approx(3.0)
        y = c.get_transform().transform(vertices)[:, 1]
        np.testing.assert_allclose([y.min(), y.max()], [ax.bbox.y0, ax.bbox.y1])
    fig = _curves_fig(drawn, {"network": np.sin, "formula": np.cos})
    assert not [c for ax in fig.axes for c in ax.collections if len(c.get_paths())]


# ------------------------------------------------------------------------------------------------- 2-D surfaces


def _surfaces(drawn, surfaces, train=((-1.0, 1.0), (-1.0, 1.0)), wide=((-2.0, 8.0), (-4.0, 4.0)), **options):
    plots.plot_surfaces_2d(surfaces, np.array(train), np.array(wide), "s.png", **options)
    fig = drawn["s.png"]
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    bars = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    n = len(surfaces)
    return fig, panels[:n], panels[n:], bars


def _network(Z):
    return Z[:, 0] + 0.5 * Z[:, 1]


def test_the_maps_show_each_function_on_the_network_s_range_and_its_difference_on_a_symmetric_scale(drawn):
    """Kills the grid's boxes read from the wrong rows, the value maps' limits (the network's range), colours and
    their over/under/NaN colours, the difference (formula + network), its colour map and limits (vmax left to the
    data, a floor of 1 for the largest difference), the contour lines off |difference| = each decade, the empty
    panel shown, the outlines' styles (dashed training box, dotted domain) and colours, the colour bars' extent,
    ticks and labels, the reading note's panel and place, the titles, and the suptitle's key."""
    def formula(Z):
        return _network(Z) - 0.1 * (8 - Z[:, 0])  # below the network, by 1.0 at most (x0 = -2): its own minimum

    fig, tops, bottoms, bars = _surfaces(drawn, {"network": _network, "formula": formula},
                                         train=((-1.0, 1.0), (-0.5, 0.8)), domain_box=[(-1.5, 1.5), (-0.5, 0.5)])
    assert len(tops) == len(bottoms) == 2 and len(bars) == 2
    x, y = np.linspace(-2.0, 8.0, 60), np.linspace(-4.0, 4.0, 60)
    A, B = np.meshgrid(x, y)
    grid = np.column_stack([A.ravel(), B.ravel()])
    net = _network(grid)
    for ax, label in zip(tops, ("network", "formula")):
        mesh = ax.collections[0]
        corners = mesh.get_coordinates().reshape(-1, 2)
        assert corners[:, 0].min() <= -2.0 and corners[:, 0].max() >= 8.0 and corners[:, 1].min() <= -4.0
        assert corners[:, 1].max() >= 4.0 and corners[:, 0].max() < 8.5 and corners[:, 1].max() < 4.5
        assert (mesh.norm.vmin, mesh.norm.vmax) == (net.min(), net.max())
        assert mesh.cmap.name.startswith("viridis")
        assert [_rgb(c) for c in (mesh.cmap.get_over(), mesh.cmap.get_under(), mesh.cmap.get_bad())] == [
            _rgb("red"), _rgb("black"), _rgb("magenta")]
        assert ax.get_title() == label
    assert not bottoms[0].axison  # the network minus itself: an empty panel with the reading note
    (note,) = bottoms[0].texts
    assert note.get_text().startswith("below: each minus the network") and note.get_position() == (0.5, 0.5)
    assert note.get_transform() is bottoms[0].transAxes  # in its own panel, not over the next map
    assert not [t for t in bottoms[1].texts if t.get_text().startswith("below")]
    difference = bottoms[1].collections[0]
    d = formula(grid) - net
    np.testing.assert_allclose(np.ravel(difference.get_array()), d)
    assert difference.cmap.name.startswith("RdBu_r") and _rgb(difference.cmap.get_bad()) == _rgb("magenta")
    threshold, limit = difference.norm.linthresh, difference.norm.vmax
    assert limit == np.abs(d).max() == pytest.approx(1.0) and difference.norm.vmin == -limit
    assert bottoms[1].get_title().startswith("formula - network\nRMSE ")  # (its numbers: test_review_plots_stop69)
    (contour,) = [c for c in bottoms[1].get_children() if isinstance(c, ContourSet)]
    levels = [10.0 ** k for k in range(-12, 13) if threshold < 10.0 ** k < limit]
    assert list(contour.levels) == levels
    for level, path in zip(contour.levels, contour.get_paths()):  # each line where |difference| is its level
        np.testing.assert_allclose(np.abs(formula(path.vertices) - _network(path.vertices)), level, atol=1e-9)
    for ax, colour in ((tops[0], "white"), (tops[1], "white"), (bottoms[1], "k")):
        outlines = {line.get_linestyle(): line for line in ax.lines}
        assert set(outlines) == {"--", ":"}
        np.testing.assert_allclose(outlines["--"].get_xydata().min(axis=0), [-1.0, -0.5])
        np.testing.assert_allclose(outlines["--"].get_xydata().max(axis=0), [1.0, 0.8])
        np.testing.assert_allclose(outlines[":"].get_xydata().max(axis=0), [1.5, 0.5])
        assert {_rgb(line.get_color()) for line in outlines.values()} == {_rgb(colour)}
    values_bar, difference_bar = bars
    assert values_bar.get_ylabel() == "value (the network's range)\nred above it, black below, magenta NaN/inf"
    assert difference_bar.get_ylabel() == "difference from network (symlog)"
    assert values_bar._colorbar.extend == "both"
    assert fig.get_suptitle() == "network and explanations (dashed: training box; dotted: explanation domain)"
    fig, *_ = _surfaces(drawn, {"network": _network, "formula": formula}, title="t")
    assert fig.get_suptitle() == "t\n(dashed: training box)"


def test_the_difference_bar_ticks_each_decade_thinned_to_four_a_side(drawn):
    """Kills the decade ticks' values, their bound (a third of the largest difference), their thinning and order,
    the linear zone's cap of a tenth of the largest difference, and a contour line at the linear zone's edge."""
    def formula(Z):
        return _network(Z) + 1e6 * (Z[:, 0] > 7.9)

    _, _, bottoms, bars = _surfaces(drawn, {"network": _network, "formula": formula})
    norm = bottoms[1].collections[0].norm
    threshold, limit = norm.linthresh, norm.vmax
    assert limit == 1e6 and threshold == 0.03  # 1 % of the network's spread (2.9), rounded
    decades = [threshold * 10.0 ** k for k in range(1, 8)]  # up to 3e5, under a third of the limit
    shown = decades[::2]  # seven thinned to four
    expected = [-limit, *(-t for t in reversed(shown)), -threshold, 0.0, threshold, *shown, limit]
    np.testing.assert_allclose(bars[1].get_yticks(), expected)
    _, _, bottoms, _ = _surfaces(drawn, {"network": _network, "formula": lambda Z: _network(Z) + 0.05 * Z[:, 1]})
    norm = bottoms[1].collections[0].norm
    assert norm.vmax == pytest.approx(0.2) and norm.linthresh == pytest.approx(0.02)  # a tenth of 0.2, not 0.03
    _, _, bottoms, _ = _surfaces(drawn, {"network": lambda Z: 5 * _network(Z),
                                         "formula": lambda Z: 5 * _network(Z) - 0.1 * (8 - Z[:, 0])})
    assert bottoms[1].collections[0].norm.linthresh == 0.1  # a tenth of the largest difference, 1.0
    assert not [c for c in bottoms[1].get_children() if isinstance(c, ContourSet)]  # no decade strictly between


def test_a_single_map_or_a_network_nowhere_finite_is_still_drawn(drawn):
    """Kills a difference bar for a network drawn alone (it has no difference map), and the value limits of a
    network without a finite value (0 to 1)."""
    fig, tops, _, bars = _surfaces(drawn, {"network": _network})
    assert len(tops) == 1 and len(bars) == 1
    _, tops, _, _ = _surfaces(drawn, {"network": lambda Z: np.full(len(Z), np.nan), "formula": _network})
    assert (tops[0].collections[0].norm.vmin, tops[0].collections[0].norm.vmax) == (0.0, 1.0)


def test_a_decision_map_of_more_than_ten_classes_paints_each_class_in_its_legend_colour(drawn):
    """Found by mutation testing: classes 10 and up were painted in tab10's 'over' colour (class 9's cyan) while the
    legend gave class 10 class 0's blue and class 11 class 1's orange."""
    X = np.random.default_rng(0).uniform(-1, 1, size=(200, 2))

    def twelve(Z):  # class k on the k-th of 12 vertical bands
        band = np.clip(((Z[:, 0] + 1) / 2 * 12).astype(int), 0, 11)
        return np.eye(12)[band]

    plots.plot_decision_boundaries({"network": twelve}, X, (0, 1), "map.png", n_points=48)
    fig = drawn["map.png"]
    mesh = fig.axes[0].collections[0]
    painted = mesh.to_rgba(mesh.get_array())  # the colours drawn, cell by cell
    A = np.meshgrid(*(np.linspace(*plots.data_box(X)[k], 48) for k in (0, 1)))[0].ravel()
    band = np.clip(((A + 1) / 2 * 12).astype(int), 0, 11)
    legend = {text.get_text(): patch.get_facecolor() for text, patch in
              zip(fig.legends[0].get_texts(), fig.legends[0].get_patches())}
    for k in (0, 9, 10, 11):
        cells = painted.reshape(-1, 4)[band == k]
        assert len(cells) and np.allclose(cells[:, :3], legend[f"class {k}"][:3]), k


def test_a_decision_map_of_many_panels_wraps_into_rows_of_four(drawn):
    """Six panels in one row made a strip 6 x 3.8 inches wide (eight: 3661 pixels), read at a tenth of its size:
    they wrap into rows of at most PANELS_PER_ROW, the slots left over hidden, each panel still its own map."""
    X = np.random.default_rng(0).uniform(-1, 1, size=(100, 2))
    panels = {f"panel {k}": _three_classes for k in range(6)}
    plots.plot_decision_boundaries(panels, X, (0, 1), "d.png", n_points=10)
    fig = drawn["d.png"]
    drawn_axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(drawn_axes) == 6 and len(fig.axes) == 8 and plots.PANELS_PER_ROW == 4
    rows = sorted({round(ax.get_subplotspec().rowspan.start) for ax in drawn_axes})
    assert rows == [0, 1] and fig.get_size_inches()[0] == pytest.approx(4 * 3.8)
    assert [ax.get_title().split("\n")[0] for ax in drawn_axes] == list(panels)
    plots.plot_decision_boundaries(dict(list(panels.items())[:2]), X, (0, 1), "two.png", n_points=10)
    assert len(drawn["two.png"].axes) == 2 and drawn["two.png"].get_size_inches()[0] == pytest.approx(2 * 3.8)
