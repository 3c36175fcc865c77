"""Aggregate a batch's result folder into a table, a Markdown summary and plots.

:func:`write_report` reads every result file of ``DIR/results`` (corrupt ones
are listed, never counted) and writes into ``DIR``:

* ``summary.csv``: one row per job: identity, status, error, data sizes,
  the network's own quality, SRNet's figures, every explainer's metrics per
  domain (``<explainer>_<domain>_<metric>``, from :func:`srnet.compare.compare`),
  timings and SRNet's formula;
* ``summary.md``: a Markdown table per task, a row per (dataset, method), means over seeds;
* plots: fidelity per dataset for each explainer, SRNet vs MAPLE, time per
  job, formula complexity vs fidelity.

Fidelity is the agreement with the network's class on the test rows for
classifiers, and R^2 against the network inside the training box
(``interpolation``) for regression networks.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from srnet.bench.store import ResultStore, differences, same_settings, setting_text
from srnet.bench.suites import parse_job_id, safe_name
from srnet.data import counted
from srnet.jsonio import atomic_write_text

AGREEMENT_TARGET = 0.95
R2_TARGET = 0.99
#: Decimals a figure is rounded to before it is compared with a target or rounded down for a table: a mean of
#: seeds at exactly 0.95 is 0.9499999999999998 in floating point, and 0.0029 * 1e4 is 28.999999999999996.
ROUNDING = 9
FIDELITY = {"classification": ("test", "agreement"), "regression": ("interpolation", "r2")}
#: SRNet's fidelity on compare's points (the other explainers' rows), per task
FIDELITY_SAMPLE = {task: f"srnet_{domain}_{metric}" for task, (domain, metric) in FIDELITY.items()}
_FIRST = ["dataset", "method", "seed", "status", "task", "kind", "error_type", "error_message", "rows", "features",
          "classes", "class_labels", "train_rows", "test_rows", "network_train_accuracy", "network_test_accuracy",
          "network_train_r2", "network_test_r2", "srnet_fitness", "srnet_output_r2", "srnet_agreement_train_all",
          "srnet_agreement_test_all", "srnet_output_r2_test_rows", "srnet_complexity", "srnet_generations",
          "fidelity", "load_seconds", "train_seconds", "warm_up_seconds", "explain_seconds", "total_seconds",
          "job_seconds"]


@dataclass
class Report:
    """What :func:`write_report` wrote and found."""

    rows: list[dict]
    corrupt: list[tuple[Path, str]]
    written: list[Path] = field(default_factory=list)
    headline: list[str] = field(default_factory=list)
    missing: list[dict] = field(default_factory=list)  # planned jobs without a result file (see planned_jobs)


def summary_row(payload: dict) -> dict:
    """One flat row of ``summary.csv`` for a result payload."""
    job, data = payload["job"], payload.get("data") or {}
    network, metrics = payload.get("network") or {}, payload.get("metrics") or {}
    timings, error = payload.get("timings") or {}, payload.get("error") or {}
    srnet = metrics.get("srnet") or {}
    row = {"dataset": job["dataset"], "method": job["method"], "seed": job["seed"], "status": payload["status"],
           "task": job.get("task"), "kind": job.get("kind"), "error_type": error.get("type"),
           "error_message": error_line(error) if error else None,
           "rows": data.get("rows"), "features": data.get("features"), "classes": data.get("classes"),
           "class_labels": None if data.get("class_labels") is None else json.dumps(data["class_labels"]),
           "train_rows": data.get("train_rows"), "test_rows": data.get("test_rows"),
           "rows_dropped_missing": data.get("rows_dropped_missing")}
    for key in ("train_accuracy", "test_accuracy", "train_r2", "test_r2", "test_classes_answered"):
        row[f"network_{key}"] = network.get(key)
    row.update(srnet_fitness=srnet.get("fitness"), srnet_output_r2=srnet.get("output_r2"),
               srnet_agreement_train_all=srnet.get("agreement_train"),
               srnet_agreement_test_all=srnet.get("agreement_test"),
               srnet_output_r2_test_rows=srnet.get("output_r2_test"), srnet_complexity=srnet.get("complexity"),
               srnet_generations=srnet.get("generations"))
    for explainer, domains in (metrics.get("explainers") or {}).items():
        for domain, values in domains.items():
            for metric, value in values.items():
                row[f"{explainer}_{domain}_{metric}"] = value
        row[f"{explainer}_size"] = (metrics.get("size") or {}).get(explainer)
    for explainer, seconds in (timings.get("explain") or {}).items():
        row[f"{explainer}_seconds"] = seconds
    domain, metric = FIDELITY.get(job.get("task"), ("", ""))
    # the headline's figure: a classifier's agreement on every test row (compare's is on a sample of them)
    row["fidelity"] = (row["srnet_agreement_test_all"] if job.get("task") == "classification"
                       else row.get(f"srnet_{domain}_{metric}"))
    # job_seconds: the job's own cost, a worker's one-time warm-up apart (which job ran first on a fresh worker
    # decided which one looked slow); results of an older srnet have no warm-up: theirs is the total
    total, warm_up = timings.get("total"), timings.get("warm_up")
    row.update(load_seconds=timings.get("load"), train_seconds=timings.get("train"), warm_up_seconds=warm_up,
               explain_seconds=timings.get("explain_total"), total_seconds=total,
               job_seconds=None if total is None else total - (warm_up or 0.0))
    formulas = payload.get("formulas") or {}
    formula, decision = formulas.get("srnet"), formulas.get("srnet_decision")
    # a two-class network: the logit difference that decides, as srnet explain prints it
    if decision:
        formula = f"d = {decision}"
    row["srnet_formula"] = " ; ".join(formula) if isinstance(formula, list) else formula
    row["srnet_formula_reads"] = formula_reads(data.get("standardised"))
    for key, value in row.items():  # a sealed file with text for a figure ended srnet report in pandas' TypeError
        if key not in _TEXT_COLUMNS and value is not None and (isinstance(value, bool)
                                                               or not isinstance(value, (int, float))):
            raise TypeError(f"{key} is {value!r:.40}, not a number")
    return row


#: The columns of a summary row that hold text; every other one holds a number or nothing.
_TEXT_COLUMNS = {"dataset", "method", "status", "task", "kind", "error_type", "error_message", "class_labels",
                 "srnet_formula", "srnet_formula_reads"}


#: Columns of counts: written as whole numbers in summary.csv, a gap (a regression's classes) left empty.
_COUNT_COLUMNS = {"seed", "rows", "features", "classes", "train_rows", "test_rows", "rows_dropped_missing",
                  "network_test_classes_answered", "srnet_generations", "srnet_complexity"}


def _with_whole_counts(frame):
    """``frame`` as summary.csv writes it: its count columns as whole numbers beside a gap (a regression's
    classes), which pandas wrote as floats ("3.0" classes).  The frame itself stays float for the tables and
    plots."""
    import pandas as pd

    frame = frame.copy()
    for column in sorted(_COUNT_COLUMNS & set(frame.columns)):
        values = pd.to_numeric(frame[column], errors="coerce")
        if values.dropna().mod(1).eq(0).all():
            frame[column] = values.astype("Int64")
    return frame


#: How ``srnet_formula_reads`` begins for a job whose formulas read standardised columns (summary.md's note
#: looks for it).
STANDARDISED_READS = "standardised columns"


def formula_reads(standardised) -> str | None:
    """What a job's formula reads (summary.csv's ``srnet_formula_reads``), from its data's ``standardised``: a
    PMLB table's columns are standardised over the training rows before its network is trained, so x0 is
    (column 0 - mean)/sd and a regression formula gives the standardised target; a reviewer fed raw
    temperatures to 228_elusage's formula and scored R2 -3.47 where it scores 0.83.  None: unknown (no data)."""
    if standardised is None:
        return None
    if not standardised:
        return "the inputs as given"
    target = " and gives the standardised target" if standardised.get("target") else ""
    return (f"{STANDARDISED_READS}, x_j = (column j - mean_j)/sd_j over the training rows{target} (the job's JSON: "
            f"data.feature_names and data.standardised's means and scales)")


def error_line(error: dict) -> str:
    """The first non-empty line of a failure's message; its type when there is
    none (a bare ``assert`` or ``ValueError()``), so the row still says what failed."""
    lines = [line for line in (error.get("message") or "").splitlines() if line.strip()]
    return (lines[0] if lines else error.get("type") or "")[:300]


def summary_frame(rows: list[dict]):
    import pandas as pd

    columns = list(_FIRST)
    extra = sorted({key for row in rows for key in row} - set(columns) - {"srnet_formula", "srnet_formula_reads"})
    frame = pd.DataFrame(rows, columns=columns + extra + ["srnet_formula", "srnet_formula_reads"])
    if len(frame):
        frame = frame.sort_values(["dataset", "method", "seed"], kind="stable").reset_index(drop=True)
    return frame


def write_report(folder, *, plots: bool = True) -> Report:
    """Write ``summary.csv``, ``summary.md`` and the plots of a result folder.

    Raises
    ------
    FileNotFoundError
        When ``folder`` does not exist or holds no ``results/`` folder.
    NotADirectoryError
        When ``folder`` is a file.
    ValueError
        When ``folder`` holds neither a ``batch.json`` nor a valid result: not a folder of srnet bench, whose
        files of these names are not srnet's to replace.
    """
    store = ResultStore(folder)
    if store.root.exists() and not store.root.is_dir():
        raise NotADirectoryError(f"'{store.root}' is a file, not a folder: give the --out folder of srnet bench")
    if not store.root.is_dir():
        raise FileNotFoundError(f"no such folder: '{store.root}'")
    if not store.results.is_dir() and not store.manifest_path.exists():  # (with batch.json: every job missing)
        parent = store.root.parent  # (the results/ folder itself given: the bench folder is its parent)
        hint = (f"; give the bench folder, '{parent}'" if store.root.name == "results"
                and (parent / "batch.json").exists() else "")
        raise FileNotFoundError(f"'{store.root}' holds no results/ folder: not an srnet bench output{hint}")
    payloads, corrupt = store.load_all()
    if not payloads and not store.manifest_path.exists():
        # another tool's results/ folder: its summary.csv and summary.md were overwritten, and a plot of the
        # same name deleted even with --no-plots ("0 jobs; wrote ...", exit 0)
        raise ValueError(f"'{store.root}' holds no batch.json and no srnet bench result in results/: it is not "
                         f"an srnet bench folder, and srnet report replaces only its own summary.csv, summary.md "
                         f"and plots; give the --out folder of srnet bench")
    try:
        manifest, unread = store.read_manifest(), None
    except ValueError as error:  # the results stand on their own (each checked): report them without it
        manifest, unread = None, f"note: the batch's settings and runs are not shown: {error}"
    # a result of other settings (copied in by hand) must not count under the batch's settings; without a
    # manifest, under those of most of the folder's results (all of them were averaged as seeds of one batch)
    reference, whose, word = ((manifest["settings"], "the batch's", "batch") if manifest
                              else (_most_common_settings(payloads), "most of the folder's results'", "most"))
    if reference is not None:
        kept = [p for p in payloads if same_settings(p.get("settings"), reference)]
        other = [p for p in payloads if not same_settings(p.get("settings"), reference)]
        corrupt = corrupt + [(store.path(p["job"]["id"]), f"made with other settings than {whose} ("
                              + differences(p.get("settings"), reference, ("file", word)) + ")")
                              for p in other]
        payloads = kept
    rows = []
    for payload in payloads:
        try:
            rows.append(summary_row(payload))
        except (AttributeError, KeyError, TypeError, ValueError) as error:  # sealed, yet not a shape it reads
            corrupt = corrupt + [(store.path(payload["job"]["id"]), f"malformed result ({type(error).__name__}: "
                                                                    f"{error})")]
    planned = planned_jobs(manifest)
    rows += _uncounted_rows(rows, corrupt, planned)
    frame = summary_frame(rows)
    report = Report(rows, corrupt, missing=[{"id": job_id, **job} for job_id, job in planned.items()
                                            if not store.path(job_id).exists()])
    _with_whole_counts(frame).to_csv(store.root / "summary.csv", index=False)
    report.written.append(store.root / "summary.csv")
    report.headline = headline(frame) + _unknown_task_line(rows) + _mixed_code_line(payloads) + _unfinished_line(
        manifest, report.missing, store.holder()) + ([unread] if unread else [])
    atomic_write_text(store.root / "summary.md", markdown(frame, corrupt, report.headline, manifest,
                                                         report.missing))
    report.written.append(store.root / "summary.md")
    for name in REPORT_PLOTS:  # an earlier report's plot (--no-plots, or one not drawn now) must not stay beside it
        (store.root / name).unlink(missing_ok=True)
    if plots and len(frame):
        report.written += write_plots(frame, store.root)
    return report


def planned_jobs(manifest) -> dict[str, dict]:
    """Job id -> dataset, method, seed, task and kind of every job the batch's runs planned (the manifest's
    ``jobs``), those of a shape the report reads; empty for a manifest of an older srnet, which has none."""
    jobs = {}
    for job_id, job in ((manifest or {}).get("jobs") or {}).items():
        identity = parse_job_id(job_id)
        if identity and isinstance(job, dict):  # (read_manifest checked the dicts; a hand edit may say anything)
            jobs[job_id] = {"dataset": job["dataset"] if isinstance(job.get("dataset"), str) else identity[0],
                            "method": job["method"] if isinstance(job.get("method"), str) else identity[1],
                            "seed": identity[2], "task": job.get("task") if job.get("task") in FIDELITY else None,
                            "kind": job.get("kind") if isinstance(job.get("kind"), str) else None}
    return jobs


def _uncounted_rows(rows: list[dict], corrupt, planned: dict[str, dict]) -> list[dict]:
    """A row of status "not counted" for each file not counted (corrupt, or of other settings): its seed is
    missing from its dataset's row and headline, as a failed one is (it dropped out of both: 1/1 unstarred,
    and counted as reached on the seeds left; and a dataset with no counted result dropped out of the
    headline's count, "1 of 2" for 3).

    Its task is its job's as the batch planned it (:func:`planned_jobs`), else that of a counted result of its
    dataset; unknown, the row has none and :func:`_unknown_task_line` names it.  Not "the batch's one task" of
    the counted results: a pmlb: suite mixes tasks, and a damaged classification was counted as regression."""
    known = {(safe_name(r["dataset"]), safe_name(r["method"])): r for r in rows}
    datasets = {safe_name(r["dataset"]): r for r in rows}
    extra = []
    for path, _ in corrupt:
        identity = parse_job_id(Path(path).stem)
        if not identity:
            continue
        job = planned.get(Path(path).stem)
        if job is None:
            row = known.get(identity[:2]) or datasets.get(identity[0]) or {}
            job = {"dataset": row.get("dataset", identity[0]),
                   "method": row["method"] if identity[:2] in known else identity[1], "seed": identity[2],
                   "task": row.get("task"), "kind": row.get("kind")}
        extra.append({**job, "status": "not counted"})
    return extra


def _unknown_task_line(rows: list[dict]) -> list[str]:
    """A line naming the datasets whose only results were not counted, and whose task is unknown."""
    names = sorted({r["dataset"] for r in rows if r["status"] == "not counted" and r.get("task") is None})
    return [f"{len(names)} dataset(s) with no counted result, in no count above: {', '.join(names)} (see the "
            f"files not counted)"] if names else []


#: Planned jobs without a result that the headline names (summary.md lists every one).
MISSING_SHOWN = 10


def _mixed_code_line(payloads: list[dict]) -> list[str]:
    """A line naming the srnet commits of the counted results when there are several (a batch resumed after a
    ``git pull`` averaged two codes' numbers under one version, without a word); results of an srnet outside a
    git checkout, or of an older srnet, record none and are not counted here."""
    commits: dict[str, int] = {}
    for payload in payloads:
        recorded = payload.get("versions") if isinstance(payload.get("versions"), dict) else {}
        commit = recorded.get("srnet_commit")
        if isinstance(commit, str):
            commits[commit] = commits.get(commit, 0) + 1
    if len(commits) < 2:
        return []
    shown = ", ".join(f"{commit} ({count})" for commit, count in sorted(commits.items(), key=lambda kv: -kv[1]))
    return [f"the results were made by {len(commits)} versions of srnet's code (commit: results): {shown}; "
            f"a resumed batch mixes them: rerun into a new --out folder to compare like with like"]


def _unfinished_line(manifest, missing: list[dict], holder: str | None = None) -> list[str]:
    """Lines saying the batch is not finished: its last run never closed (killed, or still running), and the
    planned jobs of any run that have no result file (``missing``).  A report of such a folder looked complete.

    A manifest of an older srnet records no planned jobs: the last run's count of unfinished ones stands in for
    them (a job an earlier run left undone is lost to it, as it was)."""
    lines = []
    runs = (manifest or {}).get("runs") or []
    last = runs[-1] if runs else {}
    if not isinstance(last, dict) or not isinstance(last.get("started_at"), str):  # not a run srnet recorded
        last = {}
    running = last and not isinstance(last.get("ok"), int) and holder is not None
    # (while it runs, a rerun is refused by the folder's lock: the jobs without a result are its own, to come)
    finish = "the running batch is still to write them" if running else "rerun srnet bench on them to finish the batch"
    if running:
        lines.append(f"the last run (started {last.get('started_at')}) is still running (pid {holder}): this "
                     f"report shows what it has finished so far")
    elif last and not isinstance(last.get("ok"), int):
        lines.append(f"the last run (started {last.get('started_at')}) did not finish (killed, or stopped): "
                     f"rerun the same srnet bench command to finish the batch")
    if missing:
        # each job named: after a rerun of fewer datasets, the earlier run's jobs left undone were in no count
        shown = ", ".join(f"{job['dataset']} ({job['method']}, seed {job['seed']})" for job in missing[:MISSING_SHOWN])
        more = f", and {len(missing) - MISSING_SHOWN} more (listed in summary.md)" if len(missing) > MISSING_SHOWN \
            else ""
        lines.append(f"{counted(len(missing), 'planned job')} with no result yet (interrupted, killed or lost to "
                     f"the cluster), in no count above: {shown}{more}; {finish}")
    elif last and not (manifest or {}).get("jobs"):
        unfinished = last.get("unfinished")
        if isinstance(unfinished, int) and not isinstance(unfinished, bool) and unfinished > 0:
            lines.append(f"{unfinished} job(s) of the last run have no result yet (interrupted, or lost to the "
                         f"cluster): rerun the same srnet bench command to finish the batch")
    return lines


def _most_common_settings(payloads) -> dict | None:
    """The settings most of ``payloads`` share (the first file's on a tie); None without any."""
    groups: list[tuple[dict, int]] = []
    for payload in payloads:
        for k, (settings, count) in enumerate(groups):
            if same_settings(payload.get("settings"), settings):
                groups[k] = (settings, count + 1)
                break
        else:
            if isinstance(payload.get("settings"), dict):
                groups.append((payload["settings"], 1))
    return max(groups, key=lambda group: group[1])[0] if groups else None


# -------------------------------------------------------------- tables


def _fidelity_columns(frame, task: str) -> dict[str, str]:
    """Explainer -> its fidelity column for ``task`` (compare's protocol)."""
    domain, metric = FIDELITY[task]
    suffix = f"_{domain}_{metric}"
    return {c[: -len(suffix)]: c for c in frame.columns if c.endswith(suffix)}


def _means(grouped):
    """Each group's mean, NaN where any of its values is (a failed seed, an overflowed figure, counts
    against its dataset): Series.mean(skipna=False) per group, as pandas before 3.0 has no skipna on
    groupby reductions."""
    return grouped.agg(lambda values: values.mean(skipna=False))


def headline(frame) -> list[str]:
    """One line per task: how many datasets SRNet explained faithfully."""
    lines = []
    if not len(frame):
        return lines
    for task, column, target, what in (("classification", "srnet_agreement_test_all", AGREEMENT_TARGET,
                                        "test agreement"),
                                       ("regression", "srnet_interpolation_r2", R2_TARGET, "interpolation R^2")):
        part = frame[frame["task"] == task]
        if not len(part):
            continue
        if column not in part:  # every job failed: none reached, and each is counted as failed
            part = part.assign(**{column: math.nan})
        # a network that answers one class on every test row is agreed with by any constant: its 100 % is no
        # explanation, and it counted as one (228_elusage's network, 0 % accurate: "2 of 2 ... >= 0.95")
        one_class = set(_one_class_datasets(part))
        part = part[~part["dataset"].isin(one_class)]
        if one_class and not len(part):  # (the line below spoke of "the count above", and none was printed)
            lines.append(f"no {task} dataset counted: {len(one_class)} left out, named below")
        for method, rows in part.groupby("method"):
            # a seed without a finite figure (null: a formula that overflowed) or that failed keeps its
            # dataset from the count, and in the denominator
            figures = rows[column].where(rows["status"] == "ok")
            per_dataset = _means(figures.groupby(rows["dataset"]))
            reached = int((per_dataset.round(ROUNDING) >= target).sum())  # the mean of 0.95s is 0.9499999...
            failed = rows.loc[rows["status"] != "ok", "dataset"].nunique()
            left_out = f"; {len(one_class)} left out, named below" if one_class else ""
            lines.append(f"{method}: {reached} of {len(per_dataset)} {task} datasets with SRNet {what} >= "
                         f"{target:g} (mean over seeds" + (f"; {failed} counted as not reached: a seed of "
                                                           f"{'each' if failed > 1 else 'it'} failed or was not "
                                                           f"counted" if failed else "") + f"{left_out})")
    return lines + _one_class_line(frame) + _dropped_rows_line(frame)


def _one_class_datasets(frame) -> list[str]:
    """The datasets whose network answers one class on every test row (of any seed)."""
    if "network_test_classes_answered" not in frame:
        return []
    return sorted(set(frame.loc[frame["network_test_classes_answered"] == 1, "dataset"]))


def _dropped_rows_line(frame) -> list[str]:
    """A line naming the datasets whose rows with missing values were left out (recorded in each result file
    only: nothing said the networks had learnt from fewer rows than the table holds)."""
    if "rows_dropped_missing" not in frame:
        return []
    dropped = frame[frame["rows_dropped_missing"].fillna(0) > 0].groupby("dataset")["rows_dropped_missing"].max()
    return [f"{len(dropped)} dataset(s) with rows of missing values left out: " + ", ".join(
        f"{name} ({int(count)} rows)" for name, count in dropped.items())] if len(dropped) else []


def _one_class_line(frame) -> list[str]:
    """A line naming the datasets whose network answers one class on every test row: any formula of a constant
    agrees 100 %, and such a dataset counted as explained (parity5's network, 50 % accurate)."""
    names = _one_class_datasets(frame)
    return [f"{len(names)} classification dataset(s) whose network answers one class on every test row (its "
            f"explanation is of a constant; agreement there says nothing, and the count above leaves it out): "
            f"{', '.join(names)}"] if names else []


def _run_line(run: dict) -> str:
    """A run of the batch as summary.md lists it: its figures once it closed, else that it did not."""
    if not all(isinstance(run.get(key), (int, float)) and not isinstance(run.get(key), bool)
               for key in ("ok", "failed", "wall_seconds")):
        return f"- run started {run['started_at']}: did not finish (killed, or still running)"
    unfinished = run.get("unfinished")
    return (f"- run started {run['started_at']}: {run['ok']} ok, {run['failed']} failed"
            + (f", {unfinished} unfinished" if isinstance(unfinished, int) and not isinstance(unfinished, bool)
               and unfinished > 0 else "")
            + f" in {run['wall_seconds']:.0f} s wall")


def _cell(value, kind: str = "") -> str:
    """A table cell.  ``kind``: "percent" (a share, shown in % to 0.1) or
    "score" (an R^2, to 4 decimals within [-1, 1]): both rounded *down*, as
    the headline counts them (an R^2 of 0.98996 must not read 0.9900 beside
    ">= 0.99" not reached, nor 94.96 % read 95.0 %).  Any other figure (a
    node count, seconds) to 3 significant digits below 100, whole from 100
    (a mean of 1180 nodes read 1.18e+03), in powers of ten from a million."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if kind == "percent":
        return f"{math.floor(round(1000 * value, ROUNDING)) / 10:.1f}" if math.isfinite(value) else str(value)
    if kind == "score" and math.isfinite(value) and abs(value) <= 1:
        return f"{math.floor(round(1e4 * value, ROUNDING)) / 1e4:.4f}"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}" if abs(value) < 1e6 else f"{value:.2e}"
    return str(value)


def markdown(frame, corrupt, lines, manifest, missing=()) -> str:
    """The Markdown summary: headline, one table per task, failures, corrupt files, planned jobs without a
    result (``missing``)."""
    n_ok = int((frame["status"] == "ok").sum()) if len(frame) else 0
    n_failed = int((frame["status"] == "failed").sum()) if len(frame) else 0
    out = ["# srnet bench summary", "",
           f"{n_ok + n_failed} results: {n_ok} ok, {n_failed} failed; {len(corrupt)} file(s) not counted "
           f"(corrupt, or of other settings).", ""]
    if manifest:
        # as the settings' differences name them (explainers=[lime, maple], generations=unset): Python's repr
        # printed explainers=['maple'], generations=None
        settings = ", ".join(f"{k}={setting_text(v)}" for k, v in manifest["settings"].items())
        out += [f"Settings: {settings}.", ""]
        # every run, a killed one as such: it never closed, and its results were counted with no run shown
        # (a hand-edited one may lack a figure: it reads as not closed)
        runs = [run for run in manifest["runs"] if isinstance(run.get("started_at"), str)]
        out += [_run_line(run) for run in runs] + ([""] if runs else [])
    out += [f"- {line}" for line in lines] + ([""] if lines else [])
    for task in ("classification", "regression"):
        part = frame[(frame["task"] == task)] if len(frame) else frame
        if not len(part):
            continue
        out += table(part, task) + [""]
    failed = frame[frame["status"] == "failed"] if len(frame) else frame
    if len(failed):
        out += ["## Failed jobs", "", "| dataset | method | seed | error |", "| --- | --- | --- | --- |"]
        out += [f"| {r.dataset} | {r.method} | {r.seed} | "
                # the whole line error_line kept (cut at 120 characters, 'domain=[' ended mid-token), | escaped
                + (r.error_type if r.error_message == r.error_type else
                   f"{r.error_type}: {str(r.error_message)}".replace("|", "\\|"))
                + " |" for r in failed.itertuples()]
        out.append("")
    if corrupt:
        out += ["## Result files not counted (corrupt ones `srnet bench` moves aside and redoes)", ""]
        out += [f"- `{path.name}`: {why}" for path, why in corrupt] + [""]
    if missing:
        out += ["## Planned jobs without a result yet (rerun srnet bench on them)", ""]
        out += [f"- `{job['id']}`: {job['dataset']}, {job['method']}, seed {job['seed']}, "
                f"{job['task'] or 'task unknown'}" for job in missing] + [""]
    return "\n".join(out)


def table(part, task: str) -> list[str]:
    """Means over seeds per (dataset, method) for one task."""
    percent = task == "classification"
    if percent:
        own = [("SRNet train %", "srnet_agreement_train_all"), ("SRNet test %", "srnet_agreement_test_all"),
               ("net test acc %", "network_test_accuracy")]
    else:
        own = [("SRNet R2 interp", "srnet_interpolation_r2"), ("SRNet R2 extrap", "srnet_extrapolation_r2"),
               ("net test R2", "network_test_r2")]
    others = {name: c for name, c in _fidelity_columns(part, task).items() if name != "srnet"}
    label = "test %" if percent else "R2 interp"
    if percent and others:  # theirs are measured on compare's sample of the test rows: SRNet's too, beside them
        own.append(("SRNet sample %", FIDELITY_SAMPLE[task]))
    columns = own + [(f"{name} {label}", c) for name, c in others.items()]
    if not percent:  # SRNet's extrapolation stood beside theirs inside the box alone (R2 -685 beside nothing)
        extrapolation = {name: c.replace("_interpolation_", "_extrapolation_") for name, c in others.items()}
        columns += [(f"{name} R2 extrap", c) for name, c in extrapolation.items() if c in part.columns]
    columns += [("complexity", "srnet_complexity"), ("seconds", "job_seconds")]
    header = ["dataset", "method", "ok/jobs"] + [name for name, _ in columns]
    what = ("Columns: `SRNet train %` and `SRNet test %` are the agreement of the formula's class with the "
            "network's class (not accuracy); `net test acc %` is the network's own accuracy against the labels; "
            "other explainers' `test %` are their agreement with the network on a sample of at most --points "
            "test rows, and `SRNet sample %` SRNet's on the same rows (compare like with like there; "
            "`SRNet test %` counts every test row)."
            if percent else
            "Columns: R2 of each explainer against the network (not the labels), inside the training box "
            "(`interp`) and in the wider test box (`extrap`); `net test R2` is the network against the labels.")
    what += (" `seconds`: each job's own time on its worker, the worker's one-time warm-up (its first data load, "
             "torch's set-up, the kernels) apart "
             "(summary.csv's warm_up_seconds).")
    # (98.68 % read 98.6 beside a sum that said nothing of it; a mean of 1180 and 100 nodes read 640)
    reads = part.get("srnet_formula_reads")  # (absent from a summary written before it)
    if reads is not None and reads.astype(str).str.startswith(STANDARDISED_READS).any():  # (PMLB tables)
        what += (" SRNet's formulas (summary.csv's srnet_formula) read each PMLB table's columns standardised over "
                 "its training rows, x_j = (column j - mean_j)/sd_j, and a regression formula gives the "
                 "standardised target: srnet_formula_reads says so per job, and each job's JSON holds the columns' "
                 "names, means and scales (data.feature_names, data.standardised).")
    what += (" Every figure is the mean over a dataset's seeds (complexity too: nodes of the selected formula); "
             "percentages and R2 are rounded *down* (98.68 reads 98.6), as the headline counts them against its "
             "thresholds; summary.csv holds every digit.")
    lines = [f"## {task.capitalize()}", "", what, "", "| " + " | ".join(header) + " |",
             "|" + "---|" * len(header)]
    headline_column = "srnet_agreement_test_all" if percent else "srnet_interpolation_r2"  # what headline counts
    gaps = set()  # the columns with a starred cell
    unmeasured = False  # a network figure of no held-out rows
    one_class = set(_one_class_datasets(part)) if percent else set()
    for (dataset, method), rows in part.groupby(["dataset", "method"], sort=True):
        good = rows[rows["status"] == "ok"]
        cells = [str(dataset) + " (one class)" * (dataset in one_class), str(method), f"{len(good)}/{len(rows)}"]
        for name, column in columns:
            value = good[column].mean() if column in good and len(good) and good[column].notna().any() else None
            kind = "percent" if "%" in name else ("score" if "R2" in name else "")
            cell = _cell(value, kind)
            if (column.startswith("network_test") and len(good) and "test_rows" in good
                    and good["test_rows"].fillna(0).eq(0).all()):  # no held-out rows: not measured, nothing failed
                cells.append("n/a")
                unmeasured = True
                continue
            if column in good and len(good) and good[column].isna().all():  # no seed has a figure: say so
                cell = "none"
            if cell and (good[column].isna().any() or len(good) < len(rows)):  # a seed without a figure
                cell = cell + "*"
                gaps.add(column)
            cells.append(cell)
        lines.append("| " + " | ".join(cells) + " |")
    if one_class:  # (its row read 100.0 | 100.0 like a perfect explanation)
        lines += ["", "`(one class)`: the network answers one class on every test row; any constant agrees with it, "
                      "so its agreement says nothing, and the headline leaves the dataset out."]
    if unmeasured:
        lines += ["", "`n/a`: the network has no held-out rows to measure it on (a reference network, which the "
                      "bench does not train)."]
    if gaps:
        counted = dict((c, n) for n, c in columns).get(headline_column)
        lines += ["", "`*`: the mean of the seeds with a finite figure (`none`: no seed had one); at least one seed "
                      "had none (a formula that overflowed, or a job that failed)"
                  + (f"; in `{counted}` the headline counts that dataset as not reached." if headline_column in gaps
                     else ".")]
    return lines


# --------------------------------------------------------------- plots


def _fidelity_value(frame, explainer: str, task: str):
    domain, metric = FIDELITY[task]
    column = f"{explainer}_{domain}_{metric}"
    return frame[column] if column in frame else None


#: The R^2 axis of the regression plots: -log10(1 + R2_SCALE_EPS - R^2), so that 0.99, 0.999 and 0.9999 lie a
#: decade apart (on a linear axis from -1 to 1 they were one point), labelled in R^2 itself.
R2_SCALE_EPS = 1e-5
R2_TICKS = (-1.0, 0.0, 0.9, 0.99, 0.999, 0.9999, 1.0)
#: The room an R^2 axis leaves beyond -1 and 1, a share of its length: a point at 1, or an "x" at the floor -1,
#: sat on the frame, half of it cut off.
R2_MARGIN = 0.03


#: The agreement axis of the classification plots, on the same kind of scale: 0.9, 0.99 and 1 a step apart (on
#: a linear axis 100 of 160 tables crowded the corner at 1); its resolution about one of 1000 test rows.
AGREEMENT_SCALE_EPS = 1e-3
AGREEMENT_TICKS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99, 1.0)


def near_one_axis(ax, which: str, eps: float, ticks, low: float) -> None:
    """Draw ``ax``'s ``which`` axis (a figure from ``low``, at most 1 - 10 eps, to 1, and :data:`R2_MARGIN`
    beyond) on the scale -log10(1 + eps - figure), its ticks figures (those from ``low`` on)."""
    def forward(r):  # (defined a decade past 1 + eps: the margin above 1 lies there)
        return -np.log10(np.maximum(1.0 + eps - np.asarray(r, dtype=float), eps / 10))

    def inverse(v):
        return 1.0 + eps - 10.0 ** (-np.asarray(v, dtype=float))

    getattr(ax, f"set_{which}scale")("function", functions=(forward, inverse))
    low = min(low, 1.0 - 10 * eps)  # (every point at 1: an axis from 1 to 1)
    bottom, top = forward(low), forward(1.0)
    margin = R2_MARGIN * (top - bottom)
    getattr(ax, f"set_{which}lim")(float(inverse(bottom - margin)), float(inverse(top + margin)))
    shown = [t for t in ticks if t >= low]
    getattr(ax, f"set_{which}ticks")(shown, [f"{t:g}" for t in shown])


def r2_axis(ax, which: str = "y") -> None:
    """Draw ``ax``'s ``which`` axis (R^2 in [-1, 1], and :data:`R2_MARGIN` beyond) on the scale of
    :data:`R2_SCALE_EPS`, its ticks R^2 values."""
    near_one_axis(ax, which, R2_SCALE_EPS, R2_TICKS, -1.0)


def agreement_axis(ax, which: str = "y", low: float = 0.0) -> None:
    """Draw ``ax``'s ``which`` axis (an agreement from ``low`` to 1) on the scale of :data:`AGREEMENT_SCALE_EPS`,
    its ticks agreements."""
    near_one_axis(ax, which, AGREEMENT_SCALE_EPS, AGREEMENT_TICKS, low)


#: The most points a plot names, each by its dataset.
NAMED_POINTS = 40


def _name_points(ax, series) -> None:
    """Name each point of ``series`` (``(x, y, datasets)`` per series) by its dataset (datasets at one place once,
    with their count), when there are at most :data:`NAMED_POINTS` places, but for a name that would cover one
    already written (points at one corner wrote their names over each other, none legible); call once the axes'
    scales and limits are final."""
    # points at one place named once, with their count: seven datasets tied at (1, 1) read as the one named
    places = []
    for xs, ys, names in series:
        here = {}
        for x, y, name in zip(xs, ys, names):
            here.setdefault((x, y), []).append(str(name))
        places.append(here)
    if sum(len(here) for here in places) > NAMED_POINTS:  # (places: 41 datasets tied at one named none)
        return
    size = 6  # points
    pixels = size * ax.figure.dpi / 72
    placed = []  # (left, bottom, right, top) of each name written, in display pixels
    for here in places:
        for (x, y), together in here.items():
            name = together[0] + (f" and {len(together) - 1} more here" if len(together) > 1 else "")
            if not (np.isfinite(x) and np.isfinite(y)):
                continue
            px, py = ax.transData.transform((x, y))
            # a point in the right half named on its left: "192_vineyard" at the largest size ran past the frame
            right = ax.transAxes.inverted().transform((px, py))[0] > 0.5
            width, offset = 0.6 * pixels * len(str(name)), 3 * ax.figure.dpi / 72
            left = px - offset - width if right else px + offset
            box = (left, py + offset, left + width, py + offset + pixels)
            if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed):
                continue
            placed.append(box)
            ax.annotate(str(name), (x, y), textcoords="offset points", xytext=(-3 if right else 3, 3),
                        ha="right" if right else "left", fontsize=size, alpha=0.8)


#: Marker of each series in a plot of several explainers' figures per dataset ("x" marks a missing figure).
SERIES_MARKERS = ("o", "s", "^", "D", "v", "P")
#: Every plot :func:`write_plots` may draw.
REPORT_PLOTS = ("fidelity_per_dataset.png", "srnet_vs_maple.png", "time_per_job.png", "complexity_vs_fidelity.png")


#: Width per dataset (or job) of the plots with one tick each, and their labels' size: the figure grows with
#: the count, so the labels keep a size a person reads (they shrank to 3-4 pt at the PMLB suite's 160 datasets,
#: in a figure 2700 px wide whose names nobody could read).
TICK_INCHES, TICK_FONT = 0.13, 7


def _label_inches(labels) -> float:
    """About the length of the longest of ``labels`` written upright at :data:`TICK_FONT` (half an em a
    character): the figure's height grows by it, or a name of 60 characters (PMLB's GAMETES sets) squeezed
    the plot above it into a strip."""
    longest = max((len(str(label)) for label in labels), default=0)
    return longest * TICK_FONT * 0.5 / 72


def write_plots(frame, folder: Path) -> list[Path]:
    """The four plots of a summary frame; returns the files written."""
    import pandas as pd

    from srnet.plots import node_count_axis, plt, save_figure
    ok = frame[frame["status"] == "ok"]
    written = []
    tasks = [t for t in ("classification", "regression") if (ok["task"] == t).any()]
    if not tasks:
        return written

    # 1. fidelity per dataset, one series per explainer (SRNet: per method)
    fig, axes = plt.subplots(len(tasks), 1, squeeze=False, layout="constrained",
                             figsize=(max(7.0, TICK_INCHES * ok["dataset"].nunique() + 2),
                                      (3.4 + _label_inches(frame["dataset"])) * len(tasks)))
    for ax, task in zip(axes[:, 0], tasks):
        # every job of the task, a failed or uncounted one's figures NaN: a seed without a figure leaves its
        # dataset without a mean, as the table stars it (dropping failed jobs first drew an ordinary mean)
        part = frame[frame["task"] == task].copy()
        part.loc[part["status"] != "ok", ["fidelity", *_fidelity_columns(part, task).values()]] = np.nan
        others = {e: c for e, c in _fidelity_columns(part, task).items() if e != "srnet"}
        # beside other explainers, SRNet's figure on their rows (compare's sample), as the table's "SRNet sample"
        # column: on all test rows it read 98.0 % below MAPLE's 98.75 % where, on the same rows, they tied
        srnet_column = FIDELITY_SAMPLE.get(task) if others and FIDELITY_SAMPLE.get(task) in part else "fidelity"
        series = {}
        for method, rows in part.groupby("method"):
            series[method] = _means(rows.groupby("dataset")[srnet_column])
        for explainer, column in others.items():
            # each method's job of a (dataset, seed) measures the explainer again, on the same network and rows:
            # one figure per seed (that of any job with one), then the mean over seeds.  Over every job, a seed
            # counted once per method (0.63 for seeds at 0.5 and 0.9 when one method lacked seed 1), and one
            # method's failed job left no figure though another's had measured it
            per_seed = part.groupby(["dataset", "seed"])[column].mean()
            series[explainer] = _means(per_seed.groupby(level="dataset"))
        first = series[next(iter(series))]  # sorted by the first series, then every dataset only others have
        order = first.sort_values().index.append(pd.Index(sorted(set().union(*(v.index for v in series.values()))
                                                               - set(first.index))))
        x = np.arange(len(order))
        floor = -1.0 if task == "regression" else 0.0
        # each series a little to the side of the dataset's tick, in a shape of its own: equal figures (1.0 for
        # all three explainers) were drawn on one spot, the last series' marker hiding the others
        step = min(0.25, 0.8 / len(series))
        for k, (name, values) in enumerate(series.items()):
            y = values.reindex(order).to_numpy(dtype=float)
            if task == "regression":
                y = np.clip(y, -1, 1)
            beside = x + (k - (len(series) - 1) / 2) * step
            ax.plot(beside, y, SERIES_MARKERS[k % len(SERIES_MARKERS)], ms=3.5, color=f"C{k}", label=name, alpha=0.8)
            missing = np.isin(order, values.index) & ~np.isfinite(y)  # measured, but a seed has no figure
            if missing.any():
                ax.plot(beside[missing], np.full(missing.sum(), floor), "x", ms=6, color=f"C{k}",
                        label=f"{name}: a seed without a figure (drawn at {floor:g})")
        ax.set_xticks(x)
        # a one-class network's dataset drawn at agreement 1, unmarked, read as a perfect explanation
        one_class = set(_one_class_datasets(part)) if task == "classification" else set()
        ax.set_xticklabels([f"{name} (one class)" if name in one_class else name for name in order], rotation=90,
                           fontsize=TICK_FONT)
        for label, name in zip(ax.get_xticklabels(), order):
            if name in one_class:
                label.set_color("tab:red")
        ax.set_xlim(-1, len(order))  # (matplotlib's margin left an inch empty at each end of 160 datasets)
        rows_used = "compare's sample of the test rows" if srnet_column != "fidelity" else "test rows"
        if task == "classification":
            ax.axhline(AGREEMENT_TARGET, color="grey", lw=0.8, ls="--")
            agreement_axis(ax)
            ax.set_ylabel(f"agreement with the network\n({rows_used})")
        else:
            ax.axhline(R2_TARGET, color="grey", lw=0.8, ls="--")  # (the headline's threshold, as agreement's)
            r2_axis(ax)
            ax.set_ylabel("R^2 vs the network, training box\n(clipped at -1; 0.99, 0.999, 0.9999 a step apart)")
        ax.set_title(f"fidelity per {task} dataset" + (
            "\n(red: the network answers one class on every test row; any constant agrees with it)"
            if one_class else ""))
        ax.legend(fontsize=8)
    written.append(save_figure(fig, folder / "fidelity_per_dataset.png"))

    # 2. SRNet vs MAPLE, one point per job, a series per method when there are several (a job's MAPLE figure
    # is on that job's network and rows: the methods' points lie at the same MAPLE figures, and read as one)
    pairs = []
    several = ok["method"].nunique() > 1
    for task in tasks:
        for method, part in ok[ok["task"] == task].groupby("method"):
            maple, srnet = _fidelity_value(part, "maple", task), _fidelity_value(part, "srnet", task)
            if maple is not None and srnet is not None:  # both measured by compare, on the same points
                pairs.append((task, f"{task}, {method}" if several else task, srnet.to_numpy(float),
                              maple.to_numpy(float), part["dataset"].to_numpy()))
    if pairs:
        # a panel per task: an agreement and an R^2 on one pair of axes (the R^2's scale) read as one measure
        shown = list(dict.fromkeys(pair[0] for pair in pairs))
        fig, axes = plt.subplots(1, len(shown), squeeze=False, figsize=(5 * len(shown), 5), layout="constrained")
        for ax, task in zip(axes[0], shown):
            # below the floor (R^2 below -1; null: no figure) drawn at it as an "x": a -3 against a -25 read as a
            # tie on the diagonal.  An agreement's floor is 0: at -1, a null one squeezed the others into a corner
            floor = -1.0 if task == "regression" else 0.0
            # wins: SRNet above, on and below the diagonal, of the jobs where both have a figure; then the others
            # (per method: srnet's and srnet-paper's jobs were counted as one, "higher on 2 of 6")
            lowest, named, wins = 1.0, [], {}
            for k, (_, label, srnet, maple, datasets) in enumerate(pair for pair in pairs if pair[0] == task):
                x, y = np.nan_to_num(maple, nan=-np.inf), np.nan_to_num(srnet, nan=-np.inf)
                both = np.isfinite(x) & np.isfinite(y)
                wins[label.removeprefix(f"{task}, ")] = [int(np.sum(both & (y > x))), int(np.sum(both & (y == x))),
                                                         int(np.sum(both & (y < x))), int(np.sum(~both))]
                floored = (x < floor) | (y < floor)
                x, y = np.clip(x, floor, 1), np.clip(y, floor, 1)
                lowest = min([lowest, *x, *y])
                named.append((x, y, datasets))
                # a later method's points larger and hollow: two methods at one spot (iris at (1, 1)) drew the second
                # over the first, one of them unseen
                ax.plot(x[~floored], y[~floored], "o", ms=4 + 3 * k, alpha=0.7, color=f"C{k}", label=label,
                        fillstyle="full" if k == 0 else "none")
                if floored.any():
                    ax.plot(x[floored], y[floored], "x", ms=6, color=f"C{k}", label=f"{label}: " + (
                        "below -1 or no figure (drawn at -1)" if task == "regression" else "no figure (drawn at 0)"))
            ax.plot([-1, 1], [-1, 1], color="grey", lw=0.8)
            if task == "regression":  # R^2 near 1: a scale that tells 0.99 from 0.9999
                r2_axis(ax, "x")
                r2_axis(ax, "y")
                measure = "R^2 in the training box, clipped at -1"
            else:  # from the lowest point (from 0.5, points of 0.9 to 1 crowded one corner)
                agreement_axis(ax, "x", lowest)
                agreement_axis(ax, "y", lowest)
                measure = "test agreement"
            ax.set_aspect("equal")
            _name_points(ax, named)
            ax.set_xlabel(f"MAPLE fidelity ({measure})")
            ax.set_ylabel(f"SRNet fidelity ({measure})")
            counts = []
            for method, (above, tied, below, unmeasured) in wins.items():
                who = "SRNet" if len(wins) == 1 else method
                counts.append(f"{who} higher on {above} of {above + tied + below} jobs, tied on {tied}, lower on "
                              f"{below}" + (f"; {unmeasured} without both figures" if unmeasured else ""))
            ax.set_title(f"SRNet vs MAPLE ({task})\n" + "\n".join(counts), fontsize=10)
            ax.legend(fontsize=8)
        written.append(save_figure(fig, folder / "srnet_vs_maple.png"))

    # 3. time per job: load, train, explain
    times = frame.assign(label=frame["dataset"] + " " + frame["method"] + " s" + frame["seed"].astype(str))
    times = times.sort_values("total_seconds", na_position="first")
    fig, ax = plt.subplots(figsize=(max(7.0, TICK_INCHES * len(times) + 2), 3.4 + _label_inches(times["label"])))
    x = np.arange(len(times))
    bottom = np.zeros(len(times))
    for k, part in enumerate(("load_seconds", "train_seconds", "explain_seconds", "warm_up_seconds")):
        if part not in times:  # (a frame of an older srnet's summary.csv has no warm-up)
            continue
        height = times[part].fillna(0).to_numpy(float)
        label = ("worker warm-up (first load, torch, kernels: once per worker)" if part == "warm_up_seconds" else
                 part.split("_")[0])
        ax.bar(x, height, bottom=bottom, color=f"C{k}", label=label, width=0.85)
        bottom += height
    other = np.maximum(times["total_seconds"].fillna(0).to_numpy(float) - bottom, 0)
    ax.bar(x, other, bottom=bottom, color="lightgrey", label="other", width=0.85)
    ax.set_xticks(x)
    ax.set_xticklabels(times["label"], rotation=90, fontsize=TICK_FONT)
    ax.set_xlim(-1, len(times))
    ax.set_ylabel("seconds (on its worker)")
    ax.set_title(f"time per job ({len(times)} job{'s' * (len(times) != 1)})")
    # beside the axes: inside, matplotlib's "best" sat on the tallest bar, and any corner on some bar
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    written.append(save_figure(fig, folder / "time_per_job.png"))

    # 4. formula complexity vs fidelity
    # constrained: the second panel's axis label printed over the first panel
    fig, axes = plt.subplots(1, len(tasks), squeeze=False, figsize=(5.2 * len(tasks), 4.2), layout="constrained")
    for ax, task in zip(axes[0], tasks):
        part = ok[ok["task"] == task]
        floor = -1.0 if task == "regression" else 0.0
        named = []  # each method's (sizes, figures, datasets), named once the axes are final
        for k, (method, rows) in enumerate(part.groupby("method")):
            y = rows["fidelity"].to_numpy(float)
            sizes = rows["srnet_complexity"].to_numpy(float)
            y = np.clip(y, -1, 1) if task == "regression" else y
            ax.plot(sizes, y, "o", ms=4, alpha=0.7, color=f"C{k}", label=method)
            missing = ~np.isfinite(y) & np.isfinite(sizes)  # no figure (a formula that overflowed): at the floor
            if missing.any():
                ax.plot(sizes[missing], np.full(missing.sum(), floor), "x", ms=6, color=f"C{k}",
                        label=f"{method}: no figure (drawn at {floor:g})")
                y = np.where(missing, floor, y)
            named.append((sizes, y, rows["dataset"]))
        node_count_axis(ax, part["srnet_complexity"].dropna().to_numpy(float))
        ax.set_xlabel("SRNet formula complexity (nodes)")
        if task == "regression":
            r2_axis(ax)
        else:
            agreement_axis(ax)
        ax.autoscale_view()  # (lazy otherwise: the data's transform below would not know the limits yet)
        _name_points(ax, named)
        ax.set_ylabel("test agreement" if task == "classification" else "R^2, training box (clipped at -1)")
        ax.set_title(f"complexity vs fidelity ({task})")
        ax.legend(fontsize=8)
    written.append(save_figure(fig, folder / "complexity_vs_fidelity.png"))
    return written
