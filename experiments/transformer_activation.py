"""Activations for transformers: evolved with a language-model fitness, and an MLP block explained.

A byte-level decoder-only transformer (:class:`srnet.activations.language_model.TinyGPT`)
learns the English text of Python's documentation (``pydoc_data.topics``, shipped with
CPython; ``--corpus FILE`` for any UTF-8 text): the first 90 % for training; of the
held-out last 10 %, the first half is the search's validation and the second half the
test, which only the table and the MLP block are measured on (the search never sees
it, so the formulas it picked are not favoured by the figures that judge them).

1. **Search.** :func:`srnet.activations.search_activation` evolves one-variable
   formulas; a candidate's fitness is the search-validation perplexity (on the first
   ``search_validation_windows`` search-validation windows) of the model trained with it for
   a short, fixed budget (the search config), from the same initial weights and batch
   order for every candidate (seed 1000, apart from the table's seeds); cached; wall
   budget ``--search-seconds``.  GELU is scored the same way as a reference.  The
   best ``--search-top`` formulas of distinct shapes (not ``a g(+-x) + b`` of one
   another, which the neighbouring layers would make the same) go on to the table.
2. **Table.** GELU, ReLU, SiLU (``baseline``), the search's formulas (``search``),
   the MLP activation study's formulas of ``data/activations/`` (``study``), each
   trained at the full budget with ``--seeds`` seeds (0, 1, ...; the seed sets the
   initial weights and the batch order, the same for every activation); test
   perplexity mean +- std (sample std over seeds) and training tokens/s.  For each
   activation, the paired difference to GELU per seed; ``beats_gelu`` is true when its
   mean perplexity is below GELU's by more than the larger of the two stds.
   ``blog``: the published formulas of "Evolving Activation Functions: A Personal
   Exploration with Transformers" (DEAP, GPT-2-like/T5-small/TinyGPT) could not be
   read (only the post's opening is stored in the reference corpus; they are in no
   repository this project can see), so no row is rebuilt from them: the JSON says so.
3. **MLP block.** The last block's MLP of the GELU model of the first seed is probed
   on training windows, both sides reduced to ``--block-directions`` principal
   directions, the reduced map explained by :class:`srnet.SRNet` (budget
   ``--block-seconds``) and the formula put in the block's place
   (:mod:`srnet.activations.mlp_block`); then every constant of that replacement (the
   formula's and both sides' directions, structure unchanged) is tuned so that the model
   with the formula predicts what the model with its block predicts
   (:func:`~srnet.activations.mlp_block.distil_block`: KL on training windows, kept only
   if it falls on the search-validation windows).  Test perplexity and inference
   tokens/s before and after, with the formula as fitted and as distilled, and for
   context: the block replaced by its mean output, by the best linear map of the same
   directions (as fitted, and distilled the same way: what the formula's nonlinear
   terms add), and the true block seen through the same directions.

Configurations (printed at the start): ``cpu`` (2-layer, 64-dim, context 64; about
20-25 min on a quiet 2-core machine), ``cuda`` (4-layer, 256-dim, context 128, a longer
budget) chosen by ``--device auto`` when CUDA is present; ``--quick`` a tiny one to
check the script (about 2 min).

Run ``python experiments/transformer_activation.py [--device auto] [--seeds 3] [--json PATH] [--quick]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import statistics
import sys
import time

import torch
from _options import check_numbers, output_file, run_script
from _provenance import write_results
from _summary import mean_std, shown_std

from srnet.activations import DegenerateActivationError, builtin_names, load_builtin, resolve_device
from srnet.activations.language_model import (
    LanguageModelScorer,
    LMConfig,
    build_language_model,
    encode,
    eval_tokens_per_second,
    load_corpus,
    make_windows,
    perplexity,
    split_tokens,
    train_language_model,
    window_bytes,
)
from srnet.activations.mlp_block import (
    ProjectedBlock,
    distil_block,
    explain_block,
    principal_directions,
    probe_module,
    replace_module,
)
from srnet.activations.search import search_activation
from srnet.data import counted
from srnet.metrics import rmse_r2

SEARCH_SEED = 1000
#: share of the corpus held out (its tail): the first half validates the search, the second half is the test
HELD_OUT = 0.1
BASELINES = ("gelu", "relu", "silu")

#: model and full training budget, the search's short budget, the other budgets
CONFIGS = {
    "cpu": {
        "model": LMConfig(context=64, d_model=64, n_layers=2, n_heads=4, epochs=3, batch_size=32, lr=3e-3),
        "search": {"epochs": 1, "max_train_windows": 2048},
        "search_validation_windows": 256,
        "search_seconds": 240.0,
        "block_seconds": 60.0,
        "block_distil_steps": 2000,
        "block_probe_windows": 256,
        "block_rows": 8000,
    },
    "cuda": {
        "model": LMConfig(context=128, d_model=256, n_layers=4, n_heads=8, epochs=6, batch_size=32, lr=1e-3),
        "search": {"epochs": 1, "max_train_windows": None},
        "search_validation_windows": None,
        "search_seconds": 600.0,
        "block_seconds": 120.0,
        "block_distil_steps": 4000,
        "block_probe_windows": 256,
        "block_rows": 16000,
    },
    "quick": {
        "model": LMConfig(context=32, d_model=32, n_layers=2, n_heads=2, epochs=1, batch_size=32, lr=3e-3,
                          max_train_windows=1500),
        "search": {"epochs": 1, "max_train_windows": 256},
        "search_validation_windows": 64,
        "search_seconds": 15.0,
        "block_seconds": 8.0,
        "block_distil_steps": 100,
        "block_probe_windows": 64,
        "block_rows": 2000,
    },
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="auto", help="auto (CUDA when present, with the larger config), cpu, cuda")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per activation in the table (0, 1, ...)")
    parser.add_argument("--json", type=output_file, default=None, help="write the results here (with provenance)")
    parser.add_argument("--quick", action="store_true", help="tiny config: checks the script (~2 min)")
    parser.add_argument("--corpus", default=None, help="a UTF-8 text file (default: pydoc_data.topics)")
    parser.add_argument("--search-seconds", type=float, default=None, help="wall budget of the search")
    parser.add_argument("--search-generations", type=int, default=None,
                        help="budget the search in generations instead (reproducible, unlike a wall budget)")
    parser.add_argument("--search-top", type=int, default=2, help="distinct found formulas retrained in the table")
    parser.add_argument("--block-seconds", type=float, default=None, help="SRNet's budget for the MLP block")
    parser.add_argument("--block-directions", type=int, default=8, help="principal directions kept on each side")
    parser.add_argument("--threads", type=int, default=1, help="torch and numba threads on the CPU")
    args = parser.parse_args(argv)
    check_numbers(parser, args, counts=("seeds", "search_top", "block_directions", "threads", "search_generations"),
                  budgets=("search_seconds", "block_seconds"))
    return args


def describe(name: str, config) -> str:
    return f"{name}: " + ", ".join(f"{k}={v}" for k, v in config.items() if k != "model") + \
        "; model " + ", ".join(f"{k}={v}" for k, v in config["model"].to_dict().items())


# ------------------------------------------------------------------- search

def same_shape(first, second) -> bool:
    """Whether two activations are the same for the network: g2 = a g1(+-x) + b
    (the neighbouring Linear layers absorb a, b and the sign of x), judged by
    correlation (above 1 - 1e-6) on [-4, 4]."""
    grid = torch.linspace(-4, 4, 801)
    with torch.no_grad():
        a, b, b_flipped = first(grid), second(grid), second(-grid)
    return any(abs(float(torch.corrcoef(torch.stack([a, other]))[0, 1])) > 1 - 1e-6 for other in (b, b_flipped))


def run_search(args, setup, train, search_validation, device):
    """The search, scored on the search-validation windows (never the test windows)."""
    model_config = dataclasses.replace(setup["model"], **setup["search"])
    scorer = LanguageModelScorer(train, search_validation, model_config, random_state=SEARCH_SEED, device=device,
                                 max_validation_windows=setup["search_validation_windows"])
    # generations alone when given (reproducible); else the wall budget, whose formula depends on the machine
    generations = args.search_generations
    seconds = None if generations is not None else (
        args.search_seconds if args.search_seconds is not None else setup["search_seconds"])
    started = time.perf_counter()
    gelu_fitness = scorer.train(torch.nn.GELU())

    best = [math.inf]

    def report(progress):
        if progress.fitness < best[0] or progress.generation % 50 == 0:
            best[0] = min(best[0], progress.fitness)
            # the search's own clock, as search.history records it (the GELU reference run before it excluded)
            print(f"    generation {progress.generation}: best perplexity {progress.fitness:.4f} "
                  f"({progress.evaluations} training runs, {progress.seconds:.0f} s of search)", flush=True)

    try:
        found = search_activation(scorer=scorer, max_seconds=seconds, max_generations=generations,
                                  random_state=SEARCH_SEED, callback=report)
    except DegenerateActivationError as error:  # a budget too small for one usable start: one line
        budget = f"--search-generations {generations}" if generations is not None else f"--search-seconds {seconds:g}"
        raise SystemExit(f"error: {budget}: {error}") from None
    top = []
    for fitness, program in scorer.ranked():
        activation = scorer.activation(program)
        if activation is None or any(same_shape(activation, other) for _, other in top):
            continue
        top.append((fitness, activation))
        if len(top) >= args.search_top:
            break
    summary = {"config": model_config.to_dict(), "seed": SEARCH_SEED, "max_seconds": seconds,
               "max_generations": generations,
               "seconds": time.perf_counter() - started, "gelu_fitness": gelu_fitness,
               "best_fitness": found.details["fitness"], "best_formula": found.formula, "source": found.source,
               "generations": found.details["generations"], "training_runs": found.details["training_runs"],
               "cache_hits": found.details["cache_hits"], "rejected": found.details["rejected"],
               "stop_reason": found.details["stop_reason"], "history": found.details["history"],
               "top": [{"formula": a.formula, "fitness": f, "activation": a.to_dict()} for f, a in top]}
    summary["scored_on"] = "search-validation windows (not the test windows of the table)"
    print(f"  search: {summary['training_runs']} training runs, {summary['generations']} generations, "
          f"{summary['cache_hits']} cache hits, {summary['rejected']} degenerate formulas rejected, "
          f"{summary['seconds']:.0f} s; GELU scores {gelu_fitness:.4f} on the same budget "
          f"(search-validation perplexities)")
    for f, a in top:
        print(f"    search-validation perplexity {f:.4f}: g(x) = {a.formula}")
    return summary, [a for _, a in top]


# -------------------------------------------------------------------- table

def run_table(args, setup, candidates, train, test, device):
    """Each candidate trained at the full budget with every seed, measured on the test windows."""
    config, seeds = setup["model"], list(range(args.seeds))
    runs, kept = [], None
    for name, source, activation in candidates:
        for seed in seeds:
            model = build_language_model(config, activation, random_state=seed).to(device)
            run = train_language_model(model, train, test, config, random_state=seed)
            runs.append({"activation": name, "source": source, "seed": seed, "perplexity": run.perplexity,
                         "tokens_per_s": run.tokens_per_s, "tokens": run.tokens, "seconds": run.seconds,
                         "diverged": run.diverged, "final_train_loss": run.losses[-1] if run.losses else math.nan})
            print(f"    {name:<40} seed {seed}: test perplexity {run.perplexity:.4f}, "
                  f"{run.tokens_per_s:,.0f} tokens/s, {run.seconds:.1f} s", flush=True)
            if name == "gelu" and kept is None:
                kept = model  # the block to explain
    gelu = {r["seed"]: r["perplexity"] for r in runs if r["activation"] == "gelu"}
    rows = []
    for name, source, _ in candidates:
        group = [r for r in runs if r["activation"] == name]
        mean, std = mean_std(r["perplexity"] for r in group)
        differences = [r["perplexity"] - gelu[r["seed"]] for r in group if r["seed"] in gelu]
        diff_mean, diff_std = mean_std(differences)
        rows.append({"activation": name, "source": source, "perplexity_mean": mean, "perplexity_std": std,
                     "tokens_per_s": statistics.fmean(r["tokens_per_s"] for r in group),
                     "seeds": len(group), "diverged": sum(r["diverged"] for r in group),
                     "vs_gelu_mean": diff_mean, "vs_gelu_std": diff_std})
    gelu_row = next(r for r in rows if r["activation"] == "gelu")
    for row in rows:
        margin = max(row["perplexity_std"], gelu_row["perplexity_std"])  # (nan with one seed: no verdict)
        row["beats_gelu"] = bool(row["activation"] != "gelu" and math.isfinite(margin)
                                 and gelu_row["perplexity_mean"] - row["perplexity_mean"] > margin)
    return rows, runs, kept


#: The widest activation name the table prints whole; a longer one ends in "..." (whole in the JSON).
NAME_WIDTH = 60


def print_table(rows) -> None:
    # as wide as the longest name (a cut at 42 characters showed "- 6.18" for "- 6.181", as if whole)
    width = min(NAME_WIDTH, max(len("activation"), *(len(r["activation"]) for r in rows)))

    def name(text):
        return text if len(text) <= width else text[:width - 3] + "..."

    print(f"  {'activation':<{width}} {'source':<9} {'test perplexity':>17} {'vs GELU (paired)':>18} "
          f"{'tokens/s':>10}  beats")
    for r in rows:
        print(f"  {name(r['activation']):<{width}} {r['source']:<9} "
              f"{r['perplexity_mean']:>8.4f} ± {shown_std(r['perplexity_std'], '.4f'):<6} "
              f"{r['vs_gelu_mean']:>+8.4f} ± {shown_std(r['vs_gelu_std'], '.4f'):<7} {r['tokens_per_s']:>10,.0f}  "
              f"{'yes' if r['beats_gelu'] else '-'}")


# --------------------------------------------------------------- MLP block

def run_block(args, setup, model, train, search_validation, test, device):
    """Probe the last MLP block on training windows, explain it, distil it (training windows; kept by the
    search-validation windows); perplexities and speeds on the test windows."""
    name = f"blocks.{model.config.n_layers - 1}.mlp"
    block = model.get_submodule(name)
    seconds = args.block_seconds if args.block_seconds is not None else setup["block_seconds"]
    k = args.block_directions
    # each phase says what it does: the step ran for minutes without a line
    print(f"  probing {name} ...", flush=True)
    X, Y = probe_module(model, block, train[0][: setup["block_probe_windows"]], max_rows=setup["block_rows"],
                        random_state=0)
    print(f"  explaining it from {X.shape[0]:,} rows ({k} directions each side, SRNet {seconds:g} s) ...",
          flush=True)
    explanation = explain_block(X, Y, n_inputs=k, n_outputs=k, n_features=4, max_seconds=seconds, random_state=0,
                                n_threads=args.threads if device.type == "cpu" else None, progress=True)
    distillations = {}
    for label, module in (("formula", explanation.module), ("linear map", explanation.linear)):
        print(f"  distilling the {label} into the model ({setup['block_distil_steps']} steps) ...", flush=True)
        distillations[label] = distil_block(model, name, module, train[0], search_validation[0],
                                            steps=setup["block_distil_steps"], random_state=0)
    distilled, linear_distilled = distillations["formula"], distillations["linear map"]
    print("  measuring test perplexities ...", flush=True)
    through = ProjectedBlock(block, principal_directions(X, k), principal_directions(Y, k))
    before = perplexity(model, *test)
    fitted = perplexity(replace_module(model, name, explanation.module), *test)
    replaced = replace_module(model, name, distilled.module)
    after = perplexity(replaced, *test)
    speed_before = eval_tokens_per_second(model, test[0])
    speed_after = eval_tokens_per_second(replaced, test[0])
    context = {label: perplexity(replace_module(model, name, module), *test)
               for label, module in (("mean_output", explanation.mean), ("linear_same_directions", explanation.linear),
                                     ("linear_same_directions_distilled", linear_distilled.module),
                                     ("true_block_same_directions", through))}
    with torch.no_grad():
        where = next(model.parameters()).device
        probed = torch.as_tensor(X, dtype=torch.float32, device=where)
        r2_through = rmse_r2(Y, through.to(where)(probed).double().cpu().numpy())[1]
    # the block itself seen through more or fewer directions: how many a formula would need
    by_directions = {str(k): context["true_block_same_directions"]}  # measured above
    for n in sorted({2, 4, 8, 16, 32} - {k}):
        if n <= min(X.shape[1], Y.shape[1]):
            view = ProjectedBlock(block, principal_directions(X, n), principal_directions(Y, n))
            by_directions[str(n)] = perplexity(replace_module(model, name, view), *test)
    by_directions = dict(sorted(by_directions.items(), key=lambda item: int(item[0])))
    result = {"perplexity_before": before, "perplexity_after": after, "tokens_per_s_before": speed_before,
              "tokens_per_s_after": speed_after, "perplexity_increase": after / before - 1,
              "perplexity_after_fitted": fitted, "perplexity_increase_fitted": fitted / before - 1,
              "after_is": "the distilled formula in the block's place (perplexity_after_fitted: as SRNet fitted it)",
              "distilled": distilled.to_dict(), "linear_distilled": linear_distilled.to_dict(),
              "measured_on": "test windows", "block": name, "directions": k, "probe_rows": int(X.shape[0]),
              "max_seconds": seconds,
              "perplexity_with": context, "r2_true_block_same_directions": r2_through,
              "true_block_perplexity_by_directions": by_directions, **explanation.to_dict()}
    print(f"  {name}: {k} directions in and out (variance kept: input {sum(explanation.explained_in):.3f}, "
          f"output {sum(explanation.explained_out):.3f}); formula ({explanation.complexity} nodes, "
          f"{explanation.module.formula.source}), R2 against the reduced map {explanation.r2_reduced:.4f}, "
          f"against the block's output {explanation.r2_block:.4f} (ceiling {explanation.r2_ceiling:.4f}, "
          f"linear {explanation.r2_linear:.4f})")
    for j, formula in enumerate(explanation.formulas):
        print(f"    u{j} = {formula}")
    kept = "kept" if distilled.kept else "not kept"
    print(f"  distilled ({distilled.steps} steps, {distilled.seconds:.0f} s, {kept}):"
          f" divergence from the model {distilled.kl_before:.4g} -> {distilled.kl_after:.4g} nats per byte "
          f"(search-validation); {distilled.complexity} nodes")
    for j, formula in enumerate(distilled.formulas):
        print(f"    u{j} = {formula}")
    print(f"  test perplexity {before:.4f} -> {fitted:.4f} as fitted ({100 * (fitted / before - 1):+.1f} %) -> "
          f"{after:.4f} distilled ({100 * (after / before - 1):+.1f} %), "
          f"tokens/s {speed_before:,.0f} -> {speed_after:,.0f} ({100 * (speed_after / speed_before - 1):+.1f} %)")
    print("  for context, perplexity with the block replaced by: " + ", ".join(
        f"{label} {value:.4f} ({100 * (value / before - 1):+.1f} %)" for label, value in context.items())
        + f" (R2 of the last against the block {r2_through:.4f})")
    print("  the true block through n directions: " + ", ".join(
        f"n={n} {100 * (value / before - 1):+.1f} %" for n, value in by_directions.items()))
    return result


# --------------------------------------------------------------------- main

def main(argv=None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    try:
        device = resolve_device(args.device)
    except ValueError as error:
        raise SystemExit(f"error: --device: {error}") from None
    kind = "quick" if args.quick else device.type if device.type in CONFIGS else "cpu"
    setup = CONFIGS[kind]
    if args.block_directions > setup["model"].d_model:  # else step 3 fails, after the search and the table
        raise SystemExit(f"error: --block-directions must be at most the model's width {setup['model'].d_model}, "
                         f"got {args.block_directions}")
    if device.type == "cpu":
        torch.set_num_threads(args.threads)
        import numba

        numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    for name in ("cpu", "cuda"):
        print(("* " if name == kind else "  ") + describe(name, CONFIGS[name]))
    if kind == "quick":
        print("* " + describe("quick", setup))
    try:
        tokens = encode(load_corpus(args.corpus))
    except ValueError as error:  # a missing, empty or damaged corpus: one line
        raise SystemExit(f"error: {error}") from None
    train_tokens, held_out = split_tokens(tokens, HELD_OUT)
    search_tokens, test_tokens = split_tokens(held_out, 0.5)  # the search's validation, then the test
    context = setup["model"].context
    parts = {"training": train_tokens, "search-validation": search_tokens, "test": test_tokens}
    short = next((part for part, part_tokens in parts.items() if len(part_tokens) < window_bytes(context)), None)
    if short is not None:  # (make_windows' "the text has 30 bytes" counted the part, read as the corpus)
        raise SystemExit(f"error: the corpus is too short: of its {len(tokens):,} bytes, the {short} part has "
                         f"{len(parts[short]):,}, shorter than one window ({window_bytes(context)} bytes)")
    train, search_validation, test = (make_windows(part_tokens, context) for part_tokens in parts.values())
    print(f"corpus: {len(tokens):,} bytes ({args.corpus or 'pydoc_data.topics'}); {train[0].shape[0]} training, "
          f"{search_validation[0].shape[0]} search-validation and {test[0].shape[0]} test windows of {context} "
          f"(the search scores on search-validation; the table and the MLP block report test perplexity); "
          f"device {device}; config '{kind}'; seeds {list(range(args.seeds))}; {args.threads} CPU thread(s)")

    print("\n1. search (language-model fitness, on the search-validation windows)", flush=True)
    search, found = run_search(args, setup, train, search_validation, device)

    study = builtin_names()
    if kind == "quick":
        study = study[:1]
    candidates = [(name, "baseline", name) for name in BASELINES]
    candidates += [(a.formula, "search", a) for a in found]
    candidates += [(f"{name}: {load_builtin(name).formula}", "study", load_builtin(name)) for name in study]
    print(f"\n2. table: {counted(len(candidates), 'activation')} x {counted(args.seeds, 'seed')} at the full "
          f"budget, test perplexity",
          flush=True)
    rows, runs, gelu_model = run_table(args, setup, candidates, train, test, device)
    print()
    print_table(rows)
    winners = [r["activation"] for r in rows if r["source"] != "baseline" and r["beats_gelu"]]
    print("  " + (f"below GELU by more than one std: {', '.join(winners)}" if winners else
                  "no found activation is below GELU by more than one std" + (
                      " (one seed: no std, no verdict)" if args.seeds == 1 else "")))

    print("\n3. MLP block explained (test perplexity)", flush=True)
    block = run_block(args, setup, gelu_model, train, search_validation, test, device)

    payload = {
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "config_name": kind,
        "configs": {name: {**{k: v for k, v in c.items() if k != "model"}, "model": c["model"].to_dict()}
                    for name, c in CONFIGS.items()},
        "corpus": {"source": args.corpus or "pydoc_data.topics", "bytes": int(len(tokens)),
                   "train_windows": int(train[0].shape[0]),
                   "search_validation_windows": int(search_validation[0].shape[0]),
                   "test_windows": int(test[0].shape[0]),
                   "split": f"first {1 - HELD_OUT:.0%} training; of the last {HELD_OUT:.0%}, the first half the "
                            "search's validation, the second half the test"},
        "measured_on": "rows (perplexity_mean, perplexity_std, beats_gelu) and mlp_block are test perplexities: "
                       "windows the search never scored; search.*fitness are search-validation perplexities",
        "seeds": list(range(args.seeds)),
        "threads": args.threads,
        "rows": rows,
        "runs": runs,
        "search": search,
        "blog": {"formulas": [], "note": "the blog's published formulas could not be read (only the post's "
                 "opening is in the reference corpus); none rebuilt"},
        "mlp_block": block,
        "wall_seconds": time.perf_counter() - started,
    }
    if args.json:
        path = write_results(args.json, payload)
        print(f"\nwrote {path}")
    print(f"total {payload['wall_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(run_script(main))
