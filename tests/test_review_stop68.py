"""Stop 68: findings of this stop's own runs and of its review."""

import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import sympy
import torch
from hypothesis import given
from hypothesis import strategies as st

from srnet.activations import DegenerateActivationError, ExpressionActivation, check_protected_points
from srnet.activations.from_sympy import program_from_sympy
from srnet.activations.routes import make_activation
from srnet.bench.suites import parse_seeds, seeds_named
from srnet.expr import symbolic
from srnet.expr.symbolic import printed
from srnet.metrics import format_r2

x = sympy.Symbol("x")


def _program(expr):
    return program_from_sympy(expr, [x], protected=True)


@pytest.mark.parametrize("expr, at, value, limit", [
    # the formula a reviewer's activation study found: the protected division's 1 at 0/0 inside a sine
    (1.955 * sympy.sin((1.414 * x / sympy.sqrt(abs(x)) - sympy.sqrt(abs(x))) * sympy.cos(sympy.cos(x))) + 0.3655,
     "0", "1.371", "0.365"),
    ((1 - sympy.cos(x)) / x, "0", "1", "0"),
    (x + (x - 1) / sympy.sqrt(abs(x - 1)), "1", "2", "1"),  # away from 0
])
def test_a_routes_formula_with_a_protected_value_it_does_not_tend_to_is_refused(expr, at, value, limit):
    with pytest.raises(DegenerateActivationError, match=rf"gives {value} at x = {at}, where it reads {limit}\d* "
                                                        r"on both sides \(1e-08 away\): the denominator of div is 0 there"):
        make_activation(_program(expr), normalize=False)
    # without a range to check on, on the default one (a route's formula keeps none)
    with pytest.raises(DegenerateActivationError, match=rf"gives {value} at x = {at}, where it reads {limit}"):
        make_activation(_program(expr), normalize=False, check_range=None)
    # built on purpose with the protected semantics, the module keeps it (the check is the routes')
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ExpressionActivation(_program(expr))


@pytest.mark.parametrize("expr", [
    sympy.sin(x) / x,                                      # 1 at 0: its limit
    (sympy.exp(x) - 1) / x,
    sympy.sin(x) ** 2 / x ** 2 + x,                       # protected on |x| < 1e-5, its limit there
    sympy.log(abs(x)) + x,                                 # unbounded: no limit, left to check_activation
    x * sympy.log(abs(x)),
    sympy.sin(x - 1) / (x - 1),
])
def test_a_protected_value_that_is_the_formulas_limit_passes(expr):
    check_protected_points(_program(expr))
    make_activation(_program(expr), normalize=False)


def test_a_protected_point_outside_the_range_is_not_read():
    program = _program(x + (x - 7) / sympy.sqrt(abs(x - 7)))
    check_protected_points(program, (-5, 5))
    with pytest.raises(DegenerateActivationError, match="at x = 7,"):
        check_protected_points(program, (-10, 10))


def test_the_jump_is_measured_against_the_formulas_range():
    # a protected 1 where the formula tends to 0: beside 2000*tanh(x) (a range of about 4000) a rounding,
    # beside 100*tanh(x) a jump
    for scale, refused in ((2000, False), (100, True)):
        program = _program(scale * sympy.tanh(x) + (1 - sympy.cos(x)) / x)
        if refused:
            with pytest.raises(DegenerateActivationError, match="gives 1 at x = 0, where it reads 0 "):
                check_protected_points(program)
        else:
            check_protected_points(program)


class SlowToOrder(sympy.Function):
    """A term whose printing spins while the printer orders terms (see test_review_stop67)."""

    nargs = 1

    def _sympystr(self, printer):
        while printer._settings.get("order") != "none":  # (pure Python: the time limit interrupts it)
            pass
        return f"slow({printer._print(self.args[0])})"

    def _latex(self, printer):
        while printer._settings.get("order") != "none":
            pass
        return rf"\operatorname{{slow}}({printer._print(self.args[0])})"


def test_a_formula_that_was_slow_to_order_is_printed_unordered_at_once_the_next_time(monkeypatch):
    monkeypatch.setattr(symbolic, "PRINT_SECONDS", 0.3)
    monkeypatch.setattr(symbolic, "_SLOW_KEPT", 2)
    monkeypatch.setattr(symbolic, "_SLOW_TO_ORDER", {})
    expr = 2 * SlowToOrder(x) + x
    started = time.perf_counter()
    first = printed(expr)
    assert time.perf_counter() - started >= 0.3  # waited out the limit once
    started = time.perf_counter()
    assert printed(expr) == first and printed(expr, latex=True).replace(" ", "") in (
        r"2\operatorname{slow}(x)+x", r"x+2\operatorname{slow}(x)")
    assert time.perf_counter() - started < 0.2  # not again, as text or as LaTeX
    # the newest few remembered: two more slow formulas push the first out
    for other in (SlowToOrder(x) + 1, SlowToOrder(x) - x):
        printed(other)
    assert list(symbolic._SLOW_TO_ORDER) == [SlowToOrder(x) + 1, SlowToOrder(x) - x]
    assert printed(x**2 + 1) == "x**2 + 1" and x**2 + 1 not in symbolic._SLOW_TO_ORDER


@given(st.lists(st.integers(0, 40), min_size=1))
def test_a_batch_names_its_seeds_as_seeds_reads_them(seeds):
    text = seeds_named(seeds)
    word, listed = text.split(" ")
    unique = sorted(set(seeds))  # (a seed given twice runs once)
    assert word == ("seed" if len(unique) == 1 else "seeds")
    assert parse_seeds(listed) == tuple(unique)
    assert len(listed.split(",")) == 1 + sum(b - a > 1 for a, b in zip(unique, unique[1:]))


def test_the_plan_line_names_the_seeds(tmp_path, capsys):
    from srnet.cli import main

    assert main(["bench", "nguyen:nguyen-1", "--out", str(tmp_path / "run"), "--seeds", "3", "--seconds", "0.2",
                 "--epochs", "2", "--quiet"]) == 0
    assert "nguyen:nguyen-1: 1 job (1 dataset, seed 3): 1 to run" in capsys.readouterr().out


def test_an_output_the_pooled_r2_hides_is_named():
    """A reviewer's two-output network (outputs scaled by 1000 and 0.001): the selected formula read R2 0.994
    pooled, its second output 0.79 (worse than the linear map's 0.81), and nothing warned."""
    import math

    from srnet.extract import _warn_if_loose
    from srnet.metrics import loose_outputs

    assert loose_outputs({"r2": 0.994, "r2_per_output": [0.9943, 0.793, -math.inf, None, 0.95]}) == [(1, 0.793)]
    assert loose_outputs({"r2": 0.5}) == [] and loose_outputs(None) == []
    domain = {"r2": 0.994285, "rmse": 1.0, "r2_per_output": [0.994285, 0.792986, 0.31]}
    with pytest.warns(UserWarning) as caught:
        _warn_if_loose({"domain": domain}, False, [], False)
    assert [str(w.message) for w in caught] == [
        "the selected formula follows the network only loosely on the domain for y1 (R2 0.792986) and y2 (R2 "
        "0.310000), which the pooled R2 0.994285 hides (it weighs outputs by their variance); read those outputs as "
        "a sketch; each output's R2 is in r2_per_output of the figures (pareto_ holds the best formula of each "
        "size: select=N)"]
    # a loose pooled figure is warned of once, as before; a classifier is judged by its classes
    with pytest.warns(UserWarning) as caught:
        _warn_if_loose({"domain": {**domain, "r2": 0.5}}, False, [], False)
    assert len(caught) == 1 and "(R2 0.500000)" in str(caught[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _warn_if_loose({"domain": {**domain, "agreement": 0.99}}, True, [], False)
        _warn_if_loose({"domain": {**domain, "r2_per_output": [0.995, 0.93]}}, False, [], False)


@pytest.mark.filterwarnings("ignore:the selected formula follows the network only loosely")
def test_fidelity_gives_each_outputs_figures_beside_the_pooled_ones():
    from sklearn.metrics import mean_squared_error, r2_score

    from srnet import SRNet

    torch.manual_seed(0)
    network = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    with torch.no_grad():
        network[2].weight[1] *= 1e-3
    rng = np.random.default_rng(0)
    X, X_new = rng.uniform(-2, 2, (80, 2)), rng.uniform(-2, 2, (50, 2))
    model = SRNet(max_generations=20, random_state=0, simplify_seconds=0, direct_budget=0).fit(network, X)
    with torch.no_grad():
        output = network(torch.as_tensor(X_new, dtype=torch.float32)).double().numpy()
    predicted = model.predict(X_new)
    figures = model.fidelity(network, X_new)
    assert figures["r2_per_output"] == pytest.approx(r2_score(output, predicted, multioutput="raw_values"))
    assert figures["rmse_per_output"] == pytest.approx(
        np.sqrt(mean_squared_error(output, predicted, multioutput="raw_values")))
    assert figures["r2"] == pytest.approx(r2_score(output, predicted, multioutput="variance_weighted"))
    assert figures["r2"] != pytest.approx(r2_score(output, predicted))  # pooled, not the outputs' mean


class _Scaled(torch.nn.Module):
    def forward(self, h):
        return h * torch.tensor([1000.0, 0.001])


def test_srnet_explain_names_an_output_the_pooled_r2_hides(capsys):
    """The reviewer's network: output 0 of slow units scaled by 1000, output 1 of fast ones by 0.001."""
    from srnet import SRNet
    from srnet.cli import _print_explanation

    rng = np.random.default_rng(23)
    torch.manual_seed(23)
    X = rng.uniform(-2, 2, (300, 2))
    network = torch.nn.Sequential(torch.nn.Linear(2, 24), torch.nn.Tanh(), torch.nn.Linear(24, 2), _Scaled())
    with torch.no_grad():
        network[0].weight[12:].mul_(5)
        network[2].weight[0, 12:] = 0
        network[2].weight[1, :12] = 0
        network[2].weight[0, :12] *= 3
    # the layer-wise chain, the formula the reviewer was given ("best" picks among formulas by the pooled figures)
    with pytest.warns(UserWarning, match=r"loosely on the domain for y1 \(R2 0\.\d+\), which the pooled R2 0\.99"):
        model = SRNet(max_generations=200, random_state=0, simplify_seconds=0, select="layerwise").fit(network, X)
    domain = model.regions_["domain"]
    assert domain["r2"] >= 0.99 and domain["r2_per_output"][1] < 0.9
    _print_explanation(model)
    assert (f"  warning: the formula follows the network only loosely on the domain for y1 (R2 "
            f"{format_r2(domain['r2_per_output'][1])}), which the pooled R2 {format_r2(domain['r2'])} hides (it "
            f"weighs outputs by their variance); read that output as a sketch (each output's R2 is printed beside "
            f"its formula above)") in capsys.readouterr().out


def test_each_outputs_plot_is_titled_with_its_own_figures(tmp_path, monkeypatch):
    """network_vs_formula_y1.png was titled with the pooled figures (domain 0.98) where y1's own read 0.91."""
    import json

    import matplotlib.pyplot as plt

    import srnet.plots as plots
    from srnet.cli import main

    titles = {}

    def keep(fig, path):
        titles[Path(path).name] = fig.get_suptitle()
        plt.close(fig)
        return Path(path)

    monkeypatch.setattr(plots, "save_figure", keep)
    torch.manual_seed(0)
    network = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))
    with torch.no_grad():
        network[2].weight[1] *= 1e-3
    torch.jit.script(network).save(str(tmp_path / "net.pt"))
    np.save(tmp_path / "X.npy", np.random.default_rng(0).uniform(-2, 2, (80, 2)))
    assert main(["explain", str(tmp_path / "net.pt"), "--data", str(tmp_path / "X.npy"), "--out",
                 str(tmp_path / "out"), "--generations", "30", "--seed", "0"]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    for j in (0, 1):
        figures = ", ".join(f"{name} {format_r2(report['regions'][name]['r2_per_output'][j])}"
                            for name in ("rows", "domain", "beyond"))
        assert f"; R2 of y{j} against the network: {figures})" in titles[f"network_vs_formula_y{j}.png"]


def test_score_with_scikit_learns_argument_order_names_the_model_first():
    """score(X, y), scikit-learn's order, read y as X and advised reshaping it; the model is checked first."""
    from srnet.extract import SRNet

    X = np.random.default_rng(0).uniform(-1, 1, size=(60, 2))
    net = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)).double()
    model = SRNet(max_seconds=None, max_generations=5, progress=False).fit(net, X)
    with pytest.raises(TypeError, match="cannot explain a ndarray"):
        model.score(X, X[:, 0])
    with pytest.raises(TypeError, match="cannot explain a ndarray"):
        model.fidelity(X, X[:, 0])
