"""The GPU population evaluator (srnet.cgp.gpu) against the CPU evaluator.

Everywhere: the host halves (decoding genomes into programs, fitness from the
device's sums) against the CPU engine, and the whole evaluator under numba's
CUDA simulator, in a subprocess (NUMBA_ENABLE_CUDASIM must be set before
numba.cuda is first imported), on small populations that fire every
protection.  On a machine with a CUDA GPU: the real device, on larger data.
"""

import json
import sys

import numpy as np
import pytest
from _cudasim import cpu_reference, hand_genome, run_simulated, stack

from srnet.cgp import Genome, GenomeSpec, _kernels, evolve, fitness_of, outputs_of
from srnet.cgp.gpu import (
    FITNESS_MODES,
    CudaEvaluator,
    _moment_pairs,
    compile_programs,
    cuda_available,
    finish_fitness,
    simulating,
)
from srnet.cgp.primitives import ARITIES, PRIMITIVE_CODES, PRIMITIVES

ALL_FUNCTIONS = tuple(PRIMITIVE_CODES)


def cases():
    """(name, spec, genomes, X_rows, Y_rows, fitness, blocks_per_genome) checked on the simulator:
    random genomes over every primitive, and programs that fire each protection."""
    rng = np.random.default_rng(7)
    x = np.concatenate([np.linspace(-6.0, 6.0, 33), [0.0, 1e-12, -1e-12, 2.0, 4.5]])
    X1 = x[None, :]

    # one input, one output; address 0 = x, 1 = the constant, nodes from 2
    spec = GenomeSpec(n_inputs=1, n_outputs=1, n_columns=12, functions=ALL_FUNCTIONS, n_constants=1)
    protected = [
        hand_genome(spec, [("sub", 0, 0), ("div", 0, 2)], [3]),                 # x / 0 = 1: a constant output
        hand_genome(spec, [("neg", 0, 0), ("log", 2, 0)], [3]),                 # log|-x|, 0 at x = 0
        hand_genome(spec, [("sub", 0, 0), ("log", 2, 0)], [3]),                 # log 0 = 0: constant
        hand_genome(spec, [("cube", 0, 0), ("exp", 2, 0)], [3]),                # exp(x^3), clipped at exp(80)
        hand_genome(spec, [("cube", 0, 0), ("exp", 2, 0), ("square", 3, 0)], [4]),  # overflows float32: inf
        hand_genome(spec, [], [0]),                                             # x itself
        hand_genome(spec, [], [1], [3]),                                        # the constant 0.5
        hand_genome(spec, [("sin", 0, 0)], [2]),                                # y's own shape: rescored
        hand_genome(spec, [("square", 0, 0), ("neg", 2, 0), ("exp", 3, 0), ("div", 0, 4)], [5]),  # /~0 far out
        hand_genome(spec, [("sigmoid", 0, 0), ("tanh", 2, 0), ("tan", 3, 0), ("abs", 4, 0), ("sqrt", 0, 0),
                           ("mul", 5, 6), ("cos", 7, 0), ("sub", 8, 1)], [9], [2]),
    ]
    random = [Genome.random(spec, rng) for _ in range(14)]
    y = 2.5 * np.sin(x) + 1.0
    yield "scaled", spec, protected + random, X1, y[None, :], "scaled", None

    spec2 = GenomeSpec(n_inputs=1, n_outputs=2, n_columns=10, functions=ALL_FUNCTIONS, n_constants=1)
    two = [hand_genome(spec2, [("sin", 0, 0), ("square", 0, 0)], [2, 3]),     # both near perfect
           hand_genome(spec2, [("sin", 0, 0)], [1, 2]),                       # a constant output
           hand_genome(spec2, [("square", 0, 0), ("exp", 2, 0), ("cube", 3, 0)], [4, 3])]  # inf in one
    Y2 = np.vstack([np.sin(x) - 3.0, 0.5 * x**2])
    yield "scaled_two_outputs", spec2, two + [Genome.random(spec2, rng) for _ in range(6)], X1, Y2, "scaled", 3

    # two inputs, three outputs, two targets; addresses 0, 1 = x0, x1, 2 = constant, nodes from 3
    spec3 = GenomeSpec(n_inputs=2, n_outputs=3, n_columns=10, functions=ALL_FUNCTIONS, n_constants=1)
    X2 = np.vstack([x, np.cos(3.0 * x)])
    Y3 = np.vstack([2.0 * np.sin(x) + x**2 - X2[1], x**2 - 1.0])
    lstsq = [hand_genome(spec3, [("sin", 0, 0), ("square", 0, 0)], [3, 4, 1]),  # exact: rescored
             hand_genome(spec3, [], [0, 0, 2]),                                # collinear outputs, a constant
             hand_genome(spec3, [], [2, 2, 2]),                                # all constant: SST
             hand_genome(spec3, [("cube", 0, 0), ("exp", 3, 0), ("cube", 4, 0)], [5, 0, 1])]  # inf
    yield "lstsq", spec3, lstsq + [Genome.random(spec3, rng) for _ in range(6)], X2, Y3, "lstsq", 2


# --------------------------------------------------------------------------
# the simulator, in a subprocess
# --------------------------------------------------------------------------

def simulator_results() -> dict:
    """Run in the subprocess: the evaluator on every case; a bad population's error."""
    assert simulating() and cuda_available()
    results = {}
    for name, spec, genomes, X_rows, Y_rows, fitness, blocks in cases():
        evaluator = CudaEvaluator(X_rows, Y_rows, fitness, blocks_per_genome=blocks)
        values, n_active = evaluator.evaluate(spec, *stack(genomes))
        results[name] = {"fitness": values.tolist(), "n_active": n_active.tolist()}
    nodes, outputs, constants = stack(genomes)
    try:
        evaluator.evaluate(spec, nodes[:, :-1], outputs, constants)
    except ValueError as error:
        results["bad_shape"] = str(error)
    results["evolve"] = [_evolve_on_the_gpu() for _ in range(2)]
    results["chunks"] = _chunk_counts()
    return results


def _chunk_counts() -> list:
    """(generations, evaluations, node evaluations, parent) of a GPU search with single-active mutation run as
    one chunk of 4 generations and as four chunks of 1."""
    from srnet.cgp.driver import Limits
    from srnet.cgp.evolve import FITNESS_MODES, MUTATIONS, CudaCGPSearch

    spec, X_rows, Y_rows = _evolve_problem()
    searches = [CudaCGPSearch(spec, X_rows[:, :8], Y_rows[:, :8], fitness="scaled", mode=FITNESS_MODES["scaled"],
                              ridge=1e-8, n_offspring=2, operator=MUTATIONS["single"], mutation_rate=0.05,
                              run_seed=5, restart_after=None, initial=None) for _ in range(2)]
    searches[0].step(Limits(generations=4, evaluations=None, deadline=None, target_fitness=0.0))
    for _ in range(4):
        searches[1].step(Limits(generations=1, evaluations=None, deadline=None, target_fitness=0.0))
    return [[s.generation, s.evaluations, s.node_evaluations, s.parent.nodes.tolist()] for s in searches]


def _evolve_on_the_gpu() -> dict:
    """A short evolve(device="cuda") run, as JSON."""
    spec, X_rows, Y_rows = _evolve_problem()
    result = evolve(spec, X_rows, Y_rows, max_generations=6, device="cuda", random_state=3)
    return {"nodes": result.genome.nodes.tolist(), "outputs": result.genome.outputs.tolist(),
            "constants": result.genome.constants.tolist(), "fitness": result.fitness,
            "history": result.history[:, 3].tolist(), "generations": result.generations,
            "evaluations": result.evaluations}


def _evolve_problem():
    spec = GenomeSpec(n_inputs=1, n_columns=8, functions=("add", "mul", "sin", "div"))
    X_rows = np.linspace(-2.0, 2.0, 48)[None, :]
    return spec, X_rows, np.sin(X_rows) + X_rows**2


@pytest.fixture(scope="module")
def simulated():
    return run_simulated(__file__)


@pytest.mark.slow
@pytest.mark.parametrize("case", ["scaled", "scaled_two_outputs", "lstsq"])
def test_simulated_gpu_evaluator_matches_the_cpu_in_float32(simulated, case):
    name, spec, genomes, X_rows, Y_rows, fitness, _ = next(c for c in cases() if c[0] == case)
    expected, n_active = cpu_reference(spec, genomes, X_rows, Y_rows, fitness)
    got = np.array(simulated[case]["fitness"])
    assert simulated[case]["n_active"] == n_active.tolist()
    np.testing.assert_allclose(got, expected, rtol=2e-4, atol=1e-9 * Y_rows.var(axis=1).sum())
    assert np.isinf(got).any() and np.isfinite(got).any()  # the cases reach both


@pytest.mark.slow
def test_simulated_gpu_evaluator_protections_and_constant_outputs(simulated):
    _, spec, genomes, X_rows, Y_rows, _, _ = next(cases())
    got = np.array(simulated["scaled"]["fitness"][:10])
    variance = Y_rows.var()
    # x / 0, log 0 and the constant 0.5 are constant outputs: the fit is the mean, the MSE the variance
    assert got[0] == pytest.approx(variance, rel=1e-12)
    assert got[2] == pytest.approx(variance, rel=1e-12)
    assert got[6] == pytest.approx(variance, rel=1e-12)
    assert np.isfinite(got[3]) and got[4] == np.inf  # exp clipped at 80 stays finite, its square does not
    assert got[7] < 1e-9 * variance  # sin x fits 2.5 sin x + 1 up to float32 rounding
    assert "nodes has shape" in simulated["bad_shape"]


# --------------------------------------------------------------------------
# the host halves, in this process
# --------------------------------------------------------------------------

def interpret(program, count, operands, constant_values, X_rows, n_sources):
    """Outputs of a decoded program, by the primitive table's NumPy forms (float64)."""
    n_inputs = X_rows.shape[0]

    def value(operand, values):
        if operand < n_inputs:
            return X_rows[operand]
        if operand < n_sources:
            return np.full(X_rows.shape[1], float(constant_values[operand - n_inputs]))
        return values[operand - n_sources]

    values = []
    for op, a, b in program[:count]:
        values.append(PRIMITIVES[op].numpy(value(a, values), value(b, values)))
    return np.array([value(o, values) for o in operands])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_every_primitive_has_the_scalar_body_the_device_compiles(dtype):
    """The table's scalar(a, b) is its NumPy form element by element, protections included."""
    a = np.array([-1e3, -90.0, -3.0, -1.0, -1e-12, 0.0, 1e-12, 0.5, 2.0, 81.0, 1e3, np.nan, np.inf], dtype=dtype)
    b = np.array([2.0, 0.0, 1e-11, -3.0, 1.0, 0.0, 5.0, -1e-12, 0.25, 7.0, -2.0, 1.0, 1.0], dtype=dtype)
    for primitive in PRIMITIVES:
        got = np.array([primitive.scalar(x, y) for x, y in zip(a, b)], dtype=dtype)
        np.testing.assert_allclose(got, primitive.numpy(a, b).astype(dtype), rtol=4e-7, equal_nan=True,
                                   err_msg=primitive.name)


def test_decoded_programs_compute_the_genomes_outputs():
    spec = GenomeSpec(n_inputs=2, n_outputs=2, n_columns=25, levels_back=8, n_constants=2,
                      functions=("add", "sub", "mul", "div", "sin", "cos", "sqrt", "square", "log"))
    rng = np.random.default_rng(3)
    genomes = [Genome.random(spec, rng) for _ in range(30)]
    X_rows = rng.uniform(-2.0, 2.0, (2, 64))
    program, count, operands, constants = compile_programs(*stack(genomes), spec.pool_array, ARITIES, spec.n_inputs)
    assert count.tolist() == [g.n_active() for g in genomes]
    assert constants.dtype == np.float32 and program.dtype == np.int32
    for g, genome in enumerate(genomes):
        assert all(program[g, k, 1] < spec.n_sources + k and program[g, k, 2] < spec.n_sources + k
                   for k in range(count[g]))  # operands are inputs, constants or earlier active nodes
        got = interpret(program[g], count[g], operands[g], constants[g], X_rows, spec.n_sources)
        np.testing.assert_allclose(got, outputs_of(genome, X_rows), rtol=1e-9, atol=1e-12)


def device_sums(F, Y_rows, mode):
    """What the device sums for outputs F (float32, m x n): a NumPy oracle of the moments kernel."""
    m, T = F.shape[0], Y_rows.shape[0]
    pairs_ff, pairs_fy, ff_index, fy_index = _moment_pairs(mode, m, T)
    shift = F[:, :1].astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        d = F.astype(np.float64) - shift
        Yc = Y_rows - Y_rows.mean(axis=1, keepdims=True)
        sums = np.concatenate([d.sum(axis=1), [(d[j] * d[k]).sum() for j, k in pairs_ff],
                               [(d[j] * Yc[t]).sum() for j, t in pairs_fy]])
    return sums[None, :], shift.T, ff_index, fy_index, Yc


@pytest.mark.parametrize("fitness", ["scaled", "lstsq"])
def test_fitness_from_the_sums_is_the_cpu_fitness_of_float32_outputs(fitness):
    mode = FITNESS_MODES[fitness]
    rng = np.random.default_rng(11)
    x = rng.uniform(-3.0, 3.0, 200)
    Y_rows = np.vstack([np.sin(x) + 0.1 * x, x**2 + 1.0])
    F_cases = [np.vstack([np.sin(x) + 0.1 * x, x**2]),                  # near perfect: rescored
               np.vstack([np.full_like(x, 3.0), x]),                     # a constant output
               np.vstack([1000.0 + 1e-3 * x, np.cos(x)]),                # a large mean, small spread
               np.vstack([x, 2.0 * x]),                                  # collinear
               np.vstack([np.full_like(x, 1.0), np.full_like(x, -2.0)]),  # all constant
               np.vstack([x, np.where(x > 2.5, np.inf, x)]),             # not finite
               rng.normal(size=(2, 200))]
    for F in F_cases:
        F = F.astype(np.float32)
        expected = _kernels.fitness_of(F, Y_rows, mode, 1e-8)
        sums, shift, ff_index, fy_index, Yc = device_sums(F, Y_rows, mode)
        s_yy = (Yc**2).sum(axis=1)
        values, rescore, weights, offsets = finish_fitness(sums, shift, x.size, mode, 1e-8, ff_index, fy_index,
                                                           Yc.sum(axis=1), s_yy)
        got = values[0]
        if rescore[0]:  # the residual pass, in NumPy
            d = F.astype(np.float64) - shift.T
            residual = Yc - offsets[0][:, None] - np.einsum("jt,ji->ti", weights[0], d)
            got = (residual**2).sum() / (x.size * Y_rows.shape[0])
        # (the CPU sums float32 rows in float32 for the least-squares means: 1000 + 1e-3 x loses digits there)
        assert got == pytest.approx(expected, rel=1e-4, abs=1e-12 * s_yy.sum()), F[:, :3]
    # the near-perfect fit's closed form cancels: it is rescored from its residuals
    sums, shift, ff_index, fy_index, Yc = device_sums(F_cases[0].astype(np.float32), Y_rows, mode)
    assert finish_fitness(sums, shift, x.size, mode, 1e-8, ff_index, fy_index, Yc.sum(axis=1),
                          (Yc**2).sum(axis=1))[1][0]


@pytest.mark.parametrize("fitness", ["scaled", "lstsq"])
def test_a_near_perfect_fit_keeps_its_digits_next_to_a_large_target_offset(fitness):
    """Outputs are shifted and summed in float64: a perfect fit to x^2 + 1000 scores
    what the exact float64 fitness of the same float32 outputs is (~1e-15), not
    float32 rounding of the offset."""
    mode = FITNESS_MODES[fitness]
    x = np.random.default_rng(2).uniform(-3.0, 3.0, 300)
    Y_rows = np.vstack([np.sin(x), x**2 + 1000.0])
    F = np.vstack([np.sin(x), x**2]).astype(np.float32)
    exact = _kernels.fitness_of(F.astype(np.float64), Y_rows, mode, 1e-8)
    sums, shift, ff_index, fy_index, Yc = device_sums(F, Y_rows, mode)
    _, rescore, weights, offsets = finish_fitness(sums, shift, x.size, mode, 1e-8, ff_index, fy_index,
                                                  Yc.sum(axis=1), (Yc**2).sum(axis=1))
    assert rescore[0]
    residual = Yc - offsets[0][:, None] - np.einsum("jt,ji->ti", weights[0], F.astype(np.float64) - shift.T)
    assert (residual**2).sum() / (2 * x.size) == pytest.approx(exact, rel=1e-6, abs=1e-20)
    assert exact < 1e-13


def test_bad_settings_are_refused_in_one_line():
    X_rows, Y_rows = np.ones((1, 10)), np.ones((1, 10))
    with pytest.raises(ValueError, match="unknown fitness 'mse'"):
        CudaEvaluator(X_rows, Y_rows, "mse")
    with pytest.raises(ValueError, match="ridge must be"):
        CudaEvaluator(X_rows, Y_rows, "lstsq", -1.0)
    with pytest.raises(ValueError, match="threads_per_block must be a power of two"):
        CudaEvaluator(X_rows, Y_rows, threads_per_block=96)
    with pytest.raises(ValueError, match="blocks_per_genome"):
        CudaEvaluator(X_rows, Y_rows, blocks_per_genome=0)
    with pytest.raises(ValueError, match="X_rows has 10 samples but Y_rows has 9"):
        CudaEvaluator(X_rows, np.ones((1, 9)))
    with pytest.raises(ValueError, match="NaN/inf"):
        CudaEvaluator(np.full((1, 10), np.nan), Y_rows)


@pytest.mark.slow
def test_evolve_on_the_simulated_gpu_is_reproducible_and_reports_the_float64_fitness(simulated):
    """evolve(device="cuda"): mutation and selection on the host, scores on the
    device; the same seed gives the same genome, and the fitness returned is
    the genome's own, recomputed in float64 on the host."""
    first, second = simulated["evolve"]
    assert first == second
    spec, X_rows, Y_rows = _evolve_problem()
    genome = Genome(spec, np.array(first["nodes"], np.int32), np.array(first["outputs"], np.int32),
                    np.array(first["constants"], np.int32))
    assert first["fitness"] == fitness_of(genome, X_rows, Y_rows)
    assert first["generations"] == 6 and first["evaluations"] >= 1
    assert np.all(np.diff(first["history"][:-1]) <= 0)


@pytest.mark.slow
def test_a_gpu_search_counts_every_generation_of_a_chunk_and_mutates_as_asked(simulated):
    """Single-active mutation evaluates every offspring of every generation, and the counts do not depend on
    where chunks end (mutation testing: counting only a chunk's last generation, or passing no mutation
    operator, which ran point mutation, survived every test)."""
    one_chunk, four_chunks = simulated["chunks"]
    assert one_chunk[:2] == four_chunks[:2] == [4, 1 + 4 * 2]  # the first parent, then 2 offspring a generation
    assert one_chunk[2] == four_chunks[2] and one_chunk[3] == four_chunks[3]


def test_evolve_on_cuda_without_a_gpu_is_refused_in_one_line_and_auto_stays_on_the_cpu():
    from srnet.cgp.evolve import GPU_MIN_SAMPLES, choose_device

    spec, X_rows, Y_rows = _evolve_problem()
    assert choose_device("auto", 1000) == "cpu"
    assert choose_device("auto", GPU_MIN_SAMPLES) == ("cuda" if cuda_available() else "cpu")
    with pytest.raises(ValueError, match="unknown device 'gpu'"):
        choose_device("gpu", 10)
    if not cuda_available():
        with pytest.raises(ValueError, match="no CUDA GPU is available"):
            evolve(spec, X_rows, Y_rows, max_generations=2, device="cuda")


def test_cuda_available_answers_without_raising():
    assert isinstance(cuda_available(), bool)


# --------------------------------------------------------------------------
# a real GPU
# --------------------------------------------------------------------------

needs_gpu = pytest.mark.skipif(simulating() or not cuda_available(), reason="no CUDA GPU")


@needs_gpu
@pytest.mark.parametrize("fitness", ["scaled", "lstsq"])
def test_gpu_matches_the_cpu_on_larger_data(fitness):
    spec = GenomeSpec(n_inputs=2, n_outputs=2, n_columns=40, levels_back=10, functions=ALL_FUNCTIONS,
                      n_constants=2)
    rng = np.random.default_rng(5)
    genomes = [Genome.random(spec, rng) for _ in range(64)]
    X_rows = rng.uniform(-3.0, 3.0, (2, 50_000))
    Y_rows = np.vstack([np.sin(X_rows[0]) * X_rows[1], X_rows[0] ** 2])
    evaluator = CudaEvaluator(X_rows, Y_rows, fitness)
    got, n_active = evaluator.evaluate(spec, *stack(genomes))
    expected, expected_active = cpu_reference(spec, genomes, X_rows, Y_rows, fitness)
    assert np.array_equal(n_active, expected_active)
    close = np.isclose(got, expected, rtol=1e-3, atol=1e-9 * Y_rows.var(axis=1).sum())
    # libdevice's sin/cos/tan differ from the CPU's float32 kernels by an ulp or two,
    # which a chaotic program (tan near its poles) may amplify: almost all agree
    assert close.mean() >= 0.95, np.flatnonzero(~close)
    again, _ = evaluator.evaluate(spec, *stack(genomes))
    assert np.array_equal(got, again)  # no atomics: the same sums in the same order


if __name__ == "__main__":  # the simulator subprocess of the fixture above
    import warnings

    # every simulated CUDA thread is a Python thread, and the simulator polls them:
    # with the GIL handed over every 5 ms (the default) it mostly waits
    sys.setswitchinterval(1e-4)
    warnings.simplefilter("ignore", RuntimeWarning)  # NaN and inf of the protected cases, in NumPy scalars
    print(json.dumps(simulator_results()))
