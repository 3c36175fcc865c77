"""Tests that kill survivors of a mutation-testing sample of ``srnet/activations/search.py``.

Sample: mutmut 3.8.1 mutants of the module (``only_mutate = ["srnet/activations/routes.py",
"srnet/activations/search.py"]``), 12 drawn with ``random.Random(57).sample(sorted(names), 12)``, run against
tests/test_activations_routes.py, tests/test_review_activation_routes.py, tests/test_activations_edge_cases.py,
tests/test_activations.py and tests/test_language_model.py.  Each test names the mutant it kills and what a
user would see go wrong.
"""

import numpy as np
import pytest
import torch

from srnet.activations import DegenerateActivationError, search_activation
from srnet.activations.scorer import ActivationScorer
from srnet.activations.search import EXHAUSTED_AFTER, _Scorer


class _Improving(ActivationScorer):
    """Scores each new formula better than the last (no network is trained)."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def train(self, activation):
        self.calls += 1
        return 100.0 - self.calls


def test_an_exhausted_search_stops_exactly_exhausted_after_idle_generations():
    """xǁ_ActivationSearchǁstep__mutmut_69 (idle counted 2 a generation): a search that can meet nothing new
    (two columns of mul: a handful of formulas) stops after EXHAUSTED_AFTER generations in a row without a
    training run, not half as many."""
    seen = []
    found = search_activation(scorer=_Improving(), max_evaluations=50, max_seconds=None, functions=("mul",),
                              n_columns=2, n_constants=0, random_state=0,
                              callback=lambda progress: seen.append((progress.generation, progress.evaluations)))
    assert found.details["stop_reason"] == "exhausted"
    start = (0, int(found.details["history"][0][1]))  # generation 0: the first parent's training run
    trained_at = [generation for (generation, runs), (_, before) in zip(seen, [start] + seen) if runs > before]
    assert trained_at, "the test needs a training run after the start"
    assert found.details["generations"] == seen[-1][0] == trained_at[-1] + EXHAUSTED_AFTER


def test_the_details_count_the_rejected_formulas():
    """x_search_activation__mutmut_338 (the key spelt "REJECTED"): ``details["rejected"]`` counts the
    degenerate formulas this search met (sub and mul of one input make x - x, a constant, often)."""
    scorer = _Improving()
    found = search_activation(scorer=scorer, max_generations=30, max_seconds=None, functions=("sub", "mul"),
                              n_columns=4, n_constants=0, random_state=0)
    assert found.details["rejected"] == scorer.rejected > 0
    assert found.details["training_runs"] == scorer.trained and found.details["cache_hits"] == scorer.hits


def test_a_start_that_ran_out_of_tries_does_not_ask_for_more_time():
    """x__random_start__mutmut_28 (the hint always added): with no wall budget all 10000 random genomes were
    tried; "give the search more time" would not help, only a wider space."""
    scorer = _Improving()
    scorer.activation = lambda program: None  # nothing usable
    with pytest.raises(DegenerateActivationError, match=r"^10000 random genomes gave no usable activation; widen "
                                                        r"the function set or the grid$"):
        search_activation(scorer=scorer, max_generations=1, max_seconds=None, random_state=0)
    assert scorer.calls == 0


def test_the_scorer_keeps_its_data_on_its_own_device():
    """xǁ_Scorerǁ__init____mutmut_39 (y_val put on torch's default device): the validation labels must live on
    the scorer's device like the other three arrays; with a CUDA device they stayed on the CPU (torch's default)
    and every validation loss failed.  Seen here by making torch's default device another one (meta)."""
    X = np.random.default_rng(0).standard_normal((8, 2))
    y = (X[:, 0] > 0).astype(np.float64)
    torch.set_default_device("meta")
    try:
        scorer = _Scorer(X, y, X, y, task="binary", hidden=(4,), epochs=1, lr=1e-3, batch_size=4, device="cpu",
                         seed=0, check_range=(-5.0, 5.0))
    finally:
        torch.set_default_device(None)
    for name in ("X_train", "y_train", "X_val", "y_val"):
        assert getattr(scorer, name).device == torch.device("cpu"), name
    assert torch.equal(scorer.y_val, torch.as_tensor(y, dtype=torch.float32).reshape(-1, 1))
