"""Nguyen-1..12: srnet's CGPRegressor against gplearn and pyoperon at the same wall budget.

Every run: 200 training points and 1000 test points drawn uniformly from the
benchmark's box with different seeds (training: seed, test: 10000 + seed), one
core, the same wall budget, the function set add, sub, mul, div, sin, cos,
log, sqrt for all three methods.

* srnet: ``CGPRegressor(functions=..., max_seconds=budget, n_threads=1)``, its
  other defaults (30 columns, (1+4), point mutation, restarts).
* gplearn: ``SymbolicRegressor(population_size=1000, n_jobs=1)`` and its other
  defaults; it has no time limit, so it runs one generation per ``fit`` with
  ``warm_start=True`` while half a generation still fits in the budget.
* pyoperon: ``pyoperon.sklearn.SymbolicRegressor(max_time=budget, n_threads=1)``
  and its other defaults (population 1000, max length 50, and no local search
  unless ``--pyoperon-iterations N`` asks for N Levenberg-Marquardt steps per
  individual: the wrapper's default is 0, but pyoperon does much better with
  them); ``max_time`` is whole seconds, so the budget is rounded (at least 1 s).

Figures per problem (over seeds):

* ``median_r2``: median test R^2 (non-finite predictions count as -inf);
* ``solved``: median test R^2 >= 0.999;
* ``exact``: a majority of seeds give a model sympy-equivalent to the truth
  after rounding constants (``srnet.expr.symbolic.is_equivalent``).  Only
  models with test R^2 >= 0.999 are checked (one that fits worse cannot be
  the truth), which keeps the slow symbolic checks to the candidates;
* ``median_time_to_solve``: over the seeds that got there, seconds from the
  start of the run until the best model so far first reached *training*
  R^2 >= 0.999 (the training proxy of the test criterion).  srnet: from
  ``history_`` (the time of the first improvement with MSE <= 1e-3 var(y));
  gplearn: cumulative fit time of the first generation whose best program
  gets there (checked between generations, outside the clock); pyoperon: its
  wrapper exposes no progress, so this is the whole run's wall time when the
  final model gets there -- an upper bound;
* ``median_size``: the method's own size -- srnet: ``complexity(expression_)``
  (sympy tree nodes of the simplified formula); gplearn: program length
  (functions and terminals); pyoperon: model length (tree nodes, including
  the appended scale and offset);
* ``median_sympy_size``: sympy tree nodes of every model, converted to sympy
  and simplified for 2 s as srnet does with its own (same measure for all).

Models become sympy expressions without parsing any text: gplearn's program
(a prefix list of functions, feature indices and floats) and pyoperon's tree
(postfix nodes) are walked node by node; each conversion is checked against
the model's own predictions on a few test points.

Run ``python experiments/bench_nguyen.py [--seeds 5] [--seconds 10]
[--problems nguyen-1,nguyen-7] [--methods srnet,gplearn,pyoperon]
[--pyoperon-iterations 0] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time

import numpy as np
import sympy
from _options import check_numbers, names_once, output_file, run_script, try_import
from _provenance import write_results

import srnet
from srnet import CGPRegressor
from srnet.benchmarks import NGUYEN, get_benchmark
from srnet.data import counted
from srnet.expr.symbolic import (
    complexity,
    evaluate_sympy,
    is_equivalent,
    make_symbols,
    simplify,
)
from srnet.metrics import rmse_r2

FUNCTIONS = ("add", "sub", "mul", "div", "sin", "cos", "log", "sqrt")
METHODS = ("srnet", "gplearn", "pyoperon")
N_TRAIN, N_TEST = 200, 1000
TEST_SEED_OFFSET = 10_000
SOLVED_R2 = 0.999
SIMPLIFY_SECONDS = 2.0


def r2_score(y, prediction) -> float:
    """Test R^2 (srnet's one R^2, :func:`srnet.metrics.rmse_r2`); -inf when
    the model predicts a non-finite value."""
    return rmse_r2(np.asarray(y, dtype=np.float64), np.asarray(prediction, dtype=np.float64).reshape(-1))[1]


def conversion_agrees(expr, symbols, X, prediction, points: int = 20) -> bool:
    """Whether a converted expression reproduces the model on most of a few points.

    The sympy forms are the exact maths; where a peer's protection fires
    (gplearn: log and div within 0.001 of a singularity) the model differs by
    design, so three quarters of the points must agree, not all.
    """
    values = np.array(evaluate_sympy(expr, symbols, X[:points]))
    expected = np.asarray(prediction, dtype=np.float64)[:points]
    agree = np.isclose(values, expected, rtol=1e-3, atol=1e-3) | ~np.isfinite(expected)
    return bool(agree.mean() >= 0.75)


# --------------------------------------------------------------------------
# one run per method
# --------------------------------------------------------------------------

def run_srnet(bench, X, y, X_test, seed, seconds) -> dict:
    model = CGPRegressor(functions=FUNCTIONS, max_seconds=seconds, n_threads=1, random_state=seed)
    t0 = time.perf_counter()
    model.fit(X, y)
    wall = time.perf_counter() - t0
    history = model.history_
    reached = history[history[:, 3] <= (1.0 - SOLVED_R2) * float(np.var(y))]
    # expression_ names inputs x0, x1, ...: rename them after the benchmark's variables (is_equivalent
    # matches symbols by name), declaring the sign of the benchmark's box, a domain we know: the formula
    # itself holds for every real input (sqrt|x|), the check reads it where the benchmark lives (sqrt x)
    symbols = bench.symbols()
    rename = {s: symbols[int(s.name[1:])] for s in model.expression_.free_symbols}
    expr = model.expression_.xreplace(rename)
    return {"prediction": model.predict(X_test), "train_prediction": model.predict(X), "wall": wall,
            "time_to_solve": float(reached[0, 2]) if len(reached) else None,
            "size": complexity(model.expression_), "expr": expr, "simplified": True}


def gplearn_to_sympy(program, symbols) -> sympy.Expr:
    """Walk gplearn's prefix program (functions, feature indices, floats).

    gplearn's protected div and log (1 and 0 within 0.001 of a singularity)
    and its sqrt of |a| become a/b, log|a| and sqrt|a|: the exact maths away
    from the protection thresholds, as in srnet's primitive table.
    """
    from gplearn.functions import _Function

    forms = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
             "div": lambda a, b: a / b, "sin": sympy.sin, "cos": sympy.cos,
             "log": lambda a: sympy.log(sympy.Abs(a)), "sqrt": lambda a: sympy.sqrt(sympy.Abs(a))}
    position = 0

    def walk():
        nonlocal position
        node = program[position]
        position += 1
        if isinstance(node, _Function):
            if node.name not in forms:
                raise ValueError(f"no sympy form for gplearn function {node.name!r}; add it to forms")
            args = [walk() for _ in range(node.arity)]
            return forms[node.name](*args)
        if isinstance(node, (int, np.integer)):
            return symbols[int(node)]
        return sympy.Float(float(node))

    return walk()


def run_gplearn(bench, X, y, X_test, seed, seconds) -> dict:
    from gplearn.genetic import SymbolicRegressor

    model = SymbolicRegressor(population_size=1000, generations=0, function_set=FUNCTIONS, n_jobs=1,
                              random_state=seed, warm_start=True, low_memory=True)
    wall = 0.0
    generation_time = 0.0
    time_to_solve = None
    generations = 0
    while wall + 0.5 * generation_time < seconds:
        model.set_params(generations=generations + 1)
        t0 = time.perf_counter()
        model.fit(X, y)
        generation_time = time.perf_counter() - t0
        wall += generation_time
        generations += 1
        if time_to_solve is None and r2_score(y, model.predict(X)) >= SOLVED_R2:
            time_to_solve = wall
    symbols = make_symbols(bench.n_inputs, bench.variables, positive=np.all(X > 0, axis=0))
    prediction = model.predict(X_test)
    expr = gplearn_to_sympy(model._program.program, symbols)
    if not conversion_agrees(expr, symbols, X_test, prediction):
        expr = None
    return {"prediction": prediction, "train_prediction": model.predict(X), "wall": wall,
            "time_to_solve": time_to_solve, "size": int(model._program.length_), "expr": expr,
            "simplified": False, "generations": generations}


def operon_to_sympy(model, symbols) -> sympy.Expr:
    """Walk pyoperon's tree (postfix nodes; a node's first operand is the
    subtree just before it).  A variable leaf is weight * variable."""
    import pyoperon as op

    by_hash = {h: symbols[i] for i, h in enumerate(model.variables_)}
    stack: list[sympy.Expr] = []
    for node in model.model_.Nodes:
        if node.IsVariable:
            stack.append(sympy.Float(float(node.Value)) * by_hash[node.HashValue])
            continue
        if node.IsConstant:
            stack.append(sympy.Float(float(node.Value)))
            continue
        args = [stack.pop() for _ in range(node.Arity)]  # first operand first
        kind = node.Type
        if kind == op.NodeType.Add:
            value = sympy.Add(*args)
        elif kind == op.NodeType.Mul:
            value = sympy.Mul(*args)
        elif kind == op.NodeType.Sub and len(args) == 2:
            value = args[0] - args[1]
        elif kind == op.NodeType.Div and len(args) == 2:
            value = args[0] / args[1]
        elif kind == op.NodeType.Sin:
            value = sympy.sin(args[0])
        elif kind == op.NodeType.Cos:
            value = sympy.cos(args[0])
        elif kind == op.NodeType.Log:
            value = sympy.log(args[0])
        elif kind == op.NodeType.Sqrt:
            value = sympy.sqrt(args[0])
        else:
            raise ValueError(f"no sympy form for operon node {kind} of arity {node.Arity}")
        stack.append(value)
    if len(stack) != 1:
        raise ValueError(f"malformed operon tree: {len(stack)} values left")
    return stack[0]


def run_pyoperon(bench, X, y, X_test, seed, seconds, optimizer_iterations: int = 0) -> dict:
    from pyoperon.sklearn import SymbolicRegressor

    symbols_text = ",".join(FUNCTIONS + ("constant", "variable"))
    model = SymbolicRegressor(allowed_symbols=symbols_text, max_time=max(1, round(seconds)), n_threads=1,
                              generations=10**9, max_evaluations=10**15, random_state=seed,
                              optimizer_iterations=optimizer_iterations)
    t0 = time.perf_counter()
    model.fit(X, y)
    wall = time.perf_counter() - t0
    train_prediction = model.predict(X)
    prediction = model.predict(X_test)
    symbols = make_symbols(bench.n_inputs, bench.variables, positive=np.all(X > 0, axis=0))
    try:
        expr = operon_to_sympy(model, symbols)
        if not conversion_agrees(expr, symbols, X_test, prediction):
            expr = None
    except ValueError:
        expr = None
    return {"prediction": prediction, "train_prediction": train_prediction, "wall": wall,
            "time_to_solve": wall if r2_score(y, train_prediction) >= SOLVED_R2 else None,
            "size": int(model.stats_["model_length"]), "expr": expr, "simplified": False,
            "generations": int(model.stats_["generations"])}


RUNNERS = {"srnet": run_srnet, "gplearn": run_gplearn, "pyoperon": run_pyoperon}
PEER_MODULES = {"gplearn": "gplearn", "pyoperon": "pyoperon"}


def one_run(method, bench, seed, seconds, options=None) -> dict:
    """One fit of ``method`` (``options``: extra keyword arguments of its runner)."""
    X, y = bench.sample(N_TRAIN, random_state=seed)
    X_test, y_test = bench.sample(N_TEST, random_state=TEST_SEED_OFFSET + seed)
    out = RUNNERS[method](bench, X, y, X_test, seed, seconds, **(options or {}))
    r2 = r2_score(y_test, out["prediction"])
    expr = out["expr"]
    record = {"seed": seed, "r2": r2, "train_r2": r2_score(y, out["train_prediction"]),
              "seconds": out["wall"], "time_to_solve": out["time_to_solve"], "size": out["size"],
              "sympy_size": None, "exact": None, "expression": None}
    for key in ("generations",):
        if key in out:
            record[key] = out[key]
    if expr is not None:
        if not out["simplified"]:
            expr = simplify(expr, SIMPLIFY_SECONDS)
        record["sympy_size"] = complexity(expr)
        record["expression"] = str(expr)
        record["exact"] = bool(r2 >= SOLVED_R2 and is_equivalent(expr, bench.expression()))
    return record


# --------------------------------------------------------------------------
# summary
# --------------------------------------------------------------------------

def median_or_none(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarise_problem(runs: list[dict]) -> dict:
    r2 = statistics.median(run["r2"] for run in runs)
    exact_known = [run["exact"] for run in runs if run["exact"] is not None]
    return {"median_r2": r2, "solved": bool(r2 >= SOLVED_R2),
            "exact": sum(exact_known) > len(runs) / 2, "exact_runs": sum(exact_known),
            "exact_checked": len(exact_known),
            "median_time_to_solve": median_or_none([run["time_to_solve"] for run in runs]),
            "median_seconds": statistics.median(run["seconds"] for run in runs),
            "median_size": statistics.median(run["size"] for run in runs),
            "median_sympy_size": median_or_none([run["sympy_size"] for run in runs]),
            "runs": runs}


def summarise_method(problems: dict) -> dict:
    sizes = [run["size"] for p in problems.values() for run in p["runs"]]
    sympy_sizes = [run["sympy_size"] for p in problems.values() for run in p["runs"]]
    return {"solved": sum(p["solved"] for p in problems.values()),
            "exact": sum(p["exact"] for p in problems.values()),
            "median_size": float(statistics.median(sizes)) if sizes else None,
            "median_sympy_size": median_or_none(sympy_sizes),
            "problems": problems}


def fmt(value, spec) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return "-inf" if value < 0 else "inf"
    return format(value, spec)


def print_table(results: dict, problems: list[str], seeds: int, absent: dict) -> None:
    cell = 31
    print()
    print(f"Nguyen benchmarks, {seeds} seed(s): median test R^2, solved (R^2 >= {SOLVED_R2}), "
          f"exact recoveries / seeds, median size (method's own measure / sympy nodes)")
    header = f"{'problem':<11}" + "".join(f"| {m:<{cell - 2}}" for m in METHODS)
    sub = f"{'':<11}" + "".join(f"| {'R2':>8} {'ok':>3} {'exact':>5} {'size':>10} " for _ in METHODS)
    print(header)
    print(sub)
    print("-" * len(sub))
    for name in problems:
        line = f"{name:<11}"
        for method in METHODS:
            result = results[method]
            if result is None:
                line += f"| {absent[method]:<{cell - 2}}"
                continue
            p = result["problems"][name]
            size = f"{fmt(p['median_size'], 'g')}/{fmt(p['median_sympy_size'], 'g')}"
            line += (f"| {fmt(p['median_r2'], '8.4f'):>8} {'yes' if p['solved'] else 'no':>3} "
                     f"{p['exact_runs']:>2}/{len(p['runs']):<2} {size:>10} ")
        print(line)
    print("-" * len(sub))
    line = f"{'total':<11}"
    for method in METHODS:
        result = results[method]
        if result is None:
            line += f"| {absent[method]:<{cell - 2}}"
            continue
        size = f"{fmt(result['median_size'], 'g')}/{fmt(result['median_sympy_size'], 'g')}"
        line += f"| {'solved':>6} {result['solved']:>2} {'exact':>6} {result['exact']:>2} {size:>10} "
    print(line)
    print()
    print("median time to solve in seconds (train R^2 >= 0.999; pyoperon: whole run, an upper bound)")
    print(f"{'problem':<11}" + "".join(f"{m:>12}" for m in METHODS))
    for name in problems:
        line = f"{name:<11}"
        for method in METHODS:
            result = results[method]
            value = None if result is None else result["problems"][name]["median_time_to_solve"]
            line += f"{fmt(value, '12.2f'):>12}"
        print(line)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5, help="runs per problem and method (default 5)")
    parser.add_argument("--seconds", type=float, default=10.0, help="wall budget per run (default 10)")
    parser.add_argument("--problems", default=",".join(NGUYEN),
                        help="comma-separated benchmark names (default nguyen-1..nguyen-12)")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated subset of " + ",".join(METHODS))
    parser.add_argument("--pyoperon-iterations", type=int, default=0,
                        help="pyoperon's optimizer_iterations (local search steps; default 0, its wrapper's default)")
    parser.add_argument("--json", type=output_file, metavar="PATH",
                        help="also write the figures as JSON (under 'results', with provenance)")
    args = parser.parse_args(argv)
    # --pyoperon-iterations -1 was pyoperon's traceback after every srnet and gplearn run had finished
    check_numbers(parser, args, counts=("seeds",), budgets=("seconds",), naturals=("pyoperon_iterations",))
    options = {"pyoperon": {"optimizer_iterations": args.pyoperon_iterations}}
    try:
        # each once, in the order given (a repeated name ran twice and printed its row twice)
        problems = list(dict.fromkeys(get_benchmark(p).name for p in args.problems.split(",") if p.strip()))
    except ValueError as error:  # an unknown name: one line listing the valid ones
        parser.error(str(error))
    methods = names_once(args.methods)
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        parser.error(f"unknown methods {unknown}; valid: {', '.join(METHODS)}")
    if not problems or not methods:  # an empty list ran nothing and wrote an empty JSON
        parser.error("--problems and --methods must each name at least one")

    available = {m: m == "srnet" or try_import(PEER_MODULES[m]) is not None for m in METHODS}
    print(f"srnet {srnet.__version__}; {counted(len(problems), 'problem')} x {counted(args.seeds, 'seed')} x "
          f"{args.seconds:g} s; "
          + ", ".join(f"{m}: {'yes' if available[m] else 'not installed'}" for m in METHODS), flush=True)
    results: dict[str, dict | None] = {}
    absent = {m: "not installed" if not available[m] else "not run" for m in METHODS}
    for method in METHODS:
        if method not in methods or not available[method]:
            results[method] = None
            continue
        per_problem = {}
        for name in problems:
            bench = get_benchmark(name)
            runs = []
            for seed in range(args.seeds):
                record = one_run(method, bench, seed, args.seconds, options.get(method))
                runs.append(record)
                print(f"  {method:<9}{name:<11}seed {seed}: R2 {fmt(record['r2'], '.5f')}, "
                      f"{record['seconds']:.1f} s, size {record['size']}, exact {record['exact']}, "
                      f"{record['expression']}", file=sys.stderr, flush=True)
            per_problem[name] = summarise_problem(runs)
        results[method] = summarise_method(per_problem)

    print_table(results, problems, args.seeds, absent)
    if args.json:
        payload = {m: results[m] for m in METHODS}  # non-finite figures: null
        payload["settings"] = {"seeds": args.seeds, "seconds": args.seconds, "problems": problems,
                               "functions": list(FUNCTIONS), "n_train": N_TRAIN, "n_test": N_TEST,
                               "pyoperon_optimizer_iterations": args.pyoperon_iterations}
        write_results(args.json, payload)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(run_script(main))
