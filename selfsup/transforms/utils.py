"""Constants shared by the view transforms."""

from __future__ import annotations

__all__ = ["IMAGENET_NORMALIZE"]

#: ImageNet channel statistics (RGB, values in [0, 1]), the default ``normalize`` of every method
#: transform; the same numbers as torchvision's pretrained models and lightly.
IMAGENET_NORMALIZE: dict[str, list[float]] = {
    "mean": [0.485, 0.456, 0.406],
    "std": [0.229, 0.224, 0.225],
}
