"""Tests that kill survivors of a mutation-testing sample of ``srnet/activations/mlp_block.py``.

Sample: mutmut 3.8.1 mutants of the module (``only_mutate = ["srnet/activations/mlp_block.py"]``, 776 mutants),
14 drawn with ``random.Random(59).sample(sorted(names), 14)``, each run on its own with
``MUTANT_UNDER_TEST=<name> PYTHONPATH=mutants python -m pytest -p no:cacheprovider -n 0 -x -q`` against the
tests that reach the module (tests/test_language_model.py's principal-direction, explain, probe and distil
tests, tests/test_review_study_models.py::test_distillation_seed_is_a_whole_number).  Each test names the
mutant it kills and what a user would see go wrong.
"""

import numpy as np
import torch
from torch import nn

from srnet.activations.mlp_block import (
    AffineBlock,
    Distillation,
    ExplainedBlock,
    distil_block,
    principal_directions,
    probe_module,
)
from srnet.formulas import linear_formula


class _Tiny(nn.Module):
    """x (..., 3) -> logits (..., 5) through a 4-wide middle block ``mlp``."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.up, self.mlp, self.head = nn.Linear(3, 4), nn.Linear(4, 4), nn.Linear(4, 5)

    def forward(self, x):
        return self.head(torch.tanh(self.mlp(torch.tanh(self.up(x)))))


def _tiny_block():
    """A tiny model, its windows, and a replacement of ``mlp`` whose formula is u0 = 1.23456789 z0 + 0.5,
    u1 = -2.5 z1 (a formula with known constants, not a fit of the block)."""
    model = _Tiny()
    inputs = torch.as_tensor(np.random.default_rng(0).normal(size=(40, 6, 3)), dtype=torch.float32)
    X, Y = probe_module(model, model.mlp, inputs)
    reduction_in, reduction_out = principal_directions(X, 2, whiten=True), principal_directions(Y, 2)
    Z = reduction_in.transform(X)
    U = np.column_stack([1.23456789 * Z[:, 0] + 0.5, -2.5 * Z[:, 1]])
    block = ExplainedBlock(reduction_in, reduction_out, linear_formula(Z, U))
    return model, inputs, block, X


def test_a_time_budget_does_not_cut_the_distillation_short():
    """x_distil_block__mutmut_144 (``perf_counter() + started >= max_seconds``): with a generous max_seconds,
    distilling stopped after its first step (the sum of two clock readings is already past any budget), so
    ``steps=4, max_seconds=600`` tuned once and reported 1 step."""
    model, inputs, block, _ = _tiny_block()
    result = distil_block(model, "mlp", block, inputs[:30], inputs[30:], steps=4, lr=1e-3, batch_size=4,
                          max_seconds=600.0, simplify_seconds=1.0)
    assert result.steps == 4


def test_distilled_formulas_are_displayed_to_four_significant_digits():
    """x__display__mutmut_19 (``round_constants(e)``, its default 3 digits, not DISPLAY_DIGITS = 4): the
    distilled formula 1.23456789 z0 + 0.5 read "1.23*z0 + 0.5" instead of "1.235*z0 + 0.5"."""
    model, inputs, block, _ = _tiny_block()
    result = distil_block(model, "mlp", block, inputs[:30], inputs[30:], steps=1, lr=1e-9, batch_size=4,
                          simplify_seconds=1.0)
    assert "1.235" in result.formulas[0] and "1.23*" not in result.formulas[0]
    assert "z1" in result.formulas[1]


def test_a_trainable_reduction_tunes_its_mean_and_directions_but_not_its_whitening_scale():
    """xǁReductionModuleǁ__init____mutmut_22 (``name != "XXscaleXX"``): a trainable reduction (what
    distil_block tunes) made its whitening scale a parameter too, so distilling also moved the fixed
    standard deviations the scores are divided by, which the docs say stay as the PCA found them."""
    _, _, block, _ = _tiny_block()
    trainable = ExplainedBlock(block.reduction_in.to_reduction(), block.reduction_out.to_reduction(),
                               block.formula, trainable=True)
    for side in (trainable.reduction_in, trainable.reduction_out):
        assert {name for name, _ in side.named_parameters()} == {"mean", "components"}
        assert "scale" in dict(side.named_buffers()) and not side.scale.requires_grad
    names = {name for name, _ in trainable.named_parameters()}
    assert not any(name.endswith("scale") for name in names)


def test_an_affine_block_computes_bias_plus_x_times_weight():
    """xǁAffineBlockǁ__init____mutmut_5 (the weight registered as "XXweightXX"): the block replaced by its
    mean (``BlockExplanation.mean``) or by any affine map raised AttributeError when called, and its
    state_dict had no "weight"."""
    rng = np.random.default_rng(1)
    weight, bias, x = rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(2, 5, 4))
    block = AffineBlock(weight, bias)
    assert set(block.state_dict()) == {"weight", "bias"}
    out = block(torch.as_tensor(x, dtype=torch.float64))
    assert out.dtype == torch.float64 and out.shape == (2, 5, 3)
    expected = bias.astype(np.float32).astype(np.float64) + x @ weight.astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_a_distillation_s_dict_carries_the_reductions_numbers():
    """x__reduction_dict__mutmut_1 (``np.asarray(None)``): Distillation.to_dict()'s "reduction_in" and
    "reduction_out" were {"mean": None, "components": None, "scale": None}, so a saved distillation could not
    be rebuilt.  Oracle: the input mean and the scores' standard deviations (square roots of the covariance's
    top eigenvalues) by NumPy."""
    _, _, block, X = _tiny_block()
    result = Distillation(block, False, 1.0, 2.0, ["z0"], 1, 0, 0.0)
    saved = result.to_dict()["reduction_in"]
    np.testing.assert_allclose(saved["mean"], X.mean(axis=0), atol=1e-6)
    top = np.sort(np.linalg.eigvalsh(np.cov(X, rowvar=False)))[::-1][:2]
    np.testing.assert_allclose(saved["scale"], np.sqrt(top), rtol=1e-5)
    components = np.asarray(saved["components"])
    assert components.shape == (2, 4)
    np.testing.assert_allclose(components @ components.T, np.eye(2), atol=1e-6)
    out = result.to_dict()["reduction_out"]
    assert np.asarray(out["mean"]).shape == (4,) and np.asarray(out["scale"]).tolist() == [1.0, 1.0]
