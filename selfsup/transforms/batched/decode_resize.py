"""The DataLoader workers' whole job in the batched path: decode and resize to a uint8 tensor."""

from __future__ import annotations

import os

import numpy as np
import torch
import torch.nn.functional as nn_functional
from PIL import Image
from torch import Tensor

from selfsup.transforms._checks import check_int
from selfsup.transforms._threads import single_intra_op_thread

__all__ = ["DecodeResize"]


class DecodeResize:
    """Turns an image into a uint8 tensor ``(3, size, size)``: shorter side to ``size``, centre crop.

    The per-sample part of the batched augmentation path: DataLoader workers only decode and
    resize (this transform), and a batched method transform (e.g.
    :class:`SimCLRBatchTransform`) makes all views of the collated uint8 batch on the training
    device. The centre square of the image (side = the shorter side, integer offsets as
    torchvision's ``center_crop``) is resized to ``size`` x ``size`` with torch's antialiased
    bilinear uint8 kernel (the same filter as Pillow's, about twice as fast as Pillow's
    ``resize`` here), on one thread. A file path is decoded through
    :func:`selfsup.data.image_loading.load_image_tensor`: JPEGs straight into a tensor by
    libjpeg-turbo, or in draft mode when the decoder can downscale by 1/2, 1/4 or 1/8 while
    still leaving at least ``size`` pixels (cheap for large photos).
    Any PIL mode is converted to RGB with :func:`selfsup.data.image_loading.to_rgb` (grayscale
    images become 3 equal channels, alpha is composited over white), so every item has the same
    shape and collates.

    Input: PIL image (any mode), uint8 tensor ``(3, H, W)`` (as
    ``ImageDataset(..., decode_to_tensor=True)`` gives) or a path to an image file. Output: uint8
    tensor ``(3, size, size)``, values in [0, 255].

    Args:
        size: Side of the output in pixels, >= 1; use the largest view size (or a little more,
            e.g. 256 for 224 views) so the random crops still have detail.
    """

    def __init__(self, size: int) -> None:
        self.size = check_int("size", size, low=1)

    def __call__(self, image: Image.Image | Tensor | str | os.PathLike[str]) -> Tensor:
        """Returns the resized, centre-cropped image as a uint8 tensor ``(3, size, size)``."""
        # Imported here: selfsup.data imports selfsup.transforms, not the other way round.
        from selfsup.data.image_loading import load_image_tensor, to_rgb

        if isinstance(image, (str, os.PathLike)):
            pixels = load_image_tensor(image, draft_size=self.size)
        elif isinstance(image, Image.Image):
            rgb = image if image.mode == "RGB" else to_rgb(image)
            pixels = torch.from_numpy(np.array(rgb, dtype=np.uint8)).permute(2, 0, 1)
        elif isinstance(image, Tensor):
            if image.dtype != torch.uint8 or image.ndim != 3 or image.shape[0] != 3:
                raise ValueError(
                    f"expected a uint8 tensor (3, H, W), got {image.dtype} {tuple(image.shape)}"
                )
            pixels = image
        else:
            raise TypeError(
                f"expected a PIL image, a uint8 tensor or a file path, got {type(image).__name__}"
            )
        _, height, width = pixels.shape
        side = min(width, height)
        left, top = round((width - side) / 2), round((height - side) / 2)
        square = pixels[:, top : top + side, left : left + side]
        if side == self.size:
            return square.contiguous()
        # torch's antialiased uint8 kernel is fastest on channels-last (HWC) memory.
        square = square.permute(1, 2, 0).contiguous().permute(2, 0, 1)
        with single_intra_op_thread():
            resized = nn_functional.interpolate(
                square.unsqueeze(0),
                size=(self.size, self.size),
                mode="bilinear",
                antialias=True,
            )
        return resized[0].contiguous()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size})"
