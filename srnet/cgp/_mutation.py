"""Genes of the CGP engine: random genomes, active nodes, phenotype
equality and mutation (point, and Goldman & Punch's single-active)."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from srnet.cgp import _cache  # noqa: F401  (first: drops a stale numba cache before any kernel loads)
from srnet.cgp._random import below, stream_seed, uniform
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
def _mutate_gene(grid, codes, n_outputs, gene, nodes, outputs, constants, i, state):
    """Give one gene of offspring ``i`` a new legal value; returns False if it has no other value.

    The offspring is addressed by its index, not by views ``nodes[i]``: a view
    is a new array (its reference count touched twice), which made a mutated
    gene cost three times as much."""
    n_nodes = nodes.shape[1]
    n_sources = grid.n_inputs + grid.n_constants
    if gene < 3 * n_nodes:
        node = gene // 3
        slot = gene % 3
        if slot == 0:
            if codes.size < 2:
                return False
            old = nodes[i, node, 0]
            new = old
            while new == old:
                new = codes[below(state, codes.size)]
            nodes[i, node, 0] = new
            return True
        column = node // grid.n_rows
        choices = _n_connection_choices(grid, column)
        if choices < 2:
            return False
        old = nodes[i, node, slot]
        new = old
        while new == old:
            new = _connection(grid, column, below(state, choices))
        nodes[i, node, slot] = new
        return True
    gene -= 3 * n_nodes
    if gene < n_outputs:
        choices = n_sources + n_nodes
        if choices < 2:
            return False
        old = outputs[i, gene]
        new = old
        while new == old:
            new = below(state, choices)
        outputs[i, gene] = new
        return True
    gene -= n_outputs
    if grid.n_pool < 2:
        return False
    old = constants[i, gene]
    new = old
    while new == old:
        new = below(state, grid.n_pool)
    constants[i, gene] = new
    return True


@njit(**_JIT)
def _gene_is_active(grid, gene, n_outputs, parent_nodes, active, used_sources, arities):
    n_nodes = parent_nodes.shape[0]
    if gene < 3 * n_nodes:
        node = gene // 3
        slot = gene % 3
        return active[node] and (slot == 0 or slot <= arities[parent_nodes[node, 0]])
    gene -= 3 * n_nodes
    if gene < n_outputs:
        return True
    return used_sources[grid.n_inputs + gene - n_outputs]


@njit(**_JIT)
def mutate(grid, codes, arities, parent_nodes, parent_outputs, parent_constants,
           operator, rate, run_seed, generation, out_nodes, out_outputs, out_constants, changed):
    """Write one mutant of the parent per offspring slot.

    ``changed[i]`` says whether offspring i altered an active gene; when it did
    not, it computes exactly what the parent computes and needs no evaluation.
    Point mutation changes each gene with probability ``rate``; single-active
    mutation (Goldman & Punch) changes random genes until one is active.
    """
    n_nodes = parent_nodes.shape[0]
    n_outputs = parent_outputs.size
    n_sources = grid.n_inputs + grid.n_constants
    n_genes = 3 * n_nodes + n_outputs + parent_constants.size
    active = np.empty(n_nodes, dtype=np.bool_)
    used = np.empty(n_sources, dtype=np.bool_)
    mark_active(parent_nodes, parent_outputs, n_sources, arities, active, used)
    state = np.empty(1, dtype=np.uint64)
    for i in range(out_nodes.shape[0]):
        state[0] = stream_seed(run_seed, generation, i)
        out_nodes[i] = parent_nodes
        out_outputs[i] = parent_outputs
        out_constants[i] = parent_constants
        touched_active = False
        if operator == MUTATION_SINGLE_ACTIVE:
            for _ in range(64 * n_genes):  # bounded: a genome may have no mutable active gene
                gene = below(state, n_genes)
                if _mutate_gene(grid, codes, n_outputs, gene, out_nodes, out_outputs, out_constants, i, state):
                    if _gene_is_active(grid, gene, n_outputs, parent_nodes, active, used, arities):
                        touched_active = True
                        break
        else:
            for gene in range(n_genes):
                if uniform(state) < rate:
                    if _mutate_gene(grid, codes, n_outputs, gene, out_nodes, out_outputs, out_constants, i, state):
                        if _gene_is_active(grid, gene, n_outputs, parent_nodes, active, used, arities):
                            touched_active = True
        changed[i] = touched_active

