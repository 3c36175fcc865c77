"""srnet/cgp/evolve.py's checks and counts, pinned where mutation testing found them unread (mutmut 3.8.1, a
seeded sample of 60 of 1062 mutants: 48 killed before, 5 equivalent; the GPU search's counts are pinned in
tests/test_cuda_evaluator.py, which runs the CUDA simulator)."""

import numpy as np
import pytest

from srnet.cgp import Genome, GenomeSpec, evaluate_population, evolve, fitness_of


def _copy_input_genome(spec: GenomeSpec, address: int = 0) -> Genome:
    """A genome whose single output reads input ``address`` directly."""
    nodes = np.zeros((spec.n_nodes, 3), dtype=np.int32)  # add(x0, x0) everywhere (inactive)
    return Genome(spec, nodes, np.array([address], dtype=np.int32), np.zeros(spec.n_constants, dtype=np.int32))


def test_a_float32_search_accepts_a_constant_input_row():
    """A constant input cannot lose variation to float32 rounding: it is accepted
    (kills check_float32_rows `0 < spread**2` -> `0 <= spread**2`)."""
    spec = GenomeSpec(n_inputs=2, n_columns=5, functions=("add", "mul"))
    x = np.linspace(-1.0, 1.0, 40)
    X_rows, Y_rows = np.vstack([x, np.full_like(x, 3.0)]), (2.0 * x + 1.0)[None]
    g = _copy_input_genome(spec, 0)
    fitness, _ = evaluate_population(spec, g.nodes[None], g.outputs[None], g.constants[None], X_rows, Y_rows,
                                     precision="float32")
    assert fitness[0] < 1e-10
    result = evolve(spec, X_rows, Y_rows, max_generations=3, random_state=0, n_threads=1, precision="float32")
    assert np.isfinite(result.fitness)


def test_evaluate_population_evaluates_in_the_requested_precision():
    """precision="float32" rounds the inputs to float32 before evaluating: the
    score of the exact formula y = x is float32 rounding, not float64's zero
    (kills evaluate_population dropping `dtype=dtype` from the X cast)."""
    spec = GenomeSpec(n_inputs=1, n_columns=5, functions=("add", "mul"))
    x = np.linspace(0.1, 1.0, 64) / 3.0
    X_rows, Y_rows = x[None], x[None].copy()
    g = _copy_input_genome(spec, 0)
    population = (g.nodes[None], g.outputs[None], g.constants[None])
    f64, _ = evaluate_population(spec, *population, X_rows, Y_rows, precision="float64")
    f32, _ = evaluate_population(spec, *population, X_rows, Y_rows, precision="float32")
    assert f32[0] == fitness_of(g, X_rows, Y_rows, precision="float32")
    assert f64[0] == fitness_of(g, X_rows, Y_rows, precision="float64")
    assert f32[0] > 100 * f64[0] and f32[0] > 0


def test_evaluate_population_counts_active_nodes_as_integers():
    """n_active is an integer count (kills `np.zeros(count, dtype=np.int64)` -> float64 zeros)."""
    spec = GenomeSpec(n_inputs=1, n_columns=6, functions=("add", "mul", "sin"))
    genomes = [Genome.random(spec, np.random.default_rng(s)) for s in range(4)]
    x = np.linspace(-1.0, 1.0, 20)
    _, n_active = evaluate_population(spec, np.stack([g.nodes for g in genomes]),
                                      np.stack([g.outputs for g in genomes]),
                                      np.stack([g.constants for g in genomes]), x[None], np.sin(x)[None])
    assert n_active.dtype == np.int64
    assert n_active.tolist() == [g.n_active() for g in genomes]


def test_evolve_defaults_to_the_estimators_four_offspring():
    """evolve's default lambda is CGPRegressor's (4): the same seed gives the
    same run with and without n_offspring=4 (kills the default 4 -> 5)."""
    from srnet.estimators import CGPRegressor

    spec = GenomeSpec(n_inputs=1, n_columns=10, functions=("add", "mul", "sin"))
    x = np.linspace(-2.0, 2.0, 30)
    X_rows, Y_rows = x[None], (np.sin(x) + x * x)[None]
    implicit = evolve(spec, X_rows, Y_rows, max_generations=40, random_state=1, mutation="single")
    explicit = evolve(spec, X_rows, Y_rows, max_generations=40, random_state=1, mutation="single",
                      n_offspring=CGPRegressor().n_offspring)
    assert CGPRegressor().n_offspring == 4
    # single-active mutation evaluates every offspring: 1 (the first parent) + lambda per generation
    assert implicit.evaluations == explicit.evaluations == 1 + 40 * 4
    assert np.array_equal(implicit.genome.nodes, explicit.genome.nodes)


def test_adopting_a_migrant_that_ties_the_best_keeps_the_migrant():
    """Ties go to the newcomer in adopt as in step (the latest genome of equal
    fitness is kept), so the kept genome is the parent the island continues
    from (kills `fitness <= self.fitness` -> `<` in CGPSearch.adopt)."""
    from srnet.cgp.evolve import FITNESS_MODES, MUTATIONS, CGPSearch

    spec = GenomeSpec(n_inputs=1, n_columns=10, functions=("add", "mul", "sin"))
    x = np.linspace(-2.0, 2.0, 30)
    X_rows, Y_rows = x[None], np.sin(x)[None]
    search = CGPSearch(spec, X_rows, Y_rows, mode=FITNESS_MODES["scaled"], ridge=1e-8, n_offspring=4,
                       operator=MUTATIONS["point"], mutation_rate=0.05, run_seed=11, restart_after=None,
                       initial=None, parallel=False, threads=1)
    migrant = Genome.random(spec, np.random.default_rng(99))
    assert not np.array_equal(migrant.nodes, search.best.nodes)
    search.adopt(migrant, search.fitness)
    assert np.array_equal(search.best.nodes, migrant.nodes)
    assert np.array_equal(search.best.outputs, migrant.outputs)
    assert search.best is not migrant  # a copy: the island mutates its parent in place


def test_fitness_of_in_float32_refuses_data_float32_cannot_tell_apart_as_evolve_does():
    """fitness_of(precision="float32") scored x0 - 1e6 for x0 = 1e6 + U(0, 8) as a constant (5.55) and inputs
    beyond float32's range as inf, silently, where evolve and evaluate_population refuse both in one line."""
    spec = GenomeSpec(n_inputs=1, n_columns=5, functions=("add", "mul"))
    genome = _copy_input_genome(spec, 0)
    x = 1e6 + np.linspace(0, 8, 50)
    assert fitness_of(genome, x[None], (x - 1e6)[None]) == 0.0
    with pytest.raises(ValueError, match=r"^input 0 varies by .* in float32 that is rounding"):
        fitness_of(genome, x[None], (x - 1e6)[None], precision="float32")
    far = np.linspace(1e39, 2e39, 50)
    with pytest.raises(ValueError, match=r"^input 0 reaches 2e\+39, beyond float32's range"):
        fitness_of(genome, far[None], far[None], precision="float32")
