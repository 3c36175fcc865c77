"""Result files: atomic, self-checking, resumable; the manifest guards the settings."""

import json

import pytest

from srnet.bench.store import CorruptResult, ResultStore, read_result
from srnet.bench.suites import BatchSettings, resolve_suite


def payload(job, status="ok", value=0.5):
    return {"job": job.description(), "status": status, "settings": job.settings.to_dict(),
            "error": None if status == "ok" else {"type": "ValueError", "message": "boom", "traceback": ""},
            "metrics": {"srnet": {"output_r2": value}}}


@pytest.fixture
def jobs():
    return resolve_suite("nguyen:nguyen-1,nguyen-2,nguyen-3").jobs


def test_round_trip_and_no_temporaries(tmp_path, jobs):
    store = ResultStore(tmp_path)
    path = store.write(payload(jobs[0], value=float("-inf")))
    assert path.name == "nguyen-1__srnet__seed0.json"
    assert read_result(path)["metrics"]["srnet"]["output_r2"] is None  # a non-finite figure is null: valid JSON

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    json.loads(path.read_text(), parse_constant=refuse)  # what a strict reader (jq, JavaScript) accepts
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_truncated_edited_and_misplaced_files_are_corrupt(tmp_path, jobs):
    store = ResultStore(tmp_path)
    path = store.write(payload(jobs[0]))
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    with pytest.raises(CorruptResult, match="JSON"):
        read_result(path)
    document = json.loads(text)
    document["payload"]["metrics"]["srnet"]["output_r2"] = 0.99  # valid JSON, wrong hash
    path.write_text(json.dumps(document))
    with pytest.raises(CorruptResult, match="SHA-256"):
        read_result(path)
    other = store.path(jobs[1].job_id)
    other.write_text(text)  # a valid result under another job's name
    with pytest.raises(CorruptResult, match="not 'nguyen-2"):
        read_result(other)
    path.write_text("")
    with pytest.raises(CorruptResult):
        read_result(path)


def test_plan_skips_done_keeps_failed_and_redoes_corrupt(tmp_path, jobs):
    store = ResultStore(tmp_path)
    store.write(payload(jobs[0]))
    store.write(payload(jobs[1], status="failed"))
    store.path(jobs[2].job_id).write_text('{"schema": "srnet.bench.result/1", "sha')
    plan = store.plan(jobs)
    assert plan.done == [jobs[0].job_id]
    assert plan.failed_kept == [jobs[1].job_id]
    assert [job.job_id for job in plan.todo] == [jobs[2].job_id]
    assert [job_id for job_id, _ in plan.corrupt] == [jobs[2].job_id]
    assert not store.path(jobs[2].job_id).exists()  # moved aside, not counted
    assert len(list(store.corrupt.iterdir())) == 1
    retry = store.plan(jobs, retry_failed=True)
    assert [job.job_id for job in retry.todo] == [jobs[1].job_id, jobs[2].job_id]
    assert retry.retried == [jobs[1].job_id]


def test_load_all_lists_corrupt_files(tmp_path, jobs):
    store = ResultStore(tmp_path)
    store.write(payload(jobs[0]))
    store.path(jobs[1].job_id).write_text("{")
    payloads, corrupt = store.load_all()
    assert [p["job"]["id"] for p in payloads] == [jobs[0].job_id]
    assert [path.name for path, _ in corrupt] == [f"{jobs[1].job_id}.json"]


def test_leftover_temporaries_are_cleaned(tmp_path, jobs):
    store = ResultStore(tmp_path)
    store.write(payload(jobs[0]))
    (store.results / ".tmp-nguyen-2__srnet__seed0.json.abc").write_text('{"half')
    assert store.clean_temporaries() == 1
    assert [p.name for p in store.results.iterdir()] == [f"{jobs[0].job_id}.json"]


def test_manifest_refuses_other_settings_once_the_folder_holds_results(tmp_path, jobs):
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(BatchSettings(seconds=5.0)), {"run": 1})
    # a first run killed before any result leaves nothing to keep: other settings take the folder
    store.open_batch(store.check_batch(BatchSettings(seconds=6.0)), {"run": 2})
    assert store.read_manifest()["settings"]["seconds"] == 6.0
    store.write(payload(jobs[0]))
    store.open_batch(store.check_batch(BatchSettings(seconds=6.0)), {"run": 3})
    assert [run["run"] for run in store.read_manifest()["runs"]] == [1, 2, 3]
    with pytest.raises(ValueError, match=r"other settings \(--seconds: folder 6.0, now 10.0\)"):
        store.check_batch(BatchSettings(seconds=10.0))


@pytest.mark.parametrize("manifest", [
    {"schema": "srnet.bench.batch/1", "settings": {}},  # no runs
    {"schema": "srnet.bench.batch/1", "settings": [], "runs": []},
    {"schema": "srnet.bench.batch/1", "settings": {}, "runs": ["x"]},
])
def test_a_manifest_without_settings_or_runs_is_not_a_manifest(tmp_path, manifest):
    store = ResultStore(tmp_path)
    store.manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="is not an srnet batch manifest; choose another --out$"):
        store.check_batch(BatchSettings())


def test_a_damaged_manifest_beside_results_is_moved_away_not_the_folder_abandoned(tmp_path, jobs):
    """A batch.json of valid JSON but no manifest ([1, 2, 3]) beside good results said "choose another --out",
    which abandons them; an unreadable one already said "move it away" (each result is checked on its own)."""
    store = ResultStore(tmp_path)
    store.write(payload(jobs[0]))
    store.manifest_path.write_text("[1, 2, 3]")
    with pytest.raises(ValueError, match=r"batch.json' is not an srnet batch manifest; move it away to resume "
                                         r"\(the results are checked one by one anyway\)$"):
        store.check_batch(BatchSettings())
    store.manifest_path.unlink()  # as advised: the folder resumes, its result kept
    store.open_batch(store.check_batch(BatchSettings()), {"run": 1})
    assert store.plan(jobs).done == [jobs[0].job_id]


def test_result_of_other_settings_is_refused(tmp_path):
    store = ResultStore(tmp_path)
    old = resolve_suite("nguyen:nguyen-1", settings=BatchSettings(seconds=5.0)).jobs[0]
    store.write(payload(old))
    new = resolve_suite("nguyen:nguyen-1", settings=BatchSettings(seconds=6.0)).jobs
    with pytest.raises(ValueError, match=r"1 result file\(s\) in .* made with other settings than this batch's: "
                                         r"nguyen-1__srnet__seed0.json \(--seconds: folder 5.0, now 6.0\); use another"):
        store.plan(new)


def test_one_batch_at_a_time(tmp_path):
    store = ResultStore(tmp_path)
    with store.lock():
        with pytest.raises(ValueError, match=r"in use by another srnet bench \(pid \d+\)"):
            with ResultStore(tmp_path).lock():
                pass
    with store.lock():  # released
        pass


@pytest.mark.parametrize("name, make", [("results", "file"), ("corrupt", "file"), (".lock", "folder")])
def test_a_file_where_a_folder_goes_is_refused_before_anything_is_written(tmp_path, name, make):
    path = tmp_path / name
    path.mkdir() if make == "folder" else path.write_text("")
    with pytest.raises(ValueError, match=f"'{path}' is a {make}, where srnet bench keeps"):
        with ResultStore(tmp_path).lock():
            pass
    assert not (tmp_path / "batch.json").exists()


def test_a_folder_of_an_older_srnet_with_its_explainers_in_another_order_resumes(tmp_path):
    """Batches now run their explainers in one order; a folder written before, its explainers in the order
    named, was refused with advice no command line could follow."""
    from dataclasses import asdict

    settings = BatchSettings(seconds=5.0, explainers=("maple", "lime"))
    old_order = {**asdict(settings), "explainers": ["maple", "lime"], "hidden": list(settings.hidden)}
    store = ResultStore(tmp_path)
    store.results.mkdir(parents=True)
    store.manifest_path.write_text(json.dumps({"schema": "srnet.bench.batch/1", "settings": old_order, "runs": []}))
    job = resolve_suite("nguyen:nguyen-1", settings=settings).jobs[0]
    store.write({**payload(job), "settings": old_order})
    store.check_batch(settings)
    assert store.plan([job]).done == [job.job_id]
    with pytest.raises(ValueError, match="explainers"):
        store.check_batch(BatchSettings(seconds=5.0, explainers=("maple",)))


def test_differences_read_as_settings_not_python_reprs():
    from srnet.bench.store import differences

    assert differences({"generations": 20, "seconds": None, "explainers": ["lime"]},
                       {"generations": None, "seconds": 2.0, "explainers": []}) == (
        "--explainers: folder [lime], now []; --generations: folder 20, now unset; --seconds: folder unset, now 2.0")
