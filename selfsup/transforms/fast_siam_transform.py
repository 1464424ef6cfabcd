"""FastSiam views (Pototzky et al., 2022): K + 1 SimSiam views."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from selfsup.transforms._checks import check_int
from selfsup.transforms.multi_view_transform import MultiViewTransform
from selfsup.transforms.simsiam_transform import SimSiamViewTransform
from selfsup.transforms.utils import IMAGENET_NORMALIZE

__all__ = ["FastSiamTransform"]


class FastSiamTransform(MultiViewTransform):
    """FastSiam's ``K + 1`` views (4 by default), each a :class:`SimSiamViewTransform`.

    FastSiam (Pototzky et al., 2022, "FastSiam: Resource-Efficient Self-supervised Learning on a
    Single GPU") predicts one view from the mean of ``K`` others, with SimSiam's augmentations.

    Input: PIL image or tensor ``(C, H, W)``, uint8 or float in [0, 1]. Output: list of ``K + 1``
    float tensors ``(3, input_size, input_size)``.

    Args:
        K: Number of target views, >= 1; ``K + 1`` views are made.
        input_size: Output side in pixels (or ``(height, width)``).
        cj_prob: Probability of color jitter.
        cj_strength: Multiplies ``cj_bright``, ``cj_contrast``, ``cj_sat`` and ``cj_hue``.
        cj_bright: Brightness jitter.
        cj_contrast: Contrast jitter.
        cj_sat: Saturation jitter.
        cj_hue: Hue jitter.
        min_scale: Smallest crop area fraction, in (0, 1].
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
        K: int = 3,
        input_size: int | Sequence[int] = 224,
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        cj_bright: float = 0.4,
        cj_contrast: float = 0.4,
        cj_sat: float = 0.4,
        cj_hue: float = 0.1,
        min_scale: float = 0.2,
        random_gray_scale: float = 0.2,
        gaussian_blur: float = 0.5,
        sigmas: tuple[float, float] = (0.1, 2.0),
        vf_prob: float = 0.0,
        hf_prob: float = 0.5,
        rr_prob: float = 0.0,
        rr_degrees: float | Sequence[float] | None = None,
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        n_targets = check_int("K", K, low=1)
        view = SimSiamViewTransform(
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
        super().__init__([view] * (n_targets + 1))
