"""Evolved expressions as data (Program), sympy formulas and torch modules."""

from srnet.expr.program import Program
from srnet.expr.symbolic import complexity, is_equivalent, latex, make_symbols, round_constants, simplify, to_sympy
from srnet.expr.torch_module import ProgramModule

__all__ = ["Program", "ProgramModule", "complexity", "is_equivalent", "latex", "make_symbols", "round_constants",
           "simplify", "to_sympy"]
