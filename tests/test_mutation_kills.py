"""Tests that fail when the code they check is broken (issue 11: mutation testing).

Each test is an oracle or a property of what the code promises, and each one
fails on a mutant that the rest of the suite let through:

* each layer's pick in the layer-wise search is the *best* candidate, not
  whichever came first (mutant: ``argmin`` replaced by offspring 0);
* teacher forcing really feeds layer k the network's layer k-1 (mutant:
  teacher forcing ignored by the search, or by the final refit);
* MAPLE ranks features by DStump, each tree's root split credited with its
  impurity decrease, ties by impurity importance (mutant: DStump dropped).
"""

import numpy as np
import pytest

from srnet.cgp import Genome, _kernels, as_feature_rows, outputs_of
from srnet.cgp.driver import run
from srnet.cgp.primitives import ARITIES
from srnet.explain import MapleExplainer
from srnet.layers import LayerwiseSearch, fit_layer_programs, make_specs, paper_fitness


def _layer_mse(genome, inputs, target):
    """Oracle: the MSE of plain NumPy least squares of ``target`` on [outputs, 1]."""
    F = outputs_of(genome, inputs)
    design = np.column_stack([F.T, np.ones(F.shape[1])])
    coef, *_ = np.linalg.lstsq(design, target.T, rcond=None)
    return float(np.mean((target.T - design @ coef) ** 2))


def _specs(layer_widths, n_columns=6):
    return make_specs(1, layer_widths, form="multi", n_outputs=1, n_rows=1, n_columns=n_columns, levels_back=None,
                      functions=("add", "sub", "mul", "sin"), n_constants=1, constant_pool=(1.0,))


def _candidates(genomes):
    """The buffers of :func:`_kernels.layer_pick` holding ``genomes`` (the parent's chromosome last)."""
    count = len(genomes)
    return (np.ascontiguousarray([g.nodes for g in genomes]), np.ascontiguousarray([g.outputs for g in genomes]),
            np.ascontiguousarray([g.constants for g in genomes]), np.ones(count, dtype=np.bool_), np.empty(count),
            np.zeros(count, dtype=np.int64))


def _pick(spec, x, target, genomes, selection, same_input=False, parent_mse=np.inf):
    nodes, outputs, constants, changed, fitness, n_active = _candidates(genomes)
    return _kernels.layer_pick(spec.pool_array, ARITIES, x, target, _kernels.target_sst(target), 0.0, parent_mse,
                               same_input, selection == "paper", False, 1, nodes, outputs, constants, changed, fitness,
                               n_active)


def _known_candidates():
    """A layer's target and genomes: one that fits it exactly, three that do not (the worst first)."""
    rng = np.random.default_rng(0)
    x = as_feature_rows(rng.uniform(-2, 2, (80, 1)))
    spec = _specs([2])[0]
    truth = next(g for g in (Genome.random(spec, rng) for _ in range(500))
                 if np.ptp(outputs_of(g, x)) > 1e-3 and np.all(np.isfinite(outputs_of(g, x))))
    target = np.array([[2.0], [-0.5]]) @ outputs_of(truth, x) + np.array([[1.0], [3.0]])
    others = [g for g in (Genome.random(spec, rng) for _ in range(200))
              if np.all(np.isfinite(outputs_of(g, x))) and _layer_mse(g, x, target) > 1e-2][:3]
    others.sort(key=lambda g: -_layer_mse(g, x, target))
    return spec, x, target, truth, others


@pytest.mark.parametrize("selection", ["paper", "drift"])
def test_each_layer_picks_its_best_offspring_not_the_first(selection):
    """Given known offspring (the worst first, the best third) and a poor
    parent's chromosome, a layer's pick is the best offspring, scored (MSE)
    and fitted (approximation) as plain NumPy least squares has it."""
    spec, x, target, truth, others = _known_candidates()
    offspring = [others[0], others[1], truth, others[2]]
    errors = [_layer_mse(g, x, target) for g in offspring]
    assert errors[0] == max(errors) and errors[2] < 1e-12 < min(errors[:2] + errors[3:])
    best, identical, mse, approximation, evaluations, node_evaluations = _pick(spec, x, target,
                                                                               offspring + [others[1]], selection)
    assert best == 2 and not identical and evaluations == 5
    assert mse == pytest.approx(min(errors), abs=1e-12)
    np.testing.assert_allclose(approximation, target, atol=1e-9)
    assert node_evaluations > 0 and node_evaluations % x.shape[1] == 0


def test_the_paper_selection_never_keeps_the_parents_chromosome_in_a_layer_pick():
    """The paper's MNNCGP-ES builds each layer's chain from offspring only;
    srnet's drift rule lets the parent's chromosome compete (and when it wins
    on its own input, its cached approximation is kept: ``identical``)."""
    spec, x, target, truth, others = _known_candidates()
    candidates = others + [truth]  # the parent's chromosome is the best
    parent_mse = _layer_mse(truth, x, target)
    paper = _pick(spec, x, target, candidates, "paper", same_input=True, parent_mse=parent_mse)
    drift = _pick(spec, x, target, candidates, "drift", same_input=True, parent_mse=parent_mse)
    assert paper[0] == int(np.argmin([_layer_mse(g, x, target) for g in others])) and not paper[1]
    assert drift[0] == 3 and drift[1] and drift[2] == parent_mse and drift[3].size == 0
    assert paper[4] == drift[4] == 3  # the parent's chromosome was not rescored on its own input


@pytest.mark.parametrize("same_input", [True, False])
def test_an_offspring_mutated_only_in_inactive_genes_shares_the_parents_score(same_input):
    """An unchanged offspring computes what the parent's chromosome computes:
    it is not scored, gets the parent's score (on its own input, the cached
    one; on a new input, the parent's chromosome's new score) and, being an
    offspring, wins the tie.  Its approximation is the parent's cached one
    only on the parent's own input."""
    spec, x, target, truth, others = _known_candidates()
    nodes, outputs, constants, changed, fitness, n_active = _candidates([others[0], truth, others[1], truth])
    changed[1] = False
    cached = 0.5  # a stale score on another input: must not be used on a new one
    truth_mse = _layer_mse(truth, x, target)
    best, identical, mse, approximation, evaluations, _ = _kernels.layer_pick(
        spec.pool_array, ARITIES, x, target, _kernels.target_sst(target), 0.0, truth_mse if same_input else cached,
        same_input, False, False, 1, nodes, outputs, constants, changed, fitness, n_active)
    assert best == 1 and identical == same_input
    assert evaluations == (2 if same_input else 3)
    assert mse == pytest.approx(truth_mse, abs=1e-12)
    if same_input:
        assert approximation.size == 0
    else:
        np.testing.assert_allclose(approximation, target, atol=1e-9)


def _two_layer_problem():
    """Inputs and two layers' targets; layer 2 is a function of layer 1's true values."""
    rng = np.random.default_rng(1)
    x = as_feature_rows(rng.uniform(-2, 2, (120, 1)))
    h1 = np.vstack([np.tanh(3 * x[0]) + 0.3 * np.cos(5 * x[0]), np.abs(x[0]) ** 1.5])
    h2 = np.vstack([h1[0] * h1[1], np.sin(2 * h1[0]) - h1[1]])
    return x, [h1, h2]


@pytest.mark.parametrize("forcing", [True, False])
def test_cached_layer_approximations_are_always_those_of_the_parents_chromosomes(forcing):
    """A layer whose pick computes what the parent's chromosome computed (the
    parent's own, or an offspring mutated only in inactive genes) on the same
    input keeps the parent's cached approximation, so the layer after it is
    not rescored.  After every generation, the cache must equal a fresh
    refit of the kept chromosomes, chained (or teacher-forced) as the search
    reads them; and that shortcut must actually be taken."""
    x, targets = _two_layer_problem()
    specs = _specs([2, 2], n_columns=8)
    search = LayerwiseSearch(specs, x, targets, n_offspring=4, mutation="point", mutation_rate=0.1, ridge=0.0,
                             teacher_forcing=forcing, run_seed=7, n_threads=1, selection="drift")
    shortcuts = 0
    for _ in range(150):
        before = search.parent
        search.step()
        _, mses, approximations = fit_layer_programs(search.best, x, targets, 0.0, teacher_forcing=forcing)
        for k, state in enumerate(search.parent):
            np.testing.assert_allclose(state.approximation, approximations[k], rtol=1e-12, atol=1e-14)
            assert state.mse == pytest.approx(mses[k], rel=1e-9, abs=1e-15)
            if state.approximation is before[k].approximation and not np.array_equal(state.nodes, before[k].nodes):
                shortcuts += 1
    assert search.fitness == pytest.approx(paper_fitness(mses), rel=1e-9, abs=1e-15)
    assert shortcuts > 0


def test_teacher_forcing_scores_each_layer_on_the_true_previous_layer():
    """With teacher forcing, the fitness the search reports is the paper
    fitness of each layer's chromosome fitted on the network's own previous
    layer (an oracle by NumPy least squares), which differs from the same
    chromosomes chained through their approximations; the final refit feeds
    the true previous layer too."""
    x, targets = _two_layer_problem()
    specs = _specs([2, 2], n_columns=8)
    for forcing in (True, False):
        search = LayerwiseSearch(specs, x, targets, n_offspring=4, mutation="point", mutation_rate=0.1, ridge=0.0,
                                 teacher_forcing=forcing, run_seed=5, n_threads=1, selection="drift")
        run(search, max_generations=60)
        first, second = search.best
        # layer 1's approximation, as chained layer-wise
        F1 = outputs_of(first, x)
        design = np.column_stack([F1.T, np.ones(F1.shape[1])])
        approximation = (design @ np.linalg.lstsq(design, targets[0].T, rcond=None)[0]).T
        forced = [_layer_mse(first, x, targets[0]), _layer_mse(second, targets[0], targets[1])]
        chained = [forced[0], _layer_mse(second, approximation, targets[1])]
        assert abs(forced[1] - chained[1]) > 1e-3 * max(forced[1], chained[1])  # the two readings differ
        want = paper_fitness(forced if forcing else chained)
        assert search.fitness == pytest.approx(want, rel=1e-6, abs=1e-12)
        _, mses, _ = fit_layer_programs(search.best, x, targets, 0.0, teacher_forcing=forcing)
        assert mses == pytest.approx(forced if forcing else chained, rel=1e-6, abs=1e-12)


def test_srnet_teacher_forcing_searches_on_the_teacher_forced_fitness():
    """SRNet(teacher_forcing=True) on the rows alone: the fitness its search
    optimised is the paper fitness of its layers fed the network's own
    previous layers (teacher_forced_layer_mse_), not that of the chained ones."""
    from srnet.extract import SRNet
    from srnet.train import train_mlp

    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (150, 2))
    net, _ = train_mlp(X, np.sin(X[:, 0]) + X[:, 0] * X[:, 1], hidden=(4, 4), activation="sigmoid", epochs=300,
                       random_state=0)
    quick = dict(max_seconds=None, simplify_seconds=0, random_state=0, n_threads=1, domain="rows",
                 max_generations=150)
    forced = SRNet(teacher_forcing=True, **quick).fit(net, X)
    forced_fitness = paper_fitness(forced.teacher_forced_layer_mse_)
    assert forced.search_fitness_ == pytest.approx(forced_fitness, rel=1e-9)
    assert abs(forced.fitness_ - forced_fitness) > 0.1 * forced_fitness  # chained layers score otherwise
    chained = SRNet(teacher_forcing=False, **quick).fit(net, X)
    assert chained.search_fitness_ == pytest.approx(chained.fitness_, rel=1e-9)
    # the history records every improvement of the search, then where it ended
    history = chained.history_
    assert len(history) > 2 and np.all(np.diff(history[:-1, 3]) < 0)
    assert history[-1, 0] == chained.n_generations_ and history[-1, 3] == chained.search_fitness_
    assert history[-1, 1] == chained.n_evaluations_
    assert {"compile_seconds", "search_seconds"} <= set(chained.report())


def _dstump(maple):
    """Oracle: DStump from the fitted trees, each root split's impurity decrease credited to its feature."""
    scores = np.zeros(maple.X_train_.shape[1])
    for tree in maple.supporting_forests_[0].estimators_:
        t = tree.tree_
        left, right = t.children_left[0], t.children_right[0]
        if left >= 0:
            n = t.weighted_n_node_samples
            scores[t.feature[0]] += n[0] * t.impurity[0] - n[left] * t.impurity[left] - n[right] * t.impurity[right]
    return scores


def test_maple_ranks_features_by_dstump_not_by_impurity_importance():
    """A unit step on x0 wins every root split, while a fast oscillation on x1
    takes most of the forest's impurity importance: DStump puts x0 first,
    the impurity importances would put x1 first."""
    def step_and_wiggle(X):
        return (X[:, 0] > 0.1).astype(float) + np.sin(15 * X[:, 1])

    X = np.random.default_rng(0).uniform(-1, 1, (1500, 3))
    maple = MapleExplainer(n_estimators=50, max_features=1.0).fit(step_and_wiggle, X, random_state=0)
    impurity = maple.supporting_forests_[0].feature_importances_
    dstump = _dstump(maple)
    assert np.argmax(impurity) == 1 and np.argmax(dstump) == 0  # the two rankings disagree here
    np.testing.assert_array_equal(maple.feature_ranking_, np.argsort(-dstump, kind="stable"))
    np.testing.assert_array_equal(maple.selected_features_, maple.feature_ranking_[:len(maple.selected_features_)])


def test_maple_breaks_dstump_ties_by_impurity_importance():
    """With one input the root of every tree splits x0: DStump credits x1 and
    x2 nothing, and the forest's impurity importance orders them."""
    def mostly_x0(X):
        return 3 * X[:, 0] + 0.2 * np.sin(6 * X[:, 2]) + 0.02 * X[:, 1]

    X = np.random.default_rng(1).uniform(-1, 1, (800, 3))
    maple = MapleExplainer(n_estimators=30, max_features=1.0).fit(mostly_x0, X, random_state=0)
    dstump = _dstump(maple)
    assert dstump[0] > 0 and dstump[1] == dstump[2] == 0
    impurity = maple.supporting_forests_[0].feature_importances_
    assert impurity[2] > impurity[1]
    np.testing.assert_array_equal(maple.feature_ranking_, [0, 2, 1])


def test_a_seconds_budget_lets_the_layerwise_search_run_until_it_is_spent():
    x, targets = _two_layer_problem()
    search = LayerwiseSearch(_specs([2, 2]), x, targets, n_offspring=4, mutation="point", mutation_rate=0.1,
                             ridge=1e-8, teacher_forcing=False, run_seed=0, n_threads=1)
    outcome = run(search, max_seconds=0.3)
    assert outcome.stop_reason == "max_seconds"
    assert search.generation > 0 and outcome.seconds >= 0.3


def test_comparison_table_has_one_aligned_row_per_record():
    from srnet.compare import Comparison

    records = [{"explainer": name, "domain": domain, "rmse": 0.5, "r2": 0.25, "agreement": None,
                "rmse_around": 0.75, "agreement_around": 0.5, "seconds": 1.0, "size": 3}
               for name in ("srnet", "maple") for domain in ("interpolation", "extrapolation")]
    lines = Comparison("classification", records, {}, {}, {}, {}).table().splitlines()
    assert lines[0].split() == ["explainer", "domain", "prob", "rmse", "prob", "r2", "agreement", "prob", "rmse",
                                "around", "agr.", "around", "seconds", "size"]
    assert [line.split()[:2] for line in lines[1:]] == [[r["explainer"], r["domain"]] for r in records]
    assert lines[1].split()[2:] == ["0.5", "0.250000", "0.75", "50.0%", "1.0", "3"]
    regression = Comparison("regression", records, {}, {}, {}, {}).table().splitlines()  # (no agreement there)
    assert regression[0].split() == ["explainer", "domain", "rmse", "r2", "rmse", "around", "seconds", "size"]
    assert regression[1].split()[2:] == ["0.5", "0.250000", "0.75", "1.0", "3"]


def test_write_comparison_draws_no_decision_boundaries_for_a_regression():
    import tempfile
    from pathlib import Path

    import torch
    from torch import nn

    from srnet.compare import compare, write_comparison
    from srnet.explain import NetworkFunction

    net = nn.Sequential(nn.Linear(3, 1)).double()
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, 2.0, -1.0]]))
    network = NetworkFunction(net)
    X = np.random.default_rng(0).uniform(-1, 1, (80, 3))
    result = compare(network, X, {"maple": MapleExplainer(n_estimators=10)}, n_points=20, random_state=0)
    with tempfile.TemporaryDirectory() as out:
        written = {p.name for p in write_comparison(result, network, Path(out))}
    assert written == {"compare.json", "compare.csv", "fidelity.png"}
