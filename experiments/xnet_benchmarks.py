"""X-Net (srnet.xnet) on the X-Net paper's benchmarks: Nguyen-1..12 and classification.

**Nguyen-1..12** (each benchmark's standard sample: 20 points for 1..8, 100
for 9..12, drawn from its box with the seed; 1000 test points with seed
10000 + seed), per seed:

* X-Net: ``XNetRegressor(max_seconds=S, random_state=seed)``, its defaults
  otherwise (the paper's library plus srnet's: add, sub, mul, div, sin, cos,
  exp, log, sqrt, square); test R^2, neurons (``n_nodes_``), parameters
  (``n_parameters_``: a weight and a bias per neuron), wall seconds, time to
  solve (the first improvement with training R^2 >= 0.999, from
  ``history_``), exact recovery (``srnet.expr.is_equivalent`` with each
  input's sign declared from the benchmark's box, checked when test R^2 >= 0.999);
* ``CGPRegressor`` at the same wall budget, exactly as
  ``experiments/bench_nguyen.py`` runs it (its function set, one thread);
* an MLP "trained to the same R^2": two tanh hidden layers of width 4, 8, 16,
  32, 64 (scikit-learn's ``MLPRegressor``, L-BFGS, float64), the first width
  whose test R^2 reaches X-Net's on that seed (else the widest); its R^2 and
  parameters.

``exact`` counts the problems where a majority of seeds are exact.

**Classification**: scikit-learn's iris, wine and 8x8 digits (the stand-in for
the paper's MNIST) and five PMLB sets read from the local cache
(``--pmlb-cache``, default ``$SRNET_PMLB_CACHE`` or ``../shared/pmlb``; a set
of the defaults not cached is skipped with a message; one named by --datasets
is refused).  Per seed: a stratified 75/25 split, features standardised on
the training rows; ``XNetClassifier(max_seconds=C)``
against an MLP with two ReLU hidden layers of 32 (the paper's iris MLP: 1315
parameters), 300 epochs of Adam.  Test accuracy and parameters, mean and std
over seeds; ``within_1_point`` and ``parameter_share`` say whether X-Net is
within one point of the MLP with at most 10 % of its parameters.

Run ``python experiments/xnet_benchmarks.py [--json PATH] [--quick] [--seeds 3]
[--max-seconds 5] [--classification-seconds 30]``.  ``--quick`` checks the
script in about a minute (4 Nguyen problems, iris and one PMLB set, one seed,
small budgets).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import sympy
import torch
from _options import check_numbers, names_once, output_file, run_script, shared_path
from _provenance import write_results
from _summary import mean_std, shown_std

from srnet import XNetClassifier, XNetRegressor
from srnet.benchmarks import NGUYEN, get_benchmark
from srnet.data import counted, load_table, pmlb_cached
from srnet.expr.symbolic import complexity, is_equivalent
from srnet.metrics import rmse_r2
from srnet.train import train_mlp

N_TEST = 1000
TEST_SEED_OFFSET = 10_000
SOLVED_R2 = 0.999
MLP_WIDTHS = (4, 8, 16, 32, 64)
SKLEARN_SETS = ("iris", "wine", "digits")
PMLB_SETS = ("breast_cancer_wisconsin", "pima", "heart_statlog", "ionosphere", "vehicle")
QUICK_PROBLEMS = ("nguyen-1", "nguyen-5", "nguyen-8", "nguyen-10")
QUICK_SETS = ("iris", "pima")
REPO = Path(__file__).resolve().parents[1]


def r2(y, prediction) -> float:
    return rmse_r2(np.asarray(y, dtype=np.float64), np.asarray(prediction, dtype=np.float64))[1]


def exact(bench, expression, test_r2: float) -> bool:
    """Whether a formula in x0, x1, ... is the benchmark's, as written or expanded.

    X-Net's formulas nest a weight and a bias per neuron, so a product such as
    ``0.5*(2*x + 2)*(x + 0.5)`` only shows its constants (the ones
    :func:`srnet.expr.is_equivalent` rounds) once multiplied out.
    """
    if not test_r2 >= SOLVED_R2:
        return False
    symbols = bench.symbols()
    rename = {s: symbols[int(s.name[1:])] for s in expression.free_symbols}
    candidate = expression.xreplace(rename)
    truth = bench.expression()
    return bool(is_equivalent(candidate, truth) or is_equivalent(sympy.expand(candidate), truth))


def time_to_solve(history: np.ndarray, loss_at_solved: float):
    reached = history[history[:, 2] <= loss_at_solved]
    return float(reached[0, 1]) if len(reached) else None


# ----------------------------------------------------------------- nguyen

def run_xnet(bench, X, y, X_test, y_test, seed, seconds) -> dict:
    model = XNetRegressor(max_seconds=seconds, random_state=seed)
    start = time.perf_counter()
    model.fit(X, y)
    wall = time.perf_counter() - start
    test_r2 = r2(y_test, model.predict(X_test))
    return {"r2": test_r2, "train_r2": r2(y, model.predict(X)), "nodes": model.n_nodes_,
            "parameters": model.n_parameters_, "seconds": wall,
            "time_to_solve": time_to_solve(model.history_, 1.0 - SOLVED_R2),  # history: 1 - training R^2
            "iterations": model.n_iterations_, "restarts": model.n_restarts_,
            "sympy_size": complexity(model.expression_), "exact": exact(bench, model.expression_, test_r2),
            "expression": str(model.expression_)}


def run_cgp(bench_nguyen, bench, X, y, X_test, y_test, seed, seconds) -> dict:
    out = bench_nguyen.run_srnet(bench, X, y, X_test, seed, seconds)
    test_r2 = r2(y_test, out["prediction"])
    return {"r2": test_r2, "seconds": out["wall"], "time_to_solve": out["time_to_solve"], "size": out["size"],
            "exact": bool(test_r2 >= SOLVED_R2 and is_equivalent(out["expr"], bench.expression())),
            "expression": str(out["expr"])}


def parameters(module: torch.nn.Module) -> int:
    return int(sum(p.numel() for p in module.parameters()))


def run_mlp(X, y, X_test, y_test, seed, goal: float, widths, max_iter: int) -> dict:
    """The narrowest two-layer tanh MLP (of ``widths``) whose test R^2 reaches ``goal``.

    scikit-learn's ``MLPRegressor`` with L-BFGS, in float64: on 20 to 100
    points it fits far closer than minibatch Adam in float32 would.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    for width in widths:
        model = MLPRegressor(hidden_layer_sizes=(width, width), activation="tanh", solver="lbfgs",
                             max_iter=max_iter, tol=1e-12, alpha=0.0, random_state=seed)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
        seconds = time.perf_counter() - start
        test_r2 = r2(y_test, model.predict(X_test))
        if test_r2 >= goal:
            break
    n_parameters = int(sum(w.size for w in model.coefs_) + sum(b.size for b in model.intercepts_))
    return {"r2": test_r2, "width": width, "parameters": n_parameters, "reached": bool(test_r2 >= goal),
            "seconds": seconds}


def summarise(runs: list[dict], keys) -> dict:
    out = {}
    for key in keys:
        out[f"{key}_mean"], out[f"{key}_std"] = mean_std([run[key] for run in runs])
    return out


def nguyen(problems, seeds: int, seconds: float, widths, mlp_iterations: int) -> dict:
    import bench_nguyen

    per_problem = {}
    for name in problems:
        bench = get_benchmark(name)
        xnet, cgp, mlp = [], [], []
        for seed in range(seeds):
            X, y = bench.sample(random_state=seed)
            X_test, y_test = bench.sample(N_TEST, random_state=TEST_SEED_OFFSET + seed)
            xnet.append(run_xnet(bench, X, y, X_test, y_test, seed, seconds))
            cgp.append(run_cgp(bench_nguyen, bench, X, y, X_test, y_test, seed, seconds))
            mlp.append(run_mlp(X, y, X_test, y_test, seed, xnet[-1]["r2"], widths, mlp_iterations))
            print(f"  {name:<10} seed {seed}: X-Net R2 {xnet[-1]['r2']:.6f} {xnet[-1]['nodes']} nodes "
                  f"{xnet[-1]['seconds']:.1f} s exact {xnet[-1]['exact']} | CGP R2 {cgp[-1]['r2']:.6f} "
                  f"exact {cgp[-1]['exact']} | MLP R2 {mlp[-1]['r2']:.6f} {mlp[-1]['parameters']} parameters | "
                  f"{xnet[-1]['expression'][:60]}", file=sys.stderr, flush=True)
        per_problem[name] = {
            "xnet": {**summarise(xnet, ("r2", "nodes", "parameters", "seconds", "time_to_solve")),
                     "exact_runs": sum(run["exact"] for run in xnet), "runs": xnet},
            "cgp": {**summarise(cgp, ("r2", "size", "seconds", "time_to_solve")),
                    "exact_runs": sum(run["exact"] for run in cgp), "runs": cgp},
            "mlp": {**summarise(mlp, ("r2", "parameters")), "reached": sum(run["reached"] for run in mlp),
                    "runs": mlp}}
    entries = per_problem.values()

    def mean_of(method, key):
        values = [entry[method][key] for entry in entries if entry[method][key] is not None]
        return float(statistics.fmean(values)) if values else None

    return {"mean_r2": mean_of("xnet", "r2_mean"), "mean_nodes": mean_of("xnet", "nodes_mean"),
            "mean_parameters": mean_of("xnet", "parameters_mean"),
            "exact": sum(entry["xnet"]["exact_runs"] > seeds / 2 for entry in entries),
            "solved": sum((entry["xnet"]["r2_mean"] or -math.inf) >= 0.9999 for entry in entries),
            "mean_seconds": mean_of("xnet", "seconds_mean"),
            "cgp": {"mean_r2": mean_of("cgp", "r2_mean"), "mean_size": mean_of("cgp", "size_mean"),
                    "exact": sum(entry["cgp"]["exact_runs"] > seeds / 2 for entry in entries),
                    "mean_seconds": mean_of("cgp", "seconds_mean")},
            "mlp": {"mean_r2": mean_of("mlp", "r2_mean"), "mean_parameters": mean_of("mlp", "parameters_mean")},
            "problems": per_problem}


# --------------------------------------------------------- classification

def load_dataset(name: str, pmlb_cache: Path):
    """``(X, y)`` of a scikit-learn set or a cached PMLB set; None (with a message) when a default set is
    absent (a set named by --datasets is checked by ``main``)."""
    from sklearn import datasets

    if name in SKLEARN_SETS:
        return getattr(datasets, f"load_{name}")(return_X_y=True)
    if not pmlb_cached(pmlb_cache, name):  # a default set (a named one is checked by main)
        print(f"  {name}: not in the PMLB cache {pmlb_cache}; skipped", file=sys.stderr, flush=True)
        return None
    X, y, _ = load_table(name, pmlb_cache=pmlb_cache)
    return X, y


def classification(names, seeds: int, seconds: float, epochs: int, pmlb_cache: Path) -> list[dict]:
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    rows = []
    for name in names:
        data = load_dataset(name, pmlb_cache)
        if data is None:
            continue
        X, y = data
        xnet, mlp = [], []
        for seed in range(seeds):
            X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=seed,
                                                                stratify=y)
            scaler = StandardScaler().fit(X_train)
            X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
            start = time.perf_counter()
            model = XNetClassifier(max_seconds=seconds, random_state=seed, simplify_seconds=0).fit(X_train, y_train)
            xnet.append({"accuracy": float(model.score(X_test, y_test)), "parameters": model.n_parameters_,
                         "nodes": model.n_nodes_, "seconds": time.perf_counter() - start})
            network, record = train_mlp(X_train, y_train, hidden=(32, 32), activation="relu", task="classification",
                                        epochs=epochs, lr=0.01, random_state=seed)
            with torch.no_grad():
                logits = network(torch.as_tensor(X_test, dtype=torch.float32)).numpy()
            mlp.append({"accuracy": float(np.mean(record.classes[logits.argmax(axis=1)] == y_test)),
                        "parameters": parameters(network), "seconds": record.seconds})
            print(f"  {name:<24} seed {seed}: X-Net {xnet[-1]['accuracy']:.3f} ({xnet[-1]['parameters']} "
                  f"parameters) | MLP {mlp[-1]['accuracy']:.3f} ({mlp[-1]['parameters']})", file=sys.stderr,
                  flush=True)
        x_acc, x_acc_std = mean_std([r["accuracy"] for r in xnet])
        m_acc, m_acc_std = mean_std([r["accuracy"] for r in mlp])
        x_par, m_par = mean_std([r["parameters"] for r in xnet])[0], mean_std([r["parameters"] for r in mlp])[0]
        rows.append({"dataset": name, "n_samples": int(len(X)), "n_features": int(X.shape[1]),
                     "n_classes": int(len(np.unique(y))),
                     "xnet_accuracy": x_acc, "xnet_accuracy_std": x_acc_std, "xnet_parameters": x_par,
                     "mlp_accuracy": m_acc, "mlp_accuracy_std": m_acc_std, "mlp_parameters": m_par,
                     "within_1_point": bool(x_acc >= m_acc - 0.01), "parameter_share": x_par / m_par,
                     "xnet_seconds": mean_std([r["seconds"] for r in xnet])[0], "xnet_runs": xnet, "mlp_runs": mlp})
    return rows


# ------------------------------------------------------------------ report

def fmt(value, spec) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)


def print_report(results: dict) -> None:
    nguyen_part = results.get("nguyen")
    if nguyen_part:
        print("\nNguyen: test R^2 (mean +- std over seeds), nodes, parameters, exact seeds, t_solve (seconds to "
              "R^2 >= 0.9999, mean over the seeds that reached it); CGP at the same budget; the smallest MLP to reach "
              "X-Net's R^2, else the widest (reached: seeds where one did)")
        print(f"{'problem':<11}{'X-Net R2':>22}{'nodes':>7}{'params':>7}{'exact':>6}{'t_solve':>8}"
              f"{'CGP R2':>11}{'exact':>6}{'t_solve':>8}{'MLP R2':>10}{'params':>7}{'reached':>8}")
        for name, p in nguyen_part["problems"].items():
            x, c, m = p["xnet"], p["cgp"], p["mlp"]
            print(f"{name:<11}{fmt(x['r2_mean'], '.6f'):>11} +- {fmt(x['r2_std'], '.1e'):>7}"
                  f"{fmt(x['nodes_mean'], '.1f'):>7}{fmt(x['parameters_mean'], '.1f'):>7}"
                  f"{x['exact_runs']:>6}{fmt(x['time_to_solve_mean'], '.2f'):>8}"
                  f"{fmt(c['r2_mean'], '.6f'):>11}{c['exact_runs']:>6}{fmt(c['time_to_solve_mean'], '.2f'):>8}"
                  f"{fmt(m['r2_mean'], '.5f'):>10}{fmt(m['parameters_mean'], '.0f'):>7}"
                  f"{m['reached']:>6}/{len(m['runs'])}")
        print(f"X-Net: mean R^2 {fmt(nguyen_part['mean_r2'], '.6f')}, mean nodes "
              f"{fmt(nguyen_part['mean_nodes'], '.2f')}, mean parameters {fmt(nguyen_part['mean_parameters'], '.1f')}, "
              f"exact {nguyen_part['exact']}/{len(nguyen_part['problems'])}, R^2 >= 0.9999 on "
              f"{nguyen_part['solved']}; CGP: mean R^2 {fmt(nguyen_part['cgp']['mean_r2'], '.6f')}, exact "
              f"{nguyen_part['cgp']['exact']}; MLP: mean R^2 {fmt(nguyen_part['mlp']['mean_r2'], '.6f')} with "
              f"{fmt(nguyen_part['mlp']['mean_parameters'], '.0f')} parameters")
    rows = results.get("classification")
    if rows:
        print("\nClassification: test accuracy (mean +- std), parameters")
        print(f"{'dataset':<26}{'X-Net':>18}{'params':>8}{'MLP':>18}{'params':>8}  within 1 point, <= 10 %?")
        for row in rows:
            ok = row["within_1_point"] and row["parameter_share"] <= 0.1
            print(f"{row['dataset']:<26}{row['xnet_accuracy']:>9.3f} +- {shown_std(row['xnet_accuracy_std'], '.3f'):<5}"
                  f"{row['xnet_parameters']:>8.0f}{row['mlp_accuracy']:>9.3f} +- "
                  f"{shown_std(row['mlp_accuracy_std'], '.3f'):<5}"
                  f"{row['mlp_parameters']:>8.0f}  {'yes' if ok else 'no'} ({100 * row['parameter_share']:.1f} %)")
        print(f"within 1 point with <= 10 % of the parameters on "
              f"{sum(r['within_1_point'] and r['parameter_share'] <= 0.1 for r in rows)} of {len(rows)} sets")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=output_file, metavar="PATH",
                        help="write the figures as JSON (under 'results', with provenance)")
    parser.add_argument("--quick", action="store_true", help="a one-minute check of the script")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per problem and dataset (default 3; quick 1)")
    parser.add_argument("--max-seconds", type=float, default=None,
                        help="X-Net's and CGP's budget per Nguyen run (default 5; quick 2)")
    parser.add_argument("--classification-seconds", type=float, default=None,
                        help="X-Net's budget per classification run (default 30; quick 5)")
    parser.add_argument("--problems", default=None,
                        help="comma-separated Nguyen problems (default all 12; '' for none)")
    parser.add_argument("--datasets", default=None,
                        help=f"comma-separated classification sets (default {','.join(SKLEARN_SETS + PMLB_SETS)}; "
                             "'' for none)")
    parser.add_argument("--pmlb-cache", default=shared_path("SRNET_PMLB_CACHE", "pmlb"))
    args = parser.parse_args(argv)
    check_numbers(parser, args, counts=("seeds",), budgets=("max_seconds", "classification_seconds"))
    quick = args.quick
    seeds = args.seeds if args.seeds is not None else (1 if quick else 3)
    seconds = args.max_seconds if args.max_seconds is not None else (2.0 if quick else 5.0)
    class_seconds = args.classification_seconds if args.classification_seconds is not None else (5.0 if quick else 30.0)
    problems = (args.problems.split(",") if args.problems is not None
                else list(QUICK_PROBLEMS if quick else NGUYEN))
    # each once, in the order given: a repeated set was measured again and counted twice in "on k of n sets"
    problems = names_once(problems)
    datasets = (args.datasets.split(",") if args.datasets is not None
                else list(QUICK_SETS if quick else SKLEARN_SETS + PMLB_SETS))
    datasets = names_once(datasets)
    if args.problems is not None and args.datasets is not None and not problems and not datasets:
        parser.error("--problems and --datasets name nothing to run")
    cache = Path(args.pmlb_cache)
    unknown = [n for n in datasets if n not in SKLEARN_SETS and not pmlb_cached(cache, n)] if args.datasets else []
    if unknown:  # a typo read as "not in the PMLB cache; skipped", exit 0 with nothing measured
        parser.error(f"--datasets: {', '.join(unknown)} is neither a scikit-learn set ({', '.join(SKLEARN_SETS)}) "
                     f"nor a table in the PMLB cache '{cache}'")
    for name in problems:
        try:
            get_benchmark(name)
        except ValueError as error:  # an unknown name: one line listing the valid ones
            parser.error(str(error))
    torch.set_num_threads(1)
    widths, mlp_iterations = ((16,), 1000) if quick else (MLP_WIDTHS, 5000)
    class_epochs = 100 if quick else 300
    print(f"X-Net benchmarks: {counted(len(problems), 'Nguyen problem')} x {counted(seeds, 'seed')} x {seconds:g} s; "
          f"{counted(len(datasets), 'classification set')} x {counted(seeds, 'seed')} x {class_seconds:g} s",
          flush=True)
    results = {}
    started = time.perf_counter()
    if problems:
        results["nguyen"] = nguyen(problems, seeds, seconds, widths, mlp_iterations)
    results["classification"] = classification(datasets, seeds, class_seconds, class_epochs, Path(args.pmlb_cache))
    results["settings"] = {"seeds": seeds, "max_seconds": seconds, "classification_seconds": class_seconds,
                           "problems": problems, "datasets": datasets, "mlp_widths": list(widths),
                           "mlp_max_iter": mlp_iterations, "classification_mlp_epochs": class_epochs,
                           "n_test": N_TEST, "quick": quick,
                           "wall_seconds": time.perf_counter() - started}
    print_report(results)
    if args.json:
        write_results(args.json, results)  # non-finite figures: null
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(run_script(main))
