"""MAE view (He et al., 2022): crop and flip only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from torchvision.transforms import InterpolationMode

from selfsup.transforms._checks import crop_scale_from_min
from selfsup.transforms.multi_view_transform import MultiViewTransform
from selfsup.transforms.utils import IMAGENET_NORMALIZE
from selfsup.transforms.view_transform import ViewTransform

__all__ = ["MAETransform"]


class MAETransform(MultiViewTransform):
    """MAE's single view: bicubic random resized crop and horizontal flip, no color changes.

    Defaults follow MAE's pre-training augmentation (He et al., 2022, "Masked Autoencoders Are
    Scalable Vision Learners", Appendix A.1): crop of 20-100% of the area, resized to 224 px with
    bicubic interpolation, horizontal flip 0.5.

    Input: PIL image or tensor ``(C, H, W)``, uint8 or float in [0, 1]. Output: list with one float
    tensor ``(3, input_size, input_size)``.

    Args:
        input_size: Output side in pixels (or ``(height, width)``).
        min_scale: Smallest crop area fraction, in (0, 1].
        normalize: ``{"mean": [...], "std": [...]}``, or None for values in [0, 1].
    """

    def __init__(
        self,
        *,
        input_size: int | Sequence[int] = 224,
        min_scale: float = 0.2,
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        view = ViewTransform(
            input_size=input_size,
            crop_scale=crop_scale_from_min(min_scale),
            interpolation=InterpolationMode.BICUBIC,
            hf_prob=0.5,
            cj_prob=0.0,
            random_gray_scale=0.0,
            gaussian_blur=0.0,
            normalize=normalize,
        )
        super().__init__([view])
