"""selfsup: self-supervised learning on unlabeled images and video.

The high-level functions (``selfsup.train``, ``embed``, ``evaluate``, ``select``, ``extract``,
``invariance``, ``preview``, ``demo``) are loaded on first use, so ``import selfsup.loss`` or
``import selfsup.models`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "demo",
    "embed",
    "evaluate",
    "extract",
    "invariance",
    "preview",
    "select",
    "train",
]

_PIPELINE = ("demo", "embed", "evaluate", "extract", "invariance", "preview", "select", "train")


def __getattr__(name: str) -> Any:
    if name in _PIPELINE:
        return getattr(importlib.import_module("selfsup.pipeline"), name)
    raise AttributeError(f"module 'selfsup' has no attribute {name!r}")
