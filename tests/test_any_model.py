"""Any model a user has: scikit-learn MLPs, preprocessing inside the network,
module-path layer names, feature names from DataFrames, TorchScript."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import sympy
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from torch import nn

from srnet.activations import ExpressionActivation
from srnet.cli import main
from srnet.extract import SRNet
from srnet.names import feature_symbols
from srnet.networks import Scale, as_network, from_sklearn
from srnet.probe import plan_layers, probe

QUICK = dict(max_generations=5, simplify_seconds=0, random_state=0, n_threads=1)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3)) * [1.0, 4.0, 10.0] + [0.0, 3.0, -2.0]
    y = np.sin(X[:, 0]) + 0.1 * X[:, 1] - 0.02 * X[:, 2]
    return X, y


def _fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def _outputs(model, X):
    with torch.no_grad():
        return model(torch.from_numpy(X)).numpy()


# --- scikit-learn MLPs -----------------------------------------------------------


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
def test_sklearn_regressor_becomes_a_torch_network_with_the_same_outputs(data, activation):
    X, y = data
    mlp = _fit(MLPRegressor(hidden_layer_sizes=(6, 5), activation=activation, max_iter=50, random_state=0), X, y)
    network = from_sklearn(mlp)
    np.testing.assert_allclose(_outputs(network, X)[:, 0], mlp.predict(X), rtol=0, atol=1e-12)
    assert not plan_layers(mlp).is_classifier


@pytest.mark.parametrize("n_classes", [2, 3])
def test_sklearn_classifier_probabilities_match_and_its_logits_are_explained(data, n_classes):
    X, y = data
    labels = np.digitize(y, np.quantile(y, np.linspace(0, 1, n_classes + 1)[1:-1]))
    mlp = _fit(MLPClassifier(hidden_layer_sizes=(5,), activation="tanh", max_iter=50, random_state=0), X, labels)
    network = from_sklearn(mlp)
    np.testing.assert_allclose(_outputs(network, X), mlp.predict_proba(X), rtol=0, atol=1e-12)
    plan = plan_layers(mlp)
    assert plan.is_classifier and plan.names == ("fc1", "fc2.0") and plan.widths == (5, n_classes)
    logits = probe(mlp, X)[-1]
    assert np.array_equal(logits.argmax(axis=1), mlp.predict(X))  # the logits' class is sklearn's class
    model = SRNet(**QUICK).fit(mlp, X)
    assert model.is_classifier_ and 0 <= model.agreement_ <= 1 and model.layer_names_ == ["fc1", "fc2.0"]
    # predict_class answers in the classifier's labels (it gave their indices: no match against mlp.predict)
    words = np.array(["low", "mid", "high"])[labels]
    named = _fit(MLPClassifier(hidden_layer_sizes=(5,), activation="tanh", max_iter=50, random_state=0), X, words)
    explained = SRNet(**QUICK).fit(named, X)
    assert set(explained.predict_class(X)) <= set(words) and list(explained.classes_) == list(named.classes_)
    assert np.mean(explained.predict_class(X) == named.predict(X)) == explained.agreement_
    with pytest.raises(NotFittedError):  # not "needs a classification network"
        SRNet().predict_class(X)



def test_a_two_class_explanation_prints_the_logit_difference_that_decides(data, capsys):
    """Two classes printed two formulas, -d/2 and d/2, and counted d twice: a person reads d."""
    from srnet.cli import _print_explanation

    X, y = data
    words = np.where(y > np.median(y), "yes", "no")
    mlp = _fit(MLPClassifier(hidden_layer_sizes=(5,), activation="tanh", max_iter=50, random_state=0), X, words)
    model = SRNet(**QUICK).fit(mlp, X)
    _print_explanation(model)
    printed = capsys.readouterr().out
    decision = model.selected_["decision"]
    assert f"  d = y1 - y0 = {decision}\n  (class yes where d > 0, else class no;" in printed
    assert "  y0 = " not in printed and model.report()["decision"] == decision
    assert all(entry["decision"] is not None for entry in model.pareto_)
    # a torch network knows no labels: its outputs are named, not classes 0 and 1 it may not have
    model.classes_ = None
    _print_explanation(model)
    assert "(output 1 where d > 0, else output 0;" in capsys.readouterr().out
    model.classes_ = np.array([1.0, 2.0])  # labels 1 and 2 of a data file, read as floats
    _print_explanation(model)
    assert "(class 2 where d > 0, else class 1;" in capsys.readouterr().out


def test_an_explanation_says_when_its_formula_follows_the_network_only_loosely(data, capsys):
    """A formula of domain R2 0.29 was printed like one of 0.9999, its figure in a list on the line above: the
    console now says to read it as a sketch, and only then."""
    from srnet.cli import _print_explanation

    X, _ = data
    hard = _fit(MLPRegressor(hidden_layer_sizes=(8,), activation="tanh", max_iter=300, random_state=0), X,
                np.sin(3 * X[:, 0]) * np.cos(X[:, 1]) + 0.1 * X[:, 1])
    near = np.random.default_rng(0).normal(size=(120, 2))
    close = _fit(MLPRegressor(hidden_layer_sizes=(5,), activation="tanh", solver="lbfgs", max_iter=500,
                              random_state=0), near, np.sin(near[:, 0]) + 0.5 * near[:, 1])
    for network, inputs, generations in ((hard, X, 1), (close, near, 50)):
        with warnings.catch_warnings(record=True) as caught:  # fit says so too, for the Python user
            warnings.simplefilter("always")
            model = SRNet(**{**QUICK, "max_generations": generations}).fit(network, inputs)
        loose = [str(w.message) for w in caught if "follows the network only loosely" in str(w.message)]
        r2, rows = model.regions_["domain"]["r2"], model.regions_["rows"]["r2"]
        assert (r2 < 0.9) == (network is hard), r2  # one fit of each kind
        on_rows = f"; R2 {rows:.6f} on the rows" if rows < 0.9 else ""
        assert loose == ([f"the selected formula follows the network only loosely on the domain (R2 {r2:.6f}"
                          f"{on_rows}): read it as a sketch; pareto_ holds the best formula of each size, and a longer search "
                          f"(max_seconds) may do better"] if r2 < 0.9 else []), (r2, loose)
        assert all(w.filename == __file__ for w in caught if "loosely" in str(w.message))  # the user's line
        _print_explanation(model)
        printed, r2 = capsys.readouterr().out, model.regions_["domain"]["r2"]
        warned = f"warning: the formula follows the network only loosely on the domain (R2 {r2:.6f})" in printed
        assert warned == (r2 < 0.9), (r2, printed)
    assert not warned  # the second fit is close: both ways ran


@pytest.mark.parametrize("classifier", [False, True])
def test_a_loose_formula_s_advice_names_the_front_s_formula_that_is_not_loose(classifier):
    """A search cut short headlined a linear map of R2 0.16 beside a 604-node formula of 0.988 and advised a
    longer search: the advice names that formula (pole-free, the most faithful on the domain, 0.9 at least), and
    a longer search only where the front has none."""
    from types import SimpleNamespace

    from srnet.cli import _closer_formula

    key = "agreement" if classifier else "r2"

    def entry(nodes, figure, poles=()):
        return {"complexity": nodes, "singularities": list(poles), "figures": {"domain": {key: figure}}}

    front = [entry(11, 0.16), entry(60, 0.89), entry(300, 0.95, ["a pole"]), entry(604, 0.988), entry(900, 0.93)]
    shown = "class agreement 98.8 %" if classifier else "R2 0.988000"
    fine = {"singularities": []}
    assert _closer_formula(SimpleNamespace(pareto_=front, selected_=fine), classifier) == (
        f"the front below has one of 604 nodes at {shown} on the domain: --complexity 604")
    loose = [entry(11, 0.16), entry(60, 0.89), entry(300, 0.95, ["a pole"]), entry(70, None)]
    assert _closer_formula(SimpleNamespace(pareto_=loose, selected_=fine), classifier) == (
        "a longer search (--seconds) may do better")
    # a selected formula with a pole says so (a 12-row network's, R2 -1e4 on the domain, was sent to search longer)
    assert _closer_formula(SimpleNamespace(pareto_=front, selected_={"singularities": ["a pole"]}), classifier) == (
        f"it has a pole inside the domain (see its singularities); the front below has one of 604 nodes at {shown} "
        f"on the domain: --complexity 604")


def test_fit_takes_the_classes_a_torch_classifier_cannot_name(data):
    """A torch classifier knows no labels: classes= gives them at fit (they were set on the model afterwards), and
    a count other than the outputs' is one line."""
    X, y = data
    torch.manual_seed(0)
    network = torch.nn.Sequential(torch.nn.Linear(X.shape[1], 4), torch.nn.Tanh(), torch.nn.Linear(4, 2),
                                  torch.nn.Softmax(dim=1))
    model = SRNet(**QUICK).fit(network, X, classes=["no", "yes"])
    index = probe(network, X)[-1].argmax(axis=1)
    assert list(model.classes_) == ["no", "yes"]
    assert np.mean(model.predict_class(X) == np.array(["no", "yes"])[index]) == model.agreement_
    with pytest.raises(ValueError, match=r"^3 class labels for the network's 2 outputs$"):
        SRNet(**QUICK).fit(network, X, classes=[0, 1, 2])
    with pytest.raises(ValueError, match=r"^classes= names a classifier's outputs; this network is not one .*"
                                         r"fit nn\.Sequential\(model, nn\.Softmax\(dim=1\)\)$"):
        SRNet(**QUICK).fit(network[:3], X, classes=["no", "yes"])
    # the advice taken: a CrossEntropyLoss network of raw logits, wrapped, is explained as a classifier
    wrapped = SRNet(**QUICK).fit(torch.nn.Sequential(network[:3], torch.nn.Softmax(dim=1)), X, classes=["no", "yes"])
    assert wrapped.is_classifier_ and list(wrapped.classes_) == ["no", "yes"]


def test_the_loose_warning_gives_the_rows_figure_where_that_is_loose_too():
    """A 20-row linnerud network's formula of domain R2 0.64 had R2 -0.69 on the rows (worse than a constant): the
    warning quoted the domain's figure alone."""
    from srnet.extract import _warn_if_loose

    with pytest.warns(UserWarning, match=r"loosely on the domain \(R2 0\.637425; R2 -0\.686000 on the rows\): "):
        _warn_if_loose({"domain": {"r2": 0.637425}, "rows": {"r2": -0.686}}, classification=False, pareto=[],
                       singular=False)
    with pytest.warns(UserWarning, match=r"loosely on the domain \(class agreement 80\.0 %\): "):
        _warn_if_loose({"domain": {"agreement": 0.8}, "rows": {"agreement": 0.95}}, classification=True, pareto=[],
                       singular=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _warn_if_loose({"domain": {"r2": 0.95}, "rows": {"r2": 0.2}}, classification=False, pareto=[],
                       singular=False)  # the domain decides
    # a pole, and the front's closer pole-free formula, named (a 12-row network's formula of domain R2 -1e4,
    # a pole inside the domain, was told that a longer search may do better)
    front = [{"complexity": 12, "singularities": [], "figures": {"domain": {"r2": 0.93}}},
             {"complexity": 30, "singularities": ["a pole"], "figures": {"domain": {"r2": -1e4}}}]
    with pytest.warns(UserWarning) as caught:
        _warn_if_loose({"domain": {"r2": -1e4}, "rows": {"r2": 0.95}}, classification=False, pareto=front,
                       singular=True)
    assert str(caught[0].message) == (
        "the selected formula follows the network only loosely on the domain (R2 -1e+04): read it as a sketch; "
        "it has a pole inside the domain (singularities_); pareto_ holds a pole-free one of 12 nodes at R2 0.930000 "
        "on the domain: select=12")


def test_explain_names_a_torch_classifier_s_classes_from_the_data_s_labels(tmp_path, capsys):
    """The command printed "class 1 where d > 0, else class 0" for labels 1 and 2 (label 1 is where d < 0)."""
    torch.manual_seed(0)
    X = np.random.default_rng(0).uniform(-1, 1, (80, 2))
    labels = np.where(X[:, 0] + X[:, 1] > 0, 2, 1)
    net = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2), nn.Softmax(dim=-1))
    with torch.no_grad():
        net[2].weight.copy_(torch.tensor([[-1.0, -1.0, -1.0, -1.0], [1.0, 1.0, 1.0, 1.0]]))
        net[0].weight.copy_(torch.tensor([[1.0, 1.0]] * 4))
        net[0].bias.zero_()
    torch.save(net.state_dict(), tmp_path / "net.pt")
    np.savetxt(tmp_path / "data.csv", np.column_stack([X, labels]), delimiter=",", header="a,b,label", comments="")
    assert main(["explain", str(tmp_path / "net.pt"), "--arch", "mlp:2-4-2:tanh:softmax", "--data",
                 str(tmp_path / "data.csv"), "--target", "last", "--out", str(tmp_path / "out"),
                 "--generations", "5", "--seed", "0"]) == 0
    assert "(class 2 where d > 0, else class 1;" in capsys.readouterr().out


def test_a_scaler_pipeline_is_folded_so_formulas_read_raw_features(data):
    X, y = data
    shifted = 3.0 + 2.0 * X  # off-centre: with_mean=False must not subtract the (still fitted) mean
    for scaler in (StandardScaler(), MinMaxScaler(), StandardScaler(with_mean=False), StandardScaler(with_std=False)):
        pipeline = _fit(make_pipeline(scaler, MLPRegressor(hidden_layer_sizes=(4,), max_iter=50, random_state=0)),
                        shifted, y)
        for rows in (shifted, 3 * shifted):  # beyond the fitted range too
            np.testing.assert_allclose(_outputs(from_sklearn(pipeline), rows)[:, 0], pipeline.predict(rows),
                                       atol=1e-10)
        plan = plan_layers(pipeline)
        assert plan.names == ("fc1", "fc2") and plan.folded == ("scaler",)
    clipping = _fit(make_pipeline(MinMaxScaler(clip=True), MLPRegressor(hidden_layer_sizes=(4,), max_iter=50,
                                                                        random_state=0)), X, y)
    with pytest.raises(ValueError, match=r"does not convert MinMaxScaler\(clip=True\)"):
        from_sklearn(clipping)


def test_sklearn_feature_names_are_the_default_names(data):
    X, y = data
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    mlp = _fit(MLPRegressor(hidden_layer_sizes=(4,), max_iter=20, random_state=0), frame, y)
    model = SRNet(**QUICK).fit(mlp, X)
    assert model.feature_names_ == ["a", "b", "c"]
    # those names are checked at predict as a DataFrame's would be (reordered columns gave other numbers)
    with pytest.raises(ValueError, match=r"^X's columns are in another order than those SRNet was fitted on"):
        model.predict(frame[["c", "b", "a"]])
    np.testing.assert_array_equal(model.predict(frame), model.predict(X))
    # and a DataFrame of the model's features in another order is refused at fit: the network would read
    # c as a (it explained the scrambled network, its formula named wrongly)
    with pytest.raises(ValueError, match=r"^X's columns are in another order than the features the model was "
                                         r"fitted on \(\['a', 'b', 'c'\]\); pass X\[model.feature_names_in_\]$"):
        SRNet(**QUICK).fit(mlp, frame[["c", "b", "a"]])


def test_anything_else_is_refused_in_one_line_naming_what_is_accepted(data):
    X, _ = data
    accepted = r"torch module.*TorchScript.*state_dict.*MLPRegressor/MLPClassifier.*SRNet\.fit_activations"
    for thing in (object(), np.zeros((3, 3)), lambda x: x):
        with pytest.raises(TypeError, match=accepted) as caught:
            SRNet(**QUICK).fit(thing, X)
        assert "\n" not in str(caught.value)
    with pytest.raises(TypeError, match=r"^got a state_dict, which needs its architecture"):
        plan_layers(nn.Linear(3, 1).state_dict())
    with pytest.raises(TypeError, match=r"^got a path .*load_network"):
        probe("net.pt", X)
    with pytest.raises(ValueError, match=r"^this MLPRegressor is not fitted yet"):
        as_network(MLPRegressor())


# --- preprocessing inside the network ------------------------------------------------


def _standardised_net():
    torch.manual_seed(0)
    mean, scale = torch.tensor([0.0, 3.0, -2.0], dtype=torch.float64), torch.tensor([1.0, 4.0, 10.0], dtype=torch.float64)
    net = nn.Sequential(Scale(shift=mean, divisor=scale), nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1)).double()
    folded = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1)).double()
    with torch.no_grad():  # by hand: W ((x - m) / s) + b = (W / s) x + (b - W (m / s))
        weight, bias = net[1].weight, net[1].bias
        folded[0].weight.copy_(weight / scale)
        folded[0].bias.copy_(bias - weight @ (mean / scale))
        folded[2].load_state_dict(net[3].state_dict())
    return net, folded


def test_a_standardisation_module_is_folded_not_explained(data):
    X, _ = data
    net, folded = _standardised_net()
    plan = plan_layers(net)
    assert plan.names == ("2", "3") and plan.folded == ("0",) and plan.n_features == 3
    assert plan_layers(folded).names == ("1", "2")
    # the first explained layer reads the raw features: tanh(W (x - m) / s + b) of X itself
    hidden, output = probe(net, X)
    weight, bias = (p.detach().numpy() for p in (net[1].weight, net[1].bias))
    np.testing.assert_allclose(hidden, np.tanh(((X - [0.0, 3.0, -2.0]) / [1.0, 4.0, 10.0]) @ weight.T + bias),
                               rtol=0, atol=1e-12)
    for ours, by_hand in zip(probe(net, X), probe(folded, X)):
        np.testing.assert_allclose(ours, by_hand, rtol=0, atol=1e-12)
    np.testing.assert_allclose(output, _outputs(net, X), rtol=0, atol=1e-12)
    # the explanation is the folded network's explanation
    model, reference = SRNet(**QUICK).fit(net, X), SRNet(**QUICK).fit(folded, X)
    assert len(model.programs_) == 2 and model.layer_names_ == ["2", "3"]
    # formulas that compute the same, not always the same genes: of offspring whose scores tie to the last bit,
    # the pick follows the targets' last bit, where the folded and the hand-folded networks differ
    np.testing.assert_allclose(model.layer_r2_, reference.layer_r2_, rtol=0, atol=1e-9)
    # the layer-wise chain is the same (the direct searches may part ways on outputs that differ in the last bit)
    np.testing.assert_allclose(model.predict_layers(X)[-1], reference.predict_layers(X)[-1], rtol=1e-9, atol=1e-9)
    assert {s.name for s in model.layer_expressions_[0][0].free_symbols} <= {"x0", "x1", "x2"}


def test_identity_dropout_batchnorm_and_affine_maps_fold_into_the_linear_maps(data):
    X, _ = data
    torch.manual_seed(0)
    batchnorm = nn.BatchNorm1d(4)
    with torch.no_grad():
        batchnorm.running_mean.uniform_(-1, 1)
        batchnorm.running_var.uniform_(0.5, 2)
    net = nn.Sequential(nn.Identity(), nn.Linear(3, 4), batchnorm, nn.Sigmoid(), nn.Dropout(0.3),
                        nn.Linear(4, 4), nn.Tanh(), nn.BatchNorm1d(4), nn.Linear(4, 1), nn.Identity()).double()
    net.train()  # probing runs in eval mode, where dropout and batch norm are affine
    plan = plan_layers(net)
    assert plan.names == ("3", "6", "9") and plan.folded == ("0", "2", "4", "7")  # '9' is the output, not folded
    assert net.training and all(m.training for m in net.modules())
    hidden = probe(net, X)
    net.eval()
    np.testing.assert_allclose(hidden[-1], _outputs(net, X), rtol=0, atol=1e-12)


def test_nonlinear_modules_are_not_mistaken_for_affine_ones():
    class Square(nn.Module):
        def forward(self, x):
            return x * x

    for act in (nn.ReLU(), nn.LeakyReLU(), nn.Hardtanh(), nn.Softplus(), Square()):
        assert plan_layers(nn.Sequential(nn.Linear(2, 3), act, nn.Linear(3, 1))).names == ("1", "2")


# --- names -------------------------------------------------------------------------------------


class BodyHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 4), nn.Tanh())
        self.head = nn.Linear(4, 1)

    def forward(self, x):
        return self.head(self.body(x))


def test_layers_are_named_by_their_module_path(data):
    X, _ = data
    plan = plan_layers(BodyHead())
    assert plan.names == ("body.1", "body.3", "head") and plan.widths == (4, 4, 1)
    model = SRNet(**QUICK).fit(BodyHead(), X)
    assert [layer["name"] for layer in model.report()["layers"]] == ["body.1", "body.3", "head"]


def test_dataframe_columns_become_sanitised_feature_names(data, capsys):
    X, _ = data
    frame = pd.DataFrame(X, columns=["sepal-length", "2x", "sin"])
    model = SRNet(**QUICK).fit(BodyHead(), frame)
    assert model.feature_names_ == ["sepal_length", "x2x", "sin_"]
    assert model.feature_symbols_ == {"sepal-length": "sepal_length", "2x": "x2x", "sin": "sin_"}
    from srnet.cli import _print_explanation

    _print_explanation(model)  # the console says which column each renamed symbol is (only report.json did)
    assert capsys.readouterr().out.splitlines()[0] == (
        "inputs renamed in the formulas (a symbol must read one way): sepal_length is column 'sepal-length', x2x is "
        "column '2x', sin_ is column 'sin'")
    names = {s.name for s in model.input_symbols_}
    assert names == {"sepal_length", "x2x", "sin_"}
    # the printed formula reads back as the same expression
    locals_ = {s.name: s for s in model.input_symbols_}
    assert sympy.sympify(str(model.expression_), locals=locals_).free_symbols <= set(model.input_symbols_)


def test_feature_symbols_are_identifiers_sympy_and_srnet_do_not_use():
    symbols = feature_symbols(["sepal-length", "2x", "sin", "E", "I", "x0", "x0", "", 0, "y", "h1_0", "lambda",
                               "petal width (cm)"])
    assert symbols == ["sepal_length", "x2x", "sin_", "E_", "I_", "x0", "x0_2", "x7", "x0_3", "y_", "h1_0_",
                       "lambda_", "petal_width_cm"]
    assert all(s.isidentifier() for s in symbols)
    assert feature_symbols(["a", "b_c"]) == ["a", "b_c"]
    # a renamed feature never takes the name of a feature that has it (the column a_b read as "a b")
    assert feature_symbols(["a b", "a_b"]) == ["a_b_2", "a_b"]
    assert feature_symbols(["", "x0"]) == ["x0_2", "x0"] and feature_symbols(["2x", "x2x"]) == ["x2x_2", "x2x"]
    assert feature_symbols(["x0", "x0", "x0_2"]) == ["x0", "x0_3", "x0_2"]
    # Python's built-ins and the printed d = y1 - y0 and F = ...: sympify read max*min as functions
    assert feature_symbols(["min", "max", "sum", "d", "F"]) == ["min_", "max_", "sum_", "d_", "F_"]
    # letters of other scripts are kept ("émile" read "mile", "β" read "x1"), as Python reads them (NFKC)
    assert feature_symbols(["émile", "β", "naïve value", "ℌx", "²x"]) == ["émile", "β", "naïve_value", "Hx", "x2x"]
    min_, max_ = sympy.symbols("min_ max_")
    assert sympy.sympify("2*max_*min_", locals={"min_": min_, "max_": max_}) == 2 * max_ * min_


def test_explain_command_records_the_architecture_and_the_networks_own_fit(tmp_path, data):
    X, y = data
    torch.manual_seed(0)
    X, y = X[:, :2] / [1.0, 4.0], np.sin(X[:, 0])
    net = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1)).double()
    optimiser = torch.optim.LBFGS(net.parameters(), max_iter=200)
    inputs, target = torch.from_numpy(X), torch.from_numpy(y)[:, None]

    def closure():
        optimiser.zero_grad()
        loss = ((net(inputs) - target) ** 2).mean()
        loss.backward()
        return loss

    optimiser.step(closure)
    torch.save(net.state_dict(), tmp_path / "net.pt")
    np.savetxt(tmp_path / "data.csv", np.column_stack([X, y]), delimiter=",", header="a-1,b,y", comments="")
    reports = {}
    for arch in ("mlp:2-4-1:sigmoid", "mlp:2-4-1:tanh"):
        out = tmp_path / arch.replace(":", "_")
        code = main(["explain", str(tmp_path / "net.pt"), "--data", str(tmp_path / "data.csv"), "--arch", arch,
                     "--target", "last", "--out", str(out), "--generations", "5"])
        assert code == 0
        reports[arch] = json.loads((out / "report.json").read_text())
    right, wrong = reports["mlp:2-4-1:sigmoid"], reports["mlp:2-4-1:tanh"]
    assert right["architecture"] == "mlp:2-4-1:sigmoid" and right["network_r2"] > 0.95
    assert wrong["network_r2"] < right["network_r2"] - 0.1
    assert right["feature_symbols"] == {"a-1": "a_1", "b": "b"}
    assert right["feature_names"] == ["a-1", "b"]  # the columns' own names, not the symbols (read a_1)


# --- TorchScript ---------------------------------------------------------------------------------


def test_scripting_an_expression_activation_says_to_trace_and_tracing_matches_eager():
    x = sympy.Symbol("x")
    network = nn.Sequential(nn.Linear(3, 4), ExpressionActivation.from_sympy(sympy.sin(2 * x) + x / 3, affine=True),
                            nn.Linear(4, 1)).double()
    with pytest.raises(TypeError, match=r"^ExpressionActivation cannot be compiled by torch\.jit\.script .*"
                                        r"use torch\.jit\.trace") as caught:
        torch.jit.script(network)
    assert "\n" not in str(caught.value)
    inputs = torch.randn(64, 3, dtype=torch.float64)
    traced = torch.jit.trace(network, inputs[:2])
    with torch.no_grad():
        torch.testing.assert_close(traced(inputs), network(inputs), rtol=0, atol=1e-12)


def test_each_logit_of_a_many_class_explanation_names_its_class(data, capsys):
    """y0, y1, y2 were printed with nothing saying which class each is, and report.json had no labels."""
    from srnet.cli import _print_explanation

    X, y = data
    words = np.array(["low", "mid", "high"])[np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))]
    mlp = _fit(MLPClassifier(hidden_layer_sizes=(5,), activation="tanh", max_iter=50, random_state=0), X, words)
    model = SRNet(**QUICK).fit(mlp, X)
    _print_explanation(model)
    printed = capsys.readouterr().out
    for j, label in enumerate(model.classes_):
        assert f"(class {label}'s logit; " in printed.split(f"  y{j} = ")[1].splitlines()[0]
    assert model.report()["classes"] == list(model.classes_)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet="ab_x02 E-", max_size=4), max_size=6))
def test_feature_symbols_are_unique_and_keep_every_name_that_qualifies(names):
    symbols = feature_symbols(names)
    assert len(symbols) == len(names) and len(set(symbols)) == len(symbols)
    assert all(s.isidentifier() for s in symbols)
    for j, name in enumerate(names):
        if feature_symbols([name]) == [name] and name not in names[:j]:
            assert symbols[j] == name  # a name that qualifies is never given to another feature


def test_a_compiled_module_is_explained_as_the_module_it_compiled():
    """torch.compile(model) was probed through its wrapper: layers named '_orig_mod.1', its own names ('2')
    refused, 9 s of recompiles to plan the layers. It is the same function, eager."""
    from srnet.networks import as_network

    network = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    compiled = torch.compile(network)
    assert as_network(compiled) is network
    X = np.random.default_rng(0).normal(size=(60, 2))
    model = SRNet(**QUICK).fit(compiled, X)
    assert model.layer_names_ == ["1", "2"]
    np.testing.assert_allclose(probe(compiled, X)[-1], probe(network, X)[-1])


def test_a_module_compiled_in_place_is_probed_eager_and_stays_compiled():
    """model.compile() (torch >= 2.2) was probed through its compiled call: every new batch size compiled again
    (6 s for one probe of a 17-weight network)."""
    from torch._dynamo.utils import counters

    from srnet.networks import as_network

    network = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    X = np.random.default_rng(0).normal(size=(60, 2))
    eager_values = probe(network, X)
    network.compile()
    eager = as_network(network)
    assert eager[0] is network[0] and eager[2].weight is network[2].weight  # the same layers, not a copy of them
    assert network._compiled_call_impl is not None  # the user's module is left compiled
    counters.clear()
    model = SRNet(**QUICK).fit(network, X)
    for a, b in zip(probe(network, X), eager_values):
        np.testing.assert_array_equal(a, b)
    assert sum(counters["frames"].values()) == 0  # nothing compiled on the way
    assert model.layer_names_ == ["1", "2"]


def test_a_fit_under_inference_mode_refines_its_formulas_as_any_other(data):
    """Under torch.inference_mode() refinement had no gradients: every '+refined' candidate was lost, unsaid."""
    X, y = data
    network = _fit(MLPRegressor(hidden_layer_sizes=(5,), activation="tanh", max_iter=200, random_state=0), X, y)
    with torch.inference_mode():
        inside = SRNet(**{**QUICK, "max_generations": 20}).fit(network, X)
    outside = SRNet(**{**QUICK, "max_generations": 20}).fit(network, X)
    sources = [c["source"] for c in inside.candidates_]
    assert any(source.endswith("+refined") for source in sources)
    assert sources == [c["source"] for c in outside.candidates_]


def test_a_network_whose_activations_are_functions_is_said_to_be_explained_directly():
    """A forward calling F.relu and torch.tanh between its Linears has no module that ends a layer: its
    layer-wise explanation became a direct formula of the output without a word."""
    import torch.nn.functional as F

    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2, self.out = nn.Linear(2, 8), nn.Linear(8, 8), nn.Linear(8, 1)

        def forward(self, x):
            return self.out(torch.tanh(self.fc2(F.relu(self.fc1(x)))))

    X = np.random.default_rng(0).normal(size=(60, 2))
    with pytest.warns(UserWarning, match=r"^srnet sees no layer boundary in the network \(its forward runs 3 "
                                         r"Linear modules"):
        model = SRNet(**{**QUICK, "max_generations": 5}).fit(Functional(), X)
    assert model.layer_names_ == ["out"]
    with warnings.catch_warnings(record=True) as caught:  # a network of activation modules: no such word
        warnings.simplefilter("always")
        SRNet(**{**QUICK, "max_generations": 5}).fit(nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1)), X)
    assert not [w for w in caught if "no layer boundary" in str(w.message)]

    class Unused(nn.Module):  # one Linear run, one never: a layer of its own, no boundary missed
        def __init__(self):
            super().__init__()
            self.fc, self.unused = nn.Linear(2, 1), nn.Linear(2, 2)

        def forward(self, x):
            return self.fc(x)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        SRNet(**{**QUICK, "max_generations": 5}).fit(Unused(), X)
    assert not [w for w in caught if "no layer boundary" in str(w.message)]
