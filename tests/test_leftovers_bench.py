"""srnet report beside several SRNet methods, and the bench_batch and mutate_fitness scripts."""

import json

import pytest

from srnet.bench.report import write_report
from srnet.bench.store import ResultStore
from srnet.bench.suites import BatchSettings, resolve_suite


def _payload(job, srnet_r2, maple_r2, status="ok"):
    payload = {"job": {**job.identity(), "kind": job.kind, "source": job.source, "task": job.task},
               "status": status, "settings": job.settings.to_dict(), "timings": {"total": 3.0}}
    if status == "failed":
        payload["error"] = {"type": "ValueError", "message": "boom", "traceback": "..."}
        return payload
    explainers = {"srnet": {"interpolation": {"r2": srnet_r2}, "extrapolation": {"r2": srnet_r2}},
                  "maple": {"interpolation": {"r2": maple_r2}, "extrapolation": {"r2": maple_r2}}}
    payload.update(data={"rows": 100, "features": 1, "train_rows": 75, "test_rows": 25},
                   network={"trained": True, "train_r2": 0.99, "test_r2": 0.99},
                   metrics={"explainers": explainers, "size": {"srnet": 5, "maple": 10},
                            "srnet": {"fitness": 0.01, "output_r2": srnet_r2, "complexity": 5, "generations": 5}},
                   formulas={"srnet": ["x0"]},
                   timings={"load": 0.1, "train": 1.0, "explain": {"srnet": 1.5, "maple": 0.3},
                            "explain_total": 1.8, "total": 3.0})
    return payload


@pytest.mark.parametrize("last", ["missing", "failed"])
def test_a_peer_explainer_counts_each_seed_once_beside_several_methods(tmp_path, monkeypatch, last):
    """Two methods on seeds 0 and 1, MAPLE at 0.5 and 0.9 (each method's job measures it again on the same
    network); srnet-paper's seed 1 missing drew MAPLE at 0.63 (seed 0 counted twice), failed drew it as a seed
    without a figure, though srnet's job had measured it.  SRNet vs MAPLE named no method."""
    import srnet.plots

    drawn = {}

    def keep(fig, path):
        drawn[path.name] = {line.get_label(): line.get_xydata().tolist() for ax in fig.axes
                            for line in ax.get_lines()}
        srnet.plots.plt.close(fig)
        return path

    monkeypatch.setattr(srnet.plots, "save_figure", keep)
    settings = BatchSettings()
    store = ResultStore(tmp_path)
    store.open_batch(store.check_batch(settings), {"run": 1})
    for job in resolve_suite("nguyen:nguyen-1", seeds=(0, 1), methods=("srnet", "srnet-paper"),
                             settings=settings).jobs:
        if job.method == "srnet-paper" and job.seed == 1:
            if last == "failed":
                store.write(_payload(job, None, None, status="failed"))
            continue
        store.write(_payload(job, 0.99 if job.method == "srnet" else 0.98, {0: 0.5, 1: 0.9}[job.seed]))
    write_report(tmp_path)
    lines = drawn["fidelity_per_dataset.png"]
    # (the third of three series, drawn a quarter step to the right of dataset 0's tick: c8e7521)
    assert lines["maple"] == [[pytest.approx(0.25), pytest.approx(0.7)]]
    assert not any(label.startswith("maple:") for label in lines)
    # the table compares each method with MAPLE on that method's own jobs
    markdown = (tmp_path / "summary.md").read_text()
    assert "| nguyen-1 | srnet | 2/2 | 0.9900 | 0.9900 | 0.9900 | 0.7000 |" in markdown
    assert "| nguyen-1 | srnet-paper | 1/" in markdown and "| 0.5000" in markdown
    pairs = drawn["srnet_vs_maple.png"]
    assert pairs["regression, srnet"] == [[0.5, 0.99], [0.9, 0.99]]
    assert pairs["regression, srnet-paper"] == [[0.5, 0.98]]


def test_bench_batch_measures_a_repeated_worker_count_once(experiment_script, monkeypatch, tmp_path):
    """--workers 1,2,1 ran the batch three times and took the speedup from the third run's rate (the first
    one's overwritten); 1,1 measured one setting twice."""
    bench_batch = experiment_script("bench_batch")
    calls = []

    def run(suite, n_workers):
        calls.append(n_workers)
        rate = 12.0 / len(calls)
        return {"workers": n_workers, "jobs": 12, "wall_seconds": 60.0, "jobs_per_minute": rate,
                "cluster_start_seconds": 1.0, "warm_up_seconds": 1.0, "mean_job_seconds": 5.0,
                "sum_job_seconds": 60.0, "load_average_before": 0.0, "load_average_after": 0.0}

    monkeypatch.setattr(bench_batch, "run", run)
    out = tmp_path / "batch.json"
    assert bench_batch.main(["--workers", "1,2,1", "--json", str(out)]) == 0
    assert calls == [1, 2]
    results = json.loads(out.read_text())["results"]
    assert [r["workers"] for r in results["runs"]] == [1, 2]
    assert results["speedup"] == pytest.approx(0.5)


def test_mutate_fitness_writes_its_provenance_and_runs_a_repeated_mutant_once(experiment_script, monkeypatch,
                                                                             tmp_path):
    """Its JSON alone had no command, versions, date or host; --only 0 0 ran mutant 0 twice and counted it as
    two mutants."""
    mutate = experiment_script("mutate_fitness")
    provenance = experiment_script("_provenance")
    monkeypatch.setattr(mutate, "_run", lambda *args, **kwargs: ("survived", 0.1))
    out = tmp_path / "mutants.json"
    assert mutate.main(["--only", "0", "0", "--no-compiled", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert {"command", "versions", "date", "host"} <= set(data)
    results = provenance.read_results(out)
    assert [m["index"] for m in results["mutants"]] == [0] and results["summary"]["mutants"] == 1
