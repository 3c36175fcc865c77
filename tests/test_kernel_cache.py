"""Every compiled kernel has a name of its own.

numba names compiled code and its on-disk cache after a function's
qualified name.  Kernels made by one factory under one name (or one source
compiled twice, parallel and serial) share a cache index, and processes
filling the cache at the same time can then map one kernel's entry to
another's machine code (a cached evaluator once ran ``add`` for ``sub``).
"""

import subprocess
import sys

from numba.core.registry import CPUDispatcher

from srnet.cgp import _kernels, _vecmath, primitives


def _dispatchers():
    for module in (_vecmath, primitives, _kernels):
        for name, value in vars(module).items():
            if isinstance(value, CPUDispatcher):
                yield f"{module.__name__}.{name}", value
    for prim in primitives.PRIMITIVES:
        yield f"primitive {prim.name}", prim.kernel


def test_every_compiled_kernel_has_a_distinct_qualified_name():
    seen = {}
    for label, dispatcher in _dispatchers():
        key = (dispatcher.py_func.__module__, dispatcher.py_func.__qualname__)
        if key in seen and seen[key][1] is not dispatcher:
            raise AssertionError(f"{label} and {seen[key][0]} compile under one name: {key}")
        seen.setdefault(key, (label, dispatcher))
    assert len({id(p.kernel) for p in primitives.PRIMITIVES}) == len(primitives.PRIMITIVES)


def test_parallel_and_serial_evaluators_are_distinct_compilations():
    assert _kernels.evaluate_population_parallel.targetoptions.get("parallel")
    assert not _kernels.evaluate_population_serial.targetoptions.get("parallel")
    assert (_kernels.evaluate_population_parallel.py_func.__qualname__
            != _kernels.evaluate_population_serial.py_func.__qualname__)


def test_first_class_function_warning_is_silenced_even_in_colour():
    """numba reports dispatching over the kernel tuple as experimental, and
    wraps the message in colour codes when colorama is installed; users must
    see neither (seen on a GPU machine with colorama)."""
    script = (
        "import warnings\n"
        "import srnet.cgp._kernels\n"
        "from numba.core.errors import NumbaExperimentalFeatureWarning as W\n"
        "for message in ('First-class function type feature is experimental',\n"
        "                '\\x1b[1m\\x1b[1mFirst-class function type feature is experimental\\x1b[0m'):\n"
        "    warnings.warn_explicit(message, W, '/site/srnet/cgp/_kernels.py', 608)\n"
        "warnings.warn_explicit('another experimental feature', W, 'x.py', 1)\n"
    )
    result = subprocess.run([sys.executable, "-W", "default", "-c", script], capture_output=True, text=True,
                            check=True)
    assert "First-class function" not in result.stderr
    assert "another experimental feature" in result.stderr  # only this warning is silenced
