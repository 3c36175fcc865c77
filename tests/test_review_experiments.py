"""Review of experiments/: options refused before any work instead of a traceback after it, names given twice
counted once (they were measured again and counted as more seeds or sets), and make_examples --check saying
what differs instead of raising."""

import json
import shutil
from pathlib import Path

import numba
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def _no_work(*args, **kwargs):
    raise AssertionError("work started before the options were checked")


# ------------------------------------------------------------------ bench_nguyen

def test_bench_nguyen_refuses_negative_pyoperon_iterations_before_any_run(experiment_script, monkeypatch, capsys):
    """--pyoperon-iterations -1 was pyoperon's TypeError traceback, after every srnet and gplearn run."""
    bench = experiment_script("bench_nguyen")
    monkeypatch.setattr(bench, "one_run", _no_work)
    with pytest.raises(SystemExit) as stop:
        bench.main(["--problems", "nguyen-1", "--seeds", "1", "--pyoperon-iterations", "-1"])
    assert stop.value.code == 2
    assert "--pyoperon-iterations must be >= 0, got -1" in capsys.readouterr().err


# ------------------------------------------------------------------ activation_study

def test_activation_study_refuses_an_empty_dataset_list_before_any_search(experiment_script, monkeypatch, tmp_path):
    """--datasets , ran the transfer source's search, trained nothing, wrote an empty table and said it had
    written results.csv and summary.csv (write_csv writes nothing for no rows)."""
    study = experiment_script("activation_study")
    monkeypatch.setattr(study, "load_table", _no_work)
    with pytest.raises(SystemExit) as stop:
        study.main(["--datasets", ",", "--device", "cpu", "--out", str(tmp_path / "study")])
    assert "--datasets names no dataset" in str(stop.value.code)


def test_activation_study_counts_a_repeated_dataset_or_seed_once(experiment_script, monkeypatch, tmp_path):
    """--datasets iris,iris --seeds 1,1 trained every model four times and reported 4 seeds (std over copies)."""
    study = experiment_script("activation_study")
    rng = np.random.default_rng(0)
    monkeypatch.setattr(study, "load_table", lambda name, pmlb_cache: (rng.normal(size=(40, 3)),
                                                                       np.arange(40) % 2, None))
    monkeypatch.setattr(study, "find_activation", lambda args, X, y, seed: (None, []))
    monkeypatch.setattr(study, "seeded", lambda build, seed: None)
    monkeypatch.setattr(study, "fit_and_score", lambda model, data, **kwargs: {
        "accuracy": 0.9, "roc_auc": 0.95, "parameters": 100, "efficiency": 0.475, "seconds": 0.1})
    out = tmp_path / "study.json"
    assert study.main(["--datasets", "iris,iris", "--transfer-source", "", "--seeds", "1,1", "--device", "cpu",
                       "--out", str(tmp_path / "study"), "--json", str(out)]) == 0
    results = json.loads(out.read_text())["results"]
    assert len(results["runs"]) == 4  # Heavy and three Light models, once
    assert [row["seeds"] for row in results["summary"]] == [1, 1, 1, 1]


# ------------------------------------------------------------------ srnet_gecco (and compare_explainers)

def test_reference_networks_read_only_as_a_list_of_names(experiment_script, tmp_path, capsys):
    """'kkk0, feynman1' was refused as the unknown network ' feynman1', and ',' as the unknown network ''."""
    gecco = experiment_script("srnet_gecco")
    parser = gecco.argparse.ArgumentParser()
    assert gecco.reference_networks(parser, tmp_path, "kkk0, feynman1,") == [("regression", "kkk0"),
                                                                              ("regression", "feynman1")]
    with pytest.raises(SystemExit):
        gecco.reference_networks(parser, tmp_path, ",")
    assert "--only names no network" in capsys.readouterr().err


# ------------------------------------------------------------------ bench_islands

def test_bench_islands_refuses_more_threads_than_numba_has(experiment_script, monkeypatch, tmp_path, capsys):
    """--threads 8 on a 2-thread machine ran the search on 2 threads (one population, shared evaluation) and
    printed and wrote the figures as 8 threads'."""
    islands = experiment_script("bench_islands")
    monkeypatch.setattr(islands, "search_fitness", _no_work)
    too_many = numba.config.NUMBA_NUM_THREADS + 1
    with pytest.raises(SystemExit) as stop:
        islands.main(["--gecco-dir", str(tmp_path), "--only", "kkk0", "--threads", str(too_many)])
    assert stop.value.code == 2
    assert "--threads must be at most" in capsys.readouterr().err


def test_bench_islands_runs_a_repeated_network_once(experiment_script, gecco_dir, monkeypatch, tmp_path):
    """--only kkk0,kkk0 ran kkk0's seeds twice and counted them twice in 'better in k of n runs'."""
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("bench_islands needs 2 numba threads")
    islands = experiment_script("bench_islands")
    monkeypatch.setattr(islands, "search_fitness", lambda *args: (1.0, 5, 2))
    out = tmp_path / "islands.json"
    assert islands.main(["--gecco-dir", str(gecco_dir), "--only", "kkk0, kkk0", "--seeds", "1", "--seconds", "0.1",
                         "--json", str(out)]) == 0
    assert json.loads(out.read_text())["results"]["runs_compared"] == 1


# ------------------------------------------------------------------ xnet_benchmarks

def test_xnet_benchmarks_measures_a_repeated_problem_or_set_once(experiment_script, monkeypatch):
    """--datasets iris,iris measured iris twice and said 'within 1 point ... on 2 of 2 sets'."""
    xnet = experiment_script("xnet_benchmarks")
    asked = {}

    def nguyen(problems, *args):
        asked["problems"] = problems
        return {"problems": {}}

    def classification(names, *args):
        asked["datasets"] = names
        return []

    monkeypatch.setattr(xnet, "nguyen", nguyen)
    monkeypatch.setattr(xnet, "classification", classification)
    monkeypatch.setattr(xnet, "print_report", lambda results: None)
    assert xnet.main(["--problems", "nguyen-1,nguyen-1", "--datasets", "iris, iris"]) == 0
    assert asked == {"problems": ["nguyen-1"], "datasets": ["iris"]}


# ------------------------------------------------------------------ make_examples --check

@pytest.fixture
def shipped_and_fresh(tmp_path):
    """Two copies of the shipped data/: ``shipped`` to spoil, ``fresh`` as a regeneration would write it."""
    for name in ("shipped", "fresh"):
        for part in ("examples", "activations"):
            shutil.copytree(REPO / "data" / part, tmp_path / name / part)
    return tmp_path / "shipped", tmp_path / "fresh"


def test_make_examples_check_reports_an_example_not_shipped(experiment_script, shipped_and_fresh):
    """An example added to the script since the shipped files were made: zip(strict=True)'s ValueError after
    the regeneration."""
    make = experiment_script("make_examples")
    shipped, fresh = shipped_and_fresh
    assert make.check(shipped, fresh) == []
    manifest = shipped / "examples" / "examples.json"
    data = json.loads(manifest.read_text())
    data["examples"] = data["examples"][:-1]
    manifest.write_text(json.dumps(data))
    (problem,) = make.check(shipped, fresh)
    assert problem.startswith("examples: shipped")


def test_make_examples_check_reports_an_activation_not_shipped(experiment_script, shipped_and_fresh):
    make = experiment_script("make_examples")
    shipped, fresh = shipped_and_fresh
    (shipped / "activations" / "magic-sin.json").unlink()  # was FileNotFoundError
    assert make.check(shipped, fresh) == ["activations/magic-sin.json is not shipped"]


@pytest.mark.parametrize("spoil", ["fewer rows", "nan"])
def test_make_examples_check_reports_outputs_it_cannot_compare(experiment_script, shipped_and_fresh, spoil):
    """Shipped outputs of other rows than the regeneration's were numpy's broadcasting ValueError; a NaN
    among them passed the check (a NaN gap is not > 1e-6)."""
    make = experiment_script("make_examples")
    shipped, fresh = shipped_and_fresh
    path = shipped / "examples" / "sine" / "expected_outputs.csv"
    lines = path.read_text().splitlines()
    lines = lines[:-10] if spoil == "fewer rows" else [*lines[:-1], "nan"]
    path.write_text("\n".join(lines) + "\n")
    (problem,) = make.check(shipped, fresh)
    assert problem.startswith("sine: outputs")
