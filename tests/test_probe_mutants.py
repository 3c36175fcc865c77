"""Tests that kill the surviving mutants of a mutmut run on srnet/probe.py (80 of its 1262 mutants sampled,
seeded: 69 killed, 11 survived, 4 of them equivalent; each test below failed on its mutant, named in its
docstring, and passes on the code).  See experiments/results/mutation.json."""

import numpy as np
import pytest
import torch
from torch import nn

from srnet.probe import in_training_mode, layer_labels, plan_layers, probe


class SqueezedRegressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.Tanh()
        self.fc2 = nn.Linear(4, 1)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))).squeeze(-1)  # (n,), the last module gives (n, 1)


def test_a_forward_that_squeezes_its_output_column_is_probed():
    """Kills _check_output__mutmut_10 (the reshape before the comparison flipped): a forward that squeezes its one
    output column computes what its last Linear computes, and is probed, not refused."""
    torch.manual_seed(0)
    model = SqueezedRegressor()
    X = np.random.default_rng(0).normal(size=(20, 3))
    hidden, output = probe(model, X)  # default layers: ["act", "fc2"], fc2 checked against forward's (n,)
    assert hidden.shape == (20, 4) and output.shape == (20, 1)
    with torch.no_grad():
        want = model(torch.tensor(X, dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(output[:, 0], want, rtol=1e-6, atol=1e-6)


def test_a_forward_that_rescales_its_output_is_still_refused():
    """The reshape only reconciles shapes: different values are refused as before."""

    class Rescaled(SqueezedRegressor):
        def forward(self, x):
            return 10 * super().forward(x)

    torch.manual_seed(0)
    with pytest.raises(ValueError, match="returns something other than its last module"):
        probe(Rescaled(), np.random.default_rng(0).normal(size=(20, 3)))



def test_layer_labels_name_every_module_a_layer_runs_with_their_classes():
    """A layer is named by the modules forward runs from the layer before through it: module '2' of
    Sequential(Linear, LayerNorm, Tanh, Linear) read "module '2', Tanh" (neither the Linear nor the LayerNorm
    named); a block by its own name; past four modules an ellipsis."""
    model = nn.Sequential(nn.Linear(2, 4), nn.LayerNorm(4), nn.Tanh(), nn.Linear(4, 1))
    assert layer_labels(model, plan_layers(model).names) == {
        "2": "modules '0' to '2', Linear+LayerNorm+Tanh", "3": "module '3', Linear"}
    model = nn.Sequential(nn.Sequential(nn.Linear(2, 3), nn.Sigmoid()), nn.Dropout(),
                          nn.Sequential(nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 1)))
    assert layer_labels(model, ["0", "2"]) == {"0": "module '0', Linear+Sigmoid",
                                               "2": "modules '1' to '2', Dropout+Linear+Tanh+Linear+..."}
    assert layer_labels(model, ["0", "2.1", "2.4"]) == {
        "0": "module '0', Linear+Sigmoid", "2.1": "modules '1' to '2.1', Dropout+Linear+Tanh",
        "2.4": "modules '2.2' to '2.4', Linear+Tanh+Linear"}
    assert layer_labels(model, ["2.4"])["2.4"] == "modules '0.0' to '2.4', Linear+Sigmoid+Dropout+Linear+..."
    assert layer_labels(model, ["9"]) == {"9": "module '9'"}  # a name no forward runs: the name alone


def test_explicit_layers_come_back_in_forward_order_not_name_order():
    """Kills x_plan_layers__mutmut_69 (names sorted alphabetically: 'decoder' before 'encoder')."""

    class AutoEncoderish(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Sequential(nn.Linear(3, 4), nn.Tanh())
            self.decoder = nn.Linear(4, 2)

        def forward(self, x):
            return self.decoder(self.encoder(x))

    plan = plan_layers(AutoEncoderish(), ["decoder", "encoder"])
    assert plan.names == ("encoder", "decoder")
    assert plan.widths == (4, 2)


def test_a_batch_size_of_one_is_accepted():
    """Kills x_probe__mutmut_40 (batch_size <= 1 refused)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    X = np.random.default_rng(1).normal(size=(5, 3))
    one = probe(model, X, batch_size=1)
    whole = probe(model, X)
    for a, b in zip(one, whole):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        probe(model, X, batch_size=0)


def test_instance_norm_without_running_stats_is_not_reported_as_training_mode():
    """Kills x_in_training_mode__mutmut_10 (the InstanceNorm exception bypassed): an InstanceNorm that tracks
    no running statistics computes the same in both modes, so it is no reason to warn."""
    plain = nn.Sequential(nn.Linear(3, 3), nn.InstanceNorm1d(3), nn.Linear(3, 1))
    tracked = nn.Sequential(nn.Linear(3, 3), nn.InstanceNorm1d(3, track_running_stats=True), nn.Linear(3, 1))
    assert in_training_mode(plain) == []
    assert in_training_mode(tracked) == ["1"]


class _Pair(nn.Module):
    def forward(self, x):
        return x, x


class _PairNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.pair = _Pair()
        self.fc2 = nn.Linear(4, 1)

    def forward(self, x):
        return self.fc2(torch.tanh(self.pair(self.fc1(x))[0]))


def test_a_layer_returning_a_tuple_is_refused_by_name():
    """Kills x__to_numpy__mutmut_2 (ValueError(None): the message naming the layer and its tuple lost)."""
    torch.manual_seed(0)
    with pytest.raises(ValueError, match=r"layer 'pair' returned tuple; srnet records tensor outputs"):
        probe(_PairNet(), np.random.default_rng(0).normal(size=(6, 3)), layers=["pair", "fc2"])


class _ViewNet(nn.Module):
    """Fails in its forward's own code (a view), after fc1 has run and returned."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.fc2 = nn.Linear(7, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x).view(-1, 7))


def test_a_failure_in_forward_s_own_code_blames_no_module():
    """Kills x__where_failed__mutmut_10 (a finished module stays 'running'): the view after fc1 fails, and
    fc1, which returned normally, must not be named as the module that failed."""
    torch.manual_seed(0)
    with pytest.raises(ValueError, match="failed on the data's rows") as info:
        probe(_ViewNet(), np.random.default_rng(0).normal(size=(5, 3)), layers=["fc2"])
    assert "it failed in module" not in str(info.value)


class _ConvFirst(nn.Module):
    """A Conv1d before its first Linear: the network runs on 4 inputs, its first Linear takes 3."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 1, 2)
        self.fc = nn.Linear(3, 1)

    def forward(self, x):
        return self.fc(self.conv(x[:, None, :])[:, 0])


def test_data_of_the_network_s_width_but_not_its_first_linear_s_is_refused_in_one_line():
    """The eager refusal of a module that changes the width before the first Linear (no test read it)."""
    with pytest.raises(ValueError, match=r"^cannot probe _ConvFirst: its first Linear layer takes 3 inputs, yet it "
                                         r"runs on 4: a module before its first Linear changes the width \(srnet's "
                                         r"formulas read the Linear layers' inputs\)$"):
        probe(_ConvFirst(), np.zeros((5, 4)))
