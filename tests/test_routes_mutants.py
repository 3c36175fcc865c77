"""Tests that kill survivors of a mutation-testing sample of ``srnet/activations/routes.py``.

Sample: mutmut 3.8.1 mutants of the module (``only_mutate = ["srnet/activations/routes.py",
"srnet/activations/search.py"]``), 12 drawn with ``random.Random(57).sample(sorted(names), 12)``, run against
tests/test_activations_routes.py, tests/test_review_activation_routes.py, tests/test_activations_edge_cases.py,
tests/test_activations.py and tests/test_language_model.py.  Each test names the mutant it kills and what a
user would see go wrong.
"""

import numpy as np
import pytest
import torch

from srnet.activations import (
    DegenerateActivationError,
    activation_from_data,
    activation_from_layer,
    activation_from_neurons,
)
from srnet.activations.routes import make_activation, subsample_rows
from srnet.expr.program import Program
from srnet.extract import SRNet


def _reciprocal_neurons():
    """Neurons computing 1/z on z in [0.5, 3]: a formula with a pole at 0, off their own range."""
    pre = np.random.default_rng(0).uniform(0.5, 3.0, (200, 3))
    return pre, 1.0 / pre


def test_route_from_neurons_checks_the_formula_on_the_range_it_was_given():
    """x_activation_from_neurons__mutmut_99 (check_range left out, so the default (-5, 5)): neurons whose
    pre-activations are all in [0.5, 3] compute 1/z; asked to check it on (0.25, 4), the route refused it for
    its pole at 0, outside the range the caller gave, and the activation carried the default range."""
    pre, post = _reciprocal_neurons()
    found = activation_from_neurons(pre, post, max_generations=200, max_seconds=None, functions=("div", "add"),
                                    random_state=0, check_range=(0.25, 4.0))
    assert found.activation.check_range == (0.25, 4.0)
    assert found.to_dict()["activation"]["check_range"] == [0.25, 4.0]
    values = torch.linspace(0.5, 3.0, 11, dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(found.activation(values), 1.0 / values, rtol=1e-9)


def test_route_from_neurons_refuses_a_pole_on_the_default_range():
    """x_activation_from_neurons__mutmut_94 (check_range=None passed on): the same 1/z has a pole at 0 inside
    the default check range (-5, 5) and must be refused, not wrapped unchecked into an activation that a
    network's pre-activations near 0 would blow up."""
    pre, post = _reciprocal_neurons()
    with pytest.raises(DegenerateActivationError, match="pole"):
        activation_from_neurons(pre, post, max_generations=200, max_seconds=None, functions=("div", "add"),
                                random_state=0)


def test_route_from_neurons_runs_on_a_time_budget_alone():
    """x__check_arguments__mutmut_27 (``max_seconds is not None and max_generations is None`` refused): a wall
    budget alone, the documented default, was refused as "give a budget"."""
    pre, post = _reciprocal_neurons()
    found = activation_from_neurons(pre, post, max_seconds=0.5, functions=("div", "add"), random_state=0,
                                    check_range=(0.25, 4.0))
    assert found.route == "neurons" and found.seconds < 5


def test_route_from_data_subsamples_to_2000_rows_by_default():
    """x_activation_from_data__mutmut_2 (default max_samples 2001): 2001 rows are subsampled to the documented
    2000 by default; the mutant fitted all of them."""
    x = np.random.default_rng(0).standard_normal(2001)
    found = activation_from_data(x[:, None], np.sin(x), max_generations=20, max_seconds=None,
                                 functions=("add", "mul", "sin"), random_state=0)
    assert found.details["samples"] == 2000
    every = activation_from_data(x[:, None], np.sin(x), max_generations=20, max_seconds=None, max_samples=None,
                                 functions=("add", "mul", "sin"), random_state=0)
    assert every.details["samples"] == 2001


def test_bad_pre_activations_are_named_pre():
    """x_activation_from_neurons__mutmut_22 (check_matrix named "PRE"): the error names the argument as the
    caller spelt it."""
    pre, post = _reciprocal_neurons()
    pre[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"^pre contains 1 NaN"):
        activation_from_neurons(pre, post, max_generations=1, max_seconds=None)


def test_a_simplify_flag_given_as_text_is_named_simplify():
    """x_make_activation__mutmut_14 (check_flag named "SIMPLIFY"): ``simplify="no"`` is refused by the
    parameter's own name."""
    square = Program(1, [], [("square", 0, 0)], [1], [[1.0]], [0.0])
    assert make_activation(square, normalize=False).formula  # the program itself is a usable activation
    with pytest.raises(ValueError, match=r"^simplify must be True or False, got 'no'$"):
        make_activation(square, normalize=False, simplify="no")


def test_subsample_rows_draws_distinct_sorted_rows():
    """x_subsample_rows__mutmut_22 (``rng.choice(max_samples, replace=False)``: one number below max_samples,
    which np.sort refused): no test had more rows than max_samples.  The subsample is max_samples distinct
    rows of the n, sorted, and every row when n is small."""
    rows = subsample_rows(50, 20, np.random.default_rng(0))
    assert rows.shape == (20,) and rows.dtype.kind == "i"
    assert np.all(np.diff(rows) > 0) and rows[0] >= 0 and rows[-1] < 50
    assert rows[-1] >= 20  # drawn from all 50 rows, not from the first max_samples
    assert np.array_equal(subsample_rows(20, 20, np.random.default_rng(0)), np.arange(20))
    assert np.array_equal(subsample_rows(7, None, np.random.default_rng(0)), np.arange(7))


def test_an_unfitted_explainer_is_named_not_fitted():
    """x_activation_from_layer__mutmut_24 (``ValueError(None)``): an SRNet not yet fitted is refused with a
    message that says so and how to fit it, not the bare text "None"."""
    with pytest.raises(ValueError, match=r"^the explainer is not fitted \(no programs_\); fit SRNet\(form='paper'\) "
                                         r"first$"):
        activation_from_layer(SRNet(form="paper"), 0)
