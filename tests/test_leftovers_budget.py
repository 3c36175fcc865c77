"""The direct searches keep to their seconds budget: one clock from the start of
:func:`srnet.formulas.direct_formulas`, so the linear fit, each search's setup
(loading kernels: 0.15 s before the first search's clock) and a search's last
chunk past its end do not add up past ``max_seconds`` (clean1, a 1.875 s share,
took 2.3-2.7 s when each search had its own share from its own start)."""

import importlib
import types

import numpy as np
import pytest

from srnet.formulas import DIRECT_SIZES, direct_formulas

SETTINGS = dict(functions=("add", "mul", "sin"), n_constants=1, constant_pool=(1.0, 2.0), random_state=0,
                n_threads=1)


def fake_clock_searches(monkeypatch, *, fit_seconds, setup_seconds, overrun_seconds, used=None):
    """direct_formulas on a fake clock: the linear fit takes ``fit_seconds``, each search
    ``setup_seconds`` before its own clock starts, then its budget and ``overrun_seconds``
    (``used(k, budget)``, when given, says how much of its budget search k runs instead).
    Returns (the formulas, each search's (size, budget), the seconds it all took)."""
    import srnet.formulas as formulas

    engine = importlib.import_module("srnet.cgp.evolve")  # the module (srnet.cgp.evolve is also the function)
    now = [0.0]
    searches, real_evolve, real_fit = [], engine.evolve, formulas._linear_fit

    def timed_fit(*args):
        now[0] += fit_seconds
        return real_fit(*args)

    def timed_evolve(spec, X_rows, Y_rows, *, max_seconds, **kwargs):
        searches.append((spec.n_columns, max_seconds))
        now[0] += setup_seconds
        now[0] += max_seconds + overrun_seconds if used is None else used(len(searches) - 1, max_seconds)
        return real_evolve(spec, X_rows, Y_rows, max_generations=2, **kwargs)  # a formula, quickly

    monkeypatch.setattr(formulas, "time", types.SimpleNamespace(perf_counter=lambda: now[0]))
    monkeypatch.setattr(formulas, "_linear_fit", timed_fit)
    monkeypatch.setattr(engine, "evolve", timed_evolve)
    X = np.random.default_rng(0).normal(size=(40, 2))
    found = direct_formulas(X, np.sin(X[:, :1]) + X[:, 1:], max_seconds=1.875, **SETTINGS)
    return found, searches, now[0]


def test_with_nothing_outside_the_searches_clocks_each_search_gets_its_share_by_size(monkeypatch):
    found, searches, seconds = fake_clock_searches(monkeypatch, fit_seconds=0, setup_seconds=0, overrun_seconds=0)
    assert [f.source for f in found] == ["linear"] + [f"direct-{size}" for size in DIRECT_SIZES]
    assert [size for size, _ in searches] == list(DIRECT_SIZES)
    for size, budget in searches:
        assert budget == pytest.approx(1.875 * size / sum(DIRECT_SIZES))
    assert seconds == pytest.approx(1.875)


def test_the_linear_fit_setups_and_overruns_come_out_of_the_share_not_on_top_of_it(monkeypatch):
    # each search given its own share took 0.2 + 4 x (0.15 + 0.1) = 1.2 s more than the 1.875 s share (3.075 s)
    found, searches, seconds = fake_clock_searches(monkeypatch, fit_seconds=0.2, setup_seconds=0.15,
                                                   overrun_seconds=0.1)
    # only the last search's own setup and overrun are past the share
    assert seconds == pytest.approx(1.875 + 0.15 + 0.1)
    # the 4-node search's share (0.125 s) was spent by the linear fit: skipped, the others have the time left
    assert [size for size, _ in searches] == [8, 16, 32]
    assert [budget for _, budget in searches] == pytest.approx([0.375 - 0.2, 0.875 - 0.625, 1.875 - 1.125])
    assert [f.source for f in found] == ["linear", "direct-8", "direct-16", "direct-32"]


def test_a_search_that_ends_early_leaves_its_time_to_the_next(monkeypatch):
    # the 4-node search reaches its target at once: the 8-node one has both shares
    _, searches, seconds = fake_clock_searches(monkeypatch, fit_seconds=0, setup_seconds=0, overrun_seconds=0,
                                               used=lambda k, budget: 0.0 if k == 0 else budget)
    assert [budget for _, budget in searches] == pytest.approx([0.125, 0.375, 0.5, 1.0])
    assert seconds == pytest.approx(1.875)
