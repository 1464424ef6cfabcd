"""Jigsaw patches (PIRL): shuffled crops from a grid over the image."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torchvision.transforms.v2.functional as tv_functional
from PIL import Image
from torch import Tensor
from torchvision.transforms.v2 import Transform

from selfsup.transforms import functional as F
from selfsup.transforms._checks import check_int
from selfsup.transforms._threads import single_intra_op_thread

__all__ = ["Jigsaw"]


class Jigsaw(Transform):
    """Cuts an image into shuffled jigsaw patches, as in PIRL (Misra & van der Maaten, 2020).

    The image is resized to ``img_size`` x ``img_size``, cut into an ``n_grid`` x ``n_grid`` grid of
    cells of ``img_size // n_grid`` pixels, and a random ``crop_size`` x ``crop_size`` crop is taken
    inside each cell (:func:`selfsup.transforms.functional.crop_grid`). Each patch goes through
    ``transform`` and the patches are stacked in a random order (a uniformly drawn permutation).
    Defaults (3x3 grid of 64-pixel crops from 255 pixels) are PIRL's, as in lightly.

    Input: PIL image or tensor ``(C, H, W)``, uint8 in [0, 255] or float in [0, 1]. Output: tensor
    ``(n_grid * n_grid, C, crop_size, crop_size)``; float in [0, 1] without ``transform``, otherwise
    what ``transform`` returns per patch, stacked.

    Args:
        n_grid: Cells per side of the grid, >= 1.
        img_size: Side in pixels the image is resized to before cutting.
        crop_size: Side of each patch, at most ``img_size // n_grid``.
        transform: Callable applied to every patch (a PIL image or tensor ``(C, crop_size,
            crop_size)``) returning a tensor of a common shape; None converts to float tensors.
    """

    def __init__(
        self,
        *,
        n_grid: int = 3,
        img_size: int = 255,
        crop_size: int = 64,
        transform: Callable[[Any], Tensor] | None = None,
    ) -> None:
        super().__init__()
        self.n_grid = check_int("n_grid", n_grid, low=1)
        self.img_size = check_int("img_size", img_size, low=1)
        self.crop_size = check_int("crop_size", crop_size, low=1)
        if crop_size > img_size // n_grid:
            raise ValueError(
                f"crop_size must be at most img_size // n_grid = {img_size // n_grid}, "
                f"got {crop_size}"
            )
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable or None, got {transform!r}")
        self.patch_transform = transform

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        """Draws the crop offsets ``(n_grid ** 2, 2)`` inside the cells and the patch permutation."""
        slack = self.img_size // self.n_grid - self.crop_size
        count = self.n_grid * self.n_grid
        return {
            "offsets": torch.randint(0, slack + 1, (count, 2)),
            "permutation": torch.randperm(count),
        }

    def transform(self, inpt: Any, params: dict[str, Any]) -> Tensor:
        """Resizes, cuts, transforms and shuffles the patches of one image."""
        with single_intra_op_thread():
            size = (inpt.height, inpt.width) if isinstance(inpt, Image.Image) else inpt.shape[-2:]
            img = inpt
            if tuple(size) != (self.img_size, self.img_size):
                img = tv_functional.resize(inpt, [self.img_size, self.img_size], antialias=True)
            patches = F.crop_grid(img, self.n_grid, self.crop_size, params["offsets"])
            convert = (
                self.patch_transform if self.patch_transform is not None else F.to_float_tensor
            )
            stacked = torch.stack([convert(patch) for patch in patches])
            return stacked[params["permutation"].to(stacked.device)]
