"""Review of the command line: bad arguments are one line before anything runs."""

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
