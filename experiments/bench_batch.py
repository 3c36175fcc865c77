"""Throughput of ``srnet bench`` on 1 and on 2 Dask workers: jobs per minute and the speedup.

The same 12-job batch (by default the 12 Nguyen formulas, one seed: sample,
train a 1-32-32-1 or 2-32-32-1 sigmoid network, explain it with SRNet) runs on
a fresh ``LocalCluster`` of 1 single-threaded worker, then of 2, each into
its own empty result folder, through the library's ``run_batch`` (what
``srnet bench`` runs).  The searches have a *generation* budget, not a time
budget, so every job does the same work however many workers share the
machine: a wall-clock budget would make the speedup look perfect on any
machine.

Jobs per minute = 12 / (seconds from the first submission to the last result
written) x 60.  Starting the cluster and warming its workers up (importing
srnet and torch, loading the compiled kernels: one tiny job on every worker)
are timed apart and not counted: they are paid once per cluster, not per job.

    python experiments/bench_batch.py [--suite nguyen] [--generations 1000] [--workers 1,2] [--json PATH]

The JSON holds ``jobs_per_minute_1_worker``, ``jobs_per_minute_2_workers``,
``speedup`` and the details (wall times, cluster start, load average).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time

from _options import load_average, output_file, run_script
from _provenance import write_results

from srnet.data import counted


def warm_up() -> float:
    """One tiny job in this worker: imports and compiled kernels are loaded."""
    from srnet.bench.jobs import run_job
    from srnet.bench.suites import BatchSettings, resolve_suite

    started = time.perf_counter()
    tiny = BatchSettings(seconds=None, generations=2, hidden=(4, 4), epochs=2, n_points=10, nguyen_rows=20)
    result = run_job(resolve_suite("nguyen:nguyen-1", settings=tiny).jobs[0])
    if result["status"] != "ok":
        raise RuntimeError(f"warm-up job failed: {result['error']}")
    return time.perf_counter() - started


def run(suite, n_workers: int) -> dict:
    from srnet.bench.runner import dask_client, run_batch, stop_local_workers
    from srnet.bench.store import ResultStore

    with tempfile.TemporaryDirectory(prefix="srnet-bench-batch-") as folder:
        store = ResultStore(folder)
        started = time.perf_counter()
        with dask_client(n_workers) as client:
            cluster_seconds = time.perf_counter() - started
            warm = client.run(warm_up)
            load_before = load_average()
            outcome = run_batch(suite.jobs, store, client, progress=False)
            if outcome.interrupted:  # as srnet bench stops them (the cluster's closing hung for a minute), and
                # no figure: the folder is a temporary one ("run the same command again" was no advice)
                stop_local_workers(client)
                raise KeyboardInterrupt
        load_after = load_average()
        payloads, corrupt = store.load_all()
    if outcome.failed or outcome.unfinished or corrupt or len(payloads) != len(suite.jobs):
        raise RuntimeError(f"the batch on {n_workers} worker(s) did not finish cleanly: {outcome.describe()}, "
                           f"{outcome.failures}")
    job_seconds = [p["timings"]["total"] for p in payloads]
    return {"workers": n_workers, "jobs": len(payloads), "wall_seconds": outcome.seconds,
            "jobs_per_minute": 60 * len(payloads) / outcome.seconds, "cluster_start_seconds": cluster_seconds,
            "warm_up_seconds": max(warm.values()),
            "mean_job_seconds": sum(job_seconds) / len(job_seconds), "sum_job_seconds": sum(job_seconds),
            "load_average_before": load_before, "load_average_after": load_after}


def _whole(text: str):
    """A --workers entry as a number for check_workers (which names what is wrong with it)."""
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"--workers takes whole numbers, e.g. 1,2; got {text.strip()!r}") from None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="nguyen", help="a suite of 12 datasets (default: nguyen)")
    parser.add_argument("--generations", type=int, default=1000, help="SRNet generations per job (default: 1000)")
    parser.add_argument("--workers", default="1,2", help="worker counts to compare (default: 1,2)")
    parser.add_argument("--pmlb-cache", help="for pmlb suites")
    parser.add_argument("--json", type=output_file, help="write the figures here")
    args = parser.parse_args(argv)

    from srnet.bench.runner import check_workers
    from srnet.bench.suites import BatchSettings, resolve_suite

    try:  # bad options: one line, as srnet bench says them
        settings = BatchSettings(seconds=None, generations=args.generations)
        suite = resolve_suite(args.suite, settings=settings, pmlb_cache=args.pmlb_cache, limit=12)
        # each once, in the order given: a repeated count ran the batch again and its last run overwrote the
        # first's rate (--workers 1,2,1 took the speedup from the third run, 1,1 measured one setting twice)
        counts = list(dict.fromkeys(check_workers(_whole(w)) for w in args.workers.split(",")))
    except ValueError as error:
        parser.error(str(error))
    load = load_average()
    print(f"bench_batch: {counted(len(suite.jobs), 'job')} of {args.suite}, "
          f"{counted(args.generations, 'generation')} each, "
          f"{os.cpu_count()} cores, load average {load}", flush=True)
    if load is not None and load > 0.5:
        print("warning: the machine is busy (load average > 0.5): other processes take cores from the workers")
    runs = []
    for n_workers in counts:
        figures = run(suite, n_workers)
        runs.append(figures)
        print(f"  {n_workers} worker(s): {figures['jobs']} jobs in {figures['wall_seconds']:.1f} s = "
              f"{figures['jobs_per_minute']:.2f} jobs/min (cluster start {figures['cluster_start_seconds']:.1f} s, "
              f"warm-up {figures['warm_up_seconds']:.1f} s, "
              f"mean job {figures['mean_job_seconds']:.1f} s, load {figures['load_average_before']} -> "
              f"{figures['load_average_after']})", flush=True)
    rate = {r["workers"]: r["jobs_per_minute"] for r in runs}
    result = {"jobs_per_minute_1_worker": rate.get(1), "jobs_per_minute_2_workers": rate.get(2),
              "speedup": rate[2] / rate[1] if 1 in rate and 2 in rate else None,
              "suite": args.suite, "jobs": len(suite.jobs), "generations": args.generations, "runs": runs,
              "cores": os.cpu_count(), "python": platform.python_version(), "load_average_start": load}
    if result["speedup"] is not None:
        print(f"speedup 1 -> 2 workers: {result['speedup']:.2f}x (target >= 1.8x)")
    if args.json:
        write_results(args.json, result)  # with the command, versions, date and host
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(run_script(main))
