"""The forward pass of X-Net trees in torch, through the primitive table's torch forms.

:class:`Plan` flattens a forest (one tree per output) into its neurons in
post-order, so one pass computes every neuron's output and autograd gives the
gradients of the loss with respect to each neuron's output, weight and bias:
what both halves of X-Net's alternating training need.  The functions are the
primitives' torch forms (:func:`srnet.expr.torch_module.torch_steps`), so the
protected semantics are those of every other srnet backend.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from srnet.cgp.primitives import primitive
from srnet.xnet.tree import LEAF, Node, postorder


def in_domain(op: str, args) -> torch.Tensor:
    """(K,) bool: whether the primitive ``op`` (a function, not a leaf) is used on its mathematical domain at
    every sample, per row of its (K, n) operands ``args`` (one tensor per operand): its protection never fires
    (div's divisor and log's argument clear of 0, exp's argument below its cap), div's divisor and log's
    argument keep one sign (a continuous argument of both signs crosses 0 between the samples: a pole there),
    and sqrt|a|'s argument keeps one sign, touching 0 or not (no protection fires at 0, but |a| bends there).
    Both halves of the training keep neurons on it: the selection step's candidates (:mod:`srnet.xnet.select`)
    and the constants' steps (:meth:`Plan.in_domain`)."""
    if op == "sqrt":
        a = args[0]
        return (a >= 0).all(dim=1) | (a <= 0).all(dim=1)
    guard = primitive(op).guard
    if guard is None:
        return torch.ones(args[0].shape[0], dtype=torch.bool, device=args[0].device)
    a = args[guard.operand]
    ok = ~guard.fires(a).any(dim=1)
    if guard.where == "zero":
        ok &= (a > 0).all(dim=1) | (a < 0).all(dim=1)
    return ok


#: The functions whose domain the constants' steps check (see :func:`in_domain`).
BOUNDED = ("div", "log", "exp", "sqrt")


@dataclass
class Plan:
    """A forest's neurons in evaluation order.

    Attributes
    ----------
    nodes : list of Node
        Post-order over the trees, tree after tree.
    fns : list
        Each neuron's torch form (None for a leaf).
    args : list of tuple of int
        Positions (in ``nodes``) of each neuron's children.
    roots : list of int
        Position of each tree's root.
    tree_of : list of int
        The tree each neuron belongs to.
    """

    nodes: list
    fns: list
    args: list
    roots: list
    tree_of: list
    #: Per bounded function (:data:`BOUNDED`) in the forest, its neurons' operands' positions, one tuple per
    #: operand: what :meth:`in_domain` checks.
    bounded: dict

    @classmethod
    def of(cls, roots: list[Node]) -> "Plan":
        nodes, fns, args, root_positions, tree_of = [], [], [], [], []
        for t, root in enumerate(roots):
            position = {}
            for node in postorder(root):
                position[id(node)] = len(nodes)
                nodes.append(node)
                fns.append(None if node.op == LEAF else primitive(node.op).torch)
                args.append(tuple(position[id(c)] for c in node.children))
                tree_of.append(t)
            root_positions.append(len(nodes) - 1)
        bounded: dict = {}
        for node, operands in zip(nodes, args):
            if node.op in BOUNDED:
                bounded.setdefault(node.op, []).append(operands)
        return cls(nodes, fns, args, root_positions, tree_of,
                   {op: tuple(zip(*operands)) for op, operands in bounded.items()})

    def in_domain(self, outs: list) -> bool:
        """Whether every neuron's function is used on its domain (:func:`in_domain`) at the samples of
        ``outs`` (:meth:`forward`'s).  The constants' steps keep a forest there, as the selection step keeps
        its candidates: a step of Levenberg-Marquardt moved a divisor that the selection step had chosen clear
        of 0 across it, and a breast-cancer classifier's logit jumped from 182 to -223 between two
        training rows."""
        with torch.no_grad():
            for op, positions in self.bounded.items():
                operands = [torch.stack([outs[p] for p in operand]) for operand in positions]
                if not bool(in_domain(op, operands).all()):
                    return False
        return True

    def parameters(self, dtype, device) -> tuple[torch.Tensor, torch.Tensor]:
        """The neurons' weights and biases as two fresh (n_nodes,) tensors."""
        w = torch.tensor([n.weight for n in self.nodes], dtype=dtype, device=device)
        b = torch.tensor([n.bias for n in self.nodes], dtype=dtype, device=device)
        return w, b

    def store(self, w: torch.Tensor, b: torch.Tensor) -> None:
        """Write weights and biases back into the neurons."""
        for node, wk, bk in zip(self.nodes, w.detach().cpu().tolist(), b.detach().cpu().tolist()):
            node.weight, node.bias = float(wk), float(bk)

    def forward(self, X: torch.Tensor, w: torch.Tensor, b: torch.Tensor, clip: float | None = None,
                raws: list | None = None) -> list:
        """Every neuron's output, (n_samples,) each, in plan order.

        ``clip``: clamp each neuron's output to [-clip, clip] (training only:
        it keeps a bad neuron from flooding the others with inf; the formula
        itself is unclipped).  ``raws``: a list that receives each neuron's
        output before its weight and bias.
        """
        columns = X.unbind(1)
        weights, biases = w.unbind(0), b.unbind(0)
        outs: list[torch.Tensor] = []
        for k, (fn, args) in enumerate(zip(self.fns, self.args)):
            if fn is None:
                raw = columns[self.nodes[k].var]
            else:
                raw = fn(outs[args[0]], outs[args[-1]])  # unary forms ignore their second argument
            if raws is not None:
                raws.append(raw)
            out = weights[k] * raw + biases[k]
            if clip is not None:
                out = out.clamp(-clip, clip)
            outs.append(out)
        return outs

    def predict(self, X: torch.Tensor, w: torch.Tensor, b: torch.Tensor, clip: float | None = None) -> torch.Tensor:
        """The roots' outputs, (n_samples, n_trees)."""
        return self.root_outputs(self.forward(X, w, b, clip))

    def root_outputs(self, outs: list) -> torch.Tensor:
        """The roots' outputs among every neuron's (:meth:`forward`'s ``outs``), (n_samples, n_trees)."""
        return torch.stack([outs[r] for r in self.roots], dim=1)

    def linearize(self, X: torch.Tensor, w: torch.Tensor, b: torch.Tensor, clip: float | None = None):
        """Outputs and sensitivities of every neuron at ``(w, b)``, without a graph.

        Returns ``(outs, raws, Z, J)``: neuron outputs and their values before
        weight and bias (n_nodes, n) each, the roots' outputs (n, n_trees), and
        ``J[k]`` = d(root of k's tree)/d(output of k) per sample.  The
        network is a tree and samples do not mix, so one backward pass gives
        every J, and with it the whole Jacobian of the outputs with respect to
        the constants: d root / d weight_k = J_k * raw_k, d root / d bias_k = J_k.
        """
        w = w.detach().requires_grad_(True)
        raws: list = []
        outs = self.forward(X, w, b.detach(), clip, raws)
        Z = self.root_outputs(outs)
        grads = torch.autograd.grad(Z.sum(), outs, allow_unused=True)
        J = torch.stack([torch.zeros_like(outs[k]) if g is None else g for k, g in enumerate(grads)])
        return (torch.stack([o.detach() for o in outs]), torch.stack([r.detach() for r in raws]), Z.detach(),
                J.detach())
