"""A chunk of generations near the deadline is sized by what a generation costs when every offspring is
evaluated: a chunk's mean cost is far lower after generations whose mutations changed no active gene, and
16384 generations at such a mean ran 0.46 s past a 0.25 s search."""
import time

import numpy as np

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
    search.chunk = 4096
    search.generation_seconds = 1e-9  # a mean of mostly unevaluated generations
    search.evaluated_generation_seconds = 0.01
    search.step(Limits(generations=None, evaluations=None, deadline=time.perf_counter() + 0.055, target_fitness=0.0))
    assert 1 <= search.generation <= 5  # the mean alone allowed all 4096


def test_the_evaluated_generation_cost_is_measured_per_evaluation():
    search = a_search()
    for _ in range(5):
        search.step(Limits(generations=None, evaluations=None, deadline=None, target_fitness=0.0))
    per_generation = search.evaluated_generation_seconds
    assert per_generation > 0 and np.isfinite(per_generation)
    # at least the mean: a generation evaluates at most n_offspring genomes
    assert per_generation >= search.generation_seconds * 0.999


def test_warm_up_loads_the_kernel_that_scores_a_search_s_first_genome():
    """It was loaded inside the first search's setup (0.15-0.8 s of a direct search's share, and a first
    estimate of a generation's cost far too high)."""
    import subprocess
    import sys

    code = ("import numpy as np; from srnet.cgp import _kernels; _kernels.warm_up(np.float64); "
            "_kernels.warm_up(np.float32); print(sorted(str(s[0].dtype) for s in _kernels.fitness_of.signatures))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['float32', 'float64']"
