"""Review of the command line: bad arguments are one line before anything runs."""

import json
import re
from pathlib import Path

import pytest

from srnet.cli import main


def test_one_point_per_box_is_refused_before_loading_and_names_the_option(tmp_path, capsys, monkeypatch):
    # compare refused --points 1 only after loading the network and printing "comparing ...", as "n_points"
    monkeypatch.chdir(tmp_path)
    assert main(["compare", "missing.pt", "--out", "o", "--points", "1"]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == "srnet compare: error: --points must be >= 2 (an R^2 needs two points), got 1"
    assert captured.out == "" and not (tmp_path / "o").exists()


def test_a_reader_that_leaves_early_costs_no_explanation(tmp_path, monkeypatch):
    """`srnet explain ... | head -1`: the next print raised BrokenPipeError, the command exited 2 with
    "error: [Errno 32] Broken pipe" and never wrote report.json."""
    import io
    import os
    import sys
    from pathlib import Path

    examples = Path(__file__).resolve().parents[1] / "data" / "examples"
    read, write = os.pipe()
    os.close(read)  # the reader has gone: every write to the pipe is a BrokenPipeError
    stream = io.TextIOWrapper(io.FileIO(write, "w"), line_buffering=True)
    monkeypatch.setattr(sys, "stdout", stream)
    status = main(["explain", str(examples / "coulomb" / "network.pt"), "--arch", "mlp:3-16-16-1:sigmoid", "--data",
                   str(examples / "coulomb" / "data.csv"), "--target", "last", "--out", str(tmp_path / "out"),
                   "--generations", "3"])
    monkeypatch.undo()
    assert status == 0
    assert (tmp_path / "out" / "report.json").exists()


def test_a_classifier_says_its_held_out_rows_as_a_regression_does(tmp_path, capsys):
    """A line called the rows "train" in another format ("train 98.1%, test 97.9%"), before the rows' figures:
    the held-out rows are now said as a regression's are, after them."""
    example = Path(__file__).resolve().parents[1] / "data" / "examples" / "iris"
    assert main(["explain", str(example / "network.pt"), "--arch", "mlp:4-16-3:tanh:softmax", "--data",
                 str(example / "data.csv"), "--target", "last", "--test-size", "0.25", "--generations", "20",
                 "--out", str(tmp_path / "out"), "--quiet"]) == 0
    printed = capsys.readouterr().out
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert "train" not in printed.replace("trained", "")
    held_out = re.search(r"on the (\d+) held-out rows: class agreement (\d+\.\d) % with the network\n", printed)
    assert held_out and held_out[2] == f"{100 * report['agreement_test']:.1f}", printed
    assert int(held_out[1]) == 38  # a quarter of 150, rounded up
    # after the rows' own figures, as a regression's held-out line
    assert printed.index("on the 112 rows explained") < held_out.start()


def test_the_headline_of_a_classifier_with_validation_rows_leaves_them_out(capsys):
    """From 200 rows on, a classifier's selection weighs rows held out of every fit ("validation-rows"): their
    figure is the selection's own, printed in the front, not beside the unbiased ones."""
    import warnings

    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    from srnet.cli import _print_explanation
    from srnet.extract import SRNet

    X = np.random.default_rng(0).normal(size=(300, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        network = MLPClassifier(hidden_layer_sizes=(6,), max_iter=300, random_state=0).fit(X, X[:, 0] * X[:, 1] > 0)
    model = SRNet(max_generations=10, simplify_seconds=0, random_state=0, n_threads=1).fit(network, X)
    assert "validation-rows" in model.regions_
    _print_explanation(model)
    headline = next(line for line in capsys.readouterr().out.splitlines() if " as one formula (" in line)
    shown = {name: figures["agreement"] for name, figures in model.regions_.items() if "validation" not in name}
    assert headline.endswith(": " + ", ".join(f"{name} {100 * value:.1f} %" for name, value in shown.items()) + "):")


@pytest.mark.parametrize("argv, message", [
    (["explain", "m.pt", "--out", "o", "--seconds", "abc"],
     "srnet explain: error: argument --seconds: invalid float value: 'abc' (see srnet explain -h)"),
    (["explain", "m.pt"], "srnet explain: error: the following arguments are required: --out (see srnet explain -h)"),
    (["bogus"], "srnet: error: argument command: invalid choice: 'bogus' (choose from "),
])
def test_an_argument_argparse_refuses_is_one_line_as_srnet_own_errors_are(argv, message, capsys):
    """argparse printed its eight-line usage block above the error; srnet's own errors are one line (how argparse
    quotes the choices differs between Python releases: only the start of that line is checked)."""
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and err.startswith(message) and err.count("\n") == 1, err
    assert err.endswith(f"(see {message.split(': error')[0]} -h)\n")
