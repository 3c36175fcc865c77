"""X-Net's network: a tree of neurons, each with its own activation, weight and bias.

Every neuron computes ``weight * f(children) + bias``, where ``f`` is one of
the library's functions (a primitive of :mod:`srnet.cgp.primitives`, with
its protected semantics) or, for a leaf, an input variable ``x_j`` (no
children).  The tree *is* a formula; :func:`to_program` writes it as a
:class:`srnet.expr.Program`, so the same numbers come back from NumPy, sympy
and torch.

The structure changes only through :func:`substitute`, which applies the
X-Net paper's five substitution rules when a neuron takes a function of
another arity (Li et al. 2024):

1. same arity: swap the function, keep the children;
2. unary -> binary: keep the (left) child, add a leaf as the right child;
3. binary -> unary: keep the better child (the caller says which);
4. any -> leaf: drop the children;
5. leaf -> unary / binary: add one / two leaf children.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from srnet.cgp.primitives import primitive
from srnet.expr.program import Program

LEAF = "x"  # the op of a leaf: an input variable


@dataclass
class Node:
    """One neuron: ``weight * op(children) + bias`` (a leaf: ``weight * x[var] + bias``)."""

    op: str
    children: list["Node"] = field(default_factory=list)
    var: int = 0
    weight: float = 1.0
    bias: float = 0.0

    @property
    def arity(self) -> int:
        return 0 if self.op == LEAF else primitive(self.op).arity

    def copy(self) -> "Node":
        return Node(self.op, [c.copy() for c in self.children], self.var, self.weight, self.bias)


def leaf(var: int, weight: float = 1.0, bias: float = 0.0) -> Node:
    return Node(LEAF, [], int(var), float(weight), float(bias))


def postorder(root: Node) -> list[Node]:
    """The neurons children first, the root last (the order every pass uses)."""
    out: list[Node] = []

    def visit(node):
        for child in node.children:
            visit(child)
        out.append(node)

    visit(root)
    return out


def n_nodes(root: Node) -> int:
    return len(postorder(root))


def check_tree(root: Node, n_inputs: int) -> None:
    """Raise ValueError unless every neuron has as many children as its function takes,
    every leaf reads an input and every constant is finite."""
    for node in postorder(root):
        if len(node.children) != node.arity:
            raise ValueError(f"neuron {node.op!r} has {len(node.children)} children, needs {node.arity}")
        if node.op == LEAF and not 0 <= node.var < n_inputs:
            raise ValueError(f"leaf reads x{node.var}, but there are {n_inputs} inputs")
        if not (np.isfinite(node.weight) and np.isfinite(node.bias)):
            raise ValueError("a neuron's weight or bias is not finite")


def substitute(node: Node, op: str, *, new_vars=(), keep: int = 0, var: int = 0) -> None:
    """Give ``node`` the function ``op`` (a primitive name, or :data:`LEAF`), in place.

    Parameters
    ----------
    node : Node
    op : str
    new_vars : sequence of int
        Inputs of the leaves a growing neuron gets: one for unary -> binary
        (its new right child), one or two for leaf -> unary / binary.
    keep : {0, 1}
        Which child a binary neuron keeps when it becomes unary.
    var : int
        The input a neuron that becomes a leaf reads.

    The weight and bias stay; the caller refits them.
    """
    old, new = node.arity, 0 if op == LEAF else primitive(op).arity
    if new == 0:  # rule 4 (or a leaf swapping its variable: rule 1)
        node.children, node.var = [], int(var)
    elif old == 0:  # rule 5
        if len(new_vars) != new:
            raise ValueError(f"a leaf becoming {op!r} needs {new} new leaf variable(s), got {len(new_vars)}")
        node.children = [leaf(v) for v in new_vars]
    elif old == 1 and new == 2:  # rule 2
        if len(new_vars) != 1:
            raise ValueError(f"a unary neuron becoming {op!r} needs one new leaf variable, got {len(new_vars)}")
        node.children = [node.children[0], leaf(new_vars[0])]
    elif old == 2 and new == 1:  # rule 3
        node.children = [node.children[keep]]
    node.op = op  # rule 1 (same arity): only the function changes


def _jittered(node: Node, rng: np.random.Generator) -> Node:
    """``node`` with weight 1 and bias 0 plus a little noise, so that no two neurons start equal."""
    node.weight = float(1.0 + 0.1 * rng.standard_normal())
    node.bias = float(0.1 * rng.standard_normal())
    return node


def random_tree(rng: np.random.Generator, n_inputs: int, unary, binary, max_depth: int,
                max_nodes: int | None = None) -> Node:
    """A random tree of depth at most ``max_depth`` (the 'grow' method):
    weights 1 and biases 0 with a little noise, so that no two neurons start equal.
    With ``max_nodes``, no neuron gets children once that many exist (the
    tree may end up to ``max_nodes - 1`` leaves over; the caller tries
    again): grown unbounded, a binary library's
    trees have 1.2 children per neuron, and at depth 60 the tries took
    minutes, at depth 3000 Python's recursion limit."""
    grown = [0]

    def grow(level):
        grown[0] += 1
        room = max_nodes is None or grown[0] < max_nodes
        choices = (["u"] * bool(unary) + ["b"] * bool(binary)) if level < max_depth and room else []
        if choices and (level == 1 or rng.random() < 0.6):
            kind = choices[int(rng.integers(len(choices)))]
            if kind == "u":
                node = Node(unary[int(rng.integers(len(unary)))], [grow(level + 1)])
            else:
                node = Node(binary[int(rng.integers(len(binary)))], [grow(level + 1), grow(level + 1)])
        else:
            node = leaf(int(rng.integers(n_inputs)))
        return _jittered(node, rng)

    return grow(1)


def linear_tree(rng: np.random.Generator, n_inputs: int) -> Node:
    """A weighted sum of every input: a balanced tree of ``add`` neurons over
    one leaf per input (weights 1 and biases 0 with a little noise)."""
    level = [_jittered(leaf(j), rng) for j in range(n_inputs)]
    while len(level) > 1:
        pairs = [_jittered(Node("add", [level[k], level[k + 1]]), rng) for k in range(0, len(level) - 1, 2)]
        level = pairs + ([level[-1]] if len(level) % 2 else [])
    return level[0]


def to_program(roots, n_inputs: int, scale=None, offset=None) -> Program:
    """The trees (one per output) as one Program.

    Each neuron becomes its function's step, then ``mul`` by its weight and
    ``add`` of its bias (left out when the weight is 1 or the bias 0); a
    root's weight and bias become the program's output map, times ``scale``
    plus ``offset`` per output (the target's standardisation).  The program
    computes what the trees compute, operation for operation inside the
    trees; only the roots' map is regrouped (``raw * (w * s) + (b * s + o)``
    for ``(w * raw + b) * s + o``, and a bias that cancels the offset to
    rounding written as 0), so the two agree to rounding.  The estimators'
    ``predict`` evaluates this program, so ``expression_`` is what
    ``predict`` computes.
    """
    roots = list(roots)
    m = len(roots)
    for root in roots:  # a leaf past the inputs read a constant's address
        check_tree(root, n_inputs)
    for name, values in (("scale", scale), ("offset", offset)):
        if values is not None and np.size(values) != m:
            raise ValueError(f"{name} needs one value per tree ({m}), got {np.size(values)}")
    scale = np.ones(m) if scale is None else np.asarray(scale, dtype=np.float64).reshape(m)
    offset = np.zeros(m) if offset is None else np.asarray(offset, dtype=np.float64).reshape(m)
    constants: list[float] = []
    constant_address: dict[float, int] = {}
    steps: list[tuple[str, int, int]] = []
    # constants are addressed right after the inputs, steps after all constants: collect first
    plan = []  # (kind, payload) in evaluation order

    def constant(value: float) -> int:
        key = float(value)
        if key not in constant_address:
            constant_address[key] = len(constants)
            constants.append(key)
        return constant_address[key]

    def emit(node: Node, is_root: bool):
        args = [emit(child, False) for child in node.children]
        if node.op == LEAF:
            ref = ("input", node.var)
        else:
            plan.append((node.op, args))
            ref = ("step", len(plan) - 1)
        if is_root:
            return ref
        if node.weight != 1.0:
            plan.append(("mul", [ref, ("const", constant(node.weight))]))
            ref = ("step", len(plan) - 1)
        if node.bias != 0.0:
            plan.append(("add", [ref, ("const", constant(node.bias))]))
            ref = ("step", len(plan) - 1)
        return ref

    output_refs = [emit(root, True) for root in roots]
    first_step = n_inputs + len(constants)

    def address(ref) -> int:
        kind, k = ref
        return k if kind == "input" else n_inputs + k if kind == "const" else first_step + k

    for name, args in plan:
        a = address(args[0])
        b = address(args[1]) if len(args) > 1 else 0
        steps.append((name, a, b))
    outputs = tuple(address(ref) for ref in output_refs)
    weights = np.diag([root.weight * s for root, s in zip(roots, scale)])
    intercept = np.array([_sum_or_zero(root.bias * s, o) for root, s, o in zip(roots, scale, offset)])
    return Program(n_inputs, tuple(constants), tuple(steps), outputs, weights, intercept)


def _sum_or_zero(a: float, b: float) -> float:
    """``a + b``, or 0 when the sum is only rounding residue of two cancelling terms."""
    total = a + b
    return 0.0 if abs(total) <= 1e-12 * (abs(a) + abs(b)) else total


def describe(root: Node) -> str:
    """The tree's shape without its constants, e.g. ``mul(x0, sin(x1))``."""
    if root.op == LEAF:
        return f"x{root.var}"
    return f"{root.op}({', '.join(describe(c) for c in root.children)})"
