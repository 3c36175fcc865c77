"""The fidelity comparison: every explainer on the same network and points."""

import numpy as np
import pytest
import sympy
import torch
from torch import nn

from srnet.compare import compare, cut_text, write_comparison
from srnet.explain import CGPDirectExplainer, Explainer, LimeExplainer, MapleExplainer, NetworkFunction, SRNetExplainer
from srnet.expr.symbolic import complexity
from srnet.train import train_mlp

FAST_SRNET = dict(max_seconds=None, srnet_params=dict(max_generations=150, n_threads=1, simplify_seconds=0))
FAST_CGP = dict(max_seconds=None, regressor_params=dict(max_generations=3000, n_threads=1, simplify_seconds=0))


class ConstantExplainer(Explainer):
    """A deliberately broken explainer: the mean of the network's answers."""

    name = "constant"

    def _fit(self, predict, X_train, Y_train, X_valid, Y_valid, rng):
        self.mean_ = Y_train.mean(axis=0)
        self.size_ = 1

    def _predict(self, X):
        return np.tile(self.mean_, (len(X), 1))


@pytest.fixture(scope="module")
def linear_network():
    net = nn.Sequential(nn.Linear(2, 1)).double()
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, 2.0]]))
        net[0].bias.fill_(0.5)
    return NetworkFunction(net)


@pytest.fixture(scope="module")
def small_network():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (200, 2))
    y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2
    net, _ = train_mlp(X, y, hidden=(5, 5), activation="sigmoid", epochs=400, random_state=0)
    return NetworkFunction(net), X


def test_every_explainer_predicts_a_linear_network_exactly(linear_network):
    X = np.random.default_rng(1).uniform(-1, 1, (120, 2))
    explainers = {"srnet": SRNetExplainer(**FAST_SRNET), "lime": LimeExplainer(num_samples=500, alpha=1e-10),
                  "maple": MapleExplainer(n_estimators=30), "cgp_direct": CGPDirectExplainer(**FAST_CGP)}
    result = compare(linear_network, X, explainers, n_points=40, random_state=0)
    for record in result.records:
        assert record["rmse"] < 1e-6, record
        assert record["rmse_around"] < 1e-6, record


def test_comparison_reports_every_metric_and_a_broken_explainer_scores_worse(small_network, tmp_path):
    network, X = small_network
    explainers = {"srnet": SRNetExplainer(**FAST_SRNET), "lime": LimeExplainer(num_samples=300),
                  "maple": MapleExplainer(n_estimators=30), "constant": ConstantExplainer()}
    result = compare(network, X, explainers, n_points=60, random_state=0)
    assert {(r["explainer"], r["domain"]) for r in result.records} == {
        (e, d) for e in explainers for d in ("interpolation", "extrapolation")}
    for r in result.records:
        for key in ("rmse", "r2", "rmse_around", "r2_around", "seconds", "size"):
            assert np.isfinite(r[key]), (r, key)
        assert r["agreement"] is None
    by = {(r["explainer"], r["domain"]): r for r in result.records}
    for name in ("srnet", "lime", "maple"):
        assert by[(name, "interpolation")]["rmse"] < by[("constant", "interpolation")]["rmse"]
        assert by[(name, "interpolation")]["r2"] > 0.9
    assert by[("constant", "interpolation")]["r2"] < 0.01
    # the formula compared is shown (it was only a size): SRNet's, rounded for reading as every explainer's is
    # (see test_a_compared_formula_keeps_the_digits_its_values_need); none for LIME and MAPLE
    shown = by[("srnet", "interpolation")]["formula"]
    assert shown == [str(e) for e in explainers["srnet"].readable_formulas_]
    assert by[("srnet", "interpolation")]["size"] == sum(complexity(e) for e in explainers["srnet"].readable_formulas_)
    # (a long one cut, pointing to where it is whole)
    assert by[("lime", "interpolation")]["formula"] is None
    assert f"  srnet: {cut_text(shown[0], see='compare.json')}" in result.table(written_to="compare.json")
    written = write_comparison(result, network, tmp_path)
    assert {p.name for p in written} == {"compare.json", "compare.csv", "fidelity.png", "explainers.png"}
    assert (tmp_path / "compare.csv").read_text().count("\n") == 1 + len(result.records)


def test_formulas_compared_are_printed_in_the_features_names(linear_network):
    """`srnet compare` printed cgp_direct's formula in x0, x1 where `srnet explain` prints q1, q2."""
    X = np.random.default_rng(1).uniform(-1, 1, (120, 2))
    result = compare(linear_network, X, {"cgp_direct": CGPDirectExplainer(**FAST_CGP)}, n_points=40,
                     random_state=0, feature_names=["charge q1", "r"])
    (shown,) = result.records[0]["formula"]
    assert "charge_q1" in shown and "r" in shown and "x0" not in shown and "x1" not in shown, shown
    plain = compare(linear_network, X, {"cgp_direct": CGPDirectExplainer(**FAST_CGP)}, n_points=40, random_state=0)
    assert plain.records[0]["formula"][0] == shown.replace("charge_q1", "x0").replace("r", "x1")


def test_a_compared_formulas_intercept_is_judged_by_the_values_on_the_data():
    """An intercept tiny beside the coefficients but not beside the formula's values on the data (inputs in
    SI units: charges ~ 1e-19) is no round-off: the formula shown keeps it (it dropped the 0.5)."""
    from types import SimpleNamespace

    import sympy

    from srnet.compare import _formula_text
    from srnet.explain.formulas import readable_formulas

    x0 = sympy.Symbol("x0", real=True)
    formulas = [sympy.Float(1.2e19) * x0 + sympy.Float(0.5)]
    X = np.random.default_rng(0).uniform(1e-19, 3e-19, (50, 1))
    assert _formula_text(SimpleNamespace(readable_formulas_=readable_formulas(formulas, X)[0]), ["q"]) == [
        "1.2e+19*q + 1/2"]
    # without data: the coefficients' judgement alone
    assert _formula_text(SimpleNamespace(readable_formulas_=readable_formulas(formulas)[0]), ["q"]) == ["1.2e+19*q"]


def test_a_compared_formula_keeps_the_digits_its_values_need():
    """Terms that nearly cancel at the data (0.12345678*year - 246.9 for years in [1900, 2100]) lose their
    difference to rounding each constant to 4 digits: the comparison printed 0.1235*year - 2469/10, R2 0.986
    against the formula it scored.  It is read as srnet's own formulas are, with the digits that keep it
    within 1e-3 of its spread there (values by NumPy)."""
    import sympy

    from srnet.explain.formulas import readable_formulas

    x0 = sympy.Symbol("x0", real=True)
    X = np.random.default_rng(0).uniform(1900, 2100, (50, 1))
    (read,), definitions = readable_formulas([sympy.Float(0.12345678) * x0 - sympy.Float(246.9)], X)
    exact = 0.12345678 * X[:, 0] - 246.9
    shown = sympy.lambdify(x0, read, "numpy")(X[:, 0])
    assert np.max(np.abs(shown - exact)) <= 1e-3 * np.std(exact)
    assert str(read) == "0.12346*x0 - 246.9" and definitions == {}  # 5 digits, the first that keep it; no z


def test_a_compared_formula_writes_an_input_far_from_zero_as_its_standardised_form():
    """Years in [1990, 2010] lie 340 spreads from 0: in their own units each constant needs digits for the
    offset (``0.123457*x0 - 246.9``, and X-Net's formula of 3*exp(-0.14*(year - 2000)) read
    1.201e+122*exp(-0.14*year)).  The comparison writes them as z, defined beside, as SRNet's formulas do."""
    import sympy

    from srnet.explain.formulas import readable_formulas

    x0 = sympy.Symbol("x0", real=True)
    X = np.random.default_rng(0).uniform(1990, 2010, (50, 1))
    formulas = [sympy.Float(0.12345678) * x0 - sympy.Float(246.9), 1 + sympy.Float(1.2e122) * sympy.exp(-0.14 * x0)]
    read, written = readable_formulas(formulas, X)
    assert {x.name: (z.name, centre, scale) for x, (z, centre, scale) in written.items()} == {
        "x0": ("z_x0", 2000.54, 5.83)}
    assert [str(f) for f in read] == ["0.7198*z_x0 + 0.08023", "1 + 2.779*exp(-0.8162*z_x0)"]
    z = (X[:, 0] - 2000.54) / 5.83
    z_x0 = sympy.Symbol("z_x0", real=True)
    for formula, shown in zip(formulas, read):
        exact = sympy.lambdify(x0, formula, "numpy")(X[:, 0])
        assert np.max(np.abs(sympy.lambdify(z_x0, shown, "numpy")(z) - exact)) <= 1e-3 * np.std(exact)


def test_classifiers_are_compared_on_agreement():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(240, 2))
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    net, _ = train_mlp(X, y, hidden=(4,), activation="sigmoid", task="classification", epochs=200,
                       random_state=0)
    network = NetworkFunction(nn.Sequential(*net, nn.Softmax(dim=1)))
    result = compare(network, X, {"maple": MapleExplainer(n_estimators=30), "constant": ConstantExplainer(),
                                  "srnet": SRNetExplainer(**FAST_SRNET)}, random_state=0)
    by = {(r["explainer"], r["domain"]): r for r in result.records}
    assert by[("srnet", "test")]["agreement"] >= 0.9 and by[("maple", "test")]["agreement"] >= 0.9
    assert by[("constant", "test")]["agreement"] < by[("maple", "test")]["agreement"]
    # a two-class formula is shown as it is counted: its logit difference d once (both logits were shown, -d/2
    # and d/2, beside a size that counts d)
    (shown,) = by[("srnet", "test")]["formula"]
    assert shown.startswith("d = y1 - y0 = ") and "y0 =" not in shown[len("d = y1 - y0 = "):]

    assert complexity(sympy.sympify(shown[len("d = y1 - y0 = "):])) == by[("srnet", "test")]["size"]


def test_compare_refuses_a_box_name_it_does_not_know():
    """boxes={'tset': ...} (a typo of 'test') was silently ignored: the default test box was used."""
    network = NetworkFunction(nn.Sequential(nn.Linear(2, 1)).double())
    X = np.random.default_rng(1).uniform(-1, 1, (40, 2))
    with pytest.raises(ValueError, match="tset"):
        compare(network, X, {"c": ConstantExplainer()}, n_points=10, random_state=0,
                boxes={"tset": [(-9, 9), (-9, 9)]})


def test_compare_refuses_feature_names_of_another_length():
    network = NetworkFunction(nn.Sequential(nn.Linear(2, 1)).double())
    X = np.random.default_rng(1).uniform(-1, 1, (40, 2))
    with pytest.raises(ValueError, match="3 feature names for a network of 2 inputs"):
        compare(network, X, {"c": ConstantExplainer()}, n_points=10, random_state=0, feature_names=["a", "b", "c"])


def test_bad_input_is_rejected_clearly(small_network, linear_network):
    network, X = small_network
    with pytest.raises(ValueError, match="X_train has 3 columns but the network expects 2"):
        compare(network, np.zeros((10, 3)), {"c": ConstantExplainer()})
    with pytest.raises(ValueError, match="regression network .* but task='classification'"):
        compare(network, X, {"c": ConstantExplainer()}, task="classification")
    with pytest.raises(ValueError, match="the test box is inverted along input 1"):
        compare(network, X, {"c": ConstantExplainer()}, boxes={"test": [(-1, 1), (2, 1)]})
    with pytest.raises(ValueError, match="the test box is too wide along input 0"):
        compare(network, X, {"c": ConstantExplainer()}, boxes={"test": [(-1e308, 1e308), (0, 1)]})
    with pytest.raises(ValueError, match=r"n_points must be >= 2 \(R\^2 needs two points\), got 1"):
        compare(network, X, {"c": ConstantExplainer()}, n_points=1)
    with pytest.raises(ValueError, match=r"training box has shape \(1, 2\)"):
        compare(network, X, {"c": ConstantExplainer()}, boxes={"training": [(-1, 1)]})
    explainer = ConstantExplainer().fit(network, X)
    with pytest.raises(ValueError, match="X has 3 columns but the explainer was fitted on 2"):
        explainer.predict(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="SRNet explains a torch network layer by layer"):
        SRNetExplainer(**FAST_SRNET).fit(lambda Z: Z.sum(axis=1), X)


def test_a_classifier_with_a_constant_logit_is_explained_by_its_value():
    """A saturated logit (the paper's breast network) has no formula to find: cgp_direct keeps its value
    and still fits the logit that varies, instead of refusing the whole network."""
    net = nn.Sequential(nn.Linear(2, 2), nn.Softmax(dim=1)).double()
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[0.0, 0.0], [1.0, -2.0]]))
        net[0].bias.copy_(torch.tensor([0.3, 0.0]))
    network = NetworkFunction(net)
    X = np.random.default_rng(2).uniform(-1, 1, (150, 2))
    explainer = CGPDirectExplainer(**FAST_CGP).fit(network, X, task="classification", random_state=0)
    assert explainer.constant_.tolist() == [True, False]
    np.testing.assert_allclose(explainer.predict(X), network(X), atol=1e-6)


def test_an_explainers_figures_do_not_depend_on_the_others_in_the_run(small_network):
    """Each explainer's seed was the next draw of one generator: MAPLE alone and MAPLE after LIME were fitted
    with different seeds (and SRNet's formula changed when LIME joined a run)."""
    network, X = small_network
    alone = compare(network, X, {"maple": MapleExplainer(n_estimators=20)}, n_points=30, random_state=3)
    beside = compare(network, X, {"lime": LimeExplainer(num_samples=100), "maple": MapleExplainer(n_estimators=20)},
                     n_points=30, random_state=3)
    maple = [r for r in beside.records if r["explainer"] == "maple"]
    assert [r["rmse"] for r in alone.records] == [r["rmse"] for r in maple]
    assert [r["rmse_around"] for r in alone.records] == [r["rmse_around"] for r in maple]


def test_srnet_params_may_set_the_budget_and_seed_as_regressor_params_do(small_network):
    """SRNetExplainer(srnet_params={"max_seconds": None, ...}) was a TypeError (max_seconds given twice)."""
    network, X = small_network
    explainer = SRNetExplainer(srnet_params=dict(max_seconds=None, max_generations=10, random_state=5, n_threads=1,
                                                 simplify_seconds=0))
    explainer.fit(network, X, random_state=0)
    assert explainer.model_.max_seconds is None and explainer.model_.random_state == 5
    assert explainer.model_.n_generations_ <= 10 * 2  # the generation budget ran, not 10 s


def _untrained_classifier(n_inputs):
    torch.manual_seed(0)
    return NetworkFunction(nn.Sequential(nn.Linear(n_inputs, 4), nn.Tanh(), nn.Linear(4, 2), nn.Softmax(dim=1)))


def test_a_classifier_comparison_refuses_too_few_rows_to_split_and_a_one_row_test_set(tmp_path):
    network = _untrained_classifier(2)
    X = np.random.default_rng(0).normal(size=(12, 2))
    # 12 rows passed the row check, then 9 were left and SRNet named a count the user never gave
    with pytest.raises(ValueError, match=r"the data have 12 rows; with a quarter held out as test rows, 9 are left"):
        compare(network, X, {"c": ConstantExplainer()}, random_state=0)
    with pytest.raises(ValueError, match=r"X_test must have >= 2 rows \(R\^2 needs two points\), got 1"):
        compare(network, X, {"c": ConstantExplainer()}, X_test=X[:1], random_state=0)


def test_a_one_input_classifiers_comparison_is_written_and_an_empty_one_refused(tmp_path):
    network = _untrained_classifier(1)
    X = np.random.default_rng(0).normal(size=(40, 1))
    result = compare(network, X, {"maple": MapleExplainer(n_estimators=10)}, random_state=0)
    (tmp_path / "explainers.png").write_text("a regression comparison's, written here before")
    written = write_comparison(result, network, tmp_path)  # the decision map unpacked two inputs of one
    assert {p.name for p in written} == {"compare.json", "compare.csv", "fidelity.png"}
    assert not (tmp_path / "explainers.png").exists()  # it stayed beside this comparison's report
    result.records.clear()
    with pytest.raises(ValueError, match="no records"):
        write_comparison(result, network, tmp_path / "empty")


def test_a_regression_comparison_measures_the_test_rows_it_is_given(small_network):
    """X_test was ignored for regression without a word: its rows are now the domain "test", measured (an oracle
    RMSE of the explainer's predictions against the network's there) and never shown to an explainer."""
    network, X = small_network
    X_test = np.random.default_rng(7).uniform(-1.2, 1.2, (30, 2))
    result = compare(network, X, {"constant": ConstantExplainer()}, X_test=X_test, n_points=40, random_state=0)
    by = {r["domain"]: r for r in result.records}
    assert set(by) == {"interpolation", "extrapolation", "test"}
    explainer = result.explainers["constant"]
    expected = np.sqrt(np.mean((explainer.predict(X_test) - network(X_test)) ** 2))
    assert by["test"]["rmse"] == pytest.approx(expected, rel=1e-9)
    with pytest.raises(ValueError, match="X_test has 3 columns but the network expects 2"):
        compare(network, X, {"constant": ConstantExplainer()}, X_test=np.zeros((5, 3)), n_points=40)


def test_a_data_frame_in_another_column_order_is_refused_and_its_names_name_the_formulas():
    """compare() and the explainers took a DataFrame whose columns were in another order than the model's in
    silence (MAPLE fitted on [a, b, c] predicted [c, a, b] as if it were [a, b, c]), where SRNet refuses it;
    and the formulas read x0, x1, x2 where SRNet.fit read the columns' names."""
    import pandas as pd
    from sklearn.neural_network import MLPRegressor

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.uniform(-1, 1, (120, 3)), columns=["a", "b", "c"])
    mlp = MLPRegressor(hidden_layer_sizes=(8,), activation="tanh", max_iter=200, random_state=0).fit(
        frame, 2 * frame.a + np.sin(3 * frame.c))
    reordered = frame[["c", "a", "b"]]
    with pytest.raises(ValueError, match=r"^X's columns are in another order than the features the model was"):
        compare(mlp, reordered, {"maple": MapleExplainer()})
    maple = MapleExplainer().fit(mlp, frame, random_state=0)
    assert maple.feature_names_in_.tolist() == ["a", "b", "c"]
    with pytest.raises(ValueError, match=r"^X's columns are in another order than those the explainer was fitted"):
        maple.predict(reordered)
    np.testing.assert_array_equal(maple.predict(frame), maple.predict(frame.to_numpy()))
    # on an array, the model's names (a DataFrame in another order is refused at predict all the same)
    assert MapleExplainer().fit(mlp, frame.to_numpy(), random_state=0).feature_names_in_.tolist() == ["a", "b", "c"]
    comparison = compare(mlp, frame, {"cgp_direct": CGPDirectExplainer(max_seconds=None,
                                                                       regressor_params={"max_generations": 50})},
                         n_points=50, random_state=0)
    formula = comparison.records[0]["formula"][0]
    assert "x0" not in formula and {"a", "c"} & {s.name for s in sympy.sympify(formula).free_symbols}


def test_srnet_s_domain_beside_the_other_explainers_is_the_box_they_learn_from():
    """SRNet's own default widened the learning points' box 1.2-fold: in a comparison it fitted and selected on
    network-labelled points no other explainer saw, most of the way to the test box."""
    from srnet.explain.formulas import _compared_domain

    rng = np.random.default_rng(0)
    assert _compared_domain(rng.uniform(-1, 1, (200, 2))) == "widen:1"
    factor = rng.normal(size=(300, 1))  # twelve inputs sharing one factor: SRNet's default jitters the rows
    assert _compared_domain(factor + 0.1 * rng.normal(size=(300, 12))) == "jitter:0.1"
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(1, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    X = np.linspace(-1, 1, 60)[:, None]
    quick = {"max_generations": 5, "max_seconds": None, "n_threads": 1}
    compared = SRNetExplainer(max_seconds=None, srnet_params=quick).fit(NetworkFunction(net), X, random_state=0)
    assert compared.model_.domain == "widen:1" and compared.model_.domain_["box"] == [[-1.0, 1.0]]
    own = SRNetExplainer(max_seconds=None, srnet_params={**quick, "domain": "auto"}).fit(NetworkFunction(net), X,
                                                                                         random_state=0)
    assert own.model_.domain == "auto"  # the user's choice, when given, stands



def test_a_one_logit_classifier_is_compared_by_its_one_formula_d():
    """A one-logit binary classifier explains as the logits (0, z): a direct regression (cgp_direct; gplearn
    and pyoperon where installed) shows and counts the one formula that decides, d = y1 - y0 (it printed
    "0; formula" and counted the constant's node), and that formula is the network's class-1 logit."""
    from srnet.explain.formulas import GplearnExplainer, PyoperonExplainer, gplearn_available, pyoperon_available
    from srnet.expr.symbolic import make_symbols
    from srnet.networks import binary_classifier

    torch.manual_seed(0)
    X = np.random.default_rng(3).normal(size=(200, 2))
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)).double()
    network = NetworkFunction(binary_classifier(model))
    explainers = {"cgp_direct": CGPDirectExplainer(**FAST_CGP)}
    if gplearn_available():
        explainers["gplearn"] = GplearnExplainer(population_size=200, generations=5)
    if pyoperon_available():
        explainers["pyoperon"] = PyoperonExplainer(max_seconds=None, max_generations=20, n_threads=1)
    result = compare(network, X, explainers, n_points=60, random_state=0)
    for name, explainer in result.explainers.items():
        record = next(r for r in result.records if r["explainer"] == name and r["domain"] == "test")
        (shown,) = record["formula"]
        assert shown.startswith("d = y1 - y0 = ") and ";" not in shown, shown
        assert explainer.is_decision_ and len(explainer.formulas_) == 1
        assert record["size"] == complexity(explainer.readable_formulas_[0])  # d's nodes alone
        d = np.broadcast_to(sympy.lambdify(make_symbols(2), explainer.formulas_[0], "numpy")(X[:, 0], X[:, 1]),
                            len(X))
        probabilities = explainer.predict(X)
        np.testing.assert_allclose(d, np.log(probabilities[:, 1] / probabilities[:, 0]), atol=1e-6)  # what it predicts
    d = sympy.lambdify(make_symbols(2), result.explainers["cgp_direct"].formulas_[0], "numpy")(X[:, 0], X[:, 1])
    # the class-1 logit, class 0's being 0 (a short search's d: above 0.99 until a fresh environment's packages
    # of 2026-12-06 gave 0.986 on the same seed; minus the logit, or class 0's constant 0, would read -1 or nothing)
    assert np.corrcoef(d, network.logits(X)[:, 1])[0, 1] > 0.97
    # the printout says what d is to a user who knows one logit z
    assert "d = y1 - y0: the logit difference that decides the class" in result.table()
    assert "so d is z" in result.table()
    # a network of two varying logits keeps both formulas
    two = NetworkFunction(nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 2), nn.Softmax(dim=1)).double())
    both = compare(two, X, {"cgp_direct": CGPDirectExplainer(**FAST_CGP)}, n_points=60, random_state=0)
    assert not both.explainers["cgp_direct"].is_decision_
    assert len(next(r for r in both.records if r["domain"] == "test")["formula"]) == 2
    assert "d = y1 - y0:" not in both.table()


def test_the_map_s_second_input_is_not_a_copy_of_the_first():
    """Standardised inputs all have a spread near 1, and the map took two near-copies (breast cancer's area
    and radius, r = 0.99): its slice lay on a thin diagonal of the data.  The second input is the most varied
    once its correlation with the first is discounted."""
    from srnet.compare import most_varied_inputs

    rng = np.random.default_rng(0)
    a = rng.normal(size=500)
    X = np.column_stack([a, a + 0.01 * rng.normal(size=500), rng.normal(size=500), 5 + 0.1 * rng.normal(size=500)])
    first, second = most_varied_inputs(X)
    assert {first, second} == {0, 2} or {first, second} == {1, 2}
    assert most_varied_inputs(np.column_stack([a, 3 + 0 * a, rng.normal(size=500)]))[1] == 2  # (a constant: r NaN)
