"""From stop 70's reviews: an SRNet formula that reads an input constant on every row is warned of (as
CGPRegressor's and X-Net's are); a report's layer LaTeX and plots titles as their texts (see their own files)."""

import warnings

import numpy as np
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
    assert line.endswith("<- selected (off the front: it has no pole in the domain)")
