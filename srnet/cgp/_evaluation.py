"""Evaluation kernels of the CGP engine: one genome's outputs, and the
fitness of whole populations, serially or in parallel.

Evaluation walks only the active nodes, one node at a time over a block of
samples, so every primitive runs as a tight vectorised loop.
"""

from __future__ import annotations

import types
import warnings

import numpy as np
from numba import literal_unroll, njit, prange
from numba.core.errors import NumbaExperimentalFeatureWarning

from srnet.cgp import _cache  # noqa: F401  (first: places the numba cache before any kernel is defined)
from srnet.cgp._fitness import fitness_with, target_sst
from srnet.cgp._mutation import active_nodes, mark_active
from srnet.cgp._vecmath import JIT_OPTIONS as _JIT
from srnet.cgp.primitives import PRIMITIVES

# Dispatching over the tuple of primitive kernels uses numba's "first-class
# function" machinery; the kernels are inlined, nothing experimental remains
# in the generated code, so the warning is noise for our users.  Numba wraps
# the message in terminal colour codes when colorama is installed, hence ".*".
warnings.filterwarnings("ignore", message=r".*First-class function type feature is experimental",
                        category=NumbaExperimentalFeatureWarning)

BLOCK = 1024  # samples per node pass: long enough to amortise the dispatch, short enough for L2

#: Below this many (offspring x samples) per generation, starting threads
#: costs more than it saves: evaluate serially.
PARALLEL_MIN_WORK = 20_000


def worth_parallel(n_threads: int, n_individuals: int, n_samples: int) -> bool:
    """Whether evaluating a population in parallel pays off."""
    return n_threads > 1 and n_individuals > 1 and n_individuals * n_samples >= PARALLEL_MIN_WORK


_KERNELS = tuple(p.kernel for p in PRIMITIVES)


@njit(inline="always", **_JIT)
def _apply(code, a, b, out):
    """Run primitive ``code`` over the vectors a, b into out.  Inlined (numba
    IR): called once per node and block, a call cost a fifth of a small
    evaluation."""
    index = 0
    for kernel in literal_unroll(_KERNELS):
        if index == code:
            kernel(a, b, out)
        index += 1


@njit(inline="always", **_JIT)
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
    F, node_rows, const_rows = new_workspace(nodes.shape[0], outputs.size, constant_values.size, X)[:3]
    evaluate_outputs_into(nodes, outputs, constant_values, arities, X, order, count, F, node_rows, const_rows)
    return F


@njit(**_JIT)
def new_workspace(n_nodes, n_outputs, n_constants, X):
    """Scratch arrays of :func:`evaluate_share_with` for genomes of this shape over X: made once per
    batch of generations, not once per generation."""
    width = min(BLOCK, X.shape[1])  # a block is at most the data: 200 samples need 200 columns, not BLOCK
    return (np.empty((n_outputs, X.shape[1]), dtype=X.dtype),  # X's precision: float64, or float32 for speed
            np.empty((n_nodes, width), dtype=X.dtype),
            np.empty((max(n_constants, 1), width), dtype=X.dtype),
            np.empty(n_constants),
            np.empty(n_nodes, dtype=np.int32),
            np.empty(n_nodes, dtype=np.bool_),
            np.empty(X.shape[0] + n_constants, dtype=np.bool_))


@njit(**_JIT)
def evaluate_share_with(workspace, y_sst, nodes, outputs, constants, pool, arities, X, Y, mode, ridge, needs_eval,
                        slot, n_slots, fitness, n_active):
    """Evaluate individuals slot, slot + n_slots, ... in ``workspace`` (:func:`new_workspace`);
    ``y_sst``: :func:`target_sst` of Y."""
    F, node_rows, const_rows, constant_values, order, active, used = workspace
    population, n_nodes, _ = nodes.shape
    n_sources = X.shape[0] + constants.shape[1]
    for i in range(slot, population, n_slots):
        if not needs_eval[i]:
            continue
        mark_active(nodes[i], outputs[i], n_sources, arities, active, used)
        count = 0
        for node in range(n_nodes):
            if active[node]:
                order[count] = node
                count += 1
        for c in range(constants.shape[1]):
            constant_values[c] = pool[constants[i, c]]
        evaluate_outputs_into(nodes[i], outputs[i], constant_values, arities, X, order, count, F,
                              node_rows, const_rows)
        fitness[i] = fitness_with(F, Y, mode, ridge, y_sst)
        n_active[i] = count


@njit(**_JIT)
def evaluate_share(nodes, outputs, constants, pool, arities, X, Y, mode, ridge, needs_eval, slot, n_slots,
                   fitness, n_active):
    """Evaluate individuals slot, slot + n_slots, ... with a workspace of their own."""
    workspace = new_workspace(nodes.shape[1], outputs.shape[1], constants.shape[1], X)
    evaluate_share_with(workspace, target_sst(Y), nodes, outputs, constants, pool, arities, X, Y, mode, ridge,
                        needs_eval, slot, n_slots, fitness, n_active)


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
