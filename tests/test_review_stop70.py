"""From stop 70's reviews: an SRNet formula that reads an input constant on every row is warned of (as
CGPRegressor's and X-Net's are); a removable zero whose protected value is off the limit is a singularity; the
printed front says why the selected formula is off it; --classes names a classifier's outputs."""

import warnings

import numpy as np
import pytest
import torch

from srnet import SRNet


def _network_and_rows():
    rng = np.random.default_rng(7)
    n = 200
    X = np.column_stack([rng.uniform(-1, 1, n), np.full(n, 2.5), rng.integers(0, 2, n), rng.uniform(30, 70, n)])
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 1)).double().eval()
    return net, X


def test_an_srnet_formula_reading_a_constant_input_is_warned_of():
    """A reviewer's formula read x1 (always 2.5) as sin(x1): R2 0.9996 on the rows, -9.8 against the network
    once x1 was 3, and nothing said so."""
    net, X = _network_and_rows()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        model = SRNet(max_generations=10, random_state=0, simplify_seconds=0).fit(net, X)
    said = [str(w.message) for w in seen if "constant on every row fitted on" in str(w.message)]
    read = {s.name for e in np.atleast_1d(model.expression_) for s in e.free_symbols}
    assert ("x1" in read) == bool(said)
    assert "x1" in read  # (this seed's formula reads it: the warning is exercised)
    assert said == ["the formula reads x1 (always 2.5), constant on every row fitted on: it is used there as a "
                    "number, and the formula elsewhere changes with it; drop the column, or fit on rows where it "
                    "varies"]


def test_no_warning_where_the_formula_leaves_the_constant_input_alone():
    net, X = _network_and_rows()
    net[0].weight.data[:, 1] = 0.0  # the network ignores x1: a formula need not read it
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        model = SRNet(max_generations=10, random_state=0, simplify_seconds=0).fit(net, X)
    read = {s.name for e in np.atleast_1d(model.expression_) for s in e.free_symbols}
    said = [w for w in seen if "constant on every row fitted on" in str(w.message)]
    assert ("x1" in read) == bool(said)  # a warning only where the formula reads it


def _one_input(steps):
    from srnet.expr.program import Program
    from srnet.formulas import Formula

    return Formula("direct-4", (Program(1, (), steps, (len(steps),), [[1.0]], [0.0]),))


def test_a_removable_zero_whose_protected_value_is_off_the_limit_is_a_singularity():
    """A user's formula 2.08*u*(u + sin(tanh u))/((sin(b)**2 + 3.81)*tanh(u)**2) - 1.251, u = a + sin(b), has a
    denominator that reaches 0 along a = -sin(b), through (0, 0), without changing sign; the quotient stays
    bounded there (it tends to 2/(sin(b)**2 + 3.81)), so no pole was named, yet at (0, 0) the model gave 0.829
    (div's protected 1) where the formula tends to -0.159 and sympy's formula is NaN."""
    from srnet.expr.program import Program
    from srnet.expr.symbolic import make_symbols
    from srnet.formulas import Formula, singularities

    steps = (("sin", 1, 1), ("add", 0, 3), ("tanh", 4, 4), ("sin", 5, 5), ("add", 4, 6), ("mul", 4, 7),
             ("square", 5, 5), ("square", 3, 3), ("add", 10, 2), ("mul", 11, 9), ("div", 8, 12))
    formula = Formula("direct-8", (Program(2, (3.81,), steps, (13,), np.array([[2.08]]), np.array([-1.251])),))
    np.testing.assert_allclose(formula(np.array([[0.0, 0.0], [1e-4, 0.0]]))[:, 0], [0.829, -0.159], atol=2e-3)
    X = np.random.default_rng(0).uniform(-1, 1, (400, 2))
    (note,) = singularities(formula, X, make_symbols(2, ["a", "b"]))
    assert note.startswith("the denominator of div, (sin(b)**2 + 3.81)*tanh(a + sin(b))**2, reaches 0 inside the "
                           "domain: the quotient reads 0.4")  # 2/(sin(b)**2 + 3.81) is 0.41 to 0.525
    assert "but the protected div gives 1 on them" in note


def test_removable_zeros_are_named_only_where_the_protected_value_is_not_the_limit():
    from srnet.formulas import singularities

    X = np.linspace(-3, 3, 200)[:, None]  # (0 itself is not a sample)
    (note,) = singularities(_one_input((("add", 0, 0), ("div", 1, 0))), X)  # 2x/x: 2, where div gives 1
    assert "the quotient reads 2 beside those zeros, but the protected div gives 1" in note
    assert singularities(_one_input((("sin", 0, 0), ("div", 1, 0))), X) == []  # sin(x)/x: 1 both
    x_sin_x = (("square", 0, 0), ("sin", 0, 0), ("mul", 2, 0), ("div", 3, 1))  # x sin(x) / x**2: 1 both
    assert singularities(_one_input(x_sin_x), X) == []
    assert singularities(_one_input((("add", 0, 0), ("div", 1, 0))), X + 3.5) == []  # no zero in [0.5, 6.5]


def test_the_printed_front_says_why_a_selected_formula_stands_off_it(capsys):
    """A formula chosen for having no pole is off the front (report.json's "pareto" leaves it out), yet the
    printed front listed it "<- selected" among the front's formulas with no word of why."""
    from srnet.cli import _print_explanation

    torch.manual_seed(0)
    X = np.random.default_rng(0).uniform(-1, 1, size=(80, 1))
    net = torch.nn.Sequential(torch.nn.Linear(1, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1)).double()
    model = SRNet(max_generations=5, random_state=0, simplify_seconds=0, direct_budget=0).fit(net, X)
    source = model.report()["formula_source"]
    _print_explanation(model)
    printed = capsys.readouterr().out
    assert "<- selected" in printed and "off the front" not in printed
    model.pareto_ = [entry for entry in model.pareto_ if entry["source"] != source]  # as where a pole dominated it
    _print_explanation(model)
    (line,) = [line for line in capsys.readouterr().out.splitlines() if "<- selected" in line]
    assert line.endswith("<- selected (off the front)")  # (no formula with a pole beats it: no reason to give)


def _summary(source, complexity, r2, poles=False):
    return {"source": source, "complexity": complexity, "validation_agreement": None,
            "figures": {"domain": {"r2": r2, "rmse": 1 - r2}}, "singularities": ["a pole"] if poles else []}


def test_the_off_front_note_gives_the_pole_as_the_reason_only_where_it_is_one():
    """The printed front said "it has no pole in the domain" of a chain selected by select="layerwise" beside a
    pole-free linear map that beat it (a diff review); the plot's key had its own rule, now the one for both."""
    from srnet.formulas import off_front_note

    chain, line = _summary("layerwise", 125, 0.996), _summary("linear", 8, 0.999999)
    assert off_front_note([chain, line], [line], "layerwise") == " (off the front)"
    poled = _summary("direct-8", 10, 0.9999, poles=True)
    pole_free = _summary("direct-16", 20, 0.999)
    assert off_front_note([poled, pole_free], [poled], "direct-16") == " (off the front: it has no pole in the domain)"
    assert off_front_note([poled, pole_free], [poled, pole_free], "direct-16") == ""  # on the front


def _two_class_workload(y, **kw):
    from srnet.loading import Workload

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Softmax(dim=1))
    X = np.random.default_rng(0).normal(size=(len(y), 2))
    return Workload("w", net, X, ["a", "b"], y=np.asarray(y), is_classifier=True, architecture="mlp", **kw)


def test_classes_give_the_outputs_labels_and_network_fit_reads_the_target_by_them():
    """A network trained with output 0 = malignant, its labels sorted benign, malignant: accuracy 0.007 and each
    class printed under the other's name; --classes malignant,benign reads them as the network does."""
    from srnet.cli import _class_labels
    from srnet.loading import network_fit, with_classes

    work = _two_class_workload(["benign", "malignant", "benign", "malignant", "benign", "benign"])
    scores = work.model(torch.tensor(work.X, dtype=torch.float32)).detach().numpy()
    predicted = scores.argmax(axis=1)
    sorted_accuracy = float(np.mean(predicted == np.array([0, 1, 0, 1, 0, 0])))
    assert network_fit(work)["network_accuracy"] == pytest.approx(sorted_accuracy)
    given = with_classes(work, "malignant, benign")
    assert given.classes == ("malignant", "benign")
    fit = network_fit(given)
    assert fit["network_accuracy"] == pytest.approx(float(np.mean(predicted == np.array([1, 0, 1, 0, 1, 1]))))
    assert fit["network_fit_note"] == "labels read as outputs 0..1 in the order given: malignant, benign"
    assert _class_labels(given, None).tolist() == ["malignant", "benign"]
    assert _class_labels(work, None).tolist() == ["benign", "malignant"]
    numeric = with_classes(_two_class_workload([1.0, 0.0, 1.0, 0.0]), "1,0")  # a CSV's labels read as floats
    assert network_fit(numeric)["network_accuracy"] == pytest.approx(
        float(np.mean(numeric.model(torch.tensor(numeric.X, dtype=torch.float32)).argmax(1).numpy()
                      == np.array([0, 1, 0, 1]))))


@pytest.mark.parametrize("text, message", [
    ("benign", "--classes names 1 label, and the network has 2 outputs: give one label per output, in order"),
    ("benign,,", "--classes names 1 label, and the network has 2 outputs"),
    ("benign,benign", "--classes names 'benign' twice: each output is one class"),
    ("benign,other", "--classes has no output for the target's label malignant; its labels: benign, other"),
])
def test_classes_that_cannot_be_the_outputs_labels_are_refused_in_one_line(text, message):
    from srnet.loading import with_classes

    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        with_classes(_two_class_workload(["benign", "malignant"] * 3), text)


def test_classes_of_a_regression_network_are_refused():
    from srnet.loading import Workload, with_classes

    net = torch.nn.Sequential(torch.nn.Linear(2, 1))
    work = Workload("w", net, np.zeros((4, 2)), ["a", "b"], y=np.arange(4.0))
    with pytest.raises(ValueError, match="^--classes names a classifier's outputs, and this network is none"):
        with_classes(work, "a")


def test_a_loose_figure_where_the_network_barely_varies_says_so_with_the_rmse():
    """A domain at a slice a = 0 of a network of a*sin(b) + a**2/2 read R2 -6.3 for a formula 0.003 off it, and
    the warning said only that a longer search may do better.  Oracle: a region's spread is RMSE / sqrt(1 - R2),
    the target's standard deviation."""
    from srnet.metrics import QUIET_SHARE, quiet_network_text

    rows = {"rmse": 0.01, "r2": 0.9999}  # spread 1.0
    quiet = {"rmse": 0.00309, "r2": -6.29}  # spread 0.00309 / sqrt(7.29) = 0.00114
    assert quiet_network_text(quiet, rows) == (
        "; the network varies little on the domain (its spread 0.00114 against 1 on the rows), where R2 weighs "
        "small misses: the formula's RMSE there is 0.00309")
    lively = {"rmse": 0.5, "r2": 0.75}  # spread 1.0: as on the rows
    assert quiet_network_text(lively, rows) == ""
    edge = {"rmse": QUIET_SHARE * 1.0001 * np.sqrt(0.5), "r2": 0.5}  # spread just above the share
    assert quiet_network_text(edge, rows) == ""
    assert quiet_network_text({"rmse": 0.0, "r2": 1.0}, rows) == ""  # exact: no spread to read
    assert quiet_network_text(None, rows) == "" and quiet_network_text(quiet, None) == ""
    assert quiet_network_text({"rmse": np.inf, "r2": -np.inf}, rows) == ""


def test_a_removable_zero_is_judged_only_beside_it_and_sample_by_sample():
    """A diff review's cases: sin(x)/x on 30 rows (the nearest |x| 0.83, its quotient 0.89) and sin(2x)/x on
    [1e-4, 3] (x never 0 there: the protection never fires) were named; 2xy/x, whose limit 2y spans the
    protected 1 for y in [-1, 1], was not."""
    from srnet.expr.program import Program
    from srnet.formulas import Formula, singularities

    sinc = _one_input((("sin", 0, 0), ("div", 1, 0)))
    for seed in range(5):
        assert singularities(sinc, np.random.default_rng(seed).uniform(-10, 10, (30, 1))) == []
    sin_2x = _one_input((("add", 0, 0), ("sin", 1, 1), ("div", 2, 0)))
    assert singularities(sin_2x, np.random.default_rng(0).uniform(1e-4, 3, (2000, 1))) == []
    two_xy = Formula("direct-4", (Program(2, (), (("mul", 0, 1), ("add", 2, 2), ("div", 3, 0)), (4,), [[1.0]],
                                          [0.0]),))
    np.testing.assert_allclose(two_xy(np.array([[0.0, -1.0], [1e-9, -1.0]]))[:, 0], [1.0, -2.0])
    (note,) = singularities(two_xy, np.random.default_rng(0).uniform(-1, 1, (400, 2)))
    assert "reaches 0 inside the domain: the quotient reads -" in note and "protected div gives 1 on them" in note


def test_no_constant_input_warning_where_the_domain_gives_the_input_a_width():
    """A box domain that gives the rows' constant x1 a range is fitted across it: the formula reading x1 was
    warned of as a number all the same (a diff review's case: it followed the network at x1 = 3.4)."""
    rng = np.random.default_rng(7)
    X = np.column_stack([rng.uniform(-1, 1, 200), np.full(200, 2.5)])
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 6), torch.nn.Tanh(), torch.nn.Linear(6, 1)).double().eval()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        model = SRNet(max_generations=10, random_state=0, simplify_seconds=0, domain=[(-1, 1), (1.5, 3.5)]).fit(net, X)
    assert "x1" in {s.name for s in model.expression_.free_symbols}
    assert not [w for w in seen if "constant on every row fitted on" in str(w.message)]


def test_an_activation_with_tan_poles_beyond_the_checked_range_is_warned_of():
    """tan(x/4), infinite at x = 2*pi, built in silence where 1/(x - 7) was warned of (an activations review):
    tan has no guard, so its poles were never looked for.  Oracle: x/4 = pi/2 + k*pi."""
    import re

    import sympy

    from srnet.activations import ExpressionActivation
    from srnet.activations.programs import poles_beyond

    x = sympy.Symbol("x")
    with pytest.warns(UserWarning, match=r"is singular at x = -6\.28319, x = 6\.28319, x = -18\.8496, x = 18\.8496 "
                                         r"and \d+ more up to \|x\| = 10000 \(the argument of tan reaches an odd "
                                         r"multiple of pi/2 there\), beyond the range \[-5, 5\]"):
        activation = ExpressionActivation.from_sympy(sympy.tan(x / 4), x)
    # (up to |x| = 1000, where the search grid's step is below the poles' spacing of 4*pi)
    poles = [at for at, what in poles_beyond(activation.program, (-5, 5)) if what == "argument of tan" and abs(at) < 1e3]
    expected = sorted(p for p in (4 * (np.pi / 2 + k * np.pi) for k in range(-100, 100)) if abs(p) < 1e3)
    np.testing.assert_allclose(sorted(poles), expected, rtol=1e-8)
    with pytest.warns(UserWarning, match=re.escape("(the argument of tan reaches an odd multiple of pi/2 and the "
                                                   "denominator of div reaches 0 there)")):
        ExpressionActivation.from_sympy(sympy.tan(x / 4) / (x - 9), x)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ExpressionActivation.from_sympy(sympy.tan(sympy.sin(x)) + x, x)  # |sin x| < pi/2: no pole anywhere
        ExpressionActivation.from_sympy(sympy.sin(x), x)


def test_a_neurons_formula_wild_beyond_the_pre_activations_seen_is_warned_of():
    """A ReLU layer's formula 0.006074*x*(x + cos(x) + 2)**4 + 0.07012, fitted on pre-activations in [-2.05, 2.19],
    reads 85.5 at x = 5 of the checked range, and was returned without a word (an activations review)."""
    from srnet.activations import activation_from_neurons, neuron_pairs

    torch.manual_seed(0)
    torch.nn.Linear(2, 8), torch.nn.Linear(8, 1)  # (the draws of the reviewer's first network, before X)
    X = torch.randn(400, 2)
    net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    pre, post = neuron_pairs(net, X.numpy(), "0", "1")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        found = activation_from_neurons(pre, post, max_seconds=None, max_generations=3000, random_state=0)
    said = [str(w.message) for w in seen if "was fitted on pre-activations in" in str(w.message)]
    g5 = float(found.activation(torch.tensor([5.0], dtype=torch.float64))[0])
    assert (abs(g5) > post.max() + 2 * np.ptp(post)) == bool(said)  # warned exactly where it is wild
    assert said and said[0].startswith("the neurons' formula g(x) = ")
    assert f"on the range [-5, 5] it is checked on, it reads {g5:.4g} at 5: an extrapolation" in said[0]
