"""The byte-level language model, its activation-search fitness, and the explained MLP block."""

import math

import numpy as np
import pytest
import sympy
import torch

from srnet.activations import program_from_sympy, search_activation
from srnet.activations.language_model import (
    LanguageModelScorer,
    LMConfig,
    TinyGPT,
    build_language_model,
    decode,
    encode,
    load_corpus,
    make_windows,
    perplexity,
    search_lm_activation,
    split_tokens,
    train_language_model,
)
from srnet.activations.mlp_block import (
    ExplainedBlock,
    explain_block,
    principal_directions,
    probe_module,
    replace_module,
)
from srnet.metrics import rmse_r2

TEXT = "the cat sat on the mat. the dog sat on the log. " * 40
TINY = LMConfig(context=16, d_model=16, n_layers=1, n_heads=2, epochs=6, batch_size=8, lr=1e-2)
x = sympy.Symbol("x", real=True)


def tiny_windows(text=TEXT, context=16):
    return make_windows(encode(text), context)


# ------------------------------------------------------------------- corpus

def test_default_corpus_is_pythons_documentation():
    corpus = load_corpus()
    assert len(corpus) > 100_000
    assert b"assert" in corpus and b"\x00" not in corpus
    assert decode(encode(corpus[:1000])) == corpus[:1000].decode("utf-8")


def test_bytes_round_trip_with_non_ascii_text():
    text = "naïve café — ∑x²"
    tokens = encode(text)
    assert tokens.dtype == np.uint8 and len(tokens) == len(text.encode("utf-8"))
    assert decode(tokens) == text


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b" \n\t\n", "is empty"),
    (b"text\x00\x01\x02 more", "not text: it holds NUL bytes"),
    (b"caf\xe9 au lait", "not UTF-8 text: invalid byte at position 3"),
])
def test_bad_corpus_files_get_one_clear_line(tmp_path, content, message):
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as error:
        load_corpus(path)
    assert "\n" not in str(error.value) and str(path) in str(error.value)


def test_missing_corpus_or_folder_is_refused(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_corpus(tmp_path / "nope.txt")
    with pytest.raises(ValueError, match="is not a file"):
        load_corpus(tmp_path)


def test_a_user_text_file_is_read(tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text("hello, world\n", encoding="utf-8")
    assert load_corpus(path) == b"hello, world\n"


def test_windows_hold_next_byte_targets():
    inputs, targets = make_windows(encode("abcdefghij"), 3)
    assert inputs.shape == targets.shape == (3, 3)
    assert decode(inputs[0]) == "abc" and decode(targets[0]) == "bcd"
    assert decode(inputs[2]) == "ghi" and decode(targets[2]) == "hij"
    with pytest.raises(ValueError, match="too short"):
        make_windows(encode("ab"), 3)


def test_validation_is_the_unseen_tail():
    train, validation = split_tokens(np.arange(100), 0.1)
    assert list(validation) == list(range(90, 100)) and len(train) == 90


# -------------------------------------------------------------------- model

def test_loss_falls_on_a_tiny_corpus():
    windows = tiny_windows()
    model = build_language_model(TINY, "gelu", random_state=0)
    untrained = perplexity(model, *windows)
    assert 100 < untrained < 600  # about uniform over 256 bytes
    run = train_language_model(model, windows, windows, TINY, random_state=0)
    assert run.losses[-1] < 0.5 * run.losses[0]
    assert run.perplexity < 5 and not run.diverged
    assert run.tokens_per_s > 0


def test_initial_weights_depend_on_the_seed_not_the_activation():
    first = build_language_model(TINY, "gelu", random_state=3)
    second = build_language_model(TINY, torch.nn.SiLU(), random_state=3)
    for (name, a), (_, b) in zip(first.state_dict().items(), second.state_dict().items()):
        assert torch.equal(a, b), name
    assert isinstance(first.blocks[0].mlp.act, torch.nn.GELU)
    with pytest.raises(ValueError, match="longer than the context"):
        first(torch.zeros((1, 17), dtype=torch.long))


def test_config_is_validated():
    with pytest.raises(ValueError, match="multiple of n_heads"):
        LMConfig(d_model=10, n_heads=4)
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        LMConfig(epochs=0)


# ------------------------------------------------------------------ fitness

def scorer(seed=0):
    windows = tiny_windows()
    config = LMConfig(context=16, d_model=16, n_layers=1, n_heads=2, epochs=1, batch_size=8, lr=1e-2)
    return LanguageModelScorer(windows, windows, config, random_state=seed)


def test_fitness_is_deterministic_for_a_seed_and_cached():
    program = program_from_sympy(x * sympy.tanh(x), [x])
    first = scorer()
    value = first.fitness(program)
    assert math.isfinite(value) and value > 1
    assert first.fitness(program) == value
    assert (first.trained, first.hits, first.rejected) == (1, 1, 0)
    assert scorer().fitness(program) == value  # a new scorer, same seed: the same number
    assert scorer(seed=1).fitness(program) != value
    other = program_from_sympy(sympy.sin(x), [x])
    assert first.fitness(other) != value
    assert [v for v, _ in first.ranked()] == sorted([value, first.fitness(other)])


def test_a_degenerate_formula_costs_no_training():
    first = scorer()
    assert first.fitness(program_from_sympy(x - x + 2, [x], protected=True)) == math.inf
    assert (first.trained, first.rejected) == (0, 1)


def test_the_activation_search_runs_on_the_language_model_fitness():
    windows = tiny_windows()
    config = LMConfig(context=16, d_model=16, n_layers=1, n_heads=2, epochs=1, batch_size=16, lr=1e-2)
    found, used = search_lm_activation(windows, windows, config, random_state=0, max_evaluations=4, n_offspring=2,
                                       max_seconds=None)
    assert 1 <= used.trained <= 5  # the first parent, then at most 4 offspring runs
    assert found.details["training_runs"] == used.trained
    # the parent is the best formula met: its perplexity is the lowest scored
    assert found.details["fitness"] == used.ranked()[0][0]
    assert found.activation(torch.linspace(-3, 3, 7)).shape == (7,)


def test_search_without_data_or_scorer_is_refused():
    with pytest.raises(ValueError, match="or a scorer"):
        search_activation(max_evaluations=1)


# ---------------------------------------------------------------- MLP block

def test_principal_directions_match_the_covariance_eigenvectors():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 4)) @ np.diag([3.0, 2.0, 1.0, 0.5]) @ np.linalg.qr(rng.normal(size=(4, 4)))[0]
    reduction = principal_directions(X, 2, whiten=True)
    values, vectors = np.linalg.eigh(np.cov(X.T))
    for j, column in enumerate((3, 2)):
        assert abs(abs(reduction.components[j] @ vectors[:, column]) - 1) < 1e-9
    np.testing.assert_allclose(reduction.explained, values[[3, 2]] / values.sum())
    np.testing.assert_allclose(reduction.transform(X).std(axis=0, ddof=1), 1.0)
    with pytest.raises(ValueError, match="exceeds"):
        principal_directions(X, 5)


@pytest.mark.slow
def test_a_low_rank_block_is_recovered_through_its_directions():
    """Oracle: the block's output is a known formula of two input directions."""
    rng = np.random.default_rng(1)
    basis = np.linalg.qr(rng.normal(size=(6, 6)))[0]
    Z = rng.normal(size=(1500, 2))
    X = np.hstack([Z * [2.0, 1.5], 0.05 * rng.normal(size=(1500, 4))]) @ basis.T + 0.3
    out = np.linalg.qr(rng.normal(size=(5, 5)))[0][:2]
    Y = np.column_stack([np.sin(Z[:, 0]), Z[:, 0] * Z[:, 1]]) @ (out * [[2.0], [1.0]]) - 0.1
    explanation = explain_block(X, Y, n_inputs=2, n_outputs=2, max_seconds=3, random_state=0, n_threads=1,
                                simplify_seconds=0.5)
    assert explanation.r2_block > 0.98  # (sin z0, z0 z1) found in 3 s; the best linear map reaches ~0.5
    assert explanation.r2_block > explanation.r2_linear + 0.1
    assert len(explanation.formulas) == 2


@pytest.mark.slow
def test_the_replacement_reproduces_the_block_within_the_reported_r2():
    windows = tiny_windows()
    model = build_language_model(TINY, "gelu", random_state=0)
    train_language_model(model, windows, windows, TINY, random_state=0)
    name = "blocks.0.mlp"
    X, Y = probe_module(model, model.get_submodule(name), windows[0], max_rows=1200)
    assert X.shape == Y.shape == (1200, 16)
    with torch.no_grad():  # the probe is the block's own input -> output
        np.testing.assert_allclose(model.get_submodule(name)(torch.as_tensor(X, dtype=torch.float32)).numpy(), Y,
                                   atol=1e-5)
    explanation = explain_block(X, Y, n_inputs=3, n_outputs=3, max_seconds=2, random_state=0, n_threads=1,
                                simplify_seconds=0.5)
    assert isinstance(explanation.module, ExplainedBlock)
    with torch.no_grad():
        replaced = explanation.module(torch.as_tensor(X, dtype=torch.float32)).double().numpy()
    assert rmse_r2(Y, replaced)[1] == pytest.approx(explanation.r2_block, abs=1e-4)
    assert 0 < explanation.r2_block <= explanation.r2_ceiling + 1e-9
    # in the model's place: same shapes, the original left untouched
    swapped = replace_module(model, name, explanation.module)
    assert isinstance(swapped.blocks[0].mlp, ExplainedBlock) and not isinstance(model.blocks[0].mlp, ExplainedBlock)
    assert math.isfinite(perplexity(swapped, *windows))
    with pytest.raises(ValueError, match="no submodule"):
        replace_module(model, "blocks.7.mlp", explanation.module)


def test_tinygpt_runs_a_batch_of_any_length_up_to_its_context():
    model = TinyGPT(TINY)
    assert model(torch.zeros((2, 5), dtype=torch.long)).shape == (2, 5, 256)
