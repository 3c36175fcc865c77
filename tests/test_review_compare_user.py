"""Review of ``compare`` and ``experiments/compare_explainers.py`` as a researcher comparing explainers reads them:
defects found, each pinned by a test."""

import math

import numpy as np
import pytest
import torch

from srnet.compare import compare
from srnet.explain import make_explainer
from srnet.explain.maple import MapleExplainer
from srnet.metrics import is_constant, rmse_r2


@pytest.fixture(scope="module")
def network():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)).double()


X = np.random.default_rng(0).uniform(-1, 1, (60, 2))


def test_compare_takes_a_list_of_names(network):
    """compare(net, X, ["maple"]) was an AttributeError: 'list' object has no attribute 'items'."""
    for explainers in (["maple"], "maple"):
        result = compare(network, X, explainers, n_points=20, random_state=0)
        assert list(result.explainers) == ["maple"] and isinstance(result.explainers["maple"], MapleExplainer)


def test_compare_refuses_what_is_no_explainer_before_fitting_any(network):
    """A wrong entry was found only after the explainers before it had been fitted and measured."""
    fitted = MapleExplainer()
    with pytest.raises(TypeError, match=r"^explainers\['srnet'\] is a str, not an unfitted srnet Explainer"):
        compare(network, X, {"maple": fitted, "srnet": "srnet"}, n_points=20)
    assert not hasattr(fitted, "task_")  # (nothing fitted)
    for nothing in ([], None, {}):
        with pytest.raises(ValueError, match="no explainers to compare"):
            compare(network, X, nothing, n_points=20)


def test_a_list_may_hold_explainers_each_going_by_its_own_name(network):
    """[MapleExplainer(), "lime"] was 'unknown explainer MapleExplainer(...)'."""
    maple = MapleExplainer()
    result = compare(network, X, [maple, "lime"], n_points=20, random_state=0)
    assert list(result.explainers) == ["maple", "lime"] and result.explainers["maple"] is maple


@pytest.mark.parametrize("seconds", [math.nan, -1.0, math.inf])
def test_a_bad_budget_is_refused_when_the_explainer_is_made(seconds):
    """make_explainer('cgp_direct', max_seconds=nan) was accepted; srnet's -1 was refused only at its fit, after
    the explainers before it in a comparison had run."""
    for name in ("cgp_direct", "srnet", "xnet"):  # (not the optional peers: CI has no bench extra)
        with pytest.raises(ValueError, match=r"^max_seconds must be"):
            make_explainer(name, max_seconds=seconds)


@pytest.mark.parametrize("name", ["cgp_direct", "xnet", "pyoperon"])
def test_an_explainer_without_a_budget_of_its_own_is_refused_none_when_made(name):
    """make_explainer('cgp_direct', max_seconds=None) was accepted, and refused only at its fit."""
    if name == "pyoperon":
        pytest.importorskip("pyoperon")
    with pytest.raises(ValueError, match=rf"^explainer '{name}' needs a budget: max_seconds or max_generations"):
        make_explainer(name, max_seconds=None)
    assert make_explainer(name, max_seconds=None, max_generations=3) is not None


def test_the_table_prints_r2_as_srnet_does_and_says_why_a_constant_network_reads_minus_inf(network):
    """The table rounded an R2 of 0.99997 to 1.0000 (srnet's other figures print six decimals), and printed -inf
    for every explainer where the network answers one value (null in compare.json) without a word."""
    result = compare(network, X, ["maple"], n_points=20, random_state=0)
    record = result.records[0]
    record["r2"] = 0.99997
    result.records[1]["r2"] = -math.inf
    result.network_outputs["extrapolation"] = np.full_like(result.network_outputs["extrapolation"], 0.25)
    table = result.table()
    assert " 0.999970 " in table and "1.0000" not in table
    (note,) = [line for line in table.splitlines() if line.startswith("note:")]
    assert note.startswith("note: the network's output is the same at every extrapolation point: R2 there is 1")
    assert "else -inf (in the records)" in note  # printed from Python: no compare.json was written
    assert "else -inf (null in compare.json)" in result.table(written_to="compare.json")
    assert result.constant_domains() == ["extrapolation"]


def test_is_constant_is_the_rule_rmse_r2_reads_a_constant_target_by():
    varying = np.array([[1.0, 5.0], [1.0, 5.0 + 1e-9]])
    constant = np.array([[1.0, 5.0], [1.0, 5.0]]) + np.array([[0.0, 0.0], [0.0, 5.0 * 1e-15]])
    assert not is_constant(varying) and is_constant(constant) and is_constant(np.zeros(4))
    assert rmse_r2(constant, constant + 1e-3)[1] == -math.inf and rmse_r2(varying, varying + 1e-12)[1] > -math.inf


def test_the_experiment_leaves_out_a_peer_that_is_not_installed(experiment_script, monkeypatch, capsys):
    """With the bench extra missing, the README's quick look of compare_explainers.py stopped with "explainer
    'gplearn' needs the package 'gplearn'", where experiments/README.md promises "not installed" and null."""
    experiment = experiment_script("compare_explainers")
    monkeypatch.setattr(experiment, "installed", lambda name: name != "gplearn")
    assert experiment.installed_defaults() == ["srnet", "lime", "maple", "cgp_direct", "pyoperon"]
    assert capsys.readouterr().out.startswith("gplearn: not installed (pip install 'srnet[bench]'); left out")


def test_the_experiment_s_tables_read_plainly(experiment_script, capsys):
    """One trial printed 0.0112±-; the verdict column, 'srnet best?', said yes where cgp_direct in the same row
    was lower (it compares LIME and MAPLE), in yes / NO."""
    experiment = experiment_script("compare_explainers")
    records = [{"network": "kkk0", "explainer": e, "domain": d, "rmse": value, "rmse_std": None,
                "rmse_around": value, "rmse_around_std": None}
               for e, value in (("srnet", 0.0112), ("lime", 0.5), ("maple", 0.01), ("cgp_direct", 0.001))
               for d in ("interpolation", "extrapolation")]
    experiment.print_tables(records, ["srnet", "lime", "maple", "cgp_direct"])
    out = capsys.readouterr().out
    assert "±-" not in out and "0.0112" in out and "srnet < lime, maple?" in out
    assert [line.split()[-1] for line in out.splitlines() if line.startswith("kkk0")] == ["no"] * 4


def test_an_unknown_network_is_refused_with_the_valid_names(experiment_script, capsys, tmp_path):
    """--only iris said 'unknown network(s): iris', naming none a user could give instead."""
    experiment = experiment_script("compare_explainers")
    with pytest.raises(SystemExit):  # (any folder: the names are checked before a network is read)
        experiment.main(["--only", "iris", "--trials", "1", "--gecco-dir", str(tmp_path)])
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "unknown network(s): iris; valid: kkk0, " in error and "analcatdata_aids" in error, error


def test_a_regression_table_has_no_empty_agreement_columns(network):
    table = compare(network, X, ["maple"], n_points=20, random_state=0).table()
    assert table.splitlines()[0].split() == ["explainer", "domain", "rmse", "r2", "rmse", "around", "seconds", "size"]


def test_each_explainer_keeps_its_colour_and_the_network_shows_under_them(drawn):
    """explainers.png coloured curves by the order given (MAPLE red in one run, green in the next), and drew the
    network as one more thin curve, which a faithful explainer's covered."""
    from matplotlib.colors import to_hex

    from srnet.plots import CURVE_COLOURS, plot_curves_1d

    box, wide = np.array([[-1.0, 1.0]]), np.array([[-2.0, 2.0]])
    colour_of = {}
    for order in (["network", "lime", "maple", "mine"], ["network", "maple", "mine", "lime"]):
        curves = {name: (lambda X, k=k: np.sin(X) + 0.01 * k) for k, name in enumerate(order)}
        figure = plot_curves_1d(curves, box, wide, "explainers.png") and drawn["explainers.png"]
        lines = {line.get_label().split(" (")[0]: line for line in figure.axes[0].get_lines()}
        colours = {name: to_hex(lines[name].get_color()) for name in order}
        assert colours["lime"] == to_hex(CURVE_COLOURS["lime"]) and colours["maple"] == to_hex(CURVE_COLOURS["maple"])
        assert colours["mine"] not in {to_hex(c) for c in CURVE_COLOURS.values()}
        network = lines["network"]
        assert network.get_linewidth() > 2 * lines["lime"].get_linewidth()
        assert network.get_zorder() < lines["lime"].get_zorder()
        colour_of[tuple(order)] = colours
    first, second = colour_of.values()
    assert first == second


def test_the_table_says_which_explainer_a_ctrl_c_cut_short(network):
    """An explainer cut short by Ctrl-C (cgp_direct, 1.1 s of its 4) was marked only in compare.csv and the last
    line printed: the table read its figures as a full search's."""
    result = compare(network, X, ["maple"], n_points=20, random_state=0)
    assert "note: maple's search" not in result.table()
    for record in result.records:
        record.update(interrupted=True, seconds=1.1)
    notes = [line for line in result.table().splitlines() if line.startswith("note:")]
    assert notes == ["note: maple's search was cut short by Ctrl-C after 1.1 s: its figures are of its best formula "
                     "so far"]
