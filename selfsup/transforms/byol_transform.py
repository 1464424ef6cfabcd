"""BYOL views (Grill et al., 2020): two asymmetric views."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from torch import Tensor

from selfsup.transforms._checks import check_probabilities, crop_scale_from_min
from selfsup.transforms.multi_view_transform import MultiViewTransform
from selfsup.transforms.utils import IMAGENET_NORMALIZE
from selfsup.transforms.view_transform import ViewTransform

__all__ = ["BYOLTransform", "BYOLView1Transform", "BYOLView2Transform"]


class BYOLView1Transform(ViewTransform):
    """BYOL's first view: always blurred, never solarized.

    Defaults follow BYOL (Grill et al., 2020, "Bootstrap Your Own Latent", Appendix B, Table 6):
    crop of 8-100% of the area, horizontal flip 0.5, color jitter (0.4, 0.4, 0.2, 0.1) with
    probability 0.8, grayscale 0.2, blur 1.0 with sigma in [0.1, 2], solarization 0.0.

    Input: PIL image or tensor ``(C, H, W)``, uint8 or float in [0, 1]. Output: float tensor
    ``(3, input_size, input_size)``.

    Args:
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
        solarization_prob: Probability of solarization.
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
        cj_bright: float = 0.4,
        cj_contrast: float = 0.4,
        cj_sat: float = 0.2,
        cj_hue: float = 0.1,
        min_scale: float = 0.08,
        random_gray_scale: float = 0.2,
        gaussian_blur: float = 1.0,
        solarization_prob: float = 0.0,
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
            solarization_prob=solarization_prob,
            normalize=normalize,
        )


class BYOLView2Transform(BYOLView1Transform):
    """BYOL's second view: rarely blurred (0.1), sometimes solarized (0.2).

    Defaults as :class:`BYOLView1Transform` except ``gaussian_blur=0.1`` and
    ``solarization_prob=0.2`` (Grill et al., 2020, Table 6). Same arguments, input and output.
    """

    def __init__(
        self,
        *,
        input_size: int | Sequence[int] = 224,
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        cj_bright: float = 0.4,
        cj_contrast: float = 0.4,
        cj_sat: float = 0.2,
        cj_hue: float = 0.1,
        min_scale: float = 0.08,
        random_gray_scale: float = 0.2,
        gaussian_blur: float = 0.1,
        solarization_prob: float = 0.2,
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
            solarization_prob=solarization_prob,
            sigmas=sigmas,
            vf_prob=vf_prob,
            hf_prob=hf_prob,
            rr_prob=rr_prob,
            rr_degrees=rr_degrees,
            normalize=normalize,
        )


class BYOLTransform(MultiViewTransform):
    """BYOL's two asymmetric views (Grill et al., 2020): ``[view_1(image), view_2(image)]``.

    The views are built from the keyword arguments below, which mean what they mean for
    :class:`BYOLView1Transform`; ``gaussian_blur`` and ``solarization_prob`` hold one probability
    per view. Ready-made view transforms (lightly's interface) replace the built ones.

    Input: PIL image or tensor ``(C, H, W)``, uint8 or float in [0, 1]. Output: list of 2 float
    tensors ``(3, input_size, input_size)``.

    Args:
        view_1_transform: Callable for the first view; None builds a :class:`BYOLView1Transform`.
        view_2_transform: Callable for the second view; None builds a :class:`BYOLView2Transform`.
        input_size: Output side in pixels (or ``(height, width)``).
        cj_prob: Probability of color jitter.
        cj_strength: Multiplies ``cj_bright``, ``cj_contrast``, ``cj_sat`` and ``cj_hue``.
        cj_bright: Brightness jitter.
        cj_contrast: Contrast jitter.
        cj_sat: Saturation jitter.
        cj_hue: Hue jitter.
        min_scale: Smallest crop area fraction, in (0, 1].
        random_gray_scale: Probability of grayscale.
        gaussian_blur: Blur probability of view 1 and of view 2.
        solarization_prob: Solarization probability of view 1 and of view 2.
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
        view_1_transform: Callable[[Any], Tensor] | None = None,
        view_2_transform: Callable[[Any], Tensor] | None = None,
        input_size: int | Sequence[int] = 224,
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        cj_bright: float = 0.4,
        cj_contrast: float = 0.4,
        cj_sat: float = 0.2,
        cj_hue: float = 0.1,
        min_scale: float = 0.08,
        random_gray_scale: float = 0.2,
        gaussian_blur: Sequence[float] = (1.0, 0.1),
        solarization_prob: Sequence[float] = (0.0, 0.2),
        sigmas: tuple[float, float] = (0.1, 2.0),
        vf_prob: float = 0.0,
        hf_prob: float = 0.5,
        rr_prob: float = 0.0,
        rr_degrees: float | Sequence[float] | None = None,
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        blur = check_probabilities("gaussian_blur", gaussian_blur, 2)
        solarize = check_probabilities("solarization_prob", solarization_prob, 2)
        views = []
        for index, given in enumerate((view_1_transform, view_2_transform)):
            if given is not None:
                views.append(given)
                continue
            views.append(
                BYOLView1Transform(
                    input_size=input_size,
                    cj_prob=cj_prob,
                    cj_strength=cj_strength,
                    cj_bright=cj_bright,
                    cj_contrast=cj_contrast,
                    cj_sat=cj_sat,
                    cj_hue=cj_hue,
                    min_scale=min_scale,
                    random_gray_scale=random_gray_scale,
                    gaussian_blur=blur[index],
                    solarization_prob=solarize[index],
                    sigmas=sigmas,
                    vf_prob=vf_prob,
                    hf_prob=hf_prob,
                    rr_prob=rr_prob,
                    rr_degrees=rr_degrees,
                    normalize=normalize,
                )
            )
        super().__init__(views)
