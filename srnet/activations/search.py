"""Route 3: evolve an activation, scored by training a small network with it.

A (1+lambda) strategy over one-input CGP genomes (the engine's genome arrays
and its single-active-gene mutation kernel), stepped by the one driver
(:func:`srnet.cgp.driver.run`) a generation at a time, in Python because the
fitness is not a formula's error but the validation loss of a network:

1. each offspring's active graph becomes a one-variable program, which is
   checked (constant / non-finite -> rejected at no training cost) and
   standardised (zero mean, unit variance for x ~ N(0, 1));
2. a light network (:func:`~srnet.activations.study_models.light_network`)
   with that activation is trained briefly on a subsample, with the same
   initial weights and batch order for every candidate (common random
   numbers: differences come from the activation);
3. its validation loss is the fitness, cached by the program's JSON (the
   compact active graph), so a formula met again costs nothing.

Offspring whose mutation touched no active gene compute the parent's formula
and are skipped; ties favour the offspring (neutral drift, as in the engine).
The wall budget is checked before every training run, so the search overruns
it by at most one run.
"""

from __future__ import annotations

import math
import numbers
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from srnet.activations.module import affine_values
from srnet.activations.programs import CHECK_RANGE, VARIABLE, DegenerateActivationError, check_range_bounds
from srnet.activations.routes import FoundActivation, make_activation, raw_text, subsample_rows
from srnet.activations.scorer import ActivationScorer
from srnet.activations.study_models import light_network, resolve_device, seeded
from srnet.cgp import _kernels
from srnet.cgp.driver import Limits, Progress, check_budgets, run
from srnet.cgp.evolve import check_offspring, seed_from
from srnet.cgp.genome import DEFAULT_CONSTANT_POOL, Genome, GenomeSpec
from srnet.cgp.primitives import ARITIES
from srnet.data import check_binary_labels, check_budget, check_matrix, check_vector, counted
from srnet.expr.program import Program
from srnet.train import fit_network

#: Functions of the search: smooth, cheap, and able to make the usual shapes
#: (x*sigmoid(x), tanh, softplus-like, periodic).
SEARCH_FUNCTIONS = ("add", "sub", "mul", "div", "square", "sin", "cos", "exp", "tanh", "sigmoid", "log", "sqrt")
TASKS = ("binary", "regression")
#: Generations in a row whose offspring were all met before (cached) or degenerate, after which the search
#: stops ("exhausted"): a small genome space with only ``max_evaluations`` as budget looped forever.
EXHAUSTED_AFTER = 1000


class _ActivationSearch:
    """The (1+lambda) strategy over one-input genomes, for :func:`srnet.cgp.driver.run`.

    One generation per step: the engine's single-active-gene mutation makes
    lambda offspring; those whose mutation touched an active gene are scored
    (one training run each, unless cached), the budget checked before each
    run, so a step overruns the wall budget by at most one run; ties favour
    the offspring (neutral drift lets the search cross plateaus).
    """

    def __init__(self, spec: GenomeSpec, scorer, parent: Genome, n_offspring: int, run_seed: int,
                 trained_before: int = 0):
        self.spec, self.scorer, self.run_seed = spec, scorer, run_seed
        # ``trained_before``: the scorer's runs before this search's random start.  A scorer reused from an
        # earlier search (its cache is the point of reusing it) counts that search's runs too: max_evaluations
        # was spent before the first generation, and the details added both searches' runs
        self.trained_before = trained_before
        self.parent, self.fitness = parent, scorer.fitness(Program.from_genome(parent))
        self.generation = 0
        self.grid = spec.grid()
        self.nodes = np.empty((n_offspring, spec.n_nodes, 3), dtype=np.int32)
        self.outputs = np.empty((n_offspring, 1), dtype=np.int32)
        self.constants = np.empty((n_offspring, spec.n_constants), dtype=np.int32)
        self.changed = np.empty(n_offspring, dtype=np.bool_)
        self.idle, self.exhausted = 0, False  # generations in a row without a training run (see EXHAUSTED_AFTER)

    @property
    def evaluations(self) -> int:
        """Training runs of this search (cache hits and rejected formulas are free)."""
        return self.scorer.trained - self.trained_before

    def step(self, limits: Limits) -> None:
        parent = self.parent
        _kernels.mutate(self.grid, self.spec.function_codes, ARITIES, parent.nodes, parent.outputs,
                        parent.constants, _kernels.MUTATION_SINGLE_ACTIVE, 0.0, self.run_seed, self.generation,
                        self.nodes, self.outputs, self.constants, self.changed)
        started_with = self.scorer.trained
        best_child, best_fitness = None, math.inf
        try:  # a Ctrl-C during a training run keeps the offspring already scored (each run can take minutes)
            for i in np.flatnonzero(self.changed):
                if limits.out_of_time():
                    break
                if limits.evaluations is not None and self.scorer.trained - started_with >= limits.evaluations:
                    break
                # copies: the offspring buffers are overwritten by the next generation
                child = Genome(self.spec, self.nodes[i].copy(), self.outputs[i].copy(), self.constants[i].copy())
                value = self.scorer.fitness(Program.from_genome(child))
                if best_child is None or value < best_fitness:  # the first best offspring, as the engine picks
                    best_child, best_fitness = child, value
        finally:
            self.generation += 1
            if best_child is not None and best_fitness <= self.fitness:
                self.parent, self.fitness = best_child, best_fitness
            self.idle = 0 if self.scorer.trained > started_with else self.idle + 1
            self.exhausted = self.idle >= EXHAUSTED_AFTER


class _Scorer(ActivationScorer):
    """Trains the light network with a candidate activation; its validation loss is the fitness
    (the cache and counters are :class:`~srnet.activations.scorer.ActivationScorer`'s)."""

    def __init__(self, X_train, y_train, X_val, y_val, *, task, hidden, epochs, lr, batch_size, device, seed,
                 check_range):
        super().__init__(check_range=check_range)
        self.device = resolve_device(device)
        self.X_train = torch.as_tensor(X_train, dtype=torch.float32, device=self.device)
        self.y_train = torch.as_tensor(y_train, dtype=torch.float32, device=self.device).reshape(-1, 1)
        self.X_val = torch.as_tensor(X_val, dtype=torch.float32, device=self.device)
        self.y_val = torch.as_tensor(y_val, dtype=torch.float32, device=self.device).reshape(-1, 1)
        self.loss = nn.BCEWithLogitsLoss() if task == "binary" else nn.MSELoss()
        self.hidden, self.epochs, self.lr, self.batch_size = hidden, epochs, lr, batch_size
        self.seed = seed

    def train(self, activation: nn.Module) -> float:
        model = seeded(light_network, self.seed, self.X_train.shape[1], activation, self.y_train.shape[1],
                       hidden=self.hidden).to(self.device)
        losses = fit_network(model, self.X_train, self.y_train, self.loss, epochs=self.epochs,
                             batch_size=self.batch_size, lr=self.lr, random_state=self.seed, stop_on_nonfinite=True)
        if losses and not math.isfinite(losses[-1]):
            return math.inf
        with torch.no_grad():
            value = float(self.loss(model(self.X_val), self.y_val))
        return value if math.isfinite(value) else math.inf


def search_activation(X_train=None, y_train=None, X_val=None, y_val=None, *, task: str = "binary",
                      max_seconds: float | None = 60.0, max_generations: int | None = None,
                      max_evaluations: int | None = None,
                      n_offspring: int = 4, n_columns: int = 8, functions=SEARCH_FUNCTIONS, n_constants: int = 1,
                      constant_pool=DEFAULT_CONSTANT_POOL, hidden=(64, 32), epochs: int = 2, lr: float = 1e-3,
                      batch_size: int = 256, max_samples: int | None = 4000, device="cpu",
                      check_range=CHECK_RANGE, affine=False, initial: Genome | None = None, random_state=None,
                      callback: Callable[[Progress], bool | None] | None = None,
                      scorer=None) -> FoundActivation:
    """Route 3: evolve a one-variable activation whose fitness is a validation loss.

    Parameters
    ----------
    X_train, y_train, X_val, y_val : arrays
        Standardised features; 0/1 labels (``task="binary"``: binary
        cross-entropy of one logit) or targets (``"regression"``: MSE).
    max_seconds, max_generations, max_evaluations
        Budgets; the first one reached stops the search (at least one).
        ``max_evaluations`` counts training runs (cache hits and rejected
        formulas are free).
    n_offspring : int, default=4
        lambda.
    n_columns, functions, n_constants, constant_pool
        The genome space (one input, one output, one row).
    hidden, epochs, lr, batch_size
        The light network each candidate trains and how briefly.
    max_samples : int or None, default=4000
        Training rows used by each run (a fixed random subsample).
    device : str, default="cpu"
    affine : bool or dict, default=False
        Wrap the found formula as ``a*g(b*x + c) + d`` with learnable scalars
        (as in routes 1 and 2; candidates are always scored without it).
    initial : Genome or None
        Start from this genome; default: a random non-degenerate one.
    random_state : int or None
    callback : callable or None
        Called with a :class:`srnet.cgp.Progress` after every generation
        (its ``evaluations`` are training runs); returning True stops.
        Ctrl-C stops the search and keeps the best activation so far.
    scorer : object or None
        Score candidates with this instead of the light network: any object
        with ``fitness(program)`` (lower is better; cached by the scorer),
        ``activation(program)`` (the standardised activation, or None if
        degenerate) and the counters ``trained``, ``hits``, ``rejected``,
        e.g. :class:`srnet.activations.language_model.LanguageModelScorer`.
        The data arguments and the light network's settings are then unused.

    Returns
    -------
    FoundActivation
        The best activation (standardised); ``details`` has the fitness,
        generations, training runs, cache hits, rejected formulas (this
        search's: a reused scorer's earlier counts are left out, and
        ``max_evaluations`` counts this search's runs) and the
        history ``[(generation, training runs, seconds, fitness)]`` at the
        start, at each improvement and at the end (seconds counted from the
        end of the first parent's training).
    """
    max_generations, max_evaluations, max_seconds = check_budgets(max_generations, max_evaluations, max_seconds)
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; valid: {', '.join(TASKS)}")
    n_offspring = check_offspring(n_offspring)
    # what is only used after the search, or by each training run, is checked before it (a bad affine wasted the
    # whole budget; epochs=0 ranked candidates by untrained networks' losses)
    affine_values(affine)
    if check_range is not None:  # by its own name (the first candidate's check called it value_range)
        check_range_bounds(check_range)
    if initial is not None and not isinstance(initial, Genome):
        raise ValueError(f"initial must be a Genome (or None), got {type(initial).__name__}")
    if scorer is not None:  # the found formula is checked on the range the scorer screened candidates on
        screened = getattr(scorer, "check_range", check_range)
        # (None included: a scorer that screens nothing let a singular best through, refused after the budget)
        if (None if screened is None else tuple(screened)) != (None if check_range is None else tuple(check_range)):
            raise ValueError(f"check_range {check_range} differs from the scorer's {screened}, on which "
                             f"candidates are screened: pass the scorer's")
    else:
        check_budget("epochs", epochs, integer=True)
        check_budget("batch_size", batch_size, integer=True)
        check_budget("lr", lr)
        if (isinstance(hidden, (str, bytes)) or not hasattr(hidden, "__iter__")
                or not all(isinstance(h, numbers.Integral) and not isinstance(h, bool) and h >= 1 for h in hidden)
                or not len(tuple(hidden))):  # () : no activation in the network, every candidate scored alike
            raise ValueError(f"hidden must be the widths of the hidden layers, whole numbers >= 1 (e.g. (64, 32)); "
                             f"got {hidden!r}")
    started = time.perf_counter()
    run_seed = seed_from(random_state)
    rng = np.random.default_rng([run_seed, 0])
    samples = None  # training rows of the light network; a given scorer leaves the data unused (unchecked)
    if scorer is None:
        if X_train is None or y_train is None or X_val is None or y_val is None:
            raise ValueError("give X_train, y_train, X_val and y_val, or a scorer")
        X_train, X_val = check_matrix(X_train, "X_train"), check_matrix(X_val, "X_val")
        y_train = check_vector(y_train, X_train.shape[0], "y_train")
        y_val = check_vector(y_val, X_val.shape[0], "y_val")
        if task == "binary":
            check_binary_labels(y_train, "y_train")
            check_binary_labels(y_val, "y_val")
            if np.unique(y_train).size < 2:  # every formula trains the light network to one answer: a search
                # ran and returned one (XNetClassifier and scikit-learn refuse one class)
                raise ValueError(f"y_train holds one class ({y_train[0]:g} on all {y_train.size} rows): a binary "
                                 f"task needs rows of both 0 and 1")
        if X_val.shape[1] != X_train.shape[1]:
            raise ValueError(f"X_train has {counted(X_train.shape[1], 'column')} but X_val has {X_val.shape[1]}")
        rows = subsample_rows(X_train.shape[0], max_samples, rng)
        X_train, y_train = X_train[rows], y_train[rows]
        samples = int(X_train.shape[0])
        scorer = _Scorer(X_train, y_train, X_val, y_val, task=task, hidden=tuple(hidden), epochs=epochs, lr=lr,
                         batch_size=batch_size, device=device, seed=run_seed % (2**31), check_range=check_range)
    spec = GenomeSpec(n_inputs=1, n_outputs=1, n_rows=1, n_columns=n_columns, functions=functions,
                      n_constants=n_constants, constant_pool=constant_pool)
    if initial is not None and initial.spec != spec:
        raise ValueError("the initial genome's spec differs from the search's (n_columns, functions, constants)")

    trained_before, hits_before, rejected_before = scorer.trained, scorer.hits, scorer.rejected
    parent = initial.copy() if initial is not None else _random_start(
        spec, scorer, rng, deadline=None if max_seconds is None else started + max_seconds)
    search = _ActivationSearch(spec, scorer, parent, n_offspring, run_seed, trained_before)
    # the clock started before the first parent was trained: the budget covers it too
    remaining = None if max_seconds is None else max(max_seconds - (time.perf_counter() - started), 1e-9)
    outcome = run(search, max_generations=max_generations, max_evaluations=max_evaluations, max_seconds=remaining,
                  callback=callback)
    parent, parent_fitness = search.parent, search.fitness
    trained, hits, rejected = search.evaluations, scorer.hits - hits_before, scorer.rejected - rejected_before
    if not math.isfinite(parent_fitness):
        raise DegenerateActivationError(
            f"the search found no usable activation in {trained} training runs "
            f"({rejected} degenerate formulas rejected); give it a larger budget")
    program = Program.from_genome(parent)
    activation = make_activation(program, normalize=True, affine=affine, check_range=check_range,
                                 label=f"route 3 (search): {scorer.metric} {parent_fitness:.4g}")
    source = raw_text(program, (VARIABLE,))  # before standardising
    details = {"fitness": parent_fitness, "generations": search.generation, "training_runs": trained,
               "cache_hits": hits, "rejected": rejected, "stop_reason": outcome.stop_reason,
               "history": outcome.history.tolist(),
               "samples": samples}  # (X_train.shape[0] of a list given with a scorer raised after the search)
    return FoundActivation(activation, "search", source, time.perf_counter() - started, details)


#: Random genomes tried for a usable start before the deadline can stop the tries (each is checked in about a
#: millisecond, once the check is compiled).
MIN_START_TRIES = 100


def _random_start(spec: GenomeSpec, scorer: _Scorer, rng: np.random.Generator, tries: int = 10000,
                  deadline: float | None = None) -> Genome:
    """A random genome whose formula is a usable activation; the tries stop at ``deadline`` (a perf_counter
    time) too: 10000 of them in a poor space took minutes of a budget of seconds."""
    for tried in range(1, tries + 1):
        genome = Genome.random(spec, rng)
        if scorer.activation(Program.from_genome(genome)) is not None:
            return genome
        # a few tries whatever the clock says (a 0.5 s budget gave up after one, spent compiling the check)
        if deadline is not None and tried >= MIN_START_TRIES and time.perf_counter() >= deadline:
            break
    raise DegenerateActivationError(f"{tried} random genomes gave no usable activation; widen the function set "
                                    "or the grid" + (", or give the search more time" if tried < tries else ""))


__all__ = ["SEARCH_FUNCTIONS", "search_activation"]
