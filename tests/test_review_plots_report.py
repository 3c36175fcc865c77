"""Plots that show an error instead of hiding it: a rare non-finite value of a layer, a far-off R^2 in a title,
a classifier's region without a finite score, and the bench report's SRNet-vs-MAPLE and complexity plots."""

import numpy as np
import pandas as pd
import pytest

import srnet.plots as plots


def test_a_rare_non_finite_value_of_a_layer_is_counted_and_drawn_though_the_sample_misses_it(drawn):
    """Past max_points a random sample was drawn and counted: the one NaN of 10000 values (R^2 -inf) was neither
    crossed nor counted, under a parity plot of a perfect fit."""
    target = np.random.default_rng(0).normal(size=(5000, 2))
    approx = target.copy()
    approx[7, 0] = np.nan
    plots.plot_layer_fits([target], [approx], ["a"], "layers.png")
    top = drawn["layers.png"].axes[0]
    assert "R\u00b2 -inf" in top.get_title() and "1 of 10000 values not finite" in top.get_title()
    assert len(top.collections) == 2  # the points, and the red cross of the one not finite


def test_a_finite_outlier_stays_in_the_sample_drawn(drawn):
    target = np.random.default_rng(0).normal(size=(5000, 2))
    approx = target.copy()
    approx[7, 0] = 1e6  # R^2 about -1e11: the parity plot must show the point that makes it
    plots.plot_layer_fits([target], [approx], ["a"], "layers.png")
    points = drawn["layers.png"].axes[0].collections[0].get_offsets()
    assert len(points) == 2000 and np.max(points[:, 1]) == 1e6


def test_a_far_off_layer_r2_is_printed_in_four_digits_not_hundreds(drawn):
    """R^2 -3e297 as .6f: a 300-digit title running over the next panel's (and a figure 3.5 times as wide)."""
    target = np.random.default_rng(0).normal(size=(100, 3))
    approx = target.copy()
    approx[0, 0] = 1e150
    plots.plot_layer_fits([target, target], [approx, target], ["a", "b"], "layers.png")
    far, near = (drawn["layers.png"].axes[k].get_title().splitlines()[1] for k in (0, 1))
    assert far == "R\u00b2 -3.225e+297, RMSE 5.77e+148"
    assert near == "R\u00b2 1.000000, RMSE 0"  # as the command line prints a layer's R^2


def _scores(Z):
    return np.column_stack([Z[:, 0], Z[:, 1], -Z[:, 0] - Z[:, 1]])


def test_a_decision_map_paints_no_class_where_no_score_is_finite(drawn):
    """np.argmax reads NaN as the largest score: a formula's NaN region was painted class 0, agreeing with a
    network of class 0 there, where class_agreement counts no class at all."""
    X = np.random.default_rng(0).uniform(-1, 1, size=(200, 3))

    def no_scores_below(Z):  # every score NaN below x1 = -0.5
        with np.errstate(invalid="ignore"):
            return _scores(Z) + np.log(Z[:, 1:2] + 0.5)

    def first_score_nan_below(Z):  # class 0's score NaN below x1 = -0.5: the others still choose
        scores = _scores(Z)
        scores[Z[:, 1] < -0.5, 0] = np.nan
        return scores

    plots.plot_decision_boundaries({"network": _scores, "none": no_scores_below, "some": first_score_nan_below},
                                   X, (0, 1), "map.png", n_points=20)
    fig = drawn["map.png"]
    grid = np.linspace(*plots.data_box(X[:, [1]])[0], 20)
    below = np.repeat(grid < -0.5, 20)  # mesh rows run along x1
    none, some = (np.ma.ravel(fig.axes[k].collections[0].get_array()) for k in (1, 2))
    assert np.ma.getmaskarray(none)[below].all() and not np.ma.getmaskarray(none)[~below].any()
    assert not np.ma.getmaskarray(some).any() and not (some[below] == 0).any()  # class 0 has no score there
    assert "no class (no finite score)" in [t.get_text() for t in fig.legends[0].get_texts()]


def test_a_decision_map_hatches_where_an_explanation_s_class_differs_from_the_network_s(drawn):
    """The maps were compared by eye across panels: an explanation wrong on a band of the map looked right."""
    X = np.random.default_rng(0).uniform(-1, 1, size=(200, 2))
    shifted = lambda Z: _scores(Z) + np.array([0.2, 0.0, 0.0])  # noqa: E731 - class 0 wins a band more
    plots.plot_decision_boundaries({"network": _scores, "shifted": shifted, "same": _scores}, X, (0, 1), "map.png",
                                   n_points=30)
    fig = drawn["map.png"]
    A, B = np.meshgrid(*(np.linspace(*plots.data_box(X)[k], 30) for k in (0, 1)))
    grid = np.column_stack([A.ravel(), B.ravel()])
    share = 100 * np.mean(np.argmax(shifted(grid), axis=1) != np.argmax(_scores(grid), axis=1))
    assert 0 < share < 50
    on_rows = 100 * np.mean(np.argmax(shifted(X), axis=1) != np.argmax(_scores(X), axis=1))
    assert fig.axes[1].get_title() == (f"shifted\nits class differs on {share:.1f} % of this map\n"
                                       f"and on {on_rows:.1f} % of the rows (dots)")
    assert fig.axes[2].get_title() == "same\nits class differs on 0.0 % of this map\nand on 0.0 % of the rows (dots)"
    assert len(fig.axes[1].collections) > len(fig.axes[2].collections)  # the hatched band, on the shifted only
    assert "class differs from the network's" in [t.get_text() for t in fig.legends[0].get_texts()]


def _frame(tasks_and_figures):
    """A summary frame of one ok job per (task, dataset, SRNet fidelity, MAPLE fidelity)."""
    rows = []
    for k, (task, srnet, maple) in enumerate(tasks_and_figures):
        domain, metric = ("test", "agreement") if task == "classification" else ("interpolation", "r2")
        rows.append({"dataset": f"d{k}", "method": "srnet", "seed": 0, "status": "ok", "task": task,
                     "fidelity": srnet, f"srnet_{domain}_{metric}": srnet, f"maple_{domain}_{metric}": maple,
                     "srnet_complexity": 10.0 + 7 * k, "load_seconds": 0.1, "train_seconds": 1.0,
                     "explain_seconds": 1.0, "total_seconds": 2.5})
    return pd.DataFrame(rows)


def test_srnet_vs_maple_draws_a_classifier_without_a_figure_at_0_and_names_agreement(drawn, tmp_path):
    """A null agreement was drawn at -1 ("below -1"), the axes stretched from -1 to 1 with the agreements
    squeezed into a corner, both axes named R^2."""
    from srnet.bench.report import write_plots

    write_plots(_frame([("classification", 0.9, 0.8), ("classification", 0.95, 0.85),
                        ("classification", None, 0.9)]), tmp_path)
    ax = drawn["srnet_vs_maple.png"].axes[0]
    for low, high in (ax.get_xlim(), ax.get_ylim()):
        assert low < 0 and 1 < high < 1.001  # the floor and 1 inside the frame, not on it
    floored = next(line for line in ax.lines if line.get_marker() == "x")
    assert list(floored.get_xdata()) == [0.9] and list(floored.get_ydata()) == [0.0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "classification", "classification: no figure (drawn at 0)"]
    assert ax.get_xlabel() == "MAPLE fidelity (test agreement)" and "R^2" not in ax.get_ylabel()
    # beside regression jobs, a panel per task, each naming its measure, and an R^2 below -1 still floored at -1
    write_plots(_frame([("classification", 0.9, 0.8), ("regression", 0.99, -3.0)]), tmp_path)
    agreement, r2 = drawn["srnet_vs_maple.png"].axes[:2]
    assert agreement.get_xlabel() == "MAPLE fidelity (test agreement)"
    assert r2.get_xlabel() == "MAPLE fidelity (R^2 in the training box, clipped at -1)"
    assert "regression: below -1 or no figure (drawn at -1)" in [t.get_text() for t in r2.get_legend().get_texts()]


def test_srnet_vs_maple_zooms_on_its_points_names_them_and_counts_who_is_higher(drawn, tmp_path):
    """Agreements of 0.9 to 1 were drawn on axes from 0.5, crowded in a corner, no point named: which dataset lost
    to MAPLE could not be read, nor how many did.  On a linear axis from the lowest point, 100 of 160 PMLB tables
    still crowded the corner at 1: the axes put 0.9, 0.99 and 1 a step apart."""
    from srnet.bench.report import write_plots

    write_plots(_frame([("classification", 0.92, 0.95), ("classification", 0.96, 0.94),
                        ("classification", 1.0, 1.0)]), tmp_path)
    ax = drawn["srnet_vs_maple.png"].axes[0]
    for low, high in (ax.get_xlim(), ax.get_ylim()):
        assert 0.9 < low < 0.92 and 1 < high < 1.001
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.95", "0.99", "1"]
    ninety, ninety_nine, one = (ax.transData.transform([(v, v)])[0][0] for v in (0.9, 0.99, 1.0))
    assert one - ninety_nine == pytest.approx(ninety_nine - ninety, rel=0.15)
    assert [t.get_text() for t in ax.texts] == ["d0", "d1", "d2"]
    assert ax.get_title().splitlines()[1] == "SRNet higher on 1 of 3 jobs, tied on 1, lower on 1"
    write_plots(_frame([("classification", 0.92, 0.95), ("classification", None, None)]), tmp_path)
    assert drawn["srnet_vs_maple.png"].axes[0].get_title().splitlines()[1] == (
        "SRNet higher on 0 of 1 jobs, tied on 0, lower on 1; 1 without both figures")  # no figures: no tie
    write_plots(_frame([("classification", 1.0, 1.0)] * 2), tmp_path)  # all at 1: an axis from 0.99, not 1 to 1
    low, high = drawn["srnet_vs_maple.png"].axes[0].get_xlim()
    assert 0.98 < low < 0.99 and 1 < high < 1.001


def test_names_of_crowded_points_are_not_written_over_each_other(drawn, tmp_path):
    """Five tables at agreements of 0.997 to 1 wrote five long names over each other at one corner, none legible
    (the agreement scale now draws those apart; tables tied at 1, 38 of PMLB's 160, still share one point)."""
    from srnet.bench.report import write_plots

    write_plots(_frame([("classification", 1.0, 1.0)] * 5 + [("classification", 0.9, 0.95)]), tmp_path)
    fig = drawn["srnet_vs_maple.png"]
    fig.canvas.draw()
    boxes = [text.get_window_extent() for text in fig.axes[0].texts]
    assert 2 <= len(boxes) < 6 and "d5" in [text.get_text() for text in fig.axes[0].texts]
    assert not any(a.overlaps(b) for k, a in enumerate(boxes) for b in boxes[k + 1:])


def test_the_complexity_panels_of_two_tasks_do_not_print_over_each_other(drawn, tmp_path):
    from srnet.bench.report import write_plots

    write_plots(_frame([("classification", 0.9, 0.8), ("regression", 0.99, 0.5)]), tmp_path)
    fig = drawn["complexity_vs_fidelity.png"]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    left, right = fig.axes[:2]
    # the right panel's axis label and tick labels clear of the left panel
    assert right.get_tightbbox(renderer).x0 > left.get_window_extent(renderer).x1


def test_classification_fidelity_is_drawn_on_a_scale_that_tells_0_99_from_1(drawn, tmp_path):
    """On a linear axis, agreements of 0.99 and 1 were one point: 100 of 160 PMLB tables crowded the top of
    fidelity_per_dataset.png and complexity_vs_fidelity.png, and the ones that lost a point could not be seen."""
    from srnet.bench.report import write_plots

    write_plots(_frame([("classification", 0.5 + 0.1 * k, 0.9) for k in range(6)]), tmp_path)
    for name in ("fidelity_per_dataset.png", "complexity_vs_fidelity.png"):
        ax = drawn[name].axes[0]
        ninety, ninety_nine, one = (ax.transData.transform([(1, v)])[0][1] for v in (0.9, 0.99, 1.0))
        zero = ax.transData.transform([(1, 0.0)])[0][1]
        assert ax.get_yscale() == "function" and one - ninety_nine > 0.8 * (ninety - zero), name


def test_a_suite_of_160_datasets_keeps_its_names_legible_and_its_plot_tall(drawn, tmp_path):
    """At PMLB's 160 tables the labels of fidelity_per_dataset.png and time_per_job.png shrank to 3-4 pt in a
    figure 2700 px wide (no name could be read); at a readable size, names of 60 characters (the GAMETES sets)
    squeezed the plot above them into a strip.  Each label keeps 7 pt, the figure grows in both directions,
    and the points start at the left edge (an inch of margin stood empty at each end)."""
    from srnet.bench.report import write_plots

    frame = _frame([("classification", 0.5 + 0.003 * k, 0.9) for k in range(160)])
    frame.loc[0, "dataset"] = "GAMETES_Heterogeneity_20atts_1600_Het_0.4_0.2_75_EDM_2_001"
    write_plots(frame, tmp_path)
    for name in ("fidelity_per_dataset.png", "time_per_job.png"):
        fig = drawn[name]
        ax = fig.axes[0]
        labels = ax.get_xticklabels()
        assert len(labels) == 160 and {label.get_fontsize() for label in labels} == {7}, name
        fig.canvas.draw()
        plot_height = ax.get_window_extent().height / fig.dpi  # inches of the plot itself, above the names
        assert plot_height > 2.5, (name, plot_height)
        assert ax.get_xlim() == (-1, 160), name
