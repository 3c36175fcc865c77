"""The one way to build an explainer by name, with one set of defaults.

The command line (``srnet compare``), the batch runs (``srnet bench``) and
the experiments all call :func:`make_explainer`, so the same name and budget
give the same explainer everywhere.  Only the budget varies between callers:

* ``seconds`` / ``generations``: the search budget of the formula explainers
  (``srnet``, ``cgp_direct``, ``pyoperon``: its ``max_time`` is the same
  seconds, its ``generations`` its own; ``xnet``: the seconds, and
  generations as its iterations);
* ``n_threads``: the engine threads of those searches (pyoperon's threads too);
* ``srnet_params``: further :class:`srnet.extract.SRNet` settings (preset, form).

Fixed defaults: LIME draws :data:`LIME_SAMPLES` samples per explained point
(the SRNet paper's setting) without a progress bar; MAPLE uses its class's
defaults, and gplearn its own (20 generations of 1000) within ``max_seconds``.
An explainer whose package is missing is an error naming the package, never
silently left out.
"""

from __future__ import annotations

import importlib.util

from srnet.data import check_budget
from srnet.explain.base import Explainer
from srnet.explain.formulas import (
    CGPDirectExplainer,
    GplearnExplainer,
    PyoperonExplainer,
    SRNetExplainer,
    XNetExplainer,
)
from srnet.explain.lime_local import LimeExplainer
from srnet.explain.maple import MapleExplainer

LIME_SAMPLES = 1000  # the SRNet paper's LIME samples per explained point
EXPLAINERS = {explainer.name: explainer for explainer in (SRNetExplainer, LimeExplainer, MapleExplainer,
                                                           CGPDirectExplainer, GplearnExplainer, PyoperonExplainer,
                                                           XNetExplainer)}
# explainer -> the import it needs beyond srnet's own
OPTIONAL_PACKAGES = {"gplearn": "gplearn", "pyoperon": "pyoperon"}
INSTALL_HINT = "pip install 'srnet[bench]'"
#: The explainers with no budget of their own (srnet has its default generations, gplearn its 20).
NEEDS_A_BUDGET = ("cgp_direct", "pyoperon", "xnet")


def installed(name: str) -> bool:
    """Whether the package explainer ``name`` needs beyond srnet's own (:data:`OPTIONAL_PACKAGES`) is installed."""
    package = OPTIONAL_PACKAGES.get(name)
    return package is None or importlib.util.find_spec(package) is not None


def check_explainers(names) -> tuple[str, ...]:
    """``names`` as a tuple, after checking each is known and its package installed; one name may be
    given as a string (``"lime"``, whose letters were checked as names: "unknown explainer 'l'"); each
    name once, in the order given.

    Raises
    ------
    ValueError
        One line: the unknown name and the valid ones, or the missing package.
    """
    # each once, in the order given ("comparing srnet, srnet, lime" measured srnet once)
    names = (names,) if isinstance(names, str) else tuple(dict.fromkeys(names))
    for name in names:
        if name not in EXPLAINERS:
            raise ValueError(f"unknown explainer {name!r}; valid: {', '.join(EXPLAINERS)}")
        if not installed(name):
            raise ValueError(f"explainer {name!r} needs the package {OPTIONAL_PACKAGES[name]!r}, which is not "
                             f"installed: {INSTALL_HINT}")
    return names


def make_explainer(name: str, *, max_seconds: float | None = 10.0, max_generations: int | None = None,
                   n_threads: int | None = None, srnet_params: dict | None = None) -> Explainer:
    """An unfitted explainer called ``name``.

    Parameters
    ----------
    name : str
        A key of :data:`EXPLAINERS`: ``srnet``, ``lime``, ``maple``,
        ``cgp_direct``, ``gplearn``, ``pyoperon``, ``xnet``.
    max_seconds : float or None, default=10.0
        Wall budget of each formula search (``srnet``, ``cgp_direct``,
        ``pyoperon``, ``gplearn``, ``xnet``); None for no time limit (give ``max_generations`` then).
    max_generations : int or None, default=None
        Generation budget of each formula search (``xnet``: its iterations; ``gplearn`` keeps its own 20).
    n_threads : int or None, default=None
        Engine threads of ``srnet``, ``cgp_direct`` and ``pyoperon`` (None: numba's default); ``gplearn``
        and ``xnet`` run on one.
    srnet_params : dict, optional
        More :class:`srnet.extract.SRNet` settings for ``srnet`` (``preset``,
        ``form``, ...).

    Raises
    ------
    ValueError
        See :func:`check_explainers`; or a budget that is not one (checked here, by the names given, before any
        explainer runs: X-Net's own is ``max_iterations``), or none for those of :data:`NEEDS_A_BUDGET`.
    """
    check_explainers([name])
    max_seconds = check_budget("max_seconds", max_seconds, allow_none=True)  # (not at fit, after others ran)
    max_generations = check_budget("max_generations", max_generations, allow_none=True, integer=True)
    if name in NEEDS_A_BUDGET and max_seconds is None and max_generations is None:
        raise ValueError(f"explainer {name!r} needs a budget: max_seconds or max_generations (both are None)")
    engine = {key: value for key, value in (("n_threads", n_threads), ("max_generations", max_generations))
              if value is not None}
    if name == "srnet":
        return SRNetExplainer(max_seconds=max_seconds, srnet_params={**engine, **(srnet_params or {})})
    if name == "cgp_direct":
        return CGPDirectExplainer(max_seconds=max_seconds, regressor_params=engine)
    if name == "pyoperon":
        return PyoperonExplainer(max_seconds=max_seconds, max_generations=max_generations, n_threads=n_threads)
    if name == "xnet":
        params = {} if max_generations is None else {"max_iterations": max_generations}
        return XNetExplainer(max_seconds=max_seconds, regressor_params=params)
    if name == "lime":
        return LimeExplainer(num_samples=LIME_SAMPLES, progress=False)
    if name == "gplearn":  # its generations (20 at most) within the same wall budget
        return GplearnExplainer(max_seconds=max_seconds)
    return EXPLAINERS[name]()


def make_explainers(names, **budget) -> dict[str, Explainer]:
    """``{name: make_explainer(name, **budget)}``, every name checked before any is built."""
    return {name: make_explainer(name, **budget) for name in check_explainers(names)}
