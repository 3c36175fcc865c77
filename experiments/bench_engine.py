"""Throughput of the CGP engine against pyoperon and gplearn, in GP operations per second.

A GP operation is one *function node* evaluated on one sample: leaves (inputs,
constants, operon's weighted variables) are not counted, for all three systems,
because srnet's active nodes are function nodes.  So

    GP ops/s = (function nodes evaluated x samples) / seconds.

Two figures per system:

* raw evaluator throughput: a population of random programs of 28..32 function
  nodes (function set add, sub, mul, div, sin, cos, log, sqrt) evaluated over
  1000 and 10000 samples again and again; the best of a few repeats is kept
  (the first call is not timed, so compilation is not counted);
* in-run rate: function-node evaluations x samples per second of wall time
  during a real evolution on Nguyen-7 (200 training samples), everything
  included (mutation, selection, fitness, Python driver).

What each system's raw figure includes:

* srnet: the population kernel (numba): active-node decoding, every node over
  blocks of samples, and the linearly scaled MSE of each program; measured in
  both of the engine's precisions, float64 (the default) and float32
  (``precision="float32"``, like for like with pyoperon's single precision);
* pyoperon: ``pyoperon.EvaluateTrees`` (C++, single precision, SIMD): the tree
  outputs only, no fitness; its variable leaves also multiply by a weight;
* gplearn: ``_Program.execute`` (NumPy, float64): outputs only, no fitness.

Run ``python experiments/bench_engine.py [--seconds 10] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time

import numba
import numpy as np
from _provenance import write_results

import srnet
from srnet.benchmarks import get_benchmark
from srnet.cgp import Genome, GenomeSpec, as_feature_rows, evaluate_population, evolve

FUNCTIONS = ("add", "sub", "mul", "div", "sin", "cos", "log", "sqrt")
ACTIVE_RANGE = (28, 32)  # function nodes per random program
POPULATION = 128
SAMPLE_SIZES = (1000, 10000)
N_INPUTS = 2
INRUN_SAMPLES = 200
REPEATS = 5


# --------------------------------------------------------------------------
# timing
# --------------------------------------------------------------------------

def best_rate(run, ops_per_call: float, seconds: float) -> dict:
    """Call ``run()`` repeatedly for about ``seconds`` in REPEATS repeats.

    Returns the best and the median rate (ops per second) over the repeats;
    the best is the headline figure (least disturbed by other processes).
    One untimed call comes first (compilation, caches).
    """
    run()
    rates = []
    share = seconds / REPEATS
    for _ in range(REPEATS):
        calls = 0
        t0 = time.perf_counter()
        while True:
            run()
            calls += 1
            elapsed = time.perf_counter() - t0
            if elapsed >= share:
                break
        rates.append(ops_per_call * calls / elapsed)
    return {"best": max(rates), "median": statistics.median(rates)}


def load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def try_import(name: str):
    """The module, or None when it is not installed."""
    try:
        return __import__(name)
    except ImportError:
        return None


def sample_inputs(n: int, seed: int = 0) -> np.ndarray:
    """(n, N_INPUTS) inputs uniform in [-1, 1]."""
    return np.random.default_rng(seed).uniform(-1.0, 1.0, (n, N_INPUTS))


# --------------------------------------------------------------------------
# srnet: raw evaluator
# --------------------------------------------------------------------------

def srnet_population(size: int = POPULATION, seed: int = 0):
    """Random genomes whose active node count lies in ACTIVE_RANGE.

    A wide grid with a limited levels-back makes long active paths common
    (about 5% of random genomes land in 28..32); the others are discarded.
    """
    spec = GenomeSpec(n_inputs=N_INPUTS, n_columns=200, levels_back=50, functions=FUNCTIONS, n_constants=1)
    rng = np.random.default_rng(seed)
    kept_nodes, kept_outputs, kept_constants, counts = [], [], [], []
    while len(counts) < size:
        genome = Genome.random(spec, rng)
        count = genome.n_active()
        if ACTIVE_RANGE[0] <= count <= ACTIVE_RANGE[1]:
            kept_nodes.append(genome.nodes)
            kept_outputs.append(genome.outputs)
            kept_constants.append(genome.constants)
            counts.append(count)
    return spec, np.stack(kept_nodes), np.stack(kept_outputs), np.stack(kept_constants), np.array(counts)


def bench_srnet_raw(seconds: float, precision: str) -> dict:
    spec, nodes, outputs, constants, counts = srnet_population()
    threads_all = numba.config.NUMBA_NUM_THREADS
    out = {"mean_function_nodes": float(counts.mean()), "threads_all": threads_all, "precision": precision}
    for n in SAMPLE_SIZES:
        X_rows = as_feature_rows(sample_inputs(n))
        Y_rows = np.ascontiguousarray((np.sin(X_rows[0]) + X_rows[1] ** 2)[None, :])
        ops = float(counts.sum()) * n
        for label, threads in (("1thread", 1), ("all", threads_all)):

            def run(threads=threads, X_rows=X_rows, Y_rows=Y_rows):
                return evaluate_population(spec, nodes, outputs, constants, X_rows, Y_rows, n_threads=threads,
                                           precision=precision)

            out[f"{label}_{n}"] = best_rate(run, ops, seconds)
        _, n_active = run()
        if not np.array_equal(n_active, counts):  # the kernel evaluated what we counted
            raise RuntimeError("the population kernel reported other active counts than were selected")
    out["threading_layer"] = numba.threading_layer()
    return out


# --------------------------------------------------------------------------
# pyoperon: raw evaluator
# --------------------------------------------------------------------------

_OPERON_SYMBOLS = ("add", "sub", "mul", "div", "sin", "cos", "log", "sqrt", "constant", "variable")


def operon_config(op) -> int:
    """Primitive set bit mask for _OPERON_SYMBOLS."""
    config = 0
    for name in _OPERON_SYMBOLS:
        config |= int(getattr(op.NodeType, name.capitalize()))
    return config


def operon_function_nodes(tree) -> int:
    return sum(1 for node in tree.Nodes if not node.IsLeaf)


def bench_pyoperon_raw(op, seconds: float) -> dict:
    """Random trees of 28..32 function nodes from BalancedTreeCreator, evaluated
    by EvaluateTrees (one thread, then all cores)."""
    X = sample_inputs(max(SAMPLE_SIZES))
    dataset = op.Dataset(np.asfortranarray(X))
    problem = op.Problem(dataset)
    problem.ConfigurePrimitiveSet(operon_config(op))
    inputs = [v.Hash for v in dataset.Variables]
    # the creator keeps a reference to the primitive set: hold it in a name
    # for the creator's lifetime (a temporary is freed and the creator crashes)
    primitive_set = problem.PrimitiveSet
    creator = op.BalancedTreeCreator(primitive_set, inputs, 0.0)
    rng = op.RandomGenerator(0)
    lengths = np.random.default_rng(0)
    trees = []
    while len(trees) < POPULATION:
        # ~1.5 nodes per function node with half the functions binary
        tree = creator(rng, int(lengths.integers(38, 52)), 1, 1000)
        if ACTIVE_RANGE[0] <= operon_function_nodes(tree) <= ACTIVE_RANGE[1]:
            trees.append(tree)
    counts = np.array([operon_function_nodes(t) for t in trees])
    threads_all = os.cpu_count() or 1
    out = {"mean_function_nodes": float(counts.mean()),
           "mean_length": float(np.mean([t.Length for t in trees])), "threads_all": threads_all}
    for n in SAMPLE_SIZES:
        rows = op.Range(0, n)
        result = np.zeros((len(trees), n), dtype=np.float32)
        ops = float(counts.sum()) * n
        for label, threads in (("1thread", 1), ("all", threads_all)):
            def run(rows=rows, result=result, threads=threads):
                op.EvaluateTrees(trees, dataset, rows, result, threads)

            out[f"{label}_{n}"] = best_rate(run, ops, seconds)
    return out


# --------------------------------------------------------------------------
# gplearn: raw evaluator
# --------------------------------------------------------------------------

def gplearn_function_nodes(program) -> int:
    from gplearn.functions import _Function

    return sum(1 for node in program if isinstance(node, _Function))


def bench_gplearn_raw(seconds: float) -> dict:
    """Random _Program trees of 28..32 function nodes, timed ``execute(X)``."""
    from gplearn._program import _Program
    from gplearn.fitness import _fitness_map
    from gplearn.functions import _function_map

    function_set = [_function_map[name] for name in FUNCTIONS]
    arities: dict[int, list] = {}
    for function in function_set:
        arities.setdefault(function.arity, []).append(function)
    random_state = np.random.RandomState(0)
    programs = []
    while len(programs) < POPULATION:
        program = _Program(function_set, arities, (4, 10), "half and half", N_INPUTS, (-1.0, 1.0),
                           _fitness_map["mse"], 0.05, 0.001, random_state)
        if ACTIVE_RANGE[0] <= gplearn_function_nodes(program.program) <= ACTIVE_RANGE[1]:
            programs.append(program)
    counts = np.array([gplearn_function_nodes(p.program) for p in programs])
    out = {"mean_function_nodes": float(counts.mean()), "mean_length": float(np.mean([p.length_ for p in programs]))}
    for n in SAMPLE_SIZES:
        X = sample_inputs(n)

        def run(X=X):
            for program in programs:
                program.execute(X)

        out[f"1thread_{n}"] = best_rate(run, float(counts.sum()) * n, seconds)
    return out


# --------------------------------------------------------------------------
# in-run rates on Nguyen-7
# --------------------------------------------------------------------------

def nguyen7():
    return get_benchmark("nguyen-7").sample(INRUN_SAMPLES, random_state=0)


def inrun_srnet(seconds: float, n_threads: int, precision: str = "float64") -> dict:
    """evolve() with CGPRegressor's defaults, run for the whole budget.

    target_fitness=0 keeps the run going for the full budget even if it finds
    the formula; a two-generation run first loads the compiled kernels, so
    loading them is not counted.  The rate is the engine's own count:
    ``node_evaluations / seconds`` (active nodes x samples of each evaluated
    offspring, over the wall time of evolve()).
    """
    X, y = nguyen7()
    spec = GenomeSpec(n_inputs=1, n_columns=30, functions=FUNCTIONS, n_constants=1)
    X_rows, Y_rows = as_feature_rows(X), np.ascontiguousarray(y[None, :])
    settings = {"n_offspring": 4, "mutation": "point", "mutation_rate": 0.05, "restart_after": 2000,
                "n_threads": n_threads, "precision": precision}
    evolve(spec, X_rows, Y_rows, max_generations=2, random_state=1, **settings)
    result = evolve(spec, X_rows, Y_rows, max_seconds=seconds, target_fitness=0.0, random_state=0, **settings)
    return {"gpops_per_s": result.gp_ops_per_second, "seconds": result.seconds, "generations": result.generations,
            "evaluations": result.evaluations, "node_evaluations": result.node_evaluations,
            "mean_function_nodes": result.node_evaluations / max(result.evaluations, 1) / INRUN_SAMPLES,
            "fitness": result.fitness, "threads": n_threads, "precision": precision}


def inrun_pyoperon(seconds: float) -> dict:
    """pyoperon.sklearn.SymbolicRegressor, one thread, max_time = the budget.

    Estimate: stats_["residual_evaluations"] (trees evaluated over all training
    rows) x mean function nodes of the final population (individuals_) x
    samples, over the wall time of fit().  Trees grow during a run, so the
    final population's mean size overstates the run's average: the estimate
    is biased in pyoperon's favour.
    """
    from pyoperon.sklearn import SymbolicRegressor

    X, y = nguyen7()
    model = SymbolicRegressor(allowed_symbols=",".join(_OPERON_SYMBOLS), max_time=max(1, round(seconds)),
                              n_threads=1, generations=10**9, max_evaluations=10**15, random_state=0)
    t0 = time.perf_counter()
    model.fit(X, y)
    wall = time.perf_counter() - t0
    evaluations = int(model.stats_["residual_evaluations"])
    mean_nodes = float(np.mean([operon_function_nodes(ind.Genotype) for ind in model.individuals_]))
    return {"gpops_per_s": evaluations * mean_nodes * INRUN_SAMPLES / wall, "seconds": wall,
            "generations": int(model.stats_["generations"]), "evaluations": evaluations,
            "mean_function_nodes": mean_nodes, "threads": 1}


def inrun_gplearn(seconds: float) -> dict:
    """gplearn.SymbolicRegressor (population 1000, n_jobs=1), one generation per
    fit() with warm_start=True until the budget is spent.

    Count: every program of every generation is evaluated once on all training
    samples (max_samples=1), so ops = sum over generations of (sum of function
    nodes of that generation's programs) x samples; counted outside the timer.
    """
    from gplearn.genetic import SymbolicRegressor

    X, y = nguyen7()
    model = SymbolicRegressor(population_size=1000, generations=0, function_set=FUNCTIONS, n_jobs=1,
                              random_state=0, warm_start=True)
    wall = 0.0
    ops = 0
    evaluations = 0
    generations = 0
    while wall < seconds:
        model.set_params(generations=generations + 1)
        t0 = time.perf_counter()
        model.fit(X, y)
        wall += time.perf_counter() - t0
        programs = model._programs[-1]
        evaluations += len(programs)
        ops += sum(gplearn_function_nodes(p.program) for p in programs) * INRUN_SAMPLES
        generations += 1
    return {"gpops_per_s": ops / wall, "seconds": wall, "generations": generations, "evaluations": evaluations,
            "mean_function_nodes": ops / evaluations / INRUN_SAMPLES, "threads": 1}


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------

def giga(value) -> str:
    return "not installed" if value is None else f"{value / 1e9:.3f} G"


def mega(value) -> str:
    return "not installed" if value is None else f"{value / 1e6:.1f} M"


def ratio(a, b) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def verdict(value: float | None, target: float) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f}x (target >= {target:g}x): {'met' if value >= target else 'MISSED'}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="wall budget of each in-run evolution on Nguyen-7 (default 10)")
    parser.add_argument("--raw-seconds", type=float, default=2.0,
                        help="timing budget of each raw-evaluator measurement (default 2)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args(argv)

    op = try_import("pyoperon")
    gplearn = try_import("gplearn")
    load_before = load_average()
    print(f"srnet {srnet.__version__} engine benchmark -- GP ops/s = function nodes x samples / second",
          flush=True)
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, numba threads {numba.config.NUMBA_NUM_THREADS}, "
          f"load average {load_before}", flush=True)
    if load_before is not None and load_before > 0.5:
        print("warning: the machine is busy (load average > 0.5); timings, above all multi-threaded ones, "
              "will be low and noisy", flush=True)

    print("measuring raw evaluators ...", flush=True)
    raw_srnet = bench_srnet_raw(args.raw_seconds, "float64")
    raw_srnet32 = bench_srnet_raw(args.raw_seconds, "float32")
    raw_operon = bench_pyoperon_raw(op, args.raw_seconds) if op is not None else None
    raw_gplearn = bench_gplearn_raw(args.raw_seconds) if gplearn is not None else None

    print(f"measuring in-run rates on Nguyen-7 ({INRUN_SAMPLES} samples, {args.seconds:g} s each) ...", flush=True)
    run_srnet = inrun_srnet(args.seconds, 1)
    run_srnet_all = inrun_srnet(args.seconds, numba.config.NUMBA_NUM_THREADS)
    run_srnet32 = inrun_srnet(args.seconds, 1, "float32")
    run_operon = inrun_pyoperon(args.seconds) if op is not None else None
    run_gplearn = inrun_gplearn(args.seconds) if gplearn is not None else None
    load_after = load_average()

    def raw(result, key):
        return None if result is None else result[key]["best"]

    figures = {
        "gpops_per_s_1thread": raw(raw_srnet, "1thread_1000"),
        "gpops_per_s_all": raw(raw_srnet, "all_1000"),
        "pyoperon_gpops_per_s_1thread": raw(raw_operon, "1thread_1000"),
        "gplearn_gpops_per_s": raw(raw_gplearn, "1thread_1000"),
        "inrun_gpops_per_s": run_srnet["gpops_per_s"],
        "pyoperon_inrun_gpops_per_s": None if run_operon is None else run_operon["gpops_per_s"],
        "gplearn_inrun_gpops_per_s": None if run_gplearn is None else run_gplearn["gpops_per_s"],
        "gpops_per_s_1thread_10000": raw(raw_srnet, "1thread_10000"),
        "gpops_per_s_all_10000": raw(raw_srnet, "all_10000"),
        "pyoperon_gpops_per_s_1thread_10000": raw(raw_operon, "1thread_10000"),
        "pyoperon_gpops_per_s_all": raw(raw_operon, "all_1000"),
        "pyoperon_gpops_per_s_all_10000": raw(raw_operon, "all_10000"),
        "gplearn_gpops_per_s_10000": raw(raw_gplearn, "1thread_10000"),
        "inrun_gpops_per_s_all": run_srnet_all["gpops_per_s"],
        "gpops_per_s_1thread_float32": raw(raw_srnet32, "1thread_1000"),
        "gpops_per_s_all_float32": raw(raw_srnet32, "all_1000"),
        "gpops_per_s_1thread_10000_float32": raw(raw_srnet32, "1thread_10000"),
        "gpops_per_s_all_10000_float32": raw(raw_srnet32, "all_10000"),
        "inrun_gpops_per_s_float32": run_srnet32["gpops_per_s"],
        "threads_all": numba.config.NUMBA_NUM_THREADS,
        "cores": os.cpu_count(),
        "cpu_model": cpu_model(),
        "load_average_before": load_before,
        "load_average_after": load_after,
        "numba_threading_layer": raw_srnet["threading_layer"],
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "srnet": srnet.__version__,
        "pyoperon": None if op is None else op.Version().splitlines()[0],
        "gplearn": None if gplearn is None else gplearn.__version__,
        "details": {"raw": {"srnet": raw_srnet, "srnet_float32": raw_srnet32, "pyoperon": raw_operon,
                            "gplearn": raw_gplearn},
                    "inrun": {"srnet_1thread": run_srnet, "srnet_all": run_srnet_all,
                              "srnet_1thread_float32": run_srnet32, "pyoperon": run_operon, "gplearn": run_gplearn}},
    }

    all_threads = numba.config.NUMBA_NUM_THREADS
    print()
    print(f"Raw evaluator: {POPULATION} random programs of {ACTIVE_RANGE[0]}..{ACTIVE_RANGE[1]} function nodes "
          f"({', '.join(FUNCTIONS)}); best of {REPEATS} repeats")
    print(f"{'system':<32}{'threads':>8}{'1000 samples':>16}{'10000 samples':>16}")
    rows = [("srnet (numba, float64, +fitness)", "1", raw(raw_srnet, "1thread_1000"), raw(raw_srnet, "1thread_10000")),
            ("srnet", str(all_threads), raw(raw_srnet, "all_1000"), raw(raw_srnet, "all_10000")),
            ("srnet (numba, float32, +fitness)", "1", raw(raw_srnet32, "1thread_1000"),
             raw(raw_srnet32, "1thread_10000")),
            ("srnet float32", str(all_threads), raw(raw_srnet32, "all_1000"), raw(raw_srnet32, "all_10000")),
            ("pyoperon (C++, float32)", "1", raw(raw_operon, "1thread_1000"), raw(raw_operon, "1thread_10000")),
            ("pyoperon", str(os.cpu_count()), raw(raw_operon, "all_1000"), raw(raw_operon, "all_10000")),
            ("gplearn (NumPy, float64)", "1", raw(raw_gplearn, "1thread_1000"), raw(raw_gplearn, "1thread_10000"))]
    for name, threads, small, large in rows:
        print(f"{name:<32}{threads:>8}{giga(small):>16}{giga(large):>16}")

    print()
    print(f"In-run rate: Nguyen-7, {INRUN_SAMPLES} samples, {args.seconds:g} s budget, wall time all included")
    print(f"{'system':<32}{'threads':>8}{'seconds':>9}{'evaluations':>13}{'fn nodes':>10}{'GP ops/s':>14}")
    runs = [("srnet evolve()", run_srnet), ("srnet evolve()", run_srnet_all),
            ("srnet evolve(precision=float32)", run_srnet32),
            ("pyoperon SymbolicRegressor (est)", run_operon), ("gplearn SymbolicRegressor", run_gplearn)]
    for name, run in runs:
        if run is None:
            print(f"{name:<32}{'':>8}{'':>9}{'':>13}{'':>10}{'not installed':>14}")
            continue
        print(f"{name:<32}{run['threads']:>8}{run['seconds']:>9.2f}{run['evaluations']:>13,}"
              f"{run['mean_function_nodes']:>10.1f}{mega(run['gpops_per_s']):>14}")

    print()
    print("Targets")
    print("  srnet 1 thread / pyoperon 1 thread (raw, 1000 samples), float64:",
          verdict(ratio(figures["gpops_per_s_1thread"], figures["pyoperon_gpops_per_s_1thread"]), 1))
    print("  srnet 1 thread / pyoperon 1 thread (raw, 1000 samples), float32 like pyoperon:",
          verdict(ratio(figures["gpops_per_s_1thread_float32"], figures["pyoperon_gpops_per_s_1thread"]), 1))
    print(f"  srnet {all_threads} threads / srnet 1 thread (raw, 1000 samples):",
          verdict(ratio(figures["gpops_per_s_all"], figures["gpops_per_s_1thread"]), 1.8))
    print("  srnet in-run / pyoperon in-run (1 thread each):",
          verdict(ratio(figures["inrun_gpops_per_s"], figures["pyoperon_inrun_gpops_per_s"]), 1))
    print(f"load average before {load_before}, after {load_after}")

    if args.json:
        write_results(args.json, figures)  # with the command, versions, date and host
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
