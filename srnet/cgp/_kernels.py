"""Numba kernels of the CGP engine: random genomes, mutation, decoding,
evaluation of whole populations, fitness, and whole generations of the
(1+lambda) strategy.

Kernels see arrays and scalars only (no Python objects), so the Python layer
validates and seeds and these loops stay compiled end to end.  Randomness is
an explicit splitmix64 stream per offspring, seeded from (run seed,
generation, offspring index): results do not depend on the number of threads
or on how generations are chunked between Python and numba.

Evaluation walks only the active nodes, one node at a time over a block of
samples, so every primitive runs as a tight vectorised loop; offspring whose
mutations touched no active gene are not evaluated at all.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import math
import types
import warnings
from collections import namedtuple
from pathlib import Path

import numba
import numpy as np
from numba import literal_unroll, njit, prange
from numba.core.errors import NumbaExperimentalFeatureWarning

from srnet.cgp import _vecmath
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
from srnet.cgp.primitives import PRIMITIVES

# Dispatching over the tuple of primitive kernels uses numba's "first-class
# function" machinery; the kernels are inlined, nothing experimental remains
# in the generated code, so the warning is noise for our users.  Numba wraps
# the message in terminal colour codes when colorama is installed, hence ".*".
warnings.filterwarnings("ignore", message=r".*First-class function type feature is experimental",
                        category=NumbaExperimentalFeatureWarning)

_JIT = _vecmath.JIT_OPTIONS


def _drop_stale_numba_cache():
    """Delete this package's numba cache when any engine source changed.

    numba invalidates a cached function only when its own file changes, but
    the kernels here inline code from primitives.py and _vecmath.py: after an
    edit there, the cache would silently run the old primitives.
    """
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in ("_vecmath.py", "primitives.py", "_fitness.py", "_kernels.py"):
        digest.update((here / name).read_bytes())
    cache = here / "__pycache__"
    stamp = cache / "engine-sources.sha256"
    try:
        if stamp.read_text() == digest.hexdigest():
            return
    except OSError:
        pass
    try:
        cache.mkdir(exist_ok=True)
        for path in list(cache.glob("*.nbi")) + list(cache.glob("*.nbc")):
            path.unlink(missing_ok=True)
        stamp.write_text(digest.hexdigest())
    except OSError:  # a read-only install: nothing cached could be stale
        pass


_drop_stale_numba_cache()

#: Scalars describing the node grid (see GenomeSpec.grid).
Grid = namedtuple("Grid", "n_inputs n_constants n_rows n_columns levels_back n_pool")

#: Mutation operators.
MUTATION_POINT = 0
MUTATION_SINGLE_ACTIVE = 1

BLOCK = 1024  # samples per node pass: long enough to amortise the dispatch, short enough for L2

#: Below this many (offspring x samples) per generation, starting threads
#: costs more than it saves: evaluate serially.
PARALLEL_MIN_WORK = 20_000


def worth_parallel(n_threads: int, n_individuals: int, n_samples: int) -> bool:
    """Whether evaluating a population in parallel pays off."""
    return n_threads > 1 and n_individuals > 1 and n_individuals * n_samples >= PARALLEL_MIN_WORK

_KERNELS = tuple(p.kernel for p in PRIMITIVES)


# --------------------------------------------------------------------------
# random numbers: splitmix64, one independent stream per offspring
# --------------------------------------------------------------------------

@njit(**_JIT)
def _mix(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(**_JIT)
def stream_seed(run_seed, generation, index):
    """Seed of the random stream of one offspring of one generation."""
    z = _mix(np.uint64(run_seed) + np.uint64(0x9E3779B97F4A7C15))
    z = _mix(z ^ (np.uint64(generation) * np.uint64(0xD1B54A32D192ED03)))
    return _mix(z ^ (np.uint64(index) * np.uint64(0x8CB92BA72F3D8DD7)))


@njit(**_JIT)
def _next(state):
    state[0] += np.uint64(0x9E3779B97F4A7C15)
    return _mix(state[0])


@njit(**_JIT)
def _below(state, k):
    """Uniform integer in [0, k)."""
    return np.int64(np.float64(_next(state) >> np.uint64(11)) * (1.0 / 9007199254740992.0) * k)


@njit(**_JIT)
def _uniform(state):
    return np.float64(_next(state) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


# --------------------------------------------------------------------------
# genes
# --------------------------------------------------------------------------

@njit(**_JIT)
def _n_connection_choices(grid, column):
    first = max(0, column - grid.levels_back)
    return grid.n_inputs + grid.n_constants + (column - first) * grid.n_rows


@njit(**_JIT)
def _connection(grid, column, r):
    """The r-th legal address for a node of ``column``."""
    n_sources = grid.n_inputs + grid.n_constants
    if r < n_sources:
        return r
    first = max(0, column - grid.levels_back)
    return n_sources + first * grid.n_rows + (r - n_sources)


@njit(**_JIT)
def random_genomes(grid, codes, n_outputs, seeds):
    """One uniformly random genome per seed: (nodes, outputs, constants)."""
    n_nodes = grid.n_rows * grid.n_columns
    n_sources = grid.n_inputs + grid.n_constants
    count = seeds.size
    nodes = np.empty((count, n_nodes, 3), dtype=np.int32)
    outputs = np.empty((count, n_outputs), dtype=np.int32)
    constants = np.empty((count, grid.n_constants), dtype=np.int32)
    state = np.empty(1, dtype=np.uint64)
    for i in range(count):
        state[0] = np.uint64(seeds[i])
        for node in range(n_nodes):
            column = node // grid.n_rows
            choices = _n_connection_choices(grid, column)
            nodes[i, node, 0] = codes[_below(state, codes.size)]
            nodes[i, node, 1] = _connection(grid, column, _below(state, choices))
            nodes[i, node, 2] = _connection(grid, column, _below(state, choices))
        for j in range(n_outputs):
            outputs[i, j] = _below(state, n_sources + n_nodes)
        for c in range(grid.n_constants):
            constants[i, c] = _below(state, grid.n_pool)
    return nodes, outputs, constants


@njit(**_JIT)
def mark_active(nodes, outputs, n_sources, arities, active, used_sources):
    """Fill ``active`` (per node) and ``used_sources`` (per input/constant)."""
    active[:] = False
    used_sources[:] = False
    for j in range(outputs.size):
        address = outputs[j]
        if address >= n_sources:
            active[address - n_sources] = True
        else:
            used_sources[address] = True
    for node in range(nodes.shape[0] - 1, -1, -1):
        if active[node]:
            for k in range(arities[nodes[node, 0]]):
                address = nodes[node, 1 + k]
                if address >= n_sources:
                    active[address - n_sources] = True
                else:
                    used_sources[address] = True


@njit(**_JIT)
def active_nodes(nodes, outputs, n_sources, arities):
    """Active node indices in evaluation order, and how many there are."""
    n_nodes = nodes.shape[0]
    active = np.empty(n_nodes, dtype=np.bool_)
    used = np.empty(n_sources, dtype=np.bool_)
    mark_active(nodes, outputs, n_sources, arities, active, used)
    order = np.empty(n_nodes, dtype=np.int32)
    count = 0
    for node in range(n_nodes):
        if active[node]:
            order[count] = node
            count += 1
    return order, count


@njit(**_JIT)
def same_phenotype(nodes_a, outputs_a, constants_a, nodes_b, outputs_b, constants_b,
                   n_sources, n_inputs, arities):
    """True when two genomes have the same active graph and active constants."""
    for j in range(outputs_a.size):
        if outputs_a[j] != outputs_b[j]:
            return False
    n_nodes = nodes_a.shape[0]
    active = np.empty(n_nodes, dtype=np.bool_)
    used = np.empty(n_sources, dtype=np.bool_)
    mark_active(nodes_a, outputs_a, n_sources, arities, active, used)
    for node in range(n_nodes):
        if active[node]:
            code = nodes_a[node, 0]
            if code != nodes_b[node, 0]:
                return False
            for k in range(arities[code]):
                if nodes_a[node, 1 + k] != nodes_b[node, 1 + k]:
                    return False
    for c in range(constants_a.size):
        if used[n_inputs + c] and constants_a[c] != constants_b[c]:
            return False
    return True


@njit(**_JIT)
def _mutate_gene(grid, codes, n_outputs, gene, nodes, outputs, constants, state):
    """Give one gene a new legal value; returns False if it has no other value."""
    n_nodes = nodes.shape[0]
    n_sources = grid.n_inputs + grid.n_constants
    if gene < 3 * n_nodes:
        node = gene // 3
        slot = gene % 3
        if slot == 0:
            if codes.size < 2:
                return False
            old = nodes[node, 0]
            new = old
            while new == old:
                new = codes[_below(state, codes.size)]
            nodes[node, 0] = new
            return True
        column = node // grid.n_rows
        choices = _n_connection_choices(grid, column)
        if choices < 2:
            return False
        old = nodes[node, slot]
        new = old
        while new == old:
            new = _connection(grid, column, _below(state, choices))
        nodes[node, slot] = new
        return True
    gene -= 3 * n_nodes
    if gene < n_outputs:
        choices = n_sources + n_nodes
        if choices < 2:
            return False
        old = outputs[gene]
        new = old
        while new == old:
            new = _below(state, choices)
        outputs[gene] = new
        return True
    gene -= n_outputs
    if grid.n_pool < 2:
        return False
    old = constants[gene]
    new = old
    while new == old:
        new = _below(state, grid.n_pool)
    constants[gene] = new
    return True


@njit(**_JIT)
def _gene_is_active(grid, gene, n_outputs, parent_nodes, active, used_sources, arities):
    n_nodes = parent_nodes.shape[0]
    if gene < 3 * n_nodes:
        node = gene // 3
        slot = gene % 3
        return active[node] and (slot == 0 or slot <= arities[parent_nodes[node, 0]])
    gene -= 3 * n_nodes
    if gene < n_outputs:
        return True
    return used_sources[grid.n_inputs + gene - n_outputs]


@njit(**_JIT)
def mutate(grid, codes, arities, parent_nodes, parent_outputs, parent_constants,
           operator, rate, run_seed, generation, out_nodes, out_outputs, out_constants, changed):
    """Write one mutant of the parent per offspring slot.

    ``changed[i]`` says whether offspring i altered an active gene; when it did
    not, it computes exactly what the parent computes and needs no evaluation.
    Point mutation changes each gene with probability ``rate``; single-active
    mutation (Goldman & Punch) changes random genes until one is active.
    """
    n_nodes = parent_nodes.shape[0]
    n_outputs = parent_outputs.size
    n_sources = grid.n_inputs + grid.n_constants
    n_genes = 3 * n_nodes + n_outputs + parent_constants.size
    active = np.empty(n_nodes, dtype=np.bool_)
    used = np.empty(n_sources, dtype=np.bool_)
    mark_active(parent_nodes, parent_outputs, n_sources, arities, active, used)
    state = np.empty(1, dtype=np.uint64)
    for i in range(out_nodes.shape[0]):
        state[0] = stream_seed(run_seed, generation, i)
        out_nodes[i] = parent_nodes
        out_outputs[i] = parent_outputs
        out_constants[i] = parent_constants
        touched_active = False
        if operator == MUTATION_SINGLE_ACTIVE:
            for _ in range(64 * n_genes):  # bounded: a genome may have no mutable active gene
                gene = _below(state, n_genes)
                if _mutate_gene(grid, codes, n_outputs, gene, out_nodes[i], out_outputs[i], out_constants[i], state):
                    if _gene_is_active(grid, gene, n_outputs, parent_nodes, active, used, arities):
                        touched_active = True
                        break
        else:
            for gene in range(n_genes):
                if _uniform(state) < rate:
                    if _mutate_gene(grid, codes, n_outputs, gene, out_nodes[i], out_outputs[i], out_constants[i],
                                    state):
                        if _gene_is_active(grid, gene, n_outputs, parent_nodes, active, used, arities):
                            touched_active = True
        changed[i] = touched_active


# --------------------------------------------------------------------------
# evaluation
# --------------------------------------------------------------------------

@njit(**_JIT)
def _apply(code, a, b, out):
    """Run primitive ``code`` over the vectors a, b into out."""
    index = 0
    for kernel in literal_unroll(_KERNELS):
        if index == code:
            kernel(a, b, out)
        index += 1


@njit(**_JIT)
def _row(address, X, const_rows, node_rows, start, stop, n_inputs, n_sources):
    """The values of an address over samples start..stop (a view, no copy)."""
    if address < n_inputs:
        return X[address, start:stop]
    if address < n_sources:
        return const_rows[address - n_inputs, : stop - start]
    return node_rows[address - n_sources, : stop - start]


@njit(**_JIT)
def evaluate_outputs_into(nodes, outputs, constant_values, arities, X, order, count, F, node_rows, const_rows):
    """Evaluate one genome's outputs over all samples of X into F (outputs x n)."""
    n_inputs = X.shape[0]
    n_sources = n_inputs + constant_values.size
    n = X.shape[1]
    for c in range(constant_values.size):
        const_rows[c, :] = constant_values[c]
    for start in range(0, n, BLOCK):
        stop = min(n, start + BLOCK)
        width = stop - start
        for k in range(count):
            node = order[k]
            a = _row(nodes[node, 1], X, const_rows, node_rows, start, stop, n_inputs, n_sources)
            b = _row(nodes[node, 2], X, const_rows, node_rows, start, stop, n_inputs, n_sources)
            _apply(nodes[node, 0], a, b, node_rows[node, :width])
        for j in range(outputs.size):
            F[j, start:stop] = _row(outputs[j], X, const_rows, node_rows, start, stop, n_inputs, n_sources)


@njit(**_JIT)
def evaluate_outputs(nodes, outputs, constant_values, arities, X):
    """Outputs (n_outputs x n_samples) of one genome; X is (n_inputs x n)."""
    order, count = active_nodes(nodes, outputs, X.shape[0] + constant_values.size, arities)
    F = np.empty((outputs.size, X.shape[1]), dtype=X.dtype)
    node_rows = np.empty((nodes.shape[0], BLOCK), dtype=X.dtype)
    const_rows = np.empty((max(constant_values.size, 1), BLOCK), dtype=X.dtype)
    evaluate_outputs_into(nodes, outputs, constant_values, arities, X, order, count, F, node_rows, const_rows)
    return F


@njit(**_JIT)
def evaluate_share(nodes, outputs, constants, pool, arities, X, Y, mode, ridge, needs_eval, slot, n_slots,
                   fitness, n_active):
    """Evaluate individuals slot, slot + n_slots, ... with one workspace."""
    population, n_nodes, _ = nodes.shape
    n_outputs = outputs.shape[1]
    n_constants = constants.shape[1]
    n_sources = X.shape[0] + n_constants
    F = np.empty((n_outputs, X.shape[1]), dtype=X.dtype)  # X's precision: float64, or float32 for speed
    y_sst = target_sst(Y)
    node_rows = np.empty((n_nodes, BLOCK), dtype=X.dtype)
    const_rows = np.empty((max(n_constants, 1), BLOCK), dtype=X.dtype)
    constant_values = np.empty(n_constants)
    order = np.empty(n_nodes, dtype=np.int32)
    active = np.empty(n_nodes, dtype=np.bool_)
    used = np.empty(n_sources, dtype=np.bool_)
    for i in range(slot, population, n_slots):
        if not needs_eval[i]:
            continue
        mark_active(nodes[i], outputs[i], n_sources, arities, active, used)
        count = 0
        for node in range(n_nodes):
            if active[node]:
                order[count] = node
                count += 1
        for c in range(n_constants):
            constant_values[c] = pool[constants[i, c]]
        evaluate_outputs_into(nodes[i], outputs[i], constant_values, arities, X, order, count, F,
                              node_rows, const_rows)
        fitness[i] = fitness_with(F, Y, mode, ridge, y_sst)
        n_active[i] = count


def _evaluate_population(nodes, outputs, constants, pool, arities, X, Y, mode, ridge, needs_eval, n_slots,
                         fitness, n_active):
    """Fitness of every individual with needs_eval set (others untouched).

    Work is split into ``n_slots`` interleaved shares, each with its own
    workspace, so the result does not depend on the number of threads.
    """
    for slot in prange(n_slots):
        evaluate_share(nodes, outputs, constants, pool, arities, X, Y, mode, ridge, needs_eval, slot, n_slots,
                       fitness, n_active)


def _variant(function, name: str):
    """A copy of ``function`` under another name, so that two compilations of
    one source (parallel and serial) get distinct code and cache entries."""
    copy = types.FunctionType(function.__code__, function.__globals__, name, function.__defaults__,
                              function.__closure__)
    copy.__qualname__ = name
    return copy


evaluate_population_parallel = njit(parallel=True, **_JIT)(_variant(_evaluate_population,
                                                                     "evaluate_population_parallel"))
evaluate_population_serial = njit(**_JIT)(_variant(_evaluate_population, "evaluate_population_serial"))


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
    for g in range(n_generations):
        mutate(grid, codes, arities, parent_nodes, parent_outputs, parent_constants, operator, rate,
               run_seed, first_generation + g, nodes, outputs, constants, changed)
        if parallel:
            evaluate_population_parallel(nodes, outputs, constants, pool, arities, X, Y, mode, ridge, changed,
                                         n_slots, fitness, n_active)
        else:
            evaluate_population_serial(nodes, outputs, constants, pool, arities, X, Y, mode, ridge, changed,
                                       n_slots, fitness, n_active)
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


@contextlib.contextmanager
def engine_threads(n_threads: int):
    """Run the engine on ``n_threads`` numba threads, with single-threaded BLAS.

    The engine's BLAS calls are small (m x n by n x T products): BLAS's own
    thread pool only adds contention, badly so on a busy machine, and the
    engine parallelises over candidates itself.
    """
    previous = numba.get_num_threads()
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
    mutate(grid, codes, ARITIES, nodes, outputs, constants, MUTATION_POINT, 0.5, 1, 0, *population, changed)
    random_genomes(grid, codes, 1, np.array([1], dtype=np.int64))
    _WARM.add(dtype)
