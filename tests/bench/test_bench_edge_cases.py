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
