"""Tests that kill survivors of a mutation-testing sample of ``srnet/bench/report.py``.

Sample: mutmut 3.8.1 mutants of the module (``only_mutate = ["srnet/bench/report.py"]``), 60 of its 2333 drawn with
``random.Random(5959)``: over the sorted names of each of its 25 functions, two each and ten more shared by mutant
count (write_plots 6; summary_row, table, markdown, near_one_axis and _name_points 3).  Each was run alone
(MUTANT_UNDER_TEST, ``-n 0 -x``) against tests/bench/test_bench_report.py, tests/test_review_plots_report.py,
tests/test_leftovers_bench.py and tests/bench/test_review_batch_runs.py.  Eleven survived.  Ten are killed here:
x__label_inches__mutmut_8, x__name_points__mutmut_53, x__one_class_line__mutmut_16,
x__unknown_task_line__mutmut_15, x_markdown__mutmut_123, x_planned_jobs__mutmut_39 and _41,
x_summary_row__mutmut_96, x_write_plots__mutmut_194 and _604.  One is equivalent in practice:
x__name_points__mutmut_55 (``b[0] <= box[2]`` for ``<``: two names' boxes in display pixels touching exactly, at
one float, now count as overlapping).
Each test names the mutant it kills and what a user would see go wrong.
"""

import pandas as pd
import pytest

from srnet.bench.report import headline, write_plots, write_report
from srnet.bench.store import ResultStore
from srnet.bench.suites import BatchSettings, resolve_suite


def _frame(rows):
    """A summary frame of ok classification jobs, one per (dataset, SRNet agreement, MAPLE agreement)."""
    return pd.DataFrame([{"dataset": dataset, "method": "srnet", "seed": 0, "status": "ok", "task": "classification",
                          "fidelity": srnet, "srnet_test_agreement": srnet, "maple_test_agreement": maple,
                          "srnet_complexity": 10.0 + 20 * k, "load_seconds": 0.1, "train_seconds": 1.0,
                          "explain_seconds": 1.0, "total_seconds": 2.5}
                         for k, (dataset, srnet, maple) in enumerate(rows)])


def _job_payload(job, status="ok"):
    """A result as run_job writes it, reduced to what the report reads."""
    payload = {"job": {**job.identity(), "kind": job.kind, "source": job.source, "task": job.task},
               "status": status, "settings": job.settings.to_dict(), "timings": {"total": 3.0}}
    if status == "failed":
        payload["error"] = {"type": "ValueError", "message": "bad table\nmore", "traceback": "..."}
    else:
        payload.update(data={"rows": 20, "train_rows": 15, "test_rows": 5},
                       network={"trained": True, "train_r2": 0.9, "test_r2": 0.8},
                       metrics={"explainers": {"srnet": {"interpolation": {"r2": 0.999}}},
                                "srnet": {"output_r2": 0.9, "complexity": 7}})
    return payload


def test_the_plots_with_a_name_per_tick_grow_by_the_longest_name_not_four_times_it(drawn, tmp_path):
    """x__label_inches__mutmut_8 (``longest * TICK_FONT / 0.5 / 72``: four times the room): a figure 11.7 in
    taller than its plot for PMLB's 60-character GAMETES names, the plot a strip above a white expanse.

    Hand-derived: a name of 36 characters upright at 7 pt, half an em each, is 36 * 7 * 0.5 / 72 = 1.75 in;
    fidelity_per_dataset.png (one task) is 3.4 + 1.75 = 5.15 in tall, 7 in wide (the least, for one dataset:
    0.13 + 2 < 7).  time_per_job.png's labels are "<dataset> srnet s0", 45 characters: 3.4 + 2.1875 in."""
    name = "a_dataset_name_of_thirty_six_letters"
    assert len(name) == 36
    write_plots(_frame([(name, 0.9, 0.8)]), tmp_path)
    assert tuple(drawn["fidelity_per_dataset.png"].get_size_inches()) == pytest.approx((7.0, 5.15))
    assert tuple(drawn["time_per_job.png"].get_size_inches()) == pytest.approx((7.0, 5.5875))


def test_two_names_far_apart_on_one_height_are_both_written(drawn, tmp_path):
    """x__name_points__mutmut_53 (the overlap test compared a name's left edge with the other's *top*, a y
    pixel, not its right edge): d1, at MAPLE 0.8 and SRNet 0.9, was left unnamed in srnet_vs_maple.png beside d0
    at MAPLE 0.6 and SRNet 0.9, though the two names (two characters at 6 pt, about 7 pt wide each) lie far
    apart on the same line: a point of the plot nobody could tell the dataset of."""
    write_plots(_frame([("d0", 0.9, 0.6), ("d1", 0.9, 0.8)]), tmp_path)
    fig = drawn["srnet_vs_maple.png"]
    ax = fig.axes[0]
    assert [(text.get_text(), tuple(map(float, text.xy))) for text in ax.texts] == [("d0", (0.6, 0.9)),
                                                                                   ("d1", (0.8, 0.9))]
    fig.canvas.draw()
    first, second = (text.get_window_extent() for text in ax.texts)
    assert first.x1 < second.x0  # (they do not overlap: writing both hides nothing)


def test_the_headline_names_every_dataset_whose_network_answers_one_class():
    """x__one_class_line__mutmut_16 (the names joined by "XX, XX"): two such datasets read
    "parity5XX, XXxor"."""
    frame = pd.DataFrame({"dataset": ["xor", "parity5", "iris"], "method": ["srnet"] * 3, "status": ["ok"] * 3,
                          "task": ["classification"] * 3, "srnet_agreement_test_all": [1.0, 1.0, 0.97],
                          "network_test_classes_answered": [1, 1, 3]})
    assert headline(frame)[-1] == (
        "2 classification dataset(s) whose network answers one class on every test row (its explanation is of a "
        "constant; agreement there says nothing, and the count above leaves it out): parity5, xor")


def test_a_dataset_whose_only_result_is_corrupt_and_task_unknown_is_named(tmp_path):
    """x__unknown_task_line__mutmut_15 (the line never written): a batch of an older srnet (its manifest plans no
    jobs) whose nguyen-2 result was truncated; nguyen-2 has no counted result to take a task from, so its row of
    status "not counted" has none, and it is in neither task's count ("srnet: 1 of 1 regression datasets"): the
    headline must name it, or the report reads as a batch of one dataset."""
    jobs = resolve_suite("nguyen:nguyen-1,nguyen-2", settings=BatchSettings()).jobs
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(BatchSettings()), {"run": 1})  # no jobs: the task is not planned
    for job in jobs:
        store.write(_job_payload(job))
    path = store.path(jobs[1].job_id)
    path.write_text(path.read_text()[:100])
    report = write_report(tmp_path, plots=False)
    assert report.headline[0].startswith("srnet: 1 of 1 regression datasets")
    assert report.headline[1:] == ["1 dataset(s) with no counted result, in no count above: nguyen-2 (see the "
                                   "files not counted)"]
    assert "- 1 dataset(s) with no counted result" in (tmp_path / "summary.md").read_text()


def test_a_failed_job_is_listed_with_its_error_message(tmp_path):
    """x_markdown__mutmut_123 (the cell always the error's type): summary.md's failed jobs read "ValueError"
    alone, not why the job failed.  Hand-derived: the message's first line after its type,
    "ValueError: bad table"."""
    jobs = resolve_suite("nguyen:nguyen-1,nguyen-2", settings=BatchSettings()).jobs
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(BatchSettings()), {"run": 1})
    store.write(_job_payload(jobs[0]))
    store.write(_job_payload(jobs[1], status="failed"))
    write_report(tmp_path, plots=False)
    assert "| nguyen-2 | srnet | 0 | ValueError: bad table |" in (tmp_path / "summary.md").read_text()


def test_a_planned_job_not_counted_keeps_its_planned_kind(tmp_path):
    """x_planned_jobs__mutmut_41 (a planned job's kind always None) and x_planned_jobs__mutmut_39 (stored under
    "XXkindXX"): nguyen-2's truncated result, of a dataset with no counted result, has its row of status
    "not counted" from the batch's plan; its kind came out empty in summary.csv (and, for 39, an extra column
    "XXkindXX" held it).  Hand-derived: the nguyen suite plans kind "nguyen", task "regression"."""
    jobs = resolve_suite("nguyen:nguyen-1,nguyen-2", settings=BatchSettings()).jobs
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(BatchSettings()), {"run": 1}, jobs)
    for job in jobs:
        store.write(_job_payload(job))
    path = store.path(jobs[1].job_id)
    path.write_text(path.read_text()[:100])
    write_report(tmp_path, plots=False)
    frame = pd.read_csv(tmp_path / "summary.csv")
    assert "XXkindXX" not in frame
    assert frame[["dataset", "status", "task", "kind"]].values.tolist() == [
        ["nguyen-1", "ok", "regression", "nguyen"], ["nguyen-2", "not counted", "regression", "nguyen"]]


def test_summary_csv_holds_each_job_s_training_rows(tmp_path):
    """x_summary_row__mutmut_96 (``data.get(None)``): summary.csv's train_rows column was empty for every job.
    Hand-derived: the result records 15 training rows and 5 test rows of its 20."""
    job = resolve_suite("nguyen:nguyen-1", settings=BatchSettings()).jobs[0]
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(BatchSettings()), {"run": 1})
    store.write(_job_payload(job))
    write_report(tmp_path, plots=False)
    frame = pd.read_csv(tmp_path / "summary.csv")
    assert frame[["rows", "train_rows", "test_rows"]].values.tolist() == [[20, 15, 5]]


def test_a_seed_without_a_figure_is_crossed_in_its_series_colour(drawn, tmp_path):
    """x_write_plots__mutmut_194 (the "x" of fidelity_per_dataset.png drawn without ``color=f"C{k}"``): MAPLE's
    missing figure for d1 was crossed in the next colour of the cycle, not MAPLE's, so the cross read as another
    series'.  Hand-derived: the series are SRNet (C0) then MAPLE (C1); MAPLE's cross at the floor 0 is C1."""
    from matplotlib.colors import to_rgba

    write_plots(_frame([("d0", 0.9, 0.8), ("d1", 0.95, None)]), tmp_path)
    ax = drawn["fidelity_per_dataset.png"].axes[0]
    marks = {line.get_label(): line for line in ax.lines if line.get_linestyle() == "None"}
    assert list(marks) == ["srnet", "maple", "maple: a seed without a figure (drawn at 0)"]
    cross = marks["maple: a seed without a figure (drawn at 0)"]
    assert list(cross.get_ydata()) == [0.0]
    assert to_rgba(cross.get_color()) == to_rgba(marks["maple"].get_color()) == to_rgba("C1")


def test_the_time_plot_names_each_part_of_a_job_s_time(drawn, tmp_path):
    """x_write_plots__mutmut_604 (the bars of each part drawn without a label): time_per_job.png's legend named
    only "other", the load, training and explanation bars unexplained.  Hand-derived: the frame has load, train
    and explain seconds (no warm-up column: an older srnet's), so the legend reads load, train, explain, other."""
    write_plots(_frame([("d0", 0.9, 0.8)]), tmp_path)
    ax = drawn["time_per_job.png"].axes[0]
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["load", "train", "explain", "other"]


def test_a_failed_job_s_whole_message_line_is_listed_with_its_bars_escaped(tmp_path):
    """summary.md cut a failure's message at 120 characters, mid-token ('... a box domain: domain=['), where the
    result holds up to 300; a '|' in it split the table's row into more cells."""
    jobs = resolve_suite("nguyen:nguyen-1,nguyen-2", settings=BatchSettings()).jobs
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(BatchSettings()), {"run": 1})
    store.write(_job_payload(jobs[0]))
    failed = _job_payload(jobs[1], status="failed")
    message = "explain: every row is the same; give rows that vary, or a box domain: " + "x" * 100 + " a|b end"
    failed["error"]["message"] = message
    store.write(failed)
    write_report(tmp_path, plots=False)
    assert f"| nguyen-2 | srnet | 0 | ValueError: {message.replace('|', chr(92) + '|')} |" in (
        tmp_path / "summary.md").read_text()


def test_datasets_tied_at_one_point_are_named_once_with_their_count(drawn, tmp_path):
    """Seven datasets tied at SRNet 1, MAPLE 1 were named as the first alone: the plot read as one dataset there."""
    write_plots(_frame([("d0", 1.0, 1.0), ("d1", 0.9, 0.6), ("d2", 1.0, 1.0), ("d3", 1.0, 1.0)]), tmp_path)
    texts = sorted((text.get_text(), tuple(map(float, text.xy))) for text in drawn["srnet_vs_maple.png"].axes[0].texts)
    assert texts == [("d0 and 2 more here", (1.0, 1.0)), ("d1", (0.6, 0.9))]


def test_more_datasets_than_named_points_at_few_places_are_still_named(drawn, tmp_path):
    """The count of names was of datasets, not places: 41 datasets tied at one point named none at all."""
    write_plots(_frame([(f"d{k}", 1.0, 1.0) for k in range(41)] + [("odd", 0.9, 0.6)]), tmp_path)
    texts = sorted(text.get_text() for text in drawn["srnet_vs_maple.png"].axes[0].texts)
    assert texts == ["d0 and 40 more here", "odd"]
