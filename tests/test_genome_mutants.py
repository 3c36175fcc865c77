"""Tests that kill survivors of a mutation-testing sample of ``srnet/cgp/genome.py``.

Sample: mutmut 3.8.1 mutants of the module (``only_mutate = ["srnet/cgp/genome.py"]``, 413 mutants), 56 drawn
per function in proportion to its mutants (at least 2 each) with ``random.Random(2024)``, each run alone
(MUTANT_UNDER_TEST, ``-n 0 -x``) against tests/test_genome.py, then the survivors against
tests/test_review_core_engine.py, tests/test_review_engine_parallel.py, tests/test_backends.py and
tests/test_evolve.py::test_a_bad_genome_spec_is_one_line: 46 were killed, 10 survived.  One survivor is
equivalent (``xǁGenomeǁrandom__mutmut_10`` draws the kernel's seed from [1, 2**63 - 1) instead of
[0, 2**63 - 1): another, equally uniform, genome per random_state, which nothing specifies); the other nine
are killed here:

* ``x_check_population__mutmut_45`` and ``x_check_population__mutmut_50`` (edited genomes reach the kernels);
* ``x_validity_problem__mutmut_4`` (the shape message);
* ``xǁGenomeSpecǁ__post_init____mutmut_63`` (the constant pool is not normalised);
* ``xǁGenomeǁ__post_init____mutmut_20``, ``xǁGenomeǁ_checked_genes__mutmut_7`` and
  ``xǁGenomeǁ_checked_genes__mutmut_19`` (which gene array a message names);
* ``xǁGenomeǁdescribe__mutmut_8`` and ``xǁGenomeǁdescribe__mutmut_12`` (describe() of a valid genome).

Each test names the mutants it kills and what a user would see go wrong.
"""

import numpy as np
import pytest

from srnet.cgp.genome import Genome, GenomeSpec
from srnet.cgp.primitives import PRIMITIVE_CODES

C = PRIMITIVE_CODES


def _genome():
    """x0 * 3, then sin of it, plus x0: one input, one constant (pool index 2, the value 3.0), four nodes of
    which n1 (x0 + x0) is never read.  Addresses: 0 is x0, 1 the constant, 2.. the nodes n0..n3."""
    spec = GenomeSpec(n_inputs=1, n_columns=4, functions=("add", "mul", "sin"), n_constants=1)
    nodes = [[C["mul"], 0, 1], [C["add"], 0, 0], [C["sin"], 2, 0], [C["add"], 4, 0]]
    return Genome(spec, nodes, [5], [2])


def test_describe_lists_the_active_nodes_with_one_argument_for_a_unary_primitive():
    """xǁGenomeǁdescribe__mutmut_12 (``lines -= ...``): describe() of every valid genome was a TypeError;
    xǁGenomeǁdescribe__mutmut_8 (``arity != 1``): sin was listed with two arguments and mul with one.
    Expected by hand from the genes of _genome: n1 is inactive, sin ignores its second gene, the constant
    shows its pool value 3 (``{:g}``), and y0 reads address 5, the node n3."""
    assert _genome().describe() == "n0 = mul(x0, 3)\nn2 = sin(n0)\nn3 = add(n2, x0)\ny0 = n3"


def test_an_edited_op_code_one_past_the_spec_table_is_refused_in_one_line():
    """x_check_population__mutmut_50 (``ops.max() <= len(known)``): the table of known codes has
    max(code) + 1 entries, so an op code edited to exactly that many indexed past it and the user got an
    IndexError from NumPy instead of the check's ValueError."""
    genome = _genome()
    genome.nodes[0, 0] = int(genome.spec.function_codes.max()) + 1  # sin is 7: code 8 (cos), not in the spec
    with pytest.raises(ValueError, match="nodes holds an op code outside the spec's functions"):
        genome.active_nodes()


@pytest.mark.parametrize("gene, value", [
    (0, C["mul"] + 1),  # a known op code of another primitive (div, 3), every address still earlier
    (1, 4),  # a valid op code (mul) whose first input is address 4, the later node n2
], ids=["op-code-outside-spec", "forward-address"])
def test_an_edited_node_is_refused_when_only_its_op_code_or_only_its_address_is_wrong(gene, value):
    """x_check_population__mutmut_45 (``... and known[ops].all() or min(...) >= 0 and ...``): one bad half of
    the check was forgiven when the other half held, so an edited genome with a primitive outside the spec,
    or a node reading a later node, went to the kernels unchecked (active_nodes answered for it)."""
    genome = _genome()
    genome.nodes[0, gene] = value
    with pytest.raises(ValueError, match="an address that is not an earlier node, input or constant"):
        genome.active_nodes()


def test_a_wrong_nodes_shape_names_the_expected_shape():
    """x_validity_problem__mutmut_4: the message said a genome of 4 nodes expected shape (4, 4), not (4, 3)."""
    spec = _genome().spec
    with pytest.raises(ValueError, match=r"^invalid genome: nodes has shape \(4, 2\), expected \(4, 3\)$"):
        Genome(spec, np.zeros((4, 2), dtype=np.int32), [5], [2])


def test_the_constant_pool_is_kept_as_a_tuple_of_floats():
    """xǁGenomeSpecǁ__post_init____mutmut_63 (the normalised pool stored under another name): the spec kept
    the pool it was given, so a list made the frozen spec unhashable, integers stayed integers, and a
    generator was left exhausted (a spec with a pool of no values)."""
    spec = GenomeSpec(n_inputs=1, constant_pool=[1, 2])
    assert spec.constant_pool == (1.0, 2.0) and isinstance(spec.constant_pool, tuple)
    assert all(type(c) is float for c in spec.constant_pool)
    assert hash(spec) == hash(GenomeSpec(n_inputs=1, constant_pool=(1.0, 2.0)))
    from_generator = GenomeSpec(n_inputs=1, constant_pool=(c / 2 for c in (2, 5)))
    assert from_generator.constant_pool == (1.0, 2.5)
    assert from_generator == GenomeSpec(n_inputs=1, constant_pool=(1.0, 2.5))


def test_a_genome_made_with_fractional_constants_names_the_constants():
    """xǁGenomeǁ__post_init____mutmut_20: the message named ``None``, not the constants."""
    spec = _genome().spec
    nodes = _genome().nodes
    with pytest.raises(ValueError, match=r"^invalid genome: constants must hold whole numbers within int32$"):
        Genome(spec, nodes, [5], [0.5])


@pytest.mark.parametrize("name", ["nodes", "constants"])
def test_an_edited_gene_array_that_is_not_whole_numbers_is_named_in_the_message(name):
    """xǁGenomeǁ_checked_genes__mutmut_7 and xǁGenomeǁ_checked_genes__mutmut_19: a gene array edited after the
    genome was made, to floats that are not whole, was reported as ``NODES`` or ``XXconstantsXX``."""
    genome = _genome()
    edited = getattr(genome, name).astype(np.float64)
    edited.flat[0] = 0.5
    setattr(genome, name, edited)
    with pytest.raises(ValueError, match=rf"^invalid genome: {name} must hold whole numbers within int32$"):
        genome.active_nodes()
