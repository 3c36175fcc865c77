"""X-Net defects found reviewing srnet.xnet (select.py, estimators.py); each test fails on the code as reviewed."""

import numpy as np
import torch

from srnet.coordinates import search_coordinates
from srnet.xnet import XNetRegressor
from srnet.xnet.estimators import _fold_input_map
from srnet.xnet.forward import Plan
from srnet.xnet.losses import derivatives
from srnet.xnet.select import apply_all, propose, targets
from srnet.xnet.tree import Node, describe, leaf, to_program

UNARY = ("sin", "cos", "exp", "log", "sqrt", "square")
BINARY = ("add", "sub", "mul", "div")


def proposals_for(roots, X, y):
    """The selection step's proposals for one tree under the squared loss (the root's target is y)."""
    plan = Plan.of(roots)
    X_t, Y = torch.as_tensor(X), torch.as_tensor(y).reshape(-1, 1)
    outs, _, Z, J = plan.linearize(X_t, *plan.parameters(torch.float64, "cpu"))
    G, H = derivatives("mse", Z, Y)
    index = [0] * len(plan.nodes)
    target, weight = targets(outs, J, G.T[index], H.T[index])
    found = propose(plan, outs, target, weight, X_t, UNARY, BINARY, max_nodes=15, clip=1e6, margin=0.0,
                    rng=np.random.default_rng(0))
    return plan, found


def test_an_inadmissible_neuron_does_not_outrank_the_exact_match_of_its_ancestor():
    """select.py:257: a neuron whose current function is inadmissible (here log of x1, which changes sign)
    gets gain 1.0 whatever its best candidate fits; the ties sort children first (postorder), so its poor
    proposal is applied and blocks the root, whose target 3 exp(x0) - 1 is exactly exp of its left child
    (gain 1.0). The root stays add(exp(x0), x0) instead of becoming exp(x0)."""
    X = np.random.default_rng(1).uniform(-1, 1, (40, 2))
    root = Node("add", [leaf(0), Node("log", [leaf(1)])])
    plan, found = proposals_for([root], X, 3.0 * np.exp(X[:, 0]) - 1.0)
    exact = [p for p in found if p.node == plan.roots[0] and p.candidate.op == "exp"]
    assert exact and exact[0].gain == 1.0  # the exact match is proposed...
    apply_all(plan, found, max_nodes=15)
    assert describe(root) == "exp(x0)"  # ...and should be applied: it is the whole formula


def test_sqrt_is_offered_on_an_argument_that_touches_zero_without_changing_sign():
    """select.py:36/89: sqrt is refused unless every argument is beyond +-1e-10, so a column holding an exact
    0 (x0 = linspace(0, 2)) never gets sqrt, though sqrt|a| has no protection and no sign change there
    (the module docstring refuses sqrt only on an argument that changes sign). Target 3 sqrt(x0) - 1:
    div is proposed instead; with x0[0] = 1e-9 in place of 0, sqrt is (gain 1)."""
    X = np.column_stack([np.linspace(0.0, 2.0, 25), np.linspace(1.0, 2.0, 25)])
    root = Node("sin", [leaf(0)])
    _, found = proposals_for([root], X, 3.0 * np.sqrt(X[:, 0]) - 1.0)
    assert found[0].candidate.op == "sqrt" and found[0].gain == 1.0


def test_folding_the_input_map_into_the_leaves_reads_x_as_given():
    """The search reads each moved input as (x - centre) / scale (an age, a year, a column of 1e7 and one of
    1e-4 here); folded into the leaves' weights and biases, the trees compute on raw X what the search
    computed on the mapped X (oracle: the searched forest's own torch pass)."""
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.uniform(20, 80, 30), rng.uniform(1990, 2010, 30), rng.normal(0, 1e7, 30),
                         rng.uniform(-1e-4, 1e-4, 30), rng.uniform(-1, 1, 30)])
    mapping = search_coordinates(X)
    assert mapping.moved == [0, 1, 2, 3]  # (the last column is searched as it is)
    root = Node("add", [Node("mul", [leaf(0, weight=0.7, bias=0.2), leaf(1, weight=-1.3, bias=0.5)]),
                        Node("sin", [Node("add", [leaf(2, weight=2.0, bias=-0.1), leaf(3, weight=0.4)])])])
    root = Node("sub", [root, leaf(4, weight=1.5, bias=0.3)])
    searched = Plan.of([root])
    expected = searched.predict(torch.as_tensor(mapping.apply(X)), *searched.parameters(torch.float64, "cpu"))
    _fold_input_map([root], mapping)
    np.testing.assert_allclose(to_program([root], 5)(X), expected.numpy()[:, 0], rtol=1e-9, atol=1e-12)
    _fold_input_map([root], None)  # no map: nothing to fold
    np.testing.assert_allclose(to_program([root], 5)(X), expected.numpy()[:, 0], rtol=1e-9, atol=1e-12)


def test_a_fit_on_a_subnormal_column_does_not_crash_after_its_search():
    """The same at fit level: the search runs to its end, then fit raises ValueError("a neuron's weight or
    bias is not finite") from to_program (seed 2; seeds 0, 1, 3, 4 happen to keep the leaf weight below 2)."""
    rng = np.random.default_rng(0)
    X = rng.uniform(1, 2, (40, 2))
    X[:, 1] *= 1e-310
    y = X[:, 0] + (X[:, 1] * 1e300) * 1e10
    model = XNetRegressor(max_seconds=None, max_iterations=5, simplify_seconds=0, random_state=2).fit(X, y)
    assert np.all(np.isfinite(model.predict(X)))


def test_the_constants_steps_never_move_a_divisor_across_zero_at_the_rows():
    """The selection step gives a neuron div only where its divisor keeps one sign at the rows; the constants'
    steps then moved it across 0 (a breast-cancer classifier's logit jumped from 182 to -223 between two
    training rows, its formula's divisor 29.09*area_error - 7006).  A target with a pole among the rows pulls
    the divisor there: each step rule stops short of it, and a forest whose divisor crosses 0 has no loss."""
    import math

    from srnet.xnet.constants import forest_loss, gradient_steps, newton_steps

    rng = np.random.default_rng(0)
    X = torch.tensor(np.column_stack([rng.uniform(1, 2, 80), rng.uniform(0.5, 2, 80)]))
    Y = (X[:, 0] / (X[:, 1] - 1.0)).clamp(-20, 20).reshape(-1, 1)  # the pole at x1 = 1, among the rows
    for rule in ("newton", "gradient"):
        root = Node("div", [leaf(0), leaf(1, weight=1.0, bias=0.0)])
        plan = Plan.of([root])
        before = forest_loss(plan, X, Y, "mse", *plan.parameters(torch.float64, "cpu"))
        if rule == "newton":
            newton_steps(plan, X, Y, "mse", 1e-3, 200, 1e6)
        else:
            gradient_steps(plan, X, Y, "mse", 0.1, 2000, 1e6, 1.0)
        divisor = root.children[1].weight * X[:, 1] + root.children[1].bias
        assert bool((divisor > 0).all() or (divisor < 0).all()), rule  # (Newton's steps crossed: -44.6 to 20.7)
        after = forest_loss(plan, X, Y, "mse", *plan.parameters(torch.float64, "cpu"))
        assert after < before and math.isfinite(after), rule  # (the steps did move: towards the pole, not across)
    root.children[1].weight, root.children[1].bias = 1.0, -1.0  # through 0 at x1 = 1
    assert forest_loss(plan, X, Y, "mse", *plan.parameters(torch.float64, "cpu")) == math.inf


def test_singularities_of_an_x_net_name_a_pole_between_the_rows(monkeypatch):
    """XNet's estimators report where expression_ is not what predict computes (``singularities_``), as
    CGPRegressor does: training keeps divisors clear of 0 at the training rows, which leaves the box beyond
    them.  A forest whose divisor x1 - 0.51 changes sign between rows is named; a clean fit has none."""
    import srnet.xnet.estimators as estimators
    from srnet.xnet.train import Result

    X = np.column_stack([np.linspace(1, 2, 41), np.linspace(0, 1, 41)])
    y = X[:, 0] + X[:, 1]
    assert estimators.XNetRegressor(max_seconds=None, max_iterations=3, simplify_seconds=0,
                                    random_state=0).fit(X, y).singularities_ == []

    def searched(X_, Y_, loss, n_trees, settings, rng, valid=None, **_):
        root = Node("div", [leaf(0), leaf(1, bias=-0.51)])
        return Result([root], 0.0, [(3, 0.0)], np.zeros((0, 4)), 1, 0, 0, "max_iterations")

    monkeypatch.setattr(estimators, "train", searched)
    model = estimators.XNetRegressor(max_seconds=None, max_iterations=3, simplify_seconds=0).fit(X, y)
    (note,) = model.singularities_
    assert note == "the denominator of div, x1 - 0.51, crosses 0 inside the domain"
