"""Review of data loading and probing: bad input is one ValueError line naming the problem."""

import numpy as np
import pytest
import torch
from torch import nn

from srnet.data import load_table
from srnet.networks import build_mlp
from srnet.probe import _BASIS_VALUES, plan_layers, probe


@pytest.mark.parametrize("text", ["x", "x\n", "a\n"])
def test_a_one_column_csv_of_a_header_and_no_rows_is_one_line(tmp_path, text):
    """A one-column file holding only a header was an IndexError from the separator hint (and then "is
    empty: shape (0, 1)"; it has no data rows)."""
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=r"^'t.csv' has no data rows \(a name row alone\)$"):
        load_table(path)


def test_an_npz_of_one_array_with_a_bad_target_is_not_called_unreadable(tmp_path):
    """The target's errors were wrapped as "'s.npz' cannot be read as a NumPy array (...)": a damaged file."""
    path = tmp_path / "s.npz"
    np.savez(path, np.random.default_rng(0).random((20, 3)))
    with pytest.raises(ValueError, match=r"^target column 5 is out of range for 's.npz' with 3 columns$"):
        load_table(path, target=5)
    np.savez(path, np.array([["1", "a"], ["2", ""]]))
    with pytest.raises(ValueError, match=r"^target column 'x1' holds text labels but row 1 has none$"):
        load_table(path, target="last")
    np.savez(path, np.arange(6.0).reshape(3, 2))
    X, y, names = load_table(path, target="last")
    assert X.shape == (3, 1) and y.tolist() == [1.0, 3.0, 5.0] and names == ["x0"]


def test_a_layer_returning_a_tuple_is_named_not_a_type_error():
    """nn.LSTM hands its (output, state) tuple on: a bare TypeError from deep inside torch."""
    model = nn.Sequential(nn.Linear(3, 4), nn.LSTM(4, 4), nn.Linear(4, 1))
    with pytest.raises(ValueError, match=r"failed on the data's rows: TypeError: .*; it failed in module '2' "
                                         r"\(Linear\), after module '1' \(LSTM\) returned a tuple, not one tensor"):
        probe(model, np.zeros((12, 3)))


def test_a_layer_failing_on_the_rows_is_named():
    model = nn.Sequential(nn.Embedding(10, 3), nn.Linear(3, 1))
    with pytest.raises(ValueError, match=r"^Sequential failed on the data's rows: RuntimeError: .*; it failed in "
                                         r"module '0' \(Embedding\)$"):
        probe(model, np.zeros((12, 3)))


def test_layer_names_must_be_strings():
    """layers=[0] said "unknown layer '0'; valid names: 0, 1, 2"."""
    with pytest.raises(ValueError, match=r"^layer names are module names, strings such as '0'; got 0 \(int\)$"):
        plan_layers(build_mlp("mlp:3-4-1:tanh"), [0])


def test_a_network_on_the_meta_device_is_one_line():
    """Its outputs hold no values: "Tensor.item() cannot be called on meta tensors" from the output checks."""
    model = nn.Sequential(nn.Linear(3, 4, device="meta"), nn.Tanh(), nn.Linear(4, 1, device="meta"))
    with pytest.raises(ValueError, match=r"^Sequential is on the meta device"):
        probe(model, np.zeros((12, 3)))


def test_inputs_beyond_the_networks_dtype_are_refused():
    """A float16 network ran on inf where X held 1e5, and returned a finite, saturated answer silently."""
    model = build_mlp("mlp:2-4-1:sigmoid").half()
    X = np.array([[1e5, 1.0]] * 12)
    with pytest.raises(ValueError, match=r"^X holds values up to 1e\+05, beyond the largest torch.float16"):
        probe(model, X)
    assert probe(model, X, finite=False)[-1].shape == (12, 1)  # a plot beyond the domain still sees it


class _Counting(nn.Module):
    """Element-wise scaling (or a fixed mixing matrix) that records the largest input it ran on."""

    def __init__(self, width, mixing=None):
        super().__init__()
        self.largest, self.mixing = 0, mixing
        self.register_buffer("scale", torch.linspace(0.5, 2.0, width))

    def forward(self, x):
        self.largest = max(self.largest, x.numel())
        return x * self.scale if self.mixing is None else x @ self.mixing


@pytest.mark.parametrize("mixed", [False, True])
def test_folding_a_wide_module_is_memory_bounded(mixed):
    """A module in front of W inputs was tried on all W unit vectors at once: W**2 values, in several copies
    (24 GB for W = 25,000)."""
    width = 2100
    mixing = torch.eye(width) + 0.01 * torch.roll(torch.eye(width), 1, dims=1) if mixed else None
    counting = _Counting(width, mixing)
    model = nn.Sequential(counting, nn.Linear(width, 2), nn.Tanh(), nn.Linear(2, 1))
    plan = plan_layers(model)
    assert counting.largest <= _BASIS_VALUES + 9 * width < (width + 9) * width
    assert plan.folded == ("0",) and plan.names == ("2", "3")
    # between two nonlinearities, a mixing matrix is a linear map of its own (it ends the layer before); a
    # scaling is not (the unit vectors are tried in two slices here: the diagonal test spans both)
    between = plan_layers(nn.Sequential(nn.Linear(3, width), nn.Tanh(), _Counting(width, mixing), nn.Tanh(),
                                        nn.Linear(width, 1)))
    assert between.names == (("1", "3", "4") if mixed else ("3", "4"))


def test_layer_widths_are_those_the_network_gives_after_reshaping_modules():
    """Tried alone on rows of the width before them, Unflatten, Conv1d and Flatten kept that width: the Tanh
    after a Conv1d of kernel 3 was listed 6 units wide where the network gives (and probe records) 4."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 6), nn.Unflatten(1, (1, 6)), nn.Conv1d(1, 1, 3), nn.Flatten(), nn.Tanh(),
                          nn.Linear(4, 1))
    plan = plan_layers(model, ["4", "5"])
    assert plan.widths == (4, 1)
    recorded = probe(model, np.random.default_rng(0).normal(size=(5, 3)), ["4", "5"])
    assert [r.shape[1] for r in recorded] == list(plan.widths)


class _Gated(nn.Module):
    """Not a chain: c(tanh(a(x)) * b(x))."""

    def __init__(self):
        super().__init__()
        self.a, self.b, self.c = nn.Linear(2, 3), nn.Linear(2, 3), nn.Linear(3, 1)

    def forward(self, x):
        return self.c(torch.tanh(self.a(x)) * self.b(x))


def test_a_scripted_module_that_is_no_chain_is_refused_in_one_line():
    """TorchScript's own traceback (15 lines) was printed inside the one-line refusal."""
    with pytest.raises(ValueError) as error:
        probe(torch.jit.script(_Gated()), np.zeros((5, 2)), ["a"])
    assert "\n" not in str(error.value) and "cannot be multiplied" in str(error.value)
