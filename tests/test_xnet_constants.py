"""X-Net's constant steps (srnet.xnet.constants) and the Jacobian they step on (Plan.linearize), against
hand-written oracles.

``constants="gradient"`` is the paper's rule: gradient descent on every weight and bias with the gradient
clipped by norm, the rate times 1.1 (at most 1e3) after a step that lowered the loss, and a step that
raised it undone with the rate halved.  Oracle: the same steps written out with torch.autograd.
``constants="newton"``: Levenberg-Marquardt with Marquardt's scaling; on a neuron whose output is linear
in its constants (a leaf, w x + b) under the squared error, one step lands on least squares (np.linalg.lstsq)
up to the damping, and a few land on it.  ``Plan.linearize``: torch.autograd.functional.jacobian.
"""

import math

import numpy as np
import pytest
import torch

from srnet.xnet.constants import forest_loss, gradient_steps, newton_steps
from srnet.xnet.forward import Plan
from srnet.xnet.losses import loss_value
from srnet.xnet.tree import Node, leaf, linear_tree

CLIP = 1e6


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    X = torch.tensor(rng.normal(size=(40, 3)))
    Y = 2.0 * X[:, :1] - X[:, 1:2] + 0.5
    plan = Plan.of([linear_tree(rng, 3)])
    return X, Y, plan


def _oracle_steps(plan, X, Y, lr, steps, grad_clip, clip=CLIP):
    """``steps`` clipped gradient steps, each lowering the loss (the caller picks a small enough rate)."""
    w, b = plan.parameters(X.dtype, X.device)
    losses = []
    for _ in range(steps):
        w.requires_grad_(True)
        b.requires_grad_(True)
        value = loss_value("mse", plan.predict(X, w, b, clip), Y)
        losses.append(float(value.detach()))
        gw, gb = torch.autograd.grad(value, (w, b))
        norm = math.sqrt(float((gw * gw).sum() + (gb * gb).sum()))
        scale = lr * min(1.0, grad_clip / norm)
        w, b = (w - scale * gw).detach(), (b - scale * gb).detach()
        lr *= 1.1
    return w, b, lr, losses


@pytest.mark.parametrize("grad_clip, clip", [(1e-3, CLIP), (1e3, CLIP), (1e3, 0.5)])  # the norm clipped or
def test_gradient_steps_are_clipped_gradient_descent_with_a_growing_rate(grad_clip, clip):  # not; outputs too
    X, Y, plan = _problem()
    w_expected, b_expected, lr_expected, losses = _oracle_steps(plan, X, Y, 1e-3, 3, grad_clip, clip)
    assert losses[0] > losses[1] > losses[2]  # every step good: the rate grew each time
    lr = gradient_steps(plan, X, Y, "mse", 1e-3, 3, clip, grad_clip)
    assert lr == pytest.approx(lr_expected, rel=1e-12)
    w, b = plan.parameters(X.dtype, X.device)
    torch.testing.assert_close(w, w_expected, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(b, b_expected, rtol=1e-12, atol=1e-14)


def test_a_step_that_raises_the_loss_is_undone_and_the_rate_halved():
    X, Y, plan = _problem()
    w0, b0 = plan.parameters(X.dtype, X.device)
    start = forest_loss(plan, X, Y, "mse", w0, b0, CLIP)
    lr = gradient_steps(plan, X, Y, "mse", 100.0, 1, CLIP, 1e3)  # a step of length 100 overshoots
    assert lr == 50.0
    w, b = plan.parameters(X.dtype, X.device)
    torch.testing.assert_close(w, w0, rtol=0, atol=0)
    torch.testing.assert_close(b, b0, rtol=0, atol=0)
    assert forest_loss(plan, X, Y, "mse", w, b, CLIP) == start


def test_many_steps_never_raise_the_loss_and_the_rate_is_capped():
    X, Y, plan = _problem(1)
    w0, b0 = plan.parameters(X.dtype, X.device)
    start = forest_loss(plan, X, Y, "mse", w0, b0, CLIP)
    lr = gradient_steps(plan, X, Y, "mse", 999.0, 1, CLIP, 1e-6)  # a tiny clipped step: good, rate x 1.1
    assert lr == 1e3
    lr = gradient_steps(plan, X, Y, "mse", 0.5, 40, CLIP, 1.0)
    assert 0 < lr <= 1e3
    assert forest_loss(plan, X, Y, "mse", *plan.parameters(X.dtype, X.device), CLIP) < start


def test_no_step_past_the_deadline_and_none_from_a_start_that_is_not_finite():
    X, Y, plan = _problem()
    w0, b0 = plan.parameters(X.dtype, X.device)
    assert gradient_steps(plan, X, Y, "mse", 1e-3, 5, CLIP, 1.0, deadline=0.0) == 1e-3
    torch.testing.assert_close(plan.parameters(X.dtype, X.device)[0], w0, rtol=0, atol=0)
    broken = Plan.of([Node("sin", [leaf(0)])])  # a root weight of NaN: the loss is NaN from the start
    broken.nodes[-1].weight = math.nan
    assert gradient_steps(broken, X, Y, "mse", 0.25, 5, CLIP, 1.0) == 0.25  # the rate left as it was
    assert math.isnan(broken.nodes[-1].weight)


def test_forest_loss_reads_non_finite_as_inf_and_clips_only_when_asked():
    X, Y, plan = _problem()
    w, b = plan.parameters(X.dtype, X.device)
    assert forest_loss(plan, X, Y, "mse", w, b) == float(loss_value("mse", plan.predict(X, w, b), Y))
    big = w * 1e5  # neuron outputs of ~1e10 products: clipped at 10 they differ from the unclipped ones
    assert forest_loss(plan, X, Y, "mse", big, b, 10.0) != forest_loss(plan, X, Y, "mse", big, b)
    nan = torch.full_like(w, float("nan"))
    assert forest_loss(plan, X, Y, "mse", nan, b) == math.inf


def _leaf_problem():
    """Inputs of ~0.01 (the weight's curvature 2e-4, the bias's 2: Marquardt's scaling matters), y ~ 300 x - 2."""
    rng = np.random.default_rng(0)
    x = 0.01 * rng.normal(size=50)
    y = 300 * x - 2 + 0.01 * rng.normal(size=50)
    plan = Plan.of([leaf(0)])
    plan.nodes[0].weight, plan.nodes[0].bias = 1.0, 0.0
    solution = np.linalg.lstsq(np.column_stack([x, np.ones_like(x)]), y, rcond=None)[0]
    return plan, torch.tensor(x[:, None]), torch.tensor(y[:, None]), solution


def test_a_levenberg_marquardt_step_lands_on_least_squares_up_to_the_damping_and_a_few_steps_on_it():
    plan, X, Y, (w_best, b_best) = _leaf_problem()
    damping = newton_steps(plan, X, Y, "mse", 1e-3, 1, CLIP)
    assert damping == pytest.approx(1e-3 / 3)  # a good step: the damping divided by 3
    node = plan.nodes[0]
    assert node.weight == pytest.approx(w_best, rel=2e-3) and node.bias == pytest.approx(b_best, rel=2e-3)
    assert node.weight != pytest.approx(w_best, rel=1e-6)  # one damped step: not all the way
    newton_steps(plan, X, Y, "mse", damping, 4, CLIP)
    assert node.weight == pytest.approx(w_best, rel=1e-6) and node.bias == pytest.approx(b_best, rel=1e-6)


def test_no_newton_step_past_the_deadline_or_from_a_start_that_is_not_finite():
    plan, X, Y, _ = _leaf_problem()
    assert newton_steps(plan, X, Y, "mse", 1e-3, 5, CLIP, deadline=0.0) == pytest.approx(1e-3 / 3)  # the first
    assert plan.nodes[0].weight != 1.0
    broken = Plan.of([Node("sin", [leaf(0)])])
    broken.nodes[-1].weight = math.nan
    assert newton_steps(broken, X, Y, "mse", 1e-3, 5, CLIP) == 1e-3  # the damping left as it was
    assert math.isnan(broken.nodes[-1].weight)


def test_at_a_perfect_fit_a_step_that_keeps_the_loss_is_good_for_gradient_steps_and_fails_for_newton():
    """The loss cannot fall below 0: gradient descent takes a step of 0 there (not a bad step: the rate
    grows); a Levenberg-Marquardt step that lowers nothing is retried ``tries`` times with 4x the damping,
    and then the steps stop (they did not, and the damping grew on)."""
    plan, X, _, _ = _leaf_problem()
    Y = 1.0 * X  # the leaf's own output: the loss is 0
    assert gradient_steps(plan, X, Y, "mse", 0.1, 2, CLIP, 1.0) == pytest.approx(0.1 * 1.1**2)
    assert newton_steps(plan, X, Y, "mse", 1e-3, 3, CLIP, tries=2) == pytest.approx(1e-3 * 4**2)
    assert (plan.nodes[0].weight, plan.nodes[0].bias) == (1.0, 0.0)


def test_a_polish_from_scratch_retries_until_the_damping_is_at_its_bound():
    """tries=None (the final polish): a step that lowers nothing is retried up to DAMPING_MAX, then it stops."""
    from srnet.xnet.constants import DAMPING_MAX

    plan, X, _, _ = _leaf_problem()
    assert newton_steps(plan, X, 1.0 * X, "mse", 1e-3, 3, CLIP, tries=None) == DAMPING_MAX


def test_newton_steps_lower_the_loss_of_the_clipped_outputs_they_train_on():
    """Trained on outputs clipped at 0.5 (many of this forest's are), each step must lower that loss, measured
    with the same clip (the first loss and the Jacobian taken without the clip broke this)."""
    X, Y, plan = _problem()
    w0, b0 = plan.parameters(X.dtype, X.device)
    before = forest_loss(plan, X, Y, "mse", w0, b0, 0.5)
    for _ in range(3):
        start = forest_loss(plan, X, Y, "mse", *plan.parameters(X.dtype, X.device), 0.5)
        newton_steps(plan, X, Y, "mse", 1e-3, 1, 0.5)
        assert forest_loss(plan, X, Y, "mse", *plan.parameters(X.dtype, X.device), 0.5) < start
    assert forest_loss(plan, X, Y, "mse", *plan.parameters(X.dtype, X.device), 0.5) < 0.9 * before


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("clip", [None, 0.8])
def test_linearize_gives_autograds_jacobian_of_the_outputs_with_respect_to_every_constant(seed, clip):
    """What both step rules and the selection step build on: d root / d weight_k = J_k raw_k and
    d root / d bias_k = J_k, per sample, for a forest of two random trees.  Oracle:
    torch.autograd.functional.jacobian of Plan.predict.  Where a neuron's own output is clipped, its true
    slope is 0 and linearize passes straight through (a neuron clipped on every row could otherwise never
    be stepped back inside); the clips of the neurons above it count as they are."""
    from srnet.xnet.tree import random_tree

    rng = np.random.default_rng(seed)
    unary, binary = ("sin", "exp", "square", "sqrt"), ("add", "mul", "sub", "div")
    plan = Plan.of([random_tree(rng, 3, unary, binary, 3, 15) for _ in range(2)])
    X = torch.tensor(rng.normal(size=(20, 3)))
    w, b = plan.parameters(X.dtype, X.device)
    w = w + torch.tensor(rng.normal(scale=0.3, size=len(w)))
    outs, raws, Z, J = plan.linearize(X, w, b, clip)
    torch.testing.assert_close(Z, plan.predict(X, w, b, clip))
    torch.testing.assert_close(outs[plan.roots[1]], Z[:, 1])
    d_w, d_b = torch.autograd.functional.jacobian(lambda w_, b_: plan.predict(X, w_, b_, clip), (w, b))  # (n, t, m)
    tree = torch.tensor(plan.tree_of)
    own_clip = (((w[:, None] * raws + b[:, None]).abs() > clip).T if clip is not None
                else torch.zeros_like(J.T, dtype=torch.bool))
    for t in range(2):
        mine = tree == t
        kept = ~own_clip[:, mine]
        torch.testing.assert_close(d_w[:, t, mine][kept], (J * raws)[mine].T[kept], rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(d_b[:, t, mine][kept], J[mine].T[kept], rtol=1e-10, atol=1e-12)
        assert torch.all(d_w[:, t, mine][~kept] == 0) and torch.all(d_b[:, t, mine][~kept] == 0)
        assert torch.all(d_w[:, t, ~mine] == 0) and torch.all(d_b[:, t, ~mine] == 0)  # trees do not mix
    assert clip is None or own_clip.any()  # the clip was tried


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_constants_come_out_in_the_dtype_asked_and_go_back_exactly(dtype):
    rng = np.random.default_rng(0)
    plan = Plan.of([linear_tree(rng, 3)])
    w, b = plan.parameters(dtype, "cpu")
    assert w.dtype == b.dtype == dtype and w.device.type == b.device.type == "cpu"
    exact = torch.tensor(rng.normal(size=len(w)), dtype=torch.float64)
    plan.store(exact, -exact)
    w, b = plan.parameters(torch.float64, "cpu")
    assert torch.equal(w, exact) and torch.equal(b, -exact)  # float64 weights kept to the last bit


# ------------------------------------------------------------------- the roots' closed form (refit_roots)

def _power_problem(n=100, seed=0):
    """Nguyen-11's x0**x1 on [0, 1]^2, standardised as the estimator standardises a target, and its own
    formula exp(x1*log(x0)) with weights 1 and biases 0 (x0 down to 0.006: log's leaf near its domain's edge)."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, size=(n, 2))
    y = X[:, 0] ** X[:, 1]
    Y = torch.tensor(((y - y.mean()) / y.std())[:, None])
    plan = Plan.of([Node("exp", [Node("mul", [leaf(1), Node("log", [leaf(0)])])])])
    return torch.tensor(X), Y, plan, y


def test_refit_roots_gives_each_root_the_least_squares_weight_and_bias_of_np_linalg_lstsq():
    from srnet.xnet.constants import refit_roots

    rng = np.random.default_rng(3)
    X = torch.tensor(rng.normal(size=(50, 2)))
    Y = torch.tensor(np.column_stack([np.sin(X[:, 0]) * 3 - 1 + 0.1 * rng.normal(size=50),
                                      X[:, 0] * X[:, 1] + 2]))
    plan = Plan.of([Node("sin", [leaf(0, 1.1, 0.1)]), Node("mul", [leaf(0), leaf(1, 0.9)])])
    inner = [(n.weight, n.bias) for n in plan.nodes if n not in (plan.nodes[r] for r in plan.roots)]
    refit_roots(plan, X, Y, CLIP)
    for t, r in enumerate(plan.roots):
        raws: list = []
        plan.forward(X, *plan.parameters(X.dtype, X.device), CLIP, raws)
        design = np.column_stack([raws[r].numpy(), np.ones(50)])
        w, b = np.linalg.lstsq(design, Y[:, t].numpy(), rcond=None)[0]
        assert plan.nodes[r].weight == pytest.approx(w, rel=1e-10) and plan.nodes[r].bias == pytest.approx(b, abs=1e-10)
    assert [(n.weight, n.bias) for n in plan.nodes if n not in (plan.nodes[r] for r in plan.roots)] == inner


def test_refit_roots_keeps_the_constants_unless_the_clipped_loss_falls():
    """Under the clip the closed form (of the unclipped root) need not lower the loss: for 3 + x/10 clipped at
    0.5, it gives outputs of 0.5, as the constant 0.5 already did; then nothing changes.  Unclipped, it is
    taken.  Nor does a root whose output is constant change (no spread to fit a weight to)."""
    from srnet.xnet.constants import refit_roots

    X = torch.linspace(-1, 1, 41, dtype=torch.float64)[:, None]
    Y = 3.0 + 0.1 * X
    plan = Plan.of([leaf(0, 0.0, 0.5)])
    refit_roots(plan, X, Y, 0.5)
    assert (plan.nodes[0].weight, plan.nodes[0].bias) == (0.0, 0.5)
    refit_roots(plan, X, Y, None)
    assert (plan.nodes[0].weight, plan.nodes[0].bias) == (pytest.approx(0.1), pytest.approx(3.0))
    flat = Plan.of([Node("cos", [leaf(0, 0.0, 1.0)])])
    refit_roots(flat, X, Y, CLIP)
    assert (flat.nodes[-1].weight, flat.nodes[-1].bias) == (1.0, 0.0)


def test_newton_steps_alone_stall_on_x0_to_the_x1_and_the_closed_form_of_its_root_solves_it():
    """The Levenberg-Marquardt steps move every constant at once: every step that rescales the root also moved
    log's leaf across 0, was refused, and the exact structure stayed at a loss of 0.9; with the root's
    least-squares constants first, a few steps reach rounding."""
    from srnet.xnet.constants import refit_roots

    X, Y, stalled, _ = _power_problem()
    newton_steps(stalled, X, Y, "mse", 1e-3, 20, CLIP)
    assert forest_loss(stalled, X, Y, "mse", *stalled.parameters(X.dtype, X.device)) > 0.5
    X, Y, plan, _ = _power_problem()
    refit_roots(plan, X, Y, CLIP)
    newton_steps(plan, X, Y, "mse", 1e-3, 5, CLIP)
    assert forest_loss(plan, X, Y, "mse", *plan.parameters(X.dtype, X.device)) < 1e-20


# ------------------------------------------------------------------- the constants' bound (CONSTANT_BOUND)

def test_a_constant_beyond_the_bound_has_an_infinite_loss_and_no_step_takes_one_there():
    from srnet.xnet.constants import CONSTANT_BOUND

    X = torch.linspace(-1, 1, 21, dtype=torch.float64)[:, None]
    plan = Plan.of([leaf(0)])
    w, b = plan.parameters(X.dtype, X.device)
    Y = 2.0 * CONSTANT_BOUND * X  # its least squares: a weight of twice the bound
    for at in (w, b):
        at[0] = CONSTANT_BOUND
        assert math.isfinite(forest_loss(plan, X, Y, "mse", w, b))
        at[0] = -CONSTANT_BOUND * (1 + 1e-12)
        assert forest_loss(plan, X, Y, "mse", w, b) == math.inf
        at[0] = 1.0 if at is w else 0.0
    newton_steps(plan, X, Y, "mse", 1e-3, 20, None)
    gradient_steps(plan, X, Y, "mse", 1e5, 20, None, 1e9)
    assert abs(plan.nodes[0].weight) <= CONSTANT_BOUND and abs(plan.nodes[0].bias) <= CONSTANT_BOUND
    assert plan.nodes[0].weight > 1e5  # it did step towards the fit, up to the bound


def test_the_selection_step_offers_no_candidate_whose_fitted_constants_pass_the_bound():
    """A target 1e7 times a leaf's spread: the leaf's own least-squares weight is beyond the bound, so the
    neuron proposes nothing rather than take it."""
    from srnet.xnet.constants import CONSTANT_BOUND
    from srnet.xnet.select import propose

    X = torch.linspace(-1, 1, 21, dtype=torch.float64)[:, None]
    plan = Plan.of([Node("sin", [leaf(0)])])
    outs = plan.forward(X, *plan.parameters(X.dtype, X.device))
    target = torch.stack([o * 0 for o in outs])
    target[-1] = 10 * CONSTANT_BOUND * X[:, 0]  # the root's: x itself, times 1e7
    proposals = propose(plan, outs, target, torch.ones_like(target), X, ("sin", "exp"), ("add", "mul"),
                        max_nodes=5, clip=1e30, margin=0.0, rng=np.random.default_rng(0))
    assert all(abs(p.weight) <= CONSTANT_BOUND and abs(p.bias) <= CONSTANT_BOUND for p in proposals)
    assert not any(p.node == 1 and p.candidate.op == "x" for p in proposals)  # the exact fit, 1e7 * x, refused


@pytest.mark.parametrize("constants, loss, called", [("newton", "mse", True), ("gradient", "mse", False),
                                                     ("newton", "softmax", False)])
def test_the_search_refits_its_roots_before_the_newton_steps_of_a_squared_error(monkeypatch, constants, loss, called):
    """train() calls refit_roots each iteration, before Levenberg-Marquardt's steps, for a squared error only
    (a softmax's logits are not linear in the loss; the paper's gradient rule stays the paper's)."""
    import srnet.xnet.train as train_module
    from srnet.xnet.train import Settings, train

    calls = []
    real = train_module.refit_roots
    monkeypatch.setattr(train_module, "refit_roots", lambda *args: calls.append(len(args)) or real(*args))
    rng = np.random.default_rng(0)
    X = torch.tensor(rng.uniform(0.1, 1, size=(30, 2)))
    Y = (X[:, :1] * X[:, 1:]) if loss == "mse" else torch.tensor(rng.integers(0, 2, 30))
    settings = Settings(("sin", "log"), ("mul",), max_seconds=None, max_iterations=4, constants=constants)
    train(X, Y, loss, 1 if loss == "mse" else 2, settings, rng)
    assert bool(calls) == called
