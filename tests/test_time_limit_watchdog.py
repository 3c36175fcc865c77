"""The time limit's watchdog, piece by piece, without races: where a stop may land (fake frames), what one firing
does, what leaving a limit undoes, a forked child's watchdog, and stops landing at the exact moments a limit is
entered and left (simulated).  The suite's stress tests (tests/test_time_limit_callbacks.py) show the whole at
work, but a race they stand for is hit only now and then: hand mutants of these pieces survived them all (stop
72: 16 of 25)."""

import os
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from srnet.expr import symbolic
from srnet.expr.symbolic import UNSAFE_WAIT_SECONDS, SympyTimeout, time_limit


class _Code:
    def __init__(self, name, filename="/home/user/work.py"):
        self.co_name, self.co_filename = name, filename


class _Frame:
    def __init__(self, code, back=None):
        self.f_code, self.f_back = code, back


def _stack(*codes):
    """A fake thread's frames, the top one first."""
    frame = None
    for code in reversed(codes):
        frame = _Frame(code if not isinstance(code, str) else _Code(code), frame)
    return frame


def _verdict(monkeypatch, *codes) -> bool:
    monkeypatch.setattr(sys, "_current_frames", lambda: {7: _stack(*codes)})
    return symbolic._unsafe_to_stop(7)


def test_a_stop_may_land_in_plain_code_only(monkeypatch):
    assert not _verdict(monkeypatch, "inner", "work", "main")
    monkeypatch.setattr(sys, "_current_frames", lambda: {})
    assert not symbolic._unsafe_to_stop(7)  # (a thread that has ended)


@pytest.mark.parametrize("name", ["__del__", "_gc_callback", "gc_callback"])
def test_no_stop_in_a_finaliser_or_gc_callback_up_to_four_frames_down(monkeypatch, name):
    assert _verdict(monkeypatch, name, "main")
    assert _verdict(monkeypatch, "inner", "helper", "helper", name, "main")  # the fourth frame from the top
    assert not _verdict(monkeypatch, "inner", "helper", "helper", "helper", name)  # the fifth: out of sight


@pytest.mark.parametrize("file", ["/usr/lib/python3.11/weakref.py", "/usr/lib/python3.11/_weakrefset.py"])
def test_no_stop_in_a_weakref_callback(monkeypatch, file):
    assert _verdict(monkeypatch, "inner", _Code("remove", file), "main")


def test_no_stop_inside_threadings_code_nor_at_the_start_of_leaving_a_limit(monkeypatch):
    assert _verdict(monkeypatch, _Code("wait", threading.__file__), "main")
    assert not _verdict(monkeypatch, "inner", _Code("run", threading.__file__))  # (only where the thread stands)
    assert _verdict(monkeypatch, time_limit.__exit__.__code__, "main")
    assert _verdict(monkeypatch, time_limit._leave.__code__, "main")
    assert not _verdict(monkeypatch, time_limit.__enter__.__code__, "main")  # (a stop there is caught)


class _Fake:
    """A registered limit as the watchdog sees it."""

    REPEAT_SECONDS = time_limit.REPEAT_SECONDS

    def __init__(self, target=7, armed=True):
        self._target, self._signal = target, type("SympyTimeout", (SympyTimeout,), {})
        self._armed, self._fired, self._next = armed, False, 0.0


def _record_raises(monkeypatch, answers=None):
    raised = []
    monkeypatch.setattr(symbolic, "_raise_in", lambda thread, exception: raised.append((thread, exception)))
    if answers is not None:
        answers = list(answers)
        monkeypatch.setattr(symbolic, "_unsafe_to_stop", lambda thread: answers.pop(0))
    return raised


def test_firing_raises_the_stop_then_again_a_repeat_later(monkeypatch):
    raised = _record_raises(monkeypatch, [False, False])
    limit = _Fake()
    symbolic._Watchdog._fire(limit, 100.0)
    assert raised == [(7, limit._signal)] and limit._fired and limit._next == 100.0 + time_limit.REPEAT_SECONDS


def test_firing_waits_where_no_stop_may_land(monkeypatch):
    raised = _record_raises(monkeypatch, [True])
    limit = _Fake()
    symbolic._Watchdog._fire(limit, 100.0)
    assert raised == [] and not limit._fired and limit._next == 100.0 + UNSAFE_WAIT_SECONDS


def test_a_stop_raised_as_the_thread_enters_a_callback_is_cancelled_and_tried_again_soon(monkeypatch):
    raised = _record_raises(monkeypatch, [False, True])  # safe at the look, in a callback right after the raise
    limit = _Fake()
    symbolic._Watchdog._fire(limit, 100.0)
    assert raised == [(7, limit._signal), (7, None)] and limit._next == 100.0 + UNSAFE_WAIT_SECONDS


def test_leaving_a_limit_cancels_its_stop_only_once_fired(monkeypatch):
    raised = _record_raises(monkeypatch)
    with time_limit(60):
        pass
    assert raised == []
    with time_limit(60) as limit:
        limit._fired = True  # (as if it fired as the block ended)
    assert raised == [(threading.get_ident(), None)]


def test_a_limit_not_yet_armed_never_fires(monkeypatch):
    raised = _record_raises(monkeypatch)
    limit = _Fake(target=-12345, armed=False)  # (no thread has that id: its frames read as plain code)
    symbolic._WATCHDOG.add(limit)
    try:
        time.sleep(0.1)
        assert raised == []
        limit._armed = True
        deadline = time.monotonic() + 5
        while not raised and time.monotonic() < deadline:
            time.sleep(0.01)
        assert raised and raised[0] == (-12345, limit._signal)
    finally:
        symbolic._WATCHDOG.remove(limit)


def test_a_limit_is_armed_only_once_registered_so_its_stop_lands_inside_its_own_block(monkeypatch):
    """Armed before it is registered, its stop could land in ``__enter__`` (held here just after registering),
    outside the ``with`` that catches it, and escape to the caller."""
    real = symbolic._WATCHDOG.add

    def add_then_pause(limit):
        real(limit)
        time.sleep(0.05)  # (the watchdog runs meanwhile)

    monkeypatch.setattr(symbolic._WATCHDOG, "add", add_then_pause)
    with time_limit(0) as limit:
        while True:
            pass
    assert limit.expired


def test_negative_seconds_read_as_none_left():
    limit = time_limit(-5)
    assert limit.seconds == 0.0
    with limit:
        while True:
            pass
    assert limit.expired


def _landing_in_remove(monkeypatch, stop):
    """The watchdog's ``remove`` raising ``stop`` once, before it removes: a stop landing as a limit is left."""
    real = symbolic._WATCHDOG.remove
    pending = [stop]

    def remove(limit):
        if pending:
            raise pending.pop()
        real(limit)

    monkeypatch.setattr(symbolic._WATCHDOG, "remove", remove)


def test_an_outer_stop_landing_as_an_inner_limit_is_left_stops_the_outer_block(monkeypatch):
    reached = False
    with time_limit(60) as outer:
        with time_limit(60) as inner:
            _landing_in_remove(monkeypatch, outer._signal())
        reached = True
    assert outer.expired and not inner.expired and not reached
    assert inner not in symbolic._WATCHDOG._limits and outer not in symbolic._WATCHDOG._limits


def test_a_limits_own_stop_landing_as_it_is_left_marks_it_expired(monkeypatch):
    with time_limit(60) as limit:
        _landing_in_remove(monkeypatch, limit._signal())
    assert limit.expired and limit not in symbolic._WATCHDOG._limits


def test_a_limit_entered_where_the_watchdogs_lock_is_held_does_not_deadlock():
    """A finaliser run by a collection inside the watchdog's own locked section may enter a limit."""
    done = []

    def finaliser_in_the_watchdog():
        with symbolic._WATCHDOG._lock:
            with time_limit(60):
                done.append(True)

    worker = threading.Thread(target=finaliser_in_the_watchdog, daemon=True)
    worker.start()
    worker.join(10)
    assert done, "entering a limit under the watchdog's lock deadlocked"


_FORKED = textwrap.dedent("""
    import os, time
    from srnet.expr.symbolic import time_limit
    with time_limit(60):
        pass  # the parent's watchdog is up
    pid = os.fork()
    if pid == 0:
        start = time.monotonic()
        with time_limit(0.05) as limit:
            while time.monotonic() - start < 20:
                pass
        os._exit(0 if limit.expired and time.monotonic() - start < 5 else 3)
    _, status = os.waitpid(pid, 0)
    print("child", os.waitstatus_to_exitcode(status))
""")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_a_forked_child_has_a_watchdog_of_its_own():
    """A forked child (simplify's) has no copy of its parent's watchdog thread: it starts one."""
    done = subprocess.run([sys.executable, "-c", _FORKED], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "child 0" in done.stdout, done.stdout + done.stderr[-2000:]


def test_a_limit_is_taken_out_only_between_two_firings():
    """``remove`` waits for the watchdog's locked section (where it fires): taken out mid-firing, a limit's stop
    could be raised after its ``_leave`` had looked whether to cancel it, and land outside any ``with``."""
    limit = _Fake(armed=False)
    symbolic._WATCHDOG.add(limit)
    done = threading.Event()

    def leave():
        symbolic._WATCHDOG.remove(limit)
        done.set()

    with symbolic._WATCHDOG._lock:  # (as the watchdog holds it while firing)
        worker = threading.Thread(target=leave, daemon=True)
        worker.start()
        assert not done.wait(0.1)
    worker.join(10)
    assert done.is_set() and limit not in symbolic._WATCHDOG._limits
