"""Tests that kill survivors of a mutation-testing sample of ``srnet/cli.py``.

Sample: mutmut 3.8.1 mutants of the module (``only_mutate = ["srnet/cli.py"]``, 2545 mutants), 14 drawn with
``random.Random(60).sample(sorted(names), 14)``, each run on its own with
``MUTANT_UNDER_TEST=<name> PYTHONPATH=mutants python -m pytest -p no:cacheprovider -n 0 -x -q`` against the
command-line tests that reach the mutated function (tests/test_budgets.py, tests/test_cli_target.py,
tests/test_formulas.py, tests/test_compare_edge_cases.py, tests/test_plots.py, tests/bench/test_bench_cli.py,
selected with ``-k``).  11 were killed; the 3 survivors, killed here, are x__compare__mutmut_160,
x__compare__mutmut_161 and x__write_explanation__mutmut_268.  Each test names the mutant it kills and what a
user would see go wrong.
"""

import json
import signal
from types import SimpleNamespace

import numpy as np
import torch
from torch import nn

import srnet.compare
from srnet.cli import _write_explanation, main


def _tiny_net(tmp_path):
    """A fixed 2-3-1 tanh network saved as a state_dict, and 40 rows of data for it."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    torch.save(net.state_dict(), tmp_path / "net.pt")
    np.savetxt(tmp_path / "data.csv", np.random.default_rng(0).uniform(-1, 1, (40, 2)), delimiter=",")
    return net


def test_a_ctrl_c_while_a_comparison_is_written_exits_130_and_says_so(tmp_path, capsys, monkeypatch):
    """x__compare__mutmut_160 (the message upper-cased) and x__compare__mutmut_161 (exit status 131): a Ctrl-C
    while compare.json is written must leave the files, say every explainer was written, and exit 130 as
    every other interrupt of srnet does (a script testing for 130 would see an unknown failure)."""
    _tiny_net(tmp_path)
    real = srnet.compare.write_comparison

    def written_then_ctrl_c(*args, **kwargs):
        paths = real(*args, **kwargs)
        signal.raise_signal(signal.SIGINT)  # the first Ctrl-C after the search: FinishOnInterrupt notes it
        return paths

    monkeypatch.setattr(srnet.compare, "write_comparison", written_then_ctrl_c)
    out = tmp_path / "out"
    code = main(["compare", str(tmp_path / "net.pt"), "--arch", "mlp:2-3-1:tanh", "--data",
                 str(tmp_path / "data.csv"), "--out", str(out), "--explainers", "maple", "--points", "20",
                 "--quiet"])
    assert code == 130
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "interrupted (Ctrl-C) while writing: every explainer was measured, and written"
    assert (out / "compare.json").exists()


class _Requested:
    """A FinishOnInterrupt whose Ctrl-C came before the plots."""

    requested = True


def test_an_explanation_interrupted_before_its_plots_names_report_json_alone(tmp_path, capsys):
    """x__write_explanation__mutmut_268 (``"XXXX"`` printed when no plot was drawn): a Ctrl-C before the plots
    must print "wrote .../report.json" and nothing after it, not a garbled file name."""
    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    model = SimpleNamespace(report=lambda: {"interrupted": False}, formula_=None, history_=[],
                            layer_names_=["2"], is_classifier_=False, domain_={})
    X = np.random.default_rng(0).uniform(-1, 1, (20, 2))
    report = _write_explanation(model, net, X, tmp_path / "out", feature_names=None, finishing=_Requested())
    assert report["interrupted"] is True
    assert capsys.readouterr().out.splitlines()[-1] == f"wrote {tmp_path / 'out' / 'report.json'}"
    assert json.loads((tmp_path / "out" / "report.json").read_text())["interrupted"] is True
