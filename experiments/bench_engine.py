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

Three more tables:

* scaling (``--threads 1,2,4,...``): the raw evaluator (float64) and the in-run
  rate on Nguyen-7 per thread count (evolve() chooses islands or shared
  evaluation itself from the work's size);
* time to target, per thread count: the median wall time of ``evolve(...,
  n_threads=t)`` until training R^2 >= 0.999 on Nguyen-1..12 (200 points, the
  CGPRegressor defaults, ``--ttt-seeds`` seeds each; a run that does not get
  there within ``--ttt-seconds`` counts as infinitely long), and, when the
  SRNet paper's networks are there (``--gecco-dir``), the median search time of
  ``SRNet(..., n_threads=t)`` until its search fitness (the paper's: mean
  hidden-layer MSE + output MSE on its search points) reaches the paper's best
  logged fitness on the 12 regression networks (fitted on the paper's points,
  as ``srnet_gecco.py`` does; each result is then checked on all of them);
* GPU (when a CUDA GPU is present): GP ops/s of :mod:`srnet.cgp.gpu` on the raw
  evaluator's programs at 10k, 100k and 1M rows, beside the CPU evaluator on
  all cores (float32, 100k rows).

Run ``python experiments/bench_engine.py [--seconds 10] [--threads 1,2,4] [--json PATH]``;
``--quick`` checks every table with small budgets in about a minute.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numba
import numpy as np
from _options import (
    check_numbers,
    load_average,
    output_file,
    parse_with_quick_defaults,
    run_script,
    shared_path,
    try_import,
)
from _provenance import cpu_model, write_results

import srnet
from srnet.benchmarks import NGUYEN, get_benchmark
from srnet.cgp import Genome, GenomeSpec, as_feature_rows, evaluate_population, evolve, gpu
from srnet.data import counted

FUNCTIONS = ("add", "sub", "mul", "div", "sin", "cos", "log", "sqrt")
ACTIVE_RANGE = (28, 32)  # function nodes per random program
POPULATION = 128
SAMPLE_SIZES = (1000, 10000)
N_INPUTS = 2
INRUN_SAMPLES = 200
REPEATS = 5
SOLVED_R2 = 0.999  # time to target on Nguyen: training R^2 at least this
GPU_ROWS = (10_000, 100_000, 1_000_000)


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


def bench_srnet_raw(seconds: float, precision: str, thread_counts=()) -> dict:
    """The population kernel on one thread and on all, and on each of ``thread_counts``
    (``by_threads[t][n]``: the rate on t threads over n samples)."""
    spec, nodes, outputs, constants, counts = srnet_population()
    threads_all = numba.config.NUMBA_NUM_THREADS
    out = {"mean_function_nodes": float(counts.mean()), "threads_all": threads_all, "precision": precision,
           "by_threads": {}}
    for n in SAMPLE_SIZES:
        X_rows = as_feature_rows(sample_inputs(n))
        Y_rows = np.ascontiguousarray((np.sin(X_rows[0]) + X_rows[1] ** 2)[None, :])
        ops = float(counts.sum()) * n
        for threads in sorted({1, threads_all, *thread_counts}):

            def run(threads=threads, X_rows=X_rows, Y_rows=Y_rows):
                return evaluate_population(spec, nodes, outputs, constants, X_rows, Y_rows, n_threads=threads,
                                           precision=precision)

            rate = best_rate(run, ops, seconds)
            out["by_threads"].setdefault(str(threads), {})[str(n)] = rate
            if threads == 1:
                out[f"1thread_{n}"] = rate
            if threads == threads_all:
                out[f"all_{n}"] = rate
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
            "fitness": result.fitness, "threads": n_threads, "precision": precision,
            "islands": getattr(result, "islands", 1)}


def inrun_pyoperon(seconds: float, n_threads: int = 1) -> dict:
    """pyoperon.sklearn.SymbolicRegressor on ``n_threads`` threads, max_time = the budget.

    Estimate: stats_["residual_evaluations"] (trees evaluated over all training
    rows) x mean function nodes of the final population (individuals_) x
    samples, over the wall time of fit().  Trees grow during a run, so the
    final population's mean size overstates the run's average: the estimate
    is biased in pyoperon's favour.
    """
    from pyoperon.sklearn import SymbolicRegressor

    X, y = nguyen7()
    model = SymbolicRegressor(allowed_symbols=",".join(_OPERON_SYMBOLS), max_time=max(1, round(seconds)),
                              n_threads=n_threads, generations=10**9, max_evaluations=10**15, random_state=0)
    t0 = time.perf_counter()
    model.fit(X, y)
    wall = time.perf_counter() - t0
    evaluations = int(model.stats_["residual_evaluations"])
    mean_nodes = float(np.mean([operon_function_nodes(ind.Genotype) for ind in model.individuals_]))
    return {"gpops_per_s": evaluations * mean_nodes * INRUN_SAMPLES / wall, "seconds": wall,
            "generations": int(model.stats_["generations"]), "evaluations": evaluations,
            "mean_function_nodes": mean_nodes, "threads": n_threads}


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
# time to target
# --------------------------------------------------------------------------

def median_time(times) -> float:
    """Median of run times, a run that missed its target counting as +inf (the
    median is finite while more than half of the runs got there)."""
    return float(np.median(np.asarray(times, dtype=np.float64))) if len(times) else float("nan")


def nguyen_time_to_target(problem: str, seed: int, n_threads: int, budget: float) -> dict:
    """Wall seconds of ``evolve(..., n_threads=n_threads)`` until training R^2 >= SOLVED_R2
    on ``problem`` (200 points drawn with ``seed``; CGPRegressor's defaults), or inf."""
    bench = get_benchmark(problem)
    X, y = bench.sample(INRUN_SAMPLES, random_state=seed)
    spec = GenomeSpec(n_inputs=X.shape[1], n_columns=30, functions=FUNCTIONS, n_constants=1)
    # scaled fitness = the MSE of the best a * f + b: R^2 >= 0.999 is MSE <= 0.001 var(y)
    target = (1.0 - SOLVED_R2) * float(np.var(y))
    result = evolve(spec, as_feature_rows(X), np.ascontiguousarray(y[None, :]), max_seconds=budget,
                    target_fitness=target, random_state=seed, n_offspring=4, mutation="point", mutation_rate=0.05,
                    restart_after=2000, n_threads=n_threads)
    reached = result.stop_reason == "target_fitness"
    return {"problem": problem, "seed": seed, "threads": n_threads, "seconds": result.seconds if reached else math.inf,
            "islands": getattr(result, "islands", 1), "generations": result.generations}


def bench_nguyen_time_to_target(thread_counts, problems, seeds: int, budget: float) -> dict:
    """Per thread count: the median time to target over every (problem, seed), and per problem."""
    warm = get_benchmark("nguyen-1").sample(20, random_state=0)
    for threads in thread_counts:  # compile (or load) every kernel before any clock starts
        evolve(GenomeSpec(n_inputs=1, n_columns=30, functions=FUNCTIONS), as_feature_rows(warm[0]),
               warm[1][None, :], max_generations=2, n_threads=threads)
    out = {}
    for threads in thread_counts:
        runs = [nguyen_time_to_target(p, seed, threads, budget) for p in problems for seed in range(seeds)]
        out[str(threads)] = {
            "median_seconds": median_time([r["seconds"] for r in runs]),
            "solved": sum(math.isfinite(r["seconds"]) for r in runs), "runs": len(runs),
            "islands": runs[0]["islands"],
            "by_problem": {p: median_time([r["seconds"] for r in runs if r["problem"] == p]) for p in problems}}
        print(f"  Nguyen, {threads} thread(s): median {out[str(threads)]['median_seconds']:.3f} s, "
              f"{out[str(threads)]['solved']}/{len(runs)} reached R^2 >= {SOLVED_R2}", flush=True)
    return out


def gecco_time_to_target(gecco_dir: Path, name: str, seed: int, n_threads: int, budget: float) -> dict:
    """Search seconds of ``SRNet(..., n_threads=n_threads)`` until its search fitness reaches the
    paper's best logged fitness of regression network ``name``, or inf; then the chained
    formulas' fitness on all of the paper's points (the check srnet_gecco.py reports)."""
    from srnet_gecco import chain_figures, paper_points

    from srnet.extract import SRNet
    from srnet.reference import load_reference

    reference = load_reference(gecco_dir / "regression" / name)
    target = reference.paper_fitness.best
    X_fit, box = paper_points(reference)
    reached_at = []

    def stop_at_target(progress):
        if progress.fitness <= target:
            reached_at.append(progress.seconds)
            return True
        return False

    # the layer-wise search alone: no direct formulas, refinement or simplification after it
    model = SRNet(max_seconds=budget, random_state=seed, n_threads=n_threads, domain=[tuple(b) for b in box],
                  direct_budget=0.0, refine=False, select="layerwise", simplify_seconds=0.0)
    model.fit(reference.model, X_fit, callback=stop_at_target)
    chain = chain_figures(model, reference.model, X_fit)["fitness"]
    return {"network": name, "seed": seed, "threads": n_threads,
            "seconds": reached_at[0] if reached_at else math.inf, "paper_best": target,
            "search_fitness": model.search_fitness_, "chain_fitness": chain, "chain_at_target": chain <= target,
            "generations": model.n_generations_}


def bench_gecco_time_to_target(gecco_dir: Path, thread_counts, networks, seeds: int, budget: float) -> dict:
    import torch

    torch.set_num_threads(1)
    out = {}
    for threads in thread_counts:
        runs = [gecco_time_to_target(gecco_dir, name, seed, threads, budget) for name in networks
                for seed in range(seeds)]
        out[str(threads)] = {
            "median_seconds": median_time([r["seconds"] for r in runs]),
            "reached": sum(math.isfinite(r["seconds"]) for r in runs), "runs": len(runs),
            "chain_at_target": sum(r["chain_at_target"] for r in runs if math.isfinite(r["seconds"])),
            "by_network": {n: median_time([r["seconds"] for r in runs if r["network"] == n]) for n in networks},
            "runs_detail": runs}
        print(f"  reference networks, {threads} thread(s): median {out[str(threads)]['median_seconds']:.2f} s, "
              f"{out[str(threads)]['reached']}/{len(runs)} reached the paper's best", flush=True)
    return out


# --------------------------------------------------------------------------
# GPU
# --------------------------------------------------------------------------

def bench_gpu(seconds: float) -> dict | None:
    """GP ops/s of the CUDA evaluator on the raw benchmark's programs at GPU_ROWS rows,
    and of the CPU evaluator on all cores (float32) at 100k rows; None without a GPU."""
    if gpu.simulating() or not gpu.cuda_available():
        return None
    from numba import cuda

    spec, nodes, outputs, constants, counts = srnet_population()
    out = {"device": str(cuda.get_current_device().name), "rows": {}}
    for n in GPU_ROWS:
        X_rows = as_feature_rows(sample_inputs(n))
        Y_rows = np.ascontiguousarray((np.sin(X_rows[0]) + X_rows[1] ** 2)[None, :])
        evaluator = gpu.CudaEvaluator(X_rows, Y_rows)
        started = time.perf_counter()
        _, n_active = evaluator.evaluate(spec, nodes, outputs, constants)  # compiles the kernels once
        first = time.perf_counter() - started
        if not np.array_equal(n_active, counts):
            raise RuntimeError("the GPU evaluator reported other active counts than were selected")
        rate = best_rate(lambda: evaluator.evaluate(spec, nodes, outputs, constants), float(counts.sum()) * n,
                         seconds)
        out["rows"][str(n)] = {**rate, "first_call_seconds": first}
        print(f"  GPU, {n} rows: {rate['best'] / 1e9:.1f} G GP ops/s", flush=True)
    n = 100_000
    X_rows = as_feature_rows(sample_inputs(n))
    Y_rows = np.ascontiguousarray((np.sin(X_rows[0]) + X_rows[1] ** 2)[None, :])
    threads_all = numba.config.NUMBA_NUM_THREADS
    out["cpu_all_float32_100000"] = best_rate(
        lambda: evaluate_population(spec, nodes, outputs, constants, X_rows, Y_rows, n_threads=threads_all,
                                    precision="float32"), float(counts.sum()) * n, seconds)
    return out


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


def thread_counts(text: str | None) -> list[int]:
    """``--threads`` as a sorted list (default 1, 2, 4, ... and all of numba's threads)."""
    threads_all = numba.config.NUMBA_NUM_THREADS
    if text is None:
        counts = {1, threads_all}
        t = 2
        while t < threads_all:
            counts.add(t)
            t *= 2
        return sorted(counts)
    try:
        counts = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise ValueError(f"--threads takes comma-separated integers, got {text!r}") from None
    if not counts or counts[0] < 1 or counts[-1] > threads_all:
        raise ValueError(f"--threads must lie in 1..{threads_all} (numba's threads), got {text!r}")
    return counts


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="wall budget of each in-run evolution on Nguyen-7 (default 10)")
    parser.add_argument("--raw-seconds", type=float, default=2.0,
                        help="timing budget of each raw-evaluator measurement (default 2)")
    parser.add_argument("--threads", help="thread counts of the scaling and time-to-target tables "
                                          "(default 1,2,4,... and all)")
    parser.add_argument("--ttt-seeds", type=int, default=5, help="seeds per Nguyen problem (default 5)")
    parser.add_argument("--ttt-seconds", type=float, default=10.0,
                        help="budget of each time-to-target run on Nguyen (default 10)")
    parser.add_argument("--gecco-dir", default=shared_path("SRNET_GECCO_DIR", "srnet_gecco"),
                        help="the SRNet paper's networks (skipped when absent)")
    parser.add_argument("--gecco-seeds", type=int, default=3, help="seeds per reference network (default 3)")
    parser.add_argument("--gecco-seconds", type=float, default=60.0,
                        help="budget of each time-to-target run on a reference network (default 60)")
    parser.add_argument("--quick", action="store_true",
                        help="check every table in about a minute: tiny budgets, few problems and seeds")
    parser.add_argument("--json", type=output_file, metavar="PATH", help="also write the figures as JSON")
    args = parse_with_quick_defaults(parser, argv, seconds=1.0, raw_seconds=0.2, ttt_seeds=2, ttt_seconds=2.0,
                                     gecco_seeds=1, gecco_seconds=10.0,
                                     threads=f"1,{min(2, numba.config.NUMBA_NUM_THREADS)}")
    check_numbers(parser, args, counts=("ttt_seeds", "gecco_seeds"),
                  budgets=("seconds", "raw_seconds", "ttt_seconds", "gecco_seconds"))
    try:
        args.thread_list = thread_counts(args.threads)
    except ValueError as error:
        parser.error(str(error))
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    threads = args.thread_list
    problems = list(NGUYEN)
    gecco_dir = Path(args.gecco_dir)
    from srnet_gecco import REGRESSION

    networks = list(REGRESSION)
    if args.quick:
        problems, networks = ["nguyen-1", "nguyen-7", "nguyen-9"], ["kkk0", "feynman1"]

    op = try_import("pyoperon")
    gplearn = try_import("gplearn")
    load_before = load_average()
    threads_all = numba.config.NUMBA_NUM_THREADS
    print(f"srnet {srnet.__version__} engine benchmark -- GP ops/s = function nodes x samples / second",
          flush=True)
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, numba threads {threads_all}, "
          f"load average {load_before}", flush=True)
    if load_before is not None and load_before > 0.5:
        print("warning: the machine is busy (load average > 0.5); timings, above all multi-threaded ones, "
              "will be low and noisy", flush=True)

    print("measuring raw evaluators ...", flush=True)
    raw_srnet = bench_srnet_raw(args.raw_seconds, "float64", threads)
    raw_srnet32 = bench_srnet_raw(args.raw_seconds, "float32")
    raw_operon = bench_pyoperon_raw(op, args.raw_seconds) if op is not None else None
    raw_gplearn = bench_gplearn_raw(args.raw_seconds) if gplearn is not None else None

    print(f"measuring in-run rates on Nguyen-7 ({INRUN_SAMPLES} samples, {args.seconds:g} s each) ...", flush=True)
    run_by_threads = {t: inrun_srnet(args.seconds, t) for t in sorted({1, threads_all, *threads})}
    run_srnet, run_srnet_all = run_by_threads[1], run_by_threads[threads_all]
    run_srnet32 = inrun_srnet(args.seconds, 1, "float32")
    run_operon = inrun_pyoperon(args.seconds) if op is not None else None
    run_operon_all = inrun_pyoperon(args.seconds, os.cpu_count() or 1) if op is not None else None
    run_gplearn = inrun_gplearn(args.seconds) if gplearn is not None else None

    print(f"measuring time to target (Nguyen: {counted(len(problems), 'problem')} x "
          f"{counted(args.ttt_seeds, 'seed')}, "
          f"{args.ttt_seconds:g} s budget) ...", flush=True)
    ttt_nguyen = bench_nguyen_time_to_target(threads, problems, args.ttt_seeds, args.ttt_seconds)
    ttt_gecco = None
    # every network's folder, not the folder alone: a missing one failed after every other table was measured
    absent = [name for name in networks if not (gecco_dir / "regression" / name / "nn_module.pt").is_file()]
    if not absent:
        print(f"measuring time to the paper's best fitness ({counted(len(networks), 'reference network')} x "
              f"{counted(args.gecco_seeds, 'seed')}, {args.gecco_seconds:g} s budget) ...", flush=True)
        ttt_gecco = bench_gecco_time_to_target(gecco_dir, threads, networks, args.gecco_seeds, args.gecco_seconds)
    else:
        print(f"no reference network{'s' if len(absent) > 1 else ''} {', '.join(absent)} under {gecco_dir}: "
              f"the reference networks' time-to-target table is skipped", flush=True)
    gpu_figures = bench_gpu(args.raw_seconds)
    if gpu_figures is None:
        print("no CUDA GPU: the GPU table is skipped", flush=True)
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
        "pyoperon_inrun_gpops_per_s_all": None if run_operon_all is None else run_operon_all["gpops_per_s"],
        "threads_scaling": {str(t): {"raw_1000": raw_srnet["by_threads"][str(t)]["1000"]["best"],
                                     "raw_10000": raw_srnet["by_threads"][str(t)]["10000"]["best"],
                                     "inrun": run_by_threads[t]["gpops_per_s"],
                                     "inrun_islands": run_by_threads[t]["islands"]} for t in threads},
        "time_to_target_seconds": {t: r["median_seconds"] for t, r in ttt_nguyen.items()},
        "time_to_target_problems": problems,
        "time_to_target_seeds": args.ttt_seeds,
        "time_to_target_budget_seconds": args.ttt_seconds,
        "threads_all": threads_all,
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
                              "srnet_1thread_float32": run_srnet32, "pyoperon": run_operon,
                              "pyoperon_all": run_operon_all, "gplearn": run_gplearn,
                              "srnet_by_threads": {str(t): run_by_threads[t] for t in threads}},
                    "time_to_target": {"nguyen": ttt_nguyen, "reference_networks": ttt_gecco},
                    "gpu": gpu_figures},
    }
    if ttt_gecco is not None:
        figures["time_to_target_seconds_reference"] = {t: r["median_seconds"] for t, r in ttt_gecco.items()}
        figures["time_to_target_reference_networks"] = networks
    if gpu_figures is not None:
        figures["gpu_gpops_per_s"] = {n: r["best"] for n, r in gpu_figures["rows"].items()}
        figures["gpu_device"] = gpu_figures["device"]
        figures["cpu_all_float32_gpops_per_s_100000"] = gpu_figures["cpu_all_float32_100000"]["best"]

    print()
    print(f"Raw evaluator: {POPULATION} random programs of {ACTIVE_RANGE[0]}..{ACTIVE_RANGE[1]} function nodes "
          f"({', '.join(FUNCTIONS)}); best of {REPEATS} repeats")
    print(f"{'system':<32}{'threads':>8}{'1000 samples':>16}{'10000 samples':>16}")
    rows = [("srnet (numba, float64, +fitness)", "1", raw(raw_srnet, "1thread_1000"), raw(raw_srnet, "1thread_10000")),
            ("srnet", str(threads_all), raw(raw_srnet, "all_1000"), raw(raw_srnet, "all_10000")),
            ("srnet (numba, float32, +fitness)", "1", raw(raw_srnet32, "1thread_1000"),
             raw(raw_srnet32, "1thread_10000")),
            ("srnet float32", str(threads_all), raw(raw_srnet32, "all_1000"), raw(raw_srnet32, "all_10000")),
            ("pyoperon (C++, float32)", "1", raw(raw_operon, "1thread_1000"), raw(raw_operon, "1thread_10000")),
            ("pyoperon", str(os.cpu_count()), raw(raw_operon, "all_1000"), raw(raw_operon, "all_10000")),
            ("gplearn (NumPy, float64)", "1", raw(raw_gplearn, "1thread_1000"), raw(raw_gplearn, "1thread_10000"))]
    for name, count, small, large in rows:
        print(f"{name:<32}{count:>8}{giga(small):>16}{giga(large):>16}")

    print()
    print(f"In-run rate: Nguyen-7, {INRUN_SAMPLES} samples, {args.seconds:g} s budget, wall time all included")
    print(f"{'system':<32}{'threads':>8}{'seconds':>9}{'evaluations':>13}{'fn nodes':>10}{'GP ops/s':>14}")
    runs = [("srnet evolve()", run_srnet), ("srnet evolve()", run_srnet_all),
            ("srnet evolve(precision=float32)", run_srnet32),
            ("pyoperon SymbolicRegressor (est)", run_operon), ("pyoperon SymbolicRegressor (est)", run_operon_all),
            ("gplearn SymbolicRegressor", run_gplearn)]
    for name, run in runs:
        if run is None:
            print(f"{name:<32}{'':>8}{'':>9}{'':>13}{'':>10}{'not installed':>14}")
            continue
        print(f"{name:<32}{run['threads']:>8}{run['seconds']:>9.2f}{run['evaluations']:>13,}"
              f"{run['mean_function_nodes']:>10.1f}{mega(run['gpops_per_s']):>14}")

    print()
    print("Scaling with threads: raw evaluator (float64, best of repeats) and in-run rate on Nguyen-7 "
          "(evolve() picks islands or shared evaluation)")
    print(f"{'threads':>8}{'raw 1000':>14}{'raw 10000':>14}{'in-run':>12}{'islands':>9}"
          f"{'raw x':>8}{'in-run x':>10}")
    one = figures["threads_scaling"][str(threads[0])]
    for t in threads:
        row = figures["threads_scaling"][str(t)]
        print(f"{t:>8}{giga(row['raw_1000']):>14}{giga(row['raw_10000']):>14}{mega(row['inrun']):>12}"
              f"{row['inrun_islands']:>9}{row['raw_1000'] / one['raw_1000']:>8.2f}{row['inrun'] / one['inrun']:>10.2f}")

    print()
    print(f"Time to target, median over runs (a miss counts as infinitely long): Nguyen "
          f"({counted(len(problems), 'problem')} x {counted(args.ttt_seeds, 'seed')}, training R^2 >= {SOLVED_R2}, "
          f"{args.ttt_seconds:g} s budget)" + ("" if ttt_gecco is None else
                                               f"; reference networks ({len(networks)} x "
                                               f"{counted(args.gecco_seeds, 'seed')}, "
                                               f"the paper's best fitness, {args.gecco_seconds:g} s budget)"))
    versus = f"x {threads[0]} thread{'s' * (threads[0] != 1)}"  # the first count given (--threads 2: x 2)
    print(f"{'threads':>8}{'Nguyen s':>11}{'solved':>9}{versus:>12}"
          + ("" if ttt_gecco is None else f"{'networks s':>12}{'reached':>9}{versus:>12}"))
    first = str(threads[0])
    for t in map(str, threads):
        n = ttt_nguyen[t]
        line = (f"{t:>8}{n['median_seconds']:>11.3f}{n['solved']:>5}/{n['runs']:<3}"
                f"{n['median_seconds'] / ttt_nguyen[first]['median_seconds']:>12.2f}")
        if ttt_gecco is not None:
            g = ttt_gecco[t]
            line += (f"{g['median_seconds']:>12.2f}{g['reached']:>5}/{g['runs']:<3}"
                     f"{g['median_seconds'] / ttt_gecco[first]['median_seconds']:>12.2f}")
        print(line)
    if ttt_gecco is not None:
        checked = sum(ttt_gecco[t]["chain_at_target"] for t in ttt_gecco)
        reached = sum(ttt_gecco[t]["reached"] for t in ttt_gecco)
        print(f"  the chained formulas fitted where the search reached the target are at or below the paper's best "
              f"on all of its points in {checked}/{reached} runs")

    if gpu_figures is not None:
        print()
        print(f"GPU evaluator ({gpu_figures['device']}, float32, {POPULATION} programs, fitness on the device)")
        print(f"{'rows':>10}{'GP ops/s':>14}{'first call s':>14}")
        for n, row in gpu_figures["rows"].items():
            print(f"{n:>10}{giga(row['best']):>14}{row['first_call_seconds']:>14.2f}")

    print()
    print("Targets")
    print("  srnet 1 thread / pyoperon 1 thread (raw, 1000 samples), float64:",
          verdict(ratio(figures["gpops_per_s_1thread"], figures["pyoperon_gpops_per_s_1thread"]), 1))
    print("  srnet 1 thread / pyoperon 1 thread (raw, 1000 samples), float32 like pyoperon:",
          verdict(ratio(figures["gpops_per_s_1thread_float32"], figures["pyoperon_gpops_per_s_1thread"]), 1))
    print(f"  srnet {threads_all} threads / srnet 1 thread (raw, 1000 samples):",
          verdict(ratio(figures["gpops_per_s_all"], figures["gpops_per_s_1thread"]), 1.8))
    print("  srnet in-run / pyoperon in-run (1 thread each):",
          verdict(ratio(figures["inrun_gpops_per_s"], figures["pyoperon_inrun_gpops_per_s"]), 1))
    for label, ttt in (("Nguyen", figures["time_to_target_seconds"]),
                       ("reference networks", figures.get("time_to_target_seconds_reference", {}))):
        for t, limit in ((2, 0.6), (16, 0.15)):
            value = ratio(ttt.get(str(t)), ttt.get("1"))
            if value is not None:
                print(f"  time to target ({label}), {t} threads / 1 thread: {value:.2f}x (target <= {limit}x): "
                      f"{'met' if value <= limit else 'MISSED'}")
    if gpu_figures is not None:
        print("  GPU at 1M rows:", verdict(ratio(figures["gpu_gpops_per_s"]["1000000"], 1e11), 1), "of 1e11 GP ops/s")
        print(f"  GPU / CPU on all {threads_all} threads (float32, 100k rows):",
              verdict(ratio(figures["gpu_gpops_per_s"]["100000"], figures["cpu_all_float32_gpops_per_s_100000"]),
                      20))
    print(f"load average before {load_before}, after {load_after}")

    if args.json:
        write_results(args.json, figures)  # with the command, versions, date and host
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(run_script(main))
