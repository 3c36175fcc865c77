"""Engine edge cases found reviewing the CGP engine (each test failed on the code before its fix)."""

import time

import numpy as np
import pytest

from srnet.cgp import Genome, GenomeSpec, evaluate_population, evolve, fitness_of, outputs_of
from srnet.cgp.primitives import PRIMITIVE_CODES


def _exact_genome():
    """y0 = x0^2, y1 = x0 (two outputs), for an lstsq fit of x0^2 + x0."""
    spec = GenomeSpec(n_inputs=1, n_outputs=2, n_columns=3)
    nodes = np.array([[PRIMITIVE_CODES["square"], 0, 0], [PRIMITIVE_CODES["add"], 0, 0],
                      [PRIMITIVE_CODES["add"], 0, 0]])
    return spec, Genome(spec, nodes, np.array([2, 0]), np.array([0]))


def test_float32_search_does_not_silently_lose_inputs_that_underflow_float32():
    """Inputs beyond float32's largest value are refused in one line; inputs below its smallest (1e-50 -> 0.0)
    were searched as a constant input: every candidate scored var(y) (the history never moved), the search
    drifted blindly and returned whatever it held (a constant formula from CGPRegressor), where float64
    fits exp(x0) at once."""
    rng = np.random.default_rng(0)
    X = rng.uniform(1.0, 2.0, (1, 200)) * 1e-50
    Y = np.exp(X * 1e50)
    spec = GenomeSpec(n_inputs=1, n_columns=5)
    try:
        result = evolve(spec, X, Y, max_generations=200, random_state=0, precision="float32")
    except ValueError as error:  # refused, as an overflow is
        assert "float32" in str(error)
        return
    assert result.history[:, 3].min() < 0.5 * Y.var()  # the search saw its input


def test_device_auto_does_not_refuse_data_the_cpu_can_search(monkeypatch):
    """device="auto" picks the GPU (float32) for large data when one is present; data beyond float32's range
    were then refused ("search in float64 ... on the CPU") instead of being searched on the CPU."""
    import srnet.cgp.gpu as gpu

    monkeypatch.setattr(gpu, "cuda_available", lambda: True)  # as on a machine with a GPU
    rng = np.random.default_rng(0)
    X = rng.uniform(1.0, 2.0, (1, 100_000)) * 1e39
    Y = X / 1e39
    result = evolve(GenomeSpec(1, n_columns=3), X, Y, max_generations=1, random_state=0, device="auto",
                    n_threads=1)
    assert np.isfinite(result.fitness)


@pytest.mark.parametrize("ridge", [float("nan"), float("inf"), -0.5])
def test_fitness_of_and_evaluate_population_refuse_a_bad_ridge(ridge):
    """evolve and the GPU evaluator refuse a ridge that is not a finite number >= 0; fitness_of and
    evaluate_population scored with it (NaN/inf: every genome inf; -0.5: 0.38 for an exact fit)."""
    spec, genome = _exact_genome()
    x = np.random.default_rng(0).uniform(-1, 1, 200)
    X, Y = x[None], (x**2 + x)[None]
    with pytest.raises(ValueError, match="ridge"):
        fitness_of(genome, X, Y, "lstsq", ridge=ridge)
    with pytest.raises(ValueError, match="ridge"):
        evaluate_population(spec, genome.nodes[None], genome.outputs[None], genome.constants[None], X, Y,
                            fitness="lstsq", ridge=ridge)


@pytest.mark.parametrize("outputs", [np.array([2**32 + 1]), np.array([1.9]), np.array([-(2**32) + 2])])
def test_a_genome_refuses_genes_that_are_not_their_own_int32_value(outputs):
    """Genes were cast to int32 unchecked: 2**32 + 1 wrapped to address 1, 1.9 truncated to 1, and the
    genome was accepted as another one."""
    spec = GenomeSpec(n_inputs=2, n_columns=3)
    genome = Genome.random(spec, 0)
    with pytest.raises(ValueError):
        Genome(spec, genome.nodes, outputs, genome.constants)


def test_outputs_of_refuses_a_genome_edited_past_its_spec():
    """A Genome's arrays are public and mutable; outputs_of ran the kernel on an output address past the
    genome and returned whatever memory it read (1e122, 6e242, ...)."""
    spec = GenomeSpec(n_inputs=1, n_columns=3)
    genome = Genome.random(spec, 0)
    genome.outputs[0] = spec.n_sources + spec.n_nodes + 5
    with pytest.raises(ValueError):
        outputs_of(genome, np.ones((1, 4)))


def test_an_evaluation_budget_ends_whatever_the_mutation_rate():
    """check_mutation accepts rates down to 2**-53, but only offspring that changed an active gene count as
    evaluations: with mutation_rate=1e-12 and max_evaluations=10 the search ran forever (700k generations
    and 1 evaluation after 15 s)."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (1, 50))
    started = time.perf_counter()

    def give_up(progress):
        return time.perf_counter() - started > 5.0

    try:
        result = evolve(GenomeSpec(1, n_columns=10), X, X**2, max_evaluations=10, mutation_rate=1e-12,
                        random_state=0, n_threads=1, callback=give_up)
    except ValueError:  # refused up front: fine too
        return
    assert result.stop_reason != "callback"


def test_cgp_regressor_refit_that_fails_leaves_the_last_fit_whole():
    """scikit-learn's validation reset n_features_in_ before a refit was refused (a constant y): predict then
    refused the data of the fit whose formula it still computed."""
    from srnet import CGPRegressor

    X = np.random.default_rng(0).uniform(-1, 1, (40, 3))
    model = CGPRegressor(max_generations=3, random_state=0, simplify_seconds=0).fit(X, X[:, 0] * X[:, 1])
    before = model.predict(X)
    with pytest.raises(ValueError, match="constant"):
        model.fit(X[:, :2], np.ones(40))
    assert model.n_features_in_ == 3
    np.testing.assert_array_equal(model.predict(X), before)


def test_regressors_name_the_first_nan_in_one_line():
    """scikit-learn's NaN error is a paragraph recommending other estimators; srnet's names the cell."""
    from srnet import CGPRegressor, XNetClassifier

    X = np.random.default_rng(0).uniform(size=(20, 2))
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"^X contains 1 NaN/inf value \(first at row 3, column 1\)$"):
        CGPRegressor(max_generations=1).fit(X, np.arange(20.0))
    with pytest.raises(ValueError, match=r"^X contains 1 NaN/inf value \(first at row 3, column 1\)$"):
        XNetClassifier(max_iterations=1, max_seconds=None).fit(X, np.arange(20) % 2)
    X[3, 1] = 0.5
    y = np.arange(20.0)
    y[5] = np.inf
    with pytest.raises(ValueError, match=r"^y contains 1 NaN/inf value \(first at row 5\)$"):
        CGPRegressor(max_generations=1).fit(X, y)
