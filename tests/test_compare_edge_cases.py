"""Regression tests for defects found reviewing srnet.compare, srnet.metrics and experiments/compare_explainers.py."""

import numpy as np
import pytest
from sklearn.metrics import r2_score
from torch import nn

from srnet.metrics import rmse_r2


@pytest.fixture
def experiment(experiment_script):
    return experiment_script("compare_explainers")


def _row(trial, explainer, domain, rmse):
    return {"network": "kkk0", "trial": trial, "explainer": explainer, "domain": domain, "rmse": rmse, "r2": 0.9,
            "agreement": None, "rmse_around": 0.2, "r2_around": 0.8, "agreement_around": None, "seconds": 1.0,
            "size": 5}


def test_tables_survive_a_trial_whose_rmse_overflowed(experiment, capsys):
    """One trial with RMSE inf makes the mean inf and the std None; _cell formatted None with :.2g and the
    whole run died in print_tables, before its JSON was written."""
    rows = [_row(t, e, d, float("inf") if (e == "srnet" and t == 0) else 0.1)
            for t in range(2) for e in ("srnet", "lime", "maple") for d in ("interpolation", "extrapolation")]
    records = experiment.aggregate(rows)
    experiment.print_tables(records, ["srnet", "lime", "maple"])  # TypeError on the current code
    assert "inf" in capsys.readouterr().out


def test_one_evaluation_point_is_refused_before_any_work(experiment, capsys, tmp_path):
    """--points 1 passed the option check, then every worker raised compare's 'n_points must be >= 2'."""
    with pytest.raises(SystemExit):
        experiment.main(["--points", "1", "--gecco-dir", str(tmp_path / "absent"), "--trials", "1"])
    error = capsys.readouterr().err.strip().splitlines()[-1]  # the usage line above names every option
    assert "--points" in error, error


def test_classifier_table_does_not_say_no_when_srnet_was_not_measured(experiment, capsys):
    records = [{"network": "breast", "explainer": e, "domain": d, "agreement": 1.0, "agreement_std": 0.0,
                "agreement_around": 1.0, "agreement_around_std": 0.0}
               for e in ("lime", "maple") for d in ("train", "test")]
    experiment.print_tables(records, ["lime", "maple"])
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("breast")]
    assert rows and all(line.split()[-1] == "-" for line in rows), rows  # neither yes nor no


def test_r2_of_a_mirrored_prediction_of_a_varying_target_is_not_perfect():
    """A target varying by ~1700 ulps (far above rounding) was declared constant (spread <= 1e-12 of its
    size), so a prediction that mirrors it scored R^2 = 1; scikit-learn says -3."""
    x = np.linspace(0, 6, 200)
    target, predicted = 1e6 + 1e-7 * np.sin(x), 1e6 - 1e-7 * np.sin(x)
    assert r2_score(target, predicted) < -2
    assert rmse_r2(target, predicted)[1] < 0


def test_class_agreement_refuses_scores_of_different_class_counts():
    from srnet.metrics import class_agreement

    scores = np.random.default_rng(0).normal(size=(10, 3))
    with pytest.raises(ValueError, match="as many classes"):
        class_agreement(scores[:, :2], scores)
    with pytest.raises(ValueError, match="as many classes"):
        class_agreement(scores[:, :2].T, scores.T, axis=0)
    assert class_agreement(scores, scores) == 1.0


def test_far_off_r2_prints_in_four_digits_and_long_formulas_are_cut():
    from srnet.compare import FORMULA_CHARACTERS, Comparison
    from srnet.metrics import format_r2 as _r2

    assert _r2(0.99999) == "0.999990" and _r2(-0.5) == "-0.500000"
    assert _r2(-4120665.815867) == "-4.121e+06" and _r2(None) == "not finite"
    record = {"explainer": "srnet", "domain": "test", "rmse": 0.1, "r2": 0.9, "agreement": None, "rmse_around": 0.1,
              "agreement_around": None, "seconds": 1.0, "size": 900, "formula": ["x0 + " * 400 + "1"]}
    lines = Comparison("regression", [record], {}, {}, {}, {}).table(written_to="compare.json").splitlines()
    formula_line = next(line for line in lines if line.startswith("  srnet:"))
    assert len(formula_line) <= FORMULA_CHARACTERS + 20 and "see compare.json" in formula_line
    # printed from Python, where no file was written, it points at the records (it named compare.json)
    line = next(line for line in Comparison("regression", [record], {}, {}, {}, {}).table().splitlines()
                if line.startswith("  srnet:"))
    assert line.endswith("(2001 characters: see the records)") and "compare.json" not in line


def test_explain_notes_a_network_that_answers_one_class_everywhere(capsys):
    from types import SimpleNamespace

    import torch

    from srnet.cli import _note_one_class

    network = nn.Sequential(nn.Linear(2, 2), nn.Softmax(dim=1)).double()
    with torch.no_grad():
        network[0].weight.zero_()
        network[0].bias.copy_(torch.tensor([1.0, 0.0]))
    X = np.random.default_rng(0).uniform(-1, 1, (30, 2))
    _note_one_class(SimpleNamespace(layer_names_=None), SimpleNamespace(model=network, X=X))
    assert "answers one class on every one of the 30 rows" in capsys.readouterr().out
    with torch.no_grad():
        network[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 0.0]]))
        network[0].bias.zero_()
    _note_one_class(SimpleNamespace(layer_names_=None), SimpleNamespace(model=network, X=X))
    assert "one class" not in capsys.readouterr().out


def test_classifier_fidelity_plot_draws_disagreement_on_a_log_axis(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    from srnet import plots

    records = [{"explainer": e, "domain": d, "agreement": a, "rmse": 0.1}
               for e, (train, test) in {"srnet": (1.0, 0.973), "maple": (0.938, 0.92)}.items()
               for d, a in (("train", train), ("test", test))]
    shown = {}
    original = plots.save_figure

    def keep(fig, path):
        shown["axes"] = fig.axes[0]
        return original(fig, path)

    plots.save_figure = keep
    try:
        assert plots.plot_fidelity(records, tmp_path / "fidelity.png").exists()
    finally:
        plots.save_figure = original
    ax = shown["axes"]
    assert ax.get_yscale() == "log"
    heights = sorted(round(float(y), 3) for c in ax.collections for _, y in c.get_offsets())
    assert heights == [0.027, 0.062, 0.08]  # disagreements, as dots; the exact agreement is a note, not a dot
    assert any("agrees on every row" in t.get_text() for t in ax.texts)
    plt.close("all")


def test_classifier_fidelity_plot_where_every_explainer_agrees_everywhere(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from srnet import plots

    records = [{"explainer": e, "domain": d, "agreement": 1.0, "rmse": 0.0}
               for e in ("srnet", "maple") for d in ("train", "test")]
    shown = {}
    original = plots.save_figure

    def keep(fig, path):
        shown["figure"] = fig
        return original(fig, path)

    plots.save_figure = keep
    try:
        plots.plot_fidelity(records, tmp_path / "fidelity.png")
    finally:
        plots.save_figure = original
    ax = shown["figure"].axes[0]
    low, high = ax.get_xlim()
    notes = [t for t in ax.texts if t.get_text() == "agrees on every row"]
    assert len(notes) == 4 and all(low < t.get_position()[0] < high for t in notes)
    legend = shown["figure"].legends[0]
    assert [h.get_facecolor() for h in legend.legend_handles][0] != [h.get_facecolor() for h in legend.legend_handles][1]


def test_a_classifier_of_too_few_rows_to_hold_a_quarter_out_says_how_many_it_needs():
    """The line read "X_train has 13 rows ... pass X_test", which a command-line user cannot do."""
    from srnet.compare import compare
    from srnet.explain import NetworkFunction, make_explainers

    net = nn.Sequential(nn.Linear(2, 3), nn.Softmax(dim=1))
    X = np.random.default_rng(0).uniform(-1, 1, (13, 2))
    with pytest.raises(ValueError, match=r"^the data have 13 rows; with a quarter held out as test rows, 9 are left "
                                         r"to learn from and srnet needs 10: give at least 14 rows \(or, in Python, "
                                         r"X_test\)$"):
        compare(NetworkFunction(net), X, make_explainers(["maple"]))
