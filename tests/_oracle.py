"""Test helpers: inputs that hit every protected case, and a condition-aware
comparison (a 1-ulp difference fed through log-near-1 or tan-near-pi/2 is
chaos, not a bug, so points where the oracle itself is unstable are skipped)."""

import numpy as np

from srnet.cgp.primitives import EXP_MAX, PROTECTION_EPS, primitive

SPECIAL_VALUES = np.array([0.0, -0.0, 1e-12, -1e-12, 1e-10, -1e-10, 2e-10, 1.0, -1.0, 0.5, np.pi / 2, -np.pi,
                           3.0, -7.5, 1e3, -1e4, 1e8, 3e8, 1e150, -1e200, 85.0, 700.0])


def protected_inputs(rng, n_rows, n_cols):
    """Rows mixing special values (zeros, tiny, huge, negatives) and normals."""
    X = rng.standard_normal((n_rows, n_cols)) * rng.choice([0.1, 1.0, 10.0], size=(n_rows, n_cols))
    mask = rng.random((n_rows, n_cols)) < 0.4
    X[mask] = rng.choice(SPECIAL_VALUES, size=mask.sum())
    return X


def _jittered_outputs(program, X, jitter):
    """Raw outputs with every intermediate value nudged by ``jitter`` relative:
    what a different (equally correct) libm would give."""
    n = X.shape[0]
    values = [X[:, i] for i in range(program.n_inputs)] + [np.full(n, c) for c in program.constants]
    for name, a, b in program.steps:
        prim = primitive(name)
        values.append(prim.numpy(values[a], values[b] if prim.arity == 2 else values[a]) * (1 + jitter))
    return np.column_stack([values[o] for o in program.outputs])


def stable_rows(program, X, rtol=1e-7):
    """Rows whose outputs barely move when the inputs or any intermediate
    value move by a few ulps (ill-conditioned rows are chaos, not bugs)."""
    with np.errstate(all="ignore"):
        base = program.raw_outputs(X)
        runs = [program.raw_outputs(X * (1 + 1e-13)), _jittered_outputs(program, X, 1e-14),
                _jittered_outputs(program, X, -1e-14)]
        stable = np.ones(X.shape[0], dtype=bool)
        for moved in runs:
            close = np.isclose(base, moved, rtol=rtol, atol=1e-12) | (np.isnan(base) & np.isnan(moved))
            stable &= np.all(close, axis=1)
    return stable


def protection_fired(program, X):
    """Per row: did any step hit a protected case (where sympy's exact form
    differs from the engine's protected one)?"""
    n = X.shape[0]
    values = [X[:, i] for i in range(program.n_inputs)] + [np.full(n, c) for c in program.constants]
    fired = np.zeros(n, dtype=bool)
    with np.errstate(all="ignore"):
        for name, a, b in program.steps:
            prim = primitive(name)
            if name == "div":
                fired |= np.abs(values[b]) <= PROTECTION_EPS * 10
            elif name == "log":
                fired |= np.abs(values[a]) <= PROTECTION_EPS * 10
            elif name == "exp":
                fired |= values[a] >= EXP_MAX
            values.append(prim.numpy(values[a], values[b] if prim.arity == 2 else values[a]))
            fired |= ~np.isfinite(values[-1])
    return fired
