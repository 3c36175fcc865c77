"""Fused activation kernels: edge cases found in review (each test failed on the code before its fix).

Each test fails on the code it was written against:

* the numba CPU kernel's parallel launch is not fork-safe (GNU OpenMP layer: a forked child that runs the
  activation on a large tensor is terminated) and not thread-safe under numba's workqueue layer (the process
  aborts when two Python threads run it at once);
* the Triton kernel computes ``neg`` as ``0 - a`` (Triton's unary minus), so ``neg(+0.0)`` is ``+0.0`` where the
  CPU kernel and the torch forms give ``-0.0``;
* the Triton kernel is compiled with floating-point contraction on (Triton's default), so the output map
  ``w1 * v1 + w2 * v2`` becomes an FMA: ``0.1*x - 0.1*|x|`` is a rounding error instead of exactly 0 for x > 0
  (the CPU kernel rounds each product as torch does, on purpose).
"""

import os
import re
import subprocess
import sys
import textwrap

import pytest

_FORK = textwrap.dedent("""
    import multiprocessing as mp
    import sys
    import sympy, torch
    from srnet.activations import VARIABLE as x, ExpressionActivation
    torch.set_num_threads(2)
    act = ExpressionActivation.from_sympy(x * sympy.tanh(x), check_range=None)
    t = torch.randn(1 << 18)
    want = float(act(t).numpy().sum())  # the parallel kernel runs in the parent first

    def child(queue):  # (summed by numpy: torch's own parallel sum hangs in a forked child of GNU OpenMP)
        queue.put(float(act(t).numpy().sum()))

    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    p = ctx.Process(target=child, args=(queue,))
    p.start()
    p.join(120)
    assert p.exitcode == 0, f"child exit code {p.exitcode}"
    assert abs(queue.get(timeout=5) - want) <= 1e-3 * abs(want)
    print("ok")
""")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_a_forked_child_can_run_the_fused_cpu_kernel_after_its_parent():
    env = dict(os.environ, NUMBA_NUM_THREADS="2")
    done = subprocess.run([sys.executable, "-c", _FORK], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "ok" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]


_THREADS = textwrap.dedent("""
    import threading
    import sympy, torch
    from srnet.activations import VARIABLE as x, ExpressionActivation
    torch.set_num_threads(2)
    act = ExpressionActivation.from_sympy(x * sympy.tanh(x) + sympy.sin(x), check_range=None)
    t = torch.randn(1 << 18)
    want = ExpressionActivation.from_sympy(x * sympy.tanh(x) + sympy.sin(x), check_range=None, fused=False)(t)
    errors = []

    def work():
        for _ in range(10):
            got = act(t)
            if not torch.allclose(got, want, atol=1e-5):  # what differs, for a failure to say where
                bad = (~torch.isclose(got, want, atol=1e-5)).nonzero().flatten()
                errors.append(f"{bad.numel()} elements from {int(bad[0])} to {int(bad[-1])}: "
                              f"got {got[bad[:3]].tolist()}, want {want[bad[:3]].tolist()}")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors[:4]
    print("ok")
""")


def test_concurrent_python_threads_under_numbas_workqueue_layer():
    """numba's fallback threading layer (no OpenMP or TBB) aborts the process on concurrent parallel launches."""
    env = dict(os.environ, NUMBA_NUM_THREADS="2", NUMBA_THREADING_LAYER="workqueue")
    done = subprocess.run([sys.executable, "-c", _THREADS], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "ok" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]


_NEG = textwrap.dedent("""
    import json
    import torch
    from srnet.activations.fused import FusedPlan, evaluate
    plan = FusedPlan(("neg",), ((0, 0),), (), (1,), (1.0,), 0.0)
    out = {}
    for dtype in (torch.float32, torch.float64):
        t = torch.tensor([0.0, -0.0, 1.5], dtype=dtype)
        out[str(dtype)] = [torch.signbit(evaluate(plan, t, False, kind=k)[0]).tolist() for k in ("cpu", "triton")]
    print(json.dumps(out))
""")


def test_triton_neg_of_positive_zero_is_negative_zero():
    pytest.importorskip("triton")
    done = subprocess.run([sys.executable, "-c", _NEG], env=dict(os.environ, TRITON_INTERPRET="1"),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    import json

    for dtype, (cpu, triton) in json.loads(done.stdout.strip().splitlines()[-1]).items():
        assert cpu == [True, False, True], (dtype, cpu)  # -(+0) = -0, as torch
        assert triton == cpu, (dtype, triton)


def test_triton_output_map_is_not_contracted_into_fma():
    """0.1*x - 0.1*|x| must be exactly 0 for x > 0 (as torch and the CPU kernel give it); with
    contraction the compiled kernel computes fma(|x|, -0.1, round(0.1*x)), the rounding error of 0.1*x."""
    triton = pytest.importorskip("triton")
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    from srnet.activations import _fused_triton
    from srnet.activations.fused import FusedPlan

    if _fused_triton.interpreting():
        pytest.skip("TRITON_INTERPRET is set")
    plan = FusedPlan(("abs",), ((0, 0),), (), (0, 1), (0.1, -0.1), 0.0)
    arguments = dict(_fused_triton.launch_arguments(plan, True, False, False), LIBDEVICE=True)
    # the kernel's parameters, and the compile options run() launches it with (Triton's defaults unless
    # launch_arguments or a module-level COMPILE_OPTIONS says otherwise, e.g. enable_fp_fusion=False)
    constants = {name: value for name, value in arguments.items() if name in _fused_triton.fused_kernel.arg_names}
    options = {**getattr(_fused_triton, "COMPILE_OPTIONS", {}),
               **{name: value for name, value in arguments.items() if name not in constants}}
    signature = {"x_ptr": "*fp32", "y_ptr": "*fp32", "dy_ptr": "*fp32", "grad_ptr": "*fp32", "n": "i32",
                 **{name: "constexpr" for name in constants}}
    try:
        kernel = triton.compile(ASTSource(fn=_fused_triton.fused_kernel, signature=signature, constexprs=constants),
                                target=GPUTarget("cuda", 90, 32), options=options)
    except (FileNotFoundError, PermissionError) as error:
        pytest.skip(f"Triton's CUDA toolchain is missing: {error}")
    assert not re.search(r"\bfma\.rn\.f32\b", kernel.asm["ptx"]), "the output map is contracted into an FMA"
