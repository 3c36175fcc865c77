"""Found activations against the fastest GELU: kernels and training steps.

For each of 15 formulas (1 to 14 nodes: the built-in found activations and
representative shapes), on one device:

* **kernel**: one forward + backward pass (``y = act(x)``, then the gradient
  of ``y`` against a fixed random output gradient) on 64k, 1M and 16M float32
  elements, divided by the time of the *fastest GELU on that device*: PyTorch's
  eager ``F.gelu`` or ``torch.compile``d GELU, whichever is faster at that
  size.  The formula is timed as a user runs it: an ExpressionActivation,
  eager (its fused kernel: numba on CPU, Triton on CUDA); also timed, for the
  tables: compiled (``torch.compile`` of the module), unfused
  (``fused=False``: one torch operation per node), and the same formula
  written by hand in torch, eager and compiled;
* **training**: steps per second of the activation study's Light network
  (d-64-32-1, batch 1024, Adam) and of a small transformer block (width 128,
  4 heads, MLP 512, pre-norm, 16 x 64 tokens), with the formula against the
  same network with GELU, eager and with the whole model compiled.

JSON (``--json``, under ``results`` with provenance, see
``experiments/_provenance.py``)::

    {"device": str,
     "formulas": [{"formula": str, "nodes": int,
                   "ratio_vs_fastest_gelu": {"65536": r, "1048576": r, "16777216": r},
                   "train_step_ratio_vs_gelu": {"eager": r, "compiled": r}}, ...],
     "details": {...every time, per formula, size, path and network...}}

Ratios are times: the formula's time / GELU's (below 1 is faster).
``train_step_ratio_vs_gelu`` is the worse of the two networks (both are in
``details``); steps per second relative to GELU is its inverse.

Targets (printed): CUDA, forward+backward <= 1.2x the fastest GELU at 1M and
16M elements and <= 1.5x at 64k, training steps/s >= 0.9x GELU's; CPU on one
thread, <= 1.5x for formulas of up to 10 nodes, training steps/s >= 0.8x.

Timing: every candidate is warmed up (compilation is not timed), then all
are timed in interleaved rounds so that a change of machine load hits them
alike: per round, each candidate runs once untimed (so that the caches and
heap another candidate left behind are not charged to it: the unfused walk
churns through many temporaries), then once timed; the fastest round is
kept (``--statistic median`` for the median), the least disturbed by other
processes on a shared machine.  CPU runs use
one thread (``torch.set_num_threads(1)``, also the fused kernel's).  Models
and modules are compiled with static shapes (``dynamic=False``).

Run ``python experiments/bench_activation.py --json data/results/bench_activation.json``
(``--quick``: three formulas, few rounds, 64k and 1M elements, a check that everything runs).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import sympy
import torch
import torch._dynamo
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _options import check_numbers, names_once, output_file, parse_with_quick_defaults, run_script  # noqa: E402
from _provenance import write_results  # noqa: E402

from srnet.activations import VARIABLE, ExpressionActivation, light_network, load_builtin  # noqa: E402
from srnet.data import counted  # noqa: E402

x = VARIABLE
SIZES = (65536, 1048576, 16777216)
#: The issue's targets for the fused forward+backward time over the fastest GELU's: on CUDA, up to the smallest
#: size and above it; on CPU, for formulas of up to CPU_NODES nodes.
CUDA_SMALL_LIMIT, CUDA_LIMIT, CPU_LIMIT, CPU_NODES = 1.5, 1.2, 1.5, 10

#: name -> (formula, the same formula written by hand in torch)
FORMULAS = {
    "magic-sin": (lambda: load_builtin("magic-sin"), lambda t: 1.521 * torch.sin(t)),
    "swish": (x / (1 + sympy.exp(-x)), lambda t: t * torch.sigmoid(t)),
    "snake": (x + sympy.sin(x) ** 2, lambda t: t + torch.sin(t) ** 2),
    "softplus": (sympy.log(1 + sympy.exp(x)), F.softplus),
    "quick-gelu": (x / (1 + sympy.exp(-1.702 * x)), lambda t: t * torch.sigmoid(1.702 * t)),
    "tanh-exp": (x * sympy.tanh(sympy.exp(x)), lambda t: t * torch.tanh(torch.exp(t))),
    "cos-cos-sin": (lambda: load_builtin("cos-cos-sin"), lambda t: 8.955 * torch.cos(torch.cos(torch.sin(t))) - 6.181),
    "magic-transfer": (lambda: load_builtin("magic-transfer"), lambda t: 1.641 * torch.sin(2 * t + torch.sin(2 * t))),
    "log-protected": (x * sympy.log(sympy.Abs(x) + 1), lambda t: t * torch.log(torch.abs(t) + 1)),
    "mish": (x * sympy.tanh(sympy.log(1 + sympy.exp(x))), F.mish),
    "gelu-tanh": (0.5 * x * (1 + sympy.tanh(0.7978845608 * (x + 0.044715 * x**3))),
                  lambda t: F.gelu(t, approximate="tanh")),
    "periodic": (0.8952 * x - 0.2238 * sympy.sin(x + 4) + 0.2238 * sympy.cos(x) - 0.2385,
                 lambda t: 0.8952 * t - 0.2238 * torch.sin(t + 4) + 0.2238 * torch.cos(t) - 0.2385),
    "poly-rational": (x * (1 + 0.5 * x) / (1 + x**2) + 0.3 * x, lambda t: t * (1 + 0.5 * t) / (1 + t * t) + 0.3 * t),
    "rational": (x * sympy.cos(x) / (1 + x**2) + sympy.sqrt(sympy.Abs(x)) * sympy.tanh(x),
                 lambda t: t * torch.cos(t) / (1 + t**2) + torch.sqrt(torch.abs(t)) * torch.tanh(t)),
    "bump-mix": (x * sympy.exp(-x**2) + sympy.tanh(x) * sympy.cos(x) ** 2 + sympy.log(1 + x**2) / (2 + x**2),
                 lambda t: (t * torch.exp(-t * t) + torch.tanh(t) * torch.cos(t) ** 2
                            + torch.log(1 + t * t) / (2 + t * t))),
}
QUICK = ("swish", "magic-transfer", "rational")
#: --quick's sizes: a check that it runs (16M elements took 65 s of its 90)
QUICK_SIZES = (65536, 1048576)
BASELINES = {"gelu": nn.GELU, "relu": nn.ReLU, "silu": nn.SiLU}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=output_file, default=None, help="write the results here (with provenance)")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    parser.add_argument("--rounds", type=int, default=30, help="timed rounds per size (16M: a third)")
    parser.add_argument("--train-steps", type=int, default=30, help="timed training steps per model")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (default 1: the CPU target's)")
    parser.add_argument("--formulas", default=None, help="comma-separated names (default: all 15)")
    parser.add_argument("--features", type=int, default=32, help="inputs d of the Light network d-64-32-1")
    parser.add_argument("--no-compile", action="store_true", help="skip every torch.compile")
    parser.add_argument("--no-train", action="store_true", help="kernels only")
    parser.add_argument("--sizes", default=None,
                        help="comma-separated element counts (default 65536,1048576,16777216; the JSON keys)")
    parser.add_argument("--steady-allocator", action="store_true",
                        help="CPU: keep freed memory in glibc's heap (mallopt) instead of returning blocks of "
                             "4-64 MiB to the system, which makes candidates pay page faults by how many fresh "
                             "tensors they allocate and how the heap happens to lie")
    parser.add_argument("--statistic", choices=("min", "median"), default="min",
                        help="per candidate, the fastest round (default: least disturbed by other processes) "
                             "or the median")
    parser.add_argument("--quick", action="store_true",
                        help=f"a check that it runs: {', '.join(QUICK)}; 3 rounds, 3 training steps, sizes "
                             f"{','.join(str(n) for n in QUICK_SIZES)}")
    args = parse_with_quick_defaults(parser, argv, rounds=3, train_steps=3, warmup=1, formulas=",".join(QUICK),
                                     sizes=",".join(str(n) for n in QUICK_SIZES))
    check_numbers(parser, args, counts=("rounds", "train_steps", "threads", "features"), naturals=("warmup",))
    try:
        args.sizes = tuple(int(v) for v in args.sizes.split(",")) if args.sizes else SIZES
    except ValueError:
        parser.error(f"--sizes takes comma-separated whole numbers, got {args.sizes!r}")
    if not args.sizes or min(args.sizes) < 1:
        parser.error(f"--sizes must be element counts >= 1, got {args.sizes}")
    return args


# ------------------------------------------------------------------ timing

def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def interleaved(candidates: dict, run, rounds: int, warmup: int, device, statistic: str = "min") -> dict:
    """Seconds of ``run(candidate)`` per candidate (the fastest round, or the
    median: ``--statistic``), timed in interleaved rounds (None where the
    warm-up failed, e.g. no compiler)."""
    usable = {}
    for name, candidate in candidates.items():
        try:
            for _ in range(warmup):
                run(candidate)
            sync(device)
            usable[name] = candidate
        except Exception as error:  # noqa: BLE001 - one failure must not stop the benchmark
            print(f"  {name}: failed ({type(error).__name__}: {str(error).splitlines()[0][:160]})")
    times = {name: [] for name in usable}
    for _ in range(rounds):
        for name, candidate in usable.items():
            run(candidate)  # untimed: what the previous candidate left in caches and heap is not its cost
            sync(device)
            start = time.perf_counter()
            run(candidate)
            sync(device)
            times[name].append(time.perf_counter() - start)
    pick = min if statistic == "min" else statistics.median
    return {name: (pick(times[name]) if name in times else None) for name in candidates}


def compiled(fn):
    return torch.compile(fn, dynamic=False)


def ratio(a, b):
    return None if a is None or b is None else a / b


def fmt(value, digits=2):
    return "  n/a" if value is None else f"{value:.{digits}f}"


# ------------------------------------------------------------------ kernels

def kernel_times(activations: dict, hand: dict, device, args) -> dict:
    """{size: {candidate: median seconds}} of one forward + backward pass."""
    modules = {name: cls().to(device) for name, cls in BASELINES.items()}
    modules.update({name: act for name, act in activations.items()})
    unfused = {f"{name}|unfused": act.clone().to(device) for name, act in activations.items()}
    for module in unfused.values():
        module.fused = False
    handwritten = {f"{name}|hand": fn for name, fn in hand.items()}
    eager = {**modules, **unfused, **handwritten}
    candidates = dict(eager)
    if not args.no_compile:
        candidates.update({f"{name}|compiled": compiled(fn) for name, fn in {**modules, **handwritten}.items()})
    results = {}
    for size in args.sizes:
        generator = torch.Generator().manual_seed(0)
        inputs = (torch.randn(size, generator=generator) * 2).to(device).requires_grad_(True)
        grad_out = torch.randn(size, generator=generator).to(device)

        def run(fn, inputs=inputs, grad_out=grad_out):
            (grad,) = torch.autograd.grad(fn(inputs), inputs, grad_out)
            return grad

        rounds = args.rounds if size <= 1 << 20 else max(3, args.rounds // 3)
        started = time.perf_counter()
        results[size] = interleaved(candidates, run, rounds, args.warmup, device, args.statistic)
        print(f"  {size} elements: {counted(len(candidates), 'candidate')} x {counted(rounds, 'round')} in "
              f"{time.perf_counter() - started:.0f} s")
        del inputs, grad_out, run
    return results


def fastest_gelu(times: dict):
    found = [t for t in (times.get("gelu"), times.get("gelu|compiled")) if t is not None]
    return min(found) if found else None


# ------------------------------------------------------------------ training

class TransformerBlock(nn.Module):
    """A pre-norm transformer encoder block of width 128 (4 heads, MLP 512)."""

    def __init__(self, activation: nn.Module, width: int = 128, heads: int = 4, hidden: int = 512):
        super().__init__()
        self.norm1 = nn.LayerNorm(width)
        self.attention = nn.MultiheadAttention(width, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, hidden), activation, nn.Linear(hidden, width))

    def forward(self, tokens):
        h = self.norm1(tokens)
        tokens = tokens + self.attention(h, h, h, need_weights=False)[0]
        return tokens + self.mlp(self.norm2(tokens))


def train_candidates(activations: dict, device, args) -> dict:
    """{network: {candidate: seconds per training step}}, eager and compiled."""
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(1024, args.features, generator=generator).to(device)
    y = (torch.rand(1024, 1, generator=generator) < 0.5).float().to(device)
    tokens = torch.randn(16, 64, 128, generator=generator).to(device)
    target = torch.randn(16, 64, 128, generator=generator).to(device)
    networks = {
        "light": (lambda act: light_network(args.features, act), lambda m: F.binary_cross_entropy_with_logits(m(X), y)),
        "transformer": (TransformerBlock, lambda m: F.mse_loss(m(tokens), target)),
    }
    results = {}
    for network, (build, loss_of) in networks.items():
        candidates = {}
        for name, act in {"gelu": nn.GELU(), **activations}.items():
            for mode in ("eager", "compiled"):
                if mode == "compiled" and args.no_compile:
                    continue
                torch.manual_seed(0)
                model = build(act.clone() if isinstance(act, ExpressionActivation) else act).to(device)
                optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
                forward = compiled(model) if mode == "compiled" else model
                candidates[f"{name}|{mode}"] = (forward, optimizer)

        def step(candidate, loss_of=loss_of):
            forward, optimizer = candidate
            optimizer.zero_grad(set_to_none=True)
            loss_of(forward).backward()
            optimizer.step()

        started = time.perf_counter()
        results[network] = interleaved(candidates, step, args.train_steps, args.warmup, device, args.statistic)
        print(f"  {network}: {counted(len(candidates), 'model')} x {counted(args.train_steps, 'step')} in "
              f"{time.perf_counter() - started:.0f} s")
    return results


# ------------------------------------------------------------------ report

def build_report(device, activations: dict, kernels: dict, training: dict | None) -> dict:
    """The JSON of the module docstring from the timings (sizes as measured)."""
    formulas, details = [], {"kernel_seconds": {str(s): t for s, t in kernels.items()},
                             "train_step_seconds": training}
    for name, act in activations.items():
        ratios = {str(size): ratio(kernels[size][name], fastest_gelu(kernels[size])) for size in kernels}
        train = {"eager": None, "compiled": None}
        if training:
            for mode in train:
                per_network = [ratio(times.get(f"{name}|{mode}"), times.get(f"gelu|{mode}"))
                               for times in training.values()]
                per_network = [r for r in per_network if r is not None]
                train[mode] = max(per_network) if per_network else None
        formulas.append({"formula": act.formula, "nodes": act.n_nodes, "ratio_vs_fastest_gelu": ratios,
                         "train_step_ratio_vs_gelu": train})
    names = {act.formula: name for name, act in activations.items()}
    details["names"] = names
    return {"device": device_name(device), "formulas": formulas, "details": details}


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    return f"cpu ({torch.get_num_threads()} thread{'s' if torch.get_num_threads() > 1 else ''})"


def print_tables(device, activations: dict, kernels: dict, training: dict | None) -> None:
    cuda = device.type == "cuda"
    print(f"\n{device_name(device)}: forward+backward time / the fastest GELU's (eager or compiled, per size)")
    rule = (f"<= {CUDA_SMALL_LIMIT}x up to {SIZES[0]} elements, <= {CUDA_LIMIT}x above" if cuda
            else f"<= {CPU_LIMIT}x for formulas of <= {CPU_NODES} nodes")
    print(f"columns: fused, the ExpressionActivation as it runs by default (for GELU, ReLU and SiLU: torch's "
          f"eager module); compiled, under torch.compile; unfused, one torch operation per node; hand, the formula "
          f"written in torch, eager and compiled; target: fused {rule}")
    for size in kernels:
        times = kernels[size]
        best = fastest_gelu(times)
        which = "compiled" if best is not None and best == times.get("gelu|compiled") else "eager"
        print(f"\n{size} elements: fastest GELU = {which}, {fmt(best * 1e3 if best else None, 3)} ms")
        print(f"{'activation':<16}{'nodes':>6}{'fused':>8}{'compiled':>10}{'unfused':>9}{'hand':>7}"
              f"{'hand comp.':>11}  target")
        for name in BASELINES:
            print(f"{name:<16}{'':>6}{fmt(ratio(times[name], best)):>8}"
                  f"{fmt(ratio(times.get(name + '|compiled'), best)):>10}")
        for name, act in activations.items():
            r = ratio(times[name], best)
            limit = ((CUDA_SMALL_LIMIT if size <= SIZES[0] else CUDA_LIMIT) if cuda
                     else (CPU_LIMIT if act.n_nodes <= CPU_NODES else None))
            verdict = "" if limit is None or r is None else ("ok" if r <= limit else f"> {limit}x")
            print(f"{name:<16}{act.n_nodes:>6}{fmt(r):>8}{fmt(ratio(times.get(name + '|compiled'), best)):>10}"
                  f"{fmt(ratio(times.get(name + '|unfused'), best)):>9}{fmt(ratio(times.get(name + '|hand'), best)):>7}"
                  f"{fmt(ratio(times.get(name + '|hand|compiled'), best)):>11}  {verdict}")
    if not training:
        return
    target = 0.9 if cuda else 0.8
    print(f"\ntraining steps/s relative to the same network with GELU (target >= {target}x)")
    header = "".join(f"{network + ' ' + mode:>23}" for network in training for mode in ("eager", "compiled"))
    print(f"{'activation':<16}{header}")
    cells = []
    for times in training.values():
        for mode in ("eager", "compiled"):
            seconds = times.get(f"gelu|{mode}")
            cells.append(f"{fmt(None if seconds is None else 1e3 * seconds) + ' ms':>23}")
    print(f"{'gelu (step)':<16}{''.join(cells)}")
    for name in activations:
        cells = []
        for network, times in training.items():
            for mode in ("eager", "compiled"):
                r = ratio(times.get(f"gelu|{mode}"), times.get(f"{name}|{mode}"))  # steps/s ratio
                cells.append(f"{fmt(r) + ('' if r is None or r >= target else ' <'):>23}")
        print(f"{name:<16}{''.join(cells)}")


# ------------------------------------------------------------------ main

def steady_allocator() -> None:
    """glibc: no mmap for large blocks, no trimming of the heap's top (see --steady-allocator)."""
    import ctypes

    libc = ctypes.CDLL("libc.so.6")
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    if not (libc.mallopt(M_MMAP_THRESHOLD, 1 << 30) and libc.mallopt(M_TRIM_THRESHOLD, 1 << 62)):
        print("warning: mallopt failed; the allocator is as it was")


def main(argv=None) -> int:
    args = parse_args(argv)
    from srnet.activations.study_models import resolve_device

    try:  # one line for a name torch does not know, or a device this machine lacks
        device = resolve_device(args.device or "auto")
    except ValueError as error:
        raise SystemExit(f"error: --device: {error}") from None
    if device.type == "cpu":
        torch.set_num_threads(args.threads)
        if args.steady_allocator:
            steady_allocator()
    torch._dynamo.config.recompile_limit = 10_000  # one entry per module, formula and size
    torch._dynamo.config.accumulated_recompile_limit = 100_000
    names = list(FORMULAS) if args.formulas is None else names_once(args.formulas)
    unknown = [n for n in names if n not in FORMULAS]
    if unknown or not names:  # '' ran all 15; ',' was "unknown formula(s) ," without "error:"
        raise SystemExit(f"error: --formulas: {'unknown ' + ', '.join(unknown) if unknown else 'names none'}; "
                         f"choose from {', '.join(FORMULAS)}")
    activations, hand = {}, {}
    for name in names:
        formula, by_hand = FORMULAS[name]
        activations[name] = (formula() if callable(formula) else ExpressionActivation.from_sympy(formula)).to(device)
        hand[name] = by_hand
    load_before = os.getloadavg()
    started = time.perf_counter()
    print(f"{device_name(device)}: {counted(len(activations), 'formula')}, sizes {', '.join(map(str, args.sizes))}")
    kernels = kernel_times(activations, hand, device, args)
    training = None if args.no_train else train_candidates(activations, device, args)
    print_tables(device, activations, kernels, training)
    report = build_report(device, activations, kernels, training)
    report["details"].update({"rounds": args.rounds, "train_steps": args.train_steps, "quick": args.quick,
                              "statistic": args.statistic, "steady_allocator": args.steady_allocator,
                              "load_average": {"before": load_before, "after": os.getloadavg()},
                              "seconds": time.perf_counter() - started})
    print(f"\n{time.perf_counter() - started:.0f} s; load average {load_before[0]:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after")
    if load_before[0] > 0.5 * (os.cpu_count() or 1):
        print(f"warning: the machine was busy (load {load_before[0]:.2f} on {os.cpu_count()} cores): "
              "ratios are fairer than times, but both suffer")
    if args.json:
        print(f"wrote {write_results(args.json, report)}")
    return 0


if __name__ == "__main__":
    sys.exit(run_script(main))
