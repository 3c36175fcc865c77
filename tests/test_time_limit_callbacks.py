"""A sympy time limit never stops a garbage-collection callback: there the stop is "ignored" (printed to
stderr) and the callback is cut short.  Dask's GCDiagnosis._gc_callback was not recognised (only a function
named exactly gc_callback was), and a PMLB batch printed the ignored stop, then an AssertionError from Dask's
timer on later collections."""
import gc
import sys
import time

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
        with time_limit(0.05) as limit:
            while True:
                gc.collect(0)
    finally:
        gc.callbacks.remove(diagnosis._gc_callback)
    assert limit.expired and diagnosis.calls > 10
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
