"""SRNet: layer-wise explanation of trained networks, composition, reports."""

import json

import numpy as np
import pytest
import sympy
import torch
from torch import nn

from srnet.cgp.evolve import seed_from
from srnet.cli import main
from srnet.expr.symbolic import evaluate_sympy
from srnet.extract import HELD_OUT_MAX, HELD_OUT_MIN, SRNet, held_out_rows, searched_rows
from srnet.metrics import rmse_r2
from srnet.train import train_mlp

QUICK = dict(max_seconds=None, simplify_seconds=0, random_state=0, n_threads=1)


def hand_set_network():
    """y = sigmoid(x + 1) - 3 sigmoid(x) + 0.5, exactly representable by CGP."""
    net = nn.Sequential(nn.Linear(1, 2), nn.Sigmoid(), nn.Linear(2, 1)).double()
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0], [1.0]]))
        net[0].bias.copy_(torch.tensor([1.0, 0.0]))
        net[2].weight.copy_(torch.tensor([[1.0, -3.0]]))
        net[2].bias.copy_(torch.tensor([0.5]))
    return net


@pytest.fixture(scope="module")
def small_regression():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (150, 2))
    y = np.sin(X[:, 0]) + X[:, 0] * X[:, 1]
    net, _ = train_mlp(X, y, hidden=(4, 4), activation="sigmoid", epochs=300, random_state=0)
    return net, X


def test_a_network_with_a_known_formula_is_recovered():
    X = np.linspace(-3, 3, 120)[:, None]
    model = SRNet(functions=("add", "mul", "sigmoid"), n_outputs=2, n_columns=6, constant_pool=(1.0,),
                  max_generations=1500, **QUICK).fit(hand_set_network(), X, feature_names=["x"])
    assert model.fitness_ < 1e-12
    # recovered: the formula is the network's function, so it agrees far outside the data too
    wide = np.linspace(-12, 12, 41)[:, None]
    truth = 1 / (1 + np.exp(-wide[:, 0] - 1)) - 3 / (1 + np.exp(-wide[:, 0])) + 0.5
    np.testing.assert_allclose(evaluate_sympy(model.expression_, model.input_symbols_, wide), truth, atol=1e-7)


def test_composed_formula_equals_predict_and_the_chained_layer_formulas(small_regression):
    net, X = small_regression
    model = SRNet(max_generations=300, **QUICK).fit(net, X)
    rows = X[:6]
    composed = evaluate_sympy(model.expression_, model.input_symbols_, rows)
    np.testing.assert_allclose(composed, model.predict(rows), rtol=1e-9, atol=1e-9)
    # chain the per-layer formulas by hand: layer k reads layer k-1's values
    values = rows
    for k, expressions in enumerate(model.layer_expressions_):
        symbols = model.input_symbols_ if k == 0 else [sympy.Symbol(f"h{k}_{j}", real=True)
                                                       for j in range(values.shape[1])]
        values = np.column_stack([evaluate_sympy(e, symbols, values) for e in expressions])
    np.testing.assert_allclose(values[:, 0], model.predict_layers(rows)[-1][:, 0], rtol=1e-9, atol=1e-9)
    layerwise = evaluate_sympy(model.layerwise_expression_, model.input_symbols_, rows)
    np.testing.assert_allclose(layerwise, values[:, 0], rtol=1e-9, atol=1e-9)
    layers = model.predict_layers(X)
    assert [a.shape for a in layers] == [(150, 4), (150, 4), (150, 1)]


def test_same_seed_same_explanation_and_the_fit_beats_a_constant(small_regression):
    net, X = small_regression
    a = SRNet(max_generations=200, **QUICK).fit(net, X)
    b = SRNet(max_generations=200, **QUICK).fit(net, X)
    assert a.fitness_ == b.fitness_ and str(a.expression_) == str(b.expression_)
    assert a.output_r2_ > 0.9 and all(r2 > 0.5 for r2 in a.layer_r2_)


def test_paper_form_has_one_feature_per_layer_and_paper_preset_settings(small_regression):
    net, X = small_regression
    model = SRNet(form="paper", max_generations=100, **QUICK).fit(net, X)
    assert [len(f) for f in model.layer_features_] == [1, 1, 1]
    paper = SRNet(preset="paper").settings()
    assert (paper["n_rows"], paper["n_columns"], paper["n_offspring"], paper["mutation_rate"],
            paper["max_generations"]) == (5, 5, 199, 0.4, 5000)


def test_teacher_forcing_explains_each_layer_from_the_true_previous_layer(small_regression):
    net, X = small_regression
    model = SRNet(teacher_forcing=True, max_generations=150, **QUICK).fit(net, X)
    assert model.expression_ is None
    assert len(model.teacher_forced_layer_mse_) == 3 and np.all(np.isfinite(model.teacher_forced_layer_mse_))
    # the formula's own figures are those of predict (layers chained), never the teacher-forced ones
    output = net(torch.from_numpy(X).float()).detach().double().numpy()[:, 0]
    predicted = model.predict(X)
    r2 = 1 - np.sum((output - predicted) ** 2) / np.sum((output - output.mean()) ** 2)
    assert model.output_r2_ == pytest.approx(r2, rel=1e-6, abs=1e-9)
    assert model.output_rmse_ == pytest.approx(np.sqrt(np.mean((output - predicted) ** 2)), rel=1e-6)
    assert model.output_r2_ != model.teacher_forced_layer_r2_[-1]
    report = model.report()
    assert report["output_r2"] == model.output_r2_
    assert report["teacher_forced_layer_r2"] == model.teacher_forced_layer_r2_


def test_srnet_selection_settings(small_regression):
    """The paper's preset uses its selection rule, srnet's default drift (the
    rules themselves: tests/test_mutation_kills.py); another is refused."""
    assert SRNet(preset="paper").settings()["selection"] == "paper"
    assert SRNet().settings()["selection"] == "drift"
    with pytest.raises(ValueError, match="unknown selection 'best'; valid: drift, paper"):
        SRNet(selection="best", max_generations=1, **QUICK).fit(*small_regression)


def test_the_paper_selection_replaces_the_parent_only_when_strictly_better():
    from srnet.cgp.evolve import as_feature_rows
    from srnet.layers import LayerwiseSearch, make_specs

    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (60, 1))
    target = [as_feature_rows(np.sin(X))]
    specs = make_specs(1, [1], form="paper", n_outputs=1, n_rows=1, n_columns=4, levels_back=None,
                       functions=("add", "mul"), n_constants=1, constant_pool=(1.0,))
    for selection, replaced_on_tie in (("paper", False), ("drift", True)):
        search = LayerwiseSearch(specs, as_feature_rows(X), target, n_offspring=4, mutation="point",
                                 mutation_rate=0.3, ridge=1e-8, teacher_forcing=False, run_seed=1, n_threads=1,
                                 selection=selection)
        changes = 0
        for _ in range(40):
            before, fitness = search.parent, search.fitness
            search.step()
            assert search.fitness <= fitness
            if search.fitness == fitness and search.parent is not before:
                changes += 1
        assert (changes > 0) == replaced_on_tie


def test_classifier_logits_are_explained_and_agreement_reported():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 2))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    net, _ = train_mlp(X, y, hidden=(6,), activation="sigmoid", task="classification", epochs=200,
                       random_state=0)
    net = nn.Sequential(*net, nn.Softmax(dim=1))
    model = SRNet(max_generations=300, **QUICK).fit(net, X)
    assert model.is_classifier_
    assert model.agreement_ >= 0.95
    logits = net[:-1](torch.from_numpy(X).float()).detach().numpy()
    assert np.mean(model.predict_class(X) == logits.argmax(axis=1)) == pytest.approx(model.agreement_)
    # a fifth of the rows was held out of every fit, and selection weighed them as much as the domain
    held, _ = held_out_rows(len(X), seed_from(QUICK["random_state"]))
    assert len(held) == 60
    held_agreement = np.mean(model.predict_class(X[held]) == logits[held].argmax(axis=1))
    assert model.regions_["validation-rows"]["agreement"] == pytest.approx(held_agreement)
    assert model.selected_["validation_agreement"] == pytest.approx(
        (model.regions_["domain"]["agreement"] + held_agreement) / 2)
    # output_r2_ is of the class probabilities, as printed (the logits' R^2 read -0.59 for an iris formula of
    # class-probability R^2 0.9995)
    probabilities = torch.softmax(torch.from_numpy(model.predict(X)), dim=1).numpy()
    network_probabilities = net(torch.from_numpy(X).float()).detach().numpy()
    assert model.output_r2_ == pytest.approx(rmse_r2(network_probabilities, probabilities)[1], abs=1e-6)
    assert model.output_r2_ == model.regions_["rows"]["probability_r2"] != model.regions_["rows"]["r2"]
    # a row with no finite logit must get a label: it is said to be a guess
    outputs = model.predict(X[:3])
    outputs[1] = np.nan
    model.predict = lambda rows: outputs
    with pytest.warns(RuntimeWarning, match="no finite logit on 1 of 3 rows"):
        model.predict_class(X[:3])


@pytest.mark.parametrize("params, message", [
    (dict(n_outputs=2.5), r"^n_outputs must be a whole number >= 1, or a list of one per explained layer; got 2.5"),
    (dict(n_outputs=[2, 0]), r"^n_outputs must be a whole number >= 1"),
    (dict(refine="no"), r"^refine must be True or False, got 'no'"),
    (dict(teacher_forcing="yes"), r"^teacher_forcing must be True or False, got 'yes'"),
    (dict(form="paperr"), r"^unknown form 'paperr'; valid: multi, paper"),
])
def test_settings_are_checked_before_any_probing(params, message, monkeypatch):
    """n_outputs=2.5 was a TypeError traceback, refine="no" ran as True, and a bad form was refused only after
    probing and sampling the domain (the probe is never reached now)."""
    import srnet.extract as extract

    monkeypatch.setattr(extract, "probe", lambda *a, **k: pytest.fail("probed before the settings were checked"))
    with pytest.raises(ValueError, match=message):
        SRNet(**{**QUICK, **params}).fit(hand_set_network(), np.zeros((20, 1)))


def test_a_bare_linear_is_a_network_of_one_layer():
    """nn.Linear itself was refused as having no Linear layer (the root module was not among those searched)."""
    torch.manual_seed(0)
    linear = nn.Linear(2, 1)
    X = np.random.default_rng(0).uniform(-1, 1, (50, 2))
    model = SRNet(max_generations=50, **QUICK).fit(linear, X)
    with torch.no_grad():
        np.testing.assert_allclose(model.predict(X), linear(torch.as_tensor(X, dtype=torch.float32)).numpy()[:, 0],
                                   atol=1e-6)


def test_held_out_rows_are_a_seeded_fifth_disjoint_from_the_fitted_ones():
    held, fitted = held_out_rows(1003, 7)
    assert len(held) == 200 and len(fitted) == 803
    assert sorted(np.concatenate([held, fitted]).tolist()) == list(range(1003))
    assert np.array_equal(held_out_rows(1003, 7)[0], held) and not np.array_equal(held_out_rows(1003, 8)[0], held)
    assert len(held_out_rows(10**6, 7)[0]) == HELD_OUT_MAX
    assert len(held_out_rows(200, 7)[0]) == HELD_OUT_MIN
    none, every = held_out_rows(199, 7)  # 39 rows would judge agreement too coarsely
    assert none is None and np.array_equal(every, np.arange(199))


def test_a_classifier_s_held_out_rows_are_no_centres_of_the_searched_jitter(monkeypatch):
    """The jitter domain (auto's from 5 inputs that go together) samples around rows: around held-out rows, its
    search points were copies of them moved by 0.1 std (72 of 400), and their agreement read optimistic. None is
    now nearer a held-out row than to every fitted one; the validation sample of the domain still spans all rows."""
    import srnet.extract as extract

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3), nn.Softmax(dim=1))
    X = np.random.default_rng(0).normal(size=(400, 6))
    probed, probe = [], extract.probe
    monkeypatch.setattr(extract, "probe", lambda model, points, layers=None, **how: (
        probed.append(np.array(points)), probe(model, points, layers, **how))[1])
    model = SRNet(max_generations=5, domain="jitter:0.1", **QUICK).fit(net, X)
    assert model.domain_["kind"] == "jitter"
    held, _ = held_out_rows(len(X), seed_from(QUICK["random_state"]))

    def nearest_is_held(points):
        nearest = np.argmin(((points[:, None, :] - X[None]) ** 2).sum(-1), axis=1)
        return np.isin(nearest, held).sum()

    fit_points, domain_points = probed[1], probed[2]  # the rows, then the domain's search and validation samples
    assert nearest_is_held(fit_points) == 0
    assert nearest_is_held(domain_points) > 40


@pytest.mark.parametrize("random_state", [None, "generator"])
def test_the_jitter_leaves_out_the_rows_that_are_held_out_whatever_the_random_state(monkeypatch, random_state):
    """fit and fit_activations each drew a seed: with random_state=None or a Generator they held out different
    rows, and jittered copies of the validation rows were searched on."""
    import srnet.extract as extract

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3), nn.Softmax(dim=1))
    X = np.random.default_rng(0).normal(size=(300, 6))
    drawn, draw = [], extract.held_out_rows
    monkeypatch.setattr(extract, "held_out_rows", lambda n, seed: (drawn.append(draw(n, seed)), drawn[-1])[1])
    state = np.random.default_rng(3) if random_state == "generator" else None
    settings = {**QUICK, "random_state": state, "domain": "jitter:0.1"}  # (auto: a box, as the inputs are independent)
    SRNet(max_generations=3, **settings).fit(net, X)
    assert len(drawn) == 2 and drawn[0][0] is not None
    np.testing.assert_array_equal(drawn[0][0], drawn[1][0])


def test_recorded_activations_as_tensors_with_gradients_and_fresh_layer_names(small_regression):
    """Activations recorded with autograd on were a raw RuntimeError; a fit_activations after a fit kept the
    probed modules' names for layers of another network; a one-logit 'classifier' agreed 100 % always."""
    net, X = small_regression
    model = SRNet(max_generations=5, **QUICK).fit(net, X)
    assert model.layer_names_ != ["layer1", "layer2", "layer3"]
    X_t = torch.as_tensor(X, dtype=next(net.parameters()).dtype)
    h = torch.sigmoid(net[0](X_t))
    assert h.requires_grad
    model.fit_activations(X_t, [h, net(X_t)])
    assert model.layer_names_ == ["layer1", "layer2"] and np.isfinite(model.output_r2_)
    model.fit_activations(X_t, [h, net(X_t)], layer_names=["hidden", "out"])  # named by the caller, as fit does
    assert model.layer_names_ == ["hidden", "out"]
    with pytest.raises(ValueError, match="^1 layer names for 2 recorded layers$"):
        model.fit_activations(X_t, [h, net(X_t)], layer_names=["hidden"])
    with pytest.raises(ValueError, match="^layer 1's activations are not an array of numbers"):
        model.fit_activations(X, [[{"a": 1}] * len(X), net(X_t)])
    with pytest.raises(ValueError, match="^classification needs one output"):
        model.fit_activations(X, [h, net(X_t)], classification=True)


def test_bad_input_gives_clear_errors(small_regression):
    net, X = small_regression
    with pytest.raises(ValueError, match="X has 3 columns but the network's first layer expects 2"):
        SRNet(max_generations=5, **QUICK).fit(net, np.zeros((10, 3)))
    with pytest.raises(ValueError, match=r"layer 2's activations have shape \(9, 4\)"):
        SRNet(max_generations=5, **QUICK).fit_activations(X[:10], [np.zeros((10, 4)), np.zeros((9, 4))])
    with pytest.raises(ValueError, match="contain 1 NaN/inf"):
        SRNet(max_generations=5, **QUICK).fit_activations(X[:2], [np.array([[0.0], [np.nan]])])
    broken = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1))
    with torch.no_grad():
        broken[2].bias.fill_(float("nan"))
    with pytest.raises(ValueError, match="non-finite outputs at layer '2'"):
        SRNet(max_generations=5, **QUICK).fit(broken, X)
    with pytest.raises(ValueError, match="unknown preset 'fast'"):
        SRNet(preset="fast").fit(net, X)
    with pytest.raises(ValueError, match="unknown form 'tree'"):
        SRNet(form="tree", max_generations=5, **QUICK).fit(net, X)
    model = SRNet(max_generations=5, **QUICK).fit(net, X)
    with pytest.raises(ValueError, match="X has 1 column but SRNet was fitted on 2"):
        model.predict(np.zeros((3, 1)))


def test_explain_command_writes_the_report_and_plots(tmp_path, small_regression, capsys):
    net, X = small_regression
    torch.save(net.state_dict(), tmp_path / "net.pt")
    np.savetxt(tmp_path / "data.csv", X, delimiter=",", header="a,b", comments="")
    out = tmp_path / "out"
    code = main(["explain", str(tmp_path / "net.pt"), "--data", str(tmp_path / "data.csv"), "--arch",
                 "mlp:2-4-4-1:sigmoid", "--out", str(out), "--generations", "50", "--seed", "3"])
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    for key in ("layers", "expression", "fitness", "output_r2", "output_rmse", "wall_seconds", "seed", "preset"):
        assert key in report
    assert report["seed"] == 3 and report["preset"] == "default"
    assert [layer["index"] for layer in report["layers"]] == [1, 2, 3]
    assert {"expression", "latex", "mse", "r2", "complexity"} <= set(report["layers"][0])
    assert "a" in report["feature_names"] and report["layers"][0]["name"] == "1"
    for name in ("convergence.png", "layers.png", "network_vs_formula.png"):
        assert (out / name).stat().st_size > 1000
    assert "layer 1" in capsys.readouterr().out


def test_explain_command_reports_bad_files_in_one_line(tmp_path, capsys):
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    np.savetxt(tmp_path / "data.csv", np.zeros((4, 2)), delimiter=",")
    code = main(["explain", str(tmp_path / "junk.pt"), "--data", str(tmp_path / "data.csv"), "--arch",
                 "mlp:sigmoid", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("srnet explain: error:") and "\n" not in err
    net = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1))
    torch.save(net.state_dict(), tmp_path / "net.pt")
    code = main(["explain", str(tmp_path / "net.pt"), "--data", str(tmp_path / "data.csv"), "--arch",
                 "mlp:2-5-1:sigmoid", "--out", str(tmp_path / "o")])
    assert code == 2 and "does not match the weights" in capsys.readouterr().err


def test_reference_network_is_explained_better_than_the_paper(gecco_dir):
    from srnet.reference import load_reference

    reference = load_reference(gecco_dir / "regression" / "kkk0")
    model = SRNet(max_generations=400, **QUICK).fit(reference.model, reference.X)
    assert model.fitness_ < reference.paper_fitness.best


def test_the_budget_is_shared_between_the_layerwise_search_and_the_direct_formulas(small_regression):
    """direct_budget=0.25 of the searches' 3/4 of max_seconds=1.6: 0.9 s layer-wise, 0.3 s direct (each stops
    within a chunk)."""
    net, X = small_regression
    model = SRNet(max_seconds=1.6, direct_budget=0.25, simplify_seconds=0, random_state=0, n_threads=1,
                  domain="rows").fit(net, X)
    assert 0.9 <= model.search_seconds_ < 0.9 + 0.5
    assert 0.3 * 0.8 <= model.direct_seconds_ < 0.3 + 0.5
    assert model.stop_reason_ == "max_seconds"


def test_auto_gives_a_regression_networks_direct_searches_three_quarters_and_a_classifiers_a_quarter(
        small_regression, monkeypatch):
    import srnet.extract as extract

    asked = []
    real = extract.direct_formulas

    def spy(*args, max_evaluations=None, **kwargs):
        asked.append(max_evaluations)
        return real(*args, max_evaluations=max_evaluations, **kwargs)

    monkeypatch.setattr(extract, "direct_formulas", spy)
    net, X = small_regression
    model = SRNet(max_generations=10, **QUICK).fit(net, X)
    assert asked[-1] == int(model.n_evaluations_ * extract.DIRECT_BUDGET_REGRESSION
                            / (1 - extract.DIRECT_BUDGET_REGRESSION)) == 3 * model.n_evaluations_
    logits = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2), torch.nn.Softmax(-1))
    model = SRNet(max_generations=10, **QUICK).fit(logits.double(), X)
    assert asked[-1] == int(model.n_evaluations_ * extract.DIRECT_BUDGET_CLASSIFIER
                            / (1 - extract.DIRECT_BUDGET_CLASSIFIER)) == model.n_evaluations_ // 3
    with pytest.raises(ValueError, match=r"^direct_budget is a share of the budget in \[0, 1\) or 'auto', got 'x'"):
        SRNet(max_generations=10, direct_budget="x", **QUICK).fit(net, X)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_fitted_sklearn_models_feature_names_name_the_formula_inputs():
    """A scikit-learn model fitted on a DataFrame carries feature_names_in_:
    the formula reads those names even when X is a plain array."""
    pandas = pytest.importorskip("pandas")
    from sklearn.neural_network import MLPRegressor

    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (120, 2))
    frame = pandas.DataFrame(X, columns=["speed", "mass-kg"])
    mlp = MLPRegressor(hidden_layer_sizes=(4,), max_iter=200, random_state=0).fit(frame, X[:, 0] - X[:, 1])
    model = SRNet(max_generations=20, **QUICK).fit(mlp, X)
    assert model.feature_symbols_ == {"speed": "speed", "mass-kg": "mass_kg"}
    assert {str(s) for s in model.input_symbols_} == {"speed", "mass_kg"}


def test_a_dataframes_columns_name_the_formula_and_are_checked_at_predict(small_regression):
    """fit_activations mapped no names (``E`` read as Euler's number, ``x-y`` as a subtraction), and
    predict read a DataFrame's columns by position, so reordered columns gave wrong numbers silently."""
    pandas = pytest.importorskip("pandas")
    from srnet.probe import probe

    net, X = small_regression
    frame = pandas.DataFrame(X, columns=["E", "x-y"])
    model = SRNet(max_generations=5, **QUICK).fit(net, frame)
    assert list(model.feature_names_in_) == ["E", "x-y"] and model.feature_symbols_ == {"E": "E_", "x-y": "x_y"}
    assert model.report()["feature_symbols"] == {"E": "E_", "x-y": "x_y"}  # only the CLI's report.json had them
    np.testing.assert_array_equal(model.predict(frame), model.predict(X))
    with pytest.raises(ValueError, match=r"^X's columns are in another order than those SRNet was fitted on "
                                         r"\(\['E', 'x-y'\]\); reorder them$"):
        model.predict(frame[["x-y", "E"]])
    with pytest.raises(ValueError, match="differ from those SRNet was fitted on"):
        model.predict_layers(frame.rename(columns={"E": "F"}))
    direct = SRNet(max_generations=5, **QUICK).fit_activations(X, probe(net, X), feature_names=["E", "x-y"])
    # names given name the inputs too: a DataFrame at predict is checked against them
    assert {str(s) for s in direct.input_symbols_} == {"E_", "x_y"} and list(direct.feature_names_in_) == ["E", "x-y"]
    with pytest.raises(ValueError, match="in another order"):
        direct.predict(frame[["x-y", "E"]])
    assert not hasattr(SRNet(max_generations=5, **QUICK).fit_activations(X, probe(net, X)), "feature_names_in_")


def test_the_report_is_json_with_numpy_typed_parameters(small_regression):
    net, X = small_regression
    model = SRNet(max_generations=5, select=np.int64(20), max_seconds=None, simplify_seconds=np.float32(0),
                  random_state=np.int64(3), n_threads=1).fit(net, X)
    report = json.loads(json.dumps(model.report(), allow_nan=False))
    assert report["seed"] == 3 and report["select"] == 20
    generator = SRNet(max_generations=5, **{**QUICK, "random_state": np.random.default_rng(0)}).fit(net, X)
    assert json.loads(json.dumps(generator.report(), allow_nan=False))["seed"] is None


# ------------------------------------------------------------------ islands

def _layerwise_members(seeds, X, targets):
    from srnet.cgp.evolve import as_feature_rows
    from srnet.layers import LayerwiseSearch, make_specs

    specs = make_specs(X.shape[1], [t.shape[0] for t in targets], form="multi", n_outputs=2, n_rows=1,
                       n_columns=8, levels_back=None, functions=("add", "sub", "mul", "sin"), n_constants=1,
                       constant_pool=(1.0,))
    return [LayerwiseSearch(specs, as_feature_rows(X), targets, n_offspring=4, mutation="point", mutation_rate=0.2,
                            ridge=1e-8, teacher_forcing=False, run_seed=seed, n_threads=1) for seed in seeds]


def _two_layer_targets(X):
    from srnet.cgp.evolve import as_feature_rows

    hidden = np.tanh(X @ np.array([[1.0, -0.5, 0.3], [0.4, 1.0, -1.0]]))
    return [as_feature_rows(hidden), as_feature_rows(np.sin(hidden[:, :1]) + hidden[:, 1:2] * hidden[:, 2:])]


def test_a_layerwise_migrant_is_copied_and_the_islands_meet_where_they_migrate():
    from srnet.cgp.islands import Islands, island_seed

    X = np.random.default_rng(0).uniform(-1, 1, (80, 2))
    members = _layerwise_members([island_seed(3, i) for i in range(3)], X, _two_layer_targets(X))
    for m in members:
        for _ in range(30):
            m.step()
    fitness = [m.parent_fitness for m in members]
    best, worst = int(np.argmin(fitness)), int(np.argmax(fitness))
    assert fitness[best] < fitness[worst]
    islands = Islands(members, n_threads=1, migrate_every=10, meet_every=5)
    islands.migrate()
    assert members[worst].parent_fitness == fitness[best] and islands.fitness == min(fitness)
    for mine, theirs in zip(members[worst].best, members[best].best):
        assert np.array_equal(mine.nodes, theirs.nodes)
    kept = [g.nodes.copy() for g in members[best].best]
    for _ in range(50):
        members[worst].step()
    assert all(np.array_equal(g.nodes, k) for g, k in zip(members[best].best, kept))  # the source is untouched
    with pytest.raises(ValueError, match="meet_every"):
        Islands(members, n_threads=1, migrate_every=10, meet_every=3)


def test_islands_of_the_layerwise_search_give_the_same_formula_however_threads_are_scheduled():
    from srnet.cgp.driver import run
    from srnet.cgp.islands import Islands, island_seed

    X = np.random.default_rng(1).uniform(-1, 1, (80, 2))
    targets = _two_layer_targets(X)
    results = []
    for threads in (1, 2, 2):
        islands = Islands(_layerwise_members([island_seed(7, i) for i in range(2)], X, targets), n_threads=threads,
                          migrate_every=40, meet_every=20)
        outcome = run(islands, max_generations=120)
        assert outcome.stop_reason == "max_generations" and islands.generation == 120
        results.append((islands.fitness, [g.nodes.tobytes() for g in islands.best]))
    assert results[1] == results[0] and results[2] == results[0]


def test_srnet_on_small_data_and_two_threads_runs_two_islands(small_regression):
    net, X = small_regression
    model = SRNet(**{**QUICK, "max_generations": 300, "n_threads": 2}).fit(net, X)
    again = SRNet(**{**QUICK, "max_generations": 300, "n_threads": 2}).fit(net, X)
    assert model.n_islands_ == 2 and model.report()["islands"] == 2
    assert model.fitness_ == again.fitness_ and str(model.expression_) == str(again.expression_)
    one = SRNet(**{**QUICK, "max_generations": 300}).fit(net, X)
    assert one.n_islands_ == 1
    default_threads = SRNet(**{**QUICK, "max_generations": 300, "n_threads": None}).fit(net, X)
    assert default_threads.n_islands_ == 1  # a generation budget: the same formula on every machine
    capped = SRNet(**{**QUICK, "max_generations": 300, "max_seconds": 60.0, "n_threads": None}).fit(net, X)
    assert capped.n_islands_ == 1 and str(capped.expression_) == str(default_threads.expression_)


def test_a_dead_unit_composes_through_the_protected_primitives_not_into_zoo():
    """Composing by substitution skipped the primitive table: a unit of exactly 0 (a dead ReLU's fit) put
    log(0) into the next layer's log|h|, and the layer-wise formula printed as zoo where the program gives x0."""
    from srnet.expr.program import Program

    first = Program(1, (), (), (0,), np.array([[1.0, 0.0]]), np.array([0.0, 0.0]))  # h1_0 = x0, h1_1 = 0
    second = Program(2, (), (("log", 1, 0), ("add", 0, 2)), (3,), np.array([[1.0]]), np.array([0.0]))
    model = SRNet(simplify_seconds=0)
    model.programs_, model.feature_names_, model.teacher_forcing = [first, second], ["x0"], False
    model.input_map_, model.simplify_seconds_ = None, 0.0
    model._compose(np.zeros((3, 1)))
    x0 = model.input_symbols_[0]
    assert model.layerwise_expression_ == x0
    assert all(value.is_finite is not False and not value.has(sympy.zoo) for _, value in model.formula_steps_)


def test_the_direct_searches_have_a_progress_bar_of_their_own(small_regression, capsys):
    """The bar covered the layer-wise share of the budget: a demo read 100 % of 3.8 s, then the terminal was
    silent through the direct searches' 11 s; they now fill a bar of their own, to their share."""
    import re

    net, X = small_regression
    model = SRNet(max_seconds=1.0, simplify_seconds=0, random_state=0, n_threads=1, progress=True).fit(net, X)
    bars = capsys.readouterr().err.replace("\r", "\n")
    direct = re.findall(r"srnet direct: 100%.*\| (\d+\.\d)/(\d+\.\d) s", bars)
    assert "srnet:" in bars and direct, bars
    assert direct[-1][0] == direct[-1][1] and 0 < float(direct[-1][1]) < 1.0
    assert model.expression_ is not None


def test_a_first_ctrl_c_after_the_search_still_delivers_the_explanation(monkeypatch, capsys):
    """After the search (direct searches, refinement, simplification: longer than a short search), Ctrl-C
    lost everything; the first one now skips what is optional and the model is fitted; a second one quits."""
    import os
    import signal

    import srnet.extract as extract

    original = extract.direct_formulas

    def pressed_once(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)  # the user's Ctrl-C, as the direct searches start
        return original(*args, **kwargs)

    monkeypatch.setattr(extract, "direct_formulas", pressed_once)
    X = np.random.default_rng(0).uniform(-1, 1, (60, 1))
    net = nn.Sequential(nn.Linear(1, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    model = SRNet(max_generations=20, n_columns=6, **{**QUICK, "simplify_seconds": 5}).fit(net, X)
    assert model.expression_ is not None and model.selected_ is not None
    assert not any(entry["source"].endswith("+refined") for entry in model.candidates_)  # refinement skipped
    assert "interrupted: finishing the explanation" in capsys.readouterr().err
    # and it says so (a normal finish was reported: "max_generations", exit 0, "interrupted": false)
    assert model.stop_reason_ == "interrupted" and model.report()["interrupted"] is True
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is given back

    def pressed_twice(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)
        return original(*args, **kwargs)

    monkeypatch.setattr(extract, "direct_formulas", pressed_twice)
    with pytest.raises(KeyboardInterrupt):
        SRNet(max_generations=20, n_columns=6, **QUICK).fit(net, X)


@pytest.mark.parametrize("where", ["X", "domain"])
def test_inputs_whose_squares_overflow_are_one_line(where):
    """A cell of 1e300 (or a box to 1e200) gave numpy's overflow warnings and a front of meaningless formulas."""
    X = np.random.default_rng(0).uniform(0, 1, (40, 2))
    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)).double()
    settings = dict(max_generations=2, n_columns=4, **QUICK)
    if where == "X":
        X[3, 1] = 1e300
        with pytest.raises(ValueError, match=r"^X reaches 1e\+300, beyond what squared errors can hold"):
            SRNet(**settings).fit(net, X)
        with pytest.raises(ValueError, match=r"^X reaches 1e\+300"):
            SRNet(**settings).fit_activations(X, [np.tanh(X[:, :1])])
    else:
        with pytest.raises(ValueError, match=r"^the explanation domain reaches 1e\+200.*choose a smaller box"):
            SRNet(domain=[(0, 1e200), (0, 1)], **settings).fit(net, X)
        with pytest.raises(ValueError, match=r"^the explanation domain reaches .*choose a smaller widen factor$"):
            SRNet(domain="widen:1e200", **settings).fit(net, X)  # (a box was asked of a widen factor)


def test_numbered_columns_are_not_names_and_mixed_ones_are_refused(small_regression):
    """As scikit-learn: feature_names_in_ only when every column is named with text ('0', '1' were checked at
    predict, against a frame whose columns are the integers 0, 1); a frame naming some columns is one line."""
    pandas = pytest.importorskip("pandas")

    net, X = small_regression
    model = SRNet(max_generations=5, **QUICK).fit(net, pandas.DataFrame(X, columns=[0, 1]))
    assert not hasattr(model, "feature_names_in_") and model.feature_names_ == ["x0", "x1"]
    with pytest.raises(ValueError, match=r"^X's columns mix text and other names"):
        SRNet(max_generations=5, **QUICK).fit(net, pandas.DataFrame(X, columns=["a", 1]))


def test_the_refined_formula_is_the_same_whatever_torch_s_threads():
    """L-BFGS ran on torch's default threads: float64 sums split among 1 or 2 threads rounded differently, L-BFGS
    amplified it, and a generation budget gave another formula on another machine."""
    torch.manual_seed(0)
    X = np.random.default_rng(0).uniform(-1, 1, (300, 3))
    net = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1))
    before = torch.get_num_threads()
    formulas = []
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            model = SRNet(max_generations=30, simplify_seconds=0, random_state=1).fit(net, X)
            formulas.append((str(model.expression_), model.selected_["source"]))
    finally:
        torch.set_num_threads(before)
    assert formulas[0] == formulas[1]
    assert "refined" in formulas[0][1]  # the refinement ran and was kept: the case that differed


def test_a_refit_refused_for_its_names_or_classes_leaves_the_previous_fit_whole(small_regression):
    """The names, widths and classes of the refused refit were set before its checks: the fitted estimator then
    refused the data it was fitted on ("X has 2 columns but SRNet was fitted on 3")."""
    net, X = small_regression
    model = SRNet(max_generations=3, **QUICK).fit(net, X)
    before = model.predict(X)
    wider = nn.Sequential(nn.Linear(X.shape[1] + 1, 4), nn.Tanh(), nn.Linear(4, 3), nn.Softmax(dim=1))
    X_wider = np.random.default_rng(1).normal(size=(50, X.shape[1] + 1))
    with pytest.raises(ValueError, match="feature names for"):
        model.fit(wider, X_wider, feature_names=["a"])
    with pytest.raises(ValueError, match="2 class labels for the network's 3 outputs"):
        model.fit(wider, X_wider, classes=["u", "v"])
    assert model.n_features_in_ == X.shape[1] and not model.is_classifier_ and model.classes_ is None
    np.testing.assert_array_equal(model.predict(X), before)


def test_the_rows_searched_on_hold_each_input_s_extremes():
    """A formula chosen on a random draw of the rows overflowed on an outlier it never saw, and the final fit on
    every row failed after the whole budget ("layer 1's formula is not finite on the data")."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 3))
    fitted = np.sort(rng.choice(500, 400, replace=False))
    rows = searched_rows(X, fitted, 50, np.random.default_rng(1))
    assert len(rows) == 50 and len(np.unique(rows)) == 50 and np.all(np.diff(rows) > 0)
    assert np.isin(rows, fitted).all()
    for column in X[fitted].T:
        assert column.min() in X[rows].T and column.max() in X[rows].T
    np.testing.assert_array_equal(searched_rows(X, fitted, 400, None), fitted)  # all of them: no draw
    np.testing.assert_array_equal(rows, searched_rows(X, fitted, 50, np.random.default_rng(1)))

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(1, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    X = rng.uniform(-1, 1, (100, 1))
    X[7, 0] = 1e60  # squared twice: inf
    for seed in range(3):
        model = SRNet(max_generations=20, random_state=seed, domain="rows", max_samples=10, simplify_seconds=0,
                      functions=("square", "mul", "add"), max_seconds=None, n_threads=1).fit(net, X)
        assert np.isfinite(model.predict(X)).all()


def test_a_slow_kernel_compilation_is_announced_when_progress_is_on(monkeypatch, capsys):
    """The first run on a machine compiled for about a minute in silence, before any progress bar."""
    import time as clock

    import srnet.progress as progress
    from srnet.cgp import _kernels

    monkeypatch.setattr(progress, "COMPILE_NOTICE_SECONDS", 0.05)
    monkeypatch.setattr(_kernels, "warm_up", lambda *args: clock.sleep(0.5))
    X = np.random.default_rng(0).uniform(-1, 1, (60, 1))
    net = nn.Sequential(nn.Linear(1, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    SRNet(max_generations=2, **QUICK).fit(net, X)
    assert "compiling" not in capsys.readouterr().err  # quiet without progress
    SRNet(max_generations=2, progress=True, **QUICK).fit(net, X)
    err = capsys.readouterr().err
    assert "compiling srnet's kernels (the first run on this machine" in err
    assert "the direct searches, refining constants, then composing the layers" in err


def test_rows_at_one_point_are_refused_unless_a_box_says_where_to_look():
    """Every input constant: every layer 'explained' with R2 0 by a constant, exit 0 and an empty plot."""
    net = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    X = np.tile([[0.5, -1.0]], (40, 1))
    with pytest.raises(ValueError, match=r"^every input takes one value on all 40 rows: there is nothing to explain"):
        SRNet(max_generations=2, **QUICK).fit(net, X)
    model = SRNet(max_generations=2, domain=[(-1, 1), (-2, 0)], **QUICK).fit(net, X)
    assert model.domain_["kind"] == "box"
    history = model.report()["history"]  # the convergence plot's data, in report.json too
    assert history[0][0] == 0 and history[-1][0] == 2 and len(history[-1]) == 4


def test_feature_names_given_as_one_text_are_refused():
    """feature_names="ab" named two inputs a and b (the text read as a sequence of letters)."""
    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    X = np.random.default_rng(0).uniform(-1, 1, (40, 2))
    with pytest.raises(TypeError, match=r"^feature_names must be a list of names, one per input; got the text 'ab'$"):
        SRNet(max_generations=2).fit(net, X, feature_names="ab")


def test_a_domain_box_that_misses_the_data_is_noted():
    """The demo with --domain box:5,6 printed "domain -220" beside the rows' figures without a word: every row
    lies outside the box, where the formula was not fitted."""
    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    X = np.random.default_rng(0).uniform(-1, 1, (40, 2))
    model = SRNet(max_generations=3, domain=[(5.0, 6.0), (-1.0, 1.0)], **QUICK).fit(net, X, feature_names=["a", "b"])
    assert model.domain_["note"] == ("the domain box misses the data's range of a: every row lies outside it, and "
                                     "the rows' figures judge the formula where it was not fitted")
    inside = SRNet(max_generations=3, domain=[(0.5, 6.0), (-1.0, 1.0)], **QUICK).fit(net, X)
    assert inside.domain_["note"] is None  # overlapping: nothing to say
    import pandas as pd  # a DataFrame's columns name the input missed (it said x0 beside a formula in speed)
    frame = SRNet(max_generations=3, domain=[(-1.0, 1.0), (5.0, 6.0)], **QUICK).fit(
        net, pd.DataFrame(X, columns=["speed", "mass"]))
    assert frame.domain_["note"].startswith("the domain box misses the data's range of mass: ")


def test_inputs_read_as_categories_are_noted():
    """widen:3 of a grid of whole numbers 0..9 sampled the rows' own points (each input read as categories, kept
    on its values) without a word: the factor given seemed used.  Every such input is named."""
    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    grid = np.array([(i, j) for i in range(10) for j in range(10)], dtype=float)
    model = SRNet(max_generations=2, domain="widen:3", **QUICK).fit(net, grid)
    assert model.domain_["note"] == ("every input takes at most 10 whole numbers or two values, read as "
                                     "categories: the domain keeps them on their own values")
    X = np.column_stack([np.random.default_rng(0).uniform(-1, 1, 60), np.random.default_rng(1).integers(0, 2, 60)])
    flagged = SRNet(max_generations=2, **QUICK).fit(net, X, feature_names=["speed", "flag"])
    assert flagged.domain_["note"] == ("1 input (flag) takes at most 10 whole numbers or two values, read as "
                                       "categories: the domain keeps it on its own values")
    assert SRNet(max_generations=2, domain="rows", **QUICK).fit(net, X).domain_["note"] is None  # rows: as they are
