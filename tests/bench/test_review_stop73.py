"""A batch user's path (a report-only review of stop 73): a batch of kept failures alone says so in its last line,
a setting that fails every job is refused before any runs, ``--explainers none`` is the default the help names, and
the note that summary.md is stale is given only where a result is newer than it."""

import os

import pytest

from srnet.bench.runner import BatchOutcome
from srnet.bench.store import Plan
from srnet.bench.suites import BatchSettings, parse_names
from srnet.cli import _summary_is_stale


def test_the_last_line_counts_the_failures_kept_from_before():
    """A rerun whose jobs had all failed before printed "0 ok, 0 failed in 0.0 s" and exited 1."""
    kept = BatchOutcome(Plan(todo=[], failed_kept=["iris__srnet__seed0", "aids__srnet__seed0"]), seconds=0.0)
    assert kept.describe() == "0 ok, 0 failed in 0.0 s; 2 failed before, kept (--retry-failed redoes them)"
    assert BatchOutcome(Plan(todo=[]), ok=3).describe() == "3 ok, 0 failed in 0.0 s"


@pytest.mark.parametrize("fraction, rows, why", [(0.95, 10, "train on"), (0.01, 10, "stop on"), (0.99, 40, "train on")])
def test_early_stopping_that_leaves_no_row_is_refused_before_any_job(fraction, rows, why):
    """--early-stopping 0.95 --max-rows 10 was accepted, then every job failed: 'validation_fraction=0.95 of 10
    rows leaves no row to train on or to validate on'."""
    with pytest.raises(ValueError, match=rf"^--early-stopping {fraction:g} of --max-rows {rows} training rows leaves "
                                         rf"no row to {why}: raise --max-rows"):
        BatchSettings(early_stopping=fraction, max_rows=rows).validate()
    BatchSettings(early_stopping=0.2, max_rows=10).validate()
    BatchSettings(early_stopping=0.0, max_rows=10).validate()  # off: nothing held out


def test_none_is_no_explainer_where_none_may_be_given():
    assert parse_names("none", "explainers", allow_empty=True) == ()
    assert parse_names(" none ", "explainers", allow_empty=True) == ()
    assert parse_names("lime,none", "explainers", allow_empty=True) == ("lime", "none")  # (refused by name later)
    with pytest.raises(ValueError, match="no methods given"):
        parse_names("", "methods")


def test_summary_md_is_stale_only_where_a_result_is_newer(tmp_path):
    """A rerun that ran nothing ("0 to run, 2 already done") said summary.md predated it, just after a report."""
    assert not _summary_is_stale(tmp_path)
    (tmp_path / "results").mkdir()
    result = tmp_path / "results" / "iris__srnet__seed0.json"
    result.write_text("{}")
    summary = tmp_path / "summary.md"
    summary.write_text("# summary")
    os.utime(result, (1_000, 1_000))
    os.utime(summary, (2_000, 2_000))
    assert not _summary_is_stale(tmp_path)
    os.utime(result, (3_000, 3_000))
    assert _summary_is_stale(tmp_path)


def test_two_methods_at_one_spot_of_srnet_vs_maple_are_both_seen(tmp_path, monkeypatch):
    """srnet's and srnet-paper's points at (1, 1) for iris: the second drawn over the first, one unseen; the later
    method's markers are larger and hollow."""
    import matplotlib.pyplot as plt
    import pandas as pd

    import srnet.plots as plots
    from srnet.bench.report import write_plots

    axes = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: axes.extend((path.name, ax) for ax in fig.axes) or path)
    frame = pd.DataFrame({"dataset": ["iris", "iris"], "method": ["srnet", "srnet-paper"], "seed": [0, 0],
                          "status": ["ok"] * 2, "task": ["classification"] * 2, "fidelity": [1.0, 1.0],
                          "srnet_agreement_test_all": [1.0, 1.0], "srnet_test_agreement": [1.0, 1.0],
                          "maple_test_agreement": [1.0, 1.0], "job_seconds": 1.0, "total_seconds": 1.0,
                          "srnet_complexity": 12})
    write_plots(frame, tmp_path)
    ax = next(ax for name, ax in axes if name == "srnet_vs_maple.png")
    dots = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert [(d.get_fillstyle(), d.get_markersize()) for d in dots] == [("full", 4), ("none", 7)]
    plt.close("all")
