"""A resumed batch reads the same PMLB tables as its results: a reviewer ran pmlb:iris from one cache, then retried
its failed jobs from another, and the summary read '3 results: 3 ok', two tables' results mixed in silence."""

import pandas as pd
import pytest
from test_bench_edge_cases import payload

from srnet.bench.jobs import load_pmlb, table_digest
from srnet.bench.runner import check_same_tables, run_suite
from srnet.bench.store import ResultStore
from srnet.bench.suites import BatchSettings, resolve_suite

SETTINGS = BatchSettings(seconds=1.0)
ROWS = [[0.1 * k, (-1) ** k * 0.3 * k, k % 2] for k in range(30)]


def _cache(folder, rows):
    """A PMLB cache folder holding an 'iris' table of ``rows`` (a, b, target)."""
    (folder / "iris").mkdir(parents=True)
    pd.DataFrame(rows, columns=["a", "b", "target"]).to_csv(folder / "iris" / "iris.tsv.gz", sep="\t", index=False)
    return folder


def _batch_with_a_failed_result(tmp_path, cache):
    """A folder whose one iris job failed after reading ``cache``'s table (its digest recorded), and the suite."""
    suite = resolve_suite("pmlb:iris", settings=SETTINGS, pmlb_cache=cache, task="classification")
    store = ResultStore(tmp_path / "out")
    store.open_batch(store.check_batch(SETTINGS), {"started_at": "2026-01-01T00:00:00.000+00:00",
                                                   "suite": suite.name, "jobs": 1})
    X, y, names, _, _ = load_pmlb("iris", cache, "classification")
    failed = payload(suite.jobs[0], status="failed")
    failed["data"]["table_sha256"] = table_digest(X, y, names)
    store.write(failed)
    return store


def test_a_job_to_run_on_another_table_than_its_results_is_refused(tmp_path, no_cluster):
    first = _cache(tmp_path / "first", ROWS)
    store = _batch_with_a_failed_result(tmp_path, first)
    edited = _cache(tmp_path / "edited", [row[:2] + [1 - row[2]] if k == 3 else row for k, row in enumerate(ROWS)])
    other = resolve_suite("pmlb:iris", settings=SETTINGS, pmlb_cache=edited, task="classification")
    with pytest.raises(ValueError, match=r"PMLB dataset 'iris' in .*edited is not the table this folder's results "
                                         r"of it were made on"):
        run_suite(other, store.root, retry_failed=True, progress=False, log=lambda line: None)
    same = resolve_suite("pmlb:iris", settings=SETTINGS, pmlb_cache=first, task="classification")
    check_same_tables(same.jobs, store)  # the same table: nothing said


def test_tables_are_read_only_for_datasets_with_results(tmp_path, monkeypatch):
    """A fresh batch reads no table ahead of its jobs (160 PMLB tables would be read twice)."""
    cache = _cache(tmp_path / "cache", ROWS)
    suite = resolve_suite("pmlb:iris", settings=SETTINGS, pmlb_cache=cache, task="classification")
    read = []
    monkeypatch.setattr("srnet.bench.runner.load_pmlb", lambda *args: read.append(args))
    check_same_tables(suite.jobs, ResultStore(tmp_path / "empty"))
    assert read == []


def test_the_digest_reads_names_features_and_target():
    X, y = [[1.0, 2.0], [3.0, 4.0]], [0, 1]
    digest = table_digest(X, y, ["a", "b"])
    assert len(digest) == 64 and digest == table_digest(X, y, ["a", "b"])
    assert digest != table_digest(X, y, ["a", "c"])
    assert digest != table_digest([[1.0, 2.0], [3.0, 4.5]], y, ["a", "b"])
    assert digest != table_digest(X, [1, 0], ["a", "b"])
