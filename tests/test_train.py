"""srnet.train: small MLPs trained deterministically."""


import numpy as np
import pytest
import torch
from torch import nn

from srnet.probe import probe
from srnet.train import fit_network, train_mlp


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny networks train fastest on one thread; on a busy machine, much faster."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def curve():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(200, 1))
    return X, np.sin(2 * X[:, 0]) + 0.5 * X[:, 0]


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(-1.5, 0.6, size=(60, 2)), rng.normal(1.5, 0.6, size=(60, 2))])
    return X, np.array(["cat"] * 60 + ["dog"] * 60)


def test_fits_a_smooth_curve(curve):
    X, y = curve
    model, record = train_mlp(X, y, hidden=(8, 8), activation="sigmoid")
    prediction = probe(model, X)[-1][:, 0]
    r2 = 1 - np.sum((prediction - y) ** 2) / np.sum((y - y.mean()) ** 2)
    assert r2 > 0.99
    assert record.final_loss == pytest.approx(np.mean((prediction - y) ** 2), rel=1e-4)
    assert record.accuracy is None and record.classes is None and record.epochs == 1000
    assert isinstance(model[-1], nn.Linear) and not model.training


def test_same_seed_same_network_and_global_rng_untouched(curve):
    X, y = curve
    state = torch.get_rng_state()
    first, _ = train_mlp(X, y, hidden=(4,), epochs=5, random_state=3)
    second, _ = train_mlp(X, y, hidden=(4,), epochs=5, random_state=3)
    third, _ = train_mlp(X, y, hidden=(4,), epochs=5, random_state=4)
    assert torch.equal(torch.get_rng_state(), state)
    for key, tensor in first.state_dict().items():
        assert torch.equal(tensor, second.state_dict()[key])
    assert not torch.equal(first[0].weight, third[0].weight)


def test_classification_trains_on_logits_with_any_labels(blobs):
    X, y = blobs
    model, record = train_mlp(X, y, hidden=(6,), task="classification", epochs=100, lr=0.05)
    assert list(record.classes) == ["cat", "dog"]
    assert record.accuracy > 0.95
    logits = probe(model, X)[-1]
    assert logits.shape == (120, 2)
    assert np.mean(record.classes[logits.argmax(axis=1)] == y) == pytest.approx(record.accuracy)
    assert not np.allclose(logits.sum(axis=1), 1.0)  # no softmax inside the module


def test_paper_layout_and_multi_output_regression(curve):
    X, y = curve
    targets = np.c_[y, -y]
    model, record = train_mlp(X, targets, hidden=(5, 5), epochs=3, layout="paper")
    assert list(model.state_dict())[:2] == ["fc1.0.weight", "fc1.0.bias"]
    assert model.fc3.weight.shape == (2, 5)
    assert np.isfinite(record.final_loss)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"task": "ranking"}, r"unknown task 'ranking'; choose from regression, classification"),
        ({"layout": "keras"}, r"unknown layout 'keras'"),
        ({"activation": "swish"}, r"unknown activation 'swish'"),
        ({"epochs": 0}, r"epochs must be > 0, got 0"),
        ({"epochs": True}, r"epochs must be a number, got True"),
        ({"batch_size": 2.5}, r"batch_size must be a whole number, got 2\.5"),
        ({"random_state": -1}, r"random_state must be >= 0, got -1"),
        ({"lr": 0.0}, r"lr must be > 0, got 0\.0"),
        ({"lr": float("inf")}, r"lr must be a finite number, got inf"),
        ({"hidden": (4, 0)}, r"need an input and an output width, all positive"),
        ({"device": "gpu"}, r"^device must name a torch device such as 'cpu' or 'cuda'; got 'gpu'$"),
        ({"device": "xpu"}, r"^device 'xpu' is not available here: .* \(use 'cpu'\)$"),  # torch knows it, this one lacks it
        # torch's own line for mps on this build runs on for a kilobyte: its first sentence
        pytest.param({"device": "mps"}, r"^device 'mps' is not available here: .{0,150} \(use 'cpu'\)$",
                     marks=pytest.mark.skipif(torch.backends.mps.is_available(), reason="this machine has MPS")),
    ],
)
def test_bad_parameters(curve, kwargs, message):
    X, y = curve
    with pytest.raises(ValueError, match=message):
        train_mlp(X, y, epochs=kwargs.pop("epochs", 1), **kwargs)


def test_bad_targets(curve):
    X, y = curve
    with pytest.raises(ValueError, match=r"^y has 199 values but X has 200 rows$"):
        train_mlp(X, y[:-1], epochs=1)
    with pytest.raises(ValueError, match=r"needs at least 2 classes; y has only \[1\.0\]"):
        train_mlp(X, np.ones(200), task="classification", epochs=1)
    with pytest.raises(ValueError, match=r"y must hold one label per row of X \(200\); got shape \(3,\)"):
        train_mlp(X, ["a", "b", "a"], task="classification", epochs=1)


def _dropout_net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Dropout(0.3), nn.Linear(8, 1))


def test_fit_network_is_seeded_and_leaves_the_global_rng_alone():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(65, 2)), rng.normal(size=(65, 1))
    runs = [fit_network(_dropout_net(), X, y, nn.MSELoss(), epochs=3, batch_size=16, lr=1e-2, random_state=4)
            for _ in range(2)]
    assert runs[0] == runs[1] and len(runs[0]) == 3  # dropout masks and batch order from the seed
    model = _dropout_net()
    state = torch.random.get_rng_state()
    fit_network(model, X, y, nn.MSELoss(), epochs=1, batch_size=16, lr=1e-2)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert not model.training


def test_fit_network_stops_at_a_non_finite_loss_and_can_skip_single_row_batches():
    X, y = np.ones((33, 2)), np.full((33, 1), np.nan)
    assert fit_network(_dropout_net(), X, y, nn.MSELoss(), epochs=3, batch_size=16, lr=1e-2,
                       stop_on_nonfinite=True) == [np.inf]
    seen = []

    def loss(out, target):
        seen.append(out.shape[0])
        return ((out - target) ** 2).mean()

    fit_network(_dropout_net(), X, np.ones((33, 1)), loss, epochs=1, batch_size=16, lr=1e-2,
                skip_single_row_batches=True)
    assert seen == [16, 16]


def test_early_stopping_keeps_the_weights_of_the_least_validation_loss_and_stops_after_patience():
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(80, 2)), rng.normal(size=(80, 1))  # noise: the validation loss soon rises
    Xv, yv = rng.normal(size=(40, 2)), rng.normal(size=(40, 1))
    history = {}
    model = _dropout_net()
    losses = fit_network(model, X, y, nn.MSELoss(), epochs=500, batch_size=16, lr=3e-2, validation=(Xv, yv),
                         patience=7, history=history)
    best = int(np.argmin(history["validation_loss"]))
    assert history["best_epoch"] == best + 1 and len(losses) == len(history["validation_loss"]) == best + 1 + 7 < 500
    with torch.no_grad():  # the weights kept are those of the best epoch, not the last
        kept = float(nn.MSELoss()(model(torch.as_tensor(Xv, dtype=torch.float32)),
                                  torch.as_tensor(yv, dtype=torch.float32)))
    assert kept == pytest.approx(min(history["validation_loss"]), rel=1e-6)
    assert kept < history["validation_loss"][-1] and not model.training


def test_train_mlp_holds_out_stratified_rows_to_stop_early():
    from srnet.train import _validation_split

    labels = np.array([0] * 60 + [1] * 60)
    train, valid = _validation_split(120, 0.25, labels, random_state=0)
    assert len(valid) == 30 and np.bincount(labels[valid.numpy()]).tolist() == [15, 15]  # stratified
    assert sorted(train.tolist() + valid.tolist()) == list(range(120))  # disjoint, every row once
    rng = np.random.default_rng(3)
    noisy = rng.normal(size=(200, 5))
    labels = (noisy[:, 0] + rng.normal(size=200) > 0).astype(int)  # a noisy table: memorising it is easy
    _, record = train_mlp(noisy, labels, hidden=(32, 32), task="classification", epochs=2000,
                          validation_fraction=0.25, patience=5)
    assert record.best_epoch is not None and record.epochs == record.best_epoch + 5 < 2000
    _, memorised = train_mlp(noisy, labels, hidden=(32, 32), task="classification", epochs=2000)
    assert memorised.best_epoch is None and memorised.epochs == 2000
    assert memorised.accuracy == 1.0 > record.accuracy  # without early stopping it learns the noise
    model, _ = train_mlp(noisy, labels, hidden=(32, 32), task="classification", epochs=2000,
                         validation_fraction=0.25, patience=5)
    train_rows, _ = _validation_split(200, 0.25, labels, random_state=0)
    with torch.no_grad():  # accuracy and loss are the rows trained on, not the held-out ones mixed in
        predicted = model(torch.as_tensor(noisy[train_rows.numpy()], dtype=torch.float32)).argmax(dim=1).numpy()
    assert record.accuracy == pytest.approx(float(np.mean(predicted == labels[train_rows.numpy()])), abs=1e-6)
    _, huge_seed = train_mlp(noisy, labels, hidden=(4,), task="classification", epochs=2,
                             validation_fraction=0.25, random_state=2**62)  # sklearn refused seeds >= 2**32
    assert huge_seed.epochs >= 1


@pytest.mark.parametrize("patience, message", [
    (2.5, "patience must be a whole number"), (0, "patience must be > 0"), (float("nan"), "patience"),
])
def test_a_bad_patience_is_one_clear_line(patience, message):
    X, y = np.zeros((8, 2)), np.zeros((8, 1))
    with pytest.raises(ValueError, match=message) as excinfo:
        fit_network(_dropout_net(), X, y, nn.MSELoss(), epochs=2, batch_size=4, lr=1e-2,
                    validation=(X, y), patience=patience)
    assert "\n" not in str(excinfo.value)


@pytest.mark.parametrize("fraction, message", [
    (1.0, "validation_fraction must be < 1"), (-0.1, "validation_fraction must be > 0"),
    (float("nan"), "validation_fraction must be a finite number"), (0.001, "leaves no row"),
])
def test_a_bad_validation_fraction_is_one_clear_line(blobs, fraction, message):
    X, y = blobs
    with pytest.raises(ValueError, match=message):
        train_mlp(X, y, hidden=(4,), task="classification", epochs=2, validation_fraction=fraction)


def test_a_diverged_training_is_one_line_not_a_network_of_nan():
    X = np.random.default_rng(0).normal(size=(40, 2))
    with pytest.raises(ValueError, match=r"training diverged \(the loss is not finite at epoch \d+\); lower lr "
                                         r"\(got 1e\+30\) or rescale y"):
        train_mlp(X, X[:, 0] - X[:, 1], epochs=3, hidden=(4,), lr=1e30)


@pytest.mark.parametrize("where", ["X", "y"])
def test_values_beyond_what_float32_trains_on_are_refused(where):
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = X[:, 0] - X[:, 1]
    X, y = (X * 1e20, y) if where == "X" else (X, y * 1e20)
    with pytest.raises(ValueError, match=f"{where} holds values up to .*e\\+20, beyond what a float32 network"):
        train_mlp(X, y, epochs=1, hidden=(4,))


def test_fit_network_trains_a_float64_model_on_arrays():
    """Arrays became float32 whatever the model: a float64 model failed on its first batch."""
    X = np.random.default_rng(0).normal(size=(32, 2))
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)).double()
    losses = fit_network(model, X, X[:, :1] - X[:, 1:], nn.MSELoss(), epochs=20, batch_size=8, lr=0.01)
    assert losses[-1] < losses[0]


def test_fit_network_refuses_targets_that_would_broadcast_against_the_outputs():
    """A 1-D y against (n, 1) outputs broadcast to (n, n) in the MSE: the network learnt y's mean (loss 9.15)."""
    X = np.random.default_rng(0).normal(size=(64, 2))
    with pytest.raises(ValueError, match=r"y has shape \(64,\) but the model gives \(1,\) per row; reshape y to "
                                         r"\(64, 1\)"):
        fit_network(nn.Linear(2, 1), X, 3 * X[:, 0], nn.MSELoss(), epochs=1, batch_size=32, lr=0.05)
    model = nn.Linear(2, 1)
    fit_network(model, X, 3 * X[:, :1], nn.MSELoss(), epochs=200, batch_size=32, lr=0.05)
    assert model.weight.detach().numpy().ravel() == pytest.approx([3, 0], abs=1e-2)


def test_a_divergence_after_a_best_epoch_keeps_that_epochs_weights():
    """The loss went inf at epoch 3; the weights returned were not the best epoch's, and train_mlp refused a
    network whose early stopping had found a good one."""
    rng = np.random.default_rng(0)
    X, Xv = rng.normal(size=(64, 2)), rng.normal(size=(32, 2))
    calls = {"n": 0}

    def loss(out, target):  # finite for two epochs (4 batches and a validation each) and 2 steps, then inf
        calls["n"] += 1
        value = ((out - target) ** 2).mean()
        return value * np.inf if calls["n"] > 12 else value

    torch.manual_seed(0)
    model = nn.Linear(2, 1)
    history = {}
    losses = fit_network(model, X, X[:, :1], loss, epochs=5, batch_size=16, lr=0.05, validation=(Xv, Xv[:, :1]),
                         history=history, stop_on_nonfinite=True)
    assert losses[-1] == np.inf and len(losses) == 3 and history["best_epoch"] == 2
    with torch.no_grad():
        kept = float(nn.MSELoss()(model(torch.as_tensor(Xv, dtype=torch.float32)),
                                  torch.as_tensor(Xv[:, :1], dtype=torch.float32)))
    assert kept == pytest.approx(history["validation_loss"][1], rel=1e-6) and not model.training


def test_read_only_arrays_train_without_torch_s_warning():
    """pandas' .to_numpy() of a column, and srnet's own checks, give arrays that are not writable: torch.as_tensor
    warned "The given NumPy array is not writable" from inside srnet on every train_mlp."""
    import warnings

    X = np.random.default_rng(0).normal(size=(40, 2))
    y = X[:, 0] - X[:, 1]
    for values in (X, y):
        values.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train_mlp(X, y, hidden=(4,), epochs=2)
        train_mlp(X, (y > 0).astype(int), hidden=(4,), epochs=2, task="classification")
        fit_network(nn.Sequential(nn.Linear(2, 1)), X, y[:, None], nn.MSELoss(), epochs=2, batch_size=8, lr=0.01)
