"""Programs: the exportable form of an evolved expression.

A :class:`Program` is the active part of a genome, renumbered compactly, plus
the linear map applied to its outputs (the linear scaling or least-squares
weights found by the engine).  It is plain data (integers and floats), so it
round-trips through JSON exactly, and every backend walks the same steps
through the primitive table: NumPy here, sympy in :mod:`srnet.expr.symbolic`,
torch in :mod:`srnet.expr.torch_module`.  No strings are generated or
executed anywhere.

Addresses inside a program: ``0 .. n_inputs-1`` are inputs, then one address
per constant, then one per step (in order).
"""

from __future__ import annotations

import json
import operator
from dataclasses import dataclass, field

import numpy as np

from srnet.cgp.genome import Genome
from srnet.cgp.primitives import ARITIES, PRIMITIVES, primitive
from srnet.jsonio import as_integer, as_real, as_sequence, check_document, malformed, parse_json, shown

FORMAT_VERSION = 1


def _numbers(value, ndim: int, name: str) -> np.ndarray:
    """A ``ndim``-D float64 array from nested lists of real numbers (no strings, bools or ragged rows)."""
    shape = "a list of rows" if ndim == 2 else "a flat list"
    if not isinstance(value, (list, tuple, np.ndarray)):
        raise malformed(f"{name} must be {shape} of numbers, got {shown(value)}")
    try:
        array = np.asarray(value)
    except (ValueError, OverflowError):
        raise malformed(f"{name} must be {shape} of numbers of equal length") from None
    if array.ndim != ndim:
        raise malformed(f"{name} must be {ndim}-D ({shape} of numbers), got shape {array.shape}")
    # a bool among numbers: NumPy makes [1.0, true] the numbers [1.0, 1.0]
    booleans = any(isinstance(v, (bool, np.bool_)) for row in (value if ndim == 2 else [value]) for v in row)
    if booleans or (array.size and array.dtype.kind not in "iuf"):
        raise malformed(f"{name} must hold numbers only, got {shown(value)}")
    return array.astype(np.float64)


#: The most inputs a program may read (PMLB's widest tables have about a thousand; a 4096 x 4096 image is
#: 16.8 million).
MAX_INPUTS = 2**24


@dataclass(frozen=True)
class Program:
    """A straight-line program over the primitive table.

    Parameters
    ----------
    n_inputs : int
        Number of input variables.
    constants : tuple of float
        Constant values, addressed right after the inputs.
    steps : tuple of (str, int, int)
        ``(primitive name, first address, second address)``; unary
        primitives ignore the second address (stored as 0).
    outputs : tuple of int
        Addresses of the raw outputs ``f_1 .. f_m``.
    weights : ndarray of shape (m, n_targets)
        Linear map of the raw outputs; the program computes
        ``[f_1 .. f_m] @ weights + intercept``.
    intercept : ndarray of shape (n_targets,)
    """

    n_inputs: int
    constants: tuple[float, ...]
    steps: tuple[tuple[str, int, int], ...]
    outputs: tuple[int, ...]
    weights: np.ndarray = field(repr=False)
    intercept: np.ndarray = field(repr=False)

    def __post_init__(self):
        # plain Python numbers in tuples: a program built from lists or NumPy scalars equals its own JSON
        # round trip and writes as JSON (np.float32 constants did not)
        try:
            # operator.index: NumPy integers are welcome, a float address (2.9) is refused, not truncated
            object.__setattr__(self, "n_inputs", operator.index(self.n_inputs))
            object.__setattr__(self, "constants", tuple(float(c) for c in self.constants))
            object.__setattr__(self, "steps", tuple((str(name), operator.index(a), operator.index(b))
                                                    for name, a, b in self.steps))
            object.__setattr__(self, "outputs", tuple(operator.index(o) for o in self.outputs))
        except (TypeError, ValueError) as error:
            raise ValueError(f"invalid program: {error}") from None
        # C order: torch keeps a Fortran-ordered array's strides, and L-BFGS (refinement) cannot
        # flatten the gradient of such a parameter with view(); np.linalg.solve returns Fortran order
        object.__setattr__(self, "weights", np.ascontiguousarray(np.atleast_2d(np.asarray(self.weights,
                                                                                         dtype=np.float64))))
        object.__setattr__(self, "intercept", np.atleast_1d(np.asarray(self.intercept, dtype=np.float64)))
        problem = self._problem()
        if problem:
            raise ValueError(f"invalid program: {problem}")

    def _problem(self) -> str:
        if self.n_inputs < 0:
            return "n_inputs is negative"
        if self.n_inputs > MAX_INPUTS:  # a file's 10**30 inputs: naming them as symbols never ended
            return f"n_inputs is {self.n_inputs}, more than the {MAX_INPUTS:,} inputs srnet reads"
        base = self.n_inputs + len(self.constants)
        for k, (name, a, b) in enumerate(self.steps):
            prim = primitive(name)  # unknown names raise with the list of valid ones
            for address in (a, b)[: prim.arity]:
                if not 0 <= address < base + k:
                    return f"step {k} ({name}) reads address {address}, not computed before it"
        top = base + len(self.steps)
        if any(not 0 <= o < top for o in self.outputs):
            return f"an output address is outside [0, {top})"
        if self.weights.shape != (len(self.outputs), self.intercept.size):
            return (f"weights have shape {self.weights.shape}, expected ({len(self.outputs)}, {self.intercept.size}): "
                    f"a row per output ({len(self.outputs)}), a column per intercept ({self.intercept.size})")
        if not (np.all(np.isfinite(self.weights)) and np.all(np.isfinite(self.intercept))):
            return "weights or intercept are not finite"
        if not all(np.isfinite(self.constants)):
            return "a constant is not finite"
        return ""

    @property
    def n_targets(self) -> int:
        return self.intercept.size

    @property
    def n_steps(self) -> int:
        return len(self.steps)

    @classmethod
    def from_genome(cls, genome: Genome, weights=None, intercept=None) -> "Program":
        """The active graph of ``genome`` followed by a linear map of its outputs.

        Without ``weights``/``intercept`` the outputs pass through unchanged.
        """
        spec = genome.spec
        active = [int(node) for node in genome.active_nodes()]
        reads = []  # addresses read, in evaluation order
        for node in active:
            code, a, b = (int(v) for v in genome.nodes[node])
            reads += [a, b][: ARITIES[code]]
        reads += [int(o) for o in genome.outputs]
        # constants get addresses in order of first use; unused ones are dropped
        constant_slots = list(dict.fromkeys(a for a in reads if spec.n_inputs <= a < spec.n_sources))
        mapping = {a: a for a in range(spec.n_inputs)}
        mapping.update({slot: spec.n_inputs + k for k, slot in enumerate(constant_slots)})
        first_step = spec.n_inputs + len(constant_slots)
        mapping.update({spec.n_sources + node: first_step + k for k, node in enumerate(active)})
        steps = []
        for node in active:
            code, a, b = (int(v) for v in genome.nodes[node])
            steps.append((PRIMITIVES[code].name, mapping[a], mapping[b] if ARITIES[code] == 2 else 0))
        constants = tuple(float(spec.constant_pool[genome.constants[slot - spec.n_inputs]])
                          for slot in constant_slots)
        outputs = tuple(mapping[int(o)] for o in genome.outputs)
        m = spec.n_outputs
        if weights is None:
            weights = np.eye(m)
        if intercept is None:
            intercept = np.zeros(np.atleast_2d(weights).shape[1])
        return cls(spec.n_inputs, constants, tuple(steps), outputs, weights, intercept)

    # ---------------------------------------------------------------- numpy

    def values(self, X) -> list[np.ndarray]:
        """Every value of the program at the rows of X, by plain NumPy: the inputs, the constants, then each
        step's, in the order steps address them."""
        if np.iscomplexobj(X):  # the cast to float64 dropped the imaginary part with a warning: square(1+2j) was 1
            raise ValueError("X must be real numbers, got complex values")
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            raise ValueError(f"X must have shape (n_samples, {self.n_inputs}), got {X.shape}")
        n = X.shape[0]
        values = [X[:, i] for i in range(self.n_inputs)]
        values += [np.full(n, c) for c in self.constants]
        for name, a, b in self.steps:
            prim = primitive(name)
            values.append(prim.numpy(values[a], values[b] if prim.arity == 2 else values[a]))
        return values

    def raw_outputs(self, X) -> np.ndarray:
        """Raw outputs (n_samples, m) before the linear map, by plain NumPy."""
        values = self.values(X)
        n = len(values[0]) if values else np.asarray(X).shape[0]
        return np.column_stack([values[o] for o in self.outputs]) if self.outputs else np.empty((n, 0))

    def combine(self, raw: np.ndarray) -> np.ndarray:
        """``raw @ weights + intercept``, (n_samples, n_targets), where a weight of 0 adds nothing: the formula
        has no such term, and 0 * inf = NaN made every target NaN on a row where one output overflowed (a
        diagonal map of several targets, each target using its own output)."""
        raw = np.asarray(raw, dtype=np.float64)
        Y = np.empty((raw.shape[0], self.n_targets))
        with np.errstate(over="ignore", invalid="ignore"):
            for j in range(self.n_targets):
                used = self.weights[:, j] != 0
                Y[:, j] = raw[:, used] @ self.weights[used, j] + self.intercept[j]
        return Y

    def __call__(self, X) -> np.ndarray:
        """Evaluate with NumPy: (n_samples, n_targets), or (n_samples,) for one target."""
        Y = self.combine(self.raw_outputs(X))
        return Y[:, 0] if self.n_targets == 1 else Y

    # ----------------------------------------------------------------- json

    def to_dict(self) -> dict:
        return {
            "format": "srnet.program",
            "version": FORMAT_VERSION,
            "n_inputs": self.n_inputs,
            "constants": list(self.constants),
            "steps": [list(s) for s in self.steps],
            "outputs": list(self.outputs),
            "weights": self.weights.tolist(),
            "intercept": self.intercept.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Program":
        """Rebuild a program from :meth:`to_dict` output, validating everything.

        Nothing is coerced: ``n_inputs``, step addresses and output addresses
        must be integers (a float, even an integral one such as 2.0, and a bool
        are refused), step names strings, constants real numbers, ``weights``
        a 2-D and ``intercept`` a 1-D list of real numbers.  Any other document
        is a one-line ValueError, "malformed srnet program: ..." (or "invalid
        program: ..." for well-typed fields that do not fit together).
        """
        check_document(data, "srnet.program", FORMAT_VERSION, "program")
        missing = [key for key in ("n_inputs", "constants", "steps", "outputs", "weights", "intercept")
                   if key not in data]
        if missing:
            raise malformed(f"no {missing[0]!r}")
        steps = []
        for k, step in enumerate(as_sequence(data["steps"], "steps")):
            if not isinstance(step, (list, tuple)) or len(step) != 3:
                raise malformed(f"step {k} must be [name, address, address], got {shown(step)}")
            name, a, b = step
            if not isinstance(name, str):
                raise malformed(f"step {k}'s primitive name must be a string, got {shown(name)}")
            steps.append((name, as_integer(a, f"step {k}'s first address"),
                          as_integer(b, f"step {k}'s second address")))
        constants = as_sequence(data["constants"], "constants")
        intercept = _numbers(data["intercept"], 1, "intercept")
        # a constant program (no outputs) writes its (0, n_targets) weights as []
        weights = (np.zeros((0, intercept.size)) if isinstance(data["weights"], list) and not data["weights"]
                   else _numbers(data["weights"], 2, "weights"))
        if intercept.size == 0:  # computes nothing: every formula of it would be empty
            raise malformed("no targets (an empty 'intercept')")
        return cls(as_integer(data["n_inputs"], "n_inputs"),
                   tuple(as_real(c, f"constant {i}") for i, c in enumerate(constants)),
                   tuple(steps),
                   tuple(as_integer(o, f"output {i}") for i, o in enumerate(as_sequence(data["outputs"], "outputs"))),
                   weights, intercept)

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> "Program":
        return cls.from_dict(parse_json(text, "program"))

    def __eq__(self, other) -> bool:
        return (isinstance(other, Program) and self.n_inputs == other.n_inputs
                and self.constants == other.constants and self.steps == other.steps
                and self.outputs == other.outputs and np.array_equal(self.weights, other.weights)
                and np.array_equal(self.intercept, other.intercept))

    __hash__ = None
