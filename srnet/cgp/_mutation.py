"""Genes of the CGP engine: random genomes, active nodes, phenotype
equality and mutation (point, and Goldman & Punch's single-active)."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from srnet.cgp import _cache  # noqa: F401  (first: places the numba cache before any kernel is defined)
from srnet.cgp._random import below, draw_bits, stream_seed
from srnet.cgp._vecmath import JIT_OPTIONS as _JIT

#: Scalars describing the node grid (see GenomeSpec.grid).
Grid = namedtuple("Grid", "n_inputs n_constants n_rows n_columns levels_back n_pool")

#: Mutation operators.
MUTATION_POINT = 0
MUTATION_SINGLE_ACTIVE = 1


@njit(**_JIT)
def _n_connection_choices(grid, column):
    first = max(0, column - grid.levels_back)
    return grid.n_inputs + grid.n_constants + (column - first) * grid.n_rows


@njit(**_JIT)
def _connection(grid, column, r):
    """The r-th legal address for a node of ``column``."""
    n_sources = grid.n_inputs + grid.n_constants
    if r < n_sources:
        return r
    first = max(0, column - grid.levels_back)
    return n_sources + first * grid.n_rows + (r - n_sources)


@njit(**_JIT)
def random_genomes(grid, codes, n_outputs, seeds):
    """One uniformly random genome per seed: (nodes, outputs, constants)."""
    n_nodes = grid.n_rows * grid.n_columns
    n_sources = grid.n_inputs + grid.n_constants
    count = seeds.size
    nodes = np.empty((count, n_nodes, 3), dtype=np.int32)
    outputs = np.empty((count, n_outputs), dtype=np.int32)
    constants = np.empty((count, grid.n_constants), dtype=np.int32)
    state = np.empty(1, dtype=np.uint64)
    for i in range(count):
        state[0] = np.uint64(seeds[i])
        for node in range(n_nodes):
            column = node // grid.n_rows
            choices = _n_connection_choices(grid, column)
            nodes[i, node, 0] = codes[below(state, codes.size)]
            nodes[i, node, 1] = _connection(grid, column, below(state, choices))
            nodes[i, node, 2] = _connection(grid, column, below(state, choices))
        for j in range(n_outputs):
            outputs[i, j] = below(state, n_sources + n_nodes)
        for c in range(grid.n_constants):
            constants[i, c] = below(state, grid.n_pool)
    return nodes, outputs, constants


@njit(**_JIT)
def mark_active(nodes, outputs, n_sources, arities, active, used_sources):
    """Fill ``active`` (per node) and ``used_sources`` (per input/constant)."""
    active[:] = False
    used_sources[:] = False
    for j in range(outputs.size):
        address = outputs[j]
        if address >= n_sources:
            active[address - n_sources] = True
        else:
            used_sources[address] = True
    for node in range(nodes.shape[0] - 1, -1, -1):
        if active[node]:
            for k in range(arities[nodes[node, 0]]):
                address = nodes[node, 1 + k]
                if address >= n_sources:
                    active[address - n_sources] = True
                else:
                    used_sources[address] = True


@njit(**_JIT)
def active_nodes(nodes, outputs, n_sources, arities):
    """Active node indices in evaluation order, and how many there are."""
    n_nodes = nodes.shape[0]
    active = np.empty(n_nodes, dtype=np.bool_)
    used = np.empty(n_sources, dtype=np.bool_)
    mark_active(nodes, outputs, n_sources, arities, active, used)
    order = np.empty(n_nodes, dtype=np.int32)
    count = 0
    for node in range(n_nodes):
        if active[node]:
            order[count] = node
            count += 1
    return order, count


@njit(**_JIT)
def same_phenotype(nodes_a, outputs_a, constants_a, nodes_b, outputs_b, constants_b,
                   n_sources, n_inputs, arities):
    """True when two genomes have the same active graph and active constants."""
    for j in range(outputs_a.size):
        if outputs_a[j] != outputs_b[j]:
            return False
    n_nodes = nodes_a.shape[0]
    active = np.empty(n_nodes, dtype=np.bool_)
    used = np.empty(n_sources, dtype=np.bool_)
    mark_active(nodes_a, outputs_a, n_sources, arities, active, used)
    for node in range(n_nodes):
        if active[node]:
            code = nodes_a[node, 0]
            if code != nodes_b[node, 0]:
                return False
            for k in range(arities[code]):
                if nodes_a[node, 1 + k] != nodes_b[node, 1 + k]:
                    return False
    for c in range(constants_a.size):
        if used[n_inputs + c] and constants_a[c] != constants_b[c]:
            return False
    return True


@njit(**_JIT)
def _gene_tables(grid, codes, arities, parent_nodes, parent_outputs, parent_constants, n_sources):
    """Per gene of the genome, once per generation: how many legal values it
    has (``choices``), the shift between a value and its index among them
    (``offset``: a connection gene's values skip the nodes beyond
    levels-back), and whether it is active in the parent (``active_gene``).

    With them, :func:`mutate` draws a mutated gene's new value in one
    step (no retry loop until it differs from the old one).
    """
    n_nodes = parent_nodes.shape[0]
    n_outputs = parent_outputs.size
    n_genes = 3 * n_nodes + n_outputs + parent_constants.size
    choices = np.empty(n_genes, dtype=np.int64)
    offset = np.zeros(n_genes, dtype=np.int64)
    active_gene = np.empty(n_genes, dtype=np.bool_)
    active = np.empty(n_nodes, dtype=np.bool_)
    used = np.empty(n_sources, dtype=np.bool_)
    mark_active(parent_nodes, parent_outputs, n_sources, arities, active, used)
    for node in range(n_nodes):
        column = node // grid.n_rows
        first = max(0, column - grid.levels_back)
        connections = _n_connection_choices(grid, column)
        arity = arities[parent_nodes[node, 0]]
        choices[3 * node] = codes.size
        choices[3 * node + 1] = connections
        choices[3 * node + 2] = connections
        offset[3 * node + 1] = first * grid.n_rows
        offset[3 * node + 2] = first * grid.n_rows
        active_gene[3 * node] = active[node]
        active_gene[3 * node + 1] = active[node] and arity >= 1
        active_gene[3 * node + 2] = active[node] and arity >= 2
    for j in range(n_outputs):
        choices[3 * n_nodes + j] = n_sources + n_nodes
        active_gene[3 * n_nodes + j] = True
    for c in range(parent_constants.size):
        choices[3 * n_nodes + n_outputs + c] = grid.n_pool
        active_gene[3 * n_nodes + n_outputs + c] = used[grid.n_inputs + c]
    return choices, offset, active_gene


@njit(**_JIT)
def _code_index(codes):
    """The index of each function code in ``codes`` (-1 for codes not in it)."""
    top = 0
    for k in range(codes.size):
        top = max(top, codes[k])
    index = np.full(top + 1, -1, dtype=np.int64)
    for k in range(codes.size):
        index[codes[k]] = k
    return index


@njit(**_JIT)
def mutate(grid, codes, arities, parent_nodes, parent_outputs, parent_constants,
           operator, rate, run_seed, generation, out_nodes, out_outputs, out_constants, changed):
    """Write one mutant of the parent per offspring slot.

    ``changed[i]`` says whether offspring i altered an active gene; when it did
    not, it computes exactly what the parent computes and needs no evaluation.
    Point mutation changes each gene with probability ``rate``; single-active
    mutation (Goldman & Punch) changes random genes until one is active.
    """
    n_sources = grid.n_inputs + grid.n_constants
    choices, offset, active_gene = _gene_tables(grid, codes, arities, parent_nodes, parent_outputs,
                                                parent_constants, n_sources)
    code_index = _code_index(codes)
    n_genes = choices.size
    n_node_genes = 3 * parent_nodes.shape[0]
    n_outputs = parent_outputs.size
    single = operator == MUTATION_SINGLE_ACTIVE
    # point mutation: a gene mutates when a uniform draw falls below
    # ``rate``, compared as integers (the draw's 53 bits); single-active:
    # random genes until an active one changed (bounded: a genome may have
    # no mutable active gene)
    threshold = np.uint64(min(max(rate, 0.0), 1.0) * 9007199254740992.0)
    tries = 64 * n_genes if single else n_genes
    state = np.empty(1, dtype=np.uint64)
    for i in range(out_nodes.shape[0]):
        state[0] = stream_seed(run_seed, generation, i)
        out_nodes[i] = parent_nodes
        out_outputs[i] = parent_outputs
        out_constants[i] = parent_constants
        touched_active = False
        for t in range(tries):
            if single:
                gene = below(state, n_genes)
            elif draw_bits(state) < threshold:
                gene = t
            else:
                continue
            count = choices[gene]
            if count < 2:  # no other legal value
                continue
            # the new value's index: one draw among the others (the old
            # value's index is skipped).  Written out here, not called: a
            # call taking the offspring arrays cost three times the work.
            r = below(state, count - 1)
            if gene < n_node_genes:
                node = gene // 3
                slot = gene - 3 * node
                old = out_nodes[i, node, slot]
                if slot == 0:
                    r += r >= code_index[old]
                    out_nodes[i, node, 0] = codes[r]
                else:
                    shift = offset[gene]
                    r += r >= (old if old < n_sources else old - shift)
                    out_nodes[i, node, slot] = r if r < n_sources else r + shift
            elif gene < n_node_genes + n_outputs:
                j = gene - n_node_genes
                r += r >= out_outputs[i, j]
                out_outputs[i, j] = r
            else:
                c = gene - n_node_genes - n_outputs
                r += r >= out_constants[i, c]
                out_constants[i, c] = r
            if active_gene[gene]:
                touched_active = True
                if single:
                    break
        changed[i] = touched_active
