"""experiments/bench_engine.py: the helpers of its scaling and time-to-target tables."""

import math

import numba
import pytest


@pytest.fixture
def bench(experiment_script):
    return experiment_script("bench_engine")


def test_thread_counts_default_to_powers_of_two_and_all(bench):
    threads_all = numba.config.NUMBA_NUM_THREADS
    counts = bench.thread_counts(None)
    assert counts[0] == 1 and counts[-1] == threads_all and counts == sorted(set(counts))
    assert all(c & (c - 1) == 0 for c in counts[:-1])
    assert bench.thread_counts("1, 1") == [1]
    for bad in ("0", "a,b", f"{threads_all + 1}", ""):
        with pytest.raises(ValueError, match="--threads"):
            bench.thread_counts(bad)


def test_a_missed_target_counts_as_infinitely_long(bench):
    assert bench.median_time([1.0, 2.0, math.inf]) == 2.0
    assert bench.median_time([1.0, math.inf, math.inf]) == math.inf
    assert math.isnan(bench.median_time([]))


def test_time_to_target_stops_when_the_training_r2_is_reached(bench):
    run = bench.nguyen_time_to_target("nguyen-1", seed=0, n_threads=1, budget=5.0)
    assert 0 < run["seconds"] < 5.0  # x^3 + x^2 + x: found in well under a second
    assert run["generations"] > 0 and run["threads"] == 1
    missed = bench.nguyen_time_to_target("nguyen-12", seed=0, n_threads=1, budget=0.001)
    assert missed["seconds"] == math.inf
