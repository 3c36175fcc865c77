"""Where srnet's compiled kernels are cached, so that a cache never runs stale code.

numba re-checks only a kernel's own file, but srnet's kernels inline code
from other files (the primitives, the vector maths, the fitness, ...): after
an edit there, an entry keyed on an unchanged file would silently run the
old code.  So every srnet kernel is cached in a folder named after the hash
of all the sources a kernel may contain, ``srnet-<hash>`` inside the folder
numba would use (the package's ``__pycache__``, ``NUMBA_CACHE_DIR``, or the
user-wide cache of a read-only install).  A process writes to the folder of
the sources it imported: one still running old code after an edit fills the
old folder, never the new one (deleting a single stamped cache on a change
left that race open: an old process could write after a new one had
stamped).  Folders of other hashes are removed when the engine is imported.

Inside a folder, each compiled signature is stored in a file named after the
signature (:class:`KeyedIndexDataCacheFile`), not numba's next free number:
two processes adding different signatures of one kernel at once (pytest-xdist
workers, Dask workers on a fresh install) could both take number N, and the
index then sent one signature to the other's machine code (a segfault, seen
with a float32 kernel run for a float64 call).

Every kernel module imports this module before anything else of srnet, so
the locator is registered before any kernel is compiled or loaded.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from numba import config
from numba.core import caching as _caching

from srnet.cgp import _target  # noqa: F401  (first: numba's target, before anything is compiled)


def _numba_class(name: str):
    """A class of numba's cache machinery (public since numba 0.61, with a
    leading underscore before)."""
    return getattr(_caching, name, None) or getattr(_caching, "_" + name)


Cache = _numba_class("Cache")
CacheImpl = _numba_class("CacheImpl")
IndexDataCacheFile = _numba_class("IndexDataCacheFile")
InTreeCacheLocator = _numba_class("InTreeCacheLocator")
UserProvidedCacheLocator = _numba_class("UserProvidedCacheLocator")
UserWideCacheLocator = _numba_class("UserWideCacheLocator")
_CacheLocator = _numba_class("CacheLocator")

#: The srnet package folder.
PACKAGE = Path(__file__).resolve().parents[1]

#: Every source whose code a cached kernel may contain, relative to the
#: package.  A new kernel module must be added here (tests/test_kernel_cache.py
#: checks it).
KERNEL_SOURCES = ("cgp/_cache.py", "cgp/_vecmath.py", "cgp/primitives.py", "cgp/_fitness.py", "cgp/_random.py",
                  "cgp/_mutation.py", "cgp/_evaluation.py", "cgp/_kernels.py", "cgp/gpu.py",
                  "activations/_fused_cpu.py")

#: Prefix of the cache folders (``srnet-`` and 16 hex digits of the hash).
FOLDER_PREFIX = "srnet-"


def sources_digest(package: Path | str = PACKAGE) -> str:
    """The hash of every file of :data:`KERNEL_SOURCES` under ``package``."""
    digest = hashlib.sha256()
    for name in KERNEL_SOURCES:
        digest.update(name.encode() + b"\0")
        digest.update((Path(package) / name).read_bytes())
    return digest.hexdigest()


DIGEST = sources_digest()
FOLDER = FOLDER_PREFIX + DIGEST[:16]
_KERNEL_FILES = frozenset(str(PACKAGE / name) for name in KERNEL_SOURCES)


def prune_other_folders(base: Path | str, keep: str = FOLDER) -> list[Path]:
    """Remove the srnet cache folders under ``base`` other than ``keep`` (and
    the loose cache files and hash stamps an srnet from before these folders
    left there);
    returns what was removed.  Errors are ignored: a read-only cache, or a
    folder another process is writing, stays."""
    removed = []
    base = Path(base)
    if not base.is_dir():
        return removed
    for path in base.iterdir():
        stale = (path.is_dir() and path.name.startswith(FOLDER_PREFIX) and path.name != keep) or \
                (path.is_file() and path.suffix in (".nbi", ".nbc", ".sha256"))
        if not stale:
            continue
        try:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
            removed.append(path)
        except OSError:
            pass
    return removed


class KernelCacheLocator(_CacheLocator):
    """numba's cache locator for srnet's kernels: numba's usual folder plus
    :data:`FOLDER`, and the sources' hash as the freshness stamp."""

    def __init__(self, py_func, base: str):
        self._lineno = py_func.__code__.co_firstlineno
        self._base = base
        self._cache_path = str(Path(base) / FOLDER)

    def get_cache_path(self):
        return self._cache_path

    def get_source_stamp(self):
        return DIGEST

    def get_disambiguator(self):
        return str(self._lineno)

    @classmethod
    def from_function(cls, py_func, py_file):
        if str(Path(py_file).resolve()) not in _KERNEL_FILES:
            return None
        # numba's own choice of folder, in its order: NUMBA_CACHE_DIR, else
        # the package's __pycache__, else the user-wide cache
        choices = (UserProvidedCacheLocator,) if config.CACHE_DIR else (InTreeCacheLocator, UserWideCacheLocator)
        for choice in choices:
            base = choice(py_func, py_file).get_cache_path()
            locator = cls(py_func, base)
            try:
                locator.ensure_cache_path()
            except OSError:
                continue
            if base not in _PRUNED:
                _PRUNED.add(base)
                prune_other_folders(base)
            return locator
        return None


_PRUNED: set[str] = set()


class KeyedIndexDataCacheFile(IndexDataCacheFile):
    """numba's index and data files, each signature's data in a file named
    after the signature.  Processes adding different signatures at once then
    never share a data file; one of them may lose its index entry (it is
    compiled again when next needed), but no entry can point to another
    signature's code.  The data file is written before the index that
    points to it."""

    def save(self, key, data):
        data_name = self._data_name_pattern.replace("{number:d}", hashlib.sha256(repr(key).encode()).hexdigest()[:16])
        self._save_data(data_name, data)
        overloads = self._load_index()
        if overloads.get(key) != data_name:
            overloads[key] = data_name
            self._save_index(overloads)


def _keyed_cache_init(self, py_func):
    """numba's Cache.__init__, then, for srnet's kernels, the keyed files."""
    _numba_cache_init(self, py_func)
    if isinstance(self._impl.locator, KernelCacheLocator):
        self._cache_file = KeyedIndexDataCacheFile(cache_path=self._cache_path, filename_base=self._impl.filename_base,
                                                   source_stamp=self._impl.locator.get_source_stamp())


if KernelCacheLocator not in CacheImpl._locator_classes:
    CacheImpl._locator_classes.insert(0, KernelCacheLocator)
if getattr(Cache.__init__, "__name__", "") != "_keyed_cache_init":
    _numba_cache_init = Cache.__init__
    Cache.__init__ = _keyed_cache_init
