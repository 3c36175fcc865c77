"""An explained block holds each input score within the range it had on the rows the formula was fitted on
(Reduction.bounds): a formula is unknown past them, and a transformer's block met a pole just past its rows."""

from dataclasses import replace

import numpy as np
import torch

from srnet.activations.mlp_block import ExplainedBlock, principal_directions
from srnet.formulas import linear_formula


def _block():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 6))
    Y = np.tanh(X @ rng.normal(size=(6, 5)))
    reduction_in, reduction_out = principal_directions(X, 2, whiten=True), principal_directions(Y, 2)
    Z = reduction_in.transform(X)
    formula = linear_formula(Z, reduction_out.transform(Y))
    return X, reduction_in, reduction_out, formula


def test_the_bounds_are_the_scores_extremes_on_the_rows():
    X, reduction_in, _, _ = _block()
    Z = reduction_in.transform(X)
    np.testing.assert_array_equal(reduction_in.bounds, np.column_stack([Z.min(axis=0), Z.max(axis=0)]))


def test_a_point_past_the_bounds_reads_the_formula_at_them():
    X, reduction_in, reduction_out, formula = _block()
    block = ExplainedBlock(reduction_in, reduction_out, formula)
    far = torch.as_tensor(reduction_in.inverse(np.array([[50.0, -50.0]])), dtype=torch.float32)
    edge = reduction_in.bounds[[0, 1], [1, 0]][None, :]  # (z0 at its greatest, z1 at its least)
    at_edge = torch.as_tensor(reduction_in.inverse(edge), dtype=torch.float32)
    with torch.no_grad():
        torch.testing.assert_close(block(far), block(at_edge), atol=1e-4, rtol=0)
        # a linear formula without bounds would run on: 50 is far past the rows' scores
        unbounded = ExplainedBlock(replace(reduction_in, bounds=None), reduction_out, formula)
        assert (unbounded(far) - block(far)).abs().max() > 1.0


def test_the_rows_themselves_are_not_moved_and_the_bounds_survive_freezing():
    X, reduction_in, reduction_out, formula = _block()
    block = ExplainedBlock(reduction_in, reduction_out, formula)
    unbounded = ExplainedBlock(replace(reduction_in, bounds=None), reduction_out, formula)
    rows = torch.as_tensor(X, dtype=torch.float32)
    with torch.no_grad():
        torch.testing.assert_close(block(rows), unbounded(rows), atol=1e-5, rtol=0)
    np.testing.assert_array_equal(block.frozen().reduction_in.to_reduction().bounds, reduction_in.bounds)
    trainable = ExplainedBlock(block.reduction_in.to_reduction(), reduction_out, formula, trainable=True)
    np.testing.assert_array_equal(trainable.reduction_in.bounds, reduction_in.bounds)


def test_a_row_at_its_bound_in_float32_is_not_moved():
    """The bounds are the rows' float64 extremes; a row's float32 score may round past them by a step: the held
    range is a few float32 steps wider (28 of 10000 rows were moved by one step)."""
    X, reduction_in, _, _ = _block()
    module = reduction_in.module()
    z = torch.as_tensor(reduction_in.bounds.T, dtype=torch.float32)  # (2, n): the least, then the greatest
    nudged = torch.stack([torch.nextafter(z[0], z[0] - 1), torch.nextafter(z[1], z[1] + 1)])
    assert torch.equal(module.within_bounds(nudged), nudged)
    far = torch.stack([z[0] - 1.0, z[1] + 1.0])
    assert torch.all((module.within_bounds(far) - z).abs() <= 1e-4 * (1 + z.abs()))
