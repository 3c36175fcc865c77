"""Edge cases of the benchmark scripts found in review: options accepted that then fail (a traceback after
the work, or a misleading line), figures that crash the printing before the JSON is written, and a Ctrl-C
that loses the runs already finished."""

import contextlib
import json
import math
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ bench_islands

def test_bench_islands_refuses_an_empty_only_list(experiment_script, gecco_dir, tmp_path):
    """--only , ran nothing, then the summary line formatted a median of None: a TypeError traceback."""
    islands = experiment_script("bench_islands")
    with pytest.raises(SystemExit) as stop:
        islands.main(["--gecco-dir", str(gecco_dir), "--only", ",", "--json", str(tmp_path / "i.json")])
    assert stop.value.code == 2


def test_bench_islands_writes_its_json_when_no_ratio_can_be_taken(experiment_script, gecco_dir, tmp_path,
                                                                 monkeypatch):
    """Every one-thread fitness 0 (the search found the network's formula): no ratio, a median of None, and
    the summary line's TypeError came after all the searches and before the JSON was written."""
    islands = experiment_script("bench_islands")
    monkeypatch.setattr(islands, "search_fitness", lambda *args: (0.0, 5, 1))
    out = tmp_path / "i.json"
    assert islands.main(["--gecco-dir", str(gecco_dir), "--only", "kkk0", "--seeds", "1", "--seconds", "0.1",
                         "--json", str(out)]) == 0
    results = json.loads(out.read_text())["results"]
    assert results["runs_compared"] == 1 and results["median_fitness_ratio"] is None


@pytest.mark.parametrize("seconds", ["inf", "1e400"])
def test_bench_islands_refuses_an_infinite_budget_before_any_search(experiment_script, gecco_dir, monkeypatch,
                                                                    seconds):
    """--seconds inf passed its check (inf > 0) and was SRNet's ValueError traceback from the first search."""
    islands = experiment_script("bench_islands")

    def started(*args):
        raise AssertionError("a search started with --seconds inf")

    monkeypatch.setattr(islands, "search_fitness", started)
    with pytest.raises(SystemExit) as stop:
        islands.main(["--gecco-dir", str(gecco_dir), "--only", "kkk0", "--seconds", seconds])
    assert stop.value.code == 2


# ------------------------------------------------------------------ bench_engine

def test_bench_engine_a_gecco_dir_without_the_networks_loses_no_figures(experiment_script, tmp_path, monkeypatch):
    """--gecco-dir naming a folder without the paper's networks passed (it is a folder), and load_reference's
    FileNotFoundError came after every other table was measured, before the JSON was written.  Refused up
    front (exit 2) or skipped like an absent folder (the JSON written): either keeps the work."""
    engine = experiment_script("bench_engine")
    rate = {"best": 1e9, "median": 1e9}
    threads_all = engine.numba.config.NUMBA_NUM_THREADS
    every = sorted({1, 2, threads_all})

    def raw(seconds, precision, thread_counts=()):
        figures = {k: rate for k in ("1thread_1000", "1thread_10000", "all_1000", "all_10000")}
        return {**figures, "by_threads": {str(t): {"1000": rate, "10000": rate} for t in every},
                "threading_layer": "stub", "precision": precision}

    def inrun(seconds, n_threads, precision="float64"):
        return {"gpops_per_s": 1e8, "seconds": seconds, "evaluations": 10, "mean_function_nodes": 5.0,
                "threads": n_threads, "islands": 1}

    def nguyen(thread_counts, problems, seeds, budget):
        return {str(t): {"median_seconds": 0.5, "solved": 1, "runs": 1, "islands": 1, "by_problem": {}}
                for t in thread_counts}

    monkeypatch.setattr(engine, "try_import", lambda name: None)
    monkeypatch.setattr(engine, "bench_srnet_raw", raw)
    monkeypatch.setattr(engine, "inrun_srnet", inrun)
    monkeypatch.setattr(engine, "bench_nguyen_time_to_target", nguyen)
    monkeypatch.setattr(engine, "bench_gpu", lambda seconds: None)
    empty = tmp_path / "not-the-networks"
    empty.mkdir()
    out = tmp_path / "engine.json"
    try:
        code = engine.main(["--quick", "--threads", "1", "--gecco-dir", str(empty), "--json", str(out)])
    except SystemExit as stop:
        assert stop.code == 2 and not out.exists()
    else:
        assert code == 0 and json.loads(out.read_text())["results"]["gpops_per_s_1thread"] == 1e9


# ------------------------------------------------------------------ make_examples

def test_make_examples_check_against_a_folder_without_the_shipped_files_is_not_a_traceback(
        experiment_script, tmp_path, monkeypatch):
    """--check --out DIR regenerated everything, then read DIR/examples/examples.json: FileNotFoundError."""
    make = experiment_script("make_examples")
    monkeypatch.setattr(make, "make_examples", lambda folder: shutil.copytree(REPO / "data" / "examples", folder))
    monkeypatch.setattr(make, "make_activations",
                        lambda folder: shutil.copytree(REPO / "data" / "activations", folder))
    empty = tmp_path / "empty"
    empty.mkdir()
    try:
        code = make.main(["--check", "--out", str(empty)])
    except SystemExit as stop:
        code = stop.code
    assert code not in (0, None)


# ------------------------------------------------------------------ devices and dataset names

def test_bench_activation_refuses_an_unknown_device_in_one_line(experiment_script):
    """--device foo was torch's RuntimeError traceback (the other scripts say it in one line)."""
    bench = experiment_script("bench_activation")
    with pytest.raises(SystemExit) as stop:
        bench.main(["--quick", "--no-compile", "--no-train", "--sizes", "100", "--device", "foo"])
    assert stop.value.code not in (0, None)


def test_bench_activation_refuses_cuda_on_a_machine_without_it(experiment_script):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    bench = experiment_script("bench_activation")
    with pytest.raises(SystemExit) as stop:  # was AssertionError: Torch not compiled with CUDA enabled
        bench.main(["--quick", "--no-compile", "--no-train", "--sizes", "100", "--device", "cuda"])
    assert stop.value.code not in (0, None)


@pytest.mark.parametrize("argv", [["--datasets", "no-such-table", "--transfer-source", ""],
                                  ["--datasets", "iris", "--transfer-source", "no-such-table"]])
def test_activation_study_refuses_an_unknown_dataset_in_one_line(experiment_script, tmp_path, argv):
    """An unknown --datasets or --transfer-source name was load_table's ValueError traceback."""
    study = experiment_script("activation_study")
    with pytest.raises(SystemExit) as stop:
        study.main([*argv, "--device", "cpu", "--out", str(tmp_path / "study")])
    assert stop.value.code not in (0, None)


# ------------------------------------------------------------------ mutate_fitness

@pytest.mark.parametrize("timeout", ["0", "-5", "nan"])
def test_mutate_fitness_refuses_a_timeout_that_is_not_positive(experiment_script, monkeypatch, timeout):
    """--timeout 0 or -5 ran the unmutated tests with no time and said 'the unmutated code fails its tests
    (timeout): fix that first' -- the code was fine, the option was not."""
    mutate = experiment_script("mutate_fitness")

    def started(*args, **kwargs):
        raise AssertionError(f"tests ran with --timeout {timeout}")

    monkeypatch.setattr(mutate, "_run", started)
    with pytest.raises(SystemExit) as stop:
        mutate.main(["--only", "0", "--timeout", timeout])
    assert "--timeout" in str(stop.value.code) or stop.value.code == 2


def test_mutate_fitness_ctrl_c_keeps_the_mutants_already_run(experiment_script, monkeypatch, tmp_path):
    """A run over hundreds of mutants takes hours; Ctrl-C after some of them wrote no JSON at all."""
    mutate = experiment_script("mutate_fitness")
    outcomes = iter([("survived", 0.1), ("killed", 0.1)])  # the unmutated code, then mutant 0

    def run(*args, **kwargs):
        try:
            return next(outcomes)
        except StopIteration:
            raise KeyboardInterrupt from None

    monkeypatch.setattr(mutate, "_run", run)
    out = tmp_path / "mutants.json"
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        mutate.main(["--only", "0", "1", "--no-compiled", "--json", str(out)])
    assert out.exists(), "the finished mutant was lost"
    assert [m["index"] for m in json.loads(out.read_text())["results"]["mutants"]] == [0]


# ------------------------------------------------------------------ srnet_gecco

class _Reference:
    paper_fitness = None
    paper_agreement = None


def _gecco_run(seed, domain_r2, pareto_r2):
    return {"name": "kkk0", "kind": "regression", "seed": seed, "fitness": 1e-5, "output_r2": 0.99,
            "layer_mse": [1e-5], "generations": 10, "wall_seconds": 1.0, "search_seconds": 0.5, "points": 100,
            "selected_source": "direct", "selected_complexity": 5, "selected_expression": "x0",
            "selected_regions": {"domain": {"r2": domain_r2}}, "layerwise_complexity": 40,
            "pareto": [{"source": "direct", "complexity": 3, "domain_r2": pareto_r2, "agreement": None,
                        "expression": ["1.0"]},
                       {"source": "direct", "complexity": 5, "domain_r2": 0.99, "agreement": None,
                        "expression": ["x0"]}]}


def test_srnet_gecco_summary_and_table_survive_a_non_finite_domain_r2(experiment_script, capsys):
    """SRNet's report() writes a non-finite R^2 (a formula that overflows on the domain, a constant output)
    as None: np.median over it and '{None:.6f}' in the Pareto table were TypeErrors after every run, before
    the JSON."""
    gecco = experiment_script("srnet_gecco")
    runs = [_gecco_run(0, None, None), _gecco_run(1, 0.98, 0.5)]
    records = gecco.summarise(runs, {"kkk0": _Reference()}, "train+validation")
    gecco.print_table(records)
    assert "kkk0" in capsys.readouterr().out


def test_srnet_gecco_ctrl_c_keeps_the_runs_already_finished(experiment_script, gecco_dir, tmp_path, monkeypatch):
    """pool.map's results lived in a list that Ctrl-C threw away with the pool: hours of runs, no JSON."""
    gecco = experiment_script("srnet_gecco")

    class Pool:
        def __init__(self, max_workers, initializer=None):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def shutdown(self, *args, **kwargs):
            pass

        def map(self, fn, tasks):
            tasks = list(tasks)
            yield {**_gecco_run(tasks[0][2], 0.99, 0.5), "name": tasks[0][1]}
            raise KeyboardInterrupt

    monkeypatch.setattr(experiment_script("_options"), "ProcessPoolExecutor", Pool)
    out = tmp_path / "gecco.json"
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        gecco.main(["--gecco-dir", str(gecco_dir), "--only", "kkk0", "--seeds", "2", "--json", str(out)])
    assert out.exists(), "the finished run was lost"
    records = json.loads(out.read_text())["results"]
    records = records["records"] if isinstance(records, dict) else records
    assert records[0]["name"] == "kkk0" and records[0]["seeds"] == 1
    assert math.isclose(records[0]["fitness_median"], 1e-5)


@pytest.mark.parametrize("option", ["--problems", "--methods"])
def test_bench_nguyen_refuses_an_empty_list(experiment_script, option):
    bench = experiment_script("bench_nguyen")
    with pytest.raises(SystemExit) as stop:
        bench.main([option, ","])
    assert stop.value.code == 2


# ------------------------------------------------------------------ Ctrl-C in every script

def test_a_ctrl_c_stops_an_experiment_instead_of_cutting_one_search_short(experiment_script, monkeypatch, capsys):
    """srnet's searches keep their best on a first Ctrl-C (interactive use): bench_nguyen.py saved a 3 s run of
    a 6 s budget as a figure, ran on and exited 0. Under run_script every Ctrl-C interrupts: one line, 130."""
    import numpy as np

    from srnet import CGPRegressor
    from srnet.cgp import driver

    monkeypatch.setattr(driver, "KEEP_BEST_ON_INTERRUPT", True)
    options = experiment_script("_options")
    X = np.linspace(-1, 1, 40).reshape(-1, 1)

    def interrupted_search():
        def stop(progress):
            raise KeyboardInterrupt  # as Ctrl-C lands in the search's loop
        CGPRegressor(max_generations=50, max_seconds=None, random_state=0).fit(X, X[:, 0] ** 2, callback=stop)
        return 0  # (reached when the search swallowed the Ctrl-C)

    assert options.run_script(interrupted_search) == 130 and not driver.KEEP_BEST_ON_INTERRUPT
    assert capsys.readouterr().err.strip() == (
        "interrupted (Ctrl-C): the experiment stopped; figures cut short are not written")
    monkeypatch.setattr(driver, "KEEP_BEST_ON_INTERRUPT", True)  # interactive use: the best so far is kept
    assert interrupted_search() == 0


def test_a_json_path_that_cannot_be_written_is_refused_before_the_run(experiment_script, tmp_path, capsys):
    """--json a folder (or under /proc) failed in write_results, after the whole run: IsADirectoryError."""
    nguyen = experiment_script("bench_nguyen")
    for path, message in ((tmp_path, "is a folder; give the path of a file"),
                          ("/proc/nope/x.json", "cannot make the folder '/proc/nope'")):
        with pytest.raises(SystemExit) as stop:
            nguyen.main(["--seeds", "1", "--seconds", "1", "--json", str(path)])
        assert stop.value.code == 2 and message in capsys.readouterr().err


def test_missing_pmlb_tables_and_no_explainers_are_refused_before_the_pool(experiment_script, gecco_dir, capsys):
    """A missing PMLB table was a worker's remote traceback (advising a --download these scripts lack); an
    empty --explainers a worker's "no explainers to compare"."""
    gecco = experiment_script("srnet_gecco")
    with pytest.raises(SystemExit) as stop:
        gecco.main(["--gecco-dir", str(gecco_dir), "--pmlb-cache", "/nonexistent", "--only", "adult"])
    assert stop.value.code == 2
    assert "--pmlb-cache '/nonexistent' lacks the PMLB table(s) of adult" in capsys.readouterr().err
    compare = experiment_script("compare_explainers")
    with pytest.raises(SystemExit) as stop:
        compare.main(["--gecco-dir", str(gecco_dir), "--only", "kkk0", "--explainers", " , "])
    assert stop.value.code == 2 and "--explainers names none" in capsys.readouterr().err


def test_a_dataset_or_formula_that_does_not_exist_is_refused(experiment_script, tmp_path, capsys):
    """xnet_benchmarks read --datasets foo as "not in the PMLB cache; skipped" and exited 0 having measured
    nothing; bench_activation ran all 15 formulas for --formulas ''."""
    xnet = experiment_script("xnet_benchmarks")
    with pytest.raises(SystemExit) as stop:
        xnet.main(["--problems", "", "--datasets", "foo", "--pmlb-cache", str(tmp_path)])
    assert stop.value.code == 2 and "--datasets: foo is neither a scikit-learn set" in capsys.readouterr().err
    activation = experiment_script("bench_activation")
    for given in ("", ","):
        with pytest.raises(SystemExit, match=r"^error: --formulas: names none; choose from magic-sin"):
            activation.main(["--formulas", given, "--quick", "--no-compile"])
