"""Random numbers of the CGP engine: splitmix64, one independent stream per
offspring, seeded from (run seed, generation, offspring index), so results do
not depend on the number of threads or on how generations are chunked."""

from __future__ import annotations

import numpy as np
from numba import njit

from srnet.cgp import _cache  # noqa: F401  (first: places the numba cache before any kernel is defined)
from srnet.cgp._vecmath import JIT_OPTIONS as _JIT


@njit(**_JIT)
def _mix(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(**_JIT)
def stream_seed(run_seed, generation, index):
    """Seed of the random stream of one offspring of one generation."""
    z = _mix(np.uint64(run_seed) + np.uint64(0x9E3779B97F4A7C15))
    z = _mix(z ^ (np.uint64(generation) * np.uint64(0xD1B54A32D192ED03)))
    return _mix(z ^ (np.uint64(index) * np.uint64(0x8CB92BA72F3D8DD7)))


@njit(**_JIT)
def _next(state):
    state[0] += np.uint64(0x9E3779B97F4A7C15)
    return _mix(state[0])


@njit(**_JIT)
def draw_bits(state):
    """53 uniform random bits, as an integer in [0, 2**53) (a uniform draw in
    [0, 1) times 2**53: compared with an integer threshold, no conversion)."""
    return _next(state) >> np.uint64(11)


@njit(**_JIT)
def below(state, k):
    """Uniform integer in [0, k)."""
    return np.int64(np.float64(draw_bits(state)) * (1.0 / 9007199254740992.0) * k)
