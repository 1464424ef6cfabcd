"""SimCLR views (Chen et al., 2020)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from selfsup.transforms._checks import crop_scale_from_min
from selfsup.transforms.multi_view_transform import MultiViewTransform
from selfsup.transforms.utils import IMAGENET_NORMALIZE
from selfsup.transforms.view_transform import ViewTransform

__all__ = ["SimCLRTransform", "SimCLRViewTransform"]


class SimCLRViewTransform(ViewTransform):
    """One SimCLR view: crop, flips, rotation, color jitter, grayscale, blur, tensor, normalise.

    Defaults are SimCLR's ImageNet augmentations (Chen et al., 2020, "A Simple Framework for
    Contrastive Learning of Visual Representations", Appendix A): crop of 8-100% of the area,
    horizontal flip 0.5, color jitter 0.8 with strength 1 (0.8, 0.8, 0.8, 0.2), grayscale 0.2,
    blur 0.5 with sigma in [0.1, 2]; lightly's argument names and defaults.

    Input: PIL image or tensor ``(C, H, W)`` (1 or 3 channels), uint8 or float in [0, 1]. Output:
    float tensor ``(3, input_size, input_size)``.

    Args:
        input_size: Output side in pixels (or ``(height, width)``).
        cj_prob: Probability of color jitter.
        cj_strength: Multiplies ``cj_bright``, ``cj_contrast``, ``cj_sat`` and ``cj_hue``; SimCLR
            recommends 0.5 for small images such as CIFAR-10.
        cj_bright: Brightness jitter.
        cj_contrast: Contrast jitter.
        cj_sat: Saturation jitter.
        cj_hue: Hue jitter.
        min_scale: Smallest crop area fraction, in (0, 1]; 1.0 switches cropping off.
        random_gray_scale: Probability of grayscale.
        gaussian_blur: Probability of Gaussian blur.
        sigmas: ``(min, max)`` blur standard deviation in pixels.
        vf_prob: Probability of a vertical flip.
        hf_prob: Probability of a horizontal flip.
        rr_prob: Probability of a rotation.
        rr_degrees: None for quarter turns; ``d`` or ``(min, max)`` degrees for a free rotation.
        normalize: ``{"mean": [...], "std": [...]}``, or None for values in [0, 1].
    """

    def __init__(
        self,
        *,
        input_size: int | Sequence[int] = 224,
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        cj_bright: float = 0.8,
        cj_contrast: float = 0.8,
        cj_sat: float = 0.8,
        cj_hue: float = 0.2,
        min_scale: float = 0.08,
        random_gray_scale: float = 0.2,
        gaussian_blur: float = 0.5,
        sigmas: tuple[float, float] = (0.1, 2.0),
        vf_prob: float = 0.0,
        hf_prob: float = 0.5,
        rr_prob: float = 0.0,
        rr_degrees: float | Sequence[float] | None = None,
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        super().__init__(
            input_size=input_size,
            crop_scale=crop_scale_from_min(min_scale),
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


class SimCLRTransform(MultiViewTransform):
    """Two SimCLR views of each image (Chen et al., 2020); see :class:`SimCLRViewTransform`.

    Input: PIL image or tensor ``(C, H, W)``, uint8 or float in [0, 1]. Output: list of 2 float
    tensors ``(3, input_size, input_size)``. Takes the arguments of :class:`SimCLRViewTransform`
    with the same defaults.
    """

    def __init__(
        self,
        *,
        input_size: int | Sequence[int] = 224,
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        cj_bright: float = 0.8,
        cj_contrast: float = 0.8,
        cj_sat: float = 0.8,
        cj_hue: float = 0.2,
        min_scale: float = 0.08,
        random_gray_scale: float = 0.2,
        gaussian_blur: float = 0.5,
        sigmas: tuple[float, float] = (0.1, 2.0),
        vf_prob: float = 0.0,
        hf_prob: float = 0.5,
        rr_prob: float = 0.0,
        rr_degrees: float | Sequence[float] | None = None,
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        view = SimCLRViewTransform(
            input_size=input_size,
            cj_prob=cj_prob,
            cj_strength=cj_strength,
            cj_bright=cj_bright,
            cj_contrast=cj_contrast,
            cj_sat=cj_sat,
            cj_hue=cj_hue,
            min_scale=min_scale,
            random_gray_scale=random_gray_scale,
            gaussian_blur=gaussian_blur,
            sigmas=sigmas,
            vf_prob=vf_prob,
            hf_prob=hf_prob,
            rr_prob=rr_prob,
            rr_degrees=rr_degrees,
            normalize=normalize,
        )
        super().__init__([view, view])
