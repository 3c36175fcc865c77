"""Activations found by symbolic regression, injected into small networks.

The neuro-symbolic activation study: does a formula found by CGP, used as the
activation of a small "Light" network, buy accuracy per parameter against a
large "Heavy" network and against ReLU/GELU/SiLU?

Per dataset and seed (80/20 stratified split, features standardised with the
training statistics, labels one-vs-rest: the most frequent class against the
rest for multi-class sets):

* the activation is found on the training split only (default route
  ``data``: CGP symbolic regression of the labels on a subsample, every
  input then replaced by x, standardised; route ``search``: the evolved-
  activation search, scored on a validation part of the training split);
  a degenerate formula (e.g. satimage's band differences x_i - x_j, which
  cancel when every input becomes x) is reported and the route retried
  with another seed (``--attempts``); when every attempt is degenerate the
  search route is used instead (``--fallback search``), and the formula
  list, CSV and JSON say which route each activation came from;
* models: Heavy d-200-100-1 (BatchNorm, ReLU, dropout 0.3); Light d-64-32-1
  with ReLU, GELU, SiLU; Hybrid-Specialist (Light with the activation found
  on the same dataset); Hybrid-Transfer (Light with the activation found on
  the transfer source, ``magic`` by default: physics -> land cover and spam);
* Adam, learning rate 1e-3, batch 1024, 15 epochs; every model of a seed
  starts from weights seeded by that seed.

Reported per model: accuracy, ROC AUC, parameters, efficiency
E = AUC / log10(parameters), gain = E / E(Heavy) - 1 and AUC - AUC(Heavy)
(per seed, then mean +- std over seeds); the formulas; a plot of each
activation beside ReLU/GELU/SiLU; CSV and JSON files in ``--out``.

``magic`` (MAGIC gamma telescope) stands in for HIGGS and ``satimage`` for
Forest Cover.  PMLB tables are read by ``pmlb.fetch_data(...,
local_cache_dir=...)`` from ``--pmlb-cache`` (default ``$SRNET_PMLB_CACHE``,
else ``../shared/pmlb`` next to the repository).

Run ``python experiments/activation_study.py [--datasets magic,satimage,spambase]
[--seeds 42,43,44] [--device auto] [--epochs 15] [--json PATH] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
from _options import check_numbers, names_once, output_file, output_folder, run_script, shared_path
from _provenance import cpu_model, write_results
from _summary import mean_std, shown_std

from srnet.activations import (
    DegenerateActivationError,
    activation_from_data,
    fit_and_score,
    heavy_network,
    light_network,
    one_vs_rest,
    resolve_device,
    search_activation,
    seeded,
    split,
)
from srnet.activations.study_models import standardise  # not yet exported by srnet.activations under this spelling
from srnet.data import PMLB_CACHE_ENV, counted, load_table, pmlb_cache_dir, pmlb_cached
from srnet.jsonio import dumps

REPO = Path(__file__).resolve().parents[1]
BASELINES = {"relu": "ReLU", "gelu": "GELU", "silu": "SiLU"}
MODEL_ORDER = ("Heavy", "Light-ReLU", "Light-GELU", "Light-SiLU", "Hybrid-Specialist", "Hybrid-Transfer")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", default="magic,satimage,spambase",
                        help="PMLB tables, comma-separated (default: magic,satimage,spambase)")
    parser.add_argument("--seeds", default="42,43,44",
                        help="one split, search and training per seed, comma-separated (default: 42,43,44)")
    parser.add_argument("--device", default="auto",
                        help="auto (CUDA when present), cpu, cuda, cuda:1, ... (default: auto)")
    parser.add_argument("--epochs", type=int, default=15, help="training epochs of every model (default: 15)")
    parser.add_argument("--batch-size", type=int, default=1024, help="training batch size (default: 1024)")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam's learning rate (default: 0.001)")
    parser.add_argument("--route", choices=("data", "search"), default="data",
                        help="how the activation is found: data, symbolic regression of the labels; search, the "
                             "evolved-activation search (default: data)")
    parser.add_argument("--search-seconds", type=float, default=30.0,
                        help="budget of each activation search in seconds (default: 30)")
    parser.add_argument("--search-generations", type=int, default=None,
                        help="budget each search in generations instead (reproducible: a seed gives one formula; "
                             "a seconds budget depends on the machine's speed; default: none, --search-seconds "
                             "budgets it)")
    parser.add_argument("--search-samples", type=int, default=2000, help="rows each search sees (default: 2000)")
    parser.add_argument("--attempts", type=int, default=3,
                        help="tries per route (new seed after a degenerate formula; default: 3)")
    parser.add_argument("--fallback", choices=("search", "data", "none"), default="search",
                        help="route used when --route gives only degenerate formulas (default: search)")
    parser.add_argument("--transfer-source", default="magic",
                        help="the PMLB table whose activation every dataset's Hybrid-Transfer model uses; '' for "
                             "none (default: magic)")
    parser.add_argument("--affine", action="store_true", help="learnable a*g(b*x + c) + d around found formulas")
    parser.add_argument("--pmlb-cache", default=shared_path(PMLB_CACHE_ENV, "pmlb"),
                        help=f"the folder of PMLB tables, read in place; nothing is downloaded (default: "
                             f"${PMLB_CACHE_ENV}, else ../shared/pmlb beside the repository)")
    parser.add_argument("--out", default=str(REPO / "runs" / "activation_study"),
                        help="the folder for the CSV files, report.json and activations.png (default: "
                             "runs/activation_study in the repository)")
    parser.add_argument("--json", type=output_file, default=None, help="also write the JSON report here")
    args = parser.parse_args(argv)
    # one line per bad value (epochs 0 reported untrained models)
    check_numbers(parser, args, counts=("epochs", "batch_size", "attempts", "search_samples", "search_generations"),
                  budgets=("lr", "search_seconds"))
    if args.search_generations is not None:  # generations alone: the seconds would cut a run short, by chance
        args.search_seconds = None
    # each once, in the order given: a repeated seed or dataset was trained twice and counted as two seeds in
    # the mean +- std; no dataset ran the transfer source's search and wrote an empty table
    args.dataset_list = names_once(args.datasets)
    if not args.dataset_list:
        raise SystemExit("error: --datasets names no dataset")
    try:
        args.seed_list = list(dict.fromkeys(int(s) for s in args.seeds.split(",") if s.strip()))
    except ValueError:
        raise SystemExit(f"error: --seeds must be whole numbers joined by ',', got {args.seeds!r}") from None
    if not args.seed_list:
        raise SystemExit("error: --seeds names no seed")
    # each attempt's search runs on seed * 1000 + attempt, a 32-bit seed (-1 was scikit-learn's traceback)
    for seed in args.seed_list:
        if not 0 <= seed * 1000 + args.attempts < 2**32:
            raise SystemExit(f"error: --seeds must be whole numbers from 0 to {(2**32 - args.attempts) // 1000}, "
                             f"got {seed}")
    try:
        args.device = resolve_device(args.device)
    except ValueError as error:
        raise SystemExit(f"error: --device: {error}") from None
    return args


# ------------------------------------------------------------------ finding

def _budget(args) -> str:
    """Each search's budget as printed."""
    if args.search_generations is not None:
        return f"{args.search_generations} generations"
    return f"{args.search_seconds:g} s, not reproducible: a seed's formula depends on the machine's speed"


def run_route(route: str, args, X_train, y_train, state: int):
    if route == "data":
        return activation_from_data(X_train, y_train, max_seconds=args.search_seconds,
                                    max_generations=args.search_generations, max_samples=args.search_samples,
                                    affine=args.affine, random_state=state)
    # the search is scored on a validation part of the training split, never on the test split
    X_fit, X_val, y_fit, y_val = split(X_train, y_train, random_state=state)
    return search_activation(X_fit, y_fit, X_val, y_val, max_seconds=args.search_seconds,
                             max_generations=args.search_generations, max_samples=args.search_samples,
                             affine=args.affine, random_state=state, device=resolve_device(args.device))


def find_activation(args, X_train, y_train, seed: int):
    """The route's activation on the training split, retried with other seeds
    on degenerate formulas, then (``--fallback search``) by the search route;
    returns (FoundActivation or None, list of rejection messages)."""
    rejected = []
    routes = [args.route] + ([args.fallback] if args.fallback not in ("none", args.route) else [])
    for k, route in enumerate(routes):
        if k:
            print(f"    route {args.route} gave only degenerate formulas: falling back to route {route}")
        for attempt in range(args.attempts):
            try:
                return run_route(route, args, X_train, y_train, seed * 1000 + attempt), rejected
            except DegenerateActivationError as error:
                rejected.append(f"{route}, attempt {attempt + 1}: {error}")
                print(f"    {route}, attempt {attempt + 1}: rejected: {error}")
    return None, rejected


# ------------------------------------------------------------------ summary

def summarise(runs):
    heavy = {(r["dataset"], r["seed"]): r for r in runs if r["model"] == "Heavy"}
    for r in runs:
        base = heavy.get((r["dataset"], r["seed"]))
        # Heavy at AUC 0 has efficiency 0: no ratio (a ZeroDivisionError after all the training)
        r["gain_vs_heavy"] = (r["efficiency"] / base["efficiency"] - 1.0) if base and base["efficiency"] else math.nan
        r["auc_vs_heavy"] = (r["roc_auc"] - base["roc_auc"]) if base else math.nan
    rows = []
    keys = sorted({(r["dataset"], r["model"]) for r in runs},
                  key=lambda k: (k[0], MODEL_ORDER.index(k[1]) if k[1] in MODEL_ORDER else 99))
    for dataset, model in keys:
        group = [r for r in runs if r["dataset"] == dataset and r["model"] == model]
        # each seed's own formula (the first seed's stood for all of them), once each
        activations = " | ".join(dict.fromkeys(str(r["activation"]) for r in group))
        row = {"dataset": dataset, "model": model, "seeds": len(group), "activation": activations,
               "parameters": group[0]["parameters"]}
        for metric in ("accuracy", "roc_auc", "efficiency", "gain_vs_heavy", "auc_vs_heavy", "seconds"):
            row[metric], row[metric + "_std"] = mean_std(r[metric] for r in group)
        rows.append(row)
    return rows


def print_table(rows) -> None:
    counts = sorted({r["seeds"] for r in rows})
    print(f"test figures, mean ± std over {' or '.join(map(str, counts))} seed(s) (one split and training each); "
          f"E = ROC AUC / log10(parameters); gain and dAUC against the Heavy network of the same dataset")
    header = (f"{'dataset':<10} {'model':<18} {'params':>7} {'accuracy':>15} {'ROC AUC':>15} "
              f"{'E=AUC/log10(P)':>15} {'gain vs Heavy':>15} {'dAUC vs Heavy':>15}")
    print(header)
    print("-" * len(header))
    for r in rows:
        def pm(key, scale=1.0, digits=4, r=r):
            return f"{r[key] * scale:.{digits}f}±{shown_std(r[key + '_std'] * scale, f'.{digits}f')}"
        print(f"{r['dataset']:<10} {r['model']:<18} {r['parameters']:>7d} {pm('accuracy'):>15} {pm('roc_auc'):>15} "
              f"{pm('efficiency'):>15} {pm('gain_vs_heavy', 100, 1) + '%':>15} {pm('auc_vs_heavy'):>15}")


def plot_activations(found, path: Path, route: str | None = None) -> None:
    """Each dataset's found activations beside ReLU, GELU and SiLU on [-4, 4], every curve whole (a fixed [-3, 5]
    cut the minimum of -3.057 + 4.002*sin(x)**2/x**2 off); a formula from another route than ``route`` (the
    fallback's) is marked so in the legend, as the CSV and JSON say."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = list(dict.fromkeys(f["dataset"] for f in found))
    if not datasets:
        return
    x = torch.linspace(-4, 4, 401)
    fig, axes = plt.subplots(1, len(datasets), figsize=(5 * len(datasets), 4), squeeze=False)
    references = {"ReLU": torch.relu(x), "GELU": torch.nn.functional.gelu(x), "SiLU": torch.nn.functional.silu(x)}
    for ax, dataset in zip(axes[0], datasets):
        for name, y in references.items():
            ax.plot(x, y, "--", lw=1, label=name)
        for f in (f for f in found if f["dataset"] == dataset):
            with torch.no_grad():
                y = f["module"].cpu()(x)
            other = f" (route {f['route']})" if route is not None and f.get("route") not in (None, route) else ""
            text = f"{f['formula'][:48]}..." if len(f["formula"]) > 51 else f["formula"]
            ax.plot(x, y, lw=2, label=f"seed {f['seed']}{other}: {text}")
        # (the study's route in the title: a curve of another route is tagged in the legend)
        ax.set_title(f"activations found on {dataset}" + (f" (route {route})" if route is not None else ""))
        ax.set_xlabel("x")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_csv(rows, path: Path) -> None:
    if not rows:
        return
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


# --------------------------------------------------------------------- main

def refusal(name: str, cache, error: Exception) -> SystemExit:
    """One line for a table that cannot be read, not a traceback."""
    if not Path(pmlb_cache_dir(cache)).is_dir():  # (load_table's advice named a --download it lacks)
        return SystemExit(f"error: --pmlb-cache '{pmlb_cache_dir(cache)}' is no folder: give the folder of PMLB "
                          f"tables (this script downloads nothing)")
    return SystemExit(f"error: dataset {name!r}: {error}")


def check_tables(names, cache) -> None:
    """Refuse a name no table answers to before any table is read: ``--datasets nosuch`` read the transfer
    source's 19,020 rows (magic) first.  A file or a table in the PMLB cache is there; for any other name (this
    script downloads nothing) load_table reads nothing and says why: not PMLB's (with close names), or not
    cached."""
    for name in names:
        if Path(name).is_file() or pmlb_cached(pmlb_cache_dir(cache), name):
            continue
        try:
            load_table(name, pmlb_cache=cache)
        except (ValueError, OSError) as error:
            raise refusal(name, cache, error) from None


def main(argv=None) -> int:
    args = parse_args(argv)
    datasets, seeds, device = args.dataset_list, args.seed_list, args.device
    try:  # (a file there, or a folder that cannot be made, was a traceback)
        out = Path(output_folder(args.out))
    except argparse.ArgumentTypeError as error:
        raise SystemExit(f"error: --out: {error}") from None
    cache = args.pmlb_cache
    needed = list(dict.fromkeys(([args.transfer_source] if args.transfer_source else []) + datasets))
    print(f"activation study: datasets {', '.join(datasets)}; seeds {seeds}; device {device}; "
          f"route {args.route} ({_budget(args)}); {args.epochs} epochs, batch {args.batch_size}, "
          f"lr {args.lr:g}; PMLB cache {cache}")

    check_tables(needed, cache)
    tables, info = {}, {}
    for name in needed:
        try:
            X, y, _ = load_table(name, pmlb_cache=cache)
        except (ValueError, OSError) as error:  # (a damaged table)
            raise refusal(name, cache, error) from None
        labels, positive = one_vs_rest(y)
        tables[name] = (X, labels)
        info[name] = {"rows": int(X.shape[0]), "features": int(X.shape[1]), "classes": int(np.unique(y).size),
                      "positive_class": positive, "positive_share": float(labels.mean())}
        print(f"  {name}: {X.shape[0]} rows, {X.shape[1]} features, {info[name]['classes']} classes, "
              f"positive = class {positive:g} ({100 * labels.mean():.1f}%)")

    started = time.perf_counter()
    runs, found_list = [], []
    for seed in seeds:
        splits, found = {}, {}
        for name in needed:
            X, labels = tables[name]
            X_train, X_test, y_train, y_test = split(X, labels, random_state=seed)
            X_train, X_test = standardise(X_train, X_test)
            splits[name] = (X_train, y_train, X_test, y_test)
            print(f"[seed {seed}] {name}: finding an activation ({args.route})")
            result, rejected = find_activation(args, X_train, y_train, seed)
            found[name] = result
            entry = {"dataset": name, "seed": seed, "route": None, "rejected": rejected,
                     "formula": None if result is None else result.formula}
            if result is not None:
                print(f"    g(x) = {result.formula}   [route {result.route}, {result.activation.n_nodes} nodes, "
                      f"{result.seconds:.1f} s; from {result.source}]")
                entry.update({k: v for k, v in result.to_dict().items() if k != "formula"})
                found_list.append({**entry, "module": result.activation})
            else:
                entry["activation"] = None
                print(f"    no usable activation after {args.attempts} attempts")
                found_list.append(entry)
        for name in datasets:
            data = splits[name]
            d = data[0].shape[1]
            models = [("Heavy", "relu+bn+dropout", lambda d=d: heavy_network(d))]
            models += [(f"Light-{label}", a, lambda a=a, d=d: light_network(d, a)) for a, label in BASELINES.items()]
            if found[name] is not None:
                act = found[name].activation
                models.append(("Hybrid-Specialist", f"[{found[name].route}] {act.formula}",
                               lambda act=act, d=d: light_network(d, act)))
            source = args.transfer_source
            if source and source != name and found.get(source) is not None:
                act = found[source].activation
                models.append(("Hybrid-Transfer", f"[{found[source].route} on {source}] {act.formula}",
                               lambda act=act, d=d: light_network(d, act)))
            for model_name, activation, build in models:
                model = seeded(build, seed)
                scores = fit_and_score(model, data, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size,
                                       device=device, random_state=seed)
                runs.append({"dataset": name, "seed": seed, "model": model_name, "activation": activation, **scores})
                print(f"    {name:<9} {model_name:<18} acc {scores['accuracy']:.4f}  AUC {scores['roc_auc']:.4f}  "
                      f"params {scores['parameters']:>6d}  E {scores['efficiency']:.4f}  ({scores['seconds']:.1f} s)")

    summary = summarise(runs)
    print()
    print_table(summary)
    print("\nformulas found:")
    for f in found_list:
        print(f"  {f['dataset']:<9} seed {f['seed']} [{f['route']}]: {f['formula']}"
              + (f"   ({counted(len(f['rejected']), 'degenerate formula')} rejected first)" if f["rejected"] else ""))
    plot_activations([f for f in found_list if "module" in f], out / "activations.png", route=args.route)
    write_csv(runs, out / "results.csv")
    write_csv(summary, out / "summary.csv")
    report = {
        "settings": {k: str(v) if isinstance(v, torch.device) else v for k, v in vars(args).items()},
        "device": str(device),
        # (platform.processor() is '' on Linux: the CPU's model name, as every script's provenance records it)
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_model(),
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "wall_seconds": time.perf_counter() - started,
        "datasets": info,
        "activations": [{k: v for k, v in f.items() if k != "module"} for f in found_list],
        "runs": runs,
        "summary": summary,
    }
    # NumPy numbers as floats, then NaN/inf as null (strict JSON, as write_results writes)
    text = dumps(json.loads(json.dumps(report, default=float)), indent=1)
    (out / "report.json").write_text(text)
    if args.json:
        write_results(args.json, json.loads(text))  # with the command, versions, date and host
    print(f"\nwrote {out / 'results.csv'}, {out / 'summary.csv'}, {out / 'report.json'}, {out / 'activations.png'}"
          + (f", {args.json}" if args.json else "") + f" ({time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(run_script(main))
