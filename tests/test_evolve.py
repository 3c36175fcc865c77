"""The (1+lambda) driver: reproducibility, stopping rules, restarts, history."""

import numpy as np
import pytest

from srnet.benchmarks import get_benchmark
from srnet.cgp import Genome, GenomeSpec, as_feature_rows, evolve, fitness_of, outputs_of

SPEC = GenomeSpec(n_inputs=1, n_columns=20, functions=("add", "sub", "mul", "div", "sin", "cos"))


@pytest.fixture(scope="module")
def data():
    X, y = get_benchmark("nguyen-5").sample(50, random_state=1)
    return as_feature_rows(X), y[None, :]


@pytest.mark.parametrize("precision", ["float64", "float32"])
@pytest.mark.parametrize("mutation", ["point", "single"])
def test_same_seed_same_result_with_one_thread_or_many(data, mutation, precision):
    """One population gives the same result on any number of threads (they share its evaluation)."""
    runs = [evolve(SPEC, *data, max_generations=300, random_state=5, mutation=mutation, n_threads=t,
                   islands=1, precision=precision) for t in (1, 2, 2)]
    for run in runs[1:]:
        assert np.array_equal(run.genome.nodes, runs[0].genome.nodes)
        assert run.fitness == runs[0].fitness
    other = evolve(SPEC, *data, max_generations=300, random_state=6, mutation=mutation, precision=precision)
    assert not np.array_equal(other.genome.nodes, runs[0].genome.nodes)


@pytest.mark.parametrize("threads", [1, 2])
def test_islands_same_seed_same_result_for_the_same_number_of_islands(data, threads):
    """Islands step in lock step between migrations: a generation budget gives
    the same result however the threads interleave, and the islands' shared
    generation count is the budget."""
    runs = [evolve(SPEC, *data, max_generations=5000, random_state=5, n_threads=threads, islands=3)
            for _ in range(2)]
    assert runs[0].islands == 3 and runs[0].generations == 5000
    assert np.array_equal(runs[0].genome.nodes, runs[1].genome.nodes) and runs[0].fitness == runs[1].fitness
    assert runs[0].fitness == pytest.approx(fitness_of(runs[0].genome, *data), rel=1e-12)
    # three islands evaluate three populations' offspring (only those that changed an active gene count, and
    # how many do depends on each island's genomes: about 2.4-3x one island's here, never near 1x)
    single = evolve(SPEC, *data, max_generations=5000, random_state=5, islands=1)
    assert runs[0].evaluations > 2 * single.evaluations


def test_islands_reaching_the_target_give_the_same_result_however_threads_are_scheduled(data):
    """The island that reaches the target at the earliest generation wins,
    whatever the timing of the threads."""
    X_rows, _ = data
    target = X_rows[:1] ** 2 + 1
    runs = [evolve(SPEC, X_rows, target, max_generations=100000, target_fitness=1e-20, random_state=2,
                   n_threads=2, islands=4) for _ in range(5)]
    assert all(r.stop_reason == "target_fitness" for r in runs)
    for r in runs[1:]:
        assert np.array_equal(r.genome.nodes, runs[0].genome.nodes) and r.generations == runs[0].generations


def test_islands_keep_an_evaluation_budget_within_a_generation_per_island(data):
    result = evolve(SPEC, *data, max_evaluations=200, random_state=0, n_threads=2, islands=3, target_fitness=-1.0)
    assert result.stop_reason == "max_evaluations" and 200 <= result.evaluations < 200 + 3 * 4


def test_small_data_on_several_threads_runs_islands_large_data_shares_the_evaluation():
    from srnet.cgp.evolve import choose_islands

    assert choose_islands(None, 1, 4, 50) == 1
    assert choose_islands(None, None, 4, 50) == 1  # the machine's default threads: one island
    assert choose_islands(None, 4, 4, 50) == 4
    assert choose_islands(None, 4, 4, 10**6) == 1
    assert choose_islands(2, 4, 4, 10**6) == 2
    with pytest.raises(ValueError, match="islands"):
        choose_islands(0, 4, 4, 50)


def test_migration_moves_the_best_parent_to_the_worst_island(data):
    from srnet.cgp.evolve import CGPSearch
    from srnet.cgp.islands import Islands, island_seed

    X_rows, Y_rows = data
    members = [CGPSearch(SPEC, X_rows, Y_rows, mode=0, ridge=1e-8, n_offspring=4, operator=0, mutation_rate=0.05,
                         run_seed=island_seed(3, i), restart_after=None, initial=None, parallel=False, threads=1)
               for i in range(3)]
    islands = Islands(members, n_threads=1)
    fitness = [m.parent_fitness for m in members]
    best, worst = int(np.argmin(fitness)), int(np.argmax(fitness))
    assert fitness[best] < fitness[worst]
    islands.migrate()
    assert members[worst].parent_fitness == fitness[best]
    assert np.array_equal(members[worst].parent.nodes, members[best].parent.nodes)
    assert islands.fitness == min(fitness)


def _island_threads():
    import threading

    return [t for t in threading.enumerate() if t.name.startswith("srnet-island")]


@pytest.mark.parametrize("ending", ["budget", "callback", "error"])
def test_islands_keep_their_threads_between_meetings_and_the_driver_lets_them_go(data, ending):
    """One set of threads serves every meeting (not one per meeting), and the
    run's end, however it comes, shuts them down."""
    from srnet.cgp import driver
    from srnet.cgp.evolve import CGPSearch
    from srnet.cgp.islands import Islands, island_seed

    X_rows, Y_rows = data
    members = [CGPSearch(SPEC, X_rows, Y_rows, mode=0, ridge=1e-8, n_offspring=4, operator=0, mutation_rate=0.05,
                         run_seed=island_seed(3, i), restart_after=None, initial=None, parallel=False, threads=1)
               for i in range(2)]
    islands = Islands(members, n_threads=2, migrate_every=20, meet_every=5)
    seen = []

    def callback(progress):
        seen.append(set(_island_threads()))  # Thread objects: an ident may be reused by a new thread
        if ending == "error" and len(seen) == 3:
            raise RuntimeError("a callback that fails")
        return ending == "callback" and len(seen) == 4

    if ending == "error":
        with pytest.raises(RuntimeError, match="fails"):
            driver.run(islands, max_generations=60, callback=callback)
    else:
        driver.run(islands, max_generations=60, callback=callback)
    assert len(seen) >= 3 and len(set().union(*seen)) <= 2  # the same (at most) two threads at every meeting
    assert islands._executor is None and not _island_threads()


def test_islands_that_lose_the_race_stop_soon_after_the_winner(data):
    """When one island reaches the target, the others learn of it within an
    eighth of the generations run: no island's chunk is longer (chunks sized
    by time alone let them run as long again as the whole run, and two
    islands took as long as one).  The race itself depends on the threads'
    timing, so that the bound really grows past MIN_CHUNK is checked apart,
    on a run that no island can win (deterministic: every chunk is asked)."""
    from srnet.cgp import driver
    from srnet.cgp.evolve import CGPSearch
    from srnet.cgp.islands import MIN_CHUNK, Islands, island_seed, overshoot_bound

    assert [overshoot_bound(g) for g in (0, 100, 512, 800, 80000)] == [MIN_CHUNK, MIN_CHUNK, MIN_CHUNK, 100, 10000]
    X_rows, _ = data
    target = X_rows[:1] ** 3 + X_rows[:1] ** 2  # a target found after hundreds to thousands of generations

    def recorded_islands(seed, target):
        members = [CGPSearch(SPEC, X_rows, target, mode=0, ridge=1e-8, n_offspring=4, operator=0,
                             mutation_rate=0.05, run_seed=island_seed(seed, i), restart_after=None, initial=None,
                             parallel=False, threads=1) for i in range(2)]
        calls = []
        for member in members:
            member.chunk = 1 << 16  # as after a long quick run: time alone would not cut the chunk
            step = member.step

            def recorded(limits, member=member, step=step):
                calls.append((member.generation, limits.generations))
                step(limits)

            member.step = recorded
        return Islands(members, n_threads=2), calls

    for seed in range(3):
        islands, calls = recorded_islands(seed, target)
        driver.run(islands, max_generations=5000, target_fitness=1e-12)
        for generation, chunk in calls:  # so a loser learns of the winner within an eighth of the run
            assert chunk <= overshoot_bound(generation), (seed, generation, chunk)
    unreachable = np.random.default_rng(0).normal(size=target.shape)  # noise: no formula fits it
    islands, calls = recorded_islands(0, unreachable)
    driver.run(islands, max_generations=3000, target_fitness=1e-12)
    assert all(chunk <= overshoot_bound(generation) for generation, chunk in calls)
    assert max(chunk for _, chunk in calls) > MIN_CHUNK  # the bound grew with the generations run
    assert max(generation + chunk for generation, chunk in calls) == 3000  # and no chunk ran past the budget


def test_reported_fitness_is_the_genomes_fitness_and_history_never_worsens(data):
    result = evolve(SPEC, *data, max_generations=500, n_offspring=4, random_state=0, restart_after=100)
    assert result.fitness == pytest.approx(fitness_of(result.genome, *data), rel=1e-12)
    fitness = result.history[:, 3]
    assert np.all(np.diff(fitness) <= 0)
    assert result.history[-1, 0] == result.generations == 500
    assert result.restarts >= 1
    assert result.stop_reason == "max_generations"


def test_float32_search_returns_the_float64_fitness_of_its_genome(data):
    """float32 only speeds the search up: what comes back is measured in float64."""
    X_rows, Y_rows = data
    fast = evolve(SPEC, X_rows, Y_rows, max_generations=2000, random_state=0, precision="float32")
    assert fast.fitness == fitness_of(fast.genome, X_rows, Y_rows)  # exactly: recomputed in float64
    searched = fitness_of(fast.genome, X_rows, Y_rows, precision="float32")  # what the search saw
    assert fast.history[-1, 3] == searched
    assert fast.fitness == pytest.approx(searched, rel=1e-3, abs=1e-9)
    exact = evolve(SPEC, X_rows, Y_rows, max_generations=2000, random_state=0)
    assert exact.fitness < 1e-2 and fast.fitness < 1e-2  # both precisions learn Nguyen-5


def test_fitness_of_evaluates_in_the_precision_asked_not_the_rows_dtype():
    """float32 rows were evaluated in float32 whatever evolve did: x**0.25 at x ~ 1e4 (an exact formula, fitness
    0 in evolve) scored var(y), as a constant output."""
    from srnet.cgp.primitives import PRIMITIVE_CODES

    rng = np.random.default_rng(0)
    X32 = (1e4 + rng.uniform(0, 1, (1, 200))).astype(np.float32)
    Y = np.sqrt(np.sqrt(X32.astype(np.float64)))
    spec = GenomeSpec(n_inputs=1, n_columns=2, functions=("add", "sqrt"), n_constants=0)
    fourth_root = Genome(spec, np.array([[PRIMITIVE_CODES["sqrt"], 0, 0], [PRIMITIVE_CODES["sqrt"], 1, 0]], np.int32),
                         np.array([2], np.int32), np.zeros(0, np.int32))
    assert evolve(spec, X32, Y, initial=fourth_root, max_evaluations=1, random_state=0).fitness == 0.0
    assert fitness_of(fourth_root, X32, Y) == 0.0
    assert fitness_of(fourth_root, X32, Y, precision="float32") > 0  # asked for: float32's rounding


def test_a_time_budget_is_kept_when_one_generation_outlasts_it():
    """The first chunk of generations was 8 whatever a generation cost: on 200k rows x 64 offspring (a generation
    of tens of milliseconds), a 1 ms budget ran 8 of them; a chunk now stops near the deadline, measured per
    generation (at most one more generation than the budget holds, and at least one runs)."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(2, 200_000))
    Y = (X[0] ** 3 / (1 + X[1] ** 2) + np.cos(3 * X[1]))[None]
    spec = GenomeSpec(n_inputs=2, n_columns=100)
    result = evolve(spec, X, Y, max_seconds=0.001, n_offspring=64, random_state=0, n_threads=1)
    assert result.stop_reason == "max_seconds" and 1 <= result.generations <= 2


def test_each_budget_stops_the_run(data):
    assert evolve(SPEC, *data, max_evaluations=200, random_state=0).evaluations in range(200, 205)
    timed = evolve(SPEC, *data, max_seconds=0.3, target_fitness=-1.0, random_state=0)
    assert timed.stop_reason == "max_seconds" and 0.3 <= timed.seconds < 1.5
    X_rows, _ = data
    target = evolve(SPEC, X_rows, X_rows[:1] ** 2 + 1, max_generations=100000, target_fitness=1e-20,
                    random_state=0)
    assert target.stop_reason == "target_fitness" and target.fitness <= 1e-20
    calls = []
    stopped = evolve(SPEC, *data, max_generations=10**6, random_state=0,
                     callback=lambda p: calls.append(p.generation) or len(calls) >= 3)
    assert stopped.stop_reason == "callback" and len(calls) == 3


def test_lstsq_fitness_fits_several_targets_jointly():
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, (100, 2))
    # two targets that are linear maps of sin(x0) and x0*x1
    H = np.column_stack([np.sin(X[:, 0]) + 2 * X[:, 0] * X[:, 1], 3 - np.sin(X[:, 0])])
    spec = GenomeSpec(n_inputs=2, n_outputs=2, n_columns=10, functions=("add", "mul", "sin"))
    result = evolve(spec, as_feature_rows(X), H.T.copy(), fitness="lstsq", ridge=0.0, max_generations=20000,
                    target_fitness=1e-24, random_state=1)
    assert result.fitness < 1e-24 * H.var()
    # the reported fitness is what least squares really achieves with that genome (once, a
    # near-constant output cancelled the closed-form SSE to 0 at generation 3 while this was 3.98)
    F = outputs_of(result.genome, as_feature_rows(X))
    design = np.column_stack([F.T, np.ones(len(X))])
    coef, *_ = np.linalg.lstsq(design, H, rcond=None)
    assert np.mean((H - design @ coef) ** 2) < 1e-20 * H.var()


def test_bad_arguments_are_rejected(data):
    with pytest.raises(ValueError, match="give a budget"):
        evolve(SPEC, *data)
    with pytest.raises(ValueError, match="unknown fitness 'mae'"):
        evolve(SPEC, *data, fitness="mae", max_generations=1)
    with pytest.raises(ValueError, match="X has 2 input rows"):
        evolve(SPEC, np.zeros((2, 50)), data[1], max_generations=1)
    with pytest.raises(ValueError, match="unknown precision 'float16'; valid: float64, float32"):
        evolve(SPEC, *data, max_generations=1, precision="float16")
    with pytest.raises(ValueError, match="50 samples but Y has 3"):
        evolve(SPEC, data[0], np.zeros((1, 3)), max_generations=1)


def test_evolve_and_cgpregressor_share_one_default_mutation():
    import inspect

    from srnet.cgp.evolve import DEFAULT_MUTATION, DEFAULT_MUTATION_RATE
    from srnet.estimators import CGPRegressor

    params = CGPRegressor().get_params()
    signature = inspect.signature(evolve).parameters
    assert (DEFAULT_MUTATION, DEFAULT_MUTATION_RATE) == ("point", 0.05)  # the Nguyen benchmark's setting
    assert (params["mutation"], params["mutation_rate"]) == (DEFAULT_MUTATION, DEFAULT_MUTATION_RATE)
    assert (signature["mutation"].default, signature["mutation_rate"].default) == (DEFAULT_MUTATION,
                                                                                   DEFAULT_MUTATION_RATE)


@pytest.mark.parametrize("X, Y, match", [
    # located as the array passed is indexed: X_rows[0, 1] is input 0, sample 1
    (np.array([[0.1, np.nan, 0.3], [1.0, 2.0, 3.0]]), np.ones((1, 3)),
     r"^X_rows contains 1 NaN/inf value \(first at input 0, sample 1\)$"),
    (np.ones((2, 3)), np.array([[1.0, np.inf, 2.0]]), r"^Y_rows contains 1 NaN/inf value \(first at target 0, sample 1\)$"),
    (np.ones((2, 3)), np.ones(3), r"^Y_rows must be 2-D \(one row per target, one column per sample\)"),
    (np.ones((2, 0)), np.ones((1, 0)), r"^X_rows \(sample, input\) is empty"),
])
def test_evolve_refuses_bad_data_in_one_line(X, Y, match):
    """A NaN in X silently took that input out of the search; a 1-D Y was an IndexError."""
    with pytest.raises(ValueError, match=match):
        evolve(GenomeSpec(n_inputs=2, n_outputs=1), X, Y, max_generations=5, random_state=0)
    with pytest.raises(ValueError, match="^ridge must be a finite number"):
        evolve(GenomeSpec(n_inputs=2, n_outputs=1), np.ones((2, 3)), np.ones((1, 3)), max_generations=5,
               random_state=0, ridge=float("nan"))


def test_public_helpers_check_their_arrays_and_evolve_its_initial_genome():
    """Integer rows truncated every primitive (sin(1..3) gave 0); too few rows read past the array;
    an initial genome of another spec ran with the wrong address map."""
    sine = Genome(GenomeSpec(n_inputs=1, n_columns=1, functions=("sin",), n_constants=0),
                  nodes=np.array([[7, 0, 0]]), outputs=np.array([1]), constants=np.zeros(0))
    np.testing.assert_allclose(outputs_of(sine, np.array([[1, 2, 3]]))[0], np.sin([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match=r"X_rows must be \(1, n_samples\), one row per input of the genome"):
        outputs_of(sine, np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"X has 3 samples but Y has 4"):
        fitness_of(sine, np.ones((1, 3)), np.ones((1, 4)))
    X = np.linspace(-1, 1, 50)[None]
    other = Genome.random(GenomeSpec(n_inputs=1, n_columns=7), np.random.default_rng(0))
    with pytest.raises(ValueError, match="the initial genome was made for another spec: n_columns 7 vs 5"):
        evolve(GenomeSpec(n_inputs=1, n_columns=5), X, X**2, max_generations=1, random_state=1, initial=other)


def test_evaluate_population_and_fitness_of_check_what_evolve_checks():
    """evaluate_population took the spec's input count from X (2 rows for 1 input: every address shifted,
    fitness 0.047 instead of 0) and read past Y; fitness_of read past a Y of too few rows."""
    from srnet.cgp import evaluate_population

    spec = GenomeSpec(n_inputs=1, n_outputs=2, n_columns=1, functions=("mul",), n_constants=0)
    genome = Genome(spec, nodes=np.array([[spec.function_codes[0], 0, 0]]), outputs=np.array([0, 1]),
                    constants=np.zeros(0, dtype=np.int32))
    x = np.linspace(-1, 1, 50)[None]
    Y = np.vstack([x, x * x])
    population = genome.nodes[None], genome.outputs[None], genome.constants[None]
    fitness, _ = evaluate_population(spec, *population, x, Y)
    assert fitness[0] == pytest.approx(0.0, abs=1e-20) and fitness_of(genome, x, Y) == pytest.approx(0, abs=1e-20)
    for X_rows, Y_rows, message in [(np.vstack([x, x]), Y, "X has 2 input rows but the genome spec expects 1"),
                                    (x.T, Y, "X has 50 input rows"),
                                    (x, Y[:, :10], "X has 50 samples but Y has 10"),
                                    (x, Y[:1], "scaled fitness needs one target row per output: 1 rows, 2 outputs"),
                                    (x, Y[0], r"Y_rows must be 2-D")]:
        with pytest.raises(ValueError, match=message):
            evaluate_population(spec, *population, X_rows, Y_rows)
        with pytest.raises(ValueError, match=message):
            fitness_of(genome, X_rows, Y_rows)
    with pytest.raises(ValueError, match="unknown fitness 'foo'"):
        evaluate_population(spec, *population, x, Y, fitness="foo")
    with pytest.raises(ValueError, match="unknown fitness 'foo'"):
        fitness_of(genome, x, Y, mode="foo")
    with pytest.raises(ValueError, match=r"outputs has shape \(1, 1\); expected \(1, 2\)"):
        evaluate_population(spec, population[0], population[1][:, :1], population[2], x, Y)
    with pytest.raises(ValueError, match="n_threads must be > 0"):
        evaluate_population(spec, *population, x, Y, n_threads=0)


@pytest.mark.parametrize("n_threads, message", [("2", "n_threads must be a number"), (0, "n_threads must be > 0"),
                                                (2.5, "n_threads must be a whole number, got 2.5"),
                                                (True, "n_threads must be a number, got True")])
def test_a_bad_thread_count_is_one_line(data, n_threads, message):
    with pytest.raises(ValueError, match=message):
        evolve(SPEC, *data, max_generations=1, n_threads=n_threads)


def test_a_mutation_rate_too_small_to_mutate_is_refused_instead_of_looping_forever():
    X = np.linspace(-1, 1, 20)[None]
    with pytest.raises(ValueError, match=r"mutation_rate 1e-17 is too small to mutate any gene"):
        evolve(GenomeSpec(1, n_columns=5), X, X**2, max_evaluations=50, mutation_rate=1e-17, random_state=0)
    result = evolve(GenomeSpec(1, n_columns=5), X, X**2, max_generations=50, mutation_rate=2.0**-53, random_state=0)
    assert result.generations == 50


@pytest.mark.parametrize("X, message", [
    (np.array([np.linspace(1e39, 2e39, 30)]), r"input 0 reaches 2e\+39, beyond float32's range"),
    (np.array([1e6 + np.linspace(0, 8, 30)]), r"input 0 varies by 2\.39 \(std\) around 1e\+06: in float32"),
])
def test_a_float32_search_refuses_inputs_float32_cannot_hold(X, message):
    """float32 turned 1e39 into inf, and x0 = 1e6 + U(0, 8) into a constant: random formulas, R2 0.1."""
    Y = X - X.mean()
    with pytest.raises(ValueError, match=message):
        evolve(GenomeSpec(1), X, Y, max_generations=5, precision="float32", random_state=0)
    assert evolve(GenomeSpec(1), X, Y, max_generations=5, random_state=0).generations == 5  # float64 is fine


def test_a_thread_count_gives_the_same_islands_on_every_machine(data, monkeypatch):
    """The islands came from n_threads clamped to the machine's cores: same seed, another formula elsewhere."""
    import numba

    runs = []
    for cores in (1, 2):
        monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", cores)
        result = evolve(SPEC, *data, max_generations=30, random_state=3, n_threads=4)
        runs.append((result.islands, result.fitness, result.genome.nodes.tobytes()))
    assert runs[0] == runs[1] and runs[0][0] == 4


@pytest.mark.parametrize("field, value, message", [
    ("n_constants", 1.5, "n_constants must be an integer >= 0, got 1.5"),
    ("n_constants", True, "n_constants must be an integer >= 0, got True"),
    ("levels_back", 1.5, "levels_back must be an integer >= 1 or None, got 1.5"),
    ("levels_back", "a", "levels_back must be an integer >= 1 or None"),
    ("n_inputs", True, "n_inputs must be a positive integer, got True"),
    ("functions", None, "functions must be primitive names"),
    ("constant_pool", 5, "constant_pool must be a sequence of numbers, got 5"),
    ("constant_pool", "ab", "constant_pool must be a sequence of numbers"),
])
def test_a_bad_genome_spec_is_one_line(field, value, message):
    kwargs = {"n_inputs": 1, field: value}
    with pytest.raises(ValueError, match=message):
        GenomeSpec(**kwargs)


def test_after_ctrl_c_the_parent_the_kernel_improved_is_kept(data):
    """The kernel improves the parent in place; a Ctrl-C as it returns skipped the bookkeeping, and the
    search returned its older, worse best (8 of 12 interrupted runs)."""
    from srnet.cgp.evolve import CGPSearch

    X_rows, target = data
    search = CGPSearch(SPEC, X_rows, target, mode=0, ridge=1e-8, n_offspring=4, operator=0, mutation_rate=0.05,
                       run_seed=3, restart_after=None, initial=None, parallel=False, threads=1)
    stale_best, stale_fitness = search.best.copy(), search.fitness
    better = evolve(SPEC, X_rows, target, max_generations=300, random_state=3).genome  # as if the kernel found it
    search.parent = better.copy()
    search.settle()
    assert search.fitness == pytest.approx(fitness_of(better, X_rows, target), rel=1e-12)
    assert search.fitness < stale_fitness
    assert np.array_equal(search.best.nodes, better.nodes)
    search.parent = stale_best  # a parent worse than the best (after a restart) is not taken
    search.settle()
    assert np.array_equal(search.best.nodes, better.nodes)
