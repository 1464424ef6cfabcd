"""Multi-crop: several groups of random resized crops of different sizes (SwaV)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from torchvision.transforms import InterpolationMode
from torchvision.transforms.v2 import Compose, RandomResizedCrop

from selfsup.transforms._checks import check_int, check_pair, check_same_length, check_size
from selfsup.transforms.multi_view_transform import MultiViewTransform

__all__ = ["MultiCropTransform"]


class MultiCropTransform(MultiViewTransform):
    """Makes ``crop_counts[i]`` crops of ``crop_sizes[i]`` pixels for each crop group ``i``.

    Each view is torchvision v2's ``RandomResizedCrop(crop_sizes[i], scale=(crop_min_scales[i],
    crop_max_scales[i]))`` followed by ``transforms``. Views come group by group: first all crops of
    group 0, then all of group 1, ... (SwaV's multi-crop, Caron et al., 2020, Section 3.2).

    Input: PIL image or tensor ``(C, H, W)``. Output: list of ``sum(crop_counts)`` views, each what
    ``transforms`` returns for the crop.

    Args:
        crop_sizes: Output side (or ``(height, width)``) of each group's crops.
        crop_counts: Number of crops per group, >= 0.
        crop_min_scales: Smallest crop area fraction per group, in (0, 1].
        crop_max_scales: Largest crop area fraction per group, in (0, 1].
        transforms: Applied to every crop, e.g. a :class:`ViewTransform` with ``input_size=None``.
        interpolation: Resampling of the crops.
    """

    def __init__(
        self,
        crop_sizes: Sequence[int | Sequence[int]],
        crop_counts: Sequence[int],
        crop_min_scales: Sequence[float],
        crop_max_scales: Sequence[float],
        transforms: Callable[[Any], Any],
        *,
        interpolation: InterpolationMode = InterpolationMode.BILINEAR,
    ) -> None:
        check_same_length(
            crop_sizes=crop_sizes,
            crop_counts=crop_counts,
            crop_min_scales=crop_min_scales,
            crop_max_scales=crop_max_scales,
        )
        if not callable(transforms):
            raise TypeError(f"transforms must be callable, got {transforms!r}")
        views: list[Callable[[Any], Any]] = []
        for index, size in enumerate(crop_sizes):
            count = check_int(f"crop_counts[{index}]", crop_counts[index])
            scale = check_pair(
                f"(crop_min_scales[{index}], crop_max_scales[{index}])",
                (crop_min_scales[index], crop_max_scales[index]),
                low=0.0,
                high=1.0,
                low_inclusive=False,
            )
            output_size = check_size(f"crop_sizes[{index}]", size)
            crop = RandomResizedCrop(
                output_size, scale=scale, interpolation=interpolation, antialias=True
            )
            views.extend([Compose([crop, transforms])] * count)
        if not views:
            raise ValueError(f"crop_counts must ask for at least one crop, got {list(crop_counts)}")
        super().__init__(views)
        self.crop_sizes = list(crop_sizes)
        self.crop_counts = list(crop_counts)
