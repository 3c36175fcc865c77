"""A chunk of generations near the deadline is sized by what a generation costs when every offspring is
evaluated: a chunk's mean cost is far lower after generations whose mutations changed no active gene, and
16384 generations at such a mean ran 0.46 s past a 0.25 s search."""
import time

import numpy as np
import pytest

from srnet.cgp.driver import Limits
from srnet.cgp.evolve import FITNESS_MODES, MUTATIONS, CGPSearch
from srnet.cgp.genome import GenomeSpec


def a_search():
    X = np.random.default_rng(0).normal(size=(1, 50))
    spec = GenomeSpec(n_inputs=1, n_outputs=1, n_rows=1, n_columns=20, levels_back=20, functions=("add", "mul", "sin"))
    return CGPSearch(spec, X, np.sin(X), mode=FITNESS_MODES["scaled"], ridge=1e-8, n_offspring=4,
                     operator=MUTATIONS["point"], mutation_rate=0.05, run_seed=0, restart_after=None, initial=None,
                     parallel=False, threads=1)


def test_near_the_deadline_a_chunk_is_sized_by_a_fully_evaluated_generation():
    # (target_fitness a float, as the driver makes it: an int compiles another signature of the kernel)
    search = a_search()
    search.chunk = 4096  # as after chunks of mostly unevaluated generations, 1 ns each on average
    search.evaluated_generation_seconds = 0.01
    search.step(Limits(generations=None, evaluations=None, deadline=time.perf_counter() + 0.055, target_fitness=0.0))
    assert 1 <= search.generation <= 5  # the mean alone allowed all 4096


def test_the_evaluated_generation_cost_is_measured_per_evaluation(monkeypatch):
    """A chunk's seconds per evaluation times n_offspring: at least its mean per generation, since a generation
    evaluates at most n_offspring genomes."""
    import importlib
    import types

    evolve_module = importlib.import_module("srnet.cgp.evolve")  # (srnet.cgp.evolve is also the function)

    search = a_search()
    kernel = search._generations
    ran = []

    def recorded(*args):
        ran.append(kernel(*args))
        return ran[-1]

    clock = iter(np.arange(0.0, 100.0, 0.5))  # each chunk takes 0.5 s
    monkeypatch.setattr(evolve_module, "time", types.SimpleNamespace(perf_counter=lambda: next(clock)))
    monkeypatch.setattr(search, "_generations", recorded)
    for _ in range(5):
        search.step(Limits(generations=None, evaluations=None, deadline=None, target_fitness=0.0))
    done, n_eval = next((r[0], r[1]) for r in reversed(ran) if r[1] > 0)  # the last chunk that evaluated any
    assert search.evaluated_generation_seconds == pytest.approx(0.5 / n_eval * 4)
    assert search.evaluated_generation_seconds >= 0.5 / done * 0.999  # at least the mean


def test_warm_up_loads_the_kernel_that_scores_a_search_s_first_genome():
    """It was loaded inside the first search's setup (0.15-0.8 s of a direct search's share, and a first
    estimate of a generation's cost far too high)."""
    import subprocess
    import sys

    code = ("import numpy as np; from srnet.cgp import _kernels; _kernels.warm_up(np.float64); "
            "_kernels.warm_up(np.float32); print(sorted(str(s[0].dtype) for s in _kernels.fitness_of.signatures))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['float32', 'float64']"
