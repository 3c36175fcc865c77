"""Inputs far from unit scale are searched in coordinates of their own, and every formula reads X's units."""

import json
import re

import numpy as np
import pytest
import sympy
import torch
from _chains import random_chains
from hypothesis import given, settings
from hypothesis import strategies as st

from srnet import SRNet
from srnet.coordinates import (
    InputMap,
    formula_in_input_units,
    in_input_units,
    map_text,
    search_coordinates,
    written_standardised,
)
from srnet.expr.program import Program
from srnet.expr.symbolic import rewritten, standardised_form, to_sympy
from srnet.formulas import Formula


def test_only_inputs_beyond_ten_or_of_tiny_spread_are_moved():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.uniform(20, 80, 500), rng.uniform(-1, 1, 500), rng.uniform(0, 0.01, 500),
                         rng.integers(0, 2, 500), np.full(500, 3.0), rng.normal(0, 2, 500)])
    mapping = search_coordinates(X)
    assert mapping.moved == [0, 2]
    assert mapping.centre[0] == float(f"{X[:, 0].mean():.3g}") and mapping.scale[0] == float(f"{X[:, 0].std():.3g}")
    assert mapping.scale[2] == float(f"{X[:, 2].std():.3g}")
    Z = mapping.apply(X)
    assert abs(Z[:, 0].mean()) < 0.01 and abs(Z[:, 0].std() - 1) < 0.01
    np.testing.assert_array_equal(Z[:, 1:2], X[:, 1:2])
    assert search_coordinates(X[:, [1, 3, 4]]) is None  # nothing to move: searched as given
    assert search_coordinates(np.full((10, 1), 500.0)).scale[0] == 1.0  # a constant far off: shifted, not divided
    outliers = np.concatenate([rng.normal(0, 1, 500), [14.0]])  # standardised, with an outlier beyond 10
    assert search_coordinates(outliers[:, None]) is None
    counts = np.column_stack([np.arange(31.0)])  # beyond 10, of spread 8.9 and mean 15: both moved
    assert search_coordinates(counts).centre[0] == 15.0 and search_coordinates(counts).scale[0] == 8.94
    near = np.column_stack([np.linspace(1000, 1003, 50)])  # far off, of spread 0.88: shifted only
    assert search_coordinates(near).scale[0] == 1.0 and search_coordinates(near).centre[0] == 1001.5


@settings(max_examples=200, deadline=None)
@given(formula=random_chains(), centre=st.lists(st.sampled_from([0.0, 51.8, -3e4, 0.5]), min_size=3, max_size=3),
       scale=st.lists(st.sampled_from([1.0, 17.7, 1e-3, 1.02e-11]), min_size=3, max_size=3))
def test_a_formula_in_input_units_computes_the_search_formula_of_the_mapped_inputs(formula, centre, scale):
    n = formula.programs[0].n_inputs
    mapping = InputMap(np.array(centre[:n]), np.array(scale[:n]))
    X = np.random.default_rng(0).uniform(-1, 1, (30, n)) * mapping.scale + mapping.centre
    raw = formula_in_input_units(formula, mapping)
    assert len(raw.programs) == len(formula.programs) and raw.programs[1:] == formula.programs[1:]
    np.testing.assert_array_equal(raw(X), formula(mapping.apply(X)))  # the same operations, bit for bit
    assert in_input_units(formula.programs[0], None) is formula.programs[0]


def test_an_input_of_a_tiny_spread_is_not_lost_to_the_protected_division():
    """A spread of 1e-11 divided by srnet's div (1 for a divisor of 1e-10 or less) made the input a constant."""
    X = 0.5 + 1e-11 * np.random.default_rng(0).normal(size=(50, 1))
    mapping = search_coordinates(X)
    identity = Formula("direct-1", (Program(1, (), (), (0,), [[1.0]], [0.0]),))
    np.testing.assert_array_equal(formula_in_input_units(identity, mapping)(X), mapping.apply(X))
    assert np.std(mapping.apply(X)) > 0.5


@pytest.mark.parametrize("offset, written", [(1.7e9, True), (200.0, False)])
def test_the_first_layer_s_features_print_faithfully_where_the_map_nearly_cancels(offset, written):
    """A Unix time (centre 1700000159.2, spread 88.5) folded into layer 1 read 0.0113*t - 1.921e+7 at 4 digits:
    features of spread 4-11 printed up to 2.3 off.  Printed now in its search coordinate z_t (in t's own units
    each constant needs ten digits); an input of centre 2.3 spreads from 0 in its own units, with the digits
    that keep it faithful."""
    rng = np.random.default_rng(0)
    X = np.column_stack([offset + rng.uniform(0, 300, 200), rng.uniform(-1, 1, 200)])
    z = (X[:, 0] - X[:, 0].mean()) / X[:, 0].std()
    model = SRNet(max_generations=30, random_state=0, progress=False, direct_budget=0, refine=False).fit_activations(
        X, [np.column_stack([np.tanh(z) * X[:, 1], z + X[:, 1] ** 2])], feature_names=["t", "b"])
    symbols = model.input_symbols_
    centre, scale = model.input_map_.centre[0], model.input_map_.scale[0]
    assert model.standardised_symbols_ == ({"z_t": f"(t - {centre:.1f})/{scale:g}"} if written else {})
    z_t = sympy.Symbol("z_t", real=True)
    text = model.report()["layers"][0]["expression"]
    assert ("z_t" in text and not re.search(r"\bt\b", text)) if written else "z_t" not in text
    printed = sympy.sympify(text[1:-1].join("[]"), locals={s.name: s for s in (*symbols, z_t)})  # srnet's own text
    for shown, exact in zip(printed, model.layer_features_[0]):
        shown = shown.subs(z_t, (symbols[0] - centre) / scale)
        values = [sympy.lambdify(symbols, e, "numpy")(X[:, 0], X[:, 1]) * np.ones(len(X)) for e in (shown, exact)]
        assert np.max(np.abs(values[0] - values[1])) <= 2e-3 * max(np.std(values[1]), 1e-12), (shown, exact)


def test_only_inputs_far_from_zero_for_their_spread_are_written_as_their_search_coordinate():
    t, b, z_t = sympy.symbols("t b z_t", real=True)
    mapping = InputMap(np.array([1.7e9, 51.8, 0.0, 1000.0]), np.array([88.5, 17.7, 0.002, 10.0]))
    written = written_standardised(mapping, [t, b, sympy.Symbol("c"), z_t])  # an input is named z_t already
    assert written == {t: (sympy.Symbol("z_t_", real=True), 1.7e9, 88.5),
                       z_t: (sympy.Symbol("z_z_t", real=True), 1000.0, 10.0)}
    assert written_standardised(None, [t]) == {}
    at_the_bound = InputMap(np.array([1000.0]), np.array([10.0]))  # 100 scales: written
    assert written_standardised(at_the_bound, [t]) and not written_standardised(
        InputMap(np.array([999.0]), np.array([10.0])), [t])


def test_a_rewriting_that_floats_cancel_keeps_the_formula_in_the_inputs_own_units():
    """Written centre + scale*z, a square sympy expanded in a Unix time cancels terms of 1e17 in floats: that
    formula is printed in t's units still."""
    t, z = sympy.symbols("t z", real=True)
    written = {t: (z, 1.7e9, 88.5)}
    rng = np.random.default_rng(0)
    points = {"t": 1.7e9 + rng.uniform(-200, 200, 16)}
    replacements, with_z = standardised_form(written, points)
    np.testing.assert_allclose(with_z["z"], (points["t"] - 1.7e9) / 88.5)
    linear = sympy.sin(t / 88.5 - sympy.Float(1.7e9) / 88.5)
    assert rewritten(linear, replacements, with_z).free_symbols == {z}
    expanded = sympy.expand((t / 88.5 - sympy.Float(1.7e9) / 88.5 + sympy.Float(0.3)) ** 2)
    assert rewritten(expanded, replacements, with_z) == expanded


def test_the_printed_first_program_substitutes_the_map():
    x = sympy.symbols("x0:2", real=True)
    search = Program(2, (), (("sin", 0, 0), ("mul", 2, 1)), (3,), [[2.0]], [0.5])
    raw = in_input_units(search, InputMap(np.array([50.0, 0.0]), np.array([10.0, 1.0])))
    expected = 2 * sympy.sin((x[0] - 50) / 10) * x[1] + 0.5
    assert sympy.nsimplify(to_sympy(raw, x)[0], rational=True) == sympy.nsimplify(expected, rational=True)


def test_a_network_of_raw_inputs_is_explained_by_its_short_law():
    """A network that standardises its own inputs (an age in [20, 80]): its law, 12 nodes on standardised
    inputs, was a formula of 1,673 nodes of raw x0; searched in the map's coordinates it is the law again."""
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.uniform(20, 80, 400), rng.uniform(-1, 1, 400)])
    mean, std = X.mean(axis=0), X.std(axis=0)

    class Standardise(torch.nn.Module):
        def forward(self, x):
            return (x - torch.as_tensor(mean)) / torch.as_tensor(std)

    torch.manual_seed(0)
    core = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16), torch.nn.Tanh(),
                               torch.nn.Linear(16, 1)).double()
    Z = torch.as_tensor((X - mean) / std)
    y = (torch.sin(Z[:, :1]) * Z[:, 1:] + 0.5 * Z[:, :1] ** 2)
    optimiser = torch.optim.Adam(core.parameters(), 0.01)
    for _ in range(1500):
        optimiser.zero_grad()
        loss = ((core(Z) - y) ** 2).mean()
        loss.backward()
        optimiser.step()
    network = torch.nn.Sequential(Standardise(), core)
    model = SRNet(max_generations=300, random_state=0, progress=False).fit(network, X)
    assert model.input_map_.moved == [0]
    assert model.selected_["complexity"] <= 40, model.selected_["expression"]
    assert model.regions_["domain"]["r2"] > 0.99
    # the formula reads X's units: predict, the printed expression and the report's formula agree on raw rows
    x0, x1 = model.input_symbols_
    printed = sympy.lambdify((x0, x1), model.expression_, "numpy")(X[:, 0], X[:, 1])
    np.testing.assert_allclose(model.predict(X), printed, rtol=1e-9, atol=1e-9)
    reloaded = Formula.from_dict(model.report()["formula"])
    np.testing.assert_allclose(reloaded(X)[:, 0], model.predict(X), rtol=1e-12)
    assert model.report()["search_coordinates"] == {"centre": list(model.input_map_.centre),
                                                    "scale": list(model.input_map_.scale)}


def test_explain_says_which_inputs_were_searched_standardised(tmp_path, capsys):
    from srnet.cli import main

    rng = np.random.default_rng(0)
    X = np.column_stack([rng.uniform(20, 80, 120), rng.uniform(-1, 1, 120), rng.uniform(-3100, -2900, 120),
                         1.7e9 + rng.uniform(0, 86400, 120)])

    class Standardise(torch.nn.Module):  # (a Unix time in float32 is 128 s coarse; the network standardises it)
        def __init__(self):
            super().__init__()
            self.register_buffer("mean", torch.as_tensor(X.mean(axis=0)))
            self.register_buffer("std", torch.as_tensor(X.std(axis=0)))

        def forward(self, x):
            return (x - self.mean) / self.std

    torch.manual_seed(0)
    net = torch.nn.Sequential(Standardise(), torch.nn.Linear(4, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)).double()
    torch.jit.script(net).save(str(tmp_path / "net.pt"))
    np.savetxt(tmp_path / "data.csv", X, delimiter=",", header="age,b,t,stamp", comments="", fmt="%.17g")
    assert main(["explain", str(tmp_path / "net.pt"), "--data", str(tmp_path / "data.csv"), "--out",
                 str(tmp_path / "out"), "--generations", "5", "--seed", "0", "--quiet"]) == 0
    mapping = search_coordinates(X)
    printed = capsys.readouterr().out
    assert (f"written back in the inputs' own units: (age - {mapping.centre[0]:g})/{mapping.scale[0]:g}, "
            f"(t + {-mapping.centre[2]:g})/{mapping.scale[2]:g}\n") in printed
    # a Unix time is read as its search coordinate, defined once: in its own units each constant needs ten digits
    assert (f"report.json's formula reads the inputs' own units): z_stamp = (stamp - {mapping.centre[3]:.0f})/"
            f"{mapping.scale[3]:g}\n") in printed
    formula = printed.split("as one formula")[1].split("\n")[1]
    assert "z_stamp" in formula and not re.search(r"\bstamp\b", formula), formula
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["standardised_symbols"] == {"z_stamp": f"(stamp - {mapping.centre[3]:.0f})/{mapping.scale[3]:g}"}


@pytest.mark.parametrize("centre, scale, text", [(51.8, 17.7, "(age - 51.8)/17.7"), (-3000.0, 1.0, "(age + 3000)"),
                                                 (0.0, 0.002, "age/0.002"),
                                                 (1700000159.2, 88.5, "(age - 1700000159.2)/88.5")])
def test_a_standardised_input_is_written_as_a_person_would(centre, scale, text):
    assert map_text(sympy.Symbol("age"), centre, scale) == text
