"""One explainer factory: ``srnet compare``, ``srnet bench`` and the experiments build the same explainers."""

import re
from dataclasses import replace

import numpy as np
import pytest

from srnet.bench.jobs import explainer_budget
from srnet.bench.jobs import make_explainers as bench_explainers
from srnet.bench.suites import BatchSettings, resolve_suite
from srnet.cli import main
from srnet.explain import EXPLAINERS, LimeExplainer, check_explainers, factory, make_explainer
from srnet.explain.factory import LIME_SAMPLES
from srnet.explain.formulas import readable_formulas
from srnet.loading import Workload
from srnet.networks import MLPSpec, build_mlp

NAMES = ("srnet", "lime", "maple", "cgp_direct", "gplearn", "pyoperon")
OPTIONAL = ("gplearn", "pyoperon")


def same(first, second) -> bool:
    return type(first) is type(second) and first.get_params() == second.get_params()


@pytest.fixture
def experiment(experiment_script):
    return experiment_script("compare_explainers")


def cli_explainers(monkeypatch, tmp_path, names, seconds):
    """What ``srnet compare --explainers NAMES`` hands to compare()."""
    captured = {}

    def fake_compare(network, X, explainers, **kwargs):
        captured.update(explainers)
        raise ValueError("captured")

    model = build_mlp(MLPSpec((2, 3, 1), "sigmoid"))
    monkeypatch.setattr("srnet.loading.load_workload",
                        lambda *a, **k: Workload("tiny", model, np.random.default_rng(0).normal(size=(20, 2)),
                                                 ["a", "b"]))
    monkeypatch.setattr("srnet.compare.compare", fake_compare)
    (tmp_path / "model.pt").touch()  # the command checks the path before loading (faked here)
    assert main(["compare", str(tmp_path / "model.pt"), "--data", "x.csv", "--out", str(tmp_path),
                 "--explainers", ",".join(names), "--seconds", str(seconds)]) == 2
    return captured


def test_all_three_paths_build_the_same_explainers(monkeypatch, tmp_path, experiment):
    names = [n for n in NAMES if n not in OPTIONAL or factory.importlib.util.find_spec(n)]
    from_cli = cli_explainers(monkeypatch, tmp_path, names, 7.0)
    from_experiment = experiment.make_explainers(names, 7.0, {"form": "paper"})
    settings = replace(BatchSettings(seconds=7.0), explainers=tuple(n for n in names if n != "srnet"))
    job = resolve_suite("nguyen:nguyen-1", settings=settings).jobs[0]
    from_bench = bench_explainers(job)
    # a batch runs its explainers in one order whatever the order named (one folder, one batch)
    assert list(from_cli) == list(from_experiment) == names
    assert list(from_bench) == ["srnet"] + sorted(n for n in names if n != "srnet")
    for name in names:
        # the same factory, each path with its own budget only
        assert same(from_cli[name], make_explainer(name, max_seconds=7.0))
        assert same(from_experiment[name], make_explainer(name, max_seconds=7.0, srnet_params={"form": "paper"}))
        budget = explainer_budget(settings)
        params = {"srnet_params": {"preset": "default"}} if name == "srnet" else {}
        assert same(from_bench[name], make_explainer(name, **budget, **params))
        if name not in ("srnet", "cgp_direct", "pyoperon"):  # no budget: identical everywhere
            assert same(from_cli[name], from_experiment[name]) and same(from_cli[name], from_bench[name])
    assert same(from_cli["cgp_direct"], from_experiment["cgp_direct"])
    lime = from_cli["lime"]
    assert isinstance(lime, LimeExplainer) and lime.num_samples == LIME_SAMPLES and lime.progress is False


def test_unknown_name_lists_the_valid_ones(monkeypatch, tmp_path, capsys, experiment):
    with pytest.raises(ValueError, match="unknown explainer 'shap'; valid: " + ", ".join(EXPLAINERS)):
        make_explainer("shap")
    with pytest.raises(ValueError, match="valid: srnet, lime"):
        experiment.make_explainers(["srnet", "shap"], 1.0, {"form": "paper"})
    with pytest.raises(ValueError, match="unknown explainer 'shap'"):
        resolve_suite("nguyen", settings=BatchSettings(explainers=("shap",)))
    assert main(["compare", "model.pt", "--data", "x.csv", "--out", str(tmp_path), "--explainers", "srnet,shap"]) == 2
    error = capsys.readouterr().err.strip()
    assert error == f"srnet compare: error: unknown explainer 'shap'; valid: {', '.join(EXPLAINERS)}"


@pytest.mark.parametrize("argv, message", [
    (["--srnet-select", "0"], "--srnet-select: a complexity cap must be >= 1, got 0"),
    (["--srnet-select", "bestt"], "--srnet-select: unknown select 'bestt'"),
    (["--srnet-direct-budget", "1.5"], r"--srnet-direct-budget: a share of the budget in \[0, 1\) or 'auto', got '1.5'"),
])
def test_the_experiment_refuses_bad_srnet_settings_before_any_work(argv, message, tmp_path, capsys, experiment):
    with pytest.raises(SystemExit) as caught:
        experiment.main(["--gecco-dir", str(tmp_path / "nowhere"), *argv])
    assert caught.value.code == 2
    assert re.search(message, capsys.readouterr().err.strip().splitlines()[-1])


def test_a_missing_optional_package_is_one_clear_line(monkeypatch, tmp_path, capsys, experiment):
    real = factory.importlib.util.find_spec
    monkeypatch.setattr(factory.importlib.util, "find_spec", lambda name, *a: None if name == "gplearn" else
                        real(name, *a))
    message = "explainer 'gplearn' needs the package 'gplearn', which is not installed"
    with pytest.raises(ValueError, match=message):
        make_explainer("gplearn")
    with pytest.raises(ValueError, match=message):  # no longer silently dropped
        experiment.make_explainers(["srnet", "gplearn"], 1.0, {"form": "paper"})
    with pytest.raises(ValueError, match=message):
        resolve_suite("nguyen", settings=BatchSettings(explainers=("gplearn",)))
    assert main(["compare", "model.pt", "--data", "x.csv", "--out", str(tmp_path), "--explainers", "gplearn"]) == 2
    assert message in capsys.readouterr().err
    assert check_explainers(["srnet", "lime"]) == ("srnet", "lime")


def test_srnets_size_counts_the_two_class_formula_once_as_read():
    """The size compared with LIME's and MAPLE's was the sum of both logits' unrounded sizes: a two-class
    formula, printed (and selected) as its logit difference d, counted about twice (116 against 58)."""
    import torch
    from torch import nn

    from srnet.explain.network import NetworkFunction
    from srnet.expr.symbolic import complexity

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 2), nn.Softmax(dim=1))
    X = np.random.default_rng(0).normal(size=(150, 3))
    explainer = make_explainer("srnet", max_seconds=None, max_generations=20)
    explainer.fit(NetworkFunction(net), X, task="classification", random_state=0)
    y0, y1 = explainer.model_.expression_
    assert explainer.formulas_ == [y1 - y0] and explainer.readable_formulas_ == readable_formulas([y1 - y0], X)[0]
    assert explainer.size_ == complexity(explainer.readable_formulas_[0])
    assert explainer.size_ < complexity(y0) + complexity(y1)


def test_every_formula_explainer_counts_nodes_as_read():
    """srnet's size was its rounded formula's nodes, pyoperon's and cgp_direct's their full-precision
    formulas' (1.0000003*x0 three nodes where srnet's rounding reads x0, one), gplearn's its unsimplified program's:
    the comparison of sizes favoured srnet.  One count now, of the formula the comparison prints."""
    import sympy

    from srnet.expr.symbolic import complexity, make_symbols

    x0, x1 = make_symbols(2)
    X = np.random.default_rng(0).uniform(-1, 1, (50, 2))
    exact = 1.0000003 * x0 + 2.0000001 * sympy.sin(x1) + 3.1e-13
    assert complexity(exact) == 9  # every number, symbol and operation a node
    assert readable_formulas([exact], X)[0] == [x0 + 2 * sympy.sin(x1)]
    assert complexity(readable_formulas([exact], X)[0][0]) == 6
    assert [complexity(f) for f in readable_formulas([exact, sympy.Float(0.25)], X)[0]] == [6, 1]
