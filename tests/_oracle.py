"""Test helpers: inputs that hit every protected case, and a condition-aware
comparison (a 1-ulp difference fed through log-near-1 or tan-near-pi/2 is
chaos, not a bug, so points where the oracle itself is unstable are skipped)."""

import numpy as np

from srnet.cgp.primitives import EXP_MAX, PROTECTION_EPS, primitive

#: subnormals (the smallest, mid-range, the largest) and the smallest normal:
#: a flush to zero or a clamp at finfo.tiny in any backend shows there
SUBNORMALS = np.array([5e-324, -5e-324, 1e-310, -1e-310, 2.225073858507201e-308, -2.2250738585072014e-308])

SPECIAL_VALUES = np.concatenate([
    [0.0, -0.0, 1e-12, -1e-12, 1e-10, -1e-10, 2e-10, 1.0, -1.0, 0.5, np.pi / 2, -np.pi,
     3.0, -7.5, 1e3, -1e4, 1e8, 3e8, 1e150, -1e200, 85.0, 700.0],
    SUBNORMALS,
])


def protected_inputs(rng, n_rows, n_cols):
    """Rows mixing special values (zeros, tiny, huge, negatives) and normals."""
    X = rng.standard_normal((n_rows, n_cols)) * rng.choice([0.1, 1.0, 10.0], size=(n_rows, n_cols))
    mask = rng.random((n_rows, n_cols)) < 0.4
    X[mask] = rng.choice(SPECIAL_VALUES, size=mask.sum())
    return X


def _values(program, X, nudges=None):
    """Every value of ``program`` on X by the NumPy oracle: the inputs, the
    constants, then one array per step; with ``nudges``, step k's value is
    moved by ``nudges[k]`` relative (what a different, equally correct libm,
    or a lower precision, would give)."""
    n = X.shape[0]
    values = [X[:, i] for i in range(program.n_inputs)] + [np.full(n, c) for c in program.constants]
    with np.errstate(all="ignore"):
        for k, (name, a, b) in enumerate(program.steps):
            prim = primitive(name)
            value = prim.numpy(values[a], values[b] if prim.arity == 2 else values[a])
            values.append(value if nudges is None else value * (1 + nudges[k]))
    return values


def _step_values(program, values):
    """The per-step part of :func:`_values`."""
    return values[program.n_inputs + len(program.constants):]


def _nudges(n_steps, jitter):
    """Per-step relative nudges of about ``jitter``: all up, all down, and
    sign patterns in which every two steps move apart at least once (bit b of
    the step's index), exposing cancellations (tanh(a) - tanh(b) near 1, a
    tiny term lost beside a huge one) that a common nudge hides.  Magnitudes
    vary (fixed seed), so a nudge never resonates with a special value (a
    period of cos hit exactly by pi/2 * 1e10 * 1e-7)."""
    steps = np.arange(n_steps)
    signs = [np.ones(n_steps), -np.ones(n_steps)]
    signs += [np.where((steps >> bit) & 1, 1.0, -1.0) for bit in range(max(1, int(n_steps - 1).bit_length()))]
    scale = np.random.default_rng(0).uniform(0.5, 1.5, n_steps) * jitter
    return [sign * scale for sign in signs]


def stable_rows(program, X, rtol=1e-7, jitter=1e-14, atol=1e-12):
    """Rows whose outputs barely move when the inputs or any intermediate
    value move by a few ulps (ill-conditioned rows are chaos, not bugs);
    ``jitter`` is the relative move of an intermediate value (a few float64
    ulps by default; ~1e-7 stands for float32 rounding).  ``atol=0`` also
    counts a tiny output that moves by orders of magnitude as unstable (a
    protection threshold crossed in one precision but not the other)."""
    with np.errstate(all="ignore"):
        base = program.raw_outputs(X)
        runs = [program.raw_outputs(X * (1 + 10.3 * jitter))]
        for nudges in _nudges(len(program.steps), jitter):
            values = _values(program, X, nudges)
            runs.append(np.column_stack([values[o] for o in program.outputs]))
        stable = np.ones(X.shape[0], dtype=bool)
        for moved in runs:
            close = np.isclose(base, moved, rtol=rtol, atol=atol) | (np.isnan(base) & np.isnan(moved))
            stable &= np.all(close, axis=1)
    return stable


def protection_fired(program, X):
    """Per row: did any step hit a protected case (where sympy's exact form
    differs from the engine's protected one)?"""
    values = _values(program, X)
    fired = np.zeros(X.shape[0], dtype=bool)
    with np.errstate(invalid="ignore"):
        for (name, a, b), value in zip(program.steps, _step_values(program, values)):
            if name == "div":
                fired |= np.abs(values[b]) <= PROTECTION_EPS * 10
            elif name == "log":
                fired |= np.abs(values[a]) <= PROTECTION_EPS * 10
            elif name == "exp":
                fired |= values[a] >= EXP_MAX
            elif name in ("mul", "square", "cube"):
                # underflow: nonzero factors rounded to 0, where the exact form keeps
                # its slope (sqrt(x**2) at x = 1e-310 is sqrt|0| to the engine, |x| to sympy)
                factors = values[a] != 0 if name != "mul" else (values[a] != 0) & (values[b] != 0)
                fired |= factors & (value == 0)
            fired |= ~np.isfinite(value) | ((value != 0) & (np.abs(value) < np.finfo(float).tiny))
    return fired


def within_float32_range(program, X, largest=1e37, smallest=1e-30):
    """Per row: does every intermediate value that is finite in float64 stay
    well inside float32's range, 0 or between ``smallest`` and ``largest`` in
    magnitude (beyond, float32 overflows, or underflows into subnormals with
    few significant bits, where float64 does not: a difference of range, not
    of arithmetic)?"""
    inside = np.ones(X.shape[0], dtype=bool)
    for value in _step_values(program, _values(program, X)):
        magnitude = np.abs(value)
        inside &= ~(np.isfinite(value) & ((magnitude > largest) | ((magnitude < smallest) & (value != 0))))
    return inside
