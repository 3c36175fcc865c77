"""Mutation testing of the numba fitness kernels (srnet/cgp/_fitness.py).

mutmut 3 cannot mutate @njit code (its trampolines are Python objects numba
cannot compile), so this script makes classic mutants itself, one at a time,
in a temporary copy of the repository, and runs the fitness tests on each:

* comparison flips (< <=, > >=, == !=), arithmetic swaps (+ -, * /, also in
  augmented assignments), ``and``/``or`` swaps, ``not x`` -> ``x``, ``-x`` -> ``x``,
  ``max``/``min`` swaps;
* constant tweaks (an integer n -> n + 1; a float 0 -> 1, a float below 1e-3
  times 10, another float + 1);
* removed statements (an assignment or expression statement -> ``pass``).

Each mutant first runs ``tests/test_fitness.py`` with NUMBA_DISABLE_JIT=1
(plain Python: seconds, no compilation); a mutant that survives that is run
again compiled, with test_fitness.py and test_evolve.py's least-squares test
(the engine recompiles: the numba cache is dropped on any engine edit).

    python experiments/mutate_fitness.py --list            # the mutants, numbered
    python experiments/mutate_fitness.py                   # run them all
    python experiments/mutate_fitness.py --only 3 17       # some of them
    python experiments/mutate_fitness.py --sample 40 --seed 0 --json out.json

A development tool (see README, "Mutation testing"), never part of CI.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _options import output_file, run_script
from _provenance import write_results

REPO = Path(__file__).resolve().parents[1]
TARGET = Path("srnet/cgp/_fitness.py")
JIT_OFF_TESTS = ["tests/test_fitness.py"]
COMPILED_TESTS = ["tests/test_fitness.py",
                  "tests/test_evolve.py::test_lstsq_fitness_fits_several_targets_jointly"]
PYTEST = ["-n", "0", "-q", "-x", "-p", "no:cacheprovider", "-W", "ignore"]

COMPARE_FLIPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
                 ast.NotEq: ast.Eq}
BINOP_SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Mult,
               ast.Pow: ast.Mult}
SYMBOLS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=", ast.Add: "+",
           ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Pow: "**", ast.And: "and",
           ast.Or: "or"}


def _tweak(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if value == 0.0:
        return 1.0
    if abs(value) < 1e-3:
        return value * 10.0
    return value + 1.0


class Mutator(ast.NodeTransformer):
    """Walks the module in a fixed order; site number ``target`` is mutated
    (``target=None``: nothing is, the sites are only described)."""

    def __init__(self, target=None):
        self.target = target
        self.sites = []
        self.function = "<module>"

    def _site(self, node, description):
        index = len(self.sites)
        self.sites.append(dict(index=index, line=getattr(node, "lineno", 0), function=self.function,
                               mutation=description))
        return index == self.target

    # where not to mutate: imports, docstrings, decorators
    def visit_Import(self, node):
        return node

    visit_ImportFrom = visit_Import

    def visit_FunctionDef(self, node):
        outer, self.function = self.function, node.name
        body = node.body
        start = 1 if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) else 0
        node.body = body[:start] + [self._statement(s) for s in body[start:]]
        self.function = outer
        return node

    def visit_Module(self, node):
        start = 1 if node.body and isinstance(node.body[0], ast.Expr) else 0
        node.body = node.body[:start] + [self.visit(s) for s in node.body[start:]]
        return node

    def _statement(self, statement):
        """A statement of a function body: removable, then its parts visited."""
        if isinstance(statement, (ast.Assign, ast.AugAssign, ast.Expr)):
            if self._site(statement, f"remove statement: {ast.unparse(statement)}"):
                return ast.copy_location(ast.Pass(), statement)
        return self._visit_body(statement)

    def _visit_body(self, node):
        for field in ("body", "orelse"):
            if isinstance(getattr(node, field, None), list):
                setattr(node, field, [self._statement(s) for s in getattr(node, field)])
        for field, value in ast.iter_fields(node):
            if field in ("body", "orelse"):
                continue
            if isinstance(value, list):
                setattr(node, field, [self.visit(v) if isinstance(v, ast.AST) else v for v in value])
            elif isinstance(value, ast.AST):
                setattr(node, field, self.visit(value))
        return node

    def generic_visit(self, node):
        return self._visit_body(node)

    def visit_Compare(self, node):
        self.generic_visit(node)
        for i, op in enumerate(node.ops):
            flip = COMPARE_FLIPS.get(type(op))
            if flip and self._site(node, f"{SYMBOLS[type(op)]} -> {SYMBOLS[flip]}: {ast.unparse(node)}"):
                node.ops[i] = flip()
        return node

    def _swap_operator(self, node, suffix: str = ""):
        """``a + b`` -> ``a - b`` (``suffix="="`` for ``a += b``), and so on by BINOP_SWAPS."""
        self.generic_visit(node)
        swap = BINOP_SWAPS.get(type(node.op))
        if swap and self._site(node, f"{SYMBOLS[type(node.op)]}{suffix} -> {SYMBOLS[swap]}{suffix}: "
                                     f"{ast.unparse(node)}"):
            node.op = swap()
        return node

    def visit_BinOp(self, node):
        return self._swap_operator(node)

    def visit_AugAssign(self, node):
        return self._swap_operator(node, "=")

    def visit_BoolOp(self, node):
        self.generic_visit(node)
        other = ast.Or if isinstance(node.op, ast.And) else ast.And
        if self._site(node, f"{SYMBOLS[type(node.op)]} -> {SYMBOLS[other]}: {ast.unparse(node)}"):
            node.op = other()
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, (ast.Not, ast.USub)) and not isinstance(node.operand, ast.Constant):
            if self._site(node, f"drop {'not' if isinstance(node.op, ast.Not) else 'unary -'}: {ast.unparse(node)}"):
                return node.operand
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in ("max", "min"):
            other = "min" if node.func.id == "max" else "max"
            if self._site(node, f"{node.func.id} -> {other}: {ast.unparse(node)}"):
                node.func = ast.Name(other, ast.Load())
        return node

    def visit_Constant(self, node):
        if isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            new = _tweak(node.value)
            if self._site(node, f"constant {node.value!r} -> {new!r}"):
                return ast.copy_location(ast.Constant(new), node)
        return node


def mutants(source: str):
    """The mutation sites of ``source``, in order."""
    mutator = Mutator()
    mutator.visit(ast.parse(source))
    return mutator.sites


def mutated_source(source: str, index: int) -> str:
    tree = ast.parse(source)
    mutator = Mutator(index)
    tree = mutator.visit(tree)
    ast.fix_missing_locations(tree)
    return ast.unparse(tree) + "\n"


def _run(workdir: Path, tests, jit: bool, timeout: float):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONPATH", None)
    if jit:
        env.pop("NUMBA_DISABLE_JIT", None)
    else:
        env["NUMBA_DISABLE_JIT"] = "1"
    started = time.perf_counter()
    try:
        result = subprocess.run([sys.executable, "-m", "pytest", *PYTEST, *tests], cwd=workdir, env=env,
                                capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - started
    # 0: all passed; 5: nothing collected (cannot happen here); anything else: a failure or an error
    return ("survived" if result.returncode == 0 else "killed"), time.perf_counter() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="print the mutants and stop")
    parser.add_argument("--only", type=int, nargs="*", help="mutant numbers to run")
    parser.add_argument("--sample", type=int, help="run a random sample of this many mutants")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-compiled", action="store_true", help="skip the compiled second stage")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per test run")
    parser.add_argument("--json", type=output_file, help="write the per-mutant results here")
    args = parser.parse_args(argv)
    if not 0 < args.timeout < math.inf:  # 0 or -5 blamed the unmutated code for the option
        parser.error(f"--timeout must be a finite number of seconds > 0, got {args.timeout}")

    source = (REPO / TARGET).read_text()
    sites = mutants(source)
    if args.list:
        for site in sites:
            print(f"{site['index']:4d}  line {site['line']:4d}  {site['function']}: {site['mutation']}")
        return 0
    chosen = list(range(len(sites)))
    if args.only is not None:  # (--only with no number, or --sample 0, ran every mutant)
        unknown = [i for i in args.only if not 0 <= i < len(sites)]
        if unknown or not args.only:
            raise SystemExit(f"error: --only takes mutant numbers 0..{len(sites) - 1} (--list shows them); "
                             f"got {args.only}")
        chosen = list(dict.fromkeys(args.only))  # each once: a repeated number ran again and counted twice
    elif args.sample is not None:
        if args.sample < 1:
            raise SystemExit(f"error: --sample must be >= 1, got {args.sample}")
        chosen = sorted(random.Random(args.seed).sample(chosen, min(args.sample, len(chosen))))

    results, interrupted = [], False
    with tempfile.TemporaryDirectory(prefix="srnet-mutfit-") as tmp:
        work = Path(tmp) / "repo"
        work.mkdir()
        ignore = shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc", ".hypothesis")
        for name in ("srnet", "tests"):
            shutil.copytree(REPO / name, work / name, ignore=ignore)
        shutil.copy(REPO / "pyproject.toml", work / "pyproject.toml")
        status, seconds = _run(work, JIT_OFF_TESTS, jit=False, timeout=args.timeout)
        if status != "survived":
            print(f"the unmutated code fails its tests ({status}): fix that first", file=sys.stderr)
            return 1
        try:
            for number, index in enumerate(chosen, 1):
                site = sites[index]
                (work / TARGET).write_text(mutated_source(source, index))
                status, seconds = _run(work, JIT_OFF_TESTS, jit=False, timeout=args.timeout)
                stage = "jit-off"
                if status == "survived" and not args.no_compiled:
                    status, more = _run(work, COMPILED_TESTS, jit=True, timeout=args.timeout)
                    seconds += more
                    stage = "compiled"
                results.append(dict(site, status=status, stage=stage, seconds=round(seconds, 1)))
                print(f"[{number}/{len(chosen)}] #{index} line {site['line']} {site['function']}: "
                      f"{site['mutation']} -> {status} ({stage}, {seconds:.0f}s)", flush=True)
        except KeyboardInterrupt:  # the mutants already run are kept (a full run takes hours)
            interrupted = True
            print(f"\ninterrupted: {len(results)} of {len(chosen)} mutants run, kept", flush=True)
        (work / TARGET).write_text(source)

    counts = {s: sum(r["status"] == s for r in results) for s in ("killed", "survived", "timeout")}
    total = len(results)
    summary = dict(mutants=total, **counts, rate=round((counts["killed"] + counts["timeout"]) / total, 3)
                   if total else None, sampled=len(chosen) < len(sites), sites=len(sites), interrupted=interrupted)
    print(json.dumps(summary))
    for r in results:
        if r["status"] == "survived":
            print(f"survived #{r['index']} line {r['line']} {r['function']}: {r['mutation']}")
    if args.json:  # with the command, versions, date and host, as the other experiments write theirs
        write_results(args.json, dict(summary=summary, mutants=results))
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(run_script(main))
