"""Review of batch runs: resume after damage, manifests of NumPy figures, settings and seeds checked before any
job, and Ctrl-C inside a job."""

import numpy as np
import pytest

from srnet.bench.jobs import run_job
from srnet.bench.store import ResultStore, read_result
from srnet.bench.suites import MAX_SEED, BatchSettings, resolve_suite

TINY = BatchSettings(seconds=None, generations=5, hidden=(4, 4), epochs=20, max_rows=300, n_points=100,
                     nguyen_rows=60)


@pytest.mark.parametrize("text, why", [
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),  # a RecursionError stopped the resume
    ('{"schema": "srnet.bench.result/1", "sha256": ' + "1" * 5000 + "}", "digits"),  # a bare ValueError: refused
])
def test_a_damaged_result_that_json_cannot_parse_is_moved_aside_and_redone(tmp_path, text, why):
    jobs = resolve_suite("nguyen:nguyen-1,nguyen-2").jobs
    store = ResultStore(tmp_path)
    store.results.mkdir(parents=True)
    store.path(jobs[0].job_id).write_text(text)
    plan = store.plan(jobs)
    assert [job.job_id for job in plan.todo] == [jobs[0].job_id, jobs[1].job_id]
    assert [job_id for job_id, _ in plan.corrupt] == [jobs[0].job_id] and why in plan.corrupt[0][1]
    assert len(list(store.corrupt.iterdir())) == 1


def test_a_manifest_nested_past_the_stack_is_one_line(tmp_path):
    store = ResultStore(tmp_path)
    store.manifest_path.write_text("[" * 100_000)
    with pytest.raises(ValueError, match=r"batch.json' is unreadable \(manifest JSON is corrupt: nested too deeply\)"):
        store.check_batch(BatchSettings())


def test_settings_and_a_worker_count_of_numpy_numbers_write_a_manifest_that_resumes(tmp_path):
    """json.dumps refused np.int64: a TypeError after the cluster had started, and no manifest."""
    settings = BatchSettings(seconds=None, generations=np.int64(5), hidden=(np.int64(4), np.int64(4)),
                             max_rows=np.int64(300), early_stopping=np.float32(0.25))
    job = resolve_suite("nguyen:nguyen-1", settings=settings).jobs[0]
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(job.settings), {"started_at": "t0", "workers": np.int64(2)})
    store.close_batch("t0", {"ok": np.int64(1)})
    manifest = store.read_manifest()
    assert manifest["settings"]["hidden"] == [4, 4] and manifest["runs"] == [{"started_at": "t0", "workers": 2,
                                                                            "ok": 1}]
    store.check_batch(job.settings)  # the same settings: the folder resumes
    store.write({"job": job.description(), "status": "ok", "settings": job.settings.to_dict()})
    assert store.plan([job]).done == [job.job_id]
    assert read_result(store.path(job.job_id))["settings"]["generations"] == 5


@pytest.mark.parametrize("hidden", [(4.5,), (4.0,), ("4",), (True, 4)])
def test_hidden_widths_the_training_refuses_are_refused_before_any_job(hidden):
    """They passed validate() and every job failed on the workers (train_mlp: "layer widths must be whole")."""
    with pytest.raises(ValueError, match=r"^--hidden needs positive integer widths, e.g. 32,32; got "):
        resolve_suite("nguyen:nguyen-1", settings=BatchSettings(hidden=hidden))
    assert resolve_suite("nguyen:nguyen-1", settings=BatchSettings(hidden=(np.int64(4),))).jobs


@pytest.mark.parametrize("seed, message", [
    (MAX_SEED + 1, rf"seeds must be whole numbers from 0 to {MAX_SEED}; got \({MAX_SEED + 1},\)"),  # every job
    # failed in scikit-learn's split
    (1.7, "seed must be a whole number, got 1.7"),  # ran as seed 1
    (True, "seed must be a number, got True"),  # ran as seed 1
])
def test_seeds_that_no_job_can_run_are_refused_before_any_job(seed, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        resolve_suite("nguyen:nguyen-1", seeds=(seed,))
    jobs = resolve_suite("nguyen:nguyen-1", seeds=[*np.arange(3.0), 2, MAX_SEED]).jobs
    assert [job.seed for job in jobs] == [0, 1, 2, MAX_SEED]


def test_a_limit_that_is_not_whole_is_one_line():
    """2.5 was a TypeError from slicing the dataset list."""
    with pytest.raises(ValueError, match=r"^--limit must be a whole number, got 2.5$"):
        resolve_suite("nguyen", limit=2.5)
    assert len(resolve_suite("nguyen", limit=2.0).jobs) == 2


def test_a_search_cut_short_by_ctrl_c_is_not_recorded_as_ok(monkeypatch):
    """Ctrl-C in the process running a job stopped its search early, and compare measured what it had: the job
    was "ok", and resume never redid it. It is a Ctrl-C now, as during training."""
    import srnet.compare

    real = srnet.compare.compare

    def cut_short(*args, **kwargs):
        comparison = real(*args, **kwargs)
        comparison.interrupted = True
        return comparison

    monkeypatch.setattr(srnet.compare, "compare", cut_short)
    with pytest.raises(KeyboardInterrupt):
        run_job(resolve_suite("nguyen:nguyen-1", settings=TINY).jobs[0])


def test_one_explainer_or_method_may_be_named_by_a_string():
    """A plain string was split into letters: "unknown explainer 'e'", "unknown method 's'"."""
    from srnet.bench.suites import BatchSettings, resolve_suite

    assert BatchSettings(explainers="lime").explainers == ("lime",)
    with pytest.raises(ValueError) as error:
        resolve_suite("no-such-suite", methods="srnet")
    assert "method" not in str(error.value)
