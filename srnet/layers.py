"""SRNet: explain a network layer by layer with one CGP chromosome per layer.

Layer k of the network is approximated from layer k-1's *approximation*
(layer 1 reads the network's inputs), so the composed formula is exactly what
:meth:`SRNet.predict` evaluates::

    h_k ~= [F_k(h_{k-1}), 1] @ W_k

``F_k`` is an m-output CGP chromosome and ``W_k`` the exact (ridge) least
squares map from its outputs to the layer's units.  With ``form="paper"``,
m = 1: every unit of layer k is ``w_kj * f_k(h_{k-1}) + b_kj``, the form of
Luo et al. (GECCO 2022), whose Newton steps for w and b are replaced here by
the exact least-squares solution.

The search is the paper's MNNCGP-ES: a (1+lambda) strategy over the whole
multi-chromosome genome where, every generation, each layer in order picks
the best of its candidate chromosomes on that layer's error given the layer
before it, and the assembled genome may replace the parent.  Two selection
rules (``SELECTIONS``):

* ``"drift"`` (srnet's default): each layer picks among its offspring *and*
  the parent's chromosome, ties going to an offspring, and the assembled
  genome replaces the parent when it is not worse.  Keeping the parent's
  chromosome in the pick means a good layer is never traded for a worse one
  just because the layer before it changed; accepting ties is CGP's neutral
  drift, which lets the search walk across plateaus.
* ``"paper"`` (Luo et al.'s rule, used by ``preset="paper"``): each layer
  picks among its offspring only, and the assembled genome replaces the
  parent only when it is strictly better.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass

import numpy as np

from srnet.cgp import _kernels
from srnet.cgp.evolve import MUTATIONS, as_feature_rows, check_mutation
from srnet.cgp.genome import DEFAULT_CONSTANT_POOL, Genome, GenomeSpec
from srnet.cgp.primitives import ARITIES, PAPER_FUNCTIONS
from srnet.expr.program import Program

FORMS = ("multi", "paper")
SELECTIONS = ("drift", "paper")

#: srnet's functions: the paper's ten and tanh, the shape of the sigmoid and tanh networks explained.
#: Beyond their data such networks saturate, and a formula of the paper's functions cannot (it grows or
#: oscillates): on the paper's test box (experiments/compare_explainers.py, 12 networks, one 10 s trial) tanh
#: lowered SRNet's RMSE against the network on 7 of them (kkk0 1.25 -> 0.015, its sigmoid network found
#: exactly; feynman4 3.7e5 -> 9.6e4), raised it on 3 (feynman2 45 -> 130) and beat pyoperon on 8 of 12, was 6.
DEFAULT_FUNCTIONS: tuple[str, ...] = (*PAPER_FUNCTIONS, "tanh")

#: Settings of the SRNet paper (5x5 grid, full levels-back, its ten functions,
#: lambda = 199, point mutation at 0.4, 5000 generations, one output per layer)
#: and srnet's own default, tuned for speed and fidelity.
PRESETS = {
    "paper": dict(form="paper", n_rows=5, n_columns=5, levels_back=None, functions=PAPER_FUNCTIONS,
                  n_offspring=199, mutation="point", mutation_rate=0.4, selection="paper", max_generations=5000,
                  max_seconds=None),
    "default": dict(form="multi", n_rows=1, n_columns=20, levels_back=None, functions=DEFAULT_FUNCTIONS,
                    n_offspring=32, mutation="point", mutation_rate=0.08, selection="drift", max_generations=None,
                    max_seconds=30.0),
}


@dataclass
class LayerSearchState:
    """One layer of a multi-chromosome individual, with its cached results."""

    nodes: np.ndarray
    outputs: np.ndarray
    constants: np.ndarray
    mse: float
    approximation: np.ndarray  # (width, n): this layer's approximation, rows = units


def layer_approximation(nodes, outputs, constants_values, inputs, targets, ridge):
    """Fit one layer: returns (approximation (width, n), W, intercept, mse),
    or (None, None, None, inf) when the chromosome is not finite on ``inputs``."""
    finite, approximation, W, intercept, mse = _kernels.layer_fit(nodes, outputs, constants_values, ARITIES, inputs,
                                                                   targets, ridge)
    if not finite:
        return None, None, None, math.inf
    return approximation, W, intercept, mse


def paper_fitness(layer_mses) -> float:
    """The SRNet paper's fitness: mean hidden-layer MSE + output-layer MSE."""
    layer_mses = [float(mse) for mse in layer_mses]
    hidden = layer_mses[:-1]
    return (sum(hidden) / len(hidden) if hidden else 0.0) + layer_mses[-1]


class LayerwiseSearch:
    """The MNNCGP-ES over per-layer targets (arrays in, genomes out): a
    strategy for the one driver, :func:`srnet.cgp.driver.run`, which owns the
    budgets, the callback and Ctrl-C.

    Parameters
    ----------
    specs : list of GenomeSpec
        One chromosome shape per explained layer.
    inputs : ndarray of shape (n_inputs, n)
        The network's inputs, one row per feature.
    targets : list of ndarray of shape (width_k, n)
        Each explained layer's activations, one row per unit.
    teacher_forcing : bool
        Feed layer k the network's true layer k-1 instead of its approximation.
    selection : {"drift", "paper"}
        The selection rule (see the module's docstring).
    """

    def __init__(self, specs, inputs, targets, *, n_offspring, mutation, mutation_rate, ridge, teacher_forcing,
                 run_seed, n_threads, selection="drift"):
        if selection not in SELECTIONS:
            raise ValueError(f"unknown selection {selection!r}; valid: {', '.join(SELECTIONS)}")
        check_mutation(mutation, mutation_rate)  # (an unknown one was a KeyError)
        _check_layers(specs, inputs, targets)
        self.selection = selection
        self.specs = specs
        self.inputs = inputs
        self.targets = targets
        self.n_offspring = n_offspring
        self.operator = MUTATIONS[mutation]
        self.mutation_rate = mutation_rate
        self.ridge = ridge
        self.teacher_forcing = teacher_forcing
        self.run_seed = run_seed
        self.threads = n_threads
        self.parallel = _kernels.worth_parallel(n_threads, n_offspring + 1, inputs.shape[1])
        n_layers = len(specs)
        self.generation = 0
        self.restarts = 0  # never: a layer-wise search runs one population from start to end
        self.parent = []
        rng = np.random.default_rng([run_seed, 0])
        for k, spec in enumerate(specs):
            genome = Genome.random(spec, rng)
            self.parent.append(LayerSearchState(genome.nodes, genome.outputs, genome.constants, math.inf, None))
        self._refresh(self.parent, first_changed=0)
        # the first parent's chromosomes are evaluations too (as evolve() counts its first parent)
        self.evaluations = n_layers
        self.node_evaluations = sum(Genome(spec, s.nodes, s.outputs, s.constants).n_active()
                                    for spec, s in zip(specs, self.parent)) * inputs.shape[1]
        self.fitness = paper_fitness(s.mse for s in self.parent)
        self._buffers = [self._allocate(spec) for spec in specs]
        self._grids = [spec.grid() for spec in specs]
        self._pools = [spec.pool_array for spec in specs]
        self._target_ssts = [_kernels.target_sst(t) for t in targets]
        assert len(self.parent) == n_layers

    def _allocate(self, spec):
        count = self.n_offspring + 1  # the offspring, then the parent's chromosome
        return dict(nodes=np.empty((count, spec.n_nodes, 3), np.int32),
                    outputs=np.empty((count, spec.n_outputs), np.int32),
                    constants=np.empty((count, spec.n_constants), np.int32),
                    changed=np.empty(count, np.bool_), fitness=np.empty(count),
                    n_active=np.zeros(count, np.int64))

    def layer_input(self, chain, k):
        if k == 0:
            return self.inputs
        return self.targets[k - 1] if self.teacher_forcing else chain[k - 1].approximation

    def _refresh(self, chain, first_changed):
        """Recompute cached approximations and errors from layer ``first_changed`` on."""
        for k in range(first_changed, len(chain)):
            state = chain[k]
            values = self.specs[k].pool_array[state.constants]
            # a chromosome that is not finite here gets a NaN approximation and an infinite error
            _, state.approximation, _, _, state.mse = _kernels.layer_fit(state.nodes, state.outputs, values, ARITIES,
                                                                         self.layer_input(chain, k), self.targets[k],
                                                                         self.ridge)

    def step(self, limits=None):
        """One generation: every layer in order picks its best candidate
        (``limits`` is not needed: one generation is always within them).
        Each layer's part is one compiled kernel (:func:`_kernels.layer_generation`)."""
        chain = []
        same_input_as_parent = True
        for k, spec in enumerate(self.specs):
            parent = self.parent[k]
            buf = self._buffers[k]
            best, identical, mse, approximation, evaluations, node_evaluations = _kernels.layer_generation(
                self._grids[k], spec.function_codes, ARITIES, self._pools[k], self.layer_input(chain, k),
                self.targets[k], self._target_ssts[k], self.ridge, parent.nodes, parent.outputs, parent.constants,
                parent.mse, same_input_as_parent or self.teacher_forcing, self.operator, self.mutation_rate,
                self.run_seed + 7919 * (k + 1), self.generation, self.selection == "paper", self.parallel,
                self.threads, buf["nodes"], buf["outputs"], buf["constants"], buf["changed"], buf["fitness"],
                buf["n_active"])
            self.evaluations += evaluations
            self.node_evaluations += node_evaluations
            # identical: the pick computes what the parent's chromosome computed, on the same input (the
            # parent's own, or an offspring mutated only in inactive genes), so the next layer's input is
            # the parent's too, and its parent's chromosome needs no new score
            same_input_as_parent = same_input_as_parent and identical
            chain.append(LayerSearchState(buf["nodes"][best].copy(), buf["outputs"][best].copy(),
                                          buf["constants"][best].copy(), mse,
                                          parent.approximation if identical else approximation))
        self.generation += 1
        fitness = paper_fitness(s.mse for s in chain)
        if fitness < self.fitness or (fitness == self.fitness and self.selection == "drift"):
            self.parent = chain
            self.fitness = fitness
        return self.fitness

    def settle(self):
        """After Ctrl-C, which may land between updates: the kept parent's own fitness."""
        self.fitness = paper_fitness(s.mse for s in self.parent)

    # -- what islands (srnet.cgp.islands.Islands) need of a member ------------
    @property
    def parent_fitness(self) -> float:
        return self.fitness  # the parent is the best so far: it is replaced only by one as good

    @property
    def best(self) -> list[Genome]:
        """The parent's chromosomes, one genome per layer."""
        return [Genome(spec, s.nodes, s.outputs, s.constants) for spec, s in zip(self.specs, self.parent)]

    def adopt(self, chain: list[LayerSearchState], fitness: float) -> None:
        """Continue from ``chain`` (another island's parent, on the same data), whose fitness is ``fitness``."""
        self.parent = [dataclasses.replace(s, nodes=s.nodes.copy(), outputs=s.outputs.copy(),
                                           constants=s.constants.copy()) for s in chain]
        self.fitness = fitness


def _check_layers(specs, inputs, targets) -> None:
    """The search's arrays against its specs, or one line: the kernels read a layer's input rows by the
    spec's addresses and every row by the inputs' sample count, past the arrays when they disagree (a
    layer fed fewer units than its spec reads scored memory beyond them)."""
    if not isinstance(targets, (list, tuple)) or len(targets) != len(specs) or not specs:
        raise ValueError(f"targets must be a list of one array per spec ({len(specs)}), got "
                         f"{len(targets) if isinstance(targets, (list, tuple)) else type(targets).__name__}")
    layers = [("inputs", inputs)] + [(f"layer {k + 1}'s targets", t) for k, t in enumerate(targets)]
    n = inputs.shape[1] if isinstance(inputs, np.ndarray) and inputs.ndim == 2 else None
    for k, (name, array) in enumerate(layers):
        if not isinstance(array, np.ndarray) or array.ndim != 2 or array.dtype != np.float64 or array.shape[1] != n:
            raise ValueError(f"{name} must be a 2-D float64 array (one row per unit, {n} samples as the inputs); "
                             f"got {getattr(array, 'shape', type(array).__name__)}")
        if k < len(specs) and array.shape[0] != specs[k].n_inputs:
            raise ValueError(f"{name} have {array.shape[0]} rows but layer {k + 1}'s spec reads "
                             f"{specs[k].n_inputs} inputs")


def make_specs(input_width, layer_widths, *, form, n_outputs, n_rows, n_columns, levels_back, functions,
               n_constants, constant_pool):
    """One GenomeSpec per explained layer."""
    if form not in FORMS:
        raise ValueError(f"unknown form {form!r}; valid: {', '.join(FORMS)}")
    n_layers = len(layer_widths)
    if form == "paper":
        per_layer = [1] * n_layers
    else:
        # (True was read as 1, "12" digit by digit as [1, 2], and 2.5 was a TypeError traceback)
        per_layer = [n_outputs] * n_layers if not isinstance(n_outputs, (list, tuple, np.ndarray)) else list(n_outputs)
        if not all(isinstance(m, numbers.Integral) and not isinstance(m, (bool, np.bool_)) and m >= 1
                   for m in per_layer):
            raise ValueError(f"n_outputs must be a whole number >= 1, or a list of one per explained layer; "
                             f"got {n_outputs!r}")
        if len(per_layer) != n_layers:
            raise ValueError(f"n_outputs lists {len(per_layer)} values for {n_layers} explained layers")
        per_layer = [int(m) for m in per_layer]
    widths = [input_width] + list(layer_widths)
    return [GenomeSpec(n_inputs=widths[k], n_outputs=per_layer[k], n_rows=n_rows, n_columns=n_columns,
                       levels_back=levels_back, functions=functions, n_constants=n_constants,
                       constant_pool=constant_pool) for k in range(n_layers)]


def fit_layer_programs(genomes, inputs, targets, ridge, teacher_forcing=False):
    """Final per-layer programs with W refitted on all rows; and per-layer MSEs.

    ``inputs`` (n_inputs, n) and ``targets`` (list of (width, n)) are the full data.
    """
    programs, mses, approximations = [], [], []
    layer_input = inputs
    for k, genome in enumerate(genomes):
        approximation, W, intercept, mse = layer_approximation(genome.nodes, genome.outputs,
                                                               genome.constant_values(), layer_input, targets[k],
                                                               ridge)
        if approximation is None:
            raise ValueError(f"layer {k + 1}'s formula is not finite on the data")
        programs.append(Program.from_genome(genome, W, intercept))
        mses.append(mse)
        approximations.append(approximation)
        layer_input = targets[k] if teacher_forcing else approximation
    return programs, mses, approximations


__all__ = ["FORMS", "PRESETS", "SELECTIONS", "LayerwiseSearch", "fit_layer_programs", "make_specs", "paper_fitness",
           "DEFAULT_CONSTANT_POOL", "as_feature_rows"]
