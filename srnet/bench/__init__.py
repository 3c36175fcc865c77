"""Batch runs: the whole pipeline over many datasets, on Dask, resumable, with reports.

* :mod:`srnet.bench.suites`: a suite name -> a validated list of jobs
  (dataset, method, seed), checked before any work starts;
* :mod:`srnet.bench.jobs`: what one job does (load, split, train, explain, measure);
* :mod:`srnet.bench.store`: atomic, self-checking result files; resume; the manifest;
* :mod:`srnet.bench.runner`: a Dask ``LocalCluster`` or an existing cluster; the
  client writes each result as it arrives;
* :mod:`srnet.bench.report`: ``summary.csv``, ``summary.md`` and plots.

Dask is imported only when a batch runs.
"""

from srnet.bench.report import write_report
from srnet.bench.runner import dask_client, run_batch, run_suite
from srnet.bench.store import CorruptResult, ResultStore, read_result
from srnet.bench.suites import BatchSettings, JobSpec, resolve_suite

__all__ = ["BatchSettings", "CorruptResult", "JobSpec", "ResultStore", "dask_client", "read_result",
           "resolve_suite", "run_batch", "run_suite", "write_report"]
