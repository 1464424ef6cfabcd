"""SwaV views (Caron et al., 2020): multi-crop with SimCLR-style color augmentations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from selfsup.transforms.multi_crop_transform import MultiCropTransform
from selfsup.transforms.utils import IMAGENET_NORMALIZE
from selfsup.transforms.view_transform import ViewTransform

__all__ = ["SwaVTransform", "SwaVViewTransform"]


class SwaVViewTransform(ViewTransform):
    """SwaV's augmentations after the crop: flips, rotation, color jitter, grayscale, blur.

    Defaults follow SwaV (Caron et al., 2020, "Unsupervised Learning of Visual Features by
    Contrasting Cluster Assignments", Appendix A): horizontal flip 0.5, color jitter 0.8 with
    (0.8, 0.8, 0.8, 0.2), grayscale 0.2, blur 0.5 with sigma in [0.1, 2]. No crop: the image keeps
    its size (:class:`SwaVTransform` crops first).

    Input: PIL image or tensor ``(C, H, W)``, uint8 or float in [0, 1]. Output: float tensor
    ``(3, H, W)``.

    Args:
        hf_prob: Probability of a horizontal flip.
        vf_prob: Probability of a vertical flip.
        rr_prob: Probability of a rotation.
        rr_degrees: None for quarter turns; ``d`` or ``(min, max)`` degrees for a free rotation.
        cj_prob: Probability of color jitter.
        cj_strength: Multiplies ``cj_bright``, ``cj_contrast``, ``cj_sat`` and ``cj_hue``.
        cj_bright: Brightness jitter.
        cj_contrast: Contrast jitter.
        cj_sat: Saturation jitter.
        cj_hue: Hue jitter.
        random_gray_scale: Probability of grayscale.
        gaussian_blur: Probability of Gaussian blur.
        sigmas: ``(min, max)`` blur standard deviation in pixels.
        normalize: ``{"mean": [...], "std": [...]}``, or None for values in [0, 1].
    """

    def __init__(
        self,
        *,
        hf_prob: float = 0.5,
        vf_prob: float = 0.0,
        rr_prob: float = 0.0,
        rr_degrees: float | Sequence[float] | None = None,
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        cj_bright: float = 0.8,
        cj_contrast: float = 0.8,
        cj_sat: float = 0.8,
        cj_hue: float = 0.2,
        random_gray_scale: float = 0.2,
        gaussian_blur: float = 0.5,
        sigmas: tuple[float, float] = (0.1, 2.0),
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        super().__init__(
            input_size=None,
            hf_prob=hf_prob,
            vf_prob=vf_prob,
            rr_prob=rr_prob,
            rr_degrees=rr_degrees,
            cj_prob=cj_prob,
            cj_strength=cj_strength,
            cj_bright=cj_bright,
            cj_contrast=cj_contrast,
            cj_sat=cj_sat,
            cj_hue=cj_hue,
            random_gray_scale=random_gray_scale,
            gaussian_blur=gaussian_blur,
            sigmas=sigmas,
            normalize=normalize,
        )


class SwaVTransform(MultiCropTransform):
    """SwaV's multi-crop views: 2 crops of 224 px and 6 of 96 px by default.

    A :class:`MultiCropTransform` with SwaV's crop groups (Caron et al., 2020, Section 4: two
    224-pixel crops at area (0.14, 1) and six 96-pixel crops at (0.05, 0.14)) followed by a
    :class:`SwaVViewTransform` with the remaining arguments.

    Input: PIL image or tensor ``(C, H, W)``, uint8 or float in [0, 1]. Output: list of
    ``sum(crop_counts)`` float tensors, group by group, ``(3, crop_sizes[i], crop_sizes[i])``.

    Args:
        crop_sizes: Side in pixels of each crop group.
        crop_counts: Number of crops per group.
        crop_min_scales: Smallest crop area fraction per group.
        crop_max_scales: Largest crop area fraction per group.
        hf_prob: Probability of a horizontal flip.
        vf_prob: Probability of a vertical flip.
        rr_prob: Probability of a rotation.
        rr_degrees: None for quarter turns; ``d`` or ``(min, max)`` degrees for a free rotation.
        cj_prob: Probability of color jitter.
        cj_strength: Multiplies ``cj_bright``, ``cj_contrast``, ``cj_sat`` and ``cj_hue``.
        cj_bright: Brightness jitter.
        cj_contrast: Contrast jitter.
        cj_sat: Saturation jitter.
        cj_hue: Hue jitter.
        random_gray_scale: Probability of grayscale.
        gaussian_blur: Probability of Gaussian blur.
        sigmas: ``(min, max)`` blur standard deviation in pixels.
        normalize: ``{"mean": [...], "std": [...]}``, or None for values in [0, 1].
    """

    def __init__(
        self,
        *,
        crop_sizes: Sequence[int] = (224, 96),
        crop_counts: Sequence[int] = (2, 6),
        crop_min_scales: Sequence[float] = (0.14, 0.05),
        crop_max_scales: Sequence[float] = (1.0, 0.14),
        hf_prob: float = 0.5,
        vf_prob: float = 0.0,
        rr_prob: float = 0.0,
        rr_degrees: float | Sequence[float] | None = None,
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        cj_bright: float = 0.8,
        cj_contrast: float = 0.8,
        cj_sat: float = 0.8,
        cj_hue: float = 0.2,
        random_gray_scale: float = 0.2,
        gaussian_blur: float = 0.5,
        sigmas: tuple[float, float] = (0.1, 2.0),
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        view = SwaVViewTransform(
            hf_prob=hf_prob,
            vf_prob=vf_prob,
            rr_prob=rr_prob,
            rr_degrees=rr_degrees,
            cj_prob=cj_prob,
            cj_strength=cj_strength,
            cj_bright=cj_bright,
            cj_contrast=cj_contrast,
            cj_sat=cj_sat,
            cj_hue=cj_hue,
            random_gray_scale=random_gray_scale,
            gaussian_blur=gaussian_blur,
            sigmas=sigmas,
            normalize=normalize,
        )
        super().__init__(crop_sizes, crop_counts, crop_min_scales, crop_max_scales, view)
