"""A sympy time limit never stops a garbage-collection callback: there the stop is "ignored" (printed to
stderr) and the callback is cut short.  Dask's GCDiagnosis._gc_callback was not recognised (only a function
named exactly gc_callback was), and a PMLB batch printed the ignored stop, then an AssertionError from Dask's
timer on later collections."""
import gc
import subprocess
import sys
import textwrap
import time

import pytest

from srnet.expr.symbolic import time_limit


class GCDiagnosis:  # the shape of distributed.gc.GCDiagnosis: a bound method named _gc_callback
    def __init__(self):
        self.calls = 0

    def _gc_callback(self, phase, info):
        self.calls += 1
        end = time.perf_counter() + 0.004  # most of the block's time is spent here
        while time.perf_counter() < end:
            pass


def test_a_time_limit_waits_until_a_gc_callback_has_returned(monkeypatch):
    ignored = []
    monkeypatch.setattr(sys, "unraisablehook", lambda hook_args: ignored.append(hook_args))
    diagnosis = GCDiagnosis()
    gc.callbacks.append(diagnosis._gc_callback)
    try:
        for _ in range(15):  # (each stop is a new chance to land in the callback: the watchdog may lose the
            # interpreter to this thread between looking where it is and raising)
            with time_limit(0.01) as limit:
                while True:
                    gc.collect(0)
                    end = time.perf_counter() + 0.001  # (a little time outside the callback: with none, the
                    while time.perf_counter() < end:    # watchdog waited up to a minute for a moment to stop it)
                        pass
            assert limit.expired
    finally:
        gc.callbacks.remove(diagnosis._gc_callback)
    assert diagnosis.calls > 30
    assert not ignored, [str(a.exc_type) for a in ignored]


def test_limits_share_one_watchdog_thread_and_each_stops_its_own_block():
    """A thread started per limit (one per sympy call, thousands in a batch) once hung a Dask worker for good in
    Thread.start: now one watchdog serves every limit of the process; limits in four threads at once, half
    of them expiring, each stop their own block and no other."""
    import threading

    def work(outcomes):
        for k in range(60):
            with time_limit(0.002 if k % 2 else 5) as limit:
                while k % 2:
                    sum(range(100))
            outcomes.append(limit.expired == bool(k % 2))

    with time_limit(5):
        pass  # (the watchdog is up)
    before = threading.active_count()
    outcomes = []
    workers = [threading.Thread(target=work, args=(outcomes,)) for _ in range(4)]
    for worker in workers:
        worker.start()
    while any(worker.is_alive() for worker in workers):
        assert threading.active_count() <= before + 4  # the four workers, no thread per limit
        time.sleep(0.005)
    assert len(outcomes) == 240 and all(outcomes)


def test_outer_stops_landing_as_inner_limits_begin_and_end_neither_hang_nor_leave_a_limit_behind(monkeypatch):
    """Nested limits in three threads, the outer ones expiring every millisecond or so while the inner ones are
    entered and left as fast as they can be: with a thread per limit this hung within seconds (a stop landed in
    a watchdog being started, which shares its starter's id until it runs); an outer stop that lands as an inner
    limit ends must take that limit out all the same (else it fires later, outside any with of its own)."""
    import random
    import threading

    from srnet.expr.symbolic import _WATCHDOG

    def work(seed, outcomes):
        rng = random.Random(seed)
        for _ in range(150):
            with time_limit(rng.uniform(0.0005, 0.003)) as outer:
                while True:
                    with time_limit(5):
                        sum(range(20))
            outcomes.append(outer.expired)

    ignored = []
    monkeypatch.setattr(sys, "unraisablehook", lambda hook_args: ignored.append(hook_args))
    outcomes = []
    workers = [threading.Thread(target=work, args=(seed, outcomes), daemon=True) for seed in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not any(worker.is_alive() for worker in workers), "a time limit hung"
    assert len(outcomes) == 450 and all(outcomes)
    assert not _WATCHDOG._limits  # every limit, inner and outer, taken out as its block ended
    # (with a thread per limit: stops in starting threads; one ignored in a weakref callback, seen under a loaded
    # suite, is the race that remains, dropped quietly for users and raised again by its limit)
    ignored = [a for a in ignored if not _lost_in_a_callback(a)]
    assert not ignored, [(str(a.exc_type), a.object) for a in ignored]


def _lost_in_a_callback(hook_args) -> bool:
    """A time limit's stop that Python ignored in a weakref callback or a finaliser (see
    srnet.expr.symbolic._quiet_lost_stops)."""
    from srnet.expr.symbolic import _CALLBACK_FILES, _CALLBACK_NAMES, SympyTimeout

    module = getattr(hook_args.object, "__module__", None) or ""
    name = getattr(hook_args.object, "__qualname__", None) or ""
    return issubclass(hook_args.exc_type, SympyTimeout) and (f"{module}.py" in _CALLBACK_FILES
                                                             or name.endswith(_CALLBACK_NAMES))


def test_a_stop_landing_as_a_limit_is_left_swallows_neither_the_blocks_error_nor_an_outer_stop():
    """A limit's own stop that lands as it is left (``_landed``, set here by hand: the race it stands for was
    shown with a profile hook, which itself hung CPython now and then) marks it expired and swallows nothing:
    it returned True from __exit__, so a ValueError leaving the block vanished, and an outer limit's stop passing
    through was caught by the inner limit, the outer block running on and reading not expired."""
    with pytest.raises(ValueError, match="the block's own"):
        with time_limit(5) as limit:
            limit._landed = True
            raise ValueError("the block's own")
    assert limit.expired

    reached = False
    with time_limit(0.01) as outer:
        with time_limit(5) as inner:
            inner._landed = True
            while True:
                pass
        reached = True
    assert outer.expired and inner.expired and not reached


def test_a_limit_of_infinite_seconds_leaves_the_watchdog_serving_the_others():
    """inf seconds (or any beyond threading.TIMEOUT_MAX) killed the watchdog thread with an OverflowError: no
    later limit ever stopped."""
    import math

    with time_limit(math.inf) as unlimited:
        time.sleep(0.02)
    start = time.monotonic()
    with time_limit(0.02) as limit:
        while time.monotonic() - start < 5:
            pass
    assert not unlimited.expired and limit.expired and time.monotonic() - start < 2


_LOST_STOP = textwrap.dedent("""
    import weakref
    from srnet.expr.symbolic import SympyTimeout, time_limit

    class Thing:
        pass

    def stop(ref):  # a stop landing in a weakref callback, as the watchdog's can
        raise type("SympyTimeout", (SympyTimeout,), {})()

    def error(ref):
        raise ValueError("a callback's own error")

    with time_limit(60):
        kept = [Thing(), Thing()]
        refs = [weakref.ref(kept[0], stop), weakref.ref(kept[1], error)]
        del kept[:]
    print("done")
""")


def test_a_stop_lost_in_a_weakref_callback_is_not_printed_other_errors_are():
    """A stop Python ignores in a callback printed "Exception ignored in ... SympyTimeout" in a user's output; the
    limit raises it again later, so it is dropped; any other error ignored in a callback is printed as before."""
    done = subprocess.run([sys.executable, "-c", _LOST_STOP], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "done" in done.stdout, done.stderr[-2000:]
    assert "SympyTimeout" not in done.stderr, done.stderr
    assert done.stderr.count("Exception ignored") == 1 and "a callback's own error" in done.stderr, done.stderr
