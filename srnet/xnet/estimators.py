"""X-Net as scikit-learn estimators: :class:`XNetRegressor` and :class:`XNetClassifier`.

Both validate their input, train a forest of X-Net trees (one per target, or
per class logit) with :func:`srnet.xnet.train.train`, and keep the result as
a :class:`srnet.expr.Program` (``program_``), from which ``predict`` and the
sympy formula (``expression_``) both come: the formula is what the
estimator computes wherever no protection of the primitive table fires
(``div`` by ~0 gives 1, ``log`` of ~0 gives 0, ``exp`` is capped at 80: the
printed ``a/b``, ``log|a|`` and ``exp`` are the mathematics away from those
points).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from srnet.cgp.primitives import function_names, primitive
from srnet.coordinates import InputMap, in_search_coordinates, search_coordinates
from srnet.data import check_budget, check_labels_present, random_generator
from srnet.estimators import (
    MIN_SAMPLES,
    ReadableFormulaMixin,
    last_fit_kept_on_failure,
    program_formulas,
    program_singularities,
    validate_data,
    validate_regression,
)
from srnet.expr.torch_module import torch_threads
from srnet.metrics import softmax
from srnet.progress import SearchProgress
from srnet.train import torch_device
from srnet.xnet.constants import RULES
from srnet.xnet.train import Settings, count_nodes, train
from srnet.xnet.tree import LEAF, postorder, to_program

#: The default library: srnet's arithmetic and the paper's elementary functions.
DEFAULT_FUNCTIONS = ("add", "sub", "mul", "div", "sin", "cos", "exp", "log", "sqrt", "square")
TARGETS = ("newton", "gradient")
INITS = ("auto", "random", "linear")
#: ``init="auto"`` starts linear from this many inputs on: a random start reads a few of them (a
#: tree of 15 neurons has at most 8 leaves).  On the classification benchmarks (3 seeds x 30 s) a
#: linear start gained 3-5 points of accuracy on both sets of 13 inputs (wine 95.6 -> 98.5 %, heart
#: 78.4 -> 83.8 %) and 2-3 points from 18 inputs on, while random did as well or better with 8 inputs
#: (pima 76.9 vs 76.2 %) and 4 (iris 99.1 vs 97.4 %).
AUTO_LINEAR_INPUTS = 10
#: ``max_nodes=None``: neurons per tree (or room for a linear start, if more).
DEFAULT_MAX_NODES = 15
ACCEPT = ("all", "improve", "elitist")
#: Rows held out by default (``validation_fraction=None``) to choose the forest returned and stop its polish.
DEFAULT_VALIDATION_FRACTION = 0.2


def split_library(functions) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Primitive names (a sequence or ``"add,mul,..."``, see :func:`function_names`) as (unary, binary)."""
    prims = [primitive(name) for name in function_names(functions)]
    return (tuple(p.name for p in prims if p.arity == 1), tuple(p.name for p in prims if p.arity == 2))


def _fold_input_map(roots, mapping: InputMap | None) -> None:
    """Leaves read an input's search coordinate ``(x - centre) / scale`` during the search (see
    :mod:`srnet.coordinates`: the map CGPRegressor's and SRNet's searches use); a leaf ``w*z + b`` is then
    ``(w/scale)*x + (b - w*centre/scale)``, so its weight and bias take the map, in place, and the trees read X
    as given.  Why the map: the search clips a neuron's raw value at ``clip`` (1e6), so with inputs of 1e3 a
    product x0*x1 could never be chosen (R2 0.70 on x0*x1 + x2 - x3), with 1e7 not even a leaf; and an input
    in the tens (an age) or far from 0 (a year) reads in constants the library's functions do not suit."""
    if mapping is None:
        return
    for root in roots:
        for node in postorder(root):
            if node.op == LEAF:
                factor, centre = float(mapping.factor[node.var]), float(mapping.centre[node.var])
                node.bias -= node.weight * factor * centre
                node.weight *= factor


class _XNetBase(ReadableFormulaMixin, BaseEstimator):
    """What both estimators share: parameters, their checks, the search, the formula."""

    def __init__(self, *, functions=DEFAULT_FUNCTIONS, max_nodes=None, init="auto", max_seconds=5.0,
                 max_iterations=None, tol=1e-12, init_depth=2, constant_steps=5, constants="newton",
                 target="newton", accept="all", patience=20, restart_after=100, parsimony=0.0,
                 validation_fraction=None, clip=1e6, simplify_seconds=2.0, random_state=None, device="cpu",
                 n_threads=1, progress=False):
        self.functions = functions
        self.max_nodes = max_nodes
        self.init = init
        self.max_seconds = max_seconds
        self.max_iterations = max_iterations
        self.tol = tol
        self.init_depth = init_depth
        self.constant_steps = constant_steps
        self.constants = constants
        self.target = target
        self.accept = accept
        self.patience = patience
        self.restart_after = restart_after
        self.parsimony = parsimony
        self.validation_fraction = validation_fraction
        self.clip = clip
        self.simplify_seconds = simplify_seconds
        self.random_state = random_state
        self.device = device
        self.n_threads = n_threads
        self.progress = progress

    def _init(self, n_inputs: int, binary) -> str:
        """``init`` checked, "auto" resolved: linear from :data:`AUTO_LINEAR_INPUTS` inputs on, when the
        library has ``add`` and ``max_nodes`` leaves room for the sum; else random."""
        if self.init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}; got {self.init!r}")
        if self.init != "auto":
            return self.init
        max_nodes = check_budget("max_nodes", self.max_nodes, allow_none=True, integer=True, minimum=1)
        room = max_nodes is None or max_nodes >= 2 * n_inputs - 1  # 19.0 as 19 (it chose random)
        return "linear" if n_inputs >= AUTO_LINEAR_INPUTS and "add" in binary and room else "random"

    def _max_nodes(self, n_inputs: int, binary, init: str) -> int:
        """The neurons per tree, checked (``max_nodes=None``:
        :data:`DEFAULT_MAX_NODES`, or room for a linear start if more)."""
        check_budget("max_nodes", self.max_nodes, allow_none=True, integer=True, minimum=1)
        linear_size = 2 * n_inputs - 1
        max_nodes = self.max_nodes
        if max_nodes is None:
            max_nodes = max(DEFAULT_MAX_NODES, linear_size) if init == "linear" else DEFAULT_MAX_NODES
        if init == "linear":
            if "add" not in binary:
                raise ValueError("init='linear' sums the inputs with add neurons; add 'add' to functions")
            if max_nodes < linear_size:
                raise ValueError(f"init='linear' needs max_nodes >= {linear_size} (2 x {n_inputs} inputs - 1); "
                                 f"got {max_nodes}")
        return int(max_nodes)

    def _settings(self, n_inputs: int) -> Settings:
        unary, binary = split_library(self.functions)
        seconds = check_budget("max_seconds", self.max_seconds, allow_none=True)
        iterations = check_budget("max_iterations", self.max_iterations, allow_none=True, integer=True)
        if seconds is None and iterations is None:
            raise ValueError("give a budget: max_seconds or max_iterations (both are None)")
        init = self._init(n_inputs, binary)
        max_nodes = self._max_nodes(n_inputs, binary, init)
        for name, value, lowest in (("init_depth", self.init_depth, 1),
                                    ("constant_steps", self.constant_steps, 0), ("patience", self.patience, 1)):
            check_budget(name, value, integer=True, minimum=lowest)
        restart = check_budget("restart_after", self.restart_after, allow_none=True, integer=True, minimum=1)
        for name, value, valid in (("constants", self.constants, RULES), ("target", self.target, TARGETS),
                                   ("accept", self.accept, ACCEPT)):
            if value not in valid:
                raise ValueError(f"{name} must be one of {', '.join(valid)}; got {value!r}")
        check_budget("tol", self.tol, positive=False)
        check_budget("parsimony", self.parsimony, positive=False)
        check_budget("clip", self.clip)
        check_budget("simplify_seconds", self.simplify_seconds, positive=False)
        return Settings(unary, binary, max_seconds=seconds, max_iterations=iterations, tol=float(self.tol),
                        max_nodes=max_nodes, init_depth=int(self.init_depth),
                        constant_steps=int(self.constant_steps), constants=self.constants, target=self.target,
                        accept=self.accept, patience=int(self.patience), restart_after=restart,
                        parsimony=float(self.parsimony), clip=float(self.clip), init=init)

    def _search(self, X: np.ndarray, Y, loss: str, n_trees: int, scale=None, offset=None, strata=None,
                single: bool = True, fitted: dict | None = None):
        """Train, then set every fitted attribute shared by both estimators.

        ``Y``: the training targets as a tensor, one row per row of X;
        ``strata``: labels to stratify the validation split by; ``single``:
        one formula is ``expression_`` itself (else a list, even of one);
        ``fitted``: the estimator's own fitted attributes (``classes_``), set
        with the others once the search is done: a refit that fails leaves
        the last fit whole (its labels read with another fit's classes).
        """
        settings = self._settings(X.shape[1])
        fraction = self.validation_fraction
        if fraction is None:
            fraction = DEFAULT_VALIDATION_FRACTION
        fraction = check_budget("validation_fraction", fraction, positive=False)
        if not fraction < 1:
            raise ValueError(f"validation_fraction must be < 1, got {fraction}")
        threads = check_budget("n_threads", self.n_threads, integer=True, minimum=1)
        device = torch_device(self.device)
        rng = random_generator(self.random_state)
        input_map = search_coordinates(X)
        X_t = torch.tensor(in_search_coordinates(X, input_map), dtype=torch.float64, device=device)  # (a copy)
        rows, valid = self._split(len(X), fraction, strata, rng)
        if valid is not None:
            valid = (X_t[valid], Y[valid])
            X_t, Y = X_t[rows], Y[rows]
        with torch_threads(threads), SearchProgress(self.progress, type(self).__name__, settings.max_seconds,
                                                     settings.max_iterations, unit="it", loss_name="loss") as bar:
            result = train(X_t, Y, loss, n_trees, settings, rng, valid, on_iteration=bar, on_phase=bar.phase)
            _fold_input_map(result.roots, input_map)  # the trees read X as given from here on
            program = to_program(result.roots, X.shape[1], scale, offset)
            bar.phase("writing the formula")  # seconds for a forest of a thousand neurons
            # every fitted attribute is set after the formulas (a second Ctrl-C there leaves the estimator as it
            # was)
            formulas = program_formulas(self, program, X, self.simplify_seconds,
                                        interrupted=result.stop_reason == "interrupted", mapping=input_map)
        for name, value in (fitted or {}).items():
            setattr(self, name, value)
        self.trees_ = result.roots
        self.input_map_ = input_map
        self.program_ = program
        self.loss_ = result.loss
        if not math.isfinite(result.loss):  # (one iteration of a 3-class set: 19 of 30 seeds, predict_proba 0.5/0.5)
            warnings.warn(f"{type(self).__name__} found no forest of finite loss in {result.iterations} "
                          f"iteration(s) (each overflowed or left a function's domain): its predictions mean "
                          f"nothing; give it more max_iterations or max_seconds", RuntimeWarning, stacklevel=3)
        self.front_ = result.front
        self.history_ = result.history
        self.n_iterations_ = result.iterations
        self.n_restarts_ = result.restarts
        self.n_perturbations_ = result.perturbations
        self.stop_reason_ = result.stop_reason
        # where expression_ is not what predict computes in the data's box (a divisor or log's argument at or
        # through 0 between the rows: the steps keep them clear of it at the training rows, not beyond)
        self.singularities_ = program_singularities(self, program, X, "xnet")
        self.n_nodes_ = count_nodes(result.roots)
        self.n_parameters_ = 2 * self.n_nodes_  # a weight and a bias per neuron
        # one formula for a 1-D y or a binary classifier; a list for a 2-D y, one column or more
        self.expression_ = formulas[0] if len(formulas) == 1 and single else formulas
        return self

    @staticmethod
    def _split(n: int, fraction: float, strata, rng):
        """Training and validation row indices (validation None when there is none to hold out)."""
        # a regressor keeps 3 rows at least, as it needs 3 to fit (a*f + b fits any 2 exactly: 3 rows were fitted
        # on 2, R2 -1.5 on the rest); a classifier 2, a row of each class; a fraction near 1 holds out all it can
        # (it held out none at 0.99 of 60 rows, while 0.97 held out 58)
        n_valid = min(int(round(fraction * n)), n - (2 if strata is not None else MIN_SAMPLES))
        if n_valid < 1:
            return None, None
        if strata is None:
            order = rng.permutation(n)
            return np.sort(order[n_valid:]), np.sort(order[:n_valid])
        valid = []
        for label in np.unique(strata):  # every class keeps a row to train on (a fraction of 0.75 held out
            members = rng.permutation(np.flatnonzero(strata == label))  # both rows of a class of 2)
            valid.extend(members[: min(int(round(fraction * len(members))), len(members) - 1)].tolist())
        valid = np.sort(np.array(valid, dtype=int))
        rows = np.setdiff1d(np.arange(n), valid)
        if len(valid) == 0 or len(rows) < 2:
            return None, None
        return rows, valid

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # a time budget ends where the machine's speed says: two fits of one random_state may differ (scikit-learn's
        # check_fit_idempotent failed on it, the tag saying otherwise); an iteration budget alone is reproducible
        tags.non_deterministic = self.max_seconds is not None
        return tags

    def _outputs(self, X) -> np.ndarray:
        """The program's outputs at X, (n_samples, n_outputs)."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        with np.errstate(all="ignore"):
            return self.program_.combine(self.program_.raw_outputs(X))


_PARAMETERS_DOC = """
    Parameters
    ----------
    functions : sequence of str or str, default=DEFAULT_FUNCTIONS
        The library: primitive names of :mod:`srnet.cgp.primitives` (unary
        and binary), or ``"add,mul,sin"``; input variables are always in it.
    max_nodes : int or None, default=None
        Most neurons per tree.  None: 15, or room for a linear start
        (2 x n_features - 1) when that is more; from 9 inputs on a linear
        start then fills its tree, and the search reshapes it (functions
        swapped, branches pruned) before it can grow.
    init : {"auto", "random", "linear"}, default="auto"
        How trees start (and restart): random trees of depth ``init_depth``
        (the paper), or a weighted sum of every input (``add`` neurons over
        one leaf per input), from which the selection step bends the
        formula.  With many inputs a random tree reads only a few of them;
        on the classification benchmarks (``experiments/xnet_benchmarks.py``)
        a linear start gained 3-5 points of accuracy with 13 inputs and 2-3
        with 18, 30 and 34, and did no better with 4 or 8.  "auto":
        linear from 10 inputs on (when ``functions`` has ``add`` and
        ``max_nodes`` leaves room for the sum), else random.
    max_seconds : float or None, default=5.0
    max_iterations : int or None, default=None
        Budgets (the first reached stops the search; at least one is needed).
        Only an iteration budget (``max_seconds=None``) is reproducible run to
        run with a fixed ``random_state``: use one for checks and
        cross-validation.  The final polish of the best forest may run past
        ``max_seconds``, at most as long again (a forest of many inputs is
        left untrained otherwise); writing its formula comes after, and takes
        seconds for a thousand neurons (digits' linear start: 10 classes x
        127), ``simplify_seconds`` more.
    tol : float, default=1e-12
        Stop once the training loss (for regression: the MSE of the
        standardised target, 1 - R^2) is at most ``tol``.
    init_depth : int, default=2
        Depth of the random trees the search starts (and restarts) from.
    constant_steps : int, default=5
        Steps on the weights and biases per iteration.
    constants : {"newton", "gradient"}, default="newton"
        Levenberg-Marquardt steps, or the paper's clipped gradient steps (see
        :mod:`srnet.xnet.constants`).
    target : {"newton", "gradient"}, default="newton"
        How neurons' target outputs come from the gradient (see
        :func:`srnet.xnet.select.targets`).
    accept : {"all", "improve", "elitist"}, default="all"
        Every neuron takes its best function (the paper), or only the single
        change that lowers the loss most, or every neuron takes its best
        function and the step is undone when, its constants refitted, the loss
        more than doubled (x0**x1, Nguyen-11: mean test R^2 0.9972 against
        0.9951, 3 seeds x 5 s; over Nguyen-1..12 a tie, 0.99958 both, as
        one Nguyen-3 seed fell to 0.9935).
    patience : int, default=20
        Iterations without a 1 % improvement before a random neuron gets a
        random function.
    restart_after : int or None, default=100
        Iterations without a 1 % improvement of the best before restarting
        from new starting trees, random or linear as ``init`` says (None:
        never); with ``max_seconds``, a quarter of it without one restarts too.
    parsimony : float, default=0.0
        Return the smallest forest whose loss (on the validation rows when
        there are any, else on the training rows) is within this of the
        least among the forests kept (the best of each size).
    validation_fraction : float or None, default=None
        Rows held out (stratified by class for the classifier) to stop the
        final polish of each forest kept early, and to choose the forest
        returned; None: 0.2 (a classifier's training loss can always be
        lowered by larger trees and logits; a regressor chosen on its
        training rows alone scored test R^2 -44 on PMLB's bodyfat and -1.7
        on vineyard, 0.97 and 0.23 with a fifth held out, and Nguyen-1..12
        0.99715 on average, 0.99959 held out; it costs up to 0.2 on others:
        experiments/xnet_validation.py).  A regressor keeps at least 3 rows
        to train on; a classifier 2, and a row of each class.
    clip : float, default=1e6
        Bound on every neuron's output during training.
    simplify_seconds : float, default=2.0
        Time for sympy to tidy ``expression_`` (0: cheap clean-ups only).
    random_state : int, Generator or None, default=None
    device : str or torch.device, default="cpu"
        Where torch trains (``"cuda"`` works; tiny data is fastest on CPU).
    n_threads : int, default=1
        torch's CPU threads during ``fit`` (restored afterwards): the tensors
        are tiny, and more threads only add overhead.
    progress : bool, default=False
        Show a progress bar (stderr) of the budget spent and the best
        training loss so far.
"""

_ATTRIBUTES_DOC = """
    trees_ : list of srnet.xnet.tree.Node
        The trained trees (see :func:`srnet.xnet.tree.describe`), reading X
        as given: the input map is folded into their leaves.
    input_map_ : srnet.coordinates.InputMap or None
        Inputs beyond +-10, or of a spread under 0.05, searched as
        ``(x - centre) / scale`` (see :mod:`srnet.coordinates`), as
        :class:`srnet.CGPRegressor` searches them; None when every input was
        searched as given.
    standardised_symbols_ : dict
        The inputs ``formula()`` writes as their search coordinate (a centre
        100 scales or more from 0: a year, a Unix time), ``z_year`` ->
        ``"(year - 2005)/8.66"``; empty when none.  ``expression_`` reads the
        inputs' own units.
    program_ : srnet.expr.Program
        The trees as data: evaluate, export to torch
        (:class:`srnet.expr.ProgramModule`), save as JSON.
    singularities_ : list of str
        Where ``expression_`` is not what ``predict`` computes inside the
        training data's box, one note each (empty when nowhere): a divisor or
        a log's argument within 1e-10 of 0, or crossing 0 between the rows
        (:func:`srnet.formulas.singularities`).  Training keeps every
        neuron's function on its domain at the training rows (the selection
        step and the constants' steps alike), so a note means a pole between
        them and the box's corners, or at validation rows.
    n_nodes_ : int
        Neurons in all trees.
    n_parameters_ : int
        Weights and biases: two per neuron.
    loss_ : float
        Training loss of the returned forest: for regression the MSE of the
        standardised target (1 - R^2); for the classifier the cross-entropy
        plus ``srnet.xnet.losses.LOGIT_PENALTY`` (1e-3) times the mean squared
        logit (which keeps separable classes from driving logits to infinity),
        so it is above scikit-learn's ``log_loss`` of ``predict_proba``.
        ``history_`` and the progress bar show the same loss.
    front_ : list of (int, float)
        ``(size, training loss)`` of the forest kept for each size (the best
        training loss found), after its final polish where the time budget
        left room for one (the best forest's always has one).  Not a Pareto
        front: a larger forest may have a higher loss than a smaller one.
    history_ : ndarray of shape (k, 4)
        ``(iteration, seconds, loss, n_nodes)`` at each improvement.
    n_iterations_, n_restarts_, n_perturbations_ : int
    stop_reason_ : {"max_seconds", "max_iterations", "tol", "interrupted"}
        "interrupted": Ctrl-C (KeyboardInterrupt) stopped the search, and the
        best forest found so far was kept, as far as its polish got (a second
        Ctrl-C quits at once).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X had string column names.
    feature_symbols_ : dict or None
        Column name -> its symbol in ``expression_`` (``E`` -> ``E_``, not
        Euler's number); None without column names.
"""


class XNetRegressor(RegressorMixin, _XNetBase):
    __doc__ = """Symbolic regression with X-Net: a tree of neurons that learn their activations.

    Every neuron computes ``weight * f(children) + bias`` with ``f`` chosen
    from the library during training; training alternates steps on the
    constants with a step in which every neuron picks the function that best
    produces the output the gradient asks of it (Li et al. 2024).  One tree
    per target; the target is standardised for training and the formula
    given in its units.
""" + _PARAMETERS_DOC + """
    Attributes
    ----------
    expression_ : sympy.Expr or list of sympy.Expr
        The formula (one per target for a 2-D ``y``); it computes ``predict``
        (but where a protection fires: see the module docstring).
""" + _ATTRIBUTES_DOC

    def fit(self, X, y):
        """Train on X (n_samples, n_features) and y (n_samples,) or (n_samples, n_targets)."""
        with last_fit_kept_on_failure(self):
            X, y, Y = validate_regression(self, X, y)
            scale = Y.std(axis=0)
            offset = Y.mean(axis=0)
            Y_t = torch.as_tensor((Y - offset) / scale, dtype=torch.float64, device=torch_device(self.device))
            return self._search(X, Y_t, "mse", Y.shape[1], scale, offset, single=y.ndim == 1,
                                fitted={"_single_target": y.ndim == 1})

    def predict(self, X):
        """The formula at each row of X: (n_samples,) or (n_samples, n_targets)."""
        Y = self._outputs(X)
        return Y[:, 0] if self._single_target else Y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class XNetClassifier(ClassifierMixin, _XNetBase):
    __doc__ = """Classification with X-Net: one tree per class logit (one logit for two classes).

    Trained on the cross-entropy of the softmax of the logits (the logistic
    loss of one logit for two classes) by the same alternating search as
    :class:`XNetRegressor`.
""" + _PARAMETERS_DOC + """
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    expression_ : sympy.Expr or list of sympy.Expr
        The logit (two classes: of ``classes_[1]``), or one logit per class.
""" + _ATTRIBUTES_DOC

    def fit(self, X, y):
        """Train on X (n_samples, n_features) and class labels y (n_samples,)."""
        with last_fit_kept_on_failure(self):
            check_labels_present(y)  # None, NaN, pandas' NA: one line, before scikit-learn's checks
            X, y = validate_data(self, X, y, dtype=np.float64)
            try:  # (sorted first: scikit-learn's check read labels 1, "a", "b" as "Unknown label type: unknown")
                classes, indices = np.unique(y, return_inverse=True)
            except TypeError:  # numpy's "'<' not supported between instances of 'int' and 'str'"
                kinds = sorted({type(label).__name__ for label in y})
                raise ValueError(f"y's labels must be of one sortable kind; got {', '.join(kinds)}") from None
            check_classification_targets(y)
            if len(classes) < 2:
                raise ValueError(f"y has only one class ({classes.tolist()[0]!r}); a classifier needs at least 2")
            device = torch_device(self.device)
            if len(classes) == 2:
                Y = torch.as_tensor(indices.reshape(-1, 1), dtype=torch.float64, device=device)
                return self._search(X, Y, "logistic", 1, strata=indices, fitted={"classes_": classes})
            Y = torch.as_tensor(indices.reshape(-1), dtype=torch.long, device=device)
            return self._search(X, Y, "softmax", len(classes), strata=indices, fitted={"classes_": classes})

    def decision_function(self, X):
        """Logits: (n_samples,) for two classes, else (n_samples, n_classes)."""
        Z = self._outputs(X)
        return Z[:, 0] if Z.shape[1] == 1 else Z

    def predict_proba(self, X):
        """Class probabilities, (n_samples, n_classes); a row with a NaN logit (inputs where a formula is not
        finite) is NaN: no probabilities, where ``predict`` answers among the finite logits."""
        Z = self._outputs(X)
        if Z.shape[1] == 1:  # the logit of classes_[1] against a logit of 0 for classes_[0]
            Z = np.column_stack([np.zeros(len(Z)), Z[:, 0]])
        return softmax(Z)  # srnet's one softmax: a logit of +-inf gave a row of NaN here

    def predict(self, X):
        """The most probable class of each row."""
        Z = self._outputs(X)
        # a NaN logit chooses nothing (argmax returned the first NaN's class, where predict_proba has no class)
        index = (Z[:, 0] > 0).astype(int) if Z.shape[1] == 1 else np.argmax(np.where(np.isnan(Z), -np.inf, Z),
                                                                                   axis=1)
        return self.classes_[index]
