"""Which task a batch job runs: PMLB's lists, the user's --task, else a printed guess; any label encoding."""

import gzip
import json

import numpy as np
import pandas as pd
import pytest

from srnet.bench.jobs import run_job
from srnet.bench.report import summary_row
from srnet.bench.store import ResultStore
from srnet.bench.suites import BatchSettings, resolve_suite
from srnet.cli import main
from srnet.data import class_indices

TINY = BatchSettings(seconds=None, generations=3, hidden=(4, 4), epochs=20, max_rows=200, n_points=60)


def write_table(cache, name, labels, seed=0):
    """A PMLB-layout table <cache>/<name>/<name>.tsv.gz: two features that separate the labels."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    codes = class_indices(labels)[1] if labels.dtype.kind not in "f" or len(np.unique(labels)) < 6 else labels
    frame = pd.DataFrame({"a": codes + rng.normal(0, 0.2, len(labels)), "b": rng.normal(size=len(labels)),
                          "target": labels})
    (cache / name).mkdir(parents=True)
    with gzip.open(cache / name / f"{name}.tsv.gz", "wt") as handle:
        frame.to_csv(handle, sep="\t", index=False)


@pytest.fixture
def cache(tmp_path):
    cache = tmp_path / "cache"
    signs = np.tile([-1.0, 1.0], 60)
    write_table(cache, "signs", signs)
    write_table(cache, "words", np.where(signs > 0, "yes", "no"))
    write_table(cache, "gaps", np.tile([3, 7, 10], 40))
    write_table(cache, "levels", np.linspace(0, 1, 120))
    return cache


def check_classification(result, labels):
    assert result["status"] == "ok", result["error"]
    assert result["job"]["task"] == "classification"
    assert set(result["metrics"]["explainers"]["srnet"]) == {"train", "test"}
    assert 0 <= result["metrics"]["srnet"]["agreement_test"] <= 1
    assert 0 <= result["metrics"]["explainers"]["srnet"]["test"]["agreement"] <= 1
    assert result["data"]["class_labels"] == labels  # the original labels, in the result JSON
    assert json.loads(summary_row(result)["class_labels"]) == labels  # and in summary.csv


def test_pmlb_listed_classification_with_sign_labels_runs_as_classification(cache, monkeypatch):
    import pmlb

    monkeypatch.setattr(pmlb, "classification_dataset_names", [*pmlb.classification_dataset_names, "signs"])
    suite = resolve_suite("pmlb:signs", settings=TINY, pmlb_cache=cache)
    assert suite.jobs[0].task == "classification" and suite.notes == []  # PMLB's word, nothing guessed
    check_classification(run_job(suite.jobs[0]), [-1.0, 1.0])


@pytest.mark.parametrize("name, task, why", [("signs", "classification", "2 distinct values: -1, 1"),
                                             ("words", "classification", "not numbers"),
                                             ("gaps", "classification", "3 distinct integers"),
                                             ("levels", "regression", "120 distinct numbers")])
def test_unlisted_tables_get_a_printed_guess(cache, name, task, why):
    suite = resolve_suite(f"pmlb:{name}", pmlb_cache=cache)
    assert suite.jobs[0].task == task
    assert len(suite.notes) == 1 and f"{name}: not in PMLB's lists; guessed {task}" in suite.notes[0]
    assert why in suite.notes[0] and "--task" in suite.notes[0]


def test_string_and_gapped_labels_run_as_classification(cache):
    words, gaps = resolve_suite("pmlb:words,gaps", settings=TINY, pmlb_cache=cache).jobs
    check_classification(run_job(words), ["no", "yes"])
    check_classification(run_job(gaps), [3, 7, 10])


def test_task_overrides_the_guess_and_pmlb(cache, monkeypatch):
    import pmlb

    assert resolve_suite("pmlb:gaps", pmlb_cache=cache, task="regression").jobs[0].task == "regression"
    overridden = resolve_suite("pmlb:gaps", pmlb_cache=cache, task="regression")
    assert not any("guessed" in note for note in overridden.notes)
    monkeypatch.setattr(pmlb, "regression_dataset_names", [*pmlb.regression_dataset_names, "signs"])
    listed = resolve_suite("pmlb:signs", pmlb_cache=cache)
    assert listed.jobs[0].task == "regression"  # PMLB's word, with a hint
    assert "PMLB lists it as regression, but its target holds only 2 values (-1, 1)" in listed.notes[0]
    stated = resolve_suite("pmlb:signs", settings=TINY, pmlb_cache=cache, task="classification")
    assert stated.notes == ["signs: run as classification (--task) (2 classes on 120 rows); PMLB lists it as regression"]
    check_classification(run_job(stated.jobs[0]), [-1.0, 1.0])


def test_a_result_of_another_task_is_not_reused(cache, tmp_path):
    """A job id is dataset, method, seed: the same table run with --task regression
    must not take the classifier's result in the same folder as done."""
    store = ResultStore(tmp_path / "out")
    classifier = resolve_suite("pmlb:gaps", settings=TINY, pmlb_cache=cache).jobs[0]
    store.write({"job": classifier.description(), "status": "ok", "settings": TINY.to_dict()})
    regression = resolve_suite("pmlb:gaps", settings=TINY, pmlb_cache=cache, task="regression").jobs
    assert regression[0].job_id == classifier.job_id
    with pytest.raises(ValueError, match=r"other settings than this batch's: gaps__srnet__seed0.json \(task: "
                                         r"folder 'classification', now 'regression'\)"):
        store.plan(regression)
    # the source is not compared: for the paper's networks it is a folder's path, and a moved folder resumes
    store.write({"job": {**classifier.description(), "source": "/a/moved/folder"}, "status": "ok",
                 "settings": TINY.to_dict()})
    assert not store.plan([classifier]).todo


def test_task_from_the_command_line(cache, tmp_path, capsys, no_cluster, monkeypatch):
    ran = []

    class Outcome:
        interrupted = False
        unfinished = []
        failed = 0
        plan = type("Plan", (), {"failed_kept": []})

        def describe(self):
            return "nothing run"

    def fake_run_suite(suite, out, **kwargs):
        ran.append(suite)
        return Outcome()

    monkeypatch.setattr("srnet.bench.runner.run_suite", fake_run_suite)
    out = str(tmp_path / "out")
    assert main(["bench", "pmlb:gaps", "--task", "regression", "--out", out, "--pmlb-cache", str(cache)]) == 0
    assert ran[-1].jobs[0].task == "regression"
    assert main(["bench", "pmlb:levels", "--out", out, "--pmlb-cache", str(cache)]) == 0
    assert ran[-1].jobs[0].task == "regression"
    printed = capsys.readouterr().out.splitlines()
    assert sum("levels: not in PMLB's lists; guessed regression" in line for line in printed) == 1


@pytest.mark.parametrize("argv, message", [
    (["pmlb:words", "--task", "regression"], "PMLB dataset 'words' cannot be a regression: its labels are not "
                                             "numbers (e.g. 'no'); use --task classification"),
    (["nguyen", "--task", "classification"], "--task classification does not fit suite nguyen"),
    (["pmlb-regression", "--task", "classification"], "does not fit suite pmlb-regression"),
])
def test_impossible_task_is_one_clear_line(cache, tmp_path, capsys, no_cluster, argv, message):
    out = tmp_path / "out"
    assert main(["bench", *argv, "--out", str(out), "--pmlb-cache", str(cache)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("srnet bench: error: ") and message in error
    assert len(error.strip().splitlines()) == 1 and "Traceback" not in error
    assert not out.exists()


# ------------------------------------------------------- the shared PMLB cache


def test_shared_pmlb_sign_labels(pmlb_cache):
    """PMLB's lists put ``auto`` (labels -1..3) under classification and ``banana``
    (labels -1.0/1.0) under regression: the first runs as a classification, the
    second with a hint, and as a classification when the user says so."""
    auto = resolve_suite("pmlb:auto", settings=TINY, pmlb_cache=pmlb_cache)
    assert auto.jobs[0].task == "classification"
    check_classification(run_job(auto.jobs[0]), [-1, 0, 1, 2, 3])
    banana = resolve_suite("pmlb:banana", settings=TINY, pmlb_cache=pmlb_cache)
    assert banana.jobs[0].task == "regression" and "--task classification" in banana.notes[0]
    stated = resolve_suite("pmlb:banana", settings=TINY, pmlb_cache=pmlb_cache, task="classification")
    check_classification(run_job(stated.jobs[0]), [-1.0, 1.0])
