"""X-Net checks that kill mutants of srnet/xnet/tree.py and srnet/xnet/select.py which tests/test_xnet.py let live.

Each test is an oracle: the exact tree a substitution rule gives, the exact Program a tree writes, NumPy's value
of the formula, the distribution random trees are drawn from, the function a neuron's target is.
"""

import numpy as np
import pytest
import torch
from test_xnet import BINARY, UNARY  # the library the X-Net tests search with

from srnet.cgp.primitives import EXP_MAX, PROTECTION_EPS
from srnet.xnet.forward import Plan
from srnet.xnet.select import _admissible, _fit, candidates, targets
from srnet.xnet.tree import (
    LEAF,
    Node,
    _jittered,
    _sum_or_zero,
    check_tree,
    describe,
    leaf,
    linear_tree,
    n_nodes,
    postorder,
    random_tree,
    substitute,
    to_program,
)

POINTS = np.random.default_rng(0).uniform(0.2, 1.5, (25, 2))


def depth(node: Node) -> int:
    return 1 + max((depth(c) for c in node.children), default=0)


def spec(node: Node) -> tuple:
    """What a neuron computes: its function (its input for a leaf), weight, bias and children, nested."""
    what = f"x{node.var}" if node.op == LEAF else node.op
    return (what, node.weight, node.bias, tuple(spec(c) for c in node.children))


def numpy_value(node: Node, X: np.ndarray) -> np.ndarray:
    """The tree's output by plain NumPy, written from the docstring: ``weight * f(children) + bias``."""
    forms = {"sin": np.sin, "cos": np.cos, "exp": np.exp, "square": np.square, "add": np.add,
             "sub": np.subtract, "mul": np.multiply, "div": np.divide}
    if node.op == LEAF:
        raw = X[:, node.var]
    else:
        raw = forms[node.op](*(numpy_value(c, X) for c in node.children))
    return node.weight * raw + node.bias


# ------------------------------------------------------------------ tree


def test_a_copy_is_an_equal_tree_that_shares_no_neuron():
    root = Node("div", [leaf(1, 2.5, -0.5), Node("sin", [leaf(0, 0.3, 0.2)], weight=-1.5, bias=4.0)],
                weight=0.7, bias=0.1)
    twin = root.copy()
    assert twin == root
    assert not {id(n) for n in postorder(twin)} & {id(n) for n in postorder(root)}
    twin.children[0].var, twin.children[1].weight = 0, 9.0
    assert root.children[0].var == 1 and root.children[1].weight == -1.5


def test_a_leaf_reads_its_input_with_weight_one_and_bias_zero_unless_told():
    assert leaf(3) == Node(LEAF, [], 3, 1.0, 0.0)
    assert leaf(2, 0.5, -1.0) == Node(LEAF, [], 2, 0.5, -1.0)
    assert (leaf(0).arity, Node("sin", [leaf(0)]).arity, Node("mul", [leaf(0), leaf(1)]).arity) == (0, 1, 2)


def test_check_tree_accepts_every_input_and_refuses_what_is_not_one_or_not_finite():
    check_tree(leaf(0), 1)
    check_tree(Node("add", [leaf(0), leaf(2)]), 3)
    with pytest.raises(ValueError, match=r"^leaf reads x-1, but there are 2 inputs$"):
        check_tree(leaf(-1), 2)
    with pytest.raises(ValueError, match=r"^neuron 'sin' has 2 children, needs 1$"):
        check_tree(Node("sin", [leaf(0), leaf(1)]), 2)
    with pytest.raises(ValueError, match=r"^neuron 'x' has 1 children, needs 0$"):
        check_tree(Node(LEAF, [leaf(0)]), 2)
    for weight, bias in ((np.inf, 0.0), (1.0, np.nan), (-np.inf, 0.0), (1.0, np.inf)):
        with pytest.raises(ValueError, match=r"^a neuron's weight or bias is not finite$"):
            check_tree(Node("sin", [leaf(0, weight, bias)]), 1)


def test_a_binary_neuron_turned_unary_keeps_its_left_child_and_a_new_leaf_reads_x0_unless_told():
    root = Node("mul", [leaf(1), leaf(0)], weight=2.0, bias=-3.0)
    substitute(root, "sin")
    assert spec(root) == spec(Node("sin", [leaf(1)], weight=2.0, bias=-3.0))  # the weight and bias stay
    substitute(root, LEAF)
    assert spec(root) == spec(Node(LEAF, [], 0, 2.0, -3.0))
    substitute(root, LEAF, var=1)  # a leaf swapping its variable
    assert spec(root) == spec(Node(LEAF, [], 1, 2.0, -3.0))
    substitute(root, "sub", new_vars=(1, 0))  # new leaves start at weight 1 and bias 0
    assert spec(root) == spec(Node("sub", [leaf(1), leaf(0)], weight=2.0, bias=-3.0))
    substitute(root, "div", new_vars=(7,))  # same arity: the children stay, new_vars is ignored
    assert spec(root) == spec(Node("div", [leaf(1), leaf(0)], weight=2.0, bias=-3.0))
    substitute(root, "cos", keep=1)
    assert spec(root) == spec(Node("cos", [leaf(0)], weight=2.0, bias=-3.0))
    substitute(root, "add", new_vars=(1,))
    assert spec(root) == spec(Node("add", [leaf(0), leaf(1)], weight=2.0, bias=-3.0))


def test_a_growing_rule_given_the_wrong_number_of_new_leaves_says_so():
    with pytest.raises(ValueError, match=r"^a leaf becoming 'sin' needs 1 new leaf variable\(s\), got 0$"):
        substitute(leaf(0), "sin")
    with pytest.raises(ValueError, match=r"^a leaf becoming 'mul' needs 2 new leaf variable\(s\), got 3$"):
        substitute(leaf(0), "mul", new_vars=(0, 1, 1))
    with pytest.raises(ValueError, match=r"^a unary neuron becoming 'add' needs one new leaf variable, got 0$"):
        substitute(Node("sin", [leaf(0)]), "add")
    with pytest.raises(ValueError, match=r"^a unary neuron becoming 'add' needs one new leaf variable, got 2$"):
        substitute(Node("sin", [leaf(0)]), "add", new_vars=(0, 1))


def test_a_jittered_neuron_has_weight_one_and_bias_zero_plus_a_tenth_of_a_standard_normal_each():
    draws = np.random.default_rng(5).standard_normal(2)
    node = _jittered(leaf(0, 7.0, 7.0), np.random.default_rng(5))
    assert (node.weight, node.bias) == (1.0 + 0.1 * draws[0], 0.1 * draws[1])
    assert isinstance(node.weight, float) and isinstance(node.bias, float)


def test_a_random_tree_of_depth_one_is_a_leaf_and_a_deeper_ones_root_always_has_children():
    for seed in range(40):
        rng = np.random.default_rng(seed)
        assert random_tree(rng, 3, UNARY, BINARY, 1).op == LEAF
        tree = random_tree(rng, 3, ("sin",), (), 2)
        assert describe(tree) in {"sin(x0)", "sin(x1)", "sin(x2)"}
        tree = random_tree(rng, 3, (), ("mul",), 2)
        assert tree.op == "mul" and [c.op for c in tree.children] == [LEAF, LEAF]


def test_random_trees_grow_within_their_depth_from_the_library_and_the_inputs_given():
    seen_ops, seen_vars, depths = set(), set(), set()
    for seed in range(60):
        tree = random_tree(np.random.default_rng(seed), 3, ("sin", "exp"), ("add", "div"), 4)
        check_tree(tree, 3)
        depths.add(depth(tree))
        for node in postorder(tree):
            seen_ops.add(node.op)
            if node.op == LEAF:
                seen_vars.add(node.var)
    assert seen_ops == {"sin", "exp", "add", "div", LEAF}
    assert seen_vars == {0, 1, 2} and depths == {2, 3, 4}


def test_a_random_neuron_below_the_root_has_children_six_times_in_ten_and_each_arity_half_the_time():
    grows, unary_roots, n = 0, 0, 3000
    rng = np.random.default_rng(0)
    for _ in range(n):
        tree = random_tree(rng, 1, ("sin",), (), 3)  # the root's child is at level 2 < 3: it may grow
        grows += tree.children[0].op != LEAF
        unary_roots += random_tree(rng, 1, ("sin",), ("add",), 2).op == "sin"
    assert abs(grows / n - 0.6) < 0.04  # 0.6 +- 4.5 sd
    assert abs(unary_roots / n - 0.5) < 0.04


@pytest.mark.parametrize("max_nodes", [1, 2, 3, 5, 9])
def test_a_random_tree_stops_giving_children_once_max_nodes_neurons_exist(max_nodes):
    sizes = set()
    for seed in range(40):
        tree = random_tree(np.random.default_rng(seed), 2, ("sin",), ("add",), 40, max_nodes=max_nodes)
        check_tree(tree, 2)
        sizes.add(n_nodes(tree))
    assert max(sizes) <= 2 * max_nodes - 1  # at most max_nodes - 1 leaves over
    if max_nodes == 1:
        assert sizes == {1}
    if max_nodes == 2:  # the root grows (it always does), its children may not
        assert sizes == {2, 3}


@pytest.mark.parametrize("n_inputs, shape", [
    (1, "x0"),
    (2, "add(x0, x1)"),
    (3, "add(add(x0, x1), x2)"),
    (5, "add(add(add(x0, x1), add(x2, x3)), x4)"),
    (6, "add(add(add(x0, x1), add(x2, x3)), add(x4, x5))"),
])
def test_a_linear_tree_is_a_balanced_sum_of_the_inputs_in_order_each_neuron_jittered(n_inputs, shape):
    rng = np.random.default_rng(3)
    tree = linear_tree(rng, n_inputs)
    assert describe(tree) == shape
    # the leaves are jittered first, in input order, then each level's sums: their draws, in that order
    draws = np.random.default_rng(3).standard_normal(2 * (2 * n_inputs - 1))
    leaves = sorted((n for n in postorder(tree) if n.op == LEAF), key=lambda n: n.var)
    for j, node in enumerate(leaves):
        assert (node.weight, node.bias) == (1.0 + 0.1 * draws[2 * j], 0.1 * draws[2 * j + 1])
    X = np.random.default_rng(4).normal(size=(20, n_inputs))
    np.testing.assert_allclose(to_program([tree], n_inputs)(X), numpy_value(tree, X), rtol=1e-12, atol=1e-12)


# -------------------------------------------------------------- to_program


def test_a_tree_of_unit_weights_and_zero_biases_is_its_functions_alone():
    program = to_program([Node("add", [leaf(0), Node("sin", [leaf(1)])])], 2)
    assert program.constants == () and program.steps == (("sin", 1, 0), ("add", 0, 2))
    assert program.outputs == (3,)
    np.testing.assert_array_equal(program.weights, [[1.0]])
    np.testing.assert_array_equal(program.intercept, [0.0])


def test_each_neurons_weight_and_bias_are_steps_and_equal_constants_share_an_address():
    root = Node("add", [leaf(0, 2.0, 2.0), leaf(1, 2.0)], weight=3.0, bias=-1.0)
    program = to_program([root], 2)
    assert program.constants == (2.0,)  # three uses of 2.0, one constant at address 2
    assert program.steps == (("mul", 0, 2), ("add", 3, 2), ("mul", 1, 2), ("add", 4, 5))
    assert program.outputs == (6,)
    np.testing.assert_array_equal(program.weights, [[3.0]])  # the root's weight and bias: the output map
    np.testing.assert_array_equal(program.intercept, [-1.0])
    only_a_bias = to_program([Node("sin", [leaf(1, 1.0, 0.5)], weight=1.0, bias=0.0)], 2)
    assert only_a_bias.constants == (0.5,) and only_a_bias.steps == (("add", 1, 2), ("sin", 3, 0))


def test_a_leaf_root_is_its_input_through_the_output_map():
    program = to_program([leaf(1, -2.0, 0.5), leaf(0)], 2, scale=[3.0, 2.0], offset=[1.0, 4.0])
    assert program.constants == () and program.steps == () and program.outputs == (1, 0)
    np.testing.assert_array_equal(program.weights, np.diag([-6.0, 2.0]))
    np.testing.assert_array_equal(program.intercept, [2.5, 4.0])


def test_a_forest_with_scale_and_offset_computes_each_trees_formula_scaled_and_offset():
    forest = [Node("sin", [Node("mul", [leaf(0, 1.0, 0.5), leaf(1, 2.0)], weight=1.5, bias=-0.2)],
                   weight=0.7, bias=0.1),
              Node("div", [leaf(1, 3.0, 1.0), Node("exp", [leaf(0, -0.5)])], weight=-2.0, bias=0.5)]
    scale, offset = np.array([2.0, -3.0]), np.array([1.0, -1.5])
    program = to_program(forest, 2, scale=scale, offset=offset)
    truth = np.column_stack([numpy_value(tree, POINTS) for tree in forest]) * scale + offset
    np.testing.assert_allclose(program(POINTS), truth, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match=r"^offset needs one value per tree \(2\), got 3$"):
        to_program(forest, 2, offset=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"^scale needs one value per tree \(2\), got 1$"):
        to_program(forest, 2, scale=[1.0])


def test_an_intercept_whose_terms_cancel_to_rounding_is_zero_and_any_other_is_kept():
    assert 0.1 * 0.7 - 0.07 != 0.0  # rounding residue of about 1e-17
    program = to_program([leaf(0, 1.0, 0.1)], 1, scale=[0.7], offset=[-0.07])
    assert program.intercept[0] == 0.0
    assert to_program([leaf(0, 1.0, 0.1)], 1, scale=[0.7], offset=[-0.0699]).intercept[0] == pytest.approx(1e-4)
    assert _sum_or_zero(0.1 * 0.7, -0.07) == 0.0
    assert _sum_or_zero(1.0, -1.0) == 0.0 and _sum_or_zero(0.0, 0.0) == 0.0
    assert _sum_or_zero(1.0, -1.0 + 1e-11) == pytest.approx(1e-11, rel=1e-4)  # 1e-11 > 1e-12 * 2: kept
    assert _sum_or_zero(-2.0, 0.5) == -1.5 and _sum_or_zero(2.0, 0.5) == 2.5
    assert _sum_or_zero(1e-3, 0.0) == 1e-3 and _sum_or_zero(0.0, -1e-3) == -1e-3


# --------------------------------------------------------------- selection


def test_newton_targets_step_each_sample_by_its_own_curvature_and_skip_samples_without_any():
    outs = torch.tensor([[1.0, 2.0, 3.0, 4.0], [0.5, -0.5, 0.5, 1.0]], dtype=torch.float64)
    J = torch.tensor([[1.0, 1.0, 1.0, 1.0], [2.0, -1.0, 0.0, 3.0]], dtype=torch.float64)
    G = torch.tensor([[0.1, 0.2, -0.3, 0.4], [1.0, 1.0, 1.0, -2.0]], dtype=torch.float64)
    H = torch.tensor([[2.0, 2.0, 2.0, -1.0], [1.0, 4.0, 1.0, 0.5]], dtype=torch.float64)
    target, weight = targets(outs, J, G, H)
    o, j, g, h = (t.numpy() for t in (outs, J, G, H))
    expected_weight = h * j * j
    step = np.divide(g * j, expected_weight, out=np.zeros_like(g), where=expected_weight > 0)
    np.testing.assert_allclose(weight.numpy(), expected_weight, rtol=1e-15)
    np.testing.assert_allclose(target.numpy(), o - step, rtol=1e-15)
    assert target[0, 3] == outs[0, 3] and target[1, 2] == outs[1, 2]  # negative or zero curvature: no step
    with pytest.raises(ValueError, match=r"^unknown target mode 'newtonian'; valid: newton, gradient$"):
        targets(outs, J, G, H, "newtonian")


def test_gradient_targets_take_the_step_that_minimises_the_quadratic_model_and_a_roots_is_its_label():
    rng = np.random.default_rng(0)
    outs, J, G = (torch.tensor(rng.normal(size=(3, 6))) for _ in range(3))
    H = torch.tensor(rng.uniform(0.5, 2.0, size=(3, 6)))
    target, weight = targets(outs, J, G, H, "gradient")
    g = (G * J).numpy()
    eta = (g * g).sum(1) / (H.numpy() * g * g * J.numpy() ** 2).sum(1)
    np.testing.assert_allclose(target.numpy(), outs.numpy() - eta[:, None] * g, rtol=1e-12)
    np.testing.assert_array_equal(weight.numpy(), np.ones((3, 6)))
    # the root (J = 1) of a squared loss c (z - y)^2 / 2: G = c (z - y), H = c, and the target is y
    z, y, c = torch.tensor([[0.3, -1.0, 2.0]], dtype=torch.float64), torch.tensor([[1.0, 0.5, -0.25]], dtype=torch.float64), 0.7
    target, _ = targets(z, torch.ones_like(z), c * (z - y), torch.full_like(z, c), "gradient")
    np.testing.assert_allclose(target.numpy(), y.numpy(), rtol=1e-12)
    near = y + torch.tensor([[0.01, -0.02, 0.03]], dtype=torch.float64)  # a tiny curvature along the gradient
    target, _ = targets(near, torch.ones_like(near), c * (near - y), torch.full_like(near, c), "gradient")
    np.testing.assert_allclose(target.numpy(), y.numpy(), rtol=1e-12)
    # no gradient at all: the target is the output (0 / 0 read as a step of 0)
    target, _ = targets(z, torch.ones_like(z), torch.zeros_like(z), torch.ones_like(z), "gradient")
    assert torch.equal(target, z)


def test_the_weighted_least_squares_fit_is_numpys():
    rng = np.random.default_rng(1)
    raw, target = rng.normal(size=(4, 9)), rng.normal(size=(4, 9))
    weight = rng.uniform(0.1, 3.0, size=(4, 9))
    weight[3] *= 1e-3  # weights summing below 1: the fit does not depend on their scale
    w, b, error = (t.numpy() for t in _fit(*(torch.tensor(a) for a in (raw, target, weight))))
    for k in range(4):
        design = np.column_stack([raw[k], np.ones(9)]) * np.sqrt(weight[k])[:, None]
        (wk, bk), residual, *_ = np.linalg.lstsq(design, target[k] * np.sqrt(weight[k]), rcond=None)
        assert (w[k], b[k], error[k]) == (pytest.approx(wk, rel=1e-10), pytest.approx(bk, rel=1e-10),
                                          pytest.approx(residual[0], rel=1e-9))
    one = dict(dtype=torch.float64)
    w, b, error = _fit(torch.tensor([[2.0, 2.0, 2.0]], **one), torch.tensor([[1.0, 2.0, 6.0]], **one),
                       torch.ones(1, 3, **one))
    assert (w.item(), b.item(), error.item()) == (0.0, 3.0, pytest.approx(14.0))  # a constant: the mean


def test_a_candidate_is_admissible_only_where_it_is_defined_finite_and_not_constant():
    n = torch.linspace(0.1, 1.0, 5, dtype=torch.float64)
    eps = PROTECTION_EPS
    args = torch.stack([n, -n, n - 0.5, n * 0 + 2 * eps, torch.full_like(n, -2 * eps)])
    rows = {"positive": 0, "negative": 1, "changes sign": 2, "just above eps": 3, "just below -eps": 4}
    one_signed = [True, True, False, True, True]
    for op in ("log", "sqrt"):
        ok = _admissible(op, (args, args), torch.stack([n] * 5))  # raw: not constant
        assert ok.tolist() == one_signed, op
    left = torch.stack([n + 1.0] * 5)
    ok = _admissible("div", (left, args), torch.stack([n] * 5))
    assert ok.tolist() == one_signed  # the divisor's sign counts, not the dividend's
    ok = _admissible("div", (args, left), torch.stack([n] * 5))
    assert ok.tolist() == [True] * 5
    at_eps = torch.stack([n, torch.full_like(n, eps), n - 0.1, torch.full_like(n, -eps)])  # |a| <= eps: refused
    assert _admissible("log", (at_eps, at_eps), torch.stack([n] * 4)).tolist() == [True, False, False, False]
    below = torch.stack([n + EXP_MAX - 2.0, n + EXP_MAX - 1.0, n + EXP_MAX - 0.5])
    assert _admissible("exp", (below, below), torch.stack([n] * 3)).tolist() == [True, True, False]  # (cap: > 80)
    raws = torch.stack([n, torch.full_like(n, 3.0), n * 0 + torch.tensor([1.0, 1.0, 1.0, 1.0, 1.0 + 1e-6]),
                        n * 0 + torch.tensor([0.0, 0.0, 0.0, 0.0, 5e-10]), torch.where(n > 0.5, np.inf, n),
                        torch.where(n > 0.5, np.nan, n)])
    assert rows and _admissible("sin", (raws, raws), raws).tolist() == [True, False, True, False, False, False]
    assert _admissible(LEAF, (), raws).tolist() == [True, False, True, False, False, False]


def candidate_set(plan, X, unary, binary, max_nodes):
    X_t = torch.as_tensor(X)
    outs = torch.stack(plan.forward(X_t, *plan.parameters(torch.float64, "cpu")))
    tree_sizes = [plan.tree_of.count(t) for t in range(len(plan.roots))]
    cands, raws, ok = candidates(plan, outs.detach(), X_t, unary, binary, tree_sizes, max_nodes,
                                 [range(X.shape[1])] * len(plan.nodes))
    return cands, raws.numpy(), ok.numpy(), outs.detach().numpy()


def test_a_neurons_candidates_are_every_function_by_every_rule_with_their_outputs_and_growth():
    X = POINTS
    root = Node("sin", [leaf(0, 2.0, 0.5)], weight=1.5)
    plan = Plan.of([root])  # 0: the leaf, 1: sin
    cands, raws, ok, outs = candidate_set(plan, X, ("sin", "exp"), ("sub",), max_nodes=10)
    found = {(c.node, c.op, c.var, c.new_vars, c.keep, c.growth) for c in cands}
    assert len(found) == len(cands)
    leaf_ones = {(0, LEAF, 0, (), 0, 0), (0, LEAF, 1, (), 0, 0),
                 (0, "sin", 0, (0,), 0, 1), (0, "sin", 0, (1,), 0, 1), (0, "exp", 0, (0,), 0, 1),
                 (0, "exp", 0, (1,), 0, 1)} | {(0, "sub", 0, (j, i), 0, 2) for j in (0, 1) for i in (0, 1)}
    sin_ones = {(1, LEAF, 0, (), 0, -1), (1, LEAF, 1, (), 0, -1), (1, "sin", 0, (), 0, 0), (1, "exp", 0, (), 0, 0),
                (1, "sub", 0, (0,), 0, 1), (1, "sub", 0, (1,), 0, 1)}
    assert found == leaf_ones | sin_ones
    forms = {"sin": np.sin, "exp": np.exp}
    for c, raw in zip(cands, raws):
        if c.op == LEAF:
            expected = X[:, c.var]
        elif c.node == 0:  # the leaf grown: its new leaves read the inputs
            expected = forms[c.op](X[:, c.new_vars[0]]) if c.op in forms else X[:, c.new_vars[0]] - X[:, c.new_vars[1]]
        else:  # the sin neuron: its child's output, and a new leaf for the binary rule
            child = outs[0]
            expected = forms[c.op](child) if c.op in forms else child - X[:, c.new_vars[0]]
        np.testing.assert_allclose(raw, expected, rtol=1e-12, err_msg=str(c))
    assert ok.tolist() == [c.new_vars not in ((0, 0), (1, 1)) for c in cands]  # x - x: constant


def test_a_binary_neurons_candidates_keep_either_child_and_the_size_cap_stops_growth():
    X = POINTS
    left = Node("exp", [leaf(1)])
    root = Node("mul", [left, leaf(0)])  # plan: 0 x1, 1 exp, 2 x0, 3 mul
    plan = Plan.of([root])
    cands, raws, _, outs = candidate_set(plan, X, ("cos",), ("div",), max_nodes=4)  # no room to grow
    found = {(c.node, c.op, c.var, c.new_vars, c.keep, c.growth) for c in cands}
    assert {f for f in found if f[0] == 3} == {(3, LEAF, 0, (), 0, -3), (3, LEAF, 1, (), 0, -3),
                                                (3, "div", 0, (), 0, 0),
                                                (3, "cos", 0, (), 0, -1), (3, "cos", 0, (), 1, -2)}
    assert all(f[5] <= 0 for f in found)  # a tree at its cap grows nowhere
    for c, raw in zip(cands, raws):
        if c.node == 3 and c.op == "cos":
            np.testing.assert_allclose(raw, np.cos(outs[[1, 2][c.keep]]), rtol=1e-12)
        if c.node == 3 and c.op == "div":
            np.testing.assert_allclose(raw, outs[1] / outs[2], rtol=1e-12)
    cands, *_ = candidate_set(plan, X, ("cos",), ("div",), max_nodes=5)  # room for one: unary growth only
    grown = {(c.node, c.op, c.new_vars) for c in cands if c.growth > 0}
    assert grown == {(0, "cos", (0,)), (0, "cos", (1,)), (2, "cos", (0,)), (2, "cos", (1,)),
                     (1, "div", (0,)), (1, "div", (1,))}
    cands, *_ = candidate_set(plan, X, ("cos",), ("div",), max_nodes=6)  # room for two: a leaf may go binary
    assert {c.new_vars for c in cands if c.node == 0 and c.growth == 2} == {(0, 0), (0, 1), (1, 0), (1, 1)}
