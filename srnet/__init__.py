"""srnet: open trained neural networks up into mathematics."""

__version__ = "0.1.0"

from srnet.estimators import CGPRegressor  # noqa: E402
from srnet.extract import SRNet  # noqa: E402
from srnet.xnet import XNetClassifier, XNetRegressor  # noqa: E402

__all__ = ["CGPRegressor", "SRNet", "XNetClassifier", "XNetRegressor", "__version__"]
