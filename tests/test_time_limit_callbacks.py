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
