"""The one (1+lambda) driver: budgets, stopping rules, callback, Ctrl-C, history.

Every search in srnet -- a CGP formula (:func:`srnet.cgp.evolve.evolve`),
SRNet's layer-wise search (:class:`srnet.layers.LayerwiseSearch`) and the
activation search (:func:`srnet.activations.search.search_activation`) -- is a
*strategy* stepped by :func:`run`.  A strategy owns its population and knows
how to advance it; the driver owns everything around that, so every search
stops for the same reasons, in the same order, and reports the same way.

A strategy has

* ``generation``, ``evaluations`` (ints) and ``fitness`` (the best so far,
  lower is better) attributes, kept current by ``step``;
* ``step(limits)``: advance by at least one generation, at most what
  :class:`Limits` leaves (a strategy may run several generations per call, as
  the numba engine does in chunks of a few tens of milliseconds);
* optionally ``settle()``: called after Ctrl-C, which may land in the middle of
  an update, to make ``fitness`` the kept best's own again;
* optionally ``restarts`` (int), reported in :class:`Progress`;
* optionally ``exhausted`` (bool): True once it can find nothing new (stop
  reason ``"exhausted"``; the activation search, whose candidates all came
  from its cache, looped forever on an evaluation budget);
* optionally ``close()``: called when the run ends, however it ends, to let
  go of what the strategy holds between steps (islands keep their threads).
"""

from __future__ import annotations

import contextlib
import math
import numbers
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from srnet.data import check_budget

#: The order stopping rules are checked in; the first one met is the stop reason.
STOP_REASONS = ("target_fitness", "max_generations", "max_evaluations", "max_seconds", "exhausted", "callback",
                "interrupted")


@dataclass
class Progress:
    """What a callback sees after every step of a search."""

    generation: int
    evaluations: int
    seconds: float
    fitness: float
    restarts: int = 0


@dataclass
class Limits:
    """What is left of the budget for one step: a strategy must not run past it.

    ``generations`` and ``evaluations`` are None when unbounded; ``deadline``
    is a :func:`time.perf_counter` time or None.  A strategy whose step is
    long and interruptible (one training run per evaluation) checks
    :meth:`out_of_time` between evaluations; the numba engine bounds its
    chunks instead.
    """

    generations: int | None
    evaluations: int | None
    deadline: float | None
    target_fitness: float

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.perf_counter() >= self.deadline


@dataclass
class Outcome:
    """How a run ended.

    ``history`` holds one row ``(generation, evaluations, seconds, fitness)``
    at the start, after every step that improved the best fitness, and at
    the end: enough to draw a convergence curve.
    """

    stop_reason: str
    seconds: float
    history: np.ndarray = field(repr=False)


#: What Ctrl-C does to srnet's searches: True (interactive use), it stops the search and the best so far is
#: kept and delivered (StopOnInterrupt, FinishOnInterrupt); False, it interrupts as usual: a script that measures
#: sets it, as a search cut short is no figure (the experiments saved one as valid and went on, exit 0).
KEEP_BEST_ON_INTERRUPT = True


class StopOnInterrupt:
    """Context manager: a KeyboardInterrupt (Ctrl-C) inside ends the block
    quietly, and ``caught`` says so; the search keeps the best found so far.
    A second Ctrl-C, after the block, interrupts as usual.  Under
    ``KEEP_BEST_ON_INTERRUPT = False`` it lets every Ctrl-C through."""

    caught = False

    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        self.caught = KEEP_BEST_ON_INTERRUPT and is_interrupt(value)
        return self.caught


class FinishOnInterrupt:
    """Context manager for the work after a search (composing, simplifying): the first Ctrl-C sets
    ``requested`` and prints ``message`` instead of interrupting, so the caller can skip what is optional
    and still deliver; a second one interrupts as usual.  Only in the main thread (the one Python delivers
    signals to), and under ``KEEP_BEST_ON_INTERRUPT``; elsewhere Ctrl-C interrupts as usual."""

    def __init__(self, message: str | None = None, *, requested: bool = False):
        self.message = message
        self.requested = requested  # already (the search was interrupted): the next Ctrl-C quits
        self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread() and KEEP_BEST_ON_INTERRUPT:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        if self.message:  # on a line of its own: a progress bar may be drawn on the current one (tqdm.write
            # could wait on the lock of the bar this handler interrupted)
            print("\n" + self.message, file=sys.stderr, flush=True)

    def __exit__(self, *exc_info) -> bool:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def is_interrupt(error: BaseException | None) -> bool:
    """Whether ``error`` is Ctrl-C: a KeyboardInterrupt, or the SystemError
    numba raises when one lands inside a compiled call ("returned a result
    with an exception set", caused by the KeyboardInterrupt)."""
    if isinstance(error, KeyboardInterrupt):
        return True
    return isinstance(error, SystemError) and isinstance(error.__cause__ or error.__context__, KeyboardInterrupt)


def check_budgets(max_generations=None, max_evaluations=None, max_seconds=None):
    """The three budgets, each checked (> 0, or None); at least one is needed."""
    max_generations = check_budget("max_generations", max_generations, allow_none=True, integer=True)
    max_evaluations = check_budget("max_evaluations", max_evaluations, allow_none=True, integer=True)
    max_seconds = check_budget("max_seconds", max_seconds, allow_none=True)
    if max_generations is None and max_evaluations is None and max_seconds is None:
        raise ValueError("give a budget: max_generations, max_evaluations or max_seconds")
    return max_generations, max_evaluations, max_seconds


def _stop_reason(strategy, target_fitness, max_generations, max_evaluations, max_seconds, elapsed) -> str:
    if strategy.fitness <= target_fitness:
        return "target_fitness"
    if max_generations is not None and strategy.generation >= max_generations:
        return "max_generations"
    if max_evaluations is not None and strategy.evaluations >= max_evaluations:
        return "max_evaluations"
    if max_seconds is not None and elapsed >= max_seconds:
        return "max_seconds"
    if getattr(strategy, "exhausted", False):  # a strategy that can find nothing new (it says so)
        return "exhausted"
    return ""


@contextlib.contextmanager
def _closing(strategy):
    """Call the strategy's ``close()``, if it has one, however the run ends."""
    try:
        yield
    finally:
        close = getattr(strategy, "close", None)
        if close is not None:
            close()


def run(strategy, *, max_generations: int | None = None, max_evaluations: int | None = None,
        max_seconds: float | None = None, target_fitness: float = -math.inf,
        callback: Callable[[Progress], bool | None] | None = None) -> Outcome:
    """Step ``strategy`` until a stopping rule is met.

    Parameters
    ----------
    strategy
        See the module's docstring.
    max_generations, max_evaluations, max_seconds
        Budgets (at least one, each > 0; checked by :func:`check_budgets`).
        The clock starts here: compile kernels before calling.
    target_fitness : float
        Stop as soon as the best fitness is at or below it.
    callback : callable or None
        Called with a :class:`Progress` after every step; returning True
        stops the run (stop reason ``"callback"``).

    Returns
    -------
    Outcome
        Ctrl-C (KeyboardInterrupt) during the run is caught: the strategy
        keeps its best so far and the stop reason is ``"interrupted"``; a
        second Ctrl-C, after the run, interrupts as usual.
    """
    max_generations, max_evaluations, max_seconds = check_budgets(max_generations, max_evaluations, max_seconds)
    # float() took True for 1.0 and "0.5" for 0.5, and raised its own message for None
    if isinstance(target_fitness, (bool, np.bool_)) or not isinstance(target_fitness, numbers.Real):
        raise ValueError(f"target_fitness must be a number, got {target_fitness!r}")
    if callback is not None and not callable(callback):  # (it failed only after the first step)
        raise TypeError(f"callback must be callable or None, got {callback!r}")
    target_fitness = float(target_fitness)  # an int would compile (and cache) another signature of every kernel
    if math.isnan(target_fitness):
        raise ValueError("target_fitness is NaN; give a number (-inf: no target)")
    started = time.perf_counter()
    deadline = None if max_seconds is None else started + max_seconds
    history = [(strategy.generation, strategy.evaluations, 0.0, strategy.fitness)]
    reason = ""
    interrupt = StopOnInterrupt()
    with interrupt, _closing(strategy):
        while True:
            elapsed = time.perf_counter() - started
            reason = _stop_reason(strategy, target_fitness, max_generations, max_evaluations, max_seconds, elapsed)
            if reason:
                break
            limits = Limits(None if max_generations is None else max_generations - strategy.generation,
                            None if max_evaluations is None else max_evaluations - strategy.evaluations,
                            deadline, target_fitness)
            before = strategy.fitness
            strategy.step(limits)
            elapsed = time.perf_counter() - started
            if strategy.fitness < before:
                history.append((strategy.generation, strategy.evaluations, elapsed, strategy.fitness))
            if callback is not None and callback(Progress(strategy.generation, strategy.evaluations, elapsed,
                                                          strategy.fitness, getattr(strategy, "restarts", 0))):
                # a rule met by the same step comes first, as STOP_REASONS orders them
                reason = _stop_reason(strategy, target_fitness, max_generations, max_evaluations, max_seconds,
                                      elapsed) or "callback"
                break
    seconds = time.perf_counter() - started
    if interrupt.caught:
        reason = "interrupted"
        settle = getattr(strategy, "settle", None)
        if settle is not None:
            settle()
    history.append((strategy.generation, strategy.evaluations, seconds, strategy.fitness))
    return Outcome(reason, seconds, np.array(history, dtype=np.float64))


__all__ = ["KEEP_BEST_ON_INTERRUPT", "Limits", "Outcome", "Progress", "STOP_REASONS", "StopOnInterrupt",
           "check_budgets", "is_interrupt", "run"]
