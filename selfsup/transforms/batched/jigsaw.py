"""Jigsaw patches (PIRL) of a whole batch at once."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from selfsup.transforms.batched import functional as BF
from selfsup.transforms.batched.view_transform import BatchViewTransform, check_batch
from selfsup.transforms.jigsaw import Jigsaw

__all__ = ["BatchJigsaw"]


class BatchJigsaw:
    """Cuts every image of a batch into shuffled jigsaw patches (the batched :class:`Jigsaw`).

    Per sample as :class:`~selfsup.transforms.Jigsaw` (PIRL, Misra & van der Maaten, 2020): the
    image is resized to ``img_size`` x ``img_size`` (antialiased bilinear), cut into an
    ``n_grid`` x ``n_grid`` grid of cells of ``img_size // n_grid`` pixels, a ``crop_size`` crop
    is taken at a random offset inside each cell, every patch goes through ``transform`` with its
    own random parameters, and the patches of each image are put in their own random order.

    Input: tensor ``(B, C, H, W)``, uint8 in [0, 255] or float in [0, 1]. Output: tensor
    ``(B, n_grid ** 2, 3, crop_size, crop_size)`` (float in [0, 1] without ``transform``,
    otherwise what ``transform`` returns), on the input's device.

    Args:
        n_grid: Cells per side of the grid, >= 1.
        img_size: Side in pixels the images are resized to before cutting.
        crop_size: Side of each patch, at most ``img_size // n_grid``.
        transform: Batched transform applied to all patches of the batch at once (a
            :class:`BatchViewTransform` with ``input_size=None`` or a callable of a
            ``(N, C, crop_size, crop_size)`` batch); None converts to float.
    """

    def __init__(
        self,
        *,
        n_grid: int = 3,
        img_size: int = 255,
        crop_size: int = 64,
        transform: Callable[..., Tensor] | None = None,
    ) -> None:
        spec = Jigsaw(n_grid=n_grid, img_size=img_size, crop_size=crop_size, transform=transform)
        self.n_grid = spec.n_grid
        self.img_size = spec.img_size
        self.crop_size = spec.crop_size
        self.patch_transform = transform

    def make_params(
        self,
        batch_size: int,
        device: torch.device | str | None = None,
        generator: torch.Generator | None = None,
    ) -> dict[str, Tensor]:
        """Draws the crop offsets ``(B, n_grid ** 2, 2)`` (dy, dx) and the patch orders
        ``(B, n_grid ** 2)`` (one uniformly random permutation per image)."""
        device = torch.device("cpu") if device is None else torch.device(device)
        count = self.n_grid * self.n_grid
        slack = self.img_size // self.n_grid - self.crop_size
        offsets = torch.randint(
            0, slack + 1, (batch_size, count, 2), generator=generator, device=device
        )
        order = torch.rand(batch_size, count, generator=generator, device=device).argsort(dim=1)
        return {"offsets": offsets, "permutation": order}

    def __call__(self, images: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
        """Returns the shuffled, transformed patches ``(B, n_grid ** 2, 3, p, p)``."""
        check_batch(images)
        batch, channels, height, width = images.shape
        params = self.make_params(batch, images.device, generator)
        size = self.img_size
        if (height, width) != (size, size):
            boxes = torch.tensor([0.0, 0.0, width, height], device=images.device)
            images = BF.resized_crop(images, boxes.expand(batch, 4), size)
        cell, crop, count = size // self.n_grid, self.crop_size, self.n_grid * self.n_grid
        steps = torch.arange(count, device=images.device)
        cell_row = (steps // self.n_grid) * cell
        cell_col = (steps % self.n_grid) * cell
        span = torch.arange(crop, device=images.device)
        rows = (cell_row + params["offsets"][..., 0]).unsqueeze(-1) + span
        cols = (cell_col + params["offsets"][..., 1]).unsqueeze(-1) + span
        sample = torch.arange(batch, device=images.device).view(-1, 1, 1, 1)
        patches = images[sample, :, rows.unsqueeze(-1), cols.unsqueeze(-2)]
        patches = patches.permute(0, 1, 4, 2, 3).reshape(batch * count, channels, crop, crop)
        if self.patch_transform is None:
            patches = BF.to_float(patches)
            if patches.shape[1] == 1:
                patches = patches.expand(-1, 3, -1, -1)
        elif isinstance(self.patch_transform, BatchViewTransform):
            patches = self.patch_transform(patches, generator=generator)
        else:
            patches = self.patch_transform(patches)
        patches = patches.reshape(batch, count, *patches.shape[1:])
        order = params["permutation"].view(batch, count, 1, 1, 1).expand_as(patches)
        return patches.gather(1, order)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n_grid={self.n_grid}, img_size={self.img_size}, "
            f"crop_size={self.crop_size}, transform={self.patch_transform!r})"
        )
