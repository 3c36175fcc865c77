"""X-Net's activation-selection step: each neuron picks the function that best
produces the output the gradient asks of it.

Given every neuron's output ``o_i`` and the gradient of the loss with respect
to it, a *target output* ``t_i`` is what a gradient step would make the
neuron output (:func:`targets`).  Each neuron then tries every function of the
library on its current inputs -- with the substitution rules of
:mod:`srnet.xnet.tree` for functions of another arity, and new leaves reading
each input where a rule adds one -- fits its weight and bias to ``t_i`` by
least squares, and takes the function that fits best when it beats its
current one (:func:`propose`).

Candidates are *domain-aware*: a function is not offered where its protection
would fire or its argument crosses a singularity (``div`` by an argument
that changes sign or touches 0, ``log`` and ``sqrt`` of one that changes
sign), nor where its output is not finite, exceeds the clipping bound or is
constant, nor where the weight or bias fitted to it would exceed the
constants' bound (:data:`srnet.xnet.constants.CONSTANT_BOUND`).  ``tan`` is
not checked for its poles at pi/2 + k pi (it is not in the default library):
its output's clipping bound is what keeps it off them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from srnet.cgp.primitives import primitive
from srnet.xnet.constants import CONSTANT_BOUND
from srnet.xnet.forward import in_domain
from srnet.xnet.tree import LEAF, n_nodes, postorder, substitute

#: Neurons whose candidates are built and fitted together; a larger forest goes a chunk at a time, in random
#: order, and stops at the deadline.
NODES_PER_CHUNK = 128


def targets(outs, J, G, H, mode: str = "newton"):
    """Target outputs and fitting weights of every neuron, (n_nodes, n) each.

    Parameters
    ----------
    outs : (n_nodes, n) tensor
        The neurons' outputs.
    J : (n_nodes, n) tensor
        d(root output)/d(neuron output) per sample, for the neuron's own tree.
    G, H : (n_nodes, n) tensors
        First and second derivative of the loss with respect to the neuron's
        root output, per sample (the gradient of the loss at the neuron is
        ``G * J``).
    mode : {"newton", "gradient"}
        ``"gradient"``: ``t = o - eta * G J`` with one step size ``eta`` per
        neuron, the one that minimises the loss's quadratic model along the
        gradient (for the root of a squared loss, ``t = y``); fitted with
        equal weights.  ``"newton"``: the step of each sample scaled by its
        own curvature, ``t = o - G / (H J)``, fitted with weights ``H J^2``:
        the candidate that minimises the quadratic model of the loss.
    """
    g = G * J
    if mode == "gradient":
        curvature = (H * g * g * J * J).sum(dim=1)
        eta = (g * g).sum(dim=1) / torch.clamp(curvature, min=torch.finfo(curvature.dtype).tiny)
        return outs - eta[:, None] * g, torch.ones_like(outs)
    if mode != "newton":
        raise ValueError(f"unknown target mode {mode!r}; valid: newton, gradient")
    weight = H * J * J
    safe = weight > 0
    step = torch.where(safe, g / torch.where(safe, weight, torch.ones_like(weight)), torch.zeros_like(g))
    return outs - step, weight


@dataclass
class Candidate:
    node: int          # position in the plan
    op: str            # primitive name or LEAF
    var: int = 0       # the input a leaf reads
    new_vars: tuple = ()
    keep: int = 0
    growth: int = 0    # neurons added (negative: removed)


def _admissible(op: str, args, raw) -> torch.Tensor:
    """(K,) bool: rows of ``raw`` a neuron may take (see the module docstring; the clip applies in
    :func:`_best_of_each`)."""
    finite = torch.isfinite(raw).all(dim=1)
    if op != LEAF:
        finite &= in_domain(op, args)
    spread = raw.amax(dim=1) - raw.amin(dim=1)
    return finite & (spread > 1e-9 * (1.0 + raw.abs().amax(dim=1)))


def _fit(raw, target, weight):
    """Weighted least squares ``target ~ w * raw + b`` per row: (w, b, error)."""
    tiny = torch.finfo(raw.dtype).tiny  # 1e-300 is 0 in float32, and 0/0 NaN
    total = weight.sum(dim=1).clamp(min=tiny)
    mean_r = (weight * raw).sum(dim=1) / total
    mean_t = (weight * target).sum(dim=1) / total
    dr, dt = raw - mean_r[:, None], target - mean_t[:, None]
    s_rr = (weight * dr * dr).sum(dim=1)
    s_rt = (weight * dr * dt).sum(dim=1)
    s_tt = (weight * dt * dt).sum(dim=1)
    w = s_rt / s_rr.clamp(min=tiny)
    error = (s_tt - w * s_rt).clamp(min=0.0)
    return w, mean_t - w * mean_r, error


def candidates(plan, outs, X, unary, binary, tree_sizes, max_nodes: int, new_leaf_vars, nodes=None):
    """Every function each neuron may take, and its raw output on the neuron's inputs.

    Returns ``(cands, raws, args_ok)``: a list of :class:`Candidate`, their raw
    outputs (n_cands, n) and whether each is admissible (n_cands,).  The
    neuron's current function is among them (same op, same children).
    ``new_leaf_vars[k]``: the inputs new leaves of neuron k may read;
    ``nodes``: the neurons' indices (default all).
    """
    cols = X.T  # (d, n)
    unary_args, unary_meta = [], []    # one argument row per (node, how)
    binary_args, binary_meta = [], []  # (left, right) per (node, how)
    leaf_meta = []
    for k in (range(len(plan.nodes)) if nodes is None else nodes):
        node = plan.nodes[k]
        room = max_nodes - tree_sizes[plan.tree_of[k]]
        removed = n_nodes(node) - 1  # becoming a leaf drops the children
        a = node.arity
        args = [outs[i] for i in plan.args[k]]
        for j in range(cols.shape[0]):
            leaf_meta.append(Candidate(k, LEAF, var=j, growth=-removed))
        if a == 1:
            unary_args.append(args[0])
            unary_meta.append(Candidate(k, "", growth=0))
        elif a == 2:
            binary_args.append((args[0], args[1]))
            binary_meta.append(Candidate(k, "", growth=0))
            for keep in (0, 1):
                unary_args.append(args[keep])
                unary_meta.append(Candidate(k, "", keep=keep, growth=-n_nodes(node.children[1 - keep])))
        if a == 1 and room >= 1:
            for j in new_leaf_vars[k]:
                binary_args.append((args[0], cols[j]))
                binary_meta.append(Candidate(k, "", new_vars=(j,), growth=1))
        if a == 0:
            if room >= 1:
                for j in new_leaf_vars[k]:
                    unary_args.append(cols[j])
                    unary_meta.append(Candidate(k, "", new_vars=(j,), growth=1))
            if room >= 2:
                for j in new_leaf_vars[k]:
                    for i in new_leaf_vars[k]:
                        binary_args.append((cols[j], cols[i]))
                        binary_meta.append(Candidate(k, "", new_vars=(j, i), growth=2))
    cands, raws, ok = [], [], []
    if leaf_meta:
        index = torch.tensor([c.var for c in leaf_meta], device=X.device)
        raw = cols[index]
        cands += leaf_meta
        raws.append(raw)
        ok.append(_admissible(LEAF, (), raw))
    for names, stacked_args, meta in ((unary, unary_args, unary_meta), (binary, binary_args, binary_meta)):
        if not stacked_args or not names:
            continue
        if isinstance(stacked_args[0], tuple):
            left = torch.stack([p[0] for p in stacked_args])
            right = torch.stack([p[1] for p in stacked_args])
        else:
            left = right = torch.stack(stacked_args)
        for name in names:
            with torch.no_grad():
                raw = primitive(name).torch(left, right)
            cands += [Candidate(c.node, name, c.var, c.new_vars, c.keep, c.growth) for c in meta]
            raws.append(raw)
            ok.append(_admissible(name, (left, right), raw))
    return cands, torch.cat(raws), torch.cat(ok)


def _is_current(plan, cand: Candidate) -> bool:
    node = plan.nodes[cand.node]
    if cand.op != node.op:
        return False
    if node.op == LEAF:
        return cand.var == node.var
    return cand.growth == 0 and not cand.new_vars


@dataclass
class Proposal:
    """A neuron's best candidate, with its refitted weight and bias."""

    node: int
    candidate: Candidate
    weight: float
    bias: float
    gain: float  # 1 - error / current function's error


def propose(plan, outs, target, weight, X, unary, binary, *, max_nodes: int, clip: float, margin: float,
            rng: np.random.Generator, max_new_leaf_vars: int = 6, deadline: float | None = None) -> list[Proposal]:
    """Each neuron's best candidate that beats its current function, best gain first.

    A neuron's candidates are fitted (weight and bias, by weighted least
    squares) to its target; the best replaces the current function when its
    error is below ``(1 - margin)`` times the current function's.  Inputs of
    new leaves: all inputs, or a random ``max_new_leaf_vars`` of them per
    neuron when there are more.  Past ``deadline`` (a perf_counter time), the
    neurons whose candidates were fitted so far propose (at least
    :data:`NODES_PER_CHUNK` of them).
    """
    n_inputs = X.shape[1]
    tree_sizes = [0] * len(plan.roots)
    for t in plan.tree_of:
        tree_sizes[t] += 1
    new_leaf_vars = []
    for _ in plan.nodes:
        if n_inputs <= max_new_leaf_vars:
            new_leaf_vars.append(range(n_inputs))
        else:
            new_leaf_vars.append(sorted(rng.choice(n_inputs, max_new_leaf_vars, replace=False).tolist()))
    stacked = torch.stack(list(outs))
    order = list(range(len(plan.nodes)))
    if len(order) > NODES_PER_CHUNK:  # many neurons: a chunk at a time, in random order, until the deadline
        order = rng.permutation(len(order)).tolist()
    proposals = []
    for begin in range(0, len(order), NODES_PER_CHUNK):
        if begin and deadline is not None and time.perf_counter() >= deadline:
            break  # the neurons seen so far propose (a digits forest's 1270 took 9 s, past a 5 s budget)
        cands, raws, ok = candidates(plan, stacked, X, unary, binary, tree_sizes, max_nodes, new_leaf_vars,
                                     order[begin:begin + NODES_PER_CHUNK])
        proposals += _best_of_each(plan, cands, raws, ok, target, weight, clip, margin)
    proposals.sort(key=lambda p: (-p.gain, p.node))
    return proposals


def _best_of_each(plan, cands, raws, ok, target, weight, clip: float, margin: float) -> list[Proposal]:
    """Each neuron's best candidate among ``cands`` that beats its current function."""
    # clipped on the raw value, as the search always was (clipping the weighted output instead was tried and
    # put back: no gain on Nguyen); inputs far from unit scale are searched standardised
    # (estimators._fold_input_map)
    ok = ok & (raws.abs() <= clip).all(dim=1)
    node_of = torch.tensor([c.node for c in cands], device=raws.device)
    w, b, error = _fit(raws, target[node_of], weight[node_of])
    # (within the constants' bound, as every step of theirs keeps them: srnet.xnet.constants.CONSTANT_BOUND)
    ok &= (w.abs() <= CONSTANT_BOUND) & (b.abs() <= CONSTANT_BOUND) & torch.isfinite(error)
    error = torch.where(ok, error, torch.full_like(error, float("inf"))).cpu().numpy()
    w, b = w.cpu().numpy(), b.cpu().numpy()
    best: dict[int, int] = {}
    current: dict[int, float] = {}
    for c, cand in enumerate(cands):
        if _is_current(plan, cand):
            current[cand.node] = min(current.get(cand.node, np.inf), error[c])
        elif np.isfinite(error[c]) and (cand.node not in best or error[c] < error[best[cand.node]]):
            best[cand.node] = c
    proposals = []
    spread = None
    for k, c in best.items():
        base = current.get(k, np.inf)
        if error[c] < (1.0 - margin) * base or not np.isfinite(base):
            if not np.isfinite(base):  # an inadmissible current function must go, whatever replaces it; its
                # gain is measured against a constant's (a gain of 1 for any fit outranked an ancestor's
                # exact match, applied before it and blocking it)
                if spread is None:
                    spread = _constant_errors(target, weight)
                base = spread[k]
            gain = 1.0 if base == 0 else max(0.0, 1.0 - error[c] / base)
            proposals.append(Proposal(k, cands[c], float(w[c]), float(b[c]), float(gain)))
    return proposals


def _constant_errors(target, weight) -> np.ndarray:
    """(n_nodes,) each neuron's weighted squared error of the best constant fit to its target: :func:`_fit`
    of a raw output that never varies."""
    return _fit(torch.zeros_like(target), target, weight)[2].cpu().numpy()


def apply(plan, proposal: Proposal) -> None:
    """Give the proposal's neuron its new function (substitution rules) and weight and bias."""
    cand = proposal.candidate
    node = plan.nodes[proposal.node]
    substitute(node, cand.op, new_vars=cand.new_vars, keep=cand.keep, var=cand.var)
    node.weight, node.bias = proposal.weight, proposal.bias


def apply_all(plan, proposals: list[Proposal], max_nodes: int) -> list[Proposal]:
    """Apply every proposal that does not conflict with a better one, in place.

    Best gain first; a neuron inside or above an already changed one keeps
    its function this round (its candidates were computed on inputs that no
    longer exist), and no tree grows past ``max_nodes``.  Returns those applied.
    """
    tree_sizes = [0] * len(plan.roots)
    for t in plan.tree_of:
        tree_sizes[t] += 1
    applied, blocked = [], set()
    for proposal in proposals:
        k = proposal.node
        node = plan.nodes[k]
        tree = plan.tree_of[k]
        if id(node) in blocked or tree_sizes[tree] + proposal.candidate.growth > max_nodes:
            continue
        blocked |= {id(n) for n in postorder(node)} | {id(n) for n in _ancestors(plan, k)}
        apply(plan, proposal)
        tree_sizes[tree] += proposal.candidate.growth
        applied.append(proposal)
    return applied


def _ancestors(plan, k: int) -> list:
    parents = {}
    for p, args in enumerate(plan.args):
        for a in args:
            parents[a] = p
    out = []
    while k in parents:
        k = parents[k]
        out.append(plan.nodes[k])
    return out
