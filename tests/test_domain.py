"""Explanation domains (srnet.domain) and SRNet's use of them (issue 12).

The domain must really be used: a network that saturates outside its data,
explained on a widened box, stays faithful on that box; explained on its
rows alone with functions that can blow up (square, cube), it does not.
Bad domains are one clear line each; sampling stays where it says.
"""

import json
import re

import numpy as np
import pytest
import torch
from torch import nn

from srnet.domain import AUTO_BOX_MAX_INPUTS, INDEPENDENCE_MIN_ROWS, Domain, as_domain, independent_inputs, parse_domain
from srnet.extract import SRNet

QUICK = dict(max_seconds=None, simplify_seconds=0, random_state=0, n_threads=1)


def saturating_network():
    """y = tanh(2x) + 0.5 tanh(x + 0.5): nearly a cubic on [-1, 1], flat beyond."""
    net = nn.Sequential(nn.Linear(1, 2), nn.Tanh(), nn.Linear(2, 1)).double()
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[2.0], [1.0]]))
        net[0].bias.copy_(torch.tensor([0.0, 0.5]))
        net[2].weight.copy_(torch.tensor([[1.0, 0.5]]))
        net[2].bias.copy_(torch.tensor([0.0]))
    return net


def network_values(net, X):
    with torch.no_grad():
        return net(torch.as_tensor(X, dtype=torch.float64)).numpy()[:, 0]


def rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


# ------------------------------------------------------- the domain is used

@pytest.fixture(scope="module")
def saturation():
    net = saturating_network()
    X = np.linspace(-1, 1, 40)[:, None]
    wide = np.random.default_rng(5).uniform(-2, 2, (300, 1))  # the widen:2 box of X
    # the same polynomial-only search both times: only the domain differs
    settings = dict(functions=("add", "sub", "mul", "square", "cube"), n_columns=8, max_generations=150,
                    direct_budget=0, **QUICK)
    widened = SRNet(domain="widen:2", **settings).fit(net, X)
    rows = SRNet(domain="rows", **settings).fit(net, X)
    return net, X, wide, widened, rows


def test_a_saturating_network_explained_on_a_widened_box_stays_faithful_there(saturation):
    net, X, wide, widened, _ = saturation
    truth = network_values(net, wide)
    assert np.std(truth) > 0.8  # the box is where the network flattens: a real test
    assert rmse(widened.predict(wide), truth) < 0.2
    assert rmse(widened.predict(X), network_values(net, X)) < 0.2
    assert widened.domain_["kind"] == "widen" and widened.domain_["factor"] == 2
    np.testing.assert_allclose(widened.domain_["box"], [[-2.0, 2.0]], atol=1e-12)
    # the selected formula's figures are reported per region, the domain's on the domain
    assert set(widened.regions_) == {"rows", "validation", "domain", "beyond"}
    assert widened.regions_["domain"]["rmse"] < 0.2


def test_the_same_network_explained_on_its_rows_alone_blows_up_on_the_widened_box(saturation):
    net, X, wide, widened, rows = saturation
    truth = network_values(net, wide)
    assert rmse(rows.predict(X), network_values(net, X)) < 0.05  # a good fit where it was fitted ...
    off = rmse(rows.predict(wide), truth)
    assert off > 0.4, f"a polynomial fitted on [-1, 1] should leave a saturating net on [-2, 2], rmse {off}"
    assert off > 3 * rmse(widened.predict(wide), truth)
    assert rows.domain_ == {"kind": "rows", "factor": None, "box": None, "note": None}
    assert set(rows.regions_) == {"rows", "domain"}  # no box, so nothing beyond it


# --------------------------------------------------------------- bad input

def one_line(excinfo):
    message = str(excinfo.value)
    assert "\n" not in message and message
    return message


@pytest.mark.parametrize("box, match", [
    ([(1.0, 0.0)], "inverted along input 0"),
    ([(0.0, 1.0), (2.0, 1.5)], "inverted along input 1"),
    ([(-1e308, 1e308)], "too wide along input 0"),
    ([(0.0, 1.0), (-1.7e308, 1.7e308)], "too wide along input 1"),
    ([(0.0, 10 ** 400)], "number pairs"),
    ([(float("nan"), 1.0)], "NaN or inf"),
    ([(0.0, float("inf"))], "NaN or inf"),
    ([], "one \\(low, high\\) pair per input"),
    ([(0.0, 1.0, 2.0)], "low, high"),
])
def test_bad_boxes_are_one_clear_line(box, match):
    with pytest.raises(ValueError, match=match) as excinfo:
        as_domain(box)
    one_line(excinfo)


@pytest.mark.parametrize("text, match", [
    ("box:1,0", "inverted along input 0"),
    ("box:-1e308,1e308;0,1", "too wide along input 0"),
    ("box:0,1;nan,nan", "NaN or inf"),
    ("box:nan,1", "NaN or inf"),
    ("box:0,1;3", "low,high pairs"),
    ("box:1,1", "a single point"),  # every R^2 was -inf there, and selection went on without a word
    ("box:1,1;2,2", "a single point"),
    ("box:a,b", "numbers"),
    ("sphere:2", "unknown domain"),
    ("", "unknown domain"),
    ("widen:", "needs a number"),
    ("widen:0", "finite factor > 0"),
    ("widen:-1", "finite factor > 0"),
    ("widen:inf", "finite factor > 0"),
    ("jitter:-0.1", "finite factor >= 0"),
    ("jitter:nan", "finite factor >= 0"),
    ("rows:3", "takes no argument"),
    ("rows:", "takes no argument"),  # (accepted, as if the ':' were not there)
    ("auto:", "takes no argument"),
    ("widen:1_5", "needs a number"),  # (Python's float reads 1_5 as 15: a 15-fold widening for a typo of 1.5)
    ("jitter:0_1", "needs a number"),
    ("box:1,2;;3,4", "numbers"),  # (the empty pair was dropped: a box of two inputs for three)
])
def test_bad_domain_strings_are_one_clear_line(text, match):
    with pytest.raises(ValueError, match=match) as excinfo:
        parse_domain(text)
    one_line(excinfo)


def test_a_domain_string_may_be_spaced_and_end_with_a_semicolon():
    assert parse_domain("box: -1, 1 ; 0,2;") == Domain("box", box=((-1.0, 1.0), (0.0, 2.0)))
    assert parse_domain(" widen: 1.5 ") == Domain("widen", 1.5)


@pytest.mark.parametrize("value", [5, [1, 2], object()])
def test_a_domain_of_the_wrong_type_is_one_clear_line(value):
    with pytest.raises(ValueError, match="domain must be a string") as excinfo:
        as_domain(value)
    one_line(excinfo)


def test_domain_kinds_and_factors_are_checked_on_construction():
    with pytest.raises(ValueError, match="unknown domain 'ball'"):
        Domain("ball")
    with pytest.raises(ValueError, match="finite factor"):
        Domain("widen")  # no factor
    with pytest.raises(ValueError, match="finite factor"):
        Domain("jitter", True)  # a bool is not a scale
    for factor in (10**400, 1j, "wide"):  # an OverflowError and TypeErrors before
        with pytest.raises(ValueError, match="finite factor"):
            Domain("widen", factor)


def test_a_box_of_the_wrong_width_for_X_fails_before_the_search():
    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1)).double()
    X = np.random.default_rng(0).uniform(-1, 1, (30, 2))
    with pytest.raises(ValueError, match="the domain box has 1 \\(low, high\\) pair, one per input, but the data have 2 inputs") as excinfo:
        SRNet(domain=[(0, 1)], max_generations=10_000_000, **QUICK).fit(net, X)  # would run for ages
    one_line(excinfo)


class NaNBeyond(nn.Module):
    """An activation defined on [-1.2, 1.2] only (NaN beyond)."""

    def forward(self, x):
        return torch.where(x.abs() > 1.2, torch.full_like(x, float("nan")), x)


def nan_network():
    net = nn.Sequential(nn.Linear(1, 1), NaNBeyond()).double()
    with torch.no_grad():
        net[0].weight.fill_(1.0)
        net[0].bias.fill_(0.0)
    return net


def test_a_domain_where_the_network_returns_nan_is_refused_in_one_line():
    X = np.linspace(-1, 1, 30)[:, None]
    with pytest.raises(ValueError, match="non-finite|NaN") as excinfo:
        SRNet(domain="widen:2", max_generations=10_000_000, **QUICK).fit(nan_network(), X)
    one_line(excinfo)
    # the rows themselves and a box well inside [-1.2, 1.2] are fine
    for domain in ("rows", "box:-0.7,0.7"):
        model = SRNet(domain=domain, functions=("add", "mul"), n_columns=4, max_generations=20,
                      direct_budget=0, refine=False, **QUICK).fit(nan_network(), X)
        assert np.all(np.isfinite(model.predict(X)))


def test_a_domain_where_the_network_returns_nan_names_the_domain():
    X = np.linspace(-1, 1, 30)[:, None]
    with pytest.raises(ValueError, match="returns NaN/inf") as excinfo:
        SRNet(domain="widen:2", max_generations=10_000_000, **QUICK).fit(nan_network(), X)
    message = one_line(excinfo)
    assert "domain" in message and "widen" in message
    # the points counted are sampled on the domain, not the user's rows (it said "of 100 rows")
    assert re.search(r"for \d+ of \d+ points sampled there\)", message) and " rows" not in message


def test_compare_names_the_box_where_the_network_returns_nan():
    """compare's message counted "rows" of a box's sampled points and said nothing of the box or of boxes=."""
    from srnet.compare import compare
    from srnet.explain.maple import MapleExplainer
    from srnet.explain.network import NetworkFunction

    X = np.linspace(-1, 1, 30)[:, None]
    with pytest.raises(ValueError, match=r"\(the 40 points of 'extrapolation', sampled in the test box \[-2, "
                                         r"2\]\); give boxes=\{'test': \[\(low, high\), \.\.\.\]\}"):
        compare(NetworkFunction(nan_network()), X, {"maple": MapleExplainer()}, n_points=40, random_state=0)


def test_a_domain_where_the_network_is_defined_is_accepted_even_if_it_is_nan_beyond():
    X = np.linspace(-1, 1, 30)[:, None]
    model = SRNet(domain="box:-1.1,1.1", functions=("add", "mul"), n_columns=4, max_generations=20,
                  direct_budget=0, refine=False, **QUICK).fit(nan_network(), X)
    assert model.regions_["domain"]["rmse"] < 1e-6
    # the region beyond the box (to 1.1 + 1.1 = 2.2) is where it returns NaN: no figure there, and said why
    assert "beyond" not in model.regions_
    assert "NaN/inf" in model.domain_["note"] and "beyond" in model.domain_["note"]
    assert model.report()["domain"]["note"] == model.domain_["note"]
    inside = SRNet(domain="box:-0.5,0.5", functions=("add", "mul"), n_columns=4, max_generations=20,
                   direct_budget=0, refine=False, **QUICK).fit(nan_network(), X)
    assert "beyond" in inside.regions_ and inside.domain_["note"] is None


# ----------------------------------------------------------------- sampling

@pytest.fixture
def data():
    rng = np.random.default_rng(1)
    X = np.column_stack([rng.uniform(-1, 3, 50), rng.normal(5, 2, 50), np.full(50, 0.25)])
    return X


def rows_of(points, X):
    """Whether every point is (exactly) a row of X."""
    return all(np.any(np.all(X == p, axis=1)) for p in points)


@pytest.mark.parametrize("seed", range(4))
def test_box_samples_lie_inside_the_stated_box(seed):
    X = np.zeros((12, 2))
    domain = as_domain("box:-1,2;10,10.5")
    points = domain.sample(X, 500, np.random.default_rng(seed))
    assert points.shape == (500, 2)
    assert np.all(points >= [-1, 10]) and np.all(points <= [2, 10.5])
    np.testing.assert_array_equal(domain.bounds(X), [[-1, 2], [10, 10.5]])
    assert np.all(domain.beyond(X)[:, 0] < [-1, 10]) and np.all(domain.beyond(X)[:, 1] > [2, 10.5])


@pytest.mark.parametrize("factor", [0.5, 1.0, 2.0, 3.5])
def test_widen_keeps_the_centre_and_scales_each_range(data, factor):
    X = data
    domain = Domain("widen", factor)
    box = domain.bounds(X)
    lo, hi = X.min(axis=0), X.max(axis=0)
    np.testing.assert_allclose(box.mean(axis=1), (lo + hi) / 2, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(box[:, 1] - box[:, 0], factor * (hi - lo), rtol=1e-12, atol=1e-12)
    assert box[2, 0] == box[2, 1] == 0.25  # a constant input stays a point
    points = domain.sample(X, 400, np.random.default_rng(0))
    assert np.all(points >= box[:, 0]) and np.all(points <= box[:, 1])
    assert np.all(points[:, 2] == 0.25)


def test_rows_domain_returns_rows_of_X(data):
    points = Domain("rows").sample(data, 200, np.random.default_rng(0))
    assert points.shape == (200, 3) and rows_of(points, data)
    assert Domain("rows").bounds(data) is None and Domain("rows").beyond(data) is None


def test_a_rows_domain_resamples_every_row_evenly():
    X = np.arange(10.0).reshape(5, 2)
    points = Domain("rows").sample(X, 5000, np.random.default_rng(0))
    counts = np.bincount((points[:, 0] / 2).astype(int), minlength=5)
    assert counts.min() > 900 and counts.max() < 1100  # each of the 5 rows about 1000 times, the first too
    assert np.array_equal(Domain("rows").sample(X[:1], 3, np.random.default_rng(0)), X[[0, 0, 0]])


def test_jitter_scale_zero_returns_rows_and_a_positive_scale_moves_them(data):
    still = Domain("jitter", 0.0).sample(data, 100, np.random.default_rng(0))
    assert rows_of(still, data)
    moved = Domain("jitter", 0.1).sample(data, 100, np.random.default_rng(0))
    assert not rows_of(moved[:5], data)
    # moved by about 0.1 std of each input (zero for a constant input)
    step = moved - still  # same rng, same centres
    np.testing.assert_allclose(step.std(axis=0)[:2], 0.1 * data.std(axis=0)[:2], rtol=0.3)
    assert np.all(step[:, 2] == 0)
    assert Domain("jitter", 0.1).bounds(data) is None


def test_a_jitter_that_moves_rows_past_the_largest_float_is_one_clear_line(data):
    """Not 'the network returns NaN/inf on its explanation domain': the domain itself is the problem."""
    with pytest.raises(ValueError, match=r"jitter:1e\+308 moves the rows past the largest float") as error:
        Domain("jitter", 1e308).sample(data, 50, np.random.default_rng(0))
    assert "\n" not in str(error.value)
    assert np.all(np.isfinite(Domain("jitter", 1e300).sample(data, 50, np.random.default_rng(0))))


def test_auto_is_a_widened_box_for_few_inputs_and_jitter_for_many():
    """(20 rows are too few to tell whether the inputs are independent.)"""
    few = np.random.default_rng(0).normal(size=(20, AUTO_BOX_MAX_INPUTS))
    many = np.random.default_rng(0).normal(size=(20, AUTO_BOX_MAX_INPUTS + 1))
    assert as_domain(None).resolved(few).kind == "widen"
    assert as_domain("auto").resolved(many).kind == "jitter"
    assert as_domain(None).describe(few)["kind"] == "widen"


def _shared_factor(rng, n, inputs, weight):
    return rng.normal(size=(n, inputs)) + weight * rng.normal(size=(n, 1))


@pytest.mark.parametrize("make, independent", [
    (lambda rng: rng.random((500, 6)), True),
    (lambda rng: rng.normal(size=(500, 6)), True),  # ranked: a Gaussian spread is the input's own affair
    (lambda rng: rng.lognormal(size=(2000, 12)), True),
    # the paper's points: a dense training box inside a wider validation box, sparsely sampled
    (lambda rng: np.vstack([rng.uniform(1, 5, (3000, 5)), rng.uniform(-1, 7, (200, 5))]), True),
    (lambda rng: _shared_factor(rng, 500, 6, 1.0), False),  # inputs correlated 0.5
    (lambda rng: rng.normal(size=(500, 2)) @ rng.normal(size=(2, 8)) + 0.05 * rng.normal(size=(500, 8)), False),
    (lambda rng: np.column_stack([rng.random((500, 5)), rng.integers(0, 3, 500)]), False),  # a categorical input
    (lambda rng: rng.random((INDEPENDENCE_MIN_ROWS - 1, 6)), False),  # too few rows to tell
])
def test_auto_widens_the_box_of_many_inputs_when_they_vary_independently(make, independent):
    X = make(np.random.default_rng(3))
    assert X.shape[1] > AUTO_BOX_MAX_INPUTS
    assert independent_inputs(X) is independent
    assert as_domain("auto").resolved(X).kind == ("widen" if independent else "jitter")
    assert independent_inputs(X) is independent_inputs(X.copy())  # a fixed seed: the same rows, the same answer


def test_independent_inputs_ignores_constant_inputs_row_order_and_repeated_rows():
    rng = np.random.default_rng(4)
    X = rng.random((400, 6))
    with_constant = np.column_stack([X, np.full(400, 2.5)])
    assert independent_inputs(with_constant) and independent_inputs(with_constant[::-1])
    assert independent_inputs(np.vstack([X, X]))  # repeated rows are no nearer each other than the box is
    assert not independent_inputs(np.column_stack([X, X[:, 0] + 0.01 * rng.random(400)]))  # an input repeated


@pytest.mark.parametrize("domain", ["rows", "auto", "widen:1.5", "jitter:0.2", "box:-1,1;0,2;0,1",
                                    Domain("widen", 2), Domain("jitter", 1)])
def test_describe_is_json_ready_and_same_seed_gives_same_points(data, domain):
    domain = as_domain(domain)
    description = domain.describe(data)
    assert json.loads(json.dumps(description)) == description
    assert set(description) == {"kind", "factor", "box"}
    a = domain.sample(data, 64, np.random.default_rng(7))
    b = domain.sample(data, 64, np.random.default_rng(7))
    c = domain.sample(data, 64, np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("factor", [np.float32(1.5), np.int64(2), np.float64(1.25)])
def test_describe_is_json_ready_for_numpy_factors(data, factor):
    description = Domain("widen", factor).describe(data)
    assert json.loads(json.dumps(description))["factor"] == pytest.approx(float(factor))


# ------------------------------------------- extreme and degenerate ranges

def test_a_box_of_finite_bounds_but_infinite_width_is_refused_in_one_line_naming_the_input():
    """box:-1e308,1e308 has finite bounds, but high - low overflows: uniform
    sampling over it used to raise OverflowError deep inside numpy."""
    with pytest.raises(ValueError, match="box is too wide along input 0") as excinfo:
        parse_domain("box:-1e308,1e308;0,1")
    assert "-1e+308" in one_line(excinfo)


@pytest.mark.parametrize("text", ["box:0,1.7e308", "box:-8e307,8e307", "box:1e308,1.7e308"])
def test_the_widest_samplable_boxes_sample_finitely_and_have_no_beyond_past_the_largest_float(text):
    X = np.zeros((5, 1))
    domain = as_domain(text)
    box = domain.bounds(X)
    points = domain.sample(X, 200, np.random.default_rng(0))
    assert np.all(np.isfinite(points)) and np.all(points >= box[:, 0]) and np.all(points <= box[:, 1])
    # widened 1.5-fold these boxes pass the largest float: no "beyond" region rather than inf bounds
    assert domain.beyond(X) is None


def test_beyond_is_the_widened_box_whenever_that_is_finite():
    X = np.zeros((5, 2))
    for text in ("box:-1e307,1e307;0,1", "box:-1,1;0,1e300"):
        domain = as_domain(text)
        beyond = domain.beyond(X)
        box = domain.bounds(X)
        assert beyond is not None and np.all(np.isfinite(beyond))
        np.testing.assert_allclose(beyond[:, 1] - beyond[:, 0], 1.5 * (box[:, 1] - box[:, 0]), rtol=1e-12)


def test_a_widen_factor_that_pushes_the_data_box_past_the_largest_float_is_one_clear_line():
    X = np.column_stack([np.linspace(-1, 1, 10), np.linspace(-1e300, 1e300, 10)])
    domain = parse_domain("widen:1e10")
    with pytest.raises(ValueError, match="widens input 1 of the data") as excinfo:
        domain.sample(X, 10, np.random.default_rng(0))
    one_line(excinfo)
    assert np.all(np.isfinite(parse_domain("widen:10").sample(X, 10, np.random.default_rng(0))))


def test_a_constant_input_described_as_a_point_range_is_a_valid_box_again():
    """describe() of data with a constant input reports [3, 3]; passing that
    box back used to fail with 'the domain box is empty along input 1'."""
    X = np.column_stack([np.linspace(-1, 1, 20), np.full(20, 3.0)])
    described = Domain("widen", 1.5).describe(X)["box"]
    assert described[1] == [3.0, 3.0]
    again = as_domain(described)
    assert again.box == tuple(tuple(pair) for pair in described)
    assert again.describe(X)["box"] == described
    assert as_domain("box:-1,1;3,3").box == ((-1.0, 1.0), (3.0, 3.0))


@pytest.mark.parametrize("seed", range(3))
def test_a_zero_width_range_samples_its_value_and_stays_a_point_when_widened(seed):
    X = np.zeros((4, 3))
    domain = as_domain([(-2.0, 5.0), (3.0, 3.0), (-1e300, -1e300)])
    points = domain.sample(X, 300, np.random.default_rng(seed))
    assert np.all(points[:, 1] == 3.0) and np.all(points[:, 2] == -1e300)
    assert np.all(points[:, 0] >= -2) and np.all(points[:, 0] <= 5) and np.ptp(points[:, 0]) > 5
    beyond = domain.beyond(X)
    np.testing.assert_array_equal(beyond[1:], [[3.0, 3.0], [-1e300, -1e300]])
    np.testing.assert_allclose(beyond[0], [-3.75, 6.75])


@pytest.mark.parametrize("seed", range(3))
def test_beyond_is_outside_the_domain_inside_the_wider_box(seed):
    """Points drawn in the whole wider box were two thirds the domain again for one input."""
    X = np.column_stack([np.linspace(-1, 1, 30), np.full(30, 3.0)])  # a constant input has no "beyond" of its own
    domain = Domain("widen", 1.2)
    inner, outer = domain.bounds(X), domain.beyond(X)
    points = domain.sample_beyond(X, 500, np.random.default_rng(seed))
    assert points.shape == (500, 2)
    assert np.all((points >= outer[:, 0]) & (points <= outer[:, 1]))
    assert not np.any(np.all((points >= inner[:, 0]) & (points <= inner[:, 1]), axis=1))
    assert np.all(points[:, 1] == 3.0) and (points[:, 0] < 0).mean() == pytest.approx(0.5, abs=0.1)
    constant = np.column_stack([np.full(30, 2.0), np.full(30, 3.0)])  # widened, a point stays a point
    assert Domain("widen", 1.2).sample_beyond(constant, 10, np.random.default_rng(seed)) is None
    assert Domain("jitter", 0.1).sample_beyond(X, 10, np.random.default_rng(seed)) is None


def test_jitter_keeps_a_categorical_input_on_its_own_values():
    """A 0/1 flag jittered by 0.1 std took 2000 values such as -0.05 and 1.11, where the network never ran."""
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=200), rng.integers(0, 2, 200), rng.integers(0, 4, 200) * 2.0])
    points = Domain("jitter", 0.25).sample(X, 4000, np.random.default_rng(1))
    assert set(np.unique(points[:, 1])) <= {0.0, 1.0} and set(np.unique(points[:, 2])) <= {0.0, 2.0, 4.0, 6.0}
    assert np.unique(points[:, 0]).size == 4000  # a continuous input is jittered as before
    # each categorical input takes another of its values in a quarter of the points (the jitter's scale; a
    # redraw among all its values switched a flag in half as many), each other value as often
    centres = X[np.random.default_rng(1).integers(0, len(X), 4000)]
    assert (points[:, 1] != centres[:, 1]).mean() == pytest.approx(0.25, abs=0.03)
    assert (points[:, 2] != centres[:, 2]).mean() == pytest.approx(0.25, abs=0.03)
    moved = points[:, 2] != centres[:, 2]
    steps = np.unique(points[moved, 2] - centres[moved, 2], return_counts=True)
    assert set(steps[0]) == {-6.0, -4.0, -2.0, 2.0, 4.0, 6.0}
    flags = Domain("jitter", 1.0).sample(X, 2000, np.random.default_rng(2))  # S >= 1: every flag flips
    assert np.all(flags[:, 1] != X[np.random.default_rng(2).integers(0, len(X), 2000), 1])
    np.testing.assert_array_equal(Domain("jitter", 0.0).sample(X, 50, np.random.default_rng(1)), centres[:50])


def test_a_widened_box_keeps_a_categorical_input_on_its_own_values_and_beyond_is_beyond_the_others():
    """auto (widen:1.2 for up to 4 inputs) drew a 0/1 flag at 0.27 or 1.04 on every domain point, where the
    network never ran; a box the user gives is sampled as written."""
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.normal(size=200), rng.integers(0, 2, 200)])
    domain = Domain("auto")
    points = domain.sample(X, 2000, np.random.default_rng(1))
    assert set(np.unique(points[:, 1])) == {0.0, 1.0} and np.unique(points[:, 0]).size == 2000
    inner = domain.bounds(X)
    beyond = domain.sample_beyond(X, 2000, np.random.default_rng(2))
    assert set(np.unique(beyond[:, 1])) == {0.0, 1.0}
    assert np.all((beyond[:, 0] < inner[0, 0]) | (beyond[:, 0] > inner[0, 1]))  # beyond the continuous input
    flags = X[:, 1:]
    assert Domain("widen", 1.5).sample_beyond(flags, 10, rng) is None  # flags alone: nothing beyond them
    given = Domain("box", box=((-1, 1), (-0.5, 1.5))).sample(X, 500, np.random.default_rng(3))
    assert np.unique(given[:, 1]).size == 500
    # the box reported is the one sampled: a categorical input's range is its values' (widen:0.5 said [0.25, 0.75])
    for factor in (0.5, 2.0):
        assert Domain("widen", factor).describe(X)["box"][1] == [0.0, 1.0]


def _pole_points(monkeypatch, domain):
    """SRNet fitted on 20 rows of [0, 1] with ``domain``, and the points each candidate was checked for poles on."""
    import srnet.extract as extract

    checked = []
    real = extract.candidate

    def spy(formula, symbols, regions, domain_points, **kwargs):
        checked.append(np.asarray(domain_points))
        return real(formula, symbols, regions, domain_points, **kwargs)

    monkeypatch.setattr(extract, "candidate", spy)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(1, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    X = np.linspace(0, 1, 20)[:, None]
    model = SRNet(max_generations=10, max_seconds=None, n_threads=1, simplify_seconds=0, random_state=0,
                  domain=domain).fit(net, X)
    assert checked and all(points.shape == (extract.POLE_POINTS, 1) for points in checked)
    return model, checked


def test_candidates_are_checked_for_poles_on_many_domain_points_however_few_the_rows(monkeypatch):
    """On a validation sample as small as the rows (20), a pole such as 1/(x - 0.5) often looked removable."""
    model, checked = _pole_points(monkeypatch, "widen:1.2")
    low, high = np.asarray(model.domain_["box"][0])
    assert all(points.min() >= low and points.max() <= high for points in checked)


def test_a_formula_read_on_the_rows_alone_is_checked_for_poles_between_them(monkeypatch):
    """domain="rows" (the paper's setting) and fit_activations checked poles on the rows themselves: with 20
    rows, 1/(x - 0.5) was missed in half of the draws.  They are checked on points of the rows' box, each
    categorical input on its own values."""
    from srnet.domain import sample_rows_box

    _, checked = _pole_points(monkeypatch, "rows")
    assert all(points.min() >= 0 and points.max() <= 1 and np.abs(points - 0.5).min() < 1e-3 for points in checked)
    rng = np.random.default_rng(0)
    rows = np.column_stack([rng.normal(size=30), rng.integers(0, 3, 30)])
    points = sample_rows_box(rows, 500, rng)
    assert set(np.unique(points[:, 1])) == {0.0, 1.0, 2.0}
    assert rows[:, 0].min() <= points[:, 0].min() and points[:, 0].max() <= rows[:, 0].max()
    assert np.unique(points[:, 0]).size == 500
    huge = np.array([[1e308], [-1e308], [0.5]])  # the box's width overflows: the rows themselves
    assert set(sample_rows_box(huge, 50, rng)[:, 0]) <= {1e308, -1e308, 0.5}


@pytest.mark.parametrize("domain, inputs, printed", [
    (None, 1, "explanation domain: widen:1.2, box [-1.2, 1.2] (auto)"),
    ("auto", 6, "explanation domain: widen:1.2, box "),  # 6 independent inputs: a box too, by auto's own rule
    ("jitter:0.2", 6, "explanation domain: jitter:0.2\n"),  # the user's choice: no "(auto)"
])
def test_the_printed_explanation_says_where_its_domain_figures_were_measured(capsys, domain, inputs, printed):
    """The figures read "domain R2 ..."; auto's domain depends on the data, so the user is told which it was."""
    from srnet.cli import _print_explanation
    from srnet.domain import description_text

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(inputs, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    X = np.random.default_rng(0).uniform(-1, 1, size=(300, inputs))
    X[:2, 0] = -1, 1  # the data's box is exactly [-1, 1] on input 0
    model = SRNet(max_generations=3, domain=domain, **QUICK).fit(net, X)
    _print_explanation(model)
    out = capsys.readouterr().out
    assert printed in out
    assert ("(auto)" in out) is (domain != "jitter:0.2")
    assert description_text(model.domain_) == as_domain(domain).text(X)  # one text for the message and the CLI


def test_a_jitter_far_beyond_a_neighbourhood_warns_and_a_one_input_pair_is_explained():
    """jitter:1e9 put every point on the network's plateaus and read as a perfect fit, silently; a plain
    (-1, 1) for one input was refused as "not (low, high) pairs", which it seemed to be."""
    with pytest.warns(UserWarning, match=r"^domain jitter:1e\+09 moves the rows by 1e\+09 standard deviations"):
        parse_domain("jitter:1e9")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parse_domain("jitter:5")  # up to JITTER_FAR standard deviations: a neighbourhood, silently
    with pytest.raises(ValueError, match=r"a box of one input is a list of one pair: \[\(-1, 1\)\]$"):
        as_domain((-1, 1))
    with pytest.raises(ValueError, match=r"sequence of \(low, high\) pairs, one per input; got 3$"):
        as_domain(3)


def test_fit_activations_says_the_domain_is_not_its_own_and_refuses_a_bad_one():
    """fit_activations explains the rows it is given: a domain set on the model was dropped without a word,
    and an invalid one was never read."""
    X = np.linspace(-1, 1, 40)[:, None]
    layers = [np.tanh(X), np.sin(X)]
    with pytest.warns(UserWarning, match=r"^fit_activations explains the rows it is given: domain='widen:3'"):
        SRNet(max_generations=5, domain="widen:3", **QUICK).fit_activations(X, layers)
    with pytest.raises(ValueError, match=r"^unknown domain 'garbage'"):
        SRNet(max_generations=5, domain="garbage", **QUICK).fit_activations(X, layers)


@pytest.mark.parametrize("low, high, text", [(0.9023, 2.0981, "[0.9023, 2.098]"), (-1.189, 1.198, "[-1.189, 1.198]"),
                                             (1699829000.3, 1700193000.7, "[1.699829e+09, 1.700193e+09]"),
                                             (1000.25, 1001.75, "[1000.25, 1001.75]"), (5.0, 5.0, "[5, 5]")])
def test_a_box_is_printed_with_the_digits_that_tell_its_bounds_apart(low, high, text):
    """A Unix time's box was printed [1.7e+09, 1.7e+09]."""
    from srnet.domain import interval_text

    assert interval_text(low, high) == text
