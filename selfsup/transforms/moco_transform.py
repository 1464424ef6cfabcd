"""MoCo v1 and v2 views (He et al., 2020; Chen et al., 2020)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from selfsup.transforms.simclr_transform import SimCLRTransform
from selfsup.transforms.utils import IMAGENET_NORMALIZE

__all__ = ["MoCoV1Transform", "MoCoV2Transform"]


class MoCoV1Transform(SimCLRTransform):
    """Two MoCo v1 views: SimCLR's pipeline with MoCo v1's weaker crop and jitter, no blur.

    Defaults follow MoCo v1's reference augmentations (He et al., 2020, "Momentum Contrast for
    Unsupervised Visual Representation Learning", Section 4.1 and the official code): crop of
    20-100% of the area, color jitter (0.4, 0.4, 0.4, 0.4), grayscale 0.2, horizontal flip 0.5;
    color jitter applied with probability 0.8 as in lightly.

    Input: PIL image or tensor ``(C, H, W)``, uint8 or float in [0, 1]. Output: list of 2 float
    tensors ``(3, input_size, input_size)``. Arguments as :class:`SimCLRViewTransform`.
    """

    def __init__(
        self,
        *,
        input_size: int | Sequence[int] = 224,
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        cj_bright: float = 0.4,
        cj_contrast: float = 0.4,
        cj_sat: float = 0.4,
        cj_hue: float = 0.4,
        min_scale: float = 0.2,
        random_gray_scale: float = 0.2,
        gaussian_blur: float = 0.0,
        sigmas: tuple[float, float] = (0.1, 2.0),
        vf_prob: float = 0.0,
        hf_prob: float = 0.5,
        rr_prob: float = 0.0,
        rr_degrees: float | Sequence[float] | None = None,
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        super().__init__(
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


class MoCoV2Transform(SimCLRTransform):
    """Two MoCo v2 views: SimCLR's pipeline with MoCo v2's crop and jitter strengths.

    Defaults follow MoCo v2's reference augmentations (Chen et al., 2020, "Improved Baselines with
    Momentum Contrastive Learning", Section 3 and the official code): crop of 20-100% of the area,
    color jitter (0.4, 0.4, 0.4, 0.1) with probability 0.8, grayscale 0.2, blur 0.5 with sigma in
    [0.1, 2], horizontal flip 0.5. (lightly's MoCoV2Transform reuses SimCLR's stronger defaults.)

    Input: PIL image or tensor ``(C, H, W)``, uint8 or float in [0, 1]. Output: list of 2 float
    tensors ``(3, input_size, input_size)``. Arguments as :class:`SimCLRViewTransform`.
    """

    def __init__(
        self,
        *,
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
        super().__init__(
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
