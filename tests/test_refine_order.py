"""Refinement is given the budget's last seconds most promising formula first: in the order found, a
classifier's layer-wise chain (largest, least accurate) took them and the least-squares formula that
refinement lifts most was never refined."""
import numpy as np
import torch

import srnet.extract as extract
from srnet import SRNet
from srnet.formulas import linear_formula, most_promising_first


def test_formulas_are_ordered_by_validation_error_ties_kept_in_order():
    X = np.random.default_rng(0).normal(size=(200, 2))
    y = 2 * X[:, :1] - X[:, 1:]
    exact = linear_formula(X, y)
    worse = linear_formula(X, y + np.random.default_rng(1).normal(size=y.shape))
    worst = linear_formula(X, np.zeros_like(y) + np.random.default_rng(2).normal(size=y.shape))
    also_exact = linear_formula(X, y)
    ordered = most_promising_first([worst, exact, worse, also_exact], X, y, classification=False)
    assert ordered[0] is exact and ordered[1] is also_exact and ordered[2:] == [worse, worst]


def test_a_classifier_s_formulas_are_ordered_by_class_agreement_before_rmse():
    X = np.random.default_rng(3).normal(size=(300, 2))
    logits = np.column_stack([np.zeros(300), X[:, 0] + 0.1 * X[:, 1]])
    agrees = linear_formula(X, 10 * logits)  # every class right, logits 10x too large (large RMSE)
    close = linear_formula(X, logits + np.column_stack([np.zeros(300), 0.6 * X[:, 1]]))  # small RMSE, wrong classes
    assert most_promising_first([close, agrees], X, logits, classification=True) == [agrees, close]
    assert most_promising_first([close, agrees], X, logits, classification=False) == [close, agrees]


def test_among_a_classifier_s_formulas_of_equal_agreement_the_logits_are_compared_less_each_row_s_mean():
    """A two-class formula written as the logits -d/2, d/2 computes the network's 0, d up to the shift softmax
    ignores: it ranks before one nearer the network's logits as written but of other probabilities."""
    X = np.random.default_rng(5).normal(size=(300, 2))
    d = X[:, 0] + 0.1 * X[:, 1]
    logits = np.column_stack([np.zeros(300), d])
    symmetric = linear_formula(X, np.column_stack([-d / 2, d / 2]))  # the network's softmax exactly
    nearer_as_written = linear_formula(X, np.column_stack([np.zeros(300), 0.8 * d]))  # same classes, flatter
    assert most_promising_first([nearer_as_written, symmetric], X, logits, classification=True) == [
        symmetric, nearer_as_written]


def test_srnet_refines_its_most_accurate_formula_first(monkeypatch):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    X = np.random.default_rng(4).uniform(-2, 2, (200, 2))
    seen = []
    original = extract.refine

    def recording(formula, X_fit, Y_fit, X_valid, Y_valid, **options):
        predicted = formula(X_valid)
        seen.append(float(np.sqrt(np.mean((predicted - Y_valid) ** 2))))
        return original(formula, X_fit, Y_fit, X_valid, Y_valid, **options)

    monkeypatch.setattr(extract, "refine", recording)
    SRNet(max_generations=5, random_state=0, progress=False, simplify_seconds=0).fit(net, X)
    assert len(seen) >= 3 and seen == sorted(seen)
