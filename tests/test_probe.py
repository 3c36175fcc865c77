"""srnet.probe: recording layer outputs with hooks, and choosing the layers."""

import re

import numpy as np
import pytest
import torch
from torch import nn

from srnet.networks import build_mlp
from srnet.probe import LayerRecorder, plan_layers, probe

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")


class PaperMLP(nn.Module):
    """The SRNet paper's own style: fcK attributes chained in forward."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid())
        self.fc2 = nn.Sequential(nn.Linear(4, 3), nn.Sigmoid())
        self.fc3 = nn.Linear(3, 1)

    def forward(self, x):
        return self.fc3(self.fc2(self.fc1(x)))


class Residual(nn.Module):
    """Children that do not run in plain order: x + f(x)."""

    def __init__(self):
        super().__init__()
        self.inner = nn.Linear(2, 2)
        self.head = nn.Linear(2, 1)

    def forward(self, x):
        return self.head(x + self.inner(x))


class Exploding(nn.Module):
    def forward(self, x):
        raise RuntimeError("boom")


class Sqrt(nn.Module):
    def forward(self, x):
        return torch.sqrt(x)


class GradRecorder(nn.Module):
    def __init__(self):
        super().__init__()
        self.grad_enabled = []

    def forward(self, x):
        self.grad_enabled.append(torch.is_grad_enabled())
        return x


@pytest.fixture
def X():
    return np.random.default_rng(0).uniform(-2, 2, size=(50, 2))


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _affine(linear, x):
    return x @ linear.weight.detach().double().numpy().T + linear.bias.detach().double().numpy()


def _no_hooks_left(model):
    return all(not module._forward_hooks for module in model.modules())


# --- default layers -------------------------------------------------------------


def test_sequential_mlp_records_activations_and_output(X):
    model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 1))
    plan = plan_layers(model)
    assert plan.names == ("1", "3", "4") and plan.widths == (4, 3, 1)
    assert plan.n_features == 2 and not plan.is_classifier and plan.output == "4"
    h1, h2, out = probe(model, X)
    expected_h1 = _sigmoid(_affine(model[0], X))
    expected_h2 = np.tanh(_affine(model[2], expected_h1))
    np.testing.assert_allclose(h1, expected_h1, atol=1e-6)
    np.testing.assert_allclose(h2, expected_h2, atol=1e-6)
    np.testing.assert_allclose(out, _affine(model[4], expected_h2), atol=1e-5)
    assert all(a.dtype == np.float64 and a.flags.c_contiguous for a in (h1, h2, out))


@pytest.mark.parametrize("norm", ["weight_norm", "spectral_norm"])
def test_linear_layers_under_a_parametrization_are_still_layers(X, norm):
    """weight_norm gives each Linear child modules: it was no longer a leaf, every hidden layer vanished
    and the plan named one 'output' of width 2."""
    from torch.nn.utils import parametrizations

    wrap = getattr(parametrizations, norm)
    torch.manual_seed(0)
    model = nn.Sequential(wrap(nn.Linear(2, 4)), nn.Sigmoid(), wrap(nn.Linear(4, 3)), nn.Tanh(), wrap(nn.Linear(3, 1)))
    model.eval()  # (spectral_norm's power iteration moves the weights at each forward in training mode)
    plan = plan_layers(model)
    assert plan.names == ("1", "3", "4") and plan.widths == (4, 3, 1)
    np.testing.assert_allclose(probe(model, X)[-1], model(torch.as_tensor(X, dtype=torch.float32)).detach().numpy(),
                               atol=1e-6)


def test_paper_style_module_records_its_top_level_blocks(X):
    model = PaperMLP()
    plan = plan_layers(model)
    assert plan.names == ("fc1", "fc2", "fc3") and plan.widths == (4, 3, 1)
    h1, h2, out = probe(model, X)
    np.testing.assert_allclose(h1, _sigmoid(_affine(model.fc1[0], X)), atol=1e-6)
    np.testing.assert_allclose(out, model(torch.tensor(X, dtype=torch.float32)).detach().numpy(), atol=1e-6)


def test_paper_classifier_explains_logits_not_probabilities(X):
    model = build_mlp("mlp:2-5-5-3:sigmoid:softmax", layout="paper")
    plan = plan_layers(model)
    assert plan.is_classifier and plan.names == ("fc1", "fc2", "fc3.0") and plan.output == "fc3.0"
    assert plan.widths == (5, 5, 3)
    h1, h2, logits = probe(model, X)
    np.testing.assert_allclose(logits, _affine(model.fc3[0], h2), atol=1e-5)
    assert not np.allclose(logits.sum(axis=1), 1.0)


def test_sequential_classifier_skips_a_trailing_softmax(X):
    model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 3), nn.LogSoftmax(dim=1))
    plan = plan_layers(model)
    assert plan.is_classifier and plan.names == ("1", "2") and plan.output == "2"
    assert "logits" in str(plan) and "softmax skipped" in str(plan)


def test_an_identity_before_the_softmax_is_the_logits_layer_and_not_said_to_be_folded(X):
    model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 3), nn.Identity(), nn.Softmax(dim=1))
    plan = plan_layers(model)
    assert plan.names == ("1", "3") and plan.output == "3" and plan.folded == ()
    assert "folded" not in str(plan)
    np.testing.assert_allclose(probe(model, X)[-1], _affine(model[2], probe(model, X)[0]), atol=1e-5)


def test_a_classifier_explained_up_to_a_hidden_layer_explains_hidden_units_not_classes(X):
    """--layers ending at a hidden layer: its units are not class scores (no agreement, no argmax, no lift)."""
    from srnet.extract import SRNet

    model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 3), nn.Softmax(dim=1))
    assert plan_layers(model).is_classifier
    assert not plan_layers(model, ["1"]).is_classifier
    assert plan_layers(model, ["1", "2"]).is_classifier
    explained = SRNet(max_generations=5, simplify_seconds=0, random_state=0, n_threads=1).fit(model, X, layers=["1"])
    assert explained.is_classifier_ is False and explained.agreement_ is None


def test_single_child_wrapper_is_looked_through(X):
    class Wrapper(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1))

        def forward(self, x):
            return self.net(x)

    assert plan_layers(Wrapper()).names == ("net.1", "net.2")


def test_plan_describes_layers_for_reports():
    text = str(plan_layers(build_mlp("mlp:3-4-2:tanh", layout="paper")))
    assert text.splitlines()[0] == "network with 3 inputs"
    assert "fc1" in text and "width 4" in text and "hidden" in text and "output" in text


# --- named layers ----------------------------------------------------------------


def test_named_layers_are_returned_in_forward_order(X):
    model = PaperMLP()
    h1, pre_activation = probe(model, X, layers=["fc2.0", "fc1"])
    np.testing.assert_allclose(pre_activation, _affine(model.fc2[0], h1), atol=1e-6)
    assert plan_layers(model, ["fc2.0", "fc1"]).widths == (4, 3)


def test_unknown_layer_lists_the_valid_names(X):
    with pytest.raises(ValueError, match=r"^unknown layer 'fc9'; valid names: fc1, fc1\.0, fc1\.1, fc2, fc2\.0, fc2\.1, fc3$"):
        probe(PaperMLP(), X, layers=["fc9"])
    with pytest.raises(ValueError, match=r"^layers is empty"):
        probe(PaperMLP(), X, layers=[])


# --- running -----------------------------------------------------------------------


def test_batching_does_not_change_the_result(X):
    model = PaperMLP()
    whole = probe(model, X)
    for ours, reference in zip(probe(model, X, batch_size=7), whole):
        assert ours.shape == reference.shape
        np.testing.assert_allclose(ours, reference, rtol=1e-6)  # kernels differ by batch shape
    with pytest.raises(ValueError, match=r"^batch_size must be a positive integer; got 0$"):
        probe(model, X, batch_size=0)


def test_float64_model_gets_float64_inputs(X):
    model = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1)).double()
    h1, _ = probe(model, X)
    np.testing.assert_allclose(h1, _sigmoid(_affine(model[0], X)), rtol=1e-14)


def test_eval_mode_and_no_grad_then_flags_restored(X):
    recorder = GradRecorder()
    model = nn.Sequential(nn.Linear(2, 8), nn.Dropout(0.5), recorder, nn.Linear(8, 1))
    model.train()
    model[3].eval()  # mixed flags must come back exactly
    first, second = probe(model, X)[-1], probe(model, X)[-1]
    np.testing.assert_array_equal(first, second)  # dropout was off
    assert recorder.grad_enabled and not any(recorder.grad_enabled)
    assert [m.training for m in model.modules()] == [True, True, True, True, False]


def test_hooks_are_removed_after_success(X):
    model = PaperMLP()
    probe(model, X)
    assert _no_hooks_left(model)


def test_hooks_are_removed_when_the_forward_pass_raises(X):
    model = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), Exploding(), nn.Linear(3, 1))
    with pytest.raises(ValueError, match="failed on the data's rows: RuntimeError: boom"):
        probe(model, X, layers=["0", "1", "3"])
    assert _no_hooks_left(model)


def test_layer_recorder_holds_hooks_only_inside_the_block():
    model = PaperMLP()
    with LayerRecorder(model, ["fc1", "fc3"]) as recorder:
        assert len(model.fc1._forward_hooks) == 1 and len(model.fc3._forward_hooks) == 1
        model(torch.zeros(4, 2))
        batch = recorder.pop_batch()
    assert _no_hooks_left(model)
    assert set(batch) == {"fc1", "fc3"} and batch["fc1"].shape == (4, 4)


def test_a_layer_that_runs_twice_is_an_error(X):
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.Linear(2, 2)

        def forward(self, x):
            return self.layer(self.layer(x))

    model = Twice()
    with pytest.raises(ValueError, match=r"^module 'layer' ran 2 times in one forward pass"):
        probe(model, X)
    assert _no_hooks_left(model)


class _SharedActivation(nn.Module):
    """A common idiom: one activation module, called after each hidden Linear."""

    def __init__(self):
        super().__init__()
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in ((2, 8), (8, 8), (8, 1)))
        self.act = nn.Tanh()

    def forward(self, x):
        for linear in self.linears[:-1]:
            x = self.act(linear(x))
        return self.linears[-1](x)


def test_a_shared_activation_module_is_named_with_the_ways_out(X):
    """The default chain cannot record a module that runs after several layers: the message says why and what
    to do; the way out it names -- the output Linear alone, a direct formula -- works (its fed check, which
    asked the next declared module to read the last layer's output, refused it)."""
    torch.manual_seed(0)
    model = _SharedActivation()
    with pytest.raises(ValueError, match=r"module 'act' ran 2 times .* shared by several layers.*own module"):
        probe(model, X)
    output, = probe(model, X, ["linears.2"])
    with torch.no_grad():
        expected = model(torch.as_tensor(X, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(output, expected, rtol=1e-6)
    assert plan_layers(model, ["linears.2"]).fed == (None,)


# --- TorchScript --------------------------------------------------------------------


@pytest.mark.parametrize("layers", [None, ["fc1", "fc2.0", "fc3"]])
def test_scripted_modules_match_the_originals(X, layers):
    model = build_mlp("mlp:2-4-3-1:sigmoid", layout="paper")
    custom = PaperMLP()
    custom.load_state_dict(model.state_dict())
    expected = probe(model, X, layers=layers)
    for scripted in (torch.jit.script(model), torch.jit.script(custom)):
        assert plan_layers(scripted, layers) == plan_layers(model, layers)
        for ours, reference in zip(probe(scripted, X, layers=layers), expected):
            np.testing.assert_allclose(ours, reference, rtol=1e-6, atol=1e-7)


def test_scripted_classifier_records_logits(X):
    model = build_mlp("mlp:2-4-3:sigmoid:softmax", layout="paper")
    logits = probe(torch.jit.script(model), X)[-1]
    np.testing.assert_allclose(logits, probe(model, X)[-1], rtol=1e-6, atol=1e-7)


def test_undecomposable_scripted_module_is_refused(X):
    with pytest.raises(ValueError, match=r"^cannot probe TorchScript module Residual: running its children in order does not reproduce"):
        probe(torch.jit.script(Residual()), X, layers=["inner", "head"])
    # its output alone (the default: both its modules are Linear) is what its forward returns
    scripted = torch.jit.script(Residual())
    with torch.no_grad():
        want = scripted(torch.tensor(X, dtype=torch.float32)).double().numpy()
    np.testing.assert_array_equal(probe(scripted, X)[0], want)


def test_traced_modules_are_probed_as_their_network_is(X):
    """A traced module's children cannot be called ("Trace submodules cannot be called"), and it was refused; it is
    saved and loaded in memory (srnet.networks.as_network), whose TorchScript runs them, with the same numbers."""
    network = PaperMLP()
    traced = probe(torch.jit.trace(network, torch.zeros(1, 2)), X)
    for layer, expected in zip(traced, probe(network, X)):
        np.testing.assert_array_equal(layer, expected)


# --- bad input ---------------------------------------------------------------------------


def test_wrong_number_of_columns():
    with pytest.raises(ValueError, match=r"^X has 3 columns but the network's first layer expects 2$"):
        probe(PaperMLP(), np.zeros((5, 3)))


def test_non_finite_and_empty_inputs():
    X = np.zeros((5, 2))
    X[1, 1] = np.nan
    with pytest.raises(ValueError, match=r"^X contains 1 NaN/inf value \(first at row 1, column 1\)$"):
        probe(PaperMLP(), X)
    with pytest.raises(ValueError, match=r"^X is empty"):
        probe(PaperMLP(), np.zeros((0, 2)))


def test_non_finite_outputs_name_the_layer():
    model = nn.Sequential()
    model.add_module("fc1", nn.Linear(1, 1))
    model.add_module("fc2", nn.Sequential(nn.Linear(1, 1), Sqrt()))
    model.add_module("fc3", nn.Linear(1, 1))
    with torch.no_grad():
        for linear in (model.fc1, model.fc2[0]):
            linear.weight.fill_(1.0)
            linear.bias.zero_()
    X = np.linspace(1, 2, 200).reshape(-1, 1)
    X[[3, 50, 199]] *= -1
    with pytest.raises(ValueError, match=r"^the network produced non-finite outputs at layer 'fc2' for 3 of 200 rows$"):
        probe(model, X)


def test_models_without_linear_layers_are_refused():
    with pytest.raises(ValueError, match=r"built from nn\.Linear layers; Sequential has none"):
        plan_layers(nn.Sequential(nn.Sigmoid()))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_model_gets_inputs_on_its_device(X):
    model = PaperMLP()
    expected = probe(model, X)
    for ours, reference in zip(probe(model.cuda(), X), expected):
        np.testing.assert_allclose(ours, reference, rtol=1e-4, atol=1e-5)


class _DeclaredBackwards(nn.Module):
    """The output layer declared before the hidden one: forward runs them the other way round."""

    def __init__(self):
        super().__init__()
        self.out = nn.Linear(4, 1)
        self.hid = nn.Linear(2, 4)

    def forward(self, x):
        return self.out(torch.sigmoid(self.hid(x)))


@pytest.mark.parametrize("scripted", [False, True])
def test_layers_declared_out_of_forward_order_are_named_not_blamed_on_the_data(scripted):
    """The data fit the network; the message blamed them ('X has 2 columns but ... expects 4')."""
    model = _DeclaredBackwards().double()
    model = torch.jit.script(model) if scripted else model
    X = np.random.default_rng(0).uniform(-1, 1, (10, 2))
    if not scripted:  # read in the order forward runs its modules (one forward pass with hooks): explained
        with torch.no_grad():
            want = model(torch.tensor(X)).numpy()
        np.testing.assert_array_equal(probe(model, X)[-1], want)
        assert plan_layers(model).names == ("out",) and plan_layers(model).n_features == 2
        return
    with pytest.raises(ValueError, match="its first declared layer takes 4 inputs, yet it runs on 2: its layers "
                                         "are not declared in the order forward runs them"):
        probe(model, X)
    with pytest.raises(ValueError, match="X has 3 columns but the network's first layer expects 4"):
        probe(model, np.zeros((10, 3)))  # a width it does not run on: the data's fault


class _RescaledOutput(nn.Module):
    def __init__(self, after):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 3)).double()
        self.after = after

    def forward(self, x):
        return self.after(self.net(x))


@pytest.mark.parametrize("after", [lambda z: 10 * z + 3, lambda z: torch.softmax(z, dim=1)])
def test_a_forward_that_works_on_after_its_last_module_is_refused(after):
    """The output probed was the last Linear's, silently not what the network returns."""
    X = np.random.default_rng(0).uniform(-1, 1, (10, 2))
    with pytest.raises(ValueError, match="returns something other than its last module 'net.2' computes"):
        probe(_RescaledOutput(after), X)
    assert probe(_RescaledOutput(lambda z: z), X)[-1].shape == (10, 3)  # the identity: nothing hidden
    # a cast after the last module changes no value: RuntimeError "Float did not match Double" before
    assert probe(_RescaledOutput(lambda z: z.float()), X)[-1].shape == (10, 3)


def test_a_softmax_head_that_makes_no_class_probabilities_is_refused_in_one_line():
    """A softmax over the batch (dim=0) mixes rows, and one over a single output is always 1 (agreement
    100 % whatever the formula): both were explained as classifiers."""
    import pytest
    from torch import nn

    from srnet.probe import plan_layers

    def network(width, head):
        return nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, width), head)

    with pytest.raises(ValueError, match=r"^the softmax head '3' normalises over dim=0, not over each row's"):
        plan_layers(network(3, nn.Softmax(dim=0)))
    with pytest.raises(ValueError, match=r"^the softmax head '3' has one output, which is always 1"):
        plan_layers(network(1, nn.Softmax(dim=-1)))
    for head in (nn.Softmax(dim=-1), nn.Softmax(dim=1), nn.LogSoftmax(dim=-1)):
        assert plan_layers(network(3, head)).is_classifier


class _ChangedLogits(nn.Module):
    """A classifier whose forward changes the last Linear's output before its softmax module."""

    def __init__(self, change):
        super().__init__()
        self.fc1, self.act, self.fc2, self.softmax = nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 3), nn.Softmax(dim=1)
        self.change = change

    def forward(self, x):
        return self.softmax(self.change(self.fc2(self.act(self.fc1(x)))))


@pytest.mark.parametrize("change", [lambda z: z / 0.3, lambda z: z + torch.tensor([0.0, 2.0, -2.0])])
def test_a_softmax_that_does_not_run_on_the_logits_explained_is_refused(change):
    """softmax(fc2(h) / T) and softmax(fc2(h) + prior) were explained through fc2's values: SRNet reported
    97 % agreement where its formula agreed with the network's class on 75 % of the rows."""
    X = np.random.default_rng(0).normal(size=(20, 3))
    with pytest.raises(ValueError, match=r"^in _ChangedLogits, the softmax 'softmax' does not run on the output "
                                         r"of 'fc2', the layer explained as the logits"):
        probe(_ChangedLogits(change), X)
    assert probe(_ChangedLogits(lambda z: z), X)[-1].shape == (20, 3)
    # a scaling module between them is a layer of its own, explained as the logits
    scaled = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3), _Halve(), nn.Softmax(dim=1))
    assert plan_layers(scaled).names[-1] == "3" and probe(scaled, X)[-1].shape == (20, 3)


class _Halve(nn.Module):
    def forward(self, x):
        return 0.5 * x

# ------------------------------------------------------------------ in-place modules, skips, the user's objects

def test_a_later_in_place_module_does_not_rewrite_a_recorded_layer():
    """The hook kept the module's own tensor: a ReLU(inplace=True) after it zeroed its negatives."""
    torch.manual_seed(0)
    X = np.random.default_rng(0).normal(size=(20, 3))
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 4), nn.ReLU(inplace=True), nn.Linear(4, 1))
    with torch.no_grad():
        truth = model[2](model[1](model[0](torch.tensor(X, dtype=torch.float32)))).double().numpy()
    assert truth.min() < 0
    for net in (model, torch.jit.script(model)):
        np.testing.assert_allclose(probe(net, X, layers=["2", "4"])[0], truth, rtol=1e-6)


def test_an_in_place_first_module_does_not_write_into_the_user_s_data():
    model = nn.Sequential(nn.ReLU(inplace=True), nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    X = np.array([[3.0, -5.0], [0.5, 0.2]] * 5)
    kept = X.copy()
    probe(model, X)
    np.testing.assert_array_equal(X, kept)


def test_a_skip_connection_is_one_clear_line_not_a_layer_explained_from_the_wrong_input():
    X = np.random.default_rng(0).normal(size=(10, 2))
    with pytest.raises(ValueError, match=r"module 'out' \(run after layer 'a2'\) does not run on that layer's "
                                         r"output: a skip connection"):
        probe(_LayerResidual(), X)
    assert probe(_LayerResidual(), X, layers=["out"])[0].shape == (10, 1)  # the output alone: a direct formula


class _LateSkip(nn.Module):
    """Skips that join after the module run right after a layer: that module's input is the layer's output,
    so checking it alone passed them, and the next layer was explained from the wrong input (R^2 0.36 fed the
    network's own values)."""

    def __init__(self, kind):
        super().__init__()
        self.kind = kind
        self.l1, self.a1 = nn.Linear(3, 4), nn.Tanh()
        self.l2, self.l3, self.a2 = nn.Linear(4, 4), nn.Linear(3, 4), nn.Tanh()
        self.drop, self.out = nn.Dropout(0.1), nn.Linear(4, 1)

    def forward(self, x):
        h = self.a1(self.l1(x))
        if self.kind == "dropout":  # a transformer's h + dropout(f(h))
            return self.out(h + self.drop(self.a2(self.l2(h))))
        if self.kind == "unused":  # a Dropout declared, never called
            return self.out(h + self.a2(self.l2(h)))
        return self.out(self.drop(self.a2(self.l2(h) + self.l3(x))))  # the input joins a later layer


@pytest.mark.parametrize("kind,message", [
    ("dropout", r"layer 'out' is not what the modules after layer 'a2' \(drop, out\) compute from that layer's "
                r"output"),
    ("unused", r"module 'out' \(run after layer 'a2'\) does not run on that layer's output"),  # (drop never ran)
    ("input", r"layer 'a2' is not what the modules after layer 'a1' \(l2, l3, a2\) compute from that layer's "
              r"output")])
def test_a_skip_joining_past_the_next_module_is_refused_not_explained_from_the_wrong_input(kind, message):
    X = np.random.default_rng(0).normal(size=(10, 3))
    with pytest.raises(ValueError, match=message + ": a skip connection"):
        probe(_LateSkip(kind).eval(), X)
    assert probe(_LateSkip(kind).eval(), X, layers=["out"])[0].shape == (10, 1)  # the output alone: a direct formula


def test_a_module_declared_between_layers_and_never_called_is_no_step_of_the_chain():
    class Spare(nn.Module):
        def __init__(self):
            super().__init__()
            self.l1, self.a1, self.spare, self.l2, self.a2 = (nn.Linear(3, 4), nn.Tanh(), nn.Linear(7, 2),
                                                              nn.Linear(4, 4), nn.Tanh())

        def forward(self, x):
            return self.a2(self.l2(self.a1(self.l1(x))))

    X = np.random.default_rng(0).normal(size=(10, 3))
    assert [a.shape for a in probe(Spare().eval(), X, layers=["a1", "a2"])] == [(10, 4), (10, 4)]


def test_the_chain_check_runs_a_named_block_whole_and_records_nothing_twice():
    """A layer named by its block runs the block's own forward (a residual inside it is the block's business),
    and the modules run for the check are not recorded as a second pass."""
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc, self.act = nn.Linear(4, 4), nn.Tanh()

        def forward(self, x):
            return x + self.act(self.fc(x))

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), Block(), nn.Dropout(0.5), nn.Linear(4, 1)).eval()
    X = np.random.default_rng(1).normal(size=(30, 3))
    layers = probe(net, X, layers=["1", "2", "4"], batch_size=7)
    with torch.no_grad():
        h1 = net[1](net[0](torch.tensor(X, dtype=torch.float32)))
        h2 = net[2](h1)
    np.testing.assert_allclose(layers[1], h2.double().numpy(), rtol=1e-6)
    assert [a.shape for a in layers] == [(30, 4), (30, 4), (30, 1)]


def test_the_inputs_take_the_first_linear_s_dtype_not_the_first_parameter_s():
    """A learned float64 input scale declared before float32 Linears made float64 inputs: "mat1 and mat2 must
    have the same dtype", though the network runs on float32."""
    class LearnedScale(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.full((3,), 2.0, dtype=torch.float64))
            self.l1, self.a, self.l2 = nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1)

        def forward(self, x):
            return self.l2(self.a(self.l1(x * self.scale.float())))

    X = np.random.default_rng(0).uniform(-1, 1, (20, 3))
    net = LearnedScale().eval()
    with torch.no_grad():
        want = net(torch.tensor(X, dtype=torch.float32)).double().numpy()
    np.testing.assert_array_equal(probe(net, X)[-1], want)


class _LayerResidual(nn.Module):
    """A residual between explained layers: out(h + a2(l2(h)))."""

    def __init__(self):
        super().__init__()
        self.l1, self.a1, self.l2, self.a2, self.out = (nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 4), nn.Tanh(),
                                                         nn.Linear(4, 1))

    def forward(self, x):
        h = self.a1(self.l1(x))
        return self.out(h + self.a2(self.l2(h)))


class _ScriptedFunctional(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(2, 6), nn.Linear(6, 1)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


def test_a_scripted_network_that_is_no_chain_has_its_output_explained_directly():
    """Saved as TorchScript (as srnet's refusal of its state_dict advised), fc2(tanh(fc1(x))) was refused even for
    its output alone ("running its children in order does not reproduce its output"); its output is what its
    forward returns, and a network that is no chain is told how to ask for it."""
    torch.manual_seed(0)
    X = np.random.default_rng(0).uniform(-1, 1, (20, 2))
    for net, layers in ((_ScriptedFunctional(), None), (_LayerResidual(), ["out"])):
        scripted = torch.jit.script(net.eval())
        with torch.no_grad():
            want = scripted(torch.tensor(X, dtype=torch.float32)).double().numpy()
        np.testing.assert_array_equal(probe(scripted, X, layers=layers)[0], want)
    with pytest.raises(ValueError, match=r"does not reproduce its output; .* has no layer-by-layer probe, but its "
                                         r"output has a direct formula: layers=\['out'\] \(--layers out\)$"):
        probe(torch.jit.script(_LayerResidual().eval()), X)


class _LinearsFirst(nn.Module):
    """Linears declared first, activations after: common, and read in declared order it explained act2 as the
    output ("its forward does more after it")."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(2, 5), nn.Linear(5, 5), nn.Linear(5, 1)
        self.act1, self.act2 = nn.Tanh(), nn.Tanh()

    def forward(self, x):
        return self.fc3(self.act2(self.fc2(self.act1(self.fc1(x)))))


class _TwoModuleLists(nn.Module):
    """Linears and activations in two ModuleLists: the container 'acts' was named a layer ("did not run")."""

    def __init__(self):
        super().__init__()
        self.linears = nn.ModuleList([nn.Linear(2, 5), nn.Linear(5, 5), nn.Linear(5, 1)])
        self.acts = nn.ModuleList([nn.Tanh(), nn.Tanh()])

    def forward(self, x):
        for linear, act in zip(self.linears, self.acts):
            x = act(linear(x))
        return self.linears[-1](x)


@pytest.mark.parametrize("make,names", [(_LinearsFirst, ("act1", "act2", "fc3")),
                                        (_TwoModuleLists, ("acts.0", "acts.1", "linears.2"))])
def test_layers_are_read_in_the_order_forward_runs_them(make, names):
    torch.manual_seed(0)
    net = make().eval()
    X = np.random.default_rng(0).uniform(-1, 1, (20, 2))
    assert plan_layers(net).names == names
    layers = probe(net, X)
    h = torch.tensor(X, dtype=torch.float32)
    with torch.no_grad():
        modules = dict(net.named_modules())
        first = modules[names[0]](modules["fc1" if make is _LinearsFirst else "linears.0"](h))
        np.testing.assert_array_equal(layers[0], first.double().numpy())
        np.testing.assert_array_equal(layers[-1], net(h).double().numpy())
    # named by the user in any order, they are taken in the order forward runs them
    assert plan_layers(net, layers=list(reversed(names))).names == names


def test_reading_the_run_order_leaves_a_training_model_as_it_was():
    """accepts_width ran the model in training mode: BatchNorm counted a batch, Dropout drew random numbers; the
    forward pass that reads the order modules run in must not either."""
    class Net(nn.Module):  # declares its output layer first
        def __init__(self):
            super().__init__()
            self.out, self.inp, self.bn, self.drop, self.act = (nn.Linear(8, 1), nn.Linear(3, 8), nn.BatchNorm1d(8),
                                                                nn.Dropout(0.5), nn.Tanh())

        def forward(self, x):
            return self.out(self.drop(self.act(self.bn(self.inp(x)))))

    net = Net().train()
    state = torch.random.get_rng_state()
    assert [a.shape for a in probe(net, np.random.default_rng(0).normal(size=(5, 3)))] == [(5, 8), (5, 1)]
    assert plan_layers(net).folded == ("bn", "drop")
    assert int(net.bn.num_batches_tracked) == 0 and net.training and net.bn.training
    assert torch.equal(torch.random.get_rng_state(), state)


def test_a_scripted_module_of_another_signature_is_one_line():
    """forward(x, y) and a forward returning a tuple ended in torch's own traceback."""
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 1)

        def forward(self, x, y):
            return self.fc(x) + y

    class Pair(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 1)

        def forward(self, x):
            return self.fc(x), x

    X = np.zeros((4, 3))
    with pytest.raises(ValueError, match=r"its forward does not run on one \(n, inputs\) tensor \(forward\(\) is "
                                         r"missing value for argument 'y'"):
        probe(torch.jit.script(Two()), X)
    with pytest.raises(ValueError, match="its forward returns tuple, not one tensor"):
        probe(torch.jit.script(Pair()), X)


def test_a_scripted_module_that_reshapes_its_output_is_one_line():
    """A forward that reshapes its last child's (n, 4) output to (n, 2, 2) ended in allclose's traceback."""
    class Reshaped(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 4)

        def forward(self, x):
            return self.fc(x).reshape(-1, 2, 2)

    with pytest.raises(ValueError, match=r"^layer 'fc' produced shape \(5, 2, 2\); srnet records \(n, width\) "
                                         r"outputs$"):
        probe(torch.jit.script(Reshaped()), np.zeros((5, 3)))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_affine_modules_fold_in_half_precision_too(dtype):
    """An eval-mode BatchNorm is folded into the next Linear in float32; in float16 and bfloat16 the affinity
    test's fixed 1e-4 tolerance was below their rounding, and it became a layer of its own to approximate."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.BatchNorm1d(4), nn.Linear(4, 1)).eval().to(dtype)
    assert plan_layers(model).folded == ("2",)
    assert plan_layers(nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).to(dtype)).folded == ()


def test_a_forward_returning_a_tuple_is_checked_on_its_first_tensor():
    """(10 * o, o) was probed unchecked: the formula explained o, while the network's output is 10 * o."""
    X = np.random.default_rng(0).uniform(-1, 1, (10, 2))
    with pytest.raises(ValueError, match=r"^_RescaledOutput returns a tuple whose first tensor, which srnet reads as "
                                         r"the output, is not what its last module 'net.2' computes: wrap it"):
        probe(_RescaledOutput(lambda o: (10 * o, o)), X)
    assert probe(_RescaledOutput(lambda o: (o, 10 * o)), X)[-1].shape == (10, 3)  # (output, auxiliary)


@pytest.mark.parametrize("returned", [lambda o: {"y": 10 * o + 3, "features": o}, lambda o: {"y": o}])
def test_a_forward_returning_a_dict_is_refused_with_its_keys(returned):
    """{"y": 10 * o + 3, "features": h} was never checked: o was explained, R2 -0.91 against the network's y. Which
    value is the output is the user's to say: refused, even where it is the last module's."""
    X = np.random.default_rng(0).uniform(-1, 1, (10, 2))
    keys = ", ".join(repr(key) for key in returned(0))
    with pytest.raises(ValueError, match=re.escape(f"_RescaledOutput returns a dict ({keys}): srnet explains a "
                                                   f"network that returns its output; wrap it")):
        probe(_RescaledOutput(returned), X)


def test_a_module_declared_but_never_run_is_named_with_the_way_out():
    class SpareHead(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.act, self.fc2, self.spare = nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1), nn.Linear(4, 3)

        def forward(self, x):
            return self.fc2(self.act(self.fc1(x)))

    X = np.random.default_rng(0).uniform(-1, 1, (10, 2))
    # by default the network is what forward runs (the spare head was the output explained, then "did not run")
    assert plan_layers(SpareHead()).names == ("act", "fc2") and probe(SpareHead(), X)[-1].shape == (10, 1)
    with pytest.raises(ValueError, match=r"layer 'spare' did not run in a forward pass: a module declared but not "
                                         r"used by forward .* \(layers=\[\.\.\.\]\)"):
        probe(SpareHead(), X, layers=["act", "spare"])


class _FailsOnLargeBatches(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(1, 4), nn.Tanh(), nn.Linear(4, 1)

    def forward(self, x):
        if x.shape[0] > 5:
            raise RuntimeError("boom")
        return self.fc2(self.act(self.fc1(x)))


@pytest.mark.parametrize("scripted", [False, True])
def test_a_forward_that_raises_on_the_data_is_one_line(scripted):
    """A TorchScript forward raising on the rows was a 44-line traceback (torch.jit.Error is no RuntimeError)."""
    model = _FailsOnLargeBatches()
    model = torch.jit.script(model) if scripted else model
    with pytest.raises(ValueError, match=r"^_FailsOnLargeBatches failed on the data's rows: RuntimeError: boom$"):
        probe(model, np.zeros((20, 1)))


def test_nested_layers_are_ordered_by_when_forward_gives_their_outputs():
    """["encoder.block1", "encoder"] was ordered by each module's first leaf: the container 'encoder' (whose first
    leaf is block1's) came first, and block1, which runs first, was explained from the encoder's later output."""

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.block1 = nn.Sequential(nn.Linear(2, 16), nn.Tanh())
            self.block2 = nn.Sequential(nn.Linear(16, 8), nn.Tanh())

        def forward(self, x):
            return self.block2(self.block1(x))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder, self.head = Encoder(), nn.Linear(8, 1)

        def forward(self, x):
            return self.head(self.encoder(x))

    plan = plan_layers(Net(), ["encoder", "head", "encoder.block1"])
    assert plan.names == ("encoder.block1", "encoder", "head") and plan.widths == (16, 8, 1)
