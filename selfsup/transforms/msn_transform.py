"""MSN views (Assran et al., 2022): random views and small focal views."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from selfsup.transforms._checks import check_int, check_pair, check_size
from selfsup.transforms.multi_view_transform import MultiViewTransform
from selfsup.transforms.utils import IMAGENET_NORMALIZE
from selfsup.transforms.view_transform import ViewTransform

__all__ = ["MSNTransform", "MSNViewTransform"]


class MSNViewTransform(ViewTransform):
    """One MSN view: random resized crop, flips, SimCLR color jitter, grayscale, blur.

    Defaults follow MSN (Assran et al., 2022, "Masked Siamese Networks for Label-Efficient
    Learning", Appendix) as in lightly: crop scale (0.3, 1), color jitter 0.8 with
    (0.8, 0.8, 0.8, 0.2), grayscale 0.2, blur 0.5, horizontal flip 0.5.

    Input: PIL image or tensor ``(C, H, W)``, uint8 or float in [0, 1]. Output: float tensor
    ``(3, crop_size, crop_size)``.

    Args:
        crop_size: Output side in pixels (or ``(height, width)``).
        crop_scale: ``(min, max)`` crop area fraction, in (0, 1].
        cj_prob: Probability of color jitter.
        cj_strength: Multiplies ``cj_bright``, ``cj_contrast``, ``cj_sat`` and ``cj_hue``.
        cj_bright: Brightness jitter.
        cj_contrast: Contrast jitter.
        cj_sat: Saturation jitter.
        cj_hue: Hue jitter.
        gaussian_blur: Probability of Gaussian blur.
        sigmas: ``(min, max)`` blur standard deviation in pixels.
        random_gray_scale: Probability of grayscale.
        hf_prob: Probability of a horizontal flip.
        vf_prob: Probability of a vertical flip.
        normalize: ``{"mean": [...], "std": [...]}``, or None for values in [0, 1].
    """

    def __init__(
        self,
        *,
        crop_size: int | Sequence[int] = 224,
        crop_scale: tuple[float, float] = (0.3, 1.0),
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        cj_bright: float = 0.8,
        cj_contrast: float = 0.8,
        cj_sat: float = 0.8,
        cj_hue: float = 0.2,
        gaussian_blur: float = 0.5,
        sigmas: tuple[float, float] = (0.1, 2.0),
        random_gray_scale: float = 0.2,
        hf_prob: float = 0.5,
        vf_prob: float = 0.0,
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        super().__init__(
            input_size=crop_size,
            crop_scale=crop_scale,
            hf_prob=hf_prob,
            vf_prob=vf_prob,
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


class MSNTransform(MultiViewTransform):
    """MSN's views: ``random_views`` crops of 224 px, then ``focal_views`` crops of 96 px.

    Defaults follow MSN (Assran et al., 2022) as in lightly: 2 random views at area (0.3, 1) and 10
    focal views at (0.05, 0.3); both use :class:`MSNViewTransform` with the remaining arguments.

    Input: PIL image or tensor ``(C, H, W)``, uint8 or float in [0, 1]. Output: list of
    ``random_views + focal_views`` float tensors, ``(3, random_size, random_size)`` first.

    Args:
        random_size: Side of the random views in pixels.
        focal_size: Side of the focal views in pixels.
        random_views: Number of random views, >= 0.
        focal_views: Number of focal views, >= 0.
        random_crop_scale: ``(min, max)`` area fraction of the random views.
        focal_crop_scale: ``(min, max)`` area fraction of the focal views.
        cj_prob: Probability of color jitter.
        cj_strength: Multiplies ``cj_bright``, ``cj_contrast``, ``cj_sat`` and ``cj_hue``.
        cj_bright: Brightness jitter.
        cj_contrast: Contrast jitter.
        cj_sat: Saturation jitter.
        cj_hue: Hue jitter.
        gaussian_blur: Probability of Gaussian blur.
        sigmas: ``(min, max)`` blur standard deviation in pixels.
        random_gray_scale: Probability of grayscale.
        hf_prob: Probability of a horizontal flip.
        vf_prob: Probability of a vertical flip.
        normalize: ``{"mean": [...], "std": [...]}``, or None for values in [0, 1].
    """

    def __init__(
        self,
        *,
        random_size: int | Sequence[int] = 224,
        focal_size: int | Sequence[int] = 96,
        random_views: int = 2,
        focal_views: int = 10,
        random_crop_scale: tuple[float, float] = (0.3, 1.0),
        focal_crop_scale: tuple[float, float] = (0.05, 0.3),
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        cj_bright: float = 0.8,
        cj_contrast: float = 0.8,
        cj_sat: float = 0.8,
        cj_hue: float = 0.2,
        gaussian_blur: float = 0.5,
        sigmas: tuple[float, float] = (0.1, 2.0),
        random_gray_scale: float = 0.2,
        hf_prob: float = 0.5,
        vf_prob: float = 0.0,
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        n_random = check_int("random_views", random_views)
        n_focal = check_int("focal_views", focal_views)
        if n_random + n_focal == 0:
            raise ValueError("random_views + focal_views must be at least 1, got 0")
        check_size("random_size", random_size)
        check_size("focal_size", focal_size)
        check_pair("random_crop_scale", random_crop_scale, low=0.0, high=1.0, low_inclusive=False)
        check_pair("focal_crop_scale", focal_crop_scale, low=0.0, high=1.0, low_inclusive=False)

        def view(size: int | Sequence[int], scale: tuple[float, float]) -> MSNViewTransform:
            return MSNViewTransform(
                crop_size=size,
                crop_scale=scale,
                cj_prob=cj_prob,
                cj_strength=cj_strength,
                cj_bright=cj_bright,
                cj_contrast=cj_contrast,
                cj_sat=cj_sat,
                cj_hue=cj_hue,
                gaussian_blur=gaussian_blur,
                sigmas=sigmas,
                random_gray_scale=random_gray_scale,
                hf_prob=hf_prob,
                vf_prob=vf_prob,
                normalize=normalize,
            )

        random_view = view(random_size, random_crop_scale)
        focal_view = view(focal_size, focal_crop_scale)
        super().__init__([random_view] * n_random + [focal_view] * n_focal)
