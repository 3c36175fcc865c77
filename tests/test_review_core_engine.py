"""Review of the core engine: genomes, mutation, the (1+lambda) strategy and the layer-wise search,
each against a pure-Python (NumPy) oracle, and the defects the review found (one test each)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from srnet.cgp import _kernels
from srnet.cgp.evolve import MUTATIONS, evolve, fitness_of, outputs_of, seed_from
from srnet.cgp.genome import Genome, GenomeSpec, validity_problem
from srnet.cgp.primitives import ARITIES
from srnet.layers import LayerwiseSearch, fit_layer_programs, layer_approximation, make_specs, paper_fitness

FUNCTIONS = ("add", "sub", "mul", "sin", "tanh")


# ----------------------------------------------------------------- oracles
def oracle_active(genome: Genome) -> list[int]:
    """The nodes an output depends on, by a walk from the outputs."""
    n_sources = genome.spec.n_sources
    active, stack = set(), [int(o) for o in genome.outputs if o >= n_sources]
    while stack:
        node = stack.pop() - n_sources
        if node in active:
            continue
        active.add(node)
        code = genome.nodes[node, 0]
        stack += [int(a) for a in genome.nodes[node, 1:1 + ARITIES[code]] if a >= n_sources]
    return sorted(active)


def active_genes_differ(parent: Genome, child: Genome) -> bool:
    """Whether ``child`` differs from ``parent`` in a gene active in the parent."""
    if (child.outputs != parent.outputs).any():
        return True
    used = {int(o) for o in parent.outputs}
    for node in oracle_active(parent):
        arity = ARITIES[parent.nodes[node, 0]]
        if (child.nodes[node, :1 + arity] != parent.nodes[node, :1 + arity]).any():
            return True
        used |= {int(a) for a in parent.nodes[node, 1:1 + arity]}
    return any(child.constants[c] != parent.constants[c] for c in range(parent.spec.n_constants)
               if parent.spec.n_inputs + c in used)


def mutants(genome: Genome, operator: str, rate: float, seed: int, generation: int, count: int):
    spec = genome.spec
    nodes = np.empty((count, spec.n_nodes, 3), np.int32)
    outputs = np.empty((count, spec.n_outputs), np.int32)
    constants = np.empty((count, spec.n_constants), np.int32)
    changed = np.empty(count, np.bool_)
    _kernels.mutate(spec.grid(), spec.function_codes, ARITIES, genome.nodes, genome.outputs, genome.constants,
                    MUTATIONS[operator], rate, seed, generation, nodes, outputs, constants, changed)
    return nodes, outputs, constants, changed


def oracle_evolve(spec, X, Y, random_state, max_generations, n_offspring, mutation, rate, restart_after=None,
                  target=0.0):
    """The documented (1+lambda) strategy, in Python: ties go to the offspring (neutral drift), the first
    best offspring is taken, restarts after ``restart_after`` generations without improvement keep the
    best, an evaluation is the initial parent, each restart and each offspring that changed an active gene."""
    run_seed = seed_from(random_state)
    restarts = 0
    parent = Genome.random(spec, np.random.default_rng([run_seed, 0]))
    parent_fitness = fitness_of(parent, X, Y)
    best, best_fitness = parent.copy(), parent_fitness
    evaluations, last_improvement, generation = 1, 0, 0
    while generation < max_generations and best_fitness > target:
        if restart_after is not None and generation - last_improvement >= restart_after:
            restarts += 1
            parent = Genome.random(spec, np.random.default_rng([run_seed, restarts]))
            parent_fitness = fitness_of(parent, X, Y)
            evaluations += 1
            last_improvement = generation
        nodes, outputs, constants, changed = mutants(parent, mutation, rate, run_seed + restarts, generation,
                                                     n_offspring)
        scores = []
        for i in range(n_offspring):
            if changed[i]:
                evaluations += 1
                scores.append(fitness_of(Genome(spec, nodes[i], outputs[i], constants[i]), X, Y))
            else:
                scores.append(parent_fitness)
        pick = int(np.argmin(scores))
        if scores[pick] <= parent_fitness:
            if scores[pick] < parent_fitness:
                last_improvement = generation + 1
            parent = Genome(spec, nodes[pick].copy(), outputs[pick].copy(), constants[pick].copy())
            parent_fitness = scores[pick]
        generation += 1
        if parent_fitness <= best_fitness:
            best, best_fitness = parent.copy(), parent_fitness
    return best, best_fitness, generation, evaluations, restarts


def numpy_layer(F, H, ridge):
    """The README's layer map: ridge least squares [F, 1] -> H on standardised outputs (constant outputs
    dropped); returns (mse, approximation)."""
    n = F.shape[1]
    if not np.all(np.isfinite(F)):
        return math.inf, np.full(H.shape, np.nan)
    mean = F.mean(axis=1)
    centred = F - mean[:, None]
    ss = (centred ** 2).sum(axis=1)
    keep = ss > 1e-20 * (ss + n * mean ** 2)
    h_mean = H.mean(axis=1)[:, None]
    approximation = np.repeat(h_mean, n, axis=1)
    if keep.any():
        Z = centred[keep] / np.sqrt(ss[keep])[:, None]
        V = np.linalg.solve(Z @ Z.T + ridge * np.eye(int(keep.sum())), Z @ (H - h_mean).T)
        approximation = V.T @ Z + h_mean
    return float(((H - approximation) ** 2).sum() / H.size), approximation


def oracle_layerwise(specs, X, targets, run_seed, generations, n_offspring, rate, ridge, selection, teacher_forcing):
    """MNNCGP-ES in Python: each layer in order picks the first best of its offspring (and, under "drift",
    the parent's chromosome, last) on the layer before it; the chain replaces the parent when better (or
    as good, under "drift")."""
    rng = np.random.default_rng([run_seed, 0])
    parent = [Genome.random(spec, rng) for spec in specs]

    def score(genome, layer_input, k):
        """The engine's score (its least squares, checked against NumPy's to 1e-7) and the approximation the
        next layer reads: two codes of least squares differ in their last bits, and a near-tie between two
        functions (x + x, 2x) then went either way, by host; with the engine's one score the oracle follows the
        engine's ties and is compared over every generation."""
        F = outputs_of(genome, layer_input) if np.all(np.isfinite(layer_input)) else np.full(
            (genome.spec.n_outputs, X.shape[1]), np.nan)
        mse, approximation = numpy_layer(F, targets[k], ridge)
        if math.isfinite(mse):
            approximation, _, _, engine_mse = layer_approximation(genome.nodes, genome.outputs,
                                                                  genome.constant_values(),
                                                                  np.ascontiguousarray(layer_input), targets[k], ridge)
            # (to 1e-7: with the ridge of 1e-8 a near-singular Gram's two solvers part at 1.5e-9 on numpy 2.4.6)
            assert engine_mse == pytest.approx(mse, rel=1e-7, abs=1e-15)
            mse = engine_mse
        return mse, approximation

    def chain_mses(genomes):
        layer_input, mses = X, []
        for k, genome in enumerate(genomes):
            mse, approximation = score(genome, layer_input, k)
            mses.append(mse)
            layer_input = targets[k] if teacher_forcing else approximation
        return mses

    parent_fitness = paper_fitness(chain_mses(parent))
    for generation in range(generations):
        chain, layer_input = [], X
        for k, spec in enumerate(specs):
            nodes, outputs, constants, _ = mutants(parent[k], "point", rate, run_seed + 7919 * (k + 1), generation,
                                                   n_offspring)
            candidates = [Genome(spec, nodes[i], outputs[i], constants[i]) for i in range(n_offspring)]
            if selection == "drift":
                candidates.append(parent[k])
            scores = [score(c, layer_input, k)[0] for c in candidates]
            pick = candidates[int(np.argmin(scores))]
            chain.append(pick)
            layer_input = targets[k] if teacher_forcing else score(pick, layer_input, k)[1]
        fitness = paper_fitness(chain_mses(chain))
        if fitness < parent_fitness or (fitness == parent_fitness and selection == "drift"):
            parent, parent_fitness = chain, fitness
    return parent, parent_fitness


def layer_problem():
    """Two explained layers: 3 units (the third constant), then one."""
    rng = np.random.default_rng(2)
    X = rng.uniform(-1, 1, (2, 80))
    h1 = np.tanh(np.array([[1.0, -2.0], [0.5, 0.3], [0.0, 0.0]]) @ X + 0.1)
    h1[2] = 0.7
    h2 = (np.sin(h1[0]) * h1[1])[None]
    return X, [np.ascontiguousarray(h1), np.ascontiguousarray(h2)]


def layer_specs(n_outputs, **grid):
    settings = dict(n_rows=1, n_columns=8, levels_back=None)
    settings.update(grid)
    return make_specs(2, [3, 1], form="multi", n_outputs=n_outputs, functions=FUNCTIONS, n_constants=1,
                      constant_pool=(1.0, 2.0), **settings)


def layer_search(specs, X, targets, *, selection="drift", teacher_forcing=False, seed=11, mutation="point",
                 rate=0.15, ridge=1e-8, n_offspring=5):
    return LayerwiseSearch(specs, X, targets, n_offspring=n_offspring, mutation=mutation, mutation_rate=rate,
                           ridge=ridge, teacher_forcing=teacher_forcing, run_seed=seed, n_threads=1,
                           selection=selection)


# ----------------------------------------------------------- genomes, mutation
def random_specs(count, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        yield GenomeSpec(n_inputs=int(rng.integers(1, 4)), n_outputs=int(rng.integers(1, 4)),
                         n_rows=int(rng.integers(1, 4)), n_columns=int(rng.integers(1, 8)),
                         levels_back=[None, 1, 2, 3][rng.integers(4)], n_constants=int(rng.integers(0, 3))), rng


def test_active_nodes_match_a_walk_from_the_outputs():
    for spec, rng in random_specs(150):
        genome = Genome.random(spec, rng)
        assert list(genome.active_nodes()) == oracle_active(genome)


@pytest.mark.parametrize("operator,rate", [("point", 0.3), ("point", 1.0), ("single", 0.1)])
def test_mutants_are_valid_and_flag_exactly_what_changed(operator, rate):
    for trial, (spec, rng) in enumerate(random_specs(60, seed=1)):
        parent = Genome.random(spec, rng)
        nodes, outputs, constants, changed = mutants(parent, operator, rate, 100 + trial, 3, 12)
        for i in range(12):
            child = Genome.__new__(Genome)
            child.spec, child.nodes, child.outputs, child.constants = spec, nodes[i], outputs[i], constants[i]
            assert validity_problem(child) == ""  # levels-back, codes, outputs, constants
            assert changed[i] == active_genes_differ(parent, child)
            if operator == "single":  # always exactly one active gene changed, at the end
                assert changed[i]


def test_point_mutation_changes_each_gene_at_its_rate():
    spec = GenomeSpec(n_inputs=3, n_outputs=2, n_rows=2, n_columns=10, n_constants=2)
    parent = Genome.random(spec, 1)
    for rate in (0.05, 0.4):
        nodes, outputs, constants, _ = mutants(parent, "point", rate, 7, 0, 4000)
        for share in ((nodes != parent.nodes).mean(), (outputs != parent.outputs).mean(),
                      (constants != parent.constants).mean()):
            assert share == pytest.approx(rate, abs=0.025)


# -------------------------------------------------------------- (1+lambda)
@pytest.mark.parametrize("mutation,rate,restart_after", [("point", 0.1, None), ("point", 0.1, 5), ("single", 0.05, 30)])
def test_evolve_is_the_documented_one_plus_lambda(mutation, rate, restart_after):
    rng = np.random.default_rng(1)
    X = rng.uniform(-2, 2, (2, 60))
    Y = (X[0] ** 2 + np.sin(X[1]))[None]
    spec = GenomeSpec(n_inputs=2, n_columns=12)
    for generations in (1, 7, 150):
        result = evolve(spec, X, Y, n_offspring=4, mutation=mutation, mutation_rate=rate,
                        max_generations=generations, random_state=3, restart_after=restart_after)
        genome, fitness, n_gen, evaluations, restarts = oracle_evolve(spec, X, Y, 3, generations, 4, mutation, rate,
                                                                      restart_after)
        assert genome.same_phenotype(result.genome) and result.fitness == fitness
        assert (result.generations, result.evaluations, result.restarts) == (n_gen, evaluations, restarts)


def test_target_fitness_stops_at_the_first_generation_reaching_it():
    rng = np.random.default_rng(1)
    X = rng.uniform(-2, 2, (2, 60))
    Y = (X[0] * X[1] + X[0])[None]
    spec = GenomeSpec(n_inputs=2, n_columns=12)
    for seed, restart_after in ((0, None), (0, 10), (5, None)):
        result = evolve(spec, X, Y, n_offspring=4, max_generations=3000, random_state=seed, target_fitness=1e-20,
                        restart_after=restart_after)
        _, fitness, generations, evaluations, _ = oracle_evolve(spec, X, Y, seed, 3000, 4, "point", 0.05,
                                                                restart_after, target=1e-20)
        assert result.stop_reason == "target_fitness" and result.fitness <= 1e-20 and fitness <= 1e-20
        assert (result.generations, result.evaluations) == (generations, evaluations)


# ------------------------------------------------------------ layer-wise search
@pytest.mark.parametrize("selection,teacher_forcing,n_outputs", [
    ("drift", False, 1), ("drift", True, 1), ("paper", False, 4), ("paper", True, 4)])
def test_layerwise_search_is_the_documented_mnncgp_es(selection, teacher_forcing, n_outputs):
    """Against the Python MNNCGP-ES with NumPy's least squares (n_outputs=4 > 3 units; a constant unit)."""
    X, targets = layer_problem()
    specs = layer_specs(n_outputs)
    search = layer_search(specs, X, targets, selection=selection, teacher_forcing=teacher_forcing)
    genomes, fitness = oracle_layerwise(specs, X, targets, 11, 40, 5, 0.15, 1e-8, selection, teacher_forcing)
    for _ in range(40):
        search.step()
    assert all(a.same_phenotype(b) for a, b in zip(search.best, genomes))
    assert search.fitness == pytest.approx(fitness, rel=1e-9)


@pytest.mark.parametrize("teacher_forcing", [False, True])
def test_layer_errors_and_approximations_are_numpys_least_squares(teacher_forcing):
    X, targets = layer_problem()
    for n_outputs in (2, 5):
        specs = layer_specs(n_outputs, n_rows=2, n_columns=4, levels_back=2)
        search = layer_search(specs, X, targets, teacher_forcing=teacher_forcing, mutation="single", rate=0.1,
                              ridge=1e-6, n_offspring=4, seed=5)
        for _ in range(15):
            search.step()
            layer_input = X
            for k, state in enumerate(search.parent):
                genome = Genome(specs[k], state.nodes, state.outputs, state.constants)
                mse, approximation = numpy_layer(outputs_of(genome, layer_input), targets[k], 1e-6)
                assert state.mse == pytest.approx(mse, rel=1e-8, abs=1e-14)
                np.testing.assert_allclose(state.approximation, approximation, atol=1e-9)
                layer_input = targets[k] if teacher_forcing else state.approximation
            assert search.fitness == paper_fitness(s.mse for s in search.parent)
        _, mses, _ = fit_layer_programs(search.best, X, targets, 1e-6, teacher_forcing)
        assert paper_fitness(mses) == pytest.approx(search.fitness, rel=1e-9)


def test_layerwise_search_is_reproducible_from_its_seed():
    X, targets = layer_problem()
    runs = []
    for _ in range(2):
        search = layer_search(layer_specs(3), X, targets, seed=4)
        for _ in range(20):
            search.step()
        runs.append((search.fitness, search.evaluations, [g.nodes.tolist() for g in search.best]))
    assert runs[0] == runs[1]


def test_a_layerwise_search_counts_its_first_parent_as_evolve_does():
    """The first parent's chromosomes were scored but not counted (evolve counts its first parent)."""
    X, targets = layer_problem()
    specs = layer_specs(3)
    search = layer_search(specs, X, targets, seed=4)
    assert search.evaluations == len(specs)
    assert search.node_evaluations == sum(g.n_active() for g in search.best) * X.shape[1]


# ---------------------------------------------------------------- defects found
def test_an_edited_genome_is_checked_before_the_kernels_read_it():
    """Genome.active_nodes (and describe, n_active) wrote past the activity array for an output edited
    out of the genome (10**8 crashed the interpreter); now one line."""
    genome = Genome.random(GenomeSpec(n_inputs=2, n_columns=4), 1)
    genome.outputs[0] = genome.spec.n_sources + genome.spec.n_nodes + 3
    for method in (genome.active_nodes, genome.describe, genome.n_active):
        with pytest.raises(ValueError, match="outputs holds an address outside the genome"):
            method()


def test_same_phenotype_refuses_genomes_of_another_spec():
    """The same genes over another constant pool compute another formula (x0 + 1 vs x0 + 7): it said True
    (and read past the smaller genome's arrays for another grid)."""
    one = Genome(GenomeSpec(n_inputs=1, n_columns=1, functions=("add",)), [[0, 0, 1]], [2], [0])
    seven = Genome(GenomeSpec(n_inputs=1, n_columns=1, functions=("add",), constant_pool=(7.0,)), [[0, 0, 1]], [2],
                   [0])
    with pytest.raises(ValueError, match="same GenomeSpec"):
        one.same_phenotype(seven)
    with pytest.raises(ValueError, match="same GenomeSpec"):
        one.same_phenotype(Genome.random(GenomeSpec(n_inputs=1, n_columns=6, n_outputs=3), 0))
    assert one.same_phenotype(one.copy())


def test_genome_and_spec_refuse_inputs_of_the_wrong_kind():
    with pytest.raises(ValueError, match="constant_pool must be a sequence of numbers"):
        GenomeSpec(n_inputs=1, constant_pool="12")  # was read as the pool (1.0, 2.0)
    with pytest.raises(ValueError, match="spec must be a GenomeSpec"):
        Genome("spec", [[0, 0, 0]], [0], [0])


def test_evolve_refuses_an_initial_genome_that_is_not_one():
    spec = GenomeSpec(n_inputs=2, n_columns=5)
    X = np.random.default_rng(0).normal(size=(2, 30))
    with pytest.raises(ValueError, match="initial must be a Genome or None, got list"):  # was an AttributeError
        evolve(spec, X, X[:1], initial=[1, 2], max_generations=2)


def test_make_specs_refuses_counts_that_are_not_whole_numbers():
    settings = dict(form="multi", n_rows=1, n_columns=5, levels_back=None, functions=("add",), n_constants=0,
                    constant_pool=())
    for n_outputs in (True, "12", 2.5, [2, 0]):  # True was 1, "12" was [1, 2], 2.5 a TypeError
        with pytest.raises(ValueError, match="n_outputs must be a whole number >= 1"):
            make_specs(2, [3, 1], n_outputs=n_outputs, **settings)
    assert [s.n_outputs for s in make_specs(2, [3, 1], n_outputs=np.array([2, 3]), **settings)] == [2, 3]


def test_layerwise_search_checks_its_arrays_against_its_specs():
    """A layer fed fewer units than its spec reads (or inputs with fewer rows) scored memory past the
    arrays and ran on; samples that disagreed were a numba slicing error; an unknown mutation a KeyError."""
    X, targets = layer_problem()
    specs = layer_specs(2)
    with pytest.raises(ValueError, match="layer 1's targets have 2 rows but layer 2's spec reads 3 inputs"):
        layer_search(specs, X, [targets[0][:2], targets[1]])
    with pytest.raises(ValueError, match="inputs have 1 rows but layer 1's spec reads 2 inputs"):
        layer_search(specs, X[:1], targets)
    with pytest.raises(ValueError, match="layer 2's targets must be a 2-D float64 array"):
        layer_search(specs, X, [targets[0], targets[1][:, :40]])
    with pytest.raises(ValueError, match="targets must be a list of one array per spec"):
        layer_search(specs, X, targets[:1])
    with pytest.raises(ValueError, match="unknown mutation 'pt'"):
        layer_search(specs, X, targets, mutation="pt")


# ------------------------------------------------------- from mutation testing
def test_adopt_continues_from_a_copy_of_the_migrant():
    """Kills layers.py's adopt mutants 7-9 (a member sharing the source island's gene arrays)."""
    X, targets = layer_problem()
    source, member = (layer_search(layer_specs(2), X, targets, seed=seed) for seed in (1, 2))
    source.step()
    member.adopt(source.parent, source.fitness)
    for mine, theirs in zip(member.parent, source.parent):  # equal genes, none of the source's arrays
        for name in ("nodes", "outputs", "constants"):
            assert np.array_equal(getattr(mine, name), getattr(theirs, name))
            assert not np.shares_memory(getattr(mine, name), getattr(theirs, name))
    assert member.fitness == source.fitness


def test_settle_restores_the_parents_own_fitness():
    """Kills layers.py's settle mutants 1-2 (after Ctrl-C the fitness is the kept parent's own)."""
    X, targets = layer_problem()
    search = layer_search(layer_specs(2), X, targets)
    search.step()
    expected = search.fitness
    search.fitness = -1.0  # an update cut short
    search.settle()
    assert search.fitness == expected == paper_fitness(s.mse for s in search.parent)
