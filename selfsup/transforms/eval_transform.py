"""Deterministic preprocessing for embedding and evaluation: resize, center crop, normalise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torchvision.transforms.v2 as v2
from torch import Tensor

from selfsup.transforms.utils import IMAGENET_NORMALIZE

__all__ = ["EvalTransform"]


class EvalTransform:
    """Resizes the short side to ``input_size``, center-crops a square and normalises.

    The same image always gives the same tensor, so embeddings are reproducible.

    Args:
        input_size: Side of the output square in pixels.
        normalize: ``{"mean": [...], "std": [...]}``, or None for values in [0, 1].

    Input: RGB PIL image or tensor `(C, H, W)` (1 or 3 channels), uint8 or float in [0, 1].
    Output: float32 tensor `(3, input_size, input_size)`.
    """

    def __init__(
        self,
        input_size: int = 224,
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        if not isinstance(input_size, int) or input_size < 1:
            raise ValueError(f"input_size must be a positive int, got {input_size!r}")
        self.input_size = input_size
        steps: list[Any] = [
            v2.ToImage(),
            v2.Resize(input_size, antialias=True),
            v2.CenterCrop(input_size),
            v2.ToDtype(torch.float32, scale=True),
        ]
        if normalize is not None:
            steps.append(v2.Normalize(mean=list(normalize["mean"]), std=list(normalize["std"])))
        self.transform = v2.Compose(steps)

    def __call__(self, image: Any) -> Tensor:
        """Preprocesses one image; see the class docstring for shapes."""
        tensor = self.transform(image)
        if tensor.shape[0] == 1:
            tensor = tensor.expand(3, -1, -1).clone()
        return tensor
