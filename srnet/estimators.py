"""scikit-learn estimators over the CGP engine."""

from __future__ import annotations

import contextlib
import math

import numpy as np
import sympy
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted
from sklearn.utils.validation import validate_data as sklearn_validate_data

from srnet.cgp._fitness import CONSTANT_VARIANCE
from srnet.cgp.driver import FinishOnInterrupt, check_budgets
from srnet.cgp.evolve import DEFAULT_MUTATION, DEFAULT_MUTATION_RATE, as_feature_rows, evolve, outputs_of
from srnet.cgp.genome import DEFAULT_CONSTANT_POOL, GenomeSpec
from srnet.cgp.primitives import PAPER_FUNCTIONS
from srnet.coordinates import (
    InputMap,
    in_input_units,
    in_search_coordinates,
    search_coordinates,
    written_definitions,
    written_standardised,
)
from srnet.data import check_budget, check_finite, first_rejected_cell
from srnet.expr.program import Program
from srnet.expr.symbolic import (
    make_symbols,
    reduced_phases,
    residue_points,
    round_faithfully_together,
    simplify_all,
    standardised_form,
    tidy_constants,
    to_sympy,
)
from srnet.formulas import Formula, singularities, warn_of_constant_inputs
from srnet.names import feature_symbols, frame_columns
from srnet.progress import SearchProgress


def linear_scaling(F: np.ndarray, Y: np.ndarray):
    """Per-output least-squares ``Y[:, j] ~ a_j * F[:, j] + b_j``.

    Same rule as the engine's fitness (a constant output gets a = 0).
    Returns ``(a, b)`` arrays of length n_outputs.
    """
    with np.errstate(over="ignore", invalid="ignore"):  # outputs of 1e200: inf/NaN, which the callers refuse
        mean_f, mean_y = F.mean(axis=0), Y.mean(axis=0)
        dF, dY = F - mean_f, Y - mean_y
        s_ff = (dF * dF).sum(axis=0)
        s_fy = (dF * dY).sum(axis=0)
        n = F.shape[0]
        # the engine's rule (srnet.cgp._fitness): variance at most CONSTANT_VARIANCE of the mean square is rounding
        scalable = s_ff > CONSTANT_VARIANCE * (s_ff + n * mean_f * mean_f)
        a = np.where(scalable, s_fy / np.where(scalable, s_ff, 1.0), 0.0)
        return a, mean_y - a * mean_f


def record_feature_symbols(estimator) -> list[str] | None:
    """Record on a fitted estimator, as ``feature_symbols_`` (column -> symbol), the symbol names of its
    DataFrame's columns (:func:`srnet.names.feature_symbols`: ``E`` -> ``E_``, not Euler's number;
    ``2x`` -> ``x2x``), and return them; None (and ``feature_symbols_`` None) without column names."""
    names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        estimator.feature_symbols_ = None
        return None
    symbols = feature_symbols([str(n) for n in names])
    estimator.feature_symbols_ = dict(zip((str(n) for n in names), symbols))
    return symbols


#: The most significant digits ``formula()`` prints: every float64 is read back from 17 (``expression_`` holds
#: them all), and 15 are exact for any decimal of that many.
MAX_DIGITS = 15


class ReadableFormulaMixin:
    """``formula(digits)``: ``expression_`` as a person reads it, for the estimators that fit one."""

    def formula(self, digits: int = 4):
        """``expression_`` with its constants rounded to ``digits`` significant digits, or to more where that
        rounding would move the formula by over 1e-3 of its spread at 16 training rows spread over them
        (:data:`srnet.expr.symbolic.RESIDUE_POINTS`; :func:`srnet.expr.symbolic.round_faithfully`: terms that
        nearly cancel keep their difference), without the tiny terms and biases that move it by under 1e-5 of
        its spread there (none inside a log or a divisor); a list for several targets.  Between those rows the
        rounded formula may move further (a breast-cancer classifier's logit by 3e-3 of its spread at its
        worst row, no class changed).  An input whose centre lies 100 spreads or more from 0 (a year, a Unix
        time) is written as its search coordinate, defined in ``standardised_symbols_`` (``z_year`` ->
        ``"(year - 2005)/8.66"``), as SRNet's formulas write it: in its own units, X-Net's formula of
        3*exp(-0.14*(year - 2000)) read ``1.201e+122*exp(-0.14*year)``.  Periodic functions' phases are
        moved into [-pi/2, pi/2] (:func:`srnet.expr.symbolic.reduced_phases`).  ``digits`` beyond
        :data:`MAX_DIGITS` (15) print 15.  For reading: ``predict`` computes ``expression_`` itself, every
        digit."""
        check_is_fitted(self, "expression_")
        # (float64 holds 15 to 17 significant digits: formula(20) printed 3.1415899999999994385 for 3.14159)
        digits = min(check_budget("digits", digits, integer=True), MAX_DIGITS)
        several = isinstance(self.expression_, list)
        written = getattr(self, "_written_formulas", None)  # (None too: pickled before they were kept)
        read = written or (self.expression_ if several else [self.expression_])
        rounded = round_faithfully_together([reduced_phases(f) for f in read], digits,  # (outputs alike)
                                            getattr(self, "_formula_points", None))
        return rounded if several else rounded[0]


def program_formulas(estimator, program: Program, X: np.ndarray, simplify_seconds: float, *,
                     interrupted: bool, mapping: InputMap | None) -> list:
    """The program's formulas (one per target) as the estimator's ``expression_`` prints them: constants tidied
    against the data, then simplified within ``simplify_seconds``.  Run as the finish of a search: a Ctrl-C
    here (or one that ended the search, ``interrupted``) keeps the tidied formulas instead of losing the fit,
    and a second one interrupts (:class:`srnet.cgp.driver.FinishOnInterrupt`).  Records what ``formula()``
    reads: the rows it rounds at, ``standardised_symbols_`` and the formulas written with them.

    An input whose centre lies far from 0 for its spread (:func:`srnet.coordinates.written_standardised` of
    ``mapping``, the search's map) is simplified as its search coordinate z, and ``expression_`` is that formula
    with z put back as ``(x - centre)/scale``: simplified in a year's own units, X-Net's polynomial of
    ``(year - 2006)/9.04`` was multiplied out into terms of 1e12 that cancel in float64, and its exponential
    read ``1.201e+122*exp(-0.14*year)``."""
    # plain real symbols: the formula must equal predict on every real input, not only on the data's signs
    symbols = make_symbols(X.shape[1], record_feature_symbols(estimator))
    written = written_standardised(mapping, symbols)
    # an intercept is round-off only when it is tiny beside the formula's values on the data, not only beside
    # its coefficients (inputs in SI units: 1.2e19*x0 + 0.5 lost its 0.5); z's values beside the inputs'
    replacements, points = standardised_form(written, residue_points(symbols, X))
    read_as = [replacements.get(symbol, symbol) for symbol in symbols]  # x, or centre + scale*z
    with FinishOnInterrupt("interrupted: finishing the formula found so far (Ctrl-C again to abandon the fit)",
                           requested=interrupted) as finishing:
        formulas = [tidy_constants(f, points=points) for f in to_sympy(program, read_as)]
        if not finishing.requested:
            # tidied again where simplifying changed a formula: multiplied out, 1.0*(x0 + 1e-16)**2 leaves its
            # rounding noise as terms of their own (1.0*x0**2 - 1.658e-16*x0 + 1.0*x1 + 1.34e-15 for x0**2 + x1)
            simplified = simplify_all(formulas, simplify_seconds)
            formulas = [f if f is before else tidy_constants(f, points=points)
                        for f, before in zip(simplified, formulas)]
    estimator._formula_points = points  # (formula() rounds at them; set with the formulas, as the fit's own)
    estimator.standardised_symbols_ = written_definitions(written)
    estimator._written_formulas = formulas if written else None
    back = {z: (x - sympy.Float(centre)) / sympy.Float(scale) for x, (z, centre, scale) in written.items()}
    formulas = [f.xreplace(back) for f in formulas] if written else formulas
    warn_of_constant_inputs(formulas, X, symbols)
    return formulas


def program_singularities(estimator, program: Program, X: np.ndarray, source: str) -> list[str]:
    """Where the formula of a fitted estimator's ``program`` is not what ``predict`` computes inside X's box
    (:func:`srnet.formulas.singularities`), its inputs named as ``expression_`` names them: the
    ``singularities_`` of CGPRegressor and of X-Net's estimators."""
    symbols = getattr(estimator, "feature_symbols_", None)
    return singularities(Formula(source, (program,)), X,
                         make_symbols(X.shape[1], symbols and list(symbols.values())))


#: A target varying less than this has squared errors that underflow float64 (a 1e-162 target scored 0
#: at generation 2 with a poor formula): refused, with advice to rescale.
SMALLEST_VARIANCE = 1e-280


#: What a fit sets from X before it can be refused: scikit-learn's validation, then the columns' symbols
#: (:func:`record_feature_symbols`; left by an abandoned first fit, it made the estimator look fitted, and predict
#: raised AttributeError instead of NotFittedError).
_INPUT_ATTRIBUTES = ("n_features_in_", "feature_names_in_", "feature_symbols_")


@contextlib.contextmanager
def last_fit_kept_on_failure(estimator):
    """A refit that raises leaves the last fit whole: scikit-learn's validation resets ``n_features_in_``
    (and drops ``feature_names_in_``) before the refit is refused, and ``predict`` then refused the data
    of the fit whose formula it still computes (``feature_symbols_`` named the refused data's columns)."""
    saved = {name: getattr(estimator, name) for name in _INPUT_ATTRIBUTES if hasattr(estimator, name)}
    try:
        yield
    except BaseException:
        for name in _INPUT_ATTRIBUTES:
            if name in saved:
                setattr(estimator, name, saved[name])
            elif hasattr(estimator, name):
                delattr(estimator, name)
        raise


def validate_data(estimator, X, y="no_validation", **kwargs):
    """scikit-learn's ``validate_data``, with its NaN/inf error in one line that says where the first one is
    (scikit-learn's is a paragraph recommending other estimators)."""
    # dates: a frame's ended in numpy's DTypePromotionError (a paragraph), an array's fitted days since 1970
    frame_columns(X)  # (text and numbered names mixed: scikit-learn's TypeError, a paragraph)
    # (a Series' dtypes is one dtype: its own dtype is checked below)
    dates = [f" (column {column!r})" for column, dtype in (X.dtypes.items() if hasattr(X, "columns") else ())
             if getattr(dtype, "kind", None) in ("m", "M")]
    if dates or getattr(getattr(X, "dtype", None), "kind", None) in ("m", "M"):
        raise ValueError(f"X holds dates or durations{dates[0] if dates else ''}; convert them to numbers first")
    try:
        # (its finiteness check sums the values first: inputs near 1e308 overflowed there, and numpy's "invalid
        # value encountered in reduce" reached the user beside a fit that was right)
        with np.errstate(over="ignore", invalid="ignore"):
            return sklearn_validate_data(estimator, X, y, **kwargs)
    except ValueError as error:
        # text: "could not convert string to float" (numpy's string dtype: "Cannot cast str dtype to float64")
        if "string to float" in str(error) or "str dtype" in str(error):
            raise ValueError(_text_column(X) or _prose(error)) from None
        if "NaN" not in str(error) and "infinity" not in str(error):
            raise ValueError(_prose(error)) from None
        for name, values in (("X", X), ("y", None if isinstance(y, str) else y)):
            try:  # pandas' missing value (pd.NA, of nullable integer columns) is not a float: made NaN
                values = (values.to_numpy(dtype=np.float64, na_value=np.nan) if hasattr(values, "to_numpy")
                          else np.asarray(values, dtype=np.float64))
            except (TypeError, ValueError):
                continue
            try:
                if values.ndim in (1, 2):
                    check_finite(values, name)
            except ValueError as located:
                raise located from None  # (not "during handling of scikit-learn's paragraph")
        raise ValueError(_prose(error)) from None


def _text_column(X) -> str | None:
    """Which column of X holds text that is no number, as a message (numpy's "could not convert string to
    float: np.str_('a')" named neither the column nor what to do); None where none is found."""
    frame = X if hasattr(X, "columns") and hasattr(X, "iloc") else None
    rows = np.asarray(X, dtype=object) if frame is None else frame.to_numpy(dtype=object)
    found = first_rejected_cell(rows.T) if rows.ndim == 2 else None  # column by column: the first text column
    if found is None or found[2]:  # (a number too long for a float is no text)
        return None
    (j, _), value, _ = found
    name = repr(str(frame.columns[j])) if frame is not None else str(j)
    return (f"X column {name} holds text such as {str(value)!r}; the formula's inputs are numbers: encode it first "
            f"(one-hot, or numeric codes)")


def _prose(error: Exception) -> str:
    """scikit-learn's message in one line, without the arrays it prints (a 1-D X printed every value, a complex
    one the whole matrix, between the sentences that say what to do)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    prose, listed = [], set()
    for line in lines:
        if line.startswith("- ") and prose:  # a list of names (columns unseen at fit time): kept, on one line
            prose[-1] += ("" if len(prose) - 1 not in listed else ",") + " " + line[2:]
            listed.add(len(prose) - 1)
        elif not line.startswith(("array=", "[", "-", ".")) and not line[0].isdigit():
            prose.append(line)
    return " ".join(f"{line}." if i in listed else line for i, line in enumerate(prose)) or " ".join(lines[:1])


#: Fewest samples a formula regressor fits: the output's linear scaling a*f + b fits any two points exactly
#: (on two rows CGPRegressor returned 578.1*sin(log|x0|)**4 - 59.99, predicting 125.5 where y was 1.1).
MIN_SAMPLES = 3


def validate_regression(estimator, X, y):
    """What every formula regressor checks in ``fit``: scikit-learn's
    ``validate_data`` (float64, one or more targets), at least
    :data:`MIN_SAMPLES` samples, and no constant target (there is no formula
    to find).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray, as validated (1-D for one target)
    Y : ndarray of shape (n_samples, n_targets)
    """
    X, y = validate_data(estimator, X, y, y_numeric=True, multi_output=True, dtype=np.float64)
    # float64 as X is: a float32 y's mean, variance and linear scaling were float32's (3*x0*x1 + 7 came out
    # 2.99999999944616*x0*x1 + 7.00000026723096); booleans (np.ptp cannot subtract them); text (y_numeric converts
    # only object arrays: numpy's own error leaked)
    if y.dtype != np.float64:
        try:
            y = y.astype(np.float64)
        except ValueError:
            raise ValueError(f"y must be numbers; got text such as '{y.flat[0]}'") from None
        if not np.all(np.isfinite(y)):
            raise ValueError("y contains NaN or inf")
    if X.shape[0] < MIN_SAMPLES:
        raise ValueError(f"n_samples = {X.shape[0]}: at least {MIN_SAMPLES} samples are needed to fit a formula "
                         f"(a*f + b fits any two points with any formula f)")
    Y = y.reshape(len(y), -1)
    constant = np.flatnonzero(np.ptp(Y, axis=0) == 0)
    if constant.size:  # of several targets, which (y as a whole was not constant)
        which = ("y is" if y.ndim == 1 else f"y's column {constant[0]} is" if constant.size == 1 else
                 f"y's columns {', '.join(str(c) for c in constant)} are")
        raise ValueError(f"{which} constant: there is no formula to find (every target needs some variance)")
    with np.errstate(over="ignore", under="ignore"):
        variance = Y.var(axis=0)
    # squared errors are the fitness: beyond float64's range every formula scores inf (or 0), and the
    # search stopped at generation 0 with a random formula
    if not np.all(np.isfinite(variance)) or np.any(variance < SMALLEST_VARIANCE):
        raise ValueError(f"y's scale ({float(np.max(np.abs(Y))):.3g}) is outside what squared errors can hold "
                         f"in float64; rescale y (e.g. divide it by its standard deviation)")
    return X, y, Y


class CGPRegressor(ReadableFormulaMixin, RegressorMixin, BaseEstimator):
    """Symbolic regression by Cartesian Genetic Programming.

    A (1+lambda) evolution strategy over CGP genomes, evaluated by compiled
    numba kernels, with each output linearly scaled (``y ~ a * f(X) + b``
    solved exactly) so that scale and offset never have to be evolved.

    Parameters
    ----------
    n_columns, n_rows : int, default=30, 1
        The node grid.
    levels_back : int or None, default=None
        How many columns back a node may read (None: all).
    functions : tuple of str or str, default=the SRNet paper's ten
        Primitive names (see ``srnet.cgp.primitives``), or "add,sub,...".
    n_constants : int, default=1
        Ephemeral constants (extra inputs drawn from ``constant_pool``).
    constant_pool : tuple of float, default=(1, 2, 3, 0.5)
    n_offspring : int, default=4
        lambda of the (1+lambda) strategy.
    mutation : {"point", "single"}, default="point"
        Point mutation at ``mutation_rate``, or single-active-gene mutation;
        the default is :func:`srnet.cgp.evolve`'s (the Nguyen benchmark's setting).
    mutation_rate : float, default=0.05
    max_generations, max_evaluations : int or None, default=None
    max_seconds : float or None, default=5.0
        Budgets; the first one reached stops the search.
    tol : float, default=1e-12
        Stop once the mean squared error falls below ``tol * var(y)`` (a finite number >= 0); for several
        targets, once the mean over targets of each one's squared error over its variance falls below ``tol``
        (each target counts alike, whatever its units).
    restart_after : int or None, default=2000
        Restart from a random genome after this many generations without
        improvement, keeping the best genome found.
    simplify_seconds : float, default=2.0
        Time allowed to simplify ``expression_`` (0: only cheap clean-ups).
    random_state : int, Generator or None, default=None
        With a generation or evaluation budget, the same seed gives the
        same formula; a ``max_seconds`` budget stops wherever the clock
        says, so set ``max_seconds=None`` and ``max_generations`` to
        reproduce a fit.
    n_threads : int or None, default=None
        Threads (None: numba's default).  On small data each thread evolves
        its own island; on large data they share each generation's
        evaluation (see :func:`srnet.cgp.evolve.choose_islands`).
    islands : int or None, default=None
        Independent populations with migration (None: chosen from the data's
        size and ``n_threads``).  Same ``random_state`` and islands, same
        formula (with a generation or evaluation budget).
    precision : {"float64", "float32"}, default="float64"
        What candidates are evaluated in during the search: float32 is faster
        (twice the SIMD lanes; see :func:`srnet.cgp.evolve.search_dtype`),
        float64 exact.  The formula, ``fitness_`` and predictions are float64
        either way.
    device : {"cpu", "cuda", "auto"}, default="cpu"
        Where candidates are evaluated: ``"cuda"`` on a CUDA GPU in float32,
        the data resident on the device; ``"auto"`` on the GPU from
        :data:`srnet.cgp.evolve.GPU_MIN_SAMPLES` samples when one is present
        (see :func:`srnet.cgp.evolve.evolve`).
    progress : bool, default=False
        Show a progress bar (stderr) of the budget spent and the best
        fitness so far.

    Attributes
    ----------
    expression_ : sympy.Expr or list of sympy.Expr
        The fitted formula (one per target for a 2-D ``y``).  It is what
        ``predict`` computes wherever no protection fires: where a
        denominator or a log's argument is within 1e-10 of 0 (an integer or
        one-hot column with zeros; a divisor ``2*exp(x0)`` for every x0 below
        -23, though simplified the formula reads ``exp(-x0)/2``),
        ``predict`` takes the protected value (1 or 0) and the printed
        ``a/b`` or ``log|a|`` is undefined or far from it, on the training
        rows too; ``singularities_`` says where.  Its symbols are real,
        ``sympy.Symbol("x0", real=True)`` (a plain ``Symbol("x0")`` is another symbol to sympy: ``subs``
        and ``diff`` with it change nothing); ``expression_.free_symbols`` holds them.
    singularities_ : list of str
        Where ``expression_`` is not what ``predict`` computes inside the
        training data's box, one note each (empty when nowhere): a divisor or
        a log's argument within 1e-10 of 0 at training rows, or crossing 0
        between them (:func:`srnet.formulas.singularities`).
    program_ : srnet.expr.Program
        The formula as data: evaluate it, export it to torch, save it as JSON.
    genome_ : srnet.cgp.Genome
        The evolved genome, which reads the inputs in search coordinates
        (``input_map_``); ``program_`` and ``expression_`` read X's own units.
    input_map_ : srnet.coordinates.InputMap or None
        Inputs beyond +-10, or of a spread under 0.05, searched as
        ``(x - centre) / scale`` (see :mod:`srnet.coordinates`); None when
        every input was searched as given.
    standardised_symbols_ : dict
        The inputs ``formula()`` writes as their search coordinate (a centre
        100 scales or more from 0: a year, a Unix time), ``z_year`` ->
        ``"(year - 2005)/8.66"``; empty when none.  ``expression_`` reads the
        inputs' own units.
    fitness_ : float
        Training mean squared error (the mean over targets for several).
    history_ : ndarray of shape (k, 4)
        ``(generation, evaluations, seconds, fitness)`` at each improvement: the search's fitness, which for
        several targets weighs each one's squared error by the targets' mean variance over its own.
    n_generations_, n_evaluations_ : int
    stop_reason_ : str
        What ended the search; ``"interrupted"`` after Ctrl-C, which keeps the
        best formula found so far.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X had string column names.
    feature_symbols_ : dict or None
        Column name -> its symbol in ``expression_`` (``E`` -> ``E_``, not
        Euler's number; ``sepal length`` -> ``sepal_length``); None without
        column names.
    """

    def __init__(self, *, n_columns=30, n_rows=1, levels_back=None, functions=PAPER_FUNCTIONS, n_constants=1,
                 constant_pool=DEFAULT_CONSTANT_POOL, n_offspring=4, mutation=DEFAULT_MUTATION,
                 mutation_rate=DEFAULT_MUTATION_RATE,
                 max_generations=None, max_evaluations=None, max_seconds=5.0, tol=1e-12, restart_after=2000,
                 simplify_seconds=2.0, random_state=None, n_threads=None, islands=None, precision="float64",
                 device="cpu", progress=False):
        self.n_columns = n_columns
        self.n_rows = n_rows
        self.levels_back = levels_back
        self.functions = functions
        self.n_constants = n_constants
        self.constant_pool = constant_pool
        self.n_offspring = n_offspring
        self.mutation = mutation
        self.mutation_rate = mutation_rate
        self.max_generations = max_generations
        self.max_evaluations = max_evaluations
        self.max_seconds = max_seconds
        self.tol = tol
        self.restart_after = restart_after
        self.simplify_seconds = simplify_seconds
        self.random_state = random_state
        self.n_threads = n_threads
        self.islands = islands
        self.device = device
        self.precision = precision
        self.progress = progress

    def fit(self, X, y, *, callback=None):
        """Evolve a formula for y from X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
        callback : callable, optional
            Called with a :class:`srnet.cgp.Progress` between chunks of
            generations; returning True stops the search.
        """
        with last_fit_kept_on_failure(self):
            return self._fit(X, y, callback)

    def _fit(self, X, y, callback):
        check_budget("simplify_seconds", self.simplify_seconds, positive=False)  # evolve checks the budgets
        tol = check_budget("tol", self.tol, positive=False)  # inf would stop at generation 0, 'abc' in a traceback
        X, y, Y = validate_regression(self, X, y)
        spread = Y.var(axis=0)
        # each target searched at the targets' mean variance: scored in their own units, a target of 1e8 set the
        # stop for all and one of 1 was left unfitted (R^2 0.0025, stopped at generation 12); one target: as is
        weighted = Y * np.sqrt(spread.mean() / spread)
        spec = GenomeSpec(n_inputs=X.shape[1], n_outputs=Y.shape[1], n_rows=self.n_rows, n_columns=self.n_columns,
                          levels_back=self.levels_back, functions=self.functions, n_constants=self.n_constants,
                          constant_pool=self.constant_pool)
        # inputs far from unit scale searched centred and scaled, as SRNet searches them: on ages in [20, 80] the
        # formulas reached R2 0.90-0.92 where the same search on standardised ages reached 0.98-0.99
        input_map = search_coordinates(X)
        X_rows = as_feature_rows(in_search_coordinates(X, input_map))
        check_budgets(self.max_generations, self.max_evaluations, self.max_seconds)  # before a bar is drawn
        with SearchProgress(self.progress, "CGPRegressor", self.max_seconds, self.max_generations) as bar:
            result = evolve(spec, X_rows, np.ascontiguousarray(weighted.T), fitness="scaled",
                            n_offspring=self.n_offspring, mutation=self.mutation, mutation_rate=self.mutation_rate,
                            max_generations=self.max_generations, max_evaluations=self.max_evaluations,
                            max_seconds=self.max_seconds, target_fitness=tol * float(spread.mean()),
                            restart_after=self.restart_after, random_state=self.random_state,
                            n_threads=self.n_threads, islands=self.islands, callback=bar.following(callback),
                            precision=self.precision, device=self.device)
        a, b = linear_scaling(outputs_of(result.genome, X_rows).T, Y)
        if not (math.isfinite(result.fitness) and np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
            raise ValueError("no formula with finite outputs on the data was found within the budget; "
                             "raise the budget, or rescale X (e.g. standardise it)")
        program = in_input_units(Program.from_genome(result.genome, np.diag(a), b), input_map)  # X's own units
        # "interrupted" after Ctrl-C: the best formula so far; every fitted attribute is set after the formulas
        # (a second Ctrl-C there leaves the estimator as it was, not half of a new fit)
        formulas = program_formulas(self, program, X, self.simplify_seconds,
                                    interrupted=result.stop_reason == "interrupted", mapping=input_map)
        self.genome_, self.program_, self.input_map_ = result.genome, program, input_map
        self.fitness_ = result.fitness if Y.shape[1] == 1 else float(np.mean((Y - program.combine(
            outputs_of(result.genome, X_rows).T)) ** 2))
        self.history_ = result.history
        self.n_generations_ = result.generations
        self.n_evaluations_ = result.evaluations
        self.stop_reason_ = result.stop_reason
        self._single_target = y.ndim == 1
        self.expression_ = formulas[0] if self._single_target else formulas
        # where expression_ is not what predict computes on the data's box (a divisor or log's argument at or
        # through 0: the search uses a protected x2/x2 as "x2 != 0" on count columns); the docstring said to
        # build a Formula by hand for it
        self.singularities_ = program_singularities(self, program, X, "direct")
        return self

    def predict(self, X):
        """The formula's value at each row of X: (n_samples,) or (n_samples, n_targets)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        rows = as_feature_rows(in_search_coordinates(X, self.input_map_))  # as the genome reads them
        Y = self.program_.combine(outputs_of(self.genome_, rows).T)
        return Y[:, 0] if self._single_target else Y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        # a time budget stops wherever the clock says (see random_state): only a generation or evaluation budget
        # alone reproduces a fit
        tags.non_deterministic = self.max_seconds is not None
        return tags
