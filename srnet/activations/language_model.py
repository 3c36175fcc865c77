"""A small byte-level language model whose MLP activation is any torch module.

What the transformer study (``experiments/transformer_activation.py``) and
the activation search with a language-model fitness need:

* a corpus: by default the English text of Python's own documentation that
  every CPython ships (``pydoc_data.topics``, about 465 KB), or any UTF-8
  text file (:func:`load_corpus`; an empty, binary or non-UTF-8 file is
  refused in one line);
* byte-level tokens (256 symbols, :func:`encode` / :func:`decode`) cut into
  windows of ``context + 1`` bytes (:func:`make_windows`): the first
  ``context`` are the inputs, the last ``context`` the targets;
* :class:`TinyGPT`, a decoder-only pre-LayerNorm transformer (learned
  positions, causal self-attention, an MLP ``Linear -> activation -> Linear``
  per block, tied input and output embeddings) sized by :class:`LMConfig`;
* training through the project's one loop, :func:`srnet.train.fit_network`
  (the windows are its rows; the loss is the mean cross-entropy of every
  next byte), validation perplexity ``exp(mean cross-entropy)``
  (:func:`perplexity`) and throughput (:func:`train_language_model`,
  :func:`eval_tokens_per_second`);
* :class:`LanguageModelScorer`, the fitness of
  :func:`srnet.activations.search_activation` (``scorer=``): the validation
  perplexity after a short, fixed training budget, the same initial weights
  and batch order for every candidate (common random numbers), cached by the
  formula's JSON; :func:`search_lm_activation` runs that search.
"""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from srnet.activations.programs import CHECK_RANGE
from srnet.activations.scorer import ActivationScorer
from srnet.activations.study_models import activation_module, resolve_device, seeded
from srnet.data import check_budget
from srnet.networks import in_eval_mode
from srnet.train import fit_network

VOCAB_SIZE = 256
#: The default corpus: the docs topics shipped with CPython (``pydoc_data.topics``).
DEFAULT_CORPUS = "pydoc"


# ------------------------------------------------------------------- corpus

def load_corpus(path=None) -> bytes:
    """The corpus as UTF-8 bytes.

    Parameters
    ----------
    path : str, Path or None
        A UTF-8 text file, or None (or ``"pydoc"``) for the text of Python's
        documentation topics (``pydoc_data.topics``: every topic, in sorted
        order of its name), which needs no download.

    Raises
    ------
    ValueError
        In one line, for a missing file, a folder, an empty file, a file with
        NUL bytes (binary data) or one that is not valid UTF-8.
    """
    if path is None or path == DEFAULT_CORPUS:
        from pydoc_data.topics import topics

        return "".join(topics[name] for name in sorted(topics)).encode("utf-8")
    path = Path(path)
    if not path.exists():
        raise ValueError(f"corpus file '{path}' does not exist")
    if not path.is_file():
        raise ValueError(f"corpus '{path}' is not a file")
    data = path.read_bytes()
    if not data.strip():
        raise ValueError(f"corpus file '{path}' is empty")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ValueError(f"corpus file '{path}' is not text: it holds NUL bytes (binary data), the first at "
                         f"byte {nul}")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"corpus file '{path}' is not UTF-8 text: invalid byte at position {error.start}") from None
    return data


def encode(text) -> np.ndarray:
    """Byte-level tokens (uint8) of a str (UTF-8) or bytes."""
    if isinstance(text, str):
        text = text.encode("utf-8")
    if not isinstance(text, (bytes, bytearray)):
        raise TypeError(f"encode takes str or bytes, got {type(text).__name__}")
    return np.frombuffer(bytes(text), dtype=np.uint8).copy()


def decode(tokens) -> str:
    """Text of byte tokens (invalid UTF-8 sequences become U+FFFD)."""
    values = np.asarray(tokens)
    if values.size and (values.min() < 0 or values.max() >= VOCAB_SIZE):
        raise ValueError(f"tokens must lie in [0, {VOCAB_SIZE}), got {values.min()}..{values.max()}")
    return values.astype(np.uint8).tobytes().decode("utf-8", errors="replace")


def split_tokens(tokens, validation: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """The first ``1 - validation`` of the tokens for training, the rest (a
    contiguous tail, never seen in training) for validation."""
    tokens = np.asarray(tokens)
    if tokens.ndim != 1:  # a 2-D array was split by rows, silently
        raise ValueError(f"tokens must be a 1-D sequence of byte ids (as encode() gives), got shape {tokens.shape}")
    if isinstance(validation, bool) or not isinstance(validation, numbers.Real) or not 0 < validation < 1:
        raise ValueError(f"validation must be a fraction in (0, 1), got {validation!r}")
    cut = int(round(len(tokens) * (1 - validation)))
    return tokens[:cut], tokens[cut:]


def window_bytes(context: int) -> int:
    """The bytes one window of ``context`` takes: its inputs and, one byte on, their next-byte targets (the
    shortest text :func:`make_windows` accepts)."""
    return context + 1


def make_windows(tokens, context: int, *, max_windows: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Non-overlapping windows: inputs ``(n, context)`` and next-byte targets
    ``(n, context)`` (int64), in corpus order.  ``max_windows`` keeps the
    first ones."""
    tokens = np.asarray(tokens)
    if tokens.ndim != 1 or (tokens.size and (tokens.dtype.kind not in "iub" and not (
            tokens.dtype.kind == "f" and np.all(np.isfinite(tokens)) and np.all(tokens == np.round(tokens))))):
        raise ValueError("tokens must be a 1-D sequence of whole numbers (byte ids, as encode() gives)")  # 1.5 -> 1
    if tokens.size and (tokens.min() < 0 or tokens.max() >= VOCAB_SIZE):  # was an IndexError deep in training
        raise ValueError(f"tokens must be byte ids in [0, {VOCAB_SIZE}) (as encode() gives), got "
                         f"{tokens.min():g}..{tokens.max():g}")
    context = check_budget("context", context, integer=True)
    max_windows = check_budget("max_windows", max_windows, allow_none=True, integer=True)  # 0 made none
    n = (len(tokens) - 1) // context
    if n < 1:
        count = f"{len(tokens)} byte" + ("" if len(tokens) == 1 else "s")
        raise ValueError(f"the text has {count}: too short for one window of {window_bytes(context)} bytes")
    if max_windows is not None:
        n = min(n, int(max_windows))
    span = torch.as_tensor(tokens[: n * context + 1].astype(np.int64))
    return span[:-1].reshape(n, context), span[1:].reshape(n, context)


# -------------------------------------------------------------------- model

@dataclass(frozen=True)
class LMConfig:
    """Size of :class:`TinyGPT` and how it is trained.

    ``epochs`` passes over ``max_train_windows`` windows (None: all) of
    ``context`` bytes, ``batch_size`` windows per Adam step at ``lr``.
    """

    context: int = 64
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    mlp_ratio: int = 4
    epochs: int = 1
    batch_size: int = 32
    lr: float = 3e-3
    max_train_windows: int | None = None

    def __post_init__(self):
        # one-line errors from the project's one checker; whole numbers are stored as int
        for name in ("context", "d_model", "n_layers", "n_heads", "mlp_ratio", "epochs", "batch_size"):
            object.__setattr__(self, name, check_budget(name, getattr(self, name), integer=True))
        object.__setattr__(self, "max_train_windows",
                           check_budget("max_train_windows", self.max_train_windows, allow_none=True, integer=True))
        object.__setattr__(self, "lr", check_budget("lr", self.lr))
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model ({self.d_model}) must be a multiple of n_heads ({self.n_heads})")

    def to_dict(self) -> dict:
        return asdict(self)


class MLP(nn.Module):
    """The transformer's feed-forward block: ``fc -> act -> proj``."""

    def __init__(self, d_model: int, hidden: int, activation):
        super().__init__()
        self.fc = nn.Linear(d_model, hidden)
        self.act = activation_module(activation)
        self.proj = nn.Linear(hidden, d_model)

    def forward(self, x):
        return self.proj(self.act(self.fc(x)))


class SelfAttention(nn.Module):
    """Causal multi-head self-attention."""

    def __init__(self, d_model: int, n_heads: int):
        super().__init__()
        self.n_heads = n_heads
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def forward(self, x):
        batch, length, width = x.shape
        q, k, v = self.qkv(x).split(width, dim=2)
        heads = [t.view(batch, length, self.n_heads, width // self.n_heads).transpose(1, 2) for t in (q, k, v)]
        y = F.scaled_dot_product_attention(*heads, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(batch, length, width))


class Block(nn.Module):
    """Pre-LayerNorm block: ``x + attn(ln1(x))``, then ``x + mlp(ln2(x))``."""

    def __init__(self, config: LMConfig, activation):
        super().__init__()
        self.ln1 = nn.LayerNorm(config.d_model)
        self.attn = SelfAttention(config.d_model, config.n_heads)
        self.ln2 = nn.LayerNorm(config.d_model)
        self.mlp = MLP(config.d_model, config.mlp_ratio * config.d_model, activation)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TinyGPT(nn.Module):
    """A decoder-only byte-level transformer: ``(batch, T)`` int64 -> logits ``(batch, T, 256)``.

    Every block's MLP applies its own copy of ``activation`` (a name of
    :data:`srnet.networks.ACTIVATIONS` or any module, e.g. an
    :class:`~srnet.activations.ExpressionActivation`).  Weights start as in
    GPT-2 (normal, std 0.02; residual projections scaled by the depth);
    seed them with :func:`~srnet.activations.seeded`.
    """

    def __init__(self, config: LMConfig = LMConfig(), activation="gelu"):
        super().__init__()
        _check_config(config)
        self.config = config
        self.token = nn.Embedding(VOCAB_SIZE, config.d_model)
        self.position = nn.Embedding(config.context, config.d_model)
        self.blocks = nn.ModuleList(Block(config, activation) for _ in range(config.n_layers))
        self.ln = nn.LayerNorm(config.d_model)
        self.apply(self._init)
        for name, parameter in self.named_parameters():
            if name.endswith("proj.weight"):
                nn.init.normal_(parameter, std=0.02 / math.sqrt(2 * config.n_layers))

    @staticmethod
    def _init(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        if idx.dtype not in (torch.int64, torch.int32) or idx.dim() != 2:  # (torch's embedding error, frames down)
            raise ValueError(f"TinyGPT reads (batch, T) token indices (int64 or int32), got a {idx.dim()}-D "
                             f"{idx.dtype} tensor")
        length = idx.shape[1]
        if length > self.config.context:
            raise ValueError(f"input of {length} tokens is longer than the context ({self.config.context})")
        x = self.token(idx) + self.position(torch.arange(length, device=idx.device))
        for block in self.blocks:
            x = block(x)
        return self.ln(x) @ self.token.weight.T  # tied output embedding


def build_language_model(config: LMConfig, activation="gelu", *, random_state: int = 0) -> TinyGPT:
    """A :class:`TinyGPT` whose initial weights depend only on ``random_state``
    (not on the activation, which holds no weights unless it is affine)."""
    return seeded(TinyGPT, random_state, config, activation)


# ----------------------------------------------------------------- training

def _check_config(config) -> None:
    if not isinstance(config, LMConfig):
        raise ValueError(f"config must be an LMConfig, got {type(config).__name__}")


def _check_windows(name: str, windows, who: str, context: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``windows = (inputs, targets)`` as :func:`make_windows` gives them, as int64 (torch's embedding and
    cross-entropy take no uint8 indices), else one line (``who`` needs them)."""
    shape = f"{name} must be (inputs, targets) of make_windows: two 2-D integer tensors of one shape"
    if not isinstance(windows, (tuple, list)) or len(windows) != 2:
        raise ValueError(shape)
    inputs, targets = windows
    integer = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)
    if not all(isinstance(t, torch.Tensor) and t.dim() == 2 and t.dtype in integer for t in (inputs, targets)):
        raise ValueError(shape)
    if inputs.shape[0] != targets.shape[0]:
        raise ValueError(f"{name} inputs have {inputs.shape[0]} windows but targets have {targets.shape[0]}")
    if inputs.shape != targets.shape:
        raise ValueError(shape)
    if inputs.shape[0] == 0 or inputs.shape[1] == 0:
        raise ValueError(f"{who} needs at least one {name} window, got none")
    if int(torch.minimum(inputs.min(), targets.min())) < 0 or int(torch.maximum(inputs.max(), targets.max())) >= \
            VOCAB_SIZE:
        raise ValueError(f"{name} holds token ids outside [0, {VOCAB_SIZE}): bytes, as encode() gives")
    if context is not None and inputs.shape[1] > context:  # refused only at the first training run, inside the search
        raise ValueError(f"{name} windows are {inputs.shape[1]} tokens, longer than the model's context "
                         f"({context}): make_windows(tokens, {context}) or a larger LMConfig(context=...)")
    return inputs.long(), targets.long()


def lm_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy (nats) of every next byte."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


@torch.no_grad()
def perplexity(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, *, batch_size: int = 64) -> float:
    """``exp`` of the mean cross-entropy over every target byte (inf when not finite).

    The model is measured in eval mode and given its training flags back.

    Raises
    ------
    ValueError
        In one line, when there are no windows (nothing to measure), or the
        inputs and targets are not windows of :func:`make_windows` (two 2-D
        integer tensors of one shape, byte ids).
    """
    inputs, targets = _check_windows("validation", (inputs, targets), "perplexity")
    batch_size = check_budget("batch_size", batch_size, integer=True)
    device = next(model.parameters()).device
    total, count = 0.0, 0
    with in_eval_mode(model):  # a model in training mode was left in eval mode
        for first in range(0, inputs.shape[0], batch_size):
            x = inputs[first : first + batch_size].to(device)
            y = targets[first : first + batch_size].to(device)
            total += float(lm_loss(model(x), y)) * y.numel()
            count += y.numel()
    mean = total / count
    return math.exp(mean) if math.isfinite(mean) and mean < 700 else math.inf


@dataclass
class TrainingRun:
    """What :func:`train_language_model` measured."""

    perplexity: float
    losses: list
    seconds: float
    tokens_per_s: float
    diverged: bool
    tokens: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def train_language_model(model: nn.Module, train: tuple, validation: tuple, config: LMConfig, *,
                         random_state: int = 0, device=None, stop_on_nonfinite: bool = True) -> TrainingRun:
    """Train ``model`` with :func:`srnet.train.fit_network` on the windows
    ``train = (inputs, targets)`` (the first ``config.max_train_windows``),
    then measure its perplexity on ``validation``.

    ``tokens`` counts the target bytes actually trained on (a run stopped
    early by a non-finite loss counts the batches before it only) and
    ``tokens_per_s`` is training throughput: those tokens per second of the
    loop (forward, backward and Adam step).
    """
    _check_config(config)
    # before the training: no windows was a ZeroDivisionError, and no validation windows an error after the training
    # validation windows wider than the model's context failed only after the whole training
    context = getattr(getattr(model, "config", None), "context", None)
    inputs, targets = _check_windows("train", train, "training", context)
    _check_windows("validation", validation, "perplexity", context)
    if config.max_train_windows is not None:
        inputs, targets = inputs[: config.max_train_windows], targets[: config.max_train_windows]
    device = next(model.parameters()).device if device is None else resolve_device(device)
    model = model.to(device)
    inputs, targets = inputs.to(device), targets.to(device)
    _synchronize(device)
    started = time.perf_counter()
    seen = [0, 0]  # target bytes of every batch the loss was computed on, of the last one

    def loss(logits, batch_targets):
        seen[0] += batch_targets.numel()
        seen[1] = batch_targets.numel()
        return lm_loss(logits, batch_targets)

    losses = fit_network(model, inputs, targets, loss, epochs=config.epochs, batch_size=config.batch_size,
                         lr=config.lr, random_state=random_state, stop_on_nonfinite=stop_on_nonfinite)
    _synchronize(device)
    seconds = time.perf_counter() - started
    diverged = bool(losses) and not math.isfinite(losses[-1])
    # fit_network stops on a non-finite loss before that batch's step: it was not trained on
    tokens = seen[0] - (seen[1] if diverged and stop_on_nonfinite else 0)
    value = math.inf if diverged else perplexity(model, *validation)
    return TrainingRun(value, [float(v) for v in losses], seconds, tokens / seconds if seconds > 0 else math.inf,
                       diverged, tokens)


@torch.no_grad()
def eval_tokens_per_second(model: nn.Module, inputs: torch.Tensor, *, batch_size: int = 64,
                           repeats: int = 3) -> float:
    """Inference throughput: tokens per second of the forward pass over
    ``inputs`` (the best of ``repeats`` timed passes, after one warm-up batch)."""
    batch_size = check_budget("batch_size", batch_size, integer=True)  # 0 was range()'s error
    repeats = check_budget("repeats", repeats, integer=True)  # 0 reported 0 tokens/s
    if not isinstance(inputs, torch.Tensor) or inputs.dim() != 2 or inputs.shape[0] == 0 or inputs.shape[1] == 0:
        raise ValueError("eval_tokens_per_second needs input windows: a 2-D tensor of at least one window")
    device = next(model.parameters()).device
    inputs = inputs.to(device)
    best = math.inf
    with in_eval_mode(model):  # a model in training mode was left in eval mode (its Dropout off from then on)
        model(inputs[:batch_size])
        for _ in range(repeats):
            _synchronize(device)
            started = time.perf_counter()
            for first in range(0, inputs.shape[0], batch_size):
                model(inputs[first : first + batch_size])
            _synchronize(device)
            best = min(best, time.perf_counter() - started)
    return inputs.numel() / best if best > 0 else math.inf


def _synchronize(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


# ------------------------------------------------------------------ fitness

class LanguageModelScorer(ActivationScorer):
    """Fitness of an activation formula: validation perplexity of a
    :class:`TinyGPT` trained briefly with it.

    The interface :func:`srnet.activations.search_activation` takes as
    ``scorer=``: the cache by the program's JSON, the counters and
    :meth:`fitness` / :meth:`activation` are
    :class:`~srnet.activations.scorer.ActivationScorer`'s; :meth:`train` is
    the language model's.  Every candidate starts from the same weights and
    sees the same batches (``random_state``): differences come from the
    activation.

    Parameters
    ----------
    train, validation : (inputs, targets)
        Windows from :func:`make_windows`.
    config : LMConfig
        The short training budget (``epochs``, ``max_train_windows``).
    random_state : int, default=0
    device : str or torch.device, default="cpu"
    check_range : (float, float), default=(-5, 5)
        Range on which formulas are checked and standardised
        (see :func:`~srnet.activations.make_activation`).
    max_validation_windows : int or None, default=None
        Score on the first windows of ``validation`` only (at least one).
    """

    metric = "validation perplexity"

    def __init__(self, train, validation, config: LMConfig, *, random_state: int = 0, device="cpu",
                 check_range=CHECK_RANGE, max_validation_windows: int | None = None):
        super().__init__(check_range=check_range)
        max_validation_windows = check_budget("max_validation_windows", max_validation_windows, allow_none=True,
                                              integer=True)
        _check_config(config)
        train, validation = (_check_windows(name, windows, "the scorer", config.context)  # tracebacks at training
                             for name, windows in (("train", train), ("validation", validation)))
        self.device = resolve_device(device)
        self.config = config
        self.train_windows = tuple(t.to(self.device) for t in train)
        self.validation = tuple(t[:max_validation_windows].to(self.device) for t in validation)
        self.seed = int(random_state)

    def train(self, activation) -> float:
        """Validation perplexity after the short training, inf if it diverged."""
        model = build_language_model(self.config, activation, random_state=self.seed).to(self.device)
        run = train_language_model(model, self.train_windows, self.validation, self.config, random_state=self.seed)
        return run.perplexity


def search_lm_activation(train, validation, config: LMConfig, *, random_state: int = 0, device="cpu",
                         max_validation_windows: int | None = None, **search):
    """:func:`srnet.activations.search_activation` scored by
    :class:`LanguageModelScorer`; ``search`` takes its budgets and genome
    space (``max_seconds``, ``max_generations``, ``max_evaluations``,
    ``n_offspring``, ``n_columns``, ``functions``, ...).

    Returns ``(found, scorer)``: the :class:`~srnet.activations.FoundActivation`
    (its ``details["fitness"]`` is the perplexity) and the scorer, whose
    :meth:`~LanguageModelScorer.ranked` lists every formula scored.
    """
    from srnet.activations.search import search_activation

    scorer = LanguageModelScorer(train, validation, config, random_state=random_state, device=device,
                                 max_validation_windows=max_validation_windows,
                                 check_range=search.get("check_range", CHECK_RANGE))
    found = search_activation(scorer=scorer, random_state=random_state, **search)
    return found, scorer


__all__ = ["DEFAULT_CORPUS", "VOCAB_SIZE", "LMConfig", "LanguageModelScorer", "TinyGPT", "TrainingRun",
           "activation_module", "build_language_model", "decode", "encode", "eval_tokens_per_second", "load_corpus",
           "lm_loss", "make_windows", "perplexity", "search_lm_activation", "split_tokens",
           "train_language_model", "window_bytes"]
