"""Speed of expression activations against ReLU, GELU and SiLU.

For each formula: the time of one forward + backward pass (``y = act(x)``,
then the gradient of ``y`` against a fixed random output gradient) on a
tensor of 1M float32 elements, eager and ``torch.compile``d (default inductor
backend), on the CPU and on CUDA when present.  Reported as ratios to GELU's
time in the same mode: ``eager_ratio_vs_gelu`` = eager activation / eager
GELU, ``compiled_ratio_vs_gelu`` = compiled activation / compiled GELU (and,
for reference, ``compiled_ratio_vs_eager_gelu``).  Target: compiled <= 1.5x
GELU for formulas of up to ~10 nodes.

``nodes`` is the number of primitive applications (program steps) of the
formula.  The built-in formulas are also timed written by hand in plain
torch (``handwritten_*`` in the JSON; mish as PyTorch's own kernel): the cost
of the formula itself, without ExpressionActivation.  The formulas are representative found ones (swish-, mish-, snake-
like, the shapes the study finds) plus, with ``--from-study PATH``, those of
an activation study report (``runs/activation_study/report.json`` when it
exists).

Timing: one CPU thread by default (``--threads``): per-core figures, which
suffer least from other processes on a shared machine.  Every candidate is
warmed up (compilation is not timed), then all are timed in interleaved
rounds (one pass each per round) so that a change of machine load hits them
alike; the median over rounds is kept.
The load average before and after is stored.  If ``torch.compile`` fails,
the script says so and writes null.

Run ``python experiments/bench_activation.py [--json PATH] [--rounds 30]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import sympy
import torch
import torch._dynamo
from torch import nn

from srnet.activations import VARIABLE, ExpressionActivation

REPO = Path(__file__).resolve().parents[1]
x = VARIABLE
FORMULAS = {
    "swish": x / (1 + sympy.exp(-x)),
    "snake": x + sympy.sin(x) ** 2,
    "mish": x * sympy.tanh(sympy.log(1 + sympy.exp(x))),
    "periodic": 0.8952 * x - 0.2238 * sympy.sin(x + 4) + 0.2238 * sympy.cos(x) - 0.2385,
    "rational": x * sympy.cos(x) / (1 + x**2) + sympy.sqrt(sympy.Abs(x)) * sympy.tanh(x),
    "log-protected": x * sympy.log(sympy.Abs(x) + 1),
}
BASELINES = {"relu": nn.ReLU, "gelu": nn.GELU, "silu": nn.SiLU}
# The same formulas written by hand in plain torch (mish: PyTorch's own fused
# kernel): what the formula costs without srnet, so that a ratio above the
# target can be told apart from overhead of ExpressionActivation.
HANDWRITTEN = {
    "swish": lambda t: t / (1 + torch.exp(-t)),
    "snake": lambda t: t + torch.sin(t) ** 2,
    "mish": torch.nn.functional.mish,
    "periodic": lambda t: 0.8952 * t - 0.2238 * torch.sin(t + 4) + 0.2238 * torch.cos(t) - 0.2385,
    "rational": lambda t: t * torch.cos(t) / (1 + t**2) + torch.sqrt(torch.abs(t)) * torch.tanh(t),
    "log-protected": lambda t: t * torch.log(torch.abs(t) + 1),
}
HAND = " (by hand)"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", default=None)
    parser.add_argument("--elements", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--devices", default=None, help="comma-separated; default cpu, and cuda when present")
    parser.add_argument("--from-study", default=None, help="an activation_study report.json")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (default 1: per-core figures, steadier on a shared machine)")
    parser.add_argument("--no-compile", action="store_true")
    return parser.parse_args(argv)


def study_formulas(path) -> dict:
    """Activations stored in an activation study report, by dataset and seed."""
    report = json.loads(Path(path).read_text())
    found = {}
    for entry in report.get("activations", []):
        if entry.get("activation"):
            name = f"{entry['dataset']}-{entry['seed']}"
            try:
                found[name] = ExpressionActivation.from_dict(entry["activation"])
            except ValueError as error:  # e.g. saved before a stricter check
                print(f"  skipping {name} from the study: {error}")
    return found


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def one_pass(fn, inputs, grad_out):
    y = fn(inputs)
    (grad,) = torch.autograd.grad(y, inputs, grad_out)
    return grad


def time_interleaved(candidates: dict, inputs, grad_out, rounds: int, warmup: int, device) -> dict:
    """Median seconds of a forward+backward pass, per candidate (None: failed)."""
    usable = {}
    for name, fn in candidates.items():
        try:
            for _ in range(warmup):
                one_pass(fn, inputs, grad_out)
            sync(device)
            usable[name] = fn
        except Exception as error:  # noqa: BLE001 - a compile failure must not stop the benchmark
            print(f"  {name}: failed ({type(error).__name__}: {str(error).splitlines()[0][:120]})")
    times = {name: [] for name in usable}
    for _ in range(rounds):
        for name, fn in usable.items():
            sync(device)
            start = time.perf_counter()
            one_pass(fn, inputs, grad_out)
            sync(device)
            times[name].append(time.perf_counter() - start)
    return {name: (statistics.median(times[name]) if name in times else None) for name in candidates}


def ratio(a, b):
    return None if a is None or b is None else a / b


def bench_device(device: torch.device, activations: dict, args) -> dict:
    print(f"device {device}: {args.elements} float32 elements, forward+backward, {args.rounds} rounds")
    generator = torch.Generator().manual_seed(0)
    inputs = (torch.randn(args.elements, generator=generator) * 2).to(device).requires_grad_(True)
    grad_out = torch.randn(args.elements, generator=generator).to(device)
    modules = {name: cls().to(device) for name, cls in BASELINES.items()}
    modules.update({name: act.to(device) for name, act in activations.items()})
    modules.update({name + HAND: fn for name, fn in HANDWRITTEN.items() if name in activations})
    eager = time_interleaved(modules, inputs, grad_out, args.rounds, args.warmup, device)
    compiled = {name: None for name in modules}
    if not args.no_compile:
        # every ExpressionActivation shares one forward(): each formula is one
        # more compiled entry for it, beyond dynamo's default limit of 8
        dynamo_config = torch._dynamo.config
        dynamo_config.recompile_limit = max(dynamo_config.recompile_limit, 4 * len(modules))
        compiled_modules = {}
        for name, module in modules.items():
            started = time.perf_counter()
            try:
                fn = torch.compile(module)
                one_pass(fn, inputs, grad_out)
                compiled_modules[name] = fn
                print(f"  compiled {name} in {time.perf_counter() - started:.1f} s")
            except Exception as error:  # noqa: BLE001 - reported, and null in the JSON
                print(f"  torch.compile unavailable for {name}: {type(error).__name__}: "
                      f"{str(error).splitlines()[0][:160]}")
        if compiled_modules:
            compiled.update(time_interleaved(compiled_modules, inputs, grad_out, args.rounds, args.warmup, device))
    gelu, gelu_compiled = eager["gelu"], compiled["gelu"]
    formulas = []
    for name, act in activations.items():
        formulas.append({
            "name": name,
            "formula": act.formula,
            "nodes": act.n_nodes,
            "eager_ratio_vs_gelu": ratio(eager[name], gelu),
            "compiled_ratio_vs_gelu": ratio(compiled[name], gelu_compiled),
            "compiled_ratio_vs_eager_gelu": ratio(compiled[name], gelu),
            "handwritten_eager_ratio_vs_gelu": ratio(eager.get(name + HAND), gelu),
            "handwritten_compiled_ratio_vs_gelu": ratio(compiled.get(name + HAND), gelu_compiled),
            "eager_seconds": eager[name],
            "compiled_seconds": compiled[name],
        })
    baselines = {name: {"eager_seconds": eager[name], "compiled_seconds": compiled[name],
                        "eager_ratio_vs_gelu": ratio(eager[name], gelu),
                        "compiled_ratio_vs_gelu": ratio(compiled[name], gelu_compiled)} for name in BASELINES}
    return {"device": str(device),
            "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor(),
            "threads": torch.get_num_threads(), "formulas": formulas, "baselines": baselines}


def fmt(value, digits=2):
    return "n/a" if value is None else f"{value:.{digits}f}"


def print_table(result: dict) -> None:
    print(f"\n{result['device']} ({result['threads']} threads): time / GELU's time, forward+backward")
    print(f"{'activation':<16} {'nodes':>5} {'eager':>7} {'compiled':>9} {'by hand, compiled':>18}  formula")
    for name, row in result["baselines"].items():
        print(f"{name:<16} {'':>5} {fmt(row['eager_ratio_vs_gelu']):>7} {fmt(row['compiled_ratio_vs_gelu']):>9}")
    for row in result["formulas"]:
        flag = "" if row["compiled_ratio_vs_gelu"] is None or row["compiled_ratio_vs_gelu"] <= 1.5 else "  > 1.5x"
        hand = row["handwritten_compiled_ratio_vs_gelu"]
        print(f"{row['name']:<16} {row['nodes']:>5} {fmt(row['eager_ratio_vs_gelu']):>7} "
              f"{fmt(row['compiled_ratio_vs_gelu']):>9} {'' if hand is None else fmt(hand):>18}  "
              f"{row['formula']}{flag}")
    gelu = result["baselines"]["gelu"]
    print(f"GELU itself: eager {fmt(gelu['eager_seconds'] * 1e3)} ms, compiled "
          f"{fmt(None if gelu['compiled_seconds'] is None else gelu['compiled_seconds'] * 1e3)} ms")


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    activations = {name: ExpressionActivation.from_sympy(expr) for name, expr in FORMULAS.items()}
    study = args.from_study or (REPO / "runs" / "activation_study" / "report.json")
    if Path(study).is_file():
        activations.update(study_formulas(study))
        print(f"formulas from {study} included")
    names = args.devices.split(",") if args.devices else ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    load_before = os.getloadavg()
    results = {}
    for name in names:
        device = torch.device(name)
        results[str(device)] = bench_device(device, {k: v.clone() for k, v in activations.items()}, args)
        print_table(results[str(device)])
    load_after = os.getloadavg()
    first = results[str(torch.device(names[0]))]
    report = {"device": first["device"], "formulas": first["formulas"], "baselines": first["baselines"],
              "devices": results, "elements": args.elements, "rounds": args.rounds, "torch": torch.__version__,
              "python": sys.version.split()[0], "cpu_count": os.cpu_count(),
              "load_average": {"before": load_before, "after": load_after}}
    if load_before[0] > 0.5 * (os.cpu_count() or 1):
        print(f"\nwarning: the machine was busy (load average {load_before[0]:.2f} on {os.cpu_count()} cores); "
              "ratios are fairer than absolute times, but both suffer")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
