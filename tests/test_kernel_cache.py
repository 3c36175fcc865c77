"""Every compiled kernel has a name of its own.

numba names compiled code and its on-disk cache after a function's
qualified name.  Kernels made by one factory under one name (or one source
compiled twice, parallel and serial) share a cache index, and processes
filling the cache at the same time can then map one kernel's entry to
another's machine code (a cached evaluator once ran ``add`` for ``sub``).
"""

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
