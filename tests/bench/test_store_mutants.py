"""Tests that kill survivors of a mutation-testing sample of ``srnet/bench/store.py``.

Sample: mutmut 3.8.1 mutants of the module (``only_mutate = ["srnet/bench/store.py",
"srnet/expr/program.py"]``), 12 of its 496 drawn with ``random.Random(61).sample(sorted(names), 12)``, each run
alone (MUTANT_UNDER_TEST, ``-n 0 -x``) against tests/bench/test_bench_store.py, test_bench_edge_cases.py,
test_bench_report.py, test_bench_task.py, test_bench_runner.py, test_bench_cli.py, test_bench_jobs.py,
test_bench_suites.py, tests/test_review_bench.py and tests/test_leftovers_bench.py (the two slow resume tests of
test_bench_cli.py and the scheduler-address test of test_bench_runner.py only for mutants that survived the
rest).  One survived, x_check_result__mutmut_83.  A supplementary draw, the next 12 of the same seed
(``random.Random(61).sample(sorted(names), 24)[12:]``), left three: x_check_result__mutmut_76 and
x_canonical_json__mutmut_12, killed here, and xǁResultStoreǁclose_batch__mutmut_17 (batch.json rewritten on one
line, ``indent=None``), equivalent: it reads back the same manifest.  Each test names the mutant it kills and what
a user would see go wrong.
"""

import json

import pytest

from srnet.bench.report import write_report
from srnet.bench.store import CorruptResult, ResultStore, canonical_json, check_result, digest, read_result, seal
from srnet.bench.suites import BatchSettings, resolve_suite

#: Every part of a payload that the report reads as an object.
_OBJECTS = ("error", "data", "network", "metrics", "timings", "settings", "formulas")


@pytest.fixture
def jobs():
    return resolve_suite("nguyen:nguyen-1,nguyen-2", settings=BatchSettings()).jobs


def _payload(job):
    return {"job": job.description(), "status": "ok", "settings": job.settings.to_dict(),
            "data": {"rows": 20}, "network": {"trained": True, "train_r2": 0.9, "test_r2": 0.8},
            "metrics": {"srnet": {"output_r2": 0.9}}, "timings": {"total": 1.0}, "formulas": {"srnet": ["x0"]}}


@pytest.mark.parametrize("key", _OBJECTS)
def test_a_sealed_result_whose_part_is_not_an_object_is_corrupt(jobs, key):
    """x_check_result__mutmut_83 ("network" left out of the parts checked to be objects): a sealed result whose
    'network' was a list passed the check, so it counted as a valid result."""
    payload = _payload(jobs[0])
    payload[key] = ["not", "an", "object"]
    with pytest.raises(CorruptResult, match=f"^'{key}' is a list, not an object$"):
        check_result(seal(payload), expected_id=jobs[0].job_id)
    payload[key] = None  # absent parts are fine (a failed job has no network)
    assert check_result(seal(payload), expected_id=jobs[0].job_id) is payload


def test_resume_redoes_a_result_whose_network_is_not_an_object(tmp_path, jobs):
    """x_check_result__mutmut_83: a resealed hand edit (or another writer's file) with ``"network": "..."``
    counted as done on resume, so the job was never redone, while srnet report could not read it (listed as a
    malformed result, AttributeError, run after run); it must be moved to corrupt/ and redone like any damaged
    file."""
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(BatchSettings()), {"run": 1}, jobs)
    bad = _payload(jobs[0])
    bad["network"] = "trained, test accuracy 0.8"
    store.write(bad)
    store.write(_payload(jobs[1]))

    report = write_report(tmp_path, plots=False)  # the report names why, not a traceback's words
    assert [(path.name, why) for path, why in report.corrupt] == [
        (f"{jobs[0].job_id}.json", "'network' is a str, not an object")]

    plan = store.plan(jobs)
    assert plan.done == [jobs[1].job_id]
    assert [job.job_id for job in plan.todo] == [jobs[0].job_id]
    assert plan.corrupt == [(jobs[0].job_id, "'network' is a str, not an object")]
    assert not store.path(jobs[0].job_id).exists()
    assert [path.name.split(".json.")[0] for path in store.corrupt.iterdir()] == [jobs[0].job_id]


def test_a_result_whose_fields_name_another_job_names_both_ids(tmp_path, jobs):
    """x_check_result__mutmut_76 (``job.get(None)`` in the message): a sealed result in its own job's file whose
    dataset, method and seed name another job was refused as "... not None", as if it had no id at all, hiding
    which file holds which job."""
    payload = _payload(jobs[0])
    payload["job"]["seed"] = 1  # its id still says seed 0
    path = ResultStore(tmp_path).write(payload)
    assert path.name == "nguyen-1__srnet__seed0.json"
    with pytest.raises(CorruptResult) as error:
        read_result(path)
    assert str(error.value) == ("payload is job 'nguyen-1__srnet__seed1' by its dataset, method and seed, "
                                "not 'nguyen-1__srnet__seed0'")


def test_a_result_with_text_beyond_ascii_is_sealed_and_read_back(tmp_path, jobs):
    """x_canonical_json__mutmut_12 (``ensure_ascii=False``): the hash is taken of the ASCII encoding of the
    canonical JSON, so a failed job whose error message held a non-ASCII character (a file name with an accent,
    a "≤" in a message) ended the whole batch in UnicodeEncodeError when its result was written, and a resume
    found every such file "corrupt"."""
    store = ResultStore(tmp_path)
    payload = _payload(jobs[0])
    payload.update(status="failed", error={"type": "ValueError", "message": "données: x ≤ 0 in 'café.csv'",
                                           "traceback": "…"})
    payload["formulas"] = {"srnet": ["x₀ + 1"]}
    assert canonical_json(payload).isascii()
    assert json.loads(canonical_json(payload)) == payload
    path = store.write(payload)
    assert read_result(path) == payload
    assert json.loads(path.read_text(encoding="utf-8"))["sha256"] == digest(payload)
    assert store.plan(jobs[:1]).failed_kept == [jobs[0].job_id]
