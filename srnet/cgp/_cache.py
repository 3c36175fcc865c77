"""The guard against stale numba caches of the CGP engine.

numba invalidates a cached function only when its own file changes, but the
engine's kernels inline code from other files (primitives.py, _vecmath.py,
_fitness.py, _random.py, _mutation.py, _evaluation.py): after an edit there,
the cache would silently run the old code.  This module hashes every engine
source and deletes the package's numba cache when the hash changes.

Every kernel module imports this module before anything else of the engine,
so the guard has run before any kernel is compiled or loaded from the cache.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

#: Every engine source whose code a cached kernel may contain.  A new kernel
#: module must be added here (tests/test_kernel_cache.py checks it).
ENGINE_SOURCES = ("_cache.py", "_vecmath.py", "primitives.py", "_fitness.py", "_random.py", "_mutation.py",
                  "_evaluation.py", "_kernels.py", "gpu.py")

#: The file in the cache folder holding the hash the cache was filled with.
STAMP = "engine-sources.sha256"


def drop_stale_numba_cache(directory: Path | str | None = None) -> bool:
    """Delete the numba cache of the engine in ``directory`` (this package by
    default) when any file of :data:`ENGINE_SOURCES` changed since the cache
    was stamped; returns whether it was dropped.  A read-only install is left
    alone: nothing could have been cached there from other sources."""
    here = Path(__file__).resolve().parent if directory is None else Path(directory)
    digest = hashlib.sha256()
    for name in ENGINE_SOURCES:
        digest.update((here / name).read_bytes())
    cache = here / "__pycache__"
    stamp = cache / STAMP
    try:
        if stamp.read_text() == digest.hexdigest():
            return False
    except OSError:
        pass
    try:
        cache.mkdir(exist_ok=True)
        for path in list(cache.glob("*.nbi")) + list(cache.glob("*.nbc")):
            path.unlink(missing_ok=True)
        stamp.write_text(digest.hexdigest())
    except OSError:  # a read-only install: nothing cached could be stale
        return False
    return True


drop_stale_numba_cache()
