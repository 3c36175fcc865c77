"""The (1+lambda) evolution strategy: stopping rules, restarts, history.

:func:`evolve` is the engine's driver.  The generations themselves run inside
numba (:func:`srnet.cgp._kernels.evolve_generations`) in chunks sized to take
a few tens of milliseconds; between chunks Python checks the wall clock,
restarts stagnating runs, records history and calls the user's callback.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numba
import numpy as np

from srnet.cgp import _kernels
from srnet.cgp.genome import Genome, GenomeSpec
from srnet.cgp.primitives import ARITIES
from srnet.data import check_budget

FITNESS_MODES = {"scaled": _kernels.FITNESS_SCALED, "lstsq": _kernels.FITNESS_LSTSQ}
MUTATIONS = {"point": _kernels.MUTATION_POINT, "single": _kernels.MUTATION_SINGLE_ACTIVE}
#: The default mutation of every CGP search (:func:`evolve`,
#: :class:`srnet.estimators.CGPRegressor`): point mutation, each gene changed
#: with probability 0.05 -- the setting the Nguyen benchmark
#: (experiments/bench_nguyen.py) was tuned and measured with.
DEFAULT_MUTATION = "point"
DEFAULT_MUTATION_RATE = 0.05
#: Precisions the search can evaluate genomes in (targets and fitness sums are always float64).
PRECISIONS = {"float64": np.float64, "float32": np.float32}

_CHUNK_SECONDS = 0.05  # wall time one numba chunk aims for
_MAX_CHUNK = 1 << 16


@dataclass
class Progress:
    """What a callback sees between chunks of generations."""

    generation: int
    evaluations: int
    seconds: float
    fitness: float
    restarts: int


@dataclass
class EvolutionResult:
    """Outcome of :func:`evolve`.

    ``history`` holds one row ``(generation, evaluations, seconds, fitness)``
    each time the best fitness improved, plus the final state: enough to draw
    a convergence curve without storing every generation.
    """

    genome: Genome
    fitness: float
    generations: int
    evaluations: int
    node_evaluations: int
    seconds: float
    restarts: int
    stop_reason: str
    history: np.ndarray = field(repr=False)

    @property
    def gp_ops_per_second(self) -> float:
        """Node evaluations x samples per second of wall time, all included."""
        return self.node_evaluations / self.seconds if self.seconds > 0 else math.nan


class StopOnInterrupt:
    """Context manager: a KeyboardInterrupt (Ctrl-C) inside ends the block
    quietly, and ``caught`` says so; the search keeps the best found so far.
    A second Ctrl-C, after the block, interrupts as usual."""

    caught = False

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        self.caught = kind is not None and issubclass(kind, KeyboardInterrupt)
        return self.caught


def as_feature_rows(X) -> np.ndarray:
    """(n_samples, n_inputs) data as the engine's (n_inputs, n_samples) float64."""
    return np.ascontiguousarray(np.asarray(X, dtype=np.float64).T)


def fitness_of(genome: Genome, X_rows: np.ndarray, Y_rows: np.ndarray, mode: str = "scaled",
               ridge: float = 1e-8) -> float:
    """Fitness of one genome on feature rows X_rows and target rows Y_rows."""
    F = outputs_of(genome, X_rows)
    return float(_kernels.fitness_of(F, Y_rows, FITNESS_MODES[mode], ridge))


def outputs_of(genome: Genome, X_rows: np.ndarray) -> np.ndarray:
    """Raw outputs (n_outputs, n_samples) of a genome on feature rows."""
    return _kernels.evaluate_outputs(genome.nodes, genome.outputs, genome.constant_values(), ARITIES, X_rows)


def search_dtype(precision: str) -> type:
    """The NumPy type genomes are evaluated in for ``precision``.

    ``"float64"`` (the default everywhere) evaluates exactly like the exports;
    ``"float32"`` packs twice as many samples into each SIMD instruction, with
    float32 sin/cos/log kernels (about 1.9x the raw evaluation rate here), at
    the price of float32 rounding (a relative 1e-7 per node) and of float32's
    range (an intermediate beyond 3.4e38 overflows, and the candidate's fitness
    is infinite).  Fitness sums, linear scaling and the targets stay float64.
    """
    try:
        return PRECISIONS[precision]
    except (KeyError, TypeError):
        raise ValueError(f"unknown precision {precision!r}; valid: {', '.join(PRECISIONS)}") from None


def evaluate_population(spec: GenomeSpec, nodes, outputs, constants, X_rows, Y_rows, *, fitness: str = "scaled",
                        ridge: float = 1e-8, n_threads: int = 1, precision: str = "float64"):
    """Fitness of a whole population with the engine's compiled kernel.

    Parameters
    ----------
    nodes, outputs, constants : int32 arrays of shape (P, n_nodes, 3), (P, n_outputs), (P, n_constants)
        P genomes of ``spec``, stacked.
    X_rows, Y_rows : arrays of shape (n_inputs, n) and (n_targets, n)
        X_rows is evaluated in ``precision``, Y_rows always in float64.
    n_threads : int
        Threads (> 1 evaluates shares of the population in parallel).
    precision : {"float64", "float32"}
        What the genomes are evaluated in (see :func:`search_dtype`).

    Returns
    -------
    fitness : ndarray of shape (P,)
    n_active : ndarray of shape (P,)
        Active nodes per genome (node evaluations = n_active * n).
    """
    nodes = np.ascontiguousarray(nodes, dtype=np.int32)
    outputs = np.ascontiguousarray(outputs, dtype=np.int32)
    constants = np.ascontiguousarray(constants, dtype=np.int32)
    dtype = search_dtype(precision)
    count = nodes.shape[0]
    fitness_out = np.empty(count)
    n_active = np.zeros(count, dtype=np.int64)
    evaluate = _kernels.evaluate_population_parallel if n_threads > 1 else _kernels.evaluate_population_serial
    with _kernels.engine_threads(n_threads):
        evaluate(nodes, outputs, constants, spec.pool_array, ARITIES, np.ascontiguousarray(X_rows, dtype=dtype),
                 np.ascontiguousarray(Y_rows, dtype=np.float64), FITNESS_MODES[fitness], ridge,
                 np.ones(count, dtype=np.bool_), max(1, n_threads), fitness_out, n_active)
    return fitness_out, n_active


def seed_from(random_state) -> int:
    """The run seed (an int in [0, 2**63 - 1)) of a ``random_state``: an int
    or None (through NumPy's ``default_rng``), or a Generator (one draw from
    it).  Every search derives its random streams from this one integer."""
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63 - 1))
    return int(np.random.default_rng(random_state).integers(0, 2**63 - 1))


def evolve(spec: GenomeSpec, X_rows: np.ndarray, Y_rows: np.ndarray, *, fitness: str = "scaled",
           ridge: float = 1e-8, n_offspring: int = 4, mutation: str = DEFAULT_MUTATION,
           mutation_rate: float = DEFAULT_MUTATION_RATE,
           max_generations: int | None = None, max_evaluations: int | None = None,
           max_seconds: float | None = None, target_fitness: float = 0.0,
           restart_after: int | None = None, initial: Genome | None = None, random_state=None,
           n_threads: int | None = None, callback: Callable[[Progress], bool | None] | None = None,
           precision: str = "float64") -> EvolutionResult:
    """Evolve a genome with the (1+lambda) strategy.

    Parameters
    ----------
    spec : GenomeSpec
        Shape of the genomes.
    X_rows : ndarray of shape (n_inputs, n_samples)
        Inputs, one row per feature (see :func:`as_feature_rows`).
    Y_rows : ndarray of shape (n_targets, n_samples)
        Targets.  With ``fitness="scaled"`` there is one row per output, each
        fitted as ``a * output + b``; with ``"lstsq"`` all rows are fitted
        jointly from all outputs by ridge least squares.
    n_offspring : int
        lambda, offspring per generation.
    mutation : {"point", "single"}, default="point"
        Point mutation at ``mutation_rate`` (default 0.05), or single-active-gene
        mutation (see :data:`DEFAULT_MUTATION`).
    max_generations, max_evaluations, max_seconds, target_fitness
        Stopping rules; the first one met stops the run.  At least one of the
        three budgets must be given, each > 0 (checked by
        :func:`srnet.data.check_budget`).  The one-time kernel compilation
        happens before the clock starts.  Ctrl-C (KeyboardInterrupt) also
        stops it: the best genome so far is returned, with stop reason
        ``"interrupted"``.
    restart_after : int or None
        Restart from a random genome after this many generations without
        improvement; the best genome found is kept.
    initial : Genome or None
        Start from this genome instead of a random one.
    random_state : int, Generator or None
        Same seed, same result, for any number of threads (with a generation
        or evaluation budget; a wall-clock budget stops wherever time runs out).
    n_threads : int or None
        Threads for evaluating offspring; None uses numba's default.
    callback : callable or None
        Called between chunks with a :class:`Progress`; returning True stops.
    precision : {"float64", "float32"}
        What candidates are evaluated in during the search (see
        :func:`search_dtype`: float32 is faster, float64 exact).  The history
        and ``target_fitness`` use the search's precision; the returned
        ``fitness`` is the best genome's, recomputed in float64.
    """
    max_generations = check_budget("max_generations", max_generations, allow_none=True, integer=True)
    max_evaluations = check_budget("max_evaluations", max_evaluations, allow_none=True, integer=True)
    max_seconds = check_budget("max_seconds", max_seconds, allow_none=True)
    restart_after = check_budget("restart_after", restart_after, allow_none=True, integer=True)
    if max_generations is None and max_evaluations is None and max_seconds is None:
        raise ValueError("give a budget: max_generations, max_evaluations or max_seconds")
    if fitness not in FITNESS_MODES:
        raise ValueError(f"unknown fitness {fitness!r}; valid: {', '.join(FITNESS_MODES)}")
    if mutation not in MUTATIONS:
        raise ValueError(f"unknown mutation {mutation!r}; valid: {', '.join(MUTATIONS)}")
    n_offspring = check_budget("n_offspring", n_offspring, integer=True)
    if not 0.0 < mutation_rate <= 1.0:
        raise ValueError(f"mutation_rate must be in (0, 1], got {mutation_rate}")
    dtype = search_dtype(precision)
    X_rows = np.ascontiguousarray(X_rows, dtype=np.float64)
    Y_rows = np.ascontiguousarray(Y_rows, dtype=np.float64)
    if X_rows.shape[0] != spec.n_inputs:
        raise ValueError(f"X has {X_rows.shape[0]} input rows but the genome spec expects {spec.n_inputs}")
    if Y_rows.shape[1] != X_rows.shape[1]:
        raise ValueError(f"X has {X_rows.shape[1]} samples but Y has {Y_rows.shape[1]}")
    if fitness == "scaled" and Y_rows.shape[0] != spec.n_outputs:
        raise ValueError(f"scaled fitness needs one target row per output: {Y_rows.shape[0]} rows, "
                         f"{spec.n_outputs} outputs")

    mode = FITNESS_MODES[fitness]
    operator = MUTATIONS[mutation]
    run_seed = seed_from(random_state)
    threads = numba.get_num_threads() if n_threads is None else max(1, min(n_threads, numba.config.NUMBA_NUM_THREADS))
    parallel = _kernels.worth_parallel(threads, n_offspring, X_rows.shape[1])
    grid = spec.grid()
    pool = spec.pool_array

    def start_genome(restart: int) -> Genome:
        if initial is not None and restart == 0:
            return initial.copy()
        return Genome.random(spec, np.random.default_rng([run_seed, restart]))

    X_search = np.ascontiguousarray(X_rows, dtype=dtype)

    def score(genome: Genome, X=X_search) -> float:
        return float(_kernels.fitness_of(outputs_of(genome, X), Y_rows, mode, ridge))

    _kernels.warm_up(dtype)
    t0 = time.perf_counter()
    restarts = 0
    parent = start_genome(0)
    parent_fitness = score(parent)
    best, best_fitness = parent.copy(), parent_fitness
    generation = 0
    evaluations = 1
    node_evaluations = parent.n_active() * X_rows.shape[1]
    last_improvement = 0
    history = [(0, evaluations, 0.0, best_fitness)]
    chunk = 8
    stop_reason = ""
    interrupt = StopOnInterrupt()
    with _kernels.engine_threads(threads), interrupt:
        while True:
            elapsed = time.perf_counter() - t0
            if best_fitness <= target_fitness:
                stop_reason = "target_fitness"
            elif max_generations is not None and generation >= max_generations:
                stop_reason = "max_generations"
            elif max_evaluations is not None and evaluations >= max_evaluations:
                stop_reason = "max_evaluations"
            elif max_seconds is not None and elapsed >= max_seconds:
                stop_reason = "max_seconds"
            if stop_reason:
                break
            if callback is not None and callback(Progress(generation, evaluations, elapsed, best_fitness, restarts)):
                stop_reason = "callback"
                break
            if restart_after is not None and generation - last_improvement >= restart_after:
                restarts += 1
                parent = start_genome(restarts)
                parent_fitness = score(parent)
                evaluations += 1
                last_improvement = generation
            n_gen = chunk
            if max_generations is not None:
                n_gen = min(n_gen, max_generations - generation)
            if max_evaluations is not None:
                n_gen = min(n_gen, max(1, (max_evaluations - evaluations + n_offspring - 1) // n_offspring))
            if restart_after is not None:
                n_gen = min(n_gen, max(1, restart_after - (generation - last_improvement)))
            trace = np.empty(n_gen)
            fitness_before = parent_fitness
            t_chunk = time.perf_counter()
            done, n_eval, n_ops, parent_fitness = _kernels.evolve_generations(
                grid, spec.function_codes, ARITIES, pool, X_search, Y_rows, mode, ridge,
                parent.nodes, parent.outputs, parent.constants, parent_fitness, n_offspring, operator,
                mutation_rate, run_seed + restarts, generation, n_gen, target_fitness, parallel, threads, trace)
            chunk_seconds = time.perf_counter() - t_chunk
            elapsed = time.perf_counter() - t0
            # the parent's fitness never increases between restarts, so the
            # parent after the chunk is the best of the chunk
            steps = np.flatnonzero(np.diff(np.concatenate(([fitness_before], trace[:done]))) < 0)
            if steps.size:
                last_improvement = generation + int(steps[-1]) + 1
            if parent_fitness <= best_fitness:
                # ties too: the parent drifts neutrally within a chunk, and taking
                # the latest one makes the result independent of chunk boundaries
                if parent_fitness < best_fitness:
                    history.append((generation + done, evaluations + n_eval, elapsed, float(parent_fitness)))
                best_fitness = float(parent_fitness)
                best = parent.copy()
            generation += done
            evaluations += n_eval
            node_evaluations += n_ops
            if chunk_seconds < _CHUNK_SECONDS / 2 and done == n_gen:
                chunk = min(chunk * 2, _MAX_CHUNK)
            elif chunk_seconds > _CHUNK_SECONDS * 2:
                chunk = max(1, chunk // 2)
    seconds = time.perf_counter() - t0
    if interrupt.caught:  # Ctrl-C may land between updates: score the kept genome afresh
        stop_reason = "interrupted"
        best_fitness = score(best)
    history.append((generation, evaluations, seconds, best_fitness))
    if X_search is not X_rows:
        best_fitness = score(best, X_rows)
    return EvolutionResult(best, best_fitness, generation, evaluations, node_evaluations, seconds, restarts,
                           stop_reason, np.array(history, dtype=np.float64))
