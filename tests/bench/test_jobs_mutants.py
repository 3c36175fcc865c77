"""Tests that kill survivors of a mutation-testing sample of ``srnet/bench/jobs.py``.

Sample: mutmut 3.8.1 mutants of the module (``only_mutate = ["srnet/bench/jobs.py"]``, 930 in all), 52 drawn
with ``random.Random(59)``, per function in proportion to its mutant count and at least 2 each (functions in
sorted order, ``rng.sample(sorted(names), k)``), each run alone (MUTANT_UNDER_TEST, ``-n 0 -x``) against
tests/bench/test_bench_jobs.py, tests/explain/test_factory.py and the versions test of test_bench_report.py;
the survivors that those files could reach, against tests/bench/test_bench_task.py, tests/test_review_bench.py,
tests/explain/test_pyoperon.py, tests/test_data_mutants.py and tests/bench/test_bench_edge_cases.py too.
Eighteen survived; the tests here kill fourteen of them:

* x_prepare_data__mutmut_28 and _33, x__standardise__mutmut_31 and _38: a PMLB regression job's target left
  unstandardised, every such job failing, or its test targets dropped (no test prepared a PMLB regression table);
* x__reference_data__mutmut_44 and _92: a reference network's authors' test rows dropped, and adult's split
  mislabelled (no test prepared a classification reference network);
* x_explainer_budget__mutmut_8: ``--generations`` kept the default 10 s as a second budget;
* x_run_job__mutmut_7: an "ok" result without its ``error: None``;
* x__one_thread__mutmut_4: a job's numba kernels on two threads;
* x__warm_up__mutmut_3: a worker announcing its kernel compilation on stderr;
* x_host__mutmut_3 and _6, x_train_network__mutmut_87, x_explain__mutmut_77: recorded fields under other names.

The other four are equivalent: x__warm_up__mutmut_2 (``warm_up_kernels(None)``: None is as false as False),
x_error_info__mutmut_5 (``format_exception(None, error, tb)``: Python >= 3.10 ignores the first argument when
the exception is given), x__network_quality__mutmut_22 (``info.get(None, np.unique(y_train))``: the trained
classes train_mlp records are ``np.unique(y_train)`` themselves) and x_explain__mutmut_121 (``reshape(None)``
leaves the array as it is, and rmse_r2 reshapes both arrays to (n, -1) itself).
"""

import gzip
import os
import socket
from dataclasses import replace

import numpy as np
import pytest

from srnet.bench import jobs
from srnet.bench.jobs import Prepared, explainer_budget, host, prepare_data, run_job, train_network
from srnet.bench.suites import BatchSettings, JobSpec, resolve_suite

TINY = BatchSettings(seconds=None, generations=5, hidden=(4, 4), epochs=20, max_rows=300, n_points=100,
                     nguyen_rows=60)


def test_a_pmlb_regression_target_is_standardised_with_the_training_rows(tmp_path):
    """x_prepare_data__mutmut_28 and _33 (``target=None``, ``spec.task == "REGRESSION"``): a PMLB regression
    job trained its network on the raw target; x__standardise__mutmut_31 (``float(None)``) failed every such
    job; x__standardise__mutmut_38 (``y_test = None``) dropped the held-out targets, so the network's test R^2
    and SRNet's ``output_r2_test`` were never measured.

    The table: x = 1..12 and target = 3 x + 5.  Whichever 9 rows the seeded split trains on, standardising
    both columns with the training rows' mean and standard deviation is one affine map per column, and an
    increasing affine function of x standardises to standardised x itself: y' = (3x + 5 - (3m + 5)) / (3s)
    = (x - m) / s, on the training and the test rows alike; the target's mean is 3m + 5 and its scale 3s.
    """
    (tmp_path / "1027_ESL").mkdir()
    with gzip.open(tmp_path / "1027_ESL" / "1027_ESL.tsv.gz", "wt") as handle:
        handle.write("x\ttarget\n" + "".join(f"{x}\t{3 * x + 5}\n" for x in range(1, 13)))
    job = JobSpec("1027_ESL", "srnet", 0, "pmlb", "1027_ESL", "regression", TINY, str(tmp_path))
    data = prepare_data(job)
    assert (data.info["train_rows"], data.info["test_rows"]) == (9, 3)  # 12 rows, test_fraction 0.25
    standardised = data.info["standardised"]
    assert standardised["features"] is True and standardised["target"] is True
    (mean,), (scale,) = standardised["mean"], standardised["scale"]
    assert standardised["target_mean"] == pytest.approx(3 * mean + 5, rel=1e-12)
    assert standardised["target_scale"] == pytest.approx(3 * scale, rel=1e-12)
    assert data.y_test is not None and data.y_test.shape == (3,)
    np.testing.assert_allclose(data.y_train, data.X_train[:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(data.y_test, data.X_test[:, 0], rtol=0, atol=1e-12)
    # the rows are the table's: the raw features are whole numbers 1..12, each once
    raw = np.r_[data.X_train[:, 0], data.X_test[:, 0]] * scale + mean
    np.testing.assert_allclose(np.sort(raw), np.arange(1.0, 13.0), rtol=0, atol=1e-12)


def test_a_reference_network_keeps_the_authors_test_rows(gecco_dir):
    """x__reference_data__mutmut_44 (``Prepared(X, y, None, y_test, ...)``): a reference classifier shipped
    with the authors' test split lost its test rows, so the job measured no test accuracy and compare no
    "test" domain, while data.test_rows still counted them."""
    from srnet.reference import load_reference

    job = resolve_suite("srnet-gecco:breast", settings=TINY, gecco_dir=gecco_dir).jobs[0]
    reference = load_reference(job.source)  # the authors' own train.txt.gz / test.txt.gz
    data = prepare_data(job)
    assert data.X_test is not None and np.array_equal(data.X_test, reference.X_test)
    assert np.array_equal(data.y_test, reference.y_test)
    assert np.array_equal(data.X_train, reference.X) and np.array_equal(data.y_train, reference.y)
    assert data.info["test_rows"] == len(reference.X_test) and data.info["split"] == "authors'"
    assert data.info["rows"] == len(reference.X) + len(reference.X_test)


def test_adult_is_a_seeded_split_of_pmlbs_table_and_says_so(gecco_dir, pmlb_cache):
    """x__reference_data__mutmut_92 (split recorded as "XXseeded, of PMLB's tableXX"): adult, which ships no
    data, recorded a garbled account of where its rows came from.  TINY's max_rows 300 keeps
    ceil(300 / 0.75) = 400 of PMLB's rows, split 300 / 100."""
    job = resolve_suite("srnet-gecco:adult", settings=TINY, gecco_dir=gecco_dir, pmlb_cache=pmlb_cache).jobs[0]
    data = prepare_data(job)
    assert data.info["split"] == "seeded, of PMLB's table"
    assert data.info["reference"] == "adult" and data.info["standardised"] is False
    assert (data.info["subsampled_to"], data.info["train_rows"], data.info["test_rows"]) == (400, 300, 100)
    assert len(data.X_train) == 300 and len(data.X_test) == 100


def test_a_generation_budget_replaces_the_seconds():
    """x_explainer_budget__mutmut_8 (``max_seconds`` kept whatever ``generations`` says): ``--generations 5``
    was documented as fixed work per job "instead of seconds", but the default 10 s stayed a second limit,
    so a slow worker stopped its searches early and two machines did different work."""
    assert explainer_budget(BatchSettings(generations=5)) == {"max_seconds": None, "max_generations": 5,
                                                              "n_threads": 1}
    assert explainer_budget(BatchSettings(seconds=3.0)) == {"max_seconds": 3.0, "max_generations": None,
                                                            "n_threads": 1}


def test_an_ok_result_records_no_error(monkeypatch):
    """x_run_job__mutmut_7 (``"XXerrorXX": None``): an "ok" result had no ``error`` at all and a stray key;
    run_job's contract is ``error``: None for a job that ran.  The job's work is stubbed: this is about the
    payload run_job builds around it."""
    def fake_run(spec, timings):
        timings["load"] = 0.5
        return {"data": {"rows": 3}, "network": {"trained": True}, "metrics": {}, "formulas": {}}

    monkeypatch.setattr(jobs, "_run", fake_run)
    monkeypatch.setattr(jobs, "_one_thread", lambda: None)
    monkeypatch.setattr(jobs, "_warm_up", lambda spec: 0.25)
    job = resolve_suite("nguyen:nguyen-1", settings=TINY).jobs[0]
    result = run_job(job)
    assert result["status"] == "ok" and result["error"] is None
    assert set(result) == {"job", "status", "error", "settings", "started_at", "data", "network", "metrics",
                           "formulas", "timings", "versions", "host", "finished_at"}
    assert result["data"] == {"rows": 3} and result["timings"]["load"] == 0.5
    assert set(result["timings"]) == {"warm_up", "load", "total"} and result["timings"]["warm_up"] == 0.25


def test_a_job_runs_torch_and_numba_on_one_thread():
    """x__one_thread__mutmut_4 (``numba.set_num_threads(2)``): every job ran srnet's kernels on two threads
    beside the batch's other workers (and failed outright where numba has one)."""
    import numba
    import torch

    before = torch.get_num_threads(), numba.get_num_threads()
    try:
        jobs._one_thread()
        assert (torch.get_num_threads(), numba.get_num_threads()) == (1, 1)
    finally:
        torch.set_num_threads(before[0])
        numba.set_num_threads(before[1])


def test_a_workers_warm_up_prints_no_compile_notice(monkeypatch, capsys):
    """x__warm_up__mutmut_3 (``warm_up_kernels(True)``): a worker whose kernels took over
    COMPILE_NOTICE_SECONDS to load printed the command line's "compiling srnet's kernels..." notice into the
    worker's log.  The notice is made due at once (0 s) and the kernels stubbed to take 0.3 s, so the notice
    would print; the seconds returned are the whole warm-up's, the stubbed 0.3 s and 0.25 s and more, once per
    process: 0 on the next job."""
    import time

    monkeypatch.setattr("srnet.progress.COMPILE_NOTICE_SECONDS", 0.0)
    monkeypatch.setattr("srnet.cgp._kernels.warm_up", lambda: time.sleep(0.3))
    monkeypatch.setattr("srnet.formulas.warm_up_refinement", lambda: time.sleep(0.25))
    monkeypatch.setattr(jobs, "_warmed", False)  # (a fresh worker)
    seconds = jobs._warm_up()
    time.sleep(0.05)  # (a notice's timer thread has had its time)
    assert capsys.readouterr().err == ""
    assert 0.55 <= seconds < 60  # (a tiny first training besides: a loaded CI host is slow, never this slow)
    assert jobs._warm_up() == 0.0


def test_a_workers_first_job_is_timed_without_the_workers_one_time_costs(monkeypatch):
    """A worker's first job read 36.6 s where its like took 4 to 9: its loading (imports, a first table read),
    training (torch's first set-up) and more paid once per worker.  The warm-up loads the first job's data once
    before the job's own timed load."""
    loads = []
    monkeypatch.setattr(jobs, "_warmed", False)
    monkeypatch.setattr(jobs, "prepare_data", lambda spec: loads.append(spec.source))
    job = resolve_suite("nguyen:nguyen-1", settings=TINY).jobs[0]
    assert jobs._warm_up(job) > 0 and loads == ["nguyen-1"] and jobs._warmed
    assert jobs._warm_up(job) == 0.0 and loads == ["nguyen-1"]


def test_the_warm_up_comes_before_the_job_and_a_bad_table_fails_the_job_not_the_warm_up(monkeypatch):
    """Warmed after the job's load and training (as before), those paid the worker's one-time costs; a table that
    cannot load fails the job with its own error, and the warm-up is still timed and done."""
    order = []
    monkeypatch.setattr(jobs, "_warmed", False)
    monkeypatch.setattr(jobs, "_one_thread", lambda: None)
    monkeypatch.setattr("srnet.progress.warm_up_kernels", lambda notice: order.append("kernels"))
    monkeypatch.setattr("srnet.formulas.warm_up_refinement", lambda: 0.0)

    def bad_table(spec):
        order.append("load")
        raise ValueError("bad table")

    monkeypatch.setattr(jobs, "prepare_data", bad_table)
    result = run_job(resolve_suite("nguyen:nguyen-1", settings=TINY).jobs[0])
    assert order == ["load", "kernels", "load"] and jobs._warmed
    assert result["status"] == "failed" and result["error"]["message"] == "bad table"
    assert result["timings"]["warm_up"] > 0


def test_host_names_the_machine_and_process():
    """x_host__mutmut_3 and _6 ("XXhostnameXX", "PID"): the result's host record is {hostname, pid, worker};
    outside a Dask worker the worker is None."""
    assert host() == {"hostname": socket.gethostname(), "pid": os.getpid(), "worker": None}


def test_the_network_record_names_its_training():
    """x_train_network__mutmut_87 ("FINAL_LOSS"): the network record's final loss went under another name.

    Without early stopping (0.0) train_mlp trains 4 epochs on all 40 rows and records the MSE of the trained
    network on them (float32), which is recomputed here from the returned module.
    """
    import torch

    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (40, 2))
    y = X[:, 0] - X[:, 1]
    settings = replace(TINY, hidden=(3,), epochs=4, early_stopping=0.0)
    job = JobSpec("d", "srnet", 0, "pmlb", "d", "regression", settings)
    module, network = train_network(job, Prepared(X, y, None, None, ["a", "b"]))
    seconds, loss = network.pop("train_seconds"), network.pop("final_loss")
    assert network == {"trained": True, "widths": [2, 3, 1], "activation": settings.activation, "optimizer": "adam",
                       "lr": 0.01, "batch_size": 256, "epochs": 4, "epochs_run": 4, "early_stopping": 0.0,
                       "best_epoch": None}
    assert seconds >= 0
    with torch.no_grad():
        output = module(torch.tensor(X, dtype=torch.float32)).reshape(-1)
    expected = float(torch.mean((output - torch.tensor(y, dtype=torch.float32)) ** 2))
    assert loss == pytest.approx(expected, rel=1e-5)



def test_srnets_own_figures_are_recorded_under_their_names():
    """x_explain__mutmut_77 ("XXlayer_r2XX"): SRNet's R^2 per layer went under another name.  A Nguyen-1 job
    on a (1, 4, 4, 1) network: SRNet explains its three layers (two hidden, the output), one R^2 and one MSE
    each, in 5 generations (TINY's budget)."""
    job = resolve_suite("nguyen:nguyen-1", settings=replace(TINY, early_stopping=0.0)).jobs[0]
    result = run_job(job)
    assert result["status"] == "ok", result["error"]
    srnet = result["metrics"]["srnet"]
    assert set(srnet) == {"fitness", "output_r2", "output_rmse", "layer_r2", "layer_mse", "complexity",
                          "generations", "evaluations", "search_seconds", "stop_reason", "preset", "output_r2_test"}
    assert result["network"]["widths"] == [1, 4, 4, 1] and srnet["generations"] == 5
    assert len(srnet["layer_r2"]) == len(srnet["layer_mse"]) == len(result["formulas"]["srnet_layers"]) == 3
    assert all(r2 <= 1 for r2 in srnet["layer_r2"]) and all(mse >= 0 for mse in srnet["layer_mse"])
