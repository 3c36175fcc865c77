"""Numba fitness kernels: per-output linear scaling and joint least squares.

Both fitnesses fit a linear map from a candidate's outputs F (m x n) to the
targets, exactly, and score its mean squared error.  Two rules keep the score
honest, i.e. equal to what the fitted formula really computes:

* An output that is constant up to rounding (its variance is below
  ``CONSTANT_VARIANCE`` times its mean square) carries no signal: it is
  dropped (weight 0), never scaled up by 1e15 to fit rounding noise.
* Least squares works on standardised outputs, so its ridge is relative to
  each output's own scale: multiplying one output by 1e6 changes nothing.

The least-squares SSE comes from the normal equations (no pass over the
residuals) when that is exact enough, and from the residuals when the closed
form has cancelled most of its digits (a near-perfect fit).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from srnet.cgp import _cache  # noqa: F401  (first: places the numba cache before any kernel is defined)
from srnet.cgp._vecmath import JIT_OPTIONS as _JIT

#: Fitness modes.  SCALED: output j is fitted to target row j as a*f + b.
#: LSTSQ: all targets are fitted jointly as [F, 1] @ W by ridge least squares.
FITNESS_SCALED = 0
FITNESS_LSTSQ = 1

#: An output whose variance is at most this times its mean square is
#: constant up to rounding (a coefficient of variation below 1e-10; float64
#: rounding leaves about 1e-32, float32's about 1e-15 -- see _constant_limit).
CONSTANT_VARIANCE = 1e-20
CONSTANT_VARIANCE_FLOAT32 = 1e-10

#: The closed-form SSE keeps about -log10(CANCELLATION) of float64's digits:
#: below this fraction of the terms it was computed from, it is recomputed
#: from the residuals.
CANCELLATION = 1e-6

#: A Cholesky pivot below this fraction of its diagonal counts as singular
#: (the ridge is raised): it bounds the condition number of the solved system.
PIVOT = 1e-12


@njit(inline="always", **_JIT)
def _constant_limit(F):
    """The relative variance below which a row of F is constant up to rounding."""
    return CONSTANT_VARIANCE_FLOAT32 if F.itemsize == 4 else CONSTANT_VARIANCE


@njit(inline="always", **_JIT)
def _is_constant(s_ff, n, mean, limit):
    """Whether centred sum of squares s_ff of n values of mean ``mean`` is rounding noise."""
    return not s_ff > limit * (s_ff + n * mean * mean)


@njit(**_JIT)
def scaled_mse(F, Y):
    """Mean over outputs of the MSE of the best a*F[j] + b against Y[j].

    Each sum over the samples runs on four accumulators (samples i, i+1,
    i+2, i+3 side by side): with one, every addition waits for the last, and
    these few passes were most of a small search's time per candidate.
    """
    n_outputs, n = F.shape
    limit = _constant_limit(F)
    total = 0.0
    body = n - n % 4
    for j in range(n_outputs):
        f = F[j]
        y = Y[j]
        f0 = f1 = f2 = f3 = y0 = y1 = y2 = y3 = 0.0
        for i in range(0, body, 4):
            f0 += f[i]
            f1 += f[i + 1]
            f2 += f[i + 2]
            f3 += f[i + 3]
            y0 += y[i]
            y1 += y[i + 1]
            y2 += y[i + 2]
            y3 += y[i + 3]
        for i in range(body, n):
            f0 += f[i]
            y0 += y[i]
        mean_f = ((f0 + f1) + (f2 + f3)) / n
        mean_y = ((y0 + y1) + (y2 + y3)) / n
        a0 = a1 = a2 = a3 = b0 = b1 = b2 = b3 = 0.0
        for i in range(0, body, 4):
            d0, d1, d2, d3 = f[i] - mean_f, f[i + 1] - mean_f, f[i + 2] - mean_f, f[i + 3] - mean_f
            a0 += d0 * d0
            a1 += d1 * d1
            a2 += d2 * d2
            a3 += d3 * d3
            b0 += d0 * (y[i] - mean_y)
            b1 += d1 * (y[i + 1] - mean_y)
            b2 += d2 * (y[i + 2] - mean_y)
            b3 += d3 * (y[i + 3] - mean_y)
        for i in range(body, n):
            d = f[i] - mean_f
            a0 += d * d
            b0 += d * (y[i] - mean_y)
        s_ff = (a0 + a1) + (a2 + a3)
        s_fy = (b0 + b1) + (b2 + b3)
        if not (math.isfinite(s_ff) and math.isfinite(s_fy)):
            return math.inf
        scale = 0.0 if _is_constant(s_ff, n, mean_f, limit) else s_fy / s_ff
        offset = mean_y - scale * mean_f
        r0 = r1 = r2 = r3 = 0.0
        for i in range(0, body, 4):
            e0 = y[i] - scale * f[i] - offset
            e1 = y[i + 1] - scale * f[i + 1] - offset
            e2 = y[i + 2] - scale * f[i + 2] - offset
            e3 = y[i + 3] - scale * f[i + 3] - offset
            r0 += e0 * e0
            r1 += e1 * e1
            r2 += e2 * e2
            r3 += e3 * e3
        for i in range(body, n):
            e = y[i] - scale * f[i] - offset
            r0 += e * e
        total += ((r0 + r1) + (r2 + r3)) / n
    total /= n_outputs
    return total if math.isfinite(total) else math.inf


@njit(**_JIT)
def solve_ridge(G, C, ridge):
    """Solve (G + ridge' I) W = C for a symmetric PSD G by Cholesky.

    ``ridge'`` is ``ridge`` times the mean diagonal of G; the callers pass a
    G of standardised rows, whose diagonal is constant, so the ridge is
    relative to every row's own scale.  A pivot below ``PIVOT`` times its
    diagonal (collinear rows) raises the ridge tenfold until the
    factorisation is well conditioned, so W never explodes to fit rounding.
    """
    m = G.shape[0]
    scale = 0.0
    for j in range(m):
        scale += G[j, j]
    scale = max(scale / m, 1e-300)
    L = np.zeros((m, m))
    jitter = ridge
    for _ in range(40):
        ok = True
        for j in range(m):
            diagonal = G[j, j] + jitter * scale
            s = diagonal
            for k in range(j):
                s -= L[j, k] * L[j, k]
            if not s > PIVOT * diagonal:
                ok = False
                break
            L[j, j] = math.sqrt(s)
            for i in range(j + 1, m):
                t = G[i, j]
                for k in range(j):
                    t -= L[i, k] * L[j, k]
                L[i, j] = t / L[j, j]
        if ok:
            break
        jitter = max(jitter * 10.0, 1e-14)
    W = np.empty_like(C)
    z = np.empty(m)
    for t in range(C.shape[1]):
        for i in range(m):
            s = C[i, t]
            for k in range(i):
                s -= L[i, k] * z[k]
            z[i] = s / L[i, i]
        for i in range(m - 1, -1, -1):
            s = z[i]
            for k in range(i + 1, m):
                s -= L[k, i] * W[k, t]
            W[i, t] = s / L[i, i]
    return W


@njit(**_JIT)
def _standardised_system(F, H):
    """The least-squares system of the non-constant rows of F, standardised.

    Returns (finite, kept row indices, their means, their norms, G, C) where,
    for Z the kept rows centred and divided by their norms sqrt(sum (f -
    mean)^2), G = Z Z' (a unit diagonal) and C = Z Hc' with Hc the targets
    centred; ``finite`` is False when F is not finite (or its sums overflow).

    Every sum comes from two small matrix products of F's and H's rows, each
    row shifted by its first value, with a row of ones for the plain sums
    (the shifted-data algorithm: differences near a large offset are exact,
    and since no value lies more than sqrt(n) standard deviations from the
    mean, the centred sums lose at most ~n ulps).  Separate passes for each
    row's mean and variance waited on one chain of additions each; for a
    layer of three outputs and three targets over 800 samples this takes
    half the time.  All sums are float64, whatever F's precision.
    """
    m, n = F.shape
    T = H.shape[0]
    limit = _constant_limit(F)
    shift_f = np.empty(m)
    shift_h = np.empty(T)
    for j in range(m):
        shift_f[j] = F[j, 0]
    for t in range(T):
        shift_h[t] = H[t, 0]
    # rows shifted by their first values, and a row of ones whose products are the sums
    D = np.empty((m + 1, n))
    for j in range(m):
        D[j] = F[j] - shift_f[j]
    D[m] = 1.0
    E = np.empty((T, n))
    for t in range(T):
        E[t] = H[t] - shift_h[t]
    ff = np.dot(D, D.T)  # ff[j, k] = sum (f_j - s_j)(f_k - s_k); ff[j, m] = sum (f_j - s_j)
    fh = np.dot(D, E.T)  # fh[j, t] = sum (f_j - s_j)(h_t - r_t); fh[m, t] = sum (h_t - r_t)
    sum_f = ff[:m, m]
    sum_h = fh[m]
    finite = True
    for j in range(m):
        finite = finite and math.isfinite(sum_f[j]) and math.isfinite(ff[j, j])
    mean = np.empty(m)
    norm = np.empty(m)
    kept = np.empty(m, dtype=np.int64)
    count = 0
    for j in range(m):
        mu = shift_f[j] + sum_f[j] / n
        s = max(ff[j, j] - sum_f[j] * sum_f[j] / n, 0.0)
        if not _is_constant(s, n, mu, limit):
            kept[count] = j
            mean[count] = mu
            norm[count] = math.sqrt(s)
            count += 1
    G = np.empty((count, count))
    C = np.empty((count, T))
    for r in range(count):
        j = kept[r]
        for q in range(r + 1):
            k = kept[q]
            G[r, q] = G[q, r] = (ff[j, k] - sum_f[j] * sum_f[k] / n) / (norm[r] * norm[q])
        for t in range(T):
            C[r, t] = (fh[j, t] - sum_f[j] * sum_h[t] / n) / norm[r]
    return finite, kept[:count], mean[:count], norm[:count], G, C


@njit(**_JIT)
def target_sst(H):
    """Total sum of squares of H's rows about their means (over all targets)."""
    total = 0.0
    for t in range(H.shape[0]):
        row = H[t]
        mean = row.sum() / row.size
        for i in range(row.size):
            d = row[i] - mean
            total += d * d
    return total


@njit(**_JIT)
def _residual_sse(F, kept, mean, norm, V, H):
    """SSE of centred H against V' Z (Z: F's kept rows standardised), by a
    pass over the residuals."""
    sse = 0.0
    for t in range(H.shape[0]):
        row = H[t]
        centre = row.sum() / row.size
        for i in range(row.size):
            r = row[i] - centre
            for q in range(kept.size):
                r -= V[q, t] * (F[kept[q], i] - mean[q]) / norm[q]
            sse += r * r
    return sse


@njit(inline="always", **_JIT)
def closed_form_sse(G, C, V, h_sst):
    """The SSE of the least-squares solution V of (G, C) against targets of
    total sum of squares h_sst, in closed form: h_sst - 2 tr(C'V) + tr(V'GV);
    and the size of its terms (h_sst + 2 |tr(C'V)| + tr(V'GV)): when the SSE
    is a tiny fraction of them (:data:`CANCELLATION`) it has lost its digits
    and must come from the residuals."""
    cross = 0.0
    quadratic = 0.0
    m = G.shape[0]
    for t in range(C.shape[1]):
        for j in range(m):
            cross += C[j, t] * V[j, t]
            s = 0.0
            for k in range(m):
                s += G[j, k] * V[k, t]
            quadratic += V[j, t] * s
    return h_sst - 2.0 * cross + quadratic, h_sst + 2.0 * abs(cross) + quadratic


@njit(**_JIT)
def _solved(F, H, ridge, h_sst):
    """The ridge least-squares fit of H on F's standardised rows and its MSE
    (over all samples and targets): (kept rows, their means, their norms, V,
    mse), mse inf where F is not finite or its sums overflow.

    SSE = SST - 2 tr(C'V) + tr(V'GV), exact for any V, needs no pass over
    the residuals; when it is below ``CANCELLATION`` times the terms it was
    computed from, most of its digits cancelled and it is recomputed from the
    residuals.  The one scoring rule of :func:`lstsq_mse` (the search) and
    :func:`lstsq_fit` (the kept formula): a chromosome scored both ways got
    two scores 1e-12 apart, and a neutral offspring lost to its parent.
    """
    n_samples = F.shape[1]
    T = H.shape[0]
    finite, kept, mean, norm, G, C = _standardised_system(F, H)
    if not finite:
        return kept, mean, norm, np.zeros((kept.size, T)), math.inf
    if kept.size == 0:
        return kept, mean, norm, np.zeros((0, T)), h_sst / (n_samples * T)
    V = solve_ridge(G, C, ridge)
    if not np.all(np.isfinite(V)):
        return kept, mean, norm, V, math.inf
    sse, terms = closed_form_sse(G, C, V, h_sst)
    if not sse > CANCELLATION * terms:
        sse = _residual_sse(F, kept, mean, norm, V, H)
    mse = sse / (n_samples * T)
    return kept, mean, norm, V, (mse if math.isfinite(mse) else math.inf)


@njit(**_JIT)
def lstsq_mse(F, H, ridge, h_sst):
    """MSE (over all samples and targets) of the ridge least-squares fit
    [F, 1] -> H (see :func:`_solved`).  ``h_sst`` is :func:`target_sst` of
    H, the same for every candidate, computed once by the caller."""
    return _solved(F, H, ridge, h_sst)[4]


@njit(**_JIT)
def lstsq_fit(F, H, ridge):
    """Least-squares map [F, 1] -> H: returns (W (m x T), intercept (T,), mse).

    Constant rows of F get weight 0; the ridge is relative to each row's
    scale.  ``mse`` is :func:`lstsq_mse`'s score, bit for bit; where it is
    inf (F is not finite, or its sums overflow) the map is meaningless, and a
    caller must say so.
    """
    m, n = F.shape
    T = H.shape[0]
    kept, mean, norm, V, mse = _solved(F, H, ridge, target_sst(H))
    W = np.zeros((m, T))
    for r in range(kept.size):
        for t in range(T):
            W[kept[r], t] = V[r, t] / norm[r]
    intercept = np.empty(T)
    for t in range(T):
        intercept[t] = H[t].sum() / n
        for r in range(kept.size):
            intercept[t] -= W[kept[r], t] * mean[r]
    return W, intercept, mse


@njit(**_JIT)
def fitness_with(F, Y, mode, ridge, y_sst):
    """Fitness of outputs F against Y; ``y_sst`` = target_sst(Y), precomputed."""
    if mode == FITNESS_SCALED:
        return scaled_mse(F, Y)
    return lstsq_mse(F, Y, ridge, y_sst)


@njit(**_JIT)
def fitness_of(F, Y, mode, ridge):
    return fitness_with(F, Y, mode, ridge, target_sst(Y))
