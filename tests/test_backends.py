"""Every backend computes the same numbers: numba kernels, the NumPy program,
the torch module and sympy, on random genomes and inputs that hit every
protected case (zeros, tiny and huge values, negatives)."""

import math

import numpy as np
import sympy
import torch
from _oracle import protected_inputs, protection_fired, stable_rows, within_float32_range
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from srnet.cgp import Genome, GenomeSpec, as_feature_rows, outputs_of
from srnet.cgp.primitives import PRIMITIVE_CODES
from srnet.expr import Program, ProgramModule, make_symbols
from srnet.expr.symbolic import raw_sympy

ALL = tuple(sorted(PRIMITIVE_CODES))
specs = st.builds(GenomeSpec, n_inputs=st.integers(1, 3), n_outputs=st.integers(1, 2), n_rows=st.integers(1, 2),
                  n_columns=st.integers(2, 15), levels_back=st.one_of(st.none(), st.integers(1, 4)),
                  functions=st.lists(st.sampled_from(ALL), min_size=2, max_size=8, unique=True).map(tuple),
                  n_constants=st.integers(0, 2))


def same(a, b, rtol):
    """Equal to rtol (or 1e-12 absolute), with NaN == NaN and inf == inf."""
    both_nan = np.isnan(a) & np.isnan(b)
    finite = np.isfinite(a) & np.isfinite(b)
    exact = (a == b) | both_nan
    close = finite & np.isclose(a, b, rtol=rtol, atol=1e-12)
    return exact | close


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs, seed=st.integers(0, 2**32))
def test_numba_equals_numpy_program(spec, seed):
    genome = Genome.random(spec, seed)
    X = protected_inputs(np.random.default_rng(seed), 64, spec.n_inputs)
    program = Program.from_genome(genome)
    fast = outputs_of(genome, as_feature_rows(X)).T
    slow = program.raw_outputs(X)
    rows = stable_rows(program, X)
    assert np.all(same(fast[rows], slow[rows], rtol=1e-9)), genome.describe()


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs, seed=st.integers(0, 2**32))
def test_float32_evaluation_equals_float64_where_float32_can(spec, seed):
    """The search's float32 precision: same genome, same values to float32
    accuracy, wherever the row is well conditioned at float32's rounding and
    stays inside float32's range; special values (0, tiny, inf, NaN) included."""
    genome = Genome.random(spec, seed)
    with np.errstate(over="ignore"):
        X = protected_inputs(np.random.default_rng(seed), 64, spec.n_inputs).astype(np.float32).astype(np.float64)
    program = Program.from_genome(genome)
    exact = outputs_of(genome, as_feature_rows(X)).T
    fast = outputs_of(genome, as_feature_rows(X).astype(np.float32)).T
    assert fast.dtype == np.float32
    rows = stable_rows(program, X, rtol=1e-4, jitter=1e-7, atol=0) & within_float32_range(program, X)
    assert np.all(same(fast[rows].astype(np.float64), exact[rows], rtol=1e-3)), genome.describe()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs, seed=st.integers(0, 2**32))
def test_torch_module_equals_numpy_program(spec, seed):
    genome = Genome.random(spec, seed)
    X = protected_inputs(np.random.default_rng(seed), 64, spec.n_inputs)
    program = Program.from_genome(genome)
    with torch.no_grad():
        got = ProgramModule(program).raw_outputs(torch.from_numpy(X)).numpy()
    want = program.raw_outputs(X)
    rows = stable_rows(program, X)
    assert np.all(same(got[rows], want[rows], rtol=1e-9)), genome.describe()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs, seed=st.integers(0, 2**32))
def test_sympy_equals_numpy_program_where_defined(spec, seed):
    genome = Genome.random(spec, seed)
    rng = np.random.default_rng(seed)
    X = protected_inputs(rng, 6, spec.n_inputs)
    X = X[np.all(np.abs(X) < 1e6, axis=1)]  # sympy's exact arithmetic on 1e200 is needlessly slow
    program = Program.from_genome(genome)
    keep = stable_rows(program, X) & ~protection_fired(program, X)
    symbols = make_symbols(spec.n_inputs)
    exprs = raw_sympy(program, symbols)
    want = program.raw_outputs(X)
    for row, values in zip(np.flatnonzero(keep), X[keep]):
        for j, expr in enumerate(exprs):
            exact = complex(expr.xreplace({s: sympy.Float(float(v), 40) for s, v in zip(symbols, values)}).evalf(30))
            if not math.isfinite(want[row, j]) or abs(want[row, j]) > 1e12:
                continue
            assert abs(exact.imag) <= 1e-9 * max(1, abs(exact.real))
            assert math.isclose(exact.real, want[row, j], rel_tol=1e-7, abs_tol=1e-9), (expr, values)
