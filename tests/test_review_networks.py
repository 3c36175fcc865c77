"""Review of network loading: what a wrong architecture is told, damaged TorchScript, the paper's logged accuracy."""

import zipfile

import numpy as np
import pytest
import torch
from torch import nn

from srnet.networks import build_mlp, load_network


def test_a_paper_layout_network_given_a_layer_too_many_is_told_the_count(tmp_path):
    """One hidden layer too many for a paper-layout file (kkk3's 2-4-4-4-1 read as 2-4-4-4-4-1) was told its module
    applied the activations as functions (F.relu), because the paper's last Linear is a plain 'fcN.weight'."""
    path = tmp_path / "net.pt"
    torch.save(build_mlp("mlp:2-4-4-4-1:sigmoid", layout="paper").state_dict(), path)
    with pytest.raises(ValueError) as error:
        load_network(path, "mlp:2-4-4-4-4-1:sigmoid")
    message = str(error.value)
    assert message == ("architecture 'mlp:2-4-4-4-4-1:sigmoid' needs tensor 'fc4.0.weight' (4, 4), which the file "
                       "lacks (the file's 4 Linear layers end in 'fc4.weight'; the architecture has 5)")
    assert "F.relu" not in message


def test_the_paper_s_kkk3_given_a_layer_too_many_is_told_the_count(gecco_dir):
    with pytest.raises(ValueError, match=r"lacks \(the file's 4 Linear layers end in 'fc4\.weight'; the architecture "
                                         r"has 5\)$"):
        load_network(gecco_dir / "regression" / "kkk3" / "nn_module.pt", "mlp:2-4-4-4-4-1:sigmoid")


def _rewritten(source, target, change):
    """``source``'s zip archive with each member's bytes passed through ``change(name, data)`` (fresh checksums)."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
        for info in original.infolist():
            copy.writestr(info, change(info.filename, original.read(info.filename)))


def test_a_torchscript_archive_whose_tensor_records_are_short_is_refused(tmp_path):
    """torch.jit.load filled a tensor from a record shorter than it with whatever memory held (weights 1.6e7,
    3e-41), silently; the archive's checksums pass when it was rewritten.  A whole archive still loads."""
    path = tmp_path / "net.pt"
    torch.jit.save(torch.jit.script(build_mlp("mlp:3-4-1:sigmoid")), path)
    assert load_network(path)(torch.zeros(2, 3)).shape == (2, 1)
    _rewritten(path, tmp_path / "short.pt", lambda name, data: data[:4] if "/data/" in name else data)
    with pytest.raises(ValueError, match=r"^cannot read '.*short\.pt' as a TorchScript file: its tensors need 84 "
                                         r"bytes but it stores 16 \(damaged, or cut short\)$"):
        load_network(tmp_path / "short.pt")


@pytest.mark.parametrize("shared", [False, True])
def test_torchscript_archives_of_shared_and_frozen_weights_load(tmp_path, shared):
    """The storage check counts a storage shared by several tensors once, and a frozen module (no state_dict)."""
    model = build_mlp("mlp:3-3-3:tanh").eval()
    if shared:
        model[2].weight = model[0].weight
    for name, script in (("net.pt", torch.jit.script(model)), ("frozen.pt", torch.jit.freeze(torch.jit.script(model)))):
        torch.jit.save(script, tmp_path / name)
        loaded = load_network(tmp_path / name)
        torch.testing.assert_close(loaded(torch.ones(2, 3)), model(torch.ones(2, 3)))


CLASSIFICATION = ["adult", "agaricus_lepiota", "analcatdata_aids", "breast", "car"]


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_a_classification_reference_on_its_whole_pmlb_table_reproduces_the_logged_accuracies(gecco_dir, pmlb_cache,
                                                                                            name):
    """The authors' train and test splits together are the PMLB table (adult ships no split: its full-batch size
    is the training split), so the network's correct rows there are the logged train and test accuracies' rows."""
    from srnet.loading import load_workload, network_fit
    from srnet.reference import load_reference

    reference = load_reference(gecco_dir / "classification" / name)
    workload = load_workload(gecco_dir / "classification" / name, name, pmlb_cache=pmlb_cache)
    n_rows = len(workload.X)
    n_train = reference.settings["batch_size"] if reference.X is None else len(reference.X)
    n_test = n_rows - n_train
    assert reference.X_test is None or len(reference.X_test) == n_test
    correct = network_fit(workload)["network_accuracy"] * n_rows
    logged = reference.settings["acc_train"] * n_train + reference.settings["acc_test"] * n_test
    assert round(correct) == round(logged)
    assert abs(correct - logged) < 0.01  # float32 accuracies of up to 48842 rows: a row is 2e-5 of them


def test_float8_weights_are_refused_at_load_not_at_the_first_probe(tmp_path):
    path = tmp_path / "net.pt"
    weights = build_mlp("mlp:2-3-1:tanh").state_dict()
    torch.save({k: v.to(torch.float8_e4m3fn) for k, v in weights.items()}, path)
    with pytest.raises(ValueError, match="float8_e4m3fn: srnet reads float16, bfloat16, float32 or float64"):
        load_network(path, "mlp:2-3-1:tanh")


def test_an_empty_split_file_is_called_empty(tmp_path):
    import numpy as np

    from srnet.reference import _check_split, _read_split

    (tmp_path / "test.txt").write_text("")
    X, y = _read_split(tmp_path / "test.txt")
    with pytest.raises(ValueError, match="is empty"):
        _check_split(tmp_path / "test.txt", X, y, (4, 8, 3))
    assert np.size(X) == 0


def test_a_longdouble_beyond_float64_is_refused_not_written_null():
    import numpy as np

    from srnet.jsonio import dumps

    if np.finfo(np.longdouble).max <= np.finfo(np.float64).max:  # a platform whose longdouble is float64
        pytest.skip("longdouble is float64 here")
    with pytest.raises(ValueError, match="beyond float64's range"):
        dumps({"x": np.longdouble("1e400")})
    assert dumps({"x": np.longdouble(2.5)}) == '{"x": 2.5}'


def test_the_networks_own_fit_reads_label_indices_and_says_why_a_figure_is_missing():
    """Labels 0 and 2 of a 3-output classifier are those outputs (accuracy was n/a: two classes, three outputs);
    where no figure can be had, a note says why (n/a alone said nothing)."""
    from srnet.loading import Workload, network_fit

    torch.manual_seed(0)
    classifier = nn.Sequential(nn.Linear(2, 3))  # its arg-max: class 0 or 2 on these rows, never 1
    with torch.no_grad():
        classifier[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 0.0], [-1.0, 0.0]]))
        classifier[0].bias.zero_()
    X = np.array([[1.0, 0.0], [2.0, 1.0], [-1.0, 0.0], [-3.0, 2.0]])
    work = Workload("c", classifier, X, ["a", "b"], is_classifier=True, y=np.array([0, 0, 2, 0]))
    assert network_fit(work) == {"network_accuracy": 0.75}  # read as outputs 0 and 2, not as classes 0 and 1
    work.y = np.array([1, 2, 3, 4])  # 4 classes, and 3, 4 are no output of 3
    assert network_fit(work) == {"network_accuracy": None, "network_fit_note": "the target holds 4 classes, the "
                                 "network 3 outputs, and its labels are not output indices 0..2"}
    work.y = np.array([5, 6, 7, 5])  # three classes: sorted, as training numbers them, and said so
    assert network_fit(work) == {"network_accuracy": 0.5,
                                 "network_fit_note": "labels 5, 6, 7 read as outputs 0..2 in that order"}
    work.y = np.array([5.0, 6.0, 7.5, 5.0])  # as a CSV reads them: whole numbers shown whole
    assert network_fit(work)["network_fit_note"] == "labels 5, 6, 7.5 read as outputs 0..2 in that order"
    work.y = np.array(["b", "c", "a", "b"])
    assert network_fit(work) == {"network_accuracy": 0.0,
                                 "network_fit_note": "labels a, b, c read as outputs 0..2 in that order"}
    work.y = np.array([0, 1, 2, 0])  # the outputs' own indices: nothing to say
    assert network_fit(work) == {"network_accuracy": 0.5}
    regression = Workload("r", nn.Sequential(nn.Linear(2, 1)), X, ["a", "b"], y=np.ones(4))
    assert network_fit(regression) == {"network_r2": None, "network_fit_note": "the target is constant: it has no R2"}
    regression.y = np.ones((4, 2))
    assert network_fit(regression)["network_fit_note"] == "the target has 2 columns, the network 1 outputs"
