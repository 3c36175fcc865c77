"""Do more threads help SRNet's layer-wise search at a fixed budget?

    python experiments/bench_islands.py [--gecco-dir ../shared/srnet_gecco] [--only kkk0,...]
        [--seeds 2] [--seconds 8] [--threads 2] [--json PATH]

On small data SRNet runs one population per thread (islands, see
:mod:`srnet.cgp.islands`).  A layer-wise generation runs one compiled
kernel per layer and holds Python's GIL between them, so two islands make
1.2-1.7x the generations of one population, not 2x; and where the paper's best fitness is reached within a
few hundred generations (``bench_engine.py``'s time to target) they reach it
later than one population does.  This script measures what a user with a
budget sees: the search fitness (the paper's, on its training + validation
points) after ``--seconds`` of the layer-wise search alone, with one thread
and with ``--threads``, on the paper's regression networks, side by side in
one run (each run alone on the machine).

JSON (``--json``, with provenance)::

    {"seconds": s, "threads": n,
     "runs": [{"network": str, "seed": k, "paper_best": x,
               "fitness_1": x, "fitness_n": x, "generations_1": g, "generations_n": g, "islands_n": i}, ...],
     "better_with_threads": k, "runs_compared": m, "median_fitness_ratio": r}

``median_fitness_ratio``: median of fitness_n / fitness_1 (below 1: the threads help).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numba
import numpy as np
from _options import check_numbers, names_once, output_file, run_script, shared_path
from _provenance import write_results
from srnet_gecco import REGRESSION, paper_points


def search_fitness(reference, X_fit, box, seed: int, threads: int, seconds: float):
    from srnet.extract import SRNet

    # the layer-wise search alone: no direct formulas, refinement or simplification after it
    model = SRNet(max_seconds=seconds, random_state=seed, n_threads=threads, domain=[tuple(b) for b in box],
                  direct_budget=0.0, refine=False, select="layerwise", simplify_seconds=0.0)
    model.fit(reference.model, X_fit)
    return model.search_fitness_, model.n_generations_, model.n_islands_


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gecco-dir", default=shared_path("SRNET_GECCO_DIR", "srnet_gecco"))
    parser.add_argument("--only", default="kkk0,kkk2,kkk4,kkk5,feynman1,feynman3",
                        help="comma-separated regression networks")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=output_file, metavar="PATH")
    args = parser.parse_args(argv)
    # each once, in the order given (a repeated name ran its seeds again and counted them twice)
    names = names_once(args.only)
    unknown = [n for n in names if n not in REGRESSION]
    if unknown:
        parser.error(f"not a regression network of the paper: {', '.join(unknown)}")
    if not names:
        parser.error("--only names no network")
    check_numbers(parser, args, counts=("seeds",), budgets=("seconds",))  # names the value that is wrong
    if args.threads < 2:
        parser.error(f"--threads must be >= 2 (islands against one population), got {args.threads}")
    if args.threads > numba.config.NUMBA_NUM_THREADS:  # the search runs on at most numba's threads: --threads 8
        # on 2 cores ran 2 threads sharing one population, printed and written as 8 threads
        parser.error(f"--threads must be at most {numba.config.NUMBA_NUM_THREADS} (numba's threads on this "
                     f"machine), got {args.threads}")
    if not Path(args.gecco_dir).is_dir():
        parser.error(f"no reference networks at '{args.gecco_dir}' (set --gecco-dir)")
    import torch

    from srnet.reference import load_reference

    torch.set_num_threads(1)
    runs = []
    print(f"layer-wise search, {args.seconds:g} s: 1 thread vs {args.threads}", flush=True)
    for name in names:
        reference = load_reference(Path(args.gecco_dir) / "regression" / name)
        X_fit, box = paper_points(reference)
        for seed in range(args.seeds):
            one = search_fitness(reference, X_fit, box, seed, 1, args.seconds)
            many = search_fitness(reference, X_fit, box, seed, args.threads, args.seconds)
            runs.append({"network": name, "seed": seed, "paper_best": reference.paper_fitness.best,
                         "fitness_1": one[0], "fitness_n": many[0], "generations_1": one[1],
                         "generations_n": many[1], "islands_n": many[2]})
            print(f"  {name:<9} seed {seed}: 1 thread {one[0]:.4g} ({one[1]} generations) | {args.threads} threads "
                  f"{many[0]:.4g} ({many[2]} islands x {many[1]} generations)", flush=True)
    ratios = np.array([r["fitness_n"] / r["fitness_1"] for r in runs if r["fitness_1"] > 0])
    better = sum(r["fitness_n"] < r["fitness_1"] for r in runs)
    results = {"seconds": args.seconds, "threads": args.threads, "runs": runs, "better_with_threads": better,
               "runs_compared": len(runs), "median_fitness_ratio": float(np.median(ratios)) if ratios.size else None}
    if args.json:  # first: the figures outlive any failure to print them
        write_results(args.json, results)
    ratio = results["median_fitness_ratio"]
    print(f"{args.threads} threads give a lower search fitness in {better} of {len(runs)} runs; median fitness "
          f"ratio {'n/a' if ratio is None else f'{ratio:.3f}'} (below 1: the threads help)")
    if args.json:
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(run_script(main))
