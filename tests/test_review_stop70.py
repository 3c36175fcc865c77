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
