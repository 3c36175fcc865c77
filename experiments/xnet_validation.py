"""X-Net regressors chosen on their training rows, or with a fifth of them held out: test R^2 on real data.

    python experiments/xnet_validation.py [--seeds 2] [--seconds 5] [--fractions 0,0.2] [--json PATH]
        [--datasets diabetes,1027_ESL,...] [--pmlb-cache ../shared/pmlb]

The evidence behind ``XNetRegressor``'s default ``validation_fraction`` (0.2 since stop 66): per dataset
(scikit-learn's diabetes and 11 PMLB regression tables, their first 1000 rows), a seeded 75/25 split,
inputs standardised on the training rows, ``XNetRegressor(max_seconds=S, validation_fraction=F)`` per
fraction, test R^2 (mean over seeds), then the mean and median over every run.  A forest chosen on its
training rows alone can fit them and leave the test rows far behind (R^2 -44 on bodyfat, stop 66).
JSON: ``{"fractions": [...], "datasets": [{"dataset", "rows", "r2": {fraction: mean}, "runs": {...}}],
"mean_r2": {fraction: x}, "median_r2": {fraction: x}}``.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _options import check_numbers, names_once, output_file, run_script, shared_path  # noqa: E402
from _provenance import write_results  # noqa: E402

DATASETS = ("diabetes", "1027_ESL", "192_vineyard", "210_cloud", "228_elusage", "229_pwLinear",
            "230_machine_cpu", "522_pm10", "547_no2", "560_bodyfat", "1089_USCrime", "195_auto_price")
#: Rows kept of each table (the first ones): the budget is seconds, not rows.
MAX_ROWS = 1000


def load(name: str, cache: str):
    """``(X, y)``, their first :data:`MAX_ROWS` rows: scikit-learn's diabetes, else a PMLB table of the cache
    (read as srnet reads every table, :func:`srnet.data.load_table`)."""
    if name == "diabetes":
        from sklearn.datasets import load_diabetes

        X, y = load_diabetes(return_X_y=True)
    else:
        from srnet.data import load_table

        X, y, _ = load_table(name, pmlb_cache=cache)
    return np.asarray(X, dtype=float)[:MAX_ROWS], np.asarray(y, dtype=float)[:MAX_ROWS]


def test_r2(X, y, seed: int, seconds: float, fraction: float) -> float:
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    from srnet.metrics import rmse_r2
    from srnet.xnet import XNetRegressor

    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=seed)
    scaler = StandardScaler().fit(X_train)
    model = XNetRegressor(max_seconds=seconds, validation_fraction=fraction, simplify_seconds=0, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (constant columns, loose fits: the figure says it)
        model.fit(scaler.transform(X_train), y_train)
    return float(rmse_r2(y_test, model.predict(scaler.transform(X_test)))[1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=output_file, metavar="PATH", help="write the figures as JSON")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=5.0, help="X-Net's budget per run")
    parser.add_argument("--fractions", default="0,0.2", help="comma-separated validation fractions")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--pmlb-cache", default=shared_path("SRNET_PMLB_CACHE", "pmlb"))
    args = parser.parse_args(argv)
    check_numbers(parser, args, counts=("seeds",), budgets=("seconds",))
    try:
        fractions = [float(f) for f in args.fractions.split(",")]
    except ValueError:
        parser.error(f"--fractions: numbers separated by commas, got {args.fractions!r}")
    if not all(0 <= f < 1 for f in fractions):
        parser.error(f"--fractions: each in [0, 1), got {args.fractions}")
    datasets = names_once([n for n in args.datasets.split(",") if n])
    records, runs = [], {f: [] for f in fractions}
    print(f"{'dataset':<18}{'rows':>6}" + "".join(f"{'held ' + format(f, 'g'):>12}" for f in fractions), flush=True)
    for name in datasets:
        try:
            X, y = load(name, args.pmlb_cache)
        except (OSError, ValueError) as error:
            print(f"{name}: not loaded ({error}); skipped")
            continue
        scores = {f: [test_r2(X, y, seed, args.seconds, f) for seed in range(args.seeds)] for f in fractions}
        for f in fractions:
            runs[f] += scores[f]
        records.append({"dataset": name, "rows": len(X), "r2": {str(f): float(np.mean(scores[f])) for f in fractions},
                        "runs": {str(f): scores[f] for f in fractions}})
        print(f"{name:<18}{len(X):>6}" + "".join(f"{np.mean(scores[f]):>12.4f}" for f in fractions), flush=True)
    if not records:
        print("no dataset loaded")
        return 1
    means = {str(f): float(np.mean(runs[f])) for f in fractions}
    medians = {str(f): float(np.median(runs[f])) for f in fractions}
    print(f"{'mean':<24}" + "".join(f"{means[str(f)]:>12.4f}" for f in fractions))
    print(f"{'median':<24}" + "".join(f"{medians[str(f)]:>12.4f}" for f in fractions))
    if args.json:
        write_results(args.json, {"fractions": fractions, "seconds": args.seconds, "seeds": args.seeds,
                                  "datasets": records, "mean_r2": means, "median_r2": medians})
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(run_script(main))
