"""SMoG views (Pang et al., 2022): two groups of crops with per-group blur and solarization."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from selfsup.transforms._checks import check_int, check_pair, check_same_length
from selfsup.transforms.multi_view_transform import MultiViewTransform
from selfsup.transforms.utils import IMAGENET_NORMALIZE
from selfsup.transforms.view_transform import ViewTransform

__all__ = ["SMoGTransform", "SMoGViewTransform"]


class SMoGViewTransform(ViewTransform):
    """One SMoG crop: random resized crop, flip, color jitter, grayscale, blur, solarization.

    Defaults follow lightly's SMoG transform (Pang et al., 2022, "Unsupervised Visual
    Representation Learning by Synchronous Momentum Grouping"): color jitter always applied with
    strength 0.5 times (0.8, 0.8, 0.4, 0.2), grayscale 0.2, horizontal flip 0.5.

    Input: PIL image or tensor ``(C, H, W)``, uint8 or float in [0, 1]. Output: float tensor
    ``(3, crop_size, crop_size)``.

    Args:
        crop_size: Output side in pixels (or ``(height, width)``).
        crop_min_scale: Smallest crop area fraction, in (0, 1].
        crop_max_scale: Largest crop area fraction, in (0, 1].
        gaussian_blur_prob: Probability of Gaussian blur.
        sigmas: ``(min, max)`` blur standard deviation in pixels.
        solarize_prob: Probability of solarization.
        hf_prob: Probability of a horizontal flip.
        cj_prob: Probability of color jitter.
        cj_strength: Multiplies ``cj_bright``, ``cj_contrast``, ``cj_sat`` and ``cj_hue``.
        cj_bright: Brightness jitter.
        cj_contrast: Contrast jitter.
        cj_sat: Saturation jitter.
        cj_hue: Hue jitter.
        random_gray_scale: Probability of grayscale.
        normalize: ``{"mean": [...], "std": [...]}``, or None for values in [0, 1].
    """

    def __init__(
        self,
        *,
        crop_size: int | Sequence[int] = 224,
        crop_min_scale: float = 0.2,
        crop_max_scale: float = 1.0,
        gaussian_blur_prob: float = 0.5,
        sigmas: tuple[float, float] = (0.1, 2.0),
        solarize_prob: float = 0.0,
        hf_prob: float = 0.5,
        cj_prob: float = 1.0,
        cj_strength: float = 0.5,
        cj_bright: float = 0.8,
        cj_contrast: float = 0.8,
        cj_sat: float = 0.4,
        cj_hue: float = 0.2,
        random_gray_scale: float = 0.2,
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        super().__init__(
            input_size=crop_size,
            crop_scale=check_pair(
                "(crop_min_scale, crop_max_scale)",
                (crop_min_scale, crop_max_scale),
                low=0.0,
                high=1.0,
                low_inclusive=False,
            ),
            hf_prob=hf_prob,
            cj_prob=cj_prob,
            cj_strength=cj_strength,
            cj_bright=cj_bright,
            cj_contrast=cj_contrast,
            cj_sat=cj_sat,
            cj_hue=cj_hue,
            random_gray_scale=random_gray_scale,
            gaussian_blur=gaussian_blur_prob,
            sigmas=sigmas,
            solarization_prob=solarize_prob,
            normalize=normalize,
        )


class SMoGTransform(MultiViewTransform):
    """SMoG's views: 4 crops of 224 px then 4 crops of 96 px by default.

    Group ``i`` has ``crop_counts[i]`` crops of ``crop_sizes[i]`` pixels at area
    ``(crop_min_scales[i], crop_max_scales[i])``, blurred with probability
    ``gaussian_blur_probs[i]`` and solarized with probability ``solarize_probs[i]``; the other
    arguments are shared (see :class:`SMoGViewTransform`). Defaults as lightly's.

    Input: PIL image or tensor ``(C, H, W)``, uint8 or float in [0, 1]. Output: list of
    ``sum(crop_counts)`` float tensors, group by group.

    Args:
        crop_sizes: Side in pixels of each crop group.
        crop_counts: Number of crops per group.
        crop_min_scales: Smallest crop area fraction per group.
        crop_max_scales: Largest crop area fraction per group.
        gaussian_blur_probs: Blur probability per group.
        gaussian_blur_sigmas: ``(min, max)`` blur standard deviation in pixels.
        solarize_probs: Solarization probability per group.
        hf_prob: Probability of a horizontal flip.
        cj_prob: Probability of color jitter.
        cj_strength: Multiplies ``cj_bright``, ``cj_contrast``, ``cj_sat`` and ``cj_hue``.
        cj_bright: Brightness jitter.
        cj_contrast: Contrast jitter.
        cj_sat: Saturation jitter.
        cj_hue: Hue jitter.
        random_gray_scale: Probability of grayscale.
        normalize: ``{"mean": [...], "std": [...]}``, or None for values in [0, 1].
    """

    def __init__(
        self,
        *,
        crop_sizes: Sequence[int] = (224, 96),
        crop_counts: Sequence[int] = (4, 4),
        crop_min_scales: Sequence[float] = (0.2, 0.05),
        crop_max_scales: Sequence[float] = (1.0, 0.2),
        gaussian_blur_probs: Sequence[float] = (0.5, 0.1),
        gaussian_blur_sigmas: tuple[float, float] = (0.1, 2.0),
        solarize_probs: Sequence[float] = (0.0, 0.2),
        hf_prob: float = 0.5,
        cj_prob: float = 1.0,
        cj_strength: float = 0.5,
        cj_bright: float = 0.8,
        cj_contrast: float = 0.8,
        cj_sat: float = 0.4,
        cj_hue: float = 0.2,
        random_gray_scale: float = 0.2,
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        groups = check_same_length(
            crop_sizes=crop_sizes,
            crop_counts=crop_counts,
            crop_min_scales=crop_min_scales,
            crop_max_scales=crop_max_scales,
            gaussian_blur_probs=gaussian_blur_probs,
            solarize_probs=solarize_probs,
        )
        views: list[SMoGViewTransform] = []
        for index in range(groups):
            count = check_int(f"crop_counts[{index}]", crop_counts[index])
            view = SMoGViewTransform(
                crop_size=crop_sizes[index],
                crop_min_scale=crop_min_scales[index],
                crop_max_scale=crop_max_scales[index],
                gaussian_blur_prob=gaussian_blur_probs[index],
                sigmas=gaussian_blur_sigmas,
                solarize_prob=solarize_probs[index],
                hf_prob=hf_prob,
                cj_prob=cj_prob,
                cj_strength=cj_strength,
                cj_bright=cj_bright,
                cj_contrast=cj_contrast,
                cj_sat=cj_sat,
                cj_hue=cj_hue,
                random_gray_scale=random_gray_scale,
                normalize=normalize,
            )
            views.extend([view] * count)
        if not views:
            raise ValueError(f"crop_counts must ask for at least one crop, got {list(crop_counts)}")
        super().__init__(views)
