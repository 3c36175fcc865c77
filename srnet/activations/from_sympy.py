"""sympy expressions to :class:`~srnet.expr.Program`, through the primitive table.

The converter walks the expression tree (nothing is printed, parsed or
executed) and emits one program step per primitive application, sharing
repeated sub-expressions.  How sympy spells each primitive is read from the
table itself (``Primitive.sympy`` applied to placeholder symbols), so a
primitive added to :data:`srnet.cgp.primitives.PRIMITIVES` with a sympy form
of the shapes below is picked up without touching this module:

* ``f(u)`` for a sympy function ``f``        (sin, cos, tan, exp, tanh, Abs),
* ``f(Abs(u))``                              (log: log|u|),
* ``u**n`` and ``Abs(u)**n``                 (square, cube; sqrt = |u|**(1/2)),
* ``-u``                                     (neg),
* any other unary form, matched as a pattern (sigmoid: ``1/(1 + exp(-u))``),
  and the negative integer powers of its reciprocal (``(1 + exp(-u))**-4``: sigmoid(u)**4),
* ``u + v``, ``u - v``, ``u*v``, ``u/v``     (add, sub, mul, div).

Mapping rules (the program computes the engine's protected semantics):

* n-ary ``Add``/``Mul`` become left-to-right chains of add/sub/mul; negative
  coefficients become subtractions; factors with negative exponents form a
  denominator, joined by the protected ``div`` (1 where the denominator is
  within 1e-10 of 0, as in the engine);
* integer powers use square/cube and repeated squaring; exponents ``k/2``,
  ``k/4``, ... go through nested ``sqrt``; a positive number to a symbolic
  power, ``b**t``, is ``exp(t*log(b))`` (the table's exp, clipped at 80);
* ``sqrt(a)``, ``log(a)`` and fractional powers: the table's sqrt and log
  compute sqrt|a| and log|a| (0 near 0).  That is what the user meant only where ``a >= 0``, so
  they are accepted when ``a`` is an ``Abs(...)`` (which then collapses into
  the primitive) or provably non-negative for a real variable (``x**2 + 1``,
  ``exp(x)``); otherwise the conversion fails, unless ``protected=True``
  accepts the |a| reading explicitly;
* numbers (including pi and E) become program constants; anything else (an
  unknown function such as ``erf``, ``Max``, ``Piecewise``, a non-finite
  number, an exponent like 1/3) is an error that names the node and lists
  what is supported.

Where this belongs: it is a general sympy -> Program converter, the inverse
of :func:`srnet.expr.symbolic.raw_sympy`; it should move to
``srnet/expr/from_sympy.py`` (it imports nothing from srnet.activations).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence

import numpy as np
import sympy

from srnet.cgp.primitives import PRIMITIVES
from srnet.data import check_flag
from srnet.expr.program import Program

_U = sympy.Dummy("u", real=True)
_V = sympy.Dummy("v", real=True)
_W = sympy.Wild("w")
_ROOT_DEPTHS = {2**m: m for m in range(1, 6)}  # exponent denominators reachable by nested sqrt


class _Table:
    """How sympy spells each primitive, read off ``Primitive.sympy``."""

    def __init__(self):
        self.functions = {}      # sympy function class -> primitive name, f(u)
        self.abs_functions = {}  # sympy function class -> primitive name, f(|u|)
        self.powers = {}         # integer exponent -> primitive name, u**n
        self.abs_powers = {}     # rational exponent -> primitive name, |u|**q
        self.negation = None
        self.patterns = []       # (pattern with a Wild, primitive name)
        self.binary = {}         # "add" / "sub" / "mul" / "div" -> primitive name
        binary_shapes = {"add": _U + _V, "sub": _U - _V, "mul": _U * _V, "div": _U / _V}
        for p in PRIMITIVES:
            if p.arity == 2:
                form = p.sympy(_U, _V)
                for shape, expected in binary_shapes.items():
                    if form == expected:
                        self.binary.setdefault(shape, p.name)
                continue
            form = p.sympy(_U, _U)
            if isinstance(form, sympy.Function) and len(form.args) == 1 and form.args[0] == _U:
                self.functions.setdefault(form.func, p.name)
            elif isinstance(form, sympy.Function) and len(form.args) == 1 and form.args[0] == sympy.Abs(_U):
                self.abs_functions.setdefault(form.func, p.name)
            elif form.is_Pow and form.base == _U and form.exp.is_Integer:
                self.powers.setdefault(int(form.exp), p.name)
            elif form.is_Pow and form.base == sympy.Abs(_U) and form.exp.is_Rational:
                self.abs_powers.setdefault(sympy.Rational(form.exp), p.name)
            elif form == -_U:
                self.negation = self.negation or p.name
            else:
                self.patterns.append((form.xreplace({_U: _W}), p.name))

    def supported(self) -> str:
        names = sorted({*(f.__name__ for f in self.functions), *(f.__name__ for f in self.abs_functions)})
        shapes = ["+", "-", "*", "/", "integer powers"]
        if sympy.Rational(1, 2) in self.abs_powers:
            shapes.append("powers k/2, k/4, ... (sqrt)")
        shapes += [str(pattern.xreplace({_W: sympy.Symbol("t")})) for pattern, _ in self.patterns]
        return ", ".join(shapes + names)


_TABLE = _Table()


def supported_forms() -> str:
    """A one-line list of the sympy forms :func:`program_from_sympy` converts."""
    return _TABLE.supported()


#: Largest integer power a formula may hold: x**1024 overflows float64 for
#: |x| > 2, and larger exponents (sympy allows 10**300) would only recurse.
MAX_INTEGER_POWER = 1024

class _Builder:
    """Emits program steps for an expression, sharing repeated sub-expressions.

    References are ``("in", i)``, ``("const", k)`` or ``("step", k)`` and become
    addresses once all constants are known.
    """

    def __init__(self, symbols, protected: bool):
        self.inputs = {s: i for i, s in enumerate(symbols)}
        self.protected = protected
        self.constants: list[float] = []
        self.steps: list[tuple[str, tuple, tuple]] = []
        self.memo: dict = {}
        self.step_memo: dict = {}

    # ------------------------------------------------------------ emitting

    def constant(self, value: float):
        value = float(value)
        if not np.isfinite(value):
            raise ValueError(f"the expression holds a non-finite number ({value})")
        for k, known in enumerate(self.constants):
            if known == value and np.signbit(known) == np.signbit(value):
                return ("const", k)
        self.constants.append(value)
        return ("const", len(self.constants) - 1)

    def step(self, name: str, a, b=None):
        key = (name, a, b)
        if key not in self.step_memo:
            self.steps.append((name, a, b))
            self.step_memo[key] = ("step", len(self.steps) - 1)
        return self.step_memo[key]

    def binary(self, shape: str, a, b):
        name = _TABLE.binary.get(shape)
        if name is None:
            raise ValueError(f"the primitive table has no primitive for a {shape} b")
        return self.step(name, a, b)

    def negate(self, ref):
        if _TABLE.negation is not None:
            return self.step(_TABLE.negation, ref)
        return self.binary("sub", self.constant(0.0), ref)

    def power(self, ref, n: int):
        """ref**n for an integer n >= 1, by square/cube and repeated squaring."""
        if n > MAX_INTEGER_POWER:
            raise ValueError(f"the integer power {float(n):.4g} is beyond srnet's {MAX_INTEGER_POWER} (it overflows "
                             f"float64 for any input above 2 in size)")
        if n == 1:
            return ref
        if n in _TABLE.powers:
            return self.step(_TABLE.powers[n], ref)
        half = self.power(ref, n // 2)
        if 2 in _TABLE.powers:
            squared = self.step(_TABLE.powers[2], half)
        else:
            squared = self.binary("mul", half, half)
        return squared if n % 2 == 0 else self.binary("mul", squared, ref)

    # ---------------------------------------------------------- converting

    def convert(self, e: sympy.Expr):
        if e not in self.memo:
            self.memo[e] = self._convert(e)
        return self.memo[e]

    def _convert(self, e):
        if e in self.inputs:
            return ("in", self.inputs[e])
        if e.is_Symbol:
            raise ValueError(f"unknown variable {e} (the variables are {', '.join(map(str, self.inputs))})")
        if e.is_number:
            return self.constant(_number(e))
        if e.is_Add:
            return self._add(e)
        if e.is_Mul:
            return self._mul(e)
        for pattern, name in _TABLE.patterns:
            if e.func == pattern.func:
                match = e.match(pattern)
                if match is not None and _W in match:
                    return self.step(name, self.convert(match[_W]))
        if e.is_Pow:
            return self._pow(e)
        if isinstance(e, sympy.Function) and len(e.args) == 1:
            if e.func in _TABLE.functions:
                return self.step(_TABLE.functions[e.func], self.convert(e.args[0]))
            if e.func in _TABLE.abs_functions:
                name = _TABLE.abs_functions[e.func]
                return self.step(name, self.convert(self._abs_argument(e.args[0], e)))
        head = getattr(e.func, "__name__", type(e).__name__)
        raise ValueError(f"'{head}' in {e} has no primitive in srnet's table; supported: {supported_forms()} "
                         "(add a Primitive to srnet.cgp.primitives.PRIMITIVES for more)")

    def _abs_argument(self, arg, whole):
        """The argument a primitive computing f(|arg|) should read."""
        if isinstance(arg, sympy.Abs):
            return arg.args[0]  # f(|a|): the primitive's own |.|
        if arg.is_nonnegative or self.protected:
            return arg
        raise ValueError(f"{whole} is not real where {arg} < 0, but srnet's primitive computes it on "
                         f"|{arg}| (protected semantics); write it with Abs({arg}) to mean that, "
                         "or pass protected=True")

    def _add(self, e):
        number, terms = e.as_coeff_add()
        positive, negative = [], []
        for term in terms:
            coeff, rest = term.as_coeff_Mul()
            if coeff.is_negative:
                negative.append(sympy.Mul(-coeff, rest))
            else:
                positive.append(term)
        if positive:
            ref = self.convert(positive[0])
            for term in positive[1:]:
                ref = self.binary("add", ref, self.convert(term))
        else:
            ref = self.negate(self.convert(negative.pop(0)))
        for term in negative:
            ref = self.binary("sub", ref, self.convert(term))
        if number != 0:
            if number.is_negative:
                ref = self.binary("sub", ref, self.constant(_number(-number)))
            else:
                ref = self.binary("add", ref, self.constant(_number(number)))
        return ref

    def _mul(self, e):
        coeff, factors = e.as_coeff_mul()
        numerator, denominator = [], []
        for f in factors:
            if f.is_Pow and f.exp.is_number and f.exp.is_negative and not self._is_pattern(f):
                denominator.append(sympy.Pow(f.base, -f.exp))
            else:
                numerator.append(f)
        sign = 1
        if coeff == -1:
            sign, coeff = -1, sympy.Integer(1)
        ref = None
        if coeff != 1:
            ref = self.constant(_number(coeff))
        for f in numerator:
            ref = self.convert(f) if ref is None else self.binary("mul", ref, self.convert(f))
        if denominator:
            below = self.convert(denominator[0])
            for f in denominator[1:]:
                below = self.binary("mul", below, self.convert(f))
            ref = self.binary("div", self.constant(1.0) if ref is None else ref, below)
        return self.negate(ref) if sign < 0 else ref

    def _is_pattern(self, e) -> bool:
        """A pattern of the table (sigmoid's ``1/(1 + exp(-u))``), or a negative integer power of one's
        reciprocal (``(1 + exp(-u))**-4``, sigmoid(u)**4), kept out of the denominator as such."""
        return _pattern_power(e) or _matches_pattern(e)

    def _pow(self, e):
        base, exponent = e.base, e.exp
        if exponent.is_number:
            value = _number(exponent)
            if value == int(value):
                n = int(value)
                if n == 0:
                    return self.constant(1.0)
                if _pattern_power(e):  # sigmoid(u)**4 as such: (1 + exp(-u))**4 overflowed, and its gradient
                    # at x = -50 in float32 was NaN (inf * 0) where the fused kernel and torch.sigmoid give 0
                    return self.power(self.convert(sympy.Pow(base, -1)), -n)
                ref = self.power(self.convert(base), abs(n))
                return ref if n > 0 else self.binary("div", self.constant(1.0), ref)
            half = sympy.Rational(1, 2)
            fraction = sympy.Rational(value).limit_denominator(64)
            q = fraction.q if float(fraction) == value else 0
            if q in _ROOT_DEPTHS and half in _TABLE.abs_powers:
                # k / 2**m: m nested square roots (each of |.|), then the integer power k
                root = self.convert(self._abs_argument(base, e))
                for _ in range(_ROOT_DEPTHS[q]):
                    root = self.step(_TABLE.abs_powers[half], root)
                n = int(fraction.p)
                ref = self.power(root, abs(n))
                return ref if n > 0 else self.binary("div", self.constant(1.0), ref)
            raise ValueError(f"{e}: the exponent {exponent} cannot be written with srnet's primitives "
                             "(integers, and k/2, k/4, ... through nested sqrt, are supported)")
        if base.is_number and base.is_positive:
            return self.convert(sympy.exp(exponent * sympy.log(base)))
        raise ValueError(f"{e}: a power with a variable exponent needs a positive numeric base "
                         "(b**t is converted as exp(t*log(b)))")


def _pattern_power(e) -> bool:
    """``e`` is ``b**-n`` (an integer n > 1) with ``1/b`` a pattern of the table."""
    if not (e.is_Pow and e.exp.is_Integer and e.exp < -1):
        return False
    return _matches_pattern(sympy.Pow(e.base, -1))


def _matches_pattern(e) -> bool:
    """``e`` is one of the table's patterns (sigmoid's ``1/(1 + exp(-u))``)."""
    return any(e.func == p.func and e.match(p) is not None for p, _ in _TABLE.patterns)


def _number(e) -> float:
    """A real, finite float from a sympy number, or a clear error."""
    try:
        value = complex(sympy.N(e, 17))
    except (TypeError, ValueError):
        value = complex(float("nan"))
    if value.imag != 0 or not np.isfinite(value.real):
        shown = str(e) if len(str(e)) <= 40 else sympy.sstr(sympy.N(e, 4))  # 10**400 was shown in 401 digits
        raise ValueError(f"the expression holds {shown}, which is not a finite real number")
    return value.real


def _split_affine(expr):
    """``expr = w * core + b`` with numbers w, b taken out (they become the
    program's output map instead of steps)."""
    intercept, core = (expr.as_coeff_Add() if expr.is_Add else (sympy.Integer(0), expr))
    weight, core = (core.as_coeff_Mul() if core.is_Mul else (sympy.Integer(1), core))
    return _number(weight), core, _number(intercept)


def _logistic_quotients(expr: sympy.Expr) -> sympy.Expr:
    """``exp(u) / (exp(u) + 1)`` written as ``1 / (1 + exp(-u))`` (sympy's own
    simplify of x*sigmoid(x) gives the first form).  Converted as it stands,
    the denominator matches the table's sigmoid(-u) while ``exp(u)`` is the
    table's exp, capped at EXP_MAX: for u > 80 the product collapsed (SiLU
    gave 2e-7 at x = 100).  One exp, no cap: the quotient stays exact."""

    def rewrite(product):
        factors = list(product.args)
        for k, factor in enumerate(factors):
            if not (factor.is_Pow and factor.exp == -1 and factor.base.is_Add and len(factor.base.args) == 2):
                continue
            one, growth = sorted(factor.base.args, key=lambda a: a != 1)
            if one != 1 or not isinstance(growth, sympy.exp) or growth not in factors:
                continue
            rest = [f for j, f in enumerate(factors) if j != k]
            rest.remove(growth)
            return sympy.Mul(*rest, 1 / (1 + sympy.exp(-growth.args[0])))
        return product

    return expr.replace(lambda e: e.is_Mul, rewrite)


#: The assumptions of a real symbol: a symbol declaring any other (positive, integer, ...) is refused.
_REAL_ASSUMPTIONS = sympy.Symbol("t", real=True).assumptions0


def _check_real_symbols(symbols) -> None:
    """Refuse inputs declared narrower than the reals: a program reads every real number, but sympy has already
    simplified the expression on those assumptions (with positive x, sqrt(x**2) is x and Abs(x) is x, so the
    program gave -2 at x = -2 for |x|), which would be a silently different function."""
    for s in symbols:
        narrower = sorted(key for key, value in s.assumptions0.items() if _REAL_ASSUMPTIONS.get(key) != value)
        if narrower:
            shown = [key for key in narrower if s.assumptions0[key]] or narrower  # positive=True implies zero=False
            declared = ", ".join(f"{key}={s.assumptions0[key]}" for key in shown)
            raise ValueError(f"the symbol {s} is declared with {declared}, but the program reads any real number, "
                             f"and sympy may already have simplified the expression on that assumption "
                             f"(sqrt({s}**2) -> {s}); build it with sympy.Symbol({s.name!r}, real=True)")


def program_from_sympy(expr, symbols: Sequence[sympy.Symbol], *, protected: bool = False) -> Program:
    """The :class:`Program` computing ``expr`` (one target) over ``symbols``.

    Parameters
    ----------
    expr : sympy.Expr
        A real expression of ``symbols`` (see the module docstring for the
        supported forms).  Strings are refused: parsing them would mean eval.
    symbols : sequence of sympy.Symbol
        The program's inputs, in order; every free symbol of ``expr`` must be
        among them.
    protected : bool, default=False
        Accept ``sqrt(a)`` and ``log(a)`` of possibly negative ``a`` as the
        engine's sqrt|a| and log|a|.

    Returns
    -------
    Program
        ``n_inputs = len(symbols)``, one raw output with a leading numeric
        factor and additive constant moved into its weight and intercept.

    Raises
    ------
    TypeError
        ``expr`` is a string or not a sympy expression.
    ValueError
        Unknown variables or functions, unsupported exponents, non-finite
        numbers, sqrt/log of possibly negative arguments (without protected).
    """
    if isinstance(expr, str):
        raise TypeError("give a sympy expression, not a string: srnet does not parse text "
                        "(sympy.sympify would eval it)")
    protected = check_flag("protected", protected)  # protected="no" was true: log(x) built as log|x|
    # (True became sympy.Float(True): "could not convert string to float: 'true'"; NumPy's int64 was refused)
    if isinstance(expr, (bool, np.bool_)):
        raise TypeError(f"expected a sympy expression, got the boolean {expr!r}")
    if isinstance(expr, numbers.Real):
        expr = sympy.Float(float(expr))
    if not isinstance(expr, sympy.Expr):
        raise TypeError(f"expected a sympy expression, got {type(expr).__name__}")
    if isinstance(symbols, (str, sympy.Basic)) or not isinstance(symbols, Iterable):
        raise TypeError(f"symbols must be a sequence of sympy Symbols, got {symbols!r}")
    symbols = list(symbols)
    for s in symbols:  # a name such as "x" failed with "'str' object has no attribute 'name'"
        if not isinstance(s, sympy.Symbol):
            raise TypeError(f"symbols must be sympy Symbols, got {s!r} ({type(s).__name__})")
    names = [s.name for s in symbols]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:  # [x, x] made a two-input program reading only its second input
        raise ValueError(f"symbols repeat {', '.join(repeated)}: each input needs its own name")
    _check_real_symbols([*symbols, *(f for f in expr.free_symbols if f.name in names)])
    real = {s: sympy.Symbol(s.name, real=True) for s in symbols}
    # by name, as ExpressionActivation.from_sympy matches them: make_symbols' x0 is real, a plain x0 is not
    by_name = {s.name: s for s in symbols}
    expr = expr.xreplace({f: by_name[f.name] for f in expr.free_symbols if f.name in by_name and f not in real})
    unknown = sorted(str(s) for s in expr.free_symbols if s not in real)
    if unknown:
        raise ValueError(f"{expr} uses {', '.join(unknown)}, which are not among the program's inputs "
                         f"({', '.join(map(str, symbols)) or 'none'})")
    # the variables of an activation are real: that lets sympy prove x**2 + 1 > 0
    expr = _logistic_quotients(expr.xreplace(real))
    builder = _Builder([real[s] for s in symbols], protected)
    weight, core, intercept = _split_affine(expr)
    ref = builder.convert(core)
    n, k = len(symbols), len(builder.constants)

    def address(reference):
        if reference is None:  # the unused second input of a unary primitive
            return 0
        kind, index = reference
        return index if kind == "in" else n + index if kind == "const" else n + k + index

    steps = tuple((name, address(a), address(b)) for name, a, b in builder.steps)
    return Program(n, tuple(builder.constants), steps, (address(ref),), [[weight]], [intercept])


__all__ = ["program_from_sympy", "supported_forms"]
