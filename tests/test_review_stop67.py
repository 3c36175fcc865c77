"""Stop 67: findings of this stop's own runs and of its user review (deriving activations)."""

import time

import sympy

from srnet.expr import symbolic
from srnet.expr.symbolic import printed


class SlowToOrder(sympy.Function):
    """A term whose printing spins while the printer orders terms, as sympy's ordering of a 2,000-node
    candidate of kkk3's network did for minutes (the fit hung); printed in stored order, it prints at once."""

    nargs = 1

    def _sympystr(self, printer):
        if printer._settings.get("order") != "none":
            while True:  # (pure Python: the time limit interrupts it)
                pass
        return f"slow({printer._print(self.args[0])})"

    def _latex(self, printer):
        if printer._settings.get("order") != "none":
            while True:
                pass
        return rf"\operatorname{{slow}}({printer._print(self.args[0])})"


def test_a_formula_whose_terms_sympy_cannot_order_in_time_is_printed_in_stored_order(monkeypatch):
    monkeypatch.setattr(symbolic, "PRINT_SECONDS", 0.2)
    x = sympy.Symbol("x")
    expr = 2 * SlowToOrder(x) + x
    started = time.perf_counter()
    assert printed(expr) in ("2*slow(x) + x", "x + 2*slow(x)")
    assert printed(expr, latex=True).replace(" ", "") in (r"2\operatorname{slow}(x)+x", r"x+2\operatorname{slow}(x)")
    assert time.perf_counter() - started < 5
    # the ordinary case: sympy's own text, its terms ordered
    assert printed(x**2 + sympy.sin(x) + 1) == str(x**2 + sympy.sin(x) + 1) == "x**2 + sin(x) + 1"
    assert printed(x**2 + 1, latex=True) == sympy.latex(x**2 + 1)
    assert printed(3.5) == "3.5"
