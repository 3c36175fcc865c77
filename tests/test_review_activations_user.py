"""Activations as a researcher derives and uses them (a report-only review): standardised formulas have unit
variance for growing formulas too, a NaN formula is named as such, and formulas print as srnet's others do."""

import gzip
import re
import warnings

import numpy as np
import pytest
import sympy
import torch
from numpy.polynomial.hermite_e import hermegauss

from srnet.activations import DegenerateActivationError, ExpressionActivation
from srnet.activations.from_sympy import program_from_sympy
from srnet.activations.programs import standardise_program

x = sympy.Symbol("x", real=True)


@pytest.mark.parametrize("expr", [x**2, sympy.exp(x), x**5, sympy.exp(2 * x), sympy.tanh(x), x * sympy.tanh(x)])
def test_a_standardised_formula_has_zero_mean_and_unit_variance_under_a_standard_normal(expr):
    """The moments came from 2001 normal quantiles, which leave out the tails beyond |x| = 3.3: exp(2x) came out
    with a standard deviation of 1.56, x**5 1.11, exp(x) 1.02.  Checked by Gauss-Hermite quadrature (exact for
    polynomials of degree < 300, and for these smooth formulas to float64's precision)."""
    program = standardise_program(program_from_sympy(expr, [x]))
    nodes, weights = hermegauss(150)
    weights = weights / weights.sum()
    g = np.asarray(program(nodes[:, None]), dtype=np.float64).reshape(-1)
    mean = weights @ g
    assert abs(mean) < 1e-9 and abs(np.sqrt(weights @ (g - mean) ** 2) - 1) < 1e-9


def test_a_kink_is_standardised_by_its_exact_moments():
    """|x| (where quadrature converges slowly): E|x| = sqrt(2/pi), Var|x| = 1 - 2/pi."""
    program = standardise_program(program_from_sympy(sympy.Abs(x), [x]))
    points = np.linspace(-3, 3, 13)
    expected = (np.abs(points) - np.sqrt(2 / np.pi)) / np.sqrt(1 - 2 / np.pi)
    np.testing.assert_allclose(np.asarray(program(points[:, None])).reshape(-1), expected, atol=1e-6)


@pytest.mark.parametrize("expr", [x + sympy.nan, sympy.Float("nan") * x, float("nan"), -sympy.oo, sympy.zoo])
def test_a_formula_that_is_nan_or_infinite_is_named_so_not_a_constant(expr):
    """x + nan is nan in sympy, with no variable left: it was refused as 'a constant cannot be an activation'."""
    with pytest.raises(ValueError, match=r"^the expression is (nan|-oo|zoo), which is not a finite real number$"):
        ExpressionActivation.from_sympy(expr)


def test_an_activation_s_formula_is_printed_as_srnet_prints_formulas():
    """3*x*sin(x) printed 3.0*x*sin(x): a whole number as a float, where srnet's formulas print 3."""
    assert ExpressionActivation.from_sympy(3 * x * sympy.sin(x)).formula == "3*x*sin(x)"
    assert ExpressionActivation.from_sympy(x * sympy.tanh(x) / 2 + 2).formula == "x*tanh(x)/2 + 2"
    assert ExpressionActivation.from_sympy(1.64123456 * sympy.sin(2 * x)).formula == "1.641*sin(2*x)"


@pytest.mark.parametrize("expr, spread", [(sympy.exp(x**2), "6.6e-24"), (sympy.exp(4 * x), "0.00053")])
def test_a_formula_whose_variance_lies_far_out_is_refused_as_flat_once_standardised(expr, spread):
    """exp(x**2) has no finite variance under N(0, 1) (its exp capped at 80, it lives beyond |x| = 8.9): it was
    standardised to 2.5e-26*exp(x**2) - 1.1e-9, flat (std 2e-19) on every input a network sees."""
    from srnet.activations.programs import DegenerateActivationError

    with pytest.raises(DegenerateActivationError, match=rf"draws its variance under N\(0, 1\) from \|x\| > 3 almost "
                                                        rf"alone: standardised, its spread where inputs lie would be "
                                                        rf"{spread}$"):
        standardise_program(program_from_sympy(expr, [x]))
    standardise_program(program_from_sympy(sympy.exp(3 * x), [x]))  # 0.036 of its spread there: kept


def _warnings_of(expr, **kwargs) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ExpressionActivation.from_sympy(expr, x, **kwargs)
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def test_a_pole_beyond_the_checked_range_is_warned_of_where_it_is():
    """1/x was refused for its pole, while 1/(x - 7) and x/(x**2 - 36) built silently: only [-5, 5] was
    checked, and a hidden layer's pre-activations often pass 5.  Poles that keep the denominator's sign
    ((x - 7)**2) or lie where sympy could not solve for them (exp(x) = 1000) are found too; a formula with no
    pole (a removable singularity, log's mild one) builds silently, and check_range=None asks for no check."""
    tail = r"beyond the range \[-5, 5\] it was checked on: keep pre-activations inside that range"
    for expr, places in [(1 / (x - 7), "x = 7"), (x / (x**2 - 36), "x = -6 and x = 6"),
                         ((x - 7) ** -2, "x = 7"), (1 / (sympy.exp(x) - 1000), "x = 6.90776")]:
        (message,) = _warnings_of(expr, protected=True)
        assert re.fullmatch(rf"g\(x\) = .* is singular at {places} \(the denominator of div reaches 0 there\), "
                            rf"{tail} \(normalise the layer's inputs\) or choose a formula without singular points",
                            message), message
    (message,) = _warnings_of(1 / sympy.cos(x / 4), protected=True)
    assert "is singular at x = -6.28319, x = 6.28319, x = -18.8496, x = 18.8496 and " in message
    assert " more up to |x| = 10000 (" in message
    quiet = [x / (1 + sympy.exp(-x)), sympy.tanh(x), sympy.sin(x) / x, sympy.sin(x - 7) / (x - 7),
             sympy.log(sympy.Abs(x - 7)), 1 / (x**2 + 1), 1 / (x - 20000)]
    assert [_warnings_of(expr, protected=True) for expr in quiet] == [[]] * len(quiet)
    assert _warnings_of(1 / (x - 7), protected=True, check_range=None) == []


def test_a_formula_refused_for_its_pole_gets_no_advice_to_protect_it_first():
    """1/x warned 'pass protected=True', then was refused for its pole either way: two messages for one
    problem, the first of them advice that could not help.  A formula that is built is still warned of."""
    for protected in (False, True):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(DegenerateActivationError, match=r"has a pole, a jump or a singular slope near"):
                ExpressionActivation.from_sympy(1 / x, x, protected=protected)
        assert [str(w.message) for w in caught] == []
    (message,) = _warnings_of(sympy.log(1 + sympy.exp(x)))
    assert message.startswith("srnet computes exp(a) as exp(min(a, 80))")


def test_an_activation_from_a_genome_refuses_what_is_no_genome_in_one_line():
    """from_genome("x") failed with "'str' object has no attribute 'spec'", where every other wrong type is a
    TypeError naming what was expected."""
    for wrong, name in (("x", "str"), (program_from_sympy(x, [x]), "Program")):
        with pytest.raises(TypeError, match=rf"^expected an srnet\.cgp\.Genome, got {name}$"):
            ExpressionActivation.from_genome(wrong)


def test_the_activation_study_s_help_gives_every_option_s_default(experiment_script, capsys):
    """--datasets, --seeds, --epochs, --batch-size, --lr, --route, --transfer-source, --pmlb-cache and --out had
    no help nor default shown; --out's (runs/activation_study in the repository) was stated nowhere."""
    study = experiment_script("activation_study")
    with pytest.raises(SystemExit):
        study.parse_args(["--help"])
    out = capsys.readouterr().out
    # each option's entry: its line (two spaces, then the option) and the lines that continue its help
    options = [" ".join(entry.split()) for entry in re.split(r"\n(?=  -)", out.split("options:\n", 1)[1])]
    assert len(options) == 18
    assert [option.split()[0] for option in options if "default: " not in option] == ["-h,", "--affine", "--json"]
    assert "(default: runs/activation_study in the repository)" in " ".join(out.split())


@pytest.mark.parametrize("argv", [["--datasets", "nosuch"], ["--datasets", "magic,nosuch", "--transfer-source", ""]])
def test_the_activation_study_refuses_an_unknown_dataset_before_reading_any(experiment_script, monkeypatch,
                                                                             tmp_path, argv):
    """--datasets nosuch read the 19,020 rows of magic (the transfer source, read first) before it refused the
    name; so did --datasets magic,nosuch."""
    cache = tmp_path / "pmlb"
    (cache / "magic").mkdir(parents=True)
    with gzip.open(cache / "magic" / "magic.tsv.gz", "wt") as table:
        table.write("a\tb\ttarget\n" + "".join(f"{k}\t{k % 3}\t{k % 2}\n" for k in range(20)))
    study = experiment_script("activation_study")
    read = []
    real = study.load_table
    monkeypatch.setattr(study, "load_table", lambda name, **kwargs: (read.append(name), real(name, **kwargs))[1])
    with pytest.raises(SystemExit) as stop:
        study.main([*argv, "--device", "cpu", "--pmlb-cache", str(cache), "--out", str(tmp_path / "study")])
    assert str(stop.value.code) == "error: dataset 'nosuch': 'nosuch' is neither a file nor a PMLB dataset"
    assert read == ["nosuch"]


def test_the_readme_recipe_turns_a_feature_of_an_explain_report_into_an_activation(tmp_path):
    """A user of `srnet explain` has report.json, not a fitted SRNet: the README's recipe reads a layer's program
    from it and makes an activation of one feature, whose values are that feature along the diagonal."""
    import json

    from srnet.activations import collapse_inputs, make_activation
    from srnet.cli import main
    from srnet.expr import Program

    assert main(["demo", "--out", str(tmp_path / "out"), "--generations", "30", "--quiet"]) == 0
    x, made = np.linspace(-3, 3, 61), 0
    for layer in json.loads((tmp_path / "out" / "report.json").read_text())["layers"]:
        program = Program.from_dict(layer["program"])
        features = program.raw_outputs(np.repeat(x[:, None], program.n_inputs, axis=1))  # along the diagonal
        for j in range(len(program.outputs)):
            try:
                act = make_activation(collapse_inputs(program, output=j), normalize=False, simplify=False)
            except DegenerateActivationError:  # (constant, linear or with a pole in [-5, 5] there: refused)
                continue
            made += 1
            np.testing.assert_allclose(act(torch.tensor(x)).detach().numpy(), features[:, j], rtol=1e-9, atol=1e-12)
    assert made >= 1


def test_the_study_s_activation_plot_draws_each_curve_whole_and_marks_the_fallback_route(experiment_script,
                                                                                        tmp_path, monkeypatch):
    """activations.png cut every curve at [-3, 5] (a found -3.057 + 4.002*sin(x)**2/x**2 lost its minimum) and did
    not say which formula came from the fallback route."""
    import matplotlib.pyplot as plt

    study = experiment_script("activation_study")
    deep = ExpressionActivation.from_sympy(-3.057 + 4.002 * sympy.sin(x) ** 2 / x ** 2, x)
    found = [{"dataset": "magic", "seed": 42, "route": "search", "formula": deep.formula, "module": deep},
             {"dataset": "magic", "seed": 43, "route": "data", "formula": "x*sin(x)",
              "module": ExpressionActivation.from_sympy(x * sympy.sin(x), x)}]
    drawn = {}
    monkeypatch.setattr(plt.Figure, "savefig", lambda figure, path, **kwargs: drawn.update(figure=figure))
    study.plot_activations(found, tmp_path / "a.png", route="data")
    ax = drawn["figure"].axes[0]
    low, high = ax.get_ylim()
    assert low < -3.057 and high >= 4  # its minimum, -3.057 at x = +-pi; ReLU's 4 at x = 4
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert f"seed 42 (route search): {deep.formula}" in labels and "seed 43: x*sin(x)" in labels


def test_an_activation_made_from_a_program_warns_of_a_singular_point_beyond_its_range_as_from_sympy_does():
    """make_activation (the data and layer routes, the README's recipe) built x + 1/(x - 7) in silence, while
    from_sympy warned of it; a search's candidates (warn=False) stay quiet."""
    from srnet.activations import make_activation

    program = program_from_sympy(x + 1 / (x - 7), [x])
    with pytest.warns(UserWarning, match=r"is singular at x = 7 \(the denominator of div reaches 0 there\)"):
        make_activation(program, normalize=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        make_activation(program, normalize=False, warn=False)
        make_activation(program_from_sympy(x + 1 / (x**2 + 1), [x]), normalize=False)


def test_the_study_s_summary_names_every_seed_s_formula_not_the_first_seed_s(experiment_script):
    """A Hybrid-Specialist row of summary.csv named the first seed's formula for all its seeds, each of which had
    its own."""
    study = experiment_script("activation_study")
    figures = dict(accuracy=0.8, roc_auc=0.85, efficiency=0.5, seconds=1.0, parameters=100)
    runs = [{"dataset": "magic", "model": "Heavy", "seed": s, "activation": "relu", **figures} for s in (1, 2, 3)]
    runs += [{"dataset": "magic", "model": "Hybrid-Specialist", "seed": s, "activation": f, **figures}
             for s, f in ((1, "[data] sin(x)"), (2, "[data] x*tanh(x)"), (3, "[data] sin(x)"))]
    rows = {row["model"]: row for row in study.summarise(runs)}
    assert rows["Hybrid-Specialist"]["activation"] == "[data] sin(x) | [data] x*tanh(x)"
    assert rows["Heavy"]["activation"] == "relu" and rows["Hybrid-Specialist"]["seeds"] == 3
