"""Genomes: golden genomes, active-node decoding, mutation validity, seeding."""

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from srnet.cgp import _kernels
from srnet.cgp.genome import Genome, GenomeSpec, validity_problem
from srnet.cgp.primitives import ARITIES, PRIMITIVE_CODES
from srnet.expr import Program, to_sympy

C = PRIMITIVE_CODES
x = sympy.Symbol("x", real=True)
y = sympy.Symbol("y", real=True)


def golden(nodes, outputs, constants=(), n_inputs=1, n_columns=None, functions=("add", "mul", "sin", "div", "sqrt"),
           pool=(1.0, 2.0, 3.0, 0.5)):
    spec = GenomeSpec(n_inputs=n_inputs, n_outputs=len(outputs), n_columns=n_columns or len(nodes),
                      functions=functions, n_constants=len(constants), constant_pool=pool)
    return Genome(spec, np.array(nodes), np.array(outputs), np.array(constants))


GOLDEN = [
    # sin(x^2) + x: n0 = x*x, n1 = sin(n0), n2 = n1 + x
    (golden([[C["mul"], 0, 0], [C["sin"], 1, 0], [C["add"], 2, 0]], [3]), [x], sympy.sin(x**2) + x, [0, 1, 2]),
    # an inactive node in the middle: n1 = sqrt(x) is never read
    (golden([[C["mul"], 0, 0], [C["sqrt"], 0, 0], [C["add"], 1, 0]], [3]), [x], x**2 + x, [0, 2]),
    # constants: address 1 is the pool value 3 (index 2): x / 3
    (golden([[C["div"], 0, 1]], [2], constants=[2]), [x], x / 3, [0]),
    # two inputs, two outputs, one reading an input directly: [x*y, y]
    (golden([[C["mul"], 0, 1]], [2, 1], n_inputs=2), [x, y], None, [0]),
    # unary node ignores its second gene: sin(x), whatever address 2 says
    (golden([[C["mul"], 0, 0], [C["sin"], 0, 1]], [2]), [x], sympy.sin(x), [1]),
]


@pytest.mark.parametrize("genome, symbols, formula, active", GOLDEN)
def test_golden_genomes_decode_to_their_formula(genome, symbols, formula, active):
    assert genome.active_nodes().tolist() == active
    exprs = to_sympy(Program.from_genome(genome), symbols)
    if formula is None:
        assert exprs == [x * y, y]
    else:
        assert sympy.simplify(exprs[0] - formula) == 0


def test_invalid_genomes_are_rejected_with_the_reason():
    spec = GenomeSpec(n_inputs=1, n_columns=3, levels_back=1, functions=("add", "sin"), n_constants=0)
    good = [[C["add"], 0, 0], [C["sin"], 1, 0], [C["add"], 2, 0]]
    assert Genome(spec, np.array(good), np.array([3]), np.zeros(0)).n_active() == 3
    with pytest.raises(ValueError, match="outside levels-back"):
        Genome(spec, np.array([[C["add"], 0, 0], [C["sin"], 1, 0], [C["add"], 1, 0]]), np.array([3]), np.zeros(0))
    with pytest.raises(ValueError, match="not in the function set"):
        Genome(spec, np.array([[C["mul"], 0, 0]] * 3), np.array([3]), np.zeros(0))
    with pytest.raises(ValueError, match="output address"):
        Genome(spec, np.array(good), np.array([9]), np.zeros(0))
    with pytest.raises(ValueError, match="shape"):
        Genome(spec, np.array(good[:2]), np.array([3]), np.zeros(0))


specs = st.builds(
    GenomeSpec,
    n_inputs=st.integers(1, 4), n_outputs=st.integers(1, 3), n_rows=st.integers(1, 3), n_columns=st.integers(1, 12),
    levels_back=st.one_of(st.none(), st.integers(1, 5)),
    functions=st.lists(st.sampled_from(sorted(PRIMITIVE_CODES)), min_size=1, max_size=6, unique=True).map(tuple),
    n_constants=st.integers(0, 2))


def offspring(spec, parent, n, operator, rate, seed, generation):
    """n mutants of parent from the engine's kernel: (nodes, outputs, constants, changed)."""
    nodes = np.empty((n, spec.n_nodes, 3), np.int32)
    outputs = np.empty((n, spec.n_outputs), np.int32)
    constants = np.empty((n, spec.n_constants), np.int32)
    changed = np.empty(n, bool)
    _kernels.mutate(spec.grid(), spec.function_codes, ARITIES, parent.nodes, parent.outputs, parent.constants,
                    operator, rate, seed, generation, nodes, outputs, constants, changed)
    return nodes, outputs, constants, changed


@settings(max_examples=300, deadline=None)
@given(spec=specs, seed=st.integers(0, 2**32), rate=st.floats(0.01, 1.0), single=st.booleans())
def test_mutation_always_yields_valid_genomes_and_flags_phenotype_changes(spec, seed, rate, single):
    parent = Genome.random(spec, seed)
    assert validity_problem(parent) == ""
    n = 8
    nodes, outputs, constants, changed = offspring(
        spec, parent, n, _kernels.MUTATION_SINGLE_ACTIVE if single else _kernels.MUTATION_POINT, rate, seed, 3)
    for i in range(n):
        child = Genome(spec, nodes[i], outputs[i], constants[i])  # validates
        assert changed[i] == (not parent.same_phenotype(child))


@pytest.mark.parametrize("rate", [0.02, 0.05, 0.3, 1.0])
def test_point_mutation_changes_each_gene_independently_at_its_rate(rate):
    """The law of point mutation: every gene changes with probability ``rate``, independently: per-gene
    frequencies and the count per offspring match Binomial(n_genes, rate) within 5 standard errors."""
    spec = GenomeSpec(n_inputs=3, n_columns=30, functions=("add", "mul", "sub", "sin"), n_constants=2,
                      constant_pool=(1.0, 2.0, 3.0, 4.0))
    parent = Genome.random(spec, 7)
    n = 4000
    nodes, outputs, constants, _ = offspring(spec, parent, n, _kernels.MUTATION_POINT, rate, 11, 0)
    # every gene here has another legal value, so a drawn gene always changes
    genes = np.hstack([(nodes != parent.nodes).reshape(n, -1), outputs != parent.outputs,
                       constants != parent.constants])
    n_genes = genes.shape[1]
    assert n_genes == 3 * spec.n_nodes + spec.n_outputs + spec.n_constants
    per_gene = genes.mean(axis=0)
    assert np.all(np.abs(per_gene - rate) <= 5 * np.sqrt(rate * (1 - rate) / n) + 1e-12)
    counts = genes.sum(axis=1)
    assert abs(counts.mean() - n_genes * rate) <= 5 * np.sqrt(n_genes * rate * (1 - rate) / n) + 1e-12
    assert abs(counts.var() - n_genes * rate * (1 - rate)) <= 0.15 * n_genes * rate * (1 - rate) + 1e-12
    # independence: neighbouring genes change together as often as two independent ones would
    together = (genes[:, :-1] & genes[:, 1:]).mean()
    assert abs(together - rate**2) <= 5 * np.sqrt(rate**2 * (1 - rate**2) / (n * (n_genes - 1))) * 3 + 1e-12


@pytest.mark.parametrize("single", [False, True])
def test_a_mutated_gene_takes_every_other_legal_value_uniformly(single):
    """A mutated gene's new value is uniform over its legal values other than the old one: functions from the
    spec, connections to the sources and to the nodes within levels-back (an old connection to a source and one
    to a node), outputs and constants; each count within 5 standard errors of uniform."""
    spec = GenomeSpec(n_inputs=2, n_rows=2, n_columns=6, levels_back=2, functions=("add", "mul", "sub", "sin", "cos"),
                      n_constants=1, constant_pool=(1.0, 2.0, 3.0, 4.0, 5.0))
    parent = Genome.random(spec, 3)
    n_sources = spec.n_inputs + spec.n_constants
    last = spec.n_nodes - 1  # a node of column 5: it may read columns 3 and 4
    parent.nodes[last, 1] = 1  # one connection to a source
    parent.nodes[last, 2] = n_sources + 3 * spec.n_rows + 1  # one to a node of column 3
    column = last // spec.n_rows
    nodes_in_reach = list(range(n_sources + (column - 2) * spec.n_rows, n_sources + column * spec.n_rows))
    legal = {
        ("node", last, 0): [PRIMITIVE_CODES[f] for f in spec.functions],
        ("node", last, 1): list(range(n_sources)) + nodes_in_reach,
        ("node", last, 2): list(range(n_sources)) + nodes_in_reach,
        ("output", 0, None): list(range(n_sources + spec.n_nodes)),
        ("constant", 0, None): list(range(len(spec.constant_pool))),
    }
    n = 6000
    operator = _kernels.MUTATION_SINGLE_ACTIVE if single else _kernels.MUTATION_POINT
    nodes, outputs, constants, _ = offspring(spec, parent, n, operator, 1.0, 17, 0)
    for (kind, index, slot), values in legal.items():
        if kind == "node":
            old, new = parent.nodes[index, slot], nodes[:, index, slot]
        elif kind == "output":
            old, new = parent.outputs[index], outputs[:, index]
        else:
            old, new = parent.constants[index], constants[:, index]
        new = new[new != old]  # the offspring that mutated this gene
        others = [v for v in values if v != old]
        assert set(np.unique(new)) == set(others), (kind, slot)
        if not single:  # at rate 1 every gene mutates, every time
            assert new.size == n
        expected = new.size / len(others)
        counts = np.array([(new == v).sum() for v in others])
        assert np.all(np.abs(counts - expected) <= 5 * np.sqrt(expected)), (kind, slot, counts)


def test_single_active_mutation_changes_the_phenotype():
    spec = GenomeSpec(n_inputs=2, n_columns=20, functions=("add", "mul", "sin", "cos"))
    parent = Genome.random(spec, 1)
    *_, changed = offspring(spec, parent, 50, _kernels.MUTATION_SINGLE_ACTIVE, 0.1, 5, 0)
    assert changed.all()


def test_same_seed_same_genome_and_different_seeds_differ():
    spec = GenomeSpec(n_inputs=3, n_columns=15)
    a, b, c = Genome.random(spec, 42), Genome.random(spec, 42), Genome.random(spec, 43)
    assert np.array_equal(a.nodes, b.nodes) and np.array_equal(a.outputs, b.outputs)
    assert not np.array_equal(a.nodes, c.nodes)


def test_spec_rejects_bad_parameters():
    with pytest.raises(ValueError, match="n_inputs must be a positive integer"):
        GenomeSpec(n_inputs=0)
    with pytest.raises(ValueError, match="unknown primitive 'foo'"):
        GenomeSpec(n_inputs=1, functions=("add", "foo"))
    with pytest.raises(ValueError, match="constant_pool is empty"):
        GenomeSpec(n_inputs=1, n_constants=1, constant_pool=())


@pytest.mark.parametrize("sizes, message", [
    (dict(n_columns=10**30), r"^n_rows \* n_columns is 1,000,000,000,000,000,000,000,000,000,000; a genome holds at "
                             r"most 1,000,000$"),
    (dict(n_rows=2, n_columns=500_001), r"^n_rows \* n_columns is 1,000,002"),
    (dict(n_constants=10**6 + 1), r"^n_constants is 1,000,001; a genome holds at most 1,000,000$"),
    (dict(n_inputs=10**8 + 1), r"^n_inputs is 100,000,001; a genome holds at most 100,000,000$")])
def test_a_genome_larger_than_any_formula_is_refused_before_any_array_is_made(sizes, message):
    """n_columns=10**30 was an OverflowError, 2**45 a MemoryError, deep in the kernels."""
    with pytest.raises(ValueError, match=message):
        GenomeSpec(**{"n_inputs": 1, "n_outputs": 1, **sizes})
    assert GenomeSpec(n_inputs=1, n_outputs=1, n_columns=10**6).n_nodes == 10**6
