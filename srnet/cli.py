"""The ``srnet`` command line: subcommands that call the library, nothing more."""

from __future__ import annotations

import argparse
import sys


def _demo(args) -> int:
    from srnet.benchmarks import get_benchmark
    from srnet.estimators import CGPRegressor
    from srnet.expr.symbolic import is_equivalent, latex

    bench = get_benchmark(args.benchmark)
    X, y = bench.sample(random_state=args.seed)
    X_test, y_test = bench.sample(1000, random_state=args.seed + 1)
    print(f"srnet demo: symbolic regression of {bench.name}: y = {bench.expression()}")
    print(f"{len(y)} training points in {bench.box}, {args.seconds:g} s budget, seed {args.seed}")
    model = CGPRegressor(max_seconds=args.seconds, random_state=args.seed)
    model.fit(X, y)
    print(f"formula : {model.expression_}")
    print(f"latex   : {latex(model.expression_)}")
    print(f"train R2: {model.score(X, y):.6f}   test R2: {model.score(X_test, y_test):.6f}")
    print(f"search  : {model.n_generations_} generations, {model.n_evaluations_} evaluations")
    truth = bench.formula(*(s for s in sorted(model.expression_.free_symbols, key=str)))
    print(f"exact recovery: {'yes' if is_equivalent(model.expression_, truth) else 'no'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="srnet", description="Open trained neural networks up into mathematics.")
    parser.add_argument("--version", action="version", version=f"srnet {__import__('srnet').__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run the built-in example end to end (no downloads)")
    demo.add_argument("--benchmark", default="nguyen-7", help="built-in benchmark (default: nguyen-7)")
    demo.add_argument("--seconds", type=float, default=10.0, help="search budget in seconds (default: 10)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    demo.set_defaults(run=_demo)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except ValueError as error:  # bad input: one clear line, no traceback
        print(f"srnet {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
