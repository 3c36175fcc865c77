"""The Python API as a hostile but realistic user calls it (a report-only review of stop 58): each test is a call
that crashed deep inside torch or NumPy, printed another input's name, or answered a label that could not be told
apart, and now either works or is refused in one line naming the problem."""

import warnings

import numpy as np
import pandas as pd
import pytest
import sympy
import torch
from sklearn.neural_network import MLPClassifier, MLPRegressor
from torch import nn

from srnet.activations import activation_from_data
from srnet.activations.from_sympy import program_from_sympy
from srnet.domain import as_domain
from srnet.explain import make_explainer
from srnet.explain.network import NetworkFunction
from srnet.extract import SRNet
from srnet.probe import plan_layers

QUICK = {"max_generations": 20, "max_seconds": None, "random_state": 0, "simplify_seconds": 1.0}


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).uniform(-1, 1, (50, 2))


@pytest.mark.parametrize("name", ["maple", "cgp_direct"])
def test_an_explainer_given_the_module_itself_explains_it_as_given_its_function(net, X, name):
    """Given the torch module (the natural thing to pass), every explainer failed inside torch: 'linear():
    argument input must be Tensor, not numpy.ndarray'.  It is wrapped as NetworkFunction is, with the same answer."""
    settings = {"max_seconds": 1.0} if name == "maple" else {"max_seconds": None, "max_generations": 300}
    given_module = make_explainer(name, **settings).fit(net, X, random_state=0)
    given_function = make_explainer(name, **settings).fit(NetworkFunction(net), X, random_state=0)
    np.testing.assert_array_equal(given_module.predict(X[:5]), given_function.predict(X[:5]))
    with torch.no_grad():
        network = net(torch.tensor(X[:5], dtype=torch.float32)).numpy().ravel()
    assert np.max(np.abs(given_module.predict(X[:5]).ravel() - network)) < 0.1


def test_an_explainer_given_a_scikit_learn_mlp_explains_it(X):
    """A fitted MLPRegressor is converted as SRNet converts it (it was called on arrays, and its predict's (n,)
    answer was read, not its torch form's; the same numbers, but srnet's explainer refused a bare function)."""
    mlp = MLPRegressor(hidden_layer_sizes=(6,), max_iter=300, random_state=0).fit(X, X[:, 0] * X[:, 1])
    explainer = make_explainer("srnet", max_seconds=None, max_generations=10).fit(mlp, X, random_state=0)
    assert explainer.predict(X[:3]).shape == (3,)


def test_an_explainer_refuses_a_single_row(X):
    """cgp_direct, xnet and lime fitted one row without a word (cgp_direct then answered a constant everywhere)."""
    for name in ("cgp_direct", "lime"):
        with pytest.raises(ValueError, match=r"^X_train has 1 row: an explainer learns from 2 rows or more"):
            make_explainer(name, max_seconds=1.0).fit(lambda Z: np.sin(Z[:, 0]), X[:1])


def test_a_traced_module_in_memory_is_explained_layer_by_layer(net, X):
    """torch.jit.trace's module cannot call its submodules ('Trace submodules cannot be called'), and srnet refused
    a plain chain as 'no chain'; it is saved and loaded in memory, and explained as the network itself is."""
    traced = torch.jit.trace(net, torch.zeros(3, 2))
    assert str(SRNet(**QUICK).fit(traced, X).expression_) == str(SRNet(**QUICK).fit(net, X).expression_)


def test_layers_may_be_a_numpy_array_or_a_pandas_index(net):
    """np.array(["1", "2"]) raised NumPy's 'truth value of an array is ambiguous'; a pandas Index its own."""
    assert plan_layers(net, np.array(["1", "2"])).names == plan_layers(net, ["1", "2"]).names == ("1", "2")
    assert plan_layers(net, pd.Index(["1", "2"])).names == ("1", "2")
    with pytest.raises(ValueError, match=r"^layers must be a module name or a list of them \(strings such as '0'\)"):
        plan_layers(net, 3)


def test_feature_names_may_rename_inputs_but_not_move_a_name(X):
    """feature_names=["b", "a"] for a model fitted on columns a, b printed the model's a as b without a word (a
    DataFrame in that order is refused); other names rename the inputs, as before, and a wrong count is named."""
    mlp = MLPRegressor(hidden_layer_sizes=(4,), max_iter=50, random_state=0)
    with warnings.catch_warnings():  # (50 iterations: scikit-learn's ConvergenceWarning, or none)
        warnings.simplefilter("ignore")
        mlp.fit(pd.DataFrame(X, columns=["a", "b"]), X[:, 0])
    with pytest.raises(ValueError, match=r"^feature_names names input 0 'b', input 1's name in the model's features"):
        SRNet(**QUICK).fit(mlp, X, feature_names=["b", "a"])
    assert SRNet(**QUICK).fit(mlp, X, feature_names=["speed", "mass"]).feature_names_ == ["speed", "mass"]
    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    with pytest.raises(ValueError, match=r"^feature_names names input 0 'b', input 1's name in X's columns: they "
                                         r"are its names in another order"):
        SRNet(**QUICK).fit(net, pd.DataFrame(X, columns=["a", "b"]), feature_names=["b", "a"])
    frame = pd.DataFrame(X, columns=["a", "b"])  # recorded activations of that frame: the same refusal
    with pytest.raises(ValueError, match=r"^feature_names names input 0 'b', input 1's name in X's columns"):
        SRNet(**QUICK).fit_activations(frame, [X[:, :1] * 2 + X[:, 1:]], feature_names=["b", "a"])
    shifted = SRNet(**QUICK).fit(net, pd.DataFrame(X, columns=["x1", "x2"]), feature_names=["x0", "x1"])
    assert shifted.feature_names_ == ["x0", "x1"]  # a renaming (1-based columns read 0-based), not a reordering
    with pytest.raises(ValueError, match=r"^3 feature names for 2 columns of X$"):  # the count, not a move
        SRNet(**QUICK).fit(net, pd.DataFrame(X, columns=["a", "b"]), feature_names=["x", "a", "b"])


def test_names_and_class_labels_must_be_distinct(X):
    """Two inputs named a read as a and a_2 with nothing saying which is which (feature_symbols_ kept one);
    two classes labelled a made predict_class answer 'a' for output 1 as for output 0."""
    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    with pytest.raises(ValueError, match=r"^feature_names must be distinct: 'a' names inputs 0 and 1$"):
        SRNet(**QUICK).fit(net, X, feature_names=["a", "a"])
    with pytest.raises(ValueError, match=r"^X's columns must be distinct: 'a' names inputs 0 and 1$"):
        SRNet(**QUICK).fit(net, pd.DataFrame(X, columns=["a", "a"]))
    classifier = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 3), nn.Softmax(dim=1))
    with pytest.raises(ValueError, match=r"^class labels must be distinct, one per output: 'a' labels two of them"):
        SRNet(**QUICK).fit(classifier, X, classes=["a", "a", "b"])


def test_a_scikit_learn_classifier_of_one_class_is_refused_in_its_own_words(X):
    """scikit-learn fits a classifier on one class; srnet said '1 class labels for the network's 2 outputs', labels
    the user never passed."""
    one_class = MLPClassifier(hidden_layer_sizes=(4,), max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one_class.fit(X, ["a"] * len(X))
    with pytest.raises(ValueError, match=r"^this MLPClassifier was fitted on one class \('a'\): it always answers it"):
        SRNet(**QUICK).fit(one_class, X)


def test_messages_that_read_plainly():
    """A domain of one string in a tuple was read as a box of ('r', 'o', 'w', 's') pairs; 10**400 in a sympy
    activation was printed in 401 digits; max_samples=1 said 'n_samples = 1' beside 50 rows given."""
    with pytest.raises(ValueError, match=r"^domain must be one string such as 'rows' or 'widen:1.2' .*; got \('rows',\)$"):
        as_domain(("rows",))
    x = sympy.Symbol("x")
    with pytest.raises(ValueError, match=r"^the expression holds 1.000e\+400, which is not a finite real number$"):
        program_from_sympy(sympy.sin(x) * 10**400, [x])
    z = np.linspace(-2, 2, 50)[:, None]
    with pytest.raises(ValueError, match=r"^max_samples must be at least 2 \(rows a formula is fitted on\), got 1$"):
        activation_from_data(z, np.tanh(z[:, 0]), max_samples=1, max_generations=5, max_seconds=None)


# A review of this stop's diff: what wrapping a module, reloading a trace and the name checks missed ---------------

class _AnswersInNumpy(nn.Module):
    """A forward that adapts NumPy in and out, and rescales its last Linear's output after it."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))

    def forward(self, X):
        with torch.no_grad():
            return self.net(torch.as_tensor(np.asarray(X), dtype=torch.float32)).numpy().ravel() * 10 + 5


def test_a_forward_that_answers_in_numpy_is_checked_against_its_last_module(X):
    """Its last Linear was explained without the 10 * o + 5 after it (the check skipped a non-tensor answer),
    by SRNet and, given the module, by every explainer: a formula of another function, without a word."""
    for fit in (lambda: make_explainer("maple", max_seconds=1.0).fit(_AnswersInNumpy().eval(), X),
                lambda: SRNet(**QUICK).fit(_AnswersInNumpy().eval(), X)):
        with pytest.raises(ValueError, match=r"^_AnswersInNumpy returns something other than its last module "
                                             r"'net.2' computes"):
            fit()


def test_a_module_traced_in_training_mode_is_refused_as_such(X):
    """A BatchNorm traced in training mode holds a batch's statistics (one point's output changed with its batch)
    and srnet said it explained the module in eval mode, which cannot change a trace."""
    net = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.Tanh(), nn.Linear(4, 1))
    with warnings.catch_warnings():  # (torch: jit.trace is deprecated)
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(net.train(), torch.zeros(5, 2))
    with pytest.raises(ValueError, match=r"^this module was traced in training mode, and its module '1' computes "
                                         r"as in training inside the trace"):
        SRNet(**QUICK).fit(traced, X)


def test_an_explainer_given_a_module_takes_its_task_from_its_head(X):
    """A logits-only classifier fitted with task='classification' had its raw logits read as class probabilities
    (MAPLE answered -0.126, 0.085, 0.109 where srnet's explainer answered a softmax)."""
    logits = nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 3))
    with pytest.raises(ValueError, match=r"^the network is a regression network \(no softmax head\), but "
                                         r"task='classification' was asked"):
        make_explainer("maple", max_seconds=1.0).fit(logits, X, task="classification")
    classifier = nn.Sequential(*logits, nn.Softmax(dim=1))
    with pytest.raises(ValueError, match=r"pass task='classification'$"):
        make_explainer("maple", max_seconds=1.0).fit(classifier, X)


def test_compare_takes_the_module_itself(net, X):
    """The README's Python line names a module; compare() raised "'Sequential' object has no attribute 'plan'"."""
    from srnet.compare import compare
    from srnet.explain import make_explainers

    comparison = compare(net, X, make_explainers(["maple"], max_seconds=1.0), n_points=50, random_state=0)
    assert set(comparison.explainers) == {"maple"}
    with pytest.raises(TypeError, match=r"^compare measures a network srnet can probe .*, not a function$"):
        compare(lambda Z: Z[:, 0], X, make_explainers(["maple"]))


def test_layers_given_as_a_generator_are_read_once(net, X):
    """plan_layers read the generator and probe found it empty: "layers is empty; name at least one module"."""
    assert SRNet(**QUICK).fit(net, X, layers=(name for name in ["1", "2"])).layer_names_ == ["1", "2"]
