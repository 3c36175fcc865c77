"""Global formulas behind the explainer interface: SRNet, direct CGP, gplearn.

* :class:`SRNetExplainer` explains the network layer by layer
  (:class:`srnet.extract.SRNet`) and composes one formula of its inputs;
  it needs the torch module, so ``predict`` must be a
  :class:`srnet.explain.network.NetworkFunction`.
* :class:`CGPDirectExplainer` regresses the network's output (a classifier's
  logits) on its inputs with :class:`srnet.estimators.CGPRegressor`,
  without looking inside.
* :class:`XNetExplainer` does the same with X-Net
  (:class:`srnet.xnet.XNetRegressor`): a tree of neurons whose activations
  are learnt, trained to the network's output.
* :class:`GplearnExplainer` does the same with gplearn, when installed.
* :class:`PyoperonExplainer` does the same with pyoperon (Operon's C++
  symbolic regression), when installed, at the same wall budget and threads
  as SRNet; its formula is built node by node from pyoperon's tree
  (:func:`operon_tree_to_sympy`), never by parsing text.

For classifiers, formulas give logits; ``predict`` returns their softmax, so
every explainer answers in the network's own units (class probabilities).

Formulas are global, so they learn from every point the network labelled for
them: the training points and, when given, the validation points (the SRNet
paper fitted its formulas on both).
"""

from __future__ import annotations

import importlib.util
import time

import numpy as np
import sympy

from srnet.coordinates import search_coordinates, written_definitions, written_standardised
from srnet.data import check_budget
from srnet.explain.base import Explainer
from srnet.explain.network import NetworkFunction
from srnet.expr.symbolic import (
    complexity,
    make_symbols,
    residue_points,
    rewritten,
    round_faithfully,
    round_faithfully_together,
    simplify,
    standardised_form,
)
from srnet.metrics import softmax

#: Significant digits of a formula's constants as the comparison prints it, and counts its nodes.
READING_DIGITS = 4


def readable_formulas(formulas, X: np.ndarray | None = None) -> tuple[list[sympy.Expr], dict]:
    """``formulas`` as a person reads them, and the inputs they write centred and scaled:
    constants rounded to :data:`READING_DIGITS` digits, or to more where that would move a formula by over 1e-3
    of its spread at a few rows of ``X`` (the points the formulas were fitted on), and a sum's intercept judged
    round-off by its size beside the sum's values there (see :func:`srnet.expr.symbolic.round_faithfully`, as
    srnet's own formulas and the estimators' are read; at 4 digits alone, ``0.12345678*x0 - 246.9`` for x0 near
    2000 was printed ``0.1235*x0 - 2469/10``, R2 0.986 against itself).  An input of ``X`` whose centre lies far
    from 0 for its spread (a year) is written as its centred and scaled form z, as SRNet's formulas write it
    (:func:`srnet.coordinates.written_standardised`: ``{x0: (z_x0, 2005, 8.66)}``), where the formula stays
    within round-off of itself so (:func:`srnet.expr.symbolic.rewritten`)."""
    if X is None:
        return [round_faithfully(formula, READING_DIGITS, None) for formula in formulas], {}
    symbols = make_symbols(X.shape[1])
    written = written_standardised(search_coordinates(X), symbols)
    replacements, points = standardised_form(written, residue_points(symbols, X))
    read = [rewritten(formula, replacements, points) if written else formula for formula in formulas]
    used = set().union(*(formula.free_symbols for formula in read)) if read else set()
    return (round_faithfully_together(read, READING_DIGITS, points),  # (one digit count: outputs read alike)
            {x: entry for x, entry in written.items() if entry[0] in used})


def _read(explainer: Explainer, X: np.ndarray) -> None:
    """Every formula explainer's ``readable_formulas_`` (its ``formulas_`` as printed, rounded once here at the
    points it was fitted on), ``standardised_symbols_`` (the z it writes for inputs far from 0, by name, with
    their definitions) and ``size_``, their nodes summed: one count for all, of what the comparison prints.
    srnet's was its rounded formula's, pyoperon's and cgp_direct's their full-precision formulas' (1.0000003*x0
    three nodes where srnet's rounding reads x0, one) and gplearn's its unsimplified program's."""
    explainer.readable_formulas_, explainer._written = readable_formulas(explainer.formulas_, X)
    explainer.standardised_symbols_ = written_definitions(explainer._written)
    explainer.size_ = sum(complexity(formula) for formula in explainer.readable_formulas_)


def _constant_outputs(explainer: Explainer, targets: np.ndarray) -> None:
    """``constant_`` and ``values_``: the network outputs that never change at the learning points (a saturated
    classifier's logit) are explained by their value, without a search (there is no formula to search for, and
    the regressors rightly refuse a constant target)."""
    explainer.constant_ = np.all(targets == targets[:1], axis=0)
    explainer.values_ = targets[0].copy()


def _outputs(explainer: Explainer, varying: np.ndarray) -> np.ndarray:
    """The explainer's outputs: each constant output's value beside ``varying``, the (n, k) predictions of the
    others in their order; a classifier's as class probabilities."""
    output = np.tile(explainer.values_, (len(varying), 1))
    output[:, ~explainer.constant_] = varying
    return softmax(output) if explainer.task_ == "classification" else output


def _as_decision(explainer: Explainer) -> None:
    """A two-class network with a constant logit (a one-logit classifier explains as the logits (0, z)) is decided
    by its other logit alone: its ``formulas_`` become the one logit difference d = y1 - y0, shown and counted
    as SRNet's two-class formula is (``is_decision_``), where the comparison printed "0; formula"."""
    explainer.is_decision_ = (explainer.task_ == "classification" and len(explainer.formulas_) == 2
                              and bool(explainer.constant_.any()))
    if explainer.is_decision_:
        explainer.formulas_ = [explainer.formulas_[1] - explainer.formulas_[0]]


def _learning_points(X_train, X_valid):
    return X_train if X_valid is None else np.vstack([X_train, X_valid])


def _compared_domain(X) -> str:
    """SRNet's domain beside the other explainers: the box of the points they all learn from (``widen:1``),
    where SRNet's own default widens it 1.2-fold: the formula was fitted and selected on network-labelled
    points 20 % beyond what LIME and MAPLE saw, most of the way to a comparison's test box; for many dependent
    inputs its default's jittered rows (0.1 standard deviation), the region around the rows LIME samples too."""
    from srnet.domain import Domain

    resolved = Domain("auto").resolved(np.asarray(X, dtype=np.float64))
    return "widen:1" if resolved.kind == "widen" else f"jitter:{resolved.factor:g}"


def _network_targets(predict, X_train, task):
    """What a formula is fitted to: outputs, or a classifier's logits."""
    if task == "classification":
        if not isinstance(predict, NetworkFunction):
            raise ValueError("formula explainers fit a classifier's logits: pass a NetworkFunction")
        return predict.logits(X_train)
    return np.asarray(predict(X_train), dtype=np.float64).reshape(len(X_train))


class SRNetExplainer(Explainer):
    """SRNet's composed formula (see :class:`srnet.extract.SRNet`).

    Parameters
    ----------
    max_seconds : float, default 10.0
        Search budget.
    srnet_params : dict, optional
        Keyword arguments of :class:`srnet.extract.SRNet` (preset, form,
        n_outputs, ...), e.g. ``srnet_params={"preset": "paper"}``.
    """

    name = "srnet"

    def __init__(self, max_seconds=10.0, srnet_params=None):
        self.max_seconds = max_seconds
        self.srnet_params = srnet_params

    def _fit(self, predict, X_train, Y_train, X_valid, Y_valid, rng):
        from srnet.extract import SRNet, without_loose_warning

        if not isinstance(predict, NetworkFunction):
            raise ValueError("SRNet explains a torch network layer by layer: pass a NetworkFunction, "
                             "not a bare function")
        # srnet_params may set the budget or the seed too, as regressor_params may for cgp_direct
        X = _learning_points(X_train, X_valid)
        params = {"max_seconds": self.max_seconds, "random_state": int(rng.integers(2**31)), "simplify_seconds": 2.0,
                  "domain": _compared_domain(X), **(self.srnet_params or {})}
        self.model_ = SRNet(**params)
        with without_loose_warning():  # (the comparison measures it)
            self.model_.fit(predict.module, X, layers=predict.layers)
        expressions = self.model_.expression_ if isinstance(self.model_.expression_, list) else [
            self.model_.expression_]
        # a two-class formula shown and counted as srnet explain shows it: its logit difference d = y1 - y0 (not
        # -d/2 and d/2, d counted twice)
        selected = self.model_.selected_
        self.is_decision_ = selected is not None and selected["decision"] is not None and len(expressions) == 2
        self.formulas_ = [expressions[1] - expressions[0]] if self.is_decision_ else list(expressions)
        _read(self, X_train)

    def _predict(self, X):
        output = self.model_.predict(X).reshape(len(X), -1)  # the selected formula, whose size is size_
        return softmax(output) if self.task_ == "classification" else output


class _DirectRegressionExplainer(Explainer):
    """A formula regressor of srnet's fitted to the network's output on its
    inputs (a classifier's varying logits, one formula each); subclasses
    name the regressor (:meth:`_regressor`)."""

    def __init__(self, max_seconds=10.0, regressor_params=None):
        self.max_seconds = max_seconds
        self.regressor_params = regressor_params

    def _regressor(self, random_state: int, params: dict):
        raise NotImplementedError

    def _fit(self, predict, X_train, Y_train, X_valid, Y_valid, rng):
        params = {"simplify_seconds": 2.0, **(self.regressor_params or {})}
        X = _learning_points(X_train, X_valid)
        targets = _network_targets(predict, X, self.task_).reshape(len(X), -1)
        _constant_outputs(self, targets)
        self.model_ = None
        self.formulas_ = [sympy.Float(float(v)) for v in self.values_]  # one per output, constants as they are
        if not self.constant_.all():
            varying = targets[:, ~self.constant_]
            self.model_ = self._regressor(int(rng.integers(2**31)), params)
            self.model_.fit(X, varying[:, 0] if varying.shape[1] == 1 else varying)
            expressions = self.model_.expression_ if isinstance(self.model_.expression_, list) else [
                self.model_.expression_]
            for column, expression in zip(np.flatnonzero(~self.constant_), expressions):
                self.formulas_[column] = expression
        _as_decision(self)
        _read(self, X_train)

    def _predict(self, X):
        varying = np.empty((len(X), 0)) if self.model_ is None else self.model_.predict(X).reshape(len(X), -1)
        return _outputs(self, varying)


class CGPDirectExplainer(_DirectRegressionExplainer):
    """A direct CGP symbolic regression (:class:`srnet.CGPRegressor`) of the
    network's output on its inputs."""

    name = "cgp_direct"

    def _regressor(self, random_state, params):
        from srnet.estimators import CGPRegressor

        # regressor_params may set the budget or the seed too (max_seconds=None for an iteration budget)
        return CGPRegressor(**{"max_seconds": self.max_seconds, "random_state": random_state, **params})


class XNetExplainer(_DirectRegressionExplainer):
    """X-Net (:class:`srnet.xnet.XNetRegressor`) fitted to the network's output
    (a classifier's varying logits, one tree each).

    Parameters
    ----------
    max_seconds : float or None, default 10.0
        Wall budget of the search.
    regressor_params : dict, optional
        Further :class:`srnet.xnet.XNetRegressor` settings (``max_iterations``, ...).
    """

    name = "xnet"

    def _regressor(self, random_state, params):
        from srnet.xnet import XNetRegressor

        # regressor_params may set the budget or the seed too (max_seconds=None for an iteration budget)
        return XNetRegressor(**{"max_seconds": self.max_seconds, "random_state": random_state, **params})


def gplearn_available() -> bool:
    return importlib.util.find_spec("gplearn") is not None


class GplearnExplainer(Explainer):
    """gplearn's SymbolicRegressor on the network's output (one per logit for
    classifiers), with the engine's function set where gplearn has it.

    ``max_seconds``: the wall budget (shared by the logits' searches), kept
    by growing the population a generation at a time (gplearn's warm start)
    until it or ``generations`` runs out, so that it runs at the others'
    budget; None: ``generations`` alone.  ``formulas_``: each search's
    program as sympy (gplearn's protected div, log and sqrt written as the
    mathematics, as srnet's formulas are); an output that never changes (a
    saturated logit) is its value, not searched."""

    name = "gplearn"

    def __init__(self, population_size=1000, generations=20, function_set=("add", "sub", "mul", "div", "sin",
                                                                             "cos", "log", "sqrt"), max_seconds=None):
        self.population_size = population_size
        self.generations = generations
        self.function_set = function_set
        self.max_seconds = max_seconds

    def _fit(self, predict, X_train, Y_train, X_valid, Y_valid, rng):
        if not gplearn_available():
            raise ValueError("gplearn is not installed: pip install 'srnet[bench]'")
        from gplearn.genetic import SymbolicRegressor

        check_budget("population_size", self.population_size, integer=True)  # 2.5: gplearn's slicing TypeError
        generations = check_budget("generations", self.generations, integer=True)
        seconds = check_budget("max_seconds", self.max_seconds, allow_none=True)
        X = _learning_points(X_train, X_valid)
        targets = _network_targets(predict, X, self.task_).reshape(len(X), -1)
        _constant_outputs(self, targets)
        started = time.perf_counter()
        self.models_ = []
        for k, column in enumerate(targets[:, ~self.constant_].T):
            # this search's share of what is left (it ran 1000 x 20 whatever --seconds: 9.6 s against 1 s)
            deadline = None if seconds is None else started + seconds * (k + 1) / int((~self.constant_).sum())
            model = SymbolicRegressor(population_size=self.population_size, generations=1, warm_start=True,
                                      function_set=self.function_set, random_state=int(rng.integers(2**31)),
                                      n_jobs=1)
            model.fit(X, column)
            while model.generations < generations and (deadline is None or time.perf_counter() < deadline):
                model.set_params(generations=model.generations + 1)
                model.fit(X, column)
            self.models_.append(model)
        self.formulas_ = [sympy.Float(float(v)) for v in self.values_]
        for column, model in zip(np.flatnonzero(~self.constant_), self.models_):
            self.formulas_[column] = gplearn_to_sympy(model._program.program, X.shape[1])
        _as_decision(self)
        _read(self, X_train)

    def _predict(self, X):
        varying = [model.predict(X) for model in self.models_]
        return _outputs(self, np.column_stack(varying) if varying else np.empty((len(X), 0)))


_GPLEARN_SYMPY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
                  "div": lambda a, b: a / b, "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan,
                  "log": lambda a: sympy.log(sympy.Abs(a)), "sqrt": lambda a: sympy.sqrt(sympy.Abs(a)),
                  "abs": sympy.Abs, "neg": lambda a: -a, "inv": lambda a: 1 / a, "max": sympy.Max, "min": sympy.Min}


def gplearn_to_sympy(program: list, n_inputs: int) -> sympy.Expr:
    """A gplearn program (prefix order: functions, input indices, constants) as sympy in x0, x1, ...; its
    protected div, log and sqrt (1 or 0 near a zero, |a| under the root and the log) as the mathematics."""
    symbols = make_symbols(n_inputs)
    stack: list = []
    for node in reversed(program):  # postfix from the end of the prefix list
        if isinstance(node, (int, np.integer)):
            stack.append(symbols[int(node)])
        elif isinstance(node, (float, np.floating)):
            stack.append(sympy.Float(float(node)))
        else:
            arguments = [stack.pop() for _ in range(node.arity)]
            stack.append(_GPLEARN_SYMPY[node.name](*arguments))
    return stack[-1]


def pyoperon_available() -> bool:
    return importlib.util.find_spec("pyoperon") is not None


#: pyoperon's symbols for the engine's functions (PAPER_FUNCTIONS), with
#: srnet's protected semantics where pyoperon has them: log|a| and sqrt|a|.
PYOPERON_SYMBOLS = ("add", "sub", "mul", "div", "sqrtabs", "square", "logabs", "sin", "cos", "tan")

_OPERON_UNARY = {
    "Abs": sympy.Abs, "Acos": sympy.acos, "Asin": sympy.asin, "Atan": sympy.atan, "Ceil": sympy.ceiling,
    "Cos": sympy.cos, "Cosh": sympy.cosh, "Exp": sympy.exp, "Floor": sympy.floor, "Log": sympy.log,
    "Log1p": lambda a: sympy.log(1 + a), "Logabs": lambda a: sympy.log(sympy.Abs(a)), "Sin": sympy.sin,
    "Sinh": sympy.sinh, "Sqrt": sympy.sqrt, "Sqrtabs": lambda a: sympy.sqrt(sympy.Abs(a)),
    "Square": lambda a: a ** 2, "Tan": sympy.tan, "Tanh": sympy.tanh,
    "Cbrt": lambda a: sympy.sign(a) * sympy.Abs(a) ** sympy.Rational(1, 3),  # std::cbrt: the real cube root
}
_OPERON_BINARY = {
    "Aq": lambda a, b: a / sympy.sqrt(1 + b ** 2), "Pow": lambda a, b: a ** b,
    # pyoperon 0.6's Fmin node computes the larger argument and Fmax the smaller (its own model string prints
    # them so): mapped by what they compute, checked against pyoperon's predict in the tests
    "Powabs": lambda a, b: sympy.Abs(a) ** b, "Fmin": sympy.Max, "Fmax": sympy.Min,
}


def operon_tree_to_sympy(tree, symbols_by_hash: dict) -> sympy.Expr:
    """The sympy expression of a pyoperon tree, read from its nodes.

    An Operon tree is its nodes in postfix order: node ``i``'s first argument
    is node ``i - 1`` and each further argument ends just before the previous
    one's subtree (``Length`` is the number of a node's descendants).  A
    variable leaf is ``Value * x``, a constant leaf its ``Value``; Add and Mul
    may take any number of arguments, Sub and Div with one argument are
    ``-a`` and ``1/a``.  Nothing is parsed from text, so no string reaches
    sympy: the expression is exactly the tree pyoperon evaluates (in float64).

    Parameters
    ----------
    tree : pyoperon.Tree
    symbols_by_hash : dict of int to sympy.Symbol
        The input each variable node's ``HashValue`` stands for.

    Raises
    ------
    ValueError
        A node type without a sympy form here (``Dyn``), or a variable hash
        that is not an input.
    """
    nodes = list(tree.Nodes)

    def build(i: int) -> sympy.Expr:
        node = nodes[i]
        kind = node.Type.name
        if node.IsVariable:
            if node.HashValue not in symbols_by_hash:
                raise ValueError(f"pyoperon variable hash {node.HashValue} is not one of the inputs")
            return sympy.Float(float(node.Value)) * symbols_by_hash[node.HashValue]
        if node.IsConstant:
            return sympy.Float(float(node.Value))
        args, j = [], i - 1
        for _ in range(node.Arity):
            args.append(build(j))
            j -= nodes[j].Length + 1
        if kind == "Add":
            return sympy.Add(*args)
        if kind == "Mul":
            return sympy.Mul(*args)
        if kind == "Sub":
            return -args[0] if len(args) == 1 else args[0] - sympy.Add(*args[1:])
        if kind == "Div":
            return 1 / args[0] if len(args) == 1 else args[0] / sympy.Mul(*args[1:])
        if kind in _OPERON_UNARY and len(args) == 1:
            return _OPERON_UNARY[kind](args[0])
        if kind in _OPERON_BINARY and len(args) == 2:
            return _OPERON_BINARY[kind](*args)
        raise ValueError(f"pyoperon node {kind} with {len(args)} arguments has no sympy form here")

    return build(len(nodes) - 1)


class PyoperonExplainer(Explainer):
    """pyoperon's SymbolicRegressor on the network's output (one per varying
    logit for classifiers), at SRNet's wall budget.

    Parameters
    ----------
    max_seconds : float or None, default 10.0
        Wall budget of the whole fit, split evenly over the outputs searched;
        pyoperon's ``max_time`` is whole seconds, so each search gets
        ``max(1, round(max_seconds / n_outputs))`` (pyoperon checks it between
        generations).  None: no time limit (give ``max_generations``).
    max_generations : int or None, default None
        pyoperon's own generation limit (not comparable with CGP generations).
    n_threads : int or None, default None
        pyoperon's threads (None: numba's default, as SRNet's engine).
    allowed_symbols : tuple of str, default :data:`PYOPERON_SYMBOLS`
        pyoperon's function symbols (``constant`` and ``variable`` are added).
    simplify_seconds : float, default 2.0
        Time for sympy to tidy the formula (0: as read from the tree).
    regressor_params : dict, optional
        Further :class:`pyoperon.sklearn.SymbolicRegressor` settings; its
        other defaults are the wrapper's (population 1000, max length 50, no
        Levenberg-Marquardt steps: ``optimizer_iterations=0``, as in
        ``experiments/bench_nguyen.py``; more steps fit the data closer but,
        on the paper's networks, extrapolated worse in a quick check).

    Attributes
    ----------
    models_ : list of pyoperon.sklearn.SymbolicRegressor
        One per varying output.
    expression_ : sympy.Expr or list of sympy.Expr
        The formula of each output in ``x0, x1, ...`` (constant outputs: their
        value), read from pyoperon's trees (see :func:`operon_tree_to_sympy`).
    size_ : int
        Nodes of the formulas as read (``readable_formulas_``), summed.
    """

    name = "pyoperon"

    def __init__(self, max_seconds=10.0, max_generations=None, n_threads=None, allowed_symbols=PYOPERON_SYMBOLS,
                 simplify_seconds=2.0, regressor_params=None):
        self.max_seconds = max_seconds
        self.max_generations = max_generations
        self.n_threads = n_threads
        self.allowed_symbols = allowed_symbols
        self.simplify_seconds = simplify_seconds
        self.regressor_params = regressor_params

    def _regressor(self, n_searches: int, seed: int):
        from pyoperon.sklearn import SymbolicRegressor

        if self.max_seconds is None and self.max_generations is None:
            raise ValueError("pyoperon needs a budget: max_seconds or max_generations")
        threads = self.n_threads
        if threads is None:
            from srnet.cgp._kernels import numba_thread_count

            threads = numba_thread_count()
        params = {"allowed_symbols": ",".join([*self.allowed_symbols, "constant", "variable"]),
                  "n_threads": int(threads), "random_state": seed,
                  # the wall budget is the limit: no generation or evaluation cap unless asked
                  "generations": 10**9 if self.max_generations is None else int(self.max_generations),
                  "max_evaluations": 10**15,
                  "max_time": None if self.max_seconds is None else max(1, round(self.max_seconds / n_searches)),
                  **(self.regressor_params or {})}
        return SymbolicRegressor(**params)

    def _fit(self, predict, X_train, Y_train, X_valid, Y_valid, rng):
        if not pyoperon_available():
            raise ValueError("pyoperon is not installed: pip install 'srnet[bench]'")
        # one line each, as for the other searches ("10" was a TypeError, NaN a conversion error, -1 one second)
        check_budget("max_seconds", self.max_seconds, allow_none=True)
        check_budget("max_generations", self.max_generations, allow_none=True, integer=True)
        check_budget("n_threads", self.n_threads, allow_none=True, integer=True)
        X = _learning_points(X_train, X_valid)
        targets = _network_targets(predict, X, self.task_).reshape(len(X), -1)
        _constant_outputs(self, targets)
        self.symbols_ = make_symbols(X.shape[1])
        self.models_ = []
        expressions = []
        n_searches = max(1, int((~self.constant_).sum()))
        for column, constant in zip(targets.T, self.constant_):
            if constant:
                expressions.append(sympy.Float(float(column[0])))
                continue
            model = self._regressor(n_searches, int(rng.integers(2**31))).fit(X, column)
            self.models_.append(model)
            by_hash = {h: s for h, s in zip(model.variables_, self.symbols_)}  # variables_: input order
            expressions.append(simplify(operon_tree_to_sympy(model.model_, by_hash), self.simplify_seconds))
        self.expression_ = expressions[0] if len(expressions) == 1 else expressions
        self.formulas_ = list(expressions)
        _as_decision(self)
        _read(self, X_train)

    def _predict(self, X):
        with np.errstate(all="ignore"):
            varying = [np.asarray(model.predict(X), dtype=np.float64) for model in self.models_]
        return _outputs(self, np.column_stack(varying) if varying else np.empty((len(X), 0)))
