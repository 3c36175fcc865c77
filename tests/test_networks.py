"""srnet.networks: architecture specs, building, loading, reference networks."""

import pickle
import warnings
import zipfile

import numpy as np
import pytest
import torch
from torch import nn

from srnet.networks import MLPSpec, build_mlp, load_network, network_from_state_dict, parse_architecture
from srnet.probe import plan_layers

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")



# --- parse_architecture --------------------------------------------------------


@pytest.mark.parametrize(
    "text, spec",
    [
        ("mlp:3-4-4-1:sigmoid", MLPSpec((3, 4, 4, 1), "sigmoid")),
        ("MLP:14-100-100-2:Sigmoid:softmax", MLPSpec((14, 100, 100, 2), "sigmoid", "softmax")),
        ("mlp:2-1:identity:identity", MLPSpec((2, 1), "identity")),
        ("mlp:tanh", MLPSpec(None, "tanh")),
        ("mlp:relu:softmax", MLPSpec(None, "relu", "softmax")),
    ],
)
def test_parse_architecture(text, spec):
    assert parse_architecture(text) == spec


def test_spec_string_round_trips():
    for text in ["mlp:3-4-4-1:sigmoid", "mlp:14-100-2:gelu:softmax", "mlp:silu"]:
        assert str(parse_architecture(text)) == text


@pytest.mark.parametrize(
    "text, message",
    [
        ("sigmoid", r"must look like 'mlp:3-16-16-1:sigmoid'"),
        ("mlp", r"must look like"),
        ("mlp:3-x-1:sigmoid", r"layer widths '3-x-1' in 'mlp:3-x-1:sigmoid' must be integers joined by '-'"),
        ("mlp:a-b:sigmoid", r"layer widths 'a-b' in 'mlp:a-b:sigmoid' must be integers"),  # (an activation 'a-b')
        ("mlp:-3-16-1:sigmoid", r"layer widths '-3-16-1' in 'mlp:-3-16-1:sigmoid' must be integers joined by '-'"),
        ("mlp:3:sigmoid", r"need an input and an output width"),
        ("mlp:3-0-1:sigmoid", r"need an input and an output width, all positive"),
        ("mlp:3-4-1", r"must name one hidden activation"),
        ("mlp:3-4-1:sigmoid:softmax:relu", r"at most one output activation"),
        ("mlp:3-4-1:swish", r"unknown activation 'swish'; choose from sigmoid, tanh, relu, gelu, silu, identity"),
        ("mlp:3-4-1:sigmoid:sparsemax", r"unknown output activation 'sparsemax'; choose from .*softmax"),
        ("mlp:3-4-1:sigmoid:softmax", r"a softmax head needs at least 2 outputs; this network has 1"),
        # a head alone was read as an unknown hidden activation ("choose from sigmoid, tanh, ...")
        ("mlp:4-1:logit", r"'logit' is an output head: name the hidden activation before it, like "
                          r"'mlp:4-8-1:tanh:logit' \(no hidden layer: 'mlp:4-1:identity:logit'\)"),
        ("mlp:4-3:softmax", r"'softmax' is an output head: .*'mlp:4-8-3:tanh:softmax'"),
    ],
)
def test_parse_architecture_errors(text, message):
    with pytest.raises(ValueError, match=message):
        parse_architecture(text)


# --- build_mlp ----------------------------------------------------------------------


def test_sequential_layout():
    model = build_mlp("mlp:3-5-4-2:tanh")
    assert [type(m) for m in model] == [nn.Linear, nn.Tanh, nn.Linear, nn.Tanh, nn.Linear]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    assert model(torch.zeros(7, 3)).shape == (7, 2)


def test_paper_layout_matches_the_papers_keys():
    model = build_mlp("mlp:2-4-4-4-1:sigmoid", layout="paper")
    assert list(model.state_dict()) == [
        "fc1.0.weight", "fc1.0.bias", "fc2.0.weight", "fc2.0.bias",
        "fc3.0.weight", "fc3.0.bias", "fc4.weight", "fc4.bias",
    ]
    assert isinstance(model.fc2[1], nn.Sigmoid) and isinstance(model.fc4, nn.Linear)


def test_paper_layout_classifier_ends_in_softmax_block():
    model = build_mlp("mlp:4-6-3:sigmoid:softmax", layout="paper")
    assert list(model.state_dict())[-2:] == ["fc2.0.weight", "fc2.0.bias"]
    probabilities = model(torch.randn(5, 4))
    torch.testing.assert_close(probabilities.sum(dim=1), torch.ones(5))


def test_build_mlp_errors():
    with pytest.raises(ValueError, match=r"architecture 'mlp:sigmoid' gives no layer widths"):
        build_mlp("mlp:sigmoid")
    with pytest.raises(ValueError, match=r"unknown layout 'keras'; choose from sequential, paper"):
        build_mlp("mlp:2-1:sigmoid", layout="keras")


# --- load_network ---------------------------------------------------------------------


def _same_function(a, b, n_inputs):
    x = torch.randn(16, n_inputs)
    with torch.no_grad():
        torch.testing.assert_close(a(x), b(x))


@pytest.mark.parametrize("layout", ["sequential", "paper"])
@pytest.mark.parametrize("architecture", ["mlp:3-5-4-2:tanh", "mlp:tanh"])
def test_state_dict_round_trip_infers_layout_and_widths(tmp_path, layout, architecture):
    original = build_mlp("mlp:3-5-4-2:tanh", layout=layout)
    torch.save(original.state_dict(), tmp_path / "net.pt")
    loaded = load_network(tmp_path / "net.pt", architecture)
    assert list(loaded.state_dict()) == list(original.state_dict())
    assert not loaded.training
    _same_function(original, loaded, 3)


def test_float64_weights_give_a_float64_model(tmp_path):
    original = build_mlp("mlp:2-3-1:sigmoid").double()
    torch.save(original.state_dict(), tmp_path / "net.pt")
    loaded = load_network(tmp_path / "net.pt", "mlp:sigmoid")
    assert next(loaded.parameters()).dtype == torch.float64


def test_torchscript_round_trip(tmp_path):
    original = build_mlp("mlp:2-4-4-1:sigmoid", layout="paper")
    torch.jit.save(torch.jit.script(original), tmp_path / "net.pt")
    loaded = load_network(tmp_path / "net.pt")
    assert isinstance(loaded, torch.jit.ScriptModule)
    _same_function(original, loaded, 2)
    # an architecture beside it was ignored, yet recorded in the report as the network's
    # (and dropping it runs the code a file holds that the user took for a state_dict: said)
    with pytest.raises(ValueError, match=r"TorchScript archive, which carries its own architecture: drop --arch "
                                         r"\(mlp:2-4-4-3:tanh:softmax\); TorchScript runs the code it holds, so load "
                                         r"it only from a source you trust$"):
        load_network(tmp_path / "net.pt", "mlp:2-4-4-3:tanh:softmax")


def test_paper_classifier_needs_its_softmax_named(tmp_path):
    torch.save(build_mlp("mlp:4-6-3:sigmoid:softmax", layout="paper").state_dict(), tmp_path / "net.pt")
    with pytest.raises(ValueError, match=r"the weights end in a block \('fc2\.0\.weight'.*add it, e\.g\. 'mlp:sigmoid:softmax'"):
        load_network(tmp_path / "net.pt", "mlp:sigmoid")
    torch.save(build_mlp("mlp:4-6-3:sigmoid", layout="paper").state_dict(), tmp_path / "plain.pt")
    with pytest.raises(ValueError, match=r"end in a plain Linear \('fc2\.weight'\) but architecture 'mlp:sigmoid:softmax'"):
        load_network(tmp_path / "plain.pt", "mlp:sigmoid:softmax")


def test_mismatched_architecture_names_tensor_and_shapes(tmp_path):
    torch.save(build_mlp("mlp:3-4-4-1:sigmoid", layout="paper").state_dict(), tmp_path / "net.pt")
    with pytest.raises(ValueError, match=(
        r"^architecture 'mlp:3-5-4-1:sigmoid' does not match the weights: tensor 'fc1\.0\.weight' "
        r"is \(4, 3\) in the file but \(5, 3\) in the architecture$"
    )):
        load_network(tmp_path / "net.pt", "mlp:3-5-4-1:sigmoid")
    with pytest.raises(ValueError, match=r"^architecture 'mlp:3-4-1:sigmoid' needs tensor 'fc2\.weight' \(1, 4\), which the file lacks$"):
        load_network(tmp_path / "net.pt", "mlp:3-4-1:sigmoid")
    torch.save(build_mlp("mlp:3-4-4-1:sigmoid").state_dict(), tmp_path / "sequential.pt")
    with pytest.raises(ValueError, match=r"^the file has tensor '4\.weight' \(1, 4\), which architecture 'mlp:3-4-4:sigmoid' lacks$"):
        load_network(tmp_path / "sequential.pt", "mlp:3-4-4:sigmoid")


def test_a_damaged_mixed_sparse_or_misdeclared_state_dict_is_one_line_or_loaded_exactly(tmp_path):
    """Flipped bytes inside a tensor loaded as other weights (torch does not check the archive's checksums);
    a float64 layer after a bfloat16 one was rounded to bfloat16; sparse weights and a typo in a width (the
    network was built, gigabytes perhaps, before the check) were tracebacks."""
    path = tmp_path / "net.pt"
    torch.save(build_mlp("mlp:1-2-1:identity").state_dict(), path)
    with zipfile.ZipFile(path) as archive:
        member = next(name for name in archive.namelist() if "/data/" in name)
        info = archive.getinfo(member)
    raw = bytearray(path.read_bytes())
    local = info.header_offset  # the member's first byte: after its local header, name and extra field
    start = local + 30 + int.from_bytes(raw[local + 26:local + 28], "little") + int.from_bytes(raw[local + 28:local + 30],
                                                                                              "little")
    raw[start] ^= 0xFF
    damaged = tmp_path / "damaged.pt"
    damaged.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"is damaged \(checksum mismatch\)$"):
        load_network(damaged, "mlp:sigmoid")
    mixed = {"0.weight": torch.ones(2, 1, dtype=torch.bfloat16), "0.bias": torch.zeros(2, dtype=torch.bfloat16),
             "2.weight": torch.tensor([[1.2345678, 0.0]], dtype=torch.float64), "2.bias": torch.zeros(1, dtype=torch.float64)}
    torch.save(mixed, tmp_path / "mixed.pt")
    assert load_network(tmp_path / "mixed.pt", "mlp:identity").state_dict()["2.weight"][0, 0].item() == 1.2345678
    sparse = {k: v.to(torch.float32) for k, v in mixed.items()}
    sparse["2.weight"] = sparse["2.weight"].to_sparse()
    torch.save(sparse, tmp_path / "sparse.pt")
    with pytest.raises(ValueError, match=r"^tensor '2\.weight' is torch\.sparse_coo, not dense"):
        load_network(tmp_path / "sparse.pt", "mlp:identity")
    with pytest.raises(ValueError, match=r"^layer width 4,000,000,000 in 'mlp:1-4000000000-1:identity' is more than"):
        load_network(path, "mlp:1-4000000000-1:identity")


def test_state_dict_needs_an_architecture(tmp_path):
    torch.save(build_mlp("mlp:2-1:sigmoid").state_dict(), tmp_path / "net.pt")
    with pytest.raises(ValueError, match=r"holds a state_dict, which needs an architecture such as"):
        load_network(tmp_path / "net.pt")


def test_pickled_whole_model_is_refused_with_advice(tmp_path):
    torch.save(build_mlp("mlp:2-3-1:sigmoid"), tmp_path / "whole.pt")
    with pytest.raises(ValueError) as error:
        load_network(tmp_path / "whole.pt", "mlp:sigmoid")
    message = str(error.value)
    assert "pickled Python object" in message and "state_dict()" in message and "torch.jit.save" in message
    assert "\n" not in message
    with open(tmp_path / "plain.pkl", "wb") as file:  # a plain pickle, not torch.save's archive
        pickle.dump({"weight": object()}, file, protocol=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # one line for the user: not torch's warning about the pickle first
        with pytest.raises(ValueError, match="pickled Python object"):
            load_network(tmp_path / "plain.pkl", "mlp:sigmoid")


def test_a_pickled_scikit_learn_model_is_sent_to_the_python_api(tmp_path):
    """It was told to save its state_dict(), which a scikit-learn model does not have: a dead end."""
    import joblib
    from sklearn.neural_network import MLPRegressor

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (scikit-learn's ConvergenceWarning, or none)
        model = MLPRegressor(hidden_layer_sizes=(3,), max_iter=5, random_state=0).fit([[0.0], [1.0]], [0.0, 1.0])
    joblib.dump(model, tmp_path / "mlp.joblib")
    with open(tmp_path / "mlp.pkl", "wb") as file:
        pickle.dump(model, file)
    for name in ("mlp.joblib", "mlp.pkl"):
        with pytest.raises(ValueError) as error:
            load_network(tmp_path / name, "mlp:sigmoid")
        assert str(error.value) == (f"'{tmp_path / name}' holds a pickled scikit-learn model, which srnet will not "
                                    "unpickle because that can run arbitrary code; an MLPRegressor or MLPClassifier "
                                    "(or a Pipeline ending in one) is explained from Python, where you load it: "
                                    "srnet.SRNet().fit(model, X)")


@pytest.mark.parametrize("junk", [b"\x00\x01 damaged bytes", b"hello world"])
def test_damaged_bytes_are_not_called_a_pickled_model(tmp_path, junk):
    """The weights-only unpickler refuses them like a pickled model; the message must not say it is one."""
    (tmp_path / "damaged.pt").write_bytes(junk)
    with pytest.raises(ValueError, match=r"^cannot read '.*damaged\.pt' as a PyTorch file: ") as error:
        load_network(tmp_path / "damaged.pt", "mlp:sigmoid")
    assert "pickled Python object" not in str(error.value) and "\n" not in str(error.value)
    assert "neither a torch.save archive, a pickle nor a TorchScript file" in str(error.value)


def test_unreadable_files(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no such network file"):
        load_network(tmp_path / "missing.pt", "mlp:sigmoid")
    with pytest.raises(IsADirectoryError, match=rf"^'{tmp_path}' is a folder, not a network file$"):
        load_network(tmp_path, "mlp:sigmoid")
    (tmp_path / "junk.pt").write_bytes(b"this is not a network")
    with pytest.raises(ValueError, match=r"^cannot read '.*junk\.pt' as a PyTorch file: "):
        load_network(tmp_path / "junk.pt", "mlp:sigmoid")
    good = tmp_path / "good.pt"
    torch.save(build_mlp("mlp:2-8-1:sigmoid").state_dict(), good)
    (tmp_path / "truncated.pt").write_bytes(good.read_bytes()[:200])
    with pytest.raises(ValueError, match=r"^cannot read '.*truncated\.pt' as a PyTorch file: "):
        load_network(tmp_path / "truncated.pt", "mlp:sigmoid")
    with zipfile.ZipFile(tmp_path / "broken_script.pt", "w") as archive:
        archive.writestr("archive/code/__torch__.py", "garbage")
    with pytest.raises(ValueError, match=r"^cannot read '.*broken_script\.pt' as a TorchScript file: "):
        load_network(tmp_path / "broken_script.pt")
    script = tmp_path / "script.pt"
    torch.jit.save(torch.jit.script(build_mlp("mlp:2-3-1:sigmoid")), script)
    data = script.read_bytes()
    at = data.index(b"PK\x01\x02")  # the first central directory entry
    (tmp_path / "bad_directory.pt").write_bytes(data[:at] + b"XX" + data[at + 2:])
    with pytest.raises(ValueError, match=r"^cannot read '.*bad_directory\.pt' as a PyTorch file: "):
        load_network(tmp_path / "bad_directory.pt")


def test_files_that_are_not_state_dicts(tmp_path):
    torch.save({"epoch": 3, "model": {"0.weight": torch.zeros(1, 1)}}, tmp_path / "checkpoint.pt")
    with pytest.raises(ValueError, match=r"holds a dict with keys \['epoch', 'model'\], not a state_dict"):
        load_network(tmp_path / "checkpoint.pt", "mlp:sigmoid")
    torch.save({"encoder.weight": torch.zeros(2, 2)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match=r"unrecognised state_dict keys \['encoder\.weight'\]"):
        load_network(tmp_path / "other.pt", "mlp:sigmoid")
    # one stray key among valid ones: the stray key is named (the valid ones were)
    torch.save({"0.weight": torch.zeros(2, 2), "0.bias": torch.zeros(2), "extra": torch.zeros(1)},
               tmp_path / "extra.pt")
    with pytest.raises(ValueError, match=r"unrecognised state_dict keys \['extra'\]"):
        load_network(tmp_path / "extra.pt", "mlp:sigmoid")


@pytest.mark.parametrize("prefix", ["module.", "_orig_mod.", "module._orig_mod."])
def test_a_wrapper_s_prefix_on_every_key_is_read_through(tmp_path, prefix):
    """nn.DataParallel saves module.0.weight, a torch.compile'd model _orig_mod.0.weight: "unrecognised"."""
    torch.manual_seed(0)
    plain = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    torch.save({prefix + key: value for key, value in plain.state_dict().items()}, tmp_path / "wrapped.pt")
    loaded = load_network(tmp_path / "wrapped.pt", "mlp:tanh")
    X = torch.randn(5, 3)
    torch.testing.assert_close(loaded(X), plain(X))


def test_what_a_state_dict_cannot_carry_points_to_torchscript(tmp_path):
    """Sequential(Linear, Tanh, Dropout, Linear) numbers its Linear layers 0, 3: the message named a missing
    '2.weight' and nothing else; BatchNorm's keys were "unrecognised", with no way in."""
    dropout = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Dropout(0.1), nn.Linear(8, 1))
    torch.save(dropout.state_dict(), tmp_path / "dropout.pt")
    with pytest.raises(ValueError, match=r"needs tensor '2\.weight' \(1, 8\), which the file lacks \(its Linear "
                                         r"layers are modules 0, 3: more than an activation between two of them "
                                         r"\(such as nn\.Dropout\); .*torch\.jit\.save\(torch\.jit\.script\(model\)"):
        load_network(tmp_path / "dropout.pt", "mlp:tanh")
    torch.save(nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 1)).state_dict(),
               tmp_path / "batchnorm.pt")
    with pytest.raises(ValueError, match=r"unrecognised state_dict keys \['1\.running_mean'.*torch\.jit\.script"):
        load_network(tmp_path / "batchnorm.pt", "mlp:tanh")
    for modules, said in (((nn.Linear(3, 8), nn.Linear(8, 1)), "modules 0, 1: two of them with no activation "
                                                                "between"),
                          ((nn.Flatten(), nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1)),
                           r"modules 1, 3: a module without weights before the first \(such as nn\.Flatten\)")):
        torch.save(nn.Sequential(*modules).state_dict(), tmp_path / "other.pt")
        with pytest.raises(ValueError, match=f"its Linear layers are {said};"):
            load_network(tmp_path / "other.pt", "mlp:tanh")
    torch.save(nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1)).state_dict(), tmp_path / "plain.pt")
    with pytest.raises(ValueError, match=r"tensor '2\.weight' is \(1, 8\) in the file but \(8, 8\)"):  # no hint
        load_network(tmp_path / "plain.pt", "mlp:3-8-8-1:tanh")


def test_an_empty_network_file_is_called_empty(tmp_path):
    (tmp_path / "net.pt").write_bytes(b"")
    with pytest.raises(ValueError, match=r"^'.*net\.pt' is empty \(0 bytes\): was it saved, or copied, in full\?$"):
        load_network(tmp_path / "net.pt", "mlp:tanh")
    torch.save({}, tmp_path / "nothing.pt")  # ("unrecognised state_dict keys []")
    with pytest.raises(ValueError, match=r"^'.*nothing\.pt' holds an empty dict: no weights"):
        load_network(tmp_path / "nothing.pt", "mlp:tanh")
    (tmp_path / "net.onnx").write_bytes(b"\x08\x07\x12\x07pytorch")  # ("damaged, or another format")
    with pytest.raises(ValueError, match=r"^'.*net\.onnx' is an ONNX model, which srnet does not read: save the "
                                         r"network from PyTorch"):
        load_network(tmp_path / "net.onnx")


def test_a_torch_export_program_is_named_not_called_corrupted(tmp_path):
    """torch.load said "PytorchStreamReader failed locating file data.pkl ... your checkpoint file is corrupted"."""
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    torch.export.save(torch.export.export(model, (torch.zeros(2, 3),)), tmp_path / "net.pt2")
    for architecture in ("mlp:tanh", None):
        with pytest.raises(ValueError, match=r"^'.*net\.pt2' is a torch\.export program, which srnet does not read: "
                                             r"save the model's state_dict"):
            load_network(tmp_path / "net.pt2", architecture)


def test_state_dicts_that_are_not_float_mlps(tmp_path):
    torch.save({"0.weight": torch.zeros(3, 2, dtype=torch.int64), "0.bias": torch.zeros(3, dtype=torch.int64)},
               tmp_path / "integers.pt")
    with pytest.raises(ValueError, match=r"^tensor '0\.weight' is torch\.int64, not floating point"):
        load_network(tmp_path / "integers.pt", "mlp:sigmoid")
    torch.save({"0.bias": torch.zeros(3)}, tmp_path / "biases.pt")
    with pytest.raises(ValueError, match=r"^unrecognised state_dict keys \['0\.bias'\]: .*2-D Linear weights"):
        load_network(tmp_path / "biases.pt", "mlp:sigmoid")


def test_a_state_dict_of_functional_activations_says_why_it_is_not_the_paper_s_layout(tmp_path):
    """Keys fc1.weight, fc2.weight, ... (activations applied as functions) were read as the paper's layout, and
    the error named a missing 'fc1.0.weight' without the cause."""
    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2, self.fc3 = nn.Linear(3, 8), nn.Linear(8, 8), nn.Linear(8, 1)

        def forward(self, x):
            return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))

    torch.save(Functional().state_dict(), tmp_path / "functional.pt")
    with pytest.raises(ValueError, match=r"needs tensor 'fc1\.0\.weight' \(8, 3\), which the file lacks \(it has "
                                         r"'fc1\.weight': a module of its own whose forward applies the activations"):
        load_network(tmp_path / "functional.pt", "mlp:relu")


def test_softmax_gives_an_infinite_logit_the_row_and_a_nan_logit_no_class():
    from srnet.explain.network import softmax

    probabilities = softmax(np.array([[np.inf, 0.0, 1.0], [np.inf, np.inf, -np.inf], [1.0, 2.0, -np.inf],
                                      [np.nan, 1.0, 2.0], [-np.inf, -np.inf, -np.inf]]))
    np.testing.assert_array_equal(probabilities[0], [1.0, 0.0, 0.0])  # inf - inf made the whole row NaN
    np.testing.assert_array_equal(probabilities[1], [0.5, 0.5, 0.0])
    np.testing.assert_allclose(probabilities[2], [1 / (1 + np.e), np.e / (1 + np.e), 0.0])
    assert np.isnan(probabilities[3]).all() and np.isnan(probabilities[4]).all()


@pytest.mark.parametrize("layout", ["sequential", "paper"])
def test_a_state_dict_of_linears_without_bias_loads(tmp_path, layout):
    """A bias-free MLP's state_dict was refused ("needs tensor '0.bias'") by every --arch that describes it."""

    torch.manual_seed(0)
    model = build_mlp("mlp:3-8-4-1:tanh", layout=layout, biases=(False, True, False))
    torch.save(model.state_dict(), tmp_path / "net.pt")
    x = torch.randn(6, 3)
    for arch in ("mlp:3-8-4-1:tanh", "mlp:tanh"):
        loaded = load_network(tmp_path / "net.pt", arch)
        assert [m.bias is None for m in loaded.modules() if isinstance(m, torch.nn.Linear)] == [True, False, True]
        torch.testing.assert_close(loaded(x), model(x))


def test_bias_flags_must_cover_every_layer():
    """zip stopped at the shorter list: biases=[True] built a 3-4-1 network without its output layer."""
    with pytest.raises(ValueError, match=r"1 bias flags for the 2 Linear layers of 'mlp:3-4-1:sigmoid'"):
        build_mlp("mlp:3-4-1:sigmoid", biases=[True])
    with pytest.raises(ValueError, match="0 bias flags"):
        build_mlp("mlp:3-4-1:sigmoid", layout="paper", biases=[])


@pytest.mark.parametrize("widths", [(3, True, 1), (3, 2.5, 1), (3, "4", 1)])
def test_layer_widths_must_be_whole_numbers(widths):
    with pytest.raises(ValueError, match="layer widths must be whole numbers"):
        MLPSpec(widths, "sigmoid")


@pytest.mark.parametrize("hidden", [16, "16", (2.5,)])
def test_train_mlp_names_a_bad_hidden(hidden):
    from srnet.train import train_mlp
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match="hidden must be a sequence|layer widths must be whole numbers"):
        train_mlp(X, X[:, 0], hidden=hidden, epochs=1)


def test_weights_that_do_not_chain_are_named_as_they_are():
    """The message named an architecture (mlp:3-4-1) the user never gave."""
    state = {"0.weight": torch.zeros(4, 3), "0.bias": torch.zeros(4), "2.weight": torch.zeros(1, 5),
             "2.bias": torch.zeros(1)}
    with pytest.raises(ValueError, match=r"the weights do not chain: '0.weight' gives 4 outputs but '2.weight' "
                                         r"takes 5 inputs"):
        network_from_state_dict(state, MLPSpec(None, "sigmoid"))


@pytest.mark.parametrize("value, kinds", [(float("inf"), "inf"), (float("nan"), "NaN")])
def test_a_network_with_a_non_finite_weight_is_refused_in_one_line_naming_the_tensor(tmp_path, value, kinds):
    """An inf weight was explained as it was, behind a warning that blamed --arch; a NaN one failed only at a
    layer's outputs.  Both file kinds are checked."""
    torch.manual_seed(0)
    model = build_mlp("mlp:3-4-1:tanh")
    with torch.no_grad():
        model[2].bias[0] = value
    torch.save(model.state_dict(), tmp_path / "weights.pt")
    torch.jit.save(torch.jit.script(model), tmp_path / "scripted.pt")
    message = rf"tensor '2.bias' holds 1 non-finite value\(s\) \({kinds}\): diverged in training, or damaged\?"
    with pytest.raises(ValueError, match=message):
        load_network(tmp_path / "weights.pt", "mlp:3-4-1:tanh")
    with pytest.raises(ValueError, match=message):
        load_network(tmp_path / "scripted.pt")
    with torch.no_grad():
        model[2].bias[0] = 0.5
    torch.save(model.state_dict(), tmp_path / "weights.pt")
    assert torch.isfinite(load_network(tmp_path / "weights.pt", "mlp:3-4-1:tanh")[2].bias).all()


def test_an_architecture_wider_than_any_network_is_refused_in_one_line():
    """mlp:2-99999999999999999999-1:tanh passed parsing and failed in torch.empty, with C++ frames."""
    with pytest.raises(ValueError, match=r"^layer width 99,999,999,999,999,999,999 in 'mlp:2-99999999999999999999-1:"
                                         r"tanh' is more than a network holds \(at most 10,000,000\)$"):
        parse_architecture("mlp:2-99999999999999999999-1:tanh")
    assert parse_architecture("mlp:2-10000000-1:tanh").widths == (2, 10**7, 1)


def test_a_training_checkpoint_is_told_which_entry_holds_the_weights(tmp_path):
    """{'model': state_dict, 'epoch': 3} was "holds a dict with keys ['model', 'epoch'], not a state_dict", with no
    way out named."""
    net = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    torch.save({"model": net.state_dict(), "epoch": 3}, tmp_path / "checkpoint.pt")
    with pytest.raises(ValueError, match=r"keys \['model', 'epoch'\], not a state_dict of named tensors \(a training "
                                         r"checkpoint\? its entry 'model' holds a state_dict: save that alone, "
                                         r"torch.save\(checkpoint\['model'\], 'net.pt'\)\)$"):
        load_network(tmp_path / "checkpoint.pt", "mlp:2-4-1:tanh")
    torch.save({"epoch": 3, "loss": [0.5]}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match=r"keys \['epoch', 'loss'\], not a state_dict of named tensors$"):
        load_network(tmp_path / "other.pt", "mlp:2-4-1:tanh")


@pytest.mark.parametrize("layout", ["sequential", "paper"])
def test_a_one_logit_binary_classifier_loads_as_the_two_logits_zero_and_z(tmp_path, layout):
    """':logit': a BCEWithLogitsLoss network (one output z, the class-1 logit) is the classifier softmax((0, z)):
    its class probabilities are (1 - sigmoid(z), sigmoid(z)), and srnet explains it as a classifier."""
    torch.manual_seed(0)
    one = build_mlp("mlp:3-5-1:tanh", layout=layout).double()
    path = tmp_path / "binary.pt"
    torch.save(one.state_dict(), path)
    x = torch.randn(40, 3, dtype=torch.float64)
    z = one(x)[:, 0]
    for arch in ("mlp:3-5-1:tanh:logit", "mlp:tanh:logit"):
        two = load_network(path, arch)
        torch.testing.assert_close(two(x), torch.stack([1 - torch.sigmoid(z), torch.sigmoid(z)], dim=1))
        assert plan_layers(two).is_classifier and plan_layers(two).widths[-1] == 2
    built = build_mlp("mlp:3-5-1:tanh:logit", layout=layout)
    assert [type(m).__name__ for m in built.modules()][-2:] == ["Linear", "Softmax"]
    with pytest.raises(ValueError, match=r"^':logit' is the head of a binary classifier of one output \(its class-1 "
                                         r"logit\); this network has 2 \(with one logit per class, use ':softmax'\)$"):
        parse_architecture("mlp:3-5-2:tanh:logit")
    torch.save(build_mlp("mlp:3-5-2:tanh", layout=layout).state_dict(), path)
    with pytest.raises(ValueError, match=r"^':logit' is the head of a binary classifier of one output .* these "
                                         r"weights give 2 outputs \(use ':softmax'\)$"):
        load_network(path, "mlp:tanh:logit")


def test_binary_classifier_wraps_a_one_logit_network_as_the_classifier_srnet_explains(tmp_path):
    """A torch network of one output z (BCEWithLogitsLoss) was explained as a regression of its logit; wrapped, it
    is softmax((0, z)), a classifier whose class-1 probability is sigmoid(z), in eager and TorchScript alike."""
    from srnet.networks import binary_classifier

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1))
    x = torch.randn(30, 3)
    wrapped = binary_classifier(net)
    z = net(x)[:, 0]
    torch.testing.assert_close(wrapped(x), torch.stack([1 - torch.sigmoid(z), torch.sigmoid(z)], dim=1))
    plan = plan_layers(wrapped)
    assert plan.is_classifier and plan.names == ("model.1", "logits") and plan.widths == (5, 2)
    # a BCELoss network's sigmoid is left out: the same classifier
    torch.testing.assert_close(binary_classifier(nn.Sequential(*net, nn.Sigmoid()))(x), wrapped(x))
    # the user's net untouched: its parameters trainable, its training flag (and BatchNorm's statistics) as they were
    assert net[0].weight.requires_grad and not wrapped.logits.weight.requires_grad
    normed = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 1)).train()
    binary_classifier(normed)
    assert normed.training and normed[1].num_batches_tracked.item() == 0
    scripted = torch.jit.script(wrapped)
    torch.testing.assert_close(scripted(x), wrapped(x))
    assert plan_layers(scripted).is_classifier
    with pytest.raises(ValueError, match=r"^binary_classifier wraps a network of one output per row \(its class-1 "
                                         r"logit\); this one gives \(2, 3\) for 2 rows"):
        binary_classifier(nn.Sequential(nn.Linear(3, 3)))
