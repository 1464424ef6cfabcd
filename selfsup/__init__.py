"""selfsup: self-supervised learning on unlabeled images and video."""

from selfsup.pipeline import embed, preview, train

__version__ = "0.1.0"

__all__ = ["__version__", "embed", "preview", "train"]
