"""Stop 66's user review (explaining one's own models): the findings' tests."""

import numpy as np
import pytest
import torch

from srnet import SRNet
from srnet.extract import MIN_DOMAIN_POINTS


class Counting(torch.nn.Module):
    """A small tanh network that records how many rows each call probes."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
        self.calls = []

    def forward(self, x):
        self.calls.append(x.shape[0])
        return self.net(x)


@pytest.mark.filterwarnings("ignore:the selected formula follows the network only loosely")
def test_a_few_rows_are_selected_on_hundreds_of_domain_points():
    """On 12 rows selection saw 12 domain points: a formula with a pole had validation R^2 0.70 there and -10130
    on the domain's 2000 points, and was selected over a pole-free one (0.77 there)."""
    X = np.random.default_rng(0).normal(size=(12, 3))
    network = Counting()
    SRNet(max_generations=5, random_state=0, simplify_seconds=0, refine=False, direct_budget=0).fit(network, X)
    assert network.calls.count(MIN_DOMAIN_POINTS) == 1  # selection's sample; the search's is the rows' 12
    assert network.calls.count(12) == 2
    # within max_samples: a budget of 100 rows caps them
    network.calls.clear()
    SRNet(max_generations=5, max_samples=100, random_state=0, simplify_seconds=0, refine=False,
          direct_budget=0).fit(network, X)
    assert network.calls.count(100) == 1 and MIN_DOMAIN_POINTS not in network.calls


def test_fit_takes_no_target_and_says_so_in_one_line():
    """scikit-learn's habit, fit(model, X, y), met a bare "takes 3 positional arguments but 4 were given"."""
    X = np.random.default_rng(0).normal(size=(30, 3))
    with pytest.raises(TypeError, match=r"^SRNet.fit\(model, X\) takes no y: it explains the network's own outputs"):
        SRNet(max_generations=2).fit(Counting(), X, X[:, 0])


def _regression_workload(y, architecture=None, classifier=False):
    from srnet.loading import Workload

    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    if classifier:
        net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Softmax(dim=1))
    X = np.random.default_rng(0).normal(size=(200, 2))
    with torch.no_grad():
        output = net(torch.as_tensor(X, dtype=torch.float32)).double().numpy()[:, 0]
    return Workload("w", net, X, ["a", "b"], is_classifier=classifier, y=y(output, X),
                    architecture=architecture), output


def test_a_network_trained_on_a_standardised_target_is_told_so_not_sent_to_check_its_architecture():
    """A network predicting a standardised y, given y in its own units: "R2 -3.74: is --arch right?", where its
    output rescaled has R2 0.88 (the data's units were wrong, not the network)."""
    from srnet.loading import fit_warning, network_fit

    noise = np.random.default_rng(2).normal(size=200)
    workload, output = _regression_workload(lambda out, X: 152.0 + 77.0 * (out + 0.02 * noise))
    own = network_fit(workload)
    assert own["network_r2"] < 0
    warning = fit_warning(workload, own)
    assert warning.startswith(f"the network's R2 against the target is {own['network_r2']:.4g}, and 0.98")
    assert "once its output is rescaled (a * output + b): was the target standardised or scaled" in warning
    # a network that fits poorly however rescaled: the old questions, and the columns' order among them
    unrelated, _ = _regression_workload(lambda out, X: np.random.default_rng(3).normal(size=200))
    warning = fit_warning(unrelated, network_fit(unrelated))
    assert "rescaled" not in warning and "are the columns in the order it was trained on" in warning


def test_a_continuous_target_given_to_a_classifier_is_called_continuous_not_214_classes():
    """A regression network given ':logit' read "the target holds 214 classes, the network 2 outputs"."""
    from srnet.loading import fit_warning, network_fit

    workload, _ = _regression_workload(lambda out, X: X[:, 0] * 3.3 + 0.1, architecture="mlp:2-2:softmax",
                                       classifier=True)
    own = network_fit(workload)
    assert own == {"network_accuracy": None, "network_fit_note": "the target holds 200 values, not whole numbers: "
                                                                 "no classes to score"}
    assert fit_warning(workload, own) == (
        "the target holds 200 values, not whole numbers, and the network is read as a classifier: a regression "
        "network? then drop ':softmax' or ':logit' from --arch")
    workload.architecture = None
    assert fit_warning(workload, own).endswith("a regression network? then explain it without its softmax")
    # whole-number labels stay classes
    labelled, _ = _regression_workload(lambda out, X: (X[:, 0] > 0).astype(float), classifier=True)
    assert "not whole numbers" not in str(fit_warning(labelled, network_fit(labelled)))


@pytest.mark.filterwarnings("ignore:the selected formula follows the network only loosely")
def test_score_measures_the_formula_against_the_network_on_rows_it_was_not_fitted_on():
    """The Python API had no held-out fidelity (the command line's --test-size did): on a reviewer's diabetes
    network, R2 0.570 on the rows and 0.427 on held-out rows, which only a hand-written check showed."""
    from srnet.metrics import class_agreement, rmse_r2

    rng = np.random.default_rng(0)
    X, X_new = rng.normal(size=(60, 3)), rng.normal(size=(40, 3))
    network = Counting()
    model = SRNet(max_generations=20, random_state=0, simplify_seconds=0, direct_budget=0).fit(network, X)
    with torch.no_grad():
        output = network(torch.as_tensor(X_new, dtype=torch.float32)).double().numpy()
    assert model.score(network, X_new) == pytest.approx(rmse_r2(output[:, 0], model.predict(X_new))[1], abs=1e-6)
    # fidelity gives the RMSE beside it (the command line's --test-size reads it), a classifier's agreement
    rmse, r2 = rmse_r2(output[:, 0], model.predict(X_new))
    assert model.fidelity(network, X_new) == pytest.approx({"r2": r2, "rmse": rmse}, abs=1e-6)
    assert rmse > 0
    assert model.score(network, X) == pytest.approx(model.regions_["rows"]["r2"], abs=1e-6)
    with pytest.raises(ValueError, match="X has 2 columns but SRNet was fitted on 3"):
        model.score(network, X_new[:, :2])
    # a classifier's: the share of rows where formula and network give the same class
    torch.manual_seed(0)
    classifier = torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3),
                                     torch.nn.Softmax(dim=1))
    explained = SRNet(max_generations=20, random_state=0, simplify_seconds=0, direct_budget=0).fit(classifier, X)
    with torch.no_grad():
        logits = classifier[:3](torch.as_tensor(X_new, dtype=torch.float32)).double().numpy()
    assert explained.score(classifier, X_new) == pytest.approx(class_agreement(explained.predict(X_new), logits))
    assert explained.fidelity(classifier, X_new) == {"agreement": explained.score(classifier, X_new)}
    # another network: its explained layer of another width, or no such layer, one line each
    wide = Counting()
    wide.net[2] = torch.nn.Linear(8, 3)
    with pytest.raises(ValueError, match="^the model's explained layer has 3 outputs where the formula has 1: is it"):
        model.score(wide, X_new)
    with pytest.raises(ValueError, match="^unknown layer 'net.1'.*: is it the network this explanation was fitted"):
        model.score(torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Tanh(), torch.nn.Linear(3, 3)), X_new)


@pytest.mark.filterwarnings("ignore:the selected formula follows the network only loosely")
def test_a_long_formula_with_nothing_shorter_says_so(monkeypatch, capsys):
    """A wine classifier's formulas ran to 123 nodes, none of its candidates under 90, and `srnet explain` said
    nothing where the README promised an answer to "too long to read?"."""
    import srnet.formulas
    from srnet.cli import _print_explanation

    X = np.random.default_rng(0).normal(size=(60, 3))
    monkeypatch.setattr(srnet.formulas, "READABLE_COMPLEXITY", 1)  # every formula found is longer than 1 node
    model = SRNet(max_generations=10, random_state=0, simplify_seconds=0, direct_budget=0).fit(Counting(), X)
    assert model.readable_ is None and model.selected_["complexity"] > 1
    _print_explanation(model)
    assert "  (no formula found has 1 node or fewer: the front below has the shortest of them)" in \
        capsys.readouterr().out


def test_a_part_a_formula_repeats_is_named_once_and_substitutes_back_to_it():
    """A reviewer's two-class decision spelt out one 11-term linear form three times (cos(L), tan(sin(L)),
    sin(L)); wine's logits repeated (0.4219*color_intensity - 2.152)."""
    import sympy

    from srnet.expr.symbolic import SHARED_MAX_PARTS, SHARED_MIN_NODES, complexity, make_symbols, shared_parts

    x0, x1, x2 = make_symbols(3)
    linear = 0.5 * x0 - 1.2 * x1 + 3.1 * x2 + 0.7
    d = 0.354 * (sympy.tan(sympy.sin(linear)) - sympy.cos(linear)) + 0.708 * sympy.sin(linear) + 0.328
    (written,), named = shared_parts([d])
    assert [(str(name), part) for name, part in named] == [("u1", linear)]
    assert str(written) == "0.708*sin(u1) - 0.354*cos(u1) + 0.354*tan(sin(u1)) + 0.328"
    assert written.xreplace(dict(named)) == d  # the oracle: the names put back give the formula
    # a linear form beside other intercepts counts as one part; each keeps its number
    bare = 0.5 * x0 - 1.2 * x1 + 3.1 * x2
    two = sympy.sin(bare + 1.76) * sympy.cos(bare - 0.2)
    (written,), named = shared_parts([two])
    assert named == [(sympy.Symbol("u1", real=True), bare)] and str(written) == "sin(u1 + 1.76)*cos(u1 - 0.2)"
    assert written.xreplace(dict(named)) == two
    # across outputs, and a name the inputs use is not taken
    u1 = sympy.Symbol("u1", real=True)
    outputs = [sympy.sin(bare) + u1, sympy.exp(bare)]
    written, named = shared_parts(outputs)
    assert [str(name) for name, _ in named] == ["u1_"] and [str(e) for e in written] == ["u1 + sin(u1_)", "exp(u1_)"]
    # small parts stay: x0*x1 reads as quickly as a name
    small = x0 * x1 + sympy.sin(x0 * x1)
    assert complexity(x0 * x1) < SHARED_MIN_NODES and shared_parts([small]) == ([small], [])
    # at most SHARED_MAX_PARTS names, the largest saving first
    parts = [sympy.sin(x0 + k * x1 + x2 * x0) for k in range(2, 7)]
    many = sum(sympy.cos(p) * sympy.tan(p) for p in parts)
    (written,), named = shared_parts([many])
    assert len(named) == SHARED_MAX_PARTS
    for name, part in reversed(named):  # (a part may read an earlier name: the last put back first)
        written = written.xreplace({name: part})
    assert written == many


def test_the_printed_formula_names_its_repeated_parts_and_report_json_keeps_both(capsys):
    """Candidate.summary's "shared", report.json's "shared", and `srnet explain`'s lines: y written with u1,
    then "where u1 = ..." (the full formula stays report.json's expression)."""
    from srnet.cli import _print_explanation
    from srnet.expr.program import Program
    from srnet.expr.symbolic import make_symbols
    from srnet.formulas import Formula, candidate

    program = Program(2, (), (("mul", 0, 1), ("sin", 0, 0), ("add", 2, 3), ("sin", 4, 4), ("cos", 4, 4),
                              ("add", 5, 6)), (7,), [[1.0]], [0.0])
    formula = Formula("direct-6", (program,))
    X = np.random.default_rng(0).uniform(-1, 1, (100, 2))
    made = candidate(formula, make_symbols(2), {"domain": (X, formula(X))}, X, classification=False,
                     simplify_seconds=0)
    assert made.display() == ["sin(sin(x0) + x0*x1) + cos(sin(x0) + x0*x1)"]
    assert made.summary()["shared"] == {"expression": ["sin(u1) + cos(u1)"], "decision": None,
                                        "parts": {"u1": "sin(x0) + x0*x1"}}
    # printed by explain: a fitted explanation whose selected formula is this one
    model = SRNet(max_generations=5, random_state=0, simplify_seconds=0, direct_budget=0).fit(Counting(),
                                                                                               np.c_[X, X[:, 0]])
    model.selected_ = {**model.selected_, **made.summary(), "complexity_per_output": [12]}
    _print_explanation(model)
    printed = capsys.readouterr().out
    assert "  y = sin(u1) + cos(u1)\n  where u1 = sin(x0) + x0*x1\n  (each part the formula repeats" in printed
    assert model.report()["shared"] == made.summary()["shared"]


def test_the_validation_experiment_writes_its_table_and_json(experiment_script, tmp_path, capsys):
    """experiments/xnet_validation.py, the evidence behind XNetRegressor's default validation_fraction: one
    bundled dataset, one seed, each fraction's test R^2 per dataset, their mean and median, the JSON keys."""
    import json

    out = tmp_path / "v.json"
    code = experiment_script("xnet_validation").main(["--datasets", "diabetes", "--seeds", "1", "--seconds", "0.5",
                                                       "--fractions", "0,0.2", "--json", str(out)])
    printed = capsys.readouterr().out
    assert code == 0 and "diabetes" in printed and "held 0.2" in printed and "median" in printed
    results = json.loads(out.read_text())["results"]
    assert results["fractions"] == [0.0, 0.2] and results["datasets"][0]["rows"] == 442
    assert set(results["mean_r2"]) == {"0.0", "0.2"} and all(np.isfinite(v) for v in results["median_r2"].values())
    run = results["datasets"][0]["runs"]["0.2"]
    assert len(run) == 1 and run[0] == results["mean_r2"]["0.2"]
