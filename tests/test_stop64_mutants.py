"""Tests that kill survivors of mutmut 3.8.1 runs over the code changed in stop 64: srnet/explain/formulas.py
(_as_decision, GplearnExplainer._fit and _predict, _DirectRegressionExplainer._fit, PyoperonExplainer._fit) and
srnet/xnet/estimators.py (_fold_input_map, _XNetBase._search).

Pass 1 ran formulas.py's mutants of those functions (``-n 0 -x``) against tests/explain/test_compare.py,
test_gplearn.py, test_pyoperon.py, test_base_mutants.py, test_factory.py and tests/test_explain_formulas_mutants.py;
pass 2 ran estimators.py's against tests/test_xnet.py, test_xnet_edge_cases.py, test_xnet_selection_edge_cases.py
and test_xnet_mutants.py.  Equivalent survivors, left alive:
xǁ_DirectRegressionExplainerǁ_fit__mutmut_23, xǁGplearnExplainerǁ_fit__mutmut_51, xǁPyoperonExplainerǁ_fit__mutmut_55
(``reshape(len(X), -2)``: numpy takes any negative size as the one it infers);
xǁ_DirectRegressionExplainerǁ_fit__mutmut_33, xǁGplearnExplainerǁ_fit__mutmut_61, xǁPyoperonExplainerǁ_fit__mutmut_65
(``values_ = targets[1]``: fit refuses fewer than 2 rows, a constant column's rows are equal, and a varying column's
value is never read), xǁPyoperonExplainerǁ_fit__mutmut_86 (``column[1]`` of a constant column: the same);
xǁ_DirectRegressionExplainerǁ_fit__mutmut_55 (one varying output passed as a column, not a vector: CGPRegressor and
XNetRegressor give the same formula and predictions either way, checked);
xǁGplearnExplainerǁ_fit__mutmut_89 (``n_jobs`` left out: gplearn's default is 1);
xǁGplearnExplainerǁ_fit__mutmut_96, xǁPyoperonExplainerǁ_fit__mutmut_100 and _101 (seeds drawn below 2**32 or
3**31, not 2**31: every one a seed the search accepts; which seed a random_state gives is no contract).
xǁGplearnExplainerǁ_fit__mutmut_102 (``generations < limit or ...``) searches for ever: a timeout, not a survivor.
Pass 2 (stopped at its time box after 101 of its 172 mutants: all 12 of _fold_input_map killed, _search's first 89):
xǁ_XNetBaseǁ_search__mutmut_11 (``positive=None``: falsy, as False) and _43, _46 (the tensor's dtype left to
torch: in_search_coordinates gives float64, which torch keeps) are equivalent; _35, _44, _47 (the device dropped:
X on torch's default, the CPU) differ only with ``device="cuda"``, a GPU test, not written here.
Each test names the mutant(s) it kills.
"""

import types

import numpy as np
import pytest
import sympy
import torch
from torch import nn

import srnet.explain.formulas as formulas
from srnet.explain.formulas import (
    CGPDirectExplainer,
    GplearnExplainer,
    PyoperonExplainer,
    _DirectRegressionExplainer,
)
from srnet.explain.network import NetworkFunction
from srnet.expr.symbolic import make_symbols

# --- helpers ------------------------------------------------------------------------------------------------------


def _linear_network(weight, bias, classifier: bool) -> NetworkFunction:
    """A network whose outputs (a classifier's logits) are ``X @ weight.T + bias``."""
    weight, bias = np.atleast_2d(np.asarray(weight, dtype=np.float64)), np.asarray(bias, dtype=np.float64)
    layer = nn.Linear(weight.shape[1], weight.shape[0]).double()
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(weight))
        layer.bias.copy_(torch.as_tensor(bias))
    return NetworkFunction(nn.Sequential(layer, nn.Softmax(dim=1)) if classifier else nn.Sequential(layer))


def _least_squares(X, y):
    """The exact linear fit of each column of y: (sympy expressions, a predict function)."""
    Y = np.asarray(y, dtype=np.float64).reshape(len(X), -1)
    A = np.column_stack([X, np.ones(len(X))])
    coef = np.linalg.lstsq(A, Y, rcond=None)[0]
    symbols = make_symbols(X.shape[1])
    expressions = [sum(float(c) * s for c, s in zip(coef[:-1, k], symbols)) + float(coef[-1, k])
                   for k in range(Y.shape[1])]
    return expressions, (lambda Z: np.column_stack([Z, np.ones(len(Z))]) @ coef)


class _LeastSquares:
    """A regressor as _DirectRegressionExplainer drives CGPRegressor or XNetRegressor, exact and instant."""

    def __init__(self, random_state, params):
        self.random_state, self.params = random_state, params

    def fit(self, X, y):
        self.X_, self.ndim_ = X, np.ndim(y)
        expressions, self._predict = _least_squares(X, y)
        self.expression_ = expressions[0] if self.ndim_ == 1 else expressions
        return self

    def predict(self, X):
        out = self._predict(X)
        return out[:, 0] if self.ndim_ == 1 else out


class _StubDirect(_DirectRegressionExplainer):
    name = "stub_direct"

    def _regressor(self, random_state, params):
        self.made_ = _LeastSquares(random_state, params)
        return self.made_


@pytest.fixture
def gplearn_stub(monkeypatch):
    """gplearn's SymbolicRegressor replaced by an exact linear fit that records its settings and generations;
    gplearn_to_sympy reads the fit's expression.  Returns the list of regressors made."""
    gplearn = pytest.importorskip("gplearn.genetic")
    made = []

    class Stub:
        def __init__(self, population_size, generations, warm_start, function_set, random_state, n_jobs=1):
            self.generations, self.random_state = generations, random_state
            made.append(self)

        def set_params(self, **params):
            vars(self).update(params)
            return self

        def fit(self, X, y):
            (expression,), self._fitted = _least_squares(X, y)
            self._program = types.SimpleNamespace(program=expression)
            return self

        def predict(self, X):
            return self._fitted(X)[:, 0]

    monkeypatch.setattr(gplearn, "SymbolicRegressor", Stub)
    monkeypatch.setattr(formulas, "gplearn_to_sympy", lambda program, n_inputs: program)
    return made


@pytest.fixture
def operon_stub(monkeypatch):
    """pyoperon's SymbolicRegressor replaced by an exact linear fit that records its parameters; its tree is read
    as the fit's expression and simplify records its budget.  Returns (regressors made, simplify's budgets)."""
    sklearn = pytest.importorskip("pyoperon.sklearn")
    made, budgets = [], []

    class Stub:
        def __init__(self, **params):
            self.params = params
            made.append(self)

        def fit(self, X, y):
            (self.model_,), self._fitted = _least_squares(X, y)
            self.variables_ = list(range(X.shape[1]))
            return self

        def predict(self, X):
            return self._fitted(X)[:, 0]

    def simplify(expression, seconds=5.0):
        budgets.append(seconds)
        return expression

    monkeypatch.setattr(sklearn, "SymbolicRegressor", Stub)
    monkeypatch.setattr(formulas, "operon_tree_to_sympy", lambda tree, by_hash: tree)
    monkeypatch.setattr(formulas, "simplify", simplify)
    return made, budgets


def _evaluate(expression, X):
    return np.broadcast_to(sympy.lambdify(make_symbols(X.shape[1]), expression, "numpy")(*X.T), len(X))


X2 = np.random.default_rng(0).uniform(-1, 1, (40, 2))

# --- srnet/explain/formulas.py: _as_decision ----------------------------------------------------------------------


def test_a_decision_is_the_logit_difference_when_the_constant_logit_is_not_zero():
    """x__as_decision__mutmut_11 (``formulas_[1] + formulas_[0]``): binary_classifier's constant logit is 0, where
    sum and difference agree; a network whose class-0 logit saturates at 3 was shown d = z + 3, not z - 3, a
    decision boundary 6 logits off from what the explainer predicts."""
    network = _linear_network([[0.0, 0.0], [1.0, 2.0]], [3.0, -1.0], classifier=True)
    explainer = _StubDirect().fit(network, X2, task="classification", random_state=0)
    assert explainer.is_decision_ and len(explainer.formulas_) == 1
    np.testing.assert_allclose(_evaluate(explainer.formulas_[0], X2), X2[:, 0] + 2 * X2[:, 1] - 4, atol=1e-9)
    probabilities = explainer.predict(X2)
    np.testing.assert_allclose(np.log(probabilities[:, 1] / probabilities[:, 0]), X2[:, 0] + 2 * X2[:, 1] - 4,
                               atol=1e-9)


# --- _DirectRegressionExplainer._fit --------------------------------------------------------------------------------


def test_a_direct_regressor_simplifies_for_two_seconds_unless_told():
    """xǁ_DirectRegressionExplainerǁ_fit__mutmut_4 (3 s): cgp_direct's and xnet's formulas get SRNet's 2 s of
    sympy (the comparison's budgets are matched), and regressor_params may change it."""
    network = _linear_network([[1.0, -1.0]], [0.5], classifier=False)
    assert _StubDirect().fit(network, X2, random_state=0).made_.params == {"simplify_seconds": 2.0}
    told = _StubDirect(regressor_params={"simplify_seconds": 0.5}).fit(network, X2, random_state=0)
    assert told.made_.params == {"simplify_seconds": 0.5}


def test_direct_regressors_learn_from_the_validation_points_too(gplearn_stub, operon_stub):
    """xǁ_DirectRegressionExplainerǁ_fit__mutmut_8, xǁGplearnExplainerǁ_fit__mutmut_36,
    xǁPyoperonExplainerǁ_fit__mutmut_40 (X_valid dropped): formulas learn from every point the network labelled
    (the SRNet paper's rule); here the network's output varies only across the validation points, so without
    them it read as a constant and no formula was searched."""
    X_train = np.column_stack([np.ones(20), np.linspace(-1, 1, 20)])
    X_valid = np.column_stack([np.linspace(-1, 1, 10), np.zeros(10)])
    network = _linear_network([[2.0, 0.0]], [0.5], classifier=False)
    direct = _StubDirect().fit(network, X_train, X_valid=X_valid, random_state=0)
    assert not direct.constant_.any() and len(direct.made_.X_) == 30
    gplearn = GplearnExplainer(population_size=10, generations=1).fit(network, X_train, X_valid=X_valid,
                                                                     random_state=0)
    assert not gplearn.constant_.any() and len(gplearn.models_) == 1
    operon = PyoperonExplainer(max_seconds=None, max_generations=1, n_threads=1).fit(
        network, X_train, X_valid=X_valid, random_state=0)
    assert not operon.constant_.any() and len(operon.models_) == 1
    for explainer in (direct, gplearn, operon):
        np.testing.assert_allclose(explainer.predict(X_valid), 2 * X_valid[:, 0] + 0.5, atol=1e-9)


def test_a_network_that_never_changes_is_predicted_by_its_value():
    """xǁ_DirectRegressionExplainerǁ_fit__mutmut_34 (``model_ = ""``): with no output to search there is no
    model, and predict read "".predict: an AttributeError for a saturated network's explanation."""
    network = _linear_network([[0.0, 0.0]], [0.5], classifier=False)
    explainer = CGPDirectExplainer(max_seconds=None, regressor_params={"max_generations": 5}).fit(
        network, X2, random_state=0)
    assert explainer.formulas_ == [sympy.Float(0.5)]
    np.testing.assert_array_equal(explainer.predict(X2), np.full(len(X2), 0.5))


def test_each_explainer_fit_draws_its_own_search_seed(gplearn_stub, operon_stub):
    """xǁ_DirectRegressionExplainerǁ_fit__mutmut_42, xǁPyoperonExplainerǁ_fit__mutmut_94 (seed None: a fit with a
    random_state was not repeatable) and xǁ_DirectRegressionExplainerǁ_fit__mutmut_48,
    xǁGplearnExplainerǁ_fit__mutmut_94, xǁPyoperonExplainerǁ_fit__mutmut_99 (``rng.integers(2 * 31)``: 62 seeds
    in all, so 63 random_states or logits must share one; with 2**31 they are all distinct)."""
    network = _linear_network([[1.0, -1.0]], [0.5], classifier=False)
    seeds = [_StubDirect().fit(network, X2, random_state=seed).made_.random_state for seed in range(63)]
    assert all(isinstance(seed, int) for seed in seeds) and len(set(seeds)) == 63
    # one search per varying logit: 63 logits, 63 seeds in one fit
    many = _linear_network(np.random.default_rng(1).normal(size=(63, 2)), np.zeros(63), classifier=True)
    GplearnExplainer(population_size=10, generations=1).fit(many, X2, task="classification", random_state=0)
    assert len({model.random_state for model in gplearn_stub}) == 63
    made, _ = operon_stub
    PyoperonExplainer(max_seconds=None, max_generations=1, n_threads=1).fit(many, X2, task="classification",
                                                                           random_state=0)
    seeds = [model.params["random_state"] for model in made]
    assert all(isinstance(seed, int) for seed in seeds) and len(set(seeds)) == 63


def test_two_varying_logits_get_a_formula_each(operon_stub):
    """xǁ_DirectRegressionExplainerǁ_fit__mutmut_56, _59, _60 (the regressor fitted to the first varying column
    alone when there are two): the second logit's formula stayed its first value and predict broadcast the
    first logit's predictions over both; xǁPyoperonExplainerǁ_fit__mutmut_119: pyoperon's ``expression_`` is
    the list of both formulas, not the first."""
    network = _linear_network([[1.0, 2.0], [-1.0, 0.5]], [0.0, 1.0], classifier=True)
    direct = _StubDirect().fit(network, X2, task="classification", random_state=0)
    operon = PyoperonExplainer(max_seconds=None, max_generations=1, n_threads=1).fit(
        network, X2, task="classification", random_state=0)
    assert isinstance(operon.expression_, list) and len(operon.expression_) == 2
    for explainer in (direct, operon):
        assert not explainer.is_decision_ and len(explainer.formulas_) == 2
        np.testing.assert_allclose(_evaluate(explainer.formulas_[1], X2), 1.0 - X2[:, 0] + 0.5 * X2[:, 1],
                                   atol=1e-9)
        np.testing.assert_allclose(explainer.predict(X2), network(X2), atol=1e-9)


def test_formulas_are_read_at_the_points_they_were_fitted_on(gplearn_stub):
    """xǁ_DirectRegressionExplainerǁ_fit__mutmut_73, xǁGplearnExplainerǁ_fit__mutmut_132 (``_read(self, None)``):
    without the points, 0.12345678*x0 - 246.9 for x0 in [1900, 2100] was read 0.1235*x0 - 246.9, a formula 0.09
    off over a spread of 25 (see readable_formulas; within 100 spreads of 0, x0 is read as itself)."""
    X = np.random.default_rng(0).uniform(1900, 2100, (50, 1))
    network = _linear_network([[0.12345678]], [-246.9], classifier=False)
    for explainer in (_StubDirect(), GplearnExplainer(population_size=10, generations=1)):
        explainer.fit(network, X, random_state=0)
        (readable,) = explainer.readable_formulas_
        assert np.max(np.abs(_evaluate(readable, X) - network(X))) < 1e-3 * np.ptp(network(X))


# --- GplearnExplainer ---------------------------------------------------------------------------------------------


def test_gplearn_shares_its_seconds_among_the_logits_it_searches(monkeypatch, gplearn_stub):
    """xǁGplearnExplainerǁ_fit__mutmut_70 to _74 (the deadline of search k moved: ``started - ...``,
    ``* n``, ``/ (k + 1)``, ``k - 1``, ``k + 2``), _90 (the first fit ran 2 generations) and _106 (``<=``:
    a generation past the deadline).  A clock that ticks once per reading: 8 s over the two varying logits
    (the saturated third is not searched, nor given a share) is 4 ticks each, so 4 generations each."""
    ticks = iter(range(1000))
    monkeypatch.setattr(formulas, "time", types.SimpleNamespace(perf_counter=lambda: float(next(ticks))))
    network = _linear_network([[1.0, 2.0], [0.0, 0.0], [-1.0, 0.5]], [0.0, 2.0, 1.0], classifier=True)
    explainer = GplearnExplainer(population_size=10, generations=100, max_seconds=8.0)
    explainer.fit(network, X2, task="classification", random_state=0)
    assert explainer.constant_.tolist() == [False, True, False]
    assert [model.generations for model in gplearn_stub] == [4, 4]
    gplearn_stub.clear()
    GplearnExplainer(population_size=10, generations=1).fit(network, X2, task="classification", random_state=0)
    assert [model.generations for model in gplearn_stub] == [1, 1]


def test_gplearns_regression_predicts_the_formula_not_its_softmax(gplearn_stub):
    """xǁGplearnExplainerǁ_predict__mutmut_16 (softmax for regression too): the softmax of one column is 1
    everywhere."""
    network = _linear_network([[1.0, -1.0]], [0.5], classifier=False)
    explainer = GplearnExplainer(population_size=10, generations=1).fit(network, X2, random_state=0)
    np.testing.assert_allclose(explainer.predict(X2), X2[:, 0] - X2[:, 1] + 0.5, atol=1e-9)


@pytest.mark.parametrize("params, name", [({"population_size": 2.5}, "population_size"),
                                          ({"generations": 2.5}, "generations"),
                                          ({"max_seconds": -1.0}, "max_seconds")])
def test_gplearns_budgets_are_checked_and_named(gplearn_stub, params, name):
    """xǁGplearnExplainerǁ_fit__mutmut_5, _11, _12, _15, _21, _22, _25, _31, _32 (the message names another
    budget) and _7, _10, _13, _17, _20, _23 (a population or generations of 2.5 let through: gplearn's slicing
    TypeError, or a third generation)."""
    network = _linear_network([[1.0, -1.0]], [0.5], classifier=False)
    with pytest.raises(ValueError, match=f"^{name} must"):
        GplearnExplainer(**{"population_size": 10, "generations": 1, **params}).fit(network, X2, random_state=0)


@pytest.mark.parametrize("explainer, package", [(GplearnExplainer(), "gplearn"), (PyoperonExplainer(), "pyoperon")])
def test_a_missing_package_says_how_to_install_it(monkeypatch, explainer, package):
    """xǁGplearnExplainerǁ_fit__mutmut_2 to _4, xǁPyoperonExplainerǁ_fit__mutmut_2 to _4: the one line a person
    without the optional package reads."""
    monkeypatch.setattr(formulas, f"{package}_available", lambda: False)
    network = _linear_network([[1.0, -1.0]], [0.5], classifier=False)
    with pytest.raises(ValueError, match=rf"^{package} is not installed: pip install 'srnet\[bench\]'$"):
        explainer.fit(network, X2, random_state=0)


# --- PyoperonExplainer ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("params, name", [({"max_seconds": -1.0}, "max_seconds"),
                                          ({"max_generations": 2.5}, "max_generations"),
                                          ({"n_threads": 2.5}, "n_threads")])
def test_pyoperons_budgets_are_checked_and_named(operon_stub, params, name):
    """xǁPyoperonExplainerǁ_fit__mutmut_5, _11, _12, _14, _22, _23, _26, _34, _35 (the message names another
    budget), _6, _15, _27 (None checked in place of the value) and _17, _21, _25, _29, _33, _37 (2.5 let
    through)."""
    network = _linear_network([[1.0, -1.0]], [0.5], classifier=False)
    with pytest.raises(ValueError, match=f"^{name} must"):
        PyoperonExplainer(**{"max_seconds": None, "max_generations": 1, "n_threads": 1, **params}).fit(
            network, X2, random_state=0)


def test_pyoperon_takes_numbas_threads_when_none_are_given(operon_stub):
    """xǁPyoperonExplainerǁ_fit__mutmut_28, _32, _36 (``allow_none`` dropped): n_threads=None, the default,
    was refused ("n_threads is required")."""
    from srnet.cgp._kernels import numba_thread_count

    made, _ = operon_stub
    network = _linear_network([[1.0, -1.0]], [0.5], classifier=False)
    PyoperonExplainer(max_seconds=None, max_generations=1).fit(network, X2, random_state=0)
    assert made[0].params["n_threads"] == numba_thread_count()


def test_pyoperon_splits_its_seconds_over_the_logits_it_searches(operon_stub):
    """xǁPyoperonExplainerǁ_fit__mutmut_76 (at least 2 searches: one output got half its budget) and _78 (the
    constant logits counted: two varying logits and one saturated got the whole budget each, twice it in all)."""
    made, _ = operon_stub
    PyoperonExplainer(max_seconds=10.0, n_threads=1).fit(_linear_network([[1.0, -1.0]], [0.5], classifier=False),
                                                         X2, random_state=0)
    assert [model.params["max_time"] for model in made] == [10]
    made.clear()
    network = _linear_network([[1.0, 2.0], [0.0, 0.0], [-1.0, 0.5]], [0.0, 2.0, 1.0], classifier=True)
    PyoperonExplainer(max_seconds=10.0, n_threads=1).fit(network, X2, task="classification", random_state=0)
    assert [model.params["max_time"] for model in made] == [5, 5]


def test_pyoperon_simplifies_within_its_own_budget(operon_stub):
    """xǁPyoperonExplainerǁ_fit__mutmut_112 (simplify's default 5 s): simplify_seconds=0 means the formula as
    read from the tree, and a comparison's budgets are matched."""
    _, budgets = operon_stub
    network = _linear_network([[1.0, -1.0]], [0.5], classifier=False)
    PyoperonExplainer(max_seconds=None, max_generations=1, n_threads=1, simplify_seconds=0.25).fit(
        network, X2, random_state=0)
    assert budgets == [0.25]


# --- srnet/xnet/estimators.py: _XNetBase._search --------------------------------------------------------------------


@pytest.mark.parametrize("params, message", [({"validation_fraction": -0.1}, "validation_fraction must be >= 0, got -0.1"),
                                             ({"n_threads": 0}, "n_threads must be >= 1, got 0")])
def test_xnets_search_settings_are_checked_and_named(params, message):
    """xǁ_XNetBaseǁ_search__mutmut_9, _15, _16, _23, _31, _32 (the message names another setting) and _26, _30
    (``minimum`` dropped: n_threads=0 read "must be > 0", where the rule a person can act on is a thread or more)."""
    from srnet.xnet import XNetRegressor

    with pytest.raises(ValueError, match=f"^{message}$"):
        XNetRegressor(max_seconds=None, max_iterations=1, **params).fit(X2, X2[:, 0])


def test_xnets_progress_bar_names_the_estimator_its_budget_unit_and_loss(capsys):
    """xǁ_XNetBaseǁ_search__mutmut_66, _77 (no name, "NoneType"), _68 (the iterations left out: "1it", no
    total), _69, _75, _78, _79 (iterations counted as "gen", "XXitXX", "IT"), _70, _76, _80, _81
    ("search_fitness=", "XXlossXX=", "LOSS=", not X-Net's loss) and _67 (the
    seconds left out: a bar of iterations where both budgets read "% of the budget")."""
    from srnet.xnet import XNetRegressor

    XNetRegressor(max_seconds=None, max_iterations=3, progress=True, random_state=0, simplify_seconds=0).fit(
        X2, X2[:, 0])
    steps = capsys.readouterr().err
    assert "XNetRegressor:" in steps and "/3 [" in steps and "it/s" in steps and "loss=" in steps, steps
    XNetRegressor(max_seconds=100.0, max_iterations=3, progress=True, random_state=0, simplify_seconds=0).fit(
        X2, X2[:, 0])
    assert "% of the budget" in capsys.readouterr().err


def test_xnets_classifier_validates_on_a_stratified_split_and_passes_it_to_the_search(monkeypatch):
    """xǁ_XNetBaseǁ_search__mutmut_55 (the split not stratified: at validation_fraction 0.75 a class of 2 rows
    lost both to validation, and the search never saw it) and _62, _89 (the held-out rows dropped, not handed to
    the search as its validation set)."""
    import srnet.xnet.estimators as estimators
    from srnet.xnet import XNetClassifier

    seen = {}

    class Stop(Exception):
        pass

    def train(X, Y, loss, n_trees, settings, rng, valid=None, **kwargs):
        seen.update(Y=Y.numpy(), valid=valid)
        raise Stop

    monkeypatch.setattr(estimators, "train", train)
    labels = np.repeat(np.arange(8), [26, 2, 2, 2, 2, 2, 2, 2])
    X = np.random.default_rng(0).uniform(-1, 1, (len(labels), 2))
    with pytest.raises(Stop):
        XNetClassifier(max_seconds=None, max_iterations=1, validation_fraction=0.75, random_state=0).fit(X, labels)
    Y = seen["Y"] if seen["Y"].ndim == 1 else seen["Y"].argmax(axis=1)
    assert set(Y.astype(int).tolist()) == set(range(8))  # every class keeps a row to train on
    assert seen["valid"] is not None and len(seen["valid"][0]) + len(Y) == len(labels)
