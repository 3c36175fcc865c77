"""Defects of srnet bench / srnet report found in review: each test fails on the code it was written against.

Fast (no Dask cluster is started: every case either has nothing to run, or works on the store and report alone).
"""

import re
from pathlib import Path

import pytest

from srnet.bench.report import write_report
from srnet.bench.store import CorruptResult, ResultStore, read_result
from srnet.bench.suites import BatchSettings, resolve_suite

SETTINGS = BatchSettings(seconds=1.0)


def payload(job, r2=0.999, status="ok"):
    """A result as run_job writes it, reduced to what the report reads."""
    domains = {d: {"rmse": 0.01, "r2": r2, "agreement": None, "rmse_around": 0.01, "r2_around": r2,
                   "agreement_around": None} for d in ("interpolation", "extrapolation")}
    return {"job": job.description(), "status": status, "settings": job.settings.to_dict(),
            "data": {"rows": 100, "features": 1, "train_rows": 75, "test_rows": 25},
            "network": {"trained": True, "train_r2": 0.99, "test_r2": 0.98},
            "metrics": {"explainers": {"srnet": domains}, "size": {"srnet": 7},
                        "srnet": {"complexity": 7, "generations": 3}},
            "timings": {"load": 0.1, "train": 0.2, "explain": {"srnet": 1.0}, "explain_total": 1.1, "total": 1.5},
            "formulas": {"srnet": "x0**2"}}


def test_a_finished_batch_whose_last_run_was_killed_after_its_last_result_stops_saying_rerun(tmp_path, no_cluster):
    """A run killed (or Ctrl-C'd) after its last result was written, while its cluster closed, never closes its
    manifest record.  Rerunning the same command finds nothing to do and records nothing (runner.py
    _run_locked: `if not plan.todo: store.open_batch(manifest, None)`), so srnet report keeps saying
    'the last run ... did not finish ...: rerun the same srnet bench command to finish the batch' forever,
    although every job has its result and the advice can never take effect."""
    from srnet.bench.runner import run_suite

    suite = resolve_suite("nguyen:nguyen-1,nguyen-2", settings=SETTINGS)
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(SETTINGS), {"started_at": "2026-01-01T00:00:00.000+00:00",
                                                   "suite": suite.name, "jobs": len(suite.jobs)})
    for job in suite.jobs:  # every result written; then the process was killed before close_batch
        store.write(payload(job))

    outcome = run_suite(suite, tmp_path, progress=False, log=lambda line: None)  # "the same command again"
    assert outcome.plan.todo == [] and len(outcome.plan.done) == 2

    report = write_report(tmp_path, plots=False)
    stale = [line for line in report.headline if "rerun the same srnet bench command" in line]
    assert stale == [], f"a complete batch still told to rerun after a rerun that had nothing to do: {stale}"


def _pandas_floor() -> tuple[int, ...]:
    text = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    match = re.search(r'"pandas>=([0-9.]+)', text)
    return tuple(int(p) for p in match.group(1).split(".")) if match else (0,)


def test_report_works_with_the_oldest_pandas_the_package_accepts(tmp_path, monkeypatch):
    """pyproject.toml accepts pandas>=2.0, but report.py (headline, and the fidelity plot) calls
    ``SeriesGroupBy.mean(skipna=False)``, a keyword pandas added to groupby reductions only in 3.0: with pandas
    2.2.3 installed, ``srnet report DIR`` of any folder with a result is a traceback,
    ``TypeError: GroupBy.mean() got an unexpected keyword argument 'skipna'`` (reproduced with pandas 2.2.3).
    Here pandas 2.x's signature is emulated on the installed pandas."""
    if _pandas_floor() >= (3,):
        return  # the declared floor now has the keyword: nothing to emulate
    from pandas.core.groupby.generic import SeriesGroupBy

    original = SeriesGroupBy.mean

    def pandas2_mean(self, numeric_only=False, engine=None, engine_kwargs=None):  # pandas 2.2's signature
        return original(self, numeric_only=numeric_only, engine=engine, engine_kwargs=engine_kwargs)

    monkeypatch.setattr(SeriesGroupBy, "mean", pandas2_mean)
    suite = resolve_suite("nguyen:nguyen-1,nguyen-2", settings=SETTINGS)
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(SETTINGS), None)
    for job in suite.jobs:
        store.write(payload(job))
    report = write_report(tmp_path, plots=False)
    assert report.headline[0].startswith("srnet: 2 of 2 regression datasets")


def test_a_sealed_result_whose_job_is_another_than_its_id_is_corrupt(tmp_path):
    """check_result checks that the payload's job id is the file's name, but not that the id is the one of the
    payload's own dataset, method and seed.  A sealed file named (and with id) nguyen-1 whose job is nguyen-2
    passes: the resume skips nguyen-1 as done, and the report counts nguyen-2 seed 0 twice and nguyen-1 not at
    all ('0 of 1 regression datasets' for a batch of 2), with nothing listed as not counted."""
    one, two = resolve_suite("nguyen:nguyen-1,nguyen-2", settings=SETTINGS).jobs
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(SETTINGS), None)
    store.write(payload(two))
    stray = payload(two)
    stray["job"]["id"] = one.job_id  # another writer's file: its id says nguyen-1, its job is nguyen-2
    path = store.write(stray)
    with pytest.raises(CorruptResult):
        read_result(path)


def _pmlb_suite(*entries, settings=SETTINGS):
    """A pmlb: suite of (name, task) built by hand (no PMLB cache needed: nothing is run)."""
    from srnet.bench.suites import JobSpec, Suite

    jobs = [JobSpec(name, "srnet", 0, "pmlb", name, task, settings) for name, task in entries]
    return Suite("pmlb:" + ",".join(name for name, _ in entries), jobs)


def _classification(job):
    """:func:`payload` for a classification job: agreement on the test rows, no R^2."""
    document = payload(job)
    domains = {d: {"rmse": 0.1, "r2": 0.5, "agreement": 0.97, "rmse_around": 0.1, "r2_around": 0.5,
                   "agreement_around": 0.97} for d in ("train", "test")}
    document["metrics"]["explainers"]["srnet"] = domains
    document["metrics"]["srnet"].update(agreement_train=0.97, agreement_test=0.97)
    return document


def test_damaged_results_of_a_mixed_suite_keep_their_own_task(tmp_path, no_cluster):
    """pmlb:iris,192_vineyard,haberman with iris's and haberman's results damaged: the report counted them as
    regression ("0 of 3 regression datasets"), "the batch's one task" guessed from the one readable result.
    Each job's task is recorded when the batch plans it, and read from there."""
    import pandas as pd

    from srnet.bench.runner import run_suite

    suite = _pmlb_suite(("iris", "classification"), ("192_vineyard", "regression"), ("haberman", "classification"))
    store = ResultStore(tmp_path)
    for job in suite.jobs:
        store.write(_classification(job) if job.task == "classification" else payload(job))
    run_suite(suite, tmp_path, progress=False, log=lambda line: None)  # all done: it records the planned jobs
    assert store.read_manifest()["jobs"]["iris__srnet__seed0"] == {
        "dataset": "iris", "method": "srnet", "seed": 0, "kind": "pmlb", "task": "classification"}
    store.path("iris__srnet__seed0").write_text("garbage")
    path = store.path("haberman__srnet__seed0")
    path.write_text(path.read_text()[:500])
    report = write_report(tmp_path, plots=False)
    assert report.headline == [
        "srnet: 0 of 2 classification datasets with SRNet test agreement >= 0.95 (mean over seeds; 2 counted as "
        "not reached: a seed of each failed or was not counted)",
        "srnet: 1 of 1 regression datasets with SRNet interpolation R^2 >= 0.99 (mean over seeds)"]
    frame = pd.read_csv(tmp_path / "summary.csv")
    assert dict(zip(frame["dataset"], frame["task"])) == {"192_vineyard": "regression", "haberman": "classification",
                                                          "iris": "classification"}
    # a manifest of an older srnet, without the planned jobs: their task is unknown, and said so (not guessed)
    manifest = store.read_manifest()
    del manifest["jobs"]
    store.manifest_path.write_text(__import__("json").dumps(manifest))
    report = write_report(tmp_path, plots=False)
    assert report.headline == [
        "srnet: 1 of 1 regression datasets with SRNet interpolation R^2 >= 0.99 (mean over seeds)",
        "2 dataset(s) with no counted result, in no count above: haberman, iris (see the files not counted)"]


def test_a_job_an_interrupted_run_left_undone_stays_in_the_report_after_a_smaller_rerun(tmp_path, no_cluster):
    """pmlb:iris,haberman interrupted before any result, then pmlb:haberman run to the end: the report said
    "1 of 1 classification datasets" and nothing of iris (only the last run's unfinished count was read, and
    the manifest named no job)."""
    from srnet.bench.runner import run_suite

    both = _pmlb_suite(("iris", "classification"), ("haberman", "classification"))
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(SETTINGS), {"started_at": "t0"}, both.jobs)
    store.close_batch("t0", {"ok": 0, "failed": 0, "unfinished": 2, "wall_seconds": 9.0})
    haberman = _pmlb_suite(("haberman", "classification"))
    store.write(_classification(haberman.jobs[0]))  # what the second run wrote; then it finds nothing to do
    run_suite(haberman, tmp_path, progress=False, log=lambda line: None)
    report = write_report(tmp_path, plots=False)
    assert report.headline[1:] == [
        "1 planned job with no result yet (interrupted, killed or lost to the cluster), in no count above: iris "
        "(srnet, seed 0); rerun srnet bench on them to finish the batch"]
    assert "- `iris__srnet__seed0`: iris, srnet, seed 0, classification" in (tmp_path / "summary.md").read_text()
    store.write(_classification(both.jobs[0]))  # finished: nothing more to say
    assert len(write_report(tmp_path, plots=False).headline) == 1
