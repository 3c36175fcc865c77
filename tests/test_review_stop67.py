"""Stop 67: findings of this stop's own runs and of its user review (deriving activations)."""

import time

import pytest
import sympy

from srnet.expr import symbolic
from srnet.expr.symbolic import printed


class SlowToOrder(sympy.Function):
    """A term whose printing spins while the printer orders terms, as sympy's ordering of a 2,000-node
    candidate of kkk3's network did for minutes (the fit hung); printed in stored order, it prints at once."""

    nargs = 1

    def _sympystr(self, printer):
        if printer._settings.get("order") != "none":
            while True:  # (pure Python: the time limit interrupts it)
                pass
        return f"slow({printer._print(self.args[0])})"

    def _latex(self, printer):
        if printer._settings.get("order") != "none":
            while True:
                pass
        return rf"\operatorname{{slow}}({printer._print(self.args[0])})"


def test_a_formula_whose_terms_sympy_cannot_order_in_time_is_printed_in_stored_order(monkeypatch):
    monkeypatch.setattr(symbolic, "PRINT_SECONDS", 0.2)
    x = sympy.Symbol("x")
    expr = 2 * SlowToOrder(x) + x
    started = time.perf_counter()
    assert printed(expr) in ("2*slow(x) + x", "x + 2*slow(x)")
    assert printed(expr, latex=True).replace(" ", "") in (r"2\operatorname{slow}(x)+x", r"x+2\operatorname{slow}(x)")
    assert time.perf_counter() - started < 5
    # the ordinary case: sympy's own text, its terms ordered
    assert printed(x**2 + sympy.sin(x) + 1) == str(x**2 + sympy.sin(x) + 1) == "x**2 + sin(x) + 1"
    assert printed(x**2 + 1, latex=True) == sympy.latex(x**2 + 1)
    assert printed(3.5) == "3.5"


def test_a_protected_value_at_a_cusp_is_warned_of():
    """x/sqrt|x| + x tends to 0 at 0, where srnet's protected division gives 1: its slope is unbounded there,
    and read 1e-4 and 1e-3 away it did not settle, so no limit was taken and the activation built silently."""
    import warnings

    from srnet.activations import ExpressionActivation

    x = sympy.Symbol("x", real=True)
    for expr in (x / sympy.sqrt(sympy.Abs(x)) + x, sympy.sin(x) / sympy.sqrt(sympy.Abs(x))):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ExpressionActivation.from_sympy(expr)
        texts = [str(w.message) for w in caught]
        assert any("differs from the formula from about x = 0 (1 where the formula is 0)" in t for t in texts), texts
    # a formula whose protected value at 0 is its limit builds silently, as before
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ExpressionActivation.from_sympy(sympy.sin(x) / x)
        ExpressionActivation.from_sympy(x * sympy.log(sympy.Abs(x)))


def test_values_near_zero_are_compared_at_full_precision():
    """(exp(x) - 1)/x is 1 - 5e-13 at x = -1e-12, where float64 read 1.0000889 (exp(x) - 1 cancels): the
    activation's protected 1 was warned of as '1 where the formula is 1'.  Its only difference is the exp cap."""
    import warnings

    from srnet.activations import ExpressionActivation

    x = sympy.Symbol("x", real=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ExpressionActivation.from_sympy((sympy.exp(x) - 1) / x)
    texts = [str(w.message) for w in caught]
    assert len(texts) == 1 and "exp(min(a, 80))" in texts[0] and "from about x = 80.6" in texts[0], texts


def test_collapsing_a_layers_program_names_its_raw_outputs_and_targets_apart():
    """A layer's program (3 raw outputs mapped to 8 features) was refused with "the program has 8 targets; pick
    one raw output with output=j (0 <= j < 3)", which read as if 8 and 3 counted the same thing."""
    import numpy as np

    from srnet.activations import collapse_inputs
    from srnet.expr import Program

    program = Program(2, (), (("sin", 0, 0), ("cos", 1, 0), ("mul", 0, 1)), (2, 3, 4), np.ones((3, 8)),
                      np.zeros(8))
    with pytest.raises(ValueError, match=r"^the program maps its 3 raw outputs to 8 targets, and an activation is "
                                         r"one function; pick one raw output with output=j \(0 <= j < 3\)$"):
        collapse_inputs(program)
    assert collapse_inputs(program, output=1).n_inputs == 1


def test_a_file_that_asks_for_no_check_is_loaded_with_a_warning(tmp_path):
    """A colleague's file with "check_range": null and a tan step loaded silently: only finiteness on [-1, 1] is
    checked there, and the poles the README says are refused came in without a word."""
    import json
    import warnings

    from srnet.activations import ExpressionActivation

    x = sympy.Symbol("x", real=True)
    unchecked = ExpressionActivation.from_sympy(sympy.tan(x), check_range=None)
    unchecked.save(tmp_path / "tan.json")
    assert json.loads((tmp_path / "tan.json").read_text())["check_range"] is None
    with pytest.warns(UserWarning, match=r"^the activation's file asks for no check of its formula \(check_range "
                                         r"null\): tan\(x\) was checked for finite values on \[-1, 1\] only, not for "
                                         r"poles or jumps; ExpressionActivation\(activation.program\) checks it on "
                                         r"\[-5, 5\]$"):
        loaded = ExpressionActivation.load(tmp_path / "tan.json")
    assert loaded.check_range is None
    # a checked one loads silently
    ExpressionActivation.from_sympy(sympy.sin(x)).save(tmp_path / "sin.json")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ExpressionActivation.load(tmp_path / "sin.json")


@pytest.mark.parametrize("shift", [0.0, 0.3, -2.2])
def test_waves_that_pile_up_on_a_log_scale_are_refused(shift):
    """sin(log|x|) came out of search_activation and activation_from_layer for a reviewer, and passed the check:
    an extreme at every e**pi-fold step towards 0, its slope 1.7e8 at x = 1e-8 (a trained network's largest
    weight gradient 2240), yet a linear window, however zoomed, shows only a few of its waves."""
    from srnet.activations import DegenerateActivationError, ExpressionActivation

    x = sympy.Symbol("x", real=True)
    near = sympy.log(sympy.Abs(x - shift))
    for piled in (sympy.sin(near), 1.837 * sympy.sin(near) + 0.4559):
        with pytest.raises(DegenerateActivationError, match=rf"singular slope near x = {shift:g} \(waves pile up "
                                                            r"there without end, 8\+ local extremes as x nears it "
                                                            r"from 0.001 to 1e-10 away\)"):
            ExpressionActivation.from_sympy(piled)
    # waves that shrink as x nears the point (a bounded slope), a log's mild slope and a rounding wobble pass
    for smooth in ((x - shift) * sympy.cos(near), near, (x - shift) ** 2 * sympy.sin(1 / (x - shift)),
                   (sympy.exp(x - shift) - 1) / (x - shift), sympy.tanh(near)):
        ExpressionActivation.from_sympy(smooth, protected=True)


def test_reset_parameters_initialises_an_activation_built_on_the_meta_device():
    """A model built under torch.device("meta") and moved with to_empty() held affine scalars of 9.2e26, and
    ExpressionActivation had no reset_parameters() to set them, as nn.Linear has."""
    import torch

    from srnet.activations import ExpressionActivation

    x = sympy.Symbol("x", real=True)
    formula = 1.5 * sympy.sin(x) + 0.25 * x
    reference = ExpressionActivation.from_sympy(formula, affine={"a": 2.0, "b": 0.5, "c": 0.1, "d": -1.0})
    with torch.device("meta"):
        model = torch.nn.Sequential(torch.nn.Linear(3, 4), ExpressionActivation.from_sympy(
            formula, affine={"a": 2.0, "b": 0.5, "c": 0.1, "d": -1.0}))
    model.to_empty(device="cpu")
    activation = model[1]
    activation.reset_parameters()
    assert [float(getattr(activation, n).detach()) for n in "abcd"] == pytest.approx([2.0, 0.5, 0.1, -1.0], rel=1e-7)
    z = torch.linspace(-3, 3, 13)
    torch.testing.assert_close(activation(z), reference(z))
    # trained values are overwritten back to the initial ones, as nn.Linear's reset does
    with torch.no_grad():
        reference.a.fill_(7.0)
    reference.reset_parameters()
    assert float(reference.a.detach()) == 2.0


def test_from_dict_given_json_text_points_at_from_json():
    from srnet.activations import ExpressionActivation

    x = sympy.Symbol("x", real=True)
    text = ExpressionActivation.from_sympy(sympy.sin(x)).to_json()
    with pytest.raises(TypeError, match=r"^from_dict takes the dict to_dict returns; for JSON text use "
                                        r"ExpressionActivation.from_json\(text\), for a file "
                                        r"ExpressionActivation.load\(path\)$"):
        ExpressionActivation.from_dict(text)
    assert ExpressionActivation.from_json(text).formula == "sin(x)"


def test_a_text_of_one_byte_is_one_byte():
    from srnet.activations.language_model import make_windows

    with pytest.raises(ValueError, match=r"^the text has 1 byte: too short for one window of \d+ bytes$"):
        make_windows([65], 4)


def test_neuron_pairs_refuses_the_layers_in_reverse_order():
    """neuron_pairs(net, X, "1", "0") gave the activation's outputs as pre-activations and the Linear's as
    outputs, and route 2b fitted the inverse of the network's activation without a word."""
    import numpy as np
    import torch

    from srnet.activations import neuron_pairs

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    X = np.random.default_rng(0).normal(size=(20, 2))
    before, after = neuron_pairs(net, X, "0", "1")
    np.testing.assert_allclose(after, np.tanh(before), atol=1e-6)
    with pytest.raises(ValueError, match=r"^'0' comes before '1' in the model: pass the Linear layer first and the "
                                         r"activation after it, neuron_pairs\(model, X, '0', '1'\)$"):
        neuron_pairs(net, X, "1", "0")


def test_a_formula_too_large_to_print_names_its_size_in_a_few_characters():
    """A chain of squarings printed its written-out size in full: 2,305,843,009,213,693,951 nodes at 60 steps,
    about 900 characters at 1990."""
    from srnet.activations.programs import too_large_to_print
    from srnet.expr import Program

    def squarings(n):  # x*x, then that times itself, ...: each step reads the last twice
        return Program(1, (), tuple(("mul", k, k) for k in range(n)), (n,), [[1.0]], [0.0])

    assert too_large_to_print(squarings(20)) == ("<a formula of 20 steps, 2,097,151 nodes written out: too large "
                                                 "to print>")
    assert too_large_to_print(squarings(1990)) == ("<a formula of 1990 steps, about 10^599 nodes written out: "
                                                   "too large to print>")
    assert too_large_to_print(squarings(5)) is None
