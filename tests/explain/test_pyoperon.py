"""pyoperon as a direct symbolic regression of the network: budget, formula, size, missing package."""

import time

import numpy as np
import pytest
import sympy
import torch
from torch import nn

from srnet.cli import main
from srnet.explain import NetworkFunction, PyoperonExplainer, factory, make_explainer, pyoperon_available
from srnet.explain.formulas import operon_tree_to_sympy, readable_formulas
from srnet.expr.symbolic import complexity

needs_pyoperon = pytest.mark.skipif(not pyoperon_available(), reason="pyoperon is not installed")


@pytest.fixture(scope="module")
def tiny_network():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1)).double()
    X = np.random.default_rng(0).uniform(-1, 1, (60, 2))
    return NetworkFunction(net), X


@needs_pyoperon
def test_the_factory_gives_pyoperon_the_budget_seconds_and_threads():
    explainer = make_explainer("pyoperon", max_seconds=7.0, n_threads=3)
    assert isinstance(explainer, PyoperonExplainer)
    assert explainer.max_seconds == 7.0 and explainer.n_threads == 3
    regressor = explainer._regressor(1, 0)
    assert regressor.max_time == 7 and regressor.n_threads == 3
    assert explainer._regressor(2, 0).max_time == 4  # a classifier's outputs share the budget
    assert make_explainer("pyoperon", max_seconds=0.2)._regressor(1, 0).max_time == 1  # pyoperon's least


@needs_pyoperon
def test_fits_a_tiny_network_fast_and_its_formula_is_its_predict(tiny_network):
    network, X = tiny_network
    explainer = make_explainer("pyoperon", max_seconds=1.0, n_threads=1)
    started = time.perf_counter()
    explainer.fit(network, X, random_state=0)
    assert time.perf_counter() - started < 30
    assert isinstance(explainer.expression_, sympy.Expr)
    assert explainer.expression_.free_symbols <= set(explainer.symbols_)
    (read,) = explainer.readable_formulas_  # counted as read, as srnet's
    assert read == readable_formulas([explainer.expression_], X)[0][0] and explainer.size_ == complexity(read) > 1
    X_wide = np.random.default_rng(1).uniform(-3, 3, (300, 2))
    predicted = explainer.predict(X_wide)
    formula = np.broadcast_to(sympy.lambdify(explainer.symbols_, explainer.expression_, "numpy")(*X_wide.T),
                              predicted.shape)
    scale = np.maximum(1.0, np.abs(predicted))
    # pyoperon evaluates in float32, whose rounding a formula's tan near its pole amplifies (a 1 s search
    # found tan(...) whose 1e-4 check failed at one point of 300 in a loaded run): a wrong constant is far off
    assert np.all(np.abs(formula - predicted) <= 1e-3 * scale)
    assert np.sqrt(np.mean((predicted[:60] - network(X_wide[:60])) ** 2)) < 1.0


@needs_pyoperon
def test_the_tree_is_read_node_by_node_in_argument_order():
    import pyoperon
    from pyoperon.sklearn import SymbolicRegressor

    X = np.random.default_rng(2).uniform(1, 2, (20, 2))
    model = SymbolicRegressor(max_time=1, generations=1, population_size=10, n_threads=1, random_state=0)
    model.fit(X, X[:, 0])
    first, second = model.variables_
    x0, x1 = sympy.symbols("x0 x1", real=True)
    # postfix: an operator's first argument is the node just before it
    nodes = [pyoperon.Node.Variable(3.0), pyoperon.Node.Constant(2.0), pyoperon.Node.Sqrt(),
             pyoperon.Node.Variable(0.5), pyoperon.Node.Div(), pyoperon.Node.Sub()]
    nodes[0].HashValue, nodes[3].HashValue = first, second
    tree = pyoperon.Tree(nodes).UpdateNodes()
    expression = operon_tree_to_sympy(tree, {first: x0, second: x1})
    assert sympy.simplify(expression - (0.5 * x1 / sympy.sqrt(2.0) - 3.0 * x0)) == 0
    values = sympy.lambdify((x0, x1), expression, "numpy")(*X.T)
    assert np.allclose(values, model.evaluate_model(tree, X), rtol=1e-5)
    with pytest.raises(ValueError, match="not one of the inputs"):
        operon_tree_to_sympy(tree, {first: x0})


def test_a_missing_pyoperon_is_one_clear_line(monkeypatch, tmp_path, capsys):
    real = factory.importlib.util.find_spec
    monkeypatch.setattr(factory.importlib.util, "find_spec",
                        lambda name, *a: None if name == "pyoperon" else real(name, *a))
    message = "explainer 'pyoperon' needs the package 'pyoperon', which is not installed: pip install 'srnet[bench]'"
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        make_explainer("pyoperon")
    assert main(["compare", "model.pt", "--data", "x.csv", "--out", str(tmp_path), "--explainers",
                 "srnet,pyoperon"]) == 2
    assert message in capsys.readouterr().err


@needs_pyoperon
def test_a_bench_job_measures_pyoperon_and_keeps_its_formula():
    from dataclasses import replace

    from srnet.bench.jobs import run_job
    from srnet.bench.suites import BatchSettings, resolve_suite

    settings = replace(BatchSettings(seconds=None, generations=5, hidden=(4, 4), epochs=20, max_rows=300,
                                     n_points=100, nguyen_rows=60), explainers=("pyoperon",))
    job = resolve_suite("nguyen:nguyen-1", settings=settings).jobs[0]
    result = run_job(job)
    assert result["status"] == "ok", result["error"]
    assert set(result["metrics"]["explainers"]) == {"srnet", "pyoperon"}
    assert result["metrics"]["size"]["pyoperon"] > 0
    assert isinstance(result["formulas"]["pyoperon"], str) and "x0" in result["formulas"]["pyoperon"]


@needs_pyoperon
@pytest.mark.parametrize("node", ["Fmin", "Fmax"])
def test_min_and_max_nodes_are_read_as_pyoperon_computes_them(node):
    """pyoperon 0.6's Fmin node computes the larger argument: read as Min, a converted formula differed from
    predict by 25."""
    import pyoperon
    from pyoperon.sklearn import SymbolicRegressor

    X = np.random.default_rng(2).uniform(-2, 2, (50, 2))
    model = SymbolicRegressor(max_time=1, generations=1, population_size=10, n_threads=1, random_state=0)
    model.fit(X, X[:, 0])
    first, second = model.variables_
    x0, x1 = sympy.symbols("x0 x1", real=True)
    nodes = [pyoperon.Node.Variable(1.0), pyoperon.Node.Variable(1.0), pyoperon.Node(getattr(pyoperon.NodeType, node))]
    nodes[0].HashValue, nodes[1].HashValue = second, first
    tree = pyoperon.Tree(nodes).UpdateNodes()
    values = sympy.lambdify((x0, x1), operon_tree_to_sympy(tree, {first: x0, second: x1}), "numpy")(*X.T)
    np.testing.assert_allclose(values, model.evaluate_model(tree, X), rtol=1e-6)
