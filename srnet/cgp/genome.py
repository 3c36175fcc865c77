"""CGP genomes: the grid they live on, their integer arrays, validity, activity.

A genome is three C-contiguous int32 arrays:

* ``nodes``     (n_nodes, 3): per node ``[primitive code, input 1, input 2]``,
  nodes numbered column by column (rows x columns grid);
* ``outputs``   (n_outputs,): the address each output reads;
* ``constants`` (n_constants,): per ephemeral constant, an index into
  :attr:`GenomeSpec.constant_pool`.

Addresses: ``0 .. n_inputs-1`` are the data inputs, the next ``n_constants``
are the ephemeral constants (extra inputs whose values are genes), then the
nodes.  A node in column ``c`` reads any input or constant, or a node of
columns ``c - levels_back .. c - 1``; outputs may read any address.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from srnet.cgp import _kernels
from srnet.cgp.primitives import ARITIES, PAPER_FUNCTIONS, PRIMITIVES, function_codes, function_names
from srnet.data import random_generator

DEFAULT_CONSTANT_POOL: tuple[float, ...] = (1.0, 2.0, 3.0, 0.5)


#: The most nodes (and constants) a genome holds: a million nodes is thousands of times any formula a
#: person reads, and every genome of a population is an array of them.
MAX_NODES = 10**6
#: The most inputs a genome reads (a table of 10**8 columns does not fit in memory anyway).
MAX_INPUTS = 10**8


def _is_count(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


@dataclass(frozen=True)
class GenomeSpec:
    """Shape and alphabet of a family of genomes.

    Parameters
    ----------
    n_inputs : int
        Number of data inputs (features).
    n_outputs : int
        Number of outputs (a multi-output chromosome has several).
    n_rows, n_columns : int
        The node grid; ``n_rows * n_columns`` nodes.
    levels_back : int or None
        How many columns back a node may read; None means all (``n_columns``).
    functions : tuple of str
        Names of the primitives nodes may use (see :mod:`srnet.cgp.primitives`).
    n_constants : int
        Number of ephemeral constants (extra inputs whose values evolve).
    constant_pool : tuple of float
        Values an ephemeral constant may take.  Discrete values keep formulas
        readable and genomes integer; scale and offset never need constants
        because outputs are linearly scaled.
    """

    n_inputs: int
    n_outputs: int = 1
    n_rows: int = 1
    n_columns: int = 30
    levels_back: int | None = None
    functions: tuple[str, ...] = PAPER_FUNCTIONS
    n_constants: int = 1
    constant_pool: tuple[float, ...] = DEFAULT_CONSTANT_POOL
    function_codes: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        for name in ("n_inputs", "n_outputs", "n_rows", "n_columns"):
            value = getattr(self, name)
            if not _is_count(value) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not _is_count(self.n_constants) or self.n_constants < 0:
            raise ValueError(f"n_constants must be an integer >= 0, got {self.n_constants!r}")
        for name, value, largest in (("n_rows * n_columns", self.n_nodes, MAX_NODES),
                                     ("n_constants", self.n_constants, MAX_NODES),
                                     ("n_inputs", self.n_inputs, MAX_INPUTS)):
            if value > largest:  # n_columns=10**30 was an OverflowError, 2**45 a MemoryError, deep in the kernels
                raise ValueError(f"{name} is {value:,}; a genome holds at most {largest:,}")
        if self.levels_back is not None and (not _is_count(self.levels_back) or self.levels_back < 1):
            raise ValueError(f"levels_back must be an integer >= 1 or None, got {self.levels_back!r}")
        object.__setattr__(self, "functions", function_names(self.functions))
        if isinstance(self.constant_pool, (str, bytes)):  # "12" was read digit by digit as the pool (1.0, 2.0)
            raise ValueError(f"constant_pool must be a sequence of numbers, got {self.constant_pool!r}")
        try:
            pool = tuple(float(c) for c in self.constant_pool)
        except (TypeError, ValueError):
            raise ValueError(f"constant_pool must be a sequence of numbers, got {self.constant_pool!r}") from None
        object.__setattr__(self, "constant_pool", pool)
        if self.n_constants and not self.constant_pool:
            raise ValueError("constant_pool is empty but n_constants > 0")
        if not np.all(np.isfinite(self.constant_pool)):
            raise ValueError("constant_pool must hold finite numbers")
        object.__setattr__(self, "function_codes", function_codes(self.functions))

    @property
    def n_nodes(self) -> int:
        return self.n_rows * self.n_columns

    @property
    def n_sources(self) -> int:
        """Inputs plus constants: the addresses below the first node."""
        return self.n_inputs + self.n_constants

    @property
    def effective_levels_back(self) -> int:
        return self.n_columns if self.levels_back is None else min(self.levels_back, self.n_columns)

    @property
    def pool_array(self) -> np.ndarray:
        return np.asarray(self.constant_pool, dtype=np.float64)

    def grid(self) -> "_kernels.Grid":
        """The scalars the numba kernels need, as one tuple."""
        return _kernels.Grid(self.n_inputs, self.n_constants, self.n_rows, self.n_columns,
                             self.effective_levels_back, len(self.constant_pool))


def check_population(spec: GenomeSpec, nodes: np.ndarray, outputs: np.ndarray, constants: np.ndarray) -> None:
    """Stacked genomes of ``spec`` (P of them): the shapes, and every op code and address within the spec
    (the kernels read whatever an address points at, past the arrays too); one line otherwise."""
    population = nodes.shape[0] if nodes.ndim else -1
    expected = {"nodes": (population, spec.n_nodes, 3), "outputs": (population, spec.n_outputs),
                "constants": (population, spec.n_constants)}
    for name, array in (("nodes", nodes), ("outputs", outputs), ("constants", constants)):
        if array.shape != expected[name]:
            raise ValueError(f"{name} has shape {array.shape}; expected {expected[name]} for this spec")
    n_sources = spec.n_sources
    if nodes.size:
        # a table of the spec's op codes, and each node's larger address against its limit: called on every
        # population evaluated, where np.isin and a broadcast over both addresses took 0.6 ms for 128
        # genomes of 200 nodes (12 % of evaluating them on 1000 samples)
        ops, first, second = nodes[:, :, 0], nodes[:, :, 1], nodes[:, :, 2]
        known = np.zeros(int(spec.function_codes.max(initial=0)) + 1, dtype=bool)
        known[spec.function_codes] = True
        limits = n_sources + np.arange(spec.n_nodes)
        if not (ops.min() >= 0 and ops.max() < len(known) and known[ops].all()
                and min(first.min(), second.min()) >= 0 and (np.maximum(first, second) < limits).all()):
            raise ValueError("nodes holds an op code outside the spec's functions or an address that is not "
                             "an earlier node, input or constant")
    if outputs.size and not ((outputs >= 0).all() and (outputs < n_sources + spec.n_nodes).all()):
        raise ValueError("outputs holds an address outside the genome")
    if constants.size and not ((constants >= 0).all() and (constants < len(spec.constant_pool)).all()):
        raise ValueError("constants holds an index outside the constant pool")


def _genes(values, name: str) -> np.ndarray:
    """``values`` as contiguous int32 genes, refused in one line when the cast would change them (2**32 + 1
    wrapped to the valid address 1, 1.9 truncated to 1)."""
    values = np.asarray(values)
    if values.dtype == np.int32:
        return np.ascontiguousarray(values)
    if values.size and values.dtype.kind not in "iuf":
        raise ValueError(f"invalid genome: {name} must hold whole numbers, got {values.dtype}")
    with np.errstate(invalid="ignore", over="ignore"):
        genes = np.ascontiguousarray(values, dtype=np.int32)
        if values.size and not np.array_equal(genes, values):
            raise ValueError(f"invalid genome: {name} must hold whole numbers within int32")
    return genes


@dataclass
class Genome:
    """One individual: integer gene arrays plus the spec they follow."""

    spec: GenomeSpec
    nodes: np.ndarray
    outputs: np.ndarray
    constants: np.ndarray

    def __post_init__(self):
        if not isinstance(self.spec, GenomeSpec):
            raise ValueError(f"invalid genome: spec must be a GenomeSpec, got {type(self.spec).__name__}")
        self.nodes = _genes(self.nodes, "nodes")
        self.outputs = _genes(self.outputs, "outputs")
        self.constants = _genes(self.constants, "constants")
        problem = validity_problem(self)
        if problem:
            raise ValueError(f"invalid genome: {problem}")

    @classmethod
    def random(cls, spec: GenomeSpec, random_state=None) -> "Genome":
        """A uniformly random valid genome."""
        rng = random_generator(random_state)
        seed = rng.integers(0, 2**63 - 1, dtype=np.int64)
        nodes, outputs, constants = _kernels.random_genomes(
            spec.grid(), spec.function_codes, spec.n_outputs, np.array([seed], dtype=np.int64))
        return cls(spec, nodes[0], outputs[0], constants[0])

    def copy(self) -> "Genome":
        return Genome(self.spec, self.nodes.copy(), self.outputs.copy(), self.constants.copy())

    def constant_values(self) -> np.ndarray:
        """Float values of the ephemeral constants."""
        return self.spec.pool_array[self.constants]

    def _checked_genes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The gene arrays, checked again: they can be edited after the genome was made, and the kernels
        read and write wherever an address points (an output set to 10**8 crashed active_nodes)."""
        nodes, outputs = _genes(self.nodes, "nodes"), _genes(self.outputs, "outputs")
        constants = _genes(self.constants, "constants")
        check_population(self.spec, nodes[None], outputs[None], constants[None])
        return nodes, outputs, constants

    def active_nodes(self) -> np.ndarray:
        """Indices of the nodes that feed an output, in evaluation order."""
        nodes, outputs, _ = self._checked_genes()
        order, count = _kernels.active_nodes(nodes, outputs, self.spec.n_sources, ARITIES)
        return order[:count].copy()

    def n_active(self) -> int:
        return len(self.active_nodes())

    def same_phenotype(self, other: "Genome") -> bool:
        """True when both genomes compute the same graph (inactive genes ignored); both must follow one spec
        (the same genes on another grid or constant pool compute something else, and the kernel read past
        the smaller genome's arrays)."""
        if not isinstance(other, Genome) or other.spec != self.spec:
            raise ValueError("same_phenotype compares two genomes of the same GenomeSpec")
        return bool(_kernels.same_phenotype(*self._checked_genes(), *other._checked_genes(),
                                            self.spec.n_sources, self.spec.n_inputs, ARITIES))

    def describe(self) -> str:
        """Human-readable listing of the active nodes (for debugging and docs)."""
        lines = []
        names = self._address_names()
        for node in self.active_nodes():
            code, a, b = self.nodes[node]
            prim = PRIMITIVES[code]
            args = names[a] if prim.arity == 1 else f"{names[a]}, {names[b]}"
            lines.append(f"n{node} = {prim.name}({args})")
        lines += [f"y{j} = {names[o]}" for j, o in enumerate(self.outputs)]
        return "\n".join(lines)

    def _address_names(self) -> list[str]:
        spec = self.spec
        return ([f"x{i}" for i in range(spec.n_inputs)]
                + [f"{v:g}" for v in self.constant_values()]
                + [f"n{k}" for k in range(spec.n_nodes)])


def validity_problem(genome: Genome) -> str:
    """Why a genome breaks its spec (shapes, codes, levels-back), or ''."""
    spec = genome.spec
    if genome.nodes.shape != (spec.n_nodes, 3):
        return f"nodes has shape {genome.nodes.shape}, expected {(spec.n_nodes, 3)}"
    if genome.outputs.shape != (spec.n_outputs,):
        return f"outputs has shape {genome.outputs.shape}, expected {(spec.n_outputs,)}"
    if genome.constants.shape != (spec.n_constants,):
        return f"constants has shape {genome.constants.shape}, expected {(spec.n_constants,)}"
    allowed = set(spec.function_codes.tolist())
    lb = spec.effective_levels_back
    for node in range(spec.n_nodes):
        code = int(genome.nodes[node, 0])
        if code not in allowed:
            return f"node {node} uses primitive code {code}, not in the function set {spec.functions}"
        column = node // spec.n_rows
        low = spec.n_sources + max(0, column - lb) * spec.n_rows
        high = spec.n_sources + column * spec.n_rows
        for k in (1, 2):
            address = int(genome.nodes[node, k])
            if not (0 <= address < spec.n_sources or low <= address < high):
                return f"node {node} (column {column}) reads address {address} outside levels-back"
    top = spec.n_sources + spec.n_nodes
    if np.any(genome.outputs < 0) or np.any(genome.outputs >= top):
        return f"an output address is outside [0, {top})"
    if np.any(genome.constants < 0) or np.any(genome.constants >= len(spec.constant_pool)):
        return f"a constant index is outside the pool of {len(spec.constant_pool)} values"
    return ""
