"""The GPU population evaluator: a whole population of genomes over data
resident on a CUDA device (numba.cuda), in float32, with the fitness sums
reduced on the device.

What runs where:

* host (numba, CPU): each genome is decoded into a program of its active
  nodes only (:func:`compile_programs`), operands renumbered so that a thread
  keeps one float32 register slot per active node;
* device: every CUDA block runs one genome over a slice of the samples (all
  threads of a block run the same program, so branches on the op code never
  diverge), and sums, per genome, the moments the fitness needs: sums of the
  outputs, their cross products and their products with the centred targets
  (float64 accumulators; per-block partial sums are added in a fixed order by
  a second kernel, so results do not depend on scheduling: no atomics);
* host again: the tiny closed forms (a scale per output, or the ridge
  least-squares solve of :func:`srnet.cgp._fitness.solve_ridge`) and the
  fitness.  A fit so close that the closed-form SSE cancelled most of its
  digits is rescored from its residuals by one more pass on the device, as
  the CPU fitness (:mod:`srnet.cgp._fitness`) does.

The fitness is the CPU's (:func:`srnet.cgp._fitness.scaled_mse` and
:func:`~srnet.cgp._fitness.lstsq_mse`) for float32 outputs: the same
constant-output rule (an output whose variance is rounding noise gets weight
0), the same relative ridge, the same infinite fitness when an output is not
finite on some sample.  Outputs are shifted by their value on the first sample
before they are summed, so the one-pass sums keep their digits.

The primitives come from the one primitive table: each is the ``scalar`` body
of :data:`srnet.cgp.primitives.PRIMITIVES` compiled as a CUDA device function
(its precision-generic helpers resolved to their float32 kernels), with
IEEE division and square root; numba's CUDA target would otherwise turn the
CPU's ``fastmath={"contract"}`` into full fast math.  Under numba's CUDA
simulator (``NUMBA_ENABLE_CUDASIM=1``) the kernels run in Python and call the
CPU's compiled scalars directly, so the simulator checks everything but the
device compilation.
"""

from __future__ import annotations

import functools
import math
import types as pytypes

import numpy as np
from numba import config, cuda, njit  # importing numba.cuda starts no driver
from numba.core.dispatcher import Dispatcher

from srnet.cgp import (
    _cache,  # noqa: F401  (first: places the numba cache before any kernel is defined)
    _vecmath,
)
from srnet.cgp._fitness import (
    CANCELLATION,
    CONSTANT_VARIANCE_FLOAT32,
    FITNESS_LSTSQ,
    FITNESS_SCALED,
    closed_form_sse,
    solve_ridge,
)
from srnet.cgp._mutation import mark_active
from srnet.cgp._vecmath import JIT_OPTIONS as _JIT
from srnet.cgp.evolve import check_float32_rows  # (evolve imports this module lazily: no cycle)
from srnet.cgp.genome import _genes, _is_count, check_population
from srnet.cgp.primitives import ARITIES, PRIMITIVES
from srnet.data import check_budget, check_matrix

FITNESS_MODES = {"scaled": FITNESS_SCALED, "lstsq": FITNESS_LSTSQ}

#: CUDA threads per block (a block runs one genome over a slice of samples).
THREADS_PER_BLOCK = 128
#: Under the simulator every CUDA thread is a Python thread: fewer per block.
SIMULATOR_THREADS_PER_BLOCK = 4
#: Blocks per streaming multiprocessor a launch aims for (enough to hide latency).
BLOCKS_PER_SM = 32
#: The most blocks the y dimension of a grid may have (one genome each).
MAX_GRID_Y = 65535


# --------------------------------------------------------------------------
# availability
# --------------------------------------------------------------------------

def simulating() -> bool:
    """Whether numba.cuda is numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``)."""
    return bool(config.ENABLE_CUDASIM)


def cuda_available() -> bool:
    """Whether a CUDA GPU (or numba's CUDA simulator) can run the evaluator."""
    try:
        return bool(cuda.is_available())
    except Exception:  # no driver, a broken toolkit: no GPU for us either way
        return False


def _multiprocessors() -> int:
    """The device's streaming multiprocessors (the simulator: 0, one block per genome)."""
    if simulating():
        return 0
    return int(cuda.get_current_device().MULTIPROCESSOR_COUNT)


# --------------------------------------------------------------------------
# decoding genomes into programs (host, numba)
# --------------------------------------------------------------------------

@njit(**_JIT)
def compile_programs(nodes, outputs, constants, pool, arities, n_inputs):
    """Programs of the active nodes of a population, for the device.

    Returns ``(program, count, output_operands, constant_values)``:
    ``program[g, k] = (op, operand a, operand b)`` for the k-th active node of
    genome g (``count[g]`` of them, in evaluation order); an operand below
    ``n_inputs`` is an input row, below ``n_sources = n_inputs + n_constants``
    a constant (``constant_values[g, operand - n_inputs]``, float32), and
    ``n_sources + k`` the k-th active node's value.  A unary node's second
    operand repeats its first (it is read, never used).
    """
    population, n_nodes, _ = nodes.shape
    n_constants = constants.shape[1]
    n_sources = n_inputs + n_constants
    program = np.zeros((population, n_nodes, 3), dtype=np.int32)
    count = np.zeros(population, dtype=np.int64)
    output_operands = np.empty((population, outputs.shape[1]), dtype=np.int32)
    constant_values = np.zeros((population, max(n_constants, 1)), dtype=np.float32)
    active = np.empty(n_nodes, dtype=np.bool_)
    used = np.empty(n_sources, dtype=np.bool_)
    slot = np.zeros(n_nodes, dtype=np.int32)
    for g in range(population):
        mark_active(nodes[g], outputs[g], n_sources, arities, active, used)
        k = 0
        for node in range(n_nodes):
            if not active[node]:
                continue
            slot[node] = k
            op = nodes[g, node, 0]
            a = nodes[g, node, 1]
            b = nodes[g, node, 2]
            program[g, k, 0] = op
            program[g, k, 1] = a if a < n_sources else n_sources + slot[a - n_sources]
            if arities[op] > 1:
                program[g, k, 2] = b if b < n_sources else n_sources + slot[b - n_sources]
            else:
                program[g, k, 2] = program[g, k, 1]
            k += 1
        count[g] = k
        for j in range(outputs.shape[1]):
            address = outputs[g, j]
            output_operands[g, j] = address if address < n_sources else n_sources + slot[address - n_sources]
        for c in range(n_constants):
            constant_values[g, c] = pool[constants[g, c]]
    return program, count, output_operands, constant_values


# --------------------------------------------------------------------------
# the primitive table on the device
# --------------------------------------------------------------------------

#: On the device everything is float32: precision-generic helpers of
#: srnet.cgp._vecmath resolve to their float32 kernels.
_FLOAT32_HELPERS = {"log_normal": "_log_normal32"}


@functools.cache
def _device_vecmath():
    """A stand-in for srnet.cgp._vecmath whose generic helpers are float32 device functions."""
    module = pytypes.ModuleType(_vecmath.__name__ + "_device")
    module.__dict__.update(vars(_vecmath))
    for generic, float32_kernel in _FLOAT32_HELPERS.items():
        setattr(module, generic, _device_function(getattr(_vecmath, float32_kernel)))
    return module


@functools.cache
def _device_function(function):
    """A CUDA device function compiled from a numba CPU function's Python source.

    The numba functions it calls (as globals) become device functions the
    same way, and srnet.cgp._vecmath its float32 stand-in.  Compiled this way,
    not through numba's own conversion of CPU functions, because that one maps
    the CPU's ``fastmath={"contract"}`` to full fast math (approximate division,
    sqrt and sin).  Under the simulator, the CPU function itself.
    """
    if simulating():
        return function
    source = function.py_func if isinstance(function, Dispatcher) else function
    namespace = dict(source.__globals__)
    for name in source.__code__.co_names:
        value = namespace.get(name)
        if isinstance(value, Dispatcher):
            namespace[name] = _device_function(value)
        elif value is _vecmath:
            namespace[name] = _device_vecmath()
    clone = pytypes.FunctionType(source.__code__, namespace, source.__name__, source.__defaults__,
                                 source.__closure__)
    clone.__qualname__ = source.__qualname__
    return cuda.jit(device=True)(clone)


def _device(function):
    """``function`` as a CUDA device function; under the simulator, itself (a
    simulated device function call swaps module globals, slowly)."""
    return function if simulating() else cuda.jit(device=True)(function)


def _leaf(scalar):
    """Device function ``(op, a, b) -> float32(scalar(a, b))``."""
    device_scalar = _device_function(scalar)

    def leaf(op, a, b):
        return np.float32(device_scalar(a, b))

    return _device(leaf)


def _branch(scalars, first: int):
    """Device function applying ``scalars[op - first]``: a binary search over
    op codes (a block runs one program, so every thread takes the same path)."""
    if len(scalars) == 1:
        return _leaf(scalars[0])
    half = len(scalars) // 2
    low, high = _branch(scalars[:half], first), _branch(scalars[half:], first + half)
    pivot = first + half

    def branch(op, a, b):
        if op < pivot:
            return low(op, a, b)
        return high(op, a, b)

    return _device(branch)


@functools.cache
def _apply():
    """Device function ``apply(op, a, b)``: primitive ``op`` of the table on float32 values."""
    return _branch(tuple(p.scalar for p in PRIMITIVES), 0)


# --------------------------------------------------------------------------
# device kernels
# --------------------------------------------------------------------------

def _next_power_of_two(value: int, minimum: int) -> int:
    return max(minimum, 1 << max(0, int(value) - 1).bit_length())


@functools.cache
def _kernels(capacity: int, max_outputs: int, max_moments: int, threads: int):
    """The device kernels for programs of at most ``capacity`` active nodes,
    ``max_outputs`` outputs and ``max_moments`` sums per genome, with
    ``threads`` threads per block (each a compile-time size)."""
    apply = _apply()
    float32, float64 = np.float32, np.float64

    @_device
    def fetch(operand, X, i, constant_values, g, values, n_inputs, n_sources):
        if operand < n_inputs:
            return X[operand, i]
        if operand < n_sources:
            return constant_values[g, operand - n_inputs]
        return values[operand - n_sources]

    @_device
    def run(program, count, constant_values, X, n_sources, g, i, values):
        n_inputs = X.shape[0]
        for k in range(count[g]):
            a = fetch(program[g, k, 1], X, i, constant_values, g, values, n_inputs, n_sources)
            b = fetch(program[g, k, 2], X, i, constant_values, g, values, n_inputs, n_sources)
            values[k] = apply(program[g, k, 0], a, b)

    @_device
    def block_sum(accumulator, n_sums, shared, partial, row, block, t):
        """partial[row, block, k] = the block's sum of accumulator[k], k < n_sums (in a fixed order)."""
        for k in range(n_sums):
            shared[t] = accumulator[k]
            cuda.syncthreads()
            stride = threads // 2
            while stride > 0:
                if t < stride:
                    shared[t] += shared[t + stride]
                cuda.syncthreads()
                stride //= 2
            if t == 0:
                partial[row, block, k] = shared[0]
            cuda.syncthreads()

    @cuda.jit
    def first_outputs(program, count, outputs, constant_values, X, n_sources, shift):
        """shift[g, j] = output j of genome g on sample 0."""
        g = cuda.grid(1)
        values = cuda.local.array(capacity, float32)
        if g < count.size:
            run(program, count, constant_values, X, n_sources, g, 0, values)
            for j in range(outputs.shape[1]):
                shift[g, j] = fetch(outputs[g, j], X, 0, constant_values, g, values, X.shape[0], n_sources)

    @cuda.jit
    def moments(program, count, outputs, constant_values, X, n_sources, shift, Yc, pairs_ff, pairs_fy,
                per_block, first_genome, partial):
        """Per block: sums over its samples of d_j, d_j d_k (pairs_ff) and d_j yc_t (pairs_fy),
        d_j = output j - shift j, for genome first_genome + blockIdx.y."""
        block = cuda.blockIdx.x
        row = cuda.blockIdx.y
        t = cuda.threadIdx.x
        g = first_genome + row
        values = cuda.local.array(capacity, float32)
        d = cuda.local.array(max_outputs, float64)
        accumulator = cuda.local.array(max_moments, float64)
        shared = cuda.shared.array(threads, float64)
        m = outputs.shape[1]
        n_ff = pairs_ff.shape[0]
        n_sums = m + n_ff + pairs_fy.shape[0]
        for k in range(n_sums):
            accumulator[k] = 0.0
        n = X.shape[1]
        start = block * per_block
        stop = start + per_block if start + per_block < n else n
        for i in range(start + t, stop, threads):
            run(program, count, constant_values, X, n_sources, g, i, values)
            for j in range(m):
                d[j] = float(fetch(outputs[g, j], X, i, constant_values, g, values, X.shape[0], n_sources)) \
                    - shift[g, j]
                accumulator[j] += d[j]
            for p in range(n_ff):
                accumulator[m + p] += d[pairs_ff[p, 0]] * d[pairs_ff[p, 1]]
            for p in range(pairs_fy.shape[0]):
                accumulator[m + n_ff + p] += d[pairs_fy[p, 0]] * Yc[pairs_fy[p, 1], i]
        block_sum(accumulator, n_sums, shared, partial, row, block, t)

    @cuda.jit
    def residuals(program, count, outputs, constant_values, X, n_sources, shift, Yc, which, weights, offsets,
                  per_block, partial):
        """Per block: sum over its samples and targets t of
        (yc_t - offsets[r, t] - sum_j weights[r, j, t] d_j)^2 for genome which[blockIdx.y]."""
        block = cuda.blockIdx.x
        row = cuda.blockIdx.y
        t = cuda.threadIdx.x
        g = which[row]
        values = cuda.local.array(capacity, float32)
        d = cuda.local.array(max_outputs, float64)
        accumulator = cuda.local.array(1, float64)
        shared = cuda.shared.array(threads, float64)
        m = outputs.shape[1]
        accumulator[0] = 0.0
        n = X.shape[1]
        start = block * per_block
        stop = start + per_block if start + per_block < n else n
        for i in range(start + t, stop, threads):
            run(program, count, constant_values, X, n_sources, g, i, values)
            for j in range(m):
                d[j] = float(fetch(outputs[g, j], X, i, constant_values, g, values, X.shape[0], n_sources)) \
                    - shift[g, j]
            for target in range(Yc.shape[0]):
                r = Yc[target, i] - offsets[row, target]
                for j in range(m):
                    r -= weights[row, j, target] * d[j]
                accumulator[0] += r * r
        block_sum(accumulator, 1, shared, partial, row, block, t)

    @cuda.jit
    def reduce_blocks(partial, first_row, sums):
        """sums[first_row + r, k] = sum over blocks b, in order, of partial[r, b, k]."""
        index = cuda.grid(1)
        rows, n_blocks, n_sums = partial.shape
        if index < rows * n_sums:
            r = index // n_sums
            k = index - r * n_sums
            total = 0.0
            for b in range(n_blocks):
                total += partial[r, b, k]
            sums[first_row + r, k] = total

    return pytypes.SimpleNamespace(first_outputs=first_outputs, moments=moments, residuals=residuals,
                                   reduce_blocks=reduce_blocks)


# --------------------------------------------------------------------------
# fitness from the sums (host, numba)
# --------------------------------------------------------------------------

@njit(**_JIT)
def _is_constant(s_ff, n, mean):
    """srnet.cgp._fitness._is_constant for float32 outputs."""
    return not s_ff > CONSTANT_VARIANCE_FLOAT32 * (s_ff + n * mean * mean)


@njit(**_JIT)
def _centred(sums, shift, n, m, ff_index, fy_index, sum_yc, g):
    """Means of the outputs and their centred cross products with each other
    (C_ff, m x m) and with the centred targets (C_fy, m x T), from genome g's sums."""
    T = fy_index.shape[1]
    mean_d = np.empty(m)
    for j in range(m):
        mean_d[j] = sums[g, j] / n
    C_ff = np.zeros((m, m))
    C_fy = np.zeros((m, T))
    for j in range(m):
        for k in range(m):
            p = ff_index[j, k]
            if p >= 0:
                C_ff[j, k] = sums[g, p] - n * mean_d[j] * mean_d[k]
        C_ff[j, j] = max(C_ff[j, j], 0.0)
        for t in range(T):
            p = fy_index[j, t]
            if p >= 0:
                C_fy[j, t] = sums[g, p] - mean_d[j] * sum_yc[t]
    mean = np.empty(m)
    for j in range(m):
        mean[j] = shift[g, j] + mean_d[j]
    return mean_d, mean, C_ff, C_fy


@njit(**_JIT)
def finish_fitness(sums, shift, n, mode, ridge, ff_index, fy_index, sum_yc, s_yy):
    """Fitness per genome from its device sums, as srnet.cgp._fitness scores float32 outputs.

    Returns (fitness, rescore, weights, offsets): where ``rescore[g]`` the
    closed-form SSE cancelled and the caller rescores g from its residuals
    ``yc_t - offsets[g, t] - sum_j weights[g, j, t] (output_j - shift_j)``.
    """
    population = sums.shape[0]
    m = shift.shape[1]
    T = s_yy.size
    h_sst = s_yy.sum()
    fitness = np.empty(population)
    rescore = np.zeros(population, dtype=np.bool_)
    weights = np.zeros((population, m, T))
    offsets = np.zeros((population, T))
    for g in range(population):
        finite = True
        for k in range(sums.shape[1]):
            finite &= math.isfinite(sums[g, k])
        for j in range(m):
            finite &= math.isfinite(shift[g, j])
        if not finite:  # an output is not finite on some sample
            fitness[g] = math.inf
            continue
        mean_d, mean, C_ff, C_fy = _centred(sums, shift, n, m, ff_index, fy_index, sum_yc, g)
        if mode == FITNESS_SCALED:
            sse = 0.0
            terms = 0.0
            for j in range(m):
                s_ff = C_ff[j, j]
                scale = 0.0 if _is_constant(s_ff, n, mean[j]) else C_fy[j, j] / s_ff
                sse += max(s_yy[j] - scale * C_fy[j, j], 0.0)
                terms += s_yy[j] + abs(scale * C_fy[j, j])
                weights[g, j, j] = scale
                offsets[g, j] = -scale * mean_d[j]
            fitness[g] = sse / (n * m)
            rescore[g] = terms > 0.0 and not sse > CANCELLATION * terms
            continue
        kept = np.empty(m, dtype=np.int64)
        count = 0
        for j in range(m):
            if not _is_constant(C_ff[j, j], n, mean[j]):
                kept[count] = j
                count += 1
        if count == 0:
            fitness[g] = h_sst / (n * T)
            continue
        norm = np.empty(count)
        for r in range(count):
            norm[r] = math.sqrt(C_ff[kept[r], kept[r]])
        G = np.empty((count, count))
        C = np.empty((count, T))
        for r in range(count):
            for s in range(count):
                G[r, s] = C_ff[kept[r], kept[s]] / (norm[r] * norm[s])
            for t in range(T):
                C[r, t] = C_fy[kept[r], t] / norm[r]
        V = solve_ridge(G, C, ridge)
        if not np.all(np.isfinite(V)):
            fitness[g] = math.inf
            continue
        sse, terms = closed_form_sse(G, C, V, h_sst)
        for r in range(count):
            for t in range(T):
                weights[g, kept[r], t] = V[r, t] / norm[r]
                offsets[g, t] -= V[r, t] / norm[r] * mean_d[kept[r]]
        rescore[g] = terms > 0.0 and not sse > CANCELLATION * terms
        mse = max(sse, 0.0) / (n * T)
        fitness[g] = mse if math.isfinite(mse) else math.inf
    return fitness, rescore, weights, offsets


def _moment_pairs(mode: int, n_outputs: int, n_targets: int):
    """The (output, output) and (output, target) products summed on the
    device, and where each lands among a genome's sums (-1: not summed)."""
    if mode == FITNESS_SCALED:
        ff = [(j, j) for j in range(n_outputs)]
        fy = [(j, j) for j in range(n_outputs)]
    else:
        ff = [(j, k) for j in range(n_outputs) for k in range(j, n_outputs)]
        fy = [(j, t) for j in range(n_outputs) for t in range(n_targets)]
    ff_index = np.full((n_outputs, n_outputs), -1, dtype=np.int64)
    fy_index = np.full((n_outputs, n_targets), -1, dtype=np.int64)
    for p, (j, k) in enumerate(ff):
        ff_index[j, k] = ff_index[k, j] = n_outputs + p
    for p, (j, t) in enumerate(fy):
        fy_index[j, t] = n_outputs + len(ff) + p
    return (np.array(ff, dtype=np.int32).reshape(-1, 2), np.array(fy, dtype=np.int32).reshape(-1, 2),
            ff_index, fy_index)


# --------------------------------------------------------------------------
# the evaluator
# --------------------------------------------------------------------------

class CudaEvaluator:
    """Fitness of CGP populations on a CUDA GPU, the data kept on the device.

    Parameters
    ----------
    X_rows : array of shape (n_inputs, n_samples)
        Inputs, one row per feature (as :func:`srnet.cgp.evolve.as_feature_rows`
        gives); copied to the device once, in float32.
    Y_rows : array of shape (n_targets, n_samples)
        Targets (centred in float64 on the host, then kept on the device).
    fitness : {"scaled", "lstsq"}
        Per-output linear scaling, or joint ridge least squares (see
        :func:`srnet.cgp.evolve.evolve`).
    ridge : float
        The least-squares ridge, relative to each output's scale.
    threads_per_block : int or None
        A power of two; None: :data:`THREADS_PER_BLOCK` (the simulator's
        :data:`SIMULATOR_THREADS_PER_BLOCK`).
    blocks_per_genome : int or None
        Blocks (slices of the samples) each genome is split into; None: enough
        for :data:`BLOCKS_PER_SM` blocks on each multiprocessor of the GPU.

    Call :meth:`evaluate` once per generation: only the genomes travel.
    """

    def __init__(self, X_rows, Y_rows, fitness: str = "scaled", ridge: float = 1e-8, *,
                 threads_per_block: int | None = None, blocks_per_genome: int | None = None):
        if fitness not in FITNESS_MODES:
            raise ValueError(f"unknown fitness {fitness!r}; valid: {', '.join(FITNESS_MODES)}")
        ridge = check_budget("ridge", ridge, positive=False)  # as the CPU's evaluate_population: True was 1.0
        if threads_per_block is None:
            threads_per_block = SIMULATOR_THREADS_PER_BLOCK if simulating() else THREADS_PER_BLOCK
        if not (_is_count(threads_per_block) and 1 <= threads_per_block <= 1024
                and not threads_per_block & (threads_per_block - 1)):  # a float or a str raised a TypeError here
            raise ValueError(f"threads_per_block must be a power of two in 1..1024, got {threads_per_block!r}")
        if blocks_per_genome is not None and not (_is_count(blocks_per_genome) and blocks_per_genome >= 1):
            raise ValueError(f"blocks_per_genome must be a positive integer or None, got {blocks_per_genome!r}")
        X_rows = check_matrix(X_rows, "X_rows")
        Y_rows = check_matrix(Y_rows, "Y_rows")
        if Y_rows.shape[1] != X_rows.shape[1]:
            raise ValueError(f"X_rows has {X_rows.shape[1]} samples but Y_rows has {Y_rows.shape[1]}")
        # the device holds X in float32: inputs beyond its range scored every genome inf, and inputs that
        # vary by less than its rounding scored as constants, where the CPU's float32 evaluation refuses them
        check_float32_rows(X_rows)
        if not cuda_available():
            raise ValueError("no CUDA GPU is available (numba.cuda.is_available() is False)")
        self.fitness = fitness
        self.mode = FITNESS_MODES[fitness]
        self.ridge = float(ridge)
        self.threads = int(threads_per_block)
        self.n_inputs, self.n_samples = X_rows.shape
        self.n_targets = Y_rows.shape[0]
        Yc = Y_rows - Y_rows.mean(axis=1, keepdims=True)
        self.sum_yc = Yc.sum(axis=1)
        self.s_yy = np.einsum("ti,ti->t", Yc, Yc) - self.sum_yc**2 / self.n_samples
        self._X = cuda.to_device(np.ascontiguousarray(X_rows, dtype=np.float32))
        self._Yc = cuda.to_device(np.ascontiguousarray(Yc))
        self._pairs = {}
        self.blocks_per_genome = blocks_per_genome
        self._multiprocessors = _multiprocessors()

    def _blocks(self, genomes: int) -> tuple[int, int]:
        """(blocks per genome, samples per block) for ``genomes`` genomes."""
        wanted = self.blocks_per_genome or max(1, -(-BLOCKS_PER_SM * self._multiprocessors // max(genomes, 1)))
        blocks = max(1, min(-(-self.n_samples // self.threads), wanted))
        per_block = -(-self.n_samples // blocks)
        return -(-self.n_samples // per_block), per_block

    def evaluate(self, spec, nodes, outputs, constants):
        """Fitness of a population of ``spec`` genomes, like
        :func:`srnet.cgp.evolve.evaluate_population` with ``precision="float32"``.

        Parameters
        ----------
        nodes, outputs, constants : int arrays of shape (P, n_nodes, 3), (P, n_outputs), (P, n_constants)

        Returns
        -------
        fitness : ndarray of shape (P,)
        n_active : ndarray of shape (P,), int64
        """
        # a plain cast wrapped 2**32 to the valid address 0 and truncated 0.7 to 0: a silent wrong genome
        nodes, outputs, constants = _genes(nodes, "nodes"), _genes(outputs, "outputs"), _genes(constants, "constants")
        self._check_population(spec, nodes, outputs, constants)
        population, m = outputs.shape
        program, count, operands, constant_values = compile_programs(nodes, outputs, constants, spec.pool_array,
                                                                     ARITIES, spec.n_inputs)
        if population == 0:
            return np.empty(0), count
        longest = max(int(count.max()), 1)
        program = np.ascontiguousarray(program[:, :longest])
        key = (m, self.n_targets)
        if key not in self._pairs:
            self._pairs[key] = _moment_pairs(self.mode, m, self.n_targets)
        pairs_ff, pairs_fy, ff_index, fy_index = self._pairs[key]
        n_sums = m + len(pairs_ff) + len(pairs_fy)
        # sized by the spec, not by this population's longest program: one compilation per
        # spec, before a search's clock starts, rather than one each time programs grow
        kernels = _kernels(_next_power_of_two(max(longest, spec.n_nodes), 8), _next_power_of_two(m, 1),
                           _next_power_of_two(n_sums, 1), self.threads)
        n_sources = spec.n_inputs + spec.n_constants
        d_program, d_count = cuda.to_device(program), cuda.to_device(count)
        d_operands, d_constants = cuda.to_device(operands), cuda.to_device(constant_values)
        genome_args = (d_program, d_count, d_operands, d_constants, self._X, n_sources)

        d_shift = cuda.device_array((population, m), dtype=np.float64)
        kernels.first_outputs[-(-population // self.threads), self.threads](*genome_args, d_shift)
        d_sums = cuda.device_array((population, n_sums), dtype=np.float64)
        d_ff, d_fy = cuda.to_device(pairs_ff), cuda.to_device(pairs_fy)
        for first in range(0, population, MAX_GRID_Y):
            rows = min(MAX_GRID_Y, population - first)
            blocks, per_block = self._blocks(rows)
            d_partial = cuda.device_array((rows, blocks, n_sums), dtype=np.float64)
            kernels.moments[(blocks, rows), self.threads](*genome_args, d_shift, self._Yc, d_ff, d_fy, per_block,
                                                          first, d_partial)
            kernels.reduce_blocks[-(-rows * n_sums // self.threads), self.threads](d_partial, first, d_sums)
        sums = d_sums.copy_to_host()
        shift = d_shift.copy_to_host()
        fitness, rescore, weights, offsets = finish_fitness(sums, shift, self.n_samples, self.mode, self.ridge,
                                                            ff_index, fy_index, self.sum_yc, self.s_yy)
        which = np.flatnonzero(rescore)
        if which.size:
            fitness[which] = self._rescore(kernels, genome_args, d_shift, which, weights[which], offsets[which], m)
        return fitness, count

    def _rescore(self, kernels, genome_args, d_shift, which, weights, offsets, m):
        """Fitness of genomes ``which`` from a pass over their residuals."""
        sse = np.empty(which.size)
        d_sse = cuda.device_array((which.size, 1), dtype=np.float64)
        for first in range(0, which.size, MAX_GRID_Y):
            rows = min(MAX_GRID_Y, which.size - first)
            blocks, per_block = self._blocks(rows)
            d_partial = cuda.device_array((rows, blocks, 1), dtype=np.float64)
            part = slice(first, first + rows)
            d_which = cuda.to_device(which[part].astype(np.int64))
            d_weights = cuda.to_device(np.ascontiguousarray(weights[part]))
            d_offsets = cuda.to_device(np.ascontiguousarray(offsets[part]))
            kernels.residuals[(blocks, rows), self.threads](*genome_args, d_shift, self._Yc, d_which, d_weights,
                                                            d_offsets, per_block, d_partial)
            kernels.reduce_blocks[-(-rows // self.threads), self.threads](d_partial, first, d_sse)
        sse[:] = d_sse.copy_to_host()[:, 0]
        outputs = m if self.mode == FITNESS_SCALED else self.n_targets
        mse = sse / (self.n_samples * outputs)
        return np.where(np.isfinite(mse), mse, np.inf)

    def _check_population(self, spec, nodes, outputs, constants):
        if spec.n_inputs != self.n_inputs:
            raise ValueError(f"X_rows has {self.n_inputs} input rows but the genome spec expects {spec.n_inputs}")
        if self.mode == FITNESS_SCALED and self.n_targets != spec.n_outputs:
            raise ValueError(f"scaled fitness needs one target row per output: {self.n_targets} rows, "
                             f"{spec.n_outputs} outputs")
        check_population(spec, nodes, outputs, constants)


def evaluate_population_cuda(spec, nodes, outputs, constants, X_rows, Y_rows, *, fitness: str = "scaled",
                             ridge: float = 1e-8):
    """Fitness of a whole population on a CUDA GPU, in float32: what
    :func:`srnet.cgp.evolve.evaluate_population` computes with
    ``precision="float32"``.  Copies the data to the device on every call:
    keep a :class:`CudaEvaluator` across generations instead.

    Returns (fitness (P,), n_active (P,)).
    """
    return CudaEvaluator(X_rows, Y_rows, fitness, ridge).evaluate(spec, nodes, outputs, constants)
