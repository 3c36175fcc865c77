"""``srnet report``: one row per job, corrupt files listed and not counted, the plots."""

import json
import os

import numpy as np
import pandas as pd
import pytest

from srnet.bench.report import error_line, write_report
from srnet.bench.store import ResultStore
from srnet.bench.suites import BatchSettings, JobSpec, resolve_suite


def fake_payload(job, agreement, status="ok"):
    domains = ("train", "test") if job.task == "classification" else ("interpolation", "extrapolation")
    metric = {"rmse": 0.1, "r2": 0.9, "agreement": agreement, "rmse_around": 0.2, "r2_around": 0.8,
              "agreement_around": agreement}
    payload = {"job": {**job.identity(), "kind": job.kind, "source": job.source, "task": job.task},
               "status": status, "settings": job.settings.to_dict(), "timings": {"total": 3.0}}
    if status == "failed":
        payload["error"] = {"type": "ValueError", "message": "bad table\nmore", "traceback": "..."}
        return payload
    payload.update(
        data={"rows": 100, "features": 4, "classes": 2, "train_rows": 75, "test_rows": 25},
        network={"trained": True, "train_accuracy": 0.9, "test_accuracy": 0.8},
        metrics={"explainers": {"srnet": {d: metric for d in domains}, "maple": {d: metric for d in domains}},
                 "size": {"srnet": 12, "maple": 10},
                 "srnet": {"fitness": 0.01, "output_r2": 0.9, "agreement_train": agreement,
                           "agreement_test": agreement, "complexity": 12, "generations": 5}},
        formulas={"srnet": ["x0 + 1", "x1"]},
        timings={"load": 0.1, "train": 1.0, "explain": {"srnet": 1.5, "maple": 0.3}, "explain_total": 1.8,
                 "total": 3.0})
    return payload


@pytest.fixture
def folder(tmp_path, pmlb_cache):
    jobs = resolve_suite("pmlb:iris,car,breast", seeds=(0, 1), settings=BatchSettings(),
                         pmlb_cache=pmlb_cache).jobs
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(BatchSettings()), {"run": 1})
    for k, job in enumerate(jobs[:-2]):
        store.write(fake_payload(job, agreement=0.85 + 0.05 * k))
    store.write(fake_payload(jobs[-2], 0, status="failed"))
    store.path(jobs[-1].job_id).write_text('{"schema": "srnet.bench.result/1"')  # truncated
    return tmp_path


def test_report_tables_and_plots(folder):
    report = write_report(folder)
    assert [path.name for path, _ in report.corrupt] == ["breast__srnet__seed1.json"]
    frame = pd.read_csv(folder / "summary.csv")
    # the corrupt file's seed is a row "not counted": missing from its dataset's row and headline, as a failed one
    assert len(frame) == 6 and frame.loc[frame["status"] == "not counted", ["dataset", "seed"]].values.tolist() == [
        ["breast", 1]]
    assert {"dataset", "method", "seed", "status", "srnet_test_agreement", "maple_test_agreement",
            "srnet_agreement_test_all", "total_seconds", "srnet_formula"} <= set(frame.columns)
    assert frame["status"].tolist().count("failed") == 1
    assert frame.loc[frame["status"] == "failed", "error_message"].item() == "bad table"
    markdown = (folder / "summary.md").read_text()
    assert "| car | srnet | 2/2 | 97.5 | 97.5 | 80.0 |" in markdown and "5 results: 4 ok, 1 failed;" in markdown and "| breast | srnet | 0/2 |" in markdown
    assert "## Failed jobs" in markdown and "breast__srnet__seed1.json" in markdown
    assert "agreement of the formula's class with the network's class (not accuracy)" in markdown
    # iris 0.85/0.90, car 0.95/1.00 (means 0.875 and 0.975), breast: failed, so not reached (it was left out
    # of the count: "1 of 2")
    assert report.headline == ["srnet: 1 of 3 classification datasets with SRNet test agreement >= 0.95 "
                               "(mean over seeds; 1 counted as not reached: a seed of it failed or was not counted)"]
    # beside MAPLE's agreement on compare's sample of the test rows, SRNet's on the same rows
    assert "| SRNet test % | net test acc % | SRNet sample % | maple test % |" in markdown
    names = {path.name for path in report.written}
    assert {"fidelity_per_dataset.png", "srnet_vs_maple.png", "time_per_job.png",
            "complexity_vs_fidelity.png"} <= names
    assert all((folder / name).stat().st_size > 1000 for name in names)
    write_report(folder, plots=False)  # --no-plots: the earlier report's plots no longer stand beside its tables
    assert not any((folder / name).exists() for name in names if name.endswith(".png"))


def test_a_failure_without_a_message_is_listed_by_its_type(tmp_path):
    job = resolve_suite("nguyen:nguyen-1", settings=BatchSettings()).jobs[0]
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(BatchSettings()), {"run": 1})
    payload = fake_payload(job, 0, status="failed")
    payload["error"].update(type="AssertionError", message="")  # a bare ``assert``
    store.write(payload)
    write_report(tmp_path, plots=False)
    assert pd.read_csv(tmp_path / "summary.csv")["error_message"].item() == "AssertionError"
    assert "| AssertionError |" in (tmp_path / "summary.md").read_text()
    assert error_line({"type": "ValueError", "message": "\n  \nthe table has no rows\nmore"}) == "the table has no rows"


def test_report_of_a_folder_whose_manifest_has_no_settings_dict(tmp_path):
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(BatchSettings()), {"run": 1})
    store.manifest_path.write_text('{"schema": "srnet.bench.batch/1", "settings": "fast", "runs": []}')
    report = write_report(tmp_path, plots=False)  # it stopped between summary.csv and summary.md
    assert report.headline[-1].startswith("note: the batch's settings and runs are not shown: ")
    assert "is not an srnet batch manifest" in report.headline[-1] and "--out" not in report.headline[-1]
    assert (tmp_path / "summary.csv").exists() and (tmp_path / "summary.md").exists()
    store.manifest_path.write_text("{truncated")
    assert "is unreadable" in write_report(tmp_path, plots=False).headline[-1]


def test_a_manifest_run_without_its_figures_is_listed_as_not_finished(tmp_path):
    """A killed run (never closed: no figures) was left out of summary.md's runs, while its results counted."""
    job = resolve_suite("nguyen:nguyen-1", settings=BatchSettings()).jobs[0]
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(BatchSettings()), {"run": 1})
    store.write(fake_payload(job, 0))
    manifest = json.loads(store.manifest_path.read_text())
    manifest["runs"] = [{"wall_seconds": 3.0}, {"started_at": "then", "ok": 1, "failed": 0, "wall_seconds": 4.0},
                        {"started_at": "now", "ok": 1, "failed": 0, "wall_seconds": None}]  # a TypeError
    store.manifest_path.write_text(json.dumps(manifest))  # the first run was hand-edited: KeyError before
    write_report(tmp_path, plots=False)
    summary = (tmp_path / "summary.md").read_text()
    assert "- run started then: 1 ok, 0 failed in 4 s wall\n- run started now: did not finish (killed, or still " \
           "running)\n" in summary and summary.count("- run started") == 2  # (the run with no start: not a run)


def test_report_of_a_folder_without_results(tmp_path):
    with pytest.raises(FileNotFoundError, match="no results/ folder"):
        write_report(tmp_path)
    with pytest.raises(FileNotFoundError, match="^no such folder: '.*nowhere'$"):
        write_report(tmp_path / "nowhere")
    (tmp_path / "afile").write_text("")
    with pytest.raises(NotADirectoryError, match="^'.*afile' is a file, not a folder"):  # was "no such folder"
        write_report(tmp_path / "afile")
    assert not (tmp_path / "nowhere").exists()  # and none was made


def test_summary_cells_keep_the_digits_a_headline_threshold_needs():
    from srnet.bench.report import _cell

    assert _cell(0.9896, "score") == "0.9896" and _cell(0.99, "score") == "0.9900"  # 0.9896 read "0.99"
    # rounded down, as the headline counts: 0.98996 is not ">= 0.99", 94.96 % is not ">= 95 %"
    assert _cell(0.98996, "score") == "0.9899" and _cell(0.9496, "percent") == "94.9"
    assert _cell(-0.25, "score") == "-0.2500" and _cell(-65.3, "score") == "-65.3"
    assert _cell(0.5, "percent") == "50.0" and _cell(None) == ""
    assert _cell(1.0) == "1" and _cell(2.5) == "2.5"  # seconds: no R^2 digits
    # node counts and seconds whole from 100 (a mean of 1180 nodes read 1.18e+03), powers of ten from a million
    assert _cell(1180.0) == "1180" and _cell(123.4) == "123" and _cell(12345.6) == "12346" and _cell(99.4) == "99.4"
    assert _cell(-2.5e7, "score") == "-2.50e+07"
    # floating point below the value it stands for: 0.0029 * 1e4 is 28.999999999999996, the mean of 0.95s 0.9499...
    assert _cell(0.0029, "score") == "0.0029" and _cell(-0.81, "score") == "-0.8100"
    assert _cell(sum([0.95] * 3) / 3, "percent") == "95.0"


def test_the_settings_line_and_node_counts_read_as_a_person_writes_them(tmp_path):
    """summary.md printed Python's reprs (explainers=['maple'], generations=None) and a mean of 1180 nodes as
    1.18e+03."""
    settings = BatchSettings(explainers=("maple",))
    job = resolve_suite("nguyen:nguyen-1", settings=settings).jobs[0]
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(settings), {"run": 1}, [job])
    payload = fake_payload(job, 0)
    payload["metrics"]["srnet"]["complexity"] = 1180
    store.write(payload)
    write_report(tmp_path, plots=False)
    markdown = (tmp_path / "summary.md").read_text()
    assert "Settings: seconds=10.0, generations=unset, explainers=[maple], hidden=[32, 32], activation='sigmoid', " \
           "epochs=unset, " in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("| nguyen-1 |"))
    assert row.endswith("| 1180 | 3 |")


def test_summary_marks_a_mean_that_leaves_out_a_seed_without_a_figure():
    import pandas as pd

    from srnet.bench.report import table

    rows = pd.DataFrame({"dataset": ["a", "a", "b", "b"], "method": ["m"] * 4, "status": ["ok"] * 4,
                         "srnet_interpolation_r2": [0.995, None, 0.995, 0.996],
                         "srnet_extrapolation_r2": [0.9, 0.9, 0.9, 0.9], "network_test_r2": [1.0] * 4,
                         "srnet_complexity": [10] * 4, "total_seconds": [1.0] * 4})
    lines = table(rows, "regression")
    row_a = next(line for line in lines if line.startswith("| a |"))
    row_b = next(line for line in lines if line.startswith("| b |"))
    assert "| 0.9950* |" in row_a and "*" not in row_b
    note = next(line for line in lines if line.startswith("`*`: the mean of the seeds with a finite figure"))
    assert "`SRNet R2 interp` the headline counts that dataset as not reached" in note
    # a gap in a column the headline does not count: the note does not say it does
    rows["srnet_interpolation_r2"], rows.loc[1, "srnet_extrapolation_r2"] = [0.995, 0.995, 0.995, 0.996], None
    lines = table(rows, "regression")
    assert "| 0.9000* |" in next(line for line in lines if line.startswith("| a |"))
    note = next(line for line in lines if line.startswith("`*`: the mean of the seeds with a finite figure"))
    assert "headline" not in note
    # no seed with a figure: the cell says so (it was blank, without a star)
    rows.loc[[0, 1], "srnet_extrapolation_r2"] = None
    assert "| none* |" in next(line for line in table(rows, "regression") if line.startswith("| a |"))


def test_a_result_of_other_settings_copied_in_is_listed_not_counted(folder, pmlb_cache):
    """srnet report counted a result made with other settings under the batch's settings line."""
    store = ResultStore(folder)
    job = resolve_suite("pmlb:iris", seeds=(2,), settings=BatchSettings(generations=5, seconds=None),
                        pmlb_cache=pmlb_cache).jobs[0]
    store.write(fake_payload(job, agreement=0.2))
    report = write_report(folder)
    listed = dict((path.name, why) for path, why in report.corrupt)
    assert "--generations: file 5, batch unset" in listed["iris__srnet__seed2.json"]
    frame = pd.read_csv(folder / "summary.csv")  # not counted: a seed missing from its row, not a figure in it
    uncounted = frame.loc[frame["status"] == "not counted", ["dataset", "seed"]].values.tolist()
    assert len(frame) == 7 and sorted(uncounted) == [["breast", 1], ["iris", 2]]
    assert frame.loc[frame["dataset"] == "iris", "srnet_agreement_test_all"].notna().sum() == 2


def test_a_dataset_with_a_failed_seed_is_starred_as_the_headline_counts_it(folder, pmlb_cache, monkeypatch):
    """car: seed 0 ok at 95 %, seed 1 failed. The headline counts car as not reached; the table showed
    95.0 unmarked beside it (only ok/jobs 1/2 hinted)."""
    job = next(j for j in resolve_suite("pmlb:car", seeds=(1,), settings=BatchSettings(),
                                        pmlb_cache=pmlb_cache).jobs)
    import srnet.plots

    ResultStore(folder).write(fake_payload(job, 0, status="failed"))
    drawn = {}

    def keep(fig, path):
        drawn[path.name] = {line.get_label(): line.get_xydata() for ax in fig.axes for line in ax.get_lines()}
        srnet.plots.plt.close(fig)
        return path

    monkeypatch.setattr(srnet.plots, "save_figure", keep)
    report = write_report(folder)
    markdown = (folder / "summary.md").read_text()
    assert "| car | srnet | 1/2 | 95.0* |" in markdown and "or a job that failed" in markdown
    assert report.headline[0].startswith("srnet: 0 of 3")
    # the plot drew car's one ok seed as an ordinary mean of 0.95, above the target line, and left breast out
    lines = drawn["fidelity_per_dataset.png"]
    missing = lines["srnet: a seed without a figure (drawn at 0)"]
    assert len(missing) == 2 and "srnet" in lines and len(lines["srnet"]) == 3


def test_a_job_without_a_figure_is_drawn_and_labelled_not_dropped(folder, pmlb_cache, monkeypatch):
    """complexity_vs_fidelity.png left out a job whose figure was null (a formula that overflowed)."""
    import srnet.plots

    drawn = {}

    def keep(fig, path):
        drawn[path.name] = [line.get_label() for ax in fig.axes for line in ax.get_lines()]
        srnet.plots.plt.close(fig)
        return path

    monkeypatch.setattr(srnet.plots, "save_figure", keep)
    job = resolve_suite("pmlb:iris", seeds=(0,), settings=BatchSettings(), pmlb_cache=pmlb_cache).jobs[0]
    ResultStore(folder).write(fake_payload(job, agreement=None))
    write_report(folder)
    assert "srnet: no figure (drawn at 0)" in drawn["complexity_vs_fidelity.png"]
    # the per-dataset plot averaged the other seed alone (the table stars iris, the headline does not count it)
    assert "srnet: a seed without a figure (drawn at 0)" in drawn["fidelity_per_dataset.png"]


def test_seeds_at_exactly_the_target_reach_it_and_fidelity_is_the_headlines(tmp_path, pmlb_cache):
    """Three seeds at 19/20 averaged to 0.9499999999999998: "0 of 1 ... >= 0.95" and 94.9 in the table; and
    summary.csv's fidelity was compare's sampled agreement, not the headline's (every test row)."""
    jobs = resolve_suite("pmlb:iris", seeds=(0, 1, 2), settings=BatchSettings(), pmlb_cache=pmlb_cache).jobs
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(BatchSettings()), {"run": 1})
    for job in jobs:
        payload = fake_payload(job, agreement=0.5)  # compare's sample
        payload["metrics"]["srnet"]["agreement_test"] = 19 / 20  # every test row
        store.write(payload)
    report = write_report(tmp_path, plots=False)
    assert report.headline[0].startswith("srnet: 1 of 1 classification datasets")
    assert "| iris | srnet | 3/3 |" in (tmp_path / "summary.md").read_text()
    assert "95.0" in next(line for line in (tmp_path / "summary.md").read_text().splitlines() if "| iris |" in line)
    assert list(pd.read_csv(tmp_path / "summary.csv")["fidelity"]) == [0.95] * 3


def test_a_report_whose_every_fidelity_is_null_still_draws(tmp_path, pmlb_cache):
    """srnet_vs_maple.png failed on NaN axis limits (every SRNet and MAPLE figure null: R2 -inf), and the plots
    after it were never written."""
    job = resolve_suite("pmlb:iris", seeds=(0,), settings=BatchSettings(), pmlb_cache=pmlb_cache).jobs[0]
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(BatchSettings()), {"run": 1})
    store.write(fake_payload(job, agreement=None))
    report = write_report(tmp_path)
    assert {"srnet_vs_maple.png", "time_per_job.png", "complexity_vs_fidelity.png"} <= {p.name for p in report.written}


def test_without_a_manifest_results_of_other_settings_are_listed_not_averaged(folder, pmlb_cache):
    """Without batch.json every valid result was averaged as seeds of one batch, whatever its settings."""
    store = ResultStore(folder)
    store.manifest_path.unlink()
    job = resolve_suite("pmlb:iris", seeds=(2,), settings=BatchSettings(generations=5, seconds=None),
                        pmlb_cache=pmlb_cache).jobs[0]
    store.write(fake_payload(job, agreement=0.2))
    report = write_report(folder, plots=False)
    listed = dict((path.name, why) for path, why in report.corrupt)
    assert "other settings than most of the folder's results' (--generations: file 5, most unset" in \
        listed["iris__srnet__seed2.json"]
    frame = pd.read_csv(folder / "summary.csv")
    assert sorted(frame.loc[frame["status"] == "not counted", "dataset"]) == ["breast", "iris"]


def test_a_binary_manifest_is_named_unreadable(tmp_path):
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(BatchSettings()), {"run": 1})
    store.manifest_path.write_bytes(b"\xff\xfe")
    assert "batch.json' is unreadable" in write_report(tmp_path, plots=False).headline[-1]
    with pytest.raises(ValueError, match="batch.json' is unreadable"):
        store.check_batch(BatchSettings())


def test_the_headline_says_none_reached_when_every_job_failed(tmp_path):
    jobs = resolve_suite("nguyen:nguyen-1,nguyen-2", settings=BatchSettings()).jobs
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(BatchSettings()), {"run": 1})
    for job in jobs:
        store.write(fake_payload(job, 0, status="failed"))
    report = write_report(tmp_path, plots=False)
    assert report.headline == ["srnet: 0 of 2 regression datasets with SRNet interpolation R^2 >= 0.99 (mean over "
                               "seeds; 2 counted as not reached: a seed of each failed or was not counted)"]


def test_a_network_figure_without_held_out_rows_is_not_applicable_not_a_failure(tmp_path):
    """A reference network (not trained by the bench) has no held-out rows: its test R2 read "none*", with a
    footnote blaming an overflow or a failed job that never happened."""
    job = resolve_suite("nguyen:nguyen-1", settings=BatchSettings()).jobs[0]
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(BatchSettings()), {"run": 1})
    payload = fake_payload(job, 0.0)
    payload["data"]["test_rows"] = 0
    store.write(payload)
    write_report(tmp_path, plots=False)
    markdown = (tmp_path / "summary.md").read_text()
    row = next(line for line in markdown.splitlines() if line.startswith("| nguyen-1 |"))
    assert "| n/a |" in row and "*" not in row and "`n/a`: the network has no held-out rows" in markdown
    assert "or a job that failed" not in markdown


def test_the_report_of_an_unfinished_batch_says_so(tmp_path):
    """A batch cut short (Ctrl-C, a lost cluster, or killed) read as complete: "1 ok, 0 failed", nothing more."""
    jobs = resolve_suite("nguyen:nguyen-1,nguyen-2,nguyen-3", settings=BatchSettings()).jobs
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(BatchSettings()), {"started_at": "t0"})
    store.write(fake_payload(jobs[0], 0))
    report = write_report(tmp_path, plots=False)  # killed: its run never closed
    assert report.headline[-1] == ("the last run (started t0) did not finish (killed, or stopped): rerun the "
                                   "same srnet bench command to finish the batch")
    with store.lock():  # while a bench holds the folder, a rerun is refused: the report said to rerun
        assert write_report(tmp_path, plots=False).headline[-1] == (
            f"the last run (started t0) is still running (pid {os.getpid()}): this report shows what it has "
            f"finished so far")
    store.close_batch("t0", {"ok": 1, "failed": 0, "unfinished": 2, "wall_seconds": 29.0})
    report = write_report(tmp_path, plots=False)
    assert report.headline[-1] == ("2 job(s) of the last run have no result yet (interrupted, or lost to the "
                                   "cluster): rerun the same srnet bench command to finish the batch")
    assert "- run started t0: 1 ok, 0 failed, 2 unfinished in 29 s wall" in (tmp_path / "summary.md").read_text()
    store.open_batch(store.check_batch(BatchSettings()), {"started_at": "t1"})  # the rerun that finished them
    store.close_batch("t1", {"ok": 2, "failed": 0, "unfinished": 0, "wall_seconds": 50.0})
    assert len(write_report(tmp_path, plots=False).headline) == 1


def test_a_dataset_whose_only_result_is_corrupt_stays_in_the_count(tmp_path):
    """Its row was made only beside a counted seed of the same dataset: "1 of 2" for three datasets.  Its task is
    its job's, as the batch planned it."""
    jobs = resolve_suite("nguyen:nguyen-1,nguyen-2,nguyen-3", settings=BatchSettings()).jobs
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(BatchSettings()), {"run": 1}, jobs)
    for job in jobs:
        store.write(fake_payload(job, 0))
    path = store.path(jobs[2].job_id)
    path.write_text(path.read_text()[:100])  # truncated
    report = write_report(tmp_path, plots=False)
    assert report.headline[0].startswith("srnet: 0 of 3 regression datasets") and "1 counted as not reached: a seed of it failed" in \
        report.headline[0]


def test_a_sealed_result_of_another_shape_is_listed_not_a_traceback(tmp_path):
    """A hand edit resealed (or another writer's file): 'error' a string, or a job without its dataset, was an
    AttributeError / KeyError from srnet report."""
    jobs = resolve_suite("nguyen:nguyen-1,nguyen-2,nguyen-3", settings=BatchSettings()).jobs
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(BatchSettings()), {"run": 1})
    store.write(fake_payload(jobs[0], 0))
    failed = fake_payload(jobs[1], 0, status="failed")
    failed["error"] = "boom"
    store.write(failed)
    nameless = fake_payload(jobs[2], 0)
    del nameless["job"]["dataset"]
    store.write(nameless)
    report = write_report(tmp_path, plots=False)
    assert sorted((path.name, why) for path, why in report.corrupt) == [
        ("nguyen-2__srnet__seed0.json", "'error' is a str, not an object"),
        ("nguyen-3__srnet__seed0.json", "job without a dataset, method and seed")]


def test_regression_fidelity_is_drawn_on_a_scale_that_tells_0_99_from_0_9999(tmp_path, monkeypatch):
    """On a linear axis from -1 to 1, R^2 of 0.99 and 0.9999 were one point."""
    import matplotlib.pyplot as plt

    import srnet.plots as plots

    axes = []

    def keep(fig, path):
        axes.extend((path.name, ax) for ax in fig.axes)
        return path

    monkeypatch.setattr(plots, "save_figure", keep)
    jobs = resolve_suite("nguyen:nguyen-1,nguyen-2", settings=BatchSettings()).jobs
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(BatchSettings()), {"run": 1})
    for job in jobs:
        store.write(fake_payload(job, 0))
    write_report(tmp_path)
    drawn = [ax for name, ax in axes if name in ("fidelity_per_dataset.png", "complexity_vs_fidelity.png")]
    assert len(drawn) == 2
    for ax in drawn:
        low, high = (ax.transData.transform([(0, v)])[0][1] for v in (-1.0, 1.0))
        near, nearer = (ax.transData.transform([(0, v)])[0][1] for v in (0.99, 0.9999))
        assert ax.get_yscale() == "function" and (nearer - near) > 0.3 * (high - low)
    plt.close("all")


def test_the_headline_names_a_network_that_answers_one_class():
    """parity5's network (50 % accurate) answered one class: SRNet's 100 % agreement with it counted the dataset
    as explained, without a word."""
    import pandas as pd

    from srnet.bench.report import headline

    frame = pd.DataFrame({"dataset": ["parity5", "iris", "old"], "method": ["srnet"] * 3, "status": ["ok"] * 3,
                          "task": ["classification"] * 3, "srnet_agreement_test_all": [1.0, 0.97, 0.96],
                          "network_test_classes_answered": [1, 3, None]})  # old: written before the figure
    assert headline(frame) == [
        "srnet: 2 of 2 classification datasets with SRNet test agreement >= 0.95 (mean over seeds; 1 left out, "
        "named below)",
        "1 classification dataset(s) whose network answers one class on every test row (its explanation is of a "
        "constant; agreement there says nothing, and the count above leaves it out): parity5"]
    assert headline(frame.drop(columns="network_test_classes_answered")) == [
        "srnet: 3 of 3 classification datasets with SRNet test agreement >= 0.95 (mean over seeds)"]


def test_the_headline_names_datasets_whose_rows_with_missing_values_were_left_out():
    import pandas as pd

    from srnet.bench.report import headline

    frame = pd.DataFrame({"dataset": ["horse", "horse", "iris"], "method": ["srnet"] * 3, "status": ["ok"] * 3,
                          "task": ["classification"] * 3, "srnet_agreement_test_all": [0.9, 0.9, 0.97],
                          "rows_dropped_missing": [12, 12, 0]})
    assert headline(frame)[-1] == "1 dataset(s) with rows of missing values left out: horse (12 rows)"
    assert len(headline(frame.assign(rows_dropped_missing=0))) == 1


def test_a_sealed_result_with_text_for_a_figure_is_listed_not_counted(tmp_path):
    """A checksummed result with network.test_r2 = "x" ended srnet report in pandas' TypeError."""
    job = resolve_suite("nguyen:nguyen-1", settings=BatchSettings()).jobs[0]
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(BatchSettings()), {"run": 1})
    payload = fake_payload(job, 0.99)
    payload["network"]["test_r2"] = "x"
    store.write(payload)
    report = write_report(tmp_path, plots=False)
    assert [why for _, why in report.corrupt] == ["malformed result (TypeError: network_test_r2 is 'x', not a number)"]


def test_plots_keep_edge_points_and_labels_inside_and_a_panel_per_task(tmp_path, monkeypatch):
    """srnet_vs_maple.png drew a classification's agreement and a regression's R^2 on one pair of axes; a point
    at R^2 1 or an "x" at the floor -1 sat on the frame, half cut off; complexity_vs_fidelity.png's label of the
    largest formula ran past the frame."""
    import matplotlib.pyplot as plt

    import srnet.plots as plots

    figures = {}

    def keep(fig, path):
        figures[path.name] = fig
        return path

    monkeypatch.setattr(plots, "save_figure", keep)
    settings = BatchSettings(explainers=("maple",))
    jobs = [*resolve_suite("nguyen:nguyen-1,nguyen-2", settings=settings).jobs,
            JobSpec("a_long_dataset_name", "srnet", 0, "pmlb", "x", "classification", settings)]
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(settings), {"run": 1}, jobs)
    for k, job in enumerate(jobs):
        payload = fake_payload(job, 1.0)
        payload["metrics"]["srnet"]["complexity"] = (5, 40, 1180)[k]
        if k == 0:  # a regression formula without a figure: an "x" at the floor, -1
            payload["metrics"]["explainers"]["srnet"]["interpolation"] = {"r2": None}
        store.write(payload)
    write_report(tmp_path)
    maple = figures["srnet_vs_maple.png"].axes
    assert [ax.get_title().splitlines()[0] for ax in maple] == ["SRNet vs MAPLE (classification)",
                                                                "SRNet vs MAPLE (regression)"]
    for name in ("srnet_vs_maple.png", "fidelity_per_dataset.png", "complexity_vs_fidelity.png"):
        for ax in figures[name].axes:  # every point (1, or an "x" at the floor) inside the frame, not on it
            (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
            for line in ax.get_lines():
                if line.get_linestyle() == "None":
                    for x, y in line.get_xydata()[np.isfinite(line.get_xydata()).all(axis=1)]:  # (NaN: not drawn)
                        assert x0 < x < x1 and y0 < y < y1, (name, ax.get_title(), line.get_label(), x, y)
    for name in ("complexity_vs_fidelity.png", "srnet_vs_maple.png"):  # the points' names inside the frame
        fig = figures[name]
        fig.canvas.draw()
        for ax in fig.axes:
            frame = ax.get_window_extent()
            for label in ax.texts:
                extent = label.get_window_extent()
                assert frame.x0 <= extent.x0 and extent.x1 <= frame.x1, (name, label.get_text())
    plt.close("all")


def test_a_worker_s_warm_up_is_timed_apart_from_its_first_job(tmp_path, pmlb_cache):
    """A worker's first job compiled the kernels inside its explanation (iris at --seconds 2 read 291 s, 8 of
    them explaining): the job's own seconds leave the warm-up out, in the table too; an older result without
    a warm-up keeps its total."""
    from srnet.bench.report import summary_row, table

    job = resolve_suite("pmlb:iris", seeds=(0,), settings=BatchSettings(), pmlb_cache=pmlb_cache).jobs[0]
    first, older = fake_payload(job, 0.9), fake_payload(job, 0.9)
    first["timings"].update(warm_up=250.0, total=260.0)
    row = summary_row(first)
    assert (row["warm_up_seconds"], row["total_seconds"], row["job_seconds"]) == (250.0, 260.0, 10.0)
    assert summary_row(older)["job_seconds"] == 3.0 and summary_row(older)["warm_up_seconds"] is None
    line = next(line for line in table(pd.DataFrame([row]), "classification") if line.startswith("| iris |"))
    assert line.endswith("| 12 | 10 |")


def test_a_report_names_the_code_versions_it_mixes(tmp_path):
    """Every commit's srnet is version 0.1.0: a batch resumed after a git pull averaged two codes' results with
    no remark.  Each result records the commit it ran (jobs.source_commit), and the report names them when they
    differ; results of an srnet outside a git checkout record none."""
    from srnet.bench.jobs import source_commit, versions

    assert versions()["srnet_commit"] == source_commit()
    jobs = resolve_suite("nguyen:nguyen-1,nguyen-2,nguyen-3", settings=BatchSettings()).jobs
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(BatchSettings()), {"started_at": "t0"}, jobs)
    store.close_batch("t0", {"ok": 3, "failed": 0, "unfinished": 0, "wall_seconds": 1.0})
    for job, commit in zip(jobs, ("aaaa", "aaaa", None)):
        store.write({**fake_payload(job, 1.0), "versions": {"srnet": "0.1.0", "srnet_commit": commit}})
    assert not any("versions of srnet's code" in line for line in write_report(tmp_path, plots=False).headline)
    store.write({**fake_payload(jobs[2], 1.0), "versions": {"srnet": "0.1.0", "srnet_commit": "bbbb+changes"}})
    assert write_report(tmp_path, plots=False).headline[-1] == (
        "the results were made by 2 versions of srnet's code (commit: results): aaaa (2), bbbb+changes (1); a "
        "resumed batch mixes them: rerun into a new --out folder to compare like with like")


def test_explainers_of_equal_figures_are_drawn_side_by_side(folder, monkeypatch):
    """srnet, lime and maple all at 1.0 on a dataset were drawn on one spot, the last series' marker hiding the
    others (a report-only review saw only maple's dot on prnn_crabs); each series now sits beside the dataset's
    tick, in a marker of its own."""
    import srnet.plots

    drawn = {}

    def keep(fig, path):
        drawn[path.name] = {line.get_label(): (line.get_xydata(), line.get_marker()) for ax in fig.axes
                            for line in ax.get_lines() if line.get_label() in ("srnet", "maple")}
        srnet.plots.plt.close(fig)
        return path

    monkeypatch.setattr(srnet.plots, "save_figure", keep)
    write_report(folder)
    (srnet_points, srnet_marker), (maple_points, maple_marker) = (drawn["fidelity_per_dataset.png"][name]
                                                                  for name in ("srnet", "maple"))
    np.testing.assert_array_equal(srnet_points[:, 1], maple_points[:, 1])  # the fake results tie everywhere
    assert np.all(maple_points[:, 0] - srnet_points[:, 0] > 0.1) and srnet_marker != maple_marker
    assert np.all(np.abs(srnet_points[:, 0] - np.round(srnet_points[:, 0])) <= 0.4)  # still at its dataset


def test_the_summary_says_what_the_formulas_read():
    """A PMLB table's formula reads its standardised columns (and gives a regression's standardised target): fed
    raw temperatures, a reviewer scored 228_elusage's formula R2 -3.47 where it scores 0.83.  summary.csv says it
    per job and summary.md under its table."""
    import pandas as pd

    from srnet.bench.report import formula_reads, table

    assert formula_reads({"features": True, "target": True, "mean": [1.0], "scale": [2.0]}).startswith(
        "standardised columns, x_j = (column j - mean_j)/sd_j over the training rows and gives the standardised "
        "target")
    assert "target" not in formula_reads({"features": True, "target": False, "mean": [1.0], "scale": [2.0]})
    assert formula_reads(False) == "the inputs as given" and formula_reads(None) is None
    rows = pd.DataFrame({"dataset": ["a", "b"], "method": ["m"] * 2, "status": ["ok"] * 2,
                         "srnet_interpolation_r2": [0.995, 0.99], "srnet_extrapolation_r2": [0.9, 0.9],
                         "network_test_r2": [1.0] * 2, "srnet_complexity": [10] * 2, "total_seconds": [1.0] * 2,
                         "srnet_formula_reads": [formula_reads({"features": True, "target": True}),
                                                 formula_reads(False)]})
    note = "SRNet's formulas (summary.csv's srnet_formula) read each PMLB table's columns standardised"
    assert any(note in line for line in table(rows, "regression"))
    rows["srnet_formula_reads"] = formula_reads(False)
    assert not any(note in line for line in table(rows, "regression"))


def test_a_report_of_a_running_batch_does_not_advise_a_rerun(tmp_path):
    """While a bench holds the folder, the report said "still running" and then "rerun srnet bench on them to
    finish the batch", which the folder's lock refuses: the jobs without a result are the running batch's."""
    jobs = resolve_suite("nguyen:nguyen-1,nguyen-2", settings=BatchSettings()).jobs
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(BatchSettings()), {"started_at": "t0"}, jobs)
    store.write(fake_payload(jobs[0], 0))
    with store.lock():
        headline = write_report(tmp_path, plots=False).headline
    assert headline[-1].endswith("; the running batch is still to write them") and "rerun" not in headline[-1]
    assert write_report(tmp_path, plots=False).headline[-1].endswith("; rerun srnet bench on them to finish the batch")


def test_a_regression_table_shows_every_explainer_beyond_the_box():
    """SRNet's extrapolation R2 (-685 on 192_vineyard) stood beside LIME's and MAPLE's inside the box only."""
    import pandas as pd

    from srnet.bench.report import table

    rows = pd.DataFrame({"dataset": ["a"], "method": ["m"], "status": ["ok"], "srnet_interpolation_r2": [0.98],
                         "srnet_extrapolation_r2": [-685.0], "network_test_r2": [0.9], "srnet_complexity": [10],
                         "total_seconds": [1.0], "lime_interpolation_r2": [0.99], "lime_extrapolation_r2": [0.986]})
    lines = table(rows, "regression")
    header = next(line for line in lines if line.startswith("| dataset |"))
    assert "| lime R2 interp | lime R2 extrap |" in header
    row = next(line for line in lines if line.startswith("| a |"))
    assert row.split(" | ")[4:8] == ["-685", "0.9000", "0.9900", "0.9860"]


def test_srnet_report_counts_the_jobs_it_counted(tmp_path, capsys):
    """It printed "7 jobs" where 6 were counted and one file was not (made with other settings)."""
    from srnet.cli import main

    jobs = resolve_suite("nguyen:nguyen-1,nguyen-2", settings=BatchSettings()).jobs
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(BatchSettings()), {"started_at": "t0"}, jobs)
    store.write(fake_payload(jobs[0], 0))
    store.path(jobs[1].job_id).write_text("{")  # a truncated file
    assert main(["report", str(tmp_path), "--no-plots"]) == 0
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("1 job counted, 1 result file not counted; wrote summary.csv, summary.md in ")


def test_summary_csv_writes_counts_as_whole_numbers(tmp_path):
    """A count with a gap (a regression's classes beside a classifier's) made pandas write it as a float
    ("3.0" classes)."""
    jobs = resolve_suite("nguyen:nguyen-1,nguyen-2", settings=BatchSettings()).jobs
    store = ResultStore(tmp_path)
    for job, classes in zip(jobs, (3, None)):
        payload = fake_payload(job, 0.0)
        payload["data"]["classes"] = classes
        store.write(payload)
    write_report(tmp_path, plots=False)
    rows = pd.read_csv(tmp_path / "summary.csv", dtype=str, keep_default_na=False)
    assert rows["classes"].tolist() == ["3", ""]


def test_a_one_class_network_is_marked_in_the_table_and_the_plot_and_an_empty_count_says_so(tmp_path, monkeypatch):
    """A batch whose one classifier answers one class: the headline said "the count above leaves it out" of a count
    it never printed, and the table's row (100.0 | 100.0) and the plot's dot at 1 read as a perfect explanation."""
    import matplotlib.pyplot as plt

    import srnet.plots as plots
    from srnet.bench.report import headline, table

    axes = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: axes.extend((path.name, ax) for ax in fig.axes) or path)
    frame = pd.DataFrame({"dataset": ["aids", "aids", "iris"], "method": ["srnet"] * 3, "status": ["ok"] * 3,
                          "seed": [0, 1, 0], "task": ["classification"] * 3, "srnet_agreement_test_all": [1.0, 1.0, 0.97],
                          "fidelity": [1.0, 1.0, 0.97], "network_test_classes_answered": [1, 2, 3]})
    only = frame[frame["dataset"] == "aids"]
    assert headline(only)[0] == "no classification dataset counted: 1 left out, named below"
    assert headline(frame)[0].startswith("srnet: 1 of 1 classification datasets")
    lines = table(frame, "classification")
    assert any(line.startswith("| aids (one class) | srnet |") for line in lines)
    assert any(line.startswith("| iris | srnet |") for line in lines)
    assert any(line.startswith("`(one class)`: the network answers one class") for line in lines)
    assert not any("(one class)" in line for line in table(frame.drop(columns="network_test_classes_answered"),
                                                            "classification"))
    from srnet.bench.report import write_plots

    write_plots(frame.assign(job_seconds=1.0, total_seconds=1.0, srnet_complexity=12), tmp_path)
    ax = next(ax for name, ax in axes if name == "fidelity_per_dataset.png")
    labels = {label.get_text(): label.get_color() for label in ax.get_xticklabels()}
    assert labels["aids (one class)"] == "tab:red" and labels["iris"] != "tab:red"
    assert "answers one class" in ax.get_title()
    plt.close("all")
