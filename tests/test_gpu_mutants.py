"""Tests that kill survivors of a mutation-testing sample of the host-side functions of ``srnet/cgp/gpu.py``.

Sample: mutmut 3.8.1 mutants of the module (``only_mutate = ["srnet/cgp/gpu.py"]``): 600, all host-side (mutmut skips
decorated functions, so the ``@njit`` host kernels and ``_kernels``, whose ``@cuda.jit`` kernels are defined inside a
``@functools.cache`` function, get none).  40 drawn with ``random.Random(6060)``: over the sorted names of each of its
14 functions, two each (``simulating`` has one) and thirteen more shared by mutant count (evaluate 5, __init__ 3,
_rescore 2, _moment_pairs, _blocks and _branch 1).  Each was run alone (MUTANT_UNDER_TEST, ``-n 0 -x``, from inside
mutants/, whose simulator subprocess imports the mutated code: tests/_cudasim.py's run_simulated puts its own
checkout, mutants/, first on the subprocess's PYTHONPATH) against tests/test_cuda_evaluator.py,
tests/test_review_engine_parallel.py and tests/test_engine_edge_cases.py.  Twelve survived.  Ten are killed
here: x__device__mutmut_2, x__multiprocessors__mutmut_2, x_cuda_available__mutmut_2,
x_evaluate_population_cuda__mutmut_9 and _18, xǁCudaEvaluatorǁ__init____mutmut_21, _53 and _56,
xǁCudaEvaluatorǁ_blocks__mutmut_11, xǁCudaEvaluatorǁevaluate__mutmut_136 (and, with it, the chunked loops of
``evaluate`` and ``_rescore``).  Two are equivalent, both only under numba's CUDA simulator:
x__device__mutmut_1 (``simulating() and False``: simulated device functions wrapped in the simulator's
``cuda.jit(device=True)`` rather than called directly: slower, the same values) and x__multiprocessors__mutmut_1
(the simulator reports 1 multiprocessor, not 0: a few more simulated blocks per genome, the same sums up to the
order of float64 additions).
Each test names the mutant it kills and what a user would see go wrong.

Host-side tests fake a GPU in this process (numba.cuda's device queries and copies monkeypatched: no driver is
needed); the ones that run kernels use numba's CUDA simulator in a subprocess, as tests/test_cuda_evaluator.py does.
"""

import json
import sys
import types

import numpy as np
import pytest
from _cudasim import cpu_reference, hand_genome, run_simulated, stack

import srnet.cgp.gpu as gpu
from srnet.cgp import Genome, GenomeSpec

#: The multiprocessors of the fake GPU (an H100 has 132).
FAKE_MULTIPROCESSORS = 132


@pytest.fixture
def fake_gpu(monkeypatch):
    """This process as a host with a CUDA GPU of FAKE_MULTIPROCESSORS multiprocessors: not the simulator, a driver
    that answers, and device copies that stay host arrays (enough for everything but a kernel launch)."""
    monkeypatch.setattr(gpu, "simulating", lambda: False)
    monkeypatch.setattr(gpu.cuda, "is_available", lambda: True)
    monkeypatch.setattr(gpu.cuda, "get_current_device",
                        lambda: types.SimpleNamespace(MULTIPROCESSOR_COUNT=FAKE_MULTIPROCESSORS))
    monkeypatch.setattr(gpu.cuda, "to_device", np.array)


def _data(n_samples):
    x = np.linspace(-3.0, 3.0, n_samples)[None, :]
    return x, np.sin(x)


# --------------------------------------------------------------------------
# the host, with a (fake) GPU
# --------------------------------------------------------------------------

def test_an_evaluator_on_a_gpu_asks_the_device_for_its_multiprocessors(fake_gpu):
    """x__multiprocessors__mutmut_2 (``int(None)`` for the device's MULTIPROCESSOR_COUNT): every CudaEvaluator on a
    real GPU (so every ``evolve(device="cuda")``) died with a TypeError before scoring anything; the simulator, which
    all other tests use, never asks."""
    assert gpu._multiprocessors() == FAKE_MULTIPROCESSORS
    assert gpu.CudaEvaluator(*_data(1000))._multiprocessors == FAKE_MULTIPROCESSORS


def test_an_evaluator_on_a_gpu_runs_full_blocks_not_the_simulators_four_threads(fake_gpu):
    """xǁCudaEvaluatorǁ__init____mutmut_21 (``simulating() or True``): on a real GPU the default block was
    the simulator's 4 threads, not THREADS_PER_BLOCK = 128: the same fitness, with 1/8 of each warp working (and 32x
    the blocks, each summed and reduced)."""
    evaluator = gpu.CudaEvaluator(*_data(1000))
    assert evaluator.threads == gpu.THREADS_PER_BLOCK == 128
    assert gpu.CudaEvaluator(*_data(1000), threads_per_block=32).threads == 32  # an explicit size is kept


def test_the_default_split_gives_every_multiprocessor_blocks_to_run(fake_gpu):
    """xǁCudaEvaluatorǁ_blocks__mutmut_11 (``-(+BLOCKS_PER_SM * ...)``, a floor turned negative, so the
    wanted blocks per genome was always 1): each genome ran as one block of 128 threads over all the samples, and a
    small population (5 genomes on 132 multiprocessors) kept 5 of them busy, the rest idle.

    Hand-derived, 10 000 samples, 128 threads: 5 genomes want ceil(32 * 132 / 5) = 845 blocks, capped by
    ceil(10 000 / 128) = 79 blocks of a thread's worth each: 79 blocks of ceil(10 000 / 79) = 127 samples.
    1000 genomes want ceil(4224 / 1000) = 5 blocks: 5 of 2000 samples.  blocks_per_genome overrides the split."""
    evaluator = gpu.CudaEvaluator(*_data(10_000))
    assert evaluator._blocks(5) == (79, 127)
    assert evaluator._blocks(1000) == (5, 2000)
    assert evaluator._blocks(100_000) == (1, 10_000)
    assert gpu.CudaEvaluator(*_data(10_000), blocks_per_genome=2)._blocks(5) == (2, 5000)


def test_device_functions_are_compiled_for_the_device_off_the_simulator(fake_gpu):
    """x__device__mutmut_2 (``simulating() or True``: the Python function itself, always): on a real GPU the
    kernels called the primitive table's dispatch (``_branch``/``_leaf`` closures) as plain Python functions, which
    a CUDA kernel cannot call: compiling the kernels failed, so the evaluator never scored a genome.  (numba.cuda
    wraps a device function lazily: no driver is needed to see the wrapper.)"""
    from numba.cuda.dispatcher import CUDADispatcher

    def add(a, b):
        return a + b

    device = gpu._device(add)
    assert device is not add and isinstance(device, CUDADispatcher)


def test_a_broken_cuda_install_means_no_gpu_and_auto_stays_on_thecpu_reference(monkeypatch):
    """x_cuda_available__mutmut_2 (an exception from numba.cuda.is_available() answered True): with a broken driver
    or toolkit, ``evolve(device="auto")`` on large data chose the GPU and then failed, instead of searching on the
    CPU; ``device="cuda"`` failed deep in numba instead of with "no CUDA GPU is available"."""
    from numba.cuda.cudadrv.error import CudaSupportError

    from srnet.cgp.evolve import GPU_MIN_SAMPLES, choose_device

    def broken():
        raise CudaSupportError("Error at driver init: the driver and the toolkit disagree")

    monkeypatch.setattr(gpu.cuda, "is_available", broken)
    assert gpu.cuda_available() is False
    assert choose_device("auto", GPU_MIN_SAMPLES) == "cpu"
    with pytest.raises(ValueError, match="no CUDA GPU is available"):
        gpu.CudaEvaluator(*_data(100))


@pytest.mark.parametrize("Y_rows, message", [
    (np.arange(10.0), "Y_rows must be 2-D"),
    (np.array([[0.0, 1.0, np.nan] + [1.0] * 7]), "Y_rows contains 1 NaN/inf value"),
])
def test_bad_targets_are_named_y_rows(Y_rows, message):
    """xǁCudaEvaluatorǁ__init____mutmut_56 and _53 (the name check_matrix reports: "XXY_rowsXX", None):
    targets that are not a finite 2-D array were refused as "XXY_rowsXX must be 2-D ..." or "None contains 1 NaN/inf
    value ...", which names no argument of the call.  (The data are checked before the evaluator looks for a GPU.)"""
    with pytest.raises(ValueError, match=f"^{message}"):
        gpu.CudaEvaluator(np.linspace(0.0, 1.0, 10)[None, :], Y_rows)


# --------------------------------------------------------------------------
# the simulator, in a subprocess
# --------------------------------------------------------------------------

def _lstsq_problem():
    """Two outputs fitted jointly to one target (address 0 = x, 1 = the constant, nodes from 2)."""
    spec = GenomeSpec(n_inputs=1, n_outputs=2, n_columns=6, n_constants=1,
                      functions=("add", "sub", "mul", "sin", "cos", "square", "exp"))
    x = np.linspace(-2.0, 2.0, 23)[None, :]
    genomes = [hand_genome(spec, [("sin", 0, 0), ("square", 0, 0)], [2, 3]),      # the target's own terms
               hand_genome(spec, [("cos", 0, 0)], [0, 2]),
               hand_genome(spec, [("exp", 0, 0), ("mul", 0, 0)], [2, 1], [3]),   # and a constant output
               Genome.random(spec, np.random.default_rng(4))]
    return spec, genomes, x, 2.0 * np.sin(x) + 0.5 * x**2 + 1.0


def _scaled_problem():
    """Seven genomes of one output, four of them exact fits of the target (so rescored from their residuals)."""
    spec = GenomeSpec(n_inputs=1, n_columns=5, n_constants=1, functions=("add", "sub", "sin", "neg", "square"))
    x = np.linspace(-3.0, 3.0, 29)[None, :]
    genomes = [hand_genome(spec, [("sin", 0, 0)], [2]),                       # exact
               hand_genome(spec, [("square", 0, 0)], [2]),
               hand_genome(spec, [("sin", 0, 0), ("neg", 2, 0)], [3]),        # exact, a negative scale
               hand_genome(spec, [], [0]),
               hand_genome(spec, [("sin", 0, 0), ("add", 2, 1)], [3], [2]),   # exact, shifted by a constant
               hand_genome(spec, [("square", 0, 0), ("sin", 0, 0), ("sub", 3, 2)], [4]),
               hand_genome(spec, [("neg", 0, 0), ("sin", 2, 0)], [3])]        # exact: sin(-x)
    return spec, genomes, x, 2.5 * np.sin(x) + 1.0


def simulator_results() -> dict:
    """Run in the subprocess: the one-call evaluator, and an evaluation split into launches of at most 2 genomes."""
    assert gpu.simulating() and gpu.cuda_available()
    results = {}
    spec, genomes, X_rows, Y_rows = _lstsq_problem()
    try:
        fitness, n_active = gpu.evaluate_population_cuda(spec, *stack(genomes), X_rows, Y_rows, fitness="lstsq",
                                                         ridge=0.1)
        results["one_call"] = {"fitness": fitness.tolist(), "n_active": n_active.tolist()}
    except Exception as error:  # noqa: BLE001  (reported to the test)
        results["one_call"] = f"{type(error).__name__}: {error}"

    spec, genomes, X_rows, Y_rows = _scaled_problem()
    evaluator = gpu.CudaEvaluator(X_rows, Y_rows, "scaled", blocks_per_genome=3)
    rescored = []
    rescore = evaluator._rescore
    evaluator._rescore = lambda kernels, genome_args, d_shift, which, *rest: (
        rescored.append(which.tolist()) or rescore(kernels, genome_args, d_shift, which, *rest))
    whole = evaluator.evaluate(spec, *stack(genomes))[0]
    max_grid_y, gpu.MAX_GRID_Y = gpu.MAX_GRID_Y, 2  # as a population beyond 65535 genomes is split
    try:
        chunked = evaluator.evaluate(spec, *stack(genomes))[0].tolist()
    except Exception as error:  # noqa: BLE001  (reported to the test)
        chunked = f"{type(error).__name__}: {error}"
    finally:
        gpu.MAX_GRID_Y = max_grid_y
    results["chunks"] = {"whole": whole.tolist(), "chunked": chunked, "rescored": rescored}
    return results


@pytest.fixture(scope="module")
def simulated():
    return run_simulated(__file__)


def test_evaluate_population_cuda_scores_as_the_cpu_with_the_fitness_and_ridge_asked(simulated):
    """x_evaluate_population_cuda__mutmut_18 (the ridge passed as the fitness) and _9 (the nodes left out): the
    one-call GPU evaluator raised "unknown fitness 0.1" or a TypeError for every population; no test called it."""
    spec, genomes, X_rows, Y_rows = _lstsq_problem()
    expected, n_active = cpu_reference(spec, genomes, X_rows, Y_rows, "lstsq", ridge=0.1)
    got = simulated["one_call"]
    assert isinstance(got, dict), got  # else the error the call raised
    assert got["n_active"] == n_active.tolist()
    np.testing.assert_allclose(got["fitness"], expected, rtol=2e-4, atol=1e-9 * Y_rows.var())
    # the ridge of 0.1 shows: the exact fit of genome 0 is not exact any more
    assert expected[0] > 1e-6 * Y_rows.var()


def test_a_population_split_into_several_launches_scores_as_one_launch(simulated):
    """xǁCudaEvaluatorǁevaluate__mutmut_136 (``rows = min(MAX_GRID_Y, population + first)``): a population
    of more than MAX_GRID_Y = 65535 genomes (the most blocks a grid's y dimension holds), run as several launches,
    had every launch after the first as wide as the first, past the end of the population: an IndexError in the
    simulator, reads and writes beyond the arrays on a GPU.  Shown with MAX_GRID_Y = 2 on 7 genomes (launches of
    2, 2, 2, 1), whose 4 exact fits are also rescored in launches of 2: the same fitness, to the bit, as one launch,
    and the CPU's."""
    spec, genomes, X_rows, Y_rows = _scaled_problem()
    chunks = simulated["chunks"]
    assert chunks["chunked"] == chunks["whole"]  # (or the error the split evaluation raised)
    assert chunks["rescored"] == [[0, 2, 4, 6]] * 2  # both evaluations rescore the four exact fits
    expected, _ = cpu_reference(spec, genomes, X_rows, Y_rows, "scaled")
    np.testing.assert_allclose(chunks["whole"], expected, rtol=2e-4, atol=1e-9 * Y_rows.var())


if __name__ == "__main__":  # the simulator subprocess of the fixture above
    import warnings

    sys.setswitchinterval(1e-4)  # every simulated CUDA thread is a Python thread (see test_cuda_evaluator.py)
    warnings.simplefilter("ignore", RuntimeWarning)
    print(json.dumps(simulator_results()))
