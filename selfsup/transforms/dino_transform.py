"""DINO views (Caron et al., 2021): two global and several local crops."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from torchvision.transforms import InterpolationMode

from selfsup.transforms._checks import check_int, check_pair, check_probabilities, check_size
from selfsup.transforms.multi_view_transform import MultiViewTransform
from selfsup.transforms.utils import IMAGENET_NORMALIZE
from selfsup.transforms.view_transform import ViewTransform

__all__ = ["DINOTransform", "DINOViewTransform"]


class DINOViewTransform(ViewTransform):
    """One DINO crop: bicubic random resized crop, then BYOL-style color, blur and solarization.

    Defaults follow DINO's reference augmentations (Caron et al., 2021, "Emerging Properties in
    Self-Supervised Vision Transformers", Appendix and official code) with lightly's names: crop
    scale (0.4, 1), horizontal flip 0.5, color jitter 0.8 with strength 0.5 times
    (0.8, 0.8, 0.4, 0.2), grayscale 0.2, blur 1.0, solarization 0.2.

    Input: PIL image or tensor ``(C, H, W)``, uint8 or float in [0, 1]. Output: float tensor
    ``(3, crop_size, crop_size)``.

    Args:
        crop_size: Output side in pixels (or ``(height, width)``).
        crop_scale: ``(min, max)`` crop area fraction, in (0, 1].
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
        solarization_prob: Probability of solarization.
        normalize: ``{"mean": [...], "std": [...]}``, or None for values in [0, 1].
    """

    def __init__(
        self,
        *,
        crop_size: int | Sequence[int] = 224,
        crop_scale: tuple[float, float] = (0.4, 1.0),
        hf_prob: float = 0.5,
        vf_prob: float = 0.0,
        rr_prob: float = 0.0,
        rr_degrees: float | Sequence[float] | None = None,
        cj_prob: float = 0.8,
        cj_strength: float = 0.5,
        cj_bright: float = 0.8,
        cj_contrast: float = 0.8,
        cj_sat: float = 0.4,
        cj_hue: float = 0.2,
        random_gray_scale: float = 0.2,
        gaussian_blur: float = 1.0,
        sigmas: tuple[float, float] = (0.1, 2.0),
        solarization_prob: float = 0.2,
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        super().__init__(
            input_size=crop_size,
            crop_scale=crop_scale,
            interpolation=InterpolationMode.BICUBIC,
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
            solarization_prob=solarization_prob,
            normalize=normalize,
        )


class DINOTransform(MultiViewTransform):
    """DINO's multi-crop views: 2 global crops then ``n_local_views`` local crops.

    Global view 1 is always blurred, global view 2 is blurred with probability 0.1 and solarized
    with probability ``solarization_prob``, local views are blurred with probability 0.5 and never
    solarized (``gaussian_blur=(1.0, 0.1, 0.5)``, Caron et al., 2021). Crops: global 224 px at area
    (0.4, 1), local 96 px at (0.05, 0.4), 6 local views as in lightly. See
    :class:`DINOViewTransform` for the other arguments.

    Input: PIL image or tensor ``(C, H, W)``, uint8 or float in [0, 1]. Output: list of
    ``2 + n_local_views`` float tensors: ``(3, global_crop_size, global_crop_size)`` twice, then
    ``(3, local_crop_size, local_crop_size)``.

    Args:
        global_crop_size: Side of the global crops in pixels.
        global_crop_scale: ``(min, max)`` area fraction of the global crops.
        local_crop_size: Side of the local crops in pixels.
        local_crop_scale: ``(min, max)`` area fraction of the local crops.
        n_local_views: Number of local crops, >= 0.
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
        gaussian_blur: Blur probabilities ``(global view 1, global view 2, local views)``.
        sigmas: ``(min, max)`` blur standard deviation in pixels.
        solarization_prob: Solarization probability of global view 2.
        normalize: ``{"mean": [...], "std": [...]}``, or None for values in [0, 1].
    """

    def __init__(
        self,
        *,
        global_crop_size: int | Sequence[int] = 224,
        global_crop_scale: tuple[float, float] = (0.4, 1.0),
        local_crop_size: int | Sequence[int] = 96,
        local_crop_scale: tuple[float, float] = (0.05, 0.4),
        n_local_views: int = 6,
        hf_prob: float = 0.5,
        vf_prob: float = 0.0,
        rr_prob: float = 0.0,
        rr_degrees: float | Sequence[float] | None = None,
        cj_prob: float = 0.8,
        cj_strength: float = 0.5,
        cj_bright: float = 0.8,
        cj_contrast: float = 0.8,
        cj_sat: float = 0.4,
        cj_hue: float = 0.2,
        random_gray_scale: float = 0.2,
        gaussian_blur: Sequence[float] = (1.0, 0.1, 0.5),
        sigmas: tuple[float, float] = (0.1, 2.0),
        solarization_prob: float = 0.2,
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        blur = check_probabilities("gaussian_blur", gaussian_blur, 3)
        n_local = check_int("n_local_views", n_local_views)
        check_size("global_crop_size", global_crop_size)
        check_size("local_crop_size", local_crop_size)
        check_pair("global_crop_scale", global_crop_scale, low=0.0, high=1.0, low_inclusive=False)
        check_pair("local_crop_scale", local_crop_scale, low=0.0, high=1.0, low_inclusive=False)

        def view(
            size: int | Sequence[int], scale: tuple[float, float], blur_prob: float, solarize: float
        ) -> DINOViewTransform:
            return DINOViewTransform(
                crop_size=size,
                crop_scale=scale,
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
                gaussian_blur=blur_prob,
                sigmas=sigmas,
                solarization_prob=solarize,
                normalize=normalize,
            )

        global_1 = view(global_crop_size, global_crop_scale, blur[0], 0.0)
        global_2 = view(global_crop_size, global_crop_scale, blur[1], solarization_prob)
        local = view(local_crop_size, local_crop_scale, blur[2], 0.0)
        super().__init__([global_1, global_2] + [local] * n_local)
