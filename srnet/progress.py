"""A progress bar for searches (``progress=True`` of the estimators): how far
the budget is spent, and the best loss so far, on stderr.

One bar for every search (SRNet's layer-wise one, ``CGPRegressor``'s,
X-Net's), so they all look and behave alike: against seconds when there is a
time budget, else against generations (or iterations); redrawn in place on a
terminal, and only every few seconds into a log file (CI, nohup), which would
otherwise get every redraw appended to one line.
"""

from __future__ import annotations

import sys
import threading
import time

from srnet.data import check_flag

#: With progress on, kernels still loading after this many seconds are being compiled: say so.
COMPILE_NOTICE_SECONDS = 3.0


def warm_up_kernels(announce: bool) -> float:
    """Compile (or load from numba's cache) srnet's kernels, once per process
    (:func:`srnet.cgp._kernels.warm_up`), and say so on stderr when ``announce``
    and they take over :data:`COMPILE_NOTICE_SECONDS`: a first run on a machine
    compiles for a minute or more, which passed in silence before any progress
    bar.  Returns the seconds it took (kept apart from any search budget)."""
    from srnet.cgp import _kernels

    started = time.perf_counter()
    notice = threading.Timer(COMPILE_NOTICE_SECONDS, print, args=(
        "compiling srnet's kernels (the first run on this machine: a minute or more; cached for later runs)...",),
        kwargs={"file": sys.stderr, "flush": True})
    notice.daemon = True
    if announce:
        notice.start()
    try:
        _kernels.warm_up()
    finally:
        notice.cancel()
    return time.perf_counter() - started


class SearchProgress:
    """``SearchProgress(enabled, desc, max_seconds, max_steps, unit)``;
    call it with ``(steps, seconds, loss)`` as the search goes, and
    :meth:`close` it (or use it as a context manager).  Disabled, it does
    nothing (and imports nothing)."""

    def __init__(self, enabled: bool, desc: str, max_seconds: float | None, max_steps: int | None,
                 unit: str = "gen", loss_name: str = "search_fitness"):
        self.bar = None
        self.desc = desc
        self.max_seconds, self.max_steps = max_seconds, max_steps
        self.loss_name = loss_name
        if not check_flag("progress", enabled):  # (progress="no" drew a bar)
            return
        from tqdm.auto import tqdm

        try:  # a stream without isatty (a logging wrapper) is no terminal
            terminal = bool(sys.stderr.isatty())
        except (AttributeError, ValueError):
            terminal = False
        interval = 0.1 if terminal else 5.0
        if max_seconds is not None and max_steps is not None:  # whichever budget runs out first: a percentage
            # (counted in seconds alone, a run that ended at its generations read 0 % of 5 s)
            self.bar = tqdm(total=100, desc=desc, mininterval=interval,
                            bar_format="{l_bar}{bar}| {n:.0f}% of the budget{postfix}")
        elif max_seconds is not None:
            digits = 0 if max_seconds >= 10 else 1  # a budget of 0.25 s read "0/0 s"
            total = f".{digits}f" if max_seconds < 1e6 else ".3g"  # --seconds 1e300 printed 301 digits
            self.bar = tqdm(total=max_seconds, unit="s", desc=desc, mininterval=interval,
                            bar_format=f"{{l_bar}}{{bar}}| {{n:.{digits}f}}/{{total:{total}}} s{{postfix}}")
        else:
            self.bar = tqdm(total=max_steps, unit=unit, desc=desc, mininterval=interval)

    def __call__(self, steps: int, seconds: float, loss: float) -> None:
        bar = self.bar
        if bar is None:
            return
        bar.set_postfix({self.loss_name: f"{loss:.4g}"}, refresh=False)
        if self.max_seconds is not None and self.max_steps is not None:
            done = 100 * max(seconds / self.max_seconds, steps / max(self.max_steps, 1))
        else:
            done = seconds if self.max_seconds is not None else steps
        bar.update((done if bar.total is None else min(done, bar.total)) - bar.n)

    def phase(self, text: str) -> None:
        """Name the step now under way after the search (``"polishing"``, ``"writing the formula"``): the bar
        stood still for seconds past its budget, as if the search had hung."""
        if self.bar is not None:
            self.bar.set_description_str(f"{self.desc} ({text})", refresh=True)

    def following(self, callback=None):
        """A search driver's callback (called with a :class:`srnet.cgp.Progress`)
        that moves the bar, then asks ``callback``, if any, whether to stop.  A ``callback`` that is not
        callable is refused here, before the search (wrapped, it passed the driver's check and failed at the
        first step: CGPRegressor.fit(X, y, weights) called the weights)."""
        if callback is not None and not callable(callback):
            raise TypeError(f"callback must be callable or None, got {type(callback).__name__}")
        def on_step(progress) -> bool:
            self(progress.generation, progress.seconds, progress.fitness)
            return bool(callback(progress)) if callback is not None else False

        return on_step

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
