"""Programs as sympy expressions: building, simplifying, measuring, printing.

Expressions are built node by node from the primitive table's sympy forms,
never by parsing generated text.  Simplification can take unbounded time in
sympy, so :func:`simplify` runs it in a forked child process that is killed
at the deadline (falling back to a cheap in-process clean-up where forking
is impossible, e.g. inside daemonic worker processes).  Work that must stay
in this process (building a deep composition, combining powers) runs under
:class:`time_limit`: sympy's automatic evaluation asks assumptions of every
new node, and for some real formulas (tanh of tan(...)**2) that question
expands and takes gcds for minutes.
"""

from __future__ import annotations

import ctypes
import math
import multiprocessing
import numbers
import os
import signal
import sys
import threading
import time
from collections import Counter
from typing import Sequence

import numpy as np
import sympy
from mpmath.libmp import prec_to_dps, to_str
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

from srnet.cgp.primitives import primitive
from srnet.expr.program import Program
from srnet.metrics import rmse_r2
from srnet.names import unused_name


class SympyTimeout(BaseException):
    """Raised inside a :class:`time_limit` block at its deadline.  A BaseException, so that sympy's own
    ``except Exception`` clauses cannot swallow it and carry on."""


def _raise_in(thread_id: int, exception) -> None:
    """Have ``thread_id`` raise ``exception`` at its next bytecode (None: cancel one not yet raised)."""
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id),
                                               None if exception is None else ctypes.py_object(exception))


#: How long the watchdog waits before looking again when the thread is where no stop may land.
UNSAFE_WAIT_SECONDS = 0.002

#: Frames a stop must not land in: there it is "ignored" (printed as "Exception ignored in ...", and a weakref
#: callback cut short may leave its dictionary holding a dead entry); the watchdog waits them out.
_CALLBACK_FILES = ("weakref.py", "_weakrefset.py")
#: Function names ending so (Dask's is ``GCDiagnosis._gc_callback``: a stop landed in it during a PMLB batch,
#: was ignored, and left its timer asserting on every later collection).
_CALLBACK_NAMES = ("__del__", "gc_callback")


def _unsafe_to_stop(thread_id: int, depth: int = 4) -> bool:
    """Whether the thread runs (within ``depth`` frames of its top) a weakref callback, a finaliser or a
    garbage-collection callback, or is itself inside threading's code (a stop there leaves a lock or condition
    half changed, and a thread being started shares its starter's id until it runs: the stop lands there) or
    at the start of a time limit's own leaving (:data:`_LIMITS_OWN_CODE`)."""
    frame = sys._current_frames().get(thread_id)
    if frame is not None and (frame.f_code in _LIMITS_OWN_CODE or frame.f_code.co_filename == threading.__file__):
        return True
    for _ in range(depth):
        if frame is None:
            return False
        code = frame.f_code
        if code.co_name.endswith(_CALLBACK_NAMES) or code.co_filename.endswith(_CALLBACK_FILES):
            return True
        frame = frame.f_back
    return False


class _Watchdog:
    """The one thread that stops every :class:`time_limit` of the process at its deadline.  A thread started per
    limit (thousands in a batch, one per sympy call) once hung a Dask worker for good, its task standing in
    ``Thread.start``: until a new thread first runs, its thread state carries its starter's id, so an outer
    limit's stop raised in the starter at that moment landed in the new thread instead, which died before saying it
    had started, and the starter waited for ever (reproduced: nested limits in three threads hung within
    seconds).  srnet starts no thread inside a limit now (a block that starts or joins threads itself stands in
    threading's code, where the watchdog waits: it is stopped late).  Limits are registered as they are entered
    and taken out as they end; the thread sleeps until the nearest deadline."""

    def __init__(self):
        # Only C locks on the paths a limited thread takes (no Condition, no Event: a stop that lands inside
        # threading's own code, as it can when the watchdog loses the interpreter between looking where the
        # thread is and raising, left a Condition's lock held for good, and every thread waiting on it).  A
        # thread waiting for ``_lock`` stands in srnet's frame: a stop lands once the lock is held, inside the
        # ``with``, which lets it go.
        self._lock = threading.RLock()  # (re-entrant: a finaliser run by a collection in the watchdog thread may
        # enter a limit)
        self._asleep = threading.Lock()  # held while the watchdog sleeps: released, it wakes
        self._asleep.acquire()
        self._limits: set = set()
        self._thread = None

    def add(self, limit) -> None:
        with self._lock:
            if self._thread is None:  # first use in this process (a forked child starts afresh): no limit is
                # active anywhere, so no stop can land in the thread being started
                self._thread = threading.Thread(target=self._run, name="srnet time limits", daemon=True)
                self._thread.start()
            self._limits.add(limit)
        try:
            self._asleep.release()  # (its deadline may be the nearest)
        except RuntimeError:
            pass  # awake already

    def remove(self, limit) -> None:
        with self._lock:
            self._limits.discard(limit)

    def _run(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                limits = list(self._limits)
                for limit in [limit for limit in limits if limit._armed and limit._next <= now]:
                    self._fire(limit, now)
                # (a limit not yet armed is an instant from being so, and then wakes no one: looked at again soon)
                waits = [limit._next - now if limit._armed else UNSAFE_WAIT_SECONDS for limit in limits]
            # until woken or the nearest deadline (a limit of inf seconds, or over TIMEOUT_MAX, killed the thread
            # with an OverflowError); either way held again (a limit added since is looked at next)
            self._asleep.acquire(timeout=min(max(0.0, min(waits)), threading.TIMEOUT_MAX) if waits else -1)

    @staticmethod
    def _fire(limit, now: float) -> None:
        """Raise the limit's stop in its thread, unless that thread stands where no stop may land
        (:func:`_unsafe_to_stop`; seen once a suite: "Exception ignored in gc_callback"): then a moment later.
        Again every REPEAT_SECONDS: one that lands in a weakref callback or a finaliser all the same is ignored by
        Python (and not printed: :func:`_quiet_lost_stops`)."""
        limit._next = now + UNSAFE_WAIT_SECONDS
        if _unsafe_to_stop(limit._target):
            return
        limit._fired = True
        _raise_in(limit._target, limit._signal)
        # Looked at again: if this thread lost the interpreter between the look and the raise (a busy host), the
        # target may have run on into a callback or threading's code; there the stop is cancelled before it can
        # land (any pending stop of that thread: others are raised again), and tried a moment later.  Only a
        # second loss, between the raise and this look, lets one through.
        if _unsafe_to_stop(limit._target):
            _raise_in(limit._target, None)
        else:
            limit._next = now + limit.REPEAT_SECONDS


_WATCHDOG = _Watchdog()


def _quiet_lost_stops(previous):
    """A ``sys.unraisablehook`` that drops a time limit's stop and passes everything else to ``previous``.

    Why: a stop can still land in a weakref callback or a finaliser (the watchdog's look and its raise are two
    steps, and the callback may start between them).  Python cannot raise it there, and printed "Exception
    ignored in WeakSet._remove ... SympyTimeout" in the middle of a user's output (three times over two CI
    runs).  Nothing is lost by dropping it: the limit raises its stop again :attr:`time_limit.REPEAT_SECONDS`
    later, and the callback cut short at worst leaves a dead entry that its weak container skips."""

    def hook(unraisable):
        if not isinstance(unraisable.exc_value, SympyTimeout):
            previous(unraisable)

    hook.previous = previous
    return hook


sys.unraisablehook = _quiet_lost_stops(sys.unraisablehook)  # (a hook set later replaces it: the stop is
# printed, as before)
if hasattr(os, "register_at_fork"):  # a forked child (simplify's) has no watchdog thread, and may have copied
    # its lock held: it starts afresh
    os.register_at_fork(after_in_child=_WATCHDOG.__init__)


class time_limit:
    """``with time_limit(seconds) as limit:`` stops the block once it has run ``seconds``; then
    ``limit.expired`` is True and the caller falls back.

    The process's watchdog thread (:class:`_Watchdog`) raises this limit's own :class:`SympyTimeout` in this
    thread (any thread, unlike a signal alarm: Dask runs its tasks in worker threads), and only this limit's
    ``with`` stops it: limits nest, an outer one's deadline passes through the inner ones, and so does any
    other exception leaving the block.  It interrupts Python code only, which is all sympy runs.
    """

    REPEAT_SECONDS = 0.1

    def __init__(self, seconds: float):
        self.seconds = max(0.0, float(seconds))
        self.expired = False

    def __enter__(self):
        self._signal = type("SympyTimeout", (SympyTimeout,), {})
        self._target = threading.get_ident()
        self._fired, self._armed, self._landed = False, False, False
        self._next = time.monotonic() + self.seconds
        try:
            _WATCHDOG.add(self)
        except SympyTimeout:  # an outer limit's stop, landed as this one was entered: this one must not outlive it
            self._leave()
            raise
        self._armed = True  # only now may it fire: its stop must land inside the with, which alone catches it
        return self

    def __exit__(self, kind, value, traceback) -> bool:
        outer = self._leave()
        own = kind is not None and issubclass(kind, self._signal)
        self.expired = self._landed or own
        if outer is not None:  # an outer limit's deadline passed as this block ended: it stops the outer block
            raise outer
        return own  # (a stop of its own that landed as it ended swallows nothing: the block's error goes on, an
        # outer limit's stop too)

    def _leave(self) -> SympyTimeout | None:
        """Take this limit out of the watchdog, whatever stops land meanwhile (its own, or an outer limit's as
        the block ends, which must not leave it registered to fire later, outside any ``with`` of its own);
        returns an outer limit's stop that landed, to be raised again."""
        outer = None
        while True:
            try:
                _WATCHDOG.remove(self)  # (under the watchdog's lock: it cannot fire once this returns)
                if self._fired:  # fired as the block ended: cancel it if it has not been raised yet
                    _raise_in(self._target, None)
                return outer
            except self._signal:
                self._landed = True
            except SympyTimeout as stop:
                outer = stop


#: Where a time limit's stop must not land: before ``_leave``'s ``try`` (a stop at the very start of ``__exit__``
#: left its limit registered, to fire later outside any ``with`` of its own).  Everywhere else in entering and
#: leaving, a stop is caught and the registration undone.
_LIMITS_OWN_CODE = frozenset((time_limit.__exit__.__code__, time_limit._leave.__code__))


#: A rebuild's time beyond :data:`IN_PROCESS_SECONDS` per node of the expression (a 6500-operation chain's
#: rounding takes seconds of honest work).
REBUILD_SECONDS_PER_NODE = 1e-3


def rebuilt(expr: sympy.Expr, build):
    """``build()``, a rebuild of ``expr`` (new numbers put in), with sympy's automatic evaluation (``1*x``
    reads ``x``) for up to :data:`IN_PROCESS_SECONDS` plus :data:`REBUILD_SECONDS_PER_NODE` per node,
    else without it: rounding the constants of a feynman2 formula stood still for minutes in
    Abs(tanh(...)) asking whether its argument is real."""
    with time_limit(IN_PROCESS_SECONDS + REBUILD_SECONDS_PER_NODE * complexity(expr)):
        return build()
    with sympy.evaluate(False):  # the time ran out
        return build()


#: How long sympy's printer may order a formula's terms, in seconds: a base and per node of the formula.  On
#: a 2,000-node candidate of kkk3's network it ran for minutes (ordering the terms of a sum asks sympy whether
#: each power of Abs(...) is positive, and those questions expanded polynomials without end): the fit hung.
PRINT_SECONDS = 0.5
PRINT_SECONDS_PER_NODE = 1e-3
#: Formulas whose terms the printer did not order in time, printed in stored order at once from then on (a
#: candidate is printed as text, as LaTeX and in the summary, and each print waited out the limit again: a 30 s
#: fit took 50 s); the newest :data:`_SLOW_KEPT` are remembered, for the process (a formula that timed out
#: once, on a busy machine, say, keeps its stored order from then on).
_SLOW_TO_ORDER: dict[sympy.Basic, None] = {}
_SLOW_KEPT = 256
_SLOW_LOCK = threading.Lock()  # (fits run in threads: two evicting at once deleted one key twice)


def printed(expr, latex: bool = False, points: dict | None = None) -> str:
    """``str(expr)`` (``sympy.latex(expr)`` with ``latex``), or, where sympy's printer takes longer than
    :data:`PRINT_SECONDS` (and per node) to order its terms, the same formula with each sum's terms in the order
    sympy stores them (``order="none"``, which asks sympy nothing), at once for a formula that took too long
    before.  With ``points`` (symbol name -> values), each sum reads its terms largest spread first
    (:func:`by_spread`): what moves the formula most is what a person reads first."""
    printer = sympy.latex if latex else str
    if not isinstance(expr, sympy.Basic):
        return printer(expr)
    if expr not in _SLOW_TO_ORDER:
        size = complexity(expr)
        with time_limit(PRINT_SECONDS + PRINT_SECONDS_PER_NODE * size):
            if points and size <= SPREAD_ORDER_MAX_NODES:
                return _printed_by_spread(by_spread(expr, points), latex)
            return printer(expr)
        with _SLOW_LOCK:
            _SLOW_TO_ORDER[expr] = None
            if len(_SLOW_TO_ORDER) > _SLOW_KEPT:
                del _SLOW_TO_ORDER[next(iter(_SLOW_TO_ORDER))]
    return sympy.latex(expr, order="none") if latex else sympy.sstr(expr, order="none")


class _SumsAsBuilt:
    """A printer's mixin: the sums :func:`by_spread` built are printed in their terms' order; every other sum,
    and every product, as sympy orders it (``order="none"`` throughout turned ``exp(x0)*cos(x1)`` round)."""

    def __init__(self, built: set):
        super().__init__()
        self._built = built

    def _as_ordered_terms(self, expr, order=None):
        return list(expr.args) if id(expr) in self._built else super()._as_ordered_terms(expr, order=order)


class _StrBySpread(_SumsAsBuilt, StrPrinter):
    pass


class _LatexBySpread(_SumsAsBuilt, LatexPrinter):
    pass


def _printed_by_spread(ordered: sympy.Expr, latex: bool) -> str:
    """``ordered`` (:func:`by_spread`'s) as text or LaTeX, its built sums in their order."""
    built = {id(node) for node in sympy.preorder_traversal(ordered) if node.is_Add and not node.is_number}
    return (_LatexBySpread if latex else _StrBySpread)(built).doprint(ordered)


#: The largest formula whose terms :func:`printed` orders by their spread (a term's values are computed once per
#: sum it is in: on a 400-node formula, milliseconds); a larger one is printed as sympy orders it.
SPREAD_ORDER_MAX_NODES = 400


def by_spread(expr: sympy.Expr, points: dict) -> sympy.Expr:
    """``expr`` with the terms of each sum in the order of their spread at ``points`` (symbol name -> values; the
    standard deviation of the term's values), largest first, numbers last, unevaluated so that a printer with
    ``order="none"`` keeps that order: ``4.2*x1 - 0.3*x0**2 + 1.1`` where sympy printed ``-0.3*x0**2 + 4.2*x1 +
    1.1``, and a classifier's logit names its most telling inputs first.  Where a term's spread cannot be
    computed (a symbol without values, as a shared part's name), the sum keeps sympy's order; equal spreads keep
    it too.  Only the sums read differently (printed by :func:`_printed_by_spread`, products as sympy orders
    them)."""
    count = min((len(values) for values in points.values()), default=0)

    def spread(term) -> float:
        if term.is_number:
            return -1.0  # (numbers last, even below a term that is constant at the points)
        with np.errstate(all="ignore"):
            values = values_at(term, points, count)
        finite = values[np.isfinite(values)]
        if not len(finite):
            return math.inf  # (undefined at every point: the reader must see it)
        # the standard deviation as srnet's one RMSE computes it, in the values' own units (np.std of 1e160*x's
        # values overflowed: a warning, and such terms tied)
        return rmse_r2(np.full(len(finite), float(np.mean(finite))), finite)[0]

    def walk(node):
        if not node.args or node.is_number or isinstance(node, sympy.Symbol):
            return node
        if node.is_Add:
            terms = list(node.as_ordered_terms()) if _orderable(node) else list(node.args)
            if count and all(s.name in points for s in node.free_symbols):
                spreads = [spread(term) for term in terms]
                terms = [terms[i] for i in sorted(range(len(terms)), key=lambda i: -spreads[i])]
            return sympy.Add(*[walk(term) for term in terms], evaluate=False)
        walked = [walk(arg) for arg in node.args]
        if all(new is old for new, old in zip(walked, node.args)):
            return node  # (evaluated: printed as ever)
        try:
            return node.func(*walked, evaluate=False)
        except TypeError:  # a node built otherwise (Piecewise's condition pairs): its sums as sympy orders them
            return node

    return walk(expr)


def _orderable(node: sympy.Expr) -> bool:
    """Whether sympy's own order of a sum's terms is asked for (the tie-break of :func:`by_spread`): not where the
    sum holds an Abs (a power of Abs(...) makes sympy ask questions that ran for minutes, see
    :data:`PRINT_SECONDS`); there the stored order stands."""
    return not node.has(sympy.Abs)


def make_symbols(n: int, names: Sequence[str] | None = None, positive: Sequence[bool] | None = None):
    """Real sympy symbols ``x0 .. x{n-1}`` (or ``names``), optionally positive.

    Plain real symbols by default, so that a formula computes what the
    protected program computes at every real input.  ``positive`` is for a
    domain the caller explicitly declares (never one inferred from training
    data): it lets sympy drop ``Abs`` from ``sqrt(Abs(x))`` and
    ``log(Abs(x))``, and the formula is then only valid for positive inputs.
    """
    names = [f"x{i}" for i in range(n)] if names is None else [str(v) for v in names]
    if len(names) != n:
        raise ValueError(f"{len(names)} names given for {n} inputs")
    repeated = sorted(name for name, count in Counter(names).items() if count > 1)
    if repeated:  # one sympy symbol for two inputs: x0 - x1 read 0 (srnet.names.feature_symbols makes names unique)
        raise ValueError(f"input names must be unique; repeated: {', '.join(map(repr, repeated[:5]))}")
    positive = [False] * n if positive is None else list(positive)
    if len(positive) != n:  # zip kept the first few symbols only
        raise ValueError(f"{len(positive)} positive flags given for {n} inputs")
    return tuple(sympy.Symbol(name, real=True, positive=True) if pos else sympy.Symbol(name, real=True)
                 for name, pos in zip(names, positive))


class FormulaTooLarge(ValueError):
    """A program that computes, but whose formula sympy cannot build (too deep, or of too high a degree)."""


def raw_sympy(program: Program, symbols: Sequence[sympy.Expr]) -> list[sympy.Expr]:
    """The raw outputs f_1..f_m of ``program`` as sympy expressions of ``symbols``.

    ``symbols`` may be any sympy expressions (used to compose layers).  A
    unary step's second address is not read, as in :meth:`Program.raw_outputs`
    (it may be any integer: validation checks only the addresses a step reads).
    """
    if len(symbols) != program.n_inputs:
        raise ValueError(f"{len(symbols)} symbols given for a program of {program.n_inputs} inputs")
    if not all(isinstance(s, sympy.Basic) for s in symbols):  # ["a", "b"] failed deep in sympy
        kinds = sorted({type(s).__name__ for s in symbols})
        raise TypeError(f"symbols must be sympy expressions (srnet.expr.make_symbols); got {', '.join(kinds)}")
    _check_writable(program)
    values = list(symbols) + [_number(c) for c in program.constants]
    try:
        for name, a, b in program.steps:
            prim = primitive(name)
            args = (values[a], values[b] if prim.arity == 2 else values[a])
            values.append(_folded(prim, args) or prim.sympy(*args))
    except RecursionError:  # a chain of hundreds of steps: sympy recurses once per level
        raise FormulaTooLarge(f"the program's {len(program.steps)} steps nest too deeply for a sympy formula (it "
                              f"still computes: predict, torch export)") from None
    return [values[o] for o in program.outputs]


#: The largest polynomial degree a program's formula may reach to be written in sympy: sympy expands
#: integer powers exactly, and a 41-step program squaring 2*x forty times (a 927-byte file) asked it for
#: 2**(2**40), which never returned.  No fitted formula comes near: x**65536 is not finite in float64
#: beyond |x| = 1.011.
MAX_SYMPY_DEGREE = 2**16
#: The degree of each primitive's result from its arguments' (an upper bound; any other function is an atom).
_DEGREE = {"add": max, "sub": max, "mul": lambda a, b: a + b, "div": lambda a, b: a + b,
           "square": lambda a, b: 2 * a, "cube": lambda a, b: 3 * a, "sqrt": lambda a, b: a,
           "abs": lambda a, b: a, "neg": lambda a, b: a}


def _check_writable(program: Program) -> None:
    """Refuse a program whose formula sympy cannot build in reasonable time (see :data:`MAX_SYMPY_DEGREE`)."""
    degree = [1] * program.n_inputs + [0] * len(program.constants)
    for step, (name, a, b) in enumerate(program.steps):
        rule = _DEGREE.get(name)
        second = degree[b] if primitive(name).arity == 2 else 0  # (a unary step's b may be any integer)
        degree.append(1 if rule is None else min(rule(degree[a], second), MAX_SYMPY_DEGREE + 1))
        if degree[-1] > MAX_SYMPY_DEGREE:
            raise FormulaTooLarge(f"the program's formula reaches polynomial degree over {MAX_SYMPY_DEGREE} (step "
                                  f"{step}): too large to write as a sympy formula (it still computes: predict, "
                                  f"torch export)")


def _number(value: float) -> sympy.Expr:
    """A float64 as sympy reads it best: an Integer when it is a whole number float64 holds exactly with
    its neighbours (below 2**53), else a Float."""
    return sympy.Integer(int(value)) if value == int(value) and abs(value) < 2.0**53 else sympy.Float(value)


def _folded(prim, args) -> sympy.Expr | None:
    """A step of numbers computed as the program computes it, in float64 (exact sympy arithmetic made
    (1e16 + 1) - 1e16 - 1 exactly 0, where float64 gives -1, and printed a protected division as 1 where
    the program computes -x); None when an argument is not a number.  A value float64 cannot hold is what
    the program computes too: ``oo``, ``-oo`` or ``nan`` (the exact 1e400 of square(1e200) printed sin of
    it as 0.1865 and log of it as 921 where the program computes NaN and inf)."""
    if not all(arg.is_number and (arg.is_extended_real or arg is sympy.nan) for arg in args):
        return None
    try:
        with np.errstate(all="ignore"):
            value = float(prim.numpy(*(np.float64(float(arg)) for arg in args)))
    except (TypeError, ValueError):
        return None
    if math.isnan(value):
        return sympy.nan
    if math.isinf(value):
        return sympy.oo if value > 0 else -sympy.oo
    if not all(arg.is_finite for arg in args):  # tanh(oo): the float64 value, not sympy's limits
        return _number(value)
    exact = prim.sympy(*args)  # an exact rational that float64 computes too stays exact: x0/3, not 0.3333*x0
    # (of a size float64 holds exactly: cube(3e7) was the integer 27000000000000000000000, not 2.7e22)
    simple = exact.is_Rational and max(abs(exact.p), exact.q) < 2**53
    return exact if simple and float(exact) == value else _number(value)


def to_sympy(program: Program, symbols: Sequence[sympy.Expr]) -> list[sympy.Expr]:
    """Each target of ``program`` (raw outputs through the linear map), with
    constant sub-expressions such as ``cos(1) + sqrt(2)`` folded to numbers."""
    raw = raw_sympy(program, symbols)
    return [fold_constants(linear_combination(raw, program.weights[:, t], program.intercept[t]))
            for t in range(program.n_targets)]


def fold_constants(expr: sympy.Expr) -> sympy.Expr:
    """Replace every symbol-free, non-rational sub-expression by its value."""
    return expr.replace(lambda e: e.is_number and not e.is_Rational and not e.is_Float and e.is_finite,
                        lambda e: sympy.Float(e.evalf(17)))


def linear_combination(terms, weights, intercept) -> sympy.Expr:
    """``intercept + sum(w * term)`` with float coefficients, skipping zero
    weights.  One Add of all terms: adding them one at a time re-sorts the
    growing sum each time (5 s for a 1000-input linear formula)."""
    parts = [sympy.Float(float(intercept))] if intercept != 0 else []
    for w, term in zip(weights, terms):
        if w in (1, -1):  # keep x, not 1.0*x
            parts.append(int(w) * term)
        elif w != 0:
            parts.append(sympy.Float(float(w)) * term)
    return sympy.Add(*parts)


def _expression(expr, function: str) -> sympy.Basic:
    """``expr`` as the sympy expression a public function of this module takes: a number is made one; text is
    refused (srnet never parses formula text: ``complexity("__import__('os')...")`` answered 1, and
    ``simplify("x+1")`` failed deep inside sympy)."""
    if isinstance(expr, sympy.Basic):
        return expr
    if isinstance(expr, numbers.Integral) and not isinstance(expr, (bool, np.bool_)):
        return sympy.Integer(int(expr))
    if isinstance(expr, numbers.Real) and not isinstance(expr, (bool, np.bool_)):
        return sympy.Float(float(expr))
    raise TypeError(f"{function} takes a sympy expression, got {type(expr).__name__} (srnet parses no formula "
                    f"text; a formula you trust can be read with sympy.parse_expr)")


def complexity(expr: sympy.Expr) -> int:
    """Number of nodes of the expression tree (symbols, numbers, operations)."""
    return sum(1 for _ in sympy.preorder_traversal(_expression(expr, "complexity")))


#: A part of a formula written once under a name of its own (:func:`shared_parts`) has at least this many
#: nodes: a repeated x0*x1 reads as quickly as a name would.
SHARED_MIN_NODES = 6
#: At most this many parts are named (the largest first): a formula is read, not decoded.
SHARED_MAX_PARTS = 3
#: Formulas of more nodes than this in all are left as they are (a chain of thousands of nodes is read in
#: report.json's formula_steps, and comparing every part of it with every other takes seconds).
SHARED_MAX_NODES = 2000


def shared_parts(exprs: list, taken=()) -> tuple[list, list]:
    """``exprs`` with each part that occurs twice or more (of :data:`SHARED_MIN_NODES` nodes at least, the
    largest saving first, :data:`SHARED_MAX_PARTS` at most) written as a name u1, u2, ..., and the parts
    named: (rewritten expressions, [(name, part)]).  Nothing named, or more than :data:`SHARED_MAX_NODES`
    nodes in all: (``exprs``, []).  A sum recurring with other numbers added counts as recurring.  A
    classifier's decision spelt out one 11-term linear form three times (``0.354*(tan(sin(L)) - cos(L)) +
    0.708*sin(L)``); a part named may read an earlier name.  ``taken``: names the formulas already use (the
    inputs')."""
    if sum(complexity(e) for e in exprs) > SHARED_MAX_NODES:
        return exprs, []
    taken = {str(name) for name in taken} | {symbol.name for e in exprs for symbol in e.free_symbols}
    named = []
    for _ in range(SHARED_MAX_PARTS):
        counts: dict = {}
        for e in exprs:
            for part in sympy.preorder_traversal(e):
                # a sum counts as itself and as its terms less its number: a linear form recurs with another
                # intercept (L + 1.762 and L - 0.2057 in one decision)
                for whole in {part, _without_number(part)} - {None}:
                    counts[whole] = counts.get(whole, 0) + 1
        sizes = {part: complexity(part) for part, count in counts.items() if count > 1}
        repeated = [(size * (counts[part] - 1), str(part), part) for part, size in sizes.items()
                    if size >= SHARED_MIN_NODES]
        if not repeated:
            break
        part = max(repeated, key=lambda item: item[:2])[2]
        symbol = sympy.Symbol(unused_name(f"u{len(named) + 1}", taken), real=True)
        exprs = [_named(e, part, symbol) for e in exprs]
        named = [(n, _named(p, part, symbol)) for n, p in named] + [(symbol, part)]
    return exprs, named


def _without_number(part: sympy.Expr) -> sympy.Expr | None:
    """A sum's terms less its number (``L`` of ``L + 1.762``); None for anything else, or a sum without one."""
    if part.is_Atom or not part.is_Add:
        return None
    number, rest = part.as_coeff_Add()
    return rest if number != 0 and rest.is_Add else None


def _named(expr: sympy.Expr, part: sympy.Expr, symbol: sympy.Symbol) -> sympy.Expr:
    """``expr`` with ``part`` written as ``symbol``: where it occurs whole, and as a sum's terms beside a number."""
    def walk(node):
        if node == part:
            return symbol
        if node.is_Atom:
            return node
        if node.is_Add and _without_number(node) == part:
            return node.as_coeff_Add()[0] + symbol
        return node.func(*(walk(arg) for arg in node.args))

    return walk(expr)


#: A sum's float term below this share of its largest coefficient is round-off residue (see round_constants).
RESIDUE = 1e-9


def tidy_constants(expr: sympy.Expr, tolerance: float = 1e-12, points: dict | None = None) -> sympy.Expr:
    """``expr`` without float noise, its value kept to ``tolerance``: a float
    within ``tolerance`` of an integer (relative, and absolute beyond 1: an
    intercept of 1e12 + 0.11 is not 1e12 beside terms of size 1) becomes it
    (``1.0*x`` is ``x``), a sum's float term below ``tolerance`` of the sum's largest
    coefficient becomes 0 (a ``+ 2.2e-16`` left by the linear scaling), and,
    given ``points`` (see :func:`round_constants`), below ``tolerance`` of
    the rest of the sum's values there too; every other float is kept at
    full precision (unlike :func:`round_constants`, which is for display)."""
    expr = _without_residue(expr, tolerance, points)
    near_integers = {}
    for number in expr.atoms(sympy.Float):
        value = float(number)
        # (from 2**53 on every float64 is a whole number: 6.02214076e23 became 602214075999999987023872)
        if abs(value) < 2.0**53 and abs(value - round(value)) <= tolerance * min(abs(value), 1.0):
            near_integers[number] = sympy.Integer(round(value))
    return rebuilt(expr, lambda: expr.xreplace(near_integers))


#: At most this many of ``points`` are read to size a sum (see _without_residue).
RESIDUE_POINTS = 16


def residue_points(symbols, X: np.ndarray) -> dict:
    """``points`` for :func:`round_constants` and :func:`tidy_constants`:
    RESIDUE_POINTS rows spread over X (its columns in ``symbols``' order), by
    symbol name."""
    spread = np.linspace(0, len(X) - 1, min(len(X), RESIDUE_POINTS)).astype(int)
    return {symbol.name: X[spread, j] for j, symbol in enumerate(symbols)}


def rewritten(expr: sympy.Expr, replacements: dict, points: dict | None) -> sympy.Expr:
    """``expr`` with symbols replaced by ``centre + scale*z`` (``replacements``: Symbol -> that sum), or ``expr``
    itself where the two part at ``points`` (symbol name -> values, the new symbols' included) by more than
    round-off: written so, a power sympy expanded in a Unix time cancels terms of 1e17 in floats.  Round-off
    is that of ``expr`` itself, which reads t in its own units: up to :data:`ROUND_OFF` x centre/scale of the
    formula's size (t/90.4 - 18805311.5 in float64 is 4e-9 off)."""
    new = expr.xreplace(replacements)
    if points is None or new == expr:
        return new
    ratios = [abs(float(c)) / abs(float(rest.as_coeff_Mul()[0])) for c, rest in
              (r.as_coeff_Add() for r in replacements.values())]
    tolerance = ROUND_OFF * max(1.0, *ratios)
    count = min(len(values) for values in points.values())
    before, after = values_at(expr, points, count), values_at(new, points, count)
    finite = np.isfinite(before)
    size = float(np.max(np.abs(before[finite]), initial=0.0))
    agree = np.array_equal(finite, np.isfinite(after)) and bool(
        np.all(np.abs(after[finite] - before[finite]) <= tolerance * max(size, 1e-300)))
    return new if agree else expr


#: A formula's float round-off, per unit of a term's size relative to its result (:func:`rewritten`).
ROUND_OFF = 1e3 * float(np.finfo(np.float64).eps)


def standardised_form(written: dict, points: dict | None) -> tuple[dict, dict | None]:
    """For :func:`rewritten`: ``written`` (input Symbol -> (z Symbol, centre, scale), z = (input - centre)/scale)
    as replacements (input -> centre + scale*z), and ``points`` with each z's values added."""
    replacements = {x: sympy.Float(centre) + sympy.Float(scale) * z for x, (z, centre, scale) in written.items()}
    if points is None:
        return replacements, None
    points = dict(points)
    for x, (z, centre, scale) in written.items():
        points[z.name] = (np.asarray(points[x.name], dtype=np.float64) - centre) / scale
    return replacements, points


#: NumPy forms of the functions sympy writes srnet's formulas with (protected forms are sympy expressions of
#: these: log|a|, a/b), for :func:`values_at`.
_NUMPY_FUNCTIONS = {sympy.sin: np.sin, sympy.cos: np.cos, sympy.tan: np.tan, sympy.tanh: np.tanh,
                    sympy.exp: np.exp, sympy.log: np.log, sympy.Abs: np.abs}


def values_at(expr: sympy.Expr, columns: dict, count: int) -> np.ndarray:
    """``expr`` at ``count`` points (``columns``: symbol name -> values), in float64 NumPy: a walk of the
    tree (no code generated); non-real or non-finite values are NaN.  sympy's ``evalf(subs=...)`` point by
    point took minutes on a classifier's formula with tanh (each call re-derives assumptions); a node of
    another kind is evaluated that way still."""

    def walk(node) -> np.ndarray:
        if node.is_Symbol:
            return np.asarray(columns[node.name][:count], dtype=np.float64)
        if node.is_Float and node._prec < 53:  # a rounded constant: the decimal printed, as lambdify reads it
            # (Float('248.1', 4) holds 248.099609375 in 17 bits; mpmath's text of it is what str() prints)
            return np.full(count, float(to_str(node._mpf_, max(1, prec_to_dps(node._prec)))))
        if node.is_Float or node.is_Rational:  # (complex() of a number took 40 us: a 52-class formula's 2.6 s)
            return np.full(count, float(node))
        if node.is_number:
            try:
                number = complex(node)
            except (TypeError, ValueError):  # zoo, nan
                return np.full(count, math.nan)
            return np.full(count, number.real if number.imag == 0 else math.nan)
        if node.is_Add or node.is_Mul:
            parts = [walk(arg) for arg in node.args]
            out = parts[0]
            for part in parts[1:]:
                out = out + part if node.is_Add else out * part
            return out
        if node.is_Pow:
            return np.power(walk(node.base), walk(node.exp))
        function = _NUMPY_FUNCTIONS.get(node.func)
        if function is not None and len(node.args) == 1:
            return function(walk(node.args[0]))
        out = []
        for i in range(count):
            value = node.evalf(subs={s: columns[s.name][i] for s in node.free_symbols})
            out.append(float(value) if value.is_real and value.is_finite else math.nan)
        return np.array(out)

    with np.errstate(all="ignore"):
        values = walk(expr)
    return np.where(np.isfinite(values), values, math.nan)


#: Where the rest of a sum is 0 at a point (an input that is 0 there, as a flag or a count is), a term is judged
#: against this share of the rest's largest value instead (see :func:`_negligible`).
VANISHING_REST = 1e-13


def _negligible(term: np.ndarray, rest: np.ndarray, share: float) -> bool:
    """Whether a term of a sum (its values ``term`` at the points) is below ``share`` of the rest of the sum
    (``rest``) at every point, and, where the rest is 0, below :data:`VANISHING_REST` of the rest's largest
    value: point by point, not largest against largest (``1.5e10*flag + 2.3*x + 0.7`` was printed as
    ``1.5e10*flag``, which is 0 where the flag is 0 and the formula 2.3*x + 0.7).  NaN: not negligible."""
    largest = float(np.max(np.abs(rest), initial=0.0))
    bound = np.where(rest == 0, min(share, VANISHING_REST) * largest, share * np.abs(rest))
    with np.errstate(invalid="ignore"):
        return bool(np.all(np.abs(term) < bound))


def _without_residue(expr: sympy.Expr, share: float, points: dict | None = None, *,
                     any_term: bool = False) -> sympy.Expr:
    """``expr`` without the float term of a sum that is below ``share`` of the
    largest coefficient of the sum's other terms (``3e-6*x + 4e-19``: the
    round-off residue of folded constants) and, given ``points`` (symbol name
    -> values), below ``share`` of the other terms' value at every point there (:func:`_negligible`): a
    coefficient's size says nothing of a term's when the inputs are in SI
    units (``1.2e19*x + 0.5`` for charges x ~ 1e-19), and the values do.  A
    sum whose other terms cannot be evaluated there keeps its float.  Only
    such intercepts go: a coefficient or a function's argument may be small
    beside the formula's largest float and still matter
    (``1e14*sin(x + 0.43)``).  Within the argument of a function that a
    shift of its argument moves (sin, cos, tan, exp, tanh) an intercept is
    also judged by its own size, as it moves the argument by that much,
    however large the rest: ``sin(2.5e12*x + 1.37)`` printed as
    ``sin(2.5e12*x)``, another wave; there only one below ``share`` goes.
    ``any_term``: a term of any form with a float coefficient is judged as a
    monomial is (for reading, where the formula without it is checked), and
    nothing goes inside a log or a divisor."""
    columns = None if points is None else {name: np.asarray(values, dtype=np.float64).ravel()[:RESIDUE_POINTS]
                                           for name, values in points.items()}

    def small_there(constant: float, rest: sympy.Expr) -> bool:
        names = [s.name for s in rest.free_symbols]
        if any(name not in columns for name in names):
            return False
        count = min((columns[name].size for name in names), default=1)
        values = values_at(rest, columns, count)
        if not np.all(np.isfinite(values)):
            return False
        if not np.any(values):  # 0 everywhere there: the values say nothing
            return True
        return _negligible(np.full(count, constant), values, share)

    def drop(node, shifted: bool):
        if not node.is_Add:
            return node
        constant, rest = node.as_coeff_Add()
        if not constant.is_Float or rest == 0 or not math.isfinite(float(constant)):
            return node
        if shifted and not abs(float(constant)) < share:
            return node
        scale = max(abs(float(term.as_coeff_Mul()[0])) for term in sympy.Add.make_args(rest))
        if not (math.isfinite(scale) and abs(float(constant)) < share * scale):
            return node
        return rest if columns is None or small_there(float(constant), rest) else node

    def monomial(term: sympy.Expr) -> bool:
        """A float coefficient times symbols (``3.9e-15*x**2``, left by expanding ``(6.2e-8*x + 0.85)**2``)."""
        coefficient, _ = term.as_coeff_Mul()
        return bool(coefficient.is_Float and term.free_symbols and (any_term or not term.atoms(sympy.Function)))

    def drop_terms(node, shifted: bool):
        """``node`` (a sum) without its monomials below ``share`` of the rest of the sum at every point (and,
        within a shifted argument, below ``share`` itself).  Each term is evaluated once, the rest of the sum
        by subtraction: building the rest in sympy per term took minutes on a 1000-input logit."""
        if columns is None or not node.is_Add:
            return node
        terms = sympy.Add.make_args(node)
        if not any(monomial(t) for t in terms):
            return node
        names = {s.name for s in node.free_symbols}
        if any(name not in columns for name in names):
            return node
        count = min((columns[name].size for name in names), default=0)
        if count == 0:
            return node
        values = [values_at(t, columns, count) for t in terms]
        total = np.sum(values, axis=0)
        kept = []
        for term, value in zip(terms, values):
            size = float(np.max(np.abs(value)))
            rest = total - value
            # (0 at every point: the points say nothing, as of an input that is 0 there; NaN: not negligible)
            # and a term that varies is no residue beside a rest that does not vary as much: tiny beside an
            # intercept of 1e12, 0.5*x0 - 0.25*x1 went, and the formula printed a constant where predict varies
            # (any_term: the caller checks the whole formula without it, against the formula's spread)
            if monomial(term) and size > 0 and _negligible(value, rest, share) \
                    and (any_term or np.ptp(value) < share * np.ptp(rest)) and (not shifted or size < share):
                continue
            kept.append(term)
        return node if len(kept) == len(terms) else sympy.Add(*kept)

    def walk(node, shifted: bool = False, near_pole: bool = False):
        if not node.args:
            return node
        inside = shifted or isinstance(node, SHIFT_SENSITIVE)
        # (any_term: nothing goes inside a log or a divisor, where a tiny constant keeps the formula finite at a
        # point the sample may miss: log|x0 + 3e-7| printed log|x0|, -inf at a training row x0 = 0)
        pole = near_pole or isinstance(node, sympy.log) or (node.is_Pow and bool(node.exp.is_negative))
        args = tuple(walk(arg, inside, pole) for arg in node.args)
        node = node if args == node.args else node.func(*args)
        return node if any_term and near_pole else drop(drop_terms(node, shifted), shifted)

    return rebuilt(expr, lambda: walk(expr))


#: Functions whose value a shift of their argument moves by about as much (or, exp, by as large a share):
#: within their arguments an intercept is judged by its own size too (see _without_residue).
SHIFT_SENSITIVE = (sympy.sin, sympy.cos, sympy.tan, sympy.exp, sympy.tanh)


#: A float becomes a rational only with a numerator below this: 120000 reads as 120000, but 1.2e19 as
#: 1.2e+19, not as the integer 12000000000000002048 (the float's binary value) it equals.
SIMPLE_NUMERATOR = 10**7
#: ... and a denominator up to this (a decimal shown is p/q only where it is exact: 0.375 is 3/8).
SIMPLE_DENOMINATOR = 12
#: A fraction (q > 1) only with a numerator below this: x/2 and 3*x/8 read as easily as 0.5*x and 0.375*x,
#: but 1937/10 - 5.261*x**2 (a linnerud formula's intercept) did not read as 193.7, nor 25/2 as 12.5.
SIMPLE_FRACTION_NUMERATOR = 10
#: Tenths and fifths stay decimals: 0.3*z and 0.7 read at once, 3*z/10 and 7/10 (as they were printed) do not.
DECIMAL_DENOMINATORS = (5, 10)
#: How close (relative) a rounded decimal must be to p/q to be it: float64's error in writing it.
EXACT_DECIMAL = 1e-14


def _simple_rational(value: float, rounded: float, digits: int) -> sympy.Rational | None:
    """The simple nonzero rational (see :func:`round_constants`) that the rounded decimal ``rounded`` is, when
    it is a whole number or lies within rounding of ``value``, or None.  Such a rational p/q (q <= 12) is at
    least 1/12 in size: a smaller value has none.  The decimal must be the rational itself (0.375 is 3/8;
    0.667 is not 2/3, and 9.91 is not 109/11, however close): plain arithmetic, as sympy's nsimplify decided
    it, which took a fifth of the display rounding of a 168-input classifier's formulas.  A whole number is
    one however far the value is within rounding (1.00004 at 4 digits was printed ``1.0*x``: two digits
    shown where four were asked for; :func:`round_faithfully` adds digits where that moves the formula);
    248.1234 stays 248.1, not 2481/10, and 193.70001 stays 193.7: a fraction's numerator is below
    :data:`SIMPLE_FRACTION_NUMERATOR`."""
    if not 1 / 13 < abs(value) < 2 * SIMPLE_NUMERATOR or not math.isfinite(rounded):
        return None
    for q in range(1, SIMPLE_DENOMINATOR + 1):  # the smallest denominator: the rational in lowest terms
        if q in DECIMAL_DENOMINATORS:
            continue
        p = round(rounded * q)
        if p != 0 and abs(p / q - rounded) <= EXACT_DECIMAL * abs(rounded):
            close = q == 1 or abs(p / q - value) <= 10 ** -(digits + 1) * abs(value)
            short = abs(p) < (SIMPLE_NUMERATOR if q == 1 else SIMPLE_FRACTION_NUMERATOR)
            return sympy.Rational(p, q) if close and short else None
    return None


#: Functions whose constant phase is read modulo their period.
PERIODS = {sympy.sin: 2 * math.pi, sympy.cos: 2 * math.pi, sympy.tan: math.pi}
#: Of those, the ones that change sign over half their period (sin(a + pi) = -sin(a)).
ODD_OVER_HALF_PERIOD = (sympy.sin, sympy.cos)
#: A phase this large is left as it is: added to it in float64 (as the engine computed the formula), an
#: input loses its digits below 1e-7 of the phase, and sin(x + 1e20) is a constant that a reduced phase
#: would turn back into a wave.
LARGEST_REDUCED_PHASE = 1e9


def reduced_phases(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` with its periodic functions' phases moved into [-pi/2, pi/2] (see :func:`_reduced_phases`):
    the same function to float64's precision, written as its rounded form is (a report's exact formula
    read sin(sin(x) - 16) beside the printed -sin(sin(x) - 0.292))."""
    return rebuilt(expr, lambda: _reduced_phases(expr)) if expr.has(*PERIODS) else expr


def _reduced_phases(expr: sympy.Expr) -> sympy.Expr:
    """``expr`` with the phase of every sin, cos and tan that lies beyond half a period (a float) or beyond
    a whole one (an exact number: ``sin(x + 4)`` stays) moved by multiples of pi into [-pi/2, pi/2], a sin or
    cos taking the sign that move gives it: the demo printed ``0.698 - 2.608*tanh(tanh(sin(sin(x) - 16)))``,
    which is ``0.698 + 2.608*tanh(tanh(sin(sin(x) - 0.292)))`` (the search has no reason to prefer either;
    the phase -16 was the sum of the constant pool's integers, no more exact than a float)."""
    if not expr.args:
        return expr
    args = tuple(_reduced_phases(arg) for arg in expr.args)
    node = expr if args == expr.args else expr.func(*args)
    period = PERIODS.get(type(node))
    if period is None or not isinstance(node.args[0], sympy.Add):
        return node
    phases = [term for term in node.args[0].args if term.is_Number]
    if len(phases) != 1:
        return node
    value = float(phases[0])
    if not (period / 2 if isinstance(phases[0], sympy.Float) else period) < abs(value) <= LARGEST_REDUCED_PHASE:
        return node
    turns = round(value / math.pi)
    sign = -1 if type(node) in ODD_OVER_HALF_PERIOD and turns % 2 else 1
    return sign * node.func(node.args[0] - phases[0] + sympy.Float(value - math.pi * turns))


def round_constants(expr: sympy.Expr, digits: int = 3, points: dict | None = None) -> sympy.Expr:
    """Round every float in ``expr`` to ``digits`` significant decimals and turn
    floats within rounding of a simple nonzero rational (1/2, 2, -3, ...; a
    numerator below :data:`SIMPLE_NUMERATOR`) into it; an exact number with a
    numerator or denominator from :data:`SIMPLE_NUMERATOR` on is rounded too.
    A sin, cos or tan's phase far from 0 is first moved into [-pi/2, pi/2]
    (:func:`_reduced_phases`).

    Both are relative: a network's weights of 3e-6 stay 3e-6 (an absolute
    tolerance rounded them to 0).  Only the float term of a sum below 1e-9 of
    the sum's largest coefficient becomes 0: the round-off residue of folded
    constants (an intercept of 4e-19 beside weights of 3e-6).  ``points``
    (symbol name -> values: a few inputs where the formula is read) make
    that judgement on the values too (an intercept of 0.5 beside
    ``1.2e19*x`` stays when x is about 1e-19), and a monomial below 1e-9 of
    the rest of its sum at every point goes too (``3.9e-15*h**2`` left by
    expanding a square); see :func:`_without_residue`."""
    expr = reduced_phases(_without_residue(_expression(expr, "round_constants"), RESIDUE, points))
    replacements = {}
    for number in expr.atoms(sympy.Float):
        value = float(number)
        if not math.isfinite(value):
            continue
        if value == 0:  # (nsimplify's tolerance would be 0)
            replacements[number] = sympy.Integer(0)
            continue
        text = f"{value:.{digits}g}"  # as text: 1.7977e308 rounds up past float64's largest (it printed inf)
        replacements[number] = _simple_rational(value, float(text), digits) or sympy.Float(text, digits)
    for number in expr.atoms(sympy.Rational):  # exact, and too long to read: x/30425026352721
        if max(abs(number.p), number.q) >= SIMPLE_NUMERATOR and math.isfinite(value := float(number)):
            replacements[number] = sympy.Float(f"{value:.{digits}g}", digits)
    return common_factor_out(rebuilt(expr, lambda: expr.xreplace(replacements)))


#: Nodes of a sum :func:`common_factor_out` still searches for a factor its terms share (sympy's factor_terms:
#: 20x the cost of the rest on a 1000-node sum, and a sum that long is read for its shape).
SHARED_FACTOR_NODES = 100


def common_factor_out(expr: sympy.Expr) -> sympy.Expr:
    """A sum whose terms (its number aside) carry one coefficient, up to sign, written with that coefficient
    factored out of them: ``24.42*(bmi + s5 - tanh(s3) + sqrt(Abs(age))) + 120.7``, not ``24.42*bmi + 24.42*s5 -
    24.42*tanh(s3) + 24.42*sqrt(Abs(age)) + 120.7`` (a search's output weight, which sympy distributes over the
    sum it scales): fewer nodes, and the sum's shape in plain sight; a factor those terms share is written
    once too (``3.095*x0*(x1 + x2)``, where rounding made 3.0952*x0*x1 and 3.0948*x0*x2 one coefficient's
    terms).  The top-level sum only; the products are left unevaluated (sympy would distribute them again),
    so rebuilding the result (``xreplace``, ``subs``) writes the terms apart again."""
    if not expr.is_Add:
        return expr
    constant, rest = expr.as_coeff_Add()
    groups: dict = {}  # |coefficient| -> [(coefficient, term without it)], in the sum's order
    for term in sympy.Add.make_args(rest):
        coefficient, factor = term.as_coeff_Mul()
        groups.setdefault(abs(coefficient), []).append((coefficient, factor))
    # (an infinite coefficient is not factored: oo*(x + y) would be built from sign(oo/oo), NaN)
    shared = {size for size, members in groups.items() if len(members) >= 2 and size not in (0, 1)
              and size.is_finite}
    if not shared:
        return expr
    parts = []
    for size, members in groups.items():
        if size not in shared:
            parts += [coefficient * factor for coefficient, factor in members]
            continue
        # the sign most of them carry outside: -x counts as -1*x, so a pair of opposite signs alone counts one
        # node more factored (14.14*(bp - sex) against 14.14*bp - 14.14*sex), and reads as what it is, a contrast
        negative = sum(1 for coefficient, _ in members if coefficient < 0)
        common = -size if 2 * negative > len(members) else size
        inner = sympy.Add(*(sympy.sign(coefficient / common) * factor for coefficient, factor in members))
        if complexity(inner) <= SHARED_FACTOR_NODES:  # x0*x1 + x0*x2 -> x0*(x1 + x2): terms whose coefficients
            shared_factor = sympy.factor_terms(inner)    # rounding made equal may share a factor too
            if complexity(shared_factor) < complexity(inner):
                inner = shared_factor
        parts.append(sympy.Mul(common, *sympy.Mul.make_args(inner), evaluate=False))
    return sympy.Add(*parts, constant)


#: Digits :func:`round_faithfully` tries after the first (and each below the first of these), and how close the
#: rounded formula must stay.
MORE_DIGITS = (6, 8, 12)
FAITHFUL_ROUNDING = 1e-3
#: For reading, :func:`round_faithfully` also drops an intercept or monomial below this share of the rest of its
#: sum at every point (:func:`_without_residue`), where the formula without them stays within
#: :data:`NEGLIGIBLE_MOVE` of its spread: a fitted bias of 5.7e-7 is no round-off residue (:data:`RESIDUE`), but
#: ``(0.6151*x1 + 5.727e-7)*(1.626*sin(x0 + 1.309e-6) - 6.64e-7)`` hid the ``x1*sin(x0)`` it is to 1e-6.
READING_RESIDUE = 1e-4
NEGLIGIBLE_MOVE = 1e-5
#: Nodes (:func:`complexity`) beyond which :func:`round_faithfully` rounds once, to the most digits, instead
#: of trying each (every try rounds every constant again: a 6500-operation layer-wise chain took 14 s of a
#: 30 s explanation); a formula that long is read for its shape, and copied exact.  Counted as nodes, not as
#: sympy's count_ops, which took a fifth of the display rounding of a 168-input classifier's formulas.
FAITHFUL_TRIES_NODES = 2000


def round_faithfully(expr: sympy.Expr, digits: int, points: dict | None, tolerance: float = 0.0, *,
                     by_size: bool = False) -> sympy.Expr:
    """:func:`round_constants` with ``digits``, or with more (:data:`MORE_DIGITS`) where that rounding
    moves the formula at ``points`` (symbol name -> values) by more than :data:`FAITHFUL_ROUNDING` of its
    spread there: terms that nearly cancel (``0.1235*year - 248.1`` for years near 2000) lose their
    difference to rounding each constant alone, and a formula printed beside R2 1 scored 0.965.  Constants that
    move the formula by less than :data:`NEGLIGIBLE_MOVE` of its spread at ``points`` go first (below
    :data:`READING_RESIDUE` of the rest of their sum, outside logs and divisors; ``by_size``: of its size, its
    sign kept: the tiny biases a gradient leaves, which keep sympy from merging the factors around them).  Formulas
    of any size are checked (a 700-node chain printed at 4 digits scored 0.99999 for 1.0), at the points
    where the exact formula is finite (a log of an input that is 0 at one point would not leave the rest
    unchecked).  ``tolerance``: a move the formula may make anyway (a share of its own error against
    what it explains: a formula 18 % off its network was printed at 6 digits to stay within 1e-3 of
    itself).  ``by_size``: the move is judged against the formula's typical size when that is larger than
    its spread (a classifier's logit, whose sign is what it decides: ``0.004035*cos(x) + 2.985`` kept 8
    digits to stay within 1e-3 of a spread of 0.003, where any 4-digit rounding keeps its class).  Where
    no rounding stays within the bound, ``expr`` comes back as it is, exact.  Past
    :data:`FAITHFUL_TRIES_NODES` nodes, the most digits at once."""
    base, found, _ = _faithful_digits(expr, digits, points, tolerance, by_size=by_size)
    return base if found is None else round_constants(base, found, points)


def round_faithfully_together(exprs, digits: int, points: dict | None, tolerances=None, *,
                              by_size: bool = False) -> list:
    """:func:`round_faithfully` of each of ``exprs`` (a formula's outputs), all to the digits the most demanding
    one needs: an iris classifier's three logits read 4, 5 and 5 digits, and the part they share
    (``tanh(tan(tanh(sin(-2.512*...))))``) was named u2 in two of them and spelled out in the third.  An output
    no rounding keeps faithful stays exact, and one past :data:`FAITHFUL_TRIES_NODES` nodes takes the most
    digits, as alone; neither sets the others' count."""
    exprs = list(exprs)
    tolerances = [0.0] * len(exprs) if tolerances is None else list(tolerances)
    plans = [_faithful_digits(e, digits, points, t, by_size=by_size) for e, t in zip(exprs, tolerances)]
    # only outputs whose digits were measured set and take the common count: one printed exact (no rounding
    # stays close) keeps its exact form, and one too large to measure (FAITHFUL_TRIES_NODES) its most digits,
    # without forcing 12 digits on the rest
    measured = [d is not None and not too_large for _, d, too_large in plans]
    common = max((d for (_, d, _), m in zip(plans, measured) if m), default=None)
    plans = [(base, common if m else d) for (base, d, _), m in zip(plans, measured)]
    return [base if d is None else round_constants(base, d, points) for base, d in plans]


def _faithful_digits(expr: sympy.Expr, digits: int, points: dict | None, tolerance: float = 0.0, *,
                     by_size: bool = False) -> tuple[sympy.Expr, int | None, bool]:
    """What :func:`round_faithfully` rounds (``expr``, or ``expr`` without its negligible terms), to how many
    digits (None: to none, ``expr`` is printed exact), and whether ``expr`` was too large to measure (past
    :data:`FAITHFUL_TRIES_NODES`: the most digits, unmeasured)."""
    expr = _expression(expr, "round_faithfully")
    if complexity(expr) > FAITHFUL_TRIES_NODES:
        return expr, max(digits, MORE_DIGITS[-1]), True
    names = {s.name for s in expr.free_symbols}
    if points is None or not names or any(name not in points for name in names):
        return expr, digits, False
    columns = {name: np.asarray(points[name], dtype=np.float64).ravel()[:RESIDUE_POINTS] for name in names}
    count = min(column.size for column in columns.values())

    def values(e):
        return values_at(e, columns, count)

    exact = values(expr)
    finite = np.isfinite(exact)
    if not finite.any():
        return expr, digits, False
    rounded = round_constants(expr, digits, points)  # (only here: the caller rounds what is returned)
    exact = exact[finite]
    scale = float(np.std(exact)) or float(np.max(np.abs(exact)))
    if by_size:
        scale = max(scale, float(np.median(np.abs(exact))))
    base = _without_residue(expr, READING_RESIDUE, columns, any_term=True)  # rounded: without negligible terms
    if base != expr:
        without = values(base)[finite]
        moved = without - exact
        # (by_size: a decision's sign is what it says, kept at every point)
        if np.all(np.isfinite(moved)) and float(np.max(np.abs(moved), initial=0.0)) <= NEGLIGIBLE_MOVE * scale \
                and (not by_size or np.array_equal(np.sign(without), np.sign(exact))):
            rounded = round_constants(base, digits, points)
        else:
            base = expr
    # each digit up to MORE_DIGITS' first, then its others (asked for 2, it printed 6 where 3 stayed as close)
    for more in (digits, *range(digits + 1, MORE_DIGITS[0]), *(d for d in MORE_DIGITS if d > digits)):
        if more != digits:
            rounded = round_constants(base, more, points)
        error = values(rounded)[finite] - exact
        allowed = max(FAITHFUL_ROUNDING * scale, tolerance)
        if np.all(np.isfinite(error)) and float(np.max(np.abs(error), initial=0.0)) <= allowed:
            return base, more, False
    return expr, None, False  # no rounding stays that close (sin(x + 1641913388.37779) at 12 digits moved 3e-3 of its
    # spread)


def _cancel(expr: sympy.Expr) -> sympy.Expr:
    """Fractions over a common denominator, cancelled (rational expressions
    of modest size only: sympy's polynomial gcd can run for minutes on the
    float coefficients of a classifier's many-input linear logits)."""
    if sympy.count_ops(expr) <= 200 and not expr.has(sympy.sin, sympy.cos, sympy.tan, sympy.log):
        return sympy.cancel(expr)
    return expr


def _simplify_child(expr, connection):
    """Send each better form as it is found: cancelled, then simplified.  Ctrl-C is the parent's to
    handle (it kills this child): the child ignores it rather than dying with a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        for step in (_cancel, sympy.simplify):
            expr = step(expr)
            connection.send(expr)
    except Exception:  # sympy failures are not fatal: the parent keeps what it has
        pass
    finally:
        connection.close()


def _can_fork() -> bool:
    return hasattr(os, "fork") and not multiprocessing.current_process().daemon


def _real_valued(expr: sympy.Expr) -> bool:
    """Whether every fractional power and log in ``expr`` has an argument sympy
    knows is nonnegative (positive for log), so that NumPy evaluates it in
    real arithmetic as it reads.  srnet's formulas are (sqrt|a|, log|a|), but
    sympy may rewrite sqrt(|x|)*|tan x| as |sqrt(x)*tan x|: equal in complex
    arithmetic, NaN for x < 0 when evaluated as written."""
    for node in sympy.preorder_traversal(expr):
        if node.is_Pow and node.exp.is_integer is not True and node.base.is_nonnegative is not True:
            return False
        if isinstance(node, sympy.log) and node.args[0].is_positive is not True \
                and node.args[0].is_nonnegative is not True:
            return False
    return True


#: What a finite formula must not simplify to (sympy's complex infinity, NaN and the infinities).
_NOT_FINITE = (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)


#: How long :func:`simplify` may combine powers and check forms in this process (they take milliseconds on
#: readable formulas); past it the formula is kept as it is.
IN_PROCESS_SECONDS = 1.0


#: The longest :func:`simplify` waits for its child's next form (a pipe's poll takes up to about 24 days): a
#: later deadline, or none (inf), waits this long.
LONGEST_WAIT_SECONDS = 1e6


def simplify(expr: sympy.Expr, max_seconds: float = 5.0, max_complexity: int = 400) -> sympy.Expr:
    """``sympy.simplify`` with a deadline; whatever is done when time runs out.

    Powers are combined at once (cheap on formulas of a readable size);
    cancelling fractions and ``sympy.simplify`` run in a child process that
    is killed at the deadline (either can take minutes), each form sent as
    soon as it exists.  Expressions larger than ``max_complexity`` nodes are
    returned as they are (sympy would not finish on them, and even powsimp,
    in this process and without a deadline, ran for minutes on a 490-node
    class logit).  Whatever is smallest
    is kept: the input, its clean-up or a simplified form (putting sigmoids
    over a common denominator can multiply their size), as long as it stays
    real-valued as written where the input was (:func:`_real_valued`).
    """
    expr = _expression(expr, "simplify")
    if complexity(expr) > max_complexity:  # in-process, unbounded: powsimp of a 490-node class logit with
        return expr                        # large trig arguments ran for minutes (Mod -> gcd -> expand)
    with time_limit(IN_PROCESS_SECONDS) as limit:  # a 170-node formula's powsimp ran for minutes
        real = _real_valued(expr)                   # (tanh(tan(...)**2): is it real?)
        finite = not expr.has(*_NOT_FINITE)
        cleaned = sympy.powsimp(expr)
    if limit.expired:
        return expr

    def better(form) -> bool:  # smaller, as real as the input (see _real_valued) and as finite
        # (x/(sin(x)**2 + cos(x)**2 - 1) is zoo*x on paper, where the program's protected division gives x)
        with time_limit(IN_PROCESS_SECONDS):  # whether a form is real is sympy's assumptions again: bounded,
            return (complexity(form) <= complexity(best) and (_real_valued(form) or not real)  # no answer a no
                    and (not finite or not form.has(*_NOT_FINITE)))
        return False

    best = expr
    if better(cleaned):
        best = cleaned
    if max_seconds <= 0 or not _can_fork():
        return best
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_simplify_child, args=(best, sender), daemon=True)
    deadline = time.monotonic() + max_seconds
    child.start()
    sender.close()
    try:
        # (poll refuses a wait past about 2**31 ms: a max_seconds of 3e6, or inf, was an OverflowError)
        while receiver.poll(min(max(0.0, deadline - time.monotonic()), LONGEST_WAIT_SECONDS)):
            result = receiver.recv()
            if better(result):
                best = result
    except (EOFError, OSError):  # the child finished (or failed): keep what arrived
        pass
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receiver.close()
    return best


def simplify_all(expressions, max_seconds: float = 5.0, max_complexity: int = 400) -> list:
    """:func:`simplify` of each expression, all of them within ``max_seconds``
    (each gets what the ones before it left: per formula, ten class logits
    at 2 s each took 20 s of a "2 s" budget)."""
    deadline = time.perf_counter() + max_seconds
    return [simplify(e, max(0.0, deadline - time.perf_counter()), max_complexity) for e in expressions]

def latex(expr: sympy.Expr, digits: int = 4) -> str:
    """LaTeX of ``expr`` rounded as its text is printed by :func:`round_constants` (a candidate's formulas,
    rounded faithfully at its points, write their LaTeX from the rounded form): the two read the same."""
    return printed(round_constants(_expression(expr, "latex"), digits), latex=True)


def is_equivalent(candidate: sympy.Expr, truth: sympy.Expr, digits: int = 3, max_seconds: float = 10.0) -> bool:
    """Whether ``candidate`` equals ``truth`` after rounding its constants to ``digits``.

    Symbols are matched by name; both are simplified (difference and ratio),
    within ``max_seconds`` in all.  A truth with irrational constants (pi,
    sqrt(2)) is also compared written with them rounded alike: a search finds
    3.14159*x, never pi*x.
    """
    candidate, truth = _expression(candidate, "is_equivalent"), _expression(truth, "is_equivalent")
    by_name = {s.name: s for s in truth.free_symbols}
    candidate = candidate.xreplace({s: by_name.get(s.name, s) for s in candidate.free_symbols})
    # even functions forget the sign of their argument: cos|y| is cos y
    candidate = candidate.replace(lambda e: isinstance(e, (sympy.cos, sympy.cosh)) and isinstance(e.args[0], sympy.Abs),
                                  lambda e: e.func(e.args[0].args[0]))
    # rounding first keeps exact constants such as 3*E/2; folding first
    # cancels numeric residue such as -1.9545 + cos(1) + sqrt(2)
    deadline = time.monotonic() + max_seconds
    rounded_truth = round_constants(fold_constants(truth), digits)
    candidates = (round_constants(candidate, digits), round_constants(fold_constants(candidate), digits))
    for target in (truth,) if rounded_truth == truth else (truth, rounded_truth):
        for rounded in candidates:
            difference = rounded - target
            for test in (difference, rounded / target - 1, sympy.logcombine(difference, force=True)):
                if simplify(test, max(0.0, deadline - time.monotonic())) == 0:
                    return True
    return False


def evaluate_sympy(expr: sympy.Expr, symbols, X) -> list[float]:
    """Evaluate ``expr`` at each row of X exactly through sympy (slow; for tests
    and checks).  Non-real or infinite results become NaN."""
    out = []
    for row in X:
        value = expr.xreplace({s: sympy.Float(float(v), 30) for s, v in zip(symbols, row)}).evalf(20)
        try:
            number = complex(value)
            real = abs(number.imag) <= 1e-12 * max(1.0, abs(number.real)) and math.isfinite(number.real)
            out.append(number.real if real else math.nan)
        except TypeError:
            out.append(math.nan)
    return out
