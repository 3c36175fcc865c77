"""``--target`` on the command line: an integer is a column index (as the help
promises), 'last' the last column, anything else a column name; a bad one is
one error line and exit code 2."""

import json

import numpy as np
import pytest
import torch

from srnet.cli import build_parser, main
from srnet.loading import load_workload
from srnet.networks import build_mlp


@pytest.fixture()
def files(tmp_path):
    """A 3-input network and a table of 4 columns, one of them named "2"."""
    torch.save(build_mlp("mlp:3-4-1:sigmoid").state_dict(), tmp_path / "net.pt")
    table = np.arange(20.0).reshape(5, 4) + np.array([0.0, 0.1, 0.2, 0.3])
    (tmp_path / "data.csv").write_text("p,q,r,2\n" + "\n".join(",".join(f"{v:g}" for v in row) for row in table))
    (tmp_path / "bare.csv").write_text("\n".join(",".join(f"{v:g}" for v in row) for row in table))
    return tmp_path, table


def loaded(files, data, target):
    """The workload ``srnet explain`` would explain, from its parsed arguments."""
    path, _ = files
    args = build_parser().parse_args(["explain", str(path / "net.pt"), "--arch", "mlp:3-4-1:sigmoid",
                                      "--data", str(path / data), "--out", str(path / "out"), "--target", target])
    return load_workload(args.model, args.data, architecture=args.arch, target=args.target)


@pytest.mark.parametrize("target, dropped", [("2", 2), ("0", 0), ("-1", 3), ("-4", 0), ("last", 3), ("q", 1)])
def test_an_integer_is_an_index_last_is_last_and_anything_else_a_name(files, target, dropped):
    _, table = files
    workload = loaded(files, "data.csv", target)
    kept = [j for j in range(4) if j != dropped]
    np.testing.assert_array_equal(workload.X, table[:, kept])
    assert workload.feature_names == [["p", "q", "r", "2"][j] for j in kept]


def test_an_index_works_on_a_table_without_a_header(files):
    _, table = files
    np.testing.assert_array_equal(loaded(files, "bare.csv", "2").X, table[:, [0, 1, 3]])
    np.testing.assert_array_equal(loaded(files, "bare.csv", "-1").X, table[:, :3])


def test_the_help_says_an_integer_is_an_index():
    explain = build_parser()._subparsers._group_actions[0].choices["explain"]
    (action,) = [a for a in explain._actions if a.dest == "target"]
    assert "integer is a 0-based index" in action.help and "named like a number" in action.help


@pytest.mark.parametrize("target, message", [
    ("7", r"target column 7 is out of range for 'data.csv' with 4 columns"),
    ("-5", r"target column -5 is out of range for 'data.csv' with 4 columns"),
    ("nope", r"'data.csv' has no column 'nope'; columns: p, q, r, 2"),
])
def test_a_bad_target_is_one_line_and_exit_code_2(files, capsys, target, message):
    path, _ = files
    code = main(["explain", str(path / "net.pt"), "--arch", "mlp:3-4-1:sigmoid", "--data", str(path / "data.csv"),
                 "--out", str(path / "out"), f"--target={target}", "--generations", "1"])
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("srnet explain: error: ") and message in lines[0]
    assert "Traceback" not in captured.err + captured.out


def test_the_select_help_states_the_rule_srnet_applies():
    # the command line imports srnet.formulas lazily, so its help repeats the numbers: they must agree
    from srnet.formulas import AGREEMENT_TOLERANCE, FAITHFUL_R2, READABLE_COMPLEXITY

    explain = build_parser()._subparsers._group_actions[0].choices["explain"]
    text = next(a.help for a in explain._actions if "--select" in a.option_strings)
    assert f"R2 >= {FAITHFUL_R2}" in text
    assert f"<= {READABLE_COMPLEXITY} nodes" in text
    assert f"within {round(100 * AGREEMENT_TOLERANCE)} point" in text


def test_text_labels_for_a_regression_network_are_named_in_one_line(files, capsys):
    """The target's text reached float(): "could not convert string to float: np.str_('no')"."""
    path, _ = files
    (path / "labelled.csv").write_text("p,q,r,label\n" + "\n".join(f"{i},{i + 1},{i + 2},{'yes' if i % 2 else 'no'}"
                                                                   for i in range(6)))
    code = main(["explain", str(path / "net.pt"), "--arch", "mlp:3-4-1:sigmoid", "--data", str(path / "labelled.csv"),
                 "--out", str(path / "out"), "--target", "last"])
    assert code == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "srnet explain: error: the target column holds text labels, but the network is a regressor (it does not end "
        "in Softmax or LogSoftmax): pass a numeric target, or for a classifier, add ':softmax' to --arch"]
    # a TorchScript archive refuses --arch: the advice is to save it with a softmax head (it was a dead end)
    import torch
    from torch import nn

    torch.jit.script(nn.Sequential(nn.Linear(3, 2))).save(str(path / "logits.pt"))
    code = main(["explain", str(path / "logits.pt"), "--data", str(path / "labelled.csv"),
                 "--out", str(path / "out"), "--target", "last"])
    assert code == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "srnet explain: error: the target column holds text labels, but the network is a regressor (it does not end "
        "in Softmax or LogSoftmax): pass a numeric target, or for a classifier, save it with nn.Softmax(dim=1) after "
        "its last layer (torch.jit.script(nn.Sequential(model, nn.Softmax(dim=1))))"]


def test_report_records_the_architecture_with_the_widths_the_weights_gave(tmp_path):
    """--arch mlp:sigmoid was recorded as given; the widths it ran with (3-16-16-1) were not."""
    import torch
    from torch import nn

    from srnet.loading import load_workload

    model = nn.Sequential(nn.Linear(3, 16), nn.Sigmoid(), nn.Linear(16, 16), nn.Sigmoid(), nn.Linear(16, 1))
    torch.save(model.state_dict(), tmp_path / "w.pt")
    np.savetxt(tmp_path / "w.csv", np.random.default_rng(0).uniform(size=(20, 3)), delimiter=",")
    workload = load_workload(tmp_path / "w.pt", tmp_path / "w.csv", architecture="mlp:sigmoid")
    assert workload.architecture == "mlp:3-16-16-1:sigmoid"


@pytest.mark.parametrize("header, target, line", [
    ("p,q,r,2\n", "q", "inputs: p, r, 2 (named by the file's first row); target: 'q'"),
    ("", "last", "inputs: x0, x1, x2 (the file has no name row: its first row is data); target: the last column"),
    ("", "2", "inputs: x0, x1, x3 (the file has no name row: its first row is data); target: column 2"),
])
def test_explain_says_which_columns_are_the_inputs_and_whether_the_first_row_named_them(tmp_path, capsys, header,
                                                                                         target, line):
    """A first row of numbers may be names (wavelengths) or data: nothing said which reading was taken."""
    torch.save(build_mlp("mlp:3-4-1:sigmoid").state_dict(), tmp_path / "net.pt")
    table = np.random.default_rng(0).uniform(0, 1, (30, 4))
    (tmp_path / "data.csv").write_text(header + "\n".join(",".join(f"{v:g}" for v in row) for row in table))
    code = main(["explain", str(tmp_path / "net.pt"), "--arch", "mlp:3-4-1:sigmoid", "--data",
                 str(tmp_path / "data.csv"), "--target", target, "--out", str(tmp_path / "out"), "--seconds", "0.5",
                 "--quiet"])
    printed = capsys.readouterr().out.splitlines()
    assert code == 0 and printed[1] == line, printed[:3]
    # what was explained, to run it again (report.json named the file's stem alone)
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert (report["model_path"], report["data_path"], report["target"]) == (
        str((tmp_path / "net.pt").resolve()), str((tmp_path / "data.csv").resolve()), int(target) if target.isdigit() else target)


def test_whole_number_labels_are_written_as_whole_numbers(tmp_path):
    """A CSV's labels 0, 1, 2 are read with the float columns as floats: report.json read classes [0.0, 1.0, 2.0]."""
    torch.save(build_mlp("mlp:2-4-3:tanh:softmax").state_dict(), tmp_path / "net.pt")
    X = np.random.default_rng(0).uniform(-1, 1, (30, 2))
    rows = [f"{a:g},{b:g},{k % 3}" for k, (a, b) in enumerate(X)]
    (tmp_path / "data.csv").write_text("a,b,label\n" + "\n".join(rows))
    assert main(["explain", str(tmp_path / "net.pt"), "--arch", "mlp:2-4-3:tanh:softmax", "--data",
                 str(tmp_path / "data.csv"), "--target", "label", "--out", str(tmp_path / "out"), "--seconds", "0.5",
                 "--quiet"]) == 0
    classes = json.loads((tmp_path / "out" / "report.json").read_text())["classes"]
    assert classes == [0, 1, 2] and all(isinstance(c, int) for c in classes)
    # a classifier's explanation draws where the formula's class differs from the network's (it drew none)
    assert (tmp_path / "out" / "decision_boundaries.png").is_file()
    assert not (tmp_path / "out" / "network_vs_formula.png").exists()
