"""srnet: open trained neural networks up into mathematics."""

__version__ = "0.1.0"

#: The estimators, imported when first used (PEP 562): ``import srnet`` and the command line start without
#: torch and numba, so that ``srnet --help`` is instant and a Ctrl-C while they load is the command's own
#: one-line "interrupted" rather than a traceback from deep inside an import.
_LAZY = {"CGPRegressor": "srnet.estimators", "SRNet": "srnet.extract", "XNetClassifier": "srnet.xnet",
         "XNetRegressor": "srnet.xnet"}

__all__ = ["CGPRegressor", "SRNet", "XNetClassifier", "XNetRegressor", "__version__"]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'srnet' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
