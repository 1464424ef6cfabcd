"""Two-view collate functions with lightly 1.5's names, arguments and defaults.

Each one only configures a :mod:`selfsup.transforms` view transform and applies it twice
per item through :class:`~selfsup.data.MultiViewCollate` (which also drops undecodable
files); none contains augmentation code of its own. They return
``((x0, x1), targets, filenames)``. New code can equally put the method transform on the
dataset (``ImageDataset(..., transform=SimCLRTransform())``) and collate with
``MultiViewCollate()``.

lightly 1.5 replaced the blur's ``kernel_size`` by ``sigmas`` and ignores ``kernel_size``;
so do these functions, with a ``FutureWarning`` when it is set.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from torch import Tensor

from selfsup.data.multi_view_collate import MultiViewCollate
from selfsup.transforms import IMAGENET_NORMALIZE, MultiViewTransform, SimCLRViewTransform

__all__ = [
    "BaseCollateFunction",
    "ImageCollateFunction",
    "MoCoCollateFunction",
    "SimCLRCollateFunction",
]

_Normalize = Mapping[str, Sequence[float]]


def _warn_ignored_kernel_size(name: str, value: float | None) -> None:
    """Warns (FutureWarning) that a lightly blur ``kernel_size``-style argument is ignored.

    Args:
        name: The argument, e.g. ``"kernel_size"``.
        value: Its value; nothing happens when it is None.
    """
    if value is not None:
        warnings.warn(
            f"{name}={value!r} is ignored, as in lightly 1.5: the blur's standard deviation "
            f"is drawn from sigmas=(min, max) instead; pass sigmas and drop {name}",
            FutureWarning,
            stacklevel=3,
        )


class BaseCollateFunction(MultiViewCollate):
    """Applies a single-view ``transform`` twice to each image and stacks both batches.

    Args:
        transform: Random transform from one image (PIL, or tensor ``(C, H, W)``) to one
            view tensor ``(C, H, W)``, e.g. ``SimCLRViewTransform(input_size=32)``.

    Attributes:
        transform: ``MultiViewTransform([transform, transform])``, the image -> views map.

    Example:
        >>> collate_fn = BaseCollateFunction(SimCLRViewTransform(input_size=32))
        >>> (x0, x1), targets, filenames = collate_fn([(image, 0, "a.png")])
    """

    def __init__(self, transform: Callable[[Any], Tensor]) -> None:
        if not callable(transform):
            raise TypeError(f"transform must be callable, got {transform!r}")
        super().__init__(MultiViewTransform([transform, transform]))

    def __call__(  # type: ignore[override]
        self, batch: Sequence[tuple[Any, Any, str]]
    ) -> tuple[tuple[Tensor, ...], Tensor, list[str]]:
        """Collates items ``(image, target, filename)`` (image: PIL or tensor ``(C, H, W)``).

        Returns:
            ``((x0, x1), targets, filenames)``: two view batches ``(B, C, H, W)``, targets
            ``(B,)`` int64 and the B filenames of the items kept (undecodable files are
            dropped, see :class:`MultiViewCollate`; if all are, the view tuple is empty).
        """
        views, targets, filenames = super().__call__(batch)
        return tuple(views), targets, filenames


class ImageCollateFunction(BaseCollateFunction):
    """Two SimCLR-style views per image, with each color-jitter component set directly.

    Builds :class:`~selfsup.transforms.SimCLRViewTransform` with ``cj_strength=1`` and the
    given jitter values. Defaults are lightly 1.5's ``ImageCollateFunction`` (for 64-pixel
    inputs); inputs are PIL images or tensors ``(C, H, W)``, outputs float views
    ``(B, 3, input_size, input_size)``.

    Args:
        input_size: Output side in pixels.
        cj_prob: Probability of color jitter.
        cj_bright: Brightness jitter.
        cj_contrast: Contrast jitter.
        cj_sat: Saturation jitter.
        cj_hue: Hue jitter (at most 0.5).
        min_scale: Smallest random-crop area fraction, in (0, 1].
        random_gray_scale: Probability of grayscale.
        gaussian_blur: Probability of Gaussian blur.
        kernel_size: Ignored (lightly compatibility); see ``sigmas``.
        sigmas: ``(min, max)`` blur standard deviation in pixels.
        vf_prob: Probability of a vertical flip.
        hf_prob: Probability of a horizontal flip.
        rr_prob: Probability of a rotation.
        rr_degrees: None for quarter turns; ``d`` or ``(min, max)`` degrees otherwise.
        normalize: ``{"mean": [...], "std": [...]}``, or None for values in [0, 1].
    """

    def __init__(
        self,
        input_size: int = 64,
        cj_prob: float = 0.8,
        cj_bright: float = 0.7,
        cj_contrast: float = 0.7,
        cj_sat: float = 0.7,
        cj_hue: float = 0.2,
        min_scale: float = 0.15,
        random_gray_scale: float = 0.2,
        gaussian_blur: float = 0.5,
        kernel_size: float | None = None,
        sigmas: tuple[float, float] = (0.2, 2),
        vf_prob: float = 0.0,
        hf_prob: float = 0.5,
        rr_prob: float = 0.0,
        rr_degrees: float | tuple[float, float] | None = None,
        normalize: _Normalize | None = IMAGENET_NORMALIZE,
    ) -> None:
        _warn_ignored_kernel_size("kernel_size", kernel_size)
        view = SimCLRViewTransform(
            input_size=input_size,
            cj_prob=cj_prob,
            cj_strength=1.0,
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
        super().__init__(view)


class SimCLRCollateFunction(ImageCollateFunction):
    """SimCLR's two views: :class:`~selfsup.transforms.SimCLRTransform`'s pipeline.

    Color jitter is SimCLR's ``(0.8, 0.8, 0.8, 0.2) * cj_strength`` (Chen et al., 2020,
    "A Simple Framework for Contrastive Learning of Visual Representations", Appendix A);
    other defaults are lightly 1.5's ``SimCLRCollateFunction`` (ImageNet, 224 pixels).
    For CIFAR-10 use ``input_size=32, gaussian_blur=0.0``.

    Args:
        input_size: Output side in pixels.
        cj_prob: Probability of color jitter.
        cj_strength: Color jitter strength.
        min_scale: Smallest random-crop area fraction, in (0, 1].
        random_gray_scale: Probability of grayscale.
        gaussian_blur: Probability of Gaussian blur.
        kernel_size: Ignored (lightly compatibility); see ``sigmas``.
        sigmas: ``(min, max)`` blur standard deviation in pixels.
        vf_prob: Probability of a vertical flip.
        hf_prob: Probability of a horizontal flip.
        rr_prob: Probability of a rotation.
        rr_degrees: None for quarter turns; ``d`` or ``(min, max)`` degrees otherwise.
        normalize: ``{"mean": [...], "std": [...]}``, or None for values in [0, 1].
    """

    def __init__(
        self,
        input_size: int = 224,
        cj_prob: float = 0.8,
        cj_strength: float = 0.5,
        min_scale: float = 0.08,
        random_gray_scale: float = 0.2,
        gaussian_blur: float = 0.5,
        kernel_size: float | None = None,
        sigmas: tuple[float, float] = (0.2, 2),
        vf_prob: float = 0.0,
        hf_prob: float = 0.5,
        rr_prob: float = 0.0,
        rr_degrees: float | tuple[float, float] | None = None,
        normalize: _Normalize | None = IMAGENET_NORMALIZE,
    ) -> None:
        _warn_ignored_kernel_size("kernel_size", kernel_size)
        super().__init__(
            input_size=input_size,
            cj_prob=cj_prob,
            cj_bright=cj_strength * 0.8,
            cj_contrast=cj_strength * 0.8,
            cj_sat=cj_strength * 0.8,
            cj_hue=cj_strength * 0.2,
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


class MoCoCollateFunction(ImageCollateFunction):
    """MoCo v1's two views: :class:`~selfsup.transforms.MoCoV1Transform`'s pipeline.

    Color jitter ``(s, s, s, s)`` with ``s = cj_strength = 0.4``, crops of 20-100% of the
    area, no blur (He et al., 2020, "Momentum Contrast for Unsupervised Visual
    Representation Learning", Section 4.1); defaults are lightly 1.5's
    ``MoCoCollateFunction``. For MoCo v2 use :class:`SimCLRCollateFunction`.

    Args:
        input_size: Output side in pixels.
        cj_prob: Probability of color jitter.
        cj_strength: Brightness, contrast, saturation and hue jitter.
        min_scale: Smallest random-crop area fraction, in (0, 1].
        random_gray_scale: Probability of grayscale.
        gaussian_blur: Probability of Gaussian blur.
        kernel_size: Ignored (lightly compatibility); see ``sigmas``.
        sigmas: ``(min, max)`` blur standard deviation in pixels.
        vf_prob: Probability of a vertical flip.
        hf_prob: Probability of a horizontal flip.
        rr_prob: Probability of a rotation.
        rr_degrees: None for quarter turns; ``d`` or ``(min, max)`` degrees otherwise.
        normalize: ``{"mean": [...], "std": [...]}``, or None for values in [0, 1].
    """

    def __init__(
        self,
        input_size: int = 224,
        cj_prob: float = 0.8,
        cj_strength: float = 0.4,
        min_scale: float = 0.2,
        random_gray_scale: float = 0.2,
        gaussian_blur: float = 0.0,
        kernel_size: float | None = None,
        sigmas: tuple[float, float] = (0.2, 2),
        vf_prob: float = 0.0,
        hf_prob: float = 0.5,
        rr_prob: float = 0.0,
        rr_degrees: float | tuple[float, float] | None = None,
        normalize: _Normalize | None = IMAGENET_NORMALIZE,
    ) -> None:
        _warn_ignored_kernel_size("kernel_size", kernel_size)
        super().__init__(
            input_size=input_size,
            cj_prob=cj_prob,
            cj_bright=cj_strength,
            cj_contrast=cj_strength,
            cj_sat=cj_strength,
            cj_hue=cj_strength,
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
