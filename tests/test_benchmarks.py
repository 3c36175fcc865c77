"""Benchmark generators: sampling boxes, and NumPy truth == sympy formula."""

import numpy as np
import pytest

from srnet.benchmarks import BENCHMARKS, NGUYEN, SRNET_GECCO, get_benchmark
from srnet.expr.symbolic import evaluate_sympy


def test_the_suites_are_complete():
    assert list(NGUYEN) == [f"nguyen-{k}" for k in range(1, 13)]
    assert list(SRNET_GECCO) == [f"kkk{k}" for k in range(6)] + [f"feynman{k}" for k in range(6)]


@pytest.mark.parametrize("name", list(BENCHMARKS))
def test_samples_lie_in_the_box_and_truth_matches_the_formula(name):
    bench = get_benchmark(name)
    X, y = bench.sample(40, random_state=0)
    assert X.shape == (40, bench.n_inputs) and y.shape == (40,)
    for column, (low, high) in zip(X.T, bench.box):
        assert column.min() >= low and column.max() <= high
    symbols = bench.symbols()
    exact = evaluate_sympy(bench.expression(), symbols, X[:8])
    np.testing.assert_allclose(y[:8], exact, rtol=1e-10)


def test_seeded_sampling_and_custom_boxes():
    bench = get_benchmark("Nguyen-9")
    a, _ = bench.sample(10, random_state=3)
    b, _ = bench.sample(10, random_state=3)
    np.testing.assert_array_equal(a, b)
    wide, _ = bench.sample(500, box=[(-5, 5), (-5, 5)], random_state=0)
    assert np.abs(wide).max() > 1
    grid, _ = get_benchmark("kkk3").sample()
    np.testing.assert_allclose(grid[:, 0], np.arange(-5, 4.61, 0.4))
    with pytest.raises(ValueError, match="unknown benchmark 'nguyen-13'"):
        get_benchmark("nguyen-13")
    with pytest.raises(ValueError, match="box has 1 ranges"):
        bench.sample(5, box=[(0, 1)])
