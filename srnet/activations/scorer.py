"""The fitness of an activation formula for the search: what every scorer shares.

:class:`ActivationScorer` owns the cache (by the program's JSON), the
counters (``trained``, ``hits``, ``rejected``, ``seconds``), turning a program
into a standardised activation (:meth:`~ActivationScorer.activation`) and the
fitness (:meth:`~ActivationScorer.fitness`); a subclass says only how a
candidate is trained and scored (:meth:`~ActivationScorer.train`).  The
light network of :func:`srnet.activations.search_activation` and the
language model of :mod:`srnet.activations.language_model` are its two
subclasses.  It lives apart from both so that each imports it without an
import cycle.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod

from srnet.activations.programs import CHECK_RANGE, DegenerateActivationError, check_range_bounds
from srnet.activations.routes import make_activation
from srnet.expr.program import Program


class ActivationScorer(ABC):
    """Fitness of one-variable formulas as activations: lower is better.

    :meth:`fitness` checks and standardises the formula (a degenerate one
    scores ``inf`` at no training cost), trains with it through
    :meth:`train` and caches the value by the program's JSON, so a formula
    met again costs nothing.  Counters: ``trained`` (training runs),
    ``hits`` (cache hits), ``rejected`` (degenerate formulas) and
    ``seconds`` (spent in :meth:`train` through :meth:`fitness`).

    Parameters
    ----------
    check_range : (float, float), default=(-5, 5)
        Range on which formulas are checked and standardised
        (see :func:`~srnet.activations.make_activation`).
    """

    #: What the fitness measures, as a found activation's label names it.
    metric = "validation loss"

    def __init__(self, *, check_range=CHECK_RANGE):
        # checked here, by its own name (the first candidate screened called it value_range)
        self.check_range = None if check_range is None else check_range_bounds(check_range)
        self.cache: dict[str, float] = {}
        self.hits = self.trained = self.rejected = 0
        self.seconds = 0.0

    def activation(self, program: Program):
        """The standardised activation of a program, or None if degenerate."""
        try:
            return make_activation(program, normalize=True, check_range=self.check_range, warn=False)
        except DegenerateActivationError:
            return None

    def fitness(self, program: Program) -> float:
        """The cached score of a program's activation (``inf`` if degenerate)."""
        key = program.to_json()
        if key in self.cache:
            self.hits += 1
            return self.cache[key]
        activation = self.activation(program)
        if activation is None:
            self.rejected += 1
            value = math.inf
        else:
            self.trained += 1
            started = time.perf_counter()
            value = self.train(activation)
            self.seconds += time.perf_counter() - started
            value = value if math.isfinite(value) else math.inf
        self.cache[key] = value
        return value

    @abstractmethod
    def train(self, activation) -> float:
        """Train with ``activation`` (a module) and return its score: lower is
        better, ``inf`` when training diverged.  Not cached nor counted: call
        :meth:`fitness` for that."""

    def ranked(self) -> list[tuple[float, Program]]:
        """Every finite fitness met so far with its program, best first."""
        found = [(value, Program.from_json(key)) for key, value in self.cache.items() if math.isfinite(value)]
        return sorted(found, key=lambda pair: pair[0])


__all__ = ["ActivationScorer"]
