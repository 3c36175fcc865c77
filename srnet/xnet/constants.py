"""The constant half of X-Net's alternating training: steps on every neuron's weight and bias.

Two step rules, each with a step size that follows the loss (a step that
raises the loss is undone and the step shrunk; one that lowers it lets the
next step grow):

* ``"gradient"`` (the paper's): gradient descent with the gradient clipped by
  norm and the learning rate times 1.1 after a good step, halved after a bad one;
* ``"newton"``: Levenberg-Marquardt steps on the loss's quadratic model
  (Gauss-Newton curvature), the damping divided by 3 after a good step and
  multiplied by 4 after a bad one.  The Jacobian costs one backward pass
  (:meth:`srnet.xnet.forward.Plan.linearize`), and trees have few constants,
  so a step costs about what a gradient step does and converges in a few.

Both work on the training forward pass, whose neuron outputs are clipped, and
neither takes a step that moves a neuron's function off its domain at the
training rows (:func:`forest_loss`).
"""

from __future__ import annotations

import math
import time

import torch

from srnet.xnet.forward import Plan
from srnet.xnet.losses import derivatives, loss_value

RULES = ("newton", "gradient")


#: The largest weight or bias a neuron may take during training (the search reads inputs of unit scale, and a
#: regression its target standardised).  Unbounded, Levenberg-Marquardt grew them to 1e18 (an iris classifier
#: of 20 iterations: 4.7e12*log|1.0e6*x2 + 1.0e18|, a line written as the curvature of log far from 0), where
#: float64 keeps no digit of what they cancel: the formula then gave other logits than ``decision_function``
#: (by 28 on a 3-class set), and the forest returned was worse than the class shares.
CONSTANT_BOUND = 1e6


def _within_bound(w, b) -> bool:
    with torch.no_grad():
        return bool((w.abs() <= CONSTANT_BOUND).all()) and bool((b.abs() <= CONSTANT_BOUND).all())


def forest_loss(plan, X, Y, loss, w, b, clip=None) -> float:
    """The loss of the forest with constants ``(w, b)``: inf where it is not finite, where a constant exceeds
    :data:`CONSTANT_BOUND`, or where a neuron's function leaves its domain at the rows of X
    (:meth:`Plan.in_domain`: a divisor or log's argument crossing 0, a protection firing), so that no step of
    the constants puts a pole among the rows."""
    if not _within_bound(w, b):
        return math.inf
    with torch.no_grad():
        return _loss_of_outputs(plan, plan.forward(X, w, b, clip), Y, loss)


def _loss_of_outputs(plan, outs, Y, loss) -> float:
    """:func:`forest_loss` of the neurons' outputs ``outs`` (:meth:`Plan.forward`'s), constants within bound."""
    if not plan.in_domain(outs):
        return math.inf
    value = float(loss_value(loss, plan.root_outputs(outs), Y))
    return value if math.isfinite(value) else math.inf


def gradient_steps(plan: Plan, X, Y, loss: str, lr: float, steps: int, clip: float, grad_clip: float,
                   deadline: float | None = None) -> float:
    """``steps`` clipped gradient steps (stored back in the neurons); returns the adapted rate.  After
    ``deadline`` (a perf_counter time) no further step is taken (100000 steps ran 19 s of a 0.5 s budget)."""
    w, b = plan.parameters(X.dtype, X.device)
    best = None  # (loss, w, b, gw, gb) at the last accepted point
    for step in range(steps + 1):
        if step and deadline is not None and time.perf_counter() >= deadline:
            break
        w.requires_grad_(True)
        b.requires_grad_(True)
        outs = plan.forward(X, w, b, clip)
        value = loss_value(loss, plan.root_outputs(outs), Y)
        # (a step off the domain or past the constants' bound: undone, as forest_loss refuses it)
        current = float(value.detach()) if plan.in_domain(outs) and _within_bound(w, b) else math.inf
        if best is None and not math.isfinite(current):
            break  # a start whose loss is not finite has no gradient to follow (halving the rate at every step
            # of every iteration left it near 0 for the forest that came next)
        if best is not None and not current <= best[0]:
            lr *= 0.5  # the step raised the loss: undo it
            _, w, b, gw, gb = best
        else:
            if best is not None:
                lr = min(lr * 1.1, 1e3)
            gw, gb = torch.autograd.grad(value, (w, b))
            gw, gb = torch.nan_to_num(gw, 0.0, 0.0, 0.0), torch.nan_to_num(gb, 0.0, 0.0, 0.0)
            best = (current, w.detach(), b.detach(), gw, gb)
            w, b = best[1], best[2]
        norm = float(torch.sqrt((gw * gw).sum() + (gb * gb).sum()))
        scale = lr * min(1.0, grad_clip / norm) if norm > 0 else 0.0
        w, b = (w - scale * gw).detach(), (b - scale * gb).detach()
    if best is not None:
        plan.store(best[1], best[2])
    return lr


def refit_roots(plan: Plan, X, Y, clip=None) -> None:
    """Each root's weight and bias set to their least-squares values under the squared error, in place, where
    that lowers the loss.

    A root's weight and bias enter a squared error linearly, so their best values given the rest of its tree
    are a closed form (the "variable projection" of separable least squares).  Why: a Levenberg-Marquardt step
    moves every constant at once, and where a leaf under ``log`` sits near the edge of its domain (x0 down to
    0.006 on Nguyen-11), each step large enough to rescale the root also pushed that leaf across 0 and was
    refused: exp(x1*log(x0)) itself, started at weights 1 and biases 0, stayed at a loss of 0.9, where
    rescaling its root gives 1e-31.
    """
    w, b = plan.parameters(X.dtype, X.device)
    raws: list = []
    with torch.no_grad():
        outs = plan.forward(X, w, b, clip, raws)  # (once: its raws and the loss to beat)
        current = _loss_of_outputs(plan, outs, Y, "mse") if _within_bound(w, b) else math.inf
        trial_w, trial_b = w.clone(), b.clone()
        for t, r in enumerate(plan.roots):
            raw, target = raws[r], Y[:, t]
            centred = raw - raw.mean()
            spread = (centred * centred).sum()
            if not bool(torch.isfinite(spread)) or float(spread) <= 0.0:
                continue  # a constant root: its bias alone is fitted by the steps
            trial_w[r] = (centred * (target - target.mean())).sum() / spread
            trial_b[r] = target.mean() - trial_w[r] * raw.mean()
    if forest_loss(plan, X, Y, "mse", trial_w, trial_b, clip) < current:
        plan.store(trial_w, trial_b)


#: Damping bounds of the Levenberg-Marquardt steps.
DAMPING_MIN, DAMPING_MAX = 1e-9, 1e9


def newton_steps(plan: Plan, X, Y, loss: str, damping: float, steps: int, clip: float,
                 tries: int | None = 8, deadline: float | None = None) -> float:
    """``steps`` Levenberg-Marquardt steps (stored back in the neurons); returns the adapted damping.

    A step that does not lower the loss is retried with 4x the damping, up
    to ``tries`` times; then the steps stop.  Inside the search, a few tries
    suffice, as the damping carries over from one iteration to the next;
    a polish from scratch passes ``tries=None``: retry until the damping
    reaches :data:`DAMPING_MAX`, so that a first step from a small damping
    that overshoots does not end the polish at once.  After ``deadline`` (a
    perf_counter time) a step is tried once.

    The curvature couples only the constants of one tree (each tree is one
    output), so each tree's block is built and solved alone: for the ten
    127-neuron trees of a digits classifier, ten 254-wide systems instead of
    one 2540-wide one (about 100x fewer operations, the same step).
    """
    w, b = plan.parameters(X.dtype, X.device)
    m = len(plan.nodes)
    tree = torch.tensor(plan.tree_of, device=X.device)
    blocks = []  # (output, the tree's constants: its weights, then its biases)
    for t in sorted(set(plan.tree_of)):
        nodes = torch.nonzero(tree == t).flatten()
        blocks.append((t, torch.cat([nodes, nodes + m])))
    current = forest_loss(plan, X, Y, loss, w, b, clip)
    for step in range(steps):
        if not math.isfinite(current) or (step and deadline is not None and time.perf_counter() >= deadline):
            break
        _, raws, Z, J = plan.linearize(X, w, b, clip)
        G, H = derivatives(loss, Z, Y)
        # (2m, n): d root / d constant, straight through a clipped output (its true slope is 0, and a neuron
        # clipped on every row could then never be stepped back inside the clip)
        A = torch.cat([J * raws, J]).nan_to_num(0.0, 0.0, 0.0)
        systems = []
        for t, index in blocks:
            rows = A[index]
            curvature = (rows * H[:, t]) @ rows.T
            systems.append((index, curvature, torch.diagonal(curvature).clamp(min=1e-12), rows @ G[:, t]))
        accepted = False
        attempt = 0
        while (attempt < tries) if tries is not None else damping < DAMPING_MAX:
            if attempt and deadline is not None and time.perf_counter() >= deadline:
                break
            attempt += 1
            step = torch.empty(2 * m, dtype=A.dtype, device=A.device)
            try:
                for index, curvature, diagonal, gradient in systems:
                    step[index] = torch.linalg.solve(curvature + damping * torch.diag(diagonal), -gradient)
            except RuntimeError:
                step = None
            if step is not None and torch.isfinite(step).all():
                trial_w, trial_b = w + step[:m], b + step[m:]
                value = forest_loss(plan, X, Y, loss, trial_w, trial_b, clip)
                if value < current:
                    w, b, current = trial_w, trial_b, value
                    damping = max(damping / 3.0, DAMPING_MIN)
                    accepted = True
                    break
            damping = min(damping * 4.0, DAMPING_MAX)
        if not accepted:
            break
    plan.store(w, b)
    return damping
