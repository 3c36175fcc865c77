"""Review of the command line: bad arguments are one line before anything runs."""

from srnet.cli import main


def test_one_point_per_box_is_refused_before_loading_and_names_the_option(tmp_path, capsys, monkeypatch):
    # compare refused --points 1 only after loading the network and printing "comparing ...", as "n_points"
    monkeypatch.chdir(tmp_path)
    assert main(["compare", "missing.pt", "--out", "o", "--points", "1"]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == "srnet compare: error: --points must be >= 2 (an R^2 needs two points), got 1"
    assert captured.out == "" and not (tmp_path / "o").exists()
