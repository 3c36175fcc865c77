"""A plot review (every PNG srnet draws, looked at): sizes per output, class maps that show the domain and
their slice, layers' unit colours and constant units, classification fidelity as dots, the Pareto key."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

import srnet.plots as plots
from srnet.cli import _size_of
from srnet.compare import most_varied_inputs


class _Fitted:
    selected_ = {"complexity": 14, "complexity_per_output": [6, 8]}


def test_each_outputs_plot_names_its_own_size_beside_the_whole():
    assert _size_of(_Fitted(), 0, 2) == "y0: 6 nodes (14 in all)"
    assert _size_of(_Fitted(), 1, 2) == "y1: 8 nodes (14 in all)"
    assert _size_of(_Fitted(), 0, 1) == "14 nodes"


def test_a_map_names_its_slice_and_says_nothing_of_other_inputs_when_there_are_none():
    names = ["a", "b", "c", "d", "e", "f", "g"]
    assert plots._slice_text(names[:2], np.array([1.0, 2.0]), (0, 1)) == ""
    assert plots._slice_text(names[:4], np.array([1.0, 2.0, 4.35, 5.8]), (0, 1)) == \
        ", other inputs at their median: c = 4.35, d = 5.8"
    assert plots._slice_text(names, np.zeros(7), (2, 5)) == ", the 5 other inputs at their median"


def test_a_map_at_a_callers_values_does_not_call_them_the_median(tmp_path, monkeypatch):
    shown = _captured(monkeypatch)
    X = np.random.default_rng(0).uniform(0, 1, size=(40, 3))

    def scores(Z):
        return np.column_stack([Z[:, 0], Z[:, 1]])

    plots.plot_decision_boundaries({"network": scores}, X, (0, 1), tmp_path / "m.png", fixed=[0.0, 0.0, 7.0],
                                   feature_names=["u", "v", "w"])
    assert "other inputs at the values given: w = 7" in shown["suptitle"] and "median" not in shown["suptitle"]
    plt.close(shown["fig"])
    plots.plot_decision_boundaries({"network": scores}, X, (0, 1), tmp_path / "m.png", feature_names=["u", "v", "w"])
    assert f"other inputs at their median: w = {np.median(X[:, 2]):.3g}" in shown["suptitle"]
    plt.close(shown["fig"])


def test_the_two_inputs_of_a_map_keep_the_inputs_order():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=200), 10 * rng.normal(size=200)])  # the second varies most
    assert most_varied_inputs(X) == (0, 1)


def _captured(monkeypatch):
    shown = {}

    def keep(fig, path):
        shown["fig"] = fig
        shown["titles"] = [ax.get_title() for ax in fig.axes]
        shown["suptitle"] = fig._suptitle.get_text() if fig._suptitle else ""
        shown["legends"] = [[t.get_text() for t in ax.get_legend().get_texts()] for ax in fig.axes
                            if ax.get_legend() is not None]
        shown["figure_legends"] = [[t.get_text() for t in legend.get_texts()] for legend in fig.legends]
        return path

    monkeypatch.setattr(plots, "save_figure", keep)
    return shown


def test_a_class_map_spans_the_domain_outlines_it_and_colours_each_row_by_the_networks_class(tmp_path, monkeypatch):
    shown = _captured(monkeypatch)
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, size=(60, 3))

    def network(Z):
        return np.column_stack([Z[:, 0] - Z[:, 1], Z[:, 1] - Z[:, 0]])

    def formula(Z):
        return np.column_stack([Z[:, 0] - Z[:, 1] + 0.3, Z[:, 1] - Z[:, 0]])

    domain = np.array([[-1.0, 2.0], [-1.0, 2.0], [0.0, 1.0]])
    plots.plot_decision_boundaries({"network": network, "formula": formula}, X, (0, 1), tmp_path / "m.png",
                                   domain_box=domain, feature_names=["u", "v", "w"])
    fig = shown["fig"]
    ax = fig.axes[0]
    low, high = ax.get_xlim()
    assert low <= -1.75 and high >= 2.75  # the domain widened by 25 %, not the rows' [0, 1]
    outlines = [line.get_xydata() for line in ax.get_lines()]
    assert any(np.allclose(xy.min(axis=0), [-1, -1]) and np.allclose(xy.max(axis=0), [2, 2]) for xy in outlines)
    assert "w = " in shown["suptitle"] and "dotted: the explanation domain" in shown["suptitle"]
    # the rows' dots carry the network's class at each row (the map's colours), not one black
    dots = ax.collections[-1].get_array()
    expected = np.argmax(network(X), axis=1)
    np.testing.assert_array_equal(np.asarray(dots), expected)
    plt.close(fig)


def test_a_layer_drops_units_that_are_one_constant_matched_exactly_and_keys_its_colours(tmp_path, monkeypatch):
    shown = _captured(monkeypatch)
    rng = np.random.default_rng(0)
    logit = rng.normal(size=(50, 1))
    target = np.column_stack([np.zeros(50), logit])  # a two-class classifier's logit 0 beside its logit
    approx = np.column_stack([np.zeros(50), logit + 0.1 * rng.normal(size=(50, 1))])
    plots.plot_layer_fits([target, rng.normal(size=(50, 3))], [approx, rng.normal(size=(50, 3))], ["a", "b"],
                          tmp_path / "l.png")
    first = shown["titles"][0]
    assert "2 units" in first and "1 constant unit, matched exactly, not drawn nor counted" in first
    rmse = float(np.sqrt(np.mean((approx[:, 1] - logit[:, 0]) ** 2)))  # of the drawn unit alone, not halved
    assert f"RMSE {rmse:.3g}" in first
    assert shown["legends"] == [["unit 0", "unit 1", "unit 2"]]  # (the 3-unit layer; one unit drawn needs none)
    plt.close(shown["fig"])
    target, approx, kept, left = plots._without_fixed_units(np.zeros((5, 2)), np.zeros((5, 2)))
    assert kept == [0, 1] and left == 0  # a layer of constant units only is drawn whole
    _, _, kept, left = plots._without_fixed_units(np.zeros((5, 2)), np.column_stack([np.zeros(5), np.ones(5)]))
    assert kept == [1] and left == 1  # a constant unit the formula misses stays


def test_classification_fidelity_is_drawn_as_dots_with_their_agreements(tmp_path, monkeypatch):
    shown = _captured(monkeypatch)
    records = [dict(explainer=e, domain="test", rmse=None, agreement=a) for e, a in
               (("srnet", 0.991), ("lime", 0.921))]
    plots.plot_fidelity(records, tmp_path / "f.png")
    ax = shown["fig"].axes[0]
    assert len(ax.patches) == 0  # no bars on a log axis: their length ran from an arbitrary floor
    values = sorted(float(y) for c in ax.collections for _, y in c.get_offsets())
    assert values == pytest.approx([0.009, 0.079])
    assert [t.get_text() for t in ax.texts] == ["99.1 %", "92.1 %"]
    plt.close(shown["fig"])


def test_the_pareto_plot_keys_its_crosses_and_says_why_the_star_is_off_the_front(tmp_path, monkeypatch):
    shown = _captured(monkeypatch)

    def candidate(source, size, r2, poles):
        return {"source": source, "complexity": size, "validation_agreement": None,
                "figures": {"validation": {"r2": r2, "rmse": 1 - r2}}, "singularities": ["pole"] if poles else []}

    candidates = [candidate("a", 5, 0.9, False), candidate("b", 9, 0.999, True), candidate("c", 12, 0.99, False)]
    front = candidates[:2]
    plots.plot_pareto(candidates, front, "c", tmp_path / "p.png")
    (legend,) = shown["legends"]
    assert "a formula with a pole in the domain" in legend
    assert "selected (off the front: it has no pole in the domain)" in legend
    plt.close(shown["fig"])
    # a pole-free formula shorter and more faithful than the selected one (select="layerwise", say): no pole reason
    candidates.append(candidate("layerwise", 20, 0.95, False))
    plots.plot_pareto(candidates, front, "layerwise", tmp_path / "q.png")
    (legend,) = shown["legends"]
    assert "selected (off the front)" in legend
    plt.close(shown["fig"])


def test_each_difference_map_titles_its_rmse_in_the_box_and_on_the_map(tmp_path, monkeypatch):
    """On the symlog colours an explainer of R2 0.99 and one of 0.81 looked alike: the titles give the number."""
    shown = _captured(monkeypatch)
    surfaces = {"network": lambda Z: Z[:, :1] * 0.0, "off": lambda Z: np.ones((len(Z), 1)) * (np.abs(Z[:, :1]) > 1)}
    plots.plot_surfaces_2d(surfaces, np.array([[-1.0, 1.0], [-1.0, 1.0]]), np.array([[-2.0, 2.0], [-2.0, 2.0]]),
                           tmp_path / "s.png", n_points=41)
    title = [t for t in shown["titles"] if t.startswith("off - network")][0]
    grid = np.linspace(-2, 2, 41)
    on_map = np.sqrt(np.mean(np.repeat((np.abs(grid) > 1)[None, :], 41, axis=0)))  # |u| > 1 on the map
    assert title == f"off - network\nRMSE 0 in the dashed box, {on_map:.3g} on the map"
    plt.close(shown["fig"])
    assert plots._rmse_text(np.array([])) == "none"
    # where the formula is not finite on part of the map, the title still gives its error elsewhere ("inf" hid it)
    assert plots._rmse_text(np.array([3.0, -4.0, np.inf, np.nan])) == f"{np.sqrt(12.5):.3g}"
    assert plots._rmse_text(np.array([np.nan, np.inf])) == "not finite anywhere"
    differences, inside = np.r_[np.ones(3599), np.nan], np.r_[np.ones(1800, bool), np.zeros(1800, bool)]
    assert plots._not_finite_text(differences, inside) == "\n(of the finite ones; not finite on 0.0278 % of the map)"
    assert plots._not_finite_text(differences, ~inside) == \
        "\n(of the finite ones; not finite on 0.0278 % of the map, 0.0556 % of the box)"
    assert plots._not_finite_text(np.ones(4), np.ones(4, bool)) == ""
    assert plots._not_finite_text(np.full(4, np.nan), np.ones(4, bool)) == ""  # "not finite anywhere" says it
    assert plots._not_finite_text(np.r_[np.nan, np.ones(3)], np.r_[True, False, False, False]) == \
        "\n(of the finite ones; not finite on 25 % of the map, 100 % of the box)"  # (1e+02 % read .2g's 100)
    assert plots._rmse_text(np.array([3.0, -4.0])) == f"{np.sqrt(12.5):.3g}"
