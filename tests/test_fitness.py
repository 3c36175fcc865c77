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
    W, intercept = _kernels.lstsq_fit(F, H, 0.0)
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
