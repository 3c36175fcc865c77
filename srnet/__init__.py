"""srnet: open trained neural networks up into mathematics."""

__version__ = "0.1.0"
