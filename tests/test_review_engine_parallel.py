"""Review of the parallel engine: the GPU evaluator's settings and data checks
(srnet.cgp.gpu), islands (srnet.cgp.islands) and the driver (srnet.cgp.driver).

The GPU checks run before the evaluator looks for a GPU, so they hold (and
are tested) on a machine without one."""

import math
import warnings

import numpy as np
import pytest

from srnet.cgp import Genome, GenomeSpec
from srnet.cgp.driver import Limits, run
from srnet.cgp.evolve import check_float32_rows, evaluate_population
from srnet.cgp.gpu import FITNESS_MODES, CudaEvaluator
from srnet.cgp.islands import Islands

X_ROWS = np.linspace(-1.0, 1.0, 10)[None, :]


# --------------------------------------------------------------------------
# the GPU evaluator
# --------------------------------------------------------------------------

@pytest.mark.parametrize("settings, match", [
    (dict(threads_per_block=4.0), "threads_per_block must be a power of two"),   # was a TypeError from `&`
    (dict(threads_per_block="4"), "threads_per_block must be a power of two"),   # was a TypeError from `<`
    (dict(threads_per_block=True), "threads_per_block must be a power of two"),  # was 1 thread per block
    (dict(blocks_per_genome=True), "blocks_per_genome must be a positive integer"),  # was 1 block
    (dict(ridge=True), "ridge must be a number, got True"),                      # was a ridge of 1.0
])
def test_cuda_evaluator_refuses_settings_of_the_wrong_type_in_one_line(settings, match):
    with pytest.raises(ValueError, match=match):
        CudaEvaluator(X_ROWS, X_ROWS**2, **settings)


@pytest.mark.parametrize("X_rows, match", [
    (np.linspace(1e39, 2e39, 10)[None, :], "beyond float32's range"),         # every genome scored inf
    (1e6 + np.linspace(0.0, 1e-6, 10)[None, :], "in float32 that is rounding"),  # x scored as a constant
])
def test_cuda_evaluator_refuses_inputs_float32_cannot_hold_as_the_cpu_float32_evaluation_does(X_rows, match):
    """The device holds X in float32; evaluate_population(precision="float32") refuses such inputs,
    the GPU evaluator scored them silently (inf for all, or a copy of x as a constant)."""
    with pytest.raises(ValueError, match=match):
        CudaEvaluator(X_rows, np.vstack([np.arange(10.0)]))


def _population_with(name: str, value):
    """A spec and a population of one random genome, as int64 or float arrays, whose gene array ``name`` ends
    in ``value`` (the last output, or the last node's last gene)."""
    spec = GenomeSpec(n_inputs=1, n_columns=3, functions=("add", "mul"))
    genome = Genome.random(spec, np.random.default_rng(0))
    genes = {"nodes": genome.nodes[None].astype(np.int64), "outputs": genome.outputs[None].astype(np.int64),
             "constants": genome.constants[None]}
    genes[name] = genes[name].astype(type(value))
    genes[name].flat[-1] = value
    return spec, genes


@pytest.mark.parametrize("name, value", [("outputs", 2**32), ("outputs", 0.7), ("nodes", 2**32 + 1)])
def test_cuda_evaluator_refuses_genes_that_are_not_their_own_int32_value(name, value):
    """evaluate() cast the genes to int32 before checking them: 2**32 wrapped to the valid address 0,
    0.7 truncated to 0, and a wrong genome was scored silently (the checks run before the device is
    touched: an evaluator made without __init__ stands in for one on a GPU)."""
    spec, genes = _population_with(name, value)
    evaluator = object.__new__(CudaEvaluator)
    evaluator.n_inputs, evaluator.n_targets, evaluator.mode = 1, 1, FITNESS_MODES["scaled"]
    with pytest.raises(ValueError, match=f"invalid genome: {name} must hold whole numbers within int32"):
        evaluator.evaluate(spec, genes["nodes"], genes["outputs"], genes["constants"])


@pytest.mark.parametrize("name, value", [("outputs", 2**32), ("outputs", 0.7), ("nodes", 2**32 + 1)])
def test_the_cpu_evaluator_refuses_genes_that_are_not_their_own_int32_value(name, value):
    """evaluate_population cast the genes to int32 as the GPU evaluator did: a wrong genome scored silently."""
    spec, genes = _population_with(name, value)
    with pytest.raises(ValueError, match=f"invalid genome: {name} must hold whole numbers within int32"):
        evaluate_population(spec, genes["nodes"], genes["outputs"], genes["constants"], X_ROWS, X_ROWS**2)


def test_float32_inputs_near_the_float64_limit_are_refused_without_an_overflow_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="beyond float32's range"):
            check_float32_rows(np.array([[1e300, -1e300, 5e299]]))


# --------------------------------------------------------------------------
# islands
# --------------------------------------------------------------------------

class Member:
    """A strategy that runs the generations it is given and never improves."""

    def __init__(self, fitness):
        self.generation = self.evaluations = self.node_evaluations = self.restarts = 0
        self.fitness = self.parent_fitness = fitness
        self.parent = self.best = f"genome of fitness {fitness}"
        self.steps = 0

    def step(self, limits):
        self.steps += 1
        self.generation += limits.generations
        self.evaluations += limits.generations

    def adopt(self, parent, fitness):
        self.parent, self.parent_fitness = parent, fitness

    def settle(self):
        pass


@pytest.mark.parametrize("n_threads, match", [
    (0, "n_threads must be > 0, got 0"),
    (-2, "n_threads must be > 0, got -2"),
    (math.nan, "n_threads must be a finite number"),
    (True, "n_threads must be a number, got True"),
    (1.5, "n_threads must be a whole number, got 1.5"),
    ("2", "n_threads must be a number, got '2'"),
])
def test_islands_refuse_a_bad_thread_count_in_one_line(n_threads, match):
    """int() took 0, -2, True and 1.5 for one thread and "2" for two; NaN said only
    'cannot convert float NaN to integer'."""
    with pytest.raises(ValueError, match=match):
        Islands([Member(1.0), Member(2.0)], n_threads=n_threads)


def test_islands_refuse_bad_intervals_and_no_members_in_one_line():
    with pytest.raises(ValueError, match="migrate_every must be > 0, got -4"):  # was accepted
        Islands([Member(1.0)], n_threads=1, migrate_every=-4, meet_every=2)
    with pytest.raises(ValueError, match="migrate_every must be > 0, got 0"):  # named meet_every (None)
        Islands([Member(1.0)], n_threads=1, migrate_every=0)
    with pytest.raises(ValueError, match="meet_every must be a whole number, got 2.5"):  # was truncated to 2
        Islands([Member(1.0)], n_threads=1, migrate_every=10, meet_every=2.5)
    with pytest.raises(ValueError, match="at least one member"):  # was min() of an empty sequence, at the end
        Islands([], n_threads=1)
    assert Islands([Member(1.0), Member(2.0)], n_threads=2.0).n_threads == 2  # a whole float is fine


def test_islands_migrate_only_after_running_to_the_migration_generation():
    """A step whose time was out before any chunk ran migrated at generation 0 (and again at every
    such step): the worst island took the best one's parent without a single generation run."""
    members = [Member(1.0), Member(2.0)]
    islands = Islands(members, n_threads=1, migrate_every=10)
    for _ in range(2):
        islands.step(Limits(None, None, 0.0, -math.inf))  # a deadline already passed
    assert islands.generation == 0 and islands.migrations == 0
    assert members[1].parent == "genome of fitness 2.0" and members[1].steps == 0
    islands.step(Limits(None, None, None, -math.inf))  # to the meeting at 10: migrates once
    assert islands.generation == 10 and islands.migrations == 1 and members[1].parent == "genome of fitness 1.0"


# --------------------------------------------------------------------------
# the driver
# --------------------------------------------------------------------------

@pytest.mark.parametrize("target", [None, "0.5", True, np.True_])
def test_run_refuses_a_target_fitness_that_is_not_a_number_in_one_line(target):
    """float() raised its own message for None, and took "0.5" and True (a target of 1.0, met at once)."""
    member = Member(0.5)
    with pytest.raises(ValueError, match="target_fitness must be a number"):
        run(member, max_generations=3, target_fitness=target)
    assert member.steps == 0


def test_run_refuses_a_callback_that_is_not_callable_before_the_first_step():
    """It failed with "'int' object is not callable" only after the first step (a whole chunk of search)."""
    member = Member(0.5)
    with pytest.raises(TypeError, match="callback must be callable or None, got 5"):
        run(member, max_generations=3, callback=5)
    assert member.steps == 0
    assert run(member, max_generations=3, target_fitness=np.float32(0.25)).stop_reason == "max_generations"
