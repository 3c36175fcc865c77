"""X-Net's training loop: alternating backpropagation on a forest of neuron trees.

One iteration (Li et al. 2024, "alternating backpropagation"):

1. **constants**: a few gradient steps on every neuron's weight and bias,
   gradients clipped by norm, neuron outputs clipped during training, and an
   adaptive learning rate that follows the loss (times 1.1 after a step that
   lowered it; a step that raised it is undone and the rate halved);
2. **activations**: every neuron's target output from the gradient
   (:func:`srnet.xnet.select.targets`) and the selection step
   (:func:`srnet.xnet.select.propose`), which changes functions and, through
   the substitution rules, the structure.
   With ``accept="elitist"``, a step after which the loss more than doubled
   is undone (:data:`ELITE_SLACK`);
3. **perturbation**: after ``patience`` iterations without improvement, a
   random neuron gets a random function.

Beyond the paper, the constants may take Levenberg-Marquardt steps instead
(``constants="newton"``, the default), and under a squared error each
root's weight and bias are first set to their least-squares values
(:func:`srnet.xnet.constants.refit_roots`); every weight and bias stays
within :data:`srnet.xnet.constants.CONSTANT_BOUND`.  And trees may start as
a weighted sum of every input (``init="linear"``) rather than as random
trees: with many inputs, a random
tree reads a few of them, and the selection step has little to work from.
And for a budgeted search: after ``restart_after`` iterations (or
:data:`STUCK_SHARE` of a time budget) without a new best the forest
restarts from new starting trees; the best forest of each
size is kept, its constants are polished by Levenberg-Marquardt at the end
(without clipping; early-stopped on the validation rows when there are any),
and the smallest one whose loss is within ``parsimony`` of the best is
returned.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from srnet.cgp.driver import StopOnInterrupt
from srnet.xnet.constants import forest_loss, gradient_steps, newton_steps, refit_roots
from srnet.xnet.forward import Plan
from srnet.xnet.losses import derivatives, loss_value
from srnet.xnet.select import apply, apply_all, propose, targets
from srnet.xnet.tree import LEAF, Node, linear_tree, n_nodes, postorder, random_tree, substitute

POLISH_SHARE = 0.1  # of a time budget, kept for polishing the forests found

#: With a time budget, a search also restarts after this share of it passes
#: without a 1 % better best: where iterations are slow (hundreds of rows,
#: dozens of inputs: 0.1-0.2 s each), ``restart_after`` iterations can outlast
#: the budget, and a forest whose loss blew up (a division by a near-zero
#: input) then stayed stuck to the end.
STUCK_SHARE = 0.25

#: ``accept="elitist"``: a selection step is undone when, after the next
#: iteration's constant steps, the forest's loss is above ``1 + ELITE_SLACK``
#: times the loss before the step.  Nguyen-11 (x0**x1), 10 seeds x 5 s, mean
#: test R^2 (least): every step kept (the paper) 0.9933 (0.9706); undone above
#: 2x 0.9985 (0.9969); above 1.5x 0.9982; above 4x 0.9969; above 1.1x 0.9965;
#: any rise undone 0.9829 (the search stalls, as ``accept="improve"`` did).
ELITE_SLACK = 1.0


@dataclass
class Settings:
    """How :func:`train` searches (the estimators' parameters, validated)."""

    unary: tuple[str, ...]
    binary: tuple[str, ...]
    max_seconds: float | None = 5.0
    max_iterations: int | None = None
    tol: float = 1e-12
    max_nodes: int = 15
    init_depth: int = 2
    constant_steps: int = 5
    learning_rate: float = 0.01
    grad_clip: float = 1.0
    clip: float = 1e6
    target: str = "newton"
    margin: float = 0.0
    patience: int = 20
    min_improvement: float = 0.01
    restart_after: int | None = 100
    parsimony: float = 0.0
    polish_iterations: int = 100
    accept: str = "all"
    selection_rows: int = 512
    constants: str = "newton"
    top: int = 8
    init: str = "random"


@dataclass
class Result:
    roots: list[Node]
    loss: float
    front: list[tuple[int, float]]              # (nodes, polished loss) of each size kept
    history: np.ndarray                          # (iteration, seconds, best loss, nodes) per improvement
    iterations: int
    restarts: int
    perturbations: int
    stop_reason: str


def selection_step(roots: list[Node], X, Y, loss: str, settings: Settings, rng, deadline=None) -> list[Node]:
    """Targets from the gradient, then each neuron's choice of function.

    On more than ``selection_rows`` rows, a random batch of them is used.

    ``accept="all"`` (the paper) and ``"elitist"``: every neuron takes its best candidate (see
    :func:`srnet.xnet.select.apply_all`; :func:`train` undoes an elitist step that more than doubled
    the loss, :data:`ELITE_SLACK`).  ``accept="improve"``: each of the
    ``top`` best proposals is tried alone, and the one that lowers the loss
    most is kept (none when none does).  Returns the new forest.  Past
    ``deadline``, only the neurons seen so far propose (see
    :func:`srnet.xnet.select.propose`).
    """
    if X.shape[0] > settings.selection_rows:  # a random batch of rows, fresh each iteration
        rows = torch.as_tensor(np.sort(rng.choice(X.shape[0], settings.selection_rows, replace=False)),
                               device=X.device)
        X, Y = X[rows], Y[rows]
    plan = Plan.of(roots)
    outs_t, _, Z, J = plan.linearize(X, *plan.parameters(X.dtype, X.device), settings.clip)
    with torch.no_grad():
        G, H = derivatives(loss, Z, Y)
        tree = torch.tensor(plan.tree_of, device=X.device)
        target, weight = targets(outs_t, J, G.T[tree], H.T[tree], settings.target)
        proposals = propose(plan, outs_t, target, weight, X, settings.unary, settings.binary,
                            max_nodes=settings.max_nodes, clip=settings.clip, margin=settings.margin, rng=rng,
                            deadline=deadline)
    if settings.accept in ("all", "elitist"):
        apply_all(plan, proposals, settings.max_nodes)
        return roots
    current = float(loss_value(loss, Z, Y))
    best, best_value = roots, current
    for proposal in proposals[: settings.top]:
        trial = [r.copy() for r in roots]
        trial_plan = Plan.of(trial)
        apply(trial_plan, proposal)
        trial_plan = Plan.of(trial)
        value = forest_loss(trial_plan, X, Y, loss, *trial_plan.parameters(X.dtype, X.device), settings.clip)
        if value < best_value:
            best, best_value = trial, value
    return best


def perturb(roots: list[Node], n_inputs: int, settings: Settings, rng) -> None:
    """A random neuron of a random tree takes a random function (substitution rules apply)."""
    t = int(rng.integers(len(roots)))
    nodes = postorder(roots[t])
    node = nodes[int(rng.integers(len(nodes)))]
    room = settings.max_nodes - len(nodes)
    options = [LEAF]
    if node.arity >= 1 or room >= 1:
        options += list(settings.unary)
    if node.arity == 2 or (node.arity == 1 and room >= 1) or room >= 2:
        options += list(settings.binary)
    op = options[int(rng.integers(len(options)))]
    arity = 0 if op == LEAF else (1 if op in settings.unary else 2)
    need = arity - node.arity if node.arity else arity
    new_vars = tuple(int(v) for v in rng.integers(n_inputs, size=max(0, need)))
    substitute(node, op, new_vars=new_vars, keep=int(rng.integers(2)), var=int(rng.integers(n_inputs)))


#: Polishing with validation rows stops after this many steps that do not
#: lower the validation loss (early stopping).
POLISH_PATIENCE = 5


def polish(roots: list[Node], X, Y, loss: str, iterations: int, valid=None, deadline=None) -> float:
    """Levenberg-Marquardt on the weights and biases without clipping, in place.

    Without ``valid``: to convergence or ``iterations`` steps, kept when it
    lowers the training loss.  With ``valid = (X, Y)``: early stopping, the
    constants of the step with the least validation loss are kept (the
    starting ones included), and the steps stop after
    :data:`POLISH_PATIENCE` steps without a better one: polished to
    convergence, a classifier's logits fit the training rows ever more
    sharply and generalise worse.  After ``deadline`` (a perf_counter
    time), only the first step is taken: the polish is part of the time
    budget.  Returns the training loss."""
    plan = Plan.of(roots)

    def losses():
        w, b = plan.parameters(X.dtype, X.device)
        train_loss = forest_loss(plan, X, Y, loss, w, b)
        return train_loss, (train_loss if valid is None else forest_loss(plan, valid[0], valid[1], loss, w, b))

    current, best = losses()
    if iterations <= 0 or not math.isfinite(current):
        return current
    kept = ([(n.weight, n.bias) for n in plan.nodes], current)
    damping, since = 1e-3, 0
    for step in range(iterations):
        if step and deadline is not None and time.perf_counter() >= deadline:
            break
        damping = newton_steps(plan, X, Y, loss, damping, 1, None, tries=None, deadline=deadline)
        value, held = losses()
        if not value < current:  # converged: no step lowers the training loss
            break
        current = value
        if held < best:
            best, since = held, 0
            kept = ([(n.weight, n.bias) for n in plan.nodes], value)
        else:
            since += 1
            if valid is not None and since >= POLISH_PATIENCE:
                break
    for node, (weight, bias) in zip(plan.nodes, kept[0]):
        node.weight, node.bias = weight, bias
    return kept[1]


def _random_forest(rng, n_inputs, n_trees, settings) -> list[Node]:
    """The trees a search starts and restarts from: with ``init="linear"``, a
    weighted sum of every input each (the caller checked that it fits);
    otherwise random trees of depth ``init_depth`` at most, each within
    ``max_nodes``."""
    if settings.init == "linear":
        return [linear_tree(rng, n_inputs) for _ in range(n_trees)]
    forest = []
    for _ in range(n_trees):
        for _ in range(100):
            tree = random_tree(rng, n_inputs, settings.unary, settings.binary, settings.init_depth,
                               settings.max_nodes)
            if n_nodes(tree) <= settings.max_nodes:
                break
        else:
            tree = random_tree(rng, n_inputs, (), (), 1)  # a leaf
        forest.append(tree)
    return forest


def tidy(roots: list[Node], X, Y, loss: str) -> float:
    """Snap constants that are rounding noise (a bias within 1e-8 of 0, a
    weight within 1e-8 of +-1) when the loss stays within rounding; the loss."""
    plan = Plan.of(roots)
    current = forest_loss(plan, X, Y, loss, *plan.parameters(X.dtype, X.device))
    for node in plan.nodes:
        for name, value in (("bias", node.bias), ("weight", node.weight)):
            snapped = 0.0 if name == "bias" else math.copysign(1.0, value)
            if value == snapped or abs(value - snapped) > 1e-8:
                continue
            setattr(node, name, snapped)
            trial = forest_loss(plan, X, Y, loss, *plan.parameters(X.dtype, X.device))
            if trial <= current * (1 + 1e-9) + 1e-24:
                current = min(current, trial)
            else:
                setattr(node, name, value)
    return current


def _recentre(roots: list[Node], X) -> None:
    """Softmax logits matter to the cross-entropy only up to a common shift, and the penalty on their mean
    square is least when their mean over the rows ``X`` is 0: the roots' biases move by that mean, which
    keeps them from drifting and can only lower the loss (centring the biases themselves raised a polished
    forest's loss by 2 %).  Where the logits are not finite, the biases are centred."""
    plan = Plan.of(roots)
    with torch.no_grad():
        shift = float(plan.predict(X, *plan.parameters(X.dtype, X.device)).mean())
    if not math.isfinite(shift):
        shift = sum(r.bias for r in roots) / len(roots)
    for root in roots:
        root.bias -= shift


def train(X: torch.Tensor, Y: torch.Tensor, loss: str, n_trees: int, settings: Settings,
          rng: np.random.Generator, valid=None, on_iteration=None, on_phase=None) -> Result:
    """Search a forest of ``n_trees`` trees minimising ``loss`` on ``(X, Y)``.

    Stops at ``max_seconds`` (after one iteration at least) or
    ``max_iterations`` (whichever first), or once the loss is at most ``tol``; with a time budget, the last
    :data:`POLISH_SHARE` of it polishes the forests kept (best first).  The
    best forest of each size (by training loss) is kept, and the forest
    returned is the smallest whose loss -- on ``valid = (X, Y)`` when
    given, else on the training data -- is within ``parsimony`` of the least.
    ``on_iteration(iterations, seconds, best_loss)`` is called after each
    iteration (a progress bar), and ``on_phase("polishing")`` when the polish
    begins.  See the module docstring for the loop.
    """
    start = time.perf_counter()
    deadline = None if settings.max_seconds is None else start + settings.max_seconds
    search_deadline = None if deadline is None else start + (1 - POLISH_SHARE) * settings.max_seconds
    n_inputs = X.shape[1]
    roots = _random_forest(rng, n_inputs, n_trees, settings)
    kept: dict[int, tuple[float, list[Node]]] = {}  # nodes -> best loss, forest
    best_loss = math.inf
    run_best = math.inf
    lr, damping = settings.learning_rate, 1e-3
    history, stale, since_best = [], 0, 0
    stuck_seconds = None if settings.max_seconds is None else STUCK_SHARE * settings.max_seconds
    best_time = start  # when the best last improved by 1 %
    iterations = restarts = perturbations = 0
    elite = None
    selection_seconds = 0.0  # how long the last selection step took
    stop_reason = "max_iterations"
    interrupt = StopOnInterrupt()  # Ctrl-C: keep the best forests found so far
    with interrupt:
        while True:
            if settings.max_iterations is not None and iterations >= settings.max_iterations:
                break
            # at least one iteration: however small the time budget, there is a forest to return
            if iterations and search_deadline is not None and time.perf_counter() >= search_deadline:
                stop_reason = "max_seconds"
                break
            iterations += 1
            plan = Plan.of(roots)
            if settings.constants == "gradient":
                lr = gradient_steps(plan, X, Y, loss, lr, settings.constant_steps, settings.clip, settings.grad_clip,
                                    deadline=search_deadline)
            else:
                if loss == "mse":  # the roots' closed form first (see refit_roots: a step cannot always get there)
                    refit_roots(plan, X, Y, settings.clip)
                damping = newton_steps(plan, X, Y, loss, damping, settings.constant_steps, settings.clip,
                                       deadline=search_deadline)
            if loss == "softmax":
                _recentre(roots, X)
            value = forest_loss(plan, X, Y, loss, *plan.parameters(X.dtype, X.device))
            if elite is not None and not value <= elite[0] * (1 + ELITE_SLACK):  # the last step undone
                value, roots = elite  # (a copy, taken before the step)
                plan = Plan.of(roots)
            elite = None
            size = len(plan.nodes)
            # the best forest of each size by its training loss (kept by the validation rows' loss instead,
            # the 20-40 rows of iris or wine chose larger forests that did worse on the test rows)
            if size not in kept or value < kept[size][0]:  # an infinite loss too: one iteration keeps a forest
                kept[size] = (value, [r.copy() for r in roots])
            if value < best_loss * (1.0 - settings.min_improvement):
                since_best, best_time = 0, time.perf_counter()
            else:
                since_best += 1
            if on_iteration is not None:
                on_iteration(iterations, time.perf_counter() - start, min(value, best_loss))
            if value < best_loss:
                best_loss = value
                history.append((iterations, time.perf_counter() - start, value, size))
                if value <= settings.tol:
                    stop_reason = "tol"
                    break
            if value < run_best * (1.0 - settings.min_improvement):
                run_best, stale = value, 0
            else:
                stale += 1
            if search_deadline is not None and time.perf_counter() >= search_deadline:
                stop_reason = "max_seconds"  # before a selection step whose forest would never be trained
                break
            stuck = stuck_seconds is not None and time.perf_counter() - best_time >= stuck_seconds
            if settings.restart_after is not None and (since_best >= settings.restart_after or stuck):
                roots = _random_forest(rng, n_inputs, n_trees, settings)
                restarts += 1
                since_best = stale = 0
                best_time = time.perf_counter()
                run_best, lr, damping = math.inf, settings.learning_rate, 1e-3
                continue
            if stale >= settings.patience:
                perturb(roots, n_inputs, settings, rng)
                perturbations += 1
                stale, run_best = 0, math.inf
                continue
            if search_deadline is not None and time.perf_counter() + selection_seconds >= search_deadline:
                stop_reason = "max_seconds"  # its forest would come after the deadline, untrained and unkept
                break
            began = time.perf_counter()
            if settings.accept == "elitist":
                elite = (value, [r.copy() for r in roots])
            roots = selection_step(roots, X, Y, loss, settings, rng, search_deadline)
            selection_seconds = time.perf_counter() - began  # the next one's estimate (9 s on digits' forest)
    if interrupt.caught:
        stop_reason = "interrupted"
        if not kept:  # nothing evaluated yet: nothing to keep
            raise KeyboardInterrupt
    ranked = sorted(kept.items(), key=lambda item: (item[1][0], item[0]))  # best training loss first
    polished = {}  # size -> (training loss, forest), each polished on a copy: a Ctrl-C keeps the others whole
    polishing = StopOnInterrupt()  # Ctrl-C while polishing: keep what is polished, the rest as searched
    underway = None  # the forest being polished: (size, loss as searched, its copy)
    if on_phase is not None:
        on_phase("polishing")
    with polishing:
        for size, (value, forest) in ranked:
            if interrupt.caught or (polished and deadline is not None and time.perf_counter() >= deadline):
                break
            # the best forest's polish may run as long again as the budget (cut at the budget, a 64-input
            # linear start of digits was left untrained: 14 % test accuracy, 95.6 % with 24 s more of it);
            # the others' stop at the budget
            until = deadline if polished or deadline is None else deadline + settings.max_seconds
            trial = [r.copy() for r in forest]
            underway = (size, value, trial)
            polish(trial, X, Y, loss, settings.polish_iterations, valid, until)
            if loss == "softmax":
                _recentre(trial, X)
            polished[size] = (tidy(trial, X, Y, loss), trial)
            underway = None
    if polishing.caught:
        stop_reason = "interrupted"
        if underway is not None:
            _keep_partial_polish(underway, polished, X, Y, loss)
    front = [(size, *polished.get(size, (value, forest))) for size, (value, forest) in ranked]
    front.sort(key=lambda item: item[0])
    if valid is None:
        scores = [value for _, value, _ in front]
    else:
        scores = [forest_loss(plan, valid[0], valid[1], loss, *plan.parameters(X.dtype, X.device))
                  for plan in (Plan.of(forest) for _, _, forest in front)]
    least = min(scores)
    chosen = next(item for item, score in zip(front, scores) if score <= least + settings.parsimony)
    return Result([r.copy() for r in chosen[2]], chosen[1], [(s, v) for s, v, _ in front],
                  np.array(history, dtype=np.float64).reshape(-1, 4), iterations, restarts, perturbations,
                  stop_reason)


def _keep_partial_polish(underway, polished: dict, X, Y, loss: str) -> None:
    """The forest whose polish a Ctrl-C cut short, kept as far as it got where that beats it as searched: a
    wide classifier is fitted by its polish (digits, 5 s: one search iteration, 9 % accuracy as searched,
    95 % polished), and an interrupt kept a chance-level model.  Its constants are those of the last step
    taken (every step lowers the training loss)."""
    size, searched, trial = underway
    if loss == "softmax":
        _recentre(trial, X)
    plan = Plan.of(trial)
    value = forest_loss(plan, X, Y, loss, *plan.parameters(X.dtype, X.device))
    if value < searched:
        polished[size] = (value, trial)


def count_nodes(roots) -> int:
    return sum(n_nodes(r) for r in roots)
