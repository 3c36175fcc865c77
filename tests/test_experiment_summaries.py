"""The benchmark scripts' summaries over seeds and trials: a seed that overflowed or diverged is the
summary's figure, never left out (left out, an R^2 of -inf read +inf, an unsolved problem counted as
solved, and a formula that diverged on two seeds of three beat GELU on the third's figure)."""

import math

import numpy as np


def test_a_trial_that_overflowed_is_the_comparisons_figure_not_left_out(experiment_script):
    compare = experiment_script("compare_explainers")
    rows = [dict(network="kkk0", explainer="srnet", domain="test", r2=-math.inf, rmse=math.inf),
            dict(network="kkk0", explainer="maple", domain="test", r2=0.5, rmse=1.0),
            dict(network="kkk0", explainer="maple", domain="test", r2=-math.inf, rmse=math.inf)]
    records = {r["explainer"]: r for r in compare.aggregate(rows)}
    assert records["srnet"]["r2"] == -math.inf and records["srnet"]["rmse"] == math.inf
    assert records["maple"]["rmse"] == math.inf and records["maple"]["trials"] == 2
    finite = compare.aggregate([dict(network="n", explainer="e", domain="d", rmse=v) for v in (1.0, 3.0)])[0]
    assert finite["rmse"] == 2.0 and finite["rmse_std"] == math.sqrt(2.0)  # the sample std, as every script's


def test_every_script_summarises_seeds_with_the_one_mean_std(experiment_script):
    one = experiment_script("_summary").mean_std
    for script in ("compare_explainers", "xnet_benchmarks", "transformer_activation", "activation_study"):
        assert experiment_script(script).mean_std is one, script
    mean, std = one([1.0, 2.0, None, 6.0])
    assert mean == 3.0 and std == float(np.std([1.0, 2.0, 6.0], ddof=1))
    assert one([5.0])[0] == 5.0 and math.isnan(one([5.0])[1])  # one seed: no spread ("± 0" read as none)
    assert experiment_script("_summary").shown_std(math.nan, ".4f") == "-"
    assert all(math.isnan(v) for v in one([None, None]))


def test_a_seed_that_diverged_is_the_mean_of_every_summary(experiment_script):
    for script in ("xnet_benchmarks", "transformer_activation", "activation_study"):
        mean_std = experiment_script(script).mean_std
        worst = mean_std([1.0, 1.0, -math.inf if script == "xnet_benchmarks" else math.inf])[0]
        assert not math.isfinite(worst), script
        assert mean_std([2.0, 4.0])[0] == 3.0
    assert experiment_script("activation_study").mean_std([0.9, math.nan, 0.95])[0] != 0.925
