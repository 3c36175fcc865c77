"""The benchmark scripts refuse bad options in one line, before any work (--jobs 0 was a traceback from a
worker after the pool had started, --trials 0 wrote an empty JSON, --only 99999 an IndexError, --sample 0 ran
all 373 mutants, --block-directions above the model's width failed after the search and the table)."""

import pytest


@pytest.mark.parametrize("script, argv, message", [
    ("compare_explainers", ["--jobs", "0"], "--jobs must be >= 1, got 0"),
    ("compare_explainers", ["--seconds", "-1"], "--seconds must be > 0, got -1.0"),
    ("compare_explainers", ["--trials", "0"], "--trials must be >= 1, got 0"),
    ("srnet_gecco", ["--seconds", "0"], "--seconds must be > 0, got 0.0"),
    ("bench_nguyen", ["--problems", "foo"], "unknown benchmark 'foo'"),
    ("activation_study", ["--epochs", "0"], "--epochs must be >= 1, got 0"),
    ("transformer_activation", ["--seeds", "0"], "--seeds must be >= 1, got 0"),
    ("transformer_activation", ["--search-generations", "0"], "--search-generations must be >= 1, got 0"),
    ("activation_study", ["--search-generations", "-3"], "--search-generations must be >= 1, got -3"),
    ("xnet_benchmarks", ["--max-seconds", "nan"], "--max-seconds must be a finite number, got nan"),
    ("xnet_validation", ["--seconds", "nan"], "--seconds must be a finite number, got nan"),
    ("xnet_validation", ["--fractions", "0,1"], "--fractions: each in [0, 1), got 0,1"),
    ("xnet_validation", ["--fractions", "0,a"], "--fractions: numbers separated by commas, got '0,a'"),
    ("bench_engine", ["--seconds", "-2"], "--seconds must be > 0, got -2.0"),
    ("bench_engine", ["--quick", "--ttt-seeds", "0"], "--ttt-seeds must be >= 1, got 0"),
    ("bench_activation", ["--rounds", "0"], "--rounds must be >= 1, got 0"),
    ("bench_activation", ["--sizes", "64k"], "--sizes takes comma-separated whole numbers, got '64k'"),
])
def test_bad_numbers_and_names_are_one_line_from_argparse(experiment_script, capsys, script, argv, message):
    with pytest.raises(SystemExit) as stop:
        experiment_script(script).main(argv)
    assert stop.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("script, argv, message", [
    ("mutate_fitness", ["--only", "99999"], "error: --only takes mutant numbers 0.."),
    ("mutate_fitness", ["--sample", "0"], "error: --sample must be >= 1, got 0"),
    ("transformer_activation", ["--quick", "--device", "cpu", "--block-directions", "4000"],
     "error: --block-directions must be at most the model's width"),
])
def test_bad_options_stop_before_any_work(experiment_script, script, argv, message):
    with pytest.raises(SystemExit) as stop:
        experiment_script(script).main(argv)
    assert str(stop.value.code).startswith(message)


@pytest.mark.parametrize("script", ["bench_engine", "bench_activation"])
def test_quick_sets_defaults_and_an_option_given_beside_it_still_counts(experiment_script, script):
    parse = experiment_script(script).parse_args
    assert parse(["--quick", "--seconds" if script == "bench_engine" else "--rounds", "7"]) is not None
    quick = parse(["--quick"])
    given = parse(["--quick", "--seconds" if script == "bench_engine" else "--rounds", "7"])
    if script == "bench_engine":
        assert quick.seconds == 1.0 and given.seconds == 7.0 and given.raw_seconds == 0.2
    else:
        assert quick.rounds == 3 and given.rounds == 7 and given.train_steps == 3


def test_the_activation_study_runs_to_its_report(experiment_script, pmlb_cache, tmp_path):
    """Its report.json failed after all the training: the settings held a torch.device, which JSON refused."""
    import json

    study = experiment_script("activation_study")
    argv = ["--datasets", "appendicitis", "--transfer-source", "appendicitis", "--seeds", "1", "--epochs", "1",
            "--search-seconds", "1", "--search-samples", "100", "--attempts", "1", "--device", "cpu",
            "--pmlb-cache", str(pmlb_cache), "--out", str(tmp_path / "study"), "--json", str(tmp_path / "s.json")]
    assert study.main(argv) == 0
    report = json.loads((tmp_path / "study" / "report.json").read_text())
    assert report["settings"]["device"] == "cpu" and report["runs"]
    assert json.loads((tmp_path / "s.json").read_text())["results"]["settings"]["seeds"] == "1"


def test_the_activation_study_refuses_seeds_outside_32_bits_and_survives_a_heavy_model_at_auc_0(
        experiment_script):
    study = experiment_script("activation_study")
    for seeds in ("-1", "4294968"):
        with pytest.raises(SystemExit, match="--seeds must be whole numbers from 0 to 4294967"):
            study.parse_args(["--seeds", seeds])
    common = {"dataset": "d", "seed": 0, "activation": "relu", "parameters": 10, "accuracy": 0.5, "seconds": 1.0}
    runs = [{**common, "model": "Heavy", "efficiency": 0.0, "roc_auc": 0.0},
            {**common, "model": "Light", "efficiency": 0.5, "roc_auc": 0.5}]
    study.summarise(runs)  # a ZeroDivisionError after all the training
    assert all(r["gain_vs_heavy"] != r["gain_vs_heavy"] for r in runs)  # NaN: no ratio to a zero
    assert runs[1]["auc_vs_heavy"] == 0.5


def test_the_activation_studies_budget_their_searches_in_generations_alone_when_asked(experiment_script):
    """A seconds budget made a seed's formula depend on the machine's speed (the same seed found two formulas);
    --search-generations budgets the searches in generations alone, which a seed reproduces."""
    study = experiment_script("activation_study").parse_args(["--search-generations", "5"])
    assert (study.search_generations, study.search_seconds) == (5, None)
    assert experiment_script("activation_study").parse_args([]).search_seconds == 30.0
    transformer = experiment_script("transformer_activation").parse_args(["--search-generations", "5"])
    assert transformer.search_generations == 5
