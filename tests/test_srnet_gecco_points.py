"""experiments/srnet_gecco.py --points train+validation: the paper's own point set (skips without shared data)."""

import numpy as np
import pytest

from srnet.extract import SRNet
from srnet.reference import load_reference


@pytest.fixture
def gecco_script(experiment_script):
    return experiment_script("srnet_gecco")


def test_train_validation_scoring_uses_twice_the_points_from_the_twice_wider_box(gecco_dir, gecco_script):
    reference = load_reference(gecco_dir / "regression" / "kkk0")
    X, box = gecco_script.paper_points(reference)
    n = len(reference.X)
    assert X.shape == (2 * n, reference.X.shape[1])
    np.testing.assert_array_equal(X[:n], reference.X)  # the recorded inputs first, unchanged
    training = reference.boxes["training"]
    np.testing.assert_allclose(box, reference.boxes["validation"])
    np.testing.assert_allclose(box[:, 1] - box[:, 0], 2 * (training[:, 1] - training[:, 0]))  # twice as wide
    np.testing.assert_allclose(box.mean(axis=1), training.mean(axis=1))
    validation = X[n:]
    assert np.all((validation >= box[:, 0]) & (validation <= box[:, 1]))
    outside = np.any((validation < training[:, 0]) | (validation > training[:, 1]), axis=1)
    assert 0.3 < outside.mean() < 0.7  # about half the wider box lies beyond the training box
    again, _ = gecco_script.paper_points(reference)
    np.testing.assert_array_equal(X, again)  # the same points for every SRNet seed


def test_the_paper_fitness_is_recomputed_from_the_layerwise_chain(gecco_dir, gecco_script):
    reference = load_reference(gecco_dir / "regression" / "kkk0")
    X, _ = gecco_script.paper_points(reference)
    model = SRNet(max_generations=20, domain="rows", direct_budget=0, refine=False, simplify_seconds=0,
                  n_threads=1, random_state=0).fit(reference.model, X)
    figures = gecco_script.chain_figures(model, reference.model, X)
    # on the rows it was fitted on, the estimator's own paper fitness is the same number
    assert figures["fitness"] == pytest.approx(model.fitness_, rel=1e-6)
    assert figures["layer_mse"] == pytest.approx(model.layer_mse_, rel=1e-6)
    hidden, output = figures["layer_mse"][:-1], figures["layer_mse"][-1]
    assert figures["fitness"] == pytest.approx(np.mean(hidden) + output)
    on_train = gecco_script.chain_figures(model, reference.model, reference.X)
    assert on_train["fitness"] != pytest.approx(figures["fitness"])  # the validation points count
