"""Stop 72's mends from a review of the activation user's path."""

import warnings

import pytest
import sympy

from srnet.activations import VARIABLE as x
from srnet.activations import ExpressionActivation


@pytest.mark.parametrize("expr", [sympy.exp(sympy.sin(x**2)), sympy.log(1 + x**2) * sympy.sin(x**2),
                                  sympy.exp(sympy.cos(x**3))])
def test_no_protection_warning_where_no_protection_fires(expr):
    """exp(sin(x**2)) was warned of as "srnet computes its protected primitives (...): differs from the formula
    from about x = 4.353e+05 (1.8 where the formula is 1.8)": float64 rounding of an ill-conditioned formula far
    out, where no primitive's protection fires."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ExpressionActivation.from_sympy(expr, check_range=None)


def test_the_protection_warning_still_names_the_primitive_that_fires():
    with pytest.warns(UserWarning, match=r"exp\(a\) as exp\(min\(a, 80\)\).*from about x = 80.6 \(80 where"):
        ExpressionActivation.from_sympy(sympy.log(1 + sympy.exp(x)), check_range=None)


@pytest.mark.parametrize("fused", [True, False])
def test_a_power_of_a_sigmoid_is_built_on_the_sigmoid(fused):
    """(1 + exp(-x))**-4, sigmoid(x)**4, was built as 1/(1 + exp(-x))**4: its unfused gradient at x = -50 in
    float32 was NaN (inf * 0), which spread to every weight, where torch.sigmoid(x)**4's is 0."""
    import torch

    act = ExpressionActivation.from_sympy((1 + sympy.exp(-x)) ** -4, check_range=None, fused=fused)
    assert [name for name, _, _ in act.program.steps] == ["sigmoid", "square", "square"]
    t = torch.tensor([-50.0, 1.0, 30.0], requires_grad=True)
    act(t).sum().backward()
    u = t.detach().clone().requires_grad_()
    (torch.sigmoid(u) ** 4).sum().backward()
    assert torch.allclose(t.grad, u.grad, atol=1e-7) and torch.isfinite(t.grad).all()
    inside = ExpressionActivation.from_sympy(x / (1 + sympy.exp(-2 * x)) ** 2, check_range=None)
    assert "div" not in [name for name, _, _ in inside.program.steps]


def test_an_activations_printed_formula_computes_what_it_does_on_its_range():
    """Constants were always printed to 4 digits: log(|cos((1.565469*x + 0.326)**3)| + 1/2) printed 1.565, which
    reads -0.037 at x = 4.5 where the activation computes -0.450.  Now as srnet's explanations print theirs:
    more digits where 4 would move the formula on the activation's range; 4 where they do not."""
    import numpy as np
    import torch

    from srnet.expr.symbolic import values_at

    act = ExpressionActivation.from_sympy(sympy.log(sympy.Abs(sympy.cos((1.565469 * x + 0.326) ** 3)) + 0.5))
    points = np.linspace(-5, 5, 41)
    printed = values_at(sympy.sympify(act.formula, locals={"x": x}), {"x": points}, len(points))
    computed = act(torch.tensor(points)).numpy()
    finite = np.isfinite(printed) & np.isfinite(computed)
    assert finite.sum() > 30 and np.max(np.abs(printed - computed)[finite]) < 1e-2 * np.std(computed[finite])
    assert "1.565469" in act.formula
    assert ExpressionActivation.from_sympy(sympy.sin(x / 5) + x / 7).formula == "0.1429*x + sin(0.2*x)"


def test_a_cap_that_passes_over_its_most_faithful_formula_for_a_pole_says_so():
    """--complexity 23 selected a 15-node formula in silence while the front listed a more faithful 23-node one
    marked "pole in the domain" (a reviewer's find): the formula passed over is named."""
    from test_formulas_mutants import regression

    from srnet.formulas import passed_over_for_a_pole, select

    short, poled, long = regression(15, 0.17), regression(23, 0.15, poles=True), regression(40, 0.05)
    candidates = [short, poled, long]
    chosen = select(candidates, 23)
    assert chosen is short
    assert passed_over_for_a_pole(candidates, 23, chosen) is poled
    assert passed_over_for_a_pole(candidates, 15, select(candidates, 15)) is None  # nothing passed over
    assert passed_over_for_a_pole([short, regression(23, 0.16)], 23, short) is None  # pole-free, less faithful


def test_a_poor_fit_asks_of_arch_only_where_there_is_one():
    """A TorchScript network (no --arch) of R2 0.469 on diabetes was asked "is --arch right"; a poor fit may also
    be a noisy target, which the question now allows."""
    import numpy as np
    import torch

    from srnet.loading import Workload, fit_warning

    net = torch.nn.Sequential(torch.nn.Linear(2, 1))
    y = np.array([0.3, 1.7, 2.2, 5.1])
    scripted = fit_warning(Workload("w", net, np.zeros((4, 2)), ["a", "b"], y=y), {"network_r2": 0.469})
    assert "--arch" not in scripted and scripted.startswith("the network's R2 against the target is 0.469: are the "
                                                            "columns in the order it was trained on")
    assert scripted.endswith("(or is the target that noisy: then nothing is wrong)")
    loaded = fit_warning(Workload("w", net, np.zeros((4, 2)), ["a", "b"], y=y, architecture="mlp"),
                         {"network_r2": 0.469})
    assert "is --arch right (its activation, its widths), are the columns" in loaded


def test_a_neurons_formula_that_turns_back_beyond_the_range_seen_is_warned_of():
    """An untrained tanh layer's pre-activations in [-2.1, 2.0] gave 1.021*sin(sin(x)) at R2 0.999, -0.70 at x = 4
    where tanh is 0.999, returned without a word (a reviewer's find): its values never left the outputs' span."""
    from types import SimpleNamespace

    import numpy as np

    from srnet.activations.routes import _warn_if_turns_beyond

    z = np.linspace(-2.1, 2.0, 300)

    def formula(f):
        return SimpleNamespace(predict=lambda X: f(X[:, 0]))

    with pytest.warns(UserWarning, match=r"outputs rise with their pre-activations on all the range seen, "
                                         r"\[-2.1, 2\], but the formula g\(x\) = sin\(x\) turns back beyond it \(by x = 2\.2,"):
        _warn_if_turns_beyond(formula(np.sin), z, np.tanh(z), (-5.0, 5.0), "sin(x)")
    with pytest.warns(UserWarning, match="outputs fall with .* turns back"):  # falling neurons, and leftwards
        _warn_if_turns_beyond(formula(lambda v: -np.sin(v)), z, -np.tanh(z), (-5.0, 5.0), "-sin(x)")
    with pytest.warns(UserWarning, match=r"by x = -0\.4"):  # turning back leftwards only: x**2 on z >= 0
        zr = np.linspace(0.0, 2.0, 50)
        _warn_if_turns_beyond(formula(np.square), zr, zr**2, (-5.0, 5.0), "x**2")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _warn_if_turns_beyond(formula(np.tanh), z, np.tanh(z), (-5.0, 5.0), "tanh(x)")
        gelu = z * 0.5 * (1 + np.tanh(0.8 * z))  # not monotone where seen: nothing to hold the formula to
        _warn_if_turns_beyond(formula(np.sin), z, gelu, (-5.0, 5.0), "sin(x)")


@pytest.mark.parametrize("output", [1.0, True, "1"])
def test_collapse_inputs_refuses_an_output_that_is_not_an_index(output):
    """output=1.0 was a TypeError from tuple indexing ('tuple indices must be integers'), and True read as 1."""
    import numpy as np

    from srnet.activations.programs import collapse_inputs
    from srnet.expr.program import Program

    program = Program(2, (), (("sin", 0, 0), ("cos", 1, 0)), (2, 3), np.eye(2), np.zeros(2))
    with pytest.raises(TypeError, match=f"output must be a whole number .*got {output!r}"):
        collapse_inputs(program, output=output)
    assert collapse_inputs(program, output=np.int64(1)).steps == (("sin", 0, 0), ("cos", 0, 0))


def test_a_formulas_outputs_are_rounded_alike_so_a_shared_part_reads_one_way():
    """An iris classifier's logits were rounded to 4, 5 and 5 digits, each alone: the part all three share was
    named u2 in two and spelled out in the third (a reviewer's find)."""
    import numpy as np

    from srnet.expr.symbolic import round_faithfully, round_faithfully_together

    t = sympy.Symbol("t", real=True)
    part = sympy.tanh(sympy.Float(1.23456789) * t)
    near_cancelling = 100 * part - sympy.Float(123.456789) * t  # needs 5 digits where the part alone needs 4
    points = {"t": np.linspace(-0.1, 0.1, 16)}
    alone = [round_faithfully(e, 4, points) for e in (part, near_cancelling)]
    assert str(alone[0]) == "tanh(1.235*t)" and "1.2346" in str(alone[1])
    together = round_faithfully_together([part, near_cancelling], 4, points)
    assert [str(e) for e in together] == ["tanh(1.2346*t)", "-123.46*t + 100*tanh(1.2346*t)"]
    assert round_faithfully_together([part], 4, points) == [alone[0]]


def test_values_beyond_the_networks_dtype_advise_what_a_command_line_user_can_do():
    """The advice read 'model.double()', Python to a user of srnet explain, whose network is read in the dtype it
    was saved in."""
    import numpy as np
    import torch

    from srnet.probe import probe

    net = torch.nn.Sequential(torch.nn.Linear(2, 1))
    with pytest.raises(ValueError, match=r"up to 1e\+39, beyond the largest torch.float32 .*model.double\(\), "
                                         r"before saving it for srnet explain"):
        probe(net, np.array([[1e39, 0.0], [0.0, 1.0]]))


def test_rounding_outputs_together_is_set_only_by_outputs_whose_digits_were_measured(monkeypatch):
    """A diff review's finds: an output printed exact (no rounding faithful) sent the others back to their own
    counts, and one too large to measure forced 12 digits on every other output; a generator was refused."""
    import numpy as np

    import srnet.expr.symbolic as symbolic
    from srnet.expr.symbolic import round_faithfully_together

    t = sympy.Symbol("t", real=True)
    part = sympy.tanh(sympy.Float(1.23456789) * t)
    near_cancelling = 100 * part - sympy.Float(123.456789) * t
    exact = sympy.sin(t + sympy.Float(1641913388.37779))
    points = {"t": np.linspace(-0.1, 0.1, 16)}
    out = round_faithfully_together((e for e in [exact, near_cancelling, part]), 4, points)
    assert out[0] == exact and str(out[2]) == "tanh(1.2346*t)"
    monkeypatch.setattr(symbolic, "FAITHFUL_TRIES_NODES", 5)  # the near-cancelling sum is "too large" now
    assert [str(e) for e in round_faithfully_together([part, near_cancelling], 4, points)][0] == "tanh(1.235*t)"


def test_an_activations_printed_formula_is_quiet_and_off_the_grid_points():
    """repr warned 'overflow encountered in square' for exp(x**4) (built without a range check), and a pole on a
    grid point of the rounding's check (x = 1/3) printed 1.23456/(x - 0.333333333333333)."""
    act = ExpressionActivation.from_sympy(1.23456 / (x - sympy.Rational(1, 3)), check_range=None)
    assert act.formula in ("1.235/(x - 0.3333)", "1.2346/(x - 0.33333)")  # (5 digits where 4 move it beside the pole)
    with pytest.warns(UserWarning, match="exp"):  # (its capped exp: warned of as it is built)
        steep = ExpressionActivation.from_sympy(1.23456 * sympy.exp(x**4), check_range=None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "exp(x**4)" in repr(steep)
