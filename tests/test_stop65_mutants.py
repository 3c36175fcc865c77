"""Tests that kill the surviving mutants of a mutmut run (and of hand-made mutants of ``_terminate_as_interrupt``,
which mutmut does not mutate: it is decorated) over stop 65's changes: ``formula()``'s rounding,
``readable_formulas``, the comparison's z definitions, summary.md's regression table and ``formula_reads``, and
the batch's SIGTERM handling."""

import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import sympy

from srnet import CGPRegressor
from srnet.estimators import program_formulas
from srnet.expr.program import Program
from srnet.expr.symbolic import make_symbols, residue_points

YEARS = np.random.default_rng(0).uniform(1990, 2020, (200, 1))
(X0,) = make_symbols(1)


def _as_fitted(expression, **fitted) -> CGPRegressor:
    """A CGPRegressor as a fit (or an unpickled fit) leaves it: ``expression_`` and what ``formula()`` reads."""
    model = CGPRegressor()
    model.expression_ = expression
    for name, value in fitted.items():
        setattr(model, name, value)
    return model


# ----------------------------------------------------------------- program_formulas, _warn_constant_inputs, MIN_SAMPLES


def _si_program() -> Program:
    """1.2e19*x0*(sin(x0)**2 + cos(x0)**2) + 0.5: an input in SI units (1e-19), and a factor simplify removes."""
    nodes = (("sin", 0, 0), ("cos", 0, 0), ("square", 1, 1), ("square", 2, 2), ("add", 3, 4), ("mul", 5, 0))
    return Program(1, (), nodes, (6,), np.array([[1.2e19]]), np.array([0.5]))


SI_X = np.random.default_rng(0).uniform(1e-19, 3e-19, (100, 1))


def test_an_intercept_is_judged_beside_the_formula_s_values_on_the_data():
    """Kills in ``program_formulas``: ``standardised_form(written, None)`` (program_formulas__mutmut_15),
    ``tidy_constants(f, points=None)`` / ``tidy_constants(f)`` before simplifying (_36, _38) and after it
    (_54, _56): judged beside its coefficient alone, the 0.5 of 1.2e19*x0 + 0.5 is round-off and was dropped,
    though on inputs of 1e-19 (SI units) the formula's values are 1.2 to 3.6 and 0.5 is a third of them."""
    estimator = CGPRegressor()
    (formula,) = program_formulas(estimator, _si_program(), SI_X, 2.0, interrupted=False, mapping=None)
    assert str(formula) == "1.2e+19*x0 + 0.5"  # simplified (sin**2 + cos**2 is 1) and tidied again at the rows


def test_a_search_ended_by_ctrl_c_keeps_its_tidied_formula_unsimplified():
    """Kills ``FinishOnInterrupt(..., requested=interrupted)`` -> ``requested=None`` or the argument dropped
    (program_formulas__mutmut_28, _30): a fit whose search Ctrl-C ended went on simplifying (up to
    simplify_seconds, sympy's simplify not interruptible by a second Ctrl-C in time) instead of delivering the
    tidied formula at once."""
    (formula,) = program_formulas(CGPRegressor(), _si_program(), SI_X, 2.0, interrupted=True, mapping=None)
    assert str(formula) == "1.2e+19*x0*(sin(x0)**2 + cos(x0)**2) + 0.5"


def test_formula_rounds_at_the_rows_program_formulas_records():
    """Kills ``estimator._formula_points = points`` -> ``= None`` (program_formulas__mutmut_61): formula() of a
    fit then rounded without its rows, 0.12345678*x0 - 246.9 of a year to 0.1235*x0 - 246.9 (2 % of its spread
    off)."""
    program = Program(1, (), (("add", 0, 0),), (1,), np.array([[0.06172839]]), np.array([-246.9]))
    estimator = CGPRegressor()
    (estimator.expression_,) = program_formulas(estimator, program, YEARS, 2.0, interrupted=False, mapping=None)
    assert str(estimator.expression_) == "0.12345678*x0 - 246.9"
    assert str(estimator.formula()) == "0.123457*x0 - 246.9"


def test_the_constant_input_warning_names_each_constant_input_read():
    """Kills in ``warn_of_constant_inputs`` (once ``_warn_constant_inputs``): ``constant = None`` (mutmut _2), ``symbol in used or ...`` (_5),
    ``symbol not in used`` (_6), ``np.all(None)`` (_7), ``!=`` for ``==`` (_8), ``listed = None`` / join of None
    / ``"XX, XX"`` (_10, _11, _12), ``warnings.warn(None, ...)`` / ``warn(UserWarning)`` (_13, _16) and
    ``stacklevel=None`` (_15).  A column constant on every training row that the formula reads is a number there
    and a variable elsewhere: the warning must name each such column with its value, and only those (a constant
    column the formula ignores, or a varying one it reads, is no concern)."""
    import warnings

    import pytest

    from srnet.formulas import warn_of_constant_inputs

    x0, x1, x2, x3 = symbols = make_symbols(4)
    X = np.c_[np.random.default_rng(0).normal(size=(50, 1)), np.full(50, 7.0), np.full(50, -0.5), np.full(50, 3.0)]
    with pytest.warns(UserWarning) as seen:
        warn_of_constant_inputs([x0**2 + x1, x0 - x2], X, symbols)
    assert [str(w.message) for w in seen] == [
        "the formula reads x1 (always 7), x2 (always -0.5), constant on every row fitted on: it is used there as a "
        "number, and the formula elsewhere changes with it; drop the column, or fit on rows where it varies"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_of_constant_inputs([x0**2 + 1], X, symbols)  # x1, x2, x3 constant but not read; x0 read but varies


def test_too_few_rows_are_counted_as_rows_not_columns():
    """Kills ``n_samples = {X.shape[0]}`` -> ``{X.shape[1]}`` in validate_regression's MIN_SAMPLES message
    (validate_regression__mutmut_31): two rows of five features said "n_samples = 5", the user's column count,
    beside "at least 3 samples" (the existing test's X had two columns: 2 either way)."""
    import pytest

    from srnet.estimators import validate_regression

    X = np.random.default_rng(0).normal(size=(3, 5))
    with pytest.raises(ValueError, match=r"^n_samples = 2: at least 3 samples are needed"):
        validate_regression(CGPRegressor(), X[:2], [1.0, 2.0])
    assert validate_regression(CGPRegressor(), X, [1.0, 2.0, 4.0])[2].shape == (3, 1)


# ----------------------------------------------------------------- ReadableFormulaMixin.formula


def test_formula_rounds_to_four_digits_by_default():
    """Kills ``formula(self, digits=4)`` -> ``digits=5`` (mutmut formula__mutmut_1): the default is what README,
    the comparison and ``READING_DIGITS`` print; a fifth digit is noise the user did not ask for."""
    model = _as_fitted(sympy.Float(3.14159265) * X0)
    assert str(model.formula()) == str(model.formula(4)) == "3.142*x0"
    assert str(model.formula(5)) == "3.1416*x0"


def test_formula_rounds_at_the_fit_s_rows():
    """Kills dropping ``_formula_points`` from ``round_faithfully`` (formula__mutmut_38, _43, _47, _48, _49: None,
    ``getattr(None, ...)``, no default, a misspelt name): at 4 digits alone 0.12345678*x0 - 246.9 of a year near
    2000 reads 0.1235*x0, off by 0.087 on a spread of 3.7 (2 %); rounded at the fit's rows it keeps the digits
    that hold it within 1e-3 of its spread."""
    expression = sympy.Float(0.12345678) * X0 - sympy.Float(246.9)
    model = _as_fitted(expression, _formula_points=residue_points([X0], YEARS))
    assert str(model.formula()) == "0.123457*x0 - 246.9"
    assert str(_as_fitted(expression).formula()) == "0.1235*x0 - 246.9"  # (no rows: a fit pickled before them)


def test_formula_of_a_fit_pickled_before_its_written_formulas_were_kept():
    """Kills ``getattr(self, "_written_formulas", None)`` -> ``getattr(self, "_written_formulas")``
    (formula__mutmut_28): a fit pickled before ``_written_formulas`` existed raised AttributeError from formula()
    where it must print ``expression_``."""
    model = _as_fitted(sympy.Float(2.0) * X0 + 1)
    assert not hasattr(model, "_written_formulas")
    assert str(model.formula()) == "2*x0 + 1"


def test_formula_asks_for_expression_not_any_fitted_attribute():
    """Kills ``check_is_fitted(self, "expression_")`` -> ``check_is_fitted(self)`` / ``(self, None)``
    (formula__mutmut_3, _5): with no attribute named, scikit-learn calls any trailing-underscore attribute a fit,
    and an estimator holding ``n_features_in_`` (scikit-learn's validation sets it first) but no formula raised
    AttributeError instead of "not fitted"."""
    import pytest
    from sklearn.exceptions import NotFittedError

    model = CGPRegressor()
    model.n_features_in_ = 1
    with pytest.raises(NotFittedError):
        model.formula()


# ----------------------------------------------------------------- readable_formulas


def test_a_formula_that_z_would_change_beyond_round_off_stays_in_the_input_s_units():
    """Kills ``rewritten(formula, replacements, points)`` -> ``rewritten(formula, replacements, None)``
    (readable_formulas__mutmut_30): without the rows, every formula of a year is written in z, even one whose
    values z changes (a sextic multiplied out in the year cancels terms of 1e20: evaluated in z it is another
    function than the one the explainer predicts with); such a formula stays in x0 and defines no z."""
    formula = sympy.expand((sympy.Symbol("x0", real=True) - sympy.Float(2005)) ** 6)
    from srnet.explain.formulas import readable_formulas

    (read,), written = readable_formulas([formula], YEARS)
    assert {s.name for s in read.free_symbols} == {"x0"} and written == {}
    # (the guard is no blanket refusal: a formula z leaves alone is written in z, and z defined)
    (read,), written = readable_formulas([sympy.Float(1.2e122) * sympy.exp(-0.14 * X0)], YEARS)
    assert {s.name for s in read.free_symbols} == {"z_x0"} and list(written) == [X0]


# ----------------------------------------------------------------- compare: _definitions_text, Comparison.table


def _two_far_inputs():
    from srnet.explain.formulas import _read

    x0, x1 = make_symbols(2)
    rng = np.random.default_rng(1)
    X = np.column_stack([YEARS[:, 0], 1.7e9 + rng.uniform(0, 3e7, len(YEARS))])
    explainer = SimpleNamespace(formulas_=[sympy.Float(3.0) * sympy.exp(-0.14 * (x0 - 2000)) + 1e-7 * x1])
    _read(explainer, X)
    return explainer


def test_definitions_without_feature_names_name_x_and_z():
    """Kills in ``_definitions_text``: ``feature_names is not None or True`` (mutmut _12: names looked up in
    ``None``), ``named.get(z.name, None)`` / ``named.get(z.name)`` (_18, _19, _20: "None = ..."),
    ``named.get(x.name, None)`` / ``named.get(x.name)`` (_28, _29, _30: "(None - 2005)/8.66") and the separator
    ``"XX; XX"`` (_16).  Arrays have no names: the comparison must define z_x0 and z_x1 by x0 and x1, one
    after the other."""
    from srnet.compare import _definitions_text

    explainer = _two_far_inputs()
    assert set(explainer.standardised_symbols_) == {"z_x0", "z_x1"}
    text = _definitions_text(explainer)
    first, second = text.split("; ")
    assert first == f"z_x0 = {explainer.standardised_symbols_['z_x0']}" and first.startswith("z_x0 = (x0 - ")
    assert second == f"z_x1 = {explainer.standardised_symbols_['z_x1']}" and second.startswith("z_x1 = (x1 - ")
    assert _definitions_text(explainer, ["year", "t"]) == "; ".join(
        [first.replace("x0", "year"), second.replace("x1", "t")])


def test_the_table_joins_different_definitions_with_a_semicolon():
    """Kills ``'; '.join(definitions)`` -> ``'XX; XX'.join(definitions)`` in ``Comparison.table``
    (table__mutmut_107): explainers whose formulas write different z (one reads the year only) print both
    definitions, each once, in one line."""
    from srnet.compare import Comparison

    record = {"domain": "interpolation", "rmse": 0.1, "r2": 0.99, "agreement": None, "rmse_around": 0.1,
              "agreement_around": None, "seconds": 1.0, "size": 5}
    both, year = "z_year = (year - 2006.19)/9.04; z_t = (t - 1.715e+09)/8.66e+06", "z_year = (year - 2006.19)/9.04"
    records = [{**record, "explainer": "srnet", "formula": ["z_year + z_t"], "standardised_symbols": both},
               {**record, "explainer": "xnet", "formula": ["z_year"], "standardised_symbols": year},
               {**record, "explainer": "pyoperon", "formula": ["2*z_year"], "standardised_symbols": year}]
    table = Comparison("regression", records, {}, {}, {}, {}).table()
    assert table.endswith(f"each constant would need many more digits: {both}; {year})")


# ----------------------------------------------------------------- summary.md's regression table, formula_reads


def test_an_explainer_without_an_extrapolation_figure_gets_no_extrapolation_column():
    """Kills ``c.replace("_interpolation_", ...)`` -> ``c.replace("XX_interpolation_XX", ...)`` /
    ``("_INTERPOLATION_", ...)`` in the column filter (report table__mutmut_74, _75): the filter then tested the
    interpolation column itself, and a summary whose MAPLE has no extrapolation figure (a summary.csv written
    before) got an empty "maple R2 extrap" column.  Also kills the SRNet column's own header mutated
    (table__mutmut_26, _28: "XXSRNet R2 extrapXX", "SRNET R2 EXTRAP"), the name README's columns list gives."""
    import pandas as pd

    from srnet.bench.report import table

    rows = pd.DataFrame({"dataset": ["a"], "method": ["m"], "status": ["ok"], "srnet_interpolation_r2": [0.98],
                         "srnet_extrapolation_r2": [-685.0], "network_test_r2": [0.9], "srnet_complexity": [10],
                         "total_seconds": [1.0], "lime_interpolation_r2": [0.99], "lime_extrapolation_r2": [0.986],
                         "maple_interpolation_r2": [0.97]})
    lines = table(rows, "regression")
    header = next(line for line in lines if line.startswith("| dataset |"))
    assert header.startswith("| dataset | method | ok/jobs | SRNet R2 interp | SRNet R2 extrap | net test R2 | "
                             "lime R2 interp | maple R2 interp | lime R2 extrap | complexity |")
    assert "maple R2 extrap" not in header


def test_formula_reads_of_standardised_inputs_and_a_raw_target_says_no_more():
    """Kills ``... if standardised.get("target") else ""`` -> ``else "XXXX"`` (formula_reads__mutmut_13):
    summary.csv's srnet_formula_reads of a classification table (inputs standardised, classes as they are) is
    one sentence, word for word."""
    from srnet.bench.report import formula_reads

    assert formula_reads({"features": True, "target": False, "mean": [1.0], "scale": [2.0]}) == (
        "standardised columns, x_j = (column j - mean_j)/sd_j over the training rows (the job's JSON: "
        "data.feature_names and data.standardised's means and scales)")


# ----------------------------------------------------------------- srnet.cli._terminate_as_interrupt


_SIGNALS = """
import logging, signal, threading, time
import srnet.cli
from srnet.cli import _terminate_as_interrupt

log = logging.getLogger("distributed")
log.setLevel(logging.WARNING)
seen = []
def body():
    try:
        with _terminate_as_interrupt() as terminated:
            seen.append(terminated == [])
    except BaseException as error:
        seen.append(type(error).__name__)
thread = threading.Thread(target=body)
thread.start(); thread.join()
print("thread", seen)

signal.signal(signal.SIGINT, signal.SIG_IGN)
with _terminate_as_interrupt():
    print("ignored", signal.getsignal(signal.SIGINT) is signal.SIG_IGN, callable(signal.getsignal(signal.SIGTERM)))
signal.signal(signal.SIGINT, signal.default_int_handler)

try:
    with _terminate_as_interrupt():
        print("before", log.level)
        try:
            signal.raise_signal(signal.SIGTERM)
            time.sleep(5)
        except KeyboardInterrupt:
            print("during", log.level)
except KeyboardInterrupt:
    print("second")
print("after", log.level)

srnet.cli.DUPLICATE_SIGNAL_SECONDS = 0.2
try:
    with _terminate_as_interrupt() as terminated:
        try:
            signal.raise_signal(signal.SIGTERM)
            time.sleep(5)
        except KeyboardInterrupt:
            time.sleep(0.4)
            signal.raise_signal(signal.SIGINT)
            time.sleep(5)
            print("later stop ignored")
except KeyboardInterrupt:
    print("later stop", terminated)
"""


def test_the_stop_handler_off_the_main_thread_with_sigint_ignored_and_its_log_level():
    """Hand-made mutants of ``_terminate_as_interrupt`` (in a fresh process: signal handlers are per process):
    (1) the main-thread guard dropped, or its ``return`` dropped (the body run twice, "generator didn't stop"):
    a batch run from a thread (a notebook's worker) raised ValueError from signal.signal;
    (2) ``signal.getsignal(SIGINT) is default_int_handler`` -> always true: a batch started in a script's
    background, whose SIGINT is ignored, became stoppable by Ctrl-C meant for the shell;
    (3) ``dask_log.setLevel(CRITICAL)`` dropped: Dask logged an ERROR per worker the stop killed;
    (4) ``dask_log.setLevel(level)`` in ``finally`` dropped: Dask's log stayed silenced after the batch;
    (5) the duplicate window ignored (``if first: return``): a Ctrl-C pressed well after the first stop no longer
    stopped the clean-up, where Python's own handler would."""
    done = subprocess.run([sys.executable, "-c", _SIGNALS], capture_output=True, text=True, timeout=60)
    assert done.stdout.splitlines() == ["thread [True]", "ignored True True", "before 30", "during 50", "after 30",
                                        "later stop [True]"], done.stdout + done.stderr[-2000:]
