"""Where a figure came from: the JSON the experiments write, with how, when and with what.

:func:`write_results` wraps an experiment's figures as::

    {"command": "python experiments/bench_nguyen.py --seeds 5 ...",
     "versions": {"python": ..., "srnet": ..., "numpy": ..., "torch": ..., "numba": ..., "sympy": ...,
                  "pyoperon": ... or null, "gplearn": ... or null},
     "date": "2025-01-31T12:00:00+00:00",
     "host": {"platform": ..., "machine": ..., "processor": ..., "cpus": ...},
     "results": <the figures, exactly as the script computed them>}

The files behind the README's tables and figures live in ``data/results/``
(see its README); read the figures of any of them with :func:`read_results`.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import os
import platform
import shlex
import sys
from pathlib import Path

from srnet.jsonio import dumps

PACKAGES = ("srnet", "numpy", "torch", "numba", "sympy", "scikit-learn", "pyoperon", "gplearn")


def versions() -> dict:
    """Python's version and each package's installed version (None when not installed)."""
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def host() -> dict:
    return {"platform": platform.platform(), "machine": platform.machine(), "processor": cpu_model(),
            "cpus": os.cpu_count()}


def cpu_model() -> str:
    """The CPU's model name (platform.processor() is '' on Linux, and figures depend on the host)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def provenance(argv=None) -> dict:
    """The metadata keys of :func:`write_results`, for the command ``argv`` (default: this process's)."""
    argv = sys.argv if argv is None else argv
    return {"command": shlex.join(["python", *argv]), "cwd": os.getcwd(),
            "versions": versions(),
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "host": host()}


def write_results(path, payload, *, argv=None) -> Path:
    """Write ``{command, versions, date, host, results: payload}`` as indented JSON to ``path``."""
    path = Path(path)
    if path.parent != Path(""):
        path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps({**provenance(argv), "results": payload}, indent=2) + "\n")
    return path


def read_results(path):
    """The figures of a file :func:`write_results` wrote (the ``results`` key)."""
    data = json.loads(Path(path).read_text())
    if not isinstance(data, dict) or "results" not in data or "versions" not in data:
        raise ValueError(f"'{path}' is not an experiment's results file (no 'results' and 'versions')")
    return data["results"]
