"""Explanation domains (srnet.domain), tested where mutation testing found them untested.

Each test kills mutants of srnet/domain.py that tests/test_domain.py let through (49 survivors): error
messages that lost the word "domain", the valid kinds or the inverted range's low bound; a box kept as the
caller's lists; floating-point warnings leaking out of widening, width checks and jitter; a constant
categorical input that stopped (or broke) the jitter of the others; a range held at one value counted as
"beyond"; the "beyond" of a constant domain; rejection sampling that hung, or returned too few points; the
categorical rule at its 10-value boundary; rows that were never resampled.
Oracles: explicit boxes and value sets, NumPy's own bounds, exact counts.
"""

import contextlib
import signal
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srnet.domain import KINDS, Domain, as_domain, categories, parse_domain, sample_rows_box


@contextlib.contextmanager
def promptly(seconds=5):
    """Fail (rather than hang) when the block runs longer than ``seconds``: the rejection loop of
    sample_beyond never ends when it can find no point outside the domain."""
    def expired(signum, frame):
        raise TimeoutError(f"did not return within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def no_float_warnings():
    """NumPy's floating-point warnings as errors: an overflow the domain handles must not also warn."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with np.errstate(all="warn"):  # whatever the caller's settings, the domain's own errstate must win
            yield


def message(excinfo):
    text = str(excinfo.value)
    assert "\n" not in text and text
    return text


# 1 ------------------------------------------------------- error messages (__post_init__, as_domain, check_box)
def test_an_unknown_kind_and_a_value_of_the_wrong_type_list_the_valid_kinds():
    valid = "rows, widen, box, jitter, auto"
    assert ", ".join(KINDS) == valid
    with pytest.raises(ValueError) as excinfo:
        Domain("ball")
    assert message(excinfo) == f"unknown domain 'ball'; valid: {valid}"
    with pytest.raises(ValueError) as excinfo:
        as_domain(5)
    assert f"a string ({valid})" in message(excinfo)


@pytest.mark.parametrize("box, words", [
    ([(2.0, 1.0)], "the domain box is inverted along input 0 (low > high): [2, 1]"),
    ([(0.0, 1.0), (7.5, -3.0)], "the domain box is inverted along input 1 (low > high): [7.5, -3]"),
    ([(0.0, float("nan"))], "the domain box has non-finite bounds"),
    ([(-1e308, 1e308)], "the domain box is too wide along input 0"),
    ([("a", 1.0)], "the domain box must be (low, high) number pairs"),
])
def test_a_bad_box_is_called_the_domain_box_and_shows_its_bad_range_low_then_high(box, words):
    """The message names what is wrong (the *domain* box, not 'the None box') and the range as given."""
    with pytest.raises(ValueError) as excinfo:
        Domain("box", box=tuple(box))
    assert words in message(excinfo)


def test_a_single_point_box_says_to_give_a_range_to_at_least_one_input():
    with pytest.raises(ValueError) as excinfo:
        parse_domain("box:1,1;2,2")
    assert "give a range to at least one input" in message(excinfo)


# 2 ------------------------------------------------------- the box is normalised (__post_init__)
@pytest.mark.parametrize("box", [[[0, 1], [2, 3]], np.array([[0, 1], [2, 3]]), ((np.int64(0), 1), (2, np.float32(3)))])
def test_a_box_is_stored_as_a_tuple_of_plain_float_pairs(box):
    """Whatever sequence the caller gave: a frozen, hashable Domain whose box is JSON-ready."""
    domain = Domain("box", box=box)
    assert domain.box == ((0.0, 1.0), (2.0, 3.0))
    assert type(domain.box) is tuple and all(type(pair) is tuple for pair in domain.box)
    assert all(type(bound) is float for pair in domain.box for bound in pair)
    assert hash(domain) == hash(Domain("box", box=((0.0, 1.0), (2.0, 3.0))))


# 3 ------------------------------------------------------- overflow is handled quietly (widen, _first_infinite, sample)
def test_a_widening_past_the_largest_float_is_refused_in_one_line_without_a_floating_point_warning():
    X = np.column_stack([np.linspace(-1, 1, 10), np.linspace(-1e300, 1e300, 10)])
    with no_float_warnings(), pytest.raises(ValueError, match="widens input 1 of the data"):
        parse_domain("widen:1e10").bounds(X)  # the widened bounds overflow
    huge = np.array([[-1e308], [1e308], [0.0]])
    with no_float_warnings(), pytest.raises(ValueError, match="widens input 0 of the data"):
        Domain("widen", 1.0).bounds(huge)  # the data's own width overflows: 0 x inf inside the widening


def test_a_box_too_wide_for_a_float_is_refused_in_one_line_without_a_floating_point_warning():
    with no_float_warnings(), pytest.raises(ValueError, match="too wide along input 0"):
        parse_domain("box:-1e308,1e308")


def test_a_jitter_past_the_largest_float_is_refused_in_one_line_without_a_floating_point_warning():
    X = np.random.default_rng(0).normal(size=(30, 2))
    with no_float_warnings(), pytest.raises(ValueError, match="moves the rows past the largest float"):
        Domain("jitter", 1e308).sample(X, 50, np.random.default_rng(0))


# 4 ------------------------------------------------------- jitter of categorical inputs (sample)
def test_jitter_holds_a_constant_categorical_input_and_still_keeps_the_next_ones_on_their_values():
    """An integer input with one value has no other value to switch to; the inputs after it are still
    categorical (not jittered continuously, not left unset)."""
    rng = np.random.default_rng(0)
    X = np.column_stack([np.full(100, 4.0), rng.integers(0, 2, 100), rng.normal(size=100), rng.integers(0, 3, 100)])
    points = Domain("jitter", 0.5).sample(X, 2000, np.random.default_rng(1))
    assert np.all(points[:, 0] == 4.0)
    assert set(np.unique(points[:, 1])) == {0.0, 1.0}
    assert set(np.unique(points[:, 3])) == {0.0, 1.0, 2.0}
    assert np.unique(points[:, 2]).size == 2000


# 5 ------------------------------------------------------- which inputs are categorical (categories)
@pytest.mark.parametrize("n_values, categorical", [(10, True), (11, False)])
def test_a_widened_box_keeps_an_input_of_at_most_ten_integer_values_on_them(n_values, categorical):
    """MAX_CATEGORIES is inclusive: 10 distinct integers are a code; 11 are a continuous count."""
    X = np.column_stack([np.linspace(-1, 1, 40), np.arange(40) % n_values])
    points = Domain("widen", 1.2).sample(X, 1000, np.random.default_rng(0))
    on_values = np.isin(points[:, 1], np.arange(n_values))
    assert np.all(on_values) if categorical else not np.any(on_values)


def test_a_few_non_integer_values_are_not_categorical():
    """Both halves of the rule: few values *and* whole numbers (or two values); half-integers, and a grid of
    0, 0.1, ..., 0.9 (a designed experiment's measured input as likely as a standardised count), are ranges."""
    X = np.column_stack([np.linspace(-1, 1, 40), (np.arange(40) % 4) + 0.5, (np.arange(40) % 10) / 10])
    points = Domain("widen", 1.2).sample(X, 1000, np.random.default_rng(0))
    assert not np.any(np.isin(points[:, 1], [0.5, 1.5, 2.5, 3.5]))
    np.testing.assert_allclose(Domain("widen", 1.2).bounds(X)[1], [0.2, 3.8])
    assert sorted(categories(X)) == []


def test_a_standardised_flag_is_categorical_as_the_raw_one_is():
    """A network trained on standardised inputs (srnet bench standardises PMLB's) saw a flag at -0.8 and 1.25
    only: the widened box drew it anywhere between (0.27, 1.04) and the formula was fitted where the network
    never was.  A flag of two values is categorical, scaled or not, in float32 too; a count scaled is a range."""
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.normal(size=80), rng.integers(0, 2, 80), rng.integers(0, 4, 80)])
    standardised = (X - X.mean(axis=0)) / X.std(axis=0)
    assert sorted(categories(X)) == [1, 2]
    assert sorted(categories(standardised)) == [1]
    assert sorted(categories(standardised.astype(np.float32).astype(np.float64))) == [1]
    points = Domain("widen", 1.2).sample(standardised, 500, np.random.default_rng(0))
    assert set(np.unique(points[:, 1])) == set(np.unique(standardised[:, 1]))


@pytest.mark.parametrize("n_rows, categorical", [(3, False), (4, True)])
def test_two_readings_are_a_flag_only_when_the_rows_repeat_them(n_rows, categorical):
    """Two readings on three rows (0.1, 0.35, 0.1) are measurements, not a flag: two rows per value at least
    before two values that are not whole numbers are read as categories (whole numbers need no repeats)."""
    X = np.array([0.1, 0.35, 0.1, 0.35])[:n_rows, None]
    assert (0 in categories(X)) is categorical
    assert 0 in categories(np.arange(3.0)[:, None])


# 6 ------------------------------------------------------- the region beyond the domain (beyond, sample_beyond)
def test_a_domain_of_constant_inputs_has_nothing_beyond_it():
    """Widened, a point stays a point: beyond() is None, not the domain's own box."""
    X = np.column_stack([np.full(20, 2.5), np.full(20, -0.75)])
    assert Domain("widen", 1.2).bounds(X).tolist() == [[2.5, 2.5], [-0.75, -0.75]]
    assert Domain("widen", 1.2).beyond(X) is None
    assert Domain("widen", 1.2).sample_beyond(X, 10, np.random.default_rng(0)) is None


@pytest.mark.parametrize("domain, X", [
    (Domain("box", box=((-1.0, 1.0), (3.0, 3.0))), np.zeros((5, 2))),         # a range the user held at 3
    (Domain("widen", 1.2), np.column_stack([np.linspace(-1, 1, 30), np.full(30, 0.25)])),  # a constant input
])
def test_an_input_held_at_one_value_does_not_make_every_point_beyond(domain, X):
    """Its points lie on both bounds of its range, which is inside the domain, not beyond it."""
    inner, outer = domain.bounds(X), domain.beyond(X)
    with promptly():
        points = domain.sample_beyond(X, 1000, np.random.default_rng(0))
    assert points.shape == (1000, 2) and np.all(points[:, 1] == inner[1, 0])
    assert np.all((points >= outer[:, 0]) & (points <= outer[:, 1]))
    assert np.all((points[:, 0] < inner[0, 0]) | (points[:, 0] > inner[0, 1]))


@pytest.mark.parametrize("X", [
    np.column_stack([np.full(20, 2.5), np.arange(20) % 2]),  # a constant input and a flag
    np.column_stack([np.arange(20) % 2, np.arange(20) % 3]),  # flags alone
])
def test_nothing_is_beyond_a_widened_box_whose_only_ranges_are_categorical_and_it_says_so_promptly(X):
    """A widened box keeps a flag on its values, all of them inside the domain: there is no box beyond it
    (beyond() returned one, where sampling could never find a point: it looped for ever)."""
    domain = Domain("widen", 1.5)
    assert domain.beyond(X) is None
    with promptly():
        assert domain.sample_beyond(X, 10, np.random.default_rng(0)) is None


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 40), seed=st.integers(0, 2**32 - 1), n_inputs=st.integers(1, 3))
def test_sample_beyond_returns_exactly_n_points_of_the_region_beyond(n, seed, n_inputs):
    """One point too (the count of points kept must start at 0); every point outside the domain."""
    X = np.random.default_rng(seed).uniform(-2, 3, (15, n_inputs))
    domain = Domain("widen", 1.2)
    inner, outer = domain.bounds(X), domain.beyond(X)
    with promptly():
        points = domain.sample_beyond(X, n, np.random.default_rng(seed))
    assert points.shape == (n, n_inputs)
    assert np.all((points >= outer[:, 0]) & (points <= outer[:, 1]))
    assert not np.any(np.all((points >= inner[:, 0]) & (points <= inner[:, 1]), axis=1))


# 7 ------------------------------------------------------- rows too wide for a box (sample_rows_box)
def test_rows_too_wide_for_a_box_are_resampled_all_of_them_the_first_too():
    huge = np.array([[1e308], [-1e308], [0.5]])
    points = sample_rows_box(huge, 300, np.random.default_rng(0))
    values, counts = np.unique(points[:, 0], return_counts=True)
    assert values.tolist() == [-1e308, 0.5, 1e308] and counts.min() > 60  # each about 100 times


def test_no_points_beyond_is_an_empty_sample_as_no_points_within():
    """n = 0 was numpy's 'need at least one array to concatenate'."""
    X = np.linspace(-1, 1, 10)[:, None]
    domain = Domain("widen", 1.2)
    assert domain.sample_beyond(X, 0, np.random.default_rng(0)).shape == (0, 1)
    assert domain.sample(X, 0, np.random.default_rng(0)).shape == (0, 1)


# 8 ------------------------------------------------------- stop 48: what the second run found (50 survivors of 711)
# The independence rule and the domain's text (both new in stop 47), messages whose words no test read, and
# floating-point warnings; the rest are equivalent (a seed, a rank offset, a sample size, `<` for `<=` on
# continuous draws).

@pytest.mark.parametrize("make, match", [
    (lambda: Domain("rows", 2.0), r"^domain rows takes no factor \(widen and jitter do\), got 2.0$"),
    (lambda: Domain("auto", box=((0, 1),)), r"^domain auto takes no box \(give kind 'box' for one\)$"),
    (lambda: Domain("box", box=()), r"^the domain box needs one \(low, high\) pair per input$"),
])
def test_a_parameter_given_to_the_wrong_kind_or_an_empty_box_is_said_in_full(make, match):
    with pytest.raises(ValueError, match=match) as excinfo:
        make()
    message(excinfo)


def test_the_domain_text_says_the_kind_its_factor_and_the_first_ranges_once():
    from srnet.domain import description_text

    assert description_text({"kind": "rows", "factor": None, "box": None}) == "rows"
    assert description_text({"kind": "jitter", "factor": 0.1, "box": None}) == "jitter:0.1"
    box = [[0, 1], [-2.5, 2.5], [0, 1e-5], [1, 2], [3, 4]]
    assert (description_text({"kind": "box", "factor": None, "box": box[:4]})
            == "box [0, 1] x [-2.5, 2.5] x [0, 1e-05] x [1, 2]")  # "box, box [0, 1] x ..." before
    assert (description_text({"kind": "box", "factor": None, "box": box}, shown=2)
            == "box [0, 1] x [-2.5, 2.5] x ... (5 inputs)")
    X = np.array([[0.5, 0.25], [1.5, 0.75]])
    assert Domain("widen", 2.0).text(X) == "widen:2, box [0, 2] x [0, 1]"
    assert Domain("widen", 2.0).text(X, shown=1) == "widen:2, box [0, 2] x ... (2 inputs)"


def test_independent_inputs_judges_from_enough_rows_any_number_of_inputs_and_no_discrete_one():
    from srnet.domain import INDEPENDENCE_MIN_ROWS, MAX_CATEGORIES, independent_inputs

    rng = np.random.default_rng(0)
    X = rng.random((INDEPENDENCE_MIN_ROWS, 6))
    assert independent_inputs(X) and not independent_inputs(X[:-1])  # the fewest rows it judges
    assert independent_inputs(rng.random((300, 1)))  # a single varying input varies independently
    assert not independent_inputs(np.empty((0, 6)))  # no rows: nothing to judge (np.ptp raised)
    base = rng.random((500, 5))

    def with_discrete(values):  # the independent base inputs and one input of `values` fractional values
        return np.column_stack([base, rng.integers(0, values, 500) * 0.37 + 0.1])

    assert not independent_inputs(with_discrete(MAX_CATEGORIES))
    assert independent_inputs(with_discrete(MAX_CATEGORIES + 1))


def test_an_infinite_or_overflowing_range_is_found_without_a_floating_point_warning():
    from srnet.domain import _first_infinite

    with no_float_warnings():
        assert _first_infinite(np.array([[0.0, 1.0], [np.inf, np.inf]])) == 1  # inf - inf
        assert _first_infinite(np.array([[0.0, 1.0], [-1e308, 1e308]])) == 1  # the width overflows
        assert _first_infinite(np.array([[0.0, 1.0], [-8e307, 8e307]])) is None


def test_jitter_of_rows_near_the_largest_float_keeps_them_at_scale_zero_and_refuses_beyond_it():
    """Their spread overflows: X.std warned, and at scale 0 the rows were refused (0 x inf is NaN)."""
    X = np.array([[1e308, 0.0], [-1e308, 1.0], [0.5, 0.25]])
    with no_float_warnings():
        points = Domain("jitter", 0.0).sample(X, 20, np.random.default_rng(0))
        np.testing.assert_array_equal(points, X[np.random.default_rng(0).integers(0, 3, 20)])
        with pytest.raises(ValueError, match="moves the rows past the largest float"):
            Domain("jitter", 0.1).sample(X, 20, np.random.default_rng(0))
