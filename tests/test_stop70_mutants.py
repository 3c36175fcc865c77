"""Tests that kill the mutants stop 70's mutation run (mutmut 3.8.1, random.Random(70).sample of 40 mutant names
per module) left alive in srnet/metrics.py, srnet/names.py and srnet/bench/runner.py: 10 in metrics (4 of them
reached by no selected test: loose_outputs_text, is_constant), 11 in names (the ASCII fallback of _candidate was
never reached; refusal texts were never compared), 3 in the runner (what _run_locked writes to batch.json,
failed_payload's keys).  None of the survivors was equivalent.  Oracles are computed independently (NumPy, or
the text written out by hand); no test starts a Dask cluster.
"""

import contextlib
import json
import warnings

import numpy as np
import pytest
import torch

import srnet.bench.runner as runner
from srnet.bench.suites import BatchSettings, resolve_suite
from srnet.metrics import (
    class_agreement,
    class_divergence,
    format_r2,
    is_constant,
    loose_outputs,
    loose_outputs_text,
    mse,
    rmse_r2,
)
from srnet.names import check_columns, feature_symbols, input_names, name_list, unused_name


def test_loose_outputs_text_names_one_two_and_three_outputs():
    """loose_outputs_text: one output is named alone, two joined by "and", three by a comma and "and" (the
    mutants took the second of one name, joined two with a comma, and mangled the separator)."""
    assert loose_outputs_text([(1, 0.5)], 0.99) == (
        "for y1 (R2 0.500000), which the pooled R2 0.990000 hides (it weighs outputs by their variance); "
        "read that output as a sketch")
    assert loose_outputs_text([(0, 0.5), (2, 0.7)], 0.99).startswith(
        "for y0 (R2 0.500000) and y2 (R2 0.700000), which")
    assert loose_outputs_text([(0, 0.5), (1, 0.6), (2, 0.7)], 0.99).startswith(
        "for y0 (R2 0.500000), y1 (R2 0.600000) and y2 (R2 0.700000), which the pooled R2 0.990000 hides")
    assert loose_outputs_text([(0, 0.5), (2, 0.7)], 0.99).endswith("read those outputs as a sketch")


def test_loose_outputs_reads_each_outputs_own_r2():
    """loose_outputs: the outputs whose own R^2 (``r2_per_output``) is finite and below LOOSE_BELOW (the mutant read
    another key, and found none)."""
    domain = {"r2": 0.994, "r2_per_output": [0.999, 0.79, None, float("-inf"), 0.9, 0.5]}
    assert loose_outputs(domain) == [(1, 0.79), (5, 0.5)]
    assert loose_outputs(None) == [] and loose_outputs({"r2": 0.5}) == []


def test_class_divergence_reads_the_classes_on_the_last_axis_of_3d_scores():
    """class_divergence: (batch, position, class) logits have their classes on the last axis (the mutants took
    softmax over dim +1, the positions)."""
    rng = np.random.default_rng(70)
    teacher, student = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))

    def log_softmax(z):
        z = z - z.max(axis=-1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))

    p, q = log_softmax(teacher), log_softmax(student)
    expected = float(np.mean(np.sum(np.exp(p) * (p - q), axis=-1)))
    got = float(class_divergence(torch.tensor(teacher), torch.tensor(student)))
    assert got == pytest.approx(expected, rel=1e-12)


def test_rmse_r2_of_a_float32_target_is_computed_in_float64():
    """rmse_r2 (_paired): a float32 target (a network's output) is read in float64, so its figures are those of
    the same values in float64 (the mutants kept float32, whose mean and squares round at 1e-8)."""
    rng = np.random.default_rng(70)
    target = (1000 + rng.normal(size=200)).astype(np.float32)
    predicted = target.astype(np.float64) + 0.01 * rng.normal(size=200)
    t = target.astype(np.float64)
    sse, sst = np.sum((predicted - t) ** 2), np.sum((t - t.mean()) ** 2)
    rmse, r2 = rmse_r2(target, predicted)
    assert rmse == pytest.approx(np.sqrt(sse / t.size), rel=1e-12)
    assert r2 == pytest.approx(1 - sse / sst, rel=1e-12, abs=1e-12)
    assert (rmse, r2) == rmse_r2(t, predicted)


def test_is_constant_judges_each_column_not_the_pooled_spread():
    """is_constant (_varying): one column varying just beyond rounding beside constant ones varies (the mutant
    pooled the spread over every column, which the constant ones dilute below CONSTANT_SPREAD)."""
    varying = np.array([1 - 3e-14, 1 + 3e-14])  # spread 3e-14 of its size, beyond 64 ulps (1.4e-14)
    assert not is_constant(varying)
    assert not is_constant(np.column_stack([varying] + [np.ones(2)] * 9))


def test_mse_of_infinite_values_returns_inf_without_a_warning():
    """mse: inf - inf is NaN inside, silenced, and the result inf (the mutant let numpy warn of the invalid
    value)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mse([np.inf, 1.0], [np.inf, 2.0]) == np.inf


def test_format_r2_switches_to_four_digits_at_minus_ten():
    """format_r2: six decimals in (-10, 1], four significant digits from -10 down (the mutants moved the bound
    to -10 included, or to -11)."""
    assert format_r2(-9.5) == "-9.500000"
    assert format_r2(-10.0) == "-10"
    assert format_r2(-10.5) == "-10.5"
    assert format_r2(1.0) == "1.000000"
    assert format_r2(1.5) == "1.5"


def test_class_agreement_names_the_predicted_argument_in_its_refusal():
    """class_agreement: a 3-D prediction is refused naming ``predicted`` (the mutant named it PREDICTED)."""
    with pytest.raises(ValueError, match=r"^predicted must be 1-D class labels or 2-D class scores"):
        class_agreement(np.zeros((2, 2, 2)), np.zeros(2))
    with pytest.raises(ValueError, match=r"^reference must be 1-D class labels"):
        class_agreement(np.zeros(2), np.zeros((2, 2, 2)))


def test_rmse_r2_of_a_miss_far_beyond_a_tiny_columns_variance_is_minus_inf():
    """rmse_r2: a column of 1e-200 beside a constant column of 1 varies, by a total sum of squares of 5e-401: a
    miss of 0.5 on the constant column is R^2 -inf (1 - SSE/SST is past float64's range)."""
    target = np.column_stack([[1e-200, 2e-200], [1.0, 1.0]])
    predicted = np.column_stack([[0.0, 0.0], [1.5, 1.5]])
    rmse, r2 = rmse_r2(target, predicted)
    assert r2 == -np.inf
    assert rmse == pytest.approx(np.sqrt(0.5 / 4), rel=1e-12)


def test_rmse_r2_of_a_tiny_residual_beside_a_constant_column_is_not_exact():
    """rmse_r2: the residuals were squared in the target's largest units, where a miss of 1e-200 beside a constant
    column of 1 squared to 0: "exact", RMSE 0 and R^2 1, where pooled it is R^2 -9 (each column by itself: -9
    and 1).  Oracle: the sums of squares written out in the tiny column's own units."""
    target = np.column_stack([[1e-200, 2e-200], [1.0, 1.0]])
    predicted = np.column_stack([[0.0, 0.0], [1.0, 1.0]])
    rmse, r2 = rmse_r2(target, predicted)
    sse, sst = 1.0 + 4.0, 2 * 0.5**2  # in units of 1e-200
    assert r2 == pytest.approx(1 - sse / sst, rel=1e-12)  # -9
    assert rmse == pytest.approx(np.sqrt(sse / 4) * 1e-200, rel=1e-12)


def test_feature_symbols_falls_back_to_ascii_for_a_character_no_name_takes():
    """feature_symbols (_candidate): a name with a character that is a word character but no identifier's (U+09F4,
    a Bengali numerator) is made of its ASCII letters, trimmed of underscores only (the mutants kept the
    character, or trimmed X's too)."""
    assert feature_symbols(["Xa\u09f4", "b"]) == ["Xa", "b"]
    assert all(symbol.isidentifier() for symbol in feature_symbols(["Xa\u09f4", "\u09f4b"]))


def test_feature_symbols_renames_sympy_names_builtins_and_clashes():
    """feature_symbols (_taken, the suffix count): sympy's names and Python's built-ins take an underscore, and a
    renamed feature that meets a kept one is numbered from 2 (the mutants read only names in both sympy and the
    built-ins as taken, and numbered from 3)."""
    assert feature_symbols(["sin", "E", "I", "max"]) == ["sin_", "E_", "I_", "max_"]
    assert feature_symbols(["a b", "a_b"]) == ["a_b_2", "a_b"]
    assert feature_symbols(["a b", "a-b", "a_b"]) == ["a_b_2", "a_b_3", "a_b"]


def test_check_columns_says_what_differs_and_what_to_do():
    """check_columns: the refusal says whether the columns are reordered or other ones, the expected names, and the
    fix (the mutants dropped or mangled each part)."""
    with pytest.raises(ValueError) as reordered:
        check_columns(["b", "a"], ["a", "b"], "the network")
    assert str(reordered.value) == "X's columns are in another order than the network (['a', 'b']); reorder them"
    with pytest.raises(ValueError) as other:
        check_columns(["a", "c"], ["a", "b"], "the network")
    assert str(other.value) == "X's columns differ from the network (['a', 'b']); pass the same features"
    with pytest.raises(ValueError) as fixed:
        check_columns(["a", "c"], ["a", "b"], "the network", "do this")
    assert str(fixed.value).endswith("(['a', 'b']); do this")


class _Fitted:
    feature_names_in_ = np.array(["a", "b"])


def test_input_names_checks_a_frame_against_the_model_and_falls_back_to_its_names():
    """input_names: an array takes the model's names; a frame in another column order is refused naming the
    model's features and the fix (the mutants returned None for an array, skipped the check, or shouted)."""
    pd = pytest.importorskip("pandas")
    assert input_names(np.zeros((2, 2)), _Fitted()) == ["a", "b"]
    assert input_names(pd.DataFrame(np.zeros((2, 2)), columns=["a", "b"]), _Fitted()) == ["a", "b"]
    with pytest.raises(ValueError) as refused:
        input_names(pd.DataFrame(np.zeros((2, 2)), columns=["b", "a"]), _Fitted())
    assert str(refused.value) == ("X's columns are in another order than the features the model was fitted on "
                                  "(['a', 'b']); pass X[model.feature_names_in_]")


def test_unused_name_adds_underscores_until_free_and_takes_the_name():
    """unused_name: underscores until the name is free, which it then joins (the mutants looped on free names,
    and added None)."""
    taken = {"z", "z_"}
    assert unused_name("z", taken) == "z__"
    assert taken == {"z", "z_", "z__"}
    assert unused_name("u", taken) == "u" and "u" in taken


def test_name_list_refuses_equal_names_as_feature_names():
    """name_list: equal names are refused naming ``feature_names`` and both inputs (the mutant named them
    FEATURE_NAMES)."""
    with pytest.raises(ValueError) as refused:
        name_list(["a", "b", "a"])
    assert str(refused.value) == "feature_names must be distinct: 'a' names inputs 0 and 2"
    assert name_list([1, "b"]) == ["1", "b"]


class _Client:
    def scheduler_info(self):
        return {"workers": {"tcp://127.0.0.1:1": {}}}


def _run_suite_without_dask(monkeypatch, out, run_info):
    """run_suite with a stand-in cluster and a stand-in run_batch that records each job ok (no Dask started)."""
    calls = []

    @contextlib.contextmanager
    def client(workers, scheduler):
        yield _Client()

    def batch(jobs, store, client, *, plan, progress):
        calls.append((list(jobs), progress))
        for job in plan.todo:
            store.write({"job": job.description(), "status": "ok", "settings": job.settings.to_dict()})
        return runner.BatchOutcome(plan=plan, ok=len(plan.todo), seconds=0.5)

    monkeypatch.setattr(runner, "dask_client", client)
    monkeypatch.setattr(runner, "run_batch", batch)
    suite = resolve_suite("nguyen:nguyen-1,nguyen-2", settings=BatchSettings(seconds=None, generations=5))
    lines = []
    outcome = runner.run_suite(suite, out, workers=1, progress=False, run_info=run_info, log=lines.append)
    return suite, outcome, calls, json.loads((out / "batch.json").read_text()), lines


def test_run_suite_records_its_run_info_jobs_and_outcome_in_the_manifest(tmp_path, monkeypatch):
    """_run_locked: the run's record keeps the caller's run_info and, once closed, what it did (finished_at, ok,
    failed, unfinished); the manifest lists the planned jobs; run_batch gets every job (the mutants dropped
    run_info, renamed the outcome's keys, and left the jobs out of the manifest)."""
    suite, outcome, calls, manifest, lines = _run_suite_without_dask(monkeypatch, tmp_path / "out",
                                                                     {"command": "srnet bench nguyen"})
    ids = sorted(job.job_id for job in suite.jobs)
    assert outcome.ok == 2 and [sorted(job.job_id for job in jobs) for jobs, _ in calls] == [ids]
    assert calls[0][1] is False
    run = manifest["runs"][-1]
    assert run["command"] == "srnet bench nguyen"
    assert {key: run[key] for key in ("ok", "failed", "unfinished", "batch_seconds")} == {
        "ok": 2, "failed": 0, "unfinished": 0, "batch_seconds": 0.5}
    assert "finished_at" in run and run["suite"] == suite.name and run["jobs"] == 2
    assert sorted(manifest["jobs"]) == ids
    assert lines[0].startswith(f"{suite.name}: 2 jobs (2 datasets, ")


def test_run_suite_with_nothing_to_do_records_a_finished_run_with_its_jobs(tmp_path, monkeypatch):
    """_run_locked: a rerun of a finished batch records a run that found every job done, with run_info and the
    planned jobs, and starts no cluster (the mutants dropped run_info, or the jobs, from that record)."""
    out = tmp_path / "out"
    _run_suite_without_dask(monkeypatch, out, None)
    (out / "batch.json").write_text(json.dumps({**json.loads((out / "batch.json").read_text()), "jobs": {}}))
    suite, outcome, calls, manifest, _ = _run_suite_without_dask(monkeypatch, out, {"command": "again"})
    assert calls == [] and outcome.ok == 0
    run = manifest["runs"][-1]
    assert run["command"] == "again" and run["ok"] == 0 and run["unfinished"] == 0 and "finished_at" in run
    assert sorted(manifest["jobs"]) == sorted(job.job_id for job in suite.jobs)


def test_failed_payload_records_the_versions_and_the_client_as_recorder():
    """failed_payload: a failure the client records carries the job, status, error, settings, versions and host
    like any result (the mutant wrote the versions under "VERSIONS", which nothing reads)."""
    from srnet.bench.jobs import versions

    job = resolve_suite("nguyen:nguyen-1", settings=BatchSettings(seconds=None, generations=5)).jobs[0]
    payload = runner.failed_payload(job, RuntimeError("the job broke"))
    assert payload["versions"] == versions() and "VERSIONS" not in payload
    assert payload["status"] == "failed" and payload["job"]["id"] == job.job_id
    assert payload["error"]["type"] == "RuntimeError" and payload["error"]["message"] == "the job broke"
    assert payload["host"]["recorded_by"] == "client" and payload["timings"] == {}


def test_rmse_r2_reads_no_variance_in_a_constant_columns_rounded_mean():
    """rmse_r2: a column fixed at 1e200 has deviations of 1.7e184 from its rounded mean, which swamped the sum of
    squares of a column varying by 1e18 beside it: predicting that column as 0 scored pooled R^2 1 (a diff
    review).  Oracle: the constant column adds nothing to either sum, so the pooled R^2 is the varying column's."""
    varying = np.array([-9.7e17, -1.4e18, -1.42e18, 2.7e18, -1.57e18, 4.3e17])
    target = np.column_stack([np.full(6, 1e200), varying])
    predicted = np.column_stack([np.full(6, 1e200), np.zeros(6)])
    expected = 1.0 - np.sum(varying**2) / np.sum((varying - varying.mean()) ** 2)
    assert rmse_r2(target, predicted)[1] == pytest.approx(expected, rel=1e-9)
    assert rmse_r2(target, predicted)[0] == pytest.approx(np.sqrt(np.sum(varying**2) / 12), rel=1e-12)
