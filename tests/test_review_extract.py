"""Review of srnet.extract: the explanation domain's activations are checked as the rows' are."""

import time

import numpy as np
import pytest
import torch
from torch import nn

from srnet.extract import SRNet
from srnet.networks import Exp

QUICK = dict(max_generations=20, simplify_seconds=0, random_state=0, n_threads=1, direct_budget=0, refine=False,
             functions=("add", "mul", "exp"), n_columns=4)


def exp_network(rate: float):
    """y = exp(rate x): within float64's squares on x in [-1, 1], beyond them a little further out."""
    net = nn.Sequential(nn.Linear(1, 1), Exp(), nn.Linear(1, 1)).double()
    with torch.no_grad():
        net[0].weight.fill_(rate)
        net[0].bias.zero_()
        net[2].weight.fill_(1.0)
        net[2].bias.zero_()
    return net


X = np.linspace(-1, 1, 40)[:, None]


def test_a_domain_where_the_network_s_squares_overflow_is_one_line():
    """exp(340 x) reaches 1e147 on the rows (accepted) and 1e177 on the box widened 1.2-fold: the formula fitted
    to that box scored R2 -2e49 on the rows, with numpy's overflow warnings, and was reported as the explanation."""
    with pytest.raises(ValueError, match="too large to square, on its explanation domain widen") as excinfo:
        SRNet(**QUICK).fit(exp_network(340.0), X)
    assert "\n" not in str(excinfo.value)


def test_no_figures_beyond_the_domain_where_the_network_s_squares_overflow_and_the_note_says_why():
    """exp(300 x) is finite to x = 1.5 (the box [-1, 1] widened 1.5-fold, where "beyond" is measured) but
    beyond float64's squares past x = 1.16: the figures beyond were inf RMSEs with numpy's overflow warnings;
    now that region is left out, as where the network is NaN/inf, and the note says why."""
    model = SRNet(domain="box:-1,1", **QUICK).fit(exp_network(300.0), X)
    assert "beyond" not in model.regions_
    assert "beyond" in model.domain_["note"] and "too large to square" in model.domain_["note"]
    assert set(model.regions_) == {"rows", "validation", "domain"}


def test_a_jitter_whose_points_squares_overflow_is_one_line_before_the_search():
    """The rows jittered by 1e155 std: a box so large was refused before probing, a jitter failed after the
    whole search with "invalid program: weights or intercept are not finite"."""
    net = nn.Sequential(nn.Linear(1, 2), nn.Tanh(), nn.Linear(2, 1)).double()
    with pytest.raises(ValueError, match="the explanation domain reaches .*; choose a smaller jitter") as excinfo:
        SRNet(domain="jitter:1e155", **{**QUICK, "max_generations": 10_000_000}).fit(net, X)
    assert "\n" not in str(excinfo.value)


def test_the_report_names_the_parameters_the_fit_ran_with_not_those_set_since():
    """report() read the current parameters: after set_params, its seed, settings and select described a run
    that never happened."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (60, 1))
    activations = [np.tanh(X @ [[1.0, -0.5]]), np.tanh(X @ [[1.0, -0.5]]) @ [[1.0], [2.0]]]
    model = SRNet(max_generations=5, random_state=3, simplify_seconds=0, select="best")
    model.fit_activations(X, activations)
    before = model.report()
    model.set_params(random_state=5, max_generations=9, select="knee", preset="paper", teacher_forcing=True)
    after = model.report()
    for key in ("seed", "settings", "select", "preset", "teacher_forcing"):
        assert after[key] == before[key], key
    assert (before["seed"], before["settings"]["max_generations"], before["select"]) == (3, 5, "best")


def test_a_time_budget_keeps_a_share_for_finishing_and_refinement_stops_at_its_end(monkeypatch):
    """The searches were given the whole budget, and composing, refining and choosing came on top: 10 s of
    budget took 13.4-15 s where the peers compared at equal time took 10.6-11.6 s."""
    import srnet.extract as extract
    import srnet.formulas as formulas

    seen = {}
    run, direct, refine = extract.run, extract.direct_formulas, formulas.refine
    monkeypatch.setattr(extract, "run", lambda *a, **k: (seen.setdefault("search", k["max_seconds"]), run(*a, **k))[1])
    monkeypatch.setattr(extract, "direct_formulas",
                        lambda *a, **k: (seen.setdefault("direct", k["max_seconds"]), direct(*a, **k))[1])
    monkeypatch.setattr(extract, "refine", lambda *a, **k: (seen.setdefault("deadline", k["deadline"]),
                                                             refine(*a, **k))[1])
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (60, 1))
    activations = [np.tanh(X @ [[1.0, -0.5]]), np.tanh(X @ [[1.0, -0.5]]) @ [[1.0], [2.0]]]
    model = SRNet(max_seconds=0.8, direct_budget=0.5, random_state=0, simplify_seconds=0)
    began = time.perf_counter()
    model.fit_activations(X, activations)
    share = 1 - extract.FINISH_SHARE
    assert seen["search"] == pytest.approx(0.8 * share * 0.5) and seen["direct"] == pytest.approx(0.8 * share * 0.5)
    assert began < seen["deadline"] <= began + model.compile_seconds_ + 0.8 + 0.5


def test_refinement_past_its_deadline_is_declined_at_once():
    from srnet.expr import Program
    from srnet.formulas import Formula, refine

    start = Formula("direct-4", (Program(1, (1.1, 0.0), (("mul", 0, 1), ("add", 3, 2), ("sin", 4, 0)), (5,),
                                         [[2.0]], [0.0]),))
    X = np.random.default_rng(0).uniform(-2, 2, (50, 1))
    Y = 2.5 * np.sin(1.3 * X) + 0.7
    assert refine(start, X, Y, X, Y) is not None  # it would improve...
    assert refine(start, X, Y, X, Y, deadline=time.perf_counter() - 1) is None  # ...but the budget is spent


def test_a_callback_that_stops_the_search_skips_the_direct_searches(monkeypatch):
    """Returning True stopped only the layer-wise search: the direct searches then ran their whole share
    (3/4 of a regression's budget) without asking the callback again."""
    import srnet.extract as extract

    monkeypatch.setattr(extract, "direct_formulas", lambda *a, **k: pytest.fail("a direct search ran"))
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (60, 1))
    activations = [np.tanh(X @ [[1.0, -0.5]]), np.tanh(X @ [[1.0, -0.5]]) @ [[1.0], [2.0]]]
    model = SRNet(max_seconds=30, random_state=0, simplify_seconds=0)
    model.fit_activations(X, activations, callback=lambda progress: progress.generation >= 3)
    assert model.stop_reason_ == "callback"
    assert {c["source"] for c in model.candidates_} <= {"layerwise", "linear", "layerwise+refined", "linear+refined"}


def test_more_threads_than_numba_has_make_no_more_islands_than_it_runs():
    """n_threads=64 on a 2-thread machine made 64 islands (evolve() counts at most numba's threads)."""
    import numba

    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (60, 1))
    activations = [np.tanh(X @ [[1.0, -0.5]]), np.tanh(X @ [[1.0, -0.5]]) @ [[1.0], [2.0]]]
    model = SRNet(max_generations=3, random_state=0, simplify_seconds=0, n_threads=numba.config.NUMBA_NUM_THREADS + 62)
    model.fit_activations(X, activations)
    assert model.n_islands_ <= numba.config.NUMBA_NUM_THREADS
