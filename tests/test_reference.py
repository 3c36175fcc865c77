"""srnet.reference: the SRNet paper's networks load, probe and score as published."""

import numpy as np
import pytest
import torch
from torch import nn

from srnet.probe import plan_layers, probe
from srnet.reference import PAPER_BOXES, PAPER_FITNESS, load_reference

REGRESSION = sorted(PAPER_FITNESS)
CLASSIFICATION = ["adult", "agaricus_lepiota", "analcatdata_aids", "breast", "car"]


def _tf32(array):
    """Round float32 values to TF32 (10-bit mantissa, nearest, ties to even)."""
    bits = np.array(array, dtype=np.float32).view(np.uint32)
    bits = (bits + np.uint32(0xFFF) + ((bits >> np.uint32(13)) & np.uint32(1))) & np.uint32(0xFFFFE000)
    return bits.view(np.float32).astype(np.float64)


@pytest.mark.parametrize("name", REGRESSION)
def test_probing_a_regression_reference_reproduces_its_recordings(gecco_dir, name):
    reference = load_reference(gecco_dir / "regression" / name)
    assert reference.task == "regression"
    layers = probe(reference.model, reference.X)
    assert [layer.shape for layer in layers] == [a.shape for a in reference.activations]
    assert tuple(layer.shape[1] for layer in layers) == reference.widths[1:]
    for ours, recorded in zip(layers, reference.activations):
        # The authors recorded on a GPU whose matmuls ran partly in TF32 (10-bit
        # mantissa), so exact float32 agrees only to ~1e-3 of each layer's scale.
        error = np.abs(ours - recorded) / np.abs(recorded).max()
        assert error.max() < 2e-2 and np.median(error) < 1e-3


@pytest.mark.parametrize("name", ["kkk0", "kkk1", "kkk2", "kkk5"])
def test_tf32_arithmetic_reproduces_the_recordings_exactly(gecco_dir, name):
    """For these networks every matmul ran in TF32: emulating it matches to 1e-6."""
    reference = load_reference(gecco_dir / "regression" / name)
    x = reference.X
    for block, recorded in zip(reference.model.children(), reference.activations):
        linear = block[0] if isinstance(block, nn.Sequential) else block
        weight, bias = (p.detach().numpy().astype(np.float64) for p in (linear.weight, linear.bias))
        z = (_tf32(x) @ _tf32(weight).T).astype(np.float32) + bias
        x = 1 / (1 + np.exp(-z)) if isinstance(block, nn.Sequential) else z
        np.testing.assert_allclose(x, recorded, rtol=0, atol=1e-6 * np.abs(recorded).max())


@pytest.mark.parametrize("name", REGRESSION)
def test_regression_reference_metadata(gecco_dir, name):
    reference = load_reference(gecco_dir / "regression" / name)
    n_inputs = reference.widths[0]
    assert reference.X.shape[1] == n_inputs == len(reference.feature_names)
    assert reference.y.shape == (reference.X.shape[0],)
    assert reference.model.fc1[0].weight.dtype == torch.float32
    assert list(reference.widths) == reference.settings["neurons"]
    assert set(reference.boxes) == {"training", "validation", "test"}
    for box in reference.boxes.values():
        assert box.shape == (n_inputs, 2) and (box[:, 0] < box[:, 1]).all()
    low, high = reference.boxes["training"].T
    assert (reference.X >= low - 1e-6).all() and (reference.X <= high + 1e-6).all()
    assert reference.paper_fitness.best <= reference.paper_fitness.mean
    # the benchmark's truth, in the feature names srnet prints, is the recorded target (feynman2's inputs were
    # named and ordered G, m1, m2, r1, r2: 127 off a target of at most 64)
    from srnet.benchmarks import SRNET_GECCO

    truth = SRNET_GECCO[name].truth(reference.X)
    assert np.max(np.abs(truth - reference.y)) <= 1e-6 * np.max(np.abs(reference.y)) + 1e-5
    assert tuple(reference.feature_names) == tuple(SRNET_GECCO[name].variables)


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_classification_references_reproduce_their_logged_accuracy(gecco_dir, name):
    reference = load_reference(gecco_dir / "classification" / name)
    assert reference.task == "classification"
    assert list(reference.widths) == reference.settings["structure"]
    assert reference.activations is None and reference.boxes is None
    assert set(reference.paper_agreement) == {"lime", "maple", "srnet"}
    plan = plan_layers(reference.model)
    assert plan.is_classifier and plan.output == f"fc{len(reference.widths) - 1}.0"
    if name == "adult":  # the authors shipped no split for adult: use PMLB
        assert reference.X is None and reference.X_test is None
        return
    for X, y, logged in [
        (reference.X, reference.y, reference.settings["acc_train"]),
        (reference.X_test, reference.y_test, reference.settings["acc_test"]),
    ]:
        logits = probe(reference.model, X)[-1]
        assert np.mean(logits.argmax(axis=1) == y) == pytest.approx(logged, abs=1e-6)


def test_paper_tables_cover_every_regression_network():
    assert set(PAPER_BOXES) == set(PAPER_FITNESS)
    assert len(PAPER_FITNESS) == 12


def test_load_reference_needs_a_network_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"is not a reference network folder: it has no nn_module\.pt"):
        load_reference(tmp_path)


def test_a_damaged_reference_folder_is_one_line_naming_the_file(gecco_dir, tmp_path):
    import shutil

    folder = tmp_path / "kkk0"
    shutil.copytree(gecco_dir / "regression" / "kkk0", folder)
    (folder / "settings.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"settings\.json' JSON is corrupt"):
        load_reference(folder)
    (folder / "settings.json").write_bytes(b"\x80\x81 binary")
    with pytest.raises(ValueError, match=r"settings\.json' is not UTF-8 text: a damaged file\?$"):
        load_reference(folder)
    (folder / "settings.json").unlink()
    (folder / "hidden1.txt.gz").write_text("not gzip")
    with pytest.raises(ValueError, match=r"^cannot read '.*hidden1\.txt\.gz': "):
        load_reference(folder)


def test_a_reference_folder_reads_one_recording_per_hidden_layer(gecco_dir, tmp_path):
    """Every hidden*.txt.gz was read in name order: a backup hidden1.old.txt.gz shifted the layers, a missing
    hidden2 too, and hidden1_copy.txt.gz gave a bare int() error."""
    import shutil

    folder = tmp_path / "kkk0"
    shutil.copytree(gecco_dir / "regression" / "kkk0", folder)
    reference = load_reference(folder)
    shutil.copy(folder / "hidden1.txt.gz", folder / "hidden1_copy.txt.gz")
    again = load_reference(folder)  # the copy is not a layer
    assert len(again.activations) == len(reference.activations)
    for mine, theirs in zip(again.activations, reference.activations):
        np.testing.assert_array_equal(mine, theirs)
    (folder / "hidden2.txt.gz").unlink()
    with pytest.raises(ValueError, match=r"lacks hidden2\.txt\.gz: the network has \d+ hidden layers"):
        load_reference(folder)


def test_recordings_that_do_not_fit_the_network_are_one_line(gecco_dir, tmp_path):
    """A hidden layer's file cut short, or saved narrower than its layer, loaded silently."""
    import gzip
    import shutil

    folder = tmp_path / "kkk0"
    shutil.copytree(gecco_dir / "regression" / "kkk0", folder)
    hidden = np.loadtxt(folder / "hidden1.txt.gz", ndmin=2)
    for cut, why in ((hidden[:10], r"holds 10 x 3 values"), (hidden[:, :2], r"holds 200 x 2 values")):
        with gzip.open(folder / "hidden1.txt.gz", "wt") as file:
            np.savetxt(file, cut)
        with pytest.raises(ValueError, match=rf"hidden1\.txt\.gz {why}; the network's layer has 3 units"):
            load_reference(folder)


def test_a_classification_split_that_does_not_fit_the_network_is_one_line(gecco_dir, tmp_path):
    """A split of 2 columns for car's 6 inputs, labels 7.5 and -1, NaN inputs: all loaded silently."""
    import gzip
    import shutil

    folder = tmp_path / "car"
    shutil.copytree(gecco_dir / "classification" / "car", folder)
    for text, why in (("1 2 0\n3 4 1\n", r"has 2 input columns but the network 6 inputs"),
                      ("1 2 3 4 5 6 7.5\n", r"labels \(last column\) must be whole numbers in 0\.\."),
                      ("1 2 3 4 5 6 -1\n", r"labels \(last column\) must be whole numbers in 0\.\."),
                      ("nan 2 3 4 5 6 0\n", r"holds NaN/inf inputs")):
        with gzip.open(folder / "train.txt.gz", "wt") as file:
            file.write(text)
        with pytest.raises(ValueError, match=why):
            load_reference(folder)
    (folder / "settings.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="must hold a JSON object"):
        load_reference(folder)


def test_options_a_reference_folder_would_ignore_are_refused(tmp_path):
    """--arch and --target were accepted and ignored for a reference folder (an impossible architecture and a
    column that does not exist ran without a word)."""
    from srnet.loading import load_workload

    folder = tmp_path / "kkk0"
    folder.mkdir()
    (folder / "nn_module.pt").write_bytes(b"")  # refused before it is read
    with pytest.raises(ValueError, match=r"^--arch describes a state_dict's network; .*'kkk0' carries its own"):
        load_workload(folder, architecture="mlp:9-9-9:relu:softmax")
    with pytest.raises(ValueError, match=r"^--target names a column of --data; .*drop --target, or pass --data"):
        load_workload(folder, target="nonsense")
