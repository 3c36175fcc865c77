"""``srnet bench`` and ``srnet report`` end to end: errors before work, kill and resume, corrupt files."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from srnet.bench.store import ResultStore, read_result
from srnet.cli import main

TINY = ["--generations", "5", "--epochs", "20", "--hidden", "4,4", "--points", "100", "--quiet"]


def snapshot(store):
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in store.results.glob("*.json")}


@pytest.mark.parametrize("argv, message", [
    (["pmlb:irsi"], "unknown PMLB dataset 'irsi'; did you mean 'iris'"),
    (["pmlb-classification"], "holds none of PMLB's"),
    (["pmlb:iris,wine_recognition"], "not in the cache folder"),
    (["nguyen", "--seeds", "x"], "bad seed"),
    (["nguyen:"], "suite 'nguyen:' names no datasets after ':'; drop the ':' for the whole suite"),
    (["pmlb:"], "suite 'pmlb:' names no datasets after ':'; name them (pmlb:iris,wine) or run a whole suite: "
                "pmlb-classification or pmlb-regression"),  # (there is no suite 'pmlb' to drop the ':' to)
    (["pmlb-regression: ,"], "names no datasets after ':'"),
    (["nguyen", "--scheduler", "ucx://127.0.0.1:1"], "--scheduler 'ucx://127.0.0.1:1' is not a Dask scheduler "
                                                     "address such as tcp://HOST:8786"),
    (["nguyen", "--scheduler", "inproc://x"], "is not a Dask scheduler address"),
    (["nguyen", "--scheduler", "127.0.0.1:notaport"], "is not a Dask scheduler address"),
    (["nguyen", "--scheduler", "tcp://127.0.0.1:99999"], "port 99999 is not a port number (1-65535)"),
])
def test_clear_errors_before_any_work(tmp_path, capsys, no_cluster, argv, message):
    empty = tmp_path / "cache"
    empty.mkdir()
    out = tmp_path / "out"
    assert main(["bench", *argv, "--out", str(out), "--pmlb-cache", str(empty)]) == 2
    error = capsys.readouterr().err
    assert error.startswith("srnet bench: error: ") and message in error
    assert len(error.strip().splitlines()) == 1
    assert not out.exists()


def test_an_out_path_that_is_a_file_is_one_clear_line(tmp_path, capsys, no_cluster):
    taken = tmp_path / "taken"
    taken.write_text("not a folder")
    assert main(["bench", "nguyen:nguyen-1", "--out", str(taken), *TINY]) == 2
    error = capsys.readouterr().err
    assert error == f"srnet bench: error: --out '{taken}' cannot be the output folder: '{taken}' is a file\n"


def test_corrupt_result_is_redone_and_settings_are_guarded(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["bench", "nguyen:nguyen-1,nguyen-2", "--out", str(out), "--workers", "1", *TINY]
    assert main(argv) == 0
    store = ResultStore(out)
    bad = store.path("nguyen-1__srnet__seed0")
    bad.write_text(bad.read_text()[:200])  # truncated
    kept = snapshot(store)["nguyen-2__srnet__seed0.json"]
    capsys.readouterr()
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "corrupt result nguyen-1__srnet__seed0" in printed and "1 to run, 1 already done" in printed
    assert read_result(bad)["status"] == "ok"
    assert snapshot(store)["nguyen-2__srnet__seed0.json"] == kept
    assert len(list(store.corrupt.iterdir())) == 1
    runs = json.loads((out / "batch.json").read_text())["runs"]
    assert main(argv) == 0  # a run with nothing to do is recorded closed at once, having done nothing
    after = json.loads((out / "batch.json").read_text())["runs"]
    assert after[:2] == runs and len(runs) == 2 and len(after) == 3
    assert (after[2]["ok"], after[2]["failed"], after[2]["unfinished"]) == (0, 0, 0)
    assert all("finished_at" in run for run in after)

    assert main(["report", str(out)]) == 0
    assert len((out / "summary.csv").read_text().strip().splitlines()) == 3  # header + 2 jobs
    assert "nguyen-1" in (out / "summary.md").read_text()

    changed = [a if a != "5" else "6" for a in argv]  # --generations 6
    assert main(changed) == 2
    assert "other settings (--generations: folder 5, now 6)" in capsys.readouterr().err

    # without its manifest, the results themselves refuse other settings, and the refusal writes nothing:
    # it wrote the other settings' manifest, after which the folder's own command was refused
    (out / "batch.json").unlink()
    assert main(changed) == 2
    assert "no batch.json and 2 result(s) made with other settings (--generations: folder 5, now 6)" in \
        capsys.readouterr().err
    assert not (out / "batch.json").exists()
    # nor may another suite's jobs join them under other settings (only the suite's own files were checked)
    assert main([a if a != "nguyen:nguyen-1,nguyen-2" else "nguyen:nguyen-3" for a in changed]) == 2
    assert "made with other settings" in capsys.readouterr().err and not (out / "batch.json").exists()
    assert main(argv) == 0 and "2 already done" in capsys.readouterr().out


def test_killed_batch_resumes_without_losing_or_repeating_work(tmp_path):
    out = tmp_path / "out"
    command = [sys.executable, "-m", "srnet.cli", "bench", "nguyen", "--limit", "6", "--out", str(out),
               "--seconds", "2", "--epochs", "20", "--hidden", "4,4", "--points", "100", "--workers", "2",
               "--quiet"]
    store = ResultStore(out)
    with open(tmp_path / "first.log", "w") as log:
        process = subprocess.Popen(command, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        deadline = time.monotonic() + 300
        while not (store.results.is_dir() and list(store.results.glob("*.json"))):
            assert process.poll() is None, (tmp_path / "first.log").read_text()
            assert time.monotonic() < deadline, "no result within 300 s"
            time.sleep(0.2)
        os.killpg(process.pid, signal.SIGKILL)  # the client, the cluster and its workers, mid-run
        process.wait()
    deadline = time.monotonic() + 30
    while True:  # every process of the batch is gone
        try:
            os.killpg(process.pid, 0)
        except ProcessLookupError:
            break
        assert time.monotonic() < deadline, "processes of the killed batch are still alive"
        time.sleep(0.2)
    finished = snapshot(store)
    assert 1 <= len(finished) < 6, "the batch was not killed mid-run"

    rerun = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{6 - len(finished)} to run, {len(finished)} already done" in rerun.stdout
    results = {p.name: read_result(p) for p in store.results.glob("*.json")}
    assert sorted(results) == sorted(f"nguyen-{k}__srnet__seed0.json" for k in range(1, 7))
    assert all(r["status"] == "ok" for r in results.values())
    after = snapshot(store)
    assert all(after[name] == finished[name] for name in finished)  # not recomputed, not rewritten
    assert not list(store.results.glob(".tmp-*")) and not store.corrupt.exists()
    assert len(json.loads((out / "batch.json").read_text())["runs"]) == 2


def test_repeated_seeds_add_up_and_unfinished_jobs_exit_3(tmp_path, monkeypatch):
    """--seeds 0 --seeds 1 kept the last only; jobs lost to the cluster exited 0 as if the batch had finished."""
    from srnet.bench.runner import BatchOutcome
    from srnet.bench.store import Plan

    seen = {}

    def run_suite(suite, out, **kwargs):
        seen["seeds"] = sorted({job.seed for job in suite.jobs})
        return BatchOutcome(Plan(todo=list(suite.jobs)), unfinished=["nguyen-1__srnet__seed0"])

    monkeypatch.setattr("srnet.bench.runner.run_suite", run_suite)
    assert main(["bench", "nguyen:nguyen-1", "--out", str(tmp_path), "--seeds", "0", "--seeds", "2", *TINY]) == 3
    assert seen["seeds"] == [0, 2]
    assert main(["bench", "nguyen:nguyen-1", "--out", str(tmp_path), *TINY]) == 3 and seen["seeds"] == [0]


def test_a_batch_with_failed_jobs_exits_1(tmp_path, monkeypatch):
    """A batch whose every job failed (--hidden 100000000: the network could not be allocated) exited 0."""
    from srnet.bench.runner import BatchOutcome
    from srnet.bench.store import Plan

    outcomes = iter([BatchOutcome(Plan(todo=[]), ok=1, failed=1), BatchOutcome(Plan(todo=[], failed_kept=["a"])),
                     BatchOutcome(Plan(todo=[]), ok=2)])
    monkeypatch.setattr("srnet.bench.runner.run_suite", lambda *args, **kwargs: next(outcomes))
    argv = ["bench", "nguyen:nguyen-1", "--out", str(tmp_path), *TINY]
    assert [main(argv) for _ in range(3)] == [1, 1, 0]


def test_report_refuses_a_folder_of_another_tool_and_leaves_its_files(tmp_path, capsys):
    """A results/ folder of another tool, beside its own summary.csv, summary.md and time_per_job.png: srnet report
    said "0 jobs; wrote summary.csv, summary.md" (exit 0), overwriting both and deleting the plot, even with
    --no-plots."""
    other = tmp_path / "other"
    (other / "results").mkdir(parents=True)
    (other / "results" / "run1.json").write_text('{"loss": 0.1}')
    theirs = {name: f"theirs {name}".encode() for name in ("summary.csv", "summary.md", "time_per_job.png")}
    for name, content in theirs.items():
        (other / name).write_bytes(content)
    for flags in (["--no-plots"], []):
        assert main(["report", str(other), *flags]) == 2
        assert capsys.readouterr().err == (
            f"srnet report: error: '{other}' holds no batch.json and no srnet bench result in results/: it is not "
            f"an srnet bench folder, and srnet report replaces only its own summary.csv, summary.md and plots; "
            f"give the --out folder of srnet bench\n")
        assert {name: (other / name).read_bytes() for name in theirs} == theirs
    # a folder of srnet bench that lost its batch.json still reports, from its results
    store = ResultStore(tmp_path / "mine")
    store.write({"job": {"id": "nguyen-1__srnet__seed0", "dataset": "nguyen-1", "method": "srnet", "seed": 0,
                         "task": "regression", "kind": "nguyen"}, "status": "failed", "settings": {},
                 "error": {"type": "ValueError", "message": "boom"}})
    assert main(["report", str(store.root), "--no-plots"]) == 0
