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


def test_the_cache_hash_covers_every_file_with_kernels():
    """numba re-checks only a kernel's own file; kernels inline code from the
    other files, so every one of them must be in the hash naming the cache."""
    with_kernels = {str(path.relative_to(_cache.PACKAGE)) for path in _cache.PACKAGE.rglob("*.py")
                    if _compiles_kernels(path)}
    assert with_kernels <= set(_cache.KERNEL_SOURCES), with_kernels - set(_cache.KERNEL_SOURCES)
    assert {f"cgp/{Path(module.__file__).name}" for module in KERNEL_MODULES} <= set(_cache.KERNEL_SOURCES)


def test_every_kernel_module_places_the_cache_before_importing_other_engine_code():
    for name in _cache.KERNEL_SOURCES:
        if name == "cgp/_cache.py":
            continue
        tree = ast.parse((_cache.PACKAGE / name).read_text())
        engine_imports = [node for node in tree.body if isinstance(node, ast.ImportFrom)
                          and (node.module or "").startswith("srnet")]
        assert engine_imports, name
        first = engine_imports[0]
        assert first.module == "srnet.cgp" and {"_cache", "_vecmath"} & {alias.name for alias in first.names}, name


def test_the_hash_changes_when_any_kernel_source_changes(tmp_path):
    for name in _cache.KERNEL_SOURCES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(_cache.PACKAGE / name, tmp_path / name)
    assert _cache.sources_digest(tmp_path) == _cache.DIGEST
    for name in _cache.KERNEL_SOURCES:
        before = _cache.sources_digest(tmp_path)
        with open(tmp_path / name, "a") as source:
            source.write("\n# edited\n")
        assert _cache.sources_digest(tmp_path) != before, name


def test_kernels_are_cached_in_the_folder_of_this_hash():
    """A process caches in the folder of the sources it imported, so one still
    running old code after an edit can never fill the new code's cache."""
    from srnet.activations import _fused_cpu

    for label, dispatcher in list(_dispatchers()) + [("fused run_serial", _fused_cpu.run_serial)]:
        locator = dispatcher._cache._impl.locator
        assert isinstance(locator, _cache.KernelCacheLocator), label
        assert Path(locator.get_cache_path()).name == _cache.FOLDER == "srnet-" + _cache.DIGEST[:16], label
        assert locator.get_source_stamp() == _cache.DIGEST


def test_pruning_removes_other_hashes_folders_and_keeps_this_one(tmp_path):
    (tmp_path / _cache.FOLDER).mkdir()
    (tmp_path / _cache.FOLDER / "kernel-1.py311.nbi").write_text("index")
    (tmp_path / "srnet-0123456789abcdef").mkdir()
    (tmp_path / "srnet-0123456789abcdef" / "kernel-1.py311.nbi").write_text("old index")
    (tmp_path / "kernel-1.py311.1.nbc").write_text("a loose entry of an older srnet")
    (tmp_path / "engine-sources.sha256").write_text("an older srnet's stamp")
    (tmp_path / "module.cpython-311.pyc").write_text("not numba's")
    removed = _cache.prune_other_folders(tmp_path)
    assert sorted(p.name for p in removed) == ["engine-sources.sha256", "kernel-1.py311.1.nbc",
                                               "srnet-0123456789abcdef"]
    assert (tmp_path / _cache.FOLDER / "kernel-1.py311.nbi").exists()
    assert (tmp_path / "module.cpython-311.pyc").exists()


def test_concurrent_processes_adding_signatures_never_cross_their_code(tmp_path):
    """Two processes adding different signatures of one kernel at once: each
    started from the same index, and the first one's data file is written
    last (numba's numbered files then sent one signature to the other's
    code).  Every signature found in the index loads its own data."""
    first = _cache.KeyedIndexDataCacheFile(str(tmp_path), "kernel-1.py311", "stamp")
    second = _cache.KeyedIndexDataCacheFile(str(tmp_path), "kernel-1.py311", "stamp")
    stale = first._load_index()
    second._load_index = lambda: dict(stale)  # it read the index before the first one wrote it
    deferred = []
    save_data = first._save_data
    first._save_data = lambda name, data: deferred.append((name, data))
    first.save(("float32 signature",), "float32 code")
    second.save(("float64 signature",), "float64 code")
    for name, data in deferred:
        save_data(name, data)
    fresh = _cache.KeyedIndexDataCacheFile(str(tmp_path), "kernel-1.py311", "stamp")
    index = fresh._load_index()
    assert index  # at least one entry survives
    for key in index:
        assert fresh.load(key) == key[0].replace("signature", "code")
    assert fresh.load(("float64 signature",)) == "float64 code"  # the last index written


def test_srnet_kernels_use_the_keyed_cache_files():
    for label, dispatcher in _dispatchers():
        assert isinstance(dispatcher._cache._cache_file, _cache.KeyedIndexDataCacheFile), label


def test_an_integer_or_nan_target_fitness():
    """An int target is a float to the kernels (no second compiled signature of
    every kernel); NaN is a clear error."""
    import numpy as np
    import pytest

    from srnet.cgp import GenomeSpec, evolve

    spec = GenomeSpec(n_inputs=1, n_columns=5)
    X = np.linspace(-1, 1, 20)[None, :]
    before = len(_kernels.evolve_generations.signatures)
    evolve(spec, X, X ** 2, max_generations=3, target_fitness=0, random_state=0)
    evolve(spec, X, X ** 2, max_generations=3, target_fitness=0.0, random_state=0)
    assert len(_kernels.evolve_generations.signatures) <= max(before, 1)
    with pytest.raises(ValueError, match="target_fitness is NaN"):
        evolve(spec, X, X ** 2, max_generations=3, target_fitness=float("nan"))
