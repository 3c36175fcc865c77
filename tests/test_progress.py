"""The search progress bar (srnet.progress.SearchProgress): what it counts against each budget, where it
stops, and what it shows (a user reads it for every search over a few seconds)."""

import numpy as np
import pytest

from srnet.progress import SearchProgress


def test_a_time_budget_is_counted_in_seconds_and_the_bar_stops_at_its_end(capsys):
    with SearchProgress(True, "srnet", 4.0, None) as progress:
        progress(10, 1.5, 0.25)
        assert progress.bar.n == 1.5 and progress.bar.total == 4.0
        assert progress.bar.postfix == "search_fitness=0.25"
        progress(90, 9.0, 0.125)  # past the budget (the final generation's overrun): the bar is full, no more
        assert progress.bar.n == 4.0
    err = capsys.readouterr().err
    assert "srnet" in err and "4.0/4.0 s" in err and "search_fitness=0.125" in err


def test_a_step_budget_is_counted_in_steps():
    with SearchProgress(True, "srnet", None, 10) as progress:
        assert progress.bar.unit == "gen"  # the engine's steps are generations unless the search says otherwise
    with SearchProgress(True, "X-Net", None, 200, unit="it", loss_name="loss") as progress:
        progress(50, 30.0, 1.0)
        assert progress.bar.n == 50 and progress.bar.total == 200 and progress.bar.unit == "it"
        assert progress.bar.postfix == "loss=1"
        progress(250, 31.0, 0.5)
        assert progress.bar.n == 200


@pytest.mark.parametrize("steps, seconds, percent", [(10, 0.5, 25.0), (40, 0.5, 40.0), (1, 4.0, 100.0)])
def test_with_both_budgets_the_bar_is_the_share_of_whichever_runs_out_first(steps, seconds, percent):
    with SearchProgress(True, "s", 2.0, 100) as progress:
        progress(steps, seconds, 0.0)
        assert progress.bar.n == pytest.approx(percent) and progress.bar.total == 100


@pytest.mark.parametrize("seconds, shown", [(0.25, "0.2 s"), (30.0, "/30 s"), (1e300, "/1e+300 s")])
def test_the_budget_reads_at_a_sensible_precision(capsys, seconds, shown):
    """0.25 s read "0/0 s", and 1e300 s printed 301 digits."""
    with SearchProgress(True, "s", seconds, None) as progress:
        progress(1, 0.0, 1.0)
    assert shown in capsys.readouterr().err


def test_disabled_it_draws_nothing_and_following_still_asks_the_users_callback(capsys):
    class Step:
        generation, seconds, fitness = 3, 0.5, 0.1

    asked = []
    with SearchProgress(False, "s", 1.0, None) as progress:
        assert progress.bar is None
        progress(1, 0.1, 1.0)
        assert progress.following()(Step()) is False
        assert progress.following(lambda p: asked.append(p.generation) or True)(Step()) is True
    assert asked == [3] and capsys.readouterr().err == ""
    with SearchProgress(np.bool_(True), "s", 1.0, None) as progress:  # a numpy bool is a bool
        progress.following()(Step())
        assert progress.bar.n == 0.5


def test_x_net_names_its_polish_and_its_formula_on_the_bar(capsys):
    """After its search, X-Net polishes and writes its formula (seconds for a wide forest): the bar stood still
    past its budget, as if the fit had hung."""
    from srnet.xnet import XNetRegressor

    X = np.random.default_rng(0).uniform(-1, 1, (40, 2))
    XNetRegressor(max_seconds=None, max_iterations=3, random_state=0, progress=True).fit(X, X[:, 0] * X[:, 1] + 1)
    err = capsys.readouterr().err
    assert "XNetRegressor (polishing)" in err and "XNetRegressor (writing the formula)" in err
    assert err.index("(polishing)") < err.index("(writing the formula)")
    SearchProgress(False, "off", 1.0, None).phase("polishing")  # disabled: nothing to name, nothing drawn
    assert capsys.readouterr().err == ""
