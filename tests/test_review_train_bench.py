"""Review of srnet.train and srnet.benchmarks: one-column text labels, empty or float64 data given to
fit_network, and bad boxes or seeds given to Benchmark.sample."""

import numpy as np
import pytest
import torch
from torch import nn

from srnet.benchmarks import get_benchmark
from srnet.train import fit_network, train_mlp


def test_text_labels_in_one_column_train_as_numeric_ones_do():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (40, 2))
    labels = np.where(X[:, 0] > 0, "yes", "no")
    _, record = train_mlp(X, labels[:, None], task="classification", epochs=3)  # a one-column table's values
    _, plain = train_mlp(X, labels, task="classification", epochs=3)
    assert record.classes.tolist() == ["no", "yes"]
    assert record.final_loss == plain.final_loss


def test_fit_network_on_no_rows_is_one_line():
    model = nn.Linear(2, 1)
    with pytest.raises(ValueError, match="no rows to train on"):
        fit_network(model, np.zeros((0, 2)), np.zeros((0, 1)), nn.MSELoss(), epochs=1, batch_size=8, lr=0.1)


def test_fit_network_trains_a_float32_model_on_float64_tensors():
    X = np.random.default_rng(0).uniform(-1, 1, (30, 2))
    y = X.sum(axis=1, keepdims=True)
    runs = []
    for dtype in (torch.float64, torch.float32):
        torch.manual_seed(0)
        model = nn.Linear(2, 1)
        runs.append(fit_network(model, torch.tensor(X, dtype=dtype), torch.tensor(y, dtype=dtype), nn.MSELoss(),
                                epochs=3, batch_size=8, lr=0.1))
    assert runs[0] == runs[1]


@pytest.mark.parametrize("box, message", [
    ([(1, 0), (0, 1)], "inverted along input 0"),
    ([(np.nan, 1), (0, 1)], "non-finite bounds"),
    ([(0, np.inf), (0, 1)], "non-finite bounds"),
    ([(0, 1, 2), (0, 1)], r"\(low, high\) number pairs"),
])
def test_benchmark_sample_refuses_a_bad_box_in_one_line(box, message):
    with pytest.raises(ValueError, match=f"the nguyen-9 box .*{message}"):
        get_benchmark("nguyen-9").sample(5, box=box)


@pytest.mark.parametrize("seed", [True, 1.5, -1, "a"])
def test_benchmark_sample_refuses_a_bad_seed_in_one_line(seed):
    with pytest.raises(ValueError, match="random_state must be"):
        get_benchmark("nguyen-9").sample(5, random_state=seed)


def test_benchmark_sample_keeps_its_stream_for_good_seeds():
    X, _ = get_benchmark("nguyen-9").sample(5, random_state=[3, 0])
    rng = np.random.default_rng([3, 0])
    np.testing.assert_array_equal(X, np.column_stack([rng.uniform(-1, 1, 5) for _ in range(2)]))


@pytest.mark.parametrize("labels", [[1, "1", "a"] * 10, ("a", 2) * 15])
def test_labels_mixing_text_and_numbers_in_a_list_are_refused_not_merged(labels):
    """numpy reads such a list as text: 1 and "1" became one class without a word."""
    from srnet.data import class_indices

    with pytest.raises(ValueError, match="mix text and other values"):
        class_indices(list(labels))
    X = np.random.default_rng(0).uniform(-1, 1, (len(labels), 2))
    with pytest.raises(ValueError, match="mix text and other values"):
        train_mlp(X, labels, task="classification", hidden=(4,), epochs=1)


def test_a_benchmark_named_by_a_number_is_one_line():
    with pytest.raises(ValueError, match="unknown benchmark 1"):
        get_benchmark(1)
