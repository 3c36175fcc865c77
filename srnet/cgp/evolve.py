"""Evolve one CGP formula: the (1+lambda) strategy over genomes, with restarts.

:class:`CGPSearch` is the strategy (its generations run inside numba, in
chunks of a few tens of milliseconds); :func:`evolve` validates the inputs,
picks islands or shared evaluation for the threads, and hands the strategy to
the one driver, :func:`srnet.cgp.driver.run`, which owns the budgets, the
callback, Ctrl-C and the history.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from srnet.cgp import _kernels
from srnet.cgp._fitness import CONSTANT_VARIANCE_FLOAT32
from srnet.cgp.driver import Limits, Progress, check_budgets, run
from srnet.cgp.genome import Genome, GenomeSpec, _genes, check_population
from srnet.cgp.islands import Islands, island_seed
from srnet.cgp.primitives import ARITIES
from srnet.data import check_budget, check_finite, check_matrix, random_generator

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
class EvolutionResult:
    """Outcome of :func:`evolve`.

    ``history`` holds one row ``(generation, evaluations, seconds, fitness)``
    at the start, each time the best fitness improved and at the end: enough
    to draw a convergence curve without storing every generation.
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
    islands: int = 1

    @property
    def gp_ops_per_second(self) -> float:
        """Node evaluations x samples per second of wall time, all included."""
        return self.node_evaluations / self.seconds if self.seconds > 0 else math.nan


def as_feature_rows(X) -> np.ndarray:
    """(n_samples, n_inputs) data as the engine's (n_inputs, n_samples) float64."""
    return np.ascontiguousarray(np.asarray(X, dtype=np.float64).T)


def fitness_of(genome: Genome, X_rows: np.ndarray, Y_rows: np.ndarray, mode: str = "scaled",
               ridge: float = 1e-8, precision: str = "float64") -> float:
    """Fitness of one genome on feature rows X_rows and target rows Y_rows
    (checked as :func:`evolve` checks them), evaluated in ``precision`` as
    :func:`evolve` evaluates (see :func:`search_dtype`): the rows' own dtype
    decided, and float32 rows of x ~ 1e4 scored the exact formula x**0.25
    as a constant where evolve had found it exact."""
    X_rows, Y_rows = check_problem(genome.spec, X_rows, Y_rows, mode)
    ridge = check_budget("ridge", ridge, positive=False)
    dtype = search_dtype(precision)
    if dtype == np.float32:  # as evolve refuses them (scored as a constant, or inf, without a word)
        check_float32_rows(X_rows)
    X_rows = X_rows.astype(dtype, copy=False)
    return float(_kernels.fitness_of(outputs_of(genome, X_rows), Y_rows, FITNESS_MODES[mode], ridge))


def outputs_of(genome: Genome, X_rows: np.ndarray) -> np.ndarray:
    """Raw outputs (n_outputs, n_samples) of a genome on feature rows
    (n_inputs, n_samples), float32 or else float64 (integer rows truncated
    every primitive's result; too few rows read past the array)."""
    X_rows = np.asarray(X_rows)
    X_rows = np.ascontiguousarray(X_rows, dtype=np.float32 if X_rows.dtype == np.float32 else np.float64)
    if X_rows.ndim != 2 or X_rows.shape[0] != genome.spec.n_inputs:
        raise ValueError(f"X_rows must be ({genome.spec.n_inputs}, n_samples), one row per input of the genome; "
                         f"got {X_rows.shape}")
    # a genome's arrays can be edited after it was checked: an address past the grid read any memory
    check_population(genome.spec, genome.nodes[None], genome.outputs[None], genome.constants[None])
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
    # a plain cast wrapped 2**32 to the valid address 0 and truncated 0.7 to 0: a silent wrong genome
    nodes, outputs, constants = _genes(nodes, "nodes"), _genes(outputs, "outputs"), _genes(constants, "constants")
    dtype = search_dtype(precision)
    X_rows, Y_rows = check_problem(spec, X_rows, Y_rows, fitness)  # too few rows read past the arrays
    check_population(spec, nodes, outputs, constants)
    n_threads = check_budget("n_threads", n_threads, integer=True)
    ridge = check_budget("ridge", ridge, positive=False)  # NaN or inf scored every genome inf, < 0 wrongly
    if dtype == np.float32:
        check_float32_rows(X_rows)
    count = nodes.shape[0]
    fitness_out = np.empty(count)
    n_active = np.zeros(count, dtype=np.int64)
    evaluate = _kernels.evaluate_population_parallel if n_threads > 1 else _kernels.evaluate_population_serial
    with _kernels.engine_threads(n_threads):
        evaluate(nodes, outputs, constants, spec.pool_array, ARITIES, np.ascontiguousarray(X_rows, dtype=dtype),
                 np.ascontiguousarray(Y_rows, dtype=np.float64), FITNESS_MODES[fitness], ridge,
                 np.ones(count, dtype=np.bool_), max(1, n_threads), fitness_out, n_active)
    return fitness_out, n_active


def check_problem(spec: GenomeSpec, X_rows, Y_rows, fitness: str) -> tuple[np.ndarray, np.ndarray]:
    """X_rows (n_inputs, n) and Y_rows (n_targets, n) checked for ``spec`` and ``fitness``, as float64:
    finite, 2-D, non-empty, one row per input of the spec, as many samples, and (scaled fitness) one target
    row per output; one line naming the problem otherwise."""
    if not isinstance(fitness, str) or fitness not in FITNESS_MODES:
        raise ValueError(f"unknown fitness {fitness!r}; valid: {', '.join(FITNESS_MODES)}")
    # finite, 2-D, non-empty (a NaN in X silently took its input out of the search; 1-D Y was an IndexError)
    X_rows, Y_rows = _feature_rows(X_rows, "X_rows", "input"), _feature_rows(Y_rows, "Y_rows", "target")
    if X_rows.shape[0] != spec.n_inputs:
        raise ValueError(f"X has {X_rows.shape[0]} input rows but the genome spec expects {spec.n_inputs}")
    if Y_rows.shape[1] != X_rows.shape[1]:
        raise ValueError(f"X has {X_rows.shape[1]} samples but Y has {Y_rows.shape[1]}")
    if fitness == "scaled" and Y_rows.shape[0] != spec.n_outputs:
        raise ValueError(f"scaled fitness needs one target row per output: {Y_rows.shape[0]} rows, "
                         f"{spec.n_outputs} outputs")
    return X_rows, Y_rows


def check_float32_rows(X_rows: np.ndarray) -> None:
    """Inputs a float32 search can tell apart: within float32's range, and varying by more than float32
    rounding relative to their size (an output that copies such an input scores as a constant, and the
    search returned a random formula instead of x0 - 1e6 for x0 = 1e6 + U(0, 8))."""
    largest = np.max(np.abs(X_rows), axis=1)
    with np.errstate(over="ignore"):  # the std of inputs near 1e300 overflows: refused below for their range
        mean, spread = X_rows.mean(axis=1), X_rows.std(axis=1)
    tiny = np.finfo(np.float32).tiny
    for j in range(X_rows.shape[0]):
        if largest[j] > np.finfo(np.float32).max:
            raise ValueError(f"input {j} reaches {largest[j]:.3g}, beyond float32's range: search in float64 "
                             f"(precision='float64', on the CPU) or rescale it")
        if 0 < largest[j] < tiny:  # all of it rounds to 0 or subnormals: searched as a constant input
            raise ValueError(f"input {j} is at most {largest[j]:.3g}, below float32's smallest normal number: "
                             f"search in float64 (precision='float64', on the CPU) or rescale it")
        if 0 < spread[j] ** 2 <= CONSTANT_VARIANCE_FLOAT32 * (spread[j] ** 2 + mean[j] ** 2):
            raise ValueError(f"input {j} varies by {spread[j]:.3g} (std) around {mean[j]:.6g}: in float32 that "
                             f"is rounding, and a formula reading it scores as a constant; search in float64 "
                             f"(precision='float64', on the CPU) or centre it")


def _feature_rows(values, name: str, what: str) -> np.ndarray:
    """``values`` (one row per {what}, one column per sample) checked as
    :func:`srnet.data.check_matrix` checks a table: 2-D, non-empty, finite."""
    values = np.asarray(values)
    if values.ndim != 2:
        raise ValueError(f"{name} must be 2-D (one row per {what}, one column per sample); got shape {values.shape}")
    if values.dtype.kind in "fc":  # a NaN or inf located as the caller indexes the array
        check_finite(values, name, lambda row, sample: f"{what} {row}, sample {sample}")
    # check_matrix reads samples as rows: any other problem is named as (sample, {what})
    return np.ascontiguousarray(check_matrix(values.T, f"{name} (sample, {what})").T)


#: The smallest mutation rate the mutation kernels resolve (they compare 53-bit random integers with
#: rate * 2**53).
MIN_MUTATION_RATE = 2.0**-53


def check_mutation(mutation, mutation_rate) -> None:
    """The mutation operator's name and rate, or one line saying what they must be."""
    if not isinstance(mutation, str) or mutation not in MUTATIONS:
        raise ValueError(f"unknown mutation {mutation!r}; valid: {', '.join(MUTATIONS)}")
    rate = check_budget("mutation_rate", mutation_rate)
    if rate > 1.0:
        raise ValueError(f"mutation_rate must be in (0, 1], got {mutation_rate}")
    if rate < MIN_MUTATION_RATE:  # the kernel's threshold rate * 2**53 rounds to 0: no gene ever changes
        raise ValueError(f"mutation_rate {mutation_rate:g} is too small to mutate any gene (at least "
                         f"{MIN_MUTATION_RATE:.3g}, 2**-53)")


#: The most offspring per generation: a (1+lambda) search uses a few to a few hundred, and each holds a genome's
#: arrays (10**9 was a MemoryError naming no parameter).
MAX_OFFSPRING = 10**6


def check_offspring(n_offspring) -> int:
    """lambda of a (1+lambda) search: an integer in [1, MAX_OFFSPRING], or one line saying so."""
    n_offspring = check_budget("n_offspring", n_offspring, integer=True)
    if n_offspring > MAX_OFFSPRING:
        raise ValueError(f"n_offspring must be at most {MAX_OFFSPRING:,} (a (1+lambda) search uses a few to a few "
                         f"hundred); got {n_offspring:,}")
    return n_offspring


def seed_from(random_state) -> int:
    """The run seed (an int in [0, 2**63 - 1)) of a ``random_state``: an int
    or None (through NumPy's ``default_rng``), or a Generator (one draw from
    it).  Every search derives its random streams from this one integer."""
    return int(random_generator(random_state).integers(0, 2**63 - 1))


#: Generations in a row in which no offspring changed an active gene before a search stops as "exhausted"
#: (at a usual rate, point mutation changes one in nearly every offspring).
IDLE_GENERATIONS = 10_000


class CGPSearch:
    """One (1+lambda) population of CGP genomes: a strategy for :func:`srnet.cgp.driver.run`.

    The generations run inside numba (:func:`srnet.cgp._kernels.evolve_generations`)
    in chunks sized to take about :data:`_CHUNK_SECONDS`; between chunks it
    restarts a stagnating parent and keeps the best genome met.  Restarts and
    mutations are seeded by ``(run_seed, restart, generation)``, so the result
    does not depend on where chunks end.
    """

    def __init__(self, spec: GenomeSpec, X_search: np.ndarray, Y_rows: np.ndarray, *, mode: int, ridge: float,
                 n_offspring: int, operator: int, mutation_rate: float, run_seed: int, restart_after: int | None,
                 initial: Genome | None, parallel: bool, threads: int):
        self.spec, self.X, self.Y, self.mode, self.ridge = spec, X_search, Y_rows, mode, ridge
        self.n_offspring, self.operator, self.mutation_rate = n_offspring, operator, mutation_rate
        self.run_seed, self.restart_after, self.initial = run_seed, restart_after, initial
        self.parallel, self.threads = parallel, threads
        self.grid = spec.grid()
        self.restarts = 0
        self.parent = self._start_genome(0)
        started = time.perf_counter()
        self.parent_fitness = self.score(self.parent)
        # the cost of a generation whose every offspring is evaluated, first guessed from one genome's
        # (n_offspring of them), then measured per chunk per evaluation: a chunk stops near the deadline (a first
        # chunk of 8 generations on a million rows ran 22x a 0.1 s budget), and a chunk's mean per generation is
        # far below it after mutations that changed no active gene (nothing evaluated): 16384 generations at the
        # 2.2 us of such a mean ran 0.46 s past a 0.25 s search
        self.evaluated_generation_seconds = (time.perf_counter() - started) * n_offspring
        self.best, self.fitness = self.parent.copy(), self.parent_fitness
        self.generation = 0
        self.evaluations = 1
        self.node_evaluations = self.parent.n_active() * X_search.shape[1]
        self.last_improvement = 0
        self.chunk = 8
        self.idle_generations = 0  # generations in a row whose offspring all copied the parent's phenotype

    @property
    def exhausted(self) -> bool:
        """True after :data:`IDLE_GENERATIONS` generations without one offspring that changed an active
        gene (a mutation rate of 1e-12 counted one evaluation in 709,600 generations: an evaluation
        budget never ended)."""
        return self.idle_generations >= IDLE_GENERATIONS

    def _start_genome(self, restart: int) -> Genome:
        if self.initial is not None and restart == 0:
            return self.initial.copy()
        return Genome.random(self.spec, np.random.default_rng([self.run_seed, restart]))

    def score(self, genome: Genome, X: np.ndarray | None = None) -> float:
        """The fitness of ``genome`` on the search's data (or on ``X``)."""
        return float(_kernels.fitness_of(outputs_of(genome, self.X if X is None else X), self.Y, self.mode,
                                         self.ridge))

    def step(self, limits: Limits) -> None:
        """One chunk of generations, within ``limits``."""
        if self.restart_after is not None and self.generation - self.last_improvement >= self.restart_after:
            self.restarts += 1
            self.parent = self._start_genome(self.restarts)
            self.parent_fitness = self.score(self.parent)
            self.evaluations += 1
            self.idle_generations = 0  # a restart is something new
            self.last_improvement = self.generation
        n_gen = self.chunk
        if limits.generations is not None:
            n_gen = min(n_gen, limits.generations)
        if limits.evaluations is not None:  # whole generations within the budget; at least one
            n_gen = min(n_gen, max(1, limits.evaluations // self.n_offspring))
        if self.restart_after is not None:
            n_gen = min(n_gen, max(1, self.restart_after - (self.generation - self.last_improvement)))
        if limits.deadline is not None and self.evaluated_generation_seconds > 0:
            n_gen = min(n_gen, int((limits.deadline - time.perf_counter()) / self.evaluated_generation_seconds))
        n_gen = max(1, n_gen)
        trace = np.empty(n_gen)
        fitness_before = self.parent_fitness
        started = time.perf_counter()
        done, n_eval, n_ops, self.parent_fitness = self._generations(n_gen, limits.target_fitness, trace)
        seconds = time.perf_counter() - started
        with np.errstate(invalid="ignore"):  # inf - inf while no candidate is finite: no improvement, no warning
            improved = np.flatnonzero(np.diff(np.concatenate(([fitness_before], trace[:done]))) < 0)
        if improved.size:
            self.last_improvement = self.generation + int(improved[-1]) + 1
        # the parent's fitness never increases between restarts, so the parent
        # after the chunk is the best of the chunk; ties are taken too: the
        # parent drifts neutrally within a chunk, and taking the latest one
        # makes the result independent of chunk boundaries
        if self.parent_fitness <= self.fitness:
            self.fitness = float(self.parent_fitness)
            self.best = self.parent.copy()
        if n_eval:
            self.evaluated_generation_seconds = seconds / n_eval * self.n_offspring
        self.generation += done
        self.idle_generations = self.idle_generations + done if n_eval == 0 else 0
        self.evaluations += n_eval
        self.node_evaluations += n_ops
        if seconds < _CHUNK_SECONDS / 2 and done == n_gen:
            self.chunk = min(self.chunk * 2, _MAX_CHUNK)
        elif seconds > _CHUNK_SECONDS * 2:
            self.chunk = max(1, self.chunk // 2)

    def _generations(self, n_gen: int, target_fitness: float, trace: np.ndarray):
        """Up to ``n_gen`` generations from the parent (updated in place), in
        numba; returns (generations run, evaluations, node evaluations x
        samples, the parent's fitness) and the parent's fitness per
        generation in ``trace``."""
        parent = self.parent
        return _kernels.evolve_generations(
            self.grid, self.spec.function_codes, ARITIES, self.spec.pool_array, self.X, self.Y, self.mode,
            self.ridge, parent.nodes, parent.outputs, parent.constants, self.parent_fitness, self.n_offspring,
            self.operator, self.mutation_rate, self.run_seed + self.restarts, self.generation, n_gen,
            target_fitness, self.parallel, self.threads, trace)

    def settle(self) -> None:
        """After Ctrl-C, which may land between updates: the kept genome's own fitness, or the parent's
        when better (the kernel improves the parent in place, and a Ctrl-C as it returns skips the
        bookkeeping that would have made the parent the best)."""
        self.fitness = self.score(self.best)
        parent_fitness = self.score(self.parent)
        if parent_fitness <= self.fitness:
            self.best, self.fitness = self.parent.copy(), parent_fitness
        self.parent_fitness = parent_fitness

    def adopt(self, genome: Genome, fitness: float) -> None:
        """Continue from ``genome`` (an island migrant), whose fitness is ``fitness``."""
        self.parent, self.parent_fitness = genome.copy(), fitness
        self.last_improvement = self.generation
        if fitness <= self.fitness:
            self.best, self.fitness = genome.copy(), fitness


class CudaCGPSearch(CGPSearch):
    """:class:`CGPSearch` with each generation's offspring evaluated on a CUDA
    GPU (:class:`srnet.cgp.gpu.CudaEvaluator`, float32, the data resident on
    the device); mutation and selection stay on the host, with the same
    kernels and random streams, so only the precision of the scores differs
    from a CPU search in float32."""

    def __init__(self, spec: GenomeSpec, X_rows: np.ndarray, Y_rows: np.ndarray, *, fitness: str, **settings):
        from srnet.cgp.gpu import CudaEvaluator

        self.evaluator = CudaEvaluator(X_rows, Y_rows, fitness, settings["ridge"])
        n = settings["n_offspring"]
        self._nodes = np.empty((n, spec.n_nodes, 3), np.int32)
        self._outputs = np.empty((n, spec.n_outputs), np.int32)
        self._constants = np.empty((n, spec.n_constants), np.int32)
        self._changed = np.empty(n, np.bool_)
        super().__init__(spec, X_rows, Y_rows, parallel=False, threads=1, **settings)

    def score(self, genome: Genome, X: np.ndarray | None = None) -> float:
        """On the GPU in float32 (the search's view); on the host in float64 when ``X`` is given."""
        if X is not None:
            return super().score(genome, X)
        fitness, _ = self.evaluator.evaluate(self.spec, genome.nodes[None], genome.outputs[None],
                                             genome.constants[None])
        return float(fitness[0])

    def _generations(self, n_gen: int, target_fitness: float, trace: np.ndarray):
        parent = self.parent
        evaluations = node_evaluations = done = 0
        for g in range(n_gen):
            _kernels.mutate(self.grid, self.spec.function_codes, ARITIES, parent.nodes, parent.outputs,
                            parent.constants, self.operator, self.mutation_rate, self.run_seed + self.restarts,
                            self.generation + g, self._nodes, self._outputs, self._constants, self._changed)
            changed = np.flatnonzero(self._changed)
            fitness = np.full(self.n_offspring, self.parent_fitness)
            if changed.size:
                scores, n_active = self.evaluator.evaluate(self.spec, self._nodes[changed], self._outputs[changed],
                                                           self._constants[changed])
                fitness[changed] = scores
                evaluations += changed.size
                node_evaluations += int(n_active.sum()) * self.X.shape[1]
            best = int(np.argmin(fitness))  # the first minimum, as the CPU kernel picks
            if fitness[best] <= self.parent_fitness:  # ties go to the offspring: neutral drift
                parent.nodes[:] = self._nodes[best]
                parent.outputs[:] = self._outputs[best]
                parent.constants[:] = self._constants[best]
                self.parent_fitness = float(fitness[best])
            trace[g] = self.parent_fitness
            done = g + 1
            if self.parent_fitness <= target_fitness:
                break
        return done, evaluations, node_evaluations, self.parent_fitness


#: ``device="auto"`` evaluates on a CUDA GPU from this many samples on (below
#: it, launching kernels and copying genomes costs more than the CPU's work).
GPU_MIN_SAMPLES = 100_000
DEVICES = ("cpu", "cuda", "auto")


def choose_device(device: str, n_samples: int) -> str:
    """"cpu" or "cuda" for ``device`` ("auto": a GPU when one is present and
    the data have at least :data:`GPU_MIN_SAMPLES` samples)."""
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r}; valid: {', '.join(DEVICES)}")
    if device == "auto":
        if n_samples < GPU_MIN_SAMPLES:
            return "cpu"
        from srnet.cgp.gpu import cuda_available

        return "cuda" if cuda_available() else "cpu"
    return device


def choose_islands(islands: int | None, threads: int | None, n_offspring: int, n_samples: int) -> int:
    """How many independent populations a search runs.

    ``None`` chooses from the work's size when the number of threads is
    given (``threads``): when one generation's evaluation is too small to
    share out (:func:`srnet.cgp._kernels.worth_parallel`), threads would
    mostly wait for each other every generation, so each runs its own island
    instead; on large data the threads share each generation's evaluation and
    one population evolves.  ``threads=None``: one island.
    """
    if islands is not None:
        return check_budget("islands", islands, integer=True)
    if threads is not None and threads > 1 and not _kernels.worth_parallel(threads, n_offspring, n_samples):
        return threads
    return 1


def evolve(spec: GenomeSpec, X_rows: np.ndarray, Y_rows: np.ndarray, *, fitness: str = "scaled",
           ridge: float = 1e-8, n_offspring: int = 4, mutation: str = DEFAULT_MUTATION,
           mutation_rate: float = DEFAULT_MUTATION_RATE,
           max_generations: int | None = None, max_evaluations: int | None = None,
           max_seconds: float | None = None, target_fitness: float = 0.0,
           restart_after: int | None = None, initial: Genome | None = None, random_state=None,
           n_threads: int | None = None, islands: int | None = None,
           callback: Callable[[Progress], bool | None] | None = None,
           precision: str = "float64", device: str = "cpu") -> EvolutionResult:
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
        Stopping rules (:func:`srnet.cgp.driver.run`); the first one met stops
        the run.  At least one of the three budgets must be given, each > 0.
        With islands, generations count each island's generations (they run
        side by side) and evaluations are summed over islands (when one
        reaches ``target_fitness``, the others' last chunks depend on thread
        timing: the genome and generations are reproducible, that sum is
        not).  The one-time
        kernel compilation happens before the clock starts.  Ctrl-C
        (KeyboardInterrupt) also stops it: the best genome so far is
        returned, with stop reason ``"interrupted"``.
    restart_after : int or None
        Restart from a random genome after this many generations without
        improvement; the best genome found is kept.
    initial : Genome or None
        Start from this genome instead of a random one (every island does).
    random_state : int, Generator or None
        Same seed, same result for a given number of islands (with a
        generation or evaluation budget; a wall-clock budget stops wherever
        time runs out).  One island gives the same result for any number of
        threads.
    n_threads : int or None
        Threads; None uses numba's default (for one population's evaluation).
    islands : int or None
        Independent populations evolving side by side, on the threads, the
        worst replaced by a copy of the best every
        :data:`srnet.cgp.islands.MIGRATE_EVERY` generations
        (:class:`srnet.cgp.islands.Islands`).  None chooses from the work's
        size (:func:`choose_islands`: islands when the data are too small to
        share one generation's evaluation between threads), except that a
        generation or evaluation budget with ``n_threads=None`` runs one
        island, so that the seed gives the same formula on every machine.
        With islands, ``max_evaluations`` may be passed by less than one
        generation per island, and the callback is called once per migration.
    callback : callable or None
        Called after every chunk with a :class:`Progress`; returning True stops.
    precision : {"float64", "float32"}
        What candidates are evaluated in during the search (see
        :func:`search_dtype`: float32 is faster, float64 exact).  The history
        and ``target_fitness`` use the search's precision; the returned
        ``fitness`` is the best genome's, recomputed in float64.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where offspring are evaluated.  ``"cuda"``: on a CUDA GPU, in float32,
        the data resident on the device (:class:`CudaCGPSearch`; one
        population, ``precision`` and ``islands`` do not apply; the returned
        fitness is recomputed in float64 on the host); ``"auto"``: the GPU
        for data of at least :data:`GPU_MIN_SAMPLES` samples when one is
        present and float32 can hold them (else the CPU).  Without a GPU, ``"cuda"`` is refused in one line.
    """
    check_budgets(max_generations, max_evaluations, max_seconds)
    restart_after = check_budget("restart_after", restart_after, allow_none=True, integer=True)
    n_threads = check_budget("n_threads", n_threads, allow_none=True, integer=True)
    check_mutation(mutation, mutation_rate)
    n_offspring = check_offspring(n_offspring)
    ridge = check_budget("ridge", ridge, positive=False)
    if initial is not None and not isinstance(initial, Genome):  # (an AttributeError traceback)
        raise ValueError(f"initial must be a Genome or None, got {type(initial).__name__}")
    if initial is not None and initial.spec != spec:  # its genes address another grid: read out of bounds
        names = [f.name for f in dataclasses.fields(spec) if f.compare]
        differ = [f"{name} {getattr(initial.spec, name)!r} vs {getattr(spec, name)!r}"
                  for name in names if getattr(initial.spec, name) != getattr(spec, name)]
        raise ValueError(f"the initial genome was made for another spec: {'; '.join(differ)}")
    dtype = search_dtype(precision)
    X_rows, Y_rows = check_problem(spec, X_rows, Y_rows, fitness)

    run_seed = seed_from(random_state)
    threads = _kernels.thread_count(n_threads)
    on_gpu = choose_device(device, X_rows.shape[1]) == "cuda"
    if on_gpu or dtype == np.float32:  # a float32 search must hold the data
        try:
            check_float32_rows(X_rows)
        except ValueError:
            if not (on_gpu and device == "auto" and dtype != np.float32):
                raise
            on_gpu = False  # "auto" may choose: data float32 cannot hold stay on the CPU
    # a generation or evaluation budget promises the same formula on every machine: the
    # machine's thread count then decides no islands unless n_threads is given, and a given
    # n_threads decides them as asked (islands are Python threads: more than the cores is fine)
    reproducible = n_threads is None and (max_generations is not None or max_evaluations is not None)
    n_islands = 1 if on_gpu else choose_islands(islands, None if reproducible else (n_threads or threads),
                                                n_offspring, X_rows.shape[1])
    X_search = X_rows if on_gpu else np.ascontiguousarray(X_rows, dtype=dtype)  # the GPU copies its own float32
    settings = dict(mode=FITNESS_MODES[fitness], ridge=ridge, n_offspring=n_offspring, operator=MUTATIONS[mutation],
                    mutation_rate=mutation_rate, restart_after=restart_after, initial=initial)
    _kernels.warm_up(dtype)
    if on_gpu:
        search = CudaCGPSearch(spec, X_rows, Y_rows, fitness=fitness, run_seed=run_seed, **settings)
    elif n_islands == 1:
        search = CGPSearch(spec, X_search, Y_rows, run_seed=run_seed, threads=threads,
                           parallel=_kernels.worth_parallel(threads, n_offspring, X_rows.shape[1]), **settings)
    else:
        search = Islands([CGPSearch(spec, X_search, Y_rows, run_seed=island_seed(run_seed, i), threads=1,
                                    parallel=False, **settings) for i in range(n_islands)], n_threads=threads)
    with _kernels.engine_threads(threads):
        outcome = run(search, max_generations=max_generations, max_evaluations=max_evaluations,
                      max_seconds=max_seconds, target_fitness=target_fitness, callback=callback)
    best, best_fitness = search.best, search.fitness
    if on_gpu or dtype != np.float64:  # the search scored in float32: the genome's own fitness in float64
        best_fitness = search.score(best, X_rows)
    return EvolutionResult(best, best_fitness, search.generation, search.evaluations, search.node_evaluations,
                           outcome.seconds, search.restarts, outcome.stop_reason, outcome.history, n_islands)
