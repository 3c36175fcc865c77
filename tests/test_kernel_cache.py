"""Every compiled kernel has a name of its own.

numba names compiled code and its on-disk cache after a function's
qualified name.  Kernels made by one factory under one name (or one source
compiled twice, parallel and serial) share a cache index, and processes
filling the cache at the same time can then map one kernel's entry to
another's machine code (a cached evaluator once ran ``add`` for ``sub``).
"""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

from numba.core.registry import CPUDispatcher

from srnet.cgp import _cache, _evaluation, _fitness, _kernels, _mutation, _random, _vecmath, primitives

ENGINE = Path(_cache.__file__).resolve().parent
KERNEL_MODULES = (_vecmath, primitives, _fitness, _random, _mutation, _evaluation, _kernels)


def _dispatchers():
    for module in KERNEL_MODULES:
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


def _compiles_kernels(path: Path) -> bool:
    return "njit" in path.read_text() or "numba.extending" in path.read_text()


def test_the_stale_cache_guard_hashes_every_file_with_kernels():
    """numba re-checks only a kernel's own file; kernels inline code from the
    other engine files, so every one of them must be in the guard's hash."""
    with_kernels = {path.name for path in ENGINE.glob("*.py") if _compiles_kernels(path)}
    assert with_kernels <= set(_cache.ENGINE_SOURCES), with_kernels - set(_cache.ENGINE_SOURCES)
    assert {Path(module.__file__).name for module in KERNEL_MODULES} <= set(_cache.ENGINE_SOURCES)


def test_every_kernel_module_runs_the_guard_before_importing_other_engine_code():
    for name in _cache.ENGINE_SOURCES:
        if name == "_cache.py":
            continue
        tree = ast.parse((ENGINE / name).read_text())
        engine_imports = [node for node in tree.body if isinstance(node, ast.ImportFrom)
                          and (node.module or "").startswith("srnet")]
        assert engine_imports, name
        first = engine_imports[0]
        assert first.module == "srnet.cgp" and "_cache" in {alias.name for alias in first.names}, name


def test_the_guard_drops_the_cache_when_any_engine_source_changes(tmp_path):
    for name in _cache.ENGINE_SOURCES:
        shutil.copy(ENGINE / name, tmp_path / name)
    cache = tmp_path / "__pycache__"
    assert _cache.drop_stale_numba_cache(tmp_path)  # first run: stamped
    for name in _cache.ENGINE_SOURCES:
        (cache / "kernel-1.py311.nbi").write_text("index")
        (cache / "kernel-1.py311.1.nbc").write_text("code")
        assert not _cache.drop_stale_numba_cache(tmp_path)  # unchanged sources: the cache stays
        assert (cache / "kernel-1.py311.nbi").exists()
        with open(tmp_path / name, "a") as source:
            source.write("\n# edited\n")
        assert _cache.drop_stale_numba_cache(tmp_path), name
        assert not list(cache.glob("*.nb?")), name
