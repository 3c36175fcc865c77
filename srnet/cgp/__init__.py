"""The CGP engine: primitives, genomes, numba kernels, the (1+lambda) strategy."""

from srnet.cgp.driver import Progress
from srnet.cgp.evolve import (
    EvolutionResult,
    as_feature_rows,
    evaluate_population,
    evolve,
    fitness_of,
    outputs_of,
)
from srnet.cgp.genome import Genome, GenomeSpec
from srnet.cgp.primitives import PAPER_FUNCTIONS, PRIMITIVES, primitive

__all__ = ["EvolutionResult", "Genome", "GenomeSpec", "PAPER_FUNCTIONS", "PRIMITIVES", "Progress",
           "as_feature_rows", "evaluate_population", "evolve", "fitness_of", "outputs_of", "primitive"]
