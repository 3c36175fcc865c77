"""Metrics and formula selection, tested where mutation testing found them untested.

Each test kills mutants of srnet/metrics.py and srnet/formulas.py that the rest of
the suite let through (97 mutants by hand, 46 survivors before these): a
non-finite prediction scoring a perfect fit, agreement measured against itself,
softmax without its shift or its +-inf/NaN rules, figures computed the wrong way
round, a classifier's pole weighed by logit R^2, an all-negative target, the
constant-match tolerance, denominators that touch 0 without changing sign,
non-finite values, a capped exp weighted 0, the decade rule at its boundary.
Oracles: scikit-learn's metrics, NumPy's row softmax, hand-built programs.
"""

import math

import numpy as np
import pytest

from srnet.expr.program import Program
from srnet.formulas import Candidate, Formula, measure, select, singularities
from srnet.metrics import rmse_r2, softmax


# 1 ------------------------------------------------------------------ metrics.py:48/51/54
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_a_non_finite_prediction_never_scores_a_match(bad):
    """The docstring's promise for a prediction (only a non-finite *target* was tested)."""
    assert rmse_r2([1.0, 2.0, 3.0], [1.0, bad, 3.0]) == (math.inf, -math.inf)
    assert rmse_r2(np.full(3, 0.7), [0.7, bad, 0.7]) == (math.inf, -math.inf)  # a constant target too
    assert rmse_r2([[1.0, 2.0], [3.0, 5.0]], [[1.0, 2.0], [3.0, bad]]) == (math.inf, -math.inf)


def test_a_prediction_whose_residual_overflows_never_scores_a_match():
    assert rmse_r2([-1e308, 1e308, 0.0], [1e308, -1e308, 0.0]) == (math.inf, -math.inf)


# 2 ------------------------------------------------------------------ metrics.py:42
def test_an_all_negative_target_is_measured_like_any_other():
    """unit is the largest *magnitude*: an all-negative exact match is (0, 1), noisy ones match scikit-learn."""
    from sklearn.metrics import mean_squared_error, r2_score

    rng = np.random.default_rng(0)
    target = -5.0 - rng.random((30, 2))
    assert rmse_r2(target, target) == (0.0, 1.0)
    predicted = target + rng.normal(scale=0.1, size=target.shape)
    rmse, r2 = rmse_r2(target, predicted)
    assert rmse == pytest.approx(math.sqrt(mean_squared_error(target, predicted)), rel=1e-12)
    assert r2 == pytest.approx(r2_score(target, predicted, multioutput="variance_weighted"), rel=1e-12)
    constant = np.full(20, -0.7)
    assert rmse_r2(constant, constant + 1.4e-16)[1] == 1.0  # rounding off a negative constant network


# 3 ------------------------------------------------------------------ metrics.py:57
def test_the_constant_match_is_relative_to_the_target_s_size():
    big = np.full(20, 3e6)
    assert rmse_r2(big, np.nextafter(big, np.inf))[1] == 1.0  # one ulp (4.7e-10) off 3e6: rounding
    tiny = np.full(20, 1e-14)
    assert rmse_r2(tiny, 2 * tiny)[1] == -math.inf  # twice the target is no match, however small


# 4 ------------------------------------------------------------------ metrics.py:101-108 (softmax)
def test_softmax_is_numpy_s_row_softmax_and_safe_at_the_extremes():
    logits = np.array([[1.0, 2.0, 3.0], [1000.0, 1001.0, 999.0], [-1000.0, -1001.0, -999.0]])
    shifted = logits - logits.max(axis=1, keepdims=True)  # oracle: the textbook stable softmax, per row
    oracle = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(softmax(logits), oracle, rtol=1e-12)
    assert np.array_equal(softmax([[0.0, -np.inf]]), [[1.0, 0.0]])               # -inf: no probability
    assert np.array_equal(softmax([[np.inf, 0.0]]), [[1.0, 0.0]])                # +inf: all of it
    assert np.array_equal(softmax([[np.inf, 0.0, np.inf]]), [[0.5, 0.0, 0.5]])   # shared among +infs
    assert np.all(np.isnan(softmax([[np.nan, 1.0, 0.0]])))                      # a NaN: the whole row
    assert np.all(np.isnan(softmax([[-np.inf, -np.inf]])))                      # nothing above -inf


# 5 ------------------------------------------------------------------ formulas.py:283 (measure)
def two_outputs(scale=1.0):
    """[scale * x, sin x]: two outputs of one program."""
    return Formula("direct-4", (Program(1, (), (("sin", 0, 0),), (0, 1), [[scale, 0.0], [0.0, 1.0]],
                                        [0.0, 0.0]),))


def test_a_classifier_s_measured_agreement_compares_it_with_the_network():
    """Oracle: the fraction of rows whose arg-max matches, by NumPy; the classes swapped agree nowhere."""
    x = np.linspace(-2, 2, 60)[:, None]
    logits = two_outputs()(x)
    network = logits[:, ::-1] + 0.05 * x  # the classes swapped (x = sin x only at 0, not sampled), shifted
    figures = measure(two_outputs(), {"domain": (x, network)}, classification=True)["domain"]
    want = np.mean(logits.argmax(axis=1) == network.argmax(axis=1))
    assert want < 0.5 and figures["agreement"] == pytest.approx(want)


# 6 ------------------------------------------------------------------ formulas.py:274/281/284 (measure)
def test_measure_figures_are_of_the_target_against_the_prediction():
    """r2 is not symmetric: the target's variance is the denominator (oracle: scikit-learn), per output too;
    rmse_per_output is each column's RMSE; a classifier's probability_r2 is R^2 of the network's softmax."""
    from sklearn.metrics import r2_score

    x = np.linspace(-2, 2, 50)[:, None]
    formula = two_outputs(3.0)
    predicted = formula(x)
    target = np.column_stack([x[:, 0], np.sin(x[:, 0]) + 0.2 * x[:, 0] ** 2])
    figures = measure(formula, {"domain": (x, target)})["domain"]
    assert figures["r2"] == pytest.approx(r2_score(target, predicted, multioutput="variance_weighted"), rel=1e-9)
    assert figures["r2_per_output"] == pytest.approx(list(r2_score(target, predicted, multioutput="raw_values")))
    assert figures["rmse_per_output"] == pytest.approx(list(np.sqrt(np.mean((predicted - target) ** 2, axis=0))))

    def np_softmax(z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    classes = measure(formula, {"domain": (x, target)}, classification=True)["domain"]
    assert classes["probability_r2"] == pytest.approx(
        r2_score(np_softmax(target), np_softmax(predicted), multioutput="variance_weighted"), rel=1e-9)


# 7 ------------------------------------------------------------------ formulas.py:523 (_quality)
def classifier_candidate(complexity, agreement, logit_r2, poles=False):
    figures = {"domain": {"rmse": 1.0, "r2": logit_r2, "agreement": agreement, "probability_rmse": 1.0}}
    return Candidate(Formula("direct-8", ()), [], complexity, figures,
                     ["step 1: the denominator of div crosses 0 inside the domain"] if poles else [])


def test_a_classifier_s_pole_is_weighed_by_class_agreement_not_by_logit_r2():
    """Logits are free up to a shift per row: their R^2 is no classifier's quality.  A pole formula agreeing on
    99 % of the samples beats a pole-free one agreeing on 80 % by far more than POLE_TOLERANCE, whatever R^2 its
    logits have."""
    pole = classifier_candidate(5, agreement=0.99, logit_r2=0.3, poles=True)
    pole_free = classifier_candidate(5, agreement=0.80, logit_r2=0.9)
    assert select([pole, pole_free], "best") is pole
    assert select([pole, pole_free], "accurate") is pole
    assert select([pole, pole_free], 10) is pole


# 8 ------------------------------------------------------------------ formulas.py:336 (_touches_zero)
def test_a_denominator_that_nearly_vanishes_without_changing_sign_is_flagged():
    """1 / ((x - 0.303) * (x - 0.303)): mul keeps no zeros (unlike square), never negative, so neither the sign
    test nor the sign of its source sees the pole; its smallest value is 3e-5 of its median."""
    X = np.linspace(-1, 1, 101)[:, None]
    steps = (("sub", 0, 1), ("mul", 3, 3), ("div", 2, 4))
    formula = Formula("direct-4", (Program(1, (0.303, 1.0), steps, (5,), [[1.0]], [0.0]),))
    assert singularities(formula, X) == ["step 3: the denominator of div comes within 0.001 of its typical size "
                                         "to 0 inside the domain (a likely pole)"]
    assert singularities(formula, X + 3.0) == []  # x in [2, 4]: far from 0.303


# 9 ------------------------------------------------------------------ formulas.py:347-350
def test_non_finite_values_inside_the_domain_are_reported_once_at_their_layer():
    X = np.linspace(0.5, 1.0, 11)[:, None]
    overflows = Program(1, (1e200,), (("mul", 0, 1),), (2,), [[1e200]], [0.0])  # x * 1e200 * 1e200 = inf
    passes = Program(1, (), (), (0,), [[1.0]], [0.0])
    assert singularities(Formula("direct-4", (overflows,)), X) == ["non-finite values inside the domain"]
    assert singularities(Formula("layerwise", (overflows, passes)), X) == [
        "layer 1: non-finite values inside the domain"]


# 10 ----------------------------------------------------------------- formulas.py:339
def test_a_capped_exp_weighted_zero_is_not_reported():
    """exp(3x) on [0, 40] is capped above x = 26.7, but weighted 0 it is no part of the formula."""
    inside = np.linspace(0, 40, 400)[:, None]
    dead = Program(1, (3.0,), (("mul", 0, 1), ("exp", 2, 0)), (3, 0), np.array([[0.0], [1.0]]), np.array([0.0]))
    assert singularities(Formula("direct-4", (dead,)), inside) == []


# 11 ----------------------------------------------------------------- formulas.py:579
def fake(complexity, rmse):
    return Candidate(Formula("direct-8", ()), [], complexity, {"domain": {"rmse": rmse, "r2": 1.0 - rmse * rmse}}, [])


def test_best_takes_a_larger_formula_at_exactly_a_decade_of_mse_per_nodes_per_decade():
    """"divides the validation MSE by 10 per NODES_PER_DECADE nodes added, or better": RMSE / 10 (exact in
    binary: 10/256 -> 1/256) is two decades of MSE, worth 2 * 15 = 30 nodes, exactly the 30 added."""
    from srnet.formulas import NODES_PER_DECADE

    assert NODES_PER_DECADE == 15
    small, large = fake(10, 10 / 256), fake(40, 1 / 256)
    assert select([small, large], "best") is large
    assert select([small, fake(41, 1 / 256)], "best") is small


# 12 ----------------------------------------------------------------- metrics.py:73
def test_a_scalar_is_refused_in_one_clear_line():
    with pytest.raises(ValueError, match="got a scalar"):
        rmse_r2(1.0, 1.0)
