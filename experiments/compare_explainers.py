"""Fidelity of SRNet, LIME, MAPLE, direct CGP, gplearn and pyoperon on the SRNet paper's networks.

    python experiments/compare_explainers.py --gecco-dir ../shared/srnet_gecco [--trials 10] [--json PATH]
        [--seconds 10] [--points 1000] [--jobs 2] [--only kkk0,adult] [--explainers srnet,lime,...]
        [--learn-on validation|test] [--srnet-domain compared|auto|widen:F|jitter:S|rows]

Regression (12 networks): every explainer learns from the network's recorded
inputs and points of the paper's validation box (MAPLE selects features on
them; the formulas are fitted on both, as the paper's SRNet was), and is
measured against the network on points drawn from the paper's training box
(interpolation) and test box (extrapolation).  ``--learn-on test`` is the
other protocol, the one a user who knows where the formula will be used
runs: every explainer learns from points drawn from the test box itself
(labelled by the network; a separate sample from the points it is measured
on: as many test-box rows as the network's recorded inputs join them, and
the validation points are drawn there), as LIME is shown each point it explains; the test box is then no
longer extrapolation for anyone.  SRNet runs in the paper's form
(one feature per layer) unless --srnet-form multi.  Classification (5
networks): agreement with the network's class on the authors' train/test
split (adult: a seeded 75/25 split of its PMLB table).  Figures are means
over trials with standard deviations; see srnet.compare for the two
protocols (at the point, and around it).  The formula searches (SRNet,
cgp_direct, pyoperon) get the same wall budget, --seconds.

Last, per regression network, the test box (extrapolation) in one table:
every explainer's RMSE against the network at the point and around it,
SRNet's selected formula complexity (nodes) and whether SRNet's RMSE is
lower than MAPLE's (at the point, the paper's protocol), LIME's (around the
point: at the point LIME looks the network up) and pyoperon's; a summary
line counts the networks.  --json writes the aggregated records, that table
(``test_box``) and the counts (``summary``).

A quick look (a few minutes on 2 cores):

    python experiments/compare_explainers.py --trials 1 --seconds 10 --points 200 --jobs 2 --json out.json
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import defaultdict
from pathlib import Path

from _options import check_numbers, output_file, pool_map, run_script
from _provenance import write_results
from _summary import mean_std
from srnet_gecco import CLASSIFICATION, REGRESSION, add_reference_options, classification_split, reference_networks

from srnet.data import counted
from srnet.explain import check_explainers
from srnet.explain.factory import INSTALL_HINT, installed

#: Every explainer compared unless --explainers names others (the optional peers only where installed).
DEFAULT_EXPLAINERS = ("srnet", "lime", "maple", "cgp_direct", "gplearn", "pyoperon")

METRICS = ("rmse", "r2", "agreement", "rmse_around", "r2_around", "agreement_around", "seconds", "size")


def make_explainers(names, seconds, srnet_params):
    """The trial's explainers, from srnet's one factory (its defaults; SRNet with ``srnet_params``)."""
    from srnet.explain import make_explainers as build

    return build(names, max_seconds=seconds, srnet_params=srnet_params)


def run_trial(task):
    """One (network, trial): the comparison's records, tagged."""
    import torch

    torch.set_num_threads(1)
    from srnet.compare import compare
    from srnet.explain import NetworkFunction
    from srnet.reference import load_reference

    kind, name, trial, settings = task
    reference = load_reference(Path(settings["gecco_dir"]) / kind / name)
    network = NetworkFunction(reference.model)
    srnet_params = {"form": settings["srnet_form"], "select": settings["srnet_select"],
                    "direct_budget": settings["srnet_direct_budget"]}
    if settings["srnet_domain"] != "compared":  # (compared: the box every explainer learns from, the default)
        srnet_params["domain"] = settings["srnet_domain"]
    explainers = make_explainers(settings["explainers"], settings["seconds"], srnet_params)
    if kind == "regression":
        boxes = dict(reference.boxes)
        X_learn = reference.X
        if settings["learn_on"] == "test":  # every explainer is told where it will be measured
            boxes["validation"] = boxes["test"]
            # the local explainers learn from the rows (MAPLE's forest and local models, LIME's sampling scale),
            # the validation points only select MAPLE's features: test-box rows among the rows, or MAPLE (and
            # LIME) never saw the test box that the formulas learned from (the formulas learn from these rows
            # too, beside the validation points)
            import numpy as np

            from srnet.domain import sample_box

            X_learn = np.vstack([reference.X, sample_box(boxes["test"], len(reference.X),
                                                         np.random.default_rng([trial, 11]))])
        result = compare(network, X_learn, explainers, boxes=boxes, n_points=settings["points"],
                         random_state=trial)
    else:
        X_train, X_test = classification_split(reference, settings["pmlb_cache"])
        result = compare(network, X_train, explainers, X_test=X_test, n_points=settings["points"],
                         random_state=trial)
    source = None
    if "srnet" in result.explainers:  # the selected formula's origin: the layer-wise chain or a direct search
        formula = getattr(result.explainers["srnet"].model_, "formula_", None)
        source = None if formula is None else formula.source
    return [{"network": name, "trial": trial, **record,
             **({"formula_source": source} if record["explainer"] == "srnet" else {})} for record in result.records]


def aggregate(rows):
    groups = defaultdict(list)
    for row in rows:
        groups[(row["network"], row["explainer"], row["domain"])].append(row)
    records = []
    for (network, explainer, domain), group in groups.items():
        record = {"network": network, "explainer": explainer, "domain": domain, "trials": len(group)}
        for metric in METRICS:
            values = [r[metric] for r in group if r.get(metric) is not None]
            # a trial that overflowed is the figure (RMSE inf, R^2 -inf), not left out of the mean
            mean, std = mean_std(values) if values else (None, None)
            record[metric], record[f"{metric}_std"] = mean, (None if std is None or math.isnan(std) else std)
        sources = sorted({r["formula_source"] for r in group if r.get("formula_source")})
        if sources:
            record["formula_source"] = ",".join(sources)
        records.append(record)
    return records


#: Who SRNet must beat on the test box, with the protocol of the comparison:
#: MAPLE at the point (the paper's), LIME around it (at the point LIME looks
#: the network up), pyoperon (a global formula: both protocols agree).
RIVALS = (("maple", "rmse"), ("lime", "rmse_around"), ("pyoperon", "rmse"))


def _lower(mine, theirs) -> bool | None:
    """mine < theirs, None when either is missing (an infinite RMSE loses)."""
    if mine is None or theirs is None:
        return None
    return bool(mine < theirs)


def test_box_summary(records, explainers) -> tuple[list[dict], dict]:
    """Per regression network, the test box (extrapolation) figures: each
    explainer's ``rmse`` and ``rmse_around``, SRNet's selected complexity and
    whether SRNet beats each of :data:`RIVALS`; then the counts."""
    index = {(r["network"], r["explainer"], r["domain"]): r for r in records}
    rows = []
    for network in [n for n in REGRESSION if any(k[0] == n and k[2] == "extrapolation" for k in index)]:
        cells = {e: index.get((network, e, "extrapolation")) for e in explainers}
        figures = {e: {"rmse": c["rmse"], "rmse_std": c["rmse_std"], "rmse_around": c["rmse_around"],
                       "rmse_around_std": c["rmse_around_std"]} for e, c in cells.items() if c is not None}
        srnet = cells.get("srnet")
        beats = {}
        for rival, metric in RIVALS:
            if srnet is not None and rival in figures:
                beats[rival] = _lower(srnet[metric], figures[rival][metric])
        rows.append({"network": network, "rmse": figures,
                     "srnet_complexity": None if srnet is None else srnet["size"],
                     "srnet_formula_source": None if srnet is None else srnet.get("formula_source"),
                     "srnet_beats": beats})
    summary = {"networks": len(rows)}
    for rival, metric in RIVALS:
        compared = [r["srnet_beats"][rival] for r in rows if r["srnet_beats"].get(rival) is not None]
        summary[f"srnet_beats_{rival}"] = sum(compared) if compared else None
        summary[f"compared_with_{rival}"] = len(compared)
    present = [rival for rival, _ in RIVALS if summary[f"compared_with_{rival}"]]
    summary["srnet_beats_all"] = sum(all(r["srnet_beats"].get(rival) for rival in present) for r in rows) \
        if present else None
    return rows, summary


def print_test_box(rows, summary, explainers):
    """The test box table: RMSE at / around the point for every explainer."""
    if not rows:
        return
    print("\ntest box (extrapolation): RMSE against the network, at the point / around it (mean over trials)")
    width = 24
    print(f"{'network':<10}" + "".join(f"{e:>{width}}" for e in explainers)
          + f"{'srnet nodes':>13}  srnet lower than")
    for row in rows:
        cells = []
        for e in explainers:
            figures = row["rmse"].get(e)
            cells.append("-" if figures is None else
                         f"{_number(figures['rmse'])} / {_number(figures['rmse_around'])}")
        complexity = "-" if row["srnet_complexity"] is None else f"{row['srnet_complexity']:.0f}"
        verdict = ", ".join(f"{rival}{'' if beaten else ': no'}" for rival, beaten in row["srnet_beats"].items()
                            if beaten is not None)
        print(f"{row['network']:<10}" + "".join(f"{c:>{width}}" for c in cells) + f"{complexity:>13}  {verdict}")
    parts = [f"{label} on {summary[f'srnet_beats_{rival}']} of {summary[f'compared_with_{rival}']}"
             for rival, label in (("maple", "MAPLE (at the point)"), ("lime", "LIME (around)"),
                                  ("pyoperon", "pyoperon")) if summary[f"compared_with_{rival}"]]
    if parts:
        print(f"summary: SRNet's test-box RMSE is lower than {'; '.join(parts)} networks"
              + ("" if summary["srnet_beats_all"] is None else
                 f"; than all of them on {summary['srnet_beats_all']} of {summary['networks']}"))
    else:
        print("summary: no rival of SRNet (maple, lime, pyoperon) was measured")


def _number(value) -> str:
    return "-" if value is None else f"{value:.3g}"


def _cell(record, metric, percent=False):
    if record is None or record[metric] is None:
        return "-"
    # None with one trial, or where a trial's figure was not finite (its mean inf): the mean alone ('0.0112±-')
    std = record[metric + "_std"]
    if percent:
        return f"{record[metric]:.1%}" + ("" if std is None else f"±{std:.1%}")
    return f"{record[metric]:.3g}" + ("" if std is None else f"±{std:.2g}")


def print_tables(records, explainers):
    index = {(r["network"], r["explainer"], r["domain"]): r for r in records}
    networks = [n for n in REGRESSION if any(k[0] == n for k in index)]
    for domain in ("interpolation", "extrapolation"):
        for metric in ("rmse", "rmse_around"):
            print(f"\n{domain} {metric.replace('_', ' ')} against the network (mean ± std over trials)")
            # (lower than LIME's and MAPLE's: the other formula searches may be lower still, in their columns)
            print(f"{'network':<10}" + "".join(f"{e:>20}" for e in explainers) + "  srnet < lime, maple?")
            wins = compared = 0
            for network in networks:
                cells = [index.get((network, e, domain)) for e in explainers]
                values = {e: c[metric] for e, c in zip(explainers, cells) if c is not None}
                rivals = [values[e] for e in ("lime", "maple") if e in values]
                both = "srnet" in values and len(rivals) == 2 and None not in (values["srnet"], *rivals)
                win = both and all(values["srnet"] < v for v in rivals)
                compared += both
                wins += win
                print(f"{network:<10}" + "".join(f"{_cell(c, metric):>20}" for c in cells)
                      + ("  yes" if win else "  no" if both else "  -"))
            if compared:  # (without LIME and MAPLE both measured there is nothing to count)
                print(f"srnet lower than both LIME and MAPLE on {wins} of {compared} networks")
    classified = [n for n in CLASSIFICATION if any(k[0] == n for k in index)]
    if classified:
        for metric in ("agreement", "agreement_around"):
            print(f"\n{metric.replace('_', ' ')} with the network's class, train / test")
            print(f"{'network':<18}" + "".join(f"{e:>34}" for e in explainers) + "  srnet >= maple (test)?")
            for network in classified:
                cells = []
                for e in explainers:
                    train, test = index.get((network, e, "train")), index.get((network, e, "test"))
                    cells.append(f"{_cell(train, metric, True)} / {_cell(test, metric, True)}")
                srnet, maple = index.get((network, "srnet", "test")), index.get((network, "maple", "test"))
                both = srnet is not None and maple is not None and None not in (srnet[metric], maple[metric])
                verdict = ("yes" if srnet[metric] >= maple[metric] else "no") if both else "-"
                print(f"{network:<18}" + "".join(f"{c:>34}" for c in cells) + f"  {verdict}")


def installed_defaults() -> list[str]:
    """:data:`DEFAULT_EXPLAINERS` without the optional peers that are not installed, each said so on a line (the
    README's quick look stopped at 'explainer 'gplearn' needs the package ...' where the bench extra was missing)."""
    absent = [e for e in DEFAULT_EXPLAINERS if not installed(e)]
    for name in absent:
        print(f"{name}: not installed ({INSTALL_HINT}); left out")
    return [e for e in DEFAULT_EXPLAINERS if e not in absent]


def _select(text: str):
    """A select rule of SRNet's, or a complexity cap (an int)."""
    return int(text) if text.isdigit() else text


def _direct_budget(text: str):
    if text == "auto":
        return text
    try:
        share = float(text)
    except ValueError:
        share = math.nan
    if not 0 <= share < 1:
        raise argparse.ArgumentTypeError(f"a share of the budget in [0, 1) or 'auto', got {text!r}")
    return share


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_reference_options(parser, "trials")
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10.0, help="budget of each formula search")
    parser.add_argument("--points", type=int, default=1000, help="evaluation points per domain")
    parser.add_argument("--explainers", default=None,
                        help=f"comma-separated (default: {','.join(DEFAULT_EXPLAINERS)}, leaving out a peer that is "
                             f"not installed; named here, a missing one is an error)")
    parser.add_argument("--srnet-form", default="paper", choices=["paper", "multi"],
                        help="SRNet's layer form (default: the paper's, one feature per layer)")
    parser.add_argument("--srnet-select", default="best", type=_select,
                        help="SRNet's select rule: best, accurate, layerwise or a complexity cap (default: best)")
    parser.add_argument("--srnet-direct-budget", default="auto", type=_direct_budget,
                        help="SRNet's share of the budget for direct searches, in [0, 1) (default: auto, SRNet's "
                             "own: 0.75 for these regression networks, 0.25 for the classifiers)")
    parser.add_argument("--srnet-domain", default="compared",
                        help="SRNet's explanation domain, as srnet explain --domain reads it, or 'compared' "
                             "(default): the box of the points every explainer learns from (auto widened it "
                             "1.2-fold beyond them: a comparison not like for like)")
    parser.add_argument("--learn-on", default="validation", choices=["validation", "test"],
                        help="regression: the box whose network-labelled points every explainer learns from "
                             "(default: the paper's validation box; test: the box it is measured on)")
    parser.add_argument("--json", type=output_file,
                        help="write the aggregated records here (under 'results', with provenance)")
    args = parser.parse_args(argv)
    check_numbers(parser, args, counts=("jobs", "trials", "points"), budgets=("seconds",))
    if args.points < 2:  # one point has no variance (compare refused it in every worker)
        parser.error(f"--points must be >= 2 (R^2 needs two points), got {args.points}")
    from srnet.formulas import check_select

    try:  # SRNet's own settings, before any work
        check_select(args.srnet_select)
    except ValueError as error:
        parser.error(f"--srnet-select: {error}")
    from srnet.domain import parse_domain

    try:
        if args.srnet_domain != "compared":
            parse_domain(args.srnet_domain)
    except ValueError as error:
        parser.error(f"--srnet-domain: {error}")
    gecco = Path(args.gecco_dir)
    names = reference_networks(parser, gecco, args.only, args.pmlb_cache)
    if args.explainers is None:
        args.explainers = ",".join(installed_defaults())
    try:
        explainers = list(check_explainers(e.strip() for e in args.explainers.split(",") if e.strip()))
    except ValueError as error:  # an unknown name or a missing package: one line, before any work
        parser.error(str(error))
    if not explainers:  # (a worker's "no explainers to compare", as a remote traceback)
        parser.error(f"--explainers names none, got {args.explainers!r}")
    settings = {"gecco_dir": str(gecco), "pmlb_cache": str(args.pmlb_cache), "seconds": args.seconds,
                "points": args.points, "explainers": explainers, "srnet_form": args.srnet_form,
                "learn_on": args.learn_on, "srnet_select": args.srnet_select,
                "srnet_direct_budget": args.srnet_direct_budget, "srnet_domain": args.srnet_domain}
    tasks = [(kind, name, trial, settings) for kind, name in names for trial in range(args.trials)]
    print(f"{counted(len(tasks), 'trial')} ({counted(len(names), 'network')} x {args.trials}), explainers "
          f"{', '.join(explainers)}, {args.jobs} at once; regression explainers learn on the {args.learn_on} box")
    def report(result):
        print(f"  {result[0]['network']} trial {result[0]['trial']} done", flush=True)

    trials, interrupted = pool_map(run_trial, tasks, args.jobs, report, "trials")  # finished ones kept on Ctrl-C
    rows, done = [row for trial in trials for row in trial], len(trials)
    if not rows:
        return 130
    records = aggregate(rows)
    present = [e for e in explainers if any(r["explainer"] == e for r in records)]
    rows, summary = test_box_summary(records, present)
    if args.json:  # first: the measurements outlive any failure to print them
        recorded = {**{k: v for k, v in settings.items() if k != "gecco_dir"}, "trials": args.trials,
                    "only": args.only, "trials_finished": done, "interrupted": interrupted}
        write_results(args.json, {"settings": recorded, "records": records, "test_box": rows, "summary": summary})
    print_tables(records, present)
    print_test_box(rows, summary, present)
    if args.json:
        print(f"\nwrote {args.json}")
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(run_script(main))
