"""Islands: several (1+lambda) populations evolving side by side on threads.

One (1+lambda) search on small data cannot use many cores: one generation's
evaluation is a few microseconds of work, and threads sharing it would spend
their time waiting for each other.  Islands give each thread a population of
its own, evolving independently (different random streams) without
synchronising; every :data:`MIGRATE_EVERY` generations they meet, and the
worst island continues from a copy of the best island's parent.  Independent
populations reach a target sooner than one (the first to get there wins), and
migration moves every island's effort toward the best region found.

The engine's kernels release the GIL (``nogil``), so the islands' chunks run
truly in parallel on Python threads (SRNet's layer-wise search runs one
kernel per layer and holds the GIL only between them: two islands make
1.2-1.7x the generations per second of one).  Each island runs on its own
between meetings, and they meet at fixed generations (multiples of ``meet_every``, by default
the migration interval :data:`MIGRATE_EVERY`), so with a generation or
evaluation budget the same seed gives the same genome for the same number of
islands, however the threads are scheduled; the driver (and a callback) sees
the islands once per meeting.

:class:`Islands` is itself a strategy for :func:`srnet.cgp.driver.run`; its
members are strategies with ``parent`` and ``adopt(parent, fitness)`` (see
:class:`srnet.cgp.evolve.CGPSearch` and :class:`srnet.layers.LayerwiseSearch`).
"""

from __future__ import annotations

import dataclasses
import math
import threading
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np

from srnet.cgp.driver import Limits
from srnet.data import check_budget

#: Generations between migrations: rare enough that islands explore on their
#: own (thousands of generations take milliseconds on small data), often
#: enough that a stuck island does not waste a whole run.
MIGRATE_EVERY = 2000


#: See :func:`overshoot_bound`.
MIN_CHUNK = 64


def overshoot_bound(generation: int) -> int:
    """The most generations an island runs in one call at ``generation``:
    an eighth of those it has run (at least :data:`MIN_CHUNK`).

    When another island reaches the target, an island finishes the chunk it
    is in before it learns of it; with chunks sized by time alone (they
    double while they are quick) that chunk could be as long as the whole
    run so far, and two islands then took as long as one.  Bounded this way,
    the losers run at most about 1/8 past the winner's generation, for a few
    dozen more calls over a run."""
    return max(MIN_CHUNK, generation // 8)


def island_seed(run_seed: int, island: int) -> int:
    """Island ``island``'s run seed: island 0 keeps the run's own seed, so one
    island reproduces a search without islands."""
    if island == 0:
        return run_seed
    return int(np.random.default_rng([run_seed, 104729, island]).integers(0, 2**62))


class Islands:
    """Strategies stepped side by side, with periodic migration of the best.

    Parameters
    ----------
    members : list of strategies
        Each with ``step(limits)``, ``generation``, ``evaluations``,
        ``node_evaluations``, ``restarts``, ``fitness``, ``best``, ``parent``,
        ``parent_fitness``, ``adopt(parent, fitness)`` (continue from another
        member's parent) and ``settle()``.
    n_threads : int
        Threads stepping the members (at most one per member).
    migrate_every : int
        Generations between migrations.
    meet_every : int or None
        Generations between the islands' meetings, where the driver sees
        them (its callback, its clock): a divisor of ``migrate_every``; None:
        at migrations only.  Members whose generations take milliseconds
        (SRNet's layer-wise search) meet more often than they migrate, so
        that a callback does not wait seconds; a meeting costs a thread
        hand-over, nothing next to such generations.
    """

    def __init__(self, members, *, n_threads: int, migrate_every: int = MIGRATE_EVERY,
                 meet_every: int | None = None):
        self.members = list(members)
        if not self.members:
            raise ValueError("Islands needs at least one member")
        # one line naming the setting: int() took 0, -2, True and 1.5 for 1 thread, and a negative migrate_every
        self.n_threads = min(check_budget("n_threads", n_threads, integer=True), len(self.members))
        self.migrate_every = check_budget("migrate_every", migrate_every, integer=True)
        self.meet_every = self.migrate_every if meet_every is None else check_budget("meet_every", meet_every,
                                                                                    integer=True)
        if self.migrate_every % self.meet_every:
            raise ValueError(f"meet_every ({meet_every}) must divide migrate_every ({migrate_every})")
        self.migrations = 0
        self.generation = 0
        self.winner = None
        self._executor = None  # the threads, kept from one meeting to the next (see close)

    # -- the strategy's view, summed or best over islands ---------------------
    @property
    def evaluations(self) -> int:
        return sum(m.evaluations for m in self.members)

    @property
    def node_evaluations(self) -> int:
        return sum(m.node_evaluations for m in self.members)

    @property
    def restarts(self) -> int:
        return sum(m.restarts for m in self.members)

    @property
    def exhausted(self) -> bool:
        """Every island can find nothing new (see CGPSearch.exhausted)."""
        return all(getattr(m, "exhausted", False) for m in self.members)

    def _best_member(self):
        if self.winner is not None:  # reached the target first (see step)
            return self.winner
        # the first best: ties go to the lower island, so the choice is reproducible
        return min(self.members, key=lambda m: m.fitness)

    @property
    def fitness(self) -> float:
        return self._best_member().fitness

    @property
    def best(self):
        return self._best_member().best

    def score(self, genome, X=None) -> float:
        return self.members[0].score(genome, X)

    def step(self, limits: Limits) -> None:
        """Every island up to the next meeting (or the end of the budget); at
        a multiple of ``migrate_every`` generations, migrate.

        Reaching the target is reproducible too: the island that reaches it
        at the earliest generation wins (the lower island on a tie), whatever
        the threads' timing.  Each island runs until it reaches the target or
        passes the earliest generation at which another one did (a bound
        that only falls), so every island that could win is run far enough.
        """
        start = self.generation
        end = (self.generation // self.meet_every + 1) * self.meet_every
        if limits.generations is not None:
            end = min(end, self.generation + limits.generations)
        end = max(end, self.generation + 1)
        share = None if limits.evaluations is None else max(1, limits.evaluations // len(self.members))
        first_hit = [math.inf]  # the earliest generation at which an island reached the target
        lock = threading.Lock()
        interrupted = threading.Event()

        def advance(member):
            spent = member.evaluations
            while not interrupted.is_set() and not limits.out_of_time():
                horizon = min(end, first_hit[0])
                left = None if share is None else share - (member.evaluations - spent)
                if member.generation >= horizon or (left is not None and left <= 0):
                    return
                chunk = min(horizon - member.generation, overshoot_bound(member.generation))
                member.step(dataclasses.replace(limits, generations=chunk, evaluations=left))
                if member.fitness <= limits.target_fitness:  # the kernel stops at the generation it got there
                    with lock:
                        first_hit[0] = min(first_hit[0], member.generation)
                    return

        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.n_threads, thread_name_prefix="srnet-island")
        futures = [self._executor.submit(advance, member) for member in self.members]
        try:
            for future in futures:
                future.result()
        finally:  # Ctrl-C too: the running chunks finish before anyone reads the islands
            interrupted.set()
            wait(futures)
            hits = [(m.generation, i) for i, m in enumerate(self.members) if m.fitness <= limits.target_fitness]
            self.winner = self.members[min(hits)[1]] if hits else None
            self.generation = self.winner.generation if hits else max(m.generation for m in self.members)
        # (a step that ran nothing, its time out before any chunk, migrated again at the same generation)
        if self.winner is None and self.generation > start and self.generation % self.migrate_every == 0:
            self.migrate()

    def migrate(self) -> None:
        """The worst island continues from the best island's parent."""
        source = min(self.members, key=lambda m: m.parent_fitness)
        worst = max(self.members, key=lambda m: m.parent_fitness)
        if worst is not source and source.parent_fitness < worst.parent_fitness:
            worst.adopt(source.parent, source.parent_fitness)
            self.migrations += 1

    def settle(self) -> None:
        for member in self.members:
            member.settle()

    def close(self) -> None:
        """Let the threads go (the driver calls this when its run ends; a later
        step starts new ones).  Keeping them between meetings saves starting
        and joining threads every ``meet_every`` generations (~0.2 ms each)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None


__all__ = ["Islands", "MIGRATE_EVERY", "MIN_CHUNK", "island_seed", "overshoot_bound"]
