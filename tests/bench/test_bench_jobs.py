"""One job, run in this process: what it records, and how it fails."""

import json
from dataclasses import replace

import numpy as np
import pytest

from srnet.bench.jobs import auto_epochs, run_job, split_rows
from srnet.bench.store import canonical_json
from srnet.bench.suites import BatchSettings, JobSpec, resolve_suite

TINY = BatchSettings(seconds=None, generations=5, hidden=(4, 4), epochs=20, max_rows=300, n_points=100,
                     nguyen_rows=60)


def check_common(result, job):
    assert result["job"]["id"] == job.job_id
    assert result["settings"] == job.settings.to_dict()
    assert {"load", "train", "warm_up", "explain", "total"} <= set(result["timings"]) or result["status"] == "failed"
    assert result["timings"]["total"] > 0
    assert {"srnet", "python", "torch", "numpy", "numba", "dask"} <= set(result["versions"])
    canonical_json(result)  # JSON-ready
    json.loads(json.dumps(result))


def test_nguyen_job_with_maple():
    job = resolve_suite("nguyen:nguyen-1", settings=replace(TINY, explainers=("maple",))).jobs[0]
    result = run_job(job)
    assert result["status"] == "ok", result["error"]
    check_common(result, job)
    assert set(result["metrics"]["explainers"]) == {"srnet", "maple"}
    assert set(result["metrics"]["explainers"]["srnet"]) == {"interpolation", "extrapolation"}
    assert result["metrics"]["srnet"]["generations"] == 5
    assert isinstance(result["formulas"]["srnet"], str)
    assert result["data"]["truth"] and result["network"]["trained"]
    assert -np.inf < result["metrics"]["srnet"]["output_r2_test"] <= 1
    network = result["network"]  # early stopping by default, recorded with the network
    assert network["early_stopping"] == 0.2 and 1 <= network["best_epoch"] <= network["epochs_run"] <= 20


def test_early_stopping_off_trains_every_epoch_on_every_row():
    job = resolve_suite("nguyen:nguyen-1", settings=replace(TINY, early_stopping=0.0)).jobs[0]
    network = run_job(job)["network"]
    assert network["early_stopping"] == 0.0 and network["best_epoch"] is None and network["epochs_run"] == 20


def test_pmlb_classification_job(pmlb_cache):
    job = resolve_suite("pmlb:analcatdata_aids", settings=TINY, pmlb_cache=pmlb_cache, seeds=(3,)).jobs[0]
    result = run_job(job)
    assert result["status"] == "ok", result["error"]
    check_common(result, job)
    srnet = result["metrics"]["srnet"]
    assert 0 <= srnet["agreement_train"] <= 1 and 0 <= srnet["agreement_test"] <= 1
    assert set(result["metrics"]["explainers"]["srnet"]) == {"train", "test"}
    assert result["data"]["standardised"]["features"] and not result["data"]["standardised"]["target"]
    assert result["data"]["train_rows"] + result["data"]["test_rows"] == result["data"]["rows"]
    assert 0 <= result["network"]["test_accuracy"] <= 1
    assert result["network"]["test_classes_answered"] in (1, 2)  # of analcatdata_aids's two
    assert len(result["formulas"]["srnet"]) == result["data"]["classes"]  # one logit formula per class
    # two classes: the logit difference that decides is kept, and it is what summary.csv shows
    assert (result["formulas"]["srnet_decision"] is not None) == (result["data"]["classes"] == 2)
    from srnet.bench.report import summary_row

    if result["data"]["classes"] == 2:
        assert summary_row(result)["srnet_formula"] == f"d = {result['formulas']['srnet_decision']}"


def test_reference_network_job(gecco_dir):
    job = resolve_suite("srnet-gecco:kkk0", settings=TINY, gecco_dir=gecco_dir).jobs[0]
    result = run_job(job)
    assert result["status"] == "ok", result["error"]
    assert result["job"]["dataset"] == "gecco-kkk0"
    assert result["network"]["trained"] is False and result["timings"]["train"] < 1


def test_a_failing_job_returns_its_error():
    job = JobSpec("no_such_table", "srnet", 0, "pmlb", "no_such_table", "classification", TINY, "/nonexistent")
    result = run_job(job)
    assert result["status"] == "failed"
    assert result["error"]["type"] in ("ValueError", "FileNotFoundError")
    assert "no_such_table" in result["error"]["message"]
    assert "Traceback" in result["error"]["traceback"]
    check_common(result, job)


def test_split_subsamples_and_falls_back_from_stratifying():
    X = np.arange(2000.0).reshape(1000, 2)
    y = np.r_[np.zeros(500), np.ones(499), 2.0]  # class 2 has one row: no stratified split
    job = JobSpec("d", "srnet", 0, "pmlb", "d", "classification", replace(TINY, max_rows=300))
    prepared = split_rows(X, y, ["a", "b"], job)
    assert len(prepared.X_train) == 300 and len(prepared.X_test) == 100
    assert prepared.info["subsampled_to"] == 400 and prepared.info["stratified"] is False
    y = np.r_[np.zeros(800), np.ones(200)]
    prepared = split_rows(X, y, ["a", "b"], job)
    assert prepared.info["stratified"] is True
    assert abs(prepared.y_train.mean() - 0.2) < 0.01 and abs(prepared.y_test.mean() - 0.2) < 0.02


@pytest.mark.parametrize("rows, epochs", [(200, 2000), (3750, 134), (100000, 20)])
def test_auto_epochs(rows, epochs):
    assert auto_epochs(rows, 2000) == epochs


def test_rows_with_missing_values_are_dropped(pmlb_cache):
    job = resolve_suite("pmlb:penguins", settings=TINY, pmlb_cache=pmlb_cache).jobs[0]
    result = run_job(job)
    assert result["status"] == "ok", result["error"]
    assert result["data"]["rows_dropped_missing"] > 0
    assert result["data"]["train_rows"] + result["data"]["test_rows"] == result["data"]["rows"]


def test_max_rows_bounds_a_nguyen_jobs_training_rows_too():
    """--max-rows 20 was recorded as the batch's setting (gating every resume) and Nguyen jobs kept 200 rows."""
    from srnet.bench.jobs import prepare_data

    job = resolve_suite("nguyen:nguyen-1", settings=replace(TINY, max_rows=20)).jobs[0]
    data = prepare_data(job)
    assert data.info["train_rows"] == 20 and len(data.X_train) == 20
    assert prepare_data(resolve_suite("nguyen:nguyen-1", settings=TINY).jobs[0]).info["train_rows"] == 60


@pytest.mark.parametrize("text, why", [
    ("garbage\n", r"no 'target' column \(its header: garbage\)"),  # a gzip of one line: a table of no rows
    ("a\tb\n1\t2\n", r"no 'target' column \(its header: a, b\)"),
    ("a\ttarget\n", "no rows"),
])
def test_a_damaged_pmlb_table_is_named_damaged(tmp_path, text, why):
    """A gzip of one line of text read as a table of no rows: "every row of PMLB dataset 'haberman' has a missing
    value", which sent the user looking for missing values, not at a damaged file."""
    import gzip

    from srnet.bench.jobs import load_pmlb

    (tmp_path / "haberman").mkdir()
    with gzip.open(tmp_path / "haberman" / "haberman.tsv.gz", "wt") as handle:
        handle.write(text)
    with pytest.raises(ValueError, match=rf"^the cached PMLB table 'haberman' in '.*' cannot be read \(damaged\?\): "
                                         rf"{why}; delete it or put an intact copy there$"):
        load_pmlb("haberman", tmp_path, "classification")
    with gzip.open(tmp_path / "haberman" / "haberman.tsv.gz", "wt") as handle:
        handle.write("a\ttarget\nnan\t1\n")  # a whole table whose every row misses a value: said so, as before
    with pytest.raises(ValueError, match="^every row of PMLB dataset 'haberman' has a missing value$"):
        load_pmlb("haberman", tmp_path, "classification")


def test_a_regression_jobs_output_r2_is_of_the_training_rows_themselves(monkeypatch):
    """summary.csv's srnet_output_r2 is the formula against the network on the training rows (the README); it
    was the model's own output_r2_, of every point fitted: the rows and the validation box's points (0.838
    where the rows gave 0.916).  Recorded here: the network, the rows and the model compare ran on."""
    import srnet.compare
    from srnet.metrics import rmse_r2

    seen = {}
    real = srnet.compare.compare

    def recording(network, X_train, explainers, **kwargs):
        comparison = real(network, X_train, explainers, **kwargs)
        seen.update(network=network, X=X_train, model=comparison.explainers["srnet"].model_)
        return comparison

    monkeypatch.setattr(srnet.compare, "compare", recording)
    job = resolve_suite("nguyen:nguyen-3", settings=TINY).jobs[0]
    result = run_job(job)
    assert result["status"] == "ok", result["error"]
    X, model, network = seen["X"], seen["model"], seen["network"]
    rmse, r2 = rmse_r2(np.asarray(network(X)).reshape(-1), np.asarray(model.predict(X)).reshape(-1))
    srnet = result["metrics"]["srnet"]
    assert srnet["output_r2"] == pytest.approx(r2, rel=1e-9) and srnet["output_rmse"] == pytest.approx(rmse, rel=1e-9)
    assert srnet["output_r2"] != pytest.approx(model.output_r2_, rel=1e-6)  # the fitted points' figure differs
