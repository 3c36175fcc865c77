"""Batches on a real Dask LocalCluster: one result per job, whatever happens to the workers."""

import functools
import os
import re
import time
from dataclasses import replace
from pathlib import Path

import pytest

from srnet.bench.report import write_report
from srnet.bench.runner import dask_client, run_batch, run_suite
from srnet.bench.store import ResultStore, read_result
from srnet.bench.suites import BatchSettings, resolve_suite

TINY = BatchSettings(seconds=None, generations=5, hidden=(4, 4), epochs=20, max_rows=300, n_points=100,
                     nguyen_rows=60)


def quick_job(spec, marker_dir=None, die_on=None, fail_on=None, always_die_on=None):
    """A stand-in for run_job that takes no time: it can kill its worker
    (the first time it runs ``die_on``, or every time on ``always_die_on``)
    or raise (on ``fail_on``)."""
    if spec.job_id == always_die_on:
        os._exit(1)
    if spec.job_id == die_on:
        marker = Path(marker_dir) / spec.job_id
        if not marker.exists():
            marker.write_text(str(os.getpid()))
            os._exit(1)  # the worker process dies mid-job
    if spec.job_id == fail_on:
        raise RuntimeError("the job broke")
    return {"job": spec.description(), "status": "ok", "settings": spec.settings.to_dict(), "pid": os.getpid()}


@pytest.fixture(scope="module")
def client():
    with dask_client(2) as client:
        yield client


@pytest.fixture
def jobs():
    return resolve_suite("nguyen:nguyen-1,nguyen-2,nguyen-3,nguyen-4", settings=TINY).jobs


def valid_results(store):
    return {path.name: read_result(path) for path in sorted(store.results.glob("*.json"))}


@pytest.mark.parametrize("workers, message", [(0, "workers must be > 0, got 0"), (-2, "workers must be > 0, got -2"),
                                              (True, "workers must be a number, got True")])
def test_a_worker_count_below_one_is_refused_before_any_work(tmp_path, workers, message):
    suite = resolve_suite("nguyen:nguyen-1", settings=TINY)
    with pytest.raises(ValueError, match=message):
        run_suite(suite, tmp_path / "out", workers=workers, progress=False, log=lambda line: None)
    assert not (tmp_path / "out").exists()
    with pytest.raises(ValueError, match=message):
        with dask_client(workers):
            pass


def test_more_local_workers_than_cores_are_noted_before_the_cluster_starts(tmp_path, monkeypatch, no_cluster):
    """A time-budgeted job sharing its core searches less: the user is told before the batch runs."""
    monkeypatch.setattr("srnet.bench.runner.available_cores", lambda: 2)
    lines = []
    suite = resolve_suite("nguyen:nguyen-1", settings=TINY)
    with pytest.raises(AssertionError, match="a cluster was started"):
        run_suite(suite, tmp_path / "out", workers=3, progress=False, log=lines.append)
    assert any(line.startswith("note: 3 local workers share 2 cores") for line in lines), lines
    lines.clear()
    for workers, scheduler in ((2, None), (None, None), (3, "tcp://127.0.0.1:1")):  # within the cores; a cluster's
        with pytest.raises(AssertionError, match="a cluster was started"):
            run_suite(suite, tmp_path / f"out{workers}{scheduler is None}", workers=workers, scheduler=scheduler,
                      progress=False, log=lines.append)
    assert not any("local workers share" in line for line in lines), lines


def test_a_worker_dying_mid_job_is_rescheduled_once(tmp_path, client, jobs):
    store = ResultStore(tmp_path / "out")
    victim = jobs[1].job_id
    job = functools.partial(quick_job, marker_dir=str(tmp_path), die_on=victim)
    outcome = run_batch(jobs, store, client, job_function=job, progress=False)
    assert (outcome.ok, outcome.failed, outcome.unfinished) == (4, 0, [])
    results = valid_results(store)
    assert sorted(results) == sorted(f"{j.job_id}.json" for j in jobs)
    dead_pid = int((tmp_path / victim).read_text())
    assert results[f"{victim}.json"]["pid"] != dead_pid  # finished by another worker process
    assert not list(store.results.glob(".tmp-*"))


def test_a_job_that_keeps_killing_workers_is_recorded_as_failed(tmp_path, client, jobs):
    store = ResultStore(tmp_path / "out")
    job = functools.partial(quick_job, always_die_on=jobs[0].job_id)
    outcome = run_batch(jobs, store, client, job_function=job, progress=False)
    assert (outcome.ok, outcome.failed, outcome.unfinished) == (3, 1, [])
    failure = read_result(store.path(jobs[0].job_id))
    assert failure["error"]["type"] == "KilledWorker" and failure["host"]["recorded_by"] == "client"
    assert len(valid_results(store)) == 4


def test_failures_are_recorded_kept_and_retried_on_request(tmp_path, client, jobs):
    store = ResultStore(tmp_path / "out")
    broken = functools.partial(quick_job, fail_on=jobs[2].job_id)
    outcome = run_batch(jobs, store, client, job_function=broken, progress=False)
    assert (outcome.ok, outcome.failed) == (3, 1)
    failure = read_result(store.path(jobs[2].job_id))
    assert failure["status"] == "failed" and failure["error"]["type"] == "RuntimeError"
    assert "the job broke" in failure["error"]["message"]
    again = run_batch(jobs, store, client, job_function=quick_job, progress=False)
    assert (again.ok, again.failed, again.plan.failed_kept) == (0, 0, [jobs[2].job_id])
    retried = run_batch(jobs, store, client, job_function=quick_job, retry_failed=True, progress=False)
    assert (retried.ok, retried.failed) == (1, 0)
    assert read_result(store.path(jobs[2].job_id))["status"] == "ok"


def test_three_pmlb_datasets_on_two_workers(tmp_path, pmlb_cache):
    suite = resolve_suite("pmlb:iris,analcatdata_aids,prnn_synth", settings=TINY, pmlb_cache=pmlb_cache)
    out = tmp_path / "batch"
    outcome = run_suite(suite, out, workers=2, progress=False, log=lambda line: None)
    assert (outcome.ok, outcome.failed, outcome.workers) == (3, 0, 2)
    results = valid_results(ResultStore(out))
    assert sorted(results) == sorted(f"{job.job_id}.json" for job in suite.jobs)
    assert all(r["status"] == "ok" and r["job"]["task"] == "classification" for r in results.values())
    report = write_report(out, plots=True)
    assert len(report.rows) == 3 and not report.corrupt
    assert {p.name for p in report.written} >= {"summary.csv", "summary.md", "fidelity_per_dataset.png",
                                                "time_per_job.png", "complexity_vs_fidelity.png"}
    # nothing to do on a re-run: no cluster is started
    rerun = run_suite(suite, out, workers=2, progress=False, log=lambda line: None)
    assert (rerun.ok, len(rerun.plan.done), rerun.cluster_seconds) == (0, 3, 0.0)


def test_an_existing_cluster_through_its_scheduler_address(tmp_path, client):
    client.wait_for_workers(2, timeout=180)  # earlier tests kill workers; their nannies bring them back (slowly, under load)
    suite = resolve_suite("nguyen:nguyen-1,nguyen-9", settings=replace(TINY, nguyen_rows=40))
    outcome = run_suite(suite, tmp_path / "out", scheduler=client.scheduler.address, progress=False,
                        log=lambda line: None)
    assert (outcome.ok, outcome.failed, outcome.workers) == (2, 0, 2)
    results = valid_results(ResultStore(tmp_path / "out"))
    assert {r["host"]["worker"] for r in results.values()} <= set(client.scheduler_info()["workers"])
    run = ResultStore(tmp_path / "out").read_manifest()["runs"][-1]  # the run's wall time is kept for reports
    assert (run["ok"], run["failed"], run["unfinished"]) == (2, 0, 0) and run["wall_seconds"] > 0


def _one_connection_server(greeting: bytes):
    """A loopback server that accepts one connection, writes ``greeting`` (nothing, for a server that waits
    for its client to speak first, as a web server does) and holds the connection open; its address."""
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        connection, _ = listener.accept()
        connection.sendall(greeting)
        time.sleep(5)
        connection.close()
        listener.close()

    threading.Thread(target=serve, daemon=True).start()
    return f"tcp://127.0.0.1:{listener.getsockname()[1]}"


@pytest.mark.parametrize("greeting, message", [
    (b"", "said nothing in 1 s after the connection opened, where a Dask scheduler greets at once"),
    (b"SSH-2.0-OpenSSH_9.6\r\n", "does not greet like a Dask scheduler (it began b'SSH-2.0-'"),
])
def test_a_server_that_is_not_a_dask_scheduler_is_named_not_waited_on_for_ever(greeting, message):
    """distributed's client waits for the scheduler's handshake without a deadline: a web server at the
    address hung srnet bench --scheduler for good."""
    address = _one_connection_server(greeting)
    started = time.monotonic()
    with pytest.raises(ValueError, match=re.escape(message)):
        with dask_client(scheduler=address, timeout=1):
            pass
    assert time.monotonic() - started < 4


def test_a_scheduler_that_cannot_be_reached_is_named_so_not_as_a_silent_server(monkeypatch):
    """A connection that timed out (a host that does not answer) was reported as a server that said nothing
    after the connection opened."""
    import socket

    def unreachable(address, timeout):
        raise TimeoutError()

    monkeypatch.setattr(socket, "create_connection", unreachable)
    with pytest.raises(ValueError, match=r"^could not connect to the Dask scheduler at tcp://10\.255\.255\.1:8786: "
                                         r"timed out$"):
        with dask_client(scheduler="tcp://10.255.255.1:8786", timeout=1):
            pass


def test_an_existing_cluster_without_workers_is_named_before_its_jobs_wait():
    """The progress bar sat at 0 without a word while the jobs waited for workers that were never started."""
    from distributed import Client, LocalCluster

    from srnet.bench.runner import no_workers_note

    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster, Client(cluster) as client:
        address = cluster.scheduler_address
        assert no_workers_note(client, address) == (
            f"note: the Dask cluster at {address} has no workers yet: the jobs wait until some join (start one "
            f"with: dask worker {address}); Ctrl-C stops the batch and keeps the results written")
        assert no_workers_note(client, None) is None  # a local cluster starts its own
        cluster.scale(1)
        client.wait_for_workers(1, timeout=60)
        assert no_workers_note(client, address) is None


def _sleep_long(_):
    import time

    time.sleep(120)


def test_after_ctrl_c_a_local_cluster_closes_without_waiting_for_running_jobs():
    """Closing a local cluster waits for the jobs its workers run; after
    Ctrl-C srnet bench ends those workers first, so it exits at once."""
    import psutil

    from srnet.bench.runner import dask_client, stop_local_workers

    others = {p.pid for p in psutil.Process().children(recursive=True)}  # (another test's cluster, under xdist)
    with dask_client(workers=1) as client:
        future = client.submit(_sleep_long, 0, pure=False)
        deadline = time.monotonic() + 60
        while future.status == "pending" and not client.processing() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)  # the job is running on the worker
        started = time.perf_counter()
        assert stop_local_workers(client) >= 1
        # and no nanny restarts its worker: the new process, not deaf to Ctrl-C, printed a traceback at a second
        # one, and the exit waited for it
        time.sleep(2.0)
        assert not [p for p in psutil.Process().children(recursive=True)
                    if p.pid not in others and "resource_tracker" not in " ".join(p.cmdline())]
    assert time.perf_counter() - started < 20


def test_ctrl_c_while_a_result_is_written_counts_every_job_not_written(tmp_path, client, jobs):
    """The job being written when Ctrl-C landed was neither written nor counted unfinished (3 of 4 accounted)."""

    class InterruptedStore(ResultStore):
        writes = 0

        def write(self, payload):
            InterruptedStore.writes += 1
            if InterruptedStore.writes == 2:
                raise KeyboardInterrupt
            return super().write(payload)

    store = InterruptedStore(tmp_path / "out")
    outcome = run_batch(jobs, store, client, job_function=quick_job, progress=False)
    written = {read_result(path)["job"]["id"] for path in store.results.glob("*.json")}
    assert outcome.interrupted and outcome.ok == len(written) == 1
    assert sorted(outcome.unfinished) == sorted(job.job_id for job in jobs if job.job_id not in written)



def test_local_workers_leave_ctrl_c_to_the_batch():
    """A Ctrl-C at the terminal reaches the whole process group: each worker printed a KeyboardInterrupt
    traceback from the libraries it was importing. The workers ignore it; the batch stops them. (In a fresh
    process: signal handlers live on the main thread, which a test runner's worker may not be.)"""
    import subprocess
    import sys

    script = """
import signal
from srnet.bench.runner import dask_client

def ignored():
    import signal
    return signal.getsignal(signal.SIGINT) == signal.SIG_IGN

if __name__ == "__main__":
    with dask_client(1) as client:
        print(all(client.run(ignored).values()), signal.getsignal(signal.SIGINT) is signal.default_int_handler)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.stdout.split() == ["True", "True"], done.stderr[-2000:]


def test_a_script_that_starts_a_batch_unguarded_is_told_to_guard_it_not_left_waiting(tmp_path):
    """Each spawned worker imports the user's script again: one that starts a local batch at its top level
    started it again in every worker, whose start failed, and the batch waited for its workers for good. Now
    the worker refuses to start a batch, and the batch stops at once, naming the `if __name__` guard."""
    import subprocess
    import sys

    script = tmp_path / "unguarded.py"
    script.write_text("from srnet.bench.runner import dask_client\n\n"
                      "with dask_client(1) as client:\n    print('workers', len(client.nthreads()))\n")
    started = time.monotonic()
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert done.returncode != 0 and "workers" not in done.stdout, (done.stdout, done.stderr[-2000:])
    assert "a batch was started inside a process that multiprocessing is starting" in done.stderr  # the worker's
    assert ("ChildProcessError: a Dask worker process failed to start (its error is logged above); if a script of "
            "yours starts the batch, put the call under `if __name__ == \"__main__\":` (each Dask worker process "
            "imports your script again)") in done.stderr
    assert time.monotonic() - started < 120


@pytest.mark.parametrize("status, message", [("closed", "failed to start (its error is logged above)"),
                                             ("starting", "did not join in 0.3 s")])
def test_waiting_for_local_workers_ends_when_one_stopped_or_none_joined_in_time(status, message):
    """A worker whose restart failed ends 'closed', not 'failed', and one hanging in its imports never joins:
    the wait for them stops with one line (a ChildProcessError: the command line's OSError) instead of for good."""
    from types import SimpleNamespace

    from distributed.core import Status

    from srnet.bench.runner import _wait_for_workers

    cluster = SimpleNamespace(workers={0: SimpleNamespace(status=getattr(Status, status))})
    client = SimpleNamespace(nthreads=lambda: {})
    with pytest.raises(ChildProcessError, match=re.escape(f"a Dask worker process {message}; if a script")):
        _wait_for_workers(cluster, client, 1, deadline=0.3)
    joined = SimpleNamespace(nthreads=lambda: {"tcp://127.0.0.1:1": 1})
    _wait_for_workers(cluster, joined, 1, deadline=0.3)  # joined: no wait, whatever the statuses


def test_a_sigterm_stops_a_batch_as_ctrl_c_does():
    """SLURM's scancel and `timeout` send SIGTERM: the batch ended where it stood, without a word, its run left
    open. Now SIGTERM is a Ctrl-C while the batch runs (the command then says so and exits 143), and the
    handler is the previous one after it. (In a fresh process: signal handlers live on the main thread.)"""
    import subprocess
    import sys

    script = """
import os, signal
from srnet.cli import _terminate_as_interrupt

try:
    with _terminate_as_interrupt() as terminated:
        os.kill(os.getpid(), signal.SIGTERM)
        signal.pause() if hasattr(signal, "pause") else None
    print("not interrupted")
except KeyboardInterrupt:
    print("interrupted", bool(terminated), signal.getsignal(signal.SIGTERM) == signal.SIG_DFL)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["interrupted", "True", "True"], done.stderr[-2000:]


def test_a_stop_delivered_twice_stops_the_batch_once():
    """`timeout` signals its child, then its own process group: the batch got SIGTERM (or SIGINT) twice, and the
    second KeyboardInterrupt cut its clean-up short (exit 130, the run left open in batch.json).  A second signal
    within DUPLICATE_SIGNAL_SECONDS is ignored; the handlers are the previous ones after."""
    import subprocess
    import sys

    script = """
import os, signal, time
from srnet.cli import _terminate_as_interrupt

for first, second in ((signal.SIGTERM, signal.SIGTERM), (signal.SIGINT, signal.SIGTERM), (signal.SIGINT, signal.SIGINT)):
    stops = 0
    try:
        with _terminate_as_interrupt() as terminated:
            try:
                os.kill(os.getpid(), first)
                time.sleep(5)
            except KeyboardInterrupt:
                stops += 1
                os.kill(os.getpid(), second)  # the duplicate, during the clean-up
                time.sleep(0.2)
    except KeyboardInterrupt:
        stops += 10
    print(stops, bool(terminated), signal.getsignal(signal.SIGTERM) == signal.SIG_DFL,
          signal.getsignal(signal.SIGINT) is signal.default_int_handler)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.split("\n")[:3] == ["1 True True True", "1 False True True", "1 False True True"], \
        done.stdout + done.stderr[-2000:]
