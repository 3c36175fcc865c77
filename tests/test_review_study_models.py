"""Review of the activation study's networks and the byte-level language model: each test failed before its fix."""

import math
import warnings

import numpy as np
import pytest
import torch
from test_language_model import _DivergesAfter as NaNAfter  # GELU, then NaN: a diverging activation

from srnet.activations.language_model import (
    LanguageModelScorer,
    LMConfig,
    TinyGPT,
    build_language_model,
    encode,
    eval_tokens_per_second,
    make_windows,
    perplexity,
    split_tokens,
    train_language_model,
)
from srnet.activations.mlp_block import ExplainedBlock, distil_block, principal_directions, probe_module
from srnet.activations.study_models import (
    evaluate_binary,
    fit_and_score,
    heavy_network,
    light_network,
    one_vs_rest,
    predict_logits,
    resolve_device,
    seeded,
    train_binary,
)
from srnet.formulas import linear_formula

TEXT = "the cat sat on the mat. the dog sat on the log. " * 20
TINY = LMConfig(context=16, d_model=16, n_layers=1, n_heads=2, epochs=1, batch_size=8, lr=1e-2)


def one_line(error) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def windows(context=16):
    return make_windows(encode(TEXT), context)


def binary_data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, (X[:, 0] > 0).astype(float)


class Counting(torch.nn.Module):
    """GELU that counts its forward passes (the copies the model holds share the count)."""

    def __init__(self, counter):
        super().__init__()
        self.counter = counter

    def forward(self, x):
        self.counter[0] += 1
        return torch.nn.functional.gelu(x)

    def __deepcopy__(self, memo):
        return Counting(self.counter)


# ------------------------------------------------------------ study models

@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_a_cuda_torch_device_without_cuda_is_refused_in_one_line():
    """torch.device("cuda") was returned as given; the first .to() raised torch's AssertionError."""
    with pytest.raises(ValueError, match="no CUDA device") as error:
        resolve_device(torch.device("cuda"))
    one_line(error)
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")


def test_a_nan_loss_stops_the_binary_training_with_one_line():
    """A NaN loss trained on silently (NaN weights), and fit_and_score reported the accuracy of NaN logits."""
    X, y = binary_data()
    model = seeded(light_network, 0, 3, NaNAfter(4))
    with pytest.raises(ValueError, match="training diverged") as error:
        train_binary(model, X, y, epochs=3, batch_size=16)
    one_line(error)
    # a study goes on past an activation that diverges: its scores are NaN and say so
    scores = fit_and_score(seeded(light_network, 0, 3, NaNAfter(4)), (X, y, X, y), epochs=3, batch_size=16)
    assert scores["diverged"] is True
    assert all(math.isnan(scores[k]) for k in ("accuracy", "roc_auc", "efficiency", "final_loss"))
    assert fit_and_score(seeded(light_network, 0, 3, "relu"), (X, y, X, y), epochs=1, batch_size=16)["diverged"] is False


def test_nan_features_are_refused_before_training():
    X, y = binary_data()
    X[5, 1] = math.nan
    with pytest.raises(ValueError, match="NaN") as error:
        train_binary(seeded(light_network, 0, 3), X, y, epochs=1)
    one_line(error)


def test_nan_logits_have_no_accuracy():
    """NaN > 0 is False: a NaN network was scored as predicting every row negative (accuracy = share of 0s)."""
    X, y = binary_data()
    model = light_network(3)
    with torch.no_grad():
        model[-1].bias.fill_(math.nan)
    scores = evaluate_binary(model, X, y)
    assert math.isnan(scores["accuracy"]) and math.isnan(scores["roc_auc"])


def test_nan_labels_are_not_a_class():
    """NaN became the 'positive class' of one_vs_rest and every label 0."""
    with pytest.raises(ValueError, match="labels must be finite") as error:
        one_vs_rest([0.0, 1.0, math.nan, math.nan])
    one_line(error)
    assert one_vs_rest([0, 1, 1, 2, 2, 2])[1] == 2


@pytest.mark.parametrize("build", [lambda: light_network(3, hidden=(0,)), lambda: light_network(0),
                                   lambda: heavy_network(3, hidden=(8, -1)), lambda: light_network(3, hidden=2.5),
                                   lambda: light_network(3, n_outputs=0)])
def test_network_widths_are_checked(build):
    """A width of 0 built a network of empty layers (its logits all the last bias)."""
    with pytest.raises(ValueError) as error:
        build()
    one_line(error)


def test_seeds_and_batch_sizes_are_whole_numbers():
    """seeded(.., 1.5) seeded 1; predict_logits(batch_size=0) was range()'s error."""
    with pytest.raises(ValueError, match="seed must be a whole number"):
        seeded(light_network, 1.5, 3)
    X, _ = binary_data()
    with pytest.raises(ValueError, match="batch_size must be > 0"):
        predict_logits(light_network(3), X, batch_size=0)
    first, again = seeded(light_network, np.int64(3), 3), seeded(light_network, 3, 3)
    assert all(torch.equal(a, b) for a, b in zip(first.parameters(), again.parameters()))


# ------------------------------------------------------------ language model

def test_tokens_outside_bytes_are_refused_when_windows_are_made():
    """Ids of 300 or -1 made windows that failed deep inside training (an IndexError of the embedding)."""
    for tokens in (np.array([300] * 40), np.array([-1] * 40)):
        with pytest.raises(ValueError, match=r"byte ids in \[0, 256\)") as error:
            make_windows(tokens, 4)
        one_line(error)


def test_split_tokens_takes_one_sequence():
    """A 2-D array was split by rows, silently."""
    with pytest.raises(ValueError, match="1-D"):
        split_tokens(np.zeros((4, 4), dtype=np.uint8))
    with pytest.raises(ValueError, match="fraction"):
        split_tokens(np.arange(10), "0.1")
    train, valid = split_tokens(np.arange(10), np.float32(0.2))
    assert len(train) == 8 and len(valid) == 2 and train[-1] + 1 == valid[0]  # a contiguous unseen tail


def test_perplexity_matches_a_hand_oracle_and_gives_the_training_mode_back():
    inputs, targets = windows()
    model = build_language_model(TINY, "gelu", random_state=0)
    model.train()
    value = perplexity(model, inputs, targets, batch_size=7)
    assert model.training and all(m.training for m in model.modules())  # was left in eval mode
    with torch.no_grad():
        model.eval()
        log_p = torch.log_softmax(model(inputs).double(), -1)
    by_hand = math.exp(-float(log_p.gather(-1, targets[..., None]).mean()))
    assert value == pytest.approx(by_hand, rel=1e-5)
    # uint8 windows are byte ids too (the embedding took none); floats, NumPy arrays and ids of 300 one line each
    assert perplexity(model, inputs.to(torch.uint8), targets.to(torch.uint8)) == pytest.approx(value, rel=1e-6)
    for bad in ((inputs.float(), targets), (inputs.numpy(), targets.numpy()), (inputs, targets + 300),
                (inputs, targets[:, :4]), (inputs[0], targets[0])):
        with pytest.raises(ValueError, match="validation") as error:
            perplexity(model, *bad)
        one_line(error)


def test_windows_and_config_are_checked_before_any_training():
    """No train windows was a ZeroDivisionError; no validation windows was refused after the whole training;
    a dict config an AttributeError."""
    inputs, targets = windows()
    counter = [0]
    model = build_language_model(TINY, Counting(counter), random_state=0)
    for train, validation, message in (((inputs[:0], targets[:0]), (inputs, targets), "at least one train window"),
                                       ((inputs, targets), (inputs[:0], targets[:0]), "at least one validation"),
                                       ((inputs, targets), [inputs], "validation must be")):
        with pytest.raises(ValueError, match=message) as error:
            train_language_model(model, train, validation, TINY)
        one_line(error)
    assert counter[0] == 0  # nothing was trained
    with pytest.raises(ValueError, match="config must be an LMConfig"):
        train_language_model(model, (inputs, targets), (inputs, targets), TINY.to_dict())
    with pytest.raises(ValueError, match="config must be an LMConfig"):
        TinyGPT({"context": 16})


def test_the_scorer_trains_on_uint8_windows():
    """uint8 windows passed the scorer's check, then failed at the first training run inside the search."""
    inputs, targets = windows()
    as_bytes = (inputs.to(torch.uint8), targets.to(torch.uint8))
    scorer = LanguageModelScorer(as_bytes, as_bytes, TINY, max_validation_windows=8)
    assert math.isfinite(scorer.train(torch.nn.GELU()))


def test_eval_tokens_per_second_refuses_empty_budgets():
    """repeats=0 reported 0 tokens/s; batch_size=0 was range()'s error."""
    inputs, _ = windows()
    model = build_language_model(TINY, "gelu", random_state=0)
    for kwargs, message in (({"repeats": 0}, "repeats"), ({"batch_size": 0}, "batch_size")):
        with pytest.raises(ValueError, match=message):
            eval_tokens_per_second(model, inputs, **kwargs)
    with pytest.raises(ValueError, match="at least one window"):
        eval_tokens_per_second(model, inputs[:0])
    assert eval_tokens_per_second(model, inputs[:4], repeats=1) > 0


def test_distillation_seed_is_a_whole_number():
    """random_state=1.5 was torch's 'manual_seed expected a long' RuntimeError."""
    inputs, _ = windows()
    model = build_language_model(TINY, "gelu", random_state=0)
    name = "blocks.0.mlp"
    X, Y = probe_module(model, model.get_submodule(name), inputs[:8])
    reduction_in, reduction_out = principal_directions(X, 2, whiten=True), principal_directions(Y, 2)
    block = ExplainedBlock(reduction_in, reduction_out,
                           linear_formula(reduction_in.transform(X), reduction_out.transform(Y)))
    for bad in (1.5, -1):
        with pytest.raises(ValueError, match="random_state") as error:
            distil_block(model, name, block, inputs[:8], inputs[8:16], steps=1, random_state=bad)
        one_line(error)


def test_test_rows_of_one_class_have_no_auc_and_no_warning():
    X, y = binary_data()
    model = seeded(light_network, 0, 3, "relu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scikit-learn's UndefinedMetricWarning
        scores = evaluate_binary(model, X[y == 1], y[y == 1])
    assert math.isnan(scores["roc_auc"]) and 0 <= scores["accuracy"] <= 1
