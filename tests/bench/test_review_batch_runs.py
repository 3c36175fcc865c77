"""Batch runs as a researcher runs them (a report-only review of stop 58): a results folder that cannot be written
is refused before any job runs, a report of a folder without results/ lists its planned jobs, a PMLB name that
begins a dataset's name is answered with it."""

import os
from pathlib import Path

import pytest

from srnet.bench.report import write_report
from srnet.bench.store import ResultStore
from srnet.bench.suites import BatchSettings
from srnet.cli import main


def _unwritable_results(root: Path) -> None:
    """``root/results`` as a folder no file can be made in, for root too: a link to /proc."""
    root.mkdir()
    (root / "results").symlink_to("/proc")


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_a_results_folder_that_cannot_be_written_is_refused_before_any_job(tmp_path, capsys, no_cluster):
    """The first job trained and searched (36 s), then the batch stopped naming a temporary file, and that job's
    work was lost (every job in flight, with several workers); the store now tries results/ when it opens."""
    out = tmp_path / "out"
    _unwritable_results(out)
    with pytest.raises(ValueError, match=r"^'.*results' is not writable \(.*\): no result could be kept; make it "
                                         r"writable, or use another --out folder$"):
        ResultStore(out).check_writable()
    assert main(["bench", "nguyen:nguyen-1", "--out", str(out), "--generations", "5", "--quiet"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("srnet bench: error: ") and "is not writable" in error  # no_cluster: before the cluster
    assert len(error.strip().splitlines()) == 1


def test_a_report_of_a_batch_whose_results_folder_is_gone_lists_its_jobs(tmp_path):
    """With batch.json and no results/, the report said "not an srnet bench output"; an empty results/ listed the
    missing jobs.  Both list them now."""
    store = ResultStore(tmp_path)
    from srnet.bench.suites import resolve_suite

    jobs = resolve_suite("nguyen:nguyen-1,nguyen-2", settings=BatchSettings()).jobs
    store.open_batch(store.check_batch(BatchSettings()), {"started_at": "t0"}, jobs)
    store.close_batch("t0", {"ok": 2, "failed": 0, "unfinished": 0, "wall_seconds": 1.0})
    os.rmdir(store.results)
    report = write_report(tmp_path, plots=False)
    assert {job["dataset"] for job in report.missing} == {"nguyen-1", "nguyen-2"}
    (tmp_path / "batch.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"holds no results/ folder: not an srnet bench output"):
        write_report(tmp_path, plots=False)


def test_a_pmlb_name_that_begins_datasets_names_is_answered_with_them():
    """'wine' named none of wine_recognition, wine_quality_red and wine_quality_white (difflib's cut-off)."""
    pytest.importorskip("pmlb")
    from srnet.data import pmlb_name_hint

    assert pmlb_name_hint("wine") == "; did you mean 'wine_quality_red', 'wine_quality_white', 'wine_recognition'?"
    assert pmlb_name_hint("irsi").startswith("; did you mean 'iris'")
    assert pmlb_name_hint("zzzz") == ""



def test_other_settings_are_named_by_their_options():
    """--points 50 into a folder of 1000 read "n_points: folder 1000, now 50", a name the user never typed."""
    from srnet.bench.store import differences

    folder, now = BatchSettings().to_dict(), BatchSettings(n_points=50, max_rows=800, steps=10).to_dict()
    assert differences(folder, now) == ("--max-rows: folder 5000, now 800; --points: folder 1000, now 50; "
                                        "steps: folder 2000, now 10")
