"""Budgets, sizes and Ctrl-C: one check for every budget, searches that keep
their clock, and interrupts that keep the best explanation so far."""

import contextlib
import json
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import torch
from torch import nn

from srnet.cli import main
from srnet.data import MIN_ROWS, check_budget
from srnet.estimators import CGPRegressor
from srnet.expr.program import Program
from srnet.extract import SRNet
from srnet.layers import paper_fitness
from srnet.probe import probe

QUICK = dict(simplify_seconds=0, random_state=0, n_threads=1)


@pytest.mark.parametrize("value, rules, message", [
    (0, {}, "must be > 0, got 0"),
    (-5, {}, "must be > 0, got -5"),
    (float("nan"), {}, "must be a finite number, got nan"),
    (float("inf"), {}, "must be a finite number, got inf"),
    (None, {}, "is required"),
    ("10", {}, "must be a number"),
    (True, {}, "must be a number"),
    (2.5, dict(integer=True), "must be a whole number"),
    (-1, dict(integer=True, allow_none=True), "must be > 0, got -1"),
    (-0.5, dict(positive=False), "must be >= 0"),
    (3, dict(integer=True, minimum=10), "must be >= 10, got 3"),
    (10**400, {}, "must be a finite number, got inf"),  # beyond float64: an OverflowError before
    (10**400, dict(integer=True), r"must be at most 2\*\*63 - 1, got a number of 401 digits"),
])
def test_check_budget_refuses_in_one_line(value, rules, message):
    with pytest.raises(ValueError, match=message) as caught:
        check_budget("budget", value, **rules)
    assert "\n" not in str(caught.value) and str(caught.value).startswith("budget ")


def test_check_budget_accepts_and_normalises():
    assert check_budget("s", 1e12) == 1e12
    assert check_budget("g", 5.0, integer=True) == 5 and isinstance(check_budget("g", np.int64(5), integer=True), int)
    assert check_budget("g", None, allow_none=True) is None
    assert check_budget("s", 0, positive=False) == 0
    assert check_budget("seed", 2**53 + 1, integer=True) == 2**53 + 1  # exactly, not through a float
    assert check_budget("seed", 2**63 - 1, integer=True) == 2**63 - 1


def tiny_network():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1))


@pytest.fixture(scope="module")
def data():
    return np.random.default_rng(0).uniform(-1, 1, (60, 2))


@pytest.mark.parametrize("scale", [1e-200, 1e160])
def test_srnet_refuses_a_network_whose_outputs_squares_do_not_fit_in_float64(data, scale):
    """Outputs of about 1e-200 gave R2 1 and RMSE 0 to a formula that ignored an input; about 1e160, R2 -inf
    and overflow warnings (CGPRegressor refused such targets; SRNet did not)."""
    net = tiny_network().double()  # (in float32 these scales are 0 and inf)
    with torch.no_grad():
        net[-1].weight.mul_(scale)
        net[-1].bias.mul_(scale)
    with pytest.raises(ValueError, match=r"^layer 2's activations are of scale .*, beyond what squared errors can "
                                         r"hold in float64"):
        SRNet(**{**QUICK, "max_generations": 5}).fit(net, data)


@pytest.mark.parametrize("params, message", [
    (dict(max_seconds=-1), "max_seconds must be > 0"),
    (dict(max_seconds=0), "max_seconds must be > 0"),
    (dict(max_seconds=float("nan")), "max_seconds must be a finite number"),
    (dict(max_generations=-1), "max_generations must be > 0"),
    (dict(max_generations=2.5), "max_generations must be a whole number"),
    (dict(max_generations=5, max_samples=3), "max_samples must be >= 10"),
    (dict(max_generations=5, simplify_seconds=-1), "simplify_seconds must be >= 0"),
    (dict(max_generations=5, mutation="Point"), "^unknown mutation 'Point'; valid: point, single$"),  # a KeyError
    (dict(max_generations=5, mutation_rate=5), r"^mutation_rate must be in \(0, 1\], got 5$"),  # ran silently
    (dict(max_generations=5, mutation_rate=0), "^mutation_rate must be > 0"),
])
def test_srnet_refuses_bad_budgets(data, params, message):
    with pytest.raises(ValueError, match=message):
        SRNet(**{**QUICK, **params}).fit(tiny_network(), data)


def test_srnet_refuses_too_few_rows(data):
    with pytest.raises(ValueError, match=f"X has 1 row; srnet needs at least {MIN_ROWS}"):
        SRNet(max_generations=5, **QUICK).fit(tiny_network(), data[:1])
    SRNet(max_generations=2, **QUICK).fit(tiny_network(), data[:MIN_ROWS])  # the minimum itself is fine


def test_engine_estimator_and_activation_routes_refuse_bad_budgets(data):
    from srnet.activations.routes import activation_from_data, activation_from_neurons
    from srnet.activations.search import search_activation
    from srnet.cgp.evolve import as_feature_rows, evolve
    from srnet.cgp.genome import GenomeSpec

    y = np.sin(data[:, 0])
    with pytest.raises(ValueError, match="max_seconds must be > 0"):
        CGPRegressor(max_seconds=-1).fit(data, y)
    with pytest.raises(ValueError, match="max_generations must be > 0"):
        CGPRegressor(max_seconds=None, max_generations=0).fit(data, y)
    spec = GenomeSpec(n_inputs=2, n_outputs=1, n_columns=5)
    with pytest.raises(ValueError, match="max_seconds must be a finite number"):
        evolve(spec, as_feature_rows(data), y[None], max_seconds=float("nan"))
    with pytest.raises(ValueError, match="max_evaluations must be > 0"):
        evolve(spec, as_feature_rows(data), y[None], max_evaluations=-3)
    with pytest.raises(ValueError, match="max_seconds must be > 0"):
        activation_from_data(data, y, max_seconds=0)
    with pytest.raises(ValueError, match="max_samples must be > 0"):
        activation_from_data(data, y, max_seconds=1, max_samples=0)
    with pytest.raises(ValueError, match="max_generations must be > 0"):
        search_activation(data, y, data, y, max_seconds=None, max_generations=-1)
    for route in (activation_from_data, activation_from_neurons):  # the message names their own budgets
        with pytest.raises(ValueError, match=r"^give a budget: max_seconds or max_generations \(both are None\)$"):
            route(data, np.tanh(data), max_seconds=None)
        with pytest.raises(ValueError, match="^check_range must be two finite numbers"):  # before, not after, the search
            route(data, np.tanh(data), max_seconds=1e6, check_range=(5, -5))
    with pytest.raises(ValueError, match="y_train must hold binary labels 0/1 for a binary task; got 1, 2"):
        search_activation(data, (data[:, 0] > 0) + 1.0, data, y > 0, max_evaluations=3, epochs=1)
    with pytest.raises(ValueError, match="y_val must hold binary labels 0/1"):
        search_activation(data, data[:, 0] > 0, data, y, max_evaluations=3, epochs=1)


def write_workload(folder, X):
    net = tiny_network()
    torch.save(net.state_dict(), folder / "net.pt")
    np.savetxt(folder / "data.csv", X, delimiter=",")
    return net, ["explain", str(folder / "net.pt"), "--data", str(folder / "data.csv"), "--arch",
                 "mlp:2-3-1:sigmoid", "--out", str(folder / "out")]


@pytest.mark.parametrize("argv, message", [
    (["demo", "--seconds", "0"], "--seconds must be > 0"),
    (["demo", "--generations", "-1"], "--generations must be > 0"),
    (["demo", "--seconds", "nan"], "--seconds must be a finite number"),
    (["demo", "--seconds", "-5"], "--seconds must be > 0"),
    (["compare", "x", "--out", "o", "--seconds", "-1"], "--seconds must be > 0"),
    (["compare", "x", "--out", "o", "--points", "0"], "--points must be >= 2 (an R^2 needs two points), got 0"),
    (["bench", "nguyen", "--out", "o", "--max-rows", "3"], "--max-rows must be >= 10"),
    (["bench", "nguyen", "--out", "o", "--workers", "0"], "--workers must be > 0"),
    (["bench", "nguyen", "--out", "o", "--seconds", "inf"], "--seconds must be a finite number"),
    (["explain", "x", "--out", "o", "--test-size", "1.5"], "--test-size must be < 1"),
])
def test_every_subcommand_refuses_bad_budgets_in_one_line(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"srnet {argv[0]}: error: {message}") and "\n" not in err
    assert not (tmp_path / "o").exists() and not (tmp_path / "srnet-demo").exists()


def test_explain_refuses_a_one_row_csv_and_a_missing_model(tmp_path, data, capsys):
    _, argv = write_workload(tmp_path, data[:1])
    assert main(argv) == 2
    assert "error: --data has 1 row; srnet needs at least 10" in capsys.readouterr().err
    # compare too, before a line that reads as a start ("comparing ... (1 rows)"), and with no explainer named
    assert main(["compare", *argv[1:], "--explainers", "lime"]) == 2
    out, err = capsys.readouterr()
    assert "error: --data has 1 row; srnet needs at least 10" in err and "comparing" not in out
    assert main(["compare", *argv[1:], "--explainers", " , "]) == 2
    out, err = capsys.readouterr()
    assert "--explainers names none" in err and not out
    assert main(["explain", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "no such model file or folder" in err and "--data is required" not in err and "README" in err
    assert main(["explain", str(tmp_path / "missing.pt"), "--out", str(tmp_path / "o")]) == 2  # a file's name
    err = capsys.readouterr().err
    assert "no such model file: '" in err and "README" not in err


def test_explain_keeps_its_budget_and_reports_the_time_outside_it(tmp_path, data, capsys):
    _, argv = write_workload(tmp_path, data)
    assert main(argv + ["--seconds", "1.5"]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    # the layer-wise search and the direct formulas share three quarters of the budget (the rest is for composing
    # and refining); each clock stops within a generation or two
    searched = report["search_seconds"] + report["direct_seconds"]
    assert 1.5 * 0.75 <= searched < 1.5 * 0.75 + 0.5
    parts = sum(report[k] for k in ("compile_seconds", "setup_seconds", "search_seconds", "compose_seconds",
                                    "select_seconds"))
    assert report["wall_seconds"] == pytest.approx(parts, abs=0.05)
    assert report["command_seconds"] >= report["wall_seconds"] + report["report_seconds"] - 0.05
    assert report["interrupted"] is False and report["stop_reason"] == "max_seconds"
    out = capsys.readouterr().out
    assert re.search(r"budget 1\.5 s: search \d+\.\d s layer-wise \+ \d+\.\d s direct \+ refine \d+\.\d s; then compose", out), out
    assert "compile" in out and "whole command" in out


def test_explain_reports_held_out_rows(tmp_path, data, capsys):
    _, argv = write_workload(tmp_path, data)
    assert main(argv + ["--generations", "20", "--test-size", "0.25"]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["test_rows"] == 15 and math.isfinite(report["output_r2_test"])
    assert "on the 15 held-out rows" in capsys.readouterr().out


def stop_after(generations):
    """A callback that raises KeyboardInterrupt, as Ctrl-C would, mid-search."""
    def callback(state, *rest):
        if getattr(state, "generation", 0) >= generations:
            raise KeyboardInterrupt
    return callback


def test_ctrl_c_inside_srnet_fit_keeps_the_best_explanation_so_far(data, capsys):
    net = tiny_network()
    model = SRNet(max_seconds=1e12, domain="rows", **QUICK).fit(net, data, callback=stop_after(30))
    assert model.stop_reason_ == "interrupted" and model.report()["interrupted"] is True
    # said without progress bars too (--quiet): the seconds of composing that follow are no hang
    assert f"interrupted after {model.n_generations_} generations: composing" in capsys.readouterr().err
    assert 30 <= model.n_generations_ <= 31
    assert model.fitness_ == pytest.approx(model.search_fitness_, rel=1e-6)  # all rows are the search rows
    assert np.all(np.isfinite(model.predict(data)))
    # no time for the direct searches, but the instant least-squares formula is still a candidate (only the
    # 600-node chain was, R2 -2112 beyond the box)
    assert {c["source"] for c in model.candidates_} == {"layerwise", "linear"}
    chain_only = SRNet(max_seconds=1e12, domain="rows", direct_budget=0, **QUICK).fit(net, data,
                                                                                     callback=stop_after(30))
    assert {c["source"] for c in chain_only.candidates_} == {"layerwise"}  # as asked: no direct formula


def test_ctrl_c_inside_cgp_regressor_fit_keeps_the_best_formula_so_far(data):
    y = np.sin(data[:, 0]) + data[:, 1]
    model = CGPRegressor(max_seconds=1e12, simplify_seconds=0, random_state=0, n_threads=1)
    model.fit(data, y, callback=stop_after(50))
    assert model.stop_reason_ == "interrupted"
    assert model.fitness_ == pytest.approx(np.mean((model.predict(data) - y) ** 2), rel=1e-6)


def test_ctrl_c_that_numba_wraps_in_a_system_error_still_keeps_the_best_so_far(data):
    """Ctrl-C landing inside a compiled call reaches Python as numba's SystemError ("returned a result with
    an exception set"), caused by the KeyboardInterrupt: with a generation budget `srnet explain` died with
    that traceback and wrote nothing.  A SystemError of another cause still propagates."""
    from srnet.cgp.driver import is_interrupt

    def wrapped(generations):
        def callback(state, *rest):
            if getattr(state, "generation", 0) >= generations:
                try:
                    raise KeyboardInterrupt
                except KeyboardInterrupt as interrupt:
                    raise SystemError("CPUDispatcher(...) returned a result with an exception set") from interrupt
        return callback

    model = SRNet(max_generations=10**7, max_seconds=None, domain="rows", **QUICK)
    model.fit(tiny_network(), data, callback=wrapped(30))
    assert model.stop_reason_ == "interrupted" and 30 <= model.n_generations_ <= 31
    assert not is_interrupt(SystemError("a real one")) and is_interrupt(KeyboardInterrupt())
    with pytest.raises(SystemError, match="a real one"):
        def broken(state, *rest):
            raise SystemError("a real one")
        CGPRegressor(max_generations=10**6, simplify_seconds=0, random_state=0, n_threads=1).fit(
            data, data[:, 0], callback=broken)


def _read_until(stream, marker, found: threading.Event, seen: list):
    buffer = b""
    while True:
        chunk = stream.read1(4096) if hasattr(stream, "read1") else stream.read(1)
        if not chunk:
            return
        buffer += chunk
        seen.append(chunk)
        if marker in buffer:
            found.set()


def test_sigint_stops_srnet_explain_and_writes_the_best_so_far(tmp_path, data):
    net, argv = write_workload(tmp_path, data)
    # the child gets the default SIGINT action even when the suite runs as a background job,
    # which a shell starts with SIGINT ignored (a child inheriting that would never see Ctrl-C)
    process = subprocess.Popen([sys.executable, "-m", "srnet.cli", *argv, "--seconds", "1e12", "--domain", "rows"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    searching, seen = threading.Event(), []
    reader = threading.Thread(target=_read_until, args=(process.stderr, b"search_fitness=", searching, seen),
                              daemon=True)
    reader.start()
    try:
        assert searching.wait(240), b"".join(seen).decode(errors="replace")[-2000:]
        time.sleep(1.0)
        process.send_signal(signal.SIGINT)
        out, rest = process.communicate(timeout=120)  # stderr's tail may be read here rather than by the reader
    finally:
        if process.poll() is None:
            process.kill()
    reader.join(5)
    err = (b"".join(seen) + (rest or b"")).decode(errors="replace")
    assert process.returncode == 130, err[-2000:]
    assert "Traceback" not in err and "interrupted after" in err
    assert "interrupted (Ctrl-C)" in out.decode()
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["interrupted"] is True and report["stop_reason"] == "interrupted"
    # the report's formula is the best-so-far genome: its programs, chained on the data, give the
    # fitness the search had reached when Ctrl-C came (all 60 rows are search rows)
    targets = probe(net, data)
    approximation, mses = data, []
    for layer, target in zip(report["layers"], targets):
        approximation = Program.from_dict(layer["program"])(approximation).reshape(len(data), -1)
        mses.append(float(np.mean((approximation - target) ** 2)))
    assert paper_fitness(mses) == pytest.approx(report["search_fitness"], rel=1e-6)
    assert paper_fitness(mses) == pytest.approx(report["fitness"], rel=1e-9)


def test_comparison_table_columns_never_touch():
    from srnet.compare import Comparison, format_table

    def record(name, domain, rmse, r2, seconds, size):
        return {"explainer": name, "domain": domain, "rmse": rmse, "r2": r2, "agreement": None,
                "rmse_around": rmse, "agreement_around": None, "seconds": seconds, "size": size}

    records = [record("srnet", "interpolation", 291.0, -44866.8208, 1.0, 5),
               record("a_very_long_explainer_name", "extrapolation", -1e300, -math.inf, 12345.6, 123456789),
               record("m", "x", math.nan, 1.0, 0.0, 0)]
    lines = Comparison("regression", records, {}, {}, {}, {}).table().splitlines()
    header = lines[0].split()
    assert header[:3] == ["explainer", "domain", "rmse"]
    for line in lines[1:]:  # every cell stands apart (a regression has no agreement columns)
        assert len(line.split()) == 7
    assert lines[1].split()[2:4] == ["291", "-4.487e+04"]  # (R2 as srnet prints it: srnet.metrics.format_r2)
    # right-aligned numbers end in the same column
    ends = {line.index(cell) + len(cell) for line, cell in zip(lines[1:], ["-4.487e+04", "-inf", "1.000000"])}
    assert len(ends) == 1
    assert format_table(["a", "b"], [["x", "-1"], ["yy", "10"]]) == "a    b\nx   -1\nyy  10"


def test_surface_plots_show_differences_from_the_network_and_the_training_box(tmp_path, monkeypatch):
    from srnet import plots

    figures = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: figures.append(fig) or path)
    box, wide = np.array([[-1, 1], [-1, 1.0]]), np.array([[-5, 5], [-5, 5.0]])
    plots.plot_surfaces_2d({"network": lambda X: X[:, 0] * X[:, 1], "srnet": lambda X: np.exp(X[:, 0] ** 2)},
                           box, wide, tmp_path / "s.png")
    titles = [ax.get_title() for ax in figures[0].axes]
    assert any(title.startswith("srnet - network\nRMSE ") for title in titles)
    difference = next(ax for ax in figures[0].axes if ax.get_title().startswith("srnet - network"))
    assert difference.collections[0].norm.vmax > 1e9  # the blow-up is on the scale, not clipped away
    assert any(np.allclose(line.get_xdata(), [-1, 1, 1, -1, -1]) for line in difference.lines)


def test_curve_plots_show_a_blow_up_outside_the_data_instead_of_losing_it(tmp_path, monkeypatch):
    from srnet import plots

    figures = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: figures.append(fig) or path)
    curves = {"network": lambda X: np.tanh(2 * X[:, 0]), "srnet": lambda X: 2 * X[:, 0] - X[:, 0] ** 3,
              "lime": lambda X: np.tanh(2 * X[:, 0]) + 0.01}
    plots.plot_curves_1d(curves, np.array([[-1.0, 1.0]]), np.array([[-3.0, 3.0]]), tmp_path / "c.png")
    top, bottom = figures[0].axes
    labels = [text.get_text() for text in figures[0].legends[0].get_texts()]  # below the panels
    assert "srnet (leaves this view)" in labels and "lime" in labels  # the scale follows the network
    assert top.get_ylim()[1] < 3
    assert bottom.get_yscale() == "symlog" and bottom.get_ylabel().startswith("each curve - network")
    # the linear zone's edges are labelled ticks, so a reader sees the size of the errors near 0
    threshold = bottom.yaxis.get_transform().linthresh
    assert threshold == pytest.approx(0.009)  # 1 % of the network's spread, rounded for its label
    assert {-threshold, 0.0, threshold} <= set(bottom.get_yticks())
    assert f"±{threshold:.2g}" in bottom.get_ylabel()
    errors = {line.get_label(): np.abs(line.get_ydata()).max() for line in bottom.lines if line.get_label() != "_child1"}
    assert errors["srnet"] > 10 and errors["lime"] == pytest.approx(0.01)  # the whole error, both sizes


@pytest.mark.parametrize("argv, message", [
    (["demo", "--seed", "-1"], "--seed must be >= 0"),
    (["demo", "--seed", "2.5"], "invalid int value"),
])
def test_a_bad_seed_is_named(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) if "invalid" in message else contextlib.nullcontext():
        assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "--seed" in err


@pytest.mark.parametrize("out, why", [("afile", "is a file"), ("afile/sub", "is a file"),
                                      ("dangling", "is a broken link"), ("dangling/sub", "is a broken link")])
def test_an_unusable_out_folder_is_refused_before_the_search(tmp_path, data, capsys, out, why):
    _, argv = write_workload(tmp_path, data)
    (tmp_path / "afile").write_text("not a folder")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")  # mkdir failed on it after the search
    argv[argv.index("--out") + 1] = str(tmp_path / out)
    started = time.perf_counter()
    assert main(argv + ["--seconds", "30"]) == 2
    assert time.perf_counter() - started < 10  # refused at once, not after a 30 s search
    err = capsys.readouterr().err.strip()
    assert "cannot be the output folder" in err and why in err and "\n" not in err


def test_generations_replace_seconds_and_bound_the_direct_searches(tmp_path, data, capsys):
    """--generations is a budget instead of seconds: the direct searches get an evaluation cap in proportion,
    so a huge --seconds beside it cannot make the command run on (it did: 25 % of the seconds)."""
    _, argv = write_workload(tmp_path, data)
    started = time.perf_counter()
    assert main(argv + ["--generations", "20", "--seconds", "1e6"]) == 0
    assert time.perf_counter() - started < 120
    # and says so: beside --generations, --seconds was ignored without a word
    assert "note: the budget is --generations 20, which replaces --seconds; --seconds 1e+06 is not used" in \
        capsys.readouterr().out
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["settings"]["max_seconds"] is None and report["settings"]["max_generations"] == 20
    # and in the API, with both budgets, the generation budget caps the direct searches
    model = SRNet(max_generations=5, max_seconds=1e6, **QUICK).fit(tiny_network(), data)
    assert model.direct_seconds_ < 30


def test_report_json_is_strict_json_when_a_figure_is_infinite(tmp_path, data, capsys):
    """An infinite figure is null in JSON, which every JSON reader accepts; and a tiny --test-size holds
    out two rows, not one, whose R^2 was -inf beside an RMSE of 0.02."""
    from srnet.jsonio import dumps

    text = dumps({"output_r2_test": -math.inf, "rmse": math.nan, "nested": [math.inf, 1.5]})
    assert json.loads(text, parse_constant=lambda name: pytest.fail(f"non-JSON constant {name}")) == {
        "output_r2_test": None, "rmse": None, "nested": [None, 1.5]}
    _, argv = write_workload(tmp_path, data)
    assert main(argv + ["--generations", "5", "--test-size", "0.01"]) == 0
    text = (tmp_path / "out" / "report.json").read_text()
    assert "Infinity" not in text and "NaN" not in text
    report = json.loads(text, parse_constant=lambda name: pytest.fail(f"non-JSON constant {name}"))
    assert report["test_rows"] == 2 and math.isfinite(report["output_r2_test"])


def test_held_out_figures_are_those_of_the_selected_formula(tmp_path, data, capsys):
    net, argv = write_workload(tmp_path, data)
    assert main(argv + ["--generations", "30", "--test-size", "0.3", "--seed", "1"]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    order = np.random.default_rng(1).permutation(len(data))  # the CLI's hold-out, by hand
    test = np.sort(order[len(order) - round(0.3 * len(order)):])
    from srnet.formulas import Formula
    from srnet.metrics import rmse_r2

    formula = Formula.from_dict(report["formula"])
    with torch.no_grad():
        truth = net(torch.as_tensor(data[test], dtype=torch.float32)).double().numpy()
    assert report["output_r2_test"] == pytest.approx(rmse_r2(truth, formula(data[test]))[1], abs=1e-6)


@pytest.mark.parametrize("params, message", [
    (dict(max_samples=None), "max_samples"), (dict(max_samples=-5), "max_samples"),
    (dict(select="bogus"), "select"), (dict(ridge=float("nan")), "ridge"), (dict(ridge=-1.0), "ridge"),
    (dict(n_threads=1.5), "n_threads"),
])
def test_srnet_checks_every_parameter_before_probing(data, params, message):
    started = time.perf_counter()
    with pytest.raises(ValueError, match=message):
        SRNet(**{**QUICK, "max_seconds": 20, **params}).fit(tiny_network(), data)
    assert time.perf_counter() - started < 5  # before the search, not after its 20 s


def test_a_test_size_that_leaves_too_few_rows_names_the_option():
    """11 rows with --test-size 0.05 held out 2 and failed later with "X has 9 rows", not naming the option."""
    from srnet.cli import _hold_out
    from srnet.loading import Workload

    workload = Workload("w", None, np.zeros((11, 2)), ["a", "b"])
    with pytest.raises(ValueError, match=r"^--test-size 0.05 of 11 rows leaves 9 to explain, fewer than 10 \(2 "
                                         r"rows at least are held out: an R2 needs two\)"):  # (0.05 of 11 is 1)
        _hold_out(workload, 0.05, 0)
    held = _hold_out(Workload("w", None, np.arange(24.0).reshape(12, 2), ["a", "b"]), 0.05, 0)
    assert held.X.shape == (10, 2) and held.X_test.shape == (2, 2)


def test_an_empty_out_folder_name_is_refused_not_the_current_folder(tmp_path, data, capsys, monkeypatch):
    """Path("") is the current folder: --out "" wrote report.json and the plots among the user's files."""
    _, argv = write_workload(tmp_path, data)
    monkeypatch.chdir(tmp_path)
    before = set(tmp_path.iterdir())
    argv[argv.index("--out") + 1] = ""
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == "srnet explain: error: --out must name a folder; got an empty name"
    assert set(tmp_path.iterdir()) == before


def test_an_explanation_into_a_used_folder_says_so_and_leaves_no_plot_of_the_last_one(tmp_path, capsys):
    """A 1-input demo's network_vs_formula.png stayed beside the report of a 3-input network explained into the
    same --out (which drew none then), and nothing said the earlier report was replaced: a plot this run does
    not draw (a classifier's decision map, beside a regression) is removed, one it draws is replaced."""
    from torch import nn

    net = nn.Sequential(nn.Linear(3, 3), nn.Sigmoid(), nn.Linear(3, 1))
    torch.save(net.state_dict(), tmp_path / "net.pt")
    np.savetxt(tmp_path / "data.csv", np.random.default_rng(0).uniform(-1, 1, (40, 3)), delimiter=",")
    out = tmp_path / "out"
    out.mkdir()
    for name in ("report.json", "network_vs_formula.png", "decision_boundaries.png", "notes.txt"):
        (out / name).write_text("an earlier run's")
    argv = ["explain", str(tmp_path / "net.pt"), "--data", str(tmp_path / "data.csv"), "--arch", "mlp:3-3-1:sigmoid",
            "--out", str(out), "--generations", "5"]
    # a report.json srnet did not write is the user's: refused before the search, and left as it was
    assert main(argv) == 2
    assert capsys.readouterr().err.strip().endswith(
        f"--out '{out}' holds a report.json that srnet did not write: srnet replaces only its own; choose "
        f"another folder, or move that file")
    assert (out / "report.json").read_text() == "an earlier run's"
    (out / "report.json").write_text("[" * 100_000)  # nested past Python's stack: json's RecursionError
    assert main(argv) == 2
    assert capsys.readouterr().err.strip().endswith("choose another folder, or move that file")
    (out / "report.json").write_text('{"layers": [], "expression": "x", "formula_source": "linear"}')
    assert main(argv) == 0
    assert f"note: {out} held an explanation; it is replaced" in capsys.readouterr().out
    assert not (out / "decision_boundaries.png").exists() and (out / "layers.png").is_file()
    assert (out / "network_vs_formula.png").read_bytes()[:4] == b"\x89PNG"  # this run's, of its 3 inputs
    assert (out / "notes.txt").read_text() == "an earlier run's"  # not srnet's: kept


def test_a_comparison_replaces_only_its_own_files_and_never_its_input(tmp_path, capsys):
    """compare overwrote a user's own compare.json (and the plots beside it), and, with --data read from
    --out/compare.csv, replaced the data by its results table; both exited 0."""
    from torch import nn

    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    torch.save(net.state_dict(), tmp_path / "net.pt")
    out = tmp_path / "out"
    out.mkdir()
    data = out / "compare.csv"
    np.savetxt(data, np.random.default_rng(0).uniform(-1, 1, (40, 2)), delimiter=",")
    kept = data.read_text()

    def compare(data_path):
        return main(["compare", str(tmp_path / "net.pt"), "--arch", "mlp:2-3-1:tanh", "--data", str(data_path),
                     "--out", str(out), "--explainers", "maple", "--points", "20"])

    assert compare(data) == 2
    assert capsys.readouterr().err.strip().endswith(
        f"--data '{data}' is a file srnet compare writes in --out '{out}'; choose another folder")
    data = data.rename(tmp_path / "data.csv")
    (out / "fidelity.png").write_text("the user's own")  # no srnet compare.json beside it: not srnet's
    assert compare(data) == 2
    assert capsys.readouterr().err.strip().endswith(
        f"--out '{out}' holds fidelity.png with no srnet compare.json beside it: srnet replaces only its own "
        f"files; choose another folder, or move those")
    (out / "compare.json").write_text('{"mine": "precious"}')
    assert compare(data) == 2
    assert capsys.readouterr().err.strip().endswith(
        f"--out '{out}' holds a compare.json that srnet did not write: srnet replaces only its own; choose "
        f"another folder, or move that file")
    assert (out / "compare.json").read_text() == '{"mine": "precious"}' and data.read_text() == kept
    (out / "compare.json").write_text('{"task": "regression", "records": []}')  # an earlier comparison's
    assert compare(data) == 0
    assert f"note: {out} held a comparison; it is replaced" in capsys.readouterr().out
    assert "maple" in (out / "compare.csv").read_text() and data.read_text() == kept


def test_a_comparison_of_a_wide_layer_is_refused_before_any_explainer_runs(tmp_path, capsys):
    """--layers naming a hidden layer of 3 units failed after LIME's fit, advising task='classification'."""
    from torch import nn

    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    torch.save(net.state_dict(), tmp_path / "net.pt")
    np.savetxt(tmp_path / "data.csv", np.random.default_rng(0).uniform(-1, 1, (40, 2)), delimiter=",")
    assert main(["compare", str(tmp_path / "net.pt"), "--arch", "mlp:2-3-1:tanh", "--data", str(tmp_path / "data.csv"),
                 "--out", str(tmp_path / "out"), "--explainers", "lime", "--layers", "1"]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines()[-1] == (
        "srnet compare: error: --layers 1 ends in 3 outputs, and compare measures one regression output: choose a "
        "layer of one unit (or explain the layer with srnet explain)")
    assert "fitting lime" not in captured.err and not (tmp_path / "out").exists()


def test_a_comparison_killed_midway_keeps_the_explainers_it_measured(tmp_path, capsys, monkeypatch):
    """A comparison killed while LIME ran (after SRNet was measured) left no output folder at all."""
    from torch import nn

    from srnet.explain.lime_local import LimeExplainer

    def killed(self, *args, **kwargs):
        raise SystemExit("killed")  # as a SIGTERM ends the process: no Python handler writes anything

    monkeypatch.setattr(LimeExplainer, "fit", killed)
    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    torch.save(net.state_dict(), tmp_path / "net.pt")
    np.savetxt(tmp_path / "data.csv", np.random.default_rng(0).uniform(-1, 1, (40, 2)), delimiter=",")
    out = tmp_path / "out"
    with pytest.raises(SystemExit):
        main(["compare", str(tmp_path / "net.pt"), "--arch", "mlp:2-3-1:tanh", "--data", str(tmp_path / "data.csv"),
              "--out", str(out), "--explainers", "maple,lime", "--points", "20"])
    kept = json.loads((out / "compare.json").read_text())
    assert kept["unfinished"] == ["lime"] and {r["explainer"] for r in kept["records"]} == {"maple"}
    assert kept["task"] == "regression" and all(np.isfinite(r["rmse"]) for r in kept["records"])
    # the checkpoint is the finished document's shape (it had no boxes and no seed: which points were these?)
    assert kept["seed"] == 0 and kept["network"] and set(kept["boxes"]) == {"training", "validation", "test"}
    monkeypatch.undo()
    main(["compare", str(tmp_path / "net.pt"), "--arch", "mlp:2-3-1:tanh", "--data", str(tmp_path / "data.csv"),
          "--out", str(out), "--explainers", "maple", "--points", "20"])
    finished = json.loads((out / "compare.json").read_text())
    assert set(finished) == set(kept) and finished["unfinished"] == [] and finished["boxes"] == kept["boxes"]


def test_a_progress_bar_on_a_stream_without_isatty_is_drawn(monkeypatch):
    import io
    import sys

    from srnet.progress import SearchProgress

    class Stream(io.RawIOBase):  # a logging wrapper: write and flush, no isatty
        def write(self, text):
            return len(text)

        def flush(self):
            pass

        isatty = property(lambda self: (_ for _ in ()).throw(AttributeError("isatty")))

    monkeypatch.setattr(sys, "stderr", Stream())
    with SearchProgress(True, "s", 1.0, 10) as bar:
        assert bar.bar is not None


@pytest.mark.parametrize("domain, message", [
    ("widen:-1", "--domain: domain widen needs a finite factor > 0, got -1.0"),
    ("foo", "--domain: unknown domain 'foo'"),
    ("box:", "--domain: the domain box needs one (low, high) pair per input"),
])
def test_a_bad_domain_is_one_line_not_the_usage_block(tmp_path, capsys, domain, message):
    data = np.random.default_rng(0).uniform(-1, 1, (30, 2))
    _, argv = write_workload(tmp_path, data)
    assert main([*argv, "--domain", domain]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1  # argparse printed its usage block too


def test_the_demo_refuses_a_box_of_the_wrong_width_before_training(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "out"), "--domain", "box:0,1;0,1"]) == 2
    out, err = capsys.readouterr()
    assert "has 2 (low, high) pairs, but the demo's network has 1 input" in err and "trained" not in out


def test_a_classifier_loaded_without_softmax_and_a_poor_fit_are_warned_of():
    from srnet.loading import Workload, fit_warning

    torch.manual_seed(0)
    logits = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 3))
    X = np.random.default_rng(0).normal(size=(30, 2))
    y = np.arange(30) % 3
    work = Workload(model=logits, X=X, y=y.astype(float), feature_names=["a", "b"], name="n", architecture="mlp")
    assert "add ':softmax' to --arch" in fit_warning(work, {"network_r2": None})
    scripted = Workload(model=logits, X=X, y=y.astype(float), feature_names=["a", "b"], name="n")  # no --arch
    assert fit_warning(scripted, {"network_r2": None}).endswith(
        "a classifier? then save it with nn.Softmax(dim=1) after its last layer (torch.jit.script(nn.Sequential("
        "model, nn.Softmax(dim=1))))")
    assert "R2 against the target is -227.3: is --arch right" in fit_warning(work, {"network_r2": -227.3})
    assert fit_warning(work, {"network_r2": 0.97}) is None
    # a classifier whose labels are read in another order than its outputs': accuracy 0, without a word
    two = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 2), nn.Softmax(dim=1))
    classifier = Workload(model=two, X=X, y=np.array(["a", "b", "b"] * 10),
                          feature_names=["a", "b"], name="n", architecture="mlp", is_classifier=True)
    assert fit_warning(classifier, {"network_accuracy": 0.0}) == (
        "the network's accuracy against the labels is 0, below the 0.6667 of always answering the commonest label: "
        "are its outputs in the labels' sorted order (a, b), is --target the label column, is --arch right?; read "
        "the other way round it scores 1: is output 0 b? then give --classes b,a")
    assert fit_warning(classifier, {"network_accuracy": 0.5}).endswith(  # 0.5 swapped: no hint of which way
        "sorted order (a, b; else give --classes), is --target the label column, is --arch right?")
    assert fit_warning(classifier, {"network_accuracy": 0.7}) is None
    # two labels that are indices of three outputs (0 and 2): 1 - accuracy is no swapped accuracy, no hint
    of_three = Workload(model=nn.Sequential(logits, nn.Softmax(dim=1)), X=X, y=np.array([0.0, 2.0, 2.0] * 10),
                        feature_names=["a", "b"], name="n", architecture="mlp", is_classifier=True)
    assert fit_warning(of_three, {"network_accuracy": 0.0}).endswith("is --arch right?")
    three = Workload(model=nn.Sequential(logits, nn.Softmax(dim=1)), X=X, y=np.array([1.0, 2.0, 3.0, 3.0] * 5),
                     feature_names=["a", "b"], name="n", architecture="mlp", is_classifier=True)
    assert fit_warning(three, {"network_accuracy": 0.0}).endswith("sorted order (1, 2, 3; else give --classes), "
                                                                   "is --target the label column, is --arch right?")
    # a one-logit binary classifier (BCEWithLogitsLoss): its logit against 0/1 read as a wrong --arch (R2 -312)
    one_logit = Workload(model=nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1)), X=X, y=(y > 0) * 1.0,
                         feature_names=["a", "b"], name="n", architecture="mlp:2-4-1:tanh")
    assert fit_warning(one_logit, {"network_r2": -312.4}) == (
        "the network's R2 against the target is -312.4, with one output and the classes 0 and 1: a binary "
        "classifier (BCEWithLogitsLoss, or BCELoss after a sigmoid)? srnet explains its output as a regression; end "
        "--arch with ':logit' (mlp:2-4-1:tanh:logit): srnet then explains its logit and its classes")
    assert fit_warning(one_logit, {"network_r2": 0.991}) is None  # a good regressor of 0/1 labels: nothing to say
    # a BCELoss network (a sigmoid head): its probability explained as a regression, however well it fits
    sigmoid = Workload(model=nn.Sequential(*one_logit.model, nn.Sigmoid()), X=X, y=(y > 0) * 1.0,
                       feature_names=["a", "b"], name="n", architecture="mlp:2-4-1:tanh:sigmoid")
    assert fit_warning(sigmoid, {"network_r2": 0.82}).startswith(
        "the network has one output, after a sigmoid, and the classes 0 and 1: a binary classifier")
    assert "end --arch with ':logit' (mlp:2-4-1:tanh:logit)" in fit_warning(sigmoid, {"network_r2": 0.82})
    scripted_logit = Workload(model=one_logit.model, X=X, y=(y > 0) * 1.0, feature_names=["a", "b"], name="n")
    assert fit_warning(scripted_logit, {"network_r2": -312.4}).endswith(
        "and a Softmax after them: torch.jit.save(torch.jit.script(srnet.networks.binary_classifier(model)), "
        "'net.pt')")


def test_progress_must_be_true_or_false():
    from srnet.progress import SearchProgress

    with pytest.raises(ValueError, match="progress must be True or False, got 'no'"):  # 'no' drew a bar
        SearchProgress("no", "s", 1.0, None)


def test_a_ctrl_c_while_the_explanation_is_printed_still_writes_report_json(tmp_path, data, monkeypatch, capsys):
    """Between the fit and report.json (printing, the figures, matplotlib's import) a Ctrl-C lost the whole
    explanation: exit 130 and no --out folder."""
    import srnet.cli as cli

    printed = cli._print_explanation

    def pressed(*args):
        printed(*args)
        os.kill(os.getpid(), signal.SIGINT)  # the user's Ctrl-C, as the formula appears

    monkeypatch.setattr(cli, "_print_explanation", pressed)
    _, argv = write_workload(tmp_path, data)
    assert cli.main([*argv, "--generations", "5", "--domain", "rows"]) == 130
    out, err = capsys.readouterr()
    assert "interrupted: writing report.json" in err and "interrupted (Ctrl-C)" in out
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["interrupted"] is True and report["formula"]
    assert not list((tmp_path / "out").glob("*.png"))  # the plots were skipped
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_layers_that_stop_before_the_output_are_not_called_the_network(tmp_path, data, capsys):
    """--layers 1 printed "the network as one formula" for a hidden layer's units."""
    import srnet.cli as cli

    _, argv = write_workload(tmp_path, data)
    assert cli.main([*argv, "--generations", "3", "--domain", "rows", "--layers", "1"]) == 0
    out = capsys.readouterr().out
    assert "layer '1' (not the network's output, '2') as one formula" in out and "the network as one" not in out
    assert cli.main([*argv, "--generations", "3", "--domain", "rows"]) == 0
    assert "the network as one formula" in capsys.readouterr().out


def test_a_full_disk_names_what_could_not_be_written_and_what_holds_the_explanation(tmp_path, capsys, monkeypatch):
    """'[Errno 28] No space left on device' named no file, nor said that report.json (written first) was kept."""
    import errno

    import srnet.plots

    net = nn.Sequential(nn.Linear(3, 3), nn.Sigmoid(), nn.Linear(3, 1))
    torch.save(net.state_dict(), tmp_path / "net.pt")
    np.savetxt(tmp_path / "data.csv", np.random.default_rng(0).uniform(-1, 1, (40, 3)), delimiter=",")
    out = tmp_path / "out"
    argv = ["explain", str(tmp_path / "net.pt"), "--data", str(tmp_path / "data.csv"), "--arch", "mlp:3-3-1:sigmoid",
            "--out", str(out), "--generations", "5"]

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(srnet.plots, "plot_pareto", full)
    assert main(argv) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"srnet explain: error: cannot write the plots in {out} (No space left on device); "
        f"{out / 'report.json'} holds the explanation")
    assert "expression" in json.loads((out / "report.json").read_text())
    kept = (out / "report.json").read_text()
    monkeypatch.setattr(os, "fsync", full)  # the disk fills while report.json is written
    assert main(argv) == 2
    assert capsys.readouterr().err.strip().endswith(f"cannot write {out / 'report.json'} (No space left on device)")
    assert (out / "report.json").read_text() == kept  # written in place, it was cut short
    assert not list(out.glob(".tmp-*"))


def test_compare_refuses_rows_that_never_vary(tmp_path, capsys):
    """Every input constant: the network is one number there, and LIME's R^2 read -inf beside a tiny RMSE."""
    from torch import nn

    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    torch.save(net.state_dict(), tmp_path / "net.pt")
    np.savetxt(tmp_path / "data.csv", np.ones((40, 2)), delimiter=",")
    assert main(["compare", str(tmp_path / "net.pt"), "--arch", "mlp:2-3-1:tanh", "--data", str(tmp_path / "data.csv"),
                 "--out", str(tmp_path / "out"), "--explainers", "lime"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "srnet compare: error: every input takes one value on all 40 rows: there is nothing to compare (give rows "
        "that vary)")
    assert not (tmp_path / "out").exists()


def test_quiet_draws_no_progress_bars(tmp_path, capsys):
    """explain, demo and compare always drew their bars: in a log, every redraw is a line."""
    from torch import nn

    net = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    torch.save(net.state_dict(), tmp_path / "net.pt")
    np.savetxt(tmp_path / "data.csv", np.random.default_rng(0).uniform(-1, 1, (40, 2)), delimiter=",")
    common = [str(tmp_path / "net.pt"), "--arch", "mlp:2-3-1:tanh", "--data", str(tmp_path / "data.csv")]
    assert main(["compare", *common, "--out", str(tmp_path / "c"), "--explainers", "maple", "--points", "20",
                 "--quiet"]) == 0
    assert main(["explain", *common, "--out", str(tmp_path / "e"), "--generations", "5", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and "wrote" in captured.out
    main(["compare", *common, "--out", str(tmp_path / "c"), "--explainers", "maple", "--points", "20"])
    assert "fitting maple" in capsys.readouterr().err  # (without --quiet, the bars are there)


def test_select_beside_complexity_is_named_as_unused(capsys):
    """srnet demo --select layerwise --complexity 5 took the 5-node formula without a word about --select."""
    from argparse import Namespace

    from srnet.cli import _check_budgets

    _check_budgets(Namespace(complexity=5, select="layerwise"))
    assert capsys.readouterr().out == "note: --complexity 5 selects the formula; --select layerwise is not used\n"
    _check_budgets(Namespace(complexity=5, select="best"))  # the default: nothing to say
    _check_budgets(Namespace(complexity=None, select="layerwise"))
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("params, limit", [({"max_seconds": 1.0, "max_generations": None}, 0.5),
                                           ({"max_seconds": 30.0, "max_generations": 5}, 5.0),
                                           ({"max_seconds": None, "max_generations": 5}, 5.0),
                                           ({"max_seconds": 1.0, "max_generations": None, "simplify_seconds": 3}, 3.0)])
def test_sympy_s_time_follows_a_short_budget_unless_given(params, limit):
    """5 s of sympy after a 2 s budget: a vowel network's explanation took 6 s."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(1, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    X = np.linspace(-1, 1, 40)[:, None]
    model = SRNet(random_state=0, progress=False, n_threads=1, **params).fit(net, X)
    assert model.simplify_seconds_ == limit


def test_a_simplify_budget_that_is_not_a_number_or_auto_is_one_line():
    with pytest.raises(ValueError, match="simplify_seconds"):
        SRNet(simplify_seconds="fast", max_generations=2).fit(nn.Linear(1, 1).double(), np.zeros((20, 1)))
