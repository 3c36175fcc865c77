"""The single metric functions, and that every agreement figure comes from class_agreement."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srnet.metrics import class_agreement, loose_figure, mse


def test_class_agreement_on_labels_and_scores():
    scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    assert class_agreement(np.array([0, 1, 1, 1]), scores) == 0.75
    assert class_agreement(scores, scores) == 1.0
    assert class_agreement(scores.T, np.array([0, 1, 0, 0]), axis=0) == 0.75  # feature-rows layout
    assert class_agreement(["a", "b"], np.array(["a", "a"])) == 0.5
    assert isinstance(class_agreement([1], [1]), float)


def test_a_non_finite_score_never_chooses_its_class():
    """NaN (argmax's first pick) and +inf from a formula's overflow are no choice; SRNet.predict_class agrees."""
    scores = np.array([[np.nan, 0.2, 0.1], [1.0, np.inf, 0.5], [-np.inf, -5.0, -6.0], [np.nan, np.nan, 0.0]])
    assert class_agreement(scores, np.array([1, 0, 1, 2])) == 1.0


def test_loose_figure_reads_a_classifiers_agreement_and_a_regressions_r2():
    """One choice of figure for the fit's warning, explain's warning and the front's closer formula."""
    domain = {"r2": 0.5, "agreement": 0.95, "probability_r2": 0.4}
    assert loose_figure(domain, classification=True) == 0.95
    assert loose_figure(domain, classification=False) == 0.5
    assert loose_figure(None, classification=False) is None
    assert loose_figure({"r2": None}, classification=False) is None


@pytest.mark.parametrize("first, second, match", [([0, 1], [0], "as many"), ([], [], "no samples"),
                                                  (np.zeros((2, 2, 2)), [0, 1], "1-D class labels")])
def test_class_agreement_refuses_mismatches(first, second, match):
    with pytest.raises(ValueError, match=match):
        class_agreement(first, second)


def test_srnet_agreement_is_class_agreement():
    """SRNet's own training agreement equals class_agreement of its predictions and the network."""
    import torch
    from torch import nn

    from srnet.extract import SRNet
    from srnet.networks import MLPSpec, build_mlp

    X = np.random.default_rng(0).normal(size=(60, 2))
    module = nn.Sequential(*build_mlp(MLPSpec((2, 3, 2), "sigmoid")), nn.Softmax(dim=1)).eval()
    model = SRNet(max_generations=3, max_seconds=None, random_state=0, n_threads=1, simplify_seconds=0.5).fit(
        module, X)
    with torch.no_grad():
        network = module(torch.as_tensor(X, dtype=torch.float32)).numpy()
    assert model.agreement_ == class_agreement(model.predict_layers(X)[-1], network)


def test_mse_is_the_mean_squared_residual_and_inf_for_a_non_finite_prediction():
    rng = np.random.default_rng(0)
    target, predicted = rng.normal(size=(20, 3)), rng.normal(size=(20, 3))
    assert mse(target, predicted) == pytest.approx(np.mean((predicted - target) ** 2), rel=1e-15)
    assert mse(target[:, 0], predicted[:, :1]) == pytest.approx(np.mean((predicted[:, 0] - target[:, 0]) ** 2))
    broken = predicted.copy()
    broken[3, 1] = np.nan
    assert mse(target, broken) == math.inf


def test_class_divergence_is_the_kl_of_the_softmaxes():
    """Oracle: KL(p || q) of the two softmaxes by hand in NumPy, averaged over rows; zero for the same classifier
    and for logits shifted by a constant (the same probabilities)."""
    import torch

    from srnet.metrics import class_divergence

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 7, 4))
    p = np.exp(a) / np.exp(a).sum(axis=1, keepdims=True)
    q = np.exp(b) / np.exp(b).sum(axis=1, keepdims=True)
    want = np.mean(np.sum(p * np.log(p / q), axis=1))
    ta, tb = torch.as_tensor(a), torch.as_tensor(b)
    assert float(class_divergence(ta, tb)) == pytest.approx(want, rel=1e-12)
    assert float(class_divergence(ta, ta + 3.0)) == pytest.approx(0.0, abs=1e-12)
    assert float(class_divergence(ta[None], tb[None])) == pytest.approx(want, rel=1e-12)  # any leading shape


def test_rmse_r2_matches_scikit_learn_and_pools_columns_by_variance():
    from sklearn.metrics import mean_squared_error, r2_score

    from srnet.metrics import rmse_r2

    rng = np.random.default_rng(0)
    target = rng.normal(size=(50, 3)) * [1.0, 10.0, 0.1]
    predicted = target + rng.normal(scale=0.3, size=target.shape)
    rmse, r2 = rmse_r2(target, predicted)
    assert r2 == pytest.approx(r2_score(target, predicted, multioutput="variance_weighted"), rel=1e-12)
    assert rmse == pytest.approx(math.sqrt(mean_squared_error(target, predicted)), rel=1e-12)
    assert rmse_r2([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]) == (0.0, 1.0)  # plain lists are arrays too
    # the same figures in units of 1e200, whose squares float64 cannot hold (an OverflowError was raised)
    huge_rmse, huge_r2 = rmse_r2(target * 1e200, predicted * 1e200)
    assert huge_rmse == pytest.approx(rmse * 1e200, rel=1e-12) and huge_r2 == pytest.approx(r2, rel=1e-12)


@pytest.mark.parametrize("target, predicted", [
    (np.zeros((3, 2)), np.zeros(3)),   # broadcast (3,) against (3, 2) gave a number
    (np.zeros(3), np.zeros(4)),
    (np.zeros((3, 2)), np.zeros((3, 3))),
])
def test_metrics_refuse_predictions_shaped_unlike_the_target(target, predicted):
    from srnet.metrics import rmse_r2

    for metric in (rmse_r2, mse):
        with pytest.raises(ValueError, match="a metric needs predictions shaped like the target"):
            metric(target, predicted)


def test_a_constant_target_matched_within_rounding_has_r2_one():
    from srnet.metrics import rmse_r2

    target = np.full(20, 0.7)
    assert rmse_r2(target, target + 1.4e-16)[1] == 1.0  # LIME's round-off on a constant network scored -inf
    assert rmse_r2(target, target + 1e-6)[1] == -math.inf  # a real miss stays a miss
    assert rmse_r2(np.zeros(5), np.zeros(5))[1] == 1.0 and rmse_r2(np.zeros(5), np.full(5, 1e-9))[1] == -math.inf


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_a_non_finite_target_never_scores_a_match(bad):
    """inf in the target made the rounding tolerance inf: R^2 1 for any prediction."""
    from srnet.metrics import rmse_r2

    assert rmse_r2([1.0, bad, 3.0], [1.0, 2.0, 3.0]) == (math.inf, -math.inf)
    assert rmse_r2([[1.0, 2.0], [bad, 3.0]], [[1.0, 2.0], [bad, 3.0]]) == (math.inf, -math.inf)


def test_a_sample_with_no_finite_score_agrees_with_nothing():
    # its arg-max was class 0: a formula NaN everywhere agreed with every row the network gave class 0
    assert class_agreement(np.full((4, 2), np.nan), np.array([0, 0, 0, 1])) == 0.0
    scores = np.array([[np.nan, np.nan], [2.0, 1.0], [np.inf, np.nan], [-np.inf, -np.inf]])
    assert class_agreement(scores, np.array([0, 0, 1, 0])) == 0.25
    assert class_agreement(np.array([0, 0]), np.full((2, 3), np.nan)) == 0.0


def test_a_tiny_target_far_from_its_prediction_has_a_finite_rmse():
    from srnet.metrics import rmse_r2

    # in the target's units the residuals' squares overflowed: RMSE inf for a true RMSE of 1
    assert rmse_r2(np.array([1e-300, 2e-300, 3e-300]), np.ones(3)) == (1.0, -math.inf)
    assert rmse_r2(np.array([1e-310, 0.0, 0.0]), np.ones(3))[0] == pytest.approx(1.0)
    target = np.array([1.0, 2.0, 4.0])
    far = target * 1e300
    rmse, r2 = rmse_r2(target, far)
    assert rmse == pytest.approx(1e300 * np.sqrt(np.mean(((far - target) / 1e300) ** 2))) and r2 == -math.inf


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 40), st.integers(1, 3), st.floats(-250, 250), st.integers(0, 2**32 - 1))
def test_rmse_r2_is_the_pooled_formula_at_any_scale(rows, columns, exponent, seed):
    """Oracle: RMSE = sqrt(mean squared residual), R^2 = 1 - SSE/SST pooled over columns, computed in the
    target's units (a target of 1e-200 or 1e200 is the same problem): each column's spread and miss are judged
    in its own units, whatever sign its deviations have (a symmetric column is no constant)."""
    from srnet.metrics import rmse_r2

    rng = np.random.default_rng(seed)
    base = rng.normal(size=(rows, columns)) * rng.uniform(0.1, 10, columns)
    base[:, 0] = np.where(np.arange(rows) % 2, 1.0, -1.0) if rows % 2 == 0 else base[:, 0]  # symmetric deviations
    guess = base + rng.normal(scale=0.3, size=base.shape)
    scale = 10.0**exponent
    sse = float(np.sum((guess - base) ** 2))
    sst = float(np.sum((base - base.mean(axis=0)) ** 2))
    rmse, r2 = rmse_r2(base * scale, guess * scale)
    assert rmse == pytest.approx(math.sqrt(sse / base.size) * scale, rel=1e-9)
    assert r2 == pytest.approx(1.0 - sse / sst, rel=1e-9, abs=1e-12)


def test_constant_columns_are_judged_each_in_its_own_units():
    """A column of zeros beside a constant 5, matched within rounding, is matched (R^2 1): a zero column's own
    unit is 1, not 0 (0/0 made its miss NaN, and the match -inf); a column of 1e-200 varying beside a constant
    1 has no sum of squares in 1's units: each sum is taken in its own units, R^2 as exact as float64 holds it,
    never a ZeroDivisionError."""
    from srnet.metrics import rmse_r2

    constant = np.column_stack([np.zeros(8), np.full(8, 5.0)])
    nearly = constant + [1e-20, 0.0]
    assert rmse_r2(constant, nearly)[1] == 1.0
    assert rmse_r2(constant, constant + [1e-6, 0.0])[1] == -math.inf
    tiny = np.column_stack([np.ones(6), np.linspace(-1, 1, 6) * 1e-200])
    sse_over_sst = 6 / float(np.sum(np.linspace(-1, 1, 6) ** 2)) * 1e100  # 6e-300 over 2.8e-400
    assert rmse_r2(tiny, tiny + [0.0, 1e-150])[1] == pytest.approx(1.0 - sse_over_sst, rel=1e-12)  # -2.1e100


def test_format_r2_switches_to_significant_digits_outside_minus_ten_to_one():
    from srnet.metrics import format_r2

    assert format_r2(None) == "not finite"
    assert [format_r2(v) for v in (1.0, 0.5, -9.99, -10.0, -4120665.815867)] == [
        "1.000000", "0.500000", "-9.990000", "-10", "-4.121e+06"]


def test_softmax_is_row_by_row_and_the_metrics_refuse_scalars_and_empty_arrays():
    """An infinite or NaN logit changes its own row only; a scalar or an empty array is no set of samples."""
    from srnet.metrics import rmse_r2, softmax

    logits = np.array([[0.0, 0.0], [np.inf, 1.0], [np.nan, 1.0], [1.0, 1.0]])
    np.testing.assert_array_equal(softmax(logits)[[0, 3]], [[0.5, 0.5], [0.5, 0.5]])
    np.testing.assert_array_equal(softmax(logits)[1], [1.0, 0.0])
    assert np.isnan(softmax(logits)[2]).all()
    with pytest.raises(ValueError, match="got a scalar"):
        rmse_r2([1.0], 1.0)
    with pytest.raises(ValueError, match=r"^a metric of no values: shapes \(0,\) and \(1,\)$"):
        rmse_r2([], [1.0])
    with pytest.raises(ValueError, match=r"^class agreement needs scores of as many classes; got 3 and 2$"):
        class_agreement(np.zeros((4, 3)), np.zeros((4, 2)))
