"""What the CUDA evaluator's tests share (tests/test_cuda_evaluator.py, tests/test_gpu_mutants.py): genomes
written by hand, a population's stacked arrays, the CPU engine's float32 reference, and a test file run again
under numba's CUDA simulator."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from srnet.cgp import Genome, GenomeSpec, evaluate_population
from srnet.cgp.primitives import PRIMITIVE_CODES

REPO_ROOT = Path(__file__).resolve().parents[1]


def hand_genome(spec: GenomeSpec, steps, outputs, constants=None) -> Genome:
    """A genome running ``steps`` [(function, a, b)] at nodes 0, 1, ...;
    the other nodes add(x0, x0).  Addresses as in the spec (inputs, constants, nodes)."""
    nodes = np.tile(np.array([PRIMITIVE_CODES["add"], 0, 0], dtype=np.int32), (spec.n_nodes, 1))
    for k, (name, a, b) in enumerate(steps):
        nodes[k] = (PRIMITIVE_CODES[name], a, b)
    constants = np.zeros(spec.n_constants, dtype=np.int32) if constants is None else constants
    return Genome(spec, nodes, np.array(outputs, dtype=np.int32), np.array(constants, dtype=np.int32))


def stack(genomes):
    return (np.stack([g.nodes for g in genomes]), np.stack([g.outputs for g in genomes]),
            np.stack([g.constants for g in genomes]))


def cpu_reference(spec, genomes, X_rows, Y_rows, fitness, ridge=1e-8):
    """The CPU engine's fitness of ``genomes`` in float32, as the GPU evaluator computes it."""
    return evaluate_population(spec, *stack(genomes), X_rows, Y_rows, fitness=fitness, ridge=ridge,
                               precision="float32")


def run_simulated(script) -> dict:
    """``script`` (a test file whose ``__main__`` prints its results as JSON on its last line) run in a
    subprocess under numba's CUDA simulator (NUMBA_ENABLE_CUDASIM must be set before numba.cuda is first
    imported), this checkout first on its path (mutmut's mutants/ too); its results."""
    path = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    environment = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", PYTHONPATH=path)
    process = subprocess.run([sys.executable, str(script)], cwd=REPO_ROOT, env=environment, capture_output=True,
                             text=True, timeout=300)
    assert process.returncode == 0, process.stderr[-3000:]
    return json.loads(process.stdout.strip().splitlines()[-1])
