"""Run a batch on Dask: a local cluster of single-threaded workers, or an existing one.

The client submits every job to do (``client.submit(run_job, spec,
pure=False)``), consumes the futures with ``as_completed`` and writes each
result the moment it arrives, so a batch killed at any point has lost at most
the jobs that were running.  The client is the only writer: a worker that dies
mid-job makes Dask reschedule the job on another worker (up to
``allowed_failures`` times, then the job is recorded as failed with
``KilledWorker``), and either way its future completes once, so each job's
result is written once.

Workers need srnet installed and, for PMLB jobs, the cache folder at the same
path (they download nothing: ``--download`` fills the cache before the batch
starts, and a table missing on a worker fails its job); they return payloads,
never write.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import struct
import sys
import time
import uuid
from dataclasses import dataclass, field

from srnet.bench.jobs import error_info, host, load_pmlb, now, run_job, table_digest, to_jsonable, versions
from srnet.bench.store import CorruptResult, Plan, ResultStore, read_result
from srnet.bench.suites import JobSpec, seeds_named
from srnet.data import check_budget, counted, pmlb_cache_dir

ALLOWED_FAILURES = 2  # worker deaths a job may cause before it is recorded as failed


@dataclass
class BatchOutcome:
    """What :func:`run_batch` did."""

    plan: Plan
    ok: int = 0
    failed: int = 0
    unfinished: list[str] = field(default_factory=list)  # lost to the cluster or an interrupt; rerun to finish
    failures: list[tuple[str, str]] = field(default_factory=list)  # (job id, "Type: message")
    seconds: float = 0.0  # first submission to last result
    cluster_seconds: float = 0.0  # starting or connecting to the cluster
    interrupted: bool = False
    workers: int | None = None

    def describe(self) -> str:
        text = f"{self.ok} ok, {self.failed} failed in {self.seconds:.1f} s"
        if self.plan.failed_kept:  # (a batch of them alone read "0 ok, 0 failed" and exited 1)
            text += f"; {len(self.plan.failed_kept)} failed before, kept (--retry-failed redoes them)"
        if self.unfinished:
            text += f"; {len(self.unfinished)} unfinished (run the same command again to finish them)"
        return text


def check_scheduler(scheduler) -> str | None:
    """``scheduler`` as a Dask address of a host and a port (``tcp://HOST:PORT``, ``tls://...``, ``HOST:PORT``),
    or None: checked before the folder is touched (``ucx://`` was a traceback, ``inproc://x`` a cryptic
    unpacking error, port 99999 a 30 s wait)."""
    if scheduler is None:
        return None
    from distributed.comm import get_address_host_port

    try:
        _, port = get_address_host_port(str(scheduler))
    except ValueError as error:
        raise ValueError(f"--scheduler {scheduler!r} is not a Dask scheduler address such as tcp://HOST:8786 "
                         f"({error})") from None
    if not 0 < port < 65536:
        raise ValueError(f"--scheduler {scheduler!r}: port {port} is not a port number (1-65535)")
    return str(scheduler)


def available_cores() -> int:
    """The cores this process may run on (its affinity where the system says; else every core)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


#: What a script that starts a local batch needs, when each worker process imports it again (spawn).
MAIN_GUARD = "put the call under `if __name__ == \"__main__\":` (each Dask worker process imports your script again)"


def _check_not_in_a_worker_import() -> None:
    """Refuse to start a batch inside a process that multiprocessing is still starting: a script that calls
    srnet's batch run at its top level, unguarded, ran it again in every worker (spawn imports the main script
    while the process starts), whose start then failed, and the batch waited for its workers for good.  The
    flag read is private, the one multiprocessing's own check reads (``spawn._check_not_importing_main``)."""
    import multiprocessing

    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise RuntimeError(f"a batch was started inside a process that multiprocessing is starting (a Dask worker "
                           f"importing your script again): {MAIN_GUARD}")


def check_workers(workers) -> int | None:
    """``workers`` as an int >= 1, or None for the default (one per core);
    0 or fewer is a ValueError, never taken as "not given"."""
    return check_budget("workers", workers, allow_none=True, integer=True)


@contextlib.contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None, *,
                allowed_failures: int = ALLOWED_FAILURES, timeout: float = 30.0):
    """A Dask client: on ``scheduler`` (``tcp://host:port``), or on a fresh
    ``LocalCluster`` of ``workers`` single-threaded worker processes (default:
    one per core).  Closes what it started.

    Local workers are not daemonic, so that sympy's simplification can run in
    a child process with a deadline (:func:`srnet.expr.symbolic.simplify`).
    """
    import dask
    from distributed import Client, LocalCluster

    if scheduler is not None:
        check_scheduler(scheduler)
        _check_greets_as_dask(scheduler, timeout=min(timeout, GREETING_SECONDS), connect_timeout=timeout)
        try:
            client = Client(scheduler, timeout=timeout)
        except Exception as error:  # OSError, TimeoutError, or a transport this installation lacks
            raise ValueError(f"could not connect to the Dask scheduler at {scheduler}: {error}") from None
        with client:
            yield client
        return
    _check_not_in_a_worker_import()
    n_workers = check_workers(workers)
    if n_workers is None:
        n_workers = available_cores()
    # worker-saturation 1.0: a worker holds only the job it runs, so when a job kills its worker no
    # innocent queued job is blamed (and counted towards allowed-failures) with it
    config = {"distributed.worker.daemon": False, "distributed.scheduler.allowed-failures": allowed_failures,
              "distributed.scheduler.worker-saturation": 1.0}
    with dask.config.set(config):
        # no dashboard; the scheduler's small HTTP server on a free loopback port, not on 8787
        with LocalCluster(n_workers=0, threads_per_worker=1, processes=True, dashboard_address=None,
                          scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}, silence_logs=logging.ERROR,
                          host="127.0.0.1") as cluster, Client(cluster) as client:
            _start_workers_deaf_to_ctrl_c(cluster, n_workers)
            _wait_for_workers(cluster, client, n_workers)
            yield client


#: Seconds the local workers have to join (each imports srnet, numba and torch: 5-10 s on 2 busy cores).
JOIN_SECONDS = 300.0


def _wait_for_workers(cluster, client, n_workers: int, deadline: float = JOIN_SECONDS) -> None:
    """Wait until the local cluster's ``n_workers`` workers have joined; refuse in one line when one of them
    stopped before it did (distributed logs why, and then waits for good: ``Client.wait_for_workers`` hung on
    a worker whose start failed), or when they have not joined within ``deadline`` seconds (a worker hanging
    in its imports).  A ChildProcessError, an OSError: the command line's one line, not a traceback."""
    from distributed.core import Status

    starting = {Status.init, Status.starting, Status.running}
    ends = time.monotonic() + deadline
    while len(client.nthreads()) < n_workers:
        stopped = any(getattr(worker, "status", Status.running) not in starting
                      for worker in list(cluster.workers.values()))  # (the event loop's thread changes the dict)
        if stopped or time.monotonic() > ends:
            what = "failed to start (its error is logged above)" if stopped else f"did not join in {deadline:g} s"
            raise ChildProcessError(f"a Dask worker process {what}; if a script of yours starts the batch, "
                                    f"{MAIN_GUARD}")
        time.sleep(0.1)


#: Seconds a server at ``--scheduler`` has to greet a new connection before it is taken for something else.
GREETING_SECONDS = 10.0
#: A Dask handshake's size bound: its first message is a small dict of versions and options.
_GREETING_MAX_BYTES = 1 << 20


def _check_greets_as_dask(scheduler: str, *, timeout: float, connect_timeout: float) -> None:
    """Refuse a ``tcp://`` address whose server does not greet like a Dask scheduler.

    A Dask scheduler writes its handshake as soon as a connection opens (a message whose first 8 bytes give
    its length); distributed's client then waits for that handshake without a deadline, so a web server or
    any other service at the address (which waits for the client to speak first) hung ``srnet bench
    --scheduler`` for good, and one that greets with text (SSH's banner) read as a message of exabytes.
    Other schemes (``tls://``) are left to distributed."""
    from distributed.comm import get_address_host_port, parse_address

    scheme, _ = parse_address(scheduler)
    if scheme != "tcp":
        return
    host, port = get_address_host_port(scheduler)
    try:  # (a host that does not answer is no server that said nothing)
        connection = socket.create_connection((host, port), timeout=connect_timeout)
    except OSError as error:  # TimeoutError included
        why = str(error) or "timed out"
        raise ValueError(f"could not connect to the Dask scheduler at {scheduler}: {why}") from None
    greeting = b""
    with connection:
        connection.settimeout(timeout)
        try:
            while len(greeting) < 8:
                chunk = connection.recv(8 - len(greeting))
                if not chunk:
                    break
                greeting += chunk
        except TimeoutError:
            if not greeting:
                raise ValueError(f"the server at {scheduler} said nothing in {timeout:g} s after the connection "
                                 f"opened, where a Dask scheduler greets at once: is it a Dask scheduler?") from None
        except OSError as error:
            raise ValueError(f"could not read from the Dask scheduler at {scheduler}: {error}") from None
    size = struct.unpack("<Q", greeting)[0] if len(greeting) == 8 else 0
    if not 0 < size <= _GREETING_MAX_BYTES:
        raise ValueError(f"the server at {scheduler} does not greet like a Dask scheduler "
                         f"(it began {greeting!r}): is the address right?")


#: Seconds to wait for local worker processes to exist (spawned; importing their libraries takes longer).
SPAWN_SECONDS = 60.0


def _start_workers_deaf_to_ctrl_c(cluster, n_workers: int) -> None:
    """Spawn the cluster's worker processes with SIGINT ignored, which they inherit: a Ctrl-C at the terminal
    reaches the whole process group, and each worker printed a KeyboardInterrupt traceback from the libraries
    it was importing.  The handler is back as soon as the processes exist, so a Ctrl-C while they import
    stops the batch here, and the batch's own handling stops the workers (:func:`stop_local_workers`)."""
    import signal
    import threading

    import dask
    import psutil

    # spawned workers are recognised by their command line (spawn_main): with Dask's other start methods
    # (fork, forkserver), and off the main thread (signal handlers live there), the workers start as they are
    if (threading.current_thread() is not threading.main_thread()
            or dask.config.get("distributed.worker.multiprocessing-method", "spawn") != "spawn"):
        cluster.scale(n_workers)
        return
    me = psutil.Process()
    before = {child.pid for child in me.children(recursive=True)}
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        cluster.scale(n_workers)
        deadline = time.monotonic() + SPAWN_SECONDS
        while time.monotonic() < deadline and _spawned_workers(me, before) < n_workers:
            time.sleep(0.05)
    finally:
        signal.signal(signal.SIGINT, previous)


def _spawned_workers(me, before: set) -> int:
    """New worker processes of ``me`` (multiprocessing's spawned children, not its resource tracker), running:
    exec'd, so the ignored SIGINT is theirs."""
    import psutil

    count = 0
    for child in me.children(recursive=True):
        try:
            count += child.pid not in before and "spawn_main" in " ".join(child.cmdline())
        except psutil.Error:  # gone, or not readable yet
            pass
    return count


def stop_local_workers(client, grace: float = 3.0) -> int:
    """End a local cluster's worker processes (and what they started) at
    once; returns how many processes there were.

    Why: after Ctrl-C, closing a local cluster waits for the jobs its
    workers are running, which can take minutes; their results are not
    wanted (a later run redoes them).  Only call it for a cluster this
    process started.
    """
    import psutil

    # a nanny restarted its killed worker: the new process, not deaf to Ctrl-C, printed a traceback at the
    # second one, and the exit waited ~11 s for it to start
    for nanny in getattr(getattr(client, "cluster", None), "workers", {}).values():
        if hasattr(nanny, "close_gracefully"):  # (distributed: "we shouldn't try to restart workers")
            nanny.close_gracefully("srnet bench interrupted")
    try:
        pids = list(client.run(os.getpid, nanny=False).values())
    except Exception:  # noqa: BLE001 - a worker that cannot answer is left to the cluster's own shutdown
        return 0
    processes = []
    for pid in pids:
        try:
            worker = psutil.Process(pid)
            processes += worker.children(recursive=True) + [worker]
        except psutil.NoSuchProcess:
            pass
    for process in processes:
        try:
            process.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(processes, timeout=grace)
    for process in alive:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    return len(processes)


def failed_payload(job: JobSpec, error: BaseException) -> dict:
    """A failure recorded by the client (the job raised on the worker, or killed it)."""
    return to_jsonable({"job": job.description(),
                        "status": "failed", "error": error_info(error), "settings": job.settings.to_dict(),
                        "timings": {}, "versions": versions(), "host": {**host(), "recorded_by": "client"},
                        "finished_at": now()})


def _is_cluster_loss(future, error: BaseException) -> bool:
    """A future that did not end in its task's own error (cancelled, or its
    cluster lost): the job is left to a later run, not recorded as failed.
    A job that killed ``allowed_failures`` workers ends in ``KilledWorker``,
    which is the job's error."""
    from concurrent.futures import CancelledError

    return future.status != "error" or isinstance(error, CancelledError)


def run_batch(jobs, store: ResultStore, client, *, retry_failed: bool = False, progress: bool = True,
              job_function=run_job, plan: Plan | None = None, log=None) -> BatchOutcome:
    """Run the jobs of ``jobs`` that ``store`` has no result for, on ``client``.

    Parameters
    ----------
    jobs : list of JobSpec
    store : ResultStore
    client : distributed.Client
    retry_failed : bool, default=False
        Redo jobs whose recorded result is a failure.
    progress : bool, default=True
        A tqdm bar (done/failed/remaining, ETA) on stderr.
    job_function : callable, default=run_job
        ``job_function(spec) -> payload`` (tests swap in faulty ones).
    plan : Plan, optional
        A plan already made by ``store.plan(jobs)``.
    log : callable, optional
        Receives one-line messages (default: written above the bar).

    Returns
    -------
    BatchOutcome
    """
    from distributed import as_completed
    from tqdm.auto import tqdm

    plan = plan or store.plan(jobs, retry_failed=retry_failed)
    outcome = BatchOutcome(plan=plan, workers=len(client.scheduler_info().get("workers", {})))
    if not plan.todo:
        return outcome
    bar = tqdm(total=len(plan.todo), unit="job", desc="srnet bench", file=sys.stderr, disable=not progress,
               dynamic_ncols=True)
    say = log or (lambda line: tqdm.write(line, file=sys.stderr))
    token = uuid.uuid4().hex[:8]  # keys unique to this run, also on a shared cluster
    started = time.perf_counter()
    pending, recorded = {}, set()
    try:
        for job in plan.todo:
            future = client.submit(job_function, job, pure=False, key=f"srnet-bench-{job.job_id}-{token}")
            pending[future.key] = (future, job)
        for future in as_completed([f for f, _ in pending.values()]):
            _, job = pending.pop(future.key)
            try:
                payload = future.result()
            except Exception as error:  # noqa: BLE001 - the job's failure, or the cluster's
                if _is_cluster_loss(future, error):
                    outcome.unfinished.append(job.job_id)
                    say(f"lost {job.job_id} to the cluster ({type(error).__name__}); it stays to do")
                    bar.set_postfix(done=outcome.ok, failed=outcome.failed, remaining=len(pending), refresh=False)
                    bar.update(1)
                    continue
                payload = failed_payload(job, error)
            finally:
                future.release()
            if not isinstance(payload, dict) or payload.get("job", {}).get("id") != job.job_id:
                payload = failed_payload(job, RuntimeError(f"the job function returned no result for {job.job_id}"))
            store.write(payload)
            recorded.add(job.job_id)
            if payload["status"] == "ok":
                outcome.ok += 1
            else:
                outcome.failed += 1
                message = f"{payload['error']['type']}: {payload['error']['message']}".splitlines()[0][:200]
                outcome.failures.append((job.job_id, message))
                say(f"failed {job.job_id}: {message}")
            bar.set_postfix(done=outcome.ok, failed=outcome.failed, remaining=len(pending), refresh=False)
            bar.update(1)
    except KeyboardInterrupt:
        outcome.interrupted = True
        # every job not written: pending, the one being written, and those not submitted yet
        lost = set(outcome.unfinished)
        outcome.unfinished += [job.job_id for job in plan.todo if job.job_id not in recorded | lost]
        for future, _ in pending.values():
            future.cancel()
    finally:
        bar.close()
        outcome.seconds = time.perf_counter() - started
    return outcome


def no_workers_note(client, scheduler: str | None) -> str | None:
    """A line for an existing cluster that has no workers (yet): its jobs wait for workers to join, and the
    progress bar sat at 0 without a word (a local cluster starts its own)."""
    if scheduler is None or client.scheduler_info().get("workers"):
        return None
    return (f"note: the Dask cluster at {scheduler} has no workers yet: the jobs wait until some join (start one "
            f"with: dask worker {scheduler}); Ctrl-C stops the batch and keeps the results written")


def check_same_tables(todo, store: ResultStore) -> None:
    """Raise ValueError where a PMLB table a job to run reads is not the one this folder's results of that dataset
    were made on (their ``data.table_sha256``): another cache, or a table re-downloaded, mixed two tables' results
    in one summary, in silence.  Only the results of the datasets with a job to run are read, and only the tables
    of those that have results."""
    for job in {job.source: job for job in todo if job.kind == "pmlb"}.values():
        recorded = set()
        for path in store.results.glob(f"{job.dataset}__*.json"):  # (a job id is dataset__method__seed<k>)
            try:
                payload = read_result(path)
            except CorruptResult:  # (moved aside and redone by the plan)
                continue
            if (payload.get("job") or {}).get("source") == job.source:
                recorded.add((payload.get("data") or {}).get("table_sha256"))
        recorded.discard(None)
        if not recorded:
            continue
        X, y, names, _, _ = load_pmlb(job.source, job.pmlb_cache, job.task)
        if table_digest(X, y, names) not in recorded:
            raise ValueError(f"PMLB dataset {job.source!r} in {pmlb_cache_dir(job.pmlb_cache)} is not the table this "
                             f"folder's results of it were made on (another cache, or the table changed): use another "
                             f"--out folder, or move those results away to redo them")


def run_suite(suite, out, *, retry_failed: bool = False, workers: int | None = None, scheduler: str | None = None,
              progress: bool = True, run_info: dict | None = None, log=print) -> BatchOutcome:
    """Run a resolved :class:`srnet.bench.suites.Suite` into the folder ``out``.

    Locks the folder (one batch at a time), checks its manifest, skips
    finished jobs, moves corrupt results aside, and only then starts (or
    connects to) a cluster, and only when there is something to do.

    Raises
    ------
    ValueError
        ``workers`` is not a whole number >= 1; the folder is in use by
        another batch or holds results of other settings; the scheduler is
        unreachable.
    ChildProcessError
        A local worker failed to start or to join in time.
    RuntimeError
        This is a worker importing a script that starts the batch at its
        top level (guard the call with ``if __name__ == "__main__":``).
    """
    _check_not_in_a_worker_import()
    check_workers(workers)  # before the folder is touched
    check_scheduler(scheduler)
    store = ResultStore(out)
    with store.lock():
        return _run_locked(suite, store, retry_failed=retry_failed, workers=workers, scheduler=scheduler,
                           progress=progress, run_info=run_info, log=log)


def _run_locked(suite, store: ResultStore, *, retry_failed, workers, scheduler, progress, run_info, log):
    settings = suite.jobs[0].settings
    run = {"started_at": now(), "suite": suite.name, "jobs": len(suite.jobs), "datasets": len(suite.datasets),
           "workers": workers, "scheduler": scheduler, "retry_failed": retry_failed, "host": host(),
           "versions": versions(), **(run_info or {})}
    manifest = store.check_batch(settings)
    store.check_writable()
    removed = store.clean_temporaries()
    if removed:
        log(f"removed {removed} temporary file(s) of an interrupted write")
    plan = store.plan(suite.jobs, retry_failed=retry_failed)  # refuses results of other settings: before a write
    check_same_tables(plan.todo, store)
    for job_id, why in plan.corrupt:
        log(f"corrupt result {job_id} ({why}): moved to {store.corrupt}/ and redone")
    jobs, datasets = len(suite.jobs), len(suite.datasets)
    log(f"{suite.name}: {jobs} job{'s' * (jobs != 1)} ({datasets} dataset{'s' * (datasets != 1)}, "
        f"{seeds_named({job.seed for job in suite.jobs})}): {plan.describe()}")
    if not plan.todo:  # recorded as a run that found every job done: a run killed after its last result (never
        # closed) then no longer reads as the batch's unfinished last run, with advice to rerun forever
        store.open_batch(manifest, {**run, "finished_at": now(), "wall_seconds": 0.0, "batch_seconds": 0.0,
                                    "ok": 0, "failed": 0, "unfinished": 0}, suite.jobs)
        return BatchOutcome(plan=plan)
    cores = available_cores()
    if scheduler is None and workers is not None and workers > cores:
        # a job's time budget is wall time: a job sharing its core searches less in it than one alone
        log(f"note: {workers} local workers share {counted(cores, 'core')}: a job with a time "
            f"budget (--seconds) searches for a share of a core, so its results differ from a run with one "
            f"worker per core; each worker is also a process of its own in memory")
    started = time.perf_counter()
    with dask_client(workers, scheduler) as client:  # a bad scheduler fails here, before the run is recorded
        cluster_seconds = time.perf_counter() - started
        note = no_workers_note(client, scheduler)
        if note:
            log(note)
        store.open_batch(manifest, run, suite.jobs)
        outcome = run_batch(suite.jobs, store, client, plan=plan, progress=progress)
        outcome.cluster_seconds = cluster_seconds
        if outcome.interrupted and scheduler is None:
            stop_local_workers(client)
    store.close_batch(run["started_at"], {"finished_at": now(), "wall_seconds": time.perf_counter() - started,
                                          "batch_seconds": outcome.seconds, "ok": outcome.ok,
                                          "failed": outcome.failed, "unfinished": len(outcome.unfinished)})
    return outcome
