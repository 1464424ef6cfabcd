"""PIRL views (Misra & van der Maaten, 2020): an image view and its jigsaw patches."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from selfsup.transforms._checks import check_int, crop_scale_from_min
from selfsup.transforms.jigsaw import Jigsaw
from selfsup.transforms.multi_view_transform import MultiViewTransform
from selfsup.transforms.utils import IMAGENET_NORMALIZE
from selfsup.transforms.view_transform import ViewTransform

__all__ = ["PIRLTransform"]


class PIRLTransform(MultiViewTransform):
    """PIRL's two views: a cropped image and the shuffled, augmented jigsaw patches of the image.

    View 1 is a random resized crop (no other augmentation). View 2 is :class:`Jigsaw` on the image
    resized to ``input_size``: an ``n_grid`` x ``n_grid`` grid of ``input_size // n_grid``-pixel
    patches, each independently flipped, color jittered and grayscaled, then shuffled. Defaults as
    lightly's PIRL transform (Misra & van der Maaten, 2020, "Self-Supervised Learning of
    Pretext-Invariant Representations", Section 4): 64 px, 3x3 grid, jitter (0.4, 0.4, 0.4, 0.4)
    with probability 0.8, grayscale 0.2, flip 0.5.

    Input: PIL image or tensor ``(C, H, W)``, uint8 or float in [0, 1]. Output: ``[view, patches]``
    with view ``(3, input_size, input_size)`` and patches ``(n_grid ** 2, 3, p, p)``,
    ``p = input_size // n_grid``.

    Args:
        input_size: Side of the image view and of the image the patches are cut from.
        cj_prob: Probability of color jitter (per patch).
        cj_strength: Multiplies ``cj_bright``, ``cj_contrast``, ``cj_sat`` and ``cj_hue``.
        cj_bright: Brightness jitter.
        cj_contrast: Contrast jitter.
        cj_sat: Saturation jitter.
        cj_hue: Hue jitter.
        min_scale: Smallest crop area fraction of the image view, in (0, 1].
        random_gray_scale: Probability of grayscale (per patch).
        hf_prob: Probability of a horizontal flip (per patch).
        n_grid: Patches per side, >= 1.
        normalize: ``{"mean": [...], "std": [...]}``, or None for values in [0, 1].
    """

    def __init__(
        self,
        *,
        input_size: int = 64,
        cj_prob: float = 0.8,
        cj_strength: float = 1.0,
        cj_bright: float = 0.4,
        cj_contrast: float = 0.4,
        cj_sat: float = 0.4,
        cj_hue: float = 0.4,
        min_scale: float = 0.08,
        random_gray_scale: float = 0.2,
        hf_prob: float = 0.5,
        n_grid: int = 3,
        normalize: Mapping[str, Sequence[float]] | None = IMAGENET_NORMALIZE,
    ) -> None:
        size = check_int("input_size", input_size, low=1)
        grid = check_int("n_grid", n_grid, low=1)
        if size // grid < 1:
            raise ValueError(f"input_size must be at least n_grid = {grid}, got {size}")
        image_view = ViewTransform(
            input_size=size,
            crop_scale=crop_scale_from_min(min_scale),
            hf_prob=0.0,
            cj_prob=0.0,
            random_gray_scale=0.0,
            gaussian_blur=0.0,
            normalize=normalize,
        )
        patch_view = ViewTransform(
            input_size=None,
            hf_prob=hf_prob,
            cj_prob=cj_prob,
            cj_strength=cj_strength,
            cj_bright=cj_bright,
            cj_contrast=cj_contrast,
            cj_sat=cj_sat,
            cj_hue=cj_hue,
            random_gray_scale=random_gray_scale,
            gaussian_blur=0.0,
            normalize=normalize,
        )
        jigsaw = Jigsaw(n_grid=grid, img_size=size, crop_size=size // grid, transform=patch_view)
        super().__init__([image_view, jigsaw])
