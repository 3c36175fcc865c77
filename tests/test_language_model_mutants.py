"""Tests that mutation testing of ``srnet/activations/language_model.py`` asked for.

mutmut 3.8.1 (``only_mutate = ["srnet/activations/language_model.py"]``, 686 mutants), each mutant run with
``-n 0 -x`` against tests/test_language_model.py, tests/test_review_study_models.py,
tests/test_activations_routes.py and tests/test_mlp_block_mutants.py.  Every test below kills survivors of that
run (named ``function__mutmut_N`` in its docstring) and passes on the real module: oracles written out by hand
(the transformer's forward pass, GPT-2's initial scales, the default corpus), fixed-seed identities between the
public entry points, and the exact one-line messages users read.  The test marked for CUDA kills the mutants that
only a GPU can tell apart (a tensor or module left on the CPU); it is skipped where torch has no CUDA device.
"""

import math
import time

import numpy as np
import pytest
import torch
from torch import nn

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

TEXT = "the cat sat on the mat. the dog sat on the log. " * 6  # 288 bytes
SMALL = LMConfig(context=8, d_model=8, n_layers=1, n_heads=2, epochs=1, batch_size=8, lr=1e-2)


def windows(context=8):
    return make_windows(encode(TEXT), context)  # 35 windows of 8


# ------------------------------------------------------------------- corpus

def test_the_default_corpus_is_every_pydoc_topic_in_name_order():
    """load_corpus__mutmut_6 joined the topics with "XXXX" between them."""
    from pydoc_data.topics import topics

    expected = "".join(topics[name] for name in sorted(topics)).encode("utf-8")
    assert load_corpus() == expected
    assert load_corpus("pydoc") == expected


@pytest.mark.parametrize("content, first", [(b"\x00leading nul", 0), (b"ab\x00cd\x00ef", 2)])
def test_a_nul_byte_anywhere_is_refused_and_the_first_one_is_named(tmp_path, content, first):
    """load_corpus__mutmut_23/24 (``nul > 0``, ``nul >= 1``) read a file starting with a NUL byte as text;
    load_corpus__mutmut_21 (``rfind``) named the last NUL byte, not the first."""
    path = tmp_path / "corpus.bin"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=rf"it holds NUL bytes \(binary data\), the first at byte {first}$"):
        load_corpus(path)


# ------------------------------------------------------------------ tokens

def test_encode_names_the_type_it_refuses():
    """encode__mutmut_7 said "got NoneType" whatever it was given."""
    with pytest.raises(TypeError, match=r"^encode takes str or bytes, got int$"):
        encode(5)
    with pytest.raises(TypeError, match=r"got list$"):
        encode([104, 105])


def test_decode_takes_every_byte_id_and_refuses_the_rest_by_its_range():
    """decode__mutmut_5/6 refused byte 0, decode__mutmut_7 took 256 (wrapped to 0), decode__mutmut_4 (``and``)
    took -1 and 300, decode__mutmut_8 lost the message."""
    assert decode([0, 65, 127]) == "\x00A\x7f"
    assert decode(np.array([], dtype=np.int64)) == ""
    for bad, shown in (([256], "256..256"), ([-1], "-1..-1"), ([65, 300], "65..300"), ([-1, 300], "-1..300")):
        with pytest.raises(ValueError, match=rf"^tokens must lie in \[0, 256\), got {shown}$"):
            decode(bad)


def test_decode_replaces_invalid_utf8_with_the_replacement_character():
    """decode__mutmut_12 raised UnicodeDecodeError (errors="strict"); decode__mutmut_16/17 a LookupError (an
    unknown error handler, looked up at the first invalid byte only)."""
    assert decode([104, 0xFF, 105]) == "h\ufffdi"
    assert decode(list("é".encode("utf-8"))[:1]) == "\ufffd"  # a cut multi-byte sequence


def test_split_tokens_defaults_to_a_tenth_and_takes_only_fractions_strictly_inside_0_1():
    """split_tokens__mutmut_1 defaulted to 1.1 (refused); __mutmut_12 took 0 (no validation), __mutmut_13 took 1
    (no training) and __mutmut_14 took 1.5 (a negative cut)."""
    train, validation = split_tokens(np.arange(50))
    assert list(train) == list(range(45)) and list(validation) == list(range(45, 50))
    for bad in (0, 0.0, 1, 1.0, 1.5):
        with pytest.raises(ValueError, match=rf"^validation must be a fraction in \(0, 1\), got {bad!r}$"):
            split_tokens(np.arange(50), bad)


# ------------------------------------------------------------------ windows

def test_make_windows_messages_name_what_is_wrong():
    """make_windows__mutmut_23 wrapped the message in XX; __mutmut_33/39/40 named the context None, XXcontextXX
    or CONTEXT; __mutmut_62/63 said the window was of context - 1 or context + 2 bytes."""
    with pytest.raises(ValueError, match=r"^tokens must be a 1-D sequence of whole numbers \(byte ids, as encode"):
        make_windows(np.arange(20) + 0.5, 4)
    with pytest.raises(ValueError, match=r"^context must be > 0, got 0$"):
        make_windows(encode("abcdef"), 0)
    with pytest.raises(ValueError, match=r"^context must be a whole number, got 2.5$"):
        make_windows(encode("abcdef"), 2.5)
    with pytest.raises(ValueError, match=r"^the text has 3 bytes: too short for one window of 4 bytes$"):
        make_windows(encode("abc"), 3)


def test_context_plus_one_bytes_make_exactly_one_window():
    """make_windows__mutmut_59/60 (``n <= 1``, ``n < 2``) refused a text of exactly one window."""
    inputs, targets = make_windows(encode("abcd"), 3)
    assert decode(inputs[0]) == "abc" and decode(targets[0]) == "bcd" and inputs.shape == (1, 3)
    inputs, targets = make_windows(encode("abcdefg"), 3)  # 7 bytes: two windows, the last byte a target only
    assert inputs.shape == (2, 3) and decode(targets[1]) == "efg"


def test_max_windows_keeps_the_first_windows_and_must_be_whole():
    """make_windows__mutmut_65..70 broke ``min(n, max_windows)`` (None, or a TypeError);
    __mutmut_46/50/54 (``integer`` not True) kept int(2.5) = 2 windows of max_windows=2.5."""
    every_input, every_target = make_windows(encode("abcdefghijklm"), 3)  # 4 windows
    inputs, targets = make_windows(encode("abcdefghijklm"), 3, max_windows=2)
    assert torch.equal(inputs, every_input[:2]) and torch.equal(targets, every_target[:2])
    inputs, _ = make_windows(encode("abcdefghijklm"), 3, max_windows=100)
    assert torch.equal(inputs, every_input)
    with pytest.raises(ValueError, match=r"^max_windows must be a whole number, got 2.5$"):
        make_windows(encode("abcdefghijklm"), 3, max_windows=2.5)


# -------------------------------------------------------------------- model

def test_config_stores_the_learning_rate_as_a_float():
    """LMConfig.__post_init__ mutmut_58/59 stored the checked lr under another name: lr=1 stayed an int."""
    config = LMConfig(lr=1)
    assert config.lr == 1.0 and type(config.lr) is float
    assert type(config.to_dict()["lr"]) is float and "XXlrXX" not in vars(config) and "LR" not in vars(config)


def _layer_norm(x, weight, bias):
    mean = x.mean(-1, keepdim=True)
    variance = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(variance + 1e-5) * weight + bias


def _forward_by_hand(model, idx):
    """TinyGPT's forward pass written out: pre-LayerNorm blocks, causal softmax attention head by head, an exact
    (erf) GELU MLP and the tied output embedding, in float64 from the model's own weights."""
    W = {name: value.detach().double() for name, value in model.state_dict().items()}
    config, length = model.config, idx.shape[1]
    width, heads = config.d_model, config.n_heads
    size = width // heads
    x = W["token.weight"][idx] + W["position.weight"][:length]
    future = torch.ones(length, length, dtype=torch.bool).triu(1)
    for i in range(config.n_layers):
        p = f"blocks.{i}."
        h = _layer_norm(x, W[p + "ln1.weight"], W[p + "ln1.bias"])
        qkv = h @ W[p + "attn.qkv.weight"].T + W[p + "attn.qkv.bias"]
        q, k, v = qkv[..., :width], qkv[..., width : 2 * width], qkv[..., 2 * width :]
        out = torch.zeros_like(q)
        for head in range(heads):
            cols = slice(head * size, (head + 1) * size)
            scores = q[..., cols] @ k[..., cols].transpose(-1, -2) / math.sqrt(size)
            out[..., cols] = scores.masked_fill(future, -math.inf).softmax(-1) @ v[..., cols]
        x = x + out @ W[p + "attn.proj.weight"].T + W[p + "attn.proj.bias"]
        h = _layer_norm(x, W[p + "ln2.weight"], W[p + "ln2.bias"])
        hidden = h @ W[p + "mlp.fc.weight"].T + W[p + "mlp.fc.bias"]
        hidden = 0.5 * hidden * (1 + torch.erf(hidden / math.sqrt(2)))
        x = x + hidden @ W[p + "mlp.proj.weight"].T + W[p + "mlp.proj.bias"]
    return _layer_norm(x, W["ln.weight"], W["ln.bias"]) @ W["token.weight"].T


def test_the_forward_pass_matches_a_transformer_written_out_by_hand():
    """Oracle.  SelfAttention.forward mutmut_25/43 (``transpose(1, 3)``) and mutmut_42 (``transpose(2, 2)``)
    mixed heads and positions, mutmut_29/30 dropped the causal mask, Block.forward mutmut_2/5 subtracted a
    branch from the residual stream, TinyGPT.forward mutmut_11 subtracted the positions."""
    config = LMConfig(context=8, d_model=12, n_layers=2, n_heads=3)
    model = build_language_model(config, "gelu", random_state=0).double()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():  # weights of order one (GPT-2's 0.02 makes every branch nearly vanish)
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator, dtype=torch.float64) * 0.5)
    idx = torch.randint(0, 256, (3, 7), generator=generator)
    model.eval()
    with torch.no_grad():
        logits = model(idx)
    assert logits.shape == (3, 7, 256)
    torch.testing.assert_close(logits, _forward_by_hand(model, idx), rtol=1e-9, atol=1e-9)
    # causal: a later byte leaves the logits of earlier positions as they were
    changed = idx.clone()
    changed[:, 5] = (changed[:, 5] + 1) % 256
    with torch.no_grad():
        again = model(changed)
    torch.testing.assert_close(again[:, :5], logits[:, :5], rtol=0, atol=1e-12)
    assert not torch.allclose(again[:, 5:], logits[:, 5:])


def test_initial_weights_follow_gpt2_scales():
    """TinyGPT.__init__ mutmut_26/27 (the suffix misspelt) left the residual projections at std 0.02,
    mutmut_31 used std 1, mutmut_32/35/36 std 0.02 * sqrt(2 L), 0.02 / sqrt(2 / L) or 0.02 / sqrt(3 L)."""
    config = LMConfig(context=16, d_model=32, n_layers=2, n_heads=2)
    model = build_language_model(config, "gelu", random_state=0)
    residual = 0.02 / math.sqrt(2 * config.n_layers)  # 0.01
    checked = 0
    for name, parameter in model.named_parameters():
        values = parameter.detach()
        if name.endswith("proj.weight"):
            assert float(values.std()) == pytest.approx(residual, rel=0.08), name
            checked += 1
        elif name.endswith("weight") and values.dim() == 2:
            assert float(values.std()) == pytest.approx(0.02, rel=0.08), name
        elif ".ln" in f".{name}":
            assert torch.all(values == (1.0 if name.endswith("weight") else 0.0)), name
        else:
            assert torch.all(values == 0), name  # Linear biases
    assert checked == 2 * config.n_layers  # attn.proj and mlp.proj of every block


def test_build_language_model_defaults_to_gelu_and_seed_0():
    """build_language_model__mutmut_1/2 defaulted to an unknown activation name, __mutmut_3 to seed 1."""
    default = build_language_model(SMALL)
    explicit = build_language_model(SMALL, "gelu", random_state=0)
    assert isinstance(default.blocks[0].mlp.act, nn.GELU)
    for (name, a), (_, b) in zip(default.state_dict().items(), explicit.state_dict().items()):
        assert torch.equal(a, b), name


def test_a_config_that_is_not_an_lmconfig_is_named_by_its_type():
    """_check_config__mutmut_3 said "got NoneType" whatever the config was."""
    with pytest.raises(ValueError, match=r"^config must be an LMConfig, got dict$"):
        TinyGPT({"context": 8})


# -------------------------------------------------------------- evaluation

def test_windows_of_one_byte_are_measured_and_byte_256_is_refused():
    """_check_windows__mutmut_31 refused windows one token wide; __mutmut_46 (``> 256``) took byte id 256
    (torch's IndexError deep in the embedding)."""
    model = build_language_model(SMALL, "gelu", random_state=0)
    inputs, targets = make_windows(encode("abcdefgh"), 1)
    assert inputs.shape == (7, 1)
    with torch.no_grad():
        log_p = torch.log_softmax(model.eval()(inputs).double(), -1)
    by_hand = math.exp(-float(log_p.gather(-1, targets[..., None]).mean()))
    assert perplexity(model, inputs, targets) == pytest.approx(by_hand, rel=1e-5)
    bad = targets.clone()
    bad[0, 0] = 256
    with pytest.raises(ValueError, match=r"^validation holds token ids outside \[0, 256\): bytes"):
        perplexity(model, inputs, bad)


# ---------------------------------------------------------------- training

def test_training_and_validation_windows_are_refused_by_who_needs_them():
    """train_language_model__mutmut_7/13/14 and __mutmut_17/23/24 named None, XX...XX or upper case as who
    needed the windows."""
    inputs, targets = windows()
    model = build_language_model(SMALL, "gelu", random_state=0)
    with pytest.raises(ValueError, match=r"^training needs at least one train window, got none$"):
        train_language_model(model, (inputs[:0], targets[:0]), (inputs, targets), SMALL)
    with pytest.raises(ValueError, match=r"^perplexity needs at least one validation window, got none$"):
        train_language_model(model, (inputs, targets), (inputs[:0], targets[:0]), SMALL)


def test_the_training_seed_defaults_to_0_and_reaches_the_batch_order():
    """train_language_model__mutmut_1 defaulted to seed 1; __mutmut_69 did not pass the seed on (every seed
    shuffled as seed 0).  __mutmut_73 (``perf_counter() + started``) reported hours for a run of milliseconds."""
    train = windows()

    def run(**seed):
        model = build_language_model(SMALL, "gelu", random_state=0)
        return train_language_model(model, train, train, SMALL, **seed)

    started = time.perf_counter()
    default = run()
    elapsed = time.perf_counter() - started
    assert 0 < default.seconds <= elapsed
    assert default.tokens_per_s == pytest.approx(default.tokens / default.seconds)
    zero, one = run(random_state=0), run(random_state=1)
    assert default.losses == zero.losses and default.perplexity == zero.perplexity
    assert one.losses != zero.losses and one.perplexity != zero.perplexity
    assert one.tokens == zero.tokens == train[0].numel()


def test_a_run_timed_at_zero_seconds_reports_infinite_throughput(monkeypatch):
    """train_language_model__mutmut_109 (``or True``) and __mutmut_111 (``>= 0``) divided by zero seconds.  A
    real run never takes 0 s on the clock, so the clock is held still."""
    train = windows()
    model = build_language_model(SMALL, "gelu", random_state=0)
    monkeypatch.setattr(time, "perf_counter", lambda: 100.0)
    run = train_language_model(model, train, train, SMALL)
    assert run.seconds == 0 and run.tokens_per_s == math.inf and run.tokens == train[0].numel()


def test_the_training_device_is_checked_and_used():
    """train_language_model__mutmut_29 ignored ``device`` (an unknown device trained on the model's);
    __mutmut_32 resolved None instead of the device given (device="cpu" was refused)."""
    train = windows()
    model = build_language_model(SMALL, "gelu", random_state=0)
    with pytest.raises(ValueError, match=r"^device must name a torch device"):
        train_language_model(model, train, train, SMALL, device="no-such-device")
    run = train_language_model(model, train, train, SMALL, device="cpu")
    assert math.isfinite(run.perplexity) and next(model.parameters()).device.type == "cpu"


def test_a_training_run_is_a_dict_of_its_fields():
    """TrainingRun.to_dict__mutmut_1 (``asdict(None)``) had no test reaching it."""
    train = windows()
    run = train_language_model(build_language_model(SMALL, "gelu", random_state=0), train, train, SMALL)
    assert run.to_dict() == {"perplexity": run.perplexity, "losses": run.losses, "seconds": run.seconds,
                             "tokens_per_s": run.tokens_per_s, "diverged": False, "tokens": train[0].numel()}


# ------------------------------------------------------------------ fitness

def test_the_scorer_defaults_and_messages():
    """LanguageModelScorer.__init__ mutmut_1 defaulted to seed 1, mutmut_34 kept no device, mutmut_22/28/29
    named None, XX...XX or upper case as who needed the windows."""
    train = windows()
    scorer = LanguageModelScorer(train, train, SMALL)
    assert scorer.seed == 0 and scorer.device == torch.device("cpu")
    with pytest.raises(ValueError, match=r"^the scorer needs at least one train window, got none$"):
        LanguageModelScorer(tuple(t[:0] for t in train), train, SMALL)
    with pytest.raises(ValueError, match=r"^the scorer needs at least one validation window, got none$"):
        LanguageModelScorer(train, tuple(t[:0] for t in train), SMALL)


def test_the_scorer_builds_and_trains_with_its_own_seed():
    """Oracle: a scorer's score is the perplexity of train_language_model on a model built with its seed.
    LanguageModelScorer.train mutmut_8 built every model with seed 0, mutmut_19 shuffled with seed 0."""
    train = windows()
    validation = tuple(t[:5] for t in train)
    scorer = LanguageModelScorer(train, train, SMALL, random_state=1, max_validation_windows=5)
    value = scorer.train(nn.GELU())
    model = build_language_model(SMALL, nn.GELU(), random_state=1)
    assert value == train_language_model(model, train, validation, SMALL, random_state=1).perplexity
    seed_0 = train_language_model(build_language_model(SMALL, nn.GELU(), random_state=0), train, validation, SMALL,
                                  random_state=1)
    assert value != seed_0.perplexity


SEARCH = dict(max_evaluations=2, n_offspring=1, max_seconds=None)
TINY_TRAINING = LMConfig(context=8, d_model=8, n_layers=1, n_heads=2, epochs=1, batch_size=8, lr=1e-2,
                         max_train_windows=8)


def test_the_search_builds_its_scorer_from_its_arguments():
    """search_lm_activation__mutmut_1 defaulted to seed 1, __mutmut_15 gave the scorer seed 0 whatever the
    search's, __mutmut_10/17 dropped max_validation_windows, __mutmut_18/19/23/24 the check range."""
    train = windows()
    _, scorer = search_lm_activation(train, train, TINY_TRAINING, **SEARCH)
    assert scorer.seed == 0 and scorer.validation[0].shape[0] == train[0].shape[0]
    assert scorer.check_range == (-5.0, 5.0)
    _, scorer = search_lm_activation(train, train, TINY_TRAINING, random_state=3, max_validation_windows=4,
                                     check_range=(-2, 3), **SEARCH)
    assert scorer.seed == 3 and scorer.check_range == (-2.0, 3.0)
    assert scorer.validation[0].shape == scorer.validation[1].shape == (4, 8)


def test_a_search_seed_repeats_the_search():
    """search_lm_activation__mutmut_27/29 did not pass the seed to search_activation: every search started from
    its own random genome."""
    train = windows()
    first, scorer = search_lm_activation(train, train, TINY_TRAINING, random_state=5, **SEARCH)
    again, rescored = search_lm_activation(train, train, TINY_TRAINING, random_state=5, **SEARCH)
    assert list(scorer.cache) == list(rescored.cache) and list(scorer.cache.values()) == list(rescored.cache.values())
    assert first.source == again.source and first.details["fitness"] == again.details["fitness"]


# --------------------------------------------------------------------- CUDA

class _Where(nn.Module):
    """GELU that records the device of what it is given (in a class list: the model holds a deep copy)."""

    devices: list = []

    def forward(self, x):
        _Where.devices.append(x.device.type)
        return nn.functional.gelu(x)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_cuda_the_model_its_windows_and_the_scorer_s_runs_are_on_the_device():
    """Mutants a CPU cannot tell apart: TinyGPT.forward mutmut_15/17 (positions made on the CPU),
    train_language_model__mutmut_34/36/37 (the model or windows left on the CPU), LanguageModelScorer.__init__
    mutmut_39/42 (windows kept on the CPU), LanguageModelScorer.train mutmut_2 (the model trained on the CPU),
    search_lm_activation__mutmut_16 (the device not passed on)."""
    train = windows()
    model = build_language_model(SMALL, "gelu", random_state=0)  # on the CPU, as are the windows
    run = train_language_model(model, train, train, SMALL, device="cuda")
    assert math.isfinite(run.perplexity) and next(model.parameters()).device.type == "cuda"
    scorer = LanguageModelScorer(train, train, SMALL, device="cuda")
    assert all(t.device.type == "cuda" for t in scorer.train_windows + scorer.validation)
    _Where.devices.clear()
    assert math.isfinite(scorer.train(_Where()))
    assert _Where.devices and set(_Where.devices) == {"cuda"}
    _, searched = search_lm_activation(train, train, TINY_TRAINING, device="cuda", **SEARCH)
    assert searched.device.type == "cuda"


def test_validation_windows_wider_than_the_context_are_refused_before_any_training():
    """Found by mutation testing: they passed the check before training, the whole training ran, and only then
    did the model refuse them ("input of 16 tokens is longer than the context (8)")."""
    model = build_language_model(SMALL)
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(ValueError, match=r"^validation windows are 16 tokens, longer than the model's context \(8\)"):
        train_language_model(model, windows(8), windows(16), SMALL)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # not one training step taken
