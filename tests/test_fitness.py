"""The engine's fitness kernels against plain NumPy least squares."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srnet.cgp import _kernels


@settings(max_examples=60, deadline=None)
@given(m=st.integers(1, 4), T=st.integers(1, 6), n=st.integers(8, 300), seed=st.integers(0, 2**31),
       offset=st.sampled_from([0.0, 10.0, -1e3]))
def test_lstsq_mse_equals_the_residuals_of_numpy_least_squares(m, T, n, seed, offset):
    rng = np.random.default_rng(seed)
    F = rng.normal(size=(m, n)) + offset
    H = rng.normal(size=(T, m)) @ np.sin(F) + rng.normal(size=(T, n))
    design = np.column_stack([F.T, np.ones(n)])
    coef, *_ = np.linalg.lstsq(design, H.T, rcond=None)
    want = np.mean((H.T - design @ coef) ** 2)
    got = _kernels.lstsq_mse(F, H, 0.0, _kernels.target_sst(H))
    assert got == pytest.approx(want, rel=1e-7, abs=1e-12 * H.var())
    W, intercept, fit_mse = _kernels.lstsq_fit(F, H, 0.0)
    assert fit_mse == _kernels.lstsq_mse(F, H, 0.0, _kernels.target_sst(H))  # one score, bit for bit
    np.testing.assert_allclose(np.vstack([W, intercept]), coef, rtol=1e-6, atol=1e-8)


def test_scaled_mse_is_per_output_linear_scaling():
    rng = np.random.default_rng(0)
    F = rng.normal(size=(2, 50))
    Y = np.vstack([3 * F[0] - 1, rng.normal(size=50)])
    want_second = np.var(Y[1] - np.polyval(np.polyfit(F[1], Y[1], 1), F[1]))
    assert _kernels.scaled_mse(F, Y) == pytest.approx(want_second / 2, rel=1e-10)


def test_non_finite_outputs_and_constant_outputs():
    H = np.arange(10.0)[None, :]
    bad = np.ones((1, 10))
    bad[0, 3] = np.inf
    assert _kernels.fitness_of(bad, H, _kernels.FITNESS_LSTSQ, 1e-8) == np.inf
    assert _kernels.fitness_of(bad, H, _kernels.FITNESS_SCALED, 1e-8) == np.inf
    constant = np.full((1, 10), 4.0)
    assert _kernels.fitness_of(constant, H, _kernels.FITNESS_SCALED, 1e-8) == pytest.approx(H.var())
    assert _kernels.fitness_of(constant, H, _kernels.FITNESS_LSTSQ, 1e-8) == pytest.approx(H.var())


def _ridge_oracle(F, H, ridge):
    """Ridge least squares of H on F's standardised rows by np.linalg.solve,
    with rows constant to rounding dropped: (W, intercept, mse)."""
    mean = F.mean(axis=1, keepdims=True)
    centred = F - mean
    norm = np.sqrt((centred ** 2).sum(axis=1))
    kept = (centred ** 2).sum(axis=1) > 1e-20 * (F ** 2).sum(axis=1)
    Z = centred[kept] / norm[kept, None]
    Hc = H - H.mean(axis=1, keepdims=True)
    V = np.linalg.solve(Z @ Z.T + ridge * np.eye(kept.sum()), Z @ Hc.T)
    W = np.zeros((F.shape[0], H.shape[0]))
    W[kept] = V / norm[kept, None]
    intercept = H.mean(axis=1) - W.T @ mean[:, 0]
    mse = np.mean((H - W.T @ F - intercept[:, None]) ** 2)
    return W, intercept, mse


@settings(max_examples=60, deadline=None)
@given(m=st.integers(1, 4), T=st.integers(1, 5), n=st.integers(10, 200), seed=st.integers(0, 2**31),
       ridge=st.sampled_from([1e-8, 1e-3, 0.1, 1.0]), scales=st.lists(st.sampled_from([1e-6, 1.0, 1e6]), min_size=4,
                                                                       max_size=4))
def test_ridge_fit_matches_numpy_on_standardised_outputs(m, T, n, seed, ridge, scales):
    rng = np.random.default_rng(seed)
    F = rng.normal(size=(m, n)) * np.array(scales[:m])[:, None] + 3.0
    H = rng.normal(size=(T, m)) @ np.tanh(F) + rng.normal(size=(T, n))
    W_want, b_want, mse_want = _ridge_oracle(F, H, ridge)
    W, intercept, fit_mse = _kernels.lstsq_fit(F, H, ridge)
    assert fit_mse == _kernels.lstsq_mse(F, H, ridge, _kernels.target_sst(H))  # one score, bit for bit
    # a feature 3 + 1e-6 z keeps only ~10 digits of z: compare weights on the features' own scale
    W_scaled, want_scaled = W * np.array(scales[:m])[:, None], W_want * np.array(scales[:m])[:, None]
    np.testing.assert_allclose(W_scaled, want_scaled, rtol=1e-5, atol=1e-7 * np.abs(want_scaled).max())
    # the intercept alone is ill-conditioned beside weights of 1e6: compare what the fit predicts
    np.testing.assert_allclose(W.T @ F + intercept[:, None], W_want.T @ F + b_want[:, None], rtol=1e-6,
                               atol=1e-6 * np.abs(H).max())
    assert _kernels.lstsq_mse(F, H, ridge, _kernels.target_sst(H)) == pytest.approx(mse_want, rel=1e-7)


@pytest.mark.parametrize("residue", [0.0, 1e-16, 3e-15])
def test_a_near_constant_output_is_dropped_not_scaled_to_fit_rounding(residue):
    """The defect: a constant chromosome output left ~1e-16 of rounding after
    centring, W reached 1e15 and the closed-form SSE cancelled to 0."""
    rng = np.random.default_rng(0)
    n = 100
    x = rng.uniform(-2, 2, n)
    H = np.vstack([np.sin(x) + rng.normal(size=n), 3 - np.cos(3 * x)])
    near_constant = 1.2345 + residue * rng.normal(size=n)
    F = np.vstack([x, near_constant])
    design = np.column_stack([x, np.ones(n)])  # the constant adds nothing to the intercept
    coef, *_ = np.linalg.lstsq(design, H.T, rcond=None)
    want = np.mean((H.T - design @ coef) ** 2)
    for ridge in (0.0, 1e-8):
        assert _kernels.lstsq_mse(F, H, ridge, _kernels.target_sst(H)) == pytest.approx(want, rel=1e-9)
        W, intercept, fit_mse = _kernels.lstsq_fit(F, H, ridge)
        assert fit_mse == _kernels.lstsq_mse(F, H, ridge, _kernels.target_sst(H))  # one score, bit for bit
        assert np.all(W[1] == 0.0)
        np.testing.assert_allclose(np.vstack([W[:1], intercept]), coef, rtol=1e-6)
    only_constant = near_constant[None, :]
    assert _kernels.lstsq_mse(only_constant, H, 0.0, _kernels.target_sst(H)) == pytest.approx(H.var(axis=1).mean())


def test_a_near_perfect_fit_scores_its_true_residuals():
    """Below the closed form's precision, the SSE comes from the residuals."""
    rng = np.random.default_rng(1)
    n = 500
    F = rng.normal(size=(3, n)) * [[1e-3], [1.0], [1e4]] + [[5.0], [0.0], [-7.0]]
    noise = 1e-9 * rng.normal(size=(2, n))
    H = np.array([[2.0, -1.0, 3e-4], [0.5, 0.0, 1e-5]]) @ F + noise
    design = np.column_stack([F.T, np.ones(n)])
    coef, *_ = np.linalg.lstsq(design, H.T, rcond=None)
    want = np.mean((H.T - design @ coef) ** 2)
    got = _kernels.lstsq_mse(F, H, 0.0, _kernels.target_sst(H))
    assert got == pytest.approx(want, rel=1e-4)
    assert 0 < got


def test_collinear_outputs_do_not_explode_the_weights():
    rng = np.random.default_rng(2)
    x = rng.normal(size=200)
    F = np.vstack([x, x * (1 + 1e-15), np.exp(x)])
    H = (3 * x + rng.normal(size=200))[None, :]
    W, intercept, fit_mse = _kernels.lstsq_fit(F, H, 0.0)
    assert fit_mse == _kernels.lstsq_mse(F, H, 0.0, _kernels.target_sst(H))  # one score, bit for bit
    assert np.abs(W).max() < 1e6
    mse = _kernels.lstsq_mse(F, H, 0.0, _kernels.target_sst(H))
    assert mse == pytest.approx(np.mean((H - W.T @ F - intercept[:, None]) ** 2), rel=1e-6)


@pytest.mark.parametrize("ridge", [0.0, 1e-8, 1e-2])
def test_lstsq_fitness_is_unchanged_when_one_output_is_rescaled(ridge):
    """The ridge is relative to each output's own scale: a perfect feature of
    scale 1e-3 beside an unrelated one of scale 1e3 still scores R^2 = 1."""
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, 300)
    F = np.vstack([1e-3 * np.sin(x), 1e3 * rng.normal(size=300)])
    H = np.vstack([np.sin(x), 2 - np.sin(x)])
    base = _kernels.lstsq_mse(F, H, ridge, _kernels.target_sst(H))
    assert base < (1e-6 if ridge <= 1e-8 else 1e-2) * H.var()
    for factor in (1e6, 1e-6, -3.0):
        scaled = F.copy()
        scaled[0] *= factor
        assert _kernels.lstsq_mse(scaled, H, ridge, _kernels.target_sst(H)) == pytest.approx(base, rel=1e-9, abs=1e-20)
        scaled = F.copy()
        scaled[1] *= factor
        assert _kernels.lstsq_mse(scaled, H, ridge, _kernels.target_sst(H)) == pytest.approx(base, rel=1e-9, abs=1e-20)


def test_scaled_mse_drops_near_constant_outputs_like_lstsq():
    rng = np.random.default_rng(4)
    y = rng.normal(size=(1, 50))
    near_constant = 7.0 + 1e-15 * rng.normal(size=(1, 50))
    assert _kernels.scaled_mse(near_constant, y) == pytest.approx(y.var())
    assert _kernels.lstsq_mse(near_constant, y, 0.0, _kernels.target_sst(y)) == pytest.approx(y.var())
    float32 = (7.0 + 1e-7 * rng.normal(size=(1, 50))).astype(np.float32)  # float32 rounding, nothing more
    assert _kernels.scaled_mse(float32, y) == pytest.approx(y.var())


def test_float32_outputs_with_a_large_offset_keep_the_fit_exact():
    """The search's float32 outputs are summed in float64: an output 1000 + x
    that fits its target exactly scores ~0, not the rounding of a float32 mean."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=2000)
    F = (1000.0 + x)[None, :].astype(np.float32)
    H = (3.0 * F.astype(np.float64) - 2.0)
    exact = _kernels.lstsq_mse(F.astype(np.float64), H, 0.0, _kernels.target_sst(H))
    single = _kernels.lstsq_mse(F, H, 0.0, _kernels.target_sst(H))
    assert exact < 1e-12 and single < 1e-9 * H.var()


def test_layer_fit_scores_an_overflowing_chromosome_as_the_search_does():
    """lstsq_mse (the search) gave inf while layer_fit (the parent's recorded MSE) dropped the overflowing
    output and gave a finite MSE for the same chromosome on the same data."""
    from srnet.cgp import _kernels
    from srnet.cgp.primitives import ARITIES

    x = np.random.default_rng(0).uniform(-1, 1, (1, 100))
    Y = np.vstack([x[0], x[0] ** 2])
    nodes, outputs = np.array([[2, 0, 1], [2, 0, 0]], np.int32), np.array([2, 3], np.int32)  # [x * c, x * x]
    huge = np.array([1e160])
    F = _kernels.evaluate_outputs(nodes, outputs, huge, ARITIES, x)
    assert _kernels.fitness_of(F, Y, _kernels.FITNESS_LSTSQ, 1e-8) == np.inf
    finite, approximation, _, _, error = _kernels.layer_fit(nodes, outputs, huge, ARITIES, x, Y, 1e-8)
    assert not finite and error == np.inf and np.isnan(approximation).all()
    assert _kernels.layer_fit(nodes, outputs, np.array([2.0]), ARITIES, x, Y, 1e-8)[4] < 1e-12  # x*2, x*x: exact


def _neutral_pair(seed):
    """A layer's data, and two chromosomes of one function (x * x) by different genes: the parent reads node 2,
    the offspring node 3 (its output gene mutated), bit for bit the same outputs."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (1, 60))
    Y = np.vstack([np.sin(3 * x[0]) + x[0] ** 2, np.cos(x[0])])
    nodes = np.array([[2, 0, 0], [2, 0, 0]], np.int32)
    return x, Y, nodes, np.array([2], np.int32), np.array([3], np.int32)


@pytest.mark.parametrize("seed", range(12))
def test_the_kept_formula_is_scored_as_the_search_scores_it(seed):
    """layer_fit (the parent's recorded error) summed the residuals and lstsq_mse (the search) used the closed
    form: one chromosome got two scores up to 1e-12 apart on 88 % of random genomes."""
    from srnet.cgp.primitives import ARITIES

    x, Y, nodes, outputs, _ = _neutral_pair(seed)
    F = _kernels.evaluate_outputs(nodes, outputs, np.array([1.0]), ARITIES, x)
    finite, approximation, W, intercept, mse = _kernels.layer_fit(nodes, outputs, np.array([1.0]), ARITIES, x, Y, 1e-8)
    assert finite and mse == _kernels.lstsq_mse(F, Y, 1e-8, _kernels.target_sst(Y))
    assert mse == pytest.approx(np.mean((Y - approximation) ** 2), rel=1e-9)  # and it is what the formula computes
    np.testing.assert_allclose(approximation, W.T @ F + intercept[:, None], rtol=1e-12)


@pytest.mark.parametrize("seed", range(12))
def test_a_neutral_offspring_wins_the_pick_over_its_parent(seed):
    """Drift's point: an offspring computing the parent's function by other genes ties it, and ties go to the
    offspring.  With two scores of one function, the parent won whenever its own was the lower (blocked drift)."""
    from srnet.cgp.primitives import ARITIES

    x, Y, nodes, parent_outputs, offspring_outputs = _neutral_pair(seed)
    parent_mse = _kernels.layer_fit(nodes, parent_outputs, np.array([1.0]), ARITIES, x, Y, 1e-8)[4]
    candidates = dict(nodes=np.stack([nodes, nodes]), outputs=np.stack([offspring_outputs, parent_outputs]),
                      constants=np.zeros((2, 1), np.int32))
    pick, identical, mse, *_ = _kernels.layer_pick(
        np.array([1.0]), ARITIES, x, Y, _kernels.target_sst(Y), 1e-8, parent_mse, True, False, False, 1,
        candidates["nodes"], candidates["outputs"], candidates["constants"], np.array([True, False]), np.empty(2),
        np.zeros(2, np.int64))
    assert (pick, identical, mse) == (0, False, parent_mse)
