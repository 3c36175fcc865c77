"""Numba kernels of the CGP engine: whole generations of the (1+lambda)
strategy, the engine's threads and warm-up; and, re-exported so that
``_kernels.X`` serves every caller, the kernels of the other engine modules:

* :mod:`srnet.cgp._random` -- splitmix64 random streams;
* :mod:`srnet.cgp._mutation` -- random genomes, activity, mutation;
* :mod:`srnet.cgp._evaluation` -- evaluation of genomes and populations;
* :mod:`srnet.cgp._fitness` -- fitness (linear scaling, least squares);
* :mod:`srnet.cgp._cache` -- where the kernels are cached (never stale).

Kernels see arrays and scalars only (no Python objects), so the Python layer
validates and seeds and these loops stay compiled end to end.  Randomness is
an explicit splitmix64 stream per offspring, seeded from (run seed,
generation, offspring index): results do not depend on the number of threads
or on how generations are chunked between Python and numba.  Offspring whose
mutations touched no active gene are not evaluated at all.
"""

from __future__ import annotations

import contextlib
import functools
import math

import numba
import numpy as np
from numba import njit

from srnet.cgp import _cache  # noqa: F401  (first: places the numba cache before any kernel is defined)
from srnet.cgp._evaluation import (  # noqa: F401  (re-exported)
    BLOCK,
    PARALLEL_MIN_WORK,
    evaluate_outputs,
    evaluate_outputs_into,
    evaluate_population_parallel,
    evaluate_population_serial,
    evaluate_share,
    evaluate_share_with,
    new_workspace,
    worth_parallel,
)
from srnet.cgp._fitness import (  # noqa: F401  (the engine's fitness, re-exported)
    FITNESS_LSTSQ,
    FITNESS_SCALED,
    fitness_of,
    fitness_with,
    lstsq_fit,
    lstsq_mse,
    scaled_mse,
    solve_ridge,
    target_sst,
)
from srnet.cgp._mutation import (  # noqa: F401  (re-exported)
    MUTATION_POINT,
    MUTATION_SINGLE_ACTIVE,
    Grid,
    active_nodes,
    mark_active,
    mutate,
    random_genomes,
    same_phenotype,
)
from srnet.cgp._random import below, draw_bits, stream_seed  # noqa: F401  (re-exported)
from srnet.cgp._vecmath import JIT_OPTIONS as _JIT


@njit(**_JIT)
def evolve_generations(grid, codes, arities, pool, X, Y, mode, ridge, parent_nodes, parent_outputs,
                       parent_constants, parent_fitness, n_offspring, operator, rate, run_seed, first_generation,
                       n_generations, target_fitness, parallel, n_slots, history):
    """Run up to ``n_generations`` generations of the (1+lambda) strategy.

    The parent arrays are updated in place.  Each generation the best
    offspring replaces the parent if it is not worse (ties go to the
    offspring: neutral drift lets the search walk across plateaus, which is
    what makes CGP's redundant genes useful).  ``history[g]`` receives the
    parent's fitness after generation g.  Stops early at ``target_fitness``.

    Returns (generations run, individuals evaluated, node evaluations x samples,
    parent fitness).
    """
    n_nodes = parent_nodes.shape[0]
    nodes = np.empty((n_offspring, n_nodes, 3), dtype=np.int32)
    outputs = np.empty((n_offspring, parent_outputs.size), dtype=np.int32)
    constants = np.empty((n_offspring, parent_constants.size), dtype=np.int32)
    changed = np.empty(n_offspring, dtype=np.bool_)
    fitness = np.empty(n_offspring)
    n_active = np.zeros(n_offspring, dtype=np.int64)
    evaluations = 0
    node_evaluations = 0
    n = X.shape[1]
    done = 0
    # one thread: one workspace and the target's sum of squares for every generation of the batch
    workspace = new_workspace(n_nodes, parent_outputs.size, parent_constants.size, X)
    y_sst = target_sst(Y)
    for g in range(n_generations):
        mutate(grid, codes, arities, parent_nodes, parent_outputs, parent_constants, operator, rate,
               run_seed, first_generation + g, nodes, outputs, constants, changed)
        if parallel:
            evaluate_population_parallel(nodes, outputs, constants, pool, arities, X, Y, mode, ridge, changed,
                                         n_slots, fitness, n_active)
        else:
            evaluate_share_with(workspace, y_sst, nodes, outputs, constants, pool, arities, X, Y, mode, ridge,
                                changed, 0, 1, fitness, n_active)
        best = -1
        best_fitness = math.inf
        for i in range(n_offspring):
            if changed[i]:
                evaluations += 1
                node_evaluations += n_active[i] * n
            else:
                fitness[i] = parent_fitness
            if best < 0 or fitness[i] < best_fitness:
                best = i
                best_fitness = fitness[i]
        if best_fitness <= parent_fitness:
            parent_nodes[:] = nodes[best]
            parent_outputs[:] = outputs[best]
            parent_constants[:] = constants[best]
            parent_fitness = best_fitness
        history[g] = parent_fitness
        done = g + 1
        if parent_fitness <= target_fitness:
            break
    return done, evaluations, node_evaluations, parent_fitness


@njit(**_JIT)
def layer_fit(nodes, outputs, constant_values, arities, X, Y, ridge):
    """One layer of SRNet's layer-wise formula (:mod:`srnet.layers`): the
    genome's outputs F over X, the exact ridge least-squares map [F, 1] -> Y,
    and what it computes.

    Returns (finite, approximation (T x n), W (m x T), intercept (T,), mse),
    mse the search's score of the genome (:func:`lstsq_mse`, bit for bit:
    the parent's chromosome and an offspring computing the same function must
    tie); when F is not finite or that score is inf: (False, NaN
    approximation, zero map, inf).
    """
    F = evaluate_outputs(nodes, outputs, constant_values, arities, X)
    T, n = Y.shape
    approximation = np.empty((T, n))
    for j in range(F.shape[0]):
        for i in range(n):
            if not math.isfinite(F[j, i]):
                approximation[:] = np.nan
                return False, approximation, np.zeros((F.shape[0], T)), np.zeros(T), math.inf
    W, intercept, mse = lstsq_fit(F, Y, ridge)
    if not math.isfinite(mse):  # its sums overflow: the map is meaningless, and the search scores it inf too
        approximation[:] = np.nan
        return False, approximation, np.zeros((F.shape[0], T)), np.zeros(T), math.inf
    for t in range(T):
        for i in range(n):
            value = intercept[t]
            for j in range(F.shape[0]):
                value += W[j, t] * F[j, i]
            approximation[t, i] = value
    return True, approximation, W, intercept, mse


@njit(**_JIT)
def layer_generation(grid, codes, arities, pool, X, Y, y_sst, ridge, parent_nodes, parent_outputs, parent_constants,
                     parent_mse, same_input, operator, rate, run_seed, generation, paper_selection, parallel, n_slots,
                     nodes, outputs, constants, changed, fitness, n_active):
    """One layer's part of a generation of SRNet's layer-wise search
    (:class:`srnet.layers.LayerwiseSearch`), compiled end to end so that the
    search's threads (islands) run it without Python's GIL: the parent's
    mutants, then the parent's chromosome, written to the buffers of
    ``n_offspring + 1`` candidates, scored and picked by :func:`layer_pick`
    (whose values it returns).  ``same_input``: X is the input the parent's
    chromosome was scored on (``parent_mse``)."""
    lam = nodes.shape[0] - 1
    mutate(grid, codes, arities, parent_nodes, parent_outputs, parent_constants, operator, rate, run_seed,
           generation, nodes[:lam], outputs[:lam], constants[:lam], changed[:lam])
    nodes[lam] = parent_nodes
    outputs[lam] = parent_outputs
    constants[lam] = parent_constants
    return layer_pick(pool, arities, X, Y, y_sst, ridge, parent_mse, same_input, paper_selection, parallel, n_slots,
                      nodes, outputs, constants, changed, fitness, n_active)


@njit(**_JIT)
def layer_pick(pool, arities, X, Y, y_sst, ridge, parent_mse, same_input, paper_selection, parallel, n_slots,
               nodes, outputs, constants, changed, fitness, n_active):
    """Score one layer's candidates and pick the best.

    The buffers hold ``n_offspring + 1`` candidates, the parent's chromosome
    last; ``changed[i]`` (for the offspring): candidate i differs from the
    parent's chromosome in an active gene.  Only changed candidates are
    scored: the others compute what the parent's chromosome computes, so
    they share its score, ``parent_mse`` when X is the input it was scored
    on (``same_input``), else its score on X (it is then scored).  The pick is
    the first best candidate (offspring win ties), among the offspring only
    under the paper's selection (``paper_selection``).

    Returns (pick, identical, mse, approximation, evaluations, node
    evaluations x samples): ``identical`` when the pick computes exactly what
    the parent's chromosome computed on the same input (its approximation is
    the parent's, and a 0 x 0 array is returned); else the pick's
    approximation and MSE by :func:`layer_fit`.
    """
    lam = nodes.shape[0] - 1
    changed[lam] = not same_input
    if parallel:
        evaluate_population_parallel(nodes, outputs, constants, pool, arities, X, Y, FITNESS_LSTSQ, ridge, changed,
                                     n_slots, fitness, n_active)
    else:
        workspace = new_workspace(nodes.shape[1], outputs.shape[1], constants.shape[1], X)
        evaluate_share_with(workspace, y_sst, nodes, outputs, constants, pool, arities, X, Y, FITNESS_LSTSQ, ridge,
                            changed, 0, 1, fitness, n_active)
    known = parent_mse if same_input else fitness[lam]
    candidates = lam if paper_selection else lam + 1
    best = 0
    evaluations = 0
    node_evaluations = 0
    for i in range(lam + 1):
        if changed[i]:
            evaluations += 1
            node_evaluations += n_active[i] * X.shape[1]
        else:
            fitness[i] = known
        if i < candidates and fitness[i] < fitness[best]:
            best = i
    if same_input and not changed[best]:
        return best, True, parent_mse, np.empty((0, 0)), evaluations, node_evaluations
    constant_values = np.empty(constants.shape[1])
    for c in range(constants.shape[1]):
        constant_values[c] = pool[constants[best, c]]
    _, approximation, _, _, mse = layer_fit(nodes[best], outputs[best], constant_values, arities, X, Y, ridge)
    return best, False, mse, approximation, evaluations, node_evaluations


#: Whether :func:`numba_thread_count` has started numba's thread pool (once per process).
_POOL_STARTED = [False]


def numba_thread_count() -> int:
    """``numba.get_num_threads()``, numba's thread pool first started so that the process's OpenMP thread count
    stays as it was.

    Why: numba's OpenMP layer starts its pool (on the first parallel kernel or thread query) by setting
    OpenMP's thread count to ``NUMBA_NUM_THREADS``, and pip's torch loads the same ``libgomp.so.1``: a user's
    ``torch.set_num_threads(1)`` read 2 after a fit.  Every srnet path into numba's threads comes through here
    first."""
    if not _POOL_STARTED[0]:
        openmp = _openmp_controllers()
        before = [library.num_threads for library in openmp]
        count = numba.get_num_threads()  # starts the pool
        for library, threads in zip(openmp, before):
            if library.num_threads != threads:
                library.set_num_threads(threads)
        _POOL_STARTED[0] = True
        return count
    return numba.get_num_threads()


def _openmp_controllers() -> list:
    """The process's loaded OpenMP runtimes (threadpoolctl's controllers; none where threadpoolctl is missing)."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - scikit-learn requires it
        return []
    return ThreadpoolController().select(user_api="openmp").lib_controllers


def thread_count(n_threads: int | None) -> int:
    """The threads a search runs on: numba's current count, or ``n_threads`` capped at numba's (64 on 2 cores
    made 64 islands that 2 threads ran)."""
    count = numba_thread_count()
    return count if n_threads is None else min(n_threads, numba.config.NUMBA_NUM_THREADS)


@contextlib.contextmanager
def engine_threads(n_threads: int):
    """Run the engine on ``n_threads`` numba threads, with single-threaded BLAS.

    The engine's BLAS calls are small (m x n by n x T products): BLAS's own
    thread pool only adds contention, badly so on a busy machine, and the
    engine parallelises over candidates itself.
    """
    previous = numba_thread_count()
    numba.set_num_threads(max(1, min(int(n_threads), numba.config.NUMBA_NUM_THREADS)))
    try:
        with _blas_controller().limit(limits=1):
            yield
    finally:
        numba.set_num_threads(previous)


@functools.cache
def _blas_controller():
    """The process's BLAS thread pools, found once.

    Why cached: finding them scans every loaded library (about 4 ms), as long
    as a whole population's evaluation; limiting known pools costs 15 us.
    """
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(user_api="blas")


_WARM = set()


def warm_up(dtype=np.float64):
    """Compile (or load from the cache) every kernel a search calls for inputs
    of ``dtype`` (float64 or float32), once per process, so that a search's
    wall-clock budget is spent searching."""
    dtype = np.dtype(dtype)
    if dtype in _WARM:
        return
    numba_thread_count()  # numba's pool started here, as srnet starts it (below, a parallel kernel would)
    from srnet.cgp.primitives import ARITIES

    grid = Grid(1, 1, 1, 2, 2, 2)
    codes = np.array([0, 7], dtype=np.int32)
    pool = np.array([1.0, 2.0])
    X = np.linspace(0.1, 1.0, 8).reshape(1, 8).astype(dtype)
    Y = np.ascontiguousarray(np.vstack([X[0] ** 2]), dtype=np.float64)  # targets stay float64
    nodes = np.array([[0, 0, 1], [7, 2, 0]], dtype=np.int32)
    outputs = np.array([3], dtype=np.int32)
    constants = np.array([0], dtype=np.int32)
    population = (np.ascontiguousarray(np.repeat(nodes[None], 2, 0)),
                  np.ascontiguousarray(np.repeat(outputs[None], 2, 0)),
                  np.ascontiguousarray(np.repeat(constants[None], 2, 0)))
    changed = np.ones(2, dtype=np.bool_)
    fitness = np.empty(2)
    n_active = np.zeros(2, dtype=np.int64)
    for mode in (FITNESS_SCALED, FITNESS_LSTSQ):
        for evaluate in (evaluate_population_serial, evaluate_population_parallel):
            evaluate(*population, pool, ARITIES, X, Y, mode, 1e-8, changed, 2, fitness, n_active)
        for parallel in (False, True):
            evolve_generations(grid, codes, ARITIES, pool, X, Y, mode, 1e-8, nodes.copy(), outputs.copy(),
                               constants.copy(), 1.0, 2, MUTATION_POINT, 0.5, 1, 0, 1, 0.0, parallel, 2,
                               np.empty(1))
    F = evaluate_outputs(nodes, outputs, pool[constants], ARITIES, X)
    lstsq_fit(F, Y, 1e-8)
    for mode in (FITNESS_SCALED, FITNESS_LSTSQ):  # a search's first genome is scored with these (0.15-0.8 s)
        fitness_of(F, Y, mode, 1e-8)
    if dtype == np.float64:  # SRNet's layer-wise search runs in float64
        layer_fit(nodes, outputs, pool[constants], ARITIES, X, Y, 1e-8)
        buffers = tuple(np.ascontiguousarray(np.repeat(a[None], 3, 0)) for a in (nodes, outputs, constants))
        for parallel in (False, True):
            layer_generation(grid, codes, ARITIES, pool, X, Y, target_sst(Y), 1e-8, nodes, outputs, constants,
                             math.inf, parallel, MUTATION_POINT, 0.5, 1, 0, parallel, parallel, 2, *buffers,
                             np.ones(3, dtype=np.bool_), np.empty(3), np.zeros(3, dtype=np.int64))
    mutate(grid, codes, ARITIES, nodes, outputs, constants, MUTATION_POINT, 0.5, 1, 0, *population, changed)
    random_genomes(grid, codes, 1, np.array([1], dtype=np.int64))
    _WARM.add(dtype)
