"""Review of srnet/explain (and the comparison protocol built on it): reproduced defects, one test each.

Every test here fails on the code it was written against, for the reason its docstring gives.
"""

import numpy as np
import pytest

from srnet.explain import LimeExplainer, MapleExplainer


def smooth(X):
    return np.sin(3 * X[:, 0]) + X[:, 1] ** 2 + 0.5 * X[:, 0] * X[:, 2]


def test_learn_on_test_lets_maple_learn_from_the_test_box(experiment_script, gecco_dir, monkeypatch):
    """experiments/compare_explainers.py --learn-on test promises that "every explainer learns from points drawn
    from the test box itself ... the test box is then no longer extrapolation for anyone" (README: SRNet below
    MAPLE on 11/12 under it).  It only sets boxes["validation"] = boxes["test"]; MAPLE uses validation points
    for feature selection alone, so its forest and local models still learn from the training box only
    (kkk0: [-1, 1] against a test box of [-5, 5]) and its extrapolation is the same as under --learn-on
    validation."""
    import srnet.compare

    experiment = experiment_script("compare_explainers")
    captured = {}
    compare = srnet.compare.compare

    def spy(*args, **kwargs):
        captured["result"] = compare(*args, **kwargs)
        return captured["result"]

    monkeypatch.setattr(srnet.compare, "compare", spy)
    settings = dict(gecco_dir=str(gecco_dir), srnet_form="paper", srnet_select="best", srnet_direct_budget=None,
                    srnet_domain="auto", explainers=["maple"], seconds=1, learn_on="test", points=20, pmlb_cache=None)
    experiment.run_trial(("regression", "kkk0", 0, settings))
    result = captured["result"]
    test_box = result.boxes["test"]
    learnt_from = result.explainers["maple"].X_train_
    assert learnt_from.min() < test_box[0, 0] / 2 and learnt_from.max() > test_box[0, 1] / 2, (
        f"MAPLE learnt only from [{learnt_from.min():.2f}, {learnt_from.max():.2f}] under --learn-on test "
        f"(test box {test_box.tolist()})")


def test_gradient_boosting_support_grows_maples_deep_trees():
    """MAPLE's reference code (GDPlumb/MAPLE) grows its GBRT support with max_depth=None, so leaves shrink to
    min_samples_leaf and neighbourhoods stay local.  MapleExplainer(forest="gradient_boosting") keeps
    scikit-learn's max_depth=3: at most 8 leaves per tree, each neighbourhood about half of the training set
    (effective size ~250 of 480 points here), and a worse fit than either MAPLE forest grown as published."""
    X = np.random.default_rng(0).uniform(-1, 1, (600, 3))
    maple = MapleExplainer(forest="gradient_boosting", n_estimators=30).fit(smooth, X, random_state=0)
    trees = np.ravel(maple.supporting_forests_[0].estimators_)
    leaves = np.mean([tree.tree_.n_leaves for tree in trees])
    weights = maple.explain(X[0])["weights"]
    effective = 1.0 / np.sum(weights ** 2)
    assert leaves > 8, f"{leaves:.1f} leaves per tree: depth-3 trees, not MAPLE's fully grown ones"
    assert effective < 0.25 * len(maple.X_train_), f"neighbourhood of {effective:.0f} of {len(maple.X_train_)} points"


@pytest.mark.parametrize("valid_fraction", ["0.2", None])
def test_a_non_numeric_valid_fraction_is_one_clear_line(valid_fraction):
    """MapleExplainer(valid_fraction="0.2" or None).fit raises TypeError "'<' not supported between instances
    of 'int' and 'str'" (maple.py: ``if not 0 < self.valid_fraction < 1``) instead of naming the parameter, as
    every other bad setting does."""
    X = np.random.default_rng(0).uniform(-1, 1, (50, 3))
    with pytest.raises(ValueError, match="valid_fraction"):
        MapleExplainer(valid_fraction=valid_fraction, n_estimators=5).fit(smooth, X, random_state=0)


def test_a_tiny_kernel_width_is_refused_or_works():
    """kernel_width=0 is refused at fit ("0 weighted every sample NaN"), but a positive width whose square
    underflows (< ~1e-162) passes fit, and predict then fails inside scikit-learn with "Input sample_weight
    contains NaN" (LIME's kernel computes 0/0 at the explained point)."""
    X = np.random.default_rng(0).uniform(-1, 1, (50, 3))
    try:
        lime = LimeExplainer(num_samples=50, kernel_width=1e-200).fit(smooth, X, random_state=0)
    except ValueError as error:
        assert "kernel_width" in str(error)
        return
    assert np.all(np.isfinite(lime.predict(X[:2])))


def test_a_huge_kernel_width_is_one_clear_line():
    X = np.random.default_rng(0).uniform(-1, 1, (50, 3))
    with pytest.raises(ValueError, match="kernel_width"):
        LimeExplainer(num_samples=50, kernel_width=1e200).fit(smooth, X, random_state=0)
