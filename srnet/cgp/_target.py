"""The CPU code numba generates for srnet's kernels: 512-bit vectors where the CPU has AVX-512.

numba compiles for the host CPU, but for Intel CPUs with AVX-512 LLVM's
tuning prefers 256-bit vectors (``prefer-256-bit``, chosen for the first
AVX-512 chips, which lowered their clock on 512-bit code), so numba leaves
half of every vector register unused.  srnet's kernels are long vectorised
loops (the engine's evaluators, the polynomial maths of
:mod:`srnet.cgp._vecmath`, the fused activations), and on this project's
Xeon host 512-bit vectors run the engine's evaluator 10-25 % faster
(float64, 10k rows), its whole search 3-20 %, and float32 sin and exp
loops 1.5x (``experiments/bench_engine.py``; the numbers are the same).

So, on a CPU with AVX-512, srnet asks LLVM to prefer full-width vectors
(numba's ``config.CPU_FEATURES``: the host's features, as numba reads them,
less ``prefer-256-bit``).  This is numba's setting for the whole process,
and it only takes effect before numba first compiles a function there: srnet sets it
when it is imported, and changes nothing when numba code was compiled
before, when the user chose a target (``NUMBA_CPU_NAME`` or
``NUMBA_CPU_FEATURES``) or opted out (``SRNET_WIDE_VECTORS=0``).  Results
are the same either way (the same operations in the same order, more lanes
at once); numba caches code per feature set, so no cached kernel of the
other width is reused.
"""

from __future__ import annotations

import os

from numba import config
from numba.core.codegen import get_host_cpu_features

#: Environment variable: ``0`` keeps numba's own choice of vector width.
ENV = "SRNET_WIDE_VECTORS"


def prefer_wide_vectors(environ=os.environ) -> str | None:
    """The CPU features srnet gives numba, or None where it changes nothing
    (see the module docstring).  Sets ``numba.config.CPU_FEATURES``."""
    if environ.get(ENV, "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    if config.CPU_NAME is not None or config.CPU_FEATURES is not None:
        return None
    if _compiled_already():  # numba's code generator exists: too late, say so by changing nothing
        return None
    features = get_host_cpu_features()
    if "+avx512f" not in features.split(","):
        return None
    config.CPU_FEATURES = features + ",-prefer-256-bit"
    return config.CPU_FEATURES


def _compiled_already() -> bool:
    """Whether numba made its CPU code generator in this process (at the first
    decorated function, with the features of that moment)."""
    from numba.core.registry import cpu_target

    return "_toplevel_target_context" in vars(cpu_target)


#: The features set at import (None: numba's own).
WIDE_FEATURES = prefer_wide_vectors()
