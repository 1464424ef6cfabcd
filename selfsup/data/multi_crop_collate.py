"""Multi-crop collate functions (SwaV, DINO) with lightly 1.5's names, arguments and defaults.

Each one only configures :mod:`selfsup.transforms` (``MultiCropTransform``,
``SwaVViewTransform``, ``DINOTransform``) and applies it per item through
:class:`~selfsup.data.MultiViewCollate`; they return ``(view_batches, targets, filenames)``
with one ``(B, C, H, W)`` batch per crop, large crops first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from torch import Tensor

from selfsup.data.collate import _warn_ignored_kernel_size
from selfsup.data.multi_view_collate import MultiViewCollate
from selfsup.transforms import (
    IMAGENET_NORMALIZE,
    DINOTransform,
    MultiCropTransform,
    SwaVViewTransform,
)

__all__ = ["DINOCollateFunction", "MultiCropCollateFunction", "SwaVCollateFunction"]

_Normalize = Mapping[str, Sequence[float]]


class MultiCropCollateFunction(MultiViewCollate):
    """``crop_counts[i]`` random resized crops of ``crop_sizes[i]`` pixels per image.

    Builds :class:`~selfsup.transforms.MultiCropTransform`: each crop (area fraction in
    ``[crop_min_scales[i], crop_max_scales[i]]``) is followed by ``transforms``.

    Args:
        crop_sizes: Output side of each crop group, in pixels.
        crop_counts: Number of crops per group.
        crop_min_scales: Smallest crop area fraction per group, in (0, 1].
        crop_max_scales: Largest crop area fraction per group, in (0, 1].
        transforms: Applied to every crop; must end in a tensor ``(C, H, W)``.

    Raises:
        ValueError: The four sequences differ in length, or a scale is out of range.
    """

    def __init__(
        self,
        crop_sizes: Sequence[int],
        crop_counts: Sequence[int],
        crop_min_scales: Sequence[float],
        crop_max_scales: Sequence[float],
        transforms: Callable[[Any], Tensor],
    ) -> None:
        super().__init__(
            MultiCropTransform(
                crop_sizes, crop_counts, crop_min_scales, crop_max_scales, transforms
            )
        )


class SwaVCollateFunction(MultiCropCollateFunction):
    """SwaV's multi-crop views (Caron et al., 2020, "Unsupervised Learning of Visual
    Features by Contrasting Cluster Assignments", Section 3.2): by default 2 crops of 224
    and 6 of 96 pixels.

    Every crop gets :class:`~selfsup.transforms.SwaVViewTransform`'s flips, color jitter
    ``(s, s, s, s / 4)`` with ``s = cj_strength``, grayscale and blur, as in lightly 1.5's
    ``SwaVCollateFunction``, whose defaults these are.

    Args:
        crop_sizes: Output side of each crop group, in pixels.
        crop_counts: Number of crops per group.
        crop_min_scales: Smallest crop area fraction per group.
        crop_max_scales: Largest crop area fraction per group.
        hf_prob: Probability of a horizontal flip.
        vf_prob: Probability of a vertical flip.
        rr_prob: Probability of a rotation.
        rr_degrees: None for quarter turns; ``d`` or ``(min, max)`` degrees otherwise.
        cj_prob: Probability of color jitter.
        cj_strength: Brightness, contrast and saturation jitter; hue gets a quarter of it.
        random_gray_scale: Probability of grayscale.
        gaussian_blur: Probability of Gaussian blur.
        kernel_size: Ignored (lightly compatibility); see ``sigmas``.
        sigmas: ``(min, max)`` blur standard deviation in pixels.
        normalize: ``{"mean": [...], "std": [...]}``, or None for values in [0, 1].
    """

    def __init__(
        self,
        crop_sizes: Sequence[int] = (224, 96),
        crop_counts: Sequence[int] = (2, 6),
        crop_min_scales: Sequence[float] = (0.14, 0.05),
        crop_max_scales: Sequence[float] = (1.0, 0.14),
        hf_prob: float = 0.5,
        vf_prob: float = 0.0,
        rr_prob: float = 0.0,
        rr_degrees: float | tuple[float, float] | None = None,
        cj_prob: float = 0.8,
        cj_strength: float = 0.8,
        random_gray_scale: float = 0.2,
        gaussian_blur: float = 0.0,
        kernel_size: float | None = None,
        sigmas: tuple[float, float] = (0.2, 2),
        normalize: _Normalize | None = IMAGENET_NORMALIZE,
    ) -> None:
        _warn_ignored_kernel_size("kernel_size", kernel_size)
        view = SwaVViewTransform(
            hf_prob=hf_prob,
            vf_prob=vf_prob,
            rr_prob=rr_prob,
            rr_degrees=rr_degrees,
            cj_prob=cj_prob,
            cj_strength=1.0,
            cj_bright=cj_strength,
            cj_contrast=cj_strength,
            cj_sat=cj_strength,
            cj_hue=cj_strength / 4,
            random_gray_scale=random_gray_scale,
            gaussian_blur=gaussian_blur,
            sigmas=sigmas,
            normalize=normalize,
        )
        super().__init__(crop_sizes, crop_counts, crop_min_scales, crop_max_scales, view)


class DINOCollateFunction(MultiViewCollate):
    """DINO's views: 2 global crops and ``n_local_views`` local crops per image.

    Builds :class:`~selfsup.transforms.DINOTransform` (Caron et al., 2021, "Emerging
    Properties in Self-Supervised Vision Transformers", Appendix; the official code's
    ``DataAugmentationDINO``): bicubic crops, flips, color jitter, grayscale, blur with
    per-view probabilities, solarization of the second global view. Defaults are lightly
    1.5's ``DINOCollateFunction``. Output views: 2 batches ``(B, 3, global_crop_size,
    global_crop_size)`` then ``n_local_views`` batches ``(B, 3, local_crop_size,
    local_crop_size)``.

    Args:
        global_crop_size: Side of the global crops in pixels.
        global_crop_scale: ``(min, max)`` area fraction of the global crops.
        local_crop_size: Side of the local crops in pixels.
        local_crop_scale: ``(min, max)`` area fraction of the local crops.
        n_local_views: Number of local crops.
        hf_prob: Probability of a horizontal flip.
        vf_prob: Probability of a vertical flip.
        rr_prob: Probability of a rotation.
        rr_degrees: None for quarter turns; ``d`` or ``(min, max)`` degrees otherwise.
        cj_prob: Probability of color jitter.
        cj_bright: Brightness jitter.
        cj_contrast: Contrast jitter.
        cj_sat: Saturation jitter.
        cj_hue: Hue jitter.
        random_gray_scale: Probability of grayscale.
        gaussian_blur: Blur probabilities ``(global view 0, global view 1, local views)``.
        kernel_size: Ignored (lightly compatibility); see ``sigmas``.
        kernel_scale: Ignored (lightly compatibility); see ``sigmas``.
        sigmas: ``(min, max)`` blur standard deviation in pixels.
        solarization_prob: Probability of solarizing the second global view.
        normalize: ``{"mean": [...], "std": [...]}``, or None for values in [0, 1].
    """

    def __init__(
        self,
        global_crop_size: int = 224,
        global_crop_scale: tuple[float, float] = (0.4, 1.0),
        local_crop_size: int = 96,
        local_crop_scale: tuple[float, float] = (0.05, 0.4),
        n_local_views: int = 6,
        hf_prob: float = 0.5,
        vf_prob: float = 0.0,
        rr_prob: float = 0.0,
        rr_degrees: float | tuple[float, float] | None = None,
        cj_prob: float = 0.8,
        cj_bright: float = 0.4,
        cj_contrast: float = 0.4,
        cj_sat: float = 0.2,
        cj_hue: float = 0.1,
        random_gray_scale: float = 0.2,
        gaussian_blur: tuple[float, float, float] = (1.0, 0.1, 0.5),
        kernel_size: float | None = None,
        kernel_scale: float | None = None,
        sigmas: tuple[float, float] = (0.1, 2),
        solarization_prob: float = 0.2,
        normalize: _Normalize | None = IMAGENET_NORMALIZE,
    ) -> None:
        _warn_ignored_kernel_size("kernel_size", kernel_size)
        _warn_ignored_kernel_size("kernel_scale", kernel_scale)
        transform = DINOTransform(
            global_crop_size=global_crop_size,
            global_crop_scale=global_crop_scale,
            local_crop_size=local_crop_size,
            local_crop_scale=local_crop_scale,
            n_local_views=n_local_views,
            hf_prob=hf_prob,
            vf_prob=vf_prob,
            rr_prob=rr_prob,
            rr_degrees=rr_degrees,
            cj_prob=cj_prob,
            cj_strength=1.0,
            cj_bright=cj_bright,
            cj_contrast=cj_contrast,
            cj_sat=cj_sat,
            cj_hue=cj_hue,
            random_gray_scale=random_gray_scale,
            gaussian_blur=gaussian_blur,
            sigmas=sigmas,
            solarization_prob=solarization_prob,
            normalize=normalize,
        )
        super().__init__(transform)
